//! Grey-level helpers for the decode pipeline: integral images, local-mean
//! (Bradley-style) and global (Otsu) binarisation, contrast stretching and
//! bilinear sampling. Everything here is pure and allocation-bounded by the
//! image size.

use image::GrayImage;

/// A binary image, `true` = dark, packed 64 pixels to a word (bit `x % 64` of
/// word `x / 64` in its row). Packed rows let the finder search walk run
/// lengths a word at a time instead of testing every pixel.
#[derive(Debug, Clone)]
pub struct Bitmap {
    pub w: usize,
    pub h: usize,
    stride: usize,
    words: Vec<u64>,
}

impl Bitmap {
    fn blank(w: usize, h: usize) -> Self {
        let stride = w.div_ceil(64);
        Bitmap {
            w,
            h,
            stride,
            words: vec![0; stride * h],
        }
    }

    #[inline]
    pub fn get(&self, x: usize, y: usize) -> bool {
        (self.words[y * self.stride + x / 64] >> (x % 64)) & 1 == 1
    }

    /// Lengths of the alternating runs of row `y`, light first (a row that
    /// starts dark starts with a light run of 0). Bits past the row's end are
    /// light, so a dark run reaching the edge ends there.
    pub fn row_runs(&self, y: usize, runs: &mut Vec<u32>) {
        runs.clear();
        let row = &self.words[y * self.stride..(y + 1) * self.stride];
        let (mut x, mut dark) = (0usize, false);
        while x < self.w {
            let mut end = x;
            loop {
                let (wi, off) = (end / 64, end % 64);
                let word = if dark { !row[wi] } else { row[wi] } >> off;
                if word != 0 {
                    end += word.trailing_zeros() as usize;
                    break;
                }
                end = (wi + 1) * 64;
                if end >= self.w {
                    break;
                }
            }
            let end = end.min(self.w);
            runs.push((end - x) as u32);
            x = end;
            dark = !dark;
        }
    }

    /// Pack one row from its per-pixel 0/1 bytes.
    #[inline]
    fn pack_row(&mut self, y: usize, mask: &[u8]) {
        // eight 0/1 bytes to eight bits: the multiply moves byte k's low bit
        // to bit 56 + k with no carries between them
        let pack8 = |b: u64| (b & 0x0101_0101_0101_0101).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        let row = &mut self.words[y * self.stride..(y + 1) * self.stride];
        let full = mask.len() / 64;
        for (word, chunk) in row.iter_mut().zip(mask.chunks_exact(64)) {
            let mut v = 0u64;
            for (k, bytes) in chunk.chunks_exact(8).enumerate() {
                let b = u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]));
                v |= pack8(b) << (8 * k);
            }
            *word = v;
        }
        if let Some(word) = row.get_mut(full) {
            let mut v = 0u64;
            for (i, &m) in mask[full * 64..].iter().enumerate() {
                v |= u64::from(m & 1) << i;
            }
            *word = v;
        }
    }
}

/// Summed-area table of a rectangle of a grey image, one row and column of
/// zeros in front. Sums wrap at 2³²: a box sum taken with wrapping arithmetic
/// is still exact while the box itself sums below 2³² (any box under 16 Mpx),
/// and u32 halves the memory traffic of u64.
pub struct Integral {
    x0: usize,
    y0: usize,
    w: usize,
    h: usize,
    sums: Vec<u32>,
}

impl Integral {
    /// The table of the rectangle `[x0, x1) × [y0, y1)` (clamped to the
    /// image). Box means asked of it are clamped to the rectangle, so a
    /// rectangle that holds every box asked for gives the whole image's means
    /// at a fraction of the cost.
    pub fn over(img: &GrayImage, x0: usize, y0: usize, x1: usize, y1: usize) -> Self {
        let (iw, ih) = (img.width() as usize, img.height() as usize);
        let (x1, y1) = (x1.min(iw), y1.min(ih));
        let (x0, y0) = (x0.min(x1), y0.min(y1));
        let (w, h) = (x1 - x0, y1 - y0);
        let stride = w + 1;
        let mut sums = vec![0u32; stride * (h + 1)];
        let raw = img.as_raw();
        for y in 0..h {
            let mut row = 0u32;
            let (above, below) = sums.split_at_mut((y + 1) * stride);
            let above = &above[y * stride..];
            let start = (y0 + y) * iw + x0;
            let px = &raw[start..start + w];
            for x in 0..w {
                row = row.wrapping_add(u32::from(px[x]));
                below[x + 1] = above[x + 1].wrapping_add(row);
            }
        }
        Integral { x0, y0, w, h, sums }
    }

    #[inline]
    fn box_sum(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> u32 {
        let s = self.w + 1;
        self.sums[y1 * s + x1]
            .wrapping_add(self.sums[y0 * s + x0])
            .wrapping_sub(self.sums[y0 * s + x1])
            .wrapping_sub(self.sums[y1 * s + x0])
    }

    /// Mean over the square of half-size `r` around image pixel `(x, y)`,
    /// clamped to the table's rectangle.
    #[inline]
    pub fn mean(&self, x: usize, y: usize, r: usize) -> u32 {
        let x = x.saturating_sub(self.x0).min(self.w.saturating_sub(1));
        let y = y.saturating_sub(self.y0).min(self.h.saturating_sub(1));
        let x0 = x.saturating_sub(r);
        let y0 = y.saturating_sub(r);
        let x1 = (x + r + 1).min(self.w);
        let y1 = (y + r + 1).min(self.h);
        if x1 <= x0 || y1 <= y0 {
            return 0;
        }
        let n = ((x1 - x0) * (y1 - y0)).max(1) as u64;
        (u64::from(self.box_sum(x0, y0, x1, y1)) / n) as u32
    }
}

/// Local means of an image over `(2r+1)²` windows, kept per small block of
/// pixels (4×4, 2×2 for small windows) rather than per pixel: the window of
/// a block's centre differs from a pixel's by at most two pixels on a side of
/// forty, and the block sums cost one pass instead of a full-frame summed-area
/// table (the idea of zxing's hybrid binariser, with a finer block and a
/// window the size of the per-pixel one this replaces).
pub struct LocalMeans {
    block: usize,
    bw: usize,
    /// Per block: the mean grey level of its window.
    means: Vec<f32>,
}

impl LocalMeans {
    pub fn new(img: &GrayImage, r: usize) -> Self {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let block = if r < 10 { 2 } else { 4 };
        let (bw, bh) = (w.div_ceil(block), h.div_ceil(block));
        let raw = img.as_raw();
        // summed-area table over block sums, built a row of blocks at a time;
        // wrapping u32 as in `Integral` (a window sums far below 2³²)
        let s = bw + 1;
        let mut sat = vec![0u32; s * (bh + 1)];
        let mut sums = vec![0u32; bw];
        for by in 0..bh {
            sums.fill(0);
            for y in by * block..((by + 1) * block).min(h) {
                let px = &raw[y * w..y * w + w];
                if block == 4 {
                    for (s, c) in sums.iter_mut().zip(px.chunks_exact(4)) {
                        *s += u32::from(c[0]) + u32::from(c[1]) + u32::from(c[2]) + u32::from(c[3]);
                    }
                } else {
                    for (s, c) in sums.iter_mut().zip(px.chunks_exact(2)) {
                        *s += u32::from(c[0]) + u32::from(c[1]);
                    }
                }
                let tail = w % block;
                if tail > 0 {
                    sums[bw - 1] += px[w - tail..].iter().map(|&p| u32::from(p)).sum::<u32>();
                }
            }
            let (above, below) = sat.split_at_mut((by + 1) * s);
            let above = &above[by * s..];
            let mut row = 0u32;
            for bx in 0..bw {
                row = row.wrapping_add(sums[bx]);
                below[bx + 1] = above[bx + 1].wrapping_add(row);
            }
        }
        // a window of 2·rb+1 blocks spans about the 2r+1 pixels asked for
        let rb = ((2 * r + 1) as f32 / block as f32 - 1.0) / 2.0;
        let rb = (rb + 0.5).max(1.0) as usize;
        // Per row of blocks: the column sums of the window's rows (one
        // subtraction of two table rows), then each block's window from two
        // of them, scaled by precomputed reciprocals of the pixel counts
        // (edge windows hold fewer pixels).
        let cols: Vec<(usize, usize, f32)> = (0..bw)
            .map(|bx| {
                let (x0, x1) = (bx.saturating_sub(rb), (bx + rb + 1).min(bw));
                (
                    x0,
                    x1,
                    1.0 / ((x1 * block).min(w) - x0 * block).max(1) as f32,
                )
            })
            .collect();
        let mut d = vec![0u32; s];
        let mut means = Vec::with_capacity(bw * bh);
        for by in 0..bh {
            let (y0, y1) = (by.saturating_sub(rb), (by + rb + 1).min(bh));
            let inv_py = 1.0 / ((y1 * block).min(h) - y0 * block).max(1) as f32;
            let (top, bottom) = (&sat[y0 * s..y0 * s + s], &sat[y1 * s..y1 * s + s]);
            for ((d, &b), &t) in d.iter_mut().zip(bottom).zip(top) {
                *d = b.wrapping_sub(t);
            }
            means.extend(
                cols.iter()
                    .map(|&(x0, x1, inv)| d[x1].wrapping_sub(d[x0]) as f32 * inv * inv_py),
            );
        }
        LocalMeans { block, bw, means }
    }

    /// A pixel is dark when it is more than `pct` percent below its local mean.
    pub fn bitmap(&self, img: &GrayImage, pct: u32) -> Bitmap {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let keep = (100 - pct.min(100)) as f32 / 100.0;
        // p < mean·keep  ⇔  p < ⌈mean·keep⌉ for whole grey levels
        let thr: Vec<u8> = self
            .means
            .iter()
            .map(|&m| {
                // ceil without a libm call (no SSE4.1 in the baseline target)
                let v = (m * keep).clamp(0.0, 255.0);
                let t = v as u8;
                t.saturating_add(u8::from(f32::from(t) < v))
            })
            .collect();
        let raw = img.as_raw();
        let mut bm = Bitmap::blank(w, h);
        let mut t = vec![0u8; w];
        let mut mask = vec![0u8; w];
        for y in 0..h {
            if y % self.block == 0 {
                let brow = &thr[(y / self.block) * self.bw..(y / self.block + 1) * self.bw];
                for (c, &v) in t.chunks_mut(self.block).zip(brow) {
                    c.fill(v);
                }
            }
            let px = &raw[y * w..y * w + w];
            for ((m, &p), &tv) in mask.iter_mut().zip(px).zip(&t) {
                *m = u8::from(p < tv);
            }
            bm.pack_row(y, &mask);
        }
        bm
    }
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
    let raw = img.as_raw();
    let mut bm = Bitmap::blank(w, h);
    let mut mask = vec![0u8; w];
    for y in 0..h {
        let px = &raw[y * w..y * w + w];
        for (m, &p) in mask.iter_mut().zip(px) {
            *m = u8::from(p <= level);
        }
        bm.pack_row(y, &mask);
    }
    bm
}

pub fn invert(img: &GrayImage) -> GrayImage {
    let mut out = img.clone();
    for p in out.iter_mut() {
        *p = 255 - *p;
    }
    out
}

/// Halve the image with a 2×2 box filter.
pub fn downscale2(img: &GrayImage) -> GrayImage {
    downscale(img, 2)
}

/// Shrink the image by `f` (4, or else 2) with an f×f box filter, dropping
/// the odd edge. Rows are summed into a u16 accumulator first (whole rows at a
/// time, which vectorises), then neighbouring columns: on a 12 Mpx photo a
/// per-output-pixel gather cost ~8 ms, this a fraction of it.
pub fn downscale(img: &GrayImage, f: usize) -> GrayImage {
    let f = if f >= 4 { 4 } else { 2 };
    let (w, h) = (img.width() as usize / f, img.height() as usize / f);
    let sw = img.width() as usize;
    let raw = img.as_raw();
    let mut out = vec![0u8; w * h];
    let mut acc = vec![0u16; w * f];
    let shift = (f * f).trailing_zeros();
    for (y, dst) in out.chunks_exact_mut(w.max(1)).enumerate().take(h) {
        acc.fill(0);
        for k in 0..f {
            let row = &raw[(f * y + k) * sw..(f * y + k) * sw + w * f];
            for (a, &p) in acc.iter_mut().zip(row) {
                *a += u16::from(p);
            }
        }
        if f == 2 {
            for (d, c) in dst.iter_mut().zip(acc.chunks_exact(2)) {
                *d = ((c[0] + c[1]) >> shift) as u8;
            }
        } else {
            for (d, c) in dst.iter_mut().zip(acc.chunks_exact(f)) {
                *d = (c.iter().sum::<u16>() >> shift) as u8;
            }
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

    /// The per-pixel rule the block means approximate.
    fn exact_dark(img: &GrayImage, r: usize, pct: u32, x: usize, y: usize) -> (bool, f64) {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let mut sum = 0u64;
        for yy in y0..y1 {
            for xx in x0..x1 {
                sum += u64::from(img.get_pixel(xx as u32, yy as u32)[0]);
            }
        }
        let mean = sum as f64 / ((x1 - x0) * (y1 - y0)) as f64;
        let p = f64::from(img.get_pixel(x as u32, y as u32)[0]);
        (p < mean * f64::from(100 - pct) / 100.0, mean)
    }

    proptest::proptest! {
        #[test]
        fn packed_rows_hold_each_pixel_and_their_runs_add_up(
            w in 1usize..200, h in 1usize..4, seed in 0u32..u32::MAX, level in 0u8..=255,
        ) {
            let mut s = seed | 1;
            let img = GrayImage::from_fn(w as u32, h as u32, |_, _| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                // long runs as well as single pixels
                [if s % 7 < 3 { 0 } else { (s >> 24) as u8 }].into()
            });
            let bm = global(&img, level);
            let mut runs = Vec::new();
            for y in 0..h {
                bm.row_runs(y, &mut runs);
                proptest::prop_assert_eq!(runs.iter().map(|&r| r as usize).sum::<usize>(), w);
                let mut x = 0;
                for (i, &r) in runs.iter().enumerate() {
                    proptest::prop_assert!(r > 0 || i == 0, "only the first run may be empty");
                    for _ in 0..r {
                        let want = img.get_pixel(x as u32, y as u32)[0] <= level;
                        proptest::prop_assert_eq!(bm.get(x, y), want);
                        proptest::prop_assert_eq!(i % 2 == 1, want, "odd runs are dark");
                        x += 1;
                    }
                }
            }
        }
    }

    #[test]
    fn block_local_means_agree_with_the_per_pixel_rule_except_near_the_threshold() {
        // smooth shading with sharp detail on top, like a lit page
        let (w, h) = (173u32, 111u32);
        let mut s = 0x1234_5678_u32;
        let img = GrayImage::from_fn(w, h, |x, y| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let base = 60 + (x * 120 / w) + (y * 50 / h);
            let detail = if (x / 5 + y / 3) % 2 == 0 { 0 } else { 60 };
            [(base + detail + (s >> 29)).min(255) as u8].into()
        });
        for (r, pct) in [(6usize, 8u32), (21, 15), (21, 25), (40, 8)] {
            let bm = LocalMeans::new(&img, r).bitmap(&img, pct);
            let mut differ = 0;
            for y in 0..h as usize {
                for x in 0..w as usize {
                    let (want, mean) = exact_dark(&img, r, pct, x, y);
                    if bm.get(x, y) != want {
                        differ += 1;
                        // only pixels within a few grey levels of the threshold
                        let p = f64::from(img.get_pixel(x as u32, y as u32)[0]);
                        let t = mean * f64::from(100 - pct) / 100.0;
                        assert!(
                            (p - t).abs() < 12.0,
                            "r {r} pct {pct} at ({x},{y}): p {p} t {t}"
                        );
                    }
                }
            }
            assert!(
                differ * 50 < (w * h) as usize,
                "r {r} pct {pct}: {differ} pixels differ"
            );
        }
    }

    #[test]
    fn a_region_integral_gives_the_whole_frames_means_inside_it() {
        let img = noise(61, 47);
        let whole = Integral::over(&img, 0, 0, 61, 47);
        let part = Integral::over(&img, 10, 5, 50, 40);
        for (x, y, r) in [(20, 15, 4), (30, 20, 9), (15, 10, 5)] {
            assert_eq!(whole.mean(x, y, r), part.mean(x, y, r));
        }
        let direct = |x: usize, y: usize, r: usize| {
            let mut sum = 0u32;
            for yy in y - r..=y + r {
                for xx in x - r..=x + r {
                    sum += u32::from(img.get_pixel(xx as u32, yy as u32)[0]);
                }
            }
            sum / ((2 * r + 1) * (2 * r + 1)) as u32
        };
        assert_eq!(whole.mean(30, 20, 9), direct(30, 20, 9));
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
        let q = downscale(&img, 4);
        assert_eq!((q.width(), q.height()), (2, 1));
        for x in 0..2 {
            let s: u32 = (0..16)
                .map(|i| u32::from(img.get_pixel(4 * x + i % 4, i / 4)[0]))
                .sum();
            assert_eq!(u32::from(q.get_pixel(x, 0)[0]), s / 16);
        }
    }
}
