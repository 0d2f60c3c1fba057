//! Decode benchmark over folders in the `qr-corpus` layout: per folder (and
//! recursively per sub-folder), images read / total — read meaning the decoded
//! text equals `NAME.txt` beside the image, or any line of `NAME.all.txt` when
//! the image holds several codes, trailing CR/LF trimmed — and the median and
//! p95 decode time in-process (image loading excluded), one thread.

use super::decode::{DecodeOptions, decode_frame};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Which decoder the benchmark runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchDecoder {
    /// The full `decode_frame` pipeline.
    Pipeline(DecodeOptions),
    /// Plain rqrr: `PreparedImage::prepare` + `detect_grids` + `decode` (baseline).
    PlainRqrr,
}

/// Figures for one folder.
#[derive(Debug, Clone, Default)]
pub struct BenchRow {
    pub dir: PathBuf,
    pub read: usize,
    pub total: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
    /// Median on-CPU time of the decoding thread (Linux schedstat), which a
    /// loaded machine does not inflate; 0 when unavailable.
    pub cpu_median_ms: f64,
    /// 95th percentile of the same on-CPU time.
    pub cpu_p95_ms: f64,
    /// The same counts restricted to images whose expected text is ASCII.
    pub ascii_read: usize,
    pub ascii_total: usize,
    /// Images not read (file names), for inspection.
    pub missed: Vec<String>,
    /// Which attempt read how many images.
    pub attempts: BTreeMap<&'static str, usize>,
}

/// The whole report; `Display` prints the table.
#[derive(Debug, Clone, Default)]
pub struct BenchReport {
    pub rows: Vec<BenchRow>,
    /// Sum over all rows.
    pub total: BenchRow,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// An image file the benchmarks read, by its extension.
pub fn is_image(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("png" | "jpg" | "jpeg" | "webp")
    )
}

/// One line of `NAME.all.txt` back to its text: `\\` is a backslash, `\n` a
/// newline, `\r` a carriage return (the qr-real README's escaping).
pub fn unescape_label(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut it = line.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// The labelled texts of an image: every line of `NAME.all.txt` when it
/// exists, else the text of `NAME.txt`.
pub fn labels(img: &Path) -> Option<Vec<String>> {
    let stem = img.file_stem()?.to_str()?;
    if let Ok(all) = std::fs::read_to_string(img.with_file_name(format!("{stem}.all.txt"))) {
        let v: Vec<String> = all
            .lines()
            .filter(|l| !l.is_empty())
            .map(unescape_label)
            .collect();
        if !v.is_empty() {
            return Some(v);
        }
    }
    let t = std::fs::read_to_string(img.with_extension("txt")).ok()?;
    let t = t.strip_suffix('\n').unwrap_or(&t);
    Some(vec![t.strip_suffix('\r').unwrap_or(t).to_string()])
}

type Groups = BTreeMap<PathBuf, Vec<(PathBuf, Vec<String>)>>;

fn collect(dir: &Path, out: &mut Groups) {
    let mut files = Vec::new();
    images_under(dir, &mut files);
    for p in files {
        if let (Some(parent), Some(t)) = (p.parent(), labels(&p)) {
            out.entry(parent.to_path_buf()).or_default().push((p, t));
        }
    }
}

/// Every image file under `dir`, depth first, each folder in name order.
pub fn images_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            images_under(&p, out);
        } else if is_image(&p) {
            out.push(p);
        }
    }
}

/// On-CPU nanoseconds of the calling thread (`CLOCK_THREAD_CPUTIME_ID`, the
/// clock Python's `time.thread_time` reads for the zxing-cpp figures;
/// `/proc/thread-self/schedstat` only advanced once per 4 ms tick here).
fn thread_cpu_ns() -> Option<u64> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    u64::try_from(t.tv_sec)
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(u64::try_from(t.tv_nsec).ok()?)
}

/// Plain rqrr, the baseline, panics caught.
pub fn plain_rqrr(img: &image::GrayImage) -> Option<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut p = rqrr::PreparedImage::prepare(img.clone());
        p.detect_grids()
            .iter()
            .find_map(|g| g.decode().ok().map(|(_, s)| s))
    }))
    .ok()
    .flatten()
}

/// A decoded text counts as read when it equals one of the image's labelled
/// texts, trailing line ends trimmed on both sides (some corpus texts end in
/// CRLF).
fn is_labelled(expected: &[String], text: &str) -> bool {
    let trim = |t: &str| t.trim_end_matches(['\r', '\n']).to_owned();
    expected.iter().any(|e| trim(e) == trim(text))
}

/// Every attempt on every labelled image under each of `dirs`, as
/// tab-separated lines `set, image, attempt, ms, read` (the attempt's fastest
/// wall time over `repeat` runs; read = 1 when it decoded a labelled text,
/// 2 when only another text, 0 when nothing): the table from which
/// `scripts/attempt-order.py` weighs orders of the attempts.
pub fn attempt_matrix(dirs: &[PathBuf], repeat: usize, mut line: impl FnMut(String)) {
    let opts = DecodeOptions {
        budget: None,
        ..Default::default()
    };
    for d in dirs {
        let mut files = Vec::new();
        images_under(d, &mut files);
        for f in files {
            let (Some(expected), Ok(img)) = (labels(&f), image::open(&f)) else {
                continue;
            };
            let g = crate::to_grey(&img);
            let mut best: Vec<(&str, f64, u8)> = Vec::new();
            for _ in 0..repeat.max(1) {
                let steps = crate::decode::trace_every_attempt(&g, &opts);
                if best.is_empty() {
                    best = steps
                        .iter()
                        .map(|(n, _, r)| {
                            let read = if r.iter().any(|d| is_labelled(&expected, &d.text)) {
                                1
                            } else if r.is_empty() {
                                0
                            } else {
                                2
                            };
                            (*n, f64::INFINITY, read)
                        })
                        .collect();
                }
                for (b, (_, t, _)) in best.iter_mut().zip(&steps) {
                    b.1 = b.1.min(t.as_secs_f64() * 1e3);
                }
            }
            for (n, ms, read) in best {
                line(format!(
                    "{}\t{}\t{n}\t{ms:.3}\t{read}",
                    d.display(),
                    f.display()
                ));
            }
        }
    }
}

/// Run the benchmark with the default pipeline (no time budget); the report's
/// `Display` is the table.
pub fn bench_dirs(dirs: &[PathBuf]) -> BenchReport {
    bench_dirs_with(
        dirs,
        BenchDecoder::Pipeline(DecodeOptions {
            budget: None,
            ..Default::default()
        }),
    )
}

/// Run the benchmark with a chosen decoder; prints nothing.
pub fn bench_dirs_with(dirs: &[PathBuf], decoder: BenchDecoder) -> BenchReport {
    bench_dirs_repeat(dirs, decoder, 1)
}

/// [`bench_dirs_with`], decoding every image `repeat` times and keeping its
/// fastest run: on a shared VM one run's time varies by a quarter, most of it
/// other tenants, and the minimum is the figure that repeats. The decoder is
/// deterministic, so the result is the same on every run.
pub fn bench_dirs_repeat(dirs: &[PathBuf], decoder: BenchDecoder, repeat: usize) -> BenchReport {
    let mut groups = BTreeMap::new();
    for d in dirs {
        collect(d, &mut groups);
    }
    let mut report = BenchReport::default();
    let mut all_times = Vec::new();
    let mut all_cpu = Vec::new();
    for (dir, items) in groups {
        let mut row = BenchRow {
            dir,
            ..Default::default()
        };
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        for (path, expected) in items {
            let Ok(img) = image::open(&path) else {
                row.total += 1;
                row.missed.push(format!("{} (unreadable)", path.display()));
                continue;
            };
            let g = crate::to_grey(&img);
            let mut best: Option<(f64, Option<f64>)> = None;
            let mut result = (None, "");
            for _ in 0..repeat.max(1) {
                let c0 = thread_cpu_ns();
                let t0 = Instant::now();
                result = match decoder {
                    BenchDecoder::Pipeline(o) => match decode_frame(&g, &o) {
                        Some(d) => (Some(d.text), d.attempt),
                        None => (None, ""),
                    },
                    BenchDecoder::PlainRqrr => (plain_rqrr(&g), "rqrr-plain"),
                };
                let wall = t0.elapsed().as_secs_f64() * 1000.0;
                let c = c0
                    .zip(thread_cpu_ns())
                    .map(|(a, b)| b.saturating_sub(a) as f64 / 1e6);
                best = Some(match best {
                    None => (wall, c),
                    Some((w, bc)) => (w.min(wall), bc.zip(c).map(|(x, y)| x.min(y))),
                });
            }
            let (text, attempt) = result;
            if let Some((wall, c)) = best {
                times.push(wall);
                if let Some(c) = c {
                    cpu.push(c);
                }
            }
            row.total += 1;
            let ascii = expected[0].is_ascii();
            row.ascii_total += usize::from(ascii);
            if text.as_deref().is_some_and(|t| is_labelled(&expected, t)) {
                row.read += 1;
                row.ascii_read += usize::from(ascii);
                *row.attempts.entry(attempt).or_default() += 1;
            } else {
                row.missed.push(
                    path.file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                );
            }
        }
        all_times.extend(times.iter().copied());
        all_cpu.extend(cpu.iter().copied());
        cpu.sort_by(f64::total_cmp);
        row.cpu_median_ms = percentile(&cpu, 0.5);
        row.cpu_p95_ms = percentile(&cpu, 0.95);
        times.sort_by(f64::total_cmp);
        row.median_ms = percentile(&times, 0.5);
        row.p95_ms = percentile(&times, 0.95);
        report.total.read += row.read;
        report.total.total += row.total;
        report.total.ascii_read += row.ascii_read;
        report.total.ascii_total += row.ascii_total;
        for (k, v) in &row.attempts {
            *report.total.attempts.entry(k).or_default() += v;
        }
        report.rows.push(row);
    }
    all_times.sort_by(f64::total_cmp);
    report.total.dir = PathBuf::from("TOTAL");
    report.total.median_ms = percentile(&all_times, 0.5);
    report.total.p95_ms = percentile(&all_times, 0.95);
    all_cpu.sort_by(f64::total_cmp);
    report.total.cpu_median_ms = percentile(&all_cpu, 0.5);
    report.total.cpu_p95_ms = percentile(&all_cpu, 0.95);
    report
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<60} {:>9} {:>10} {:>10} {:>8} {:>8} {:>8}",
            "folder", "read", "ascii", "median ms", "p95 ms", "cpu med", "cpu p95"
        )?;
        for r in self.rows.iter().chain(std::iter::once(&self.total)) {
            writeln!(
                f,
                "{:<60} {:>4}/{:<4} {:>4}/{:<5} {:>10.1} {:>8.1} {:>8.1} {:>8.1}",
                r.dir.display(),
                r.read,
                r.total,
                r.ascii_read,
                r.ascii_total,
                r.median_ms,
                r.p95_ms,
                r.cpu_median_ms,
                r.cpu_p95_ms
            )?;
        }
        let a: Vec<String> = self
            .total
            .attempts
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        writeln!(f, "reads by attempt: {}", a.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::unescape_label;

    #[test]
    fn all_txt_lines_unescape_backslash_newline_and_cr() {
        assert_eq!(unescape_label(r"a\\b\nc\rd"), "a\\b\nc\rd");
        assert_eq!(unescape_label("plain"), "plain");
        assert_eq!(unescape_label("end\\"), "end\\");
    }
}
