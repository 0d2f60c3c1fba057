//! Single entry under concurrency (issue 8, defect 3): booths recording the same
//! single-entry visa at the same moment admit it once. Real `evisa verify --record`
//! processes on one SQLite file, released together by a lock they all wait on; then the
//! same race inside one process, at the `Terminal` level and at the kiosk's F5.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};

use evisa_core::rules::{Checkpoint, Direction, ReasonCode, Verdict};
use evisa_kiosk::app::{Command as KioskCommand, Message};
use evisa_kiosk::worker;
use evisa_store::audit::{self, Verification};
use evisa_store::store::Store;
use evisa_store::terminal::Terminal;
use time::macros::date;

const PROCESSES: usize = 8;
const ROUNDS: usize = 4;
const VISA: &str = "EV26KZ0012345";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn case_file(name: &str) -> PathBuf {
    repo().join("fixtures/cases/accept_tourist").join(name)
}

fn case_text(name: &str) -> String {
    std::fs::read_to_string(case_file(name)).unwrap()
}

fn at() -> Checkpoint {
    Checkpoint {
        date: date!(2026 - 11 - 25),
        code: "NQZ".into(),
        direction: Direction::Entry,
    }
}

/// One booth's `verify --record`, started under `flock -s gate`: it runs only once the
/// test drops its exclusive lock on the gate, so all of them start together.
fn booth(gate: &Path, db: &Path) -> Child {
    Command::new("flock")
        .arg("-s")
        .arg(gate)
        .arg(env!("CARGO_BIN_EXE_evisa"))
        .args([
            "verify",
            "--record",
            "--date",
            "2026-11-25",
            "--checkpoint",
            "NQZ",
        ])
        .arg("--qr-file")
        .arg(case_file("qr.txt"))
        .arg("--mrz-file")
        .arg(case_file("mrz.txt"))
        .arg("--keys")
        .arg(repo().join("keys"))
        .arg("--db")
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("flock(1) runs the booth: it is in util-linux (apt-get install -y util-linux)")
}

#[test]
fn eight_processes_recording_one_single_entry_visa_admit_it_once() {
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("booths.db");
        // Odd rounds also race the database's creation.
        if round % 2 == 0 {
            drop(Store::open(&db).unwrap());
        }
        let gate_path = dir.path().join("gate");
        let gate = File::create(&gate_path).unwrap();
        gate.lock().unwrap();
        let children: Vec<Child> = (0..PROCESSES).map(|_| booth(&gate_path, &db)).collect();
        // Not a timing assertion: a booth that reaches the gate after it opens simply
        // starts a little later; the assertions hold either way.
        std::thread::sleep(std::time::Duration::from_millis(300));
        gate.unlock().unwrap();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();

        let mut accepted = 0;
        let mut rejected = 0;
        for o in &outputs {
            let stdout = String::from_utf8_lossy(&o.stdout);
            let stderr = String::from_utf8_lossy(&o.stderr);
            match o.status.code() {
                Some(0) => {
                    assert!(stdout.starts_with("ACCEPT\n"), "round {round}: {stdout}");
                    assert!(stdout.contains("recorded: entry at NQZ"), "{stdout}");
                    accepted += 1;
                }
                Some(1) => {
                    assert!(stdout.starts_with("REJECT\n"), "round {round}: {stdout}");
                    assert!(
                        stdout.contains("ENTRIES_EXHAUSTED"),
                        "round {round}: {stdout}"
                    );
                    // The usual detail, naming the entry the winner recorded.
                    assert!(
                        stdout.contains("1 already recorded (last on 2026-11-25 at NQZ)"),
                        "round {round}: {stdout}"
                    );
                    assert!(!stdout.contains("recorded: entry"), "{stdout}");
                    rejected += 1;
                }
                other => panic!("round {round}: exit {other:?}: {stdout}{stderr}"),
            }
        }
        assert_eq!((accepted, rejected), (1, PROCESSES - 1), "round {round}");

        let s = Store::open_read_only(&db).unwrap();
        assert_eq!(s.history(VISA).unwrap().movements.len(), 1, "round {round}");
        // Every process audited what it printed: one crossing, seven REJECTs.
        match audit::verify(&s).unwrap() {
            Verification::Intact { rows, .. } => assert_eq!(rows, PROCESSES as i64),
            Verification::Broken(b) => panic!("round {round}: {b}"),
        }
        drop(s);
        let check = Command::new(env!("CARGO_BIN_EXE_evisa"))
            .args(["audit", "verify", "--db"])
            .arg(&db)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
}

fn terminal(db: &Path) -> Terminal {
    Terminal::open(&repo().join("keys"), Some(db)).unwrap()
}

#[test]
fn threads_recording_one_single_entry_visa_admit_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("threads.db");
    drop(Store::open(&db).unwrap());
    let barrier = Arc::new(Barrier::new(PROCESSES));
    let handles: Vec<_> = (0..PROCESSES)
        .map(|i| {
            let db = db.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut t = terminal(&db);
                let (qr, mrz) = (case_text("qr.txt"), case_text("mrz.txt"));
                barrier.wait();
                let tid = format!("T{i}");
                t.verify_and_record(&qr, &mrz, &at(), None, Some(&tid))
                    .unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: Vec<_> = results.iter().filter(|r| r.movement_id.is_some()).collect();
    assert_eq!(winners.len(), 1);
    assert_eq!(winners[0].decision.verdict, Verdict::Accept);
    for r in results.iter().filter(|r| r.movement_id.is_none()) {
        assert_eq!(r.decision.verdict, Verdict::Reject);
        assert!(r.decision.has(ReasonCode::EntriesExhausted), "{r:?}");
        assert_eq!(r.decision.entries_used, 1);
    }
    let s = Store::open(&db).unwrap();
    assert_eq!(s.history(VISA).unwrap().movements.len(), 1);
    assert!(matches!(
        audit::verify(&s).unwrap(),
        Verification::Intact { rows, .. } if rows == PROCESSES as i64
    ));
}

#[test]
fn a_lost_race_at_f5_shows_entries_exhausted_not_recorded() {
    // Two kiosks show the same traveller ACCEPT; both officers press F5.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosks.db");
    let mut a = terminal(&db);
    let mut b = terminal(&db);
    let verify = KioskCommand::Verify {
        qr: case_text("qr.txt"),
        mrz: case_text("mrz.txt"),
        at: at(),
        officer: "O1".into(),
    };
    let shown = |t: &mut Terminal, id| match worker::run(t, id, verify.clone()) {
        Some(Message::Verified(Ok(d), _)) => d,
        other => panic!("no verdict: {other:?}"),
    };
    let (da, db_) = (shown(&mut a, "K1"), shown(&mut b, "K2"));
    assert_eq!(
        (da.verdict, db_.verdict),
        (Verdict::Accept, Verdict::Accept)
    );
    let f5 = |decision| KioskCommand::Record {
        decision,
        at: at(),
        officer: "O1".into(),
    };
    assert!(matches!(
        worker::run(&mut a, "K1", f5(da)),
        Some(Message::Recorded(Ok(())))
    ));
    match worker::run(&mut b, "K2", f5(db_)) {
        Some(Message::Verified(Ok(d), _)) => {
            assert_eq!(d.verdict, Verdict::Reject);
            assert!(d.has(ReasonCode::EntriesExhausted), "{d:?}");
        }
        other => panic!("the second F5 was not refused: {other:?}"),
    }
    let s = Store::open(&db).unwrap();
    assert_eq!(s.history(VISA).unwrap().movements.len(), 1);
    // Each F5 wrote its confirmation with its outcome: K1 a crossing, K2 the REJECT.
    let rows = audit_kinds(&db);
    assert_eq!(
        rows,
        [
            (
                "verdict".to_string(),
                "K1".to_string(),
                "ACCEPT".to_string()
            ),
            ("verdict".into(), "K2".into(), "ACCEPT".into()),
            ("checklist_confirm".into(), "K1".into(), String::new()),
            ("crossing".into(), "K1".into(), "ACCEPT".into()),
            ("checklist_confirm".into(), "K2".into(), String::new()),
            ("verdict".into(), "K2".into(), "REJECT".into()),
        ]
    );
    assert!(matches!(
        audit::verify(&s).unwrap(),
        Verification::Intact { .. }
    ));
}

/// (kind, terminal, verdict) of every audit row, read with a plain connection.
fn audit_kinds(db: &Path) -> Vec<(String, String, String)> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut st = c
        .prepare("SELECT kind, terminal, details FROM audit ORDER BY seq")
        .unwrap();
    st.query_map([], |r| {
        let details: String = r.get(2)?;
        let v: serde_json::Value = serde_json::from_str(&details).unwrap();
        Ok((
            r.get(0)?,
            r.get(1)?,
            v.get("verdict")
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string(),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}
