//! What the officer sees through the camera path: from the frame in which a code
//! enters the view to the `ScanEvent::Code`, through the real capture and decode
//! threads, the real one-slot mailbox (frames the decoder has no time for are
//! dropped) and the default per-frame budget, at a paced 30 fps. Also samples
//! the process's resident memory over the whole run (it must stay flat).
//! `cargo run --release -p evisa-scan --example camera_latency -- DIR [ROUNDS [STRIDE]]`
//! (DIR: simulator frames, e.g. from `decode_bench --sim DIR 12 1`; every
//! STRIDE-th frame is used, default 1; each appearance takes 2.3 s of replay).

use evisa_scan::{
    CameraOptions, CancelToken, FrameSource, FrameSourceError, ScanEvent, spawn_camera,
};
use image::{GrayImage, Luma};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Each round: 40 empty frames (more than the deduper's 15 decoded frames of
/// absence, even when the decoder skips frames), then one code frame held in
/// view for 30 frames.
struct Scripted {
    codes: Vec<GrayImage>,
    i: usize,
    /// When the current code first entered the view.
    entered: Arc<Mutex<Option<Instant>>>,
    next_due: Instant,
}

const BLANK: usize = 40;
const HOLD: usize = 30;
const FRAME: Duration = Duration::from_millis(33);

impl FrameSource for Scripted {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, FrameSourceError> {
        // a camera delivers on its own clock, whether or not anyone decodes
        let now = Instant::now();
        if self.next_due > now {
            std::thread::sleep(self.next_due - now);
        }
        self.next_due += FRAME;
        let round = self.i / (BLANK + HOLD);
        let k = self.i % (BLANK + HOLD);
        self.i += 1;
        let Some(code) = self.codes.get(round) else {
            return Ok(None);
        };
        if k < BLANK {
            return Ok(Some(GrayImage::from_pixel(
                code.width(),
                code.height(),
                Luma([235]),
            )));
        }
        if k == BLANK {
            *self.entered.lock().unwrap() = Some(Instant::now());
        }
        Ok(Some(code.clone()))
    }
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().expect("DIR of simulator frames"));
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let stride: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut files = Vec::new();
    for cat in std::fs::read_dir(&dir).expect("read DIR") {
        let cat = cat.expect("entry").path();
        if cat.is_dir() {
            for f in std::fs::read_dir(&cat).expect("read category") {
                let f = f.expect("entry").path();
                if f.extension().is_some_and(|e| e == "png") {
                    files.push(f);
                }
            }
        }
    }
    files.sort();
    let mut codes = Vec::new();
    for _ in 0..rounds {
        for f in files.iter().step_by(stride.max(1)) {
            codes.push(evisa_scan::to_grey(&image::open(f).expect("image")));
        }
    }
    let n = codes.len();
    let entered = Arc::new(Mutex::new(None));
    let src = Scripted {
        codes,
        i: 0,
        entered: entered.clone(),
        next_due: Instant::now(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let cancel = CancelToken::new();
    // Every simulator frame carries the same text: the deduper must forget it
    // during each empty stretch. An empty frame runs every attempt (up to the
    // budget), so fewer than the default 15 may be decoded in 40 frames' time.
    let opts = CameraOptions {
        forget_after: 4,
        ..Default::default()
    };
    let handle = spawn_camera(Box::new(src), opts, tx, cancel.clone());
    let mut lat = Vec::new();
    let mut rss = vec![(0usize, rss_kb())];
    let mut seen = 0usize;
    rt.block_on(async {
        while let Some(ev) = rx.recv().await {
            if let ScanEvent::Code { .. } = ev {
                if let Some(t) = entered.lock().unwrap().take() {
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                }
                seen += 1;
                if seen.is_multiple_of(25) {
                    rss.push((seen, rss_kb()));
                }
            }
        }
    });
    cancel.cancel();
    handle.join();
    rss.push((seen, rss_kb()));
    lat.sort_by(f64::total_cmp);
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{} of {n} code appearances reported; latency code-in-view -> event: median {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        lat.len(),
        p(0.5),
        p(0.95),
        p(1.0)
    );
    let line: Vec<String> = rss
        .iter()
        .map(|(k, v)| format!("{k}:{}MB", v / 1024))
        .collect();
    println!("resident memory after N events: {}", line.join(" "));
}
