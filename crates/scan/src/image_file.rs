//! Decoding an image the terminal did not make (a photo, a scanned page) with its
//! pixel dimensions and the decoder's memory capped: a small file that claims to be
//! 100,000 × 100,000 pixels is refused before anything that size is allocated. The
//! caller reads the bytes (with its own size cap); this module only decodes, and
//! turns colour into the grey the pipeline reads.

/// Largest decoded image, in pixels per side and bytes of pixel memory.
pub const MAX_IMAGE_SIDE: u32 = 10_000;
pub const MAX_IMAGE_ALLOC: u64 = 256 << 20;

/// The grey image of a decoded file: Rec. 709 luma (the weights `image` uses),
/// in integer arithmetic, rounded. `DynamicImage::to_luma8` goes through a
/// float colour-space transform with a libm `roundf` per pixel, which on a
/// 12 Mpx photo cost more than decoding its QR code; the two differ by at most
/// one grey level. Other layouts than 8-bit grey, RGB and RGBA take the
/// library's way (alpha is ignored, as there).
pub fn to_grey(img: &image::DynamicImage) -> image::GrayImage {
    // weights × 2^16, summing to 2^16 (white stays 255), rounded
    let luma = |p: &[u8]| {
        let y = 13_933 * u32::from(p[0]) + 46_871 * u32::from(p[1]) + 4_732 * u32::from(p[2]);
        ((y + 32_768) >> 16) as u8
    };
    let (w, h) = (img.width(), img.height());
    let grey = match img {
        image::DynamicImage::ImageLuma8(g) => return g.clone(),
        image::DynamicImage::ImageRgb8(c) => c.as_raw().chunks_exact(3).map(luma).collect(),
        image::DynamicImage::ImageRgba8(c) => c.as_raw().chunks_exact(4).map(luma).collect(),
        other => return other.to_luma8(),
    };
    image::GrayImage::from_raw(w, h, grey).unwrap_or_else(|| img.to_luma8())
}

/// Decodes PNG, JPEG or WebP bytes within [`MAX_IMAGE_SIDE`] and [`MAX_IMAGE_ALLOC`].
pub fn decode_image(bytes: Vec<u8>) -> Result<image::DynamicImage, image::ImageError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_ALLOC);
    reader.limits(limits);
    reader.decode()
}

#[cfg(test)]
mod tests {
    use super::to_grey;
    use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};

    #[test]
    fn grey_is_within_one_level_of_the_library_conversion_on_every_colour_axis() {
        // every value of each channel alone, of grey, and a spread of mixtures
        let mut px = Vec::new();
        for v in 0..=255u8 {
            px.extend([[v, 0, 0], [0, v, 0], [0, 0, v], [v, v, v]]);
            px.push([v, v.wrapping_mul(7), v.wrapping_mul(13)]);
        }
        let rgb = RgbImage::from_fn(px.len() as u32, 1, |x, _| Rgb(px[x as usize]));
        let ours = to_grey(&DynamicImage::ImageRgb8(rgb.clone()));
        let lib = DynamicImage::ImageRgb8(rgb).to_luma8();
        for (i, (a, b)) in ours.as_raw().iter().zip(lib.as_raw()).enumerate() {
            assert!(a.abs_diff(*b) <= 1, "{:?}: ours {a}, image {b}", px[i]);
        }
        // pure primaries and white are exact
        let at = |c: [u8; 3]| {
            to_grey(&DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, Rgb(c))))[(0, 0)].0[0]
        };
        assert_eq!(
            [
                at([255, 0, 0]),
                at([0, 255, 0]),
                at([0, 0, 255]),
                at([255, 255, 255])
            ],
            [54, 182, 18, 255]
        );
    }

    #[test]
    fn alpha_is_ignored_and_size_is_kept() {
        let rgba = RgbaImage::from_fn(3, 2, |x, y| Rgba([200, 100, 50, (x * 100 + y) as u8]));
        let g = to_grey(&DynamicImage::ImageRgba8(rgba));
        assert_eq!(g.dimensions(), (3, 2));
        assert!(g.pixels().all(|p| p.0[0] == g[(0, 0)].0[0]));
    }
}
