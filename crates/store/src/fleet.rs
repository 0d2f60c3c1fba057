//! The booth's side of the fleet, in its own SQLite file: the outbox of crossings
//! still to push (written in the crossing's own transaction), the fleet's crossings
//! pulled from the central server (which the rules read beside the booth's own), claim
//! intents (a central entry claim is announced locally before it is made, so a crash
//! between the two is repaired), conflicts found on push, and the link's state. The
//! [`FleetHook`] is what the [`crate::terminal::Terminal`] asks before recording an
//! entry; the PostgreSQL adapter (`evisa-fleet`) implements it, so this crate stays
//! free of any network client.

use rusqlite::{Connection, params};
use time::Date;

use crate::store::{Store, StoreError, WriteTx};
use evisa_core::rules::{Checkpoint, Direction, Movement};

/// A crossing (or an outstanding entry claim) made at another booth of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetMovement {
    pub terminal_id: String,
    pub movement: Movement,
    /// When it was recorded (or claimed), as the other booth or the server wrote it.
    pub recorded_at: String,
}

/// How a central entry claim ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This booth holds the visa's entry with that ordinal.
    Won,
    /// Another booth holds it: its entry.
    Lost(FleetMovement),
}

/// The central server could not be reached (or did not answer in time).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fleet unreachable: {0}")]
pub struct Unreachable(pub String);

/// What the terminal asks the fleet while deciding: the visa's movements at other
/// booths, and the claim of an entry. Every call is bounded by the adapter's timeout.
pub trait FleetHook: Send {
    /// This booth's terminal id in the fleet.
    fn terminal_id(&self) -> &str;
    /// The visa's crossings and outstanding entry claims at other booths.
    fn lookup(&mut self, visa_number: &str) -> Result<Vec<FleetMovement>, Unreachable>;
    /// Claims the visa's entry number `ordinal` for this booth, keyed by `claim_id`
    /// (idempotent: claiming again with the same key wins again).
    fn claim_entry(
        &mut self,
        visa_number: &str,
        ordinal: i64,
        claim_id: i64,
        at: &Checkpoint,
    ) -> Result<ClaimOutcome, Unreachable>;
}

/// A crossing waiting in the outbox (or already pushed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// The local sequence: with the terminal id, the idempotency key on the server.
    pub seq: i64,
    pub visa_number: String,
    pub direction: Direction,
    pub date: String,
    pub checkpoint: String,
    pub document_number: String,
    pub recorded_at: String,
    /// How many entries the visa allows (a provisional entry may take any free one).
    pub entries_allowed: i64,
    /// The entry's number among the visa's entries, as decided (entries only).
    pub ordinal: Option<i64>,
    /// The entry's claim key (entries only).
    pub claim_id: Option<i64>,
    /// Decided while the fleet was unreachable.
    pub provisional: bool,
}

/// A double entry found on push: a provisional entry whose claim another booth held.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    pub terminal_id: String,
    pub local_seq: i64,
    pub visa_number: String,
    pub ordinal: i64,
    pub winner_terminal: String,
    pub winner_checkpoint: String,
    pub winner_date: String,
    pub detected_at: String,
}

/// The link's state as last seen by the sync task.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkState {
    pub online: bool,
    pub last_online: Option<String>,
    pub offline_since: Option<String>,
    pub last_error: Option<String>,
    pub last_sync: Option<String>,
    /// Crossings not yet pushed.
    pub waiting: i64,
    /// Audit rows already mirrored centrally.
    pub audit_pushed: i64,
    pub conflicts: i64,
    /// The id of the last update fetched from the fleet (applied or refused).
    pub updates_cursor: i64,
    /// The last update from the fleet this booth refused, and why.
    pub update_refused: Option<String>,
    /// An update from the fleet this booth could not apply for a reason of its own
    /// (its pinned root key, disk, database): retried at each sync until it applies.
    pub update_pending: Option<String>,
}

/// One audit row as mirrored: with its chain hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorRow {
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub officer: Option<String>,
    pub terminal: Option<String>,
    pub details: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

pub(crate) const MIGRATION: &str = "
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        movement_id INTEGER NOT NULL UNIQUE,
        visa_number TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
        date TEXT NOT NULL,
        checkpoint TEXT NOT NULL,
        document_number TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        entries_allowed INTEGER NOT NULL,
        ordinal INTEGER,
        claim_id INTEGER,
        provisional INTEGER NOT NULL,
        pushed INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_unpushed ON outbox (pushed, seq);
    CREATE TABLE fleet_crossings (
        terminal_id TEXT NOT NULL,
        local_seq INTEGER NOT NULL,
        visa_number TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
        date TEXT NOT NULL,
        checkpoint TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (terminal_id, local_seq)
    );
    CREATE INDEX fleet_crossings_visa ON fleet_crossings (visa_number);
    CREATE TABLE claim_intents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        visa_number TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        created_unix INTEGER NOT NULL
    );
    CREATE TABLE fleet_conflicts (
        local_seq INTEGER PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        visa_number TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        winner_terminal TEXT NOT NULL,
        winner_checkpoint TEXT NOT NULL,
        winner_date TEXT NOT NULL,
        detected_at TEXT NOT NULL
    );
    CREATE TRIGGER fleet_conflicts_no_delete BEFORE DELETE ON fleet_conflicts
        BEGIN SELECT RAISE(ABORT, 'conflicts are resolved by supervisors, never deleted'); END;
    CREATE TABLE fleet_link (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        online INTEGER NOT NULL DEFAULT 0,
        last_online TEXT,
        offline_since TEXT,
        last_error TEXT,
        last_sync TEXT,
        audit_pushed INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO fleet_link (id) VALUES (1);";

pub(crate) const MIGRATION_UPDATES: &str = "
    ALTER TABLE fleet_link ADD COLUMN updates_cursor INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE fleet_link ADD COLUMN update_refused TEXT;
    ALTER TABLE fleet_link ADD COLUMN update_pending TEXT;";

fn dir(s: &str) -> Result<Direction, StoreError> {
    Direction::parse(s).ok_or(StoreError::Corrupt {
        table: "outbox",
        column: "direction",
        value: s.to_string(),
    })
}

fn date(s: &str, table: &'static str) -> Result<Date, StoreError> {
    evisa_core::dates::parse_iso(s).ok_or(StoreError::Corrupt {
        table,
        column: "date",
        value: s.to_string(),
    })
}

/// The fleet's crossings of one visa as last pulled.
pub(crate) fn pulled_movements(
    conn: &Connection,
    visa_number: &str,
) -> Result<Vec<FleetMovement>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT terminal_id, direction, date, checkpoint, recorded_at FROM fleet_crossings
         WHERE visa_number = ?1 ORDER BY date, recorded_at",
    )?;
    let rows = stmt.query_map([visa_number], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (terminal_id, d, day, checkpoint, recorded_at) = row?;
        out.push(FleetMovement {
            terminal_id,
            movement: Movement {
                direction: dir(&d)?,
                date: date(&day, "fleet_crossings")?,
                checkpoint,
            },
            recorded_at,
        });
    }
    Ok(out)
}

/// What [`WriteTx::outbox_push`] writes beside a crossing.
pub struct OutboxEntry<'a> {
    pub movement_id: i64,
    pub visa_number: &'a str,
    pub movement: &'a Movement,
    pub document_number: &'a str,
    pub recorded_at: &'a str,
    pub entries_allowed: i64,
    pub ordinal: Option<i64>,
    pub claim_id: Option<i64>,
    pub provisional: bool,
}

impl WriteTx<'_> {
    /// The fleet's crossings of the visa as last pulled (read inside this transaction).
    pub fn pulled_movements(&self, visa_number: &str) -> Result<Vec<FleetMovement>, StoreError> {
        pulled_movements(self.conn(), visa_number)
    }

    /// Announces a central claim before it is made; its id is the claim's key.
    pub fn add_claim_intent(
        &self,
        visa_number: &str,
        ordinal: i64,
        now: &str,
    ) -> Result<i64, StoreError> {
        let unix = time::OffsetDateTime::now_utc().unix_timestamp();
        self.conn().execute(
            "INSERT INTO claim_intents (visa_number, ordinal, created_at, created_unix)
             VALUES (?1, ?2, ?3, ?4)",
            params![visa_number, ordinal, now, unix],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// The claim was settled by a recorded decision (or never made).
    pub fn drop_claim_intent(&self, id: i64) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM claim_intents WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Queues a recorded crossing for the fleet.
    pub fn outbox_push(&self, e: &OutboxEntry<'_>) -> Result<i64, StoreError> {
        self.conn().execute(
            "INSERT INTO outbox (movement_id, visa_number, direction, date, checkpoint,
                 document_number, recorded_at, entries_allowed, ordinal, claim_id, provisional)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                e.movement_id,
                e.visa_number,
                e.movement.direction.as_str(),
                e.movement.date.to_string(),
                e.movement.checkpoint,
                e.document_number,
                e.recorded_at,
                e.entries_allowed,
                e.ordinal,
                e.claim_id,
                e.provisional
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }
}

impl Store {
    /// The fleet's crossings of one visa as last pulled.
    pub fn pulled_movements(&self, visa_number: &str) -> Result<Vec<FleetMovement>, StoreError> {
        pulled_movements(self.conn(), visa_number)
    }

    /// Crossings not yet pushed, oldest first.
    pub fn outbox_pending(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, visa_number, direction, date, checkpoint, document_number, recorded_at,
                    entries_allowed, ordinal, claim_id, provisional
             FROM outbox WHERE pushed = 0 ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, Option<i64>>(8)?,
                r.get::<_, Option<i64>>(9)?,
                r.get::<_, bool>(10)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                seq,
                visa_number,
                d,
                date,
                checkpoint,
                document_number,
                recorded_at,
                allowed,
                ordinal,
                claim_id,
                provisional,
            ) = row?;
            out.push(OutboxRow {
                seq,
                visa_number,
                direction: dir(&d)?,
                date,
                checkpoint,
                document_number,
                recorded_at,
                entries_allowed: allowed,
                ordinal,
                claim_id,
                provisional,
            });
        }
        Ok(out)
    }

    /// After a push committed on the server: marks the rows pushed and keeps the
    /// conflicts found, in one local transaction.
    pub fn outbox_pushed(
        &mut self,
        seqs: &[i64],
        conflicts: &[Conflict],
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        for s in seqs {
            tx.conn()
                .execute("UPDATE outbox SET pushed = 1 WHERE seq = ?1", [s])?;
        }
        for c in conflicts {
            tx.conn().execute(
                "INSERT OR IGNORE INTO fleet_conflicts (local_seq, terminal_id, visa_number, ordinal,
                     winner_terminal, winner_checkpoint, winner_date, detected_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    c.local_seq,
                    c.terminal_id,
                    c.visa_number,
                    c.ordinal,
                    c.winner_terminal,
                    c.winner_checkpoint,
                    c.winner_date,
                    c.detected_at
                ],
            )?;
        }
        tx.commit()
    }

    /// Claim intents older than `age_secs` (their process died between the claim and
    /// the decision): `(id, visa_number)`.
    pub fn stale_claim_intents(&self, age_secs: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let cutoff = time::OffsetDateTime::now_utc().unix_timestamp() - age_secs;
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id, visa_number FROM claim_intents WHERE created_unix <= ?1")?;
        let rows = stmt.query_map([cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A stale intent's central claim was released.
    pub fn release_claim_intent(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM claim_intents WHERE id = ?1", [id])?;
        Ok(())
    }

    /// The highest local sequence pulled from each other terminal: the pull's cursor.
    pub fn pull_cursors(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT terminal_id, max(local_seq) FROM fleet_crossings GROUP BY terminal_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keeps crossings pulled from the fleet (already known ones are skipped).
    pub fn add_pulled(&mut self, rows: &[(i64, FleetMovement, String)]) -> Result<(), StoreError> {
        let tx = self.write()?;
        for (seq, m, visa) in rows {
            tx.conn().execute(
                "INSERT OR IGNORE INTO fleet_crossings (terminal_id, local_seq, visa_number,
                     direction, date, checkpoint, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    m.terminal_id,
                    seq,
                    visa,
                    m.movement.direction.as_str(),
                    m.movement.date.to_string(),
                    m.movement.checkpoint,
                    m.recorded_at
                ],
            )?;
        }
        tx.commit()
    }

    /// Audit rows after `after_seq`, with their hashes, for the central mirror.
    pub fn audit_rows_after(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<MirrorRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {} FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            crate::audit::COLUMNS
        ))?;
        let rows = stmt.query_map([after_seq, limit], MirrorRow::from_sql)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records how a sync went. `error` = `None` means the server answered.
    pub fn note_sync(
        &mut self,
        now: &str,
        error: Option<&str>,
        audit_pushed: Option<i64>,
    ) -> Result<(), StoreError> {
        match error {
            None => self.conn().execute(
                "UPDATE fleet_link SET online = 1, last_online = ?1, offline_since = NULL,
                     last_error = NULL, last_sync = ?1,
                     audit_pushed = max(audit_pushed, coalesce(?2, audit_pushed)) WHERE id = 1",
                params![now, audit_pushed],
            )?,
            Some(e) => self.conn().execute(
                "UPDATE fleet_link SET online = 0, last_error = ?2,
                     offline_since = coalesce(offline_since, ?1) WHERE id = 1",
                params![now, e],
            )?,
        };
        Ok(())
    }

    /// Moves the cursor of the fleet's published updates past `id` (applied, or
    /// already held). Never moves it back.
    pub fn note_update_seen(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE fleet_link SET updates_cursor = max(updates_cursor, ?1), update_pending = NULL
             WHERE id = 1",
            params![id],
        )?;
        Ok(())
    }

    /// Notes an update from the fleet that could not be applied yet (the booth's own
    /// problem: nothing is audited, the cursor stays, the next sync retries).
    pub fn note_update_pending(&mut self, note: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE fleet_link SET update_pending = ?1 WHERE id = 1",
            params![note],
        )?;
        Ok(())
    }

    /// Records a refused update from the fleet, in one transaction: its audit row, the
    /// cursor past it (it is never fetched again) and the link state's note.
    pub fn note_update_refused(
        &mut self,
        id: i64,
        note: &str,
        audit: &crate::store::AuditEvent<'_>,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.append_audit(audit)?;
        tx.conn().execute(
            "UPDATE fleet_link SET updates_cursor = max(updates_cursor, ?1), update_refused = ?2,
                 update_pending = NULL
             WHERE id = 1",
            params![id, note],
        )?;
        tx.commit()
    }

    /// The link's state, the queue's length and the number of conflicts.
    pub fn link_state(&self) -> Result<LinkState, StoreError> {
        let c = self.conn();
        let mut s = c.query_row(
            "SELECT online, last_online, offline_since, last_error, last_sync, audit_pushed,
                    updates_cursor, update_refused, update_pending
             FROM fleet_link WHERE id = 1",
            [],
            |r| {
                Ok(LinkState {
                    online: r.get(0)?,
                    last_online: r.get(1)?,
                    offline_since: r.get(2)?,
                    last_error: r.get(3)?,
                    last_sync: r.get(4)?,
                    audit_pushed: r.get(5)?,
                    updates_cursor: r.get(6)?,
                    update_refused: r.get(7)?,
                    update_pending: r.get(8)?,
                    ..LinkState::default()
                })
            },
        )?;
        s.waiting = c.query_row("SELECT count(*) FROM outbox WHERE pushed = 0", [], |r| {
            r.get(0)
        })?;
        s.conflicts = c.query_row("SELECT count(*) FROM fleet_conflicts", [], |r| r.get(0))?;
        Ok(s)
    }

    /// The conflicts this booth found, oldest first.
    pub fn local_conflicts(&self) -> Result<Vec<Conflict>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT terminal_id, local_seq, visa_number, ordinal, winner_terminal,
                    winner_checkpoint, winner_date, detected_at
             FROM fleet_conflicts ORDER BY detected_at, local_seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Conflict {
                terminal_id: r.get(0)?,
                local_seq: r.get(1)?,
                visa_number: r.get(2)?,
                ordinal: r.get(3)?,
                winner_terminal: r.get(4)?,
                winner_checkpoint: r.get(5)?,
                winner_date: r.get(6)?,
                detected_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every crossing this booth recorded with its outbox sequence: what the chaos test
    /// compares with the server's copy.
    pub fn outbox_all(&self) -> Result<Vec<(i64, String, String)>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT seq, visa_number, direction FROM outbox ORDER BY seq")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
