//! Grey-level helpers for the decode pipeline: integral images, local-mean
//! (Bradley-style) and global (Otsu) binarisation, contrast stretching and
//! bilinear sampling. Everything here is pure and allocation-bounded by the
//! image size.

use image::GrayImage;

/// A binary image, `true` = dark.
#[derive(Debug, Clone)]
pub struct Bitmap {
    pub w: usize,
    pub h: usize,
    pub bits: Vec<bool>,
}

impl Bitmap {
    #[inline]
    pub fn get(&self, x: usize, y: usize) -> bool {
        self.bits[y * self.w + x]
    }
}

/// Summed-area table of a grey image, one row and column of zeros in front.
/// Sums wrap at 2³²: a box sum taken with wrapping arithmetic is still exact
/// while the box itself sums below 2³² (any box under 16 Mpx), and u32 halves
/// the memory traffic of u64.
pub struct Integral {
    w: usize,
    h: usize,
    sums: Vec<u32>,
}

impl Integral {
    pub fn new(img: &GrayImage) -> Self {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let stride = w + 1;
        let mut sums = vec![0u32; stride * (h + 1)];
        let raw = img.as_raw();
        for y in 0..h {
            let mut row = 0u32;
            let (above, below) = sums.split_at_mut((y + 1) * stride);
            let above = &above[y * stride..];
            let px = &raw[y * w..y * w + w];
            for x in 0..w {
                row = row.wrapping_add(u32::from(px[x]));
                below[x + 1] = above[x + 1].wrapping_add(row);
            }
        }
        Integral { w, h, sums }
    }

    #[inline]
    fn box_sum(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> u32 {
        let s = self.w + 1;
        self.sums[y1 * s + x1]
            .wrapping_add(self.sums[y0 * s + x0])
            .wrapping_sub(self.sums[y0 * s + x1])
            .wrapping_sub(self.sums[y1 * s + x0])
    }

    /// Mean over the clamped square of half-size `r` around `(x, y)`.
    #[inline]
    pub fn mean(&self, x: usize, y: usize, r: usize) -> u32 {
        let x0 = x.saturating_sub(r);
        let y0 = y.saturating_sub(r);
        let x1 = (x + r + 1).min(self.w);
        let y1 = (y + r + 1).min(self.h);
        let n = ((x1 - x0) * (y1 - y0)).max(1) as u64;
        (u64::from(self.box_sum(x0, y0, x1, y1)) / n) as u32
    }
}

/// Local-mean threshold: a pixel is dark when it is more than `pct` percent
/// below the mean of its `(2r+1)²` neighbourhood.
pub fn local_mean(img: &GrayImage, integral: &Integral, r: usize, pct: u32) -> Bitmap {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    let mut bits = vec![false; w * h];
    let s = w + 1;
    let sums = &integral.sums;
    let keep = u64::from(100 - pct.min(100));
    for y in 0..h {
        let y0 = y.saturating_sub(r);
        let y1 = (y + r + 1).min(h);
        let (r0, r1) = (&sums[y0 * s..y0 * s + s], &sums[y1 * s..y1 * s + s]);
        let rows = (y1 - y0) as u64;
        let row_px = &raw[y * w..y * w + w];
        let row_bits = &mut bits[y * w..y * w + w];
        for x in 0..w {
            let x0 = x.saturating_sub(r);
            let x1 = (x + r + 1).min(w);
            let sum = r1[x1]
                .wrapping_add(r0[x0])
                .wrapping_sub(r0[x1])
                .wrapping_sub(r1[x0]);
            let n = (x1 - x0) as u64 * rows;
            // p < mean * keep / 100, without a division
            row_bits[x] = u64::from(row_px[x]) * n * 100 < u64::from(sum) * keep;
        }
    }
    Bitmap { w, h, bits }
}

/// Otsu's global threshold.
pub fn otsu_level(img: &GrayImage) -> u8 {
    let mut hist = [0u64; 256];
    for &p in img.as_raw() {
        hist[p as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 128;
    }
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut w_b, mut sum_b, mut best, mut level) = (0u64, 0f64, -1f64, 128u8);
    for (t, &c) in hist.iter().enumerate() {
        w_b += c;
        if w_b == 0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0 {
            break;
        }
        sum_b += t as f64 * c as f64;
        let m_b = sum_b / w_b as f64;
        let m_f = (sum_all - sum_b) / w_f as f64;
        let between = w_b as f64 * w_f as f64 * (m_b - m_f) * (m_b - m_f);
        if between > best {
            best = between;
            level = t as u8;
        }
    }
    level
}

pub fn global(img: &GrayImage, level: u8) -> Bitmap {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let bits = img.as_raw().iter().map(|&p| p <= level).collect();
    Bitmap { w, h, bits }
}

pub fn invert(img: &GrayImage) -> GrayImage {
    let mut out = img.clone();
    for p in out.iter_mut() {
        *p = 255 - *p;
    }
    out
}

/// Halve the image with a 2×2 box filter (over the raw rows: this runs on
/// every 12 Mpx photo, where per-pixel bounds checks cost milliseconds).
pub fn downscale2(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width() as usize / 2, img.height() as usize / 2);
    let sw = img.width() as usize;
    let raw = img.as_raw();
    let mut out = vec![0u8; w * h];
    for (y, dst) in out.chunks_exact_mut(w.max(1)).enumerate().take(h) {
        let r0 = &raw[2 * y * sw..2 * y * sw + 2 * w];
        let r1 = &raw[(2 * y + 1) * sw..(2 * y + 1) * sw + 2 * w];
        for (x, d) in dst.iter_mut().enumerate() {
            let s = u16::from(r0[2 * x])
                + u16::from(r0[2 * x + 1])
                + u16::from(r1[2 * x])
                + u16::from(r1[2 * x + 1]);
            *d = (s / 4) as u8;
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_default()
}

/// Double the image with bilinear interpolation (output pixel centres fall
/// at ¼ and ¾ between source pixels: fixed weights 3:1, over the raw rows).
pub fn upscale2(img: &GrayImage) -> GrayImage {
    let (sw, sh) = (img.width() as usize, img.height() as usize);
    let (w, h) = (sw * 2, sh * 2);
    let raw = img.as_raw();
    let mut out = vec![0u8; w * h];
    if sw == 0 || sh == 0 {
        return GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_default();
    }
    // the two source neighbours of output coordinate o and their weights in
    // quarters (at the border both neighbours are the edge pixel)
    let tap = |o: usize, n: usize| -> (usize, usize, u32, u32) {
        let s = o / 2;
        if o.is_multiple_of(2) {
            (s.saturating_sub(1), s, 1, 3)
        } else {
            (s, (s + 1).min(n - 1), 3, 1)
        }
    };
    let cols: Vec<_> = (0..w).map(|x| tap(x, sw)).collect();
    for y in 0..h {
        let (ya, yb, wa, wb) = tap(y, sh);
        let ra = &raw[ya * sw..ya * sw + sw];
        let rb = &raw[yb * sw..yb * sw + sw];
        let dst = &mut out[y * w..y * w + w];
        for (d, &(xa, xb, ua, ub)) in dst.iter_mut().zip(&cols) {
            let top = u32::from(ra[xa]) * ua + u32::from(ra[xb]) * ub;
            let bot = u32::from(rb[xa]) * ua + u32::from(rb[xb]) * ub;
            *d = ((top * wa + bot * wb + 8) / 16) as u8;
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_default()
}

/// Bilinear sample at pixel-centre coordinates, clamped to the border.
#[inline]
pub fn sample(img: &GrayImage, x: f32, y: f32) -> f32 {
    let (w, h) = (img.width() as i64, img.height() as i64);
    if w == 0 || h == 0 || !x.is_finite() || !y.is_finite() {
        return 255.0;
    }
    let xf = x.clamp(0.0, (w - 1) as f32);
    let yf = y.clamp(0.0, (h - 1) as f32);
    // clamped to >= 0, so truncation is floor (and no libm call)
    let x0 = xf as i64;
    let y0 = yf as i64;
    let x1 = (x0 + 1).min(w - 1);
    let y1 = (y0 + 1).min(h - 1);
    let fx = xf - x0 as f32;
    let fy = yf - y0 as f32;
    let raw = img.as_raw();
    let p = |xx: i64, yy: i64| f32::from(raw[(yy * w + xx) as usize]);
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bot = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    top * (1.0 - fy) + bot * fy
}

/// Stretch the 1st–99th percentile range to 0–255 (cheap contrast normalisation
/// for dim or washed-out frames).
pub fn stretch(img: &GrayImage) -> GrayImage {
    let mut hist = [0usize; 256];
    for &p in img.as_raw() {
        hist[p as usize] += 1;
    }
    let n = img.as_raw().len();
    let (mut lo, mut hi, mut acc) = (0usize, 255usize, 0usize);
    for (i, &c) in hist.iter().enumerate() {
        acc += c;
        if acc * 100 >= n {
            lo = i;
            break;
        }
    }
    acc = 0;
    for i in (0..256).rev() {
        acc += hist[i];
        if acc * 100 >= n {
            hi = i;
            break;
        }
    }
    let mut out = img.clone();
    if hi <= lo {
        return out;
    }
    let span = (hi - lo) as f32;
    for p in out.iter_mut() {
        *p = ((f32::from(*p) - lo as f32) * 255.0 / span).clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: u32, h: u32) -> GrayImage {
        let mut s = 0x9e37_79b9_u32;
        GrayImage::from_fn(w, h, |_, _| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            [(s >> 24) as u8].into()
        })
    }

    #[test]
    fn upscale2_is_bilinear_at_the_output_pixel_centres() {
        let img = noise(7, 5);
        let up = upscale2(&img);
        assert_eq!((up.width(), up.height()), (14, 10));
        for y in 0..10 {
            for x in 0..14 {
                let want = sample(
                    &img,
                    (x as f32 + 0.5) / 2.0 - 0.5,
                    (y as f32 + 0.5) / 2.0 - 0.5,
                );
                let got = f32::from(up.get_pixel(x, y)[0]);
                assert!(
                    (got - want).abs() <= 0.5 + 1e-3,
                    "({x},{y}): {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn downscale2_averages_each_2x2_block_and_drops_an_odd_edge() {
        let img = noise(9, 7);
        let d = downscale2(&img);
        assert_eq!((d.width(), d.height()), (4, 3));
        for y in 0..3 {
            for x in 0..4 {
                let s: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                    .iter()
                    .map(|(dx, dy)| u32::from(img.get_pixel(2 * x + dx, 2 * y + dy)[0]))
                    .sum();
                assert_eq!(u32::from(d.get_pixel(x, y)[0]), s / 4);
            }
        }
        assert_eq!(downscale2(&noise(1, 1)).width(), 0);
    }
}
