//! Serial sources against real pseudo-terminals made by `socat` (Debian package
//! `socat`): chunked writes, CR/LF/CRLF, AIM prefixes, garbage, an over-long
//! line, STX/ETX MRZ blocks, and the port vanishing and coming back. Every wait
//! is bounded; nothing asserts on timings. Skipped (with a note) without socat.

use evisa_scan::{
    CancelToken, ScanEvent, SerialConfig, SourceStatus, spawn_barcode_scanner, spawn_mrz_reader,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{Receiver, channel};

struct Socat {
    child: Child,
}

impl Socat {
    fn start(dev: &Path, host: &Path) -> Option<Socat> {
        let child = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", dev.display()))
            .arg(format!("pty,raw,echo=0,link={}", host.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let until = Instant::now() + Duration::from_secs(10);
        while !(dev.exists() && host.exists()) {
            if Instant::now() > until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Socat { child })
    }
    fn stop(mut self, dev: &Path) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // socat removes its links on exit; make sure, as a USB unplug would
        let _ = std::fs::remove_file(dev);
    }
}

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A missing tool fails the test: a suite that passes by skipping proves nothing.
fn have_socat() -> bool {
    let ok = Command::new("socat")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        ok,
        "socat is not installed: the serial-port tests need it (apt-get install -y socat)"
    );
    ok
}

async fn next(rx: &mut Receiver<ScanEvent>) -> ScanEvent {
    tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("event within 15 s")
        .expect("source still running")
}

/// Next event that is not a status event.
async fn next_scan(rx: &mut Receiver<ScanEvent>) -> ScanEvent {
    loop {
        let ev = next(rx).await;
        if !matches!(ev, ScanEvent::Status { .. }) {
            return ev;
        }
    }
}

async fn wait_status(rx: &mut Receiver<ScanEvent>, want: SourceStatus) {
    loop {
        if let ScanEvent::Status { status, .. } = next(rx).await
            && status == want
        {
            return;
        }
    }
}

fn open_host(host: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open(host)
        .expect("open host side")
}

fn write_chunks(f: &mut std::fs::File, chunks: &[&[u8]]) {
    for c in chunks {
        f.write_all(c).expect("write");
        f.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(15));
    }
}

fn dirs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let d = tempfile::tempdir().expect("tempdir");
    let dev = d.path().join("dev");
    let host = d.path().join("host");
    (d, dev, host)
}

fn code(t: &str) -> ScanEvent {
    ScanEvent::Code {
        source: "scanner".into(),
        text: t.into(),
    }
}

fn unreadable(source: &str, detail: &str) -> ScanEvent {
    ScanEvent::Unreadable {
        source: source.into(),
        detail: detail.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barcode_scanner_framing_and_reconnect() {
    if !have_socat() {
        eprintln!("socat not installed: skipping (apt-get install -y socat)");
        return;
    }
    let (_d, dev, host) = dirs();
    let socat = Socat::start(&dev, &host).expect("socat pty pair");
    let (tx, mut rx) = channel(64);
    let cancel = CancelToken::new();
    let mut cfg = SerialConfig::new("scanner", dev.to_string_lossy());
    cfg.retry = Duration::from_millis(200);
    let handle = spawn_barcode_scanner(cfg, tx, cancel.clone());
    wait_status(&mut rx, SourceStatus::Connected).await;

    let mut h = open_host(&host);
    let long = vec![b'X'; 9000];
    let blocks: Vec<&[u8]> = vec![
        b"]Q1KZV1:AB",
        b"CD\r",
        b"\nKZV1:LF-ONLY\n",
        b"\xff\xfe\xfd garbage\r\n",
        &long,
        b"\r\n",
        b"]Q3KZV1:CR-ONLY\rPLAIN TEXT\r\n",
    ];
    write_chunks(&mut h, &blocks);
    assert_eq!(next_scan(&mut rx).await, code("KZV1:ABCD"));
    assert_eq!(next_scan(&mut rx).await, code("KZV1:LF-ONLY"));
    // Dropped lines leave a trace the kiosk shows (bug: they vanished silently).
    assert_eq!(
        next_scan(&mut rx).await,
        unreadable("scanner", "line of 11 bytes is not valid UTF-8, dropped")
    );
    assert_eq!(
        next_scan(&mut rx).await,
        unreadable("scanner", "line longer than 8192 bytes dropped")
    );
    assert_eq!(next_scan(&mut rx).await, code("KZV1:CR-ONLY"));
    assert_eq!(next_scan(&mut rx).await, code("PLAIN TEXT"));

    // unplug: the pty and its link vanish
    drop(h);
    socat.stop(&dev);
    wait_status(&mut rx, SourceStatus::Disconnected).await;
    // replug under the same name
    let _socat = Socat::start(&dev, &host).expect("socat again");
    wait_status(&mut rx, SourceStatus::Connected).await;
    let mut h = open_host(&host);
    write_chunks(&mut h, &[b"]Q1KZV1:AFTER-REPLUG\r\n"]);
    assert_eq!(next_scan(&mut rx).await, code("KZV1:AFTER-REPLUG"));

    cancel.cancel();
    let _ = tokio::task::spawn_blocking(move || handle.join()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mrz_reader_blocks_and_lines() {
    if !have_socat() {
        eprintln!("socat not installed: skipping (apt-get install -y socat)");
        return;
    }
    const L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    const L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let (_d, dev, host) = dirs();
    let _socat = Socat::start(&dev, &host).expect("socat pty pair");
    let (tx, mut rx) = channel(64);
    let cancel = CancelToken::new();
    let mut cfg = SerialConfig::new("mrz", dev.to_string_lossy());
    cfg.line_timeout = Duration::from_millis(300);
    let handle = spawn_mrz_reader(cfg, tx, cancel.clone());
    wait_status(&mut rx, SourceStatus::Connected).await;
    let mut h = open_host(&host);
    let mrz = ScanEvent::Mrz {
        source: "mrz".into(),
        text: format!("{L1}\n{L2}"),
    };
    let incomplete = ScanEvent::MrzIncomplete {
        source: "mrz".into(),
    };

    // DESKO-style block, split in the middle
    let block = format!("\x02{L1}\r{L2}\r\x03");
    let (a, b) = block.as_bytes().split_at(30);
    write_chunks(&mut h, &[a, b]);
    assert_eq!(next_scan(&mut rx).await, mrz);
    // a block with one line only
    write_chunks(&mut h, &[format!("\x02{L1}\r\x03").as_bytes()]);
    assert_eq!(next_scan(&mut rx).await, incomplete);
    // plain lines, `_` padding
    write_chunks(
        &mut h,
        &[
            format!("{}\r\n", L1.replace('<', "_")).as_bytes(),
            format!("{L2}\r\n").as_bytes(),
        ],
    );
    assert_eq!(next_scan(&mut rx).await, mrz);
    // a lone plain line times out into MrzIncomplete
    write_chunks(&mut h, &[format!("{L2}\r\n").as_bytes()]);
    assert_eq!(next_scan(&mut rx).await, incomplete);

    cancel.cancel();
    let _ = tokio::task::spawn_blocking(move || handle.join()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mrz_reader_reports_a_dropped_block_instead_of_losing_it_silently() {
    if !have_socat() {
        eprintln!("socat not installed: skipping (apt-get install -y socat)");
        return;
    }
    let (_d, dev, host) = dirs();
    let _socat = Socat::start(&dev, &host).expect("socat pty pair");
    let (tx, mut rx) = channel(64);
    let cancel = CancelToken::new();
    let handle = spawn_mrz_reader(
        SerialConfig::new("mrz", dev.to_string_lossy()),
        tx,
        cancel.clone(),
    );
    wait_status(&mut rx, SourceStatus::Connected).await;
    let mut h = open_host(&host);
    // A runaway block (no line ends, far too long) and a line that is not UTF-8.
    let mut block = vec![0x02u8];
    block.extend(std::iter::repeat_n(b'P', 9000));
    block.push(0x03);
    write_chunks(&mut h, &[&block, b"\xc3\x28MRZ\r\n"]);
    assert!(
        matches!(next_scan(&mut rx).await, ScanEvent::Unreadable { source, .. } if source == "mrz")
    );
    assert_eq!(
        next_scan(&mut rx).await,
        unreadable("mrz", "line of 5 bytes is not valid UTF-8, dropped")
    );
    cancel.cancel();
    let _ = tokio::task::spawn_blocking(move || handle.join()).await;
}
