//! Crash test: a child process (this test binary, re-executed) records crossings with
//! their audit rows in a loop and prints each visa number after its commit returns; the
//! parent kills it with SIGKILL at a random moment, 50 times. After every kill, each
//! decision the child reported as recorded is in the database, the database opens, and
//! the audit chain verifies.

use evisa_store::audit::AuditKind;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use evisa_core::rules::{Direction, Movement};
use evisa_store::audit::{self, Verification};
use evisa_store::store::{AuditEvent, NewMovement, Store};
use time::macros::date;

const CHILD_ENV: &str = "EVISA_CRASH_CHILD_DB";
const ROUNDS: usize = 50;

/// The child's body; a no-op unless re-executed by the parent.
#[test]
fn crash_child() {
    let Ok(db) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut s = Store::open(Path::new(&db)).expect("open");
    let pid = std::process::id();
    let mut out = std::io::stdout().lock();
    let m = Movement {
        direction: Direction::Entry,
        date: date!(2026 - 11 - 25),
        checkpoint: "NQZ".into(),
    };
    for i in 0u64.. {
        let visa = format!("EV{pid}-{i}");
        let details = serde_json::json!({
            "verdict": "ACCEPT", "codes": [], "visa": visa, "checkpoint": "NQZ",
            "date": "2026-11-25", "direction": "entry",
        });
        let at = "2026-11-25T10:00:00+05:00";
        s.record_crossing(
            &NewMovement {
                visa_number: &visa,
                movement: &m,
                document_number: "L898902C3",
                officer: Some("o1"),
                terminal: Some("NQZ-01"),
                recorded_at: at,
            },
            &AuditEvent {
                kind: AuditKind::Crossing,
                officer: Some("o1"),
                terminal: Some("NQZ-01"),
                at,
                details: &details,
            },
        )
        .expect("record");
        // Only now may the UI say "recorded".
        writeln!(out, "COMMITTED {visa}").expect("stdout");
        out.flush().expect("stdout");
    }
}

/// A small xorshift generator: kill times vary from run to run; the seed is printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn sigkill_loses_no_committed_decision() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);
    let exe = std::env::current_exe().unwrap();
    let mut total = 0usize;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "store_crash::crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("COMMITTED ").map(str::to_string))
                .collect::<Vec<_>>()
        });
        // Some kills land before the child has opened the database or mid-migration.
        let wait = 5 + rng.next() % 200;
        std::thread::sleep(Duration::from_millis(wait));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let committed = reader.join().unwrap();

        let s = Store::open(&db).unwrap_or_else(|e| panic!("round {round}: {e}"));
        for visa in &committed {
            let h = s.history(visa).unwrap();
            assert_eq!(
                h.movements.len(),
                1,
                "round {round} (seed {seed}): {visa} was reported recorded but is lost"
            );
        }
        match audit::verify(&s).unwrap() {
            Verification::Intact { .. } => {}
            Verification::Broken(b) => panic!("round {round} (seed {seed}): chain broken: {b}"),
        }
        total += committed.len();
    }
    eprintln!("{total} decisions reported committed across {ROUNDS} kills");
    assert!(total > 0);
}
