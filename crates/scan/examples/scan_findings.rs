//! Checks the RQRR-FINDINGS claims on a corpus-style folder:
//! `cargo run --release --example scan_findings -- DIR…`
//! For every image: does plain rqrr group any grid, does a grid decode (and
//! with which error), the same on our local-mean bitmap through
//! `prepare_from_bitmap`, the time of each, and whether our own pipeline reads.

use evisa_scan::{DecodeOptions, decode_frame};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn walk(d: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(d) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("png" | "jpg" | "webp")
        ) {
            out.push(p);
        }
    }
}

fn classify(grids: usize, res: Option<Result<String, String>>, expected: &str) -> String {
    match (grids, res) {
        (0, _) => "no grid grouped".into(),
        (_, Some(Ok(t))) if t.trim_end_matches(['\r', '\n']) == expected => "read".into(),
        (_, Some(Ok(_))) => "wrong text".into(),
        (_, Some(Err(e))) => format!("grid, decode error {e}"),
        (_, None) => "grid, nothing".into(),
    }
}

fn main() {
    let mut files = Vec::new();
    for d in std::env::args().skip(1) {
        walk(Path::new(&d), &mut files);
    }
    files.sort();
    let mut plain: BTreeMap<String, usize> = BTreeMap::new();
    let mut bitmap: BTreeMap<String, usize> = BTreeMap::new();
    let (mut t_plain, mut t_bitmap, mut own_read, mut n) = (0f64, 0f64, 0, 0);
    for p in &files {
        let Ok(exp) = std::fs::read_to_string(p.with_extension("txt")) else {
            continue;
        };
        let exp = exp.trim_end_matches(['\r', '\n']).to_string();
        let g = evisa_scan::to_grey(&image::open(p).expect("image"));
        n += 1;
        let t0 = Instant::now();
        let r = std::panic::catch_unwind(|| {
            grids_outcome(&rqrr::PreparedImage::prepare(g.clone()).detect_grids())
        });
        t_plain += t0.elapsed().as_secs_f64() * 1000.0;
        let c = match r {
            Ok((k, res)) => classify(k, res, &exp),
            Err(_) => "panicked".into(),
        };
        *plain.entry(c).or_default() += 1;

        let bm = evisa_scan::debug_bitmap(&g);
        let t0 = Instant::now();
        let r = std::panic::catch_unwind(|| {
            grids_outcome(
                &rqrr::PreparedImage::prepare_from_bitmap(
                    bm.width() as usize,
                    bm.height() as usize,
                    |x, y| bm.get_pixel(x as u32, y as u32)[0] == 0,
                )
                .detect_grids(),
            )
        });
        t_bitmap += t0.elapsed().as_secs_f64() * 1000.0;
        let c = match r {
            Ok((k, res)) => classify(k, res, &exp),
            Err(_) => "panicked".into(),
        };
        *bitmap.entry(c).or_default() += 1;

        let o = DecodeOptions {
            budget: None,
            ..Default::default()
        };
        if decode_frame(&g, &o).is_some_and(|d| d.text.trim_end_matches(['\r', '\n']) == exp) {
            own_read += 1;
        }
    }
    println!("{n} images");
    println!(
        "plain rqrr (prepare + detect_grids), mean {:.1} ms:",
        t_plain / n.max(1) as f64
    );
    for (k, v) in &plain {
        println!("  {v:4}  {k}");
    }
    println!(
        "rqrr on our local-mean bitmap (prepare_from_bitmap; binarisation not timed), mean {:.1} ms:",
        t_bitmap / n.max(1) as f64
    );
    for (k, v) in &bitmap {
        println!("  {v:4}  {k}");
    }
    println!("own pipeline: {own_read} read");
}

/// How many grids rqrr grouped, and the first text it decoded (else the first grid's
/// decode error).
fn grids_outcome<G: rqrr::BitGrid>(
    grids: &[rqrr::Grid<G>],
) -> (usize, Option<Result<String, String>>) {
    let res = grids
        .first()
        .map(|g| g.decode().map(|(_, s)| s).map_err(|e| format!("{e:?}")));
    let ok = grids.iter().find_map(|g| g.decode().ok().map(|(_, s)| s));
    (grids.len(), ok.map(Ok).or(res))
}
