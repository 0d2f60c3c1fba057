//! The camera path end to end without a camera: committed simulator frames
//! (`fixtures/frames/`) replayed through `ReplaySource` into the capture and
//! decode threads give exactly one `Code` per appearance of a code.
//!
//! Regenerate the frames (deterministic) with
//! `cargo test --release --test scan_replay -- --ignored regenerate_fixture_frames`.

use evisa_scan::sim::simulate_as;
use evisa_scan::{
    CameraOptions, CancelToken, DecodeOptions, ReplaySource, ScanEvent, SourceStatus, decode_frame,
    spawn_camera, standin_page, standin_payload,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SEED: u64 = 2026;

fn frames_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/frames")
}

#[test]
#[ignore = "rewrites fixtures/frames"]
fn regenerate_fixture_frames() {
    let payload = standin_payload(SEED);
    let page = standin_page(&payload);
    let dir = frames_dir();
    for cat in evisa_scan::sim::CATEGORIES {
        let _ = std::fs::remove_dir_all(dir.join(cat));
    }
    let written = simulate_as(&page, &payload, &dir, 2, SEED, "jpg").expect("simulate");
    assert_eq!(written.len(), 18);
}

fn fixture_images() -> Vec<(PathBuf, String)> {
    let mut v = Vec::new();
    for cat in std::fs::read_dir(frames_dir()).expect("fixtures/frames exists") {
        let cat = cat.expect("entry").path();
        for f in std::fs::read_dir(&cat).expect("category dir") {
            let p = f.expect("entry").path();
            if p.extension().is_some_and(|e| e == "jpg") {
                let t = std::fs::read_to_string(p.with_extension("txt")).expect("expected text");
                v.push((p, t.trim_end_matches('\n').to_string()));
            }
        }
    }
    v.sort();
    v
}

#[test]
fn fixture_frames_decode() {
    let imgs = fixture_images();
    assert_eq!(imgs.len(), 18);
    let opts = DecodeOptions {
        budget: None,
        ..Default::default()
    };
    let mut read = 0;
    for (p, expected) in &imgs {
        let g = image::open(p).expect("image").to_luma8();
        if let Some(d) = decode_frame(&g, &opts) {
            // never a wrong text
            assert_eq!(&d.text, expected, "{}", p.display());
            read += 1;
        }
    }
    assert!(read >= 14, "only {read} of 18 fixture frames read");
}

#[test]
fn replay_gives_one_event_per_code_appearance() {
    // a subset keeps the debug-build test quick; every category is covered by
    // `fixture_frames_decode`
    let imgs: Vec<_> = fixture_images()
        .into_iter()
        .filter(|(p, _)| {
            ["nominal", "rotated", "glare"]
                .iter()
                .any(|c| p.parent().is_some_and(|d| d.ends_with(c)))
        })
        .collect();
    assert_eq!(imgs.len(), 6);
    let opts = DecodeOptions {
        budget: None,
        ..Default::default()
    };
    // which frames the pipeline reads on its own
    let frames: Vec<_> = imgs
        .iter()
        .map(|(p, _)| image::open(p).expect("image").to_luma8())
        .collect();
    let readable = frames
        .iter()
        .filter(|f| decode_frame(f, &opts).is_some())
        .count();
    let expected_text = imgs[0].1.clone();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let cancel = CancelToken::new();
        // each frame three times (a code staying in view), then 3 empty frames
        let source = ReplaySource::from_images(frames).repeat(3, 3);
        let camera_opts = CameraOptions {
            decode: opts,
            forget_after: 3,
            lossless: true,
            ..Default::default()
        };
        let handle = spawn_camera(Box::new(source), camera_opts, tx, cancel.clone());
        let mut codes = 0;
        loop {
            match tokio::time::timeout(Duration::from_secs(120), rx.recv()).await {
                Ok(Some(ScanEvent::Code { text, .. })) => {
                    assert_eq!(text, expected_text);
                    codes += 1;
                }
                Ok(Some(ScanEvent::Status { status, .. })) => {
                    assert_eq!(status, SourceStatus::Connected)
                }
                Ok(Some(other)) => panic!("unexpected {other:?}"),
                Ok(None) => break,
                Err(_) => panic!("replay did not finish within 120 s"),
            }
        }
        assert_eq!(codes, readable);
        cancel.cancel();
        tokio::task::spawn_blocking(move || handle.join())
            .await
            .expect("join");
    });
}
