//! End-to-end: the real `evisa kiosk` binary on a pseudo-terminal the test opens
//! (the kiosk's controlling terminal, as on a booth console), typed at the way a
//! keyboard-wedge scanner types (the QR text and Enter, each MRZ line and Enter) and
//! read back through a terminal-screen parser (`vt100`). Nothing to install: the pty
//! and the screen are Rust crates. Every wait polls with a deadline; nothing asserts
//! on timings. When the kiosk ends, the test reads the terminal's modes from the pty,
//! so it can see the terminal is back in its normal (line-editing, echoing) mode.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);
const ROWS: u16 = 30;
const COLS: u16 = 100;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(case: &str, file: &str) -> String {
    std::fs::read_to_string(root().join("fixtures/cases").join(case).join(file)).unwrap()
}

/// The bytes a terminal sends for a named key (xterm), as tmux's `send-keys` names them.
fn key_bytes(key: &str) -> &'static [u8] {
    match key {
        "Enter" => b"\r",
        "Tab" => b"\t",
        "Escape" => b"\x1b",
        "F1" => b"\x1bOP",
        "F2" => b"\x1bOQ",
        "F5" => b"\x1b[15~",
        "F7" => b"\x1b[18~",
        "F9" => b"\x1b[20~",
        "F10" => b"\x1b[21~",
        "y" => b"y",
        "C-c" => b"\x03",
        "C-d" => b"\x04",
        "C-q" => b"\x11",
        "C-z" => b"\x1a",
        "C-\\" => b"\x1c",
        other => panic!("no bytes for key {other:?}"),
    }
}

/// One run of the kiosk on its own pseudo-terminal; killed (if still running) when
/// dropped.
struct Pty {
    pty: pty_process::blocking::Pty,
    screen: vt100::Parser,
    child: Child,
    status: Option<ExitStatus>,
}

impl Pty {
    /// Starts `evisa ARGS` from the repository root on a 100×30 terminal.
    fn start(args: &[&str]) -> Self {
        let (pty, pts) = pty_process::blocking::open().expect("open a pseudo-terminal");
        pty.resize(pty_process::Size::new(ROWS, COLS))
            .expect("set the terminal size");
        // Reads never block: the test drains the screen while it waits or types.
        let flags = rustix::fs::fcntl_getfl(&pty).unwrap();
        rustix::fs::fcntl_setfl(&pty, flags | rustix::fs::OFlags::NONBLOCK).unwrap();
        let child = pty_process::blocking::Command::new(env!("CARGO_BIN_EXE_evisa"))
            .args(args)
            .current_dir(root())
            .env("TERM", "xterm-256color")
            .spawn(pts)
            .expect("start the kiosk on the pty");
        Pty {
            pty,
            screen: vt100::Parser::new(ROWS.try_into().unwrap(), COLS.try_into().unwrap(), 0),
            child,
            status: None,
        }
    }

    /// Feeds everything the kiosk has written so far to the screen parser.
    fn drain(&mut self) {
        let mut buf = [0u8; 16384];
        loop {
            match rustix::io::read(&self.pty, &mut buf) {
                Ok(0) => return,
                Ok(n) => self.screen.process(&buf[..n]),
                // EAGAIN: nothing more now; EIO: the kiosk closed the terminal.
                Err(_) => return,
            }
        }
    }

    fn screen(&mut self) -> String {
        self.drain();
        self.screen.screen().contents()
    }

    /// Writes all of `bytes`, draining the screen whenever the terminal's input is
    /// full (the kiosk may be busy drawing).
    fn send(&mut self, mut bytes: &[u8]) {
        let start = Instant::now();
        while !bytes.is_empty() {
            match (&self.pty).write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.drain();
                    assert!(
                        start.elapsed() < WAIT,
                        "the kiosk stopped reading its input"
                    );
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("writing to the kiosk's terminal: {e}"),
            }
        }
    }

    /// Types text as a wedge device does: each line's characters, then Enter.
    fn scan(&mut self, text: &str) {
        for line in text.lines() {
            self.send(line.trim_end().as_bytes());
            self.key("Enter");
        }
    }

    fn key(&mut self, key: &str) {
        self.send(key_bytes(key));
    }

    fn type_text(&mut self, text: &str) {
        self.send(text.as_bytes());
    }

    /// Pastes `text` in one write, as a fast device (or a terminal paste) delivers
    /// it; line feeds arrive as CR, like Enter.
    fn paste(&mut self, text: &str) {
        self.send(text.replace('\n', "\r").as_bytes());
    }

    /// F10, then the confirmation.
    fn leave(&mut self) {
        self.key("F10");
        self.wait_for("Leave the kiosk?");
        self.key("y");
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("wait for the kiosk");
        }
        self.status
    }

    /// Polls the screen until `pred` holds; fails with the last screen on time-out or
    /// when the kiosk ended.
    fn wait(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if let Some(st) = self.exited() {
                let s = self.screen();
                if pred(&s) {
                    return s;
                }
                panic!("the kiosk ended ({st}) while waiting for {what}; screen:\n{s}");
            }
            if start.elapsed() > WAIT {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for(&mut self, needle: &str) -> String {
        self.wait(needle, |s| s.contains(needle))
    }

    /// Waits for the kiosk to end with status 0; returns the screen left behind.
    fn wait_exit(&mut self) -> String {
        let start = Instant::now();
        let status = loop {
            if let Some(st) = self.exited() {
                break st;
            }
            if start.elapsed() > WAIT {
                panic!(
                    "timed out waiting for the kiosk to exit; screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let s = self.screen();
        assert!(
            status.success(),
            "the kiosk ended with {status}; screen:\n{s}"
        );
        s
    }

    /// After the kiosk ended: the main screen is back and the terminal is in its
    /// normal mode, line editing and echo on (the pty's modes, read from its master:
    /// on Linux they are the terminal side's).
    fn assert_restored(&mut self) {
        let s = self.screen();
        assert!(
            !self.screen.screen().alternate_screen() && !s.contains("Scanner input"),
            "screen not restored:\n{s}"
        );
        let t = rustix::termios::tcgetattr(&self.pty).expect("read the terminal modes");
        use rustix::termios::LocalModes;
        assert!(
            t.local_modes.contains(LocalModes::ICANON),
            "terminal left without line editing: {:?}",
            t.local_modes
        );
        assert!(
            t.local_modes.contains(LocalModes::ECHO),
            "terminal left without echo: {:?}",
            t.local_modes
        );
    }

    /// While the kiosk runs, its terminal is raw: proves [`Pty::assert_restored`] reads
    /// the kiosk's own terminal modes.
    fn assert_raw(&self) {
        use rustix::termios::LocalModes;
        let t = rustix::termios::tcgetattr(&self.pty).expect("read the terminal modes");
        assert!(
            !t.local_modes.contains(LocalModes::ICANON)
                && !t.local_modes.contains(LocalModes::ECHO),
            "the running kiosk's terminal is not raw: {:?}",
            t.local_modes
        );
    }

    /// Sends a signal to the kiosk process.
    fn signal(&self, sig: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, sig).expect("signal the kiosk");
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn add_officer(db: &Path, id: &str, role: &str, pin: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .args(["officer", "add", id, "--role", role, "--pin-stdin", "--db"])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{pin}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "officer add failed");
}

fn sign_in(t: &mut Pty, id: &str, pin: &str) {
    t.wait_for("Officer sign-in");
    t.type_text(id);
    t.key("Tab");
    t.type_text(pin);
    t.key("Enter");
}

#[test]
fn booth_workflow_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("booth.db");
    add_officer(&db, "O1", "officer", "1234");
    let db_arg = db.to_str().unwrap();
    // The fixtures are signed with TEST-ONLY keys: a training terminal (spec §5).
    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(
        &cfg,
        format!("trust_store = {:?}\ntraining = true\n", root().join("keys")),
    )
    .unwrap();
    let cfg_arg = cfg.to_str().unwrap();
    let args = [
        "kiosk",
        "--config",
        cfg_arg,
        "--db",
        db_arg,
        "--date",
        "2026-11-25",
    ];

    let mut t = Pty::start(&args);
    // A wrong PIN is refused and counted.
    sign_in(&mut t, "O1", "9999");
    t.wait_for("Attempts left before lock-out: 4");
    // Esc clears the form. (Wait for it: ESC and the next letters arriving together
    // would read as an escape sequence, as on any terminal.)
    t.key("Escape");
    t.wait("the form to clear", |s| !s.contains("Attempts left"));
    sign_in(&mut t, "O1", "1234");
    t.wait_for("Officer O1 (officer)");

    // Something that is not an e-visa: said so, no verdict.
    t.scan("https://example.org/boarding-pass");
    let s = t.wait_for("This is not an e-visa");
    assert!(!s.contains("ACCEPT") && !s.contains("REJECT"), "{s}");

    // QR, then the two MRZ lines: ACCEPT, waiting for the checklist.
    let qr = fixture("accept_tourist", "qr.txt");
    t.scan(&qr);
    t.wait_for("[✔] E-visa QR");
    t.scan(&fixture("accept_tourist", "mrz.txt"));
    // capture-pane may catch a frame half drawn: wait for everything at once.
    t.wait("ACCEPT with its checklist", |s| {
        s.contains("✔ ACCEPT") && s.contains("F5 all confirmed") && s.contains("ERIKSSON")
    });
    t.key("F5");
    t.wait_for("Entry recorded for visa EV26KZ0012345");
    t.wait("the entry in the history", |s| {
        s.contains("EV26KZ0012345  ✔ entry recorded")
    });

    // The same visa again, MRZ first this time: no entries left.
    t.scan(&fixture("accept_tourist", "mrz.txt"));
    t.scan(&qr);
    let s = t.wait("REJECT, no entries left", |s| {
        s.contains("ENTRIES_EXHAUSTED") && s.contains("✘ REJECT")
    });
    assert!(!s.contains("✔ ACCEPT"), "{s}");

    // A replaced passport.
    t.scan(&qr);
    t.scan(&fixture("document_mismatch", "mrz.txt"));
    t.wait("the mismatch verdict", |s| {
        s.contains("DOCUMENT_MISMATCH") && s.contains("X9876543") && s.contains("✘ REJECT")
    });

    // Quit: the terminal is restored and the program ends normally.
    t.leave();
    t.wait_exit();
    t.assert_restored();

    // Restart: the shift history is still there.
    let mut t = Pty::start(&args);
    sign_in(&mut t, "O1", "1234");
    t.wait("history after restart", |s| {
        s.contains("EV26KZ0012345  ✔ entry recorded")
            && s.contains("DOCUMENT_MISMATCH")
            && s.contains("Officer O1")
    });
    // Leaving with an ACCEPT whose checklist is open: recorded as abandoned.
    t.scan(&fixture("accept_business", "qr.txt"));
    t.scan(&fixture("accept_business", "mrz.txt"));
    t.wait("the second ACCEPT", |s| {
        s.contains("✔ ACCEPT") && s.contains("F5 all confirmed")
    });
    t.key("F10");
    t.wait_for("not settled");
    t.key("y");
    t.wait_exit();
    // Every officer action is in the audit log, with the officer who made it.
    let mut store = evisa_store::store::Store::open(&db).unwrap();
    let conn = store.connection();
    let mut stmt = conn
        .prepare("SELECT kind, officer FROM audit ORDER BY seq")
        .unwrap();
    let rows: Vec<(String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "settings_change", // officer add
            "pin_failed",
            "sign_in",
            "verdict",
            "checklist_confirm",
            "crossing",
            "verdict",
            "verdict",
            "sign_out",
            "sign_in",
            "verdict",
            "abandoned",
            "sign_out",
        ]
    );
    assert!(
        rows[1..].iter().all(|(_, o)| o.as_deref() == Some("O1")),
        "{rows:?}"
    );
}

#[test]
fn demo_mode_and_clean_exit_on_sigterm() {
    let mut t = Pty::start(&["kiosk", "--demo", "--date", "2026-11-25"]);
    t.wait_for("Officer demo (supervisor)");
    t.assert_raw();
    // A half-finished pair is cleared with Esc.
    t.scan(&fixture("accept_tourist", "qr.txt"));
    t.wait_for("[✔] E-visa QR");
    t.key("Escape");
    t.wait_for("[ ] E-visa QR");
    // Signing out and back in with the training account.
    t.key("F9");
    t.wait_for("Training: officer ID demo, PIN 0000");
    sign_in(&mut t, "demo", "0000");
    t.wait_for("Officer demo (supervisor)");
    // SIGTERM, then SIGHUP: the kiosk leaves the screen as it found it, in normal mode.
    t.signal(rustix::process::Signal::TERM);
    t.wait_exit();
    t.assert_restored();
    let mut t = Pty::start(&["kiosk", "--demo", "--date", "2026-11-25"]);
    t.wait_for("Officer demo (supervisor)");
    t.signal(rustix::process::Signal::HUP);
    t.wait_exit();
    t.assert_restored();
}

/// A far-future visa: `valid_until` 9999-12-31, signed with the test issuer key by the
/// real binary (the date arithmetic once panicked on it and killed the kiosk's worker).
fn far_future_qr(dir: &Path) -> String {
    let toml = std::fs::read_to_string(root().join("fixtures/visas/eriksson.toml")).unwrap();
    let far = toml.replace(
        "valid_until = \"2027-01-29\"",
        "valid_until = \"9999-12-31\"",
    );
    assert_ne!(far, toml, "fixture field names changed");
    let visa = dir.join("far-future.toml");
    std::fs::write(&visa, far).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_evisa-issuer"))
        .current_dir(root())
        .args([
            "issue",
            "--key",
            "keys/test-only-secret/TEST-ONLY-issuer-2026.key",
            "--visa",
        ])
        .arg(&visa)
        .output()
        .unwrap();
    assert!(out.status.success(), "issue failed: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Bug: a payload valid until 9999 panicked in the decision, the worker died, the
/// screen stayed on "Checking…" and the terminal was left raw. Bug: byte 0x03 (Ctrl+C,
/// and the ETX marker scanners type) quit the kiosk and lost an open ACCEPT.
#[test]
fn far_future_visa_and_scanner_control_bytes_never_take_the_kiosk_down() {
    let dir = tempfile::tempdir().unwrap();
    let far = far_future_qr(dir.path());
    let mut t = Pty::start(&["kiosk", "--demo", "--date", "2026-11-25"]);
    t.wait_for("Officer demo (supervisor)");

    t.scan(&far);
    t.scan(&fixture("accept_tourist", "mrz.txt"));
    // The impossible date is a REJECT with its reason, never a hang or a crash.
    let s = t.wait("REJECT MALFORMED_PAYLOAD for the far-future visa", |s| {
        s.contains("✘ REJECT") && s.contains("MALFORMED_PAYLOAD")
    });
    assert!(!s.contains("✔ ACCEPT"), "{s}");
    assert!(!s.contains("KIOSK-EXITED"), "{s}");

    // The next traveller is served.
    t.scan(&fixture("accept_tourist", "qr.txt"));
    t.scan(&fixture("accept_tourist", "mrz.txt"));
    t.wait("the next traveller's ACCEPT", |s| {
        s.contains("✔ ACCEPT") && s.contains("F5 all confirmed")
    });

    // With the checklist open: Ctrl+C, Ctrl+Q, Ctrl+D, Ctrl+Z from the keyboard, and a
    // scanned line carrying raw 0x03 (ETX) and 0x04 bytes.
    for k in ["C-c", "C-q", "C-d", "C-z", "C-\\"] {
        t.key(k);
    }
    t.paste("KZV1:\u{3}ETX\u{4}\n");
    let s = t.wait_for("Scan kept");
    assert!(
        s.contains("✔ ACCEPT") && s.contains("F5 all confirmed") && !s.contains("KIOSK-EXITED"),
        "{s}"
    );

    // F10 asks; Esc stays; F10 and Y leave, with the terminal back in normal mode.
    t.key("F10");
    t.wait_for("Leave the kiosk?");
    t.key("Escape");
    t.wait("the question to close", |s| !s.contains("Leave the kiosk?"));
    t.leave();
    t.wait_exit();
    t.assert_restored();
}

/// Bug: pasting 2 KB or more at once stalled the keyboard until another key arrived
/// (the terminal's input was only partly read). A 4 KB line, then a traveller's QR
/// and MRZ, all in one paste: the verdict follows with no further key.
#[test]
fn a_4_kb_paste_is_read_to_the_end_without_waiting_for_another_key() {
    let mut t = Pty::start(&["kiosk", "--demo", "--date", "2026-11-25"]);
    t.wait_for("Officer demo (supervisor)");
    let text = format!(
        "{}\n{}\n{}\n",
        "A".repeat(4096),
        fixture("accept_tourist", "qr.txt").trim(),
        fixture("accept_tourist", "mrz.txt").trim()
    );
    t.paste(&text);
    t.wait("the ACCEPT from the end of the paste", |s| {
        s.contains("✔ ACCEPT") && s.contains("F5 all confirmed")
    });
    t.leave();
    t.wait_exit();
}

/// Today in Kazakhstan (UTC+5): the date an update applied now is recorded with.
fn kazakhstan_today() -> String {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+5))
        .date()
        .to_string()
}

/// Issue 12's live update: the kiosk is serving; a signed trust update adding a new
/// signer is imported from a shell with `evisa update import`; the next traveller
/// is decided with the new keys and the status bar shows the update, with no
/// restart. Before the import the same visa is a REJECT for its unknown signer.
#[test]
fn an_update_imported_while_the_kiosk_serves_decides_the_next_traveller_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    // The booth's own trust folder (the import swaps it): the sample store and the
    // pinned test root, as `evisa-issuer fixtures` wrote them.
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    for f in [
        "TEST-ONLY-issuer-2026.toml",
        "TEST-ONLY-revoked-2025.toml",
        "TEST-ONLY-update-root.pub",
    ] {
        std::fs::copy(root().join("keys").join(f), keys.join(f)).unwrap();
    }
    let db = dir.path().join("booth.db");
    add_officer(&db, "O1", "officer", "1234");
    // A training terminal with a database file: the fixtures and the sample update
    // are signed with TEST-ONLY keys (spec §5).
    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(
        &cfg,
        format!(
            "database = {db:?}\ntrust_store = {keys:?}\nupdate_root_key = {:?}\ntraining = true\n",
            keys.join("TEST-ONLY-update-root.pub")
        ),
    )
    .unwrap();
    let cfg_arg = cfg.to_str().unwrap();
    let mut t = Pty::start(&["kiosk", "--config", cfg_arg, "--date", "2026-11-25"]);
    sign_in(&mut t, "O1", "1234");
    t.wait("the sample trust store on the status bar", |s| {
        s.contains("Officer O1") && s.contains("Trust store: 2 keys, last update none")
    });

    // A visa from a signer the booth does not know yet.
    let (qr, mrz) = (
        fixture("unknown_key", "qr.txt"),
        fixture("unknown_key", "mrz.txt"),
    );
    t.scan(&qr);
    t.scan(&mrz);
    let s = t.wait("REJECT UNKNOWN_KEY", |s| {
        s.contains("✘ REJECT") && s.contains("UNKNOWN_KEY")
    });
    assert!(!s.contains("✔ ACCEPT"), "{s}");

    // The ministry's update arrives on removable media and is imported from a shell
    // while the kiosk keeps running.
    let before = kazakhstan_today();
    let out = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .args(["update", "import"])
        .arg(root().join("fixtures/updates/trust-2.evu"))
        .args(["--config", cfg_arg])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "update import failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let after = kazakhstan_today();
    let s = t.wait("the new trust store and its date on the status bar", |s| {
        s.contains(&format!("Trust store: 3 keys, last update {before}"))
            || s.contains(&format!("Trust store: 3 keys, last update {after}"))
    });
    assert!(!s.contains("not loaded"), "{s}");

    // The next traveller, the same visa: decided with the new signer's key.
    t.scan(&qr);
    t.scan(&mrz);
    let s = t.wait("ACCEPT with the new key", |s| {
        s.contains("✔ ACCEPT") && s.contains("F5 all confirmed")
    });
    // The earlier REJECT stays in the shift history below the new verdict.
    assert!(s.contains("✘ REJECT UNKNOWN_KEY"), "{s}");
    assert!(t.exited().is_none(), "the kiosk restarted");
    t.key("F5");
    t.wait_for("Entry recorded for visa EV26KZ0012345");
    t.leave();
    t.wait_exit();
    t.assert_restored();

    // One kiosk run, in order: the REJECT, the import, the ACCEPT and its crossing.
    let mut store = evisa_store::store::Store::open(&db).unwrap();
    let conn = store.connection();
    let mut stmt = conn
        .prepare("SELECT kind, details FROM audit ORDER BY seq")
        .unwrap();
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "settings_change",
            "sign_in",
            "verdict",
            "update_import",
            "verdict",
            "checklist_confirm",
            "crossing",
            "sign_out",
        ]
    );
    assert!(rows[2].1.contains("UNKNOWN_KEY"), "{}", rows[2].1);
    assert!(rows[4].1.contains("ACCEPT"), "{}", rows[4].1);
}

/// Issue 12 item 3 through the fleet: a trust update published on the fleet's server
/// reaches a running kiosk with its sync thread, verified against the booth's pinned
/// root, and decides the next traveller without a restart.
#[test]
fn a_trust_update_published_on_the_fleet_decides_the_next_traveller_without_a_restart() {
    let s = crate::fleet::server();
    let (b, _keys) = crate::fleet_updates::updating_booth(&s, "nqz-1", "NQZ");
    add_officer(&b.db, "O1", "officer", "1234");
    let cfg_arg = b.config.to_str().unwrap();
    let mut t = Pty::start(&["kiosk", "--config", cfg_arg, "--date", "2026-11-25"]);
    sign_in(&mut t, "O1", "1234");
    t.wait("the sample trust store and the fleet online", |s| {
        s.contains("Officer O1") && s.contains("Trust store: 2 keys") && s.contains("fleet online")
    });
    let (qr, mrz) = (
        fixture("unknown_key", "qr.txt"),
        fixture("unknown_key", "mrz.txt"),
    );
    t.scan(&qr);
    t.scan(&mrz);
    let s1 = t.wait("REJECT UNKNOWN_KEY", |s| {
        s.contains("✘ REJECT") && s.contains("UNKNOWN_KEY")
    });
    assert!(!s1.contains("✔ ACCEPT"), "{s1}");

    let o = crate::fleet_updates::publish(&s, &crate::fleet_updates::update("trust-2.evu"));
    assert!(o.status.success(), "{}", crate::fleet::text(&o));
    let s2 = t.wait("the fleet's update in the running kiosk", |s| {
        s.contains("Trust store: 3 keys")
    });
    assert!(!s2.contains("not loaded"), "{s2}");
    t.scan(&qr);
    t.scan(&mrz);
    t.wait("ACCEPT with the key the fleet delivered", |s| {
        s.contains("✔ ACCEPT") && s.contains("F5 all confirmed")
    });
    assert!(t.exited().is_none(), "the kiosk restarted");
    t.leave();
    t.wait_exit();
    t.assert_restored();
    let store = evisa_store::store::Store::open_read_only(&b.db).unwrap();
    let last = store
        .last_update_of(evisa_core::update::Kind::Trust)
        .unwrap()
        .expect("the fleet's trust update recorded");
    assert_eq!(last.seq, 2);
}

/// A trust folder that changes under the running kiosk into one that does not load
/// (here a key file that is not one, with a new update marker): the kiosk keeps
/// deciding with the store it has and says so on the status bar; once the folder
/// loads again, the warning goes.
#[test]
fn a_trust_folder_that_no_longer_loads_keeps_the_running_store_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    for f in ["TEST-ONLY-issuer-2026.toml", "TEST-ONLY-revoked-2025.toml"] {
        std::fs::copy(root().join("keys").join(f), keys.join(f)).unwrap();
    }
    let keys_arg = keys.to_str().unwrap();
    let mut t = Pty::start(&[
        "kiosk",
        "--demo",
        "--keys",
        keys_arg,
        "--date",
        "2026-11-25",
    ]);
    t.wait_for("Trust store: 2 keys");

    std::fs::write(keys.join("broken.toml"), "not a key file").unwrap();
    std::fs::write(keys.join(".evisa-update"), "changed").unwrap();
    t.wait("the failed reload on the status bar", |s| {
        s.contains("Trust store: 2 keys") && s.contains("⚠ new trust store not loaded")
    });
    // The next traveller is decided with the store in use.
    t.scan(&fixture("accept_tourist", "qr.txt"));
    t.scan(&fixture("accept_tourist", "mrz.txt"));
    t.wait("an ACCEPT with the previous store", |s| {
        s.contains("✔ ACCEPT") && s.contains("F5 all confirmed")
    });

    std::fs::remove_file(keys.join("broken.toml")).unwrap();
    t.wait("the warning to go once the folder loads", |s| {
        s.contains("Trust store: 2 keys") && !s.contains("not loaded")
    });
    t.key("F10");
    t.wait_for("not settled");
    t.key("y");
    t.wait_exit();
    t.assert_restored();
}

/// Issue 12: an officer who locked themselves out with wrong PINs is unlocked at the
/// booth by a supervisor with the supervisor's own PIN (F7 on the sign-in screen), and
/// signs in; a wrong supervisor PIN unlocks nothing. Every step is in the audit log,
/// under the officer who made it.
#[test]
fn a_supervisor_unlocks_a_locked_out_officer_at_the_kiosk_and_it_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("booth.db");
    add_officer(&db, "O1", "officer", "1234");
    add_officer(&db, "S1", "supervisor", "5678");
    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(
        &cfg,
        format!(
            "database = {db:?}\ntrust_store = {:?}\ntraining = true\n",
            root().join("keys")
        ),
    )
    .unwrap();
    let mut t = Pty::start(&[
        "kiosk",
        "--config",
        cfg.to_str().unwrap(),
        "--date",
        "2026-11-25",
    ]);
    // Five wrong PINs: the account locks. The PIN field keeps the focus after each.
    sign_in(&mut t, "O1", "0000");
    for left in [4, 3, 2, 1] {
        t.wait_for(&format!("Attempts left before lock-out: {left}"));
        t.type_text("0000");
        t.key("Enter");
    }
    t.wait_for("this account is now locked");
    // The right PIN no longer opens it.
    t.type_text("1234");
    t.key("Enter");
    t.wait_for("This account is locked after 5 wrong PINs");

    // F7 with the locked officer's ID in the form: the supervisor form opens.
    t.key("F7");
    t.wait("the supervisor form", |s| {
        s.contains("Supervisor unlock") && s.contains("Unlock officer O1")
    });
    // A wrong supervisor PIN unlocks nothing.
    t.type_text("S1");
    t.key("Tab");
    t.type_text("1111");
    t.key("Enter");
    t.wait_for("Wrong supervisor ID or PIN. Nothing unlocked.");
    // Again, with the locked officer's ID first, and the supervisor's right PIN.
    t.type_text("O1");
    t.key("F7");
    t.wait_for("Unlock officer O1");
    t.type_text("S1");
    t.key("Tab");
    t.type_text("5678");
    t.key("Enter");
    t.wait_for("Officer O1 unlocked by supervisor S1: sign in now.");
    // The form holds the officer's ID, ready for the PIN.
    t.type_text("1234");
    t.key("Enter");
    t.wait_for("Officer O1 (officer)");
    t.leave();
    t.wait_exit();
    t.assert_restored();

    let mut store = evisa_store::store::Store::open(&db).unwrap();
    let conn = store.connection();
    let mut stmt = conn
        .prepare("SELECT kind, officer, details FROM audit ORDER BY seq")
        .unwrap();
    let rows: Vec<(String, Option<String>, serde_json::Value)> = stmt
        .query_map([], |r| {
            let d: String = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?, serde_json::from_str(&d).unwrap()))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    drop(stmt);
    let seen: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|(k, o, _)| (k.as_str(), o.as_deref()))
        .collect();
    assert_eq!(
        seen[2..],
        [
            ("pin_failed", Some("O1")),
            ("pin_failed", Some("O1")),
            ("pin_failed", Some("O1")),
            ("pin_failed", Some("O1")),
            ("pin_failed", Some("O1")),
            ("account_locked", Some("O1")),
            ("pin_failed", Some("O1")),
            ("pin_failed", Some("S1")),
            ("settings_change", Some("S1")),
            ("sign_in", Some("O1")),
            ("sign_out", Some("O1")),
        ],
        "{rows:#?}"
    );
    let details: Vec<&serde_json::Value> = rows.iter().map(|(_, _, d)| d).collect();
    assert_eq!(details[6]["remaining"], 0, "{rows:#?}");
    assert_eq!(details[8]["locked"], true, "{rows:#?}");
    assert_eq!(
        *details[9],
        serde_json::json!({"unlock": "O1", "refused": "wrong supervisor PIN"})
    );
    assert_eq!(*details[10], serde_json::json!({"unlock": "O1"}));
    // The chain the rows are in still verifies.
    assert!(matches!(
        evisa_store::audit::verify(&store).unwrap(),
        evisa_store::audit::Verification::Intact { .. }
    ));
}

/// The English sentences of the kiosk's catalogue (each literal stretch between its
/// placeholders long enough to be words, not a name or a code): none may show on a
/// screen in another language.
fn english_sentences(other: &str) -> Vec<String> {
    use evisa_kiosk::i18n::parse_catalogue;
    let read = |l: &str| {
        parse_catalogue(
            &std::fs::read_to_string(root().join(format!("crates/kiosk/i18n/{l}.toml"))).unwrap(),
        )
        .unwrap()
    };
    let (en, other) = (read("en"), read(other));
    en.iter()
        .filter(|(k, v)| other.get(*k) != Some(*v))
        .flat_map(|(_, v)| {
            // Text outside `{…}`: even positions of a split on both braces.
            v.split(['{', '}'])
                .step_by(2)
                .map(|p| p.trim_matches(|c: char| c.is_whitespace() || c == ':' || c == ';'))
                .filter(|p| p.chars().count() >= 8 && p.contains(' '))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Issue 12: a kiosk configured for Russian shows a REJECT with every sentence in
/// Russian (the reason's detail too), then in Kazakh after F2; the stable code stays.
#[test]
fn a_reject_in_russian_and_kazakh_shows_no_english_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(
        &cfg,
        format!(
            "trust_store = {:?}\ntraining = true\nlanguage = \"ru\"\n",
            root().join("keys")
        ),
    )
    .unwrap();
    let mut t = Pty::start(&[
        "kiosk",
        "--config",
        cfg.to_str().unwrap(),
        "--demo",
        "--date",
        "2026-11-25",
    ]);
    t.wait_for("Отсканируйте QR-код электронной визы");
    t.scan(&fixture("holder_mismatch", "qr.txt"));
    t.scan(&fixture("holder_mismatch", "mrz.txt"));
    let s = t.wait("the REJECT in Russian", |s| {
        s.contains("HOLDER_MISMATCH") && s.contains("✘ ОТКАЗ")
    });
    assert!(
        s.contains("Дата рождения в визе:"),
        "the reason's detail:\n{s}"
    );
    let english = english_sentences("ru");
    assert!(english.len() > 100, "too few sentences: {english:?}");
    for e in &english {
        assert!(
            !s.contains(e.as_str()),
            "English {e:?} on the Russian screen:\n{s}"
        );
    }
    t.key("F2");
    let s = t.wait("the REJECT in Kazakh", |s| {
        s.contains("HOLDER_MISMATCH") && s.contains("✘ БАС ТАРТУ")
    });
    for e in &english_sentences("kk") {
        assert!(
            !s.contains(e.as_str()),
            "English {e:?} on the Kazakh screen:\n{s}"
        );
    }
    t.key("F10");
    t.wait_for("Бағдарламаны жабу керек пе?");
    t.key("y");
    t.wait_exit();
    t.assert_restored();
}
