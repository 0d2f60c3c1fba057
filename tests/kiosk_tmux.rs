//! End-to-end: the real `evisa kiosk` binary inside tmux, driven with `send-keys` the
//! way a keyboard-wedge scanner types (the QR text and Enter, each MRZ line and
//! Enter) and read back with `capture-pane`. Every wait polls with a deadline; the
//! tests skip with a notice only when tmux is not installed. When the kiosk ends, the
//! shell prints its exit status and `stty -a`, so a test can see the terminal is back
//! in its normal (line-editing, echoing) mode.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmux_available() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    // A missing tool fails the test: a suite that passes by skipping proves nothing.
    assert!(
        ok,
        "tmux is not installed: the kiosk end-to-end tests need it (apt-get install -y tmux)"
    );
    ok
}

fn fixture(case: &str, file: &str) -> String {
    std::fs::read_to_string(root().join("fixtures/cases").join(case).join(file)).unwrap()
}

/// One tmux server of our own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
    /// The current session: each start gets a fresh one, so a restart never races
    /// with the server tearing down the previous session.
    session: std::cell::Cell<usize>,
}

impl Tmux {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        Tmux {
            socket: format!(
                "evisa-kiosk-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ),
            session: std::cell::Cell::new(0),
        }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `evisa ARGS` in a 100×30 window; when it ends, the shell prints its exit
    /// status and the terminal's modes and lingers, so the test can read the restored
    /// screen.
    fn start(&self, args: &[&str]) {
        let bin = env!("CARGO_BIN_EXE_evisa");
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let cmd = format!(
            "cd '{}' && '{bin}' {}; echo KIOSK-EXITED-$?; stty -a; sleep 120",
            root().display(),
            quoted.join(" ")
        );
        self.session.set(self.session.get() + 1);
        let name = self.target();
        self.tmux(&[
            "new-session",
            "-d",
            "-s",
            &name,
            "-x",
            "100",
            "-y",
            "30",
            &cmd,
        ]);
    }

    fn target(&self) -> String {
        format!("k{}", self.session.get())
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.target()])
    }

    /// Types text as a wedge device does: the characters, then Enter.
    fn scan(&self, text: &str) {
        for line in text.lines() {
            self.tmux(&["send-keys", "-t", &self.target(), "-l", line.trim_end()]);
            self.tmux(&["send-keys", "-t", &self.target(), "Enter"]);
        }
    }

    fn key(&self, key: &str) {
        self.tmux(&["send-keys", "-t", &self.target(), key]);
    }

    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", &self.target(), "-l", text]);
    }

    /// Pastes `text` in one write, as a fast device (or a paste) delivers it; line
    /// feeds arrive as CR, like Enter.
    fn paste(&self, text: &str) {
        self.tmux(&["set-buffer", "-b", "scan", text]);
        self.tmux(&["paste-buffer", "-d", "-b", "scan", "-t", &self.target()]);
    }

    /// F10, then the confirmation.
    fn leave(&self) {
        self.key("F10");
        self.wait_for("Leave the kiosk?");
        self.key("y");
    }

    /// Polls the screen until `pred` holds; fails with the last screen on time-out.
    fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > WAIT {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait(needle, |s| s.contains(needle))
    }

    /// Waits for the kiosk to end with status 0 and for the shell's `stty -a` line
    /// with the local modes (`echok` is on it whether raw mode is on or off).
    fn wait_exit(&self) -> String {
        self.wait("the kiosk to exit (status 0) and stty", |s| {
            s.contains("KIOSK-EXITED-0") && s.contains("echok")
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // tmux leaves its socket file behind; remove it too.
        let socket = self.tmux(&["display-message", "-p", "#{socket_path}"]);
        self.tmux(&["kill-server"]);
        let socket = socket.trim();
        if !socket.is_empty() {
            let _ = std::fs::remove_file(socket);
        }
    }
}

fn add_officer(db: &Path, id: &str, role: &str, pin: &str) {
    use std::io::Write as _;
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

fn sign_in(t: &Tmux, id: &str, pin: &str) {
    t.wait_for("Officer sign-in");
    t.type_text(id);
    t.key("Tab");
    t.type_text(pin);
    t.key("Enter");
}

#[test]
fn booth_workflow_end_to_end() {
    if !tmux_available() {
        return;
    }
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

    let t = Tmux::new();
    t.start(&args);
    // A wrong PIN is refused and counted.
    sign_in(&t, "O1", "9999");
    t.wait_for("Attempts left before lock-out: 4");
    // Esc clears the form. (Wait for it: ESC and the next letters arriving together
    // would read as an escape sequence, as on any terminal.)
    t.key("Escape");
    t.wait("the form to clear", |s| !s.contains("Attempts left"));
    sign_in(&t, "O1", "1234");
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
    let s = t.wait_exit();
    assert!(!s.contains("Scanner input"), "screen not restored:\n{s}");
    assert_normal_mode(&s);

    // Restart: the shift history is still there.
    t.start(&args);
    sign_in(&t, "O1", "1234");
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
    if !tmux_available() {
        return;
    }
    let t = Tmux::new();
    t.start(&["kiosk", "--demo", "--date", "2026-11-25"]);
    t.wait_for("Officer demo (supervisor)");
    // A half-finished pair is cleared with Esc.
    t.scan(&fixture("accept_tourist", "qr.txt"));
    t.wait_for("[✔] E-visa QR");
    t.key("Escape");
    t.wait_for("[ ] E-visa QR");
    // Signing out and back in with the training account.
    t.key("F9");
    t.wait_for("Training: officer ID demo, PIN 0000");
    sign_in(&t, "demo", "0000");
    t.wait_for("Officer demo (supervisor)");
    // SIGTERM, then SIGHUP: the kiosk leaves the screen as it found it, in normal mode.
    signal_kiosk(&t, "-TERM");
    let s = t.wait_exit();
    assert!(!s.contains("Scanner input"), "screen not restored:\n{s}");
    assert_normal_mode(&s);
    t.start(&["kiosk", "--demo", "--date", "2026-11-25"]);
    t.wait_for("Officer demo (supervisor)");
    signal_kiosk(&t, "-HUP");
    let s = t.wait_exit();
    assert_normal_mode(&s);
}

/// Sends a signal to the kiosk process (the pane shell's child).
fn signal_kiosk(t: &Tmux, signal: &str) {
    let pid = t.tmux(&["list-panes", "-t", &t.target(), "-F", "#{pane_pid}"]);
    let shell: u32 = pid.trim().parse().unwrap();
    let kids = Command::new("pgrep")
        .args(["-P", &shell.to_string()])
        .output()
        .unwrap();
    let kiosk = String::from_utf8_lossy(&kids.stdout)
        .lines()
        .next()
        .map(str::to_string)
        .expect("the kiosk process");
    Command::new("kill")
        .args([signal, &kiosk])
        .status()
        .unwrap();
}

/// The shell after the kiosk: `stty -a` shows line editing and echo back on.
fn assert_normal_mode(screen: &str) {
    let stty = screen.split("KIOSK-EXITED-").nth(1).expect("the exit line");
    assert!(
        stty.contains(" icanon") && !stty.contains("-icanon"),
        "terminal left without line editing:\n{screen}"
    );
    assert!(
        stty.contains(" echo ") && !stty.contains("-echo "),
        "terminal left without echo:\n{screen}"
    );
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
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let far = far_future_qr(dir.path());
    let t = Tmux::new();
    t.start(&["kiosk", "--demo", "--date", "2026-11-25"]);
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
    let s = t.wait_exit();
    assert!(!s.contains("Scanner input"), "screen not restored:\n{s}");
    assert_normal_mode(&s);
}

/// Bug: pasting 2 KB or more at once stalled the keyboard until another key arrived
/// (the terminal's input was only partly read). A 4 KB line, then a traveller's QR
/// and MRZ, all in one paste: the verdict follows with no further key.
#[test]
fn a_4_kb_paste_is_read_to_the_end_without_waiting_for_another_key() {
    if !tmux_available() {
        return;
    }
    let t = Tmux::new();
    t.start(&["kiosk", "--demo", "--date", "2026-11-25"]);
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
