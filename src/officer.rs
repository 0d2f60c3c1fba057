//! `evisa officer add|unlock|list`: officer accounts from the shell, with the hidden
//! PIN prompt. The settings (`--config`, `--db`) resolve as the kiosk's do.

use evisa_store::audit::AuditKind;
use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use evisa_kiosk::config::KioskConfig;
use evisa_kiosk::runtime::SettingsArgs;
use evisa_store::officers::{Role, SignIn, validate_pin};
use evisa_store::store::{AuditEvent, Store};
use evisa_store::terminal::kazakhstan_now_rfc3339;

#[derive(Subcommand, Debug)]
pub enum OfficerCommand {
    /// Add an officer account; the PIN (4-12 digits) is asked for twice, hidden.
    Add {
        id: String,
        #[arg(long, default_value = "officer", value_parser = ["officer", "supervisor"])]
        role: String,
        /// Read the PIN from the first line of standard input instead of asking.
        #[arg(long)]
        pin_stdin: bool,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Unlock an account locked by wrong PINs; a supervisor authorises it with their PIN.
    Unlock {
        id: String,
        /// The supervisor's officer ID.
        #[arg(long)]
        supervisor: String,
        /// Read the supervisor's PIN from standard input instead of asking.
        #[arg(long)]
        pin_stdin: bool,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// List the accounts, their roles and whether they are locked.
    List {
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

/// Reads a PIN: from stdin's first line, or from the terminal without echo.
/// The longest PIN line read: PINs are 4–12 digits (`validate_pin` says which is wrong).
const MAX_PIN_LINE: u64 = 64;

pub fn read_pin(prompt: &str, from_stdin: bool) -> Result<String> {
    if from_stdin {
        // A PIN is at most 12 digits; standard input may be /dev/zero or a huge pipe.
        use std::io::Read as _;
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .take(MAX_PIN_LINE + 1)
            .read_line(&mut line)?;
        if line.len() as u64 > MAX_PIN_LINE {
            bail!("the PIN line on standard input is longer than {MAX_PIN_LINE} bytes");
        }
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the PIN on; pass --pin-stdin and send it on standard input");
    }
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    crossterm::terminal::enable_raw_mode()?;
    let mut pin = String::new();
    let result = loop {
        match event::read() {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(anyhow::anyhow!("cancelled"));
                }
                KeyCode::Esc => break Err(anyhow::anyhow!("cancelled")),
                KeyCode::Backspace => {
                    pin.pop();
                }
                KeyCode::Char(c) if pin.len() < MAX_PIN_LINE as usize => pin.push(c),
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(e.into()),
        }
    };
    crossterm::terminal::disable_raw_mode()?;
    eprintln!();
    result.map(|()| pin)
}

fn audit(
    store: &mut Store,
    cfg: &KioskConfig,
    officer: Option<&str>,
    details: serde_json::Value,
) -> Result<()> {
    store.append_audit(&AuditEvent {
        kind: AuditKind::SettingsChange,
        officer,
        terminal: Some(&cfg.terminal_id),
        at: &kazakhstan_now_rfc3339(),
        details: &details,
    })?;
    Ok(())
}

/// Runs one `evisa officer …` command.
pub fn officer(cmd: OfficerCommand) -> Result<()> {
    match cmd {
        OfficerCommand::Add {
            id,
            role,
            pin_stdin,
            settings,
        } => {
            let cfg = settings.resolve()?;
            let role = Role::parse(&role).unwrap_or(Role::Officer);
            let mut store = Store::open(&cfg.database)?;
            if store.officer(&id)?.is_some() {
                bail!("officer {id} already exists in {}", cfg.database.display());
            }
            let pin = read_pin(&format!("PIN for {id}: "), pin_stdin)?;
            validate_pin(&pin)?;
            if !pin_stdin && read_pin("Repeat the PIN: ", false)? != pin {
                bail!("the two PINs differ; nothing changed");
            }
            store.add_officer(&id, role, &pin, &kazakhstan_now_rfc3339())?;
            audit(
                &mut store,
                &cfg,
                None,
                serde_json::json!({"action": "officer_add", "id": id, "role": role.as_str()}),
            )?;
            println!("added {} {id} to {}", role.as_str(), cfg.database.display());
        }
        OfficerCommand::Unlock {
            id,
            supervisor,
            pin_stdin,
            settings,
        } => {
            let cfg = settings.resolve()?;
            let mut store = Store::open(&cfg.database)?;
            if store.officer(&id)?.is_none() {
                bail!("no officer {id} in {}", cfg.database.display());
            }
            let pin = read_pin(&format!("PIN of supervisor {supervisor}: "), pin_stdin)?;
            match store
                .check_pin(&supervisor, &pin)
                .context("checking the supervisor's PIN")?
            {
                SignIn::Ok {
                    role: Role::Supervisor,
                    ..
                } => {}
                SignIn::Ok { .. } => bail!("{supervisor} is not a supervisor"),
                SignIn::Locked | SignIn::NowLocked => {
                    bail!("supervisor account {supervisor} is locked")
                }
                SignIn::WrongPin { .. } | SignIn::Unknown => {
                    bail!("wrong supervisor ID or PIN")
                }
            }
            store.unlock_officer(&id)?;
            audit(
                &mut store,
                &cfg,
                Some(&supervisor),
                serde_json::json!({"action": "officer_unlock", "id": id}),
            )?;
            println!("unlocked {id}");
        }
        OfficerCommand::List { settings } => {
            let cfg = settings.resolve()?;
            let mut store = Store::open(&cfg.database)?;
            for o in store.list_officers()? {
                println!(
                    "{:<20} {:<10} {}",
                    o.id,
                    o.role.as_str(),
                    if o.locked {
                        "LOCKED".to_string()
                    } else if o.failed_attempts > 0 {
                        format!("{} wrong PIN(s)", o.failed_attempts)
                    } else {
                        "active".to_string()
                    }
                );
            }
        }
    }
    Ok(())
}
