//! `evisa`: the command line of the e-visa terminal. Parses arguments, runs one
//! command, and reports any error once, here at the edge.
//!
//! Exit status: 0 ACCEPT (or success), 1 REJECT (or a check that found a problem),
//! 2 usage or operational error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use time::Date;

use evisa::files::{self, read_capped_text};
use evisa::issue::{self, VisaFile};
use evisa::payload::Envelope;
use evisa::rules::{Direction, Verdict};
use evisa::terminal::{self, Terminal};
use evisa::untrusted::printable;
use evisa::{dates, report, trust};

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
    /// Make an Ed25519 signing key (NAME.key, PKCS#8 PEM, mode 0600) and its trust-store entry (NAME.toml).
    Keygen {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        name: String,
        /// Label shown to officers (default: NAME).
        #[arg(long)]
        label: Option<String>,
        #[arg(long, default_value = "2026-01-01")]
        not_before: String,
        #[arg(long, default_value = "2027-12-31")]
        not_after: String,
    },
    /// Sign a visa description (TOML) and print the QR text.
    Issue {
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        visa: PathBuf,
        /// Also write the printable A4 e-visa page (PNG).
        #[arg(long)]
        png: Option<PathBuf>,
    },
    /// Print the QR text found in a PNG or JPEG image (control characters escaped).
    Decode { image: PathBuf },
    /// Check an e-visa against a passport MRZ (spec §6).
    Verify(VerifyArgs),
    /// Regenerate the test keys and fixture cases (deterministic).
    Fixtures {
        #[arg(long, default_value = "fixtures")]
        out: PathBuf,
        #[arg(long, default_value = "keys")]
        keys: PathBuf,
    },
    /// Turn a printed e-visa page (`issue --png`) into photo-like camera frames by
    /// category, with the expected text beside each frame (NAME.txt).
    Simulate {
        /// The page image.
        #[arg(long)]
        page: PathBuf,
        /// File holding the QR text on the page (default: decoded from the page).
        #[arg(long)]
        text: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 12)]
        per_category: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Benchmarks: `bench decode DIR…` reads every image with its NAME.txt beside it.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// The officer's booth terminal: sign in, scan, verdict, checklist, history.
    Kiosk(evisa::kiosk::KioskArgs),
    /// Officer accounts in the terminal's database.
    Officer {
        #[command(subcommand)]
        command: evisa::kiosk::cli::OfficerCommand,
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
    /// Sign an update file (ministry side; the root secret never goes near a terminal).
    Sign {
        /// The root secret key (PKCS#8 PEM).
        #[arg(long)]
        root_key: PathBuf,
        /// Sequence number, above every earlier update of the same kind.
        #[arg(long)]
        seq: u64,
        /// A trust update: the complete set of key files (every *.toml) in DIR.
        #[arg(long, group = "content", required = true)]
        keys: Option<PathBuf>,
        /// A visa revocation list: the complete list, one `NUMBER reason` per line.
        #[arg(long, group = "content")]
        revoked_visas: Option<PathBuf>,
        /// Issue time, RFC 3339 (default: now, UTC).
        #[arg(long)]
        issued: Option<String>,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
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
    /// Make a root key pair: NAME.key (PKCS#8 PEM, 0600, keep offline) and NAME.pub.
    KeygenRoot {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Images read / total and median and p95 ms per image, per folder, one thread.
    Decode {
        dirs: Vec<PathBuf>,
        /// Plain rqrr (prepare + detect_grids) instead of the pipeline: the baseline.
        #[arg(long)]
        plain: bool,
        /// Per-frame time budget in ms, as the camera uses (default: none).
        #[arg(long)]
        budget_ms: Option<u64>,
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
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("evisa: error: {}", printable_lines(&error_chain(&e)));
            ExitCode::from(2)
        }
    }
}

/// Escapes every control character but the line breaks of a multi-line message
/// (a TOML error quotes the lines at fault): messages can quote file contents.
fn printable_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| printable(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The error and its causes on one line, skipping a cause that the message before it
/// already quotes (the library's errors name their source in their own text).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Keygen {
            out,
            name,
            label,
            not_before,
            not_after,
        } => keygen(&out, &name, label.as_deref(), &not_before, &not_after),
        Command::Issue { key, visa, png } => {
            let pem = read_capped_text(&key, files::MAX_KEY_FILE, "a PEM signing key")?;
            let key = issue::key_from_pem(&pem).with_context(|| key.display().to_string())?;
            let text = read_capped_text(&visa, files::MAX_VISA_FILE, "a visa description")?;
            let file = VisaFile::parse(&text).with_context(|| visa.display().to_string())?;
            let claims = file.to_claims()?;
            let text = issue::sign(&claims, &key, &Envelope::default());
            if let Some(png) = png {
                issue::render_page(&claims, &text)?
                    .save(&png)
                    .with_context(|| format!("cannot write {}", png.display()))?;
            }
            println!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Decode { image } => {
            // A QR can hold any bytes; an e-visa's text has nothing to escape.
            let text = decode_image(&image)?;
            println!("{}", printable(&text));
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify(args) => verify(args),
        Command::Fixtures { out, keys } => {
            let n = evisa::fixtures::generate(&out, &keys)?;
            eprintln!("wrote {n} cases to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate {
            page,
            text,
            out,
            per_category,
            seed,
        } => {
            let expected = match text {
                Some(t) => read_capped_text(&t, files::MAX_QR_TEXT, "a QR text file")?
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
                None => decode_image(&page)?,
            };
            let img = files::read_image(&page)?.to_luma8();
            let written = evisa::scan::simulate(&img, &expected, &out, per_category, seed)?;
            eprintln!("wrote {} frames under {}", written.len(), out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command:
                BenchCommand::Decode {
                    dirs,
                    plain,
                    budget_ms,
                },
        } => {
            use evisa::scan::bench::{BenchDecoder, bench_dirs_with};
            if dirs.is_empty() {
                bail!("name at least one folder of images");
            }
            let decoder = if plain {
                BenchDecoder::PlainRqrr
            } else {
                BenchDecoder::Pipeline(evisa::scan::DecodeOptions {
                    budget: budget_ms.map(std::time::Duration::from_millis),
                    ..Default::default()
                })
            };
            println!("{}", bench_dirs_with(&dirs, decoder));
            Ok(ExitCode::SUCCESS)
        }
        Command::Kiosk(args) => {
            evisa::kiosk::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Officer { command } => {
            evisa::kiosk::cli::officer(command)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command } => audit_command(command),
        Command::Update { command } => update_command(command),
    }
}

fn audit_command(c: AuditCommand) -> Result<ExitCode> {
    use evisa::audit::{self, Verification};
    use evisa::store::Store;
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
    use evisa::store::Store;
    use evisa::update;
    match c {
        UpdateCommand::Sign {
            root_key,
            seq,
            keys,
            revoked_visas,
            issued,
            out,
        } => {
            let pem = read_capped_text(&root_key, files::MAX_KEY_FILE, "a PEM root key")?;
            let root = issue::key_from_pem(&pem).with_context(|| root_key.display().to_string())?;
            let content = match (keys, revoked_visas) {
                (Some(dir), _) => update::trust_content_from_dir(&dir)?,
                (_, Some(file)) => update::revoked_content_from_text(&read_capped_text(
                    &file,
                    update::MAX_FILE as u64,
                    "a visa revocation list",
                )?)?,
                _ => unreachable!("clap requires one content"),
            };
            let issued = match issued {
                Some(t) => t,
                None => time::OffsetDateTime::now_utc()
                    .replace_nanosecond(0)?
                    .format(&time::format_description::well_known::Rfc3339)?,
            };
            let bytes = update::sign(&content, seq, &issued, &root)?;
            match out {
                Some(path) => std::fs::write(&path, &bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => {
                    use std::io::Write as _;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
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
                Some(p) => evisa::config::KioskConfig::load(p)?,
                None => evisa::config::KioskConfig::default(),
            };
            let training = training || cfg.training;
            // The trust anchor is never a default path (spec §5).
            let root_pub = root_pub
                .or(cfg.update_root_key)
                .ok_or(update::UpdateError::NoRootKey)?;
            let db = db.unwrap_or(cfg.database);
            let keys = keys.unwrap_or(cfg.trust_store);
            let root = update::load_root_pub(&root_pub, training, &mut |w| {
                eprintln!("evisa: warning: {w}")
            })?;
            let refused = |e: update::UpdateError| -> Result<ExitCode> {
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
            let parsed = match update::read_file(&file, &root)
                .and_then(|u| update::check_content_policy(&u, training).map(|()| u))
            {
                Ok(u) => u,
                Err(e) => return refused(e),
            };
            for p in [keys.as_path(), db.as_path()] {
                if let Some(problem) = evisa::permissions::unsafe_permissions(p) {
                    eprintln!("evisa: warning: {problem}");
                }
            }
            let mut store = Store::open_existing(&db)?;
            let now = terminal::kazakhstan_now_rfc3339();
            match update::import(&parsed, &mut store, &keys, &now, officer.as_deref()) {
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
        UpdateCommand::KeygenRoot { out, name } => {
            let (key, key_path) = new_secret_key(&out, &name)?;
            let pub_path = out.join(format!("{name}.pub"));
            std::fs::write(&pub_path, update::root_pub_pem(&key.verifying_key())?)
                .with_context(|| format!("cannot write {}", pub_path.display()))?;
            println!(
                "root kid {}\nsecret key {} (keep it offline, never on a terminal)\npublic key {} (pin it on terminals: update import --root-pub)",
                trust::hex(&trust::kid_of(&key.verifying_key())),
                key_path.display(),
                pub_path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_date(s: &str) -> Result<Date> {
    dates::parse_iso(s).ok_or_else(|| anyhow!("{s:?} is not a YYYY-MM-DD date"))
}

/// Generates a signing key and writes it as `OUT/NAME.key` (PKCS#8 PEM, 0600).
fn new_secret_key(out: &Path, name: &str) -> Result<(ed25519_dalek::SigningKey, PathBuf)> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        bail!("--name {name:?} must be a plain file name");
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let key = issue::generate_key();
    let key_path = out.join(format!("{name}.key"));
    write_private(&key_path, issue::key_to_pem(&key)?.as_bytes())?;
    Ok((key, key_path))
}

fn keygen(out: &Path, name: &str, label: Option<&str>, nb: &str, na: &str) -> Result<ExitCode> {
    let (key, key_path) = new_secret_key(out, name)?;
    let toml_path = out.join(format!("{name}.toml"));
    let entry = trust::render_key_file(
        label.unwrap_or(name),
        &key.verifying_key(),
        parse_date(nb)?,
        parse_date(na)?,
    );
    std::fs::write(&toml_path, entry)
        .with_context(|| format!("cannot write {}", toml_path.display()))?;
    println!(
        "kid {}\nsecret key {} (keep it off terminals)\ntrust-store entry {}",
        trust::hex(&trust::kid_of(&key.verifying_key())),
        key_path.display(),
        toml_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Creates a file readable only by its owner, refusing to overwrite.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

fn decode_image(path: &Path) -> Result<String> {
    let img = files::read_image(path)?.to_luma8();
    // A still image is not a live frame: no time budget, every attempt may run.
    let opts = evisa::scan::DecodeOptions {
        budget: None,
        ..Default::default()
    };
    evisa::scan::decode_frame(&img, &opts)
        .map(|d| d.text)
        .ok_or_else(|| anyhow!("no readable QR code in {}", path.display()))
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
        .map(evisa::config::KioskConfig::load)
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
        if let Some(problem) = evisa::permissions::unsafe_permissions(p) {
            eprintln!("evisa: warning: {problem}");
        }
    }
    let mut term = Terminal::open(&keys, db.as_deref())?;
    if config.is_some() {
        // A configured terminal, not a tool run: the trust policy applies (spec §5).
        term.trust.check_policy(&keys, training)?;
    }
    let at = terminal::checkpoint(date, &code, direction);
    let decision = if a.record {
        // An ACCEPT becomes a crossing (with its audit row); a REJECT is still audited.
        // Decided inside the recording transaction: what is printed is what was recorded.
        term.verify_and_record(&qr, &mrz, &at, None, None)?.decision
    } else {
        term.verify(&qr, &mrz, &at)?
    };
    let warnings = verdict_warnings(&term.trust, &keys, default_keys, db.is_none(), &decision);
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
    d: &evisa::rules::Decision,
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
