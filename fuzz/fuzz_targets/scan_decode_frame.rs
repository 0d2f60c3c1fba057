//! The QR decode pipeline on arbitrary frames: the first four bytes give width
//! and height (each mod 2048, so 0×0 and 1×N occur), the rest tiles the
//! pixels: `cargo +nightly fuzz run scan_decode_frame`.
#![no_main]

use evisa_scan::{DecodeOptions, decode_frame};
use image::GrayImage;
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let w = u32::from(u16::from_le_bytes([data[0], data[1]])) % 2048;
    let h = u32::from(u16::from_le_bytes([data[2], data[3]])) % 2048;
    let px = &data[4..];
    let n = (w as usize) * (h as usize);
    let pixels: Vec<u8> = (0..n).map(|i| if px.is_empty() { 0 } else { px[i % px.len()] }).collect();
    if let Some(img) = GrayImage::from_raw(w, h, pixels) {
        let opts = DecodeOptions { budget: Some(Duration::from_millis(300)), ..Default::default() };
        let _ = decode_frame(&img, &opts);
    }
});
