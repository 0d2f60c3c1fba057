//! The Debian package's files (packaging/): the systemd unit runs the kiosk on tty1 as
//! the unprivileged `evisa` user in a sandbox; the packaged configuration is valid,
//! not training, and names no key; the udev rules are well formed; the maintainer
//! scripts parse and never delete the state directory; and the package that
//! `packaging/build-deb.sh` builds holds the booth binary and none of the ministry's
//! tools or any key. (Installing it for real is `packaging/ci-install-test.sh`, run by
//! `.ci/run`: it needs root.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn packaging() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("packaging")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A systemd unit as section -> key -> values (a key may repeat).
fn parse_unit(text: &str) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut section = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_string();
            continue;
        }
        assert!(!section.is_empty(), "line {}: outside a section", n + 1);
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: not KEY=VALUE: {line}", n + 1));
        assert!(
            !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric()),
            "line {}: bad key {k:?}",
            n + 1
        );
        out.entry(section.clone())
            .or_default()
            .entry(k.to_string())
            .or_default()
            .push(v.to_string());
    }
    out
}

#[test]
fn the_service_runs_the_kiosk_on_tty1_as_an_unprivileged_user_in_a_sandbox() {
    let unit = parse_unit(&read(&packaging().join("evisa.service")));
    assert_eq!(
        unit.keys().collect::<Vec<_>>(),
        ["Install", "Service", "Unit"]
    );
    let one = |section: &str, key: &str| -> String {
        let v = unit[section]
            .get(key)
            .unwrap_or_else(|| panic!("[{section}] has no {key}"));
        assert_eq!(v.len(), 1, "[{section}] {key} set {} times", v.len());
        v[0].clone()
    };
    let service = |key: &str| one("Service", key);
    assert_eq!(
        service("ExecStart"),
        "/usr/bin/evisa kiosk --config /etc/evisa/kiosk.toml --log /var/lib/evisa/kiosk.log"
    );
    assert_eq!(service("User"), "evisa");
    assert_eq!(service("Group"), "evisa");
    let groups = service("SupplementaryGroups");
    let groups: Vec<&str> = groups.split_whitespace().collect();
    assert_eq!(groups, ["dialout", "video"]);
    assert_eq!(service("StandardInput"), "tty");
    assert_eq!(service("StandardOutput"), "tty");
    assert_eq!(service("TTYPath"), "/dev/tty1");
    assert_eq!(service("Restart"), "on-failure");
    for (key, value) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ReadWritePaths", "/var/lib/evisa"),
        ("StateDirectory", "evisa"),
        ("StateDirectoryMode", "0700"),
        ("PrivateTmp", "yes"),
        ("ProtectHome", "yes"),
        ("CapabilityBoundingSet", ""),
        ("UMask", "0077"),
    ] {
        assert_eq!(service(key), value, "[Service] {key}");
    }
    // Device access must stay: these would hide the serial ports and cameras.
    for hidden in [
        "PrivateDevices",
        "ProtectClock",
        "DevicePolicy",
        "DeviceAllow",
    ] {
        assert!(
            !unit["Service"].contains_key(hidden),
            "{hidden} would hide the booth's devices"
        );
    }
    assert_eq!(one("Unit", "Conflicts"), "getty@tty1.service");
    assert_eq!(one("Install", "WantedBy"), "multi-user.target");
}

#[test]
fn the_packaged_configuration_is_valid_not_training_and_names_no_key() {
    use evisa_kiosk::config::KioskConfig;
    let text = read(&packaging().join("kiosk.toml"));
    let c = KioskConfig::parse(&text, Path::new("/etc/evisa")).unwrap();
    assert!(!c.training);
    assert_eq!(c.database, Path::new("/var/lib/evisa/evisa.db"));
    // In the state directory: the only place the service may write, and a signed
    // trust update replaces the folder.
    assert_eq!(c.trust_store, Path::new("/var/lib/evisa/keys"));
    // The operator pins the ministry's root key; the package pins nothing.
    assert_eq!(c.update_root_key, None);
    assert!(
        !text.contains("TEST-ONLY"),
        "the packaged configuration names a test key"
    );
}

/// `KEY op "value"` pairs of one udev rule line.
fn udev_pairs(line: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let q = rest
            .find('"')
            .unwrap_or_else(|| panic!("no value in {rest:?}"));
        let (lhs, after) = rest.split_at(q);
        let end = after[1..]
            .find('"')
            .unwrap_or_else(|| panic!("unterminated value in {line:?}"));
        let value = after[1..1 + end].to_string();
        let lhs = lhs.trim();
        let op_at = lhs
            .find(['=', '!', '+', ':'])
            .unwrap_or_else(|| panic!("no operator in {lhs:?}"));
        let (key, op) = lhs.split_at(op_at);
        assert!(
            ["==", "!=", "=", "+=", ":="].contains(&op),
            "bad operator {op:?} in {line:?}"
        );
        assert!(!key.is_empty(), "no key in {line:?}");
        out.push((key.to_string(), op.to_string(), value));
        rest = after[2 + end..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    out
}

#[test]
fn the_udev_rules_and_their_examples_are_well_formed() {
    let text = read(&packaging().join("60-evisa.rules"));
    let mut rules = 0;
    let mut examples = Vec::new();
    for line in text.lines() {
        let body = match line.strip_prefix("# ") {
            Some(b) if b.starts_with("SUBSYSTEM==") => b,
            Some(_) => continue,
            None if line.starts_with('#') || line.trim().is_empty() => continue,
            None => {
                rules += 1;
                line
            }
        };
        let pairs = udev_pairs(body);
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _, _)| key == k)
                .map(|(_, op, v)| (op.as_str(), v.as_str()))
        };
        let group = get("GROUP").unwrap_or_else(|| panic!("no GROUP in {body}"));
        assert!(
            group == ("=", "dialout") || group == ("=", "video"),
            "{body}"
        );
        assert_eq!(get("MODE"), Some(("=", "0660")), "{body}");
        if let Some((op, name)) = get("SYMLINK") {
            assert_eq!(op, "+=", "{body}");
            examples.push(name.to_string());
        }
    }
    assert!(rules >= 1, "no active rule");
    for name in ["evisa-scanner", "evisa-mrz"] {
        assert!(
            examples.iter().any(|e| e == name),
            "no example for /dev/{name}"
        );
    }
}

#[test]
fn the_maintainer_scripts_parse_and_never_delete_the_state_directory() {
    for s in ["postinst", "prerm", "postrm"] {
        let path = packaging().join("debian").join(s);
        let out = Command::new("sh").arg("-n").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{s}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = read(&path);
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            assert!(
                !(line.contains("rm ") && line.contains("/var/lib/evisa")),
                "{s} deletes state: {line}"
            );
            assert!(
                !line.contains("deluser") && !line.contains("userdel"),
                "{s} deletes the user that owns the database: {line}"
            );
        }
    }
}

#[test]
fn the_deb_holds_the_booth_binary_and_no_ministry_tool_or_key() {
    let dpkg_deb = Command::new("dpkg-deb").arg("--version").output();
    assert!(
        dpkg_deb.is_ok_and(|o| o.status.success()),
        "this test needs dpkg-deb: apt-get install dpkg"
    );
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new(packaging().join("build-deb.sh"))
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_evisa"))
        .arg("--out")
        .arg(out_dir.path())
        .arg("--fast")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build-deb.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deb = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(deb.starts_with(out_dir.path()) && deb.is_file(), "{deb:?}");
    let dpkg = |option: &str, field: &[&str]| -> String {
        let o = Command::new("dpkg-deb")
            .arg(option)
            .arg(&deb)
            .args(field)
            .output()
            .unwrap();
        assert!(o.status.success(), "dpkg-deb {option} {field:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    // `dpkg-deb --contents` lists mode, owner, size, date, time and path.
    let files: BTreeMap<String, (String, String)> = dpkg("--contents", &[])
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[5].to_string(), (f[0].to_string(), f[1].to_string()))
        })
        .collect();
    for (path, mode) in [
        ("./usr/bin/evisa", "-rwxr-xr-x"),
        ("./lib/systemd/system/evisa.service", "-rw-r--r--"),
        ("./lib/udev/rules.d/60-evisa.rules", "-rw-r--r--"),
        ("./etc/evisa/kiosk.toml", "-rw-r-----"),
        ("./usr/share/doc/evisa/install.md", "-rw-r--r--"),
    ] {
        let (m, owner) = files
            .get(path)
            .unwrap_or_else(|| panic!("the package lacks {path}: {files:?}"));
        assert_eq!(m, mode, "{path}");
        assert_eq!(owner, "root/root", "{path}");
    }
    for path in files.keys() {
        let lower = path.to_lowercase();
        assert!(
            !lower.contains("issuer")
                && !lower.contains("test-only")
                && !lower.ends_with(".key")
                && !lower.ends_with(".pub")
                && !lower.starts_with("./var/lib/evisa"),
            "the package must not carry {path}"
        );
    }
    assert_eq!(dpkg("--field", &["Package"]).trim(), "evisa");
    assert!(dpkg("--field", &["Depends"]).contains("adduser"));
    let conffiles = {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new("dpkg-deb")
            .arg("--control")
            .arg(&deb)
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success());
        read(&dir.path().join("conffiles"))
    };
    assert_eq!(conffiles, "/etc/evisa/kiosk.toml\n");
}
