//! The terminal's SQLite database (adapter): recorded entries and exits per visa, the
//! visa revocation list, the hash-chained audit log with its head record, the applied
//! signed updates, and the schema migrations that carry a database forward.
//! Everything the rules need from it comes out as a plain [`History`].
//!
//! Durability: WAL with `synchronous=FULL`, so a transaction is on disk when `commit`
//! returns; every write is one short `BEGIN IMMEDIATE` transaction, and a 10 s busy
//! timeout lets the kiosk and a supervisor's CLI share the file. Errors (a full disk
//! included) come back as [`StoreError`] in plain words; a failed transaction rolls
//! back whole. A decision that depends on the history (single entry) is made inside
//! the write transaction that records it ([`Store::write`]), so two booths cannot both
//! admit the same visa.
//!
//! Identity: the file carries [`APPLICATION_ID`]. A path that names anything else (another
//! program's SQLite file, a file that is not SQLite at all) is refused before a single
//! byte of it is written: it is first looked at through a read-only connection, and
//! only an empty file or an evisa database is opened for writing.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use time::Date;

use evisa_core::dates;
use evisa_core::rules::{Direction, History, Movement};

/// `PRAGMA application_id` of an evisa database: ASCII "EVSA".
pub const APPLICATION_ID: i32 = 0x4556_5341;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Opening a database file failed; `source` says why.
    #[error("database {path}: {source}")]
    Open {
        path: String,
        source: Box<StoreError>,
    },
    /// A command that needs an existing database was given a path with no file.
    #[error("database {path}: no such database file")]
    Missing { path: String },
    /// The file is not an evisa database; it was not changed.
    #[error(
        "{path} is not an evisa database: {why}; refusing to use it (the file was not changed)"
    )]
    NotEvisa { path: String, why: String },
    /// An older evisa database opened read-only (the audit commands) cannot be migrated.
    #[error(
        "database {path} has schema version {found}, older than this program's {supported}; the audit commands never change the file, so open it once with the terminal (e.g. `evisa officer list --db {path}`) to migrate it"
    )]
    NeedsMigration {
        path: String,
        found: i64,
        supported: i64,
    },
    /// SQLITE_FULL, or the shared-memory file could not grow: nothing was written.
    #[error("disk full: the database cannot grow, nothing was written; free space on the disk")]
    Full,
    /// SQLITE_BUSY / SQLITE_LOCKED after the busy timeout.
    #[error("database is locked by another process (gave up after waiting 10 s)")]
    Busy,
    /// SQLITE_READONLY: the file, its folder or the disk does not accept writes.
    #[error("database is read-only: check the permissions of the file and its folder")]
    ReadOnly,
    /// SQLITE_CORRUPT: the file's structure is damaged.
    #[error("database file is corrupt; restore it from a backup")]
    CorruptFile,
    /// SQLITE_IOERR_*: the operating system failed a read or write.
    #[error("disk I/O error while {0} the database; the disk may be failing or removed")]
    Io(&'static str),
    #[error("database error: {0}")]
    Sql(rusqlite::Error),
    #[error(
        "database schema version {found} is newer than this program understands ({supported}); upgrade the terminal software"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("database holds an unreadable value in {table}.{column}: {value:?}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        value: String,
    },
    #[error("cannot set permissions of {path}: {source}")]
    Permissions {
        path: String,
        source: std::io::Error,
    },
    /// A signed update whose sequence number is not above the last one applied.
    #[error(
        "{kind} update #{seq} is not newer than the one already applied (#{applied}); an old update cannot be replayed"
    )]
    Replay {
        kind: String,
        seq: i64,
        applied: i64,
    },
}

/// SQLite's result codes in words an officer or a supervisor can act on; "disk I/O
/// error 4874" (SQLITE_IOERR_SHMSIZE) is what a full disk looks like under WAL.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        let rusqlite::Error::SqliteFailure(f, _) = &e else {
            return StoreError::Sql(e);
        };
        match f.code {
            ffi::ErrorCode::DiskFull => StoreError::Full,
            ffi::ErrorCode::DatabaseBusy | ffi::ErrorCode::DatabaseLocked => StoreError::Busy,
            ffi::ErrorCode::ReadOnly => StoreError::ReadOnly,
            ffi::ErrorCode::DatabaseCorrupt => StoreError::CorruptFile,
            ffi::ErrorCode::SystemIoFailure => match f.extended_code {
                ffi::SQLITE_IOERR_SHMSIZE => StoreError::Full,
                ffi::SQLITE_IOERR_READ | ffi::SQLITE_IOERR_SHORT_READ => StoreError::Io("reading"),
                ffi::SQLITE_IOERR_WRITE | ffi::SQLITE_IOERR_SHMMAP => StoreError::Io("writing"),
                ffi::SQLITE_IOERR_FSYNC | ffi::SQLITE_IOERR_DIR_FSYNC => StoreError::Io("flushing"),
                ffi::SQLITE_IOERR_TRUNCATE => StoreError::Io("truncating"),
                ffi::SQLITE_IOERR_LOCK
                | ffi::SQLITE_IOERR_RDLOCK
                | ffi::SQLITE_IOERR_UNLOCK
                | ffi::SQLITE_IOERR_SHMLOCK
                | ffi::SQLITE_IOERR_CHECKRESERVEDLOCK => StoreError::Io("locking"),
                _ => StoreError::Io("accessing"),
            },
            _ => StoreError::Sql(e),
        }
    }
}

/// Each entry migrates the schema from version `index` to `index + 1`, in one
/// transaction with the version bump.
const MIGRATIONS: &[&str] = &[
    // 1: movements and the visa revocation list.
    "CREATE TABLE movements (
        id INTEGER PRIMARY KEY,
        visa_number TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
        date TEXT NOT NULL,
        checkpoint TEXT NOT NULL,
        document_number TEXT NOT NULL,
        officer TEXT,
        terminal TEXT,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX movements_visa ON movements (visa_number, id);
    CREATE TABLE revoked_visas (
        visa_number TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        added_at TEXT NOT NULL
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        officer TEXT,
        terminal TEXT,
        details TEXT NOT NULL,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // 2: officer accounts for the kiosk sign-in (owned by `officers`).
    "CREATE TABLE officers (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('officer', 'supervisor')),
        pin_hash TEXT NOT NULL,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );",
    // 3: the audit head (last seq and hash, advanced by a trigger in the inserting
    // transaction, so deleting the chain's tail is detectable) and the applied updates.
    // `movements_from`: movements with a lower id predate the chain's coverage of
    // movements (crossing audit rows name their movement id from this version on).
    "CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash BLOB NOT NULL,
        movements_from INTEGER NOT NULL
    );
    INSERT INTO audit_head (id, seq, hash, movements_from) VALUES (
        1,
        coalesce((SELECT max(seq) FROM audit), 0),
        coalesce((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), zeroblob(32)),
        coalesce((SELECT max(id) FROM movements), 0) + 1
    );
    CREATE TRIGGER audit_head_advance AFTER INSERT ON audit
        BEGIN UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END;
    CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
        WHEN NEW.seq <= OLD.seq OR NEW.movements_from <> OLD.movements_from
        BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END;
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, 'the audit head cannot be deleted'); END;
    CREATE TABLE applied_updates (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        seq INTEGER NOT NULL,
        sha256 BLOB NOT NULL,
        issued TEXT NOT NULL,
        applied_at TEXT NOT NULL,
        UNIQUE (kind, seq)
    );
    CREATE TRIGGER applied_updates_no_update BEFORE UPDATE ON applied_updates
        BEGIN SELECT RAISE(ABORT, 'applied updates are append-only'); END;
    CREATE TRIGGER applied_updates_no_delete BEFORE DELETE ON applied_updates
        BEGIN SELECT RAISE(ABORT, 'applied updates are append-only'); END;",
    // 4: the fleet's outbox, pulled crossings, claim intents, conflicts and link state
    // (owned by `fleet`).
    crate::fleet::MIGRATION,
    // 5: the cursor of the fleet's published updates, and the last one refused
    // (owned by `fleet`).
    crate::fleet::MIGRATION_UPDATES,
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// A movement about to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMovement<'a> {
    pub visa_number: &'a str,
    pub movement: &'a Movement,
    pub document_number: &'a str,
    pub officer: Option<&'a str>,
    pub terminal: Option<&'a str>,
    /// Wall-clock time of the record, RFC 3339, passed in by the caller.
    pub recorded_at: &'a str,
}

/// One audit-log event: a verdict or an officer action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent<'a> {
    /// What happened.
    pub kind: crate::audit::AuditKind,
    pub officer: Option<&'a str>,
    pub terminal: Option<&'a str>,
    /// Wall-clock time, RFC 3339, passed in by the caller.
    pub at: &'a str,
    /// Event-specific fields.
    pub details: &'a serde_json::Value,
}

/// The hash that chains an audit row to its predecessor: SHA-256 over the previous
/// row's hash and the row's canonical contents (a compact JSON array, so field
/// boundaries cannot be shifted).
pub fn audit_hash(
    prev: &[u8],
    seq: i64,
    at: &str,
    kind: &str,
    officer: Option<&str>,
    terminal: Option<&str>,
    details: &str,
) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::json!([seq, at, kind, officer, terminal, details]).to_string();
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical.as_bytes());
    h.finalize().into()
}

/// The audit chain's head record: the last row's seq and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// 0 when the log is empty.
    pub seq: i64,
    /// All zeroes when the log is empty.
    pub hash: Vec<u8>,
    /// Movements with this id or above must each be named by a crossing audit row.
    pub movements_from: i64,
}

/// An audit row read back: when, what, who, and the details' JSON text as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub at: String,
    pub kind: String,
    pub officer: Option<String>,
    pub details: String,
}

/// A signed update as recorded after it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedUpdate {
    pub kind: evisa_core::update::Kind,
    pub seq: i64,
    /// SHA-256 of the whole update file.
    pub sha256: Vec<u8>,
    /// When the ministry issued it (RFC 3339, from the signed body).
    pub issued: String,
    /// When this terminal applied it (RFC 3339).
    pub applied_at: String,
}

impl AppliedUpdate {
    /// The day it was applied, in the offset it was recorded with (Kazakhstan time
    /// for the terminal): what the kiosk's status line shows.
    pub fn applied_date(&self) -> Option<Date> {
        time::OffsetDateTime::parse(
            &self.applied_at,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
        .map(|t| t.date())
    }
}

/// A visa revocation list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedVisa {
    pub visa_number: String,
    pub reason: String,
}

pub struct Store {
    conn: Connection,
}

/// What a file holds, judged before anything is written to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contents {
    /// A new or empty file (no tables, no version): ours to initialise.
    Empty,
    /// An evisa database at this schema version.
    Evisa { version: i64 },
}

/// The tables every evisa schema since version 1 has: how a database made before the
/// application id existed is recognised.
const V1_TABLES: [&str; 3] = ["movements", "revoked_visas", "audit"];

/// Classifies the file behind `conn` without writing to it.
fn contents(conn: &Connection, path: &str) -> Result<Contents, StoreError> {
    let not_evisa = |why: String| StoreError::NotEvisa {
        path: path.to_string(),
        why,
    };
    let app_id: i32 = match conn.query_row("PRAGMA application_id", [], |r| r.get(0)) {
        Ok(id) => id,
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ffi::ErrorCode::NotADatabase =>
        {
            return Err(not_evisa("it is not a SQLite database".into()));
        }
        Err(e) => return Err(e.into()),
    };
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables = {
        let mut stmt = conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name",
        )?;
        stmt.query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?
    };
    if app_id == APPLICATION_ID {
        return Ok(Contents::Evisa { version });
    }
    if app_id != 0 {
        return Err(not_evisa(format!(
            "it belongs to another application (application id {:#010x})",
            app_id as u32
        )));
    }
    if version == 0 && tables.is_empty() {
        return Ok(Contents::Empty);
    }
    if version >= 1 && V1_TABLES.iter().all(|t| tables.iter().any(|n| n == t)) {
        return Ok(Contents::Evisa { version });
    }
    let mut listed = tables
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if tables.len() > 5 {
        listed.push_str(", ...");
    }
    Err(not_evisa(format!(
        "it holds another application's data (schema version {version}, tables: {})",
        if listed.is_empty() { "none" } else { &listed }
    )))
}

/// Opens `path` read-only and classifies it. A read-only connection to a WAL-mode file
/// creates its `-wal` and `-shm` files when they are missing; when the file is refused,
/// the ones this look created are removed again, so another program's folder is left
/// as it was.
fn inspect(path: &Path, display: &str) -> Result<(Connection, Contents), StoreError> {
    let sidecars = sidecar_paths(path);
    let existed = sidecars.clone().map(|p| p.exists());
    let look = || -> Result<(Connection, Contents), StoreError> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // One read transaction: the version, the id and the tables from one snapshot,
        // not from before and after another process's first migration.
        conn.execute_batch("BEGIN")?;
        let kind = contents(&conn, display);
        conn.execute_batch("COMMIT")?;
        Ok((conn, kind?))
    };
    let result = look();
    if result.is_err() {
        for (side, existed) in sidecars.iter().zip(existed) {
            if !existed {
                let _ = std::fs::remove_file(side);
            }
        }
    }
    result.map_err(|e| in_file(display, e))
}

/// Names the file in an error that does not already.
fn in_file(display: &str, e: StoreError) -> StoreError {
    match e {
        e @ (StoreError::NotEvisa { .. }
        | StoreError::Missing { .. }
        | StoreError::NeedsMigration { .. }
        | StoreError::Open { .. }
        | StoreError::Permissions { .. }) => e,
        other => StoreError::Open {
            path: display.to_string(),
            source: Box::new(other),
        },
    }
}

const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl StoreError {
    /// Whether this is a lock another process holds (directly, or as the cause of a
    /// failed open).
    fn is_busy(&self) -> bool {
        match self {
            StoreError::Busy => true,
            StoreError::Open { source, .. } => source.is_busy(),
            _ => false,
        }
    }
}

impl Store {
    /// Opens (creating with mode 0600 if needed) and migrates the database. The file is
    /// created private before SQLite sees it, so there is no moment it is readable by
    /// others; SQLite gives the `-wal` and `-shm` files the main file's mode, and any
    /// left broader by an older version are narrowed here. A file that is not an evisa
    /// database is refused unchanged ([`StoreError::NotEvisa`]).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let display = path.display().to_string();
        create_private(path)?;
        // SQLite answers BUSY at once, without its busy handler, in a few moments of
        // another process's life (WAL recovery, the switch into WAL mode, the last
        // connection deleting the WAL as it closes): seen with eight booths opening one
        // new file together. Those moments are short, so the open is retried until the
        // same deadline the busy handler keeps.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match Self::open_once(path, &display) {
                Err(e) if e.is_busy() && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path, display: &str) -> Result<Self, StoreError> {
        // Look before writing: switching the journal mode or migrating would already
        // alter another program's file.
        drop(inspect(path, display)?);
        let store = Connection::open(path)
            .map_err(StoreError::from)
            .and_then(|conn| Self::setup(conn, display))
            .map_err(|e| in_file(display, e))?;
        restrict_sidecars(path)?;
        Ok(store)
    }

    /// Opens an existing database (for `update import`: a mistyped path must not
    /// silently create an empty, "intact" database).
    pub fn open_existing(path: &Path) -> Result<Self, StoreError> {
        require_file(path)?;
        Self::open(path)
    }

    /// Opens an existing evisa database without ever writing to it (the audit
    /// commands: evidence is read, not changed): no journal-mode switch, no migration.
    /// An empty file or an older schema is refused.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        require_file(path)?;
        let display = path.display().to_string();
        let (conn, kind) = inspect(path, &display)?;
        match kind {
            Contents::Empty => Err(StoreError::NotEvisa {
                path: display,
                why: "it is empty".into(),
            }),
            Contents::Evisa { version } if version > SCHEMA_VERSION => Err(in_file(
                &display,
                StoreError::TooNew {
                    found: version,
                    supported: SCHEMA_VERSION,
                },
            )),
            Contents::Evisa { version } if version < SCHEMA_VERSION => {
                Err(StoreError::NeedsMigration {
                    path: display,
                    found: version,
                    supported: SCHEMA_VERSION,
                })
            }
            Contents::Evisa { .. } => Ok(Store { conn }),
        }
    }

    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?, ":memory:")
    }

    fn setup(mut conn: Connection, display: &str) -> Result<Self, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets a supervisor's CLI import run while the kiosk reads; FULL makes a
        // commit durable before the UI says "recorded".
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn, display)?;
        Ok(Store { conn })
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`): from here until it commits or is
    /// dropped (a rollback), no other connection writes, so what is read through it
    /// (a visa's history) is still true when what depends on it is written.
    pub fn write(&mut self) -> Result<WriteTx<'_>, StoreError> {
        Ok(WriteTx {
            tx: self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?,
        })
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Everything the rules need to know about one visa number.
    pub fn history(&self, visa_number: &str) -> Result<History, StoreError> {
        history_in(&self.conn, visa_number)
    }

    /// Appends one event to the hash-chained audit log; durable when this returns.
    pub fn append_audit(&mut self, e: &AuditEvent<'_>) -> Result<i64, StoreError> {
        let tx = self.write()?;
        let seq = tx.append_audit(e)?;
        tx.commit()?;
        Ok(seq)
    }

    /// Records a crossing and its audit event in one transaction: both or neither.
    /// Checks nothing about the visa's history: the terminal decides and records in
    /// one [`Store::write`] transaction instead.
    pub fn record_crossing(
        &mut self,
        m: &NewMovement<'_>,
        e: &AuditEvent<'_>,
    ) -> Result<i64, StoreError> {
        let tx = self.write()?;
        let id = tx.record_crossing(m, e)?;
        tx.commit()?;
        Ok(id)
    }

    /// The newest audit rows written by `terminal` with a kind among `kinds`, newest
    /// first, at most `limit` (the kiosk's shift history survives a restart this way).
    pub fn recent_audit(
        &self,
        terminal: &str,
        kinds: &[crate::audit::AuditKind],
        limit: usize,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, kind, officer, details FROM audit
             WHERE terminal = ?1 AND kind IN (SELECT value FROM json_each(?2))
             ORDER BY seq DESC LIMIT ?3",
        )?;
        let kinds = serde_json::Value::from(kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>())
            .to_string();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![terminal, kinds, limit], |r| {
            Ok(AuditRow {
                at: r.get(0)?,
                kind: r.get(1)?,
                officer: r.get(2)?,
                details: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The underlying connection, for modules that own their own tables.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Read access for the audit walker.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Records an entry or exit WITHOUT an audit row; for seeding test databases.
    /// `audit verify` reports such a movement as not covered by the chain. The
    /// terminal records crossings with [`Store::record_crossing`].
    pub fn record_movement(&mut self, m: &NewMovement<'_>) -> Result<i64, StoreError> {
        insert_movement(&self.conn, m)
    }

    /// The audit head record (last seq and hash).
    pub fn audit_head(&self) -> Result<AuditHead, StoreError> {
        Ok(self.conn.query_row(
            "SELECT seq, hash, movements_from FROM audit_head WHERE id = 1",
            [],
            |r| {
                Ok(AuditHead {
                    seq: r.get(0)?,
                    hash: r.get(1)?,
                    movements_from: r.get(2)?,
                })
            },
        )?)
    }

    /// The most recently applied signed update of any kind (the kiosk shows its date).
    pub fn last_update(&self) -> Result<Option<AppliedUpdate>, StoreError> {
        self.query_update("ORDER BY id DESC LIMIT 1", [])
    }

    /// The applied update of `kind` with the highest sequence number.
    pub fn last_update_of(
        &self,
        kind: evisa_core::update::Kind,
    ) -> Result<Option<AppliedUpdate>, StoreError> {
        self.query_update("WHERE kind = ?1 ORDER BY seq DESC LIMIT 1", [kind.as_str()])
    }

    /// The applied update whose file has this SHA-256, if any.
    pub fn update_with_sha256(&self, sha256: &[u8]) -> Result<Option<AppliedUpdate>, StoreError> {
        self.query_update("WHERE sha256 = ?1 LIMIT 1", [sha256])
    }

    fn query_update<P: rusqlite::Params>(
        &self,
        tail: &str,
        p: P,
    ) -> Result<Option<AppliedUpdate>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT kind, seq, sha256, issued, applied_at FROM applied_updates {tail}"
                ),
                p,
                |r| {
                    let kind: String = r.get(0)?;
                    Ok(AppliedUpdate {
                        // A kind this version does not know is a database it must not trust.
                        kind: evisa_core::update::Kind::parse(&kind).ok_or_else(|| {
                            rusqlite::Error::FromSqlConversionFailure(
                                0,
                                rusqlite::types::Type::Text,
                                format!("unknown update kind {kind:?}").into(),
                            )
                        })?,
                        seq: r.get(1)?,
                        sha256: r.get(2)?,
                        issued: r.get(3)?,
                        applied_at: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records a signed update in one IMMEDIATE transaction: refuses a sequence number
    /// not above the last applied one of its kind ([`StoreError::Replay`], checked
    /// inside the transaction so two concurrent imports cannot both pass), replaces
    /// the visa revocation list when `revoked` is given (the list is complete), appends
    /// the update and its audit event, then runs `before_commit` (the trust-folder
    /// swap) and commits. Any error rolls everything back.
    pub fn apply_update<E: From<StoreError>>(
        &mut self,
        u: &AppliedUpdate,
        revoked: Option<&[RevokedVisa]>,
        audit: &AuditEvent<'_>,
        before_commit: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let applied: Option<i64> = tx
            .query_row(
                "SELECT max(seq) FROM applied_updates WHERE kind = ?1",
                [u.kind.as_str()],
                |r| r.get(0),
            )
            .map_err(StoreError::from)?;
        if let Some(applied) = applied.filter(|a| *a >= u.seq) {
            return Err(StoreError::Replay {
                kind: u.kind.as_str().to_string(),
                seq: u.seq,
                applied,
            }
            .into());
        }
        let write = || -> Result<(), StoreError> {
            if let Some(list) = revoked {
                tx.execute("DELETE FROM revoked_visas", [])?;
                let mut ins = tx.prepare_cached(
                    "INSERT INTO revoked_visas (visa_number, reason, added_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (visa_number) DO UPDATE SET reason = excluded.reason",
                )?;
                for v in list {
                    ins.execute(params![v.visa_number, v.reason, u.applied_at])?;
                }
            }
            tx.execute(
                "INSERT INTO applied_updates (kind, seq, sha256, issued, applied_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![u.kind.as_str(), u.seq, u.sha256, u.issued, u.applied_at],
            )?;
            append_audit_in(&tx, audit)?;
            Ok(())
        };
        write()?;
        before_commit()?;
        tx.commit().map_err(StoreError::from)?;
        Ok(())
    }
}

/// One `BEGIN IMMEDIATE` transaction on the store (see [`Store::write`]); dropping it
/// without [`WriteTx::commit`] rolls everything in it back.
pub struct WriteTx<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl WriteTx<'_> {
    pub(crate) fn conn(&self) -> &Connection {
        &self.tx
    }

    /// The visa's history as of this transaction: no other writer can change it
    /// before this transaction ends.
    pub fn history(&self, visa_number: &str) -> Result<History, StoreError> {
        history_in(&self.tx, visa_number)
    }

    /// Appends one event to the audit chain.
    pub fn append_audit(&self, e: &AuditEvent<'_>) -> Result<i64, StoreError> {
        append_audit_in(&self.tx, e)
    }

    /// Inserts a crossing and its audit event. The audit row's details gain
    /// `"movement_id"` (when they are a JSON object), so the chain also covers the
    /// movement: `audit verify` finds it edited or deleted.
    pub fn record_crossing(
        &self,
        m: &NewMovement<'_>,
        e: &AuditEvent<'_>,
    ) -> Result<i64, StoreError> {
        let id = insert_movement(&self.tx, m)?;
        let mut details = e.details.clone();
        if let Some(obj) = details.as_object_mut() {
            obj.insert("movement_id".into(), id.into());
        }
        append_audit_in(
            &self.tx,
            &AuditEvent {
                details: &details,
                ..e.clone()
            },
        )?;
        Ok(id)
    }

    /// Makes everything in the transaction durable, or nothing of it.
    pub fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit()?)
    }
}

fn history_in(conn: &Connection, visa_number: &str) -> Result<History, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT direction, date, checkpoint FROM movements WHERE visa_number = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([visa_number], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut movements = Vec::new();
    for row in rows {
        let (dir, date, checkpoint) = row?;
        movements.push(Movement {
            direction: Direction::parse(&dir).ok_or(StoreError::Corrupt {
                table: "movements",
                column: "direction",
                value: dir.clone(),
            })?,
            date: parse_date(&date, "movements", "date")?,
            checkpoint,
        });
    }
    let revoked = conn
        .query_row(
            "SELECT reason FROM revoked_visas WHERE visa_number = ?1",
            [visa_number],
            |r| r.get(0),
        )
        .optional()?;
    Ok(History { movements, revoked })
}

fn append_audit_in(conn: &Connection, e: &AuditEvent<'_>) -> Result<i64, StoreError> {
    let last: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, vec![0u8; 32]),
    };
    let details = e.details.to_string();
    let hash = audit_hash(
        &prev,
        seq,
        e.at,
        e.kind.as_str(),
        e.officer,
        e.terminal,
        &details,
    );
    conn.execute(
        "INSERT INTO audit (seq, at, kind, officer, terminal, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            seq,
            e.at,
            e.kind.as_str(),
            e.officer,
            e.terminal,
            details,
            prev,
            hash.as_slice()
        ],
    )?;
    Ok(seq)
}

fn insert_movement(conn: &Connection, m: &NewMovement<'_>) -> Result<i64, StoreError> {
    {
        conn.execute(
            "INSERT INTO movements (visa_number, direction, date, checkpoint, document_number, officer, terminal, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                m.visa_number,
                m.movement.direction.as_str(),
                m.movement.date.to_string(),
                m.movement.checkpoint,
                m.document_number,
                m.officer,
                m.terminal,
                m.recorded_at
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }
}

impl Store {
    /// Puts a visa on the revocation list (idempotent; the latest reason wins). Not
    /// audited; for seeding test databases. Once a signed list has been imported,
    /// `audit verify` reports the list changed outside an update.
    pub fn revoke_visa(
        &mut self,
        visa_number: &str,
        reason: &str,
        added_at: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO revoked_visas (visa_number, reason, added_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (visa_number) DO UPDATE SET reason = excluded.reason, added_at = excluded.added_at",
            params![visa_number, reason, added_at],
        )?;
        Ok(())
    }
}

fn parse_date(s: &str, table: &'static str, column: &'static str) -> Result<Date, StoreError> {
    dates::parse_iso(s).ok_or(StoreError::Corrupt {
        table,
        column,
        value: s.to_string(),
    })
}

/// Brings the schema to [`SCHEMA_VERSION`] and stamps [`APPLICATION_ID`], in one
/// IMMEDIATE transaction with the check of what the file holds (another process may
/// have initialised it since it was inspected).
fn migrate(conn: &mut Connection, display: &str) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found = match contents(&tx, display)? {
        Contents::Empty => 0,
        Contents::Evisa { version } => version,
    };
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    // Databases made before the id existed get it on their first open by this version;
    // an open that finds nothing to do writes nothing.
    let app_id: i32 = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if app_id != APPLICATION_ID {
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    tx.commit()?;
    Ok(())
}

fn require_file(path: &Path) -> Result<(), StoreError> {
    if path.is_file() {
        return Ok(());
    }
    Err(StoreError::Missing {
        path: path.display().to_string(),
    })
}

fn sidecar_paths(path: &Path) -> [std::path::PathBuf; 2] {
    ["-wal", "-shm"].map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    })
}

/// Creates an empty database file with mode 0600 unless one exists (SQLite treats an
/// empty file as a new database).
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::Permissions {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Narrows the `-wal` and `-shm` files to 0600 when they exist with a broader mode.
/// Another user's files (a supervisor opening the kiosk's database through group
/// permissions) are left alone rather than failing the open.
#[cfg(unix)]
fn restrict_sidecars(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    for side in sidecar_paths(path) {
        let Ok(meta) = std::fs::metadata(&side) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 == 0 {
            continue;
        }
        match std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {}
            Err(source) => {
                return Err(StoreError::Permissions {
                    path: side.display().to_string(),
                    source,
                });
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_sidecars(_: &Path) -> Result<(), StoreError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn records_and_reads_history() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        let m = Movement {
            direction: Direction::Entry,
            date: date!(2026 - 11 - 25),
            checkpoint: "NQZ".into(),
        };
        s.record_movement(&NewMovement {
            visa_number: "EV1",
            movement: &m,
            document_number: "X1",
            officer: Some("o1"),
            terminal: None,
            recorded_at: "2026-11-25T10:00:00+05:00",
        })
        .unwrap();
        let h = s.history("EV1").unwrap();
        assert_eq!(h.movements, vec![m]);
        assert_eq!(h.revoked, None);
        assert!(s.history("EV2").unwrap().movements.is_empty());
        s.revoke_visa("EV1", "fraud", "now").unwrap();
        assert_eq!(s.history("EV1").unwrap().revoked.as_deref(), Some("fraud"));
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Store::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(c);
        let err = Store::open(&path).err().expect("a newer schema opened");
        assert!(
            matches!(&err, StoreError::Open { source, .. } if matches!(**source, StoreError::TooNew { .. })),
            "{err}"
        );
        assert!(err.to_string().contains("t.db"), "{err}");
    }

    #[test]
    fn last_update_is_the_latest_applied() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(s.last_update().unwrap(), None);
        let d = serde_json::json!({});
        let ev = AuditEvent {
            kind: crate::audit::AuditKind::UpdateImport,
            officer: None,
            terminal: None,
            at: "2026-11-25T10:00:00+05:00",
            details: &d,
        };
        for (kind, seq, at) in [
            ("trust", 4, "2026-11-20T23:30:00+05:00"),
            ("revoked_visas", 2, "2026-11-24T01:00:00+05:00"),
        ] {
            let u = AppliedUpdate {
                kind: evisa_core::update::Kind::parse(kind).unwrap(),
                seq,
                sha256: vec![0; 32],
                issued: "2026-11-19T00:00:00Z".into(),
                applied_at: at.into(),
            };
            s.apply_update(&u, None, &ev, || Ok::<(), StoreError>(()))
                .unwrap();
        }
        let last = s.last_update().unwrap().unwrap();
        assert_eq!((last.kind.as_str(), last.seq), ("revoked_visas", 2));
        assert_eq!(last.applied_date(), Some(date!(2026 - 11 - 24)));
        assert_eq!(
            s.last_update_of(evisa_core::update::Kind::Trust)
                .unwrap()
                .unwrap()
                .seq,
            4
        );
        // A failing step before the commit leaves nothing behind.
        let u = AppliedUpdate {
            kind: evisa_core::update::Kind::Trust,
            seq: 5,
            sha256: vec![0; 32],
            issued: "x".into(),
            applied_at: "y".into(),
        };
        assert!(
            s.apply_update(&u, None, &ev, || Err(StoreError::Corrupt {
                table: "t",
                column: "c",
                value: "v".into()
            }))
            .is_err()
        );
        assert_eq!(
            s.last_update_of(evisa_core::update::Kind::Trust)
                .unwrap()
                .unwrap()
                .seq,
            4
        );
        assert_eq!(s.audit_head().unwrap().seq, 2);
    }

    #[test]
    fn disk_io_error_4874_is_reported_as_disk_full() {
        use rusqlite::ffi;
        let sqlite = |code| {
            StoreError::from(rusqlite::Error::SqliteFailure(ffi::Error::new(code), None))
                .to_string()
        };
        // SQLITE_IOERR_SHMSIZE: the WAL index could not grow, which is a full disk.
        assert!(sqlite(ffi::SQLITE_IOERR_SHMSIZE).starts_with("disk full"));
        assert!(sqlite(ffi::SQLITE_FULL).starts_with("disk full"));
        assert!(sqlite(ffi::SQLITE_BUSY).contains("locked by another process"));
        assert!(sqlite(ffi::SQLITE_LOCKED).contains("locked by another process"));
        assert!(sqlite(ffi::SQLITE_READONLY).contains("read-only"));
        assert!(sqlite(ffi::SQLITE_CORRUPT).contains("database file is corrupt"));
        assert!(sqlite(ffi::SQLITE_IOERR_FSYNC).contains("disk I/O error while flushing"));
        for code in [
            ffi::SQLITE_IOERR_SHMSIZE,
            ffi::SQLITE_IOERR_WRITE,
            ffi::SQLITE_FULL,
        ] {
            assert!(
                !sqlite(code).contains(&code.to_string()),
                "{}",
                sqlite(code)
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn database_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        drop(Store::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
