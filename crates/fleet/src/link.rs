//! The booth's connection to the central server and every statement it sends: the
//! visa's lookup, the entry claim, the release of a claim whose decision was never
//! recorded, the idempotent push of the outbox (keyed by terminal id and local
//! sequence) with the claims of provisional entries and the conflicts they reveal, the
//! audit mirror, the pull of the fleet's crossings after a per-terminal cursor, and the
//! conflicts' listing. Blocking on the outside (a small runtime of its own); every call
//! has a deadline, and a connection that missed one is dropped and made again.

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::{Client, NoTls, Row};

use crate::config::{FleetConfig, FleetConfigError};
use evisa_core::rules::{Checkpoint, Direction, Movement};
use evisa_store::fleet::{ClaimOutcome, Conflict, FleetMovement, MirrorRow, OutboxRow};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Config(#[from] FleetConfigError),
    #[error("fleet server {0}: {1}")]
    Db(String, String),
    #[error("fleet server {0}: no answer within {1} ms")]
    Timeout(String, u128),
    #[error("fleet server sent a malformed {0}: {1:?}")]
    Malformed(&'static str, String),
    #[error("fleet runtime: {0}")]
    Io(#[from] std::io::Error),
}

/// Crossings of one visa believed from the server.
const LOOKUP_MAX: usize = 1000;

/// Rows pulled per round trip.
pub const PULL_BATCH: i64 = 2000;

/// The server's own message (a `db error` alone says nothing), or the I/O cause.
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{}: {}", d.severity(), d.message()),
        None => match std::error::Error::source(e) {
            Some(src) => format!("{e}: {src}"),
            None => e.to_string(),
        },
    }
}

/// A column of a row the server sent, of the type the query asked for. The server is a
/// network peer: a tampered schema that changes a column's type is an error here, where
/// `Row::get` would panic the booth's sync.
fn col<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, LinkError> {
    r.try_get(i)
        .map_err(|e| LinkError::Malformed("row", format!("column {i}: {e}")))
}

pub(crate) const MIRROR_SELECT: &str =
    "SELECT seq, at, kind, officer, terminal, details, prev_hash, hash
     FROM audit_mirror WHERE terminal_id = $1 ORDER BY seq";

pub(crate) fn mirror_row(r: &Row) -> Result<MirrorRow, LinkError> {
    Ok(MirrorRow {
        seq: col(r, 0)?,
        at: col(r, 1)?,
        kind: col(r, 2)?,
        officer: col(r, 3)?,
        terminal: col(r, 4)?,
        details: col(r, 5)?,
        prev_hash: col(r, 6)?,
        hash: col(r, 7)?,
    })
}

/// A signed update file as the server holds it: untrusted until the booth verified it.
#[derive(Debug, Clone)]
pub struct PublishedUpdate {
    pub id: i64,
    pub size: i64,
    pub published_at: String,
    /// `None` when the file is over the update format's cap.
    pub bytes: Option<Vec<u8>>,
}

/// A booth's link to the server.
pub struct Link {
    rt: tokio::runtime::Runtime,
    cfg: FleetConfig,
    password: String,
    terminal_id: String,
    client: Option<Arc<Client>>,
    updates: Option<crate::sync::UpdateTarget>,
}

fn movement(
    table: &'static str,
    terminal_id: String,
    direction: &str,
    date: &str,
    checkpoint: String,
    recorded_at: String,
) -> Result<FleetMovement, LinkError> {
    // The server is a network peer: what it sends is checked before the rules or the
    // officer's screen see it (the schema's checks may not hold on a tampered server).
    let id_ok = (1..=32).contains(&terminal_id.len())
        && terminal_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(LinkError::Malformed(table, terminal_id));
    }
    if checkpoint.len() != 3 || !checkpoint.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(LinkError::Malformed(table, checkpoint));
    }
    if recorded_at.len() > 64 || recorded_at.chars().any(char::is_control) {
        return Err(LinkError::Malformed(table, recorded_at));
    }
    Ok(FleetMovement {
        terminal_id,
        movement: Movement {
            direction: Direction::parse(direction)
                .ok_or_else(|| LinkError::Malformed(table, direction.to_string()))?,
            date: evisa_core::dates::parse_iso(date)
                .ok_or_else(|| LinkError::Malformed(table, date.to_string()))?,
            checkpoint,
        },
        recorded_at,
    })
}

impl Link {
    /// Reads the credentials (refused when exposed); connects on first use.
    pub fn new(cfg: &FleetConfig, terminal_id: &str) -> Result<Self, LinkError> {
        let password = cfg.read_password()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Link {
            rt,
            cfg: cfg.clone(),
            password,
            terminal_id: terminal_id.to_string(),
            client: None,
            updates: None,
        })
    }

    pub fn terminal_id(&self) -> &str {
        &self.terminal_id
    }

    pub fn config(&self) -> &FleetConfig {
        &self.cfg
    }

    /// Makes each sync fetch and apply the fleet's published updates to `target`.
    /// Without it (no pinned update root) none is fetched: nothing could verify them.
    pub fn with_updates(mut self, target: crate::sync::UpdateTarget) -> Self {
        self.updates = Some(target);
        self
    }

    pub fn updates(&self) -> Option<&crate::sync::UpdateTarget> {
        self.updates.as_ref()
    }

    fn what(&self) -> String {
        format!("{}:{}", self.cfg.host, self.cfg.port)
    }

    /// Runs `f` on a connected client within `budget` (connecting first when needed,
    /// within the connect timeout). Any failure drops the connection.
    fn call<T, F, Fut>(&mut self, budget: Duration, f: F) -> Result<T, LinkError>
    where
        F: FnOnce(Arc<Client>, String) -> Fut,
        Fut: std::future::Future<Output = Result<T, LinkError>>,
    {
        let what = self.what();
        if self.client.as_ref().is_some_and(|c| c.is_closed()) {
            self.client = None;
        }
        if self.client.is_none() {
            let mut pc = tokio_postgres::Config::new();
            pc.host(&self.cfg.host)
                .port(self.cfg.port)
                .dbname(&self.cfg.dbname)
                .user(&self.cfg.user)
                .password(&self.password)
                .application_name("evisa-booth")
                .connect_timeout(self.cfg.connect_timeout);
            let limit = self.cfg.connect_timeout;
            let w = what.clone();
            let client = self.rt.block_on(async move {
                let (client, connection) = tokio::time::timeout(limit, pc.connect(NoTls))
                    .await
                    .map_err(|_| LinkError::Timeout(w.clone(), limit.as_millis()))?
                    .map_err(|e| LinkError::Db(w.clone(), describe(&e)))?;
                tokio::spawn(connection);
                Ok::<_, LinkError>(client)
            })?;
            self.client = Some(Arc::new(client));
        }
        let client = self.client.clone().expect("connected above");
        let w = what.clone();
        let out = self.rt.block_on(async move {
            tokio::time::timeout(budget, f(client, w.clone()))
                .await
                .map_err(|_| LinkError::Timeout(w, budget.as_millis()))?
        });
        if out.is_err() {
            self.client = None;
        }
        out
    }

    /// The visa's crossings and outstanding entry claims at other booths.
    pub fn lookup(&mut self, visa_number: &str) -> Result<Vec<FleetMovement>, LinkError> {
        let me = self.terminal_id.clone();
        let visa = visa_number.to_string();
        let rows = self.call(self.cfg.claim_timeout, |c, w| async move {
            c.query(
                "SELECT terminal_id, direction, date, checkpoint, recorded_at FROM crossings
                  WHERE visa_number = $1 AND terminal_id <> $2
                 UNION ALL
                 SELECT c.terminal_id, 'entry', c.entry_date, c.checkpoint, c.claimed_at
                   FROM entry_claims c
                  WHERE c.visa_number = $1 AND c.terminal_id <> $2 AND NOT EXISTS (
                        SELECT 1 FROM crossings x
                         WHERE x.terminal_id = c.terminal_id AND x.claim_id = c.claim_id)
                 LIMIT $3",
                &[&visa, &me, &(LOOKUP_MAX as i64 + 1)],
            )
            .await
            .map_err(|e| LinkError::Db(w, describe(&e)))
        })?;
        // One visa has a handful of crossings; a server that sends more is not believed
        // (the booth then decides provisionally, as when the server is unreachable).
        if rows.len() > LOOKUP_MAX {
            return Err(LinkError::Malformed(
                "visa lookup",
                format!("{visa_number}: over {LOOKUP_MAX} crossings"),
            ));
        }
        rows.iter()
            .map(|r| {
                movement(
                    "crossing",
                    col(r, 0)?,
                    col::<&str>(r, 1)?,
                    col::<&str>(r, 2)?,
                    col(r, 3)?,
                    col(r, 4)?,
                )
            })
            .collect()
    }

    /// Claims entry `ordinal` of the visa for this booth under `claim_id`.
    pub fn claim(
        &mut self,
        visa_number: &str,
        ordinal: i64,
        claim_id: i64,
        at: &Checkpoint,
        budget: Option<Duration>,
    ) -> Result<ClaimOutcome, LinkError> {
        let me = self.terminal_id.clone();
        let (visa, cp, date) = (
            visa_number.to_string(),
            at.code.clone(),
            at.date.to_string(),
        );
        let now = evisa_store::terminal::kazakhstan_now_rfc3339();
        let ordinal = i32::try_from(ordinal)
            .map_err(|_| LinkError::Malformed("entry number", ordinal.to_string()))?;
        let budget = budget.unwrap_or(self.cfg.claim_timeout);
        let row = self.call(budget, |c, w| async move {
            claim_on(&c, &w, &me, &visa, ordinal, claim_id, &cp, &date, &now).await
        })?;
        Ok(row)
    }

    /// Releases this booth's claim whose decision was never recorded (its intent
    /// outlived the process that made it). A claim a pushed crossing confirms stays.
    pub fn release(&mut self, claim_id: i64) -> Result<(), LinkError> {
        let me = self.terminal_id.clone();
        self.call(self.cfg.connect_timeout * 5, |c, w| async move {
            c.execute(
                "DELETE FROM entry_claims WHERE terminal_id = $1 AND claim_id = $2",
                &[&me, &claim_id],
            )
            .await
            .map_err(|e| LinkError::Db(w, describe(&e)))
        })?;
        Ok(())
    }

    /// Pushes outbox rows in one server transaction: each crossing once (replays
    /// change nothing), the entry claim of each provisional entry, and a conflict for
    /// each entry whose claim another booth holds. Returns the conflicts.
    pub fn push(&mut self, rows: &[OutboxRow]) -> Result<Vec<Conflict>, LinkError> {
        let me = self.terminal_id.clone();
        let rows = rows.to_vec();
        let now = evisa_store::terminal::kazakhstan_now_rfc3339();
        self.call(Duration::from_secs(60), |c, w| async move {
            let db = |e: tokio_postgres::Error| LinkError::Db(w.clone(), describe(&e));
            c.batch_execute("BEGIN").await.map_err(db)?;
            let mut conflicts = Vec::new();
            let insert = c
                .prepare(
                    "INSERT INTO crossings (terminal_id, local_seq, visa_number, direction, date,
                         checkpoint, document_number, recorded_at, provisional, claim_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                )
                .await
                .map_err(db)?;
            for r in &rows {
                if let (Direction::Entry, Some(claim_id)) = (r.direction, r.claim_id) {
                    let first = r.ordinal.unwrap_or(1).max(1);
                    // A provisional entry may take any entry still free; at most a few
                    // are tried (`ne` can be any number).
                    let last = r.entries_allowed.min(first + 16).max(first);
                    let mut winner = None;
                    let mut won = false;
                    for n in first..=last {
                        let n = i32::try_from(n).unwrap_or(i32::MAX);
                        match claim_on(
                            &c,
                            &w,
                            &me,
                            &r.visa_number,
                            n,
                            claim_id,
                            &r.checkpoint,
                            &r.date,
                            &r.recorded_at,
                        )
                        .await?
                        {
                            ClaimOutcome::Won => {
                                won = true;
                                break;
                            }
                            ClaimOutcome::Lost(m) => {
                                winner.get_or_insert(m);
                            }
                        }
                    }
                    if !won && let Some(m) = winner {
                        let conflict = Conflict {
                            terminal_id: me.clone(),
                            local_seq: r.seq,
                            visa_number: r.visa_number.clone(),
                            ordinal: first,
                            winner_terminal: m.terminal_id,
                            winner_checkpoint: m.movement.checkpoint,
                            winner_date: m.recorded_at,
                            detected_at: now.clone(),
                        };
                        c.execute(
                            "INSERT INTO conflicts (terminal_id, local_seq, visa_number, ordinal,
                                 winner_terminal, winner_checkpoint, winner_date, detected_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                            &[
                                &conflict.terminal_id,
                                &conflict.local_seq,
                                &conflict.visa_number,
                                &(first as i32),
                                &conflict.winner_terminal,
                                &conflict.winner_checkpoint,
                                &conflict.winner_date,
                                &conflict.detected_at,
                            ],
                        )
                        .await
                        .map_err(db)?;
                        conflicts.push(conflict);
                    }
                }
                c.execute(
                    &insert,
                    &[
                        &me,
                        &r.seq,
                        &r.visa_number,
                        &r.direction.as_str(),
                        &r.date,
                        &r.checkpoint,
                        &r.document_number,
                        &r.recorded_at,
                        &r.provisional,
                        &r.claim_id,
                    ],
                )
                .await
                .map_err(db)?;
            }
            c.batch_execute("COMMIT").await.map_err(db)?;
            Ok(conflicts)
        })
    }

    /// Mirrors audit rows (with their hashes); rows already there are skipped.
    pub fn push_audit(&mut self, rows: &[MirrorRow]) -> Result<(), LinkError> {
        let me = self.terminal_id.clone();
        let rows = rows.to_vec();
        self.call(Duration::from_secs(60), |c, w| async move {
            let db = |e: tokio_postgres::Error| LinkError::Db(w.clone(), describe(&e));
            c.batch_execute("BEGIN").await.map_err(db)?;
            let st = c
                .prepare(
                    "INSERT INTO audit_mirror (terminal_id, seq, at, kind, officer, terminal,
                         details, prev_hash, hash)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                )
                .await
                .map_err(db)?;
            for r in &rows {
                c.execute(
                    &st,
                    &[
                        &me,
                        &r.seq,
                        &r.at,
                        &r.kind,
                        &r.officer,
                        &r.terminal,
                        &r.details,
                        &r.prev_hash,
                        &r.hash,
                    ],
                )
                .await
                .map_err(db)?;
            }
            c.batch_execute("COMMIT").await.map_err(db)?;
            Ok(())
        })
    }

    /// Crossings of other booths after the per-terminal cursors, oldest first per
    /// terminal: `(local_seq, movement, visa_number)`.
    pub fn pull(
        &mut self,
        cursors: &[(String, i64)],
    ) -> Result<Vec<(i64, FleetMovement, String)>, LinkError> {
        let me = self.terminal_id.clone();
        let terms: Vec<String> = cursors.iter().map(|c| c.0.clone()).collect();
        let seqs: Vec<i64> = cursors.iter().map(|c| c.1).collect();
        let rows = self.call(Duration::from_secs(30), |c, w| async move {
            c.query(
                "SELECT c.terminal_id, c.local_seq, c.visa_number, c.direction, c.date,
                        c.checkpoint, c.recorded_at
                   FROM crossings c
                   LEFT JOIN unnest($1::text[], $2::int8[]) AS k(t, s) ON k.t = c.terminal_id
                  WHERE c.terminal_id <> $3 AND c.local_seq > coalesce(k.s, 0)
                  ORDER BY c.terminal_id, c.local_seq LIMIT $4",
                &[&terms, &seqs, &me, &PULL_BATCH],
            )
            .await
            .map_err(|e| LinkError::Db(w, describe(&e)))
        })?;
        rows.iter()
            .map(|r| {
                let m = movement(
                    "crossing",
                    col(r, 0)?,
                    col::<&str>(r, 3)?,
                    col::<&str>(r, 4)?,
                    col(r, 5)?,
                    col(r, 6)?,
                )?;
                Ok((col::<i64>(r, 1)?, m, col::<String>(r, 2)?))
            })
            .collect()
    }

    /// The first published update after `after` (its id), or none. A file larger
    /// than the update format's cap comes without its bytes (`bytes: None`), so a
    /// tampered server cannot make the booth hold more than one capped file.
    pub fn next_update(&mut self, after: i64) -> Result<Option<PublishedUpdate>, LinkError> {
        let cap = i32::try_from(evisa_core::update::MAX_FILE).unwrap_or(i32::MAX);
        let row = self.call(Duration::from_secs(60), |c, w| async move {
            c.query_opt(
                "SELECT id, octet_length(bytes), to_char(published_at AT TIME ZONE 'UTC',
                        'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                        CASE WHEN octet_length(bytes) <= $2 THEN bytes END
                   FROM published_updates WHERE id > $1 ORDER BY id LIMIT 1",
                &[&after, &cap],
            )
            .await
            .map_err(|e| LinkError::Db(w, describe(&e)))
        })?;
        let Some(r) = row else { return Ok(None) };
        let id: i64 = col(&r, 0)?;
        if id <= after {
            return Err(LinkError::Malformed("published update id", id.to_string()));
        }
        let published_at: String = col(&r, 2)?;
        if published_at.len() > 64 || published_at.chars().any(char::is_control) {
            return Err(LinkError::Malformed("published update time", published_at));
        }
        let bytes: Option<Vec<u8>> = col(&r, 3)?;
        if bytes
            .as_ref()
            .is_some_and(|b| b.len() > evisa_core::update::MAX_FILE)
        {
            return Err(LinkError::Malformed(
                "published update",
                format!("#{id} over the cap"),
            ));
        }
        Ok(Some(PublishedUpdate {
            id,
            size: i64::from(col::<i32>(&r, 1)?),
            published_at,
            bytes,
        }))
    }

    /// The server's clock (Unix seconds) and the fleet's conflict count, in one round
    /// trip within the connect timeout: what `evisa doctor` asks.
    pub fn server_clock_and_conflicts(&mut self) -> Result<(f64, i64), LinkError> {
        let row = self.call(self.cfg.connect_timeout, |c, w| async move {
            c.query_one(
                "SELECT extract(epoch FROM clock_timestamp())::float8,
                        (SELECT count(*) FROM conflicts)",
                &[],
            )
            .await
            .map_err(|e| LinkError::Db(w, describe(&e)))
        })?;
        Ok((col(&row, 0)?, col(&row, 1)?))
    }

    /// Every conflict of the fleet, oldest first.
    pub fn conflicts(&mut self) -> Result<Vec<Conflict>, LinkError> {
        let rows = self.call(Duration::from_secs(10), |c, w| async move {
            c.query(
                "SELECT terminal_id, local_seq, visa_number, ordinal, winner_terminal,
                        winner_checkpoint, winner_date, detected_at
                   FROM conflicts ORDER BY server_at, terminal_id, local_seq",
                &[],
            )
            .await
            .map_err(|e| LinkError::Db(w, describe(&e)))
        })?;
        rows.iter()
            .map(|r| {
                Ok(Conflict {
                    terminal_id: col(r, 0)?,
                    local_seq: col(r, 1)?,
                    visa_number: col(r, 2)?,
                    ordinal: i64::from(col::<i32>(r, 3)?),
                    winner_terminal: col(r, 4)?,
                    winner_checkpoint: col(r, 5)?,
                    winner_date: col(r, 6)?,
                    detected_at: col(r, 7)?,
                })
            })
            .collect()
    }

    /// This booth's audit chain as mirrored on the server, oldest first.
    pub fn audit_mirror(&mut self) -> Result<Vec<MirrorRow>, LinkError> {
        let me = self.terminal_id.clone();
        let rows = self.call(Duration::from_secs(60), |c, w| async move {
            c.query(MIRROR_SELECT, &[&me])
                .await
                .map_err(|e| LinkError::Db(w, describe(&e)))
        })?;
        rows.iter().map(mirror_row).collect()
    }

    /// Runs a statement as this booth's role: what the least-privilege test tries.
    pub fn execute_as_booth(&mut self, sql: &str) -> Result<u64, LinkError> {
        let sql = sql.to_string();
        self.call(Duration::from_secs(10), |c, w| async move {
            c.execute(sql.as_str(), &[])
                .await
                .map_err(|e| LinkError::Db(w, describe(&e)))
        })
    }
}

/// Inserts the claim unless the entry (or this claim key) is taken, then reads who
/// holds the entry: this booth under this key, or another booth.
#[allow(clippy::too_many_arguments)]
async fn claim_on(
    c: &Client,
    w: &str,
    me: &str,
    visa: &str,
    ordinal: i32,
    claim_id: i64,
    checkpoint: &str,
    date: &str,
    now: &str,
) -> Result<ClaimOutcome, LinkError> {
    let db = |e: tokio_postgres::Error| LinkError::Db(w.to_string(), describe(&e));
    // One round trip in the common case: this key's claim if it exists (an answer lost
    // in transit), else the inserted claim, else the holder as of this statement.
    let first = c
        .query_opt(
            "WITH mine AS (
                 SELECT terminal_id, claim_id, checkpoint, entry_date, claimed_at
                   FROM entry_claims WHERE terminal_id = $3 AND claim_id = $4
             ), ins AS (
                 INSERT INTO entry_claims (visa_number, ordinal, terminal_id, claim_id,
                     checkpoint, entry_date, claimed_at)
                 SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM mine)
                 ON CONFLICT DO NOTHING
                 RETURNING terminal_id, claim_id, checkpoint, entry_date, claimed_at
             )
             SELECT * FROM mine
             UNION ALL SELECT * FROM ins
             UNION ALL SELECT terminal_id, claim_id, checkpoint, entry_date, claimed_at
               FROM entry_claims
              WHERE visa_number = $1 AND ordinal = $2
                AND NOT EXISTS (SELECT 1 FROM mine) AND NOT EXISTS (SELECT 1 FROM ins)
             LIMIT 1",
            &[&visa, &ordinal, &me, &claim_id, &checkpoint, &date, &now],
        )
        .await
        .map_err(db)?;
    let holder = match first {
        Some(row) => row,
        // The entry was claimed by a transaction that committed after this statement's
        // snapshot was taken: read it now.
        None => c
            .query_opt(
                "SELECT terminal_id, claim_id, checkpoint, entry_date, claimed_at FROM entry_claims
                  WHERE visa_number = $1 AND ordinal = $2",
                &[&visa, &ordinal],
            )
            .await
            .map_err(db)?
            .ok_or_else(|| {
                LinkError::Malformed("entry claim", format!("{visa} #{ordinal} vanished"))
            })?,
    };
    let (t, k): (String, i64) = (col(&holder, 0)?, col(&holder, 1)?);
    if t == me && k == claim_id {
        return Ok(ClaimOutcome::Won);
    }
    Ok(ClaimOutcome::Lost(movement(
        "entry claim",
        t,
        "entry",
        col::<&str>(&holder, 3)?,
        col(&holder, 2)?,
        col(&holder, 4)?,
    )?))
}
