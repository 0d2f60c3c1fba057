//! `evisa`: the booth's command line — verify, decode, the kiosk, officer accounts,
//! the audit log, update import and the installed booth's self-check (`doctor`). It holds no signing command and no test-key
//! writer: those are the ministry's and developers' `evisa-issuer`. Parses arguments,
//! runs one command, and reports any error once, here at the edge.
//!
//! Exit status: 0 ACCEPT (or success), 1 REJECT (or a check that found a problem),
//! 2 usage or operational error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};

use evisa_core::rules::{Direction, Verdict};
use evisa_core::untrusted::printable;
use evisa_core::{report, trust};
use evisa_store::files::{self, read_capped_text};
use evisa_store::terminal::{self, Terminal};

mod common;
mod doctor;
mod fleet;
mod officer;

use common::{decode_image, parse_date, printable_lines};

#[derive(Parser)]
#[command(
    name = "evisa",
    version,
    about = "Kazakhstan e-visa verification terminal"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the QR text found in a PNG or JPEG image (control characters escaped).
    Decode {
        image: PathBuf,
        /// Print every distinct code in the image, one per line (the kiosk reads one).
        #[arg(long)]
        all: bool,
    },
    /// Check an e-visa against a passport MRZ (spec §6).
    Verify(VerifyArgs),
    /// The officer's booth terminal: sign in, scan, verdict, checklist, history.
    Kiosk(evisa_kiosk::KioskArgs),
    /// Officer accounts in the terminal's database.
    Officer {
        #[command(subcommand)]
        command: officer::OfficerCommand,
    },
    /// Check or export the hash-chained audit log (exit 0 intact, 1 broken, 2 error).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Signed trust-store updates and visa revocation lists (docs/update-format.md).
    Update {
        #[command(subcommand)]
        command: UpdateCommand,
    },
    /// Check that this booth can serve: configuration, keys, database, clock, disk,
    /// permissions, devices (exit 0 it can, 1 it cannot; docs/install.md).
    Doctor(doctor::DoctorArgs),
    /// The fleet's central server (docs/fleet.md): link state, sync, conflicts.
    Fleet {
        #[command(subcommand)]
        command: fleet::FleetCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the whole chain and name the first broken row.
    Verify {
        #[arg(long, env = "EVISA_DB")]
        db: PathBuf,
    },
    /// Write the log as JSON Lines (one row per line, with the chain hashes).
    Export {
        #[arg(long, env = "EVISA_DB")]
        db: PathBuf,
        /// Only rows recorded on or after this date (YYYY-MM-DD, terminal local time).
        #[arg(long)]
        since: Option<String>,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UpdateCommand {
    /// Verify and apply an update file (terminal side); a refused file changes nothing.
    Import {
        file: PathBuf,
        /// The pinned root public key, SPKI PEM (default: the configuration's
        /// `update_root_key`; there is no other default).
        #[arg(long, env = "EVISA_UPDATE_ROOT")]
        root_pub: Option<PathBuf>,
        /// Training machine: accept a TEST-ONLY root key and TEST-ONLY issuer keys
        /// (also `training = true` in the configuration).
        #[arg(long)]
        training: bool,
        /// Database (default: the configuration's `database`, else evisa.db).
        #[arg(long, env = "EVISA_DB")]
        db: Option<PathBuf>,
        /// The trust folder a trust update replaces (default: the configuration's
        /// `trust_store`, else keys/).
        #[arg(long)]
        keys: Option<PathBuf>,
        /// The terminal configuration that pins the root key and names the paths.
        #[arg(long, env = "EVISA_CONFIG")]
        config: Option<PathBuf>,
        /// Who imports it, for the audit log.
        #[arg(long)]
        officer: Option<String>,
    },
}

#[derive(Args)]
struct VerifyArgs {
    #[arg(long, group = "qr_in", required = true)]
    qr: Option<String>,
    #[arg(long, group = "qr_in")]
    qr_file: Option<PathBuf>,
    #[arg(long, group = "qr_in")]
    image: Option<PathBuf>,
    /// The two TD3 lines, separated by a newline or a single space.
    #[arg(long, group = "mrz_in", required = true)]
    mrz: Option<String>,
    #[arg(long, group = "mrz_in")]
    mrz_file: Option<PathBuf>,
    /// Checkpoint date (default: today in Kazakhstan, UTC+5).
    #[arg(long)]
    date: Option<String>,
    /// Checkpoint code (default: from --config, else NQZ).
    #[arg(long, env = "EVISA_CHECKPOINT")]
    checkpoint: Option<String>,
    #[arg(long, default_value = "entry")]
    direction: String,
    /// Trust-store folder (default: from --config, else keys/, with a warning on
    /// every verdict).
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Terminal configuration file (the kiosk's): checkpoint, trust store and
    /// database. A configured terminal refuses TEST-ONLY keys unless in training.
    #[arg(long, env = "EVISA_CONFIG")]
    config: Option<PathBuf>,
    /// Database with the terminal's crossings and revocations (default: from
    /// --config; without one, history and revocations are not checked).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Record an ACCEPT as an entry (or exit) in the database.
    #[arg(long)]
    record: bool,
    /// Training: a configured terminal may use TEST-ONLY keys (also `training =
    /// true` in the configuration). Verdicts still say so.
    #[arg(long)]
    training: bool,
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    common::main_with("evisa", run)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Decode { image, all } => {
            // A QR can hold any bytes; an e-visa's text has nothing to escape.
            let texts = if all {
                let img = evisa_scan::to_grey(&common::read_image(&image)?);
                // every attempt runs (no budget), duplicates dropped
                let opts = evisa_scan::DecodeOptions {
                    budget: None,
                    ..Default::default()
                };
                let v: Vec<String> = evisa_scan::decode_all(&img, &opts)
                    .into_iter()
                    .map(|d| d.text)
                    .collect();
                if v.is_empty() {
                    bail!("no readable QR code in {}", image.display());
                }
                v
            } else {
                vec![decode_image(&image)?]
            };
            for text in texts {
                println!("{}", printable(&text));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify(args) => verify(args),
        Command::Kiosk(args) => {
            evisa_kiosk::run(args, &mut |w| eprintln!("evisa: warning: {w}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Officer { command } => {
            officer::officer(command)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command } => audit_command(command),
        Command::Update { command } => update_command(command),
        Command::Doctor(args) => Ok(doctor::run(args)),
        Command::Fleet { command } => fleet::run(command),
    }
}

fn audit_command(c: AuditCommand) -> Result<ExitCode> {
    use evisa_store::audit::{self, Verification};
    use evisa_store::store::Store;
    match c {
        AuditCommand::Verify { db } => {
            let store = Store::open_read_only(&db)?;
            match audit::verify(&store)? {
                Verification::Intact {
                    rows,
                    head_hash,
                    legacy_movements,
                } => {
                    println!(
                        "audit chain intact: {rows} rows, head {}",
                        trust::hex(&head_hash)
                    );
                    if legacy_movements > 0 {
                        println!(
                            "note: {legacy_movements} movements predate the chain's coverage of movements (schema v1)"
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Verification::Broken(b) => {
                    // The row's text comes from a database file that may be hostile.
                    println!("audit chain BROKEN at {}", printable_lines(&b.to_string()));
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditCommand::Export { db, since, out } => {
            if let Some(d) = &since {
                parse_date(d)?;
            }
            let store = Store::open_read_only(&db)?;
            let n = match &out {
                Some(path) => {
                    let f = std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    let mut w = std::io::BufWriter::new(f);
                    let n = audit::export_jsonl(&store, since.as_deref(), &mut w)?;
                    w.into_inner()
                        .map_err(|e| e.into_error())?
                        .sync_all()
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    n
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut w = std::io::BufWriter::new(stdout.lock());
                    audit::export_jsonl(&store, since.as_deref(), &mut w)?
                }
            };
            eprintln!("exported {n} audit rows");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn update_command(c: UpdateCommand) -> Result<ExitCode> {
    use evisa_core::update;
    use evisa_store::import;
    use evisa_store::store::Store;
    match c {
        UpdateCommand::Import {
            file,
            root_pub,
            training,
            db,
            keys,
            config,
            officer,
        } => {
            let cfg = match &config {
                Some(p) => evisa_kiosk::config::KioskConfig::load(p)?,
                None => evisa_kiosk::config::KioskConfig::default(),
            };
            let training = training || cfg.training;
            // The trust anchor is never a default path (spec §5).
            let root_pub = root_pub
                .or(cfg.update_root_key)
                .ok_or(update::UpdateError::NoRootKey)?;
            let db = db.unwrap_or(cfg.database);
            let keys = keys.unwrap_or(cfg.trust_store);
            let root = import::load_root_pub(&root_pub, training, &mut |w| {
                eprintln!("evisa: warning: {w}")
            })?;
            let refused = |e: import::ImportError| -> Result<ExitCode> {
                if e.is_rejection() {
                    eprintln!(
                        "evisa: update {} refused, nothing changed: {}",
                        file.display(),
                        printable(&e.to_string())
                    );
                    Ok(ExitCode::from(1))
                } else {
                    Err(e.into())
                }
            };
            let parsed = match import::read_file(&file, &root)
                .and_then(|u| update::check_content_policy(&u, training).map(|()| u))
                .map_err(import::ImportError::from)
            {
                Ok(u) => u,
                Err(e) => return refused(e),
            };
            for p in [keys.as_path(), db.as_path()] {
                if let Some(problem) = evisa_store::permissions::unsafe_permissions(p) {
                    eprintln!("evisa: warning: {problem}");
                }
            }
            let mut store = Store::open_existing(&db)?;
            let now = terminal::kazakhstan_now_rfc3339();
            match import::import(&parsed, &mut store, &keys, &now, officer.as_deref()) {
                Ok(done) => {
                    let what = match done.kind {
                        update::Kind::Trust => format!("{} keys in {}", done.count, keys.display()),
                        update::Kind::RevokedVisas => format!("{} revoked visas", done.count),
                    };
                    println!(
                        "applied {} update #{} (issued {}): {what}{}",
                        done.kind.as_str(),
                        done.seq,
                        printable(&done.issued),
                        if done.completed_interrupted {
                            " (the trust folder already held it; recorded the interrupted import)"
                        } else {
                            ""
                        }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }
    }
}

fn verify(a: VerifyArgs) -> Result<ExitCode> {
    let qr = match (&a.qr, &a.qr_file, &a.image) {
        (Some(q), _, _) => q.clone(),
        (_, Some(f), _) => read_capped_text(f, files::MAX_QR_TEXT, "a QR text file")?,
        (_, _, Some(img)) => decode_image(img)?,
        _ => unreachable!("clap requires one QR input"),
    };
    let mrz = match (&a.mrz, &a.mrz_file) {
        (Some(m), _) => m.clone(),
        (_, Some(f)) => read_capped_text(f, files::MAX_MRZ_TEXT, "a passport MRZ file")?,
        _ => unreachable!("clap requires one MRZ input"),
    };
    let date = match &a.date {
        Some(d) => parse_date(d)?,
        None => terminal::kazakhstan_today(),
    };
    let direction = Direction::parse(&a.direction)
        .ok_or_else(|| anyhow!("--direction must be entry or exit, not {:?}", a.direction))?;
    let config = a
        .config
        .as_deref()
        .map(evisa_kiosk::config::KioskConfig::load)
        .transpose()?;
    let training = a.training || config.as_ref().is_some_and(|c| c.training);
    let default_keys = a.keys.is_none() && config.is_none();
    let keys = a
        .keys
        .clone()
        .or_else(|| config.as_ref().map(|c| c.trust_store.clone()))
        .unwrap_or_else(|| PathBuf::from("keys"));
    let code = a
        .checkpoint
        .clone()
        .or_else(|| config.as_ref().map(|c| c.checkpoint.clone()))
        .unwrap_or_else(|| "NQZ".to_string());
    // A configured terminal checks against its own records: its database must exist,
    // or revocations and entry counts would silently go unchecked.
    let db = match (&a.db, &config) {
        (Some(db), _) => Some(db.clone()),
        (None, Some(c)) => {
            if !c.database.is_file() {
                bail!(
                    "the configured database {} (setting `database`) does not exist; a configured terminal checks revocations and entries against it",
                    c.database.display()
                );
            }
            Some(c.database.clone())
        }
        (None, None) => None,
    };
    if a.record && db.is_none() {
        bail!("--record needs a database (--db FILE, or --config with `database`)");
    }
    // Whoever can write the trust folder or the database can forge a verdict.
    for p in std::iter::once(keys.as_path()).chain(db.as_deref()) {
        if let Some(problem) = evisa_store::permissions::unsafe_permissions(p) {
            eprintln!("evisa: warning: {problem}");
        }
    }
    let mut term = Terminal::open(&keys, db.as_deref())?;
    // A fleet booth asks the central server while it records (docs/fleet.md).
    // Without --record only the fleet's crossings pulled so far are read (no network).
    let fleet_cfg = config
        .as_ref()
        .and_then(|c| c.fleet.clone().map(|f| (f, c.terminal_id.clone())));
    if let Some((f, id)) = &fleet_cfg {
        let link = evisa_fleet::Link::new(f, id)?;
        term.fleet = Some(Box::new(evisa_fleet::hook::LinkHook(link)));
    }
    if config.is_some() {
        // A configured terminal, not a tool run: the trust policy applies (spec §5).
        term.trust.check_policy(&keys, training)?;
    }
    let at = terminal::checkpoint(date, &code, direction);
    let terminal_id = config.as_ref().map(|c| c.terminal_id.clone());
    let mut fleet_notes = Vec::new();
    let decision = if a.record {
        // An ACCEPT becomes a crossing (with its audit row); a REJECT is still audited.
        // Decided inside the recording transaction: what is printed is what was recorded.
        let r = term.verify_and_record(&qr, &mrz, &at, None, terminal_id.as_deref())?;
        fleet_notes = fleet::notes(&r);
        if fleet_cfg.is_some() && !r.provisional {
            // Push now, so the other booths see this decision without waiting.
            if let (Some((f, id)), Some(db)) = (&fleet_cfg, &db) {
                fleet::sync_quietly(f, id, db);
            }
        }
        r.decision
    } else {
        term.verify(&qr, &mrz, &at)?
    };
    let mut warnings = verdict_warnings(&term.trust, &keys, default_keys, db.is_none(), &decision);
    warnings.extend(fleet_notes);
    if a.json {
        println!(
            "{}",
            report::json_text(&report::decision_json_warned(&decision, &warnings))
        );
    } else {
        print!("{}", report::decision_text_warned(&decision, &warnings));
        if a.record && decision.verdict == Verdict::Accept {
            println!(
                "recorded: {} at {} on {}",
                direction.as_str(),
                at.code,
                at.date
            );
        }
    }
    Ok(match decision.verdict {
        Verdict::Accept => ExitCode::SUCCESS,
        Verdict::Reject => ExitCode::from(1),
    })
}

/// What a verdict's reader must be told about how it was reached: test-only keys in
/// the trust store (named when one signed this visa), a trust store nobody chose,
/// and no database to check history and revocations against.
fn verdict_warnings(
    trust: &trust::TrustStore,
    keys: &Path,
    default_keys: bool,
    no_db: bool,
    d: &evisa_core::rules::Decision,
) -> Vec<report::Warning> {
    let mut out = Vec::new();
    let test_only: Vec<&trust::TrustedKey> =
        trust.keys().iter().filter(|k| k.is_test_only()).collect();
    let signer = d
        .signer
        .as_deref()
        .and_then(|s| test_only.iter().find(|k| k.label == s));
    if let Some(k) = signer {
        out.push(report::Warning {
            code: "TEST_ONLY_KEY",
            detail: format!(
                "signed with TEST-ONLY key {} (\"{}\"), whose secret is public; not valid at a real border",
                keys.join(&k.source).display(),
                k.label
            ),
        });
    } else if !test_only.is_empty() {
        out.push(report::Warning {
            code: "TEST_ONLY_KEY",
            detail: format!(
                "trust store {} holds TEST-ONLY keys ({}), whose secrets are public; not valid at a real border",
                keys.display(),
                test_only
                    .iter()
                    .map(|k| k.source.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    if default_keys {
        out.push(report::Warning {
            code: "DEFAULT_KEYS",
            detail: format!(
                "trust store {} was used by default (no --keys or --config); name the terminal's trust store",
                keys.display()
            ),
        });
    }
    if no_db {
        out.push(report::Warning {
            code: "NO_HISTORY",
            detail: "no database (--db or --config): recorded entries, overstay and visa revocations were NOT checked".into(),
        });
    }
    out
}
