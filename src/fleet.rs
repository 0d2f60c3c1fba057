//! `evisa fleet`: the booth's link to the fleet's central server (docs/fleet.md) —
//! its state, a sync now (or a loop), the conflicts for supervisors, and the check of
//! this booth's audit chain as mirrored centrally.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Subcommand;

use evisa_core::report;
use evisa_core::untrusted::printable;
use evisa_fleet::{FleetConfig, Link, sync};
use evisa_kiosk::config::KioskConfig;
use evisa_store::store::{Store, StoreError};
use evisa_store::terminal::Recorded;

#[derive(Subcommand)]
pub enum FleetCommand {
    /// The link's state: online or offline since when, the last error, decisions
    /// waiting to be pushed, conflicts.
    Status {
        #[arg(long, env = "EVISA_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Push this booth's decisions and audit rows, pull the fleet's crossings.
    Sync {
        #[arg(long, env = "EVISA_CONFIG")]
        config: PathBuf,
        /// Keep syncing every `sync_interval_secs` until interrupted.
        #[arg(long = "loop")]
        repeat: bool,
    },
    /// Double entries found after a partition, for supervisors (the fleet's when the
    /// server answers, else this booth's own).
    Conflicts {
        #[arg(long, env = "EVISA_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Check this booth's audit chain as mirrored on the server (exit 0 intact and
    /// equal to the local head, 1 broken or behind).
    AuditVerify {
        #[arg(long, env = "EVISA_CONFIG")]
        config: PathBuf,
    },
}

fn load(config: &Path) -> Result<(KioskConfig, FleetConfig)> {
    let cfg = KioskConfig::load(config)?;
    let fleet = cfg
        .fleet
        .clone()
        .ok_or_else(|| anyhow!("{} has no [fleet] section", config.display()))?;
    Ok((cfg, fleet))
}

/// The booth's database for the read-only commands. One made before this version of
/// the fleet (never opened by the terminal since the upgrade) has no fleet state yet:
/// say so, and how to migrate it, instead of a database error.
fn open_read_only(cfg: &KioskConfig, config: &Path) -> Result<Store> {
    match Store::open_read_only(&cfg.database) {
        Err(StoreError::NeedsMigration {
            path,
            found,
            supported,
        }) => Err(anyhow!(
            "the booth's database {path} is at schema version {found}, older than this program's {supported}: it has not been migrated for the fleet yet, so it holds no fleet state (link, decisions waiting, conflicts). This command only reads; migrate it by running `evisa fleet sync --config {}` once (or by starting the kiosk)",
            config.display()
        )),
        r => Ok(r?),
    }
}

/// The booth's link, applying the fleet's published updates when the configuration
/// pins an update root (the same key, trust folder and training flag as
/// `evisa update import`).
pub fn booth_link(cfg: &KioskConfig, f: &FleetConfig) -> Result<Link> {
    let link = Link::new(f, &cfg.terminal_id)?;
    Ok(match update_target(cfg) {
        Some(t) => link.with_updates(t),
        None => link,
    })
}

/// Where fleet updates apply, or `None` without a pinned update root.
pub fn update_target(cfg: &KioskConfig) -> Option<sync::UpdateTarget> {
    cfg.update_root_key
        .clone()
        .map(|root_pub| sync::UpdateTarget {
            root_pub,
            keys_dir: cfg.trust_store.clone(),
            training: cfg.training,
        })
}

pub fn run(c: FleetCommand) -> Result<ExitCode> {
    match c {
        FleetCommand::Status { config, json } => {
            let (cfg, _) = load(&config)?;
            let store = open_read_only(&cfg, &config)?;
            let s = store.link_state()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                let state = if s.online {
                    format!(
                        "online (last sync {})",
                        s.last_sync.as_deref().unwrap_or("-")
                    )
                } else {
                    match &s.offline_since {
                        Some(t) => format!("OFFLINE since {t}"),
                        None => "never synced".into(),
                    }
                };
                println!("fleet link: {state}");
                println!("terminal: {}", cfg.terminal_id);
                if let Some(e) = &s.last_error {
                    println!("last error: {}", printable(e));
                }
                println!("decisions waiting: {}", s.waiting);
                println!("audit rows mirrored: {}", s.audit_pushed);
                println!("conflicts: {}", s.conflicts);
                if cfg.update_root_key.is_none() {
                    println!(
                        "updates from the fleet: not applied (no update_root_key pinned in the configuration)"
                    );
                } else {
                    println!(
                        "updates from the fleet: fetched up to #{}",
                        s.updates_cursor
                    );
                }
                if let Some(r) = &s.update_refused {
                    println!("last refused update: {}", printable(r));
                }
                if let Some(r) = &s.update_pending {
                    println!("update problem: {}", printable(r));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FleetCommand::Sync { config, repeat } => {
            let (cfg, f) = load(&config)?;
            let mut link = booth_link(&cfg, &f)?;
            if repeat {
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                sync::run_loop(&mut link, &cfg.database, &stop, &mut |r| match r {
                    Ok(r) => eprintln!(
                        "evisa: fleet sync: pushed {}, pulled {}, conflicts {}",
                        r.pushed,
                        r.pulled,
                        r.conflicts.len()
                    ),
                    Err(e) => eprintln!("evisa: fleet sync: {e}"),
                })?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut store = Store::open_existing(&cfg.database)?;
            let r = sync::sync_once(&mut link, &mut store)?;
            println!(
                "synced: released {}, pushed {}, mirrored {} audit rows, pulled {}, new conflicts {}",
                r.released,
                r.pushed,
                r.mirrored,
                r.pulled,
                r.conflicts.len()
            );
            for (kind, seq) in &r.applied {
                println!("applied {kind} update #{seq} from the fleet");
            }
            if let Some(p) = &r.pending {
                println!("{}", printable(p));
            }
            for (id, why) in &r.refused {
                println!(
                    "refused update #{id} from the fleet, nothing changed: {}",
                    printable(why)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        FleetCommand::Conflicts { config, json } => {
            let (cfg, f) = load(&config)?;
            let store = open_read_only(&cfg, &config)?;
            let (scope, list) = match Link::new(&f, &cfg.terminal_id)?.conflicts() {
                Ok(l) => ("fleet", l),
                Err(e) => {
                    eprintln!("evisa: warning: {e}; listing this booth's conflicts only");
                    ("booth", store.local_conflicts()?)
                }
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "scope": scope,
                        "conflicts": list,
                    }))?
                );
            } else if list.is_empty() {
                println!("no conflicts ({scope})");
            } else {
                println!(
                    "{} conflict(s) ({scope}), never resolved automatically:",
                    list.len()
                );
                for c in &list {
                    println!(
                        "CONFLICT visa {} entry #{}: provisional entry at booth {} (local #{}) — the entry was already taken by booth {} at {} ({}); detected {}",
                        printable(&c.visa_number),
                        c.ordinal,
                        printable(&c.terminal_id),
                        c.local_seq,
                        printable(&c.winner_terminal),
                        printable(&c.winner_checkpoint),
                        printable(&c.winner_date),
                        printable(&c.detected_at)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FleetCommand::AuditVerify { config } => {
            let (cfg, f) = load(&config)?;
            let store = open_read_only(&cfg, &config)?;
            let local = store.audit_head()?;
            let rows = Link::new(&f, &cfg.terminal_id)?
                .audit_mirror()
                .context("reading the central audit mirror")?;
            match sync::verify_mirror(&rows) {
                Ok((n, head)) => {
                    let behind = (n as i64) < local.seq;
                    println!(
                        "central audit mirror of {}: intact, {n} rows, head {}{}",
                        cfg.terminal_id,
                        evisa_core::trust::hex(&head),
                        if behind {
                            format!(" (behind the booth's {} rows: sync pending)", local.seq)
                        } else {
                            String::new()
                        }
                    );
                    if !behind && n as i64 == local.seq && head != local.hash {
                        println!("but its head differs from the booth's: BROKEN");
                        return Ok(ExitCode::from(1));
                    }
                    Ok(if behind {
                        ExitCode::from(1)
                    } else {
                        ExitCode::SUCCESS
                    })
                }
                Err(e) => {
                    println!("central audit mirror BROKEN: {}", printable(&e));
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

/// What the officer must be told about a fleet decision.
pub fn notes(r: &Recorded) -> Vec<report::Warning> {
    let mut out = Vec::new();
    if r.provisional {
        out.push(report::Warning {
            code: "FLEET_UNREACHABLE",
            detail: "the fleet server did not answer: this decision is PROVISIONAL (made on what this booth knows; checked with the fleet when the link returns)".into(),
        });
    }
    if r.no_entry_anywhere {
        out.push(report::Warning {
            code: "NO_ENTRY_KNOWN",
            detail: "no entry of this visa is recorded at this booth or any booth of the fleet"
                .into(),
        });
    }
    out
}

/// One sync after a decision; a failure is only reported (the decision is recorded
/// and queued, and the next sync pushes it).
pub fn sync_quietly(f: &FleetConfig, terminal_id: &str, db: &Path) {
    let run = || -> Result<()> {
        let mut link = Link::new(f, terminal_id)?;
        let mut store = Store::open_existing(db)?;
        sync::sync_once(&mut link, &mut store)?;
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("evisa: warning: fleet sync: {e:#}");
    }
}
