//! `evisa kiosk`: the officer's full-screen booth terminal (ratatui). Settings are
//! resolved and the trust store and database opened before the screen opens, so a
//! bad setting is a plain error message. Then one `tokio::select!` joins keyboard
//! input, device scan events, worker results, a clock tick and SIGTERM/SIGINT, feeding
//! [`app::update`]; [`view::view`] draws. The terminal is restored on every exit path.
//! A signed update applied while the kiosk runs takes effect without a restart: the
//! worker notices it between two commands and swaps in the new trust store
//! ([`worker::UpdateWatch`]); the status bar then shows the update's date.
//!
//! Submodules: [`app`] (model, messages, update), [`view`] (drawing), [`worker`] (the
//! thread owning the database), [`bigtext`] (banner letters), [`cli`] (officer commands
//! and settings). Keyboard-wedge lines go through [`evisa_scan::WedgeAssembler`].

use evisa_store::audit::AuditKind;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use crossterm::event::Event;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::config::{ConfigError, KioskConfig, Sources};
use evisa_core::dates;
use evisa_core::dates::KZ_OFFSET;
use evisa_scan::ScanEvent;
use evisa_store::officers::Role;
use evisa_store::store::Store;
use evisa_store::terminal::{Terminal, kazakhstan_now_rfc3339};

use crate::app::{self, Command, Message, Model, Settings, TrustSummary};
use crate::{view, worker};

/// Why the kiosk could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("refusing to start: {0}")]
    UnsafePermissions(String),
    #[error("cannot open the log file {path}: {source}")]
    LogFile {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start the log: {0}")]
    Log(String),
    #[error(transparent)]
    Store(#[from] evisa_store::StoreError),
    #[error(transparent)]
    Officer(#[from] evisa_store::officers::OfficerError),
    #[error(transparent)]
    Trust(#[from] evisa_core::trust::TrustError),
    #[error(transparent)]
    Terminal(#[from] evisa_store::terminal::TerminalError),
    #[error(transparent)]
    Update(#[from] evisa_core::update::UpdateError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot open the terminal screen: {0}")]
    Screen(std::io::Error),
    #[error("terminal: {0}")]
    Io(#[from] std::io::Error),
    #[error("the kiosk worker stopped")]
    WorkerStopped,
}

type Result<T> = std::result::Result<T, KioskError>;

/// Where the settings come from: the file, then the command-line overrides.
#[derive(Args, Debug, Clone, Default)]
pub struct SettingsArgs {
    /// Configuration file (TOML; see kiosk.example.toml). Without it, defaults that run
    /// from the repository root: keys/, evisa.db, checkpoint NQZ, entry, English.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Database file (overrides the configured `database`).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

impl SettingsArgs {
    pub fn resolve(&self) -> std::result::Result<KioskConfig, ConfigError> {
        let mut cfg = match &self.config {
            Some(p) => KioskConfig::load(p)?,
            None => KioskConfig::default(),
        };
        if let Some(db) = &self.db {
            cfg.database = db.clone();
        }
        Ok(cfg)
    }
}

#[derive(Args, Debug, Clone, Default)]
pub struct KioskArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Trust-store folder (overrides the configured `trust_store`).
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Training: sign in the built-in demo officer (a supervisor) at once, on a
    /// database in memory (nothing is kept). Refused together with --db or a
    /// configuration that names a `database`.
    #[arg(long)]
    pub demo: bool,
    /// Training and tests only: check as if today were this date (YYYY-MM-DD) instead
    /// of today in Kazakhstan. Shown on screen while in force.
    #[arg(long)]
    pub date: Option<String>,
    /// Append the kiosk's log (caught internal errors, dropped scanner lines, lost
    /// devices) to this file; `EVISA_LOG` sets the level (default `info`). Without it
    /// nothing is logged: the screen is the terminal, so the log cannot go there.
    #[arg(long)]
    pub log: Option<PathBuf>,
}

/// Capacity of the device event channel.
pub const SCAN_CHANNEL: usize = 256;

/// Starts the configured device sources, each on its own thread sending on `tx`
/// (they stop when the kiosk drops the receiver). The keyboard wedge needs nothing
/// here: it is read with the officer's keys.
pub fn start_sources(sources: &Sources, tx: mpsc::Sender<ScanEvent>) {
    use crate::config::{SERIAL_MRZ, SERIAL_SCANNER};
    use evisa_scan::{CancelToken, SerialConfig, spawn_barcode_scanner, spawn_mrz_reader};
    let serial = |name: &str, s: &crate::config::SerialSource| SerialConfig {
        baud: s.baud,
        ..SerialConfig::new(name, s.port.clone())
    };
    if let Some(s) = &sources.serial_scanner {
        spawn_barcode_scanner(serial(SERIAL_SCANNER, s), tx.clone(), CancelToken::new());
    }
    if let Some(s) = &sources.serial_mrz {
        spawn_mrz_reader(serial(SERIAL_MRZ, s), tx.clone(), CancelToken::new());
    }
    if let Some(index) = sources.camera {
        start_camera(index, tx);
    }
}

/// The camera through nokhwa: until the device opens, report it disconnected and try
/// again every 2 s; once open, the scan camera loop handles unplug and retry itself.
#[cfg(feature = "camera")]
fn start_camera(index: u32, tx: mpsc::Sender<ScanEvent>) {
    use crate::config::CAMERA;
    use evisa_scan::{CameraOptions, CancelToken, NokhwaSource, SourceStatus, spawn_camera};
    let spawned = std::thread::Builder::new()
        .name("kiosk-camera-open".into())
        .spawn(move || {
            loop {
                match NokhwaSource::open(index) {
                    Ok(src) => {
                        let opts = CameraOptions {
                            name: CAMERA.into(),
                            ..CameraOptions::default()
                        };
                        spawn_camera(Box::new(src), opts, tx, CancelToken::new()).join();
                        return;
                    }
                    Err(e) => {
                        let ev = ScanEvent::Status {
                            source: CAMERA.into(),
                            status: SourceStatus::Disconnected,
                            detail: Some(e.to_string()),
                        };
                        if tx.blocking_send(ev).is_err() {
                            return;
                        }
                        std::thread::sleep(Duration::from_secs(2));
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the camera thread: {e}");
    }
}

/// Built without the `camera` feature: say so on the status line instead of
/// silently ignoring the configured camera.
#[cfg(not(feature = "camera"))]
fn start_camera(_index: u32, tx: mpsc::Sender<ScanEvent>) {
    use crate::config::CAMERA;
    use evisa_scan::SourceStatus;
    let _ = tx.try_send(ScanEvent::Status {
        source: CAMERA.into(),
        status: SourceStatus::Disconnected,
        // A catalogue key: the status line shows it in the officer's language.
        detail: Some("source.no_camera".into()),
    });
}

fn clock_now() -> (String, time::Date) {
    let t = OffsetDateTime::now_utc().to_offset(KZ_OFFSET);
    (
        format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()),
        t.date(),
    )
}

/// Puts the terminal back in its normal mode: raw mode off (line editing and echo
/// back), main screen, cursor shown. Safe to call more than once.
fn restore_terminal() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Calls [`restore_terminal`] when dropped, whether the loop ended normally, with an
/// error or by unwinding.
struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// A panic anywhere but inside the worker's guarded commands ends the kiosk: the
/// terminal is restored first, so the message is readable and the shell usable, then
/// the previous hook reports it. A panic the worker catches must not touch the
/// screen (the kiosk carries on): it only goes to the log.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if worker::panic_is_caught() {
            let text = info.to_string();
            tracing::error!(
                panic = %crate::worker::log_text(&text),
                "a kiosk command panicked; caught, the decision was not taken"
            );
            return;
        }
        restore_terminal();
        previous(info);
    }));
}

/// Opens the full-screen terminal. Not `ratatui::try_init`: its panic hook restores the
/// terminal on every panic, including those the worker catches and survives.
/// A failure half-way puts back what was already changed.
fn open_screen() -> Result<ratatui::DefaultTerminal> {
    crossterm::terminal::enable_raw_mode()?;
    let opened = crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)
        .and_then(|()| {
            ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
        });
    if opened.is_err() {
        restore_terminal();
    }
    Ok(opened?)
}

/// `--log FILE`: a plain-text log appended to the file. Log lines that carry untrusted
/// text escape it themselves (`untrusted::printable`).
fn start_log(path: &std::path::Path) -> Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| KioskError::LogFile {
            path: path.display().to_string(),
            source,
        })?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("EVISA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .map_err(|e| KioskError::Log(e.to_string()))
}

/// Whoever can write the trust store, the configuration or the database can forge a
/// verdict: world-writable refuses to start, group-writable warns.
fn check_permissions(
    cfg: &KioskConfig,
    config: Option<&std::path::Path>,
    uses_db: bool,
    warn: &mut dyn FnMut(&str),
) -> Result<()> {
    let db = (uses_db && cfg.database.exists()).then_some(cfg.database.as_path());
    for path in std::iter::once(cfg.trust_store.as_path())
        .chain(config)
        .chain(db)
    {
        if let Some(f) = evisa_store::permissions::check(path) {
            if f.world_writable {
                return Err(KioskError::UnsafePermissions(f.description));
            }
            warn(&f.description);
        }
    }
    Ok(())
}

/// Runs the kiosk until the officer quits or a signal arrives. Warnings found before
/// the screen opens (group-writable files) go to `warn`: the library never prints.
pub fn run(args: KioskArgs, warn: &mut dyn FnMut(&str)) -> Result<()> {
    let mut cfg: KioskConfig = args.settings.resolve()?;
    if args.demo {
        if let Some(db) = &args.settings.db {
            return Err(KioskError::Usage(format!(
                "--demo runs on its own in-memory training database and cannot be used with \
                 --db {} (its supervisor signs in without a PIN); drop --demo to use that database",
                db.display()
            )));
        }
        if let Some(c) = &args.settings.config
            && cfg.database_configured
        {
            return Err(KioskError::Usage(format!(
                "--demo runs on its own in-memory training database and cannot be used with \
                 a configuration that names a `database` ({}); drop --demo, or use a \
                 configuration without `database` for training",
                c.display()
            )));
        }
    }
    if let Some(k) = &args.keys {
        cfg.trust_store = k.clone();
    }
    let date_override = args
        .date
        .as_deref()
        .map(|d| {
            dates::parse_iso(d)
                .ok_or_else(|| KioskError::Usage(format!("--date {d:?} is not a YYYY-MM-DD date")))
        })
        .transpose()?;
    // Everything that can fail on a bad setting fails here, before the screen opens.
    check_permissions(&cfg, args.settings.config.as_deref(), !args.demo, warn)?;
    if let Some(p) = &args.log {
        start_log(p)?;
    }
    let demo_account = args.demo;
    let mut terminal = if demo_account {
        let mut store = Store::open_in_memory()?;
        store.add_officer(
            app::DEMO_OFFICER,
            Role::Supervisor,
            app::DEMO_PIN,
            &kazakhstan_now_rfc3339(),
        )?;
        Terminal {
            trust: evisa_store::trustdir::load_dir(&cfg.trust_store)?,
            trust_dir: cfg.trust_store.clone(),
            store: Some(store),
            fleet: None,
        }
    } else {
        let mut t = Terminal::open(&cfg.trust_store, Some(&cfg.database))?;
        // A fleet booth claims entries centrally before recording them (docs/fleet.md).
        if let Some(f) = &cfg.fleet {
            let link = evisa_fleet::Link::new(f, &cfg.terminal_id)
                .map_err(|e| KioskError::Usage(e.to_string()))?;
            t.fleet = Some(Box::new(evisa_fleet::hook::LinkHook(link)));
        }
        t
    };
    // Spec §5: test-only keys only in training; stale import staging folders go.
    evisa_store::import::terminal_start(
        &cfg.trust_store,
        &terminal.trust,
        args.demo || cfg.training,
    )?;
    let last_update = terminal.store.as_mut().and_then(worker::last_trust_update);
    let trust = TrustSummary::of(&terminal.trust, last_update);
    let settings = Settings {
        checkpoint: cfg.checkpoint.clone(),
        terminal_id: cfg.terminal_id.clone(),
        pair_timeout: cfg.pair_timeout,
        trust_update_max_age_days: cfg.trust_update_max_age_days,
        demo: args.demo,
        demo_account,
        date_override,
    };
    let (clock, today) = clock_now();
    let mut model = Model::new(
        settings,
        cfg.language,
        cfg.direction,
        &cfg.sources.names(),
        trust,
        today,
        Instant::now(),
    );
    model.clock = clock;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(KioskError::Runtime)?;
    let training = args.demo || cfg.training;
    rt.block_on(event_loop(model, terminal, cfg, training))
}

/// A future that resolves when the process is asked to stop: SIGTERM, SIGINT or
/// SIGHUP (the terminal went away); Ctrl+C elsewhere. The handlers are installed
/// here, at once, not when the future is first polled.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            _ = hup.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

async fn event_loop(
    mut model: Model,
    terminal: Terminal,
    cfg: KioskConfig,
    training: bool,
) -> Result<()> {
    // Installed before the screen opens, so a signal never finds it unguarded.
    let stop = stop_signal()?;
    tokio::pin!(stop);
    let mut stopped = false;

    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel::<Message>();
    let (scan_tx, mut scan_rx) = mpsc::channel::<ScanEvent>(SCAN_CHANNEL);
    start_sources(&cfg.sources, scan_tx.clone());
    let fleet_sync = match (&cfg.fleet, terminal.fleet.is_some()) {
        (Some(f), true) => Some(
            crate::fleet::spawn(
                f,
                &cfg.terminal_id,
                &cfg.database,
                cfg.update_root_key
                    .clone()
                    .map(|root_pub| evisa_fleet::sync::UpdateTarget {
                        root_pub,
                        keys_dir: cfg.trust_store.clone(),
                        training: cfg.training,
                    }),
                msg_tx.clone(),
            )
            .map_err(|e| KioskError::Usage(e.to_string()))?,
        ),
        _ => None,
    };
    let (cmd_tx, worker) =
        worker::spawn(terminal, cfg.terminal_id.clone(), training, msg_tx.clone());

    install_panic_hook();
    let mut screen = open_screen().map_err(|e| match e {
        KioskError::Io(e) => KioskError::Screen(e),
        other => other,
    })?;
    let _guard = RestoreGuard;

    // Keyboard reader: a plain thread, blocking on crossterm.
    let keys_tx = msg_tx.clone();
    std::thread::Builder::new()
        .name("kiosk-keys".into())
        .spawn(move || {
            while let Ok(ev) = crossterm::event::read() {
                let msg = match ev {
                    Event::Key(k) => Message::Key(k),
                    Event::Resize(..) => Message::Redraw,
                    _ => continue,
                };
                if keys_tx.send(msg).is_err() {
                    break;
                }
            }
        })?;

    if let Some(o) = &model.officer {
        cmd_tx
            .send(Command::Audit {
                kind: AuditKind::SignIn,
                officer: Some(o.id.clone()),
                details: serde_json::json!({"role": o.role.as_str(), "demo": true}),
            })
            .map_err(|_| KioskError::WorkerStopped)?;
    }
    cmd_tx
        .send(Command::LoadHistory)
        .map_err(|_| KioskError::WorkerStopped)?;

    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        screen.draw(|f| view::view(&model, f))?;
        let first = tokio::select! {
            Some(m) = msg_rx.recv() => m,
            Some(ev) = scan_rx.recv() => {
                log_device_words(&ev);
                Message::Scan(ev)
            }
            _ = tick.tick() => {
                let (clock, today) = clock_now();
                Message::Tick { now: Instant::now(), clock, today }
            }
            _ = &mut stop, if !stopped => {
                stopped = true;
                Message::Shutdown
            }
        };
        // A wedge scanner types hundreds of keys in a burst: take all that are
        // waiting before drawing again.
        let mut batch = vec![first];
        while batch.len() < 4096 {
            match msg_rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        for msg in batch {
            for cmd in app::update(&mut model, msg) {
                // The worker also stops at Quit, after the commands queued before it.
                cmd_tx.send(cmd).map_err(|_| KioskError::WorkerStopped)?;
            }
            if model.quit {
                break;
            }
        }
        if model.quit {
            break;
        }
    }
    drop(cmd_tx);
    let _ = worker.join();
    drop(fleet_sync);
    Ok(())
}

/// A device's own words (an operating-system error) for the log: the status bar shows
/// only their category (`fault::device_detail`).
fn log_device_words(ev: &ScanEvent) {
    if let ScanEvent::Status {
        source,
        status,
        detail: Some(d),
    } = ev
    {
        tracing::info!(
            source = %worker::log_text(source),
            status = ?status,
            detail = %worker::log_text(d),
            "input source status"
        );
    }
}
