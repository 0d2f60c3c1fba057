//! Trust updates killed mid-import: `evisa update import` is SIGKILLed at random
//! moments, 20 times. After each kill the trust folder loads and is wholly the old
//! or wholly the new key set (never a mix, never missing), the database opens with an
//! intact chain, and importing the same file again brings folder and database to the
//! same sequence number, and no staging folder of the killed import is left.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use evisa_core::update::{self, Content, KeyFileEntry};
use evisa_store::audit::{self, Verification};
use evisa_store::store::Store;
use time::macros::date;

const ROUNDS: u64 = 20;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Update `seq`: two keys labelled with the round, so each round's set is distinct.
fn trust_update(seq: u64) -> Vec<u8> {
    let keys = (0..2u8)
        .map(|i| {
            let k = SigningKey::from_bytes(&[seq as u8 * 2 + i + 1; 32]);
            KeyFileEntry {
                file: format!("signer-{i}.toml"),
                text: evisa_core::trust::render_key_file(
                    &format!("round {seq} key {i}"),
                    &k.verifying_key(),
                    date!(2026 - 01 - 01),
                    date!(2027 - 12 - 31),
                ),
            }
        })
        .collect();
    update::sign(
        &Content::Trust(keys),
        seq,
        "2026-11-25T08:00:00Z",
        &evisa_testkit::samples::test_root_key(),
    )
    .unwrap()
}

fn labels(keys: &Path) -> Vec<String> {
    let t = evisa_store::trustdir::load_dir(keys).unwrap_or_else(|e| panic!("trust folder: {e}"));
    let mut l: Vec<String> = t.keys().iter().map(|k| k.label.clone()).collect();
    l.sort();
    l
}

fn import(file: &Path, keys: &Path, db: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_evisa"))
        .args(["update", "import"])
        .arg(file)
        .arg("--root-pub")
        .arg(repo().join("keys/TEST-ONLY-update-root.pub"))
        // The pinned root is the test-only one: a training machine.
        .arg("--training")
        .arg("--db")
        .arg(db)
        .arg("--keys")
        .arg(keys)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn killed_trust_imports_leave_a_whole_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    for e in std::fs::read_dir(repo().join("keys")).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, keys.join(p.file_name().unwrap())).unwrap();
        }
    }
    let db = tmp.path().join("booth.db");
    drop(Store::open(&db).unwrap());
    let mut prev = labels(&keys);
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    let (mut killed_before, mut killed_after) = (0, 0);
    for seq in 1..=ROUNDS {
        let file = tmp.path().join(format!("t{seq}.evu"));
        std::fs::write(&file, trust_update(seq)).unwrap();
        let new = {
            let dir = tmp.path().join(format!("expect{seq}"));
            std::fs::create_dir(&dir).unwrap();
            let Content::Trust(k) = update::parse(
                &std::fs::read(&file).unwrap(),
                &evisa_testkit::samples::test_root_key().verifying_key(),
            )
            .unwrap()
            .content
            else {
                unreachable!()
            };
            for e in k {
                std::fs::write(dir.join(e.file), e.text).unwrap();
            }
            labels(&dir)
        };
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = import(&file, &keys, &db);
        std::thread::sleep(Duration::from_micros(seed % 30_000));
        let _ = child.kill();
        child.wait().unwrap();

        let now = labels(&keys);
        assert!(
            now == prev || now == new,
            "round {seq}: the trust folder is a mix: {now:?}"
        );
        if now == new {
            killed_after += 1;
        } else {
            killed_before += 1;
        }
        let s = Store::open(&db).unwrap();
        assert!(matches!(
            audit::verify(&s).unwrap(),
            Verification::Intact { .. }
        ));
        drop(s);
        // Importing it again finishes the job (or says it was already done).
        let out = import(&file, &keys, &db).wait_with_output().unwrap();
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || msg.contains("cannot be replayed"),
            "round {seq}: {msg}"
        );
        assert_eq!(labels(&keys), new);
        // The staging folder a kill left behind was cleaned up by this import.
        let left: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".keys.update-"))
            .collect();
        assert!(left.is_empty(), "round {seq}: left behind: {left:?}");
        let s = Store::open(&db).unwrap();
        assert_eq!(
            s.last_update_of(update::Kind::Trust)
                .unwrap()
                .map(|u| u.seq),
            Some(seq as i64)
        );
        prev = new;
    }
    eprintln!("kills before the swap: {killed_before}, after: {killed_after}");
}
