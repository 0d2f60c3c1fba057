//! Signed updates through the real `evisa update` commands: a good update applies; a
//! wrongly signed, foreign-root, truncated, replayed or altered file is refused, says
//! why, and leaves the database byte-for-byte and the trust folder file-for-file as
//! they were. A terminal takes its root key only from explicit configuration, refuses
//! a TEST-ONLY one (and TEST-ONLY issuer keys) outside training, refuses a root key
//! file others can replace, and cleans up what killed imports left behind.

use evisa_store::audit::AuditKind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ed25519_dalek::SigningKey;
use evisa_core::update::{self, Content, KeyFileEntry, RevokedEntry};
use evisa_store::audit::{self, Verification};
use evisa_store::store::{AuditEvent, Store};
use time::macros::date;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Booth {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    keys: PathBuf,
    db: PathBuf,
    root_pub: PathBuf,
}

/// A terminal: a copy of the sample trust folder (with the root public key and the
/// test secrets folder in it) and a database holding one audit row.
fn booth() -> Booth {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let keys = dir.join("keys");
    copy_dir(&repo().join("keys"), &keys);
    let db = dir.join("booth.db");
    let mut s = Store::open(&db).unwrap();
    s.append_audit(&AuditEvent {
        kind: AuditKind::SignIn,
        officer: Some("o1"),
        terminal: None,
        at: "2026-11-25T09:00:00+05:00",
        details: &serde_json::json!({}),
    })
    .unwrap();
    drop(s);
    let root_pub = keys.join("TEST-ONLY-update-root.pub");
    Booth {
        _tmp: tmp,
        dir,
        keys,
        db,
        root_pub,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Every file under `dir`, relative path to bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The database file's bytes (the WAL is checkpointed away when the last connection
/// closes) and a dump of every table.
fn db_state(db: &Path) -> (Vec<u8>, Vec<u8>, String) {
    let wal = {
        let mut p = db.as_os_str().to_owned();
        p.push("-wal");
        std::fs::read(PathBuf::from(p)).unwrap_or_default()
    };
    let bytes = std::fs::read(db).unwrap();
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut dump = String::new();
    for t in [
        "audit",
        "audit_head",
        "applied_updates",
        "revoked_visas",
        "movements",
    ] {
        let mut st = c.prepare(&format!("SELECT * FROM {t} ORDER BY 1")).unwrap();
        let n = st.column_count();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..n {
                dump.push_str(&format!("{:?}|", r.get_ref(i).unwrap()));
            }
            dump.push('\n');
        }
    }
    (bytes, wal, dump)
}

fn root() -> SigningKey {
    evisa_testkit::samples::test_root_key()
}

fn revocations(seq: u64, visas: &[&str]) -> Vec<u8> {
    let list = visas
        .iter()
        .map(|v| RevokedEntry {
            visa_number: v.to_string(),
            reason: "cancelled by the migration service".into(),
        })
        .collect();
    update::sign(
        &Content::RevokedVisas(list),
        seq,
        "2026-11-25T08:00:00Z",
        &root(),
    )
    .unwrap()
}

/// A trust update: the sample issuer key, the 2025 key, and one new key; the sample
/// issuer key revoked.
fn trust_update(seq: u64) -> Vec<u8> {
    let mut keys = match evisa_issuer::trust_content_from_dir(&repo().join("keys")).unwrap() {
        Content::Trust(k) => k,
        _ => unreachable!(),
    };
    for k in &mut keys {
        if k.file == "TEST-ONLY-issuer-2026.toml" {
            k.text = k.text.replace("revoked = false", "revoked = true");
        }
    }
    let new = SigningKey::from_bytes(&[seq as u8; 32]);
    keys.push(KeyFileEntry {
        file: "TEST-ONLY-new-signer.toml".into(),
        text: evisa_core::trust::render_key_file(
            "new signer",
            &new.verifying_key(),
            date!(2026 - 06 - 01),
            date!(2028 - 12 - 31),
        ),
    });
    update::sign(&Content::Trust(keys), seq, "2026-11-25T08:00:00Z", &root()).unwrap()
}

fn import(b: &Booth, bytes: &[u8]) -> Output {
    let file = b.dir.join("update.evu");
    std::fs::write(&file, bytes).unwrap();
    Command::new(env!("CARGO_BIN_EXE_evisa"))
        .arg("update")
        .arg("import")
        .arg(&file)
        .arg("--root-pub")
        .arg(&b.root_pub)
        .arg("--db")
        .arg(&b.db)
        .arg("--keys")
        .arg(&b.keys)
        // The booth pins the test-only root and holds test-only keys: training.
        .arg("--training")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// Imports `bytes`, expects a refusal mentioning `why`, and nothing changed.
fn refused(b: &Booth, bytes: &[u8], why: &str) {
    let (db_before, keys_before) = (db_state(&b.db), snapshot(&b.keys));
    let o = import(b, bytes);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(why), "expected {why:?} in: {}", text(&o));
    assert!(text(&o).contains("nothing changed"), "{}", text(&o));
    let db_after = db_state(&b.db);
    assert_eq!(db_before.2, db_after.2, "database contents changed");
    assert!(db_before.0 == db_after.0, "database file bytes changed");
    assert!(db_before.1 == db_after.1, "WAL bytes changed");
    assert_eq!(keys_before, snapshot(&b.keys), "trust folder changed");
    let leftovers: Vec<_> = std::fs::read_dir(&b.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".keys"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn revocation_list_applies_and_replays_are_refused() {
    let b = booth();
    let o = import(&b, &revocations(5, &["EV26KZ0012345", "EV26KZ0099999"]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("2 revoked visas"), "{}", text(&o));
    let s = Store::open_existing(&b.db).unwrap();
    assert!(s.history("EV26KZ0012345").unwrap().revoked.is_some());
    let last = s.last_update().unwrap().unwrap();
    assert_eq!((last.kind.as_str(), last.seq), ("revoked_visas", 5));
    assert_eq!(last.issued, "2026-11-25T08:00:00Z");
    assert!(matches!(
        audit::verify(&s).unwrap(),
        Verification::Intact { rows: 2, .. }
    ));
    drop(s);

    // An older list (without EV26KZ0099999) cannot un-revoke it; nor can the same one.
    refused(
        &b,
        &revocations(4, &["EV26KZ0012345"]),
        "cannot be replayed",
    );
    refused(
        &b,
        &revocations(5, &["EV26KZ0012345"]),
        "cannot be replayed",
    );

    // A newer, complete list replaces the old one.
    let o = import(&b, &revocations(6, &["EV26KZ0099999"]));
    assert!(o.status.success(), "{}", text(&o));
    let s = Store::open_existing(&b.db).unwrap();
    assert!(s.history("EV26KZ0012345").unwrap().revoked.is_none());
    assert!(s.history("EV26KZ0099999").unwrap().revoked.is_some());
}

#[test]
fn bad_files_change_nothing() {
    let b = booth();
    let good = revocations(7, &["EV1"]);

    let mut bad_sig = good.clone();
    let n = bad_sig.len();
    // Flip a bit inside the base64 signature (not its padding).
    bad_sig[n - 10] = if bad_sig[n - 10] == b'A' { b'B' } else { b'A' };
    refused(&b, &bad_sig, "does not verify");

    let foreign = SigningKey::from_bytes(&[1; 32]);
    let other_root = update::sign(
        &Content::RevokedVisas(vec![]),
        9,
        "2026-11-25T08:00:00Z",
        &foreign,
    )
    .unwrap();
    refused(&b, &other_root, "not by the pinned root key");

    for cut in [good.len() - 1, good.len() - 40, good.len() / 2, 10, 0] {
        refused(&b, &good[..cut], "");
    }
    refused(&b, &good[..good.len() - 1], "truncated");

    // A valid signature with altered contents: the visa number changed after signing.
    let altered = String::from_utf8(good.clone())
        .unwrap()
        .replace("\"EV1\"", "\"EV2\"");
    refused(&b, altered.as_bytes(), "does not verify");
    // ... or the sequence number raised to get past the replay check.
    let raised = String::from_utf8(good.clone())
        .unwrap()
        .replace("\"seq\":7", "\"seq\":8");
    refused(&b, raised.as_bytes(), "does not verify");

    refused(&b, b"hello\n", "not an update file");
    refused(&b, b"EVISA-UPDATE/2\n{}\nsignature AAAA\n", "not supported");

    // And the good one still applies afterwards.
    let o = import(&b, &good);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn trust_update_swaps_the_folder() {
    let b = booth();
    let before = snapshot(&b.keys);
    let o = import(&b, &trust_update(3));
    assert!(o.status.success(), "{}", text(&o));
    let after = snapshot(&b.keys);
    // The non-key files came across untouched.
    for f in [
        "TEST-ONLY-update-root.pub",
        "test-only-secret/TEST-ONLY-issuer-2026.key",
    ] {
        assert_eq!(before[f], after[f], "{f}");
    }
    assert!(after.contains_key("TEST-ONLY-new-signer.toml"));
    assert!(after.contains_key(update::STATE_FILE));
    let t = evisa_store::trustdir::load_dir(&b.keys).unwrap();
    assert_eq!(t.keys().len(), 3);
    assert!(
        t.keys()
            .iter()
            .any(|k| k.source == "TEST-ONLY-issuer-2026.toml" && k.revoked)
    );
    let s = Store::open_existing(&b.db).unwrap();
    assert_eq!(s.last_update().unwrap().unwrap().kind.as_str(), "trust");
    drop(s);
    // No staging folders left behind.
    let names: Vec<_> = std::fs::read_dir(&b.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");

    // Replays are refused, also against a fresh database (the folder remembers).
    refused(&b, &trust_update(2), "cannot be replayed");
    std::fs::remove_file(&b.db).unwrap();
    drop(Store::open(&b.db).unwrap());
    refused(&b, &trust_update(2), "cannot be replayed");

    // A newer one applies.
    let o = import(&b, &trust_update(4));
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn trust_update_with_a_bad_key_file_changes_nothing() {
    let b = booth();
    let bytes = trust_update(3);
    // Re-sign a body whose key file does not parse: sign() refuses to make it...
    let bad = Content::Trust(vec![KeyFileEntry {
        file: "x.toml".into(),
        text: "label = 1".into(),
    }]);
    assert!(update::sign(&bad, 3, "2026-11-25T08:00:00Z", &root()).is_err());
    // ... and a path in a file name is refused even if signed by hand.
    let hand = String::from_utf8(bytes)
        .unwrap()
        .replace("TEST-ONLY-new-signer.toml", "../evil.toml");
    refused(&b, hand.as_bytes(), "does not verify");
}

#[test]
fn sign_command_round_trip() {
    let b = booth();
    let list = b.dir.join("revoked.txt");
    std::fs::write(
        &list,
        "# cancelled visas\nEV26KZ0012345 fraud\n\nEV26KZ0000001\n",
    )
    .unwrap();
    let out = b.dir.join("r.evu");
    let o = Command::new(env!("CARGO_BIN_EXE_evisa-issuer"))
        .args(["update", "sign", "--seq", "1", "--root-key"])
        .arg(repo().join("keys/test-only-secret/TEST-ONLY-update-root.key"))
        .arg("--revoked-visas")
        .arg(&list)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = import(&b, &std::fs::read(&out).unwrap());
    assert!(o.status.success(), "{}", text(&o));
    let s = Store::open_existing(&b.db).unwrap();
    assert_eq!(
        s.history("EV26KZ0012345").unwrap().revoked.as_deref(),
        Some("fraud")
    );
}

/// Signs arbitrary body text the way the format says, bypassing `update::sign`'s
/// checks: what a careless (or compromised) ministry tool could produce.
fn hand_signed(body: &str) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    let signed = format!("{}\n{body}\n", update::MAGIC);
    let mut msg = update::SIG_CONTEXT.to_vec();
    msg.extend_from_slice(signed.as_bytes());
    let sig = root().sign(&msg);
    use base64::Engine as _;
    format!(
        "{signed}signature {}\n",
        base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
    )
    .into_bytes()
}

#[test]
fn validly_signed_but_invalid_contents_change_nothing() {
    let b = booth();
    let kid = evisa_core::trust::hex(&evisa_core::trust::kid_of(&root().verifying_key()));
    let key = std::fs::read_to_string(repo().join("keys/TEST-ONLY-issuer-2026.toml")).unwrap();
    let body = |file: &str, text: &str| {
        serde_json::json!({
            "kind": "trust", "seq": 9, "issued": "2026-11-25T08:00:00Z", "root_kid": kid,
            "keys": [{"file": file, "text": text}],
        })
        .to_string()
    };
    refused(
        &b,
        &hand_signed(&body("../evil.toml", &key)),
        "not a plain NAME.toml",
    );
    refused(&b, &hand_signed(&body("ok.toml", "label = 1")), "ok.toml");
    let empty = serde_json::json!({
        "kind": "trust", "seq": 9, "issued": "2026-11-25T08:00:00Z", "root_kid": kid, "keys": [],
    });
    refused(&b, &hand_signed(&empty.to_string()), "at least one key");
    let mixed = serde_json::json!({
        "kind": "revoked_visas", "seq": 9, "issued": "2026-11-25T08:00:00Z", "root_kid": kid,
        "keys": [], "revoked_visas": [],
    });
    refused(&b, &hand_signed(&mixed.to_string()), "exactly");
    let unknown = serde_json::json!({
        "kind": "revoked_visas", "seq": 9, "issued": "2026-11-25T08:00:00Z", "root_kid": kid,
        "revoked_visas": [], "valid_until": "2030-01-01",
    });
    refused(&b, &hand_signed(&unknown.to_string()), "unknown field");
    let dup = serde_json::json!({
        "kind": "revoked_visas", "seq": 9, "issued": "2026-11-25T08:00:00Z", "root_kid": kid,
        "revoked_visas": [{"visa_number": "EV1", "reason": "a"}, {"visa_number": "EV1", "reason": "b"}],
    });
    refused(&b, &hand_signed(&dup.to_string()), "twice");
    let zero = serde_json::json!({
        "kind": "revoked_visas", "seq": 0, "issued": "2026-11-25T08:00:00Z", "root_kid": kid,
        "revoked_visas": [],
    });
    refused(&b, &hand_signed(&zero.to_string()), "seq 0");
}

#[test]
fn interrupted_trust_import_is_completed() {
    // The crash window: the folder was swapped but the database commit never happened
    // (simulated by importing with one database and re-importing with a fresh one).
    let b = booth();
    let bytes = trust_update(3);
    assert!(import(&b, &bytes).status.success());
    let folder = snapshot(&b.keys);
    std::fs::remove_file(&b.db).unwrap();
    drop(Store::open(&b.db).unwrap());
    let o = import(&b, &bytes);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("interrupted"), "{}", text(&o));
    assert_eq!(folder, snapshot(&b.keys));
    let s = Store::open_existing(&b.db).unwrap();
    assert_eq!(s.last_update().unwrap().unwrap().seq, 3);
    drop(s);
    refused(&b, &bytes, "cannot be replayed");
}

#[cfg(unix)]
#[test]
fn verify_warns_about_a_writable_trust_folder() {
    use std::os::unix::fs::PermissionsExt;
    let b = booth();
    std::fs::set_permissions(&b.keys, std::fs::Permissions::from_mode(0o777)).unwrap();
    let fx = repo().join("fixtures/cases/accept_tourist");
    let o = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .args(["verify", "--date", "2026-11-25", "--qr-file"])
        .arg(fx.join("qr.txt"))
        .arg("--mrz-file")
        .arg(fx.join("mrz.txt"))
        .arg("--keys")
        .arg(&b.keys)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning") && err.contains("world-writable"),
        "{err}"
    );
}

#[test]
fn sample_update_files_behave_as_named() {
    let dir = repo().join("fixtures/updates");
    // Reproducible by `evisa fixtures`.
    let tmp = tempfile::tempdir().unwrap();
    evisa_testkit::samples::write_sample_updates(tmp.path(), &repo().join("keys")).unwrap();
    assert_eq!(
        snapshot(&dir),
        snapshot(tmp.path()),
        "run `cargo run -- fixtures`"
    );
    let keys = tmp.path().join("keys");
    evisa_testkit::samples::write_test_root(&keys).unwrap();
    for f in [
        "TEST-ONLY-update-root.pub",
        "test-only-secret/TEST-ONLY-update-root.key",
    ] {
        assert_eq!(
            std::fs::read(keys.join(f)).unwrap(),
            std::fs::read(repo().join("keys").join(f)).unwrap(),
            "{f} differs from a fresh `evisa fixtures`"
        );
    }

    let b = booth();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".evu"))
        .collect();
    names.sort();
    let (fails, goods): (Vec<_>, Vec<_>) = names.iter().partition(|n| n.starts_with("fail_"));
    assert!(fails.len() >= 4 && goods.len() >= 3);
    for f in fails {
        refused(&b, &std::fs::read(dir.join(f)).unwrap(), "");
    }
    for g in goods {
        let o = import(&b, &std::fs::read(dir.join(g)).unwrap());
        assert!(o.status.success(), "{g}: {}", text(&o));
    }
    refused(
        &b,
        &std::fs::read(dir.join("revoked-visas-1.evu")).unwrap(),
        "cannot be replayed",
    );
}

#[test]
fn the_configuration_pins_the_root_key_and_paths() {
    let b = booth();
    let file = b.dir.join("update.evu");
    std::fs::write(&file, revocations(3, &["EV26KZ0012345"])).unwrap();
    let run = |root: &Path| {
        let cfg = b.dir.join("kiosk.toml");
        std::fs::write(
            &cfg,
            format!(
                "database = {:?}\ntrust_store = {:?}\nupdate_root_key = {:?}\ntraining = true\n",
                b.db, b.keys, root
            ),
        )
        .unwrap();
        Command::new(env!("CARGO_BIN_EXE_evisa"))
            .args(["update", "import"])
            .arg(&file)
            .arg("--config")
            .arg(&cfg)
            .output()
            .unwrap()
    };
    // A pinned root that did not sign the file: refused, nothing changed.
    let foreign = b.dir.join("foreign.pub");
    let other = SigningKey::from_bytes(&[7; 32]);
    use ed25519_dalek::pkcs8::{EncodePublicKey, spki::der::pem::LineEnding};
    std::fs::write(
        &foreign,
        other
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
    )
    .unwrap();
    let o = run(&foreign);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        Store::open_existing(&b.db)
            .unwrap()
            .last_update()
            .unwrap()
            .is_none()
    );
    // The configured root, database and trust folder: applied.
    let o = run(&b.root_pub);
    assert!(o.status.success(), "{}", text(&o));
    let s = Store::open_existing(&b.db).unwrap();
    assert!(s.history("EV26KZ0012345").unwrap().revoked.is_some());
}

/// `update import` run as a terminal (no `--training`) with the given arguments.
fn import_as_terminal(b: &Booth, bytes: &[u8], args: &[&std::ffi::OsStr]) -> Output {
    let file = b.dir.join("update.evu");
    std::fs::write(&file, bytes).unwrap();
    Command::new(env!("CARGO_BIN_EXE_evisa"))
        .current_dir(&b.dir)
        .args(["update", "import"])
        .arg(&file)
        .arg("--db")
        .arg(&b.db)
        .arg("--keys")
        .arg(&b.keys)
        .args(args)
        .env_remove("EVISA_UPDATE_ROOT")
        .env_remove("EVISA_CONFIG")
        .output()
        .unwrap()
}

/// A production-like root pair: PEM public key written to `dir/name`.
fn other_root(dir: &Path, name: &str) -> (SigningKey, PathBuf) {
    use ed25519_dalek::pkcs8::{EncodePublicKey, spki::der::pem::LineEnding};
    let k = SigningKey::from_bytes(&[77; 32]);
    let p = dir.join(name);
    std::fs::write(
        &p,
        k.verifying_key().to_public_key_pem(LineEnding::LF).unwrap(),
    )
    .unwrap();
    (k, p)
}

fn unchanged(b: &Booth, before: &(Vec<u8>, Vec<u8>, String), keys: &BTreeMap<String, Vec<u8>>) {
    assert_eq!(before.2, db_state(&b.db).2, "database contents changed");
    assert_eq!(keys, &snapshot(&b.keys), "trust folder changed");
}

#[test]
fn no_default_trust_anchor_import_without_a_configured_root_is_refused() {
    let b = booth();
    // Run from a folder holding keys/TEST-ONLY-update-root.pub: the old default path.
    let (db0, k0) = (db_state(&b.db), snapshot(&b.keys));
    let o = import_as_terminal(&b, &revocations(1, &["EV1"]), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("`update_root_key`") && text(&o).contains("--root-pub"),
        "{}",
        text(&o)
    );
    unchanged(&b, &db0, &k0);
    // A configuration without `update_root_key` gives the same refusal.
    let cfg = b.dir.join("kiosk.toml");
    std::fs::write(&cfg, "checkpoint = \"NQZ\"\n").unwrap();
    let o = import_as_terminal(
        &b,
        &revocations(1, &["EV1"]),
        &["--config".as_ref(), cfg.as_os_str()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("`update_root_key`"), "{}", text(&o));
    unchanged(&b, &db0, &k0);
}

#[test]
fn test_only_root_key_is_refused_outside_training_even_renamed() {
    let b = booth();
    let (db0, k0) = (db_state(&b.db), snapshot(&b.keys));
    let update = revocations(1, &["EV1"]);
    let o = import_as_terminal(
        &b,
        &update,
        &["--root-pub".as_ref(), b.root_pub.as_os_str()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("TEST-ONLY"), "{}", text(&o));
    assert!(
        text(&o).contains(&b.root_pub.display().to_string()),
        "{}",
        text(&o)
    );
    unchanged(&b, &db0, &k0);
    // Renamed, it is still known by the key itself.
    let renamed = b.dir.join("ministry-root.pub");
    std::fs::copy(&b.root_pub, &renamed).unwrap();
    let o = import_as_terminal(&b, &update, &["--root-pub".as_ref(), renamed.as_os_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("ministry-root.pub"), "{}", text(&o));
    unchanged(&b, &db0, &k0);
    // In a configuration with `training = true` it is accepted.
    let cfg = b.dir.join("kiosk.toml");
    std::fs::write(
        &cfg,
        format!("update_root_key = {:?}\ntraining = true\n", renamed),
    )
    .unwrap();
    let o = import_as_terminal(&b, &update, &["--config".as_ref(), cfg.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn trust_update_installing_a_test_only_key_is_refused_outside_training() {
    let b = booth();
    let (root, root_pub) = other_root(&b.dir, "ministry-root.pub");
    let key = std::fs::read_to_string(repo().join("keys/TEST-ONLY-issuer-2026.toml")).unwrap();
    // Renamed and relabelled: still the test key.
    let key = key.replace(
        "TEST ONLY e-visa signer 2026 (not for production)",
        "MIA e-visa signer 2026",
    );
    let content = Content::Trust(vec![KeyFileEntry {
        file: "mia-2026.toml".into(),
        text: key,
    }]);
    let bytes = update::sign(&content, 1, "2026-11-25T08:00:00Z", &root).unwrap();
    let (db0, k0) = (db_state(&b.db), snapshot(&b.keys));
    let o = import_as_terminal(&b, &bytes, &["--root-pub".as_ref(), root_pub.as_os_str()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("TEST-ONLY key mia-2026.toml") && text(&o).contains("nothing changed"),
        "{}",
        text(&o)
    );
    unchanged(&b, &db0, &k0);
}

#[cfg(unix)]
#[test]
fn world_writable_pinned_root_key_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let b = booth();
    let (root, root_pub) = other_root(&b.dir, "ministry-root.pub");
    let bytes = update::sign(
        &Content::RevokedVisas(vec![]),
        1,
        "2026-11-25T08:00:00Z",
        &root,
    )
    .unwrap();
    let args = ["--root-pub".as_ref(), root_pub.as_os_str()];
    std::fs::set_permissions(&root_pub, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (db0, k0) = (db_state(&b.db), snapshot(&b.keys));
    let o = import_as_terminal(&b, &bytes, &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("world-writable") && text(&o).contains("ministry-root.pub"),
        "{}",
        text(&o)
    );
    unchanged(&b, &db0, &k0);
    // Group-writable: a warning, and the import goes ahead.
    std::fs::set_permissions(&root_pub, std::fs::Permissions::from_mode(0o664)).unwrap();
    let o = import_as_terminal(&b, &bytes, &args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("warning") && text(&o).contains("group-writable"));
}

/// A process id that is not running now.
fn dead_pid() -> u32 {
    (400_000..)
        .find(|p| !Path::new(&format!("/proc/{p}")).exists())
        .unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn stale_staging_folder_from_a_killed_import_is_removed_at_the_next_import() {
    let b = booth();
    let stale = b.dir.join(format!(".keys.update-3-{}", dead_pid()));
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("half.toml"), "label = ").unwrap();
    let stale_swap = b.dir.join(format!(".keys.update-4-{}.swap", dead_pid()));
    std::fs::create_dir(&stale_swap).unwrap();
    // One whose process runs (this test) is another import at work: left alone.
    let live = b.dir.join(format!(".keys.update-5-{}", std::process::id()));
    std::fs::create_dir(&live).unwrap();
    let o = import(&b, &trust_update(3));
    assert!(o.status.success(), "{}", text(&o));
    assert!(!stale.exists() && !stale_swap.exists());
    assert!(live.exists());
    // The folder still loads: the clean-up touched nothing else.
    assert_eq!(
        evisa_store::trustdir::load_dir(&b.keys)
            .unwrap()
            .keys()
            .len(),
        3
    );
}
