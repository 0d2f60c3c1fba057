//! Decode benchmark over corpus-style folders:
//! `cargo run --release --example decode_bench -- [--plain] [--missed] DIR…`
//! (`--plain` = plain rqrr baseline; `--missed` lists unread images;
//! `--budget MS` = per-frame time budget, default none;
//! `--sim DIR N SEED` first writes N simulator frames per category of the stand-in page).

use evisa_scan::bench::{BenchDecoder, bench_dirs_with};
use evisa_scan::{DecodeOptions, simulate, standin_page, standin_payload};
use std::path::PathBuf;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let plain = take_flag(&mut args, "--plain");
    let missed = take_flag(&mut args, "--missed");
    let mut budget = None;
    if let Some(i) = args.iter().position(|a| a == "--budget") {
        let ms: u64 = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .expect("--budget MS");
        budget = Some(std::time::Duration::from_millis(ms));
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
    let dec = if plain {
        BenchDecoder::PlainRqrr
    } else {
        BenchDecoder::Pipeline(DecodeOptions {
            budget,
            ..Default::default()
        })
    };
    let r = bench_dirs_with(&dirs, dec);
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
