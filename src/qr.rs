//! Reading QR text from a still image (the `decode` command and `verify --image`).
//! rqrr can panic on hostile input; a bad image must give an error, never a crash.

use image::GrayImage;

/// The text of the first QR code in `img` whose error correction succeeds.
pub fn decode_text(img: &GrayImage) -> Option<String> {
    std::panic::catch_unwind(|| {
        let mut prepared = rqrr::PreparedImage::prepare(img.clone());
        prepared
            .detect_grids()
            .into_iter()
            .find_map(|g| g.decode().ok().map(|(_, text)| text))
    })
    .ok()
    .flatten()
}
