//! The fleet as the kiosk shows it: one small status value (link online or offline
//! since HH:MM, decisions waiting, the conflicts for supervisors), kept fresh by a sync
//! thread that runs the fleet's sync loop on its own connection to the booth's
//! database and reports each cycle as a [`Message::Fleet`](crate::app::Message).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use crate::app::Message;
use evisa_fleet::{FleetConfig, Link, sync};
use evisa_store::fleet::{Conflict, LinkState};
use evisa_store::store::Store;

/// What the status bar, the verdict screen and the supervisor's list show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetStatus {
    pub online: bool,
    /// "HH:MM" (Kazakhstan time) when the link went down.
    pub offline_since: Option<String>,
    /// Decisions recorded here and not yet on the server.
    pub waiting: i64,
    /// Conflicts (the fleet's when the server answers, else this booth's).
    pub conflicts: Vec<Conflict>,
}

impl FleetStatus {
    pub fn of(s: &LinkState, conflicts: Vec<Conflict>) -> Self {
        FleetStatus {
            online: s.online,
            offline_since: s
                .offline_since
                .as_deref()
                .and_then(|t| t.get(11..16))
                .map(str::to_string),
            waiting: s.waiting,
            conflicts,
        }
    }
}

/// The running sync thread; stops when dropped.
pub struct SyncThread {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for SyncThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Starts the sync loop for the booth's database.
pub fn spawn(
    cfg: &FleetConfig,
    terminal_id: &str,
    db: &std::path::Path,
    updates: Option<sync::UpdateTarget>,
    tx: UnboundedSender<Message>,
) -> Result<SyncThread, evisa_fleet::LinkError> {
    // Fleet updates land in the trust folder and `applied_updates`; the worker's
    // UpdateWatch reloads the trust store between two travellers.
    let mut link = Link::new(cfg, terminal_id)?;
    if let Some(t) = updates {
        link = link.with_updates(t);
    }
    let db = db.to_path_buf();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let handle = std::thread::Builder::new()
        .name("kiosk-fleet".into())
        .spawn(move || {
            let interval = link.config().sync_interval;
            while !s.load(Ordering::Relaxed) {
                let started = Instant::now();
                if let Ok(mut store) = Store::open_existing(&db) {
                    let ok = sync::sync_once(&mut link, &mut store).is_ok();
                    let conflicts = if ok { link.conflicts().ok() } else { None }
                        .or_else(|| store.local_conflicts().ok())
                        .unwrap_or_default();
                    if let Ok(state) = store.link_state()
                        && tx
                            .send(Message::Fleet(FleetStatus::of(&state, conflicts)))
                            .is_err()
                    {
                        break;
                    }
                }
                while started.elapsed() < interval && !s.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        })
        .map_err(evisa_fleet::LinkError::Io)?;
    Ok(SyncThread {
        stop,
        handle: Some(handle),
    })
}
