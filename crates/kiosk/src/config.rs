//! The kiosk's configuration file (TOML, `--config`): checkpoint, terminal, paths,
//! language, timeouts and input sources. Parsed and fully validated before the screen
//! opens; every error names the setting at fault. `kiosk.example.toml` documents it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::i18n::Lang;
use evisa_core::rules::Direction;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("terminal configuration: {0}")]
    Read(#[from] evisa_store::files::ReadError),
    #[error("configuration {path}: {message}")]
    Syntax { path: String, message: String },
    #[error("configuration setting `{setting}` = {value}: {problem}")]
    Invalid {
        setting: &'static str,
        value: String,
        problem: &'static str,
    },
    #[error(transparent)]
    Fleet(#[from] evisa_fleet::config::FleetConfigError),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    checkpoint: Option<String>,
    terminal_id: Option<String>,
    direction: Option<String>,
    database: Option<PathBuf>,
    trust_store: Option<PathBuf>,
    update_root_key: Option<PathBuf>,
    training: Option<bool>,
    language: Option<String>,
    pair_timeout_secs: Option<i64>,
    trust_update_max_age_days: Option<i64>,
    #[serde(default)]
    sources: RawSources,
    fleet: Option<evisa_fleet::config::RawFleet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    keyboard: Option<bool>,
    serial_scanner: Option<RawSerial>,
    serial_mrz: Option<RawSerial>,
    camera: Option<RawCamera>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSerial {
    port: String,
    baud: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCamera {
    device: i64,
}

/// A serial device: a QR scanner or an MRZ reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialSource {
    pub port: String,
    pub baud: u32,
}

/// Which input devices the kiosk listens to. The keyboard wedge is always on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub serial_scanner: Option<SerialSource>,
    pub serial_mrz: Option<SerialSource>,
    /// V4L2 device index (`/dev/videoN`).
    pub camera: Option<u32>,
}

impl Sources {
    /// Source names as the status bar shows them, keyboard first.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = vec![KEYBOARD];
        if self.serial_scanner.is_some() {
            v.push(SERIAL_SCANNER);
        }
        if self.serial_mrz.is_some() {
            v.push(SERIAL_MRZ);
        }
        if self.camera.is_some() {
            v.push(CAMERA);
        }
        v
    }
}

/// Source names used in [`evisa_scan::ScanEvent`]s and the status bar.
pub const KEYBOARD: &str = "keyboard";
pub const SERIAL_SCANNER: &str = "serial-scanner";
pub const SERIAL_MRZ: &str = "serial-mrz";
pub const CAMERA: &str = "camera";

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskConfig {
    pub checkpoint: String,
    pub terminal_id: String,
    pub direction: Direction,
    pub database: PathBuf,
    /// Whether the file named `database` (rather than leaving the default): demo mode
    /// refuses such a file, since its supervisor signs in without a PIN.
    pub database_configured: bool,
    pub trust_store: PathBuf,
    /// The pinned public half of the ministry's update root key (SPKI PEM). No
    /// default: a trust anchor is never a path the program chose by itself.
    pub update_root_key: Option<PathBuf>,
    /// A training machine: test-only keys (spec §5) may be loaded. Off unless the
    /// file says `training = true`.
    pub training: bool,
    pub language: Lang,
    /// How long the first half of a QR+MRZ pair waits for the other half.
    pub pair_timeout: Duration,
    /// The trust-store summary warns when the last update is older than this.
    pub trust_update_max_age_days: u32,
    pub sources: Sources,
    /// The fleet's central server (`[fleet]`); `None`: a standalone booth.
    pub fleet: Option<evisa_fleet::FleetConfig>,
}

impl Default for KioskConfig {
    /// Runs from the repository root on the bundled test keys.
    fn default() -> Self {
        KioskConfig {
            checkpoint: "NQZ".into(),
            terminal_id: "kiosk-1".into(),
            direction: Direction::Entry,
            database: "evisa.db".into(),
            database_configured: false,
            trust_store: "keys".into(),
            update_root_key: None,
            training: false,
            language: Lang::En,
            pair_timeout: Duration::from_secs(60),
            trust_update_max_age_days: 30,
            sources: Sources::default(),
            fleet: None,
        }
    }
}

fn invalid(
    setting: &'static str,
    value: impl std::fmt::Debug,
    problem: &'static str,
) -> ConfigError {
    ConfigError::Invalid {
        setting,
        value: format!("{value:?}"),
        problem,
    }
}

impl KioskConfig {
    /// Reads and validates a file; relative paths in it are relative to its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = evisa_store::files::read_capped_text(
            path,
            evisa_store::files::MAX_CONFIG,
            "a terminal configuration",
        )?;
        let base = path.parent().unwrap_or(Path::new(""));
        Self::parse(&text, base).map_err(|e| match e {
            ConfigError::Syntax { message, .. } => ConfigError::Syntax {
                path: path.display().to_string(),
                message,
            },
            other => other,
        })
    }

    /// Parses configuration text; `base` is where relative paths start.
    pub fn parse(text: &str, base: &Path) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: String::new(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let d = KioskConfig::default();
        let checkpoint = match raw.checkpoint {
            None => d.checkpoint,
            Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => c,
            Some(c) => {
                return Err(invalid(
                    "checkpoint",
                    c,
                    "must be a 3-letter upper-case code such as \"NQZ\" or \"ALA\"",
                ));
            }
        };
        let terminal_id = match raw.terminal_id {
            None => d.terminal_id,
            Some(t)
                if (1..=32).contains(&t.len())
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                t
            }
            Some(t) => {
                return Err(invalid(
                    "terminal_id",
                    t,
                    "must be 1 to 32 letters, digits, '-' or '_'",
                ));
            }
        };
        let direction = match raw.direction {
            None => d.direction,
            Some(s) => Direction::parse(&s)
                .ok_or_else(|| invalid("direction", s, "must be \"entry\" or \"exit\""))?,
        };
        let language = match raw.language {
            None => d.language,
            Some(s) => Lang::parse(&s)
                .ok_or_else(|| invalid("language", s, "must be \"en\", \"ru\" or \"kk\""))?,
        };
        let pair_timeout = match raw.pair_timeout_secs {
            None => d.pair_timeout,
            Some(n) if (5..=600).contains(&n) => Duration::from_secs(n as u64),
            Some(n) => {
                return Err(invalid(
                    "pair_timeout_secs",
                    n,
                    "must be between 5 and 600 seconds",
                ));
            }
        };
        let trust_update_max_age_days = match raw.trust_update_max_age_days {
            None => d.trust_update_max_age_days,
            Some(n) if (1..=3650).contains(&n) => n as u32,
            Some(n) => {
                return Err(invalid(
                    "trust_update_max_age_days",
                    n,
                    "must be between 1 and 3650 days",
                ));
            }
        };
        let path = |p: Option<PathBuf>, default: PathBuf, setting: &'static str| {
            let p = p.unwrap_or(default);
            if p.as_os_str().is_empty() {
                return Err(invalid(setting, "", "must not be empty"));
            }
            Ok(if p.is_absolute() { p } else { base.join(p) })
        };
        let database_configured = raw.database.is_some();
        let database = path(raw.database, d.database, "database")?;
        let trust_store = path(raw.trust_store, d.trust_store, "trust_store")?;
        let update_root_key = raw
            .update_root_key
            .map(|p| path(Some(p), PathBuf::new(), "update_root_key"))
            .transpose()?;
        let s = raw.sources;
        if s.keyboard == Some(false) {
            return Err(invalid(
                "sources.keyboard",
                false,
                "the keyboard wedge cannot be turned off (it is the fallback for every device)",
            ));
        }
        let serial = |r: Option<RawSerial>, port_key, baud_key| -> Result<_, ConfigError> {
            let Some(r) = r else { return Ok(None) };
            if r.port.trim().is_empty() {
                return Err(invalid(
                    port_key,
                    r.port,
                    "must name a serial device such as \"/dev/ttyUSB0\"",
                ));
            }
            let baud = match r.baud {
                None => 9600,
                Some(b) if (1200..=921_600).contains(&b) => b as u32,
                Some(b) => return Err(invalid(baud_key, b, "must be between 1200 and 921600")),
            };
            Ok(Some(SerialSource { port: r.port, baud }))
        };
        let sources = Sources {
            serial_scanner: serial(
                s.serial_scanner,
                "sources.serial_scanner.port",
                "sources.serial_scanner.baud",
            )?,
            serial_mrz: serial(
                s.serial_mrz,
                "sources.serial_mrz.port",
                "sources.serial_mrz.baud",
            )?,
            camera: match s.camera {
                None => None,
                Some(c) if (0..=63).contains(&c.device) => Some(c.device as u32),
                Some(c) => {
                    return Err(invalid(
                        "sources.camera.device",
                        c.device,
                        "must be a video device index from 0 to 63",
                    ));
                }
            },
        };
        let fleet = raw
            .fleet
            .map(|f| evisa_fleet::FleetConfig::from_raw(f, base))
            .transpose()?;
        Ok(KioskConfig {
            fleet,
            checkpoint,
            terminal_id,
            direction,
            database,
            database_configured,
            trust_store,
            update_root_key,
            training: raw.training.unwrap_or(false),
            language,
            pair_timeout,
            trust_update_max_age_days,
            sources,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses() {
        let text = include_str!("../../../kiosk.example.toml");
        let c = KioskConfig::parse(text, Path::new("/etc/evisa")).unwrap();
        assert_eq!(c.checkpoint, "NQZ");
        assert_eq!(c.database, Path::new("/etc/evisa/evisa.db"));
        // No trust anchor by default: the operator sets it.
        assert_eq!(c.update_root_key, None);
        assert!(!c.training);
        let c = KioskConfig::parse(
            "update_root_key = \"root.pub\"\ntraining = true\n",
            Path::new("/etc/evisa"),
        )
        .unwrap();
        assert_eq!(
            c.update_root_key.as_deref(),
            Some(Path::new("/etc/evisa/root.pub"))
        );
        assert!(c.training);
        assert_eq!(c.sources.names(), vec![KEYBOARD]);
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = KioskConfig::parse("", Path::new("")).unwrap();
        assert_eq!(c, KioskConfig::default());
    }

    #[test]
    fn errors_name_the_setting() {
        let err = |t: &str| {
            KioskConfig::parse(t, Path::new(""))
                .unwrap_err()
                .to_string()
        };
        assert!(err("checkpoint = \"nqz\"").contains("`checkpoint`"));
        assert!(err("direction = \"in\"").contains("`direction`"));
        assert!(err("language = \"de\"").contains("`language`"));
        assert!(err("pair_timeout_secs = 1").contains("`pair_timeout_secs`"));
        assert!(
            err("[sources.serial_mrz]\nport = \"/dev/x\"\nbaud = 7")
                .contains("`sources.serial_mrz.baud`")
        );
        assert!(err("[sources.camera]\ndevice = -1").contains("`sources.camera.device`"));
        assert!(err("chekpoint = \"NQZ\"").contains("chekpoint"));
        assert!(err("pair_timeout_secs = \"ten\"").contains("pair_timeout_secs"));
    }

    #[test]
    fn sources_are_parsed() {
        let c = KioskConfig::parse(
            "[sources.serial_scanner]\nport = \"/dev/ttyACM0\"\nbaud = 115200\n[sources.camera]\ndevice = 0\n",
            Path::new(""),
        )
        .unwrap();
        assert_eq!(
            c.sources.serial_scanner,
            Some(SerialSource {
                port: "/dev/ttyACM0".into(),
                baud: 115200
            })
        );
        assert_eq!(c.sources.names(), vec![KEYBOARD, SERIAL_SCANNER, CAMERA]);
    }
}
