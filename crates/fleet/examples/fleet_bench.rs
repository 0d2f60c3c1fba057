//! Fleet benchmark (issue 10): K simulated booths (default K = 10 and 50) recording
//! entries against one real PostgreSQL server started for the run. Each booth has its
//! own SQLite file and connection; a decision is a central claim, the local transaction
//! (crossing, audit row, outbox row) and a push. An observer booth pulls continuously.
//! Reports claim latency p50/p95, sync lag p95 (decision committed at one booth ->
//! pulled by another), and the drain time of a 10,000-decision backlog queued during
//! an outage; checks that no row is lost or duplicated.
//!
//! `cargo run --release -p evisa-fleet --example fleet_bench [-- K... [--decisions N]]`

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use evisa_core::rules::{Checkpoint, Direction, Movement};
use evisa_fleet::config::RawFleet;
use evisa_fleet::schema::Admin;
use evisa_fleet::{FleetConfig, Link, sync};
use evisa_store::audit::AuditKind;
use evisa_store::fleet::{ClaimOutcome, OutboxEntry};
use evisa_store::store::{AuditEvent, NewMovement, Store};
use evisa_testkit::pg::PgCluster;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

struct Bench {
    pg: PgCluster,
    dir: tempfile::TempDir,
}

impl Bench {
    fn conn(&self, db: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={db}",
            self.pg.socket_dir().display(),
            self.pg.port()
        )
    }

    /// A fresh fleet database with `n` booth roles; their configurations.
    fn fleet(&self, name: &str, n: usize) -> Result<(Admin, Vec<(String, FleetConfig)>), Error> {
        Admin::connect(&self.conn("postgres"))?.execute(&format!("CREATE DATABASE {name}"))?;
        let admin = Admin::connect(&self.conn(name))?;
        admin.migrate()?;
        let mut booths = Vec::new();
        for i in 0..n {
            let id = format!("{name}-b{i}");
            let role = format!("{name}_b{i}");
            let pw = format!("pw{name}{i}");
            admin.add_booth(&id, &role, &pw, "NQZ")?;
            let creds = self.dir.path().join(format!("{role}.pass"));
            std::fs::write(&creds, &pw)?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600))?;
            let cfg = FleetConfig::from_raw(
                RawFleet {
                    host: Some("127.0.0.1".into()),
                    port: Some(i64::from(self.pg.port())),
                    dbname: Some(name.into()),
                    user: Some(role),
                    credentials: Some(creds),
                    claim_timeout_ms: Some(5000),
                    connect_timeout_ms: Some(5000),
                    ..RawFleet::default()
                },
                self.dir.path(),
            )?;
            booths.push((id, cfg));
        }
        Ok((admin, booths))
    }
}

/// One decision: the local transaction writing crossing, audit row and outbox row.
fn record(
    store: &mut Store,
    id: &str,
    visa: &str,
    claim_id: i64,
    provisional: bool,
) -> Result<i64, Error> {
    let now = evisa_store::terminal::kazakhstan_now_rfc3339();
    let m = Movement {
        direction: Direction::Entry,
        date: time::macros::date!(2026 - 11 - 25),
        checkpoint: "NQZ".into(),
    };
    let tx = store.write()?;
    let details = serde_json::json!({"verdict": "ACCEPT", "visa": visa});
    let mid = tx.record_crossing(
        &NewMovement {
            visa_number: visa,
            movement: &m,
            document_number: "D1",
            officer: None,
            terminal: Some(id),
            recorded_at: &now,
        },
        &AuditEvent {
            kind: AuditKind::Crossing,
            officer: None,
            terminal: Some(id),
            at: &now,
            details: &details,
        },
    )?;
    let seq = tx.outbox_push(&OutboxEntry {
        movement_id: mid,
        visa_number: visa,
        movement: &m,
        document_number: "D1",
        recorded_at: &now,
        entries_allowed: 1,
        ordinal: Some(1),
        claim_id: Some(claim_id),
        provisional,
    })?;
    tx.commit()?;
    Ok(seq)
}

fn run_k(b: &Bench, k: usize, decisions: usize) -> Result<(), Error> {
    let name = format!("bench{k}");
    let (admin, mut booths) = b.fleet(&name, k + 1)?;
    let (obs_id, obs_cfg) = booths.pop().expect("observer");
    let committed: Arc<Mutex<HashMap<(String, i64), Instant>>> = Arc::default();
    let seen: Arc<Mutex<HashMap<(String, i64), Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let observer = {
        let (seen, stop) = (seen.clone(), stop.clone());
        std::thread::spawn(move || -> Result<(), Error> {
            let mut link = Link::new(&obs_cfg, &obs_id)?;
            let mut cursors: HashMap<String, i64> = HashMap::new();
            while !stop.load(Ordering::Relaxed) {
                let c: Vec<(String, i64)> = cursors.iter().map(|(t, s)| (t.clone(), *s)).collect();
                let rows = link.pull(&c)?;
                let now = Instant::now();
                let mut seen = seen.lock().unwrap();
                for (seq, m, _) in &rows {
                    seen.entry((m.terminal_id.clone(), *seq)).or_insert(now);
                    let e = cursors.entry(m.terminal_id.clone()).or_insert(0);
                    *e = (*e).max(*seq);
                }
                drop(seen);
                if rows.is_empty() {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            Ok(())
        })
    };
    let claims: Arc<Mutex<Vec<f64>>> = Arc::default();
    let start = Instant::now();
    let threads: Vec<_> = booths
        .into_iter()
        .enumerate()
        .map(|(i, (id, cfg))| {
            let (claims, committed) = (claims.clone(), committed.clone());
            let db = b.dir.path().join(format!("{id}.db"));
            std::thread::spawn(move || -> Result<(), Error> {
                let mut store = Store::open(&db)?;
                let mut link = Link::new(&cfg, &id)?;
                let at = Checkpoint {
                    date: time::macros::date!(2026 - 11 - 25),
                    code: "NQZ".into(),
                    direction: Direction::Entry,
                };
                for d in 0..decisions {
                    // Every fifth visa is one a neighbour also tries: contested claims.
                    let visa = if d % 5 == 0 {
                        format!("V{}-{d}", i / 2)
                    } else {
                        format!("V{i}-{d}-own")
                    };
                    let claim_id = d as i64 + 1;
                    let t = Instant::now();
                    let outcome = link.claim(&visa, 1, claim_id, &at, None)?;
                    claims.lock().unwrap().push(t.elapsed().as_secs_f64() * 1e3);
                    if outcome == ClaimOutcome::Won {
                        let seq = record(&mut store, &id, &visa, claim_id, false)?;
                        committed
                            .lock()
                            .unwrap()
                            .insert((id.clone(), seq), Instant::now());
                        sync::sync_once(&mut link, &mut store)?;
                    }
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().expect("booth thread")?;
    }
    let elapsed = start.elapsed();
    let want = committed.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().len() < want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    observer.join().expect("observer")?;
    let committed = committed.lock().unwrap();
    let seen = seen.lock().unwrap();
    let mut lags: Vec<f64> = committed
        .iter()
        .filter_map(|(key, t)| {
            seen.get(key)
                .map(|s| s.saturating_duration_since(*t).as_secs_f64() * 1e3)
        })
        .collect();
    let on_server = admin.count("SELECT count(*) FROM crossings")? as usize;
    let distinct = admin.count("SELECT count(DISTINCT visa_number) FROM crossings")? as usize;
    let mut claims = claims.lock().unwrap().clone();
    println!(
        "K={k:>3}: {} claims ({} won) in {:.1} s; claim p50 {:.2} ms, p95 {:.2} ms; sync lag p50 {:.1} ms, p95 {:.1} ms; server rows {on_server} (distinct visas {distinct}), seen by observer {}; lost {}, duplicated {}",
        claims.len(),
        want,
        elapsed.as_secs_f64(),
        pct(&mut claims, 0.5),
        pct(&mut claims, 0.95),
        pct(&mut lags, 0.5),
        pct(&mut lags, 0.95),
        seen.len(),
        want.saturating_sub(on_server.min(seen.len())),
        on_server.saturating_sub(distinct),
    );
    if on_server != want || distinct != want || seen.len() != want {
        return Err("rows lost or duplicated".into());
    }
    Ok(())
}

fn backlog(b: &Bench, n: usize) -> Result<(), Error> {
    let (admin, booths) = b.fleet("backlog", 1)?;
    let (id, cfg) = &booths[0];
    let mut store = Store::open(&b.dir.path().join("backlog.db"))?;
    // Queued during an outage: provisional entries, claimed on push.
    for d in 0..n {
        record(&mut store, id, &format!("Q{d}"), d as i64 + 1, true)?;
    }
    let mut link = Link::new(cfg, id)?;
    let t = Instant::now();
    let r = sync::sync_once(&mut link, &mut store)?;
    let took = t.elapsed();
    let on_server = admin.count("SELECT count(*) FROM crossings")? as usize;
    let claims = admin.count("SELECT count(*) FROM entry_claims")? as usize;
    let mirrored = admin.count("SELECT count(*) FROM audit_mirror")? as usize;
    println!(
        "backlog: {n} queued decisions drained in {:.2} s ({:.0}/s; with {} audit rows mirrored); server crossings {on_server}, claims {claims}, conflicts {}, waiting {}",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        mirrored,
        r.conflicts.len(),
        store.link_state()?.waiting
    );
    if on_server != n || claims != n || mirrored != n {
        return Err("backlog rows lost or duplicated".into());
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let mut ks = Vec::new();
    let mut decisions = 40;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--decisions" {
            decisions = args.next().ok_or("--decisions N")?.parse()?;
        } else {
            ks.push(a.parse::<usize>()?);
        }
    }
    if ks.is_empty() {
        ks = vec![10, 50];
    }
    let b = Bench {
        pg: PgCluster::start()?,
        dir: tempfile::tempdir()?,
    };
    for k in ks {
        run_k(&b, k, decisions)?;
    }
    backlog(&b, 10_000)?;
    Ok(())
}
