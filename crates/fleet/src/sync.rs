//! One sync cycle and the loop that repeats it: release the claims of decisions never
//! recorded, push the outbox (idempotent), mirror the audit chain, pull the fleet's
//! crossings, and note how it went in the booth's link state. Every step is safe to
//! interrupt at any point: the server's keys make a replay change nothing, and the
//! booth marks rows pushed only after the server committed them.

use std::path::{Path, PathBuf};
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

/// Where the fleet's published updates are applied: what `evisa update import`
/// takes from the booth's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateTarget {
    /// The pinned root public key (`update_root_key`).
    pub root_pub: PathBuf,
    /// The trust folder (`trust_store`).
    pub keys_dir: PathBuf,
    pub training: bool,
}

/// What one cycle did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    pub released: usize,
    pub pushed: usize,
    pub mirrored: usize,
    pub pulled: usize,
    pub conflicts: Vec<Conflict>,
    /// Updates from the fleet applied: (kind, seq).
    pub applied: Vec<(String, u64)>,
    /// Updates from the fleet refused: (published id, why).
    pub refused: Vec<(i64, String)>,
    /// An update this booth could not apply yet (its own problem), retried next cycle.
    pub pending: Option<String>,
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
    if let Some(target) = link.updates().cloned() {
        apply_updates(link, store, &target, &mut report)?;
    }
    Ok(report)
}

/// Fetches the published updates after the booth's cursor, one at a time, and
/// applies each exactly as `evisa update import` does (crates/store/src/import.rs):
/// the server is never trusted, the booth's pinned root key is. A refused update is
/// recorded once (audit row, link state) and the cursor moves past it, so it is never
/// fetched again; an operational failure (the booth's root key, disk, database) is
/// noted in the link state and leaves the cursor, and the next cycle retries.
fn apply_updates(
    link: &mut Link,
    store: &mut Store,
    target: &UpdateTarget,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    use sha2::{Digest, Sha256};
    loop {
        let cursor = store.link_state()?.updates_cursor;
        let Some(u) = link.next_update(cursor)? else {
            return Ok(());
        };
        let now = kazakhstan_now_rfc3339();
        let Some(bytes) = &u.bytes else {
            let why = format!(
                "update file is {} bytes, more than the {} accepted",
                u.size,
                evisa_core::update::MAX_FILE
            );
            refuse(store, &u, &why, None, &now)?;
            report.refused.push((u.id, why));
            continue;
        };
        let sha = Sha256::digest(bytes);
        // Applied already (a cycle killed before its cursor moved, or the same file
        // imported from removable media): not a replay to report.
        if store.update_with_sha256(sha.as_slice())?.is_some() {
            store.note_update_seen(u.id)?;
            continue;
        }
        match evisa_store::import::import_bytes(
            bytes,
            &target.root_pub,
            target.training,
            store,
            &target.keys_dir,
            &now,
            None,
        ) {
            Ok(done) => {
                store.note_update_seen(u.id)?;
                report
                    .applied
                    .push((done.kind.as_str().to_string(), done.seq));
            }
            // Another sync of this booth (the kiosk's thread and `evisa fleet sync`)
            // applied this very file meanwhile: its replay is no refusal.
            Err(e) if e.is_rejection() && store.update_with_sha256(sha.as_slice())?.is_some() => {
                store.note_update_seen(u.id)?;
            }
            Err(e) if e.is_rejection() => {
                let why = e.to_string();
                refuse(store, &u, &why, Some(&evisa_core::trust::hex(&sha)), &now)?;
                report.refused.push((u.id, why));
            }
            Err(e) => {
                // The booth's own problem (its root key, disk, database), not the
                // file's: the link is fine and the update is not refused. Retried at
                // the next cycle; pushes and pulls go on meanwhile.
                let note = format!(
                    "update #{} published {} not applied yet, retried at each sync: {e}",
                    u.id, u.published_at
                );
                tracing::warn!("{note}");
                store.note_update_pending(&note)?;
                report.pending = Some(note);
                return Ok(());
            }
        }
    }
}

fn refuse(
    store: &mut Store,
    u: &crate::link::PublishedUpdate,
    why: &str,
    sha256: Option<&str>,
    now: &str,
) -> Result<(), StoreError> {
    let details = serde_json::json!({
        "source": "fleet",
        "published_id": u.id,
        "published_at": u.published_at,
        "size": u.size,
        "sha256": sha256,
        "reason": why,
    });
    let note = format!(
        "update #{} published {} refused, nothing changed: {why}",
        u.id, u.published_at
    );
    store.note_update_refused(
        u.id,
        &note,
        &evisa_store::store::AuditEvent {
            kind: evisa_store::audit::AuditKind::UpdateRefused,
            officer: None,
            terminal: None,
            at: now,
            details: &details,
        },
    )
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
        if r.recomputed().as_slice() != r.hash.as_slice() {
            return Err(format!("row {} was altered (hash mismatch)", r.seq));
        }
        prev = r.hash.clone();
    }
    Ok((rows.len(), prev))
}
