//! Camera source: a capture thread pulls frames from a [`FrameSource`] into a
//! single-slot mailbox (the newest frame wins, never a growing queue) and a
//! decode thread runs `decode_frame` on whatever is newest, reporting a code
//! once while it stays in view ([`Deduper`]). A device error reports
//! `Disconnected`, then reconnection is retried every 2 s. [`ReplaySource`]
//! plays files or in-memory frames so the whole path runs in tests without a
//! camera; `NokhwaSource` (feature `camera`) is the V4L2 webcam.

use super::decode::{DecodeOptions, decode_frame};
use super::serial::CancelToken;
use super::{ScanEvent, SourceStatus};
use image::GrayImage;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::mpsc::Sender;

/// Why a frame source failed.
#[derive(Debug, thiserror::Error)]
pub enum FrameSourceError {
    /// The device failed or vanished (the camera loop will reconnect).
    #[error("camera device error: {0}")]
    Device(String),
    /// A replay file could not be read.
    #[error("cannot read frame {path}: {source}")]
    File {
        path: PathBuf,
        source: image::ImageError,
    },
}

/// Anything that yields grey frames.
pub trait FrameSource: Send {
    /// The next frame; `Ok(None)` when the stream has ended (replay only).
    fn next_frame(&mut self) -> Result<Option<GrayImage>, FrameSourceError>;
    /// Try to reopen the device after an error.
    fn reconnect(&mut self) -> Result<(), FrameSourceError> {
        Ok(())
    }
}

enum Frame {
    Mem(GrayImage),
    File(PathBuf),
    Blank,
}

/// Replays frames from memory or from image files, each repeated `repeat`
/// times and followed by `blank` empty frames (to model a code leaving view).
pub struct ReplaySource {
    frames: Vec<Frame>,
    pos: usize,
    pace: Option<Duration>,
    blank_size: (u32, u32),
}

impl ReplaySource {
    pub fn from_images(images: Vec<GrayImage>) -> Self {
        let blank_size = images
            .first()
            .map(|i| i.dimensions())
            .unwrap_or((1280, 720));
        ReplaySource {
            frames: images.into_iter().map(Frame::Mem).collect(),
            pos: 0,
            pace: None,
            blank_size,
        }
    }

    /// All `.png`/`.jpg`/`.jpeg`/`.webp` files under `dir`, recursively, sorted
    /// by path; loaded lazily.
    pub fn from_dir(dir: &Path) -> std::io::Result<Self> {
        let mut files = Vec::new();
        walk(dir, &mut files)?;
        files.sort();
        Ok(ReplaySource {
            frames: files.into_iter().map(Frame::File).collect(),
            pos: 0,
            pace: None,
            blank_size: (1280, 720),
        })
    }

    /// Show every frame `n` times and put `blank` white frames after each.
    pub fn repeat(mut self, n: usize, blank: usize) -> Self {
        let mut out = Vec::new();
        for f in self.frames.drain(..) {
            for _ in 1..n.max(1) {
                out.push(match &f {
                    Frame::Mem(i) => Frame::Mem(i.clone()),
                    Frame::File(p) => Frame::File(p.clone()),
                    Frame::Blank => Frame::Blank,
                });
            }
            out.push(f);
            out.extend((0..blank).map(|_| Frame::Blank));
        }
        self.frames = out;
        self
    }

    /// Sleep this long before each frame (a camera's frame interval).
    pub fn pace(mut self, d: Duration) -> Self {
        self.pace = Some(d);
        self
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if matches!(
            p.extension()
                .and_then(|e| e.to_str())
                .map(|e| e.to_ascii_lowercase())
                .as_deref(),
            Some("png" | "jpg" | "jpeg" | "webp")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

impl FrameSource for ReplaySource {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, FrameSourceError> {
        if let Some(d) = self.pace {
            std::thread::sleep(d);
        }
        let Some(f) = self.frames.get(self.pos) else {
            return Ok(None);
        };
        self.pos += 1;
        Ok(Some(match f {
            Frame::Mem(i) => i.clone(),
            Frame::File(p) => {
                let img = image::open(p).map_err(|source| FrameSourceError::File {
                    path: p.clone(),
                    source,
                })?;
                let g = crate::to_grey(&img);
                self.blank_size = g.dimensions();
                g
            }
            Frame::Blank => {
                GrayImage::from_pixel(self.blank_size.0, self.blank_size.1, image::Luma([235]))
            }
        }))
    }
}

/// Reports a code once while it stays in view: again only after it has been
/// missing from `forget_after` consecutive decoded frames. Pure.
#[derive(Debug, Clone)]
pub struct Deduper {
    last: Option<String>,
    absent: u32,
    forget_after: u32,
}

impl Deduper {
    pub fn new(forget_after: u32) -> Self {
        Deduper {
            last: None,
            absent: 0,
            forget_after: forget_after.max(1),
        }
    }

    /// Feed one frame's result; `true` = report this text now.
    pub fn observe(&mut self, text: Option<&str>) -> bool {
        match text {
            Some(t) => {
                self.absent = 0;
                if self.last.as_deref() == Some(t) {
                    false
                } else {
                    self.last = Some(t.to_string());
                    true
                }
            }
            None => {
                if self.last.is_some() {
                    self.absent += 1;
                    if self.absent >= self.forget_after {
                        self.last = None;
                        self.absent = 0;
                    }
                }
                false
            }
        }
    }
}

/// Camera loop settings.
#[derive(Debug, Clone)]
pub struct CameraOptions {
    /// Source name put in events.
    pub name: String,
    pub decode: DecodeOptions,
    /// Frames a code must be absent before it is reported again (default 15,
    /// about half a second at 30 fps).
    pub forget_after: u32,
    /// Pause between reconnection attempts (default 2 s).
    pub retry: Duration,
    /// Tests only: the capture thread waits for the decoder instead of
    /// replacing an undecoded frame, so no frame is skipped.
    pub lossless: bool,
}

impl Default for CameraOptions {
    fn default() -> Self {
        CameraOptions {
            name: "camera".into(),
            decode: DecodeOptions::default(),
            forget_after: 15,
            retry: Duration::from_secs(2),
            lossless: false,
        }
    }
}

#[derive(Default)]
struct Slot {
    frame: Option<GrayImage>,
    closed: bool,
}

#[derive(Default)]
struct Mailbox {
    slot: Mutex<Slot>,
    cv: Condvar,
}

impl Mailbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Put the newest frame (replacing an undecoded one unless `wait`).
    fn put(&self, f: GrayImage, wait: bool, cancel: &CancelToken) {
        let mut s = self.lock();
        while wait && s.frame.is_some() && !cancel.is_cancelled() {
            s = self
                .cv
                .wait_timeout(s, Duration::from_millis(50))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        s.frame = Some(f);
        self.cv.notify_all();
    }
    fn close(&self) {
        self.lock().closed = true;
        self.cv.notify_all();
    }
    /// The newest frame, `None` once closed and drained (or cancelled).
    fn take(&self, cancel: &CancelToken) -> Option<GrayImage> {
        let mut s = self.lock();
        loop {
            if let Some(f) = s.frame.take() {
                self.cv.notify_all();
                return Some(f);
            }
            if s.closed || cancel.is_cancelled() {
                return None;
            }
            s = self
                .cv
                .wait_timeout(s, Duration::from_millis(50))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// The two threads of a running camera source.
pub struct CameraHandle {
    capture: JoinHandle<()>,
    decode: JoinHandle<()>,
}

impl CameraHandle {
    /// Wait for both threads (after cancelling, or when a replay has ended).
    pub fn join(self) {
        let _ = self.capture.join();
        let _ = self.decode.join();
    }
}

/// Start a camera source: capture and decode threads sending to `tx`.
pub fn spawn_camera(
    mut source: Box<dyn FrameSource>,
    opts: CameraOptions,
    tx: Sender<ScanEvent>,
    cancel: CancelToken,
) -> CameraHandle {
    let mb = Arc::new(Mailbox::default());
    let (mb2, tx2, cancel2, opts2) = (mb.clone(), tx.clone(), cancel.clone(), opts.clone());
    let capture = std::thread::Builder::new()
        .name(format!("scan-capture-{}", opts.name))
        .spawn(move || {
            capture_loop(&mut *source, &opts2, &tx2, &cancel2, &mb2);
            mb2.close();
        })
        .expect("spawn capture thread");
    let decode = std::thread::Builder::new()
        .name(format!("scan-decode-{}", opts.name))
        .spawn(move || decode_loop(&opts, &tx, &cancel, &mb))
        .expect("spawn decode thread");
    CameraHandle { capture, decode }
}

fn status(name: &str, status: SourceStatus, detail: Option<String>) -> ScanEvent {
    ScanEvent::Status {
        source: name.to_string(),
        status,
        detail,
    }
}

fn capture_loop(
    source: &mut dyn FrameSource,
    opts: &CameraOptions,
    tx: &Sender<ScanEvent>,
    cancel: &CancelToken,
    mb: &Mailbox,
) {
    let alive = || !cancel.is_cancelled() && !tx.is_closed();
    if tx
        .blocking_send(status(&opts.name, SourceStatus::Connected, None))
        .is_err()
    {
        return;
    }
    while alive() {
        match source.next_frame() {
            Ok(Some(f)) => mb.put(f, opts.lossless, cancel),
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(source = opts.name, error = %e, "camera lost");
                if tx
                    .blocking_send(status(
                        &opts.name,
                        SourceStatus::Disconnected,
                        Some(e.to_string()),
                    ))
                    .is_err()
                    || tx
                        .blocking_send(status(&opts.name, SourceStatus::Reconnecting, None))
                        .is_err()
                {
                    return;
                }
                loop {
                    let until = std::time::Instant::now() + opts.retry;
                    while std::time::Instant::now() < until {
                        if !alive() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    if source.reconnect().is_ok() {
                        if tx
                            .blocking_send(status(&opts.name, SourceStatus::Connected, None))
                            .is_err()
                        {
                            return;
                        }
                        break;
                    }
                }
            }
        }
    }
}

fn decode_loop(opts: &CameraOptions, tx: &Sender<ScanEvent>, cancel: &CancelToken, mb: &Mailbox) {
    let mut dedupe = Deduper::new(opts.forget_after);
    while let Some(frame) = mb.take(cancel) {
        let d = decode_frame(&frame, &opts.decode);
        let text = d.map(|d| d.text);
        if dedupe.observe(text.as_deref())
            && let Some(text) = text
            && tx
                .blocking_send(ScanEvent::Code {
                    source: opts.name.clone(),
                    text,
                })
                .is_err()
        {
            return;
        }
    }
}

/// A V4L2 webcam through nokhwa, 1280×720 or the nearest it offers.
/// `nokhwa::Camera` is not `Send`, so it lives on its own thread and hands
/// frames over a one-slot channel.
#[cfg(feature = "camera")]
pub struct NokhwaSource {
    index: u32,
    rx: std::sync::mpsc::Receiver<Result<GrayImage, String>>,
}

#[cfg(feature = "camera")]
impl NokhwaSource {
    /// Open camera `index` (0 = `/dev/video0`).
    pub fn open(index: u32) -> Result<Self, FrameSourceError> {
        Ok(NokhwaSource {
            index,
            rx: Self::start(index)?,
        })
    }

    fn start(
        index: u32,
    ) -> Result<std::sync::mpsc::Receiver<Result<GrayImage, String>>, FrameSourceError> {
        use nokhwa::pixel_format::LumaFormat;
        use nokhwa::utils::{CameraIndex, RequestedFormat, RequestedFormatType, Resolution};
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name(format!("scan-nokhwa-{index}"))
            .spawn(move || {
                let want = RequestedFormat::new::<LumaFormat>(
                    RequestedFormatType::HighestResolution(Resolution::new(1280, 720)),
                );
                let opened =
                    nokhwa::Camera::new(CameraIndex::Index(index), want).and_then(|mut c| {
                        c.open_stream()?;
                        Ok(c)
                    });
                let mut cam = match opened {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                loop {
                    let frame = cam
                        .frame()
                        .and_then(|b| b.decode_image::<LumaFormat>())
                        .map_err(|e| e.to_string())
                        .and_then(|img| {
                            let (w, h) = (img.width(), img.height());
                            GrayImage::from_raw(w, h, img.into_raw())
                                .ok_or_else(|| "frame size mismatch".to_string())
                        });
                    let failed = frame.is_err();
                    if tx.send(frame).is_err() || failed {
                        return;
                    }
                }
            })
            .map_err(|e| FrameSourceError::Device(e.to_string()))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(rx),
            Ok(Err(e)) => Err(FrameSourceError::Device(e)),
            Err(_) => Err(FrameSourceError::Device("camera thread ended".into())),
        }
    }
}

#[cfg(feature = "camera")]
impl FrameSource for NokhwaSource {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, FrameSourceError> {
        match self.rx.recv() {
            Ok(Ok(f)) => Ok(Some(f)),
            Ok(Err(e)) => Err(FrameSourceError::Device(e)),
            Err(_) => Err(FrameSourceError::Device("camera thread ended".into())),
        }
    }

    fn reconnect(&mut self) -> Result<(), FrameSourceError> {
        self.rx = Self::start(self.index)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deduper_reports_once_until_absent() {
        let mut d = Deduper::new(3);
        assert!(d.observe(Some("A")));
        assert!(!d.observe(Some("A")));
        assert!(!d.observe(None));
        assert!(!d.observe(Some("A")));
        assert!(d.observe(Some("B")));
        for _ in 0..3 {
            assert!(!d.observe(None));
        }
        assert!(d.observe(Some("B")));
    }
}
