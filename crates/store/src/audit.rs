//! The audit log as evidence (adapter over [`Store`]): walk the hash chain and name the
//! first broken row, check just its head at start-up, and export it as JSON Lines for
//! the central border system.
//!
//! What the chain proves. Row `n` stores `hash = SHA-256(prev_hash ‖ canonical(n))` with
//! `prev_hash` = row `n-1`'s hash (32 zero bytes for row 1), and the canonical contents
//! include `seq`. So editing a field, deleting a row from the middle, or swapping or
//! reordering rows breaks the chain at the first affected row. Deleting the *tail*
//! leaves a shorter chain that is still internally valid, so the store also keeps a
//! head record (`audit_head`: last seq and hash), advanced by a trigger inside the same
//! transaction as each insert; `verify` compares the chain's end with it. An attacker
//! who drops the triggers and rewrites the head too defeats any record kept on the
//! same disk (a terminal key on that disk would be just as reachable), so the last
//! line of defence is external: every export carries `seq`, `prev_hash` and `hash`, and
//! the central system refuses an export whose rows do not continue from the last head
//! it received. Crossing rows name their `movement_id`, so `verify` also finds a
//! recorded crossing edited or deleted in `movements`, or one inserted without an audit
//! row; and `update_import` rows of revocation lists carry the list's digest, so a
//! revocation deleted (a visa quietly un-revoked) or added outside an update is found.

use std::collections::HashMap;
use std::io::Write;

use rusqlite::OptionalExtension;

use crate::store::{Store, StoreError, audit_hash};
use evisa_core::trust::hex;

/// Where and how the chain is broken. `seq` is the first broken audit row, or 0 for a
/// movement that no audit row records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub problem: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.seq > 0 {
            write!(f, "row {}: {}", self.seq, self.problem)
        } else {
            write!(f, "{}", self.problem)
        }
    }
}

/// The outcome of a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact {
        rows: i64,
        head_hash: Vec<u8>,
        /// Movements before the chain covered them (databases from schema v1).
        legacy_movements: i64,
    },
    Broken(ChainBreak),
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for AuditError {
    fn from(e: rusqlite::Error) -> Self {
        AuditError::Store(StoreError::from(e))
    }
}

/// What an audit row records. Stored as its stable name ([`AuditKind::as_str`]), which
/// exports and auditors read; rows of a name this version does not know still verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// A decision (ACCEPT or REJECT) shown or printed, with its reason codes.
    Verdict,
    /// An accepted crossing recorded (its movement row is written with it).
    Crossing,
    SignIn,
    SignOut,
    PinFailed,
    AccountLocked,
    /// The officer confirmed the checklist of an ACCEPT (F5).
    ChecklistConfirm,
    /// The officer refused an ACCEPT at the checklist (F6), with the reason.
    ChecklistRefuse,
    /// Direction, language or an officer account changed.
    SettingsChange,
    /// A signed update applied.
    UpdateImport,
    /// A signed update delivered by the fleet and refused (bad signature, replay,
    /// policy): recorded once, nothing changed.
    UpdateRefused,
    /// A decision left open when the kiosk was closed or shut down.
    Abandoned,
}

impl AuditKind {
    pub const ALL: [AuditKind; 12] = [
        AuditKind::Verdict,
        AuditKind::Crossing,
        AuditKind::SignIn,
        AuditKind::SignOut,
        AuditKind::PinFailed,
        AuditKind::AccountLocked,
        AuditKind::ChecklistConfirm,
        AuditKind::ChecklistRefuse,
        AuditKind::SettingsChange,
        AuditKind::UpdateImport,
        AuditKind::UpdateRefused,
        AuditKind::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Verdict => "verdict",
            AuditKind::Crossing => "crossing",
            AuditKind::SignIn => "sign_in",
            AuditKind::SignOut => "sign_out",
            AuditKind::PinFailed => "pin_failed",
            AuditKind::AccountLocked => "account_locked",
            AuditKind::ChecklistConfirm => "checklist_confirm",
            AuditKind::ChecklistRefuse => "checklist_refuse",
            AuditKind::SettingsChange => "settings_change",
            AuditKind::UpdateImport => "update_import",
            AuditKind::UpdateRefused => "update_refused",
            AuditKind::Abandoned => "abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const ZERO: [u8; 32] = [0; 32];

/// One audit row as stored: the local chain's walk and the fleet's central mirror
/// read and check the same thing.
pub use crate::fleet::MirrorRow as Row;

impl Row {
    pub(crate) fn from_sql(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok(Row {
            seq: r.get(0)?,
            at: r.get(1)?,
            kind: r.get(2)?,
            officer: r.get(3)?,
            terminal: r.get(4)?,
            details: r.get(5)?,
            prev_hash: r.get(6)?,
            hash: r.get(7)?,
        })
    }

    /// The hash the row's contents and `prev_hash` give: equal to `hash` unless edited.
    pub fn recomputed(&self) -> [u8; 32] {
        audit_hash(
            &self.prev_hash,
            self.seq,
            &self.at,
            &self.kind,
            self.officer.as_deref(),
            self.terminal.as_deref(),
            &self.details,
        )
    }
}

pub(crate) const COLUMNS: &str = "seq, at, kind, officer, terminal, details, prev_hash, hash";

/// What a crossing row says its movement was: a digest of the fields, so a walk over
/// millions of crossings holds a few tens of bytes per crossing.
struct Claimed {
    seq: i64,
    digest: [u8; 16],
}

fn fields_digest(fields: &[String; 4]) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for f in fields {
        h.update(f.as_bytes());
        h.update([0u8]);
    }
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize()[..16]);
    out
}

fn broken(seq: i64, problem: impl Into<String>) -> Result<Verification, AuditError> {
    Ok(Verification::Broken(ChainBreak {
        seq,
        problem: problem.into(),
    }))
}

/// Walks the whole chain from row 1 and checks it against the head record and the
/// movements table. Streams the rows: memory grows only with the number of crossings.
pub fn verify(store: &Store) -> Result<Verification, AuditError> {
    let conn = store.conn();
    // One read transaction: a concurrent append cannot move the head mid-walk.
    conn.execute_batch("BEGIN DEFERRED")?;
    let result = verify_in(store);
    let _ = conn.execute_batch("COMMIT");
    result
}

fn verify_in(store: &Store) -> Result<Verification, AuditError> {
    let conn = store.conn();
    let Some(head) = head_record(store)? else {
        return broken(1, "the audit head record is missing (deleted)");
    };
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let mut expected = 1i64;
    let mut prev: Vec<u8> = ZERO.to_vec();
    let mut claimed: HashMap<i64, Claimed> = HashMap::new();
    let mut last_revocations: Option<(i64, String)> = None;
    while let Some(r) = rows.next()? {
        let row = Row::from_sql(r)?;
        if row.seq != expected {
            return broken(
                expected,
                if row.seq > expected {
                    format!(
                        "missing: the next row is {} (rows {expected}..{} deleted)",
                        row.seq,
                        row.seq - 1
                    )
                } else {
                    format!("unexpected seq {}", row.seq)
                },
            );
        }
        if row.prev_hash != prev {
            return broken(
                row.seq,
                format!(
                    "prev_hash does not match the hash of row {} (a row before it was deleted, replaced or moved)",
                    row.seq - 1
                ),
            );
        }
        if row.recomputed().as_slice() != row.hash.as_slice() {
            return broken(
                row.seq,
                "contents do not match the row's hash (edited)".to_string(),
            );
        }
        if row.kind == AuditKind::UpdateImport.as_str()
            && let Some(digest) = revocation_digest_claim(&row.details)
        {
            last_revocations = Some((row.seq, digest));
        }
        if row.kind == AuditKind::Crossing.as_str()
            && let Some((id, fields)) = crossing_claim(&row.details)
        {
            claimed.insert(
                id,
                Claimed {
                    seq: row.seq,
                    digest: fields_digest(&fields),
                },
            );
        }
        prev = row.hash;
        expected += 1;
    }
    let last = expected - 1;
    if head.seq > last {
        return broken(
            last + 1,
            format!(
                "truncated: the chain ends at row {last} but the head record says it reaches row {} (rows {}..{} deleted)",
                head.seq,
                last + 1,
                head.seq
            ),
        );
    }
    if head.seq < last {
        return broken(
            head.seq + 1,
            format!(
                "rows {}..{last} lie beyond the head record (appended behind the head's back)",
                head.seq + 1
            ),
        );
    }
    if head.hash != prev {
        return broken(
            last,
            "hash differs from the head record (the last row was replaced)",
        );
    }

    // Movements covered by the chain.
    let mut stmt = conn.prepare(
        "SELECT id, visa_number, direction, date, checkpoint FROM movements ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut legacy = 0i64;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let fields: [String; 4] = [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?];
        match claimed.remove(&id) {
            Some(c) if c.digest == fields_digest(&fields) => {}
            Some(c) => {
                return broken(
                    c.seq,
                    format!(
                        "movement {id} was altered: the movements table holds {} {} {} {}, not what this row recorded",
                        fields[0], fields[1], fields[2], fields[3]
                    ),
                );
            }
            None if id < head.movements_from => legacy += 1,
            None => {
                return broken(
                    0,
                    format!(
                        "movement {id} ({} {} {} {}) has no audit row (inserted outside the terminal)",
                        fields[0], fields[1], fields[2], fields[3]
                    ),
                );
            }
        }
    }
    if let Some((id, c)) = claimed.iter().min_by_key(|(_, c)| c.seq) {
        return broken(
            c.seq,
            format!(
                "movement {id} recorded by this row is missing from the movements table (deleted)"
            ),
        );
    }
    // The visa revocation list is the one the last imported list put there.
    if let Some((seq, digest)) = last_revocations {
        let mut stmt =
            conn.prepare("SELECT visa_number, reason FROM revoked_visas ORDER BY visa_number")?;
        let list = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        if revocation_list_digest(list.iter().map(|(v, r)| (v.as_str(), r.as_str()))) != digest {
            return broken(
                seq,
                "the visa revocation list differs from the one this row imported (revocations deleted, added or edited outside an update)",
            );
        }
    }
    Ok(Verification::Intact {
        rows: last,
        head_hash: prev,
        legacy_movements: legacy,
    })
}

/// The head record; None when its row was deleted.
fn head_record(store: &Store) -> Result<Option<crate::store::AuditHead>, AuditError> {
    match store.audit_head() {
        Ok(h) => Ok(Some(h)),
        Err(StoreError::Sql(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The `revoked_visas_sha256` an `update_import` row of a revocation list records.
fn revocation_digest_claim(details: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(details).ok()?;
    Some(v.get("revoked_visas_sha256")?.as_str()?.to_string())
}

/// Digest of a revocation list as stored: SHA-256 over `number TAB reason LF` per
/// visa, in byte order of the visa number (SQLite's BINARY collation), lowercase hex.
pub fn revocation_list_digest<'a>(sorted: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (visa, reason) in sorted {
        h.update(visa.as_bytes());
        h.update(b"\t");
        h.update(reason.as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

/// A crossing row's `movement_id` and the movement it describes, in the movements
/// table's column order (visa, direction, date, checkpoint).
fn crossing_claim(details: &str) -> Option<(i64, [String; 4])> {
    let v: serde_json::Value = serde_json::from_str(details).ok()?;
    let id = v.get("movement_id")?.as_i64()?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    Some((id, [s("visa"), s("direction"), s("date"), s("checkpoint")]))
}

/// The start-up check: the last row agrees with the head record, its hash recomputes,
/// and it links to the row before. O(log n): two indexed lookups, whatever the length.
/// A full [`verify`] is for the supervisor and the auditor.
pub fn check_head(store: &Store) -> Result<Verification, AuditError> {
    let conn = store.conn();
    let Some(head) = head_record(store)? else {
        return broken(1, "the audit head record is missing (deleted)");
    };
    let last = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM audit ORDER BY seq DESC LIMIT 1"),
            [],
            Row::from_sql,
        )
        .optional()?;
    let Some(last) = last else {
        if head.seq != 0 {
            return broken(
                1,
                format!(
                    "truncated: the log is empty but the head record says it reaches row {}",
                    head.seq
                ),
            );
        }
        return Ok(Verification::Intact {
            rows: 0,
            head_hash: head.hash,
            legacy_movements: 0,
        });
    };
    if last.seq < head.seq {
        return broken(
            last.seq + 1,
            format!(
                "truncated: the chain ends at row {} but the head record says it reaches row {}",
                last.seq, head.seq
            ),
        );
    }
    if last.seq > head.seq {
        return broken(
            head.seq + 1,
            "rows lie beyond the head record (appended behind the head's back)",
        );
    }
    if last.hash != head.hash {
        return broken(last.seq, "hash differs from the head record");
    }
    if last.recomputed().as_slice() != last.hash.as_slice() {
        return broken(last.seq, "contents do not match the row's hash (edited)");
    }
    let before: Vec<u8> = if last.seq == 1 {
        ZERO.to_vec()
    } else {
        conn.query_row(
            "SELECT hash FROM audit WHERE seq = ?1",
            [last.seq - 1],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default()
    };
    if before != last.prev_hash {
        return broken(
            last.seq,
            format!("prev_hash does not match the hash of row {}", last.seq - 1),
        );
    }
    Ok(Verification::Intact {
        rows: last.seq,
        head_hash: last.hash,
        legacy_movements: 0,
    })
}

/// Writes the rows with `at` on or after `since` (a `YYYY-MM-DD` date, compared with
/// the recorded local time; all rows when `None`) as JSON Lines, one object per row:
/// `{"seq", "at", "kind", "officer", "terminal", "details", "prev_hash", "hash"}` with
/// the hashes in lowercase hex and `details` the exact stored JSON text, so the receiver
/// recomputes each hash (see [`audit_hash`]) and checks that the first row's
/// `prev_hash` is the last hash it already holds. Returns the number of rows written.
pub fn export_jsonl(
    store: &Store,
    since: Option<&str>,
    out: &mut dyn Write,
) -> Result<u64, AuditError> {
    let conn = store.conn();
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit WHERE ?1 IS NULL OR at >= ?1 ORDER BY seq"
    ))?;
    let mut rows = stmt.query([since])?;
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        let row = Row::from_sql(r)?;
        let line = serde_json::json!({
            "seq": row.seq,
            "at": row.at,
            "kind": row.kind,
            "officer": row.officer,
            "terminal": row.terminal,
            "details": row.details,
            "prev_hash": hex(&row.prev_hash),
            "hash": hex(&row.hash),
        });
        writeln!(out, "{line}")?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}
