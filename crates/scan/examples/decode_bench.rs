//! Decode benchmark over corpus-style folders:
//! `cargo run --release --example decode_bench -- [--plain] [--missed] DIR…`
//! (`--plain` = plain rqrr baseline; `--missed` lists unread images;
//! `--budget MS` = per-frame time budget, default none;
//! `--repeat N` decodes each image N times and keeps its fastest time;
//! `--sim DIR N SEED` first writes N simulator frames per category of the stand-in page;
//! `--cross-check` runs the project's grid decoder and rqrr's on every matrix the
//! pipeline samples and prints how often they agree; any disagreement is an error;
//! `--attempts` prints, per pipeline attempt, how often it ran, its total and p95
//! wall time and how many images it read, and the slowest images;
//! `--matrix` runs every attempt on every image and prints one line per
//! attempt and image, see `bench::attempt_matrix`).

use evisa_scan::bench::{BenchDecoder, bench_dirs_repeat};
use evisa_scan::{DecodeOptions, simulate, standin_page, standin_payload};
use std::path::PathBuf;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let plain = take_flag(&mut args, "--plain");
    let missed = take_flag(&mut args, "--missed");
    let cross = take_flag(&mut args, "--cross-check");
    let attempts = take_flag(&mut args, "--attempts");
    let matrix = take_flag(&mut args, "--matrix");
    let mut budget = None;
    if let Some(i) = args.iter().position(|a| a == "--budget") {
        let ms: u64 = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .expect("--budget MS");
        budget = Some(std::time::Duration::from_millis(ms));
        args.drain(i..i + 2);
    }
    let mut repeat = 1;
    if let Some(i) = args.iter().position(|a| a == "--repeat") {
        repeat = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .expect("--repeat N");
        args.drain(i..i + 2);
    }
    if args.first().map(String::as_str) == Some("--sim") {
        let dir = PathBuf::from(&args[1]);
        let n: usize = args[2].parse().expect("N");
        let seed: u64 = args[3].parse().expect("SEED");
        let payload = standin_payload(seed);
        let page = standin_page(&payload);
        let w = simulate(&page, &payload, &dir, n, seed).expect("simulate");
        println!("wrote {} frames under {}", w.len(), dir.display());
        return;
    }
    let dirs: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
    if cross {
        cross_check_dirs(&dirs);
        return;
    }
    if matrix {
        evisa_scan::bench::attempt_matrix(&dirs, repeat, |l| println!("{l}"));
        return;
    }
    if attempts {
        attempt_breakdown(&dirs);
        return;
    }
    let dec = if plain {
        BenchDecoder::PlainRqrr
    } else {
        BenchDecoder::Pipeline(DecodeOptions {
            budget,
            ..Default::default()
        })
    };
    let r = bench_dirs_repeat(&dirs, dec, repeat);
    print!("{r}");
    if missed {
        for row in &r.rows {
            for m in &row.missed {
                println!("missed {}/{}", row.dir.display(), m);
            }
        }
    }
}

fn take_flag(args: &mut Vec<String>, f: &str) -> bool {
    let n = args.len();
    args.retain(|a| a != f);
    args.len() != n
}

fn cross_check_dirs(dirs: &[PathBuf]) {
    let opts = DecodeOptions {
        budget: None,
        ..Default::default()
    };
    let mut files = Vec::new();
    for d in dirs {
        evisa_scan::bench::images_under(d, &mut files);
    }
    let mut total = evisa_scan::CrossCheck::default();
    for f in &files {
        let Ok(img) = image::open(f) else {
            continue;
        };
        let c = evisa_scan::cross_check(&evisa_scan::to_grey(&img), &opts);
        for t in &c.ours_only_texts {
            println!("OURS-ONLY {}: {t:?}", f.display());
        }
        for (a, b) in &c.disagreements {
            println!("DISAGREE {}: ours {a:?} rqrr {b:?}", f.display());
        }
        total.grids += c.grids;
        total.both += c.both;
        total.ours_only += c.ours_only;
        total.rqrr_only += c.rqrr_only;
        total.disagreements.extend(c.disagreements);
    }
    println!(
        "{} images, {} grids: both {} (equal), ours only {}, rqrr only {}, disagreements {}",
        files.len(),
        total.grids,
        total.both,
        total.ours_only,
        total.rqrr_only,
        total.disagreements.len()
    );
    if !total.disagreements.is_empty() {
        std::process::exit(1);
    }
}

fn attempt_breakdown(dirs: &[PathBuf]) {
    use std::collections::BTreeMap;
    let opts = DecodeOptions {
        budget: None,
        ..Default::default()
    };
    let mut files = Vec::new();
    for d in dirs {
        evisa_scan::bench::images_under(d, &mut files);
    }
    // attempt -> (times ran, durations ms, reads)
    let mut per: BTreeMap<&str, (usize, Vec<f64>, usize)> = BTreeMap::new();
    let mut slow: Vec<(f64, String, String, &str)> = Vec::new();
    for f in &files {
        let Ok(img) = image::open(f) else {
            continue;
        };
        let (trace, d) = evisa_scan::trace_attempts(&evisa_scan::to_grey(&img), &opts);
        let mut total = 0.0;
        for (name, t) in &trace {
            let ms = t.as_secs_f64() * 1e3;
            total += ms;
            let e = per.entry(name).or_default();
            e.0 += 1;
            e.1.push(ms);
        }
        if let Some(d) = &d {
            per.entry(d.attempt).or_default().2 += 1;
        }
        slow.push((
            total,
            f.display().to_string(),
            trace
                .iter()
                .map(|(n, t)| format!("{n} {:.1}", t.as_secs_f64() * 1e3))
                .collect::<Vec<_>>()
                .join(", "),
            d.as_ref().map_or("unread", |d| d.attempt),
        ));
    }
    println!(
        "{:<14} {:>6} {:>10} {:>8} {:>6}",
        "attempt", "ran", "total ms", "p95 ms", "reads"
    );
    for (name, (n, mut t, reads)) in per {
        t.sort_by(f64::total_cmp);
        let p95 = t
            .get((t.len().saturating_sub(1)) * 95 / 100)
            .copied()
            .unwrap_or(0.0);
        println!(
            "{name:<14} {n:>6} {:>10.1} {p95:>8.1} {reads:>6}",
            t.iter().sum::<f64>()
        );
    }
    slow.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, f, trace, by) in slow.iter().take(20) {
        println!("slow {ms:>8.1} ms  {by:<14} {f}\n      {trace}");
    }
}
