//! `evisa-issuer`: the ministry's and developers' tools, shipped apart from the booth
//! binary as rage ships rage-keygen: signing keys (`keygen`, `update keygen-root`),
//! signing visas and updates (`issue`, `update sign`), the deterministic TEST-ONLY
//! fixtures (`fixtures`), the camera simulator (`simulate`) and the decode benchmark
//! (`bench decode`). Nothing here belongs on a booth.
//!
//! Exit status: 0 success, 2 usage or operational error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use evisa_core::payload::Envelope;
use evisa_core::trust;
use evisa_store::files::{self, read_capped_text};

#[path = "../common.rs"]
mod common;

use common::{decode_image, parse_date};

#[derive(Parser)]
#[command(
    name = "evisa-issuer",
    version,
    about = "Kazakhstan e-visa ministry and developer tools: keys, signing, fixtures, simulator, benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The fleet's central PostgreSQL server (docs/fleet.md): schema, booth roles.
    FleetServer {
        #[command(subcommand)]
        command: FleetServerCommand,
    },
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
    /// Sign trust-store updates and visa revocation lists (docs/update-format.md).
    Update {
        #[command(subcommand)]
        command: UpdateCommand,
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

fn main() -> ExitCode {
    common::main_with("evisa-issuer", run)
}

#[derive(Subcommand)]
enum FleetServerCommand {
    /// Create or migrate the schema, the booths' group role and its row-level security.
    Init {
        /// libpq connection string of an administrator, e.g.
        /// "host=/run/postgresql user=postgres dbname=evisa_fleet".
        #[arg(long, env = "EVISA_FLEET_ADMIN")]
        conn: String,
    },
    /// Add a booth: its login role (a random password written to a 0600 file) and
    /// its terminal id and checkpoint.
    AddBooth {
        #[arg(long, env = "EVISA_FLEET_ADMIN")]
        conn: String,
        #[arg(long)]
        terminal_id: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        checkpoint: String,
        /// Where to write the password (the booth's `[fleet] credentials`).
        #[arg(long)]
        credentials_out: PathBuf,
    },
    /// Publish a signed update file (`.evu`) to every booth. It is verified first
    /// against the root public key the booths pin; the booths verify it again.
    Publish {
        #[arg(long, env = "EVISA_FLEET_ADMIN")]
        conn: String,
        /// The update root's public key (PEM), as pinned by the booths.
        #[arg(long)]
        root_pub: PathBuf,
        file: PathBuf,
    },
}

fn fleet_server(c: FleetServerCommand) -> Result<ExitCode> {
    use evisa_fleet::schema::Admin;
    match c {
        FleetServerCommand::Init { conn } => {
            let v = Admin::connect(&conn)?.migrate()?;
            println!("fleet schema at version {v}");
        }
        FleetServerCommand::AddBooth {
            conn,
            terminal_id,
            role,
            checkpoint,
            credentials_out,
        } => {
            use std::io::{Read, Write};
            use std::os::unix::fs::OpenOptionsExt;
            let mut raw = [0u8; 24];
            std::fs::File::open("/dev/urandom")?.read_exact(&mut raw)?;
            let password = evisa_core::trust::hex(&raw);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&credentials_out)
                .with_context(|| format!("cannot create {}", credentials_out.display()))?;
            writeln!(f, "{password}")?;
            f.sync_all()?;
            Admin::connect(&conn)?.add_booth(&terminal_id, &role, &password, &checkpoint)?;
            println!(
                "booth {terminal_id} ({checkpoint}) added as role {role}; password in {}",
                credentials_out.display()
            );
        }
        FleetServerCommand::Publish {
            conn,
            root_pub,
            file,
        } => {
            use std::io::Read as _;
            let root = evisa_store::import::read_root_pub(&root_pub)?;
            let mut bytes = Vec::new();
            std::fs::File::open(&file)
                .and_then(|f| {
                    f.take(evisa_core::update::MAX_FILE as u64 + 1)
                        .read_to_end(&mut bytes)
                })
                .with_context(|| format!("cannot read {}", file.display()))?;
            // The same verification a booth makes; booths still make it themselves.
            let update = evisa_core::update::parse(&bytes, &root)
                .with_context(|| format!("{} is not a valid signed update", file.display()))?;
            let kind = update.content.kind().as_str();
            let (id, new) =
                Admin::connect(&conn)?.publish_update(kind, update.seq, &update.sha256, &bytes)?;
            println!(
                "{} {kind} update #{} (issued {}) as fleet update {id}",
                if new {
                    "published"
                } else {
                    "already published:"
                },
                update.seq,
                update.issued
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::FleetServer { command } => fleet_server(command),
        Command::Keygen {
            out,
            name,
            label,
            not_before,
            not_after,
        } => keygen(&out, &name, label.as_deref(), &not_before, &not_after),
        Command::Issue { key, visa, png } => {
            let pem = read_capped_text(&key, files::MAX_KEY_FILE, "a PEM signing key")?;
            let key =
                evisa_issuer::key_from_pem(&pem).with_context(|| key.display().to_string())?;
            let text = read_capped_text(&visa, files::MAX_VISA_FILE, "a visa description")?;
            let file =
                evisa_issuer::VisaFile::parse(&text).with_context(|| visa.display().to_string())?;
            let claims = file.to_claims()?;
            let text = evisa_issuer::sign(&claims, &key, &Envelope::default());
            if let Some(png) = png {
                evisa_issuer::render_page(&claims, &text)?
                    .save(&png)
                    .with_context(|| format!("cannot write {}", png.display()))?;
            }
            println!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Fixtures { out, keys } => {
            let n = evisa_testkit::generate(&out, &keys)?;
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
            let img = evisa_scan::to_grey(&common::read_image(&page)?);
            let written = evisa_scan::simulate(&img, &expected, &out, per_category, seed)?;
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
            use evisa_scan::bench::{BenchDecoder, bench_dirs_with};
            if dirs.is_empty() {
                bail!("name at least one folder of images");
            }
            let decoder = if plain {
                BenchDecoder::PlainRqrr
            } else {
                BenchDecoder::Pipeline(evisa_scan::DecodeOptions {
                    budget: budget_ms.map(std::time::Duration::from_millis),
                    ..Default::default()
                })
            };
            println!("{}", bench_dirs_with(&dirs, decoder));
            Ok(ExitCode::SUCCESS)
        }
        Command::Update { command } => update_command(command),
    }
}

fn update_command(c: UpdateCommand) -> Result<ExitCode> {
    use evisa_core::update;
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
            let root =
                evisa_issuer::key_from_pem(&pem).with_context(|| root_key.display().to_string())?;
            let content = match (keys, revoked_visas) {
                (Some(dir), _) => evisa_issuer::trust_content_from_dir(&dir)?,
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

/// Generates a signing key and writes it as `OUT/NAME.key` (PKCS#8 PEM, 0600).
fn new_secret_key(out: &Path, name: &str) -> Result<(ed25519_dalek::SigningKey, PathBuf)> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        bail!("--name {name:?} must be a plain file name");
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let key = evisa_issuer::generate_key();
    let key_path = out.join(format!("{name}.key"));
    write_private(&key_path, evisa_issuer::key_to_pem(&key)?.as_bytes())?;
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
