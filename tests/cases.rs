//! Every fixture case of `fixtures/cases.json` through the real `evisa verify` binary:
//! from the QR text file, and from the QR image where the case has one.

use std::path::{Path, PathBuf};
use std::process::Command;

use evisa_core::rules::{Direction, Movement};
use evisa_store::store::{NewMovement, Store};
use evisa_testkit::{self as fixtures, Case};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A database holding the history the case asks for.
fn seeded_db(case: &Case, dir: &Path, visa_number: Option<&str>) -> PathBuf {
    let path = dir.join(format!("{}.db", case.name));
    let mut store = Store::open(&path).unwrap();
    for m in &case.seed_movements {
        let movement = Movement {
            direction: Direction::parse(&m.direction).unwrap(),
            date: evisa_core::dates::parse_iso(&m.date).unwrap(),
            checkpoint: m.checkpoint.clone(),
        };
        store
            .record_movement(&NewMovement {
                visa_number: visa_number.expect("a seeded case has a readable visa"),
                movement: &movement,
                document_number: "seed",
                officer: None,
                terminal: None,
                recorded_at: "2026-01-01T00:00:00+05:00",
            })
            .unwrap();
    }
    for vn in &case.seed_revoked {
        store
            .revoke_visa(
                vn,
                "cancelled by the migration service (test)",
                "2026-11-01",
            )
            .unwrap();
    }
    path
}

fn run(case: &Case, qr_arg: [&str; 2], db: &Path) -> serde_json::Value {
    let fx = root().join("fixtures");
    let out = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .current_dir(root())
        .args(["verify", qr_arg[0], qr_arg[1]])
        .arg("--mrz-file")
        .arg(fx.join(&case.mrz_file))
        .args([
            "--date",
            &case.date,
            "--checkpoint",
            &case.checkpoint,
            "--direction",
            &case.direction,
        ])
        .arg("--db")
        .arg(db)
        .arg("--json")
        .output()
        .unwrap();
    let expected_status = if case.verdict == "ACCEPT" { 0 } else { 1 };
    assert_eq!(
        out.status.code(),
        Some(expected_status),
        "{}: stderr {}",
        case.name,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: not JSON ({e})", case.name))
}

#[test]
fn every_fixture_case_gives_its_expected_verdict() {
    let fx = root().join("fixtures");
    let manifest = fixtures::load_manifest(&fx).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut seen_codes = std::collections::BTreeSet::new();
    for case in &manifest.cases {
        let qr_text = std::fs::read_to_string(fx.join(&case.qr_file)).unwrap();
        let vn = evisa_core::rules::read_visa(&qr_text, &evisa_core::trust::TrustStore::default())
            .claims
            .map(|c| c.visa.number);
        let db = seeded_db(case, tmp.path(), vn.as_deref());
        let qr_path = fx.join(&case.qr_file);
        let mut inputs = vec![["--qr-file".to_string(), qr_path.display().to_string()]];
        if let Some(png) = &case.png_file {
            inputs.push(["--image".to_string(), fx.join(png).display().to_string()]);
        }
        for [flag, value] in &inputs {
            let json = run(case, [flag, value], &db);
            assert_eq!(
                json["verdict"],
                case.verdict.as_str(),
                "{} via {flag}: {json}",
                case.name
            );
            let codes: Vec<String> = json["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    assert!(!r["detail"].as_str().unwrap().is_empty());
                    r["code"].as_str().unwrap().to_string()
                })
                .collect();
            assert_eq!(codes, case.codes, "{} via {flag}: {json}", case.name);
        }
        seen_codes.extend(case.codes.iter().cloned());
    }
    // The manifest must cover every reason code of the spec.
    for code in evisa_core::rules::ReasonCode::ALL {
        assert!(
            seen_codes.contains(code.as_str()),
            "no fixture case for {code}"
        );
    }
}

#[test]
fn fixtures_are_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fixtures");
    let keys = tmp.path().join("keys");
    fixtures::generate(&out, &keys).unwrap();
    let committed = root().join("fixtures");
    let regenerated = fixtures::load_manifest(&out).unwrap();
    assert_eq!(
        fixtures::load_manifest(&committed).unwrap().cases,
        regenerated.cases
    );
    for case in &regenerated.cases {
        for f in [&case.qr_file, &case.mrz_file] {
            assert_eq!(
                std::fs::read(committed.join(f)).unwrap(),
                std::fs::read(out.join(f)).unwrap(),
                "{f} differs from a fresh `evisa fixtures`"
            );
        }
    }
    for entry in std::fs::read_dir(root().join("keys")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let name = p.file_name().unwrap();
            assert_eq!(
                std::fs::read(&p).unwrap(),
                std::fs::read(keys.join(name)).unwrap()
            );
        }
    }
}

#[test]
fn record_then_same_visa_is_exhausted() {
    let fx = root().join("fixtures");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("t.db");
    let verify = |record: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_evisa"));
        c.current_dir(root())
            .args(["verify", "--qr-file"])
            .arg(fx.join("cases/accept_tourist/qr.txt"));
        c.arg("--mrz-file")
            .arg(fx.join("cases/accept_tourist/mrz.txt"));
        c.args(["--date", "2026-11-25", "--json", "--db"]).arg(&db);
        if record {
            c.arg("--record");
        }
        let out = c.output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(verify(false)["verdict"], "ACCEPT");
    // Without --record nothing is written, so it is still accepted.
    assert_eq!(verify(true)["verdict"], "ACCEPT");
    let again = verify(false);
    assert_eq!(again["verdict"], "REJECT");
    assert_eq!(again["reasons"][0]["code"], "ENTRIES_EXHAUSTED");
}

#[test]
fn operational_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .current_dir(root())
        .args([
            "verify",
            "--qr",
            "x",
            "--mrz",
            "y",
            "--keys",
            "/nonexistent",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent"));
    let out = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .args(["verify", "--qr", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
