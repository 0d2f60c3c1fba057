//! The `[fleet]` section of a booth's configuration: where the central server is, the
//! booth's database role, and the file holding its password (never the command line,
//! never group- or world-readable), with the claim timeout and the sync interval.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum FleetConfigError {
    #[error("configuration setting `fleet.{setting}` = {value}: {problem}")]
    Invalid {
        setting: &'static str,
        value: String,
        problem: &'static str,
    },
    #[error(
        "fleet credentials file {path} is readable by other users (mode {mode:04o}); run `chmod 600 {path}`"
    )]
    Exposed { path: String, mode: u32 },
    #[error("fleet credentials file {path}: {problem}")]
    Credentials { path: String, problem: String },
}

/// The section as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    pub host: Option<String>,
    pub port: Option<i64>,
    pub dbname: Option<String>,
    pub user: Option<String>,
    pub credentials: Option<PathBuf>,
    pub claim_timeout_ms: Option<i64>,
    pub connect_timeout_ms: Option<i64>,
    pub sync_interval_secs: Option<i64>,
}

/// A validated `[fleet]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetConfig {
    /// A host name or address, or a folder holding the server's unix socket.
    pub host: String,
    pub port: u16,
    pub dbname: String,
    /// The booth's own database role.
    pub user: String,
    /// A file holding the role's password (mode 0600 or stricter).
    pub credentials: PathBuf,
    /// How long an entry's claim (and the visa's lookup) may take before the booth
    /// decides provisionally.
    pub claim_timeout: Duration,
    pub connect_timeout: Duration,
    pub sync_interval: Duration,
}

fn invalid(setting: &'static str, value: impl ToString, problem: &'static str) -> FleetConfigError {
    FleetConfigError::Invalid {
        setting,
        value: value.to_string(),
        problem,
    }
}

fn ident(setting: &'static str, v: Option<String>) -> Result<String, FleetConfigError> {
    match v {
        Some(s)
            if (1..=63).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
        {
            Ok(s)
        }
        Some(s) => Err(invalid(
            setting,
            format!("{s:?}"),
            "must be 1 to 63 lower-case letters, digits or '_'",
        )),
        None => Err(invalid(setting, "(missing)", "is required in [fleet]")),
    }
}

impl FleetConfig {
    /// Validates the section; relative paths start at `base` (the file's folder).
    pub fn from_raw(raw: RawFleet, base: &Path) -> Result<Self, FleetConfigError> {
        let host = match raw.host {
            Some(h) if !h.is_empty() && h.len() <= 255 && !h.chars().any(char::is_control) => h,
            Some(h) => {
                return Err(invalid(
                    "host",
                    format!("{h:?}"),
                    "must be a host name, an address or a socket folder",
                ));
            }
            None => return Err(invalid("host", "(missing)", "is required in [fleet]")),
        };
        let port = match raw.port {
            None => 5432,
            Some(p) if (1..=65535).contains(&p) => p as u16,
            Some(p) => return Err(invalid("port", p, "must be between 1 and 65535")),
        };
        let ms = |v: Option<i64>, d: u64, setting, lo, hi| match v {
            None => Ok(Duration::from_millis(d)),
            Some(n) if (lo..=hi).contains(&n) => Ok(Duration::from_millis(n as u64)),
            Some(n) => Err(invalid(setting, n, "is out of range")),
        };
        let credentials = match raw.credentials {
            Some(p) if !p.as_os_str().is_empty() => {
                if p.is_absolute() {
                    p
                } else {
                    base.join(p)
                }
            }
            _ => {
                return Err(invalid(
                    "credentials",
                    "(missing)",
                    "must name the file holding the role's password",
                ));
            }
        };
        Ok(FleetConfig {
            host,
            port,
            dbname: ident("dbname", raw.dbname)?,
            user: ident("user", raw.user)?,
            credentials,
            claim_timeout: ms(raw.claim_timeout_ms, 300, "claim_timeout_ms", 20, 10_000)?,
            connect_timeout: ms(
                raw.connect_timeout_ms,
                1000,
                "connect_timeout_ms",
                20,
                30_000,
            )?,
            sync_interval: Duration::from_secs(match raw.sync_interval_secs {
                None => 5,
                Some(n) if (1..=3600).contains(&n) => n as u64,
                Some(n) => {
                    return Err(invalid(
                        "sync_interval_secs",
                        n,
                        "must be between 1 and 3600 seconds",
                    ));
                }
            }),
        })
    }

    /// Reads the role's password: refused when the file is readable by anyone but
    /// its owner (the error names the file).
    pub fn read_password(&self) -> Result<String, FleetConfigError> {
        let path = self.credentials.display().to_string();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(&self.credentials).map_err(|e| {
                FleetConfigError::Credentials {
                    path: path.clone(),
                    problem: e.to_string(),
                }
            })?;
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                return Err(FleetConfigError::Exposed { path, mode });
            }
        }
        let text = evisa_store::files::read_capped_text(
            &self.credentials,
            4096,
            "a fleet credentials file",
        )
        .map_err(|e| FleetConfigError::Credentials {
            path: path.clone(),
            problem: e.to_string(),
        })?;
        let pw = text.trim_end_matches(['\n', '\r']);
        if pw.is_empty() || pw.contains(['\n', '\r', '\0']) {
            return Err(FleetConfigError::Credentials {
                path,
                problem: "must hold the password on one line".into(),
            });
        }
        Ok(pw.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawFleet {
        RawFleet {
            host: Some("127.0.0.1".into()),
            dbname: Some("evisa_fleet".into()),
            user: Some("booth_nqz_1".into()),
            credentials: Some("fleet.pass".into()),
            ..RawFleet::default()
        }
    }

    #[test]
    fn defaults_and_relative_credentials() {
        let c = FleetConfig::from_raw(raw(), Path::new("/etc/evisa")).unwrap();
        assert_eq!(c.port, 5432);
        assert_eq!(c.claim_timeout, Duration::from_millis(300));
        assert_eq!(c.credentials, Path::new("/etc/evisa/fleet.pass"));
    }

    #[test]
    fn a_role_name_that_could_inject_sql_or_a_missing_setting_is_refused_by_name() {
        let mut r = raw();
        r.user = Some("x'; DROP TABLE crossings; --".into());
        let e = FleetConfig::from_raw(r, Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("fleet.user"), "{e}");
        let mut r = raw();
        r.credentials = None;
        let e = FleetConfig::from_raw(r, Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("fleet.credentials"), "{e}");
        let mut r = raw();
        r.claim_timeout_ms = Some(0);
        let e = FleetConfig::from_raw(r, Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("fleet.claim_timeout_ms"), "{e}");
    }
}
