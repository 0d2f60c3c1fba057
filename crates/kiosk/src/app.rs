//! The kiosk's state machine in The Elm Architecture: the [`Model`], the [`Message`]s
//! that change it, and [`update`], which returns the side effects to run as
//! [`Command`]s. Nothing here blocks, touches the database or reads the clock: time
//! arrives in [`Message::Tick`], results of work in their own messages.

use evisa_store::audit::AuditKind;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use time::Date;

use crate::config::KEYBOARD;
use crate::fault::Fault;
use crate::i18n::Lang;
use evisa_core::rules::{self, Checkpoint, Decision, Direction, Verdict};
use evisa_core::trust::TrustStore;
use evisa_scan::{ScanEvent, SourceStatus};
use evisa_store::officers::{Role, SignIn, Unlock};

use evisa_scan::WedgeAssembler as Wedge;
use evisa_scan::mrzlines::is_mrz_line;

/// Settings fixed for the run of the kiosk.
#[derive(Debug, Clone)]
pub struct Settings {
    pub checkpoint: String,
    pub terminal_id: String,
    pub pair_timeout: Duration,
    pub trust_update_max_age_days: u32,
    /// Training mode: a built-in officer, and (without `--db`) nothing kept.
    pub demo: bool,
    /// The training database holds the demo account ([`DEMO_OFFICER`], [`DEMO_PIN`]),
    /// so the officer can sign back in after signing out.
    pub demo_account: bool,
    /// `--date`: the checkpoint date for training and tests instead of today.
    pub date_override: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    pub id: String,
    pub role: Role,
}

/// The ID of the built-in `--demo` officer.
pub const DEMO_OFFICER: &str = "demo";
/// Its PIN, in the in-memory training database only (never in a real one).
pub const DEMO_PIN: &str = "0000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Good,
    Warn,
    Error,
}

/// A message for the officer: a catalogue key, its placeholders, and an optional
/// technical detail (a failure's own words, see [`crate::fault`]) drawn, labelled, on
/// a line of its own under the sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub detail: Option<String>,
    pub level: Level,
}

impl Notice {
    pub fn new(key: &'static str, level: Level) -> Self {
        Notice {
            key,
            args: Vec::new(),
            detail: None,
            level,
        }
    }
    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInForm {
    pub id: String,
    pub pin: String,
    pub on_pin: bool,
    pub busy: bool,
    pub message: Option<Notice>,
    /// A scanner is typing into the form: drop everything up to its Enter.
    pub swallow: bool,
    /// F7: a supervisor is unlocking this officer ID; `id` and `pin` are then the
    /// supervisor's.
    pub unlock: Option<String>,
}

/// The officer's shift at this booth since they signed in: the decisions taken in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shift {
    /// Local time of the sign-in, as the clock showed it.
    pub since: String,
    /// Crossings recorded after the checklist.
    pub accept: u32,
    pub reject: u32,
    /// ACCEPTs the officer refused at the checklist.
    pub refused: u32,
}

/// True for characters an officer ID may hold (same rule as `officers::validate_id`).
fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Where a shown verdict stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A digital ACCEPT waiting for the officer's checklist.
    Checklist,
    /// The officer is choosing why to refuse (index into [`REFUSE_REASONS`]).
    Refusing(usize),
    Recording,
    /// The crossing is recorded.
    Recorded,
    /// The officer refused the ACCEPT; nothing recorded.
    Refused(usize),
    /// A REJECT: final as shown.
    Final,
}

/// Why an officer may refuse a digital ACCEPT (catalogue keys under `refuse.`).
pub const REFUSE_REASONS: [&str; 6] = [
    "altered",
    "damaged",
    "blank_pages",
    "extension",
    "no_printout",
    "other",
];

/// The checks of spec §4 that a machine cannot make (catalogue keys under `checklist.`).
pub const CHECKLIST: [&str; 5] = ["genuine", "pages", "blank", "extension", "printed"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub decision: Decision,
    pub at: Checkpoint,
    pub stage: Stage,
}

impl Shown {
    /// A dialog is open: new scans wait until it is settled.
    pub fn is_open(&self) -> bool {
        matches!(
            self.stage,
            Stage::Checklist | Stage::Refusing(_) | Stage::Recording
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Crossing(Direction),
    Reject(Vec<String>),
    Refused(String),
}

/// One line of the shift history, read back from the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// `YYYY-MM-DD HH:MM` local time (UTC+5), as the clock shows it: tells the current
    /// shift's rows from earlier ones.
    pub at: String,
    /// `HH:MM` local time.
    pub time: String,
    pub visa: String,
    pub officer: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceState {
    pub name: String,
    pub status: SourceStatus,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustSummary {
    pub keys: usize,
    /// Label of the key with the latest `not_before`.
    pub newest: Option<String>,
    /// Date of the last applied trust-store update, when known.
    pub last_update: Option<Date>,
    /// An applied update whose trust store failed to load: the previous store stays in
    /// use and the status bar says why.
    pub reload_error: Option<Fault>,
}

impl TrustSummary {
    pub fn of(store: &TrustStore, last_update: Option<Date>) -> Self {
        TrustSummary {
            keys: store.keys().len(),
            newest: store
                .keys()
                .iter()
                .max_by_key(|k| k.not_before)
                .map(|k| k.label.clone()),
            last_update,
            reload_error: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    SignIn,
    Main,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub settings: Settings,
    pub lang: Lang,
    pub direction: Direction,
    pub screen: Screen,
    pub signin: SignInForm,
    pub officer: Option<Officer>,
    /// The keyboard-wedge line being typed.
    pub line: String,
    /// Characters of the current line dropped for going past [`MAX_LINE`]: the line
    /// is then unreadable as a whole, never taken cut short.
    pub line_dropped: usize,
    /// Keyboard-wedge line assembler (same interface as `scan::WedgeAssembler`).
    pub wedge: Wedge,
    /// The first typed MRZ line waits in the wedge for its partner.
    pub mrz_half: bool,
    pub qr: Option<String>,
    pub mrz: Option<String>,
    /// When the first half of the current pair arrived.
    pub pair_started: Option<Instant>,
    pub verifying: bool,
    pub shown: Option<Shown>,
    /// Scans that arrived while a dialog was open, processed after it.
    pub queued: VecDeque<ScanEvent>,
    pub notice: Option<Notice>,
    pub history: Vec<HistoryRow>,
    pub show_history: bool,
    pub shift: Shift,
    pub help: bool,
    /// F10 asked to leave: the confirmation dialog is open.
    pub confirm_quit: bool,
    pub sources: Vec<SourceState>,
    /// The fleet link, when the booth is part of a fleet.
    pub fleet: Option<crate::fleet::FleetStatus>,
    pub trust: TrustSummary,
    pub now: Instant,
    /// Local time (UTC+5) as shown, `YYYY-MM-DD HH:MM`.
    pub clock: String,
    /// Today in Kazakhstan.
    pub today: Date,
    pub quit: bool,
}

/// Something that happened: a key, a scan, the clock, or the result of a command.
#[derive(Debug, Clone)]
pub enum Message {
    Key(KeyEvent),
    Scan(ScanEvent),
    Tick {
        now: Instant,
        clock: String,
        today: Date,
    },
    SignedIn(Result<SignIn, Fault>),
    /// The answer to [`Command::Unlock`].
    Unlocked(Result<Unlock, Fault>),
    Verified(Result<Box<Decision>, Fault>, Checkpoint),
    Recorded(Result<(), Fault>),
    History(Vec<HistoryRow>),
    /// A background step failed (an audit write, say).
    Failed(Fault),
    /// A command panicked in the worker; it was caught and nothing was decided.
    Crashed(Crashed),
    /// The worker noticed an applied update between two decisions: the trust store it
    /// now decides with, or why the new one failed to load (the old one stays).
    TrustReloaded(Result<TrustSummary, Fault>),
    /// SIGTERM/SIGINT/SIGHUP: leave cleanly, without asking.
    Shutdown,
    /// The terminal was resized: nothing changes but the drawing.
    Redraw,
    /// A fleet sync cycle ended: the link's state (docs/fleet.md).
    Fleet(crate::fleet::FleetStatus),
}

/// Which kind of command failed with an internal error (a caught panic), so the
/// screen can say what was not done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crashed {
    SignIn,
    Verify,
    Record,
    Other,
}

impl Crashed {
    pub fn of(c: &Command) -> Self {
        match c {
            Command::SignIn { .. } | Command::Unlock { .. } => Crashed::SignIn,
            Command::Verify { .. } => Crashed::Verify,
            Command::Record { .. } => Crashed::Record,
            _ => Crashed::Other,
        }
    }
}

/// Longest scanner line kept, in bytes (a QR holds at most ~4.3 K characters).
pub const MAX_LINE: usize = 8192;

/// A side effect for the runtime to perform off the UI task.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Check a PIN; audits `sign_in`, `pin_failed` or `account_locked`.
    SignIn {
        id: String,
        pin: String,
    },
    /// A supervisor unlocks a locked-out officer; audits the unlock (`settings_change`)
    /// or the refusal (`pin_failed` for a failed supervisor PIN, `settings_change`
    /// otherwise).
    Unlock {
        officer: String,
        supervisor: String,
        pin: String,
    },
    /// Verify a pair; audits the `verdict`.
    Verify {
        qr: String,
        mrz: String,
        at: Checkpoint,
        officer: String,
    },
    /// Audits `checklist_confirm`, then records the crossing with its audit row.
    Record {
        decision: Box<Decision>,
        at: Checkpoint,
        officer: String,
    },
    Audit {
        kind: AuditKind,
        officer: Option<String>,
        details: serde_json::Value,
    },
    LoadHistory,
    Quit,
}

impl Model {
    pub fn new(
        settings: Settings,
        lang: Lang,
        direction: Direction,
        sources: &[&str],
        trust: TrustSummary,
        today: Date,
        now: Instant,
    ) -> Self {
        let officer = settings.demo.then(|| Officer {
            id: DEMO_OFFICER.into(),
            role: Role::Supervisor,
        });
        Model {
            screen: if officer.is_some() {
                Screen::Main
            } else {
                Screen::SignIn
            },
            officer,
            settings,
            lang,
            direction,
            signin: SignInForm::default(),
            line: String::new(),
            line_dropped: 0,
            wedge: Wedge::new(KEYBOARD),
            mrz_half: false,
            qr: None,
            mrz: None,
            pair_started: None,
            verifying: false,
            shown: None,
            queued: VecDeque::new(),
            notice: None,
            history: Vec::new(),
            show_history: false,
            shift: Shift::default(),
            help: false,
            confirm_quit: false,
            fleet: None,
            sources: sources
                .iter()
                .map(|n| SourceState {
                    name: n.to_string(),
                    // The keyboard is the terminal itself; devices report when they open.
                    status: if *n == KEYBOARD {
                        SourceStatus::Connected
                    } else {
                        SourceStatus::Disconnected
                    },
                    detail: None,
                })
                .collect(),
            trust,
            now,
            clock: String::new(),
            today,
            quit: false,
        }
    }

    /// The checkpoint date, place and direction of a check made now.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            date: self.settings.date_override.unwrap_or(self.today),
            code: self.settings.checkpoint.clone(),
            direction: self.direction,
        }
    }

    fn officer_id(&self) -> Option<String> {
        self.officer.as_ref().map(|o| o.id.clone())
    }

    /// Leaving now would abandon a decision (the leave dialog warns; the audit
    /// records it).
    pub fn decision_open(&self) -> bool {
        open_decision(self).is_some()
    }

    /// A dialog holds the screen: new scans are queued.
    pub fn dialog_open(&self) -> bool {
        self.verifying || self.shown.as_ref().is_some_and(Shown::is_open)
    }

    /// Forgets the current traveller's half-finished input.
    fn clear_pair(&mut self) {
        self.qr = None;
        self.mrz = None;
        self.pair_started = None;
        // A lone MRZ line is dropped (the assembler reports it; nobody needs to know).
        let _ = self.wedge.flush();
        self.mrz_half = false;
    }

    fn sign_out(&mut self) {
        let keep = (self.settings.clone(), self.lang, self.direction);
        self.officer = None;
        self.screen = Screen::SignIn;
        self.signin = SignInForm {
            message: Some(Notice::new("signin.signed_out", Level::Info)),
            ..SignInForm::default()
        };
        self.line.clear();
        self.line_dropped = 0;
        self.clear_pair();
        self.verifying = false;
        self.shown = None;
        self.queued.clear();
        self.notice = None;
        self.help = false;
        self.show_history = false;
        self.shift = Shift::default();
        (self.settings, self.lang, self.direction) = keep;
    }
}

/// Applies one message; returns the side effects to run, in order.
pub fn update(m: &mut Model, msg: Message) -> Vec<Command> {
    let mut out = Vec::new();
    match msg {
        Message::Key(k) if k.kind != KeyEventKind::Release => key(m, k, &mut out),
        Message::Key(_) => {}
        Message::Scan(ev) => scan(m, ev, &mut out),
        Message::Tick { now, clock, today } => {
            m.now = now;
            m.clock = clock;
            m.today = today;
            // The training officer is signed in from the start: the shift begins at
            // the first clock reading.
            if m.officer.is_some() && m.shift.since.is_empty() {
                m.shift.since = m.clock.clone();
            }
            let waiting = m.pair_started.is_some() || m.mrz_half;
            if waiting
                && m.pair_started
                    .is_some_and(|t| now.duration_since(t) >= m.settings.pair_timeout)
            {
                m.clear_pair();
                m.notice = Some(Notice::new("scan.timeout", Level::Warn));
            }
        }
        Message::SignedIn(r) => {
            m.signin.busy = false;
            m.signin.pin.clear();
            match r {
                Ok(SignIn::Ok { id, role }) => {
                    m.officer = Some(Officer { id, role });
                    m.screen = Screen::Main;
                    m.signin = SignInForm::default();
                    m.notice = None;
                    m.shift = Shift {
                        since: m.clock.clone(),
                        ..Shift::default()
                    };
                    out.push(Command::LoadHistory);
                }
                Ok(SignIn::WrongPin { remaining }) => {
                    m.signin.message = Some(
                        Notice::new("signin.wrong_pin", Level::Error)
                            .arg("n", remaining.to_string()),
                    );
                }
                Ok(SignIn::Unknown) => {
                    m.signin.message = Some(Notice::new("signin.unknown", Level::Error));
                }
                Ok(SignIn::Locked) => {
                    m.signin.message = Some(Notice::new("signin.locked", Level::Error));
                }
                Ok(SignIn::NowLocked) => {
                    m.signin.message = Some(Notice::new("signin.now_locked", Level::Error));
                }
                Err(e) => {
                    m.signin.message = Some(e.notice());
                }
            }
        }
        Message::Unlocked(r) => unlocked(m, r),
        Message::Verified(r, at) => {
            m.verifying = false;
            match r {
                Ok(decision) => {
                    if decision.verdict == Verdict::Reject && m.officer.is_some() {
                        m.shift.reject += 1;
                    }
                    let stage = match decision.verdict {
                        Verdict::Accept => Stage::Checklist,
                        Verdict::Reject => Stage::Final,
                    };
                    m.shown = Some(Shown {
                        decision: *decision,
                        at,
                        stage,
                    });
                    m.notice = None;
                    out.push(Command::LoadHistory);
                }
                Err(e) => {
                    m.notice = Some(e.notice());
                }
            }
            drain_queue(m, &mut out);
        }
        Message::Recorded(r) => {
            if let Some(s) = &mut m.shown {
                match r {
                    Ok(()) => {
                        s.stage = Stage::Recorded;
                        m.shift.accept += 1;
                        let key = match s.at.direction {
                            Direction::Entry => "checklist.recorded_entry",
                            Direction::Exit => "checklist.recorded_exit",
                        };
                        let vn = s
                            .decision
                            .visa
                            .as_ref()
                            .map(|v| v.number.clone())
                            .unwrap_or_default();
                        m.notice = Some(Notice::new(key, Level::Good).arg("vn", vn));
                        out.push(Command::LoadHistory);
                    }
                    Err(e) => {
                        s.stage = Stage::Checklist;
                        m.notice = Some(e.notice());
                    }
                }
            }
            drain_queue(m, &mut out);
        }
        Message::History(rows) => m.history = rows,
        Message::Failed(e) => {
            m.notice = Some(e.notice());
        }
        Message::Crashed(what) => crashed(m, what, &mut out),
        Message::TrustReloaded(Ok(t)) => m.trust = t,
        Message::TrustReloaded(Err(e)) => m.trust.reload_error = Some(e),
        Message::Shutdown => quit(m, "shutdown", &mut out),
        Message::Redraw => {}
        Message::Fleet(status) => m.fleet = Some(status),
    }
    out
}

/// A caught panic in the worker: nothing was decided or recorded; the booth goes on.
fn crashed(m: &mut Model, what: Crashed, out: &mut Vec<Command>) {
    match what {
        Crashed::Verify => {
            m.verifying = false;
            drain_queue(m, out);
            // After the queue: taking a waiting scan clears the notice, and the officer
            // must see that this traveller was not decided.
            m.notice = Some(Notice::new("error.internal_verify", Level::Error));
        }
        Crashed::Record => {
            if let Some(s) = &mut m.shown
                && s.stage == Stage::Recording
            {
                s.stage = Stage::Checklist;
            }
            drain_queue(m, out);
            m.notice = Some(Notice::new("error.internal_record", Level::Error));
        }
        Crashed::SignIn => {
            m.signin.busy = false;
            m.signin.pin.clear();
            m.signin.message = Some(Notice::new("error.internal_signin", Level::Error));
        }
        Crashed::Other => {
            m.notice = Some(Notice::new("error.internal_other", Level::Error));
        }
    }
}

/// The answer to a supervisor's unlock: back to the plain sign-in form, with the
/// locked officer's ID filled in when it worked.
fn unlocked(m: &mut Model, r: Result<Unlock, Fault>) {
    let f = &mut m.signin;
    let target = f.unlock.take().unwrap_or_default();
    let supervisor = std::mem::take(&mut f.id);
    f.busy = false;
    f.pin.clear();
    f.on_pin = false;
    f.message = Some(match r {
        Ok(Unlock::Done) => {
            f.id = target.clone();
            f.on_pin = true;
            Notice::new("signin.unlock_done", Level::Good)
                .arg("id", target)
                .arg("by", supervisor)
        }
        Ok(Unlock::NotSupervisor) => Notice::new("signin.unlock_not_supervisor", Level::Error),
        Ok(Unlock::NoSuchOfficer) => {
            Notice::new("signin.unlock_unknown", Level::Error).arg("id", target)
        }
        Ok(Unlock::Refused(SignIn::Locked | SignIn::NowLocked)) => {
            Notice::new("signin.unlock_locked", Level::Error)
        }
        Ok(Unlock::Refused(_)) => Notice::new("signin.unlock_wrong_pin", Level::Error),
        Err(e) => e.notice(),
    });
}

/// What a scanned code that is no e-visa looks like, as a catalogue key (empty when
/// nothing is known): the officer learns what was scanned instead.
fn foreign_kind(text: &str) -> &'static str {
    let lower = text.trim().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        "foreign.url"
    } else if lower.starts_with("hc1:") {
        "foreign.hc1"
    } else if lower.starts_with("m1") || lower.starts_with("m2") {
        "foreign.boarding"
    } else {
        ""
    }
}

/// The decision still open when the kiosk is left, as the audit should record it:
/// an ACCEPT whose checklist is not settled, or a verification under way (its verdict
/// is written just before, the worker running commands in order). A crossing being
/// recorded is not open: the record runs before the worker stops.
fn open_decision(m: &Model) -> Option<serde_json::Value> {
    if let Some(s) = &m.shown
        && matches!(s.stage, Stage::Checklist | Stage::Refusing(_))
    {
        return Some(serde_json::json!({
            "stage": "checklist",
            "verdict": "ACCEPT",
            "visa": s.decision.visa.as_ref().map(|v| v.number.clone()),
            "document": s.decision.passport.as_ref().map(|p| format!("{} {}", p.issuing_state, p.document_number)),
            "checkpoint": s.at.code,
            "date": s.at.date.to_string(),
            "direction": s.at.direction.as_str(),
        }));
    }
    m.verifying
        .then(|| serde_json::json!({"stage": "verifying"}))
}

/// Leaves the kiosk (`why`: "quit" after F10 and confirmation, "shutdown" on a
/// signal): an open decision is recorded as abandoned, then the officer signed out.
fn quit(m: &mut Model, why: &str, out: &mut Vec<Command>) {
    m.confirm_quit = false;
    if let Some(mut details) = open_decision(m) {
        details["why"] = why.into();
        out.push(Command::Audit {
            kind: AuditKind::Abandoned,
            officer: m.officer_id(),
            details,
        });
    }
    if let Some(o) = &m.officer {
        out.push(Command::Audit {
            kind: AuditKind::SignOut,
            officer: Some(o.id.clone()),
            details: serde_json::json!({"why": why}),
        });
    }
    m.quit = true;
    out.push(Command::Quit);
}

fn key(m: &mut Model, mut k: KeyEvent, out: &mut Vec<Command>) {
    let mut ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    // In raw mode a line feed (a device or a paste ending lines with LF) reads as
    // Ctrl+J: it ends a line just like Enter (CR).
    if ctrl && matches!(k.code, KeyCode::Char('j' | 'm')) {
        k = KeyEvent::from(KeyCode::Enter);
        ctrl = false;
    }
    // The leave dialog answers first. Any other key closes it and goes on as usual:
    // a scanner starting to type must not be lost, nor leave the kiosk.
    if m.confirm_quit {
        match k.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter if !ctrl => return quit(m, "quit", out),
            KeyCode::Esc | KeyCode::Char('n' | 'N') if !ctrl => {
                m.confirm_quit = false;
                return;
            }
            KeyCode::F(10) => return,
            _ => m.confirm_quit = false,
        }
    }
    // Keys that work everywhere. No control character leaves the kiosk: Ctrl+C is
    // byte 0x03, the ETX end marker scanners and MRZ readers type.
    match k.code {
        KeyCode::F(10) => {
            m.confirm_quit = true;
            return;
        }
        KeyCode::F(2) => {
            m.lang = m.lang.next();
            if let Some(id) = m.officer_id() {
                out.push(Command::Audit {
                    kind: AuditKind::SettingsChange,
                    officer: Some(id),
                    details: serde_json::json!({"language": m.lang.code()}),
                });
            }
            return;
        }
        KeyCode::F(1) => {
            m.help = !m.help;
            return;
        }
        _ => {}
    }
    match m.screen {
        Screen::SignIn => sign_in_key(m, k, ctrl, out),
        Screen::Main => main_key(m, k, ctrl, out),
    }
}

fn sign_in_key(m: &mut Model, k: KeyEvent, ctrl: bool, out: &mut Vec<Command>) {
    let f = &mut m.signin;
    if f.busy {
        return;
    }
    match k.code {
        // Control characters (a scanner's STX/ETX, say) are no part of an ID or PIN.
        KeyCode::Char(_) if ctrl => {}
        KeyCode::Esc if m.help => m.help = false,
        KeyCode::Esc => *f = SignInForm::default(),
        KeyCode::F(7) if f.unlock.is_none() => {
            let target = f.id.trim().to_string();
            *f = if target.is_empty() {
                SignInForm {
                    message: Some(Notice::new("signin.unlock_need_id", Level::Warn)),
                    ..SignInForm::default()
                }
            } else {
                SignInForm {
                    message: Some(Notice::new("signin.unlock_for", Level::Info).arg("id", &target)),
                    unlock: Some(target),
                    ..SignInForm::default()
                }
            };
        }
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => f.on_pin = !f.on_pin,
        KeyCode::Backspace => {
            if f.on_pin {
                f.pin.pop();
            } else {
                f.id.pop();
            }
        }
        KeyCode::Enter if f.swallow => f.swallow = false,
        KeyCode::Char(_) if f.swallow => {}
        // A scanned code or MRZ has characters no ID or PIN has: never let a scan
        // become a sign-in attempt (and count against an officer's PIN).
        KeyCode::Char(c)
            if (f.on_pin && (!c.is_ascii_digit() || f.pin.len() >= 12))
                || (!f.on_pin && (!id_char(c) || f.id.len() >= 32)) =>
        {
            *f = SignInForm {
                swallow: true,
                message: Some(Notice::new("signin.scan_ignored", Level::Warn)),
                ..SignInForm::default()
            };
        }
        KeyCode::Enter => {
            if !f.on_pin && !f.id.is_empty() {
                f.on_pin = true;
            } else if f.id.is_empty() || f.pin.is_empty() {
                f.message = Some(Notice::new("signin.empty", Level::Warn));
            } else {
                f.busy = true;
                f.message = Some(Notice::new("signin.checking", Level::Info));
                let (id, pin) = (f.id.trim().to_string(), std::mem::take(&mut f.pin));
                out.push(match &f.unlock {
                    Some(officer) => Command::Unlock {
                        officer: officer.clone(),
                        supervisor: id,
                        pin,
                    },
                    None => Command::SignIn { id, pin },
                });
            }
        }
        KeyCode::Char(c) if f.on_pin => f.pin.push(c),
        KeyCode::Char(c) => f.id.push(c),
        _ => {}
    }
}

fn main_key(m: &mut Model, k: KeyEvent, ctrl: bool, out: &mut Vec<Command>) {
    match k.code {
        // Printable characters always belong to the scan line: scanners type them.
        KeyCode::Char('?') if !ctrl && m.line.is_empty() => m.help = !m.help,
        // A runaway device must not grow the buffer without bound.
        KeyCode::Char(c) if !ctrl && !c.is_control() => {
            if m.line.len() < MAX_LINE && m.line_dropped == 0 {
                m.line.push(c);
            } else {
                m.line_dropped += 1;
            }
        }
        KeyCode::Char(_) => {}
        KeyCode::Backspace => {
            m.line.pop();
        }
        // A line cut short is not the scanned text: say so instead of using it.
        KeyCode::Enter if m.line_dropped > 0 => {
            let n = m.line.chars().count() + std::mem::take(&mut m.line_dropped);
            m.line.clear();
            tracing::warn!(source = KEYBOARD, n, max = MAX_LINE, "scanner line dropped");
            m.notice = Some(
                Notice::new("scan.too_long", Level::Warn)
                    .arg("n", n.to_string())
                    .arg("max", MAX_LINE.to_string()),
            );
        }
        // A scanner ends its line with Enter: a non-empty line is always scanner input.
        KeyCode::Enter if !m.line.is_empty() => {
            let line = std::mem::take(&mut m.line);
            let mut events: Vec<ScanEvent> = m.wedge.push_line(&line).into_iter().collect();
            while let Some(ev) = m.wedge.next_event() {
                events.push(ev);
            }
            if events.is_empty() && is_mrz_line(line.trim()) {
                m.mrz_half = true;
                if m.pair_started.is_none() {
                    m.pair_started = Some(m.now);
                }
                m.notice = Some(Notice::new("scan.mrz_half", Level::Info));
            }
            for ev in events {
                if matches!(ev, ScanEvent::Mrz { .. } | ScanEvent::MrzIncomplete { .. }) {
                    m.mrz_half = false;
                }
                scan(m, ev, out);
            }
        }
        KeyCode::Enter => {
            if let Some(s) = &m.shown
                && let Stage::Refusing(i) = s.stage
            {
                refuse(m, i, out);
            }
        }
        KeyCode::Up | KeyCode::Down => {
            if let Some(s) = &mut m.shown
                && let Stage::Refusing(i) = s.stage
            {
                let n = REFUSE_REASONS.len();
                s.stage = Stage::Refusing(if k.code == KeyCode::Up {
                    (i + n - 1) % n
                } else {
                    (i + 1) % n
                });
            }
        }
        KeyCode::Esc => {
            if m.help {
                m.help = false;
            } else if let Some(s) = &mut m.shown
                && let Stage::Refusing(_) = s.stage
            {
                s.stage = Stage::Checklist;
            } else {
                // Clear everything of the current traveller that is not yet decided.
                m.line.clear();
                m.line_dropped = 0;
                m.clear_pair();
                m.queued.clear();
                if m.shown.as_ref().is_some_and(|s| !s.is_open()) {
                    m.shown = None;
                }
                m.notice = Some(Notice::new("scan.cleared", Level::Info));
            }
        }
        KeyCode::F(3) => match &m.officer {
            Some(o) if o.role == Role::Supervisor => {
                let before = m.direction;
                m.direction = match before {
                    Direction::Entry => Direction::Exit,
                    Direction::Exit => Direction::Entry,
                };
                out.push(Command::Audit {
                    kind: AuditKind::SettingsChange,
                    officer: Some(o.id.clone()),
                    details: serde_json::json!({
                        "direction": m.direction.as_str(),
                        "was": before.as_str(),
                    }),
                });
                let dir_key = match m.direction {
                    Direction::Entry => "status.entry",
                    Direction::Exit => "status.exit",
                };
                m.notice =
                    Some(Notice::new("status.direction_changed", Level::Info).arg("dir", dir_key));
            }
            _ => m.notice = Some(Notice::new("status.direction_denied", Level::Warn)),
        },
        KeyCode::F(4) => m.show_history = !m.show_history,
        KeyCode::F(5) => {
            if let (Some(s), Some(id)) = (&mut m.shown, m.officer.as_ref().map(|o| o.id.clone()))
                && s.stage == Stage::Checklist
            {
                s.stage = Stage::Recording;
                m.notice = Some(Notice::new("checklist.recording", Level::Info));
                out.push(Command::Record {
                    decision: Box::new(s.decision.clone()),
                    at: s.at.clone(),
                    officer: id,
                });
            }
        }
        KeyCode::F(6) => {
            if let Some(s) = &mut m.shown
                && s.stage == Stage::Checklist
            {
                s.stage = Stage::Refusing(0);
            }
        }
        // An ACCEPT waiting for its checklist is settled before the officer leaves.
        KeyCode::F(9) if m.dialog_open() => {
            m.notice = Some(Notice::new("checklist.settle_first", Level::Warn));
        }
        KeyCode::F(9) => {
            if let Some(id) = m.officer_id() {
                out.push(Command::Audit {
                    kind: AuditKind::SignOut,
                    officer: Some(id),
                    details: serde_json::json!({"why": "sign out"}),
                });
            }
            m.sign_out();
        }
        _ => {}
    }
}

fn refuse(m: &mut Model, i: usize, out: &mut Vec<Command>) {
    let Some(s) = &mut m.shown else { return };
    s.stage = Stage::Refused(i);
    m.shift.refused += 1;
    let reason = REFUSE_REASONS[i];
    out.push(Command::Audit {
        kind: AuditKind::ChecklistRefuse,
        officer: m.officer.as_ref().map(|o| o.id.clone()),
        details: serde_json::json!({
            "reason": reason,
            "visa": s.decision.visa.as_ref().map(|v| v.number.clone()),
            "document": s.decision.passport.as_ref().map(|p| format!("{} {}", p.issuing_state, p.document_number)),
            "checkpoint": s.at.code,
            "date": s.at.date.to_string(),
            "direction": s.at.direction.as_str(),
        }),
    });
    out.push(Command::LoadHistory);
    m.notice = Some(
        Notice::new("checklist.refused", Level::Warn).arg("reason", format!("refuse.{reason}")),
    );
    drain_queue(m, out);
}

/// Processes scans that waited for a dialog, once it is settled.
fn drain_queue(m: &mut Model, out: &mut Vec<Command>) {
    while !m.dialog_open() {
        let Some(ev) = m.queued.pop_front() else {
            break;
        };
        take_input(m, ev, out);
    }
}

fn scan(m: &mut Model, ev: ScanEvent, out: &mut Vec<Command>) {
    match ev {
        ScanEvent::Status {
            source,
            status,
            detail,
        } => match m.sources.iter_mut().find(|s| s.name == source) {
            Some(s) => {
                s.status = status;
                s.detail = detail;
            }
            None => m.sources.push(SourceState {
                name: source,
                status,
                detail,
            }),
        },
        _ if m.officer.is_none() => {}
        // Already logged by the source that dropped it; the officer scans again.
        ScanEvent::Unreadable { detail, .. } => {
            let (key, args) = crate::fault::unreadable_detail(&detail);
            let mut n = Notice::new(key, Level::Warn);
            n.args = args;
            m.notice = Some(n);
        }
        ScanEvent::MrzIncomplete { .. } => {
            m.notice = Some(Notice::new("scan.mrz_incomplete", Level::Warn));
        }
        ev @ (ScanEvent::Code { .. } | ScanEvent::Mrz { .. }) => {
            if m.dialog_open() {
                m.queued.push_back(ev);
                m.notice = Some(Notice::new("scan.queued", Level::Info));
            } else {
                take_input(m, ev, out);
            }
        }
    }
}

/// One half of a traveller's pair arrives; when both are there, verify.
fn take_input(m: &mut Model, ev: ScanEvent, out: &mut Vec<Command>) {
    // The first input of the next traveller replaces the previous verdict.
    if m.shown.is_some() {
        m.shown = None;
    }
    match ev {
        ScanEvent::Code { text, .. } => {
            // Hostile text is parsed here on the screen's thread: a panic in the parser
            // must not take the kiosk down. The code then goes to the worker, which
            // catches it again and reports the internal error.
            let foreign = super::worker::guarded(|| {
                let read = rules::read_visa(&text, &TrustStore::default());
                read.is_foreign_code().then(|| foreign_kind(&text))
            });
            if let Ok(Some(what)) = foreign {
                m.notice = Some(Notice::new("scan.foreign", Level::Warn).arg("what", what));
                return;
            }
            m.qr = Some(text);
        }
        ScanEvent::Mrz { text, .. } => m.mrz = Some(text),
        _ => return,
    }
    m.notice = None;
    if m.pair_started.is_none() {
        m.pair_started = Some(m.now);
    }
    if let (Some(qr), Some(mrz), Some(officer)) = (&m.qr, &m.mrz, m.officer_id()) {
        out.push(Command::Verify {
            qr: qr.clone(),
            mrz: mrz.clone(),
            at: m.checkpoint(),
            officer,
        });
        m.verifying = true;
        m.clear_pair();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    pub(crate) fn model() -> Model {
        Model::new(
            Settings {
                checkpoint: "NQZ".into(),
                terminal_id: "t1".into(),
                pair_timeout: Duration::from_secs(60),
                trust_update_max_age_days: 30,
                demo: true,
                demo_account: true,
                date_override: None,
            },
            Lang::En,
            Direction::Entry,
            &["keyboard"],
            TrustSummary::default(),
            date!(2026 - 11 - 25),
            Instant::now(),
        )
    }

    fn typed(m: &mut Model, s: &str) -> Vec<Command> {
        let mut out = Vec::new();
        for c in s.chars() {
            out.extend(update(m, Message::Key(KeyEvent::from(KeyCode::Char(c)))));
        }
        out.extend(update(m, Message::Key(KeyEvent::from(KeyCode::Enter))));
        out
    }

    const L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    const L2: &str = "L898902C36UTO7408122F3104150ZE184226B<<<<<16";

    #[test]
    fn both_inputs_in_either_order_start_one_verification() {
        let mut m = model();
        assert!(typed(&mut m, L1).is_empty());
        assert!(typed(&mut m, L2).is_empty());
        assert!(m.mrz.is_some());
        let cmds = typed(&mut m, "KZV1:ABC");
        assert!(matches!(&cmds[..], [Command::Verify { qr, .. }] if qr == "KZV1:ABC"));
        assert!(m.verifying && m.qr.is_none() && m.mrz.is_none());
    }

    #[test]
    fn line_feed_ends_a_line_like_enter() {
        let mut m = model();
        for c in "KZV1:ABC".chars() {
            update(&mut m, Message::Key(KeyEvent::from(KeyCode::Char(c))));
        }
        let lf = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL);
        update(&mut m, Message::Key(lf));
        assert_eq!(m.qr.as_deref(), Some("KZV1:ABC"));
        assert!(m.line.is_empty());
    }

    #[test]
    fn a_scan_during_the_checklist_waits_for_it() {
        let mut m = model();
        m.shown = Some(Shown {
            decision: Decision {
                verdict: Verdict::Accept,
                reasons: vec![],
                visa: None,
                passport: None,
                mismatched: vec![],
                entries_used: 0,
                signer: None,
            },
            at: m.checkpoint(),
            stage: Stage::Checklist,
        });
        typed(&mut m, "KZV1:NEXT");
        assert!(m.qr.is_none());
        assert_eq!(m.queued.len(), 1);
        // Refusing settles the dialog; the kept scan is then taken.
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(6))));
        let cmds = update(&mut m, Message::Key(KeyEvent::from(KeyCode::Enter)));
        assert!(matches!(
            &cmds[0],
            Command::Audit {
                kind: AuditKind::ChecklistRefuse,
                ..
            }
        ));
        assert!(
            m.shown.is_none(),
            "the next traveller's scan replaces the verdict"
        );
        assert_eq!(m.qr.as_deref(), Some("KZV1:NEXT"));
    }

    #[test]
    fn a_scan_on_the_sign_in_screen_is_never_a_sign_in_attempt() {
        let mut m = model();
        m.sign_out();
        let mut cmds = typed(&mut m, "KZV1:NCFD60YA0T9WTWG SLK/-4469");
        cmds.extend(typed(&mut m, L1));
        cmds.extend(typed(&mut m, L2));
        assert!(cmds.is_empty(), "{cmds:?}");
        assert_eq!(
            m.signin.message.as_ref().unwrap().key,
            "signin.scan_ignored"
        );
        assert!(m.signin.id.is_empty() && m.signin.pin.is_empty());
        // The officer's own typing still works afterwards.
        typed(&mut m, "O1");
        let cmds = typed(&mut m, "1234");
        assert!(matches!(&cmds[..], [Command::SignIn { id, pin }] if id == "O1" && pin == "1234"));
    }

    #[test]
    fn foreign_code_keeps_waiting() {
        let mut m = model();
        typed(&mut m, "https://example.org/");
        assert!(m.qr.is_none());
        assert_eq!(m.notice.as_ref().unwrap().key, "scan.foreign");
    }

    #[test]
    fn escape_and_timeout_clear_a_half_pair() {
        let mut m = model();
        typed(&mut m, "KZV1:ABC");
        assert!(m.qr.is_some());
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::Esc)));
        assert!(m.qr.is_none());
        typed(&mut m, L1);
        let later = m.now + Duration::from_secs(61);
        let today = m.today;
        update(
            &mut m,
            Message::Tick {
                now: later,
                clock: String::new(),
                today,
            },
        );
        assert!(!m.mrz_half);
        assert_eq!(m.notice.as_ref().unwrap().key, "scan.timeout");
    }

    fn open_accept(m: &mut Model) {
        m.shown = Some(Shown {
            decision: Decision {
                verdict: Verdict::Accept,
                reasons: vec![],
                visa: None,
                passport: None,
                mismatched: vec![],
                entries_used: 0,
                signer: None,
            },
            at: m.checkpoint(),
            stage: Stage::Checklist,
        });
    }

    fn ctrl(c: char) -> Message {
        Message::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
    }

    /// Byte 0x03 is Ctrl+C in raw mode and the ETX end marker scanners type.
    #[test]
    fn byte_0x03_and_every_other_control_key_never_quit_the_kiosk() {
        // What crossterm makes of the bytes 0x00-0x1f a scanner may send.
        let keys: Vec<char> = ('a'..='z').chain('4'..='7').chain([' ']).collect();
        for screen_signed_in in [true, false] {
            let mut m = model();
            if screen_signed_in {
                open_accept(&mut m);
            } else {
                m.sign_out();
            }
            for &c in &keys {
                let cmds = update(&mut m, ctrl(c));
                assert!(!cmds.contains(&Command::Quit), "Ctrl+{c} quit");
                assert!(!m.quit && !m.confirm_quit, "Ctrl+{c}");
            }
            if screen_signed_in {
                assert_eq!(m.shown.as_ref().unwrap().stage, Stage::Checklist);
            } else {
                assert!(m.signin.id.is_empty(), "control keys typed into the ID");
            }
        }
    }

    #[test]
    fn f10_asks_first_and_esc_or_n_stays() {
        let mut m = model();
        for stay in [KeyCode::Esc, KeyCode::Char('n'), KeyCode::Char('N')] {
            assert!(update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(10)))).is_empty());
            assert!(m.confirm_quit && !m.quit);
            assert!(update(&mut m, Message::Key(KeyEvent::from(stay))).is_empty());
            assert!(!m.confirm_quit && !m.quit);
        }
        // A scanner starting to type closes the question; its line is kept.
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(10))));
        typed(&mut m, "KZV1:ABC");
        assert!(!m.quit && !m.confirm_quit);
        assert_eq!(m.qr.as_deref(), Some("KZV1:ABC"));
        for yes in [KeyCode::Char('y'), KeyCode::Enter] {
            let mut m = model();
            update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(10))));
            let cmds = update(&mut m, Message::Key(KeyEvent::from(yes)));
            assert!(m.quit);
            assert_eq!(cmds.last(), Some(&Command::Quit));
            assert!(matches!(
                &cmds[0],
                Command::Audit {
                    kind: AuditKind::SignOut,
                    ..
                }
            ));
        }
    }

    #[test]
    fn leaving_with_an_open_accept_records_it_abandoned() {
        let mut m = model();
        open_accept(&mut m);
        assert!(m.decision_open());
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(10))));
        let cmds = update(&mut m, Message::Key(KeyEvent::from(KeyCode::Char('y'))));
        let kinds: Vec<&str> = cmds
            .iter()
            .map(|c| match c {
                Command::Audit { kind, .. } => kind.as_str(),
                Command::Quit => "QUIT",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["abandoned", "sign_out", "QUIT"]);
        let Command::Audit {
            details, officer, ..
        } = &cmds[0]
        else {
            unreachable!()
        };
        assert_eq!(details["stage"], "checklist");
        assert_eq!(details["why"], "quit");
        assert_eq!(officer.as_deref(), Some(DEMO_OFFICER));
    }

    #[test]
    fn sigterm_leaves_at_once_and_records_a_pending_verdict_abandoned() {
        let mut m = model();
        typed(&mut m, "KZV1:ABC");
        typed(&mut m, L1);
        typed(&mut m, L2);
        assert!(m.verifying);
        let cmds = update(&mut m, Message::Shutdown);
        assert!(m.quit);
        assert!(matches!(
            &cmds[0],
            Command::Audit { kind: AuditKind::Abandoned, details, .. }
                if details["stage"] == "verifying" && details["why"] == "shutdown"
        ));
        // A REJECT on screen is final: nothing is abandoned.
        let mut m = model();
        open_accept(&mut m);
        m.shown.as_mut().unwrap().stage = Stage::Final;
        let cmds = update(&mut m, Message::Shutdown);
        assert!(!cmds.iter().any(|c| matches!(
            c,
            Command::Audit {
                kind: AuditKind::Abandoned,
                ..
            }
        )));
    }

    #[test]
    fn a_panic_in_a_decision_is_an_internal_error_and_the_next_traveller_is_served() {
        let mut m = model();
        typed(&mut m, "KZV1:FIRST");
        typed(&mut m, L1);
        typed(&mut m, L2);
        assert!(m.verifying);
        // Scans that arrive meanwhile wait, then go on after the failure.
        typed(&mut m, "KZV1:NEXT");
        update(&mut m, Message::Crashed(Crashed::Verify));
        assert!(!m.verifying);
        assert_eq!(m.notice.as_ref().unwrap().key, "error.internal_verify");
        assert_eq!(m.qr.as_deref(), Some("KZV1:NEXT"));
        let cmds = [typed(&mut m, L1), typed(&mut m, L2)].concat();
        assert!(matches!(&cmds[..], [Command::Verify { qr, .. }] if qr == "KZV1:NEXT"));
        // A crash while recording gives the checklist back: nothing was recorded.
        let mut m = model();
        open_accept(&mut m);
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(5))));
        update(&mut m, Message::Crashed(Crashed::Record));
        assert_eq!(m.shown.as_ref().unwrap().stage, Stage::Checklist);
        assert_eq!(m.notice.as_ref().unwrap().key, "error.internal_record");
    }

    #[test]
    fn an_over_long_scanner_line_is_reported_unreadable_not_used_cut_short() {
        let mut m = model();
        let long = format!("KZV1:{}", "A".repeat(MAX_LINE + 100));
        let cmds = typed(&mut m, &long);
        assert!(cmds.is_empty() && m.qr.is_none());
        let n = m.notice.as_ref().unwrap();
        assert_eq!(n.key, "scan.too_long");
        assert_eq!(
            n.args,
            [("n", long.len().to_string()), ("max", MAX_LINE.to_string())]
        );
        // The next line is read normally.
        typed(&mut m, "KZV1:ABC");
        assert_eq!(m.qr.as_deref(), Some("KZV1:ABC"));
        // A serial source's dropped line is shown the same way.
        update(
            &mut m,
            Message::Scan(ScanEvent::Unreadable {
                source: "serial-scanner".into(),
                detail: "line of 11 bytes is not valid UTF-8, dropped".into(),
            }),
        );
        let n = m.notice.as_ref().unwrap();
        assert_eq!(n.key, "scan.unreadable_text");
        assert_eq!(n.args, [("n", "11".to_string())]);
        assert_eq!(
            n.detail, None,
            "the source's English words are in the log only"
        );
    }

    #[test]
    fn only_a_supervisor_changes_direction() {
        let mut m = model();
        m.officer.as_mut().unwrap().role = Role::Officer;
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(3))));
        assert_eq!(m.direction, Direction::Entry);
        m.officer.as_mut().unwrap().role = Role::Supervisor;
        let c = update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(3))));
        assert_eq!(m.direction, Direction::Exit);
        assert!(matches!(
            &c[..],
            [Command::Audit {
                kind: AuditKind::SettingsChange,
                ..
            }]
        ));
    }

    fn decided(verdict: Verdict) -> Message {
        Message::Verified(
            Ok(Box::new(Decision {
                verdict,
                reasons: vec![],
                visa: None,
                passport: None,
                mismatched: vec![],
                entries_used: 0,
                signer: None,
            })),
            model().checkpoint(),
        )
    }

    fn signed_in_as(m: &mut Model, id: &str, clock: &str) {
        m.clock = clock.into();
        update(
            m,
            Message::SignedIn(Ok(SignIn::Ok {
                id: id.into(),
                role: Role::Officer,
            })),
        );
    }

    /// Issue 12: the history shows the current shift, counted from this officer's
    /// sign-in: recorded crossings, REJECTs, and ACCEPTs refused at the checklist.
    #[test]
    fn the_shift_counts_accepts_rejects_and_refusals_since_sign_in() {
        let mut m = model();
        m.officer = None;
        m.screen = Screen::SignIn;
        signed_in_as(&mut m, "O-1", "2026-11-25 08:00");
        assert_eq!(m.shift.since, "2026-11-25 08:00");
        // Two REJECTs.
        update(&mut m, decided(Verdict::Reject));
        update(&mut m, decided(Verdict::Reject));
        // An ACCEPT confirmed and recorded.
        update(&mut m, decided(Verdict::Accept));
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(5))));
        update(&mut m, Message::Recorded(Ok(())));
        // An ACCEPT refused at the checklist (F6, the first reason, Enter).
        update(&mut m, decided(Verdict::Accept));
        for k in [KeyCode::F(6), KeyCode::Enter] {
            update(&mut m, Message::Key(KeyEvent::from(k)));
        }
        // A failed recording counts nothing.
        update(&mut m, decided(Verdict::Accept));
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(5))));
        update(
            &mut m,
            Message::Recorded(Err(Fault::new(
                crate::fault::FaultKind::DiskFull,
                "disk full",
            ))),
        );
        assert_eq!(
            m.shift,
            Shift {
                since: "2026-11-25 08:00".into(),
                accept: 1,
                reject: 2,
                refused: 1,
            }
        );
        // The next officer's shift starts from nothing.
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(6))));
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::Enter)));
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(9))));
        assert_eq!(m.shift, Shift::default());
        signed_in_as(&mut m, "O-2", "2026-11-25 16:00");
        assert_eq!(
            m.shift,
            Shift {
                since: "2026-11-25 16:00".into(),
                ..Shift::default()
            }
        );
    }

    fn locked_out(m: &mut Model) {
        m.officer = None;
        m.screen = Screen::SignIn;
        // `typed` ends with Enter: the ID's moves to the PIN, the PIN's signs in.
        typed(m, "O-7");
        typed(m, "1111");
        update(m, Message::SignedIn(Ok(SignIn::Locked)));
        assert_eq!(m.signin.message.as_ref().unwrap().key, "signin.locked");
    }

    /// F7 after a lock-out: the supervisor's ID and PIN go to an unlock command for the
    /// locked officer, never to a sign-in; the answer is shown and the form resets.
    #[test]
    fn a_supervisor_unlocks_a_locked_out_officer_with_their_own_pin() {
        let mut m = model();
        locked_out(&mut m);
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(7))));
        assert_eq!(m.signin.unlock.as_deref(), Some("O-7"));
        assert!(m.signin.id.is_empty() && m.signin.pin.is_empty());
        typed(&mut m, "S-1");
        let c = typed(&mut m, "98765");
        assert_eq!(
            c,
            [Command::Unlock {
                officer: "O-7".into(),
                supervisor: "S-1".into(),
                pin: "98765".into(),
            }]
        );
        assert!(m.signin.pin.is_empty() && m.signin.busy);
        update(&mut m, Message::Unlocked(Ok(Unlock::Done)));
        let n = m.signin.message.clone().unwrap();
        assert_eq!(n.key, "signin.unlock_done");
        assert_eq!(
            n.args,
            [("id", "O-7".to_string()), ("by", "S-1".to_string())]
        );
        // Back to the plain form, the unlocked officer's ID ready for their PIN.
        assert_eq!(m.signin.unlock, None);
        assert_eq!(m.signin.id, "O-7");
        assert!(m.signin.on_pin && !m.signin.busy);
        assert_eq!(m.screen, Screen::SignIn);
        assert!(m.officer.is_none());
    }

    /// A wrong supervisor PIN, an officer who is no supervisor and a locked supervisor
    /// unlock nothing, and each says why (the worker audits each; see its tests).
    #[test]
    fn refused_unlocks_say_why_and_sign_nobody_in() {
        for (answer, key) in [
            (
                Unlock::Refused(SignIn::WrongPin { remaining: 4 }),
                "signin.unlock_wrong_pin",
            ),
            (Unlock::Refused(SignIn::Unknown), "signin.unlock_wrong_pin"),
            (Unlock::NotSupervisor, "signin.unlock_not_supervisor"),
            (Unlock::Refused(SignIn::Locked), "signin.unlock_locked"),
            (Unlock::Refused(SignIn::NowLocked), "signin.unlock_locked"),
            (Unlock::NoSuchOfficer, "signin.unlock_unknown"),
        ] {
            let mut m = model();
            locked_out(&mut m);
            update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(7))));
            typed(&mut m, "S-1");
            assert_eq!(typed(&mut m, "1").len(), 1);
            update(&mut m, Message::Unlocked(Ok(answer)));
            assert_eq!(m.signin.message.as_ref().unwrap().key, key);
            assert_eq!(m.signin.unlock, None);
            assert!(m.signin.id.is_empty() && m.signin.pin.is_empty());
            assert!(m.officer.is_none() && m.screen == Screen::SignIn);
        }
        // F7 with no ID typed asks for the locked officer's ID first.
        let mut m = model();
        m.officer = None;
        m.screen = Screen::SignIn;
        let c = update(&mut m, Message::Key(KeyEvent::from(KeyCode::F(7))));
        assert!(c.is_empty() && m.signin.unlock.is_none());
        assert_eq!(
            m.signin.message.as_ref().unwrap().key,
            "signin.unlock_need_id"
        );
    }
}
