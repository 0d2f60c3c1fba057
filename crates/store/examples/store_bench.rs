//! Store benchmark: prints the figures quoted in the notes.
//!
//!     cargo run --release --example store_bench [-- --rows 1000000 --appends 300]
//!
//! 1. verdict + audit append per second, `synchronous=FULL` (each one a durable
//!    commit), through `Terminal` exactly as `evisa verify --record` and the kiosk do;
//!    and accepted crossings (movement + audit row) per second;
//! 2. start-up with a 1,000,000-row audit log: `Store::open` plus `audit::check_head`;
//! 3. a full `audit::verify` of that log.
//!
//! The large database is built once (bulk insert, one transaction) and kept in
//! `target/store_bench-<rows>.db`; delete it to rebuild. Timings are with a warm page
//! cache (the file was just written or read); no timings are asserted anywhere.
//!
//! Measured 2026-11-25 on the 2-core build machine (ext4 on a virtual disk, other
//! builds running), five runs: verdict + audit append 133–273/s (3.7–7.5 ms per
//! durable commit, fsync-bound); crossing 205–310/s; start-up with 1,000,000 rows
//! (273 MB) 0.1–1.0 ms for open + head check; full verify 1.8–3.7 s
//! (`evisa audit verify` on the same file, release: 2.2 s wall).

use std::path::{Path, PathBuf};
use std::time::Instant;

use evisa_core::rules::{Direction, Verdict};
use evisa_store::audit::{self, Verification};
use evisa_store::store::{Store, audit_hash};
use evisa_store::terminal::{self, Terminal};
use rusqlite::params;
use time::macros::date;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let rows = arg("--rows", 1_000_000) as i64;
    let appends = arg("--appends", 300);
    // The repository root, two folders above this crate.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tmp = tempfile::tempdir_in(root.join("target"))?;

    // 1. Verdicts with their audit rows, durable one by one.
    let db = tmp.path().join("appends.db");
    let fx = root.join("fixtures/cases/accept_tourist");
    let qr = std::fs::read_to_string(fx.join("qr.txt"))?;
    let mrz = std::fs::read_to_string(fx.join("mrz.txt"))?;
    let mut term = Terminal::open(&root.join("keys"), Some(&db))?;
    let at = terminal::checkpoint(date!(2026 - 11 - 25), "NQZ", Direction::Entry);
    let t = Instant::now();
    for _ in 0..appends {
        let d = term.verify(&qr, &mrz, &at)?;
        term.audit_verdict(&d, &at, Some("officer-1"), Some("NQZ-01"))?;
    }
    let per_s = appends as f64 / t.elapsed().as_secs_f64();
    println!(
        "verdict + audit append (synchronous=FULL): {per_s:.0}/s ({:.2} ms each, {appends} commits)",
        1000.0 / per_s
    );
    // Crossings: each a fresh visa number would need fresh QR codes; reuse the store's
    // own path with the decision's visa number rewritten instead.
    let mut d = term.verify(&qr, &mrz, &at)?;
    assert_eq!(d.verdict, Verdict::Accept);
    let t = Instant::now();
    for i in 0..appends {
        if let Some(v) = d.visa.as_mut() {
            v.number = format!("EVBENCH{i}");
        }
        term.record(&d, &at, Some("officer-1"), Some("NQZ-01"), None)?;
    }
    let per_s = appends as f64 / t.elapsed().as_secs_f64();
    println!(
        "crossing (movement + audit row, one transaction, FULL): {per_s:.0}/s ({:.2} ms each)",
        1000.0 / per_s
    );
    drop(term);

    // 2. and 3. A long log.
    let big = root.join(format!("target/store_bench-{rows}.db"));
    ensure_big(&big, rows)?;
    let size = std::fs::metadata(&big)?.len();
    let t = Instant::now();
    let store = Store::open(&big)?;
    let opened = t.elapsed();
    let head = audit::check_head(&store)?;
    let checked = t.elapsed();
    let Verification::Intact { rows: n, .. } = head else {
        anyhow::bail!("head check failed: {head:?}");
    };
    println!(
        "start-up with {n} audit rows ({} MB): open {:.1} ms, open + head check {:.1} ms",
        size / 1_000_000,
        opened.as_secs_f64() * 1000.0,
        checked.as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let v = audit::verify(&store)?;
    let el = t.elapsed();
    let Verification::Intact { rows: n, .. } = v else {
        anyhow::bail!("verify failed: {v:?}");
    };
    println!(
        "full audit verify of {n} rows: {:.2} s ({:.0} rows/s)",
        el.as_secs_f64(),
        n as f64 / el.as_secs_f64()
    );
    Ok(())
}

/// Builds (once) a database with `rows` audit rows shaped like real verdicts.
fn ensure_big(path: &Path, rows: i64) -> anyhow::Result<()> {
    if path.exists() {
        let s = Store::open(path)?;
        if s.audit_head()?.seq == rows {
            return Ok(());
        }
        drop(s);
        std::fs::remove_file(path)?;
    }
    eprintln!("building {} (once)...", path.display());
    let t = Instant::now();
    let mut s = Store::open(path)?;
    let conn = s.connection();
    conn.pragma_update(None, "synchronous", "OFF")?;
    let tx = conn.transaction()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO audit (seq, at, kind, officer, terminal, details, prev_hash, hash)
             VALUES (?1, ?2, 'verdict', 'officer-1', 'NQZ-01', ?3, ?4, ?5)",
        )?;
        let mut prev = vec![0u8; 32];
        for seq in 1..=rows {
            let at = format!(
                "2026-{:02}-{:02}T{:02}:{:02}:00+05:00",
                1 + (seq / 100_000) % 12,
                1 + (seq / 4000) % 28,
                (seq / 60) % 24,
                seq % 60
            );
            let details = serde_json::json!({
                "verdict": if seq % 7 == 0 { "REJECT" } else { "ACCEPT" },
                "codes": if seq % 7 == 0 { vec!["VISA_EXPIRED"] } else { vec![] },
                "visa": format!("EV26KZ{seq:07}"),
                "document": format!("UTO L{seq:08}"),
                "checkpoint": "NQZ",
                "date": "2026-11-25",
                "direction": "entry",
            })
            .to_string();
            let h = audit_hash(
                &prev,
                seq,
                &at,
                "verdict",
                Some("officer-1"),
                Some("NQZ-01"),
                &details,
            );
            ins.execute(params![seq, at, details, prev, h.as_slice()])?;
            prev = h.to_vec();
        }
    }
    tx.commit()?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    eprintln!("built in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}
