//! One sync cycle and the loop that repeats it: release the claims of decisions never
//! recorded, push the outbox (idempotent), mirror the audit chain, pull the fleet's
//! crossings, and note how it went in the booth's link state. Every step is safe to
//! interrupt at any point: the server's keys make a replay change nothing, and the
//! booth marks rows pushed only after the server committed them.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use evisa_store::fleet::Conflict;
use evisa_store::store::{Store, StoreError};
use evisa_store::terminal::kazakhstan_now_rfc3339;

use crate::link::{Link, LinkError, PULL_BATCH};

/// Outbox rows per server transaction.
pub const PUSH_BATCH: i64 = 500;
/// Audit rows per server transaction.
pub const AUDIT_BATCH: i64 = 1000;
/// A claim intent this old lost its process (a claim takes at most the timeout).
pub const STALE_INTENT_SECS: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one cycle did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    pub released: usize,
    pub pushed: usize,
    pub mirrored: usize,
    pub pulled: usize,
    pub conflicts: Vec<Conflict>,
}

/// One cycle; the link state records the outcome either way.
pub fn sync_once(link: &mut Link, store: &mut Store) -> Result<SyncReport, SyncError> {
    let result = cycle(link, store);
    let now = kazakhstan_now_rfc3339();
    match &result {
        Ok(_) => {
            store.note_sync(&now, None, None)?;
        }
        Err(e) => {
            store.note_sync(&now, Some(&e.to_string()), None)?;
        }
    }
    result
}

fn cycle(link: &mut Link, store: &mut Store) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    for (id, _visa) in store.stale_claim_intents(STALE_INTENT_SECS)? {
        link.release(id)?;
        store.release_claim_intent(id)?;
        report.released += 1;
    }
    loop {
        let rows = store.outbox_pending(PUSH_BATCH)?;
        if rows.is_empty() {
            break;
        }
        let conflicts = link.push(&rows)?;
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        store.outbox_pushed(&seqs, &conflicts)?;
        report.pushed += rows.len();
        report.conflicts.extend(conflicts);
    }
    loop {
        let after = store.link_state()?.audit_pushed;
        let rows = store.audit_rows_after(after, AUDIT_BATCH)?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            break;
        };
        link.push_audit(&rows)?;
        store.note_sync(&kazakhstan_now_rfc3339(), None, Some(last))?;
        report.mirrored += rows.len();
    }
    loop {
        let rows = link.pull(&store.pull_cursors()?)?;
        let n = rows.len();
        store.add_pulled(&rows)?;
        report.pulled += n;
        if (n as i64) < PULL_BATCH {
            break;
        }
    }
    Ok(report)
}

/// Repeats [`sync_once`] every interval until `stop` is set, on its own connection
/// to the booth's database. `on_cycle` sees each outcome (the kiosk's status).
pub fn run_loop(
    link: &mut Link,
    db: &Path,
    stop: &Arc<AtomicBool>,
    on_cycle: &mut dyn FnMut(&Result<SyncReport, SyncError>),
) -> Result<(), StoreError> {
    let mut store = Store::open_existing(db)?;
    let interval = link.config().sync_interval;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let r = sync_once(link, &mut store);
        on_cycle(&r);
        while started.elapsed() < interval && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50).min(interval));
        }
    }
    Ok(())
}

/// Checks a terminal's mirrored audit chain: consecutive from 1, each row's hash
/// recomputed and linked to its predecessor. Returns the row count and head hash, or
/// the first broken row.
pub fn verify_mirror(rows: &[evisa_store::fleet::MirrorRow]) -> Result<(usize, Vec<u8>), String> {
    let mut prev = vec![0u8; 32];
    for (i, r) in rows.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if r.seq != expected_seq {
            return Err(format!(
                "row {expected_seq} is missing (found seq {})",
                r.seq
            ));
        }
        if r.prev_hash != prev {
            return Err(format!("row {} does not link to row {}", r.seq, r.seq - 1));
        }
        let h = evisa_store::store::audit_hash(
            &prev,
            r.seq,
            &r.at,
            &r.kind,
            r.officer.as_deref(),
            r.terminal.as_deref(),
            &r.details,
        );
        if h.as_slice() != r.hash.as_slice() {
            return Err(format!("row {} was altered (hash mismatch)", r.seq));
        }
        prev = r.hash.clone();
    }
    Ok((rows.len(), prev))
}
