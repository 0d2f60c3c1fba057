//! Serial sources: a barcode scanner (CR/LF/CRLF lines, AIM prefixes) and an
//! MRZ reader (plain lines or STX … ETX blocks), each on a dedicated thread
//! because serial I/O blocks. Both report live status and reconnect on their
//! own when the port disappears (USB unplug) and comes back. Framing and
//! classification are the pure structs of `framer` and `mrzlines`; this file
//! is only the I/O loop.

use super::framer::{LineFramer, MrzFrame, MrzFramer, strip_aim};
use super::mrzlines::{MrzAssembler, MrzOutcome};
use super::{ScanEvent, SourceStatus};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Sender;

/// Stops a source: shared flag, checked at least every ~100 ms.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Serial port settings (8N1 always).
#[derive(Debug, Clone)]
pub struct SerialConfig {
    /// Source name put in events (e.g. `"scanner"`).
    pub name: String,
    /// Device path, e.g. `/dev/ttyACM0` or a stable `/dev/serial/by-id/…` link.
    pub path: String,
    /// Baud rate, default 9600.
    pub baud: u32,
    /// Pause between reconnection attempts, default 2 s.
    pub retry: Duration,
    /// MRZ reader only: a partial document older than this is reported as
    /// `MrzIncomplete`, default 400 ms.
    pub line_timeout: Duration,
}

impl SerialConfig {
    pub fn new(name: impl Into<String>, path: impl Into<String>) -> Self {
        SerialConfig {
            name: name.into(),
            path: path.into(),
            baud: 9600,
            retry: Duration::from_secs(2),
            line_timeout: Duration::from_millis(400),
        }
    }
}

/// A dropped line leaves a trace: in the log and, through the event, on the screen.
/// The reason names the length only; the bytes themselves are never shown.
fn dropped(source: &str, e: &super::framer::FrameError) -> ScanEvent {
    tracing::warn!(source, error = %e, "serial line dropped");
    ScanEvent::Unreadable {
        source: source.to_string(),
        detail: e.to_string(),
    }
}

/// Per-protocol byte handling.
trait Protocol: Send + 'static {
    fn bytes(&mut self, source: &str, data: &[u8], now: Instant) -> Vec<ScanEvent>;
    fn idle(&mut self, source: &str, now: Instant) -> Vec<ScanEvent>;
    fn reset(&mut self);
}

struct Barcode(LineFramer);

impl Protocol for Barcode {
    fn bytes(&mut self, source: &str, data: &[u8], _now: Instant) -> Vec<ScanEvent> {
        let mut out = Vec::new();
        for r in self.0.push(data) {
            match r {
                Ok(line) => {
                    let text = strip_aim(&line).to_string();
                    if !text.is_empty() {
                        out.push(ScanEvent::Code {
                            source: source.to_string(),
                            text,
                        });
                    }
                }
                Err(e) => out.push(dropped(source, &e)),
            }
        }
        out
    }
    fn idle(&mut self, _: &str, _: Instant) -> Vec<ScanEvent> {
        Vec::new()
    }
    fn reset(&mut self) {
        self.0 = LineFramer::new();
    }
}

struct MrzReader {
    framer: MrzFramer,
    asm: MrzAssembler,
    last: Instant,
    timeout: Duration,
}

impl MrzReader {
    fn convert(source: &str, outs: Vec<MrzOutcome>) -> impl Iterator<Item = ScanEvent> + '_ {
        outs.into_iter().filter_map(move |o| match o {
            MrzOutcome::Mrz(text) => Some(ScanEvent::Mrz {
                source: source.to_string(),
                text,
            }),
            MrzOutcome::Incomplete => Some(ScanEvent::MrzIncomplete {
                source: source.to_string(),
            }),
            // some readers also read barcodes: pass them on as codes
            MrzOutcome::Other(line) => {
                let text = strip_aim(&line).to_string();
                (!text.is_empty()).then(|| ScanEvent::Code {
                    source: source.to_string(),
                    text,
                })
            }
        })
    }
}

impl Protocol for MrzReader {
    fn bytes(&mut self, source: &str, data: &[u8], now: Instant) -> Vec<ScanEvent> {
        let mut out = Vec::new();
        for f in self.framer.push(data) {
            let outs = match f {
                MrzFrame::Line(l) => self.asm.push_line(&l),
                MrzFrame::Block(b) => self.asm.push_block(&b),
                MrzFrame::Dropped(e) => {
                    out.push(dropped(source, &e));
                    continue;
                }
            };
            self.last = now;
            out.extend(Self::convert(source, outs));
        }
        out
    }
    fn idle(&mut self, source: &str, now: Instant) -> Vec<ScanEvent> {
        if self.asm.pending() > 0 && now.saturating_duration_since(self.last) >= self.timeout {
            return Self::convert(source, self.asm.flush().into_iter().collect()).collect();
        }
        Vec::new()
    }
    fn reset(&mut self) {
        self.framer = MrzFramer::new();
        self.asm = MrzAssembler::new();
    }
}

/// Start a serial barcode scanner source on its own thread.
pub fn spawn_barcode_scanner(
    cfg: SerialConfig,
    tx: Sender<ScanEvent>,
    cancel: CancelToken,
) -> JoinHandle<()> {
    spawn(cfg, tx, cancel, Barcode(LineFramer::new()))
}

/// Start a serial MRZ reader source on its own thread.
pub fn spawn_mrz_reader(
    cfg: SerialConfig,
    tx: Sender<ScanEvent>,
    cancel: CancelToken,
) -> JoinHandle<()> {
    let p = MrzReader {
        framer: MrzFramer::new(),
        asm: MrzAssembler::new(),
        last: Instant::now(),
        timeout: cfg.line_timeout,
    };
    spawn(cfg, tx, cancel, p)
}

fn spawn<P: Protocol>(
    cfg: SerialConfig,
    tx: Sender<ScanEvent>,
    cancel: CancelToken,
    proto: P,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(format!("scan-serial-{}", cfg.name))
        .spawn(move || run(cfg, tx, cancel, proto))
        .expect("spawn serial source thread")
}

fn status(cfg: &SerialConfig, status: SourceStatus, detail: Option<String>) -> ScanEvent {
    ScanEvent::Status {
        source: cfg.name.clone(),
        status,
        detail,
    }
}

fn run<P: Protocol>(cfg: SerialConfig, tx: Sender<ScanEvent>, cancel: CancelToken, mut proto: P) {
    let alive = |tx: &Sender<ScanEvent>| !cancel.is_cancelled() && !tx.is_closed();
    let send = |ev: ScanEvent| tx.blocking_send(ev).is_ok();
    // Whether the last reported state was "down" (so failures are not repeated).
    let mut reported_down = false;
    while alive(&tx) {
        let opened = serialport::new(&cfg.path, cfg.baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open();
        match opened {
            Ok(mut port) => {
                if !send(status(
                    &cfg,
                    SourceStatus::Connected,
                    Some(cfg.path.clone()),
                )) {
                    return;
                }
                proto.reset();
                let why = read_loop(&cfg, &mut *port, &mut proto, &tx, &cancel);
                drop(port);
                match why {
                    None => return,
                    Some(detail) => {
                        tracing::warn!(source = cfg.name, detail, "serial source lost");
                        if !send(status(&cfg, SourceStatus::Disconnected, Some(detail)))
                            || !send(status(&cfg, SourceStatus::Reconnecting, None))
                        {
                            return;
                        }
                        reported_down = true;
                    }
                }
            }
            Err(e) => {
                if !reported_down {
                    let detail = format!("cannot open {}: {e}", cfg.path);
                    if !send(status(&cfg, SourceStatus::Disconnected, Some(detail)))
                        || !send(status(&cfg, SourceStatus::Reconnecting, None))
                    {
                        return;
                    }
                    reported_down = true;
                }
            }
        }
        // wait before retrying, staying responsive to cancellation
        let until = Instant::now() + cfg.retry;
        while Instant::now() < until {
            if !alive(&tx) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Read until the port fails (returns why) or the source is stopped (`None`).
fn read_loop<P: Protocol>(
    cfg: &SerialConfig,
    port: &mut dyn serialport::SerialPort,
    proto: &mut P,
    tx: &Sender<ScanEvent>,
    cancel: &CancelToken,
) -> Option<String> {
    let mut buf = [0u8; 1024];
    let mut last_check = Instant::now();
    loop {
        if cancel.is_cancelled() || tx.is_closed() {
            return None;
        }
        let events = match port.read(&mut buf) {
            Ok(0) => return Some("end of stream".into()),
            Ok(n) => proto.bytes(&cfg.name, &buf[..n], Instant::now()),
            Err(e)
                if e.kind() == std::io::ErrorKind::TimedOut
                    || e.kind() == std::io::ErrorKind::Interrupted =>
            {
                proto.idle(&cfg.name, Instant::now())
            }
            Err(e) => return Some(format!("read error: {e}")),
        };
        for ev in events {
            if tx.blocking_send(ev).is_err() {
                return None;
            }
        }
        // A USB adapter that vanishes may not fail the read at once: watch the path.
        if last_check.elapsed() >= Duration::from_millis(250) {
            last_check = Instant::now();
            if !Path::new(&cfg.path).exists() {
                return Some(format!("{} disappeared", cfg.path));
            }
        }
    }
}
