//! Signed updates delivered through the fleet (issue 10; issue 12 item 3): the
//! ministry's operators publish `.evu` files on the central server, and each booth's
//! sync applies them exactly as `evisa update import` does — its own pinned root key,
//! replay check, policy, atomic swap — on a real PostgreSQL cluster and real `evisa`
//! processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use evisa_store::store::Store;

use crate::fleet::{Booth, Server, admin_conn, case, repo, server, text};

pub fn update(name: &str) -> PathBuf {
    repo().join("fixtures/updates").join(name)
}

fn root_pub() -> PathBuf {
    repo().join("keys/TEST-ONLY-update-root.pub")
}

/// A booth that pins the test update root and owns a copy of the sample trust
/// folder (a trust update rewrites it; the repository's `keys/` must stay as it is).
pub fn updating_booth(s: &Server, id: &str, checkpoint: &str) -> (Booth, PathBuf) {
    let b = s.booth(id, checkpoint, s.pg.port());
    let dir = b.config.parent().unwrap().to_path_buf();
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    for e in std::fs::read_dir(repo().join("keys")).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), keys.join(e.file_name())).unwrap();
        }
    }
    let cfg = std::fs::read_to_string(&b.config).unwrap();
    let (top, fleet) = cfg.split_once("[fleet]").unwrap();
    let top: String = top
        .lines()
        .filter(|l| !l.starts_with("trust_store"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        &b.config,
        format!(
            "{top}trust_store = \"keys\"\nupdate_root_key = \"{}\"\n\n[fleet]{fleet}",
            root_pub().display()
        ),
    )
    .unwrap();
    (b, keys)
}

pub fn publish(s: &Server, file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evisa-issuer"))
        .args(["fleet-server", "publish", "--conn"])
        .arg(admin_conn(&s.pg, "evisa_fleet"))
        .arg("--root-pub")
        .arg(root_pub())
        .arg(file)
        .output()
        .unwrap()
}

fn verdict(b: &Booth, case_name: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .args(["verify", "--date", "2026-11-25", "--direction", "entry"])
        .arg("--config")
        .arg(&b.config)
        .arg("--qr-file")
        .arg(case(case_name, "qr.txt"))
        .arg("--mrz-file")
        .arg(case(case_name, "mrz.txt"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn sync(b: &Booth) -> String {
    let o = b.evisa(&["fleet", "sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn audit_kinds(db: &Path, kind: &str) -> i64 {
    let store = Store::open_read_only(db).unwrap();
    store
        .audit_rows_after(0, 100_000)
        .unwrap()
        .iter()
        .filter(|r| r.kind == kind)
        .count() as i64
}

#[test]
fn fleet_published_trust_update_and_revocations_reach_every_booth_after_one_sync() {
    let s = server();
    let (b1, _) = updating_booth(&s, "nqz-1", "NQZ");
    let (b2, _) = updating_booth(&s, "ala-1", "ALA");
    for b in [&b1, &b2] {
        let v = verdict(b, "unknown_key");
        assert!(v.contains("UNKNOWN_KEY"), "before the update: {v}");
        let v = verdict(b, "accept_tourist");
        assert!(v.contains("ACCEPT"), "before the revocation list: {v}");
    }

    let o = publish(&s, &update("trust-2.evu"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Publishing the same file again changes nothing.
    let o = publish(&s, &update("trust-2.evu"));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("already published"),
        "{}",
        text(&o)
    );
    assert_eq!(
        s.admin
            .count("SELECT count(*) FROM published_updates")
            .unwrap(),
        1
    );
    for b in [&b1, &b2] {
        let out = sync(b);
        assert!(
            out.contains("applied trust update #2 from the fleet"),
            "{out}"
        );
        let v = verdict(b, "unknown_key");
        assert!(v.contains("ACCEPT") && !v.contains("UNKNOWN_KEY"), "{v}");
    }

    let o = publish(&s, &update("revoked-visas-1.evu"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for b in [&b1, &b2] {
        let out = sync(b);
        assert!(
            out.contains("applied revoked_visas update #1 from the fleet"),
            "{out}"
        );
        let v = verdict(b, "accept_tourist");
        assert!(v.contains("VISA_REVOKED"), "{v}");
        // Later cycles fetch nothing again: one import row per update.
        let out = sync(b);
        assert!(!out.contains("applied"), "{out}");
        assert_eq!(audit_kinds(&b.db, "update_import"), 2);
        let st = b.evisa(&["fleet", "status"]);
        let st = String::from_utf8_lossy(&st.stdout).into_owned();
        let last = s
            .admin
            .count("SELECT max(id) FROM published_updates")
            .unwrap();
        assert!(
            st.contains(&format!("updates from the fleet: fetched up to #{last}")),
            "{st}"
        );
        assert!(!st.contains("refused"), "{st}");
    }
}

#[test]
fn fleet_update_signed_by_a_wrong_root_is_refused_once_and_changes_nothing() {
    let s = server();
    let (b, keys) = updating_booth(&s, "nqz-1", "NQZ");
    // The operators' tool verifies before publishing...
    let o = publish(&s, &update("fail_foreign_root.evu"));
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        s.admin
            .count("SELECT count(*) FROM published_updates")
            .unwrap(),
        0
    );
    // ...but a booth never trusts the server: put it there as a compromised server
    // (or a careless operator with SQL access) would.
    let bytes = std::fs::read(update("fail_foreign_root.evu")).unwrap();
    s.admin
        .execute(&format!(
            "INSERT INTO published_updates (kind, seq, sha256, bytes)
             VALUES ('revoked_visas', 3, '\\x{}', '\\x{}')",
            "00".repeat(32),
            evisa_core::trust::hex(&bytes)
        ))
        .unwrap();
    let before: Vec<_> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let out = sync(&b);
    assert!(
        out.contains("refused update #1 from the fleet, nothing changed"),
        "{out}"
    );
    for _ in 0..3 {
        let out = sync(&b);
        assert!(!out.contains("refused"), "refused again: {out}");
    }
    assert_eq!(audit_kinds(&b.db, "update_refused"), 1);
    assert_eq!(audit_kinds(&b.db, "update_import"), 0);
    let store = Store::open_read_only(&b.db).unwrap();
    assert!(
        store
            .last_update_of(evisa_core::update::Kind::RevokedVisas)
            .unwrap()
            .is_none()
    );
    drop(store);
    let after: Vec<_> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after);
    let st = b.evisa(&["fleet", "status"]);
    let st = String::from_utf8_lossy(&st.stdout).into_owned();
    assert!(
        st.contains("last refused update: update #1") && st.contains("nothing changed"),
        "{st}"
    );
    // The link stays online, and a good update published after it still applies.
    assert!(st.contains("fleet link: online"), "{st}");
    let o = publish(&s, &update("revoked-visas-1.evu"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = sync(&b);
    assert!(out.contains("applied revoked_visas update #1"), "{out}");
    assert!(verdict(&b, "accept_tourist").contains("VISA_REVOKED"));
}

#[test]
fn fleet_booth_role_cannot_publish_or_alter_updates() {
    let s = server();
    let (b, _) = updating_booth(&s, "nqz-1", "NQZ");
    let o = publish(&s, &update("revoked-visas-1.evu"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut l = b.link();
    // Control: the booth reads them.
    assert!(l.next_update(0).unwrap().is_some());
    for sql in [
        "INSERT INTO published_updates (kind, seq, sha256, bytes) VALUES ('trust', 9, '\\x01', '\\x01')",
        "UPDATE published_updates SET seq = 99",
        "DELETE FROM published_updates",
    ] {
        let e = l.execute_as_booth(sql).unwrap_err().to_string();
        assert!(e.contains("permission denied"), "{sql}: {e}");
    }
}

#[test]
fn fleet_update_the_booth_cannot_verify_for_its_own_reason_is_retried_not_refused() {
    let s = server();
    let (b, _) = updating_booth(&s, "nqz-1", "NQZ");
    // The booth's pinned root key is missing (a technician's mistake): the file is
    // not at fault, so it must not be refused and skipped for ever.
    let local_root = b.config.parent().unwrap().join("root.pub");
    let cfg = std::fs::read_to_string(&b.config).unwrap().replace(
        &root_pub().display().to_string(),
        &local_root.display().to_string(),
    );
    std::fs::write(&b.config, cfg).unwrap();
    let o = publish(&s, &update("revoked-visas-1.evu"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for _ in 0..2 {
        let out = sync(&b);
        assert!(out.contains("not applied yet"), "{out}");
    }
    let st = b.evisa(&["fleet", "status"]);
    let st = String::from_utf8_lossy(&st.stdout).into_owned();
    assert!(st.contains("fleet link: online"), "{st}");
    assert!(st.contains("update problem: update #1"), "{st}");
    assert!(!st.contains("last refused update"), "{st}");
    assert_eq!(audit_kinds(&b.db, "update_refused"), 0);
    // Fixed: the next sync applies it and the problem note goes.
    std::fs::copy(root_pub(), &local_root).unwrap();
    let out = sync(&b);
    assert!(out.contains("applied revoked_visas update #1"), "{out}");
    let st = b.evisa(&["fleet", "status"]);
    let st = String::from_utf8_lossy(&st.stdout).into_owned();
    assert!(!st.contains("update problem"), "{st}");
    assert!(verdict(&b, "accept_tourist").contains("VISA_REVOKED"));
}
