//! Serial sources against real pseudo-terminals the test opens itself (a pty whose
//! device side is linked where the port is configured, as udev links a scanner):
//! chunked writes, CR/LF/CRLF, AIM prefixes, garbage, an over-long line, STX/ETX MRZ
//! blocks, and the port vanishing and coming back. Nothing to install: the ptys come
//! from `rustix`. Every wait is bounded; nothing asserts on timings.

use evisa_scan::{
    CancelToken, ScanEvent, SerialConfig, SourceStatus, spawn_barcode_scanner, spawn_mrz_reader,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::{Receiver, channel};

/// A serial device stand-in: a pseudo-terminal whose device side (the one the source
/// opens) is the symlink `dev`; the test writes the device's bytes to its other side.
struct SerialPty {
    host: std::fs::File,
}

impl SerialPty {
    fn start(dev: &Path) -> SerialPty {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        use rustix::termios::{OptionalActions, tcgetattr, tcsetattr};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("open a pty");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        // Raw, no echo, before the source opens it (the source sets its own modes too):
        // bytes pass through as a serial line carries them.
        let mut modes = tcgetattr(&master).expect("read the pty's modes");
        modes.make_raw();
        tcsetattr(&master, OptionalActions::Now, &modes).expect("set the pty raw");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let name = PathBuf::from(name.to_str().expect("a UTF-8 pty name"));
        std::os::unix::fs::symlink(&name, dev).expect("link the device");
        SerialPty {
            host: std::fs::File::from(master),
        }
    }

    /// Unplugged: the pty closes and its link vanishes, as a USB unplug does.
    fn stop(self, dev: &Path) {
        drop(self);
        std::fs::remove_file(dev).expect("remove the device link");
    }

    fn write_chunks(&mut self, chunks: &[&[u8]]) {
        for c in chunks {
            self.host.write_all(c).expect("write");
            self.host.flush().expect("flush");
            std::thread::sleep(Duration::from_millis(15));
        }
    }
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

fn dirs() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("tempdir");
    let dev = d.path().join("dev");
    (d, dev)
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
    let (_d, dev) = dirs();
    let mut h = SerialPty::start(&dev);
    let (tx, mut rx) = channel(64);
    let cancel = CancelToken::new();
    let mut cfg = SerialConfig::new("scanner", dev.to_string_lossy());
    cfg.retry = Duration::from_millis(200);
    let handle = spawn_barcode_scanner(cfg, tx, cancel.clone());
    wait_status(&mut rx, SourceStatus::Connected).await;

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
    h.write_chunks(&blocks);
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
    h.stop(&dev);
    wait_status(&mut rx, SourceStatus::Disconnected).await;
    // replug under the same name
    let mut h = SerialPty::start(&dev);
    wait_status(&mut rx, SourceStatus::Connected).await;
    h.write_chunks(&[b"]Q1KZV1:AFTER-REPLUG\r\n"]);
    assert_eq!(next_scan(&mut rx).await, code("KZV1:AFTER-REPLUG"));

    cancel.cancel();
    let _ = tokio::task::spawn_blocking(move || handle.join()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mrz_reader_blocks_and_lines() {
    const L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    const L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let (_d, dev) = dirs();
    let mut h = SerialPty::start(&dev);
    let (tx, mut rx) = channel(64);
    let cancel = CancelToken::new();
    let mut cfg = SerialConfig::new("mrz", dev.to_string_lossy());
    cfg.line_timeout = Duration::from_millis(300);
    let handle = spawn_mrz_reader(cfg, tx, cancel.clone());
    wait_status(&mut rx, SourceStatus::Connected).await;
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
    h.write_chunks(&[a, b]);
    assert_eq!(next_scan(&mut rx).await, mrz);
    // a block with one line only
    h.write_chunks(&[format!("\x02{L1}\r\x03").as_bytes()]);
    assert_eq!(next_scan(&mut rx).await, incomplete);
    // plain lines, `_` padding
    h.write_chunks(&[
        format!("{}\r\n", L1.replace('<', "_")).as_bytes(),
        format!("{L2}\r\n").as_bytes(),
    ]);
    assert_eq!(next_scan(&mut rx).await, mrz);
    // a lone plain line times out into MrzIncomplete
    h.write_chunks(&[format!("{L2}\r\n").as_bytes()]);
    assert_eq!(next_scan(&mut rx).await, incomplete);

    cancel.cancel();
    let _ = tokio::task::spawn_blocking(move || handle.join()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mrz_reader_reports_a_dropped_block_instead_of_losing_it_silently() {
    let (_d, dev) = dirs();
    let mut h = SerialPty::start(&dev);
    let (tx, mut rx) = channel(64);
    let cancel = CancelToken::new();
    let handle = spawn_mrz_reader(
        SerialConfig::new("mrz", dev.to_string_lossy()),
        tx,
        cancel.clone(),
    );
    wait_status(&mut rx, SourceStatus::Connected).await;
    // A runaway block (no line ends, far too long) and a line that is not UTF-8.
    let mut block = vec![0x02u8];
    block.extend(std::iter::repeat_n(b'P', 9000));
    block.push(0x03);
    h.write_chunks(&[&block, b"\xc3\x28MRZ\r\n"]);
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
