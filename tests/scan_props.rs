//! Property tests standing in for the cargo-fuzz targets (no nightly here):
//! the same entry points fed arbitrary bytes and sizes must never panic.

use evisa_scan::{DecodeOptions, LineFramer, MrzFramer, WedgeAssembler, decode_frame};
use image::GrayImage;
use proptest::prelude::*;
use std::time::Duration;

fn opts() -> DecodeOptions {
    DecodeOptions {
        budget: Some(Duration::from_millis(200)),
        ..Default::default()
    }
}

/// Same construction as the `scan_decode_frame` fuzz target.
fn frame_from_bytes(data: &[u8]) -> Option<GrayImage> {
    if data.len() < 4 {
        return None;
    }
    let w = u32::from(u16::from_le_bytes([data[0], data[1]])) % 2048;
    let h = u32::from(u16::from_le_bytes([data[2], data[3]])) % 2048;
    let px = &data[4..];
    let n = (w as usize) * (h as usize);
    let pixels: Vec<u8> = (0..n)
        .map(|i| if px.is_empty() { 0 } else { px[i % px.len()] })
        .collect();
    GrayImage::from_raw(w, h, pixels)
}

#[test]
fn degenerate_sizes_do_not_panic() {
    for (w, h) in [
        (0, 0),
        (1, 10_000),
        (10_000, 1),
        (0, 5),
        (21, 21),
        (7, 7),
        (3, 300),
    ] {
        for fill in [0u8, 255, 128] {
            let img = GrayImage::from_pixel(w, h, image::Luma([fill]));
            assert!(decode_frame(&img, &opts()).is_none());
        }
    }
    // stripes and checkerboards that look like finder patterns everywhere
    let img = GrayImage::from_fn(300, 200, |x, y| {
        image::Luma([if (x / 3 + y / 3) % 2 == 0 { 0 } else { 255 }])
    });
    let _ = decode_frame(&img, &opts());
    let img = GrayImage::from_fn(300, 200, |x, _| {
        image::Luma([[0, 255, 0, 0, 0, 255, 0][(x % 7) as usize]])
    });
    let _ = decode_frame(&img, &opts());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn decode_arbitrary_frames(w in 0u32..200, h in 0u32..200, seed in any::<u64>(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut s = seed;
        let img = GrayImage::from_fn(w, h, |x, y| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let b = if data.is_empty() { 0 } else { data[((x + y) as usize) % data.len()] };
            image::Luma([((s >> 56) as u8) ^ b])
        });
        let _ = decode_frame(&img, &opts());
    }

    #[test]
    fn decode_fuzz_layout(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Some(img) = frame_from_bytes(&data)
            && u64::from(img.width()) * u64::from(img.height()) <= 200_000
        {
            let _ = decode_frame(&img, &opts());
        }
    }

    #[test]
    fn framers_and_wedge_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20)) {
        let mut lf = LineFramer::new();
        let mut mf = MrzFramer::new();
        let mut w = WedgeAssembler::new("kbd");
        for c in &chunks {
            for line in lf.push(c).into_iter().flatten() {
                let _ = w.push_line_all(&line);
                prop_assert!(line.len() <= evisa_scan::framer::MAX_LINE);
            }
            let _ = mf.push(c);
            let _ = w.push_line_all(&String::from_utf8_lossy(c));
        }
        let _ = w.flush();
    }

    #[test]
    fn line_framing_is_independent_of_chunking(lines in proptest::collection::vec("[A-Z0-9:<]{1,60}", 1..8), cuts in proptest::collection::vec(0usize..400, 0..6)) {
        let mut data = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            data.extend_from_slice(l.as_bytes());
            data.extend_from_slice([&b"\r\n"[..], b"\n", b"\r"][i % 3]);
        }
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (data.len() + 1)).collect();
        cuts.sort();
        let mut f = LineFramer::new();
        let mut got = Vec::new();
        let mut prev = 0;
        for c in cuts.into_iter().chain(std::iter::once(data.len())) {
            got.extend(f.push(&data[prev..c]).into_iter().map(|r| r.expect("valid line")));
            prev = c;
        }
        prop_assert_eq!(got, lines);
    }
}
