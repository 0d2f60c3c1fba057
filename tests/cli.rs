//! The issuer-side commands end to end: keygen → issue (with the printable page) →
//! decode → verify with a fresh trust store.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn evisa(args: &[&str], cwd: &Path) -> Output {
    Command::new(crate::exe_for(args))
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn keygen_issue_decode_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = evisa(
        &[
            "keygen",
            "--out",
            "trust",
            "--name",
            "signer-a",
            "--label",
            "MIA signer A",
        ],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("trust/signer-a.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let pem = std::fs::read_to_string(dir.join("trust/signer-a.key")).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    // Refuses to overwrite an existing key.
    let again = evisa(&["keygen", "--out", "trust", "--name", "signer-a"], dir);
    assert_eq!(again.status.code(), Some(2));

    // The secret key must not stay inside the trust store folder.
    std::fs::create_dir(dir.join("secret")).unwrap();
    std::fs::rename(
        dir.join("trust/signer-a.key"),
        dir.join("secret/signer-a.key"),
    )
    .unwrap();

    let visa = root().join("fixtures/visas/eriksson.toml");
    let out = evisa(
        &[
            "issue",
            "--key",
            "secret/signer-a.key",
            "--visa",
            visa.to_str().unwrap(),
            "--png",
            "page.png",
        ],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(text.starts_with("KZV1:"));

    let out = evisa(&["decode", "page.png"], dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), text);

    let mrz = std::fs::read_to_string(root().join("fixtures/passports/eriksson.mrz")).unwrap();
    let one_line = mrz.trim().replace('\n', " ");
    let out = evisa(
        &[
            "verify",
            "--image",
            "page.png",
            "--mrz",
            &one_line,
            "--keys",
            "trust",
            "--date",
            "2026-11-25",
            "--json",
        ],
        dir,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "ACCEPT");
    assert_eq!(json["visa"]["vn"], "EV26KZ0012345");
    assert_eq!(json["passport"]["dn"], "L898902C3");

    // The same visa against the sample trust store: signed by a key it does not know.
    let keys = root().join("keys");
    let out = evisa(
        &[
            "verify",
            "--qr",
            &text,
            "--mrz",
            &one_line,
            "--keys",
            keys.to_str().unwrap(),
            "--date",
            "2026-11-25",
            "--json",
        ],
        dir,
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["reasons"][0]["code"], "UNKNOWN_KEY");
}

#[test]
fn unreadable_inputs_are_operational_errors() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("noise.png"), b"not a png").unwrap();
    let out = evisa(&["decode", "noise.png"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("noise.png"));
    // A white image has no code: a clear error, not a crash.
    image::GrayImage::from_pixel(64, 64, image::Luma([255]))
        .save(tmp.path().join("white.png"))
        .unwrap();
    let out = evisa(&["decode", "white.png"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no readable QR code"));
    // A trust store with a broken file refuses to load, naming the file.
    std::fs::create_dir(tmp.path().join("keys")).unwrap();
    std::fs::write(tmp.path().join("keys/broken.toml"), "label = 'x'\n").unwrap();
    let out = evisa(
        &["verify", "--qr", "KZV1:", "--mrz", "x", "--keys", "keys"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.toml"));
}

#[test]
fn not_an_evisa_says_so() {
    let out = evisa(
        &[
            "verify",
            "--qr",
            "https://example.com/boarding",
            "--mrz",
            "x",
            "--json",
            "--date",
            "2026-11-25",
        ],
        &root(),
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["reasons"][0]["code"], "MALFORMED_QR");
    assert!(
        json["reasons"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("not a Kazakhstan e-visa code")
    );
    assert!(json["visa"].is_null());
}

#[test]
fn simulate_then_bench_decode_reads_the_real_page() {
    let tmp = tempfile::tempdir().unwrap();
    let page = root().join("fixtures/visas/eriksson-page.png");
    let out = evisa(
        &[
            "simulate",
            "--page",
            page.to_str().unwrap(),
            "--out",
            "frames",
            "--per-category",
            "1",
            "--seed",
            "3",
        ],
        tmp.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = std::fs::read_to_string(root().join("fixtures/visas/eriksson.qr.txt")).unwrap();
    let nominal = tmp.path().join("frames/nominal");
    let txt = std::fs::read_dir(&nominal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "txt"))
        .expect("a NAME.txt beside each frame");
    assert_eq!(
        std::fs::read_to_string(&txt).unwrap().trim_end(),
        expected.trim_end()
    );
    // A nominal camera frame of the printed page reads back to the signed text.
    let frame = txt.with_extension("png");
    let out = evisa(&["decode", frame.to_str().unwrap()], tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        expected.trim_end()
    );

    let out = evisa(&["bench", "decode", "frames"], tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    let total = table
        .lines()
        .find(|l| l.starts_with("TOTAL"))
        .expect("a TOTAL row");
    assert!(total.contains("/9"), "{table}");
    let out = evisa(&["bench", "decode"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
}
