//! Tamper tests: an attacker with write access to the database file (simulated by a
//! second connection that drops the append-only triggers) edits, deletes, swaps or
//! truncates audit rows, or edits the movements the chain covers; `audit verify` names
//! the first broken row every time.

use evisa_store::audit::AuditKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use evisa_core::rules::{Direction, Movement};
use evisa_store::audit::{self, Verification};
use evisa_store::store::{AuditEvent, NewMovement, Store};
use rusqlite::Connection;
use time::macros::date;

const ROWS: i64 = 10;

/// A database with ROWS audit rows; rows 3 and 6 are crossings with movements.
fn fixture(dir: &Path) -> PathBuf {
    let path = dir.join("booth.db");
    let mut s = Store::open(&path).unwrap();
    for i in 1..=ROWS {
        let details = serde_json::json!({
            "verdict": "ACCEPT", "codes": [], "visa": format!("EV{i}"),
            "checkpoint": "NQZ", "date": "2026-11-25", "direction": "entry",
        });
        let at = format!("2026-11-{:02}T10:00:00+05:00", 10 + i);
        let e = AuditEvent {
            kind: if i == 3 || i == 6 {
                AuditKind::Crossing
            } else {
                AuditKind::Verdict
            },
            officer: Some("officer-7"),
            terminal: Some("NQZ-01"),
            at: &at,
            details: &details,
        };
        if e.kind == AuditKind::Crossing {
            let m = Movement {
                direction: Direction::Entry,
                date: date!(2026 - 11 - 25),
                checkpoint: "NQZ".into(),
            };
            s.record_crossing(
                &NewMovement {
                    visa_number: &format!("EV{i}"),
                    movement: &m,
                    document_number: "L898902C3",
                    officer: Some("officer-7"),
                    terminal: Some("NQZ-01"),
                    recorded_at: &at,
                },
                &e,
            )
            .unwrap();
        } else {
            s.append_audit(&e).unwrap();
        }
    }
    path
}

/// The attacker: another connection, triggers dropped.
fn attack(path: &Path, sql: &str) {
    let c = Connection::open(path).unwrap();
    c.execute_batch(
        "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;
         DROP TRIGGER IF EXISTS audit_head_advance; DROP TRIGGER IF EXISTS audit_head_forward_only;",
    )
    .unwrap();
    c.execute_batch(sql).unwrap();
}

fn verify(path: &Path) -> Verification {
    audit::verify(&Store::open_existing(path).unwrap()).unwrap()
}

fn broken_at(path: &Path) -> (i64, String) {
    match verify(path) {
        Verification::Broken(b) => (b.seq, b.problem),
        v => panic!("tampering not detected: {v:?}"),
    }
}

fn cli(path: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .args(["audit", "verify", "--db"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn intact_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    assert!(matches!(
        verify(&path),
        Verification::Intact { rows: ROWS, .. }
    ));
    let s = Store::open_existing(&path).unwrap();
    assert!(matches!(
        audit::check_head(&s).unwrap(),
        Verification::Intact { rows: ROWS, .. }
    ));
    let (code, out) = cli(&path);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 10 rows"), "{out}");
}

#[test]
fn edited_field_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    attack(
        &path,
        "UPDATE audit SET details = replace(details, 'ACCEPT', 'REJECT') WHERE seq = 5",
    );
    let (seq, problem) = broken_at(&path);
    assert_eq!(seq, 5);
    assert!(problem.contains("edited"), "{problem}");
    let (code, out) = cli(&path);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("row 5"), "{out}");
}

#[test]
fn edited_officer_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    attack(
        &path,
        "UPDATE audit SET officer = 'someone-else' WHERE seq = 2",
    );
    assert_eq!(broken_at(&path).0, 2);
}

#[test]
fn deleted_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    attack(&path, "DELETE FROM audit WHERE seq = 4");
    let (seq, problem) = broken_at(&path);
    assert_eq!(seq, 4);
    assert!(problem.contains("deleted"), "{problem}");
}

#[test]
fn deleted_and_renumbered_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    attack(
        &path,
        "DELETE FROM audit WHERE seq = 4; UPDATE audit SET seq = seq - 1 WHERE seq > 4;
         UPDATE audit_head SET seq = seq - 1;",
    );
    assert_eq!(broken_at(&path).0, 4);
}

#[test]
fn swapped_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    // Swap everything but the seq of rows 7 and 8.
    attack(
        &path,
        "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (7, 8);
         UPDATE audit SET (at, kind, officer, terminal, details, prev_hash, hash) =
           (SELECT at, kind, officer, terminal, details, prev_hash, hash FROM t
            WHERE t.seq = 15 - audit.seq)
         WHERE seq IN (7, 8);",
    );
    assert_eq!(broken_at(&path).0, 7);
    // Swapping the seqs too (a pure reordering) breaks at the same place.
    let path2 = fixture(&dir.path().join("b").tap_mkdir());
    attack(
        &path2,
        "UPDATE audit SET seq = -7 WHERE seq = 7; UPDATE audit SET seq = 7 WHERE seq = 8;
         UPDATE audit SET seq = 8 WHERE seq = -7;",
    );
    assert_eq!(broken_at(&path2).0, 7);
}

#[test]
fn truncated_tail_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    attack(&path, "DELETE FROM audit WHERE seq > 7");
    let (seq, problem) = broken_at(&path);
    assert_eq!(seq, 8);
    assert!(problem.contains("truncated"), "{problem}");
    // The start-up check sees it too, without walking the chain.
    let s = Store::open_existing(&path).unwrap();
    assert!(matches!(
        audit::check_head(&s).unwrap(),
        Verification::Broken(b) if b.seq == 8
    ));
    let (code, out) = cli(&path);
    assert_eq!(code, 1);
    assert!(out.contains("row 8") && out.contains("truncated"), "{out}");
}

#[test]
fn deleted_head_record_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    attack(
        &path,
        "DROP TRIGGER audit_head_no_delete; DELETE FROM audit_head;",
    );
    assert!(broken_at(&path).1.contains("head record is missing"));
    let (code, _) = cli(&path);
    assert_eq!(code, 1);
}

#[test]
fn replaced_last_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    attack(&path, "UPDATE audit SET at = '2020-01-01' WHERE seq = 10");
    assert_eq!(broken_at(&path).0, 10);
    let s = Store::open_existing(&path).unwrap();
    assert!(matches!(audit::check_head(&s).unwrap(), Verification::Broken(b) if b.seq == 10));
}

#[test]
fn movement_edits_are_found() {
    // Deleting a recorded entry would let a single-entry visa be used twice.
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    attack(&path, "DELETE FROM movements WHERE visa_number = 'EV6'");
    let (seq, problem) = broken_at(&path);
    assert_eq!(seq, 6, "{problem}");
    assert!(problem.contains("missing"), "{problem}");

    let path = fixture(&dir.path().join("b").tap_mkdir());
    attack(
        &path,
        "UPDATE movements SET date = '2026-11-01' WHERE visa_number = 'EV3'",
    );
    assert_eq!(broken_at(&path).0, 3);

    // A movement inserted outside the terminal (exhausting someone's entries).
    let path = fixture(&dir.path().join("c").tap_mkdir());
    attack(
        &path,
        "INSERT INTO movements (visa_number, direction, date, checkpoint, document_number, recorded_at)
         VALUES ('EV99', 'entry', '2026-11-25', 'NQZ', 'X', 'now')",
    );
    let (seq, problem) = broken_at(&path);
    assert_eq!(seq, 0);
    assert!(problem.contains("no audit row"), "{problem}");
}

#[test]
fn missing_database_is_an_operational_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = cli(&dir.path().join("nope.db"));
    assert_eq!(code, 2, "{out}");
    assert!(!dir.path().join("nope.db").exists());
}

#[test]
fn export_carries_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    let s = Store::open_existing(&path).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        audit::export_jsonl(&s, None, &mut out).unwrap(),
        ROWS as u64
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The receiver recomputes every hash and the links.
    let mut prev = "0".repeat(64);
    for l in &lines {
        assert_eq!(l["prev_hash"], prev.as_str());
        let h = evisa_store::store::audit_hash(
            &hex_decode(l["prev_hash"].as_str().unwrap()),
            l["seq"].as_i64().unwrap(),
            l["at"].as_str().unwrap(),
            l["kind"].as_str().unwrap(),
            l["officer"].as_str(),
            l["terminal"].as_str(),
            l["details"].as_str().unwrap(),
        );
        assert_eq!(evisa_core::trust::hex(&h), l["hash"].as_str().unwrap());
        prev = l["hash"].as_str().unwrap().to_string();
    }
    // --since: rows 5.. are on or after 2026-11-15; the first links to row 4.
    let mut out = Vec::new();
    assert_eq!(
        audit::export_jsonl(&s, Some("2026-11-15"), &mut out).unwrap(),
        6
    );
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8(out).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["seq"], 5);
    assert_eq!(first["prev_hash"], lines[3]["hash"]);
    // Through the CLI.
    let o = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .args(["audit", "export", "--since", "2026-11-19", "--db"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(String::from_utf8(o.stdout).unwrap().lines().count(), 2);
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

#[test]
fn revocation_list_edits_are_found() {
    // Un-revoking a visa by deleting its row, without a signed update.
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    {
        let root = evisa_testkit::samples::test_root_key();
        let list = evisa_core::update::Content::RevokedVisas(vec![
            evisa_core::update::RevokedEntry {
                visa_number: "EV26KZ0012345".into(),
                reason: "fraud".into(),
            },
            evisa_core::update::RevokedEntry {
                visa_number: "EV26KZ0000007".into(),
                reason: "cancelled".into(),
            },
        ]);
        let bytes = evisa_core::update::sign(&list, 1, "2026-11-25T08:00:00Z", &root).unwrap();
        let u = evisa_core::update::parse(&bytes, &root.verifying_key()).unwrap();
        let mut s = Store::open_existing(&path).unwrap();
        evisa_store::import::import(
            &u,
            &mut s,
            Path::new("unused"),
            "2026-11-25T09:00:00+05:00",
            None,
        )
        .unwrap();
    }
    assert!(matches!(verify(&path), Verification::Intact { .. }));
    attack(
        &path,
        "DELETE FROM revoked_visas WHERE visa_number = 'EV26KZ0012345'",
    );
    let (seq, problem) = broken_at(&path);
    assert_eq!(seq, ROWS + 1, "{problem}");
    assert!(problem.contains("revocation list"), "{problem}");
}
