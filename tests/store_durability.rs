//! The store under stress: migrating a real schema-v1 file, a full disk, concurrent
//! writers (kiosk plus a supervisor's import), and private file modes.

use evisa_store::audit::AuditKind;
use std::path::Path;

use evisa_core::rules::{Direction, Movement};
use evisa_store::audit::{self, Verification};
use evisa_store::store::{AuditEvent, NewMovement, SCHEMA_VERSION, Store, StoreError, audit_hash};
use rusqlite::{Connection, params};
use time::macros::date;

/// The schema-v1 SQL exactly as released (frozen here: a database made by v1 must keep
/// migrating even if someone edits the migration list).
const V1_SQL: &str = "CREATE TABLE movements (
        id INTEGER PRIMARY KEY,
        visa_number TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
        date TEXT NOT NULL,
        checkpoint TEXT NOT NULL,
        document_number TEXT NOT NULL,
        officer TEXT,
        terminal TEXT,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX movements_visa ON movements (visa_number, id);
    CREATE TABLE revoked_visas (
        visa_number TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        added_at TEXT NOT NULL
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        officer TEXT,
        terminal TEXT,
        details TEXT NOT NULL,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";

fn event<'a>(details: &'a serde_json::Value, kind: &'a str) -> AuditEvent<'a> {
    AuditEvent {
        kind: AuditKind::parse(kind).expect("a kind the terminal writes"),
        officer: Some("o1"),
        terminal: Some("NQZ-01"),
        at: "2026-11-25T10:00:00+05:00",
        details,
    }
}

fn crossing(s: &mut Store, visa: &str) -> Result<i64, StoreError> {
    let m = Movement {
        direction: Direction::Entry,
        date: date!(2026 - 11 - 25),
        checkpoint: "NQZ".into(),
    };
    let details = serde_json::json!({
        "verdict": "ACCEPT", "visa": visa, "checkpoint": "NQZ",
        "date": "2026-11-25", "direction": "entry",
    });
    s.record_crossing(
        &NewMovement {
            visa_number: visa,
            movement: &m,
            document_number: "X1",
            officer: Some("o1"),
            terminal: Some("NQZ-01"),
            recorded_at: "2026-11-25T10:00:00+05:00",
        },
        &event(&details, "crossing"),
    )
}

fn intact(s: &Store) -> i64 {
    match audit::verify(s).unwrap() {
        Verification::Intact { rows, .. } => rows,
        Verification::Broken(b) => panic!("chain broken: {b}"),
    }
}

#[test]
fn v1_database_migrates_to_latest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(V1_SQL).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute(
            "INSERT INTO movements (visa_number, direction, date, checkpoint, document_number, recorded_at)
             VALUES ('EV1', 'entry', '2026-11-20', 'ALA', 'X1', '2026-11-20T10:00:00+05:00')",
            [],
        )
        .unwrap();
        c.execute(
            "INSERT INTO revoked_visas VALUES ('EV9', 'fraud', '2026-11-01')",
            [],
        )
        .unwrap();
        // Three v1 audit rows, chained as v1 chained them.
        let mut prev = vec![0u8; 32];
        for seq in 1..=3i64 {
            let details = format!("{{\"visa\":\"EV{seq}\"}}");
            let at = "2026-11-20T10:00:00+05:00";
            let h = audit_hash(&prev, seq, at, "crossing", Some("o1"), None, &details);
            c.execute(
                "INSERT INTO audit VALUES (?1, ?2, 'crossing', 'o1', NULL, ?3, ?4, ?5)",
                params![seq, at, details, prev, h.as_slice()],
            )
            .unwrap();
            prev = h.to_vec();
        }
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    // A v1 file predates the application id; migrating stamps it.
    let id: i32 = s
        .connection()
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, evisa_store::store::APPLICATION_ID);
    assert_eq!(s.history("EV1").unwrap().movements.len(), 1);
    assert_eq!(s.history("EV9").unwrap().revoked.as_deref(), Some("fraud"));
    let head = s.audit_head().unwrap();
    assert_eq!(head.seq, 3);
    assert_eq!(head.movements_from, 2);
    assert_eq!(s.last_update().unwrap(), None);
    match audit::verify(&s).unwrap() {
        Verification::Intact {
            rows,
            legacy_movements,
            ..
        } => assert_eq!((rows, legacy_movements), (3, 1)),
        Verification::Broken(b) => panic!("{b}"),
    }
    // New rows continue the old chain, movements now covered.
    crossing(&mut s, "EV2").unwrap();
    assert_eq!(intact(&s), 4);
    drop(s);
    // Re-opening is a no-op.
    assert_eq!(
        Store::open(&path).unwrap().schema_version().unwrap(),
        SCHEMA_VERSION
    );
}

#[test]
fn failed_migration_changes_nothing() {
    // A v1 file whose migration cannot complete (a table in the way) stays v1, intact.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(V1_SQL).unwrap();
        c.execute_batch("CREATE TABLE applied_updates (x)").unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
    }
    assert!(Store::open(&path).is_err());
    let c = Connection::open(&path).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1);
    let heads: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'audit_head'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(heads, 0);
}

#[test]
fn full_disk_is_an_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    let mut s = Store::open(&path).unwrap();
    let pages: i64 = s
        .connection()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    // The disk "fills up" a few pages from now.
    s.connection()
        .pragma_update(None, "max_page_count", pages + 4)
        .unwrap();
    let mut recorded = Vec::new();
    let err = loop {
        let visa = format!("EV{}", recorded.len());
        match crossing(&mut s, &visa) {
            Ok(_) => recorded.push(visa),
            Err(e) => break e,
        }
        assert!(recorded.len() < 10_000, "never filled up");
    };
    assert!(matches!(err, StoreError::Full), "{err:?}");
    // The failed transaction rolled back whole: no movement without its audit row.
    assert_eq!(intact(&s), recorded.len() as i64);
    drop(s);
    let mut s = Store::open(&path).unwrap();
    for v in &recorded {
        assert_eq!(s.history(v).unwrap().movements.len(), 1, "{v}");
    }
    assert_eq!(intact(&s), recorded.len() as i64);
    // Space back: recording resumes on the same chain.
    crossing(&mut s, "EV-after").unwrap();
    assert_eq!(intact(&s), recorded.len() as i64 + 1);
}

#[test]
fn sqlite_full_is_reported_as_disk_full_not_as_an_error_code() {
    // SQLITE_FULL for real: the database may not grow past its current size.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    let mut s = Store::open(&path).unwrap();
    let pages: i64 = s
        .connection()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    s.connection()
        .pragma_update(None, "max_page_count", pages)
        .unwrap();
    let big = serde_json::json!({ "note": "x".repeat(64 * 1024) });
    let err = s
        .append_audit(&event(&big, "settings_change"))
        .expect_err("a full database accepted a write");
    assert!(matches!(err, StoreError::Full), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("disk full"), "{text}");
    assert!(
        !text.contains("error code") && !text.contains("13"),
        "{text}"
    );
    assert_eq!(intact(&s), 0);
}

#[test]
fn concurrent_writers_lose_nothing() {
    // Three booth processes' worth of connections and a supervisor importing
    // revocation lists, all on one file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.db");
    drop(Store::open(&path).unwrap());
    const PER: usize = 40;
    let mut handles = Vec::new();
    for t in 0..3 {
        let path = path.clone();
        handles.push(std::thread::spawn(move || {
            let mut s = Store::open(&path).unwrap();
            for i in 0..PER {
                crossing(&mut s, &format!("EV{t}-{i}")).unwrap();
                let d = serde_json::json!({"n": i});
                s.append_audit(&event(&d, "checklist_confirm")).unwrap();
            }
        }));
    }
    let sup = {
        let path = path.clone();
        std::thread::spawn(move || {
            let root = evisa_testkit::samples::test_root_key();
            let mut s = Store::open(&path).unwrap();
            for seq in 1..=10u64 {
                let list = evisa_core::update::Content::RevokedVisas(vec![
                    evisa_core::update::RevokedEntry {
                        visa_number: format!("EVR{seq}"),
                        reason: "x".into(),
                    },
                ]);
                let bytes =
                    evisa_core::update::sign(&list, seq, "2026-11-25T08:00:00Z", &root).unwrap();
                let u = evisa_core::update::parse(&bytes, &root.verifying_key()).unwrap();
                evisa_store::import::import(&u, &mut s, Path::new("unused"), "now", None).unwrap();
            }
        })
    };
    for h in handles {
        h.join().unwrap();
    }
    sup.join().unwrap();
    let s = Store::open(&path).unwrap();
    assert_eq!(intact(&s), (3 * PER * 2 + 10) as i64);
    for t in 0..3 {
        for i in 0..PER {
            assert_eq!(s.history(&format!("EV{t}-{i}")).unwrap().movements.len(), 1);
        }
    }
    assert_eq!(s.last_update().unwrap().unwrap().seq, 10);
    assert!(s.history("EVR10").unwrap().revoked.is_some());
}

#[cfg(unix)]
#[test]
fn database_and_sidecars_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let mut s = Store::open(&path).unwrap();
    let d = serde_json::json!({});
    s.append_audit(&event(&d, "sign_in")).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{}{suffix}", path.display());
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{p} is mode {mode:o}");
    }
    // An older database left readable: its sidecars are narrowed on open.
    drop(s);
    let wal = format!("{}-wal", path.display());
    let s2 = Store::open(&path).unwrap();
    if Path::new(&wal).exists() {
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        let _s3 = Store::open(&path).unwrap();
        let mode = std::fs::metadata(&wal).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }
    drop(s2);
}

#[test]
fn supervisor_cli_import_while_the_kiosk_records() {
    // Two processes: this one records crossings while `evisa update import` runs
    // repeatedly on the same database.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let mut s = Store::open(&path).unwrap();
    let root = evisa_testkit::samples::test_root_key();
    let files: Vec<_> = (1..=6u64)
        .map(|seq| {
            let list =
                evisa_core::update::Content::RevokedVisas(vec![evisa_core::update::RevokedEntry {
                    visa_number: format!("EVR{seq}"),
                    reason: "x".into(),
                }]);
            let f = dir.path().join(format!("r{seq}.evu"));
            std::fs::write(
                &f,
                evisa_core::update::sign(&list, seq, "2026-11-25T08:00:00Z", &root).unwrap(),
            )
            .unwrap();
            f
        })
        .collect();
    let root_pub = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/keys/TEST-ONLY-update-root.pub"
    );
    let db = path.clone();
    let sup = std::thread::spawn(move || {
        for f in files {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_evisa"))
                .args(["update", "import"])
                .arg(&f)
                // The test-only root: a training machine (spec §5).
                .args(["--root-pub", root_pub, "--training", "--db"])
                .arg(&db)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    });
    let mut n = 0;
    while !sup.is_finished() || n < 30 {
        crossing(&mut s, &format!("EVK{n}")).unwrap();
        n += 1;
        // A busy booth, not a tight loop: SQLite's busy handler polls, so a writer
        // that never pauses could starve the other process until its timeout.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    sup.join().unwrap();
    assert_eq!(intact(&s), n + 6);
    for i in 0..n {
        assert_eq!(s.history(&format!("EVK{i}")).unwrap().movements.len(), 1);
    }
    assert_eq!(s.last_update().unwrap().unwrap().seq, 6);
}
