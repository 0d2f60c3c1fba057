//! Decoding an image the terminal did not make (a photo, a scanned page) with its
//! pixel dimensions and the decoder's memory capped: a small file that claims to be
//! 100,000 × 100,000 pixels is refused before anything that size is allocated. The
//! caller reads the bytes (with its own size cap); this module only decodes.

/// Largest decoded image, in pixels per side and bytes of pixel memory.
pub const MAX_IMAGE_SIDE: u32 = 10_000;
pub const MAX_IMAGE_ALLOC: u64 = 256 << 20;

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
