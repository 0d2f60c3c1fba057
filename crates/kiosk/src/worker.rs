//! The kiosk's worker thread: it owns the [`Terminal`] (trust store and SQLite
//! database) and runs every blocking [`Command`] — PIN checks, verification, records,
//! audit writes, history reads — answering with [`Message`]s, so the screen never
//! waits on the disk. A command that panics is caught: the officer is told the
//! decision was not taken and the worker goes on serving the next traveller.

use evisa_store::audit::AuditKind;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use tokio::sync::mpsc::UnboundedSender;

use evisa_core::rules::Direction;
use evisa_store::officers::SignIn;
use evisa_store::store::{AuditEvent, AuditRow, Store, StoreError};
use evisa_store::terminal::{Terminal, kazakhstan_now_rfc3339};

use super::app::{Command, Crashed, HistoryRow, Message, Outcome};

/// How many rows the shift history shows at most.
pub const HISTORY_ROWS: usize = 50;

/// Starts the worker; it ends when the command channel closes or on [`Command::Quit`].
pub fn spawn(
    terminal: Terminal,
    terminal_id: String,
    tx: UnboundedSender<Message>,
) -> (mpsc::Sender<Command>, std::thread::JoinHandle<()>) {
    spawn_with(terminal, terminal_id, tx, run)
}

/// How the worker runs one command: [`run`], or in tests a stand-in that fails.
type Runner = fn(&mut Terminal, &str, Command) -> Option<Message>;

fn spawn_with(
    mut terminal: Terminal,
    terminal_id: String,
    tx: UnboundedSender<Message>,
    runner: Runner,
) -> (mpsc::Sender<Command>, std::thread::JoinHandle<()>) {
    let (cmd_tx, cmd_rx) = mpsc::channel::<Command>();
    let handle = std::thread::Builder::new()
        .name("kiosk-worker".into())
        .spawn(move || {
            for cmd in cmd_rx {
                if cmd == Command::Quit {
                    break;
                }
                if let Some(msg) = run_guarded(&mut terminal, &terminal_id, cmd, runner)
                    && tx.send(msg).is_err()
                {
                    break;
                }
            }
        })
        .expect("spawning a thread only fails when the system is out of resources");
    (cmd_tx, handle)
}

thread_local! {
    /// Set while a command runs under [`run_guarded`]: the kiosk's panic hook then
    /// logs the panic instead of tearing the screen down.
    static CAUGHT: Cell<bool> = const { Cell::new(false) };
}

/// Text for a log line that may carry untrusted data (a panic message can quote a
/// value): escaped and cut to a bounded length.
pub fn log_text(s: &str) -> String {
    const MAX: usize = 512;
    let shown = evisa_core::untrusted::printable(s);
    match shown.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}… ({} bytes)", &shown[..i], s.len()),
        None => shown.into_owned(),
    }
}

/// True on a thread inside [`run_guarded`], where a panic is caught and survived.
pub fn panic_is_caught() -> bool {
    CAUGHT.get()
}

/// Runs `f`, catching a panic (logged by the kiosk's panic hook, not printed).
pub fn guarded<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let was = CAUGHT.replace(true);
    let r = catch_unwind(AssertUnwindSafe(f));
    CAUGHT.set(was);
    r
}

/// Runs one command, turning a panic into a [`Message::Crashed`] so that one bad
/// input (a bug in a decision) costs one decision, not the booth. The terminal is
/// still usable afterwards: the database rolls back an unfinished transaction when
/// its guard unwinds, and the trust store is only read.
fn run_guarded(t: &mut Terminal, tid: &str, cmd: Command, runner: Runner) -> Option<Message> {
    let what = Crashed::of(&cmd);
    match guarded(|| runner(t, tid, cmd)) {
        Ok(msg) => msg,
        Err(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(
                command = ?what,
                panic = %crate::worker::log_text(&text),
                "internal error: the command panicked; the kiosk carries on"
            );
            Some(Message::Crashed(what))
        }
    }
}

fn audit(
    store: &mut Store,
    kind: AuditKind,
    officer: Option<&str>,
    terminal: &str,
    details: &serde_json::Value,
) -> Result<i64, String> {
    store
        .append_audit(&AuditEvent {
            kind,
            officer,
            terminal: Some(terminal),
            at: &kazakhstan_now_rfc3339(),
            details,
        })
        .map_err(|e| e.to_string())
}

/// Runs one command (public so tests can drive it without a thread).
pub fn run(t: &mut Terminal, terminal_id: &str, cmd: Command) -> Option<Message> {
    let tid = terminal_id;
    match cmd {
        Command::Quit => None,
        Command::SignIn { id, pin } => {
            let Some(store) = t.store.as_mut() else {
                return Some(Message::SignedIn(Err("no database".into())));
            };
            let r = store.check_pin(&id, &pin).map_err(|e| e.to_string());
            let logged = match &r {
                Ok(SignIn::Ok { role, .. }) => audit(
                    store,
                    AuditKind::SignIn,
                    Some(&id),
                    tid,
                    &serde_json::json!({"role": role.as_str()}),
                ),
                Ok(SignIn::WrongPin { remaining }) => audit(
                    store,
                    AuditKind::PinFailed,
                    Some(&id),
                    tid,
                    &serde_json::json!({"remaining": remaining}),
                ),
                Ok(SignIn::Unknown) => audit(
                    store,
                    AuditKind::PinFailed,
                    Some(&id),
                    tid,
                    &serde_json::json!({"unknown_id": true}),
                ),
                Ok(SignIn::NowLocked) => audit(
                    store,
                    AuditKind::PinFailed,
                    Some(&id),
                    tid,
                    &serde_json::json!({"remaining": 0}),
                )
                .and_then(|_| {
                    audit(
                        store,
                        AuditKind::AccountLocked,
                        Some(&id),
                        tid,
                        &serde_json::json!({}),
                    )
                }),
                Ok(SignIn::Locked) => audit(
                    store,
                    AuditKind::PinFailed,
                    Some(&id),
                    tid,
                    &serde_json::json!({"locked": true}),
                ),
                Err(_) => Ok(0),
            };
            Some(Message::SignedIn(logged.and(r)))
        }
        Command::Verify {
            qr,
            mrz,
            at,
            officer,
        } => {
            let r = t
                .verify(&qr, &mrz, &at)
                .and_then(|d| {
                    t.audit_verdict(&d, &at, Some(&officer), Some(tid))?;
                    Ok(d)
                })
                .map(Box::new)
                .map_err(|e| e.to_string());
            Some(Message::Verified(r, at))
        }
        Command::Record {
            decision,
            at,
            officer,
        } => {
            let confirmation = serde_json::json!({
                "visa": decision.visa.as_ref().map(|v| v.number.clone()),
                "checks": super::app::CHECKLIST,
            });
            // The confirmation, the crossing and their audit rows are one transaction,
            // decided again on the history read inside it.
            Some(
                match t.record(
                    &decision,
                    &at,
                    Some(&officer),
                    Some(tid),
                    Some(&confirmation),
                ) {
                    Ok(r) if r.movement_id.is_some() => Message::Recorded(Ok(())),
                    // Another booth recorded this visa first: show the REJECT that was
                    // recorded (ENTRIES_EXHAUSTED), not "recorded".
                    Ok(r) => Message::Verified(Ok(Box::new(r.decision)), at),
                    Err(e) => Message::Recorded(Err(e.to_string())),
                },
            )
        }
        Command::Audit {
            kind,
            officer,
            details,
        } => {
            let store = t.store.as_mut()?;
            audit(store, kind, officer.as_deref(), tid, &details)
                .err()
                .map(Message::Failed)
        }
        Command::LoadHistory => {
            let store = t.store.as_mut()?;
            Some(match load_history(store, tid, HISTORY_ROWS) {
                Ok(rows) => Message::History(rows),
                Err(e) => Message::Failed(e.to_string()),
            })
        }
    }
}

/// The last decisions made at this terminal, newest first, from the audit log (so they
/// survive a restart): recorded crossings, REJECTs, and ACCEPTs the officer refused.
pub fn load_history(
    store: &mut Store,
    terminal_id: &str,
    limit: usize,
) -> Result<Vec<HistoryRow>, StoreError> {
    let rows = store.recent_audit(
        terminal_id,
        &[
            AuditKind::Crossing,
            AuditKind::Verdict,
            AuditKind::ChecklistRefuse,
        ],
        limit.saturating_mul(2),
    )?;
    let mut out = Vec::new();
    for row in rows {
        let AuditRow {
            at,
            kind,
            officer,
            details,
        } = row;
        let d: serde_json::Value = serde_json::from_str(&details).unwrap_or_default();
        let text = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let outcome = match AuditKind::parse(&kind) {
            Some(AuditKind::Crossing) => {
                Outcome::Crossing(Direction::parse(&text("direction")).unwrap_or(Direction::Entry))
            }
            Some(AuditKind::ChecklistRefuse) => Outcome::Refused(text("reason")),
            // An ACCEPT verdict is followed by its crossing or refusal row.
            _ if text("verdict") == "REJECT" => Outcome::Reject(
                d.get("codes")
                    .and_then(|c| c.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|c| c.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => continue,
        };
        out.push(HistoryRow {
            time: at.get(11..16).unwrap_or("").to_string(),
            visa: text("visa"),
            officer: officer.unwrap_or_default(),
            outcome,
        });
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

/// Date of the last applied signed update (trust store or revocation list); `None`
/// when none was ever applied, shown as "none".
pub fn last_trust_update(store: &mut Store) -> Option<time::Date> {
    store
        .last_update()
        .ok()
        .flatten()
        .and_then(|u| u.applied_date())
}

#[cfg(test)]
mod tests {
    use super::*;
    use evisa_core::rules::{Checkpoint, Verdict};
    use evisa_store::officers::Role;
    use std::path::Path;

    fn fixture(case: &str, file: &str) -> String {
        let root = &Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::fs::read_to_string(root.join("fixtures/cases").join(case).join(file)).unwrap()
    }

    fn terminal() -> Terminal {
        let root = &Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut store = Store::open_in_memory().unwrap();
        store.add_officer("O1", Role::Officer, "1234", "t").unwrap();
        Terminal {
            trust: evisa_store::trustdir::load_dir(&root.join("keys")).unwrap(),
            trust_dir: root.join("keys"),
            store: Some(store),
            fleet: None,
        }
    }

    fn kinds(t: &mut Terminal) -> Vec<(String, Option<String>, Option<String>)> {
        let conn = t.store.as_mut().unwrap().connection();
        let mut stmt = conn
            .prepare("SELECT kind, officer, terminal FROM audit ORDER BY seq")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// A runner whose verification panics, as the date arithmetic once did on a visa
    /// valid until 9999: the rest is the real [`run`].
    fn verify_panics(t: &mut Terminal, tid: &str, cmd: Command) -> Option<Message> {
        if matches!(cmd, Command::Verify { .. }) {
            panic!("injected: overflow in a decision");
        }
        run(t, tid, cmd)
    }

    #[test]
    fn a_panicking_decision_is_caught_and_the_worker_serves_the_next_traveller() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (cmd, handle) = spawn_with(terminal(), "k1".into(), tx, verify_panics);
        let at = Checkpoint {
            date: time::macros::date!(2026 - 11 - 25),
            code: "NQZ".into(),
            direction: Direction::Entry,
        };
        let verify = Command::Verify {
            qr: fixture("accept_tourist", "qr.txt"),
            mrz: fixture("accept_tourist", "mrz.txt"),
            at,
            officer: "O1".into(),
        };
        cmd.send(verify).unwrap();
        cmd.send(Command::SignIn {
            id: "O1".into(),
            pin: "1234".into(),
        })
        .unwrap();
        cmd.send(Command::LoadHistory).unwrap();
        cmd.send(Command::Quit).unwrap();
        assert!(matches!(
            rx.blocking_recv(),
            Some(Message::Crashed(Crashed::Verify))
        ));
        // The same thread, still alive, answers the commands after the panic.
        assert!(matches!(
            rx.blocking_recv(),
            Some(Message::SignedIn(Ok(SignIn::Ok { .. })))
        ));
        assert!(matches!(rx.blocking_recv(), Some(Message::History(_))));
        handle.join().expect("the worker thread ends normally");
        assert!(!panic_is_caught(), "the flag is only set inside a command");
    }

    #[test]
    fn sign_in_verify_record_and_history() {
        let mut t = terminal();
        let Some(Message::SignedIn(Ok(SignIn::WrongPin { remaining: 4 }))) = run(
            &mut t,
            "k1",
            Command::SignIn {
                id: "O1".into(),
                pin: "0000".into(),
            },
        ) else {
            panic!("wrong PIN not reported")
        };
        assert!(matches!(
            run(
                &mut t,
                "k1",
                Command::SignIn {
                    id: "O1".into(),
                    pin: "1234".into()
                }
            ),
            Some(Message::SignedIn(Ok(SignIn::Ok { .. })))
        ));
        let at = Checkpoint {
            date: time::macros::date!(2026 - 11 - 25),
            code: "NQZ".into(),
            direction: Direction::Entry,
        };
        let verify = Command::Verify {
            qr: fixture("accept_tourist", "qr.txt"),
            mrz: fixture("accept_tourist", "mrz.txt"),
            at: at.clone(),
            officer: "O1".into(),
        };
        let Some(Message::Verified(Ok(decision), _)) = run(&mut t, "k1", verify.clone()) else {
            panic!("no verdict")
        };
        assert_eq!(decision.verdict, Verdict::Accept);
        let recorded = run(
            &mut t,
            "k1",
            Command::Record {
                decision,
                at,
                officer: "O1".into(),
            },
        );
        assert!(matches!(recorded, Some(Message::Recorded(Ok(())))));
        let Some(Message::Verified(Ok(again), _)) = run(&mut t, "k1", verify) else {
            panic!("no verdict")
        };
        assert_eq!(again.verdict, Verdict::Reject);
        let Some(Message::History(rows)) = run(&mut t, "k1", Command::LoadHistory) else {
            panic!("no history")
        };
        assert_eq!(rows.len(), 2);
        assert!(matches!(&rows[0].outcome, Outcome::Reject(c) if c == &["ENTRIES_EXHAUSTED"]));
        assert_eq!(rows[1].outcome, Outcome::Crossing(Direction::Entry));
        assert_eq!(rows[1].visa, "EV26KZ0012345");
        // Another terminal's records are not this shift's.
        assert!(
            load_history(t.store.as_mut().unwrap(), "k2", 10)
                .unwrap()
                .is_empty()
        );
        let all = kinds(&mut t);
        let k: Vec<&str> = all.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(
            k,
            [
                "pin_failed",
                "sign_in",
                "verdict",
                "checklist_confirm",
                "crossing",
                "verdict"
            ]
        );
        assert!(
            all.iter()
                .all(|(_, o, term)| o.as_deref() == Some("O1") && term.as_deref() == Some("k1"))
        );
    }
}
