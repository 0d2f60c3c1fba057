//! The kiosk's worker thread: it owns the [`Terminal`] (trust store and SQLite
//! database) and runs every blocking [`Command`] — PIN checks, verification, records,
//! audit writes, history reads — answering with [`Message`]s, so the screen never
//! waits on the disk. A command that panics is caught: the officer is told the
//! decision was not taken and the worker goes on serving the next traveller.
//!
//! The worker also notices signed updates applied while the kiosk runs (`evisa update
//! import` from a shell, or the fleet): before each command and when idle for
//! [`UPDATE_POLL`], it compares a cheap marker (the trust folder's update marker file
//! and the database's last applied update). When it moved, a new trust store is built
//! in full and swapped in with one assignment, between two commands, so a decision
//! never mixes keys; a store that fails to load is not swapped in and the screen says
//! why. The revocation list needs no reload: each decision reads it from the database.

use evisa_store::audit::AuditKind;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use evisa_core::rules::Direction;
use evisa_store::officers::{SignIn, Unlock};
use evisa_store::store::{AuditEvent, AuditRow, Store, StoreError};
use evisa_store::terminal::{Terminal, kazakhstan_now_rfc3339};

use super::app::{Command, Crashed, HistoryRow, Message, Outcome, TrustSummary};
use crate::fault::{Fault, FaultKind};

/// How many rows the shift history shows at most.
pub const HISTORY_ROWS: usize = 50;

/// How often an idle worker looks for an applied update (it also looks before every
/// command, so the next traveller is always decided with the newest keys).
pub const UPDATE_POLL: Duration = Duration::from_secs(1);

/// Starts the worker; it ends when the command channel closes or on [`Command::Quit`].
/// `training` is the trust policy a reloaded store must meet, as at start (spec §5:
/// TEST-ONLY keys only in training).
pub fn spawn(
    terminal: Terminal,
    terminal_id: String,
    training: bool,
    tx: UnboundedSender<Message>,
) -> (mpsc::Sender<Command>, std::thread::JoinHandle<()>) {
    spawn_with(terminal, terminal_id, UpdateWatch::new(training), tx, run)
}

/// What says an update was applied: the trust folder's marker file (rewritten by
/// every trust import, swapped in with the folder) and the newest applied-update
/// record in the database (every import, trust or revocation list, adds one).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Marker {
    folder: Option<Vec<u8>>,
    update: Option<(&'static str, i64, Vec<u8>)>,
}

impl Marker {
    fn read(t: &Terminal) -> Marker {
        let folder = evisa_store::files::read_capped(
            &t.trust_dir.join(evisa_core::update::STATE_FILE),
            evisa_store::files::MAX_KEY_FILE,
            "a trust folder update marker",
        )
        .ok();
        let update = t
            .store
            .as_ref()
            .and_then(|s| s.last_update().ok().flatten())
            .map(|u| (u.kind.as_str(), u.seq, u.sha256));
        Marker { folder, update }
    }
}

/// The worker's watch for applied updates (see the module documentation).
pub struct UpdateWatch {
    training: bool,
    /// The marker of the store in use; `None` until the first look, which reloads
    /// once so that nothing applied between the kiosk's start and its worker's is
    /// missed.
    seen: Option<Marker>,
    /// The last load failure reported, so that one failure is shown once, not on
    /// every retry.
    failed: Option<Fault>,
}

impl UpdateWatch {
    pub fn new(training: bool) -> Self {
        UpdateWatch {
            training,
            seen: None,
            failed: None,
        }
    }

    /// Reloads the trust store when an update was applied since the last look. A
    /// failed load keeps the store in use and is tried again at the next look.
    pub fn check(&mut self, t: &mut Terminal) -> Option<Message> {
        let now = Marker::read(t);
        if self.seen.as_ref() == Some(&now) {
            return None;
        }
        let loaded = match guarded(|| reload(t, self.training)) {
            Ok(r) => r,
            Err(_) => Err(Fault::new(
                FaultKind::Internal,
                "internal error while loading the trust store",
            )),
        };
        match loaded {
            Ok(summary) => {
                if self.seen.is_some() {
                    tracing::info!(
                        keys = summary.keys,
                        "applied update noticed: trust store reloaded"
                    );
                }
                self.seen = Some(now);
                self.failed = None;
                Some(Message::TrustReloaded(Ok(summary)))
            }
            Err(e) if self.failed.as_ref() == Some(&e) => None,
            Err(e) => {
                tracing::warn!(
                    error = %log_text(&e.raw),
                    "the updated trust store does not load; the previous one stays in use"
                );
                self.failed = Some(e.clone());
                Some(Message::TrustReloaded(Err(e)))
            }
        }
    }
}

/// Builds the new trust store in full and checks it as the kiosk's start does; only
/// then replaces the one in use.
fn reload(t: &mut Terminal, training: bool) -> Result<TrustSummary, Fault> {
    let trust = evisa_store::trustdir::load_dir(&t.trust_dir).map_err(|e| Fault::from(&e))?;
    trust
        .check_policy(&t.trust_dir, training)
        .map_err(|e| Fault::from(&e))?;
    let last = t.store.as_mut().and_then(last_trust_update);
    let summary = TrustSummary::of(&trust, last);
    t.trust = trust;
    Ok(summary)
}

/// How the worker runs one command: [`run`], or in tests a stand-in that fails.
type Runner = fn(&mut Terminal, &str, Command) -> Option<Message>;

fn spawn_with(
    mut terminal: Terminal,
    terminal_id: String,
    mut watch: UpdateWatch,
    tx: UnboundedSender<Message>,
    runner: Runner,
) -> (mpsc::Sender<Command>, std::thread::JoinHandle<()>) {
    let (cmd_tx, cmd_rx) = mpsc::channel::<Command>();
    let handle = std::thread::Builder::new()
        .name("kiosk-worker".into())
        .spawn(move || {
            loop {
                let cmd = match cmd_rx.recv_timeout(UPDATE_POLL) {
                    Ok(Command::Quit) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Ok(cmd) => Some(cmd),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                };
                // Between two commands, never inside one: a decision runs on one store.
                if let Some(msg) = watch.check(&mut terminal)
                    && tx.send(msg).is_err()
                {
                    break;
                }
                if let Some(cmd) = cmd
                    && let Some(msg) = run_guarded(&mut terminal, &terminal_id, cmd, runner)
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
) -> Result<i64, Fault> {
    store
        .append_audit(&AuditEvent {
            kind,
            officer,
            terminal: Some(terminal),
            at: &kazakhstan_now_rfc3339(),
            details,
        })
        .map_err(|e| Fault::from(&e).logged())
}

/// Training without `--db`: nothing to sign in against or to record in.
fn no_database() -> Fault {
    Fault::new(FaultKind::NoDatabase, "no database")
}

/// Runs one command (public so tests can drive it without a thread).
pub fn run(t: &mut Terminal, terminal_id: &str, cmd: Command) -> Option<Message> {
    let tid = terminal_id;
    match cmd {
        Command::Quit => None,
        Command::SignIn { id, pin } => {
            let Some(store) = t.store.as_mut() else {
                return Some(Message::SignedIn(Err(no_database())));
            };
            let r = store
                .check_pin(&id, &pin)
                .map_err(|e| Fault::from(&e).logged());
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
        Command::Unlock {
            officer,
            supervisor,
            pin,
        } => {
            let Some(store) = t.store.as_mut() else {
                return Some(Message::Unlocked(Err(no_database())));
            };
            let r = store
                .unlock_by_supervisor(&officer, &supervisor, &pin)
                .map_err(|e| Fault::from(&e).logged());
            let by = Some(supervisor.as_str());
            let refused = |why: &str| serde_json::json!({"unlock": officer, "refused": why});
            let logged = match &r {
                Ok(Unlock::Done) => audit(
                    store,
                    AuditKind::SettingsChange,
                    by,
                    tid,
                    &serde_json::json!({"unlock": officer}),
                ),
                Ok(Unlock::NotSupervisor) => audit(
                    store,
                    AuditKind::SettingsChange,
                    by,
                    tid,
                    &refused("not a supervisor"),
                ),
                Ok(Unlock::NoSuchOfficer) => audit(
                    store,
                    AuditKind::SettingsChange,
                    by,
                    tid,
                    &refused("no such officer"),
                ),
                Ok(Unlock::Refused(s)) => {
                    let why = match s {
                        SignIn::Locked => "supervisor locked",
                        SignIn::Unknown => "unknown supervisor",
                        _ => "wrong supervisor PIN",
                    };
                    audit(store, AuditKind::PinFailed, by, tid, &refused(why)).and_then(|_| {
                        if *s == SignIn::NowLocked {
                            audit(
                                store,
                                AuditKind::AccountLocked,
                                by,
                                tid,
                                &serde_json::json!({}),
                            )
                        } else {
                            Ok(0)
                        }
                    })
                }
                Err(_) => Ok(0),
            };
            Some(Message::Unlocked(logged.and(r)))
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
                .map_err(|e| Fault::from(&e).logged());
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
                    Err(e) => Message::Recorded(Err(Fault::from(&e).logged())),
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
                Err(e) => Message::Failed(Fault::from(&e).logged()),
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
            at: at.get(..16).unwrap_or("").replacen('T', " ", 1),
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
        let (cmd, handle) = spawn_with(
            terminal(),
            "k1".into(),
            UpdateWatch::new(true),
            tx,
            verify_panics,
        );
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
        // The first look for applied updates reports the store in use: not asserted here.
        let next = |rx: &mut tokio::sync::mpsc::UnboundedReceiver<Message>| loop {
            match rx.blocking_recv() {
                Some(Message::TrustReloaded(_)) => continue,
                other => break other,
            }
        };
        assert!(matches!(
            next(&mut rx),
            Some(Message::Crashed(Crashed::Verify))
        ));
        // The same thread, still alive, answers the commands after the panic.
        assert!(matches!(
            next(&mut rx),
            Some(Message::SignedIn(Ok(SignIn::Ok { .. })))
        ));
        assert!(matches!(next(&mut rx), Some(Message::History(_))));
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
        // The local minute, in the clock's form, for telling the shift's rows apart.
        let at = &rows[1].at;
        assert!(
            at.len() == 16 && &at[10..11] == " " && at.ends_with(&rows[1].time),
            "{at}"
        );
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

    fn verdict_codes(t: &mut Terminal, case: &str) -> Vec<String> {
        let at = Checkpoint {
            date: time::macros::date!(2026 - 11 - 25),
            code: "NQZ".into(),
            direction: Direction::Entry,
        };
        let verify = Command::Verify {
            qr: fixture(case, "qr.txt"),
            mrz: fixture(case, "mrz.txt"),
            at,
            officer: "O1".into(),
        };
        let Some(Message::Verified(Ok(d), _)) = run(t, "k1", verify) else {
            panic!("no verdict")
        };
        d.reasons
            .iter()
            .map(|r| r.code.as_str().to_string())
            .collect()
    }

    /// An update applied while the kiosk runs (a new key file and a new folder marker,
    /// as `evisa update import` swaps in) is used from the next decision on; a folder
    /// that fails to load leaves the store in use and is reported once.
    #[test]
    fn an_applied_update_is_used_from_the_next_decision_and_a_bad_one_keeps_the_old_store() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        std::fs::create_dir(&keys).unwrap();
        let copy = |name: &str| {
            std::fs::copy(root.join("keys").join(name), keys.join(name)).unwrap();
        };
        let marker = |text: &str| {
            std::fs::write(keys.join(evisa_core::update::STATE_FILE), text).unwrap();
        };
        copy("TEST-ONLY-issuer-2026.toml");
        let mut t = terminal();
        t.trust = evisa_store::trustdir::load_dir(&keys).unwrap();
        t.trust_dir = keys.clone();
        let mut watch = UpdateWatch::new(true);
        let Some(Message::TrustReloaded(Ok(s))) = watch.check(&mut t) else {
            panic!("the first look loads the store")
        };
        assert_eq!(s.keys, 1);
        assert!(watch.check(&mut t).is_none(), "nothing changed");
        assert_eq!(verdict_codes(&mut t, "key_revoked"), ["UNKNOWN_KEY"]);

        copy("TEST-ONLY-revoked-2025.toml");
        marker("update 2");
        let Some(Message::TrustReloaded(Ok(s))) = watch.check(&mut t) else {
            panic!("the update was not noticed")
        };
        assert_eq!(s.keys, 2);
        assert_eq!(verdict_codes(&mut t, "key_revoked"), ["KEY_REVOKED"]);

        std::fs::write(keys.join("broken.toml"), "not a key file").unwrap();
        marker("update 3");
        let Some(Message::TrustReloaded(Err(e))) = watch.check(&mut t) else {
            panic!("a failed load is reported")
        };
        assert_eq!(
            e.kind,
            FaultKind::TrustBadFile {
                file: "broken.toml".into()
            },
            "{e:?}"
        );
        assert!(
            watch.check(&mut t).is_none(),
            "reported once, not on every retry"
        );
        assert_eq!(t.trust.keys().len(), 2, "the previous store stays in use");
        assert_eq!(verdict_codes(&mut t, "key_revoked"), ["KEY_REVOKED"]);

        std::fs::remove_file(keys.join("broken.toml")).unwrap();
        assert!(matches!(
            watch.check(&mut t),
            Some(Message::TrustReloaded(Ok(TrustSummary { keys: 2, .. })))
        ));
    }

    /// Outside training a reloaded store must meet the same policy as at start: an
    /// update cannot slip TEST-ONLY keys into a production booth.
    #[test]
    fn a_reloaded_store_outside_training_refuses_test_only_keys() {
        let mut t = terminal();
        let mut watch = UpdateWatch::new(false);
        let Some(Message::TrustReloaded(Err(e))) = watch.check(&mut t) else {
            panic!("test-only keys accepted outside training")
        };
        assert!(
            matches!(&e.kind, FaultKind::TrustTestKey { .. }) && e.raw.contains("TEST"),
            "{e:?}"
        );
    }

    /// Through the worker thread: the store changes between two commands, and the
    /// next verification after it runs on the new keys.
    #[test]
    fn the_worker_reloads_before_the_next_command() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        std::fs::create_dir(&keys).unwrap();
        std::fs::copy(
            root.join("keys/TEST-ONLY-issuer-2026.toml"),
            keys.join("TEST-ONLY-issuer-2026.toml"),
        )
        .unwrap();
        let mut t = terminal();
        t.trust = evisa_store::trustdir::load_dir(&keys).unwrap();
        t.trust_dir = keys.clone();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (cmd, handle) = spawn_with(t, "k1".into(), UpdateWatch::new(true), tx, run);
        cmd.send(Command::LoadHistory).unwrap();
        assert!(matches!(
            rx.blocking_recv(),
            Some(Message::TrustReloaded(Ok(TrustSummary { keys: 1, .. })))
        ));
        assert!(matches!(rx.blocking_recv(), Some(Message::History(_))));
        std::fs::copy(
            root.join("keys/TEST-ONLY-revoked-2025.toml"),
            keys.join("TEST-ONLY-revoked-2025.toml"),
        )
        .unwrap();
        std::fs::write(keys.join(evisa_core::update::STATE_FILE), "update 2").unwrap();
        cmd.send(Command::Verify {
            qr: fixture("key_revoked", "qr.txt"),
            mrz: fixture("key_revoked", "mrz.txt"),
            at: Checkpoint {
                date: time::macros::date!(2026 - 11 - 25),
                code: "NQZ".into(),
                direction: Direction::Entry,
            },
            officer: "O1".into(),
        })
        .unwrap();
        cmd.send(Command::Quit).unwrap();
        // The idle poll may have noticed it first; either way it comes before the verdict.
        let mut reloaded = false;
        loop {
            match rx.blocking_recv() {
                Some(Message::TrustReloaded(Ok(s))) => {
                    assert_eq!(s.keys, 2);
                    reloaded = true;
                }
                Some(Message::Verified(Ok(d), _)) => {
                    assert!(reloaded, "verified before the reload");
                    let codes: Vec<&str> = d.reasons.iter().map(|r| r.code.as_str()).collect();
                    assert_eq!(codes, ["KEY_REVOKED"]);
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        handle.join().unwrap();
    }

    fn unlock(t: &mut Terminal, supervisor: &str, pin: &str) -> Result<Unlock, Fault> {
        match run(
            t,
            "k1",
            Command::Unlock {
                officer: "O1".into(),
                supervisor: supervisor.into(),
                pin: pin.into(),
            },
        ) {
            Some(Message::Unlocked(r)) => r,
            other => panic!("no unlock answer: {other:?}"),
        }
    }

    fn audit_rows(t: &mut Terminal) -> Vec<(String, Option<String>, String)> {
        let conn = t.store.as_mut().unwrap().connection();
        let mut stmt = conn
            .prepare("SELECT kind, officer, details FROM audit ORDER BY seq")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Issue 12: a supervisor unlocks a locked-out officer at the kiosk with their own
    /// PIN. A wrong supervisor PIN, an officer who is not a supervisor and a locked
    /// supervisor are refused; every attempt is in the audit log.
    #[test]
    fn supervisor_unlock_is_checked_and_audited() {
        let mut t = terminal();
        let store = t.store.as_mut().unwrap();
        store
            .add_officer("S1", Role::Supervisor, "55555", "t")
            .unwrap();
        store
            .add_officer("S2", Role::Supervisor, "66666", "t")
            .unwrap();
        store.add_officer("O2", Role::Officer, "7777", "t").unwrap();
        for _ in 0..evisa_store::officers::MAX_FAILED_ATTEMPTS {
            store.check_pin("O1", "0000").unwrap();
            store.check_pin("S2", "0000").unwrap();
        }
        let locked = |t: &mut Terminal| {
            t.store
                .as_mut()
                .unwrap()
                .officer("O1")
                .unwrap()
                .unwrap()
                .locked
        };
        assert!(locked(&mut t));

        assert_eq!(
            unlock(&mut t, "S1", "11111"),
            Ok(Unlock::Refused(SignIn::WrongPin { remaining: 4 }))
        );
        assert_eq!(unlock(&mut t, "O2", "7777"), Ok(Unlock::NotSupervisor));
        assert_eq!(
            unlock(&mut t, "S2", "66666"),
            Ok(Unlock::Refused(SignIn::Locked))
        );
        assert_eq!(
            unlock(&mut t, "NOBODY", "1234"),
            Ok(Unlock::Refused(SignIn::Unknown))
        );
        assert!(locked(&mut t), "a refused unlock unlocked");

        assert_eq!(unlock(&mut t, "S1", "55555"), Ok(Unlock::Done));
        assert!(!locked(&mut t));
        assert!(matches!(
            t.store.as_mut().unwrap().check_pin("O1", "1234").unwrap(),
            SignIn::Ok { .. }
        ));

        let rows: Vec<(String, Option<String>, serde_json::Value)> = audit_rows(&mut t)
            .into_iter()
            .map(|(k, o, d)| (k, o, serde_json::from_str(&d).unwrap()))
            .collect();
        let want = [
            ("pin_failed", "S1", "wrong supervisor PIN"),
            ("settings_change", "O2", "not a supervisor"),
            ("pin_failed", "S2", "supervisor locked"),
            ("pin_failed", "NOBODY", "unknown supervisor"),
        ];
        assert_eq!(rows.len(), want.len() + 1, "{rows:#?}");
        for ((kind, officer, details), (k, o, why)) in rows.iter().zip(want) {
            assert_eq!((kind.as_str(), officer.as_deref()), (k, Some(o)));
            assert_eq!(details["unlock"], "O1");
            assert_eq!(details["refused"], why);
        }
        let (kind, officer, details) = &rows[want.len()];
        assert_eq!(
            (kind.as_str(), officer.as_deref()),
            ("settings_change", Some("S1"))
        );
        assert_eq!(details, &serde_json::json!({"unlock": "O1"}));
    }
}
