//! `evisa doctor`: the one command an airport technician runs on a booth. It reads
//! the installed configuration and checks, one line each, what the kiosk needs to
//! serve: the configuration, the trust store and its age, the pinned update root, the
//! database (SQLite integrity and the audit chain), the officer accounts, the clock,
//! free disk, file permissions and every configured device; with a `[fleet]` section,
//! the link to the fleet's server and the clock against the server's.
//!
//! It never changes the booth: the database is opened read-only (never created), no
//! device is read from, nothing is written. Each check ends as one of three:
//! - pass (✔);
//! - warning (⚠): the booth can serve, but someone should look (a trust update older
//!   than `trust_update_max_age_days`, no update root pinned, training mode,
//!   group-writable files, disk getting full, no unlocked supervisor, the fleet
//!   server unreachable: the booth then serves provisionally);
//! - failure (✘): the booth must not serve until it is fixed (the exit status is 1).
//!
//! Exit status: 0 the booth can serve (warnings allowed), 1 a check failed, 2 usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use evisa_core::untrusted::printable;
use evisa_kiosk::config::{KioskConfig, SerialSource};
use evisa_store::audit::{self, Verification};
use evisa_store::officers::Role;
use evisa_store::store::Store;
use evisa_store::{import, permissions, terminal, trustdir};

/// Where the Debian package installs the booth's configuration.
pub const DEFAULT_CONFIG: &str = "/etc/evisa/kiosk.toml";

/// Free space under which the database's disk fails the check: SQLite refuses writes
/// on a full disk, and a booth that cannot record a crossing must not admit anyone.
pub const DISK_FAIL_BYTES: u64 = 64 * 1024 * 1024;
/// Free space under which the disk check warns.
pub const DISK_WARN_BYTES: u64 = 512 * 1024 * 1024;

/// How far the clock may be behind the last recorded event before it fails: clocks
/// stepped by NTP move by fractions of a second, not minutes.
const CLOCK_SLACK_SECS: i64 = 60;

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// The booth's configuration file.
    #[arg(long, env = "EVISA_CONFIG", default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// One JSON object on stdout: {"ok": bool, "checks": [{"name", "ok", "detail", ...}]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Pass,
    Warn,
    Fail,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Pass => "pass",
            Severity::Warn => "warning",
            Severity::Fail => "failure",
        }
    }
    fn mark(self) -> &'static str {
        match self {
            Severity::Pass => "✔",
            Severity::Warn => "⚠",
            Severity::Fail => "✘",
        }
    }
}

/// One line of the report. `name` is stable (scripts and monitoring read it); the
/// detail is for people.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub severity: Severity,
    pub detail: String,
}

impl Check {
    fn new(name: impl Into<String>, severity: Severity, detail: impl Into<String>) -> Self {
        // One line per check: a multi-line message (a TOML error quotes the line at
        // fault) is folded. Details quote file contents, paths and database text:
        // escaped once, here.
        let detail = detail.into();
        let folded = detail
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "|")
            .collect::<Vec<_>>()
            .join(" ");
        Check {
            name: name.into(),
            severity,
            detail: printable(&folded).into_owned(),
        }
    }
    fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(name, Severity::Pass, detail)
    }
    fn warn(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(name, Severity::Warn, detail)
    }
    fn fail(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(name, Severity::Fail, detail)
    }
}

pub fn run(args: DoctorArgs) -> ExitCode {
    let checks = diagnose(&args.config);
    let ok = checks.iter().all(|c| c.severity != Severity::Fail);
    if args.json {
        let list: Vec<_> = checks
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "ok": c.severity != Severity::Fail,
                    "severity": c.severity.as_str(),
                    "detail": c.detail,
                })
            })
            .collect();
        println!("{}", json!({ "ok": ok, "checks": list }));
    } else {
        println!(
            "evisa doctor: {}",
            printable(&args.config.display().to_string())
        );
        for c in &checks {
            println!("{} {}: {}", c.severity.mark(), c.name, c.detail);
        }
        let failed = count(&checks, Severity::Fail);
        let warned = count(&checks, Severity::Warn);
        if ok {
            println!("the booth can serve ({warned} warning(s))");
        } else {
            println!("the booth CANNOT serve: {failed} check(s) failed ({warned} warning(s))");
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn count(checks: &[Check], s: Severity) -> usize {
    checks.iter().filter(|c| c.severity == s).count()
}

/// Every check, in the order a technician fixes things: configuration first (the rest
/// depends on it), then keys, database, clock, disk, permissions and devices.
pub fn diagnose(config: &Path) -> Vec<Check> {
    let cfg = match KioskConfig::load(config) {
        Ok(c) => c,
        Err(e) => {
            return vec![Check::fail(
                "config",
                format!("{e}; nothing else was checked"),
            )];
        }
    };
    let mut checks = vec![config_check(config, &cfg)];
    checks.push(trust_store(&cfg));
    checks.push(update_root(&cfg));
    let mut store = match database(&cfg) {
        Ok((check, store)) => {
            checks.push(check);
            Some(store)
        }
        Err(check) => {
            checks.push(check);
            None
        }
    };
    match store.as_mut() {
        Some(s) => {
            checks.push(trust_update_age(&cfg, s));
            checks.push(officers(s));
            checks.push(clock(s));
        }
        None => {
            for name in ["trust_update", "officers", "clock"] {
                checks.push(Check::warn(name, "not checked: no readable database"));
            }
        }
    }
    drop(store);
    checks.push(disk(&cfg));
    checks.push(file_permissions(config, &cfg));
    checks.extend(devices(&cfg));
    if let Some(f) = &cfg.fleet {
        checks.extend(fleet(&cfg, f));
    }
    checks
}

/// How far the booth's clock may be from the fleet server's: claims, crossings and
/// the sync lag are time-stamped by both sides, and NTP keeps clocks within a second.
pub const FLEET_SKEW_FAIL_SECS: f64 = 120.0;

/// The `fleet` and `clock.fleet` checks: the link (within the connect timeout, with
/// the booth's own credentials, whose file must not be readable by others), the
/// decisions waiting to be pushed and the open conflicts, and the server's clock
/// against the booth's. An unreachable server only warns: the booth serves offline,
/// provisionally, and its decisions are checked when the link returns.
fn fleet(cfg: &KioskConfig, f: &evisa_fleet::FleetConfig) -> Vec<Check> {
    let server = format!("{}:{}", f.host, f.port);
    let local = Store::open_read_only(&cfg.database)
        .and_then(|s| s.link_state())
        .map_err(|e| e.to_string());
    let backlog = match &local {
        Ok(s) => format!(
            "{} decision(s) waiting to be pushed, {} conflict(s) found by this booth",
            s.waiting, s.conflicts
        ),
        Err(e) => format!("this booth's fleet state is unreadable ({e})"),
    };
    let mut link = match evisa_fleet::Link::new(f, &cfg.terminal_id) {
        Ok(l) => l,
        Err(e) => {
            return vec![
                Check::fail("fleet", format!("{e}")),
                Check::warn("clock.fleet", "not checked: no usable fleet credentials"),
            ];
        }
    };
    let before = OffsetDateTime::now_utc();
    let answer = link.server_clock_and_conflicts();
    let after = OffsetDateTime::now_utc();
    match answer {
        Err(e) => vec![
            Check::warn(
                "fleet",
                format!(
                    "fleet server {server} unreachable ({e}); the booth serves OFFLINE: entries are decided on what it knows and are PROVISIONAL until the link returns; {backlog}"
                ),
            ),
            Check::warn(
                "clock.fleet",
                "not checked: the fleet server did not answer",
            ),
        ],
        Ok((server_now, conflicts)) => {
            // The server read its clock somewhere between the two local readings.
            let local_now =
                (before.unix_timestamp_nanos() + after.unix_timestamp_nanos()) as f64 / 2e9;
            let detail = format!(
                "fleet server {server} answered as {} (terminal {}); {backlog}; {conflicts} open conflict(s) in the fleet",
                f.user, cfg.terminal_id
            );
            let link_check = match &local {
                Ok(s) if s.waiting > 0 || conflicts > 0 => Check::warn(
                    "fleet",
                    format!("{detail}; see `evisa fleet sync` and `evisa fleet conflicts`"),
                ),
                Err(_) => Check::warn("fleet", detail),
                Ok(_) => Check::pass("fleet", detail),
            };
            vec![link_check, fleet_clock(server_now - local_now, &server)]
        }
    }
}

/// `skew` = the server's clock minus the booth's, in seconds.
fn fleet_clock(skew: f64, server: &str) -> Check {
    const NAME: &str = "clock.fleet";
    if !skew.is_finite() || skew.abs() > FLEET_SKEW_FAIL_SECS {
        Check::fail(
            NAME,
            format!(
                "this booth's clock is {:.0} s {} the fleet server {server}'s (limit {FLEET_SKEW_FAIL_SECS:.0} s): claims and crossings would be time-stamped wrongly; set the clock (NTP, `timedatectl`) before serving",
                skew.abs(),
                if skew > 0.0 { "behind" } else { "ahead of" }
            ),
        )
    } else {
        Check::pass(
            NAME,
            format!("within {:.1} s of the fleet server {server}'s", skew.abs()),
        )
    }
}

fn config_check(path: &Path, cfg: &KioskConfig) -> Check {
    let what = format!(
        "{} valid: checkpoint {}, terminal {}, {}, database {}, trust store {}",
        path.display(),
        cfg.checkpoint,
        cfg.terminal_id,
        cfg.direction.as_str(),
        cfg.database.display(),
        cfg.trust_store.display()
    );
    if cfg.training {
        Check::warn(
            "config",
            format!("{what}; TRAINING mode (TEST-ONLY keys allowed): never at a real border"),
        )
    } else {
        Check::pass("config", what)
    }
}

fn trust_store(cfg: &KioskConfig) -> Check {
    const NAME: &str = "trust_store";
    let dir = &cfg.trust_store;
    let store = match trustdir::load_dir(dir) {
        Ok(s) => s,
        Err(e) => return Check::fail(NAME, e.to_string()),
    };
    if let Err(e) = store.check_policy(dir, cfg.training) {
        return Check::fail(NAME, e.to_string());
    }
    let today = terminal::kazakhstan_today();
    let keys = store.keys();
    let current = keys
        .iter()
        .filter(|k| !k.revoked && k.not_before <= today && today <= k.not_after)
        .count();
    let revoked = keys.iter().filter(|k| k.revoked).count();
    let detail = format!(
        "{} keys in {} ({current} valid today, {revoked} revoked)",
        keys.len(),
        dir.display()
    );
    if current == 0 {
        Check::fail(
            NAME,
            format!("{detail}: no key can sign a visa today; install the ministry's keys"),
        )
    } else {
        Check::pass(NAME, detail)
    }
}

fn update_root(cfg: &KioskConfig) -> Check {
    const NAME: &str = "update_root";
    let Some(path) = &cfg.update_root_key else {
        return Check::warn(
            NAME,
            "not pinned: `update_root_key` is not set, so no signed update or revocation list can be imported",
        );
    };
    let mut warnings = Vec::new();
    match import::load_root_pub(path, cfg.training, &mut |w| warnings.push(w.to_string())) {
        Err(e) => Check::fail(NAME, e.to_string()),
        Ok(_) if !warnings.is_empty() => Check::warn(NAME, warnings.join("; ")),
        Ok(_) => Check::pass(
            NAME,
            format!("pinned: {}, not writable by others", path.display()),
        ),
    }
}

/// Opens the database read-only (never creating it) and checks SQLite's integrity and
/// the whole audit chain.
fn database(cfg: &KioskConfig) -> Result<(Check, Store), Check> {
    const NAME: &str = "database";
    let path = &cfg.database;
    if !path.is_file() {
        return Err(Check::fail(
            NAME,
            format!(
                "no database at {}: add the first supervisor with `evisa officer add ID --role supervisor --config FILE`",
                path.display()
            ),
        ));
    }
    let mut store = Store::open_read_only(path).map_err(|e| Check::fail(NAME, e.to_string()))?;
    let integrity = integrity_check(&mut store).map_err(|e| {
        Check::fail(
            NAME,
            format!("{}: integrity check could not run: {e}", path.display()),
        )
    })?;
    if integrity != ["ok"] {
        return Err(Check::fail(
            NAME,
            format!(
                "{}: SQLite integrity check failed: {}; restore it from a backup",
                path.display(),
                integrity.join("; ")
            ),
        ));
    }
    match audit::verify(&store) {
        Ok(Verification::Intact { rows, .. }) => Ok((
            Check::pass(
                NAME,
                format!(
                    "{}: integrity ok, audit chain intact ({rows} rows)",
                    path.display()
                ),
            ),
            store,
        )),
        Ok(Verification::Broken(b)) => Err(Check::fail(
            NAME,
            format!("{}: audit chain BROKEN at {b}", path.display()),
        )),
        Err(e) => Err(Check::fail(
            NAME,
            format!("{}: audit chain unreadable: {e}", path.display()),
        )),
    }
}

/// `PRAGMA integrity_check`'s first lines ("ok" alone when the file is sound).
fn integrity_check(store: &mut Store) -> Result<Vec<String>, String> {
    let conn = store.connection();
    let mut stmt = conn
        .prepare("PRAGMA integrity_check(5)")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| e.to_string())?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

fn trust_update_age(cfg: &KioskConfig, store: &mut Store) -> Check {
    const NAME: &str = "trust_update";
    let last = match store.last_update() {
        Ok(u) => u,
        Err(e) => return Check::fail(NAME, e.to_string()),
    };
    let Some(u) = last else {
        return Check::warn(
            NAME,
            "no signed update applied yet: the keys were installed by hand; import the ministry's latest trust update",
        );
    };
    let Some(applied) = u.applied_date() else {
        return Check::fail(
            NAME,
            format!("the last update's date {:?} is unreadable", u.applied_at),
        );
    };
    let age = (terminal::kazakhstan_today() - applied).whole_days();
    let detail = format!(
        "last applied: {} update #{} on {applied} ({age} days ago, issued {})",
        u.kind.as_str(),
        u.seq,
        u.issued
    );
    if age > i64::from(cfg.trust_update_max_age_days) {
        Check::warn(
            NAME,
            format!(
                "{detail}: older than {} days (`trust_update_max_age_days`); import the latest update",
                cfg.trust_update_max_age_days
            ),
        )
    } else {
        Check::pass(NAME, detail)
    }
}

fn officers(store: &mut Store) -> Check {
    const NAME: &str = "officers";
    let list = match store.list_officers() {
        Ok(l) => l,
        Err(e) => return Check::fail(NAME, e.to_string()),
    };
    let usable = list.iter().filter(|o| !o.locked).count();
    let supervisors = list
        .iter()
        .filter(|o| !o.locked && o.role == Role::Supervisor)
        .count();
    let detail = format!(
        "{} accounts, {usable} not locked, {supervisors} of them supervisors",
        list.len()
    );
    if usable == 0 {
        Check::fail(
            NAME,
            format!("{detail}: nobody can sign in; add an officer with `evisa officer add`"),
        )
    } else if supervisors == 0 {
        Check::warn(
            NAME,
            format!("{detail}: no supervisor can unlock an account or change direction"),
        )
    } else {
        Check::pass(NAME, detail)
    }
}

/// Dates decide visas: a clock set back (a dead RTC battery) would admit a traveller
/// whose visa has expired. The last audit row is the latest moment the booth knows
/// has passed.
fn clock(store: &mut Store) -> Check {
    const NAME: &str = "clock";
    let now = OffsetDateTime::now_utc();
    let last = last_event(store);
    // Shown in the offset the terminal records in, so the two times compare by eye.
    let now_text = terminal::kazakhstan_now_rfc3339();
    match last {
        Err(e) => Check::fail(NAME, e),
        Ok(None) => Check::pass(
            NAME,
            format!("now {now_text}; nothing recorded yet to compare with"),
        ),
        Ok(Some((seq, at, kind))) => match OffsetDateTime::parse(&at, &Rfc3339) {
            Err(_) => Check::fail(
                NAME,
                format!("the last audit row (#{seq}) has an unreadable time {at:?}"),
            ),
            Ok(t) if (t - now).whole_seconds() > CLOCK_SLACK_SECS => Check::fail(
                NAME,
                format!(
                    "now {now_text} is BEFORE the last recorded event ({kind} at {at}, audit #{seq}); set the clock (NTP, `timedatectl`) before serving"
                ),
            ),
            Ok(_) => Check::pass(
                NAME,
                format!("now {now_text}, after the last recorded event ({kind} at {at})"),
            ),
        },
    }
}

/// The newest audit row's seq, time and kind, if any.
fn last_event(store: &mut Store) -> Result<Option<(i64, String, String)>, String> {
    let conn = store.connection();
    let mut stmt = conn
        .prepare("SELECT seq, at, kind FROM audit ORDER BY seq DESC LIMIT 1")
        .map_err(|e| e.to_string())?;
    let mut rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(|e| e.to_string())?;
    rows.next().transpose().map_err(|e| e.to_string())
}

fn disk(cfg: &KioskConfig) -> Check {
    const NAME: &str = "disk";
    let dir = folder_of(&cfg.database);
    match free_bytes(dir) {
        Err(e) => Check::fail(
            NAME,
            format!("cannot read free space of {}: {e}", dir.display()),
        ),
        Ok(free) => {
            let detail = format!("{} MiB free on {}", free / (1024 * 1024), dir.display());
            if free < DISK_FAIL_BYTES {
                Check::fail(
                    NAME,
                    format!(
                        "{detail}: below {} MiB, the database cannot grow",
                        DISK_FAIL_BYTES >> 20
                    ),
                )
            } else if free < DISK_WARN_BYTES {
                Check::warn(
                    NAME,
                    format!("{detail}: below {} MiB", DISK_WARN_BYTES >> 20),
                )
            } else {
                Check::pass(NAME, detail)
            }
        }
    }
}

fn folder_of(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let s = rustix::fs::statvfs(dir)?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_: &Path) -> std::io::Result<u64> {
    Err(std::io::Error::other("not supported on this platform"))
}

/// Whoever can write the configuration, the trust store, the database or its folder
/// can forge a verdict or rewrite the evidence. Same bar as the kiosk: world-writable
/// fails (the kiosk refuses to start), group-writable warns.
fn file_permissions(config: &Path, cfg: &KioskConfig) -> Check {
    const NAME: &str = "permissions";
    let paths = [
        config,
        folder_of(config),
        cfg.trust_store.as_path(),
        cfg.database.as_path(),
        folder_of(&cfg.database),
    ];
    let mut findings: Vec<permissions::Finding> = Vec::new();
    for p in paths {
        if let Some(f) = permissions::check(p)
            && !findings.iter().any(|g| g.description == f.description)
        {
            findings.push(f);
        }
    }
    let text = findings
        .iter()
        .map(|f| f.description.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    if findings.iter().any(|f| f.world_writable) {
        Check::fail(NAME, text)
    } else if !findings.is_empty() {
        Check::warn(NAME, text)
    } else {
        Check::pass(
            NAME,
            "configuration, trust store, database and their folders are not writable by others",
        )
    }
}

/// Every configured input device: present, a character device, and openable for
/// reading and writing by this user (the kiosk opens serial ports read-write).
fn devices(cfg: &KioskConfig) -> Vec<Check> {
    let mut out = Vec::new();
    let serial = |name: &str, s: &SerialSource| {
        device(&format!("device.{name}"), Path::new(&s.port), "dialout")
    };
    if let Some(s) = &cfg.sources.serial_scanner {
        out.push(serial("serial_scanner", s));
    }
    if let Some(s) = &cfg.sources.serial_mrz {
        out.push(serial("serial_mrz", s));
    }
    if let Some(n) = cfg.sources.camera {
        out.push(device(
            "device.camera",
            &PathBuf::from(format!("/dev/video{n}")),
            "video",
        ));
    }
    out
}

#[cfg(unix)]
fn device(name: &str, path: &Path, group: &str) -> Check {
    use rustix::fs::{Mode, OFlags};
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            return Check::fail(
                name,
                format!(
                    "{} is missing ({e}): plugged in? see the udev rules in /lib/udev/rules.d/60-evisa.rules",
                    path.display()
                ),
            );
        }
    };
    if !meta.file_type().is_char_device() {
        return Check::fail(name, format!("{} is not a device", path.display()));
    }
    let shown = format!(
        "{} (mode {:04o}, group {})",
        path.display(),
        meta.permissions().mode() & 0o7777,
        group_name(meta.gid()).unwrap_or_else(|| meta.gid().to_string())
    );
    // Non-blocking, and not as a controlling terminal: a serial port without carrier
    // would otherwise hang the open.
    let flags = OFlags::RDWR | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    if let Err(e) = rustix::fs::open(path, flags, Mode::empty()) {
        return Check::fail(
            name,
            format!("{shown} cannot be opened: {e}; the service user must be in group {group}"),
        );
    }
    // Root opens anything: when the technician runs the doctor as root, judge the
    // device by the service user's rights instead.
    if rustix::process::geteuid().is_root()
        && let Some(user) = Account::read(SERVICE_USER)
        && !user.can_read_write(meta.uid(), meta.gid(), meta.permissions().mode())
    {
        return Check::fail(
            name,
            format!(
                "{shown}: the service user {SERVICE_USER} cannot open it read-write; add a udev rule with GROUP=\"{group}\", MODE=\"0660\" (see 60-evisa.rules)"
            ),
        );
    }
    Check::pass(name, format!("{shown} present and openable"))
}

/// The user the packaged service runs the kiosk as.
const SERVICE_USER: &str = "evisa";

/// A user's ids from /etc/passwd and /etc/group, for a permission judgement by mode
/// bits (what the kernel does for a process without capabilities).
#[cfg(unix)]
struct Account {
    uid: u32,
    gids: Vec<u32>,
}

#[cfg(unix)]
impl Account {
    fn read(name: &str) -> Option<Account> {
        let file = |p: &str| {
            evisa_store::files::read_capped_text(Path::new(p), 4 * 1024 * 1024, "a user database")
                .ok()
        };
        let passwd = file("/etc/passwd")?;
        let (uid, gid) = passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 || f[0] != name {
                return None;
            }
            Some((f[2].parse::<u32>().ok()?, f[3].parse::<u32>().ok()?))
        })?;
        let mut gids = vec![gid];
        for l in file("/etc/group").unwrap_or_default().lines() {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() >= 4
                && f[3].split(',').any(|m| m == name)
                && let Ok(g) = f[2].parse::<u32>()
            {
                gids.push(g);
            }
        }
        Some(Account { uid, gids })
    }

    fn can_read_write(&self, owner: u32, group: u32, mode: u32) -> bool {
        let bits = if owner == self.uid {
            mode >> 6
        } else if self.gids.contains(&group) {
            mode >> 3
        } else {
            mode
        };
        bits & 0o6 == 0o6
    }
}

#[cfg(not(unix))]
fn device(name: &str, path: &Path, _group: &str) -> Check {
    Check::fail(
        name,
        format!("{}: cannot check devices on this platform", path.display()),
    )
}

/// The name of group `gid` from /etc/group, for the device line.
fn group_name(gid: u32) -> Option<String> {
    let text = evisa_store::files::read_capped_text(
        Path::new("/etc/group"),
        1024 * 1024,
        "the group database",
    )
    .ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _pw = f.next()?;
        (f.next()?.parse::<u32>().ok()? == gid).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_clock_skew_over_the_limit_fails_either_way_and_within_passes() {
        assert_eq!(fleet_clock(0.4, "s").severity, Severity::Pass);
        assert_eq!(fleet_clock(-119.0, "s").severity, Severity::Pass);
        let c = fleet_clock(121.0, "s");
        assert_eq!(c.severity, Severity::Fail);
        assert!(c.detail.contains("behind"), "{}", c.detail);
        let c = fleet_clock(-3600.0, "s");
        assert_eq!(c.severity, Severity::Fail);
        assert!(c.detail.contains("ahead of"), "{}", c.detail);
        assert_eq!(fleet_clock(f64::NAN, "s").severity, Severity::Fail);
    }
}
