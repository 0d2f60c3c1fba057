//! Failures the kiosk meets outside itself (the database, the disk, the trust store's
//! files, scanners and passport readers) as typed categories an officer reads in their
//! own language. The technical text (SQLite's or the operating system's own words) goes
//! with the category as a secondary detail and to the log; it is never the sentence
//! the officer reads.

use evisa_core::trust::TrustError;
use evisa_store::audit::AuditError;
use evisa_store::officers::OfficerError;
use evisa_store::store::StoreError;
use evisa_store::terminal::TerminalError;

use crate::app::{Level, Notice};

/// What went wrong, in the officer's terms; the variants carry what the sentence names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// SQLite busy or locked: another process holds the database.
    DbBusy,
    /// The disk is full: nothing was written.
    DiskFull,
    /// The database file or its folder does not accept writes.
    DbReadOnly,
    /// The database file is damaged or is not an evisa database.
    DbCorrupt,
    /// The operating system failed a read or a write (a failing or removed disk).
    DiskIo,
    /// The database was written by another version of the software.
    DbVersion,
    /// The configured database file is not there.
    DbMissing,
    /// The kiosk runs without a database (training without `--db`).
    NoDatabase,
    /// Any other database failure.
    Database,
    /// A trust store file or folder cannot be read.
    TrustUnreadable { file: String },
    /// The trust store folder holds no key files.
    TrustEmpty { file: String },
    /// A key file is not a valid key file.
    TrustBadFile { file: String },
    /// Two key files hold the same key.
    TrustDuplicate { file: String, other: String },
    /// A test-only key outside training mode.
    TrustTestKey { file: String },
    /// A step of the kiosk itself failed (a caught panic, an impossible state).
    Internal,
}

/// A failure: its category, and the technical text for the detail line and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub raw: String,
}

impl Fault {
    pub fn new(kind: FaultKind, raw: impl Into<String>) -> Self {
        Fault {
            kind,
            raw: raw.into(),
        }
    }

    /// The catalogue key of the category's sentence (under `fault.`).
    pub fn key(&self) -> &'static str {
        match &self.kind {
            FaultKind::DbBusy => "fault.db_busy",
            FaultKind::DiskFull => "fault.disk_full",
            FaultKind::DbReadOnly => "fault.db_read_only",
            FaultKind::DbCorrupt => "fault.db_corrupt",
            FaultKind::DiskIo => "fault.disk_io",
            FaultKind::DbVersion => "fault.db_version",
            FaultKind::DbMissing => "fault.db_missing",
            FaultKind::NoDatabase => "fault.no_database",
            FaultKind::Database => "fault.database",
            FaultKind::TrustUnreadable { .. } => "fault.trust_unreadable",
            FaultKind::TrustEmpty { .. } => "fault.trust_empty",
            FaultKind::TrustBadFile { .. } => "fault.trust_bad_file",
            FaultKind::TrustDuplicate { .. } => "fault.trust_duplicate",
            FaultKind::TrustTestKey { .. } => "fault.trust_test_key",
            FaultKind::Internal => "fault.internal",
        }
    }

    /// The sentence's placeholders (file names are data: shown as they are).
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match &self.kind {
            FaultKind::TrustUnreadable { file }
            | FaultKind::TrustEmpty { file }
            | FaultKind::TrustBadFile { file }
            | FaultKind::TrustTestKey { file } => vec![("file", file.clone())],
            FaultKind::TrustDuplicate { file, other } => {
                vec![("file", file.clone()), ("other", other.clone())]
            }
            _ => Vec::new(),
        }
    }

    /// The officer's notice: the translated category, the technical text as its detail.
    pub fn notice(&self) -> Notice {
        let mut n = Notice::new(self.key(), Level::Error).detail(self.raw.clone());
        n.args = self
            .args()
            .into_iter()
            // A file name must not be taken for a catalogue key when the notice is drawn.
            .map(|(k, v)| (k, format!("{LITERAL}{v}")))
            .collect();
        n
    }

    /// Writes the technical text to the log (once, where the failure is met).
    pub fn logged(self) -> Self {
        tracing::warn!(
            category = self.key(),
            error = %crate::worker::log_text(&self.raw),
            "kiosk step failed"
        );
        self
    }
}

/// Marks a notice argument as data to show as it is, never looked up in a catalogue.
pub const LITERAL: &str = "\u{0}lit:";

impl From<&StoreError> for Fault {
    fn from(e: &StoreError) -> Self {
        let kind = match e {
            StoreError::Open { source, .. } => {
                return Fault::new(Fault::from(&**source).kind, e.to_string());
            }
            StoreError::Missing { .. } => FaultKind::DbMissing,
            StoreError::NotEvisa { .. } | StoreError::CorruptFile | StoreError::Corrupt { .. } => {
                FaultKind::DbCorrupt
            }
            StoreError::NeedsMigration { .. } | StoreError::TooNew { .. } => FaultKind::DbVersion,
            StoreError::Full => FaultKind::DiskFull,
            StoreError::Busy => FaultKind::DbBusy,
            StoreError::ReadOnly | StoreError::Permissions { .. } => FaultKind::DbReadOnly,
            StoreError::Io(_) => FaultKind::DiskIo,
            StoreError::Sql(_) | StoreError::Replay { .. } => FaultKind::Database,
        };
        Fault::new(kind, e.to_string())
    }
}

impl From<&TrustError> for Fault {
    fn from(e: &TrustError) -> Self {
        let kind = match e {
            TrustError::Io { path, .. } => FaultKind::TrustUnreadable {
                file: path.display().to_string(),
            },
            TrustError::Empty(path) => FaultKind::TrustEmpty {
                file: path.display().to_string(),
            },
            TrustError::BadFile { file, .. } => FaultKind::TrustBadFile { file: file.clone() },
            TrustError::Duplicate { first, second, .. } => FaultKind::TrustDuplicate {
                file: first.clone(),
                other: second.clone(),
            },
            TrustError::TestOnlyKey { file, .. } => FaultKind::TrustTestKey { file: file.clone() },
        };
        Fault::new(kind, e.to_string())
    }
}

impl From<&TerminalError> for Fault {
    fn from(e: &TerminalError) -> Self {
        match e {
            TerminalError::Trust(t) => t.into(),
            TerminalError::Store(s) => s.into(),
            TerminalError::NoDatabase => Fault::new(FaultKind::NoDatabase, e.to_string()),
            TerminalError::NotAccepted(_) => Fault::new(FaultKind::Internal, e.to_string()),
        }
    }
}

impl From<&OfficerError> for Fault {
    fn from(e: &OfficerError) -> Self {
        match e {
            OfficerError::Store(s) => s.into(),
            _ => Fault::new(FaultKind::Database, e.to_string()),
        }
    }
}

impl From<&AuditError> for Fault {
    fn from(e: &AuditError) -> Self {
        match e {
            AuditError::Store(s) => s.into(),
            AuditError::Io(_) => Fault::new(FaultKind::DiskIo, e.to_string()),
        }
    }
}

/// A device's status detail, as a catalogue key and its placeholders. The scan sources
/// report in English words; the kiosk shows the category they name. The device path is
/// data and is shown as it is; an unrecognised text falls back to a general phrase
/// (the text itself is in the log).
pub fn device_detail(detail: &str) -> (&'static str, Vec<(&'static str, String)>) {
    // The kiosk's own details are catalogue keys already.
    if detail.starts_with("source.") {
        return (own_key(detail), Vec::new());
    }
    let lower = detail.to_ascii_lowercase();
    if let Some(rest) = detail.strip_prefix("cannot open ") {
        let path = rest.split_once(": ").map_or(rest, |(p, _)| p).to_string();
        let key = if lower.contains("no such file") || lower.contains("not found") {
            "device.absent"
        } else if lower.contains("permission denied") {
            "device.denied"
        } else if lower.contains("busy") {
            "device.busy"
        } else {
            "device.cannot_open"
        };
        return (key, vec![("path", path)]);
    }
    if let Some(path) = detail.strip_suffix(" disappeared") {
        return ("device.unplugged", vec![("path", path.to_string())]);
    }
    if lower == "end of stream" {
        return ("device.closed", Vec::new());
    }
    if lower.starts_with("read error") {
        return ("device.read_error", Vec::new());
    }
    // A connected serial device reports its path.
    if detail.starts_with('/') && !detail.contains(' ') {
        return ("device.path", vec![("path", detail.to_string())]);
    }
    ("device.failed", Vec::new())
}

/// The kiosk's own status keys (a `source.*` detail) as `'static` keys.
fn own_key(detail: &str) -> &'static str {
    match detail {
        "source.no_camera" => "source.no_camera",
        _ => "device.failed",
    }
}

/// Why a scanner line was dropped, as a catalogue key and its placeholders (the scan
/// sources' framing errors: over-long, or not UTF-8).
pub fn unreadable_detail(detail: &str) -> (&'static str, Vec<(&'static str, String)>) {
    let number = || {
        detail
            .split(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())
            .unwrap_or("?")
            .to_string()
    };
    if detail.contains("UTF-8") {
        ("scan.unreadable_text", vec![("n", number())])
    } else if detail.contains("longer than") {
        ("scan.unreadable_long", vec![("max", number())])
    } else {
        ("scan.unreadable", Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_fall_into_the_officers_categories() {
        let open = StoreError::Open {
            path: "/var/lib/evisa/evisa.db".into(),
            source: Box::new(StoreError::Busy),
        };
        assert_eq!(Fault::from(&open).kind, FaultKind::DbBusy);
        assert!(Fault::from(&open).raw.contains("/var/lib/evisa/evisa.db"));
        assert_eq!(Fault::from(&StoreError::Full).kind, FaultKind::DiskFull);
        assert_eq!(
            Fault::from(&StoreError::CorruptFile).kind,
            FaultKind::DbCorrupt
        );
        assert_eq!(
            Fault::from(&StoreError::Io("writing")).kind,
            FaultKind::DiskIo
        );
        let t = TrustError::BadFile {
            file: "k1.toml".into(),
            problem: "not a key".into(),
        };
        let f = Fault::from(&t);
        assert_eq!(
            f.kind,
            FaultKind::TrustBadFile {
                file: "k1.toml".into()
            }
        );
        assert_eq!(f.notice().args[0].1, format!("{LITERAL}k1.toml"));
    }

    #[test]
    fn device_texts_fall_into_categories_naming_the_device() {
        let (k, a) = device_detail("cannot open /dev/ttyUSB0: No such file or directory");
        assert_eq!((k, a[0].1.as_str()), ("device.absent", "/dev/ttyUSB0"));
        let (k, _) = device_detail("cannot open /dev/ttyS0: Permission denied (os error 13)");
        assert_eq!(k, "device.denied");
        let (k, a) = device_detail("/dev/ttyACM0 disappeared");
        assert_eq!((k, a[0].1.as_str()), ("device.unplugged", "/dev/ttyACM0"));
        assert_eq!(
            device_detail("read error: Input/output error").0,
            "device.read_error"
        );
        assert_eq!(device_detail("end of stream").0, "device.closed");
        assert_eq!(device_detail("/dev/ttyUSB1").0, "device.path");
        assert_eq!(device_detail("source.no_camera").0, "source.no_camera");
        assert_eq!(device_detail("Could not open device 0").0, "device.failed");
    }

    #[test]
    fn dropped_scanner_lines_say_why_with_their_numbers() {
        assert_eq!(
            unreadable_detail("line of 12 bytes is not valid UTF-8, dropped"),
            ("scan.unreadable_text", vec![("n", "12".to_string())])
        );
        assert_eq!(
            unreadable_detail("line longer than 8192 bytes dropped"),
            ("scan.unreadable_long", vec![("max", "8192".to_string())])
        );
    }
}
