//! Decode pipeline behaviour: panics contained, several codes per frame,
//! inverted codes, the time budget with an injected clock.

use evisa_scan::{DecodeOptions, cross_check, decode_all, decode_frame};
use image::{GrayImage, Luma};
use qrcode::{EcLevel, QrCode};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn render(text: &str, module: u32) -> GrayImage {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q).expect("encode");
    let n = code.width() as u32;
    let colors = code.to_colors();
    let side = (n + 8) * module;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / module) as i64 - 4, (y / module) as i64 - 4);
        let dark = mx >= 0
            && my >= 0
            && (mx as u32) < n
            && (my as u32) < n
            && colors[(my as usize) * n as usize + mx as usize] == qrcode::Color::Dark;
        Luma([if dark { 30 } else { 225 }])
    })
}

fn no_budget() -> DecodeOptions {
    DecodeOptions {
        budget: None,
        ..Default::default()
    }
}

/// Regression: rqrr 0.11 panics inside `detect_grids` on this image
/// (`geometry.rs:55`); the pipeline must contain it and still read the code.
#[test]
fn rqrr_panic_on_qrcode_6_7_is_contained() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/frames/regression");
    let img = image::open(dir.join("rqrr-panic-qrcode-6-7.png"))
        .expect("image")
        .to_luma8();
    let expected = std::fs::read_to_string(dir.join("rqrr-panic-qrcode-6-7.txt")).expect("txt");
    let got = decode_frame(&img, &no_budget());
    assert_eq!(got.map(|d| d.text), Some(expected.trim_end().to_string()));
    // and every attempt, including rqrr's own detector, runs without unwinding out
    let _ = decode_all(&img, &no_budget());
}

fn two_code_frame() -> GrayImage {
    let a = render("KZV1:FIRST", 4);
    let b = render("KZV1:SECOND-CODE", 4);
    let mut frame = GrayImage::from_pixel(
        a.width() + b.width() + 40,
        a.height().max(b.height()) + 20,
        Luma([225]),
    );
    image::imageops::replace(&mut frame, &a, 10, 10);
    image::imageops::replace(&mut frame, &b, i64::from(a.width()) + 30, 10);
    frame
}

#[test]
fn two_codes_in_one_frame() {
    let frame = two_code_frame();
    let mut texts: Vec<String> = decode_all(&frame, &no_budget())
        .into_iter()
        .map(|d| d.text)
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        vec!["KZV1:FIRST".to_string(), "KZV1:SECOND-CODE".to_string()]
    );
}

/// `evisa decode --all` prints every distinct code, one per line; without
/// `--all` exactly one (the kiosk's single result per frame).
#[test]
fn decode_all_flag_prints_every_distinct_code_and_plain_decode_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let png = tmp.path().join("two.png");
    two_code_frame().save(&png).expect("save");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(crate::exe_for(args))
            .args(args)
            .output()
            .expect("run evisa");
        assert!(out.status.success(), "{args:?}: {out:?}");
        let mut lines: Vec<String> = String::from_utf8(out.stdout)
            .expect("utf-8")
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    let p = png.to_str().expect("path");
    assert_eq!(
        run(&["decode", "--all", p]),
        vec!["KZV1:FIRST".to_string(), "KZV1:SECOND-CODE".to_string()]
    );
    let one = run(&["decode", p]);
    assert_eq!(one.len(), 1);
    assert!(
        one[0] == "KZV1:FIRST" || one[0] == "KZV1:SECOND-CODE",
        "{one:?}"
    );
}

#[test]
fn inverted_code() {
    let mut img = render("KZV1:INVERTED", 4);
    image::imageops::invert(&mut img);
    let d = decode_frame(&img, &no_budget()).expect("inverted code read");
    assert_eq!(d.text, "KZV1:INVERTED");
    assert!(d.attempt.contains("invert"), "read by {}", d.attempt);
}

static FAKE_NS: AtomicU64 = AtomicU64::new(0);
fn fake_clock() -> Instant {
    // every reading of the clock is one second later than the previous one
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    base + Duration::from_nanos(FAKE_NS.fetch_add(1_000_000_000, Ordering::SeqCst))
}

#[test]
fn budget_stops_after_the_first_attempt() {
    // an inverted code is only read by a late attempt: with a clock that has run
    // out after the first attempt it is not read, without the budget it is
    let mut img = render("KZV1:LATE", 4);
    image::imageops::invert(&mut img);
    let tight = DecodeOptions {
        budget: Some(Duration::from_millis(500)),
        clock: fake_clock,
        ..Default::default()
    };
    assert_eq!(decode_frame(&img, &tight), None);
    assert!(decode_frame(&img, &no_budget()).is_some());
}

/// Guards the own grid decoder against wrong reads: on every matrix the
/// pipeline samples from simulator frames (all categories, damaged ones
/// included), whenever both it and rqrr read a text, the texts are equal.
#[test]
fn own_grid_decoder_agrees_with_rqrr_on_every_simulator_grid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let payload = evisa_scan::standin_payload(7);
    let page = evisa_scan::standin_page(&payload);
    let frames = evisa_scan::simulate(&page, &payload, dir.path(), 1, 7).expect("simulate");
    let (mut grids, mut both) = (0, 0);
    for f in &frames {
        let img = image::open(f).expect("frame").to_luma8();
        let c = cross_check(&img, &no_budget());
        assert!(
            c.disagreements.is_empty(),
            "{}: {:?}",
            f.display(),
            c.disagreements
        );
        grids += c.grids;
        both += c.both;
    }
    assert!(
        grids > 0 && both > 0,
        "no grid reached the decoders ({grids}, {both})"
    );
}
