//! The fleet under crashes: booth processes (`verify --record` and `fleet sync`)
//! SIGKILLed at random moments, 50 times, and the server stopped the way a power cut
//! would (`pg_ctl -m immediate`), 10 times. Afterwards no decision is lost or
//! duplicated (every crossing in a booth's file is on the server exactly once, and
//! nothing else is), and every audit chain verifies, locally and from the central copy.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use evisa_store::audit::{self, Verification};
use evisa_store::store::Store;

use crate::fleet::{Booth, admin_conn, case, server, text};

/// xorshift64*: reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn spawn(b: &Booth, sync: bool) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evisa"));
    if sync {
        c.args(["fleet", "sync"]);
    } else {
        // An exit with no entry anywhere: an ACCEPT each time, so every run that
        // completes adds a crossing.
        c.args([
            "verify",
            "--record",
            "--date",
            "2026-11-25",
            "--direction",
            "exit",
        ])
        .arg("--qr-file")
        .arg(case("accept_tourist", "qr.txt"))
        .arg("--mrz-file")
        .arg(case("accept_tourist", "mrz.txt"));
    }
    c.arg("--config")
        .arg(&b.config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Kills the child after `after` unless it finished first; true when it completed.
/// A completed run's duration updates `typical`, so the kill moments below track how
/// fast this machine runs a booth process instead of assuming fixed times.
fn kill_after(mut child: Child, after: Duration, typical: &mut Duration) -> bool {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            *typical = start.elapsed();
            return status.code().is_some();
        }
        if start.elapsed() >= after {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A random moment within a typical run: the process is killed part-way through.
fn moment(rng: &mut Rng, typical: Duration) -> Duration {
    Duration::from_micros(rng.below(typical.as_micros().max(1000) as u64))
}

#[test]
fn fleet_sigkill_and_server_crash_lose_and_duplicate_no_decision() {
    let mut s = server();
    let port = s.pg.port();
    let booths = [s.booth("nqz-1", "NQZ", port), s.booth("nqz-2", "NQZ", port)];
    let seed = std::env::var("EVISA_CHAOS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("chaos seed {seed} (EVISA_CHAOS_SEED to replay)");
    let mut rng = Rng(seed);
    let mut completed = [0usize; 2];
    let mut kills = 0;
    let mut crashes = 0;
    let mut round = 0;
    let (mut decide, mut sync) = (Duration::from_millis(300), Duration::from_millis(80));
    while (kills < 50 || crashes < 10) && round < 1000 {
        round += 1;
        let i = round % 2;
        let b = &booths[i];
        // A decision, sometimes cut short.
        let d = spawn(b, false);
        let patience = if rng.below(2) == 0 {
            moment(&mut rng, decide)
        } else {
            Duration::from_secs(10)
        };
        if kill_after(d, patience, &mut decide) {
            completed[i] += 1;
        } else {
            kills += 1;
        }
        // A sync killed at a random moment.
        let c = spawn(b, true);
        if !kill_after(c, moment(&mut rng, sync), &mut sync) {
            kills += 1;
        }
        if round % 5 == 4 && crashes < 10 {
            s.pg.crash().unwrap();
            crashes += 1;
            // A decision while the server is down: provisional, queued.
            // (Its time, with the server down, is not a typical decision's.)
            let mut offline = Duration::ZERO;
            if kill_after(spawn(b, false), Duration::from_secs(10), &mut offline) {
                completed[i] += 1;
            }
            s.pg.restart().unwrap();
        }
    }
    assert_eq!(crashes, 10);
    // The administrator's connection died with the server.
    s.admin = evisa_fleet::schema::Admin::connect(&admin_conn(&s.pg, "evisa_fleet")).unwrap();
    assert!(kills >= 50, "only {kills} kills");
    eprintln!(
        "{kills} processes killed, {crashes} server crashes, {completed:?} decisions completed"
    );
    for (i, b) in booths.iter().enumerate() {
        let o = b.evisa(&["fleet", "sync"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let store = Store::open_read_only(&b.db).unwrap();
        // Nothing a completed decision wrote is lost locally.
        let local = store.outbox_all().unwrap();
        assert!(
            local.len() >= completed[i],
            "{}: {} crossings recorded, {} decisions completed",
            b.id,
            local.len(),
            completed[i]
        );
        assert_eq!(store.link_state().unwrap().waiting, 0);
        // Each local crossing is on the server once; the server has no other.
        let on_server = s
            .admin
            .count(&format!(
                "SELECT count(*) FROM crossings WHERE terminal_id = '{}'",
                b.id
            ))
            .unwrap();
        assert_eq!(on_server as usize, local.len(), "{}", b.id);
        let max = s
            .admin
            .count(&format!(
                "SELECT coalesce(max(local_seq), 0) FROM crossings WHERE terminal_id = '{}'",
                b.id
            ))
            .unwrap();
        assert_eq!(max, local.last().map_or(0, |r| r.0), "{}", b.id);
        // Both chains verify.
        assert!(
            matches!(audit::verify(&store).unwrap(), Verification::Intact { .. }),
            "{}: local chain",
            b.id
        );
        let rows = s.admin.audit_mirror(&b.id).unwrap();
        let (n, head) = evisa_fleet::sync::verify_mirror(&rows).unwrap();
        let local_head = store.audit_head().unwrap();
        assert_eq!(n as i64, local_head.seq, "{}: mirror complete", b.id);
        assert_eq!(head, local_head.hash, "{}: mirror head", b.id);
    }
}
