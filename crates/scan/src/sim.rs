//! Camera simulator: turns a printed e-visa page into photo-like 1280×720 grey
//! frames by category (distance, perspective, rotation, blur, glare, low light,
//! sensor noise), deterministic from a seed, written in the `qr-corpus` layout
//! (`CATEGORY/NAME.png` + `NAME.txt`). Also makes a stand-in page with a
//! realistic KZV1 payload until the real issuer exists.

use super::decode::locate_code;
use image::{GrayImage, Luma};
use qrcode::{EcLevel, QrCode};
use std::path::{Path, PathBuf};

/// Frame categories, in the order they are written.
pub const CATEGORIES: [&str; 9] = [
    "nominal",
    "far",
    "close",
    "perspective",
    "rotated",
    "blurred",
    "glare",
    "dark",
    "noisy",
];

pub const FRAME_W: u32 = 1280;
pub const FRAME_H: u32 = 720;

/// SplitMix64: small, deterministic, no dependency on `rand`'s stream stability.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    pub fn new(seed: u64) -> Self {
        SimRng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f()
    }
    pub fn gauss(&mut self) -> f64 {
        let u1 = self.f().max(1e-12);
        let u2 = self.f();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

const B45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// A stand-in payload shaped like the real one: `KZV1:` + 445 Base45 characters
/// (QR alphanumeric, version 16 at ECC Q).
pub fn standin_payload(seed: u64) -> String {
    let mut rng = SimRng::new(seed);
    let mut s = String::from("KZV1:");
    for _ in 0..445 {
        s.push(B45[(rng.next_u64() % 45) as usize] as char);
    }
    s
}

/// A white A4-ish page (1240×1754) with the payload as an ECC-Q QR code and
/// some grey "text" bars around it.
pub fn standin_page(payload: &str) -> GrayImage {
    let mut page = GrayImage::from_pixel(1240, 1754, Luma([255]));
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::Q)
        .expect("stand-in payload fits a QR code");
    let n = code.width();
    let colors = code.to_colors();
    let m = 6u32; // px per module
    let side = n as u32 * m;
    let (ox, oy) = ((1240 - side) / 2, 700);
    for y in 0..n {
        for x in 0..n {
            if colors[y * n + x] == qrcode::Color::Dark {
                for dy in 0..m {
                    for dx in 0..m {
                        page.put_pixel(ox + x as u32 * m + dx, oy + y as u32 * m + dy, Luma([20]));
                    }
                }
            }
        }
    }
    let mut rng = SimRng::new(7);
    for line in 0..14u32 {
        let y0 = 120 + line * 36;
        let len = rng.range(300.0, 1000.0) as u32;
        for y in y0..y0 + 14 {
            for x in 120..120 + len {
                page.put_pixel(x, y, Luma([90]));
            }
        }
    }
    for line in 0..6u32 {
        let y0 = 1300 + line * 40;
        let len = rng.range(300.0, 1000.0) as u32;
        for y in y0..y0 + 14 {
            for x in 120..120 + len {
                page.put_pixel(x, y, Luma([90]));
            }
        }
    }
    page
}

type M3 = [f64; 9];

fn mul(a: &M3, b: &M3) -> M3 {
    let mut r = [0f64; 9];
    for i in 0..3 {
        for j in 0..3 {
            r[i * 3 + j] = (0..3).map(|k| a[i * 3 + k] * b[k * 3 + j]).sum();
        }
    }
    r
}

fn inv(m: &M3) -> M3 {
    let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
        + m[2] * (m[3] * m[7] - m[4] * m[6]);
    let d = 1.0 / det;
    [
        (m[4] * m[8] - m[5] * m[7]) * d,
        (m[2] * m[7] - m[1] * m[8]) * d,
        (m[1] * m[5] - m[2] * m[4]) * d,
        (m[5] * m[6] - m[3] * m[8]) * d,
        (m[0] * m[8] - m[2] * m[6]) * d,
        (m[2] * m[3] - m[0] * m[5]) * d,
        (m[3] * m[7] - m[4] * m[6]) * d,
        (m[1] * m[6] - m[0] * m[7]) * d,
        (m[0] * m[4] - m[1] * m[3]) * d,
    ]
}

fn apply(m: &M3, x: f64, y: f64) -> (f64, f64) {
    let w = m[6] * x + m[7] * y + m[8];
    (
        (m[0] * x + m[1] * y + m[2]) / w,
        (m[3] * x + m[4] * y + m[5]) / w,
    )
}

struct Params {
    module_px: f64,
    rot_deg: f64,
    tilt: f64,
    blur: f64,
    noise: f64,
    gain: f64,
    glare: f64,
}

fn params(cat: &str, rng: &mut SimRng) -> Params {
    let mut p = Params {
        module_px: rng.range(2.5, 3.2),
        rot_deg: rng.range(-8.0, 8.0),
        tilt: rng.range(0.0, 0.06),
        blur: rng.range(0.6, 0.9),
        noise: rng.range(2.0, 4.0),
        gain: rng.range(0.85, 1.0),
        glare: 0.0,
    };
    match cat {
        "far" => p.module_px = rng.range(1.8, 2.2),
        "close" => p.module_px = rng.range(4.0, 6.5),
        "perspective" => p.tilt = rng.range(0.12, 0.25),
        "rotated" => p.rot_deg = rng.range(0.0, 360.0),
        "blurred" => {
            p.blur = rng.range(1.2, 1.7);
            p.module_px = rng.range(2.8, 3.6);
        }
        "glare" => p.glare = rng.range(120.0, 220.0),
        "dark" => {
            p.gain = rng.range(0.22, 0.32);
            p.noise = rng.range(2.0, 3.5);
        }
        "noisy" => p.noise = rng.range(12.0, 20.0),
        _ => {}
    }
    p
}

/// Render one frame of `page` whose code has outer corners `corners` (page
/// pixels, code orientation) and side `dim` modules.
pub fn render_frame(
    page: &GrayImage,
    corners: &[(f64, f64); 4],
    dim: usize,
    category: &str,
    rng: &mut SimRng,
) -> GrayImage {
    let p = params(category, rng);
    let (fw, fh) = (f64::from(FRAME_W), f64::from(FRAME_H));
    // page -> code-square coordinates (0..1), from the located corners
    let code_to_page = square_to_quad(corners);
    let page_to_code = inv(&code_to_page);
    let side = p.module_px * dim as f64;
    // code square (centred, unit) -> frame: scale, rotate, tilt, translate
    let theta = p.rot_deg.to_radians();
    let (c, s) = (theta.cos(), theta.sin());
    let centre: M3 = [1.0, 0.0, -0.5, 0.0, 1.0, -0.5, 0.0, 0.0, 1.0];
    let phi = rng.range(0.0, std::f64::consts::TAU);
    let (tx, ty) = (p.tilt * 2.0 * phi.cos(), p.tilt * 2.0 * phi.sin());
    let persp: M3 = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, tx, ty, 1.0];
    let rot_scale: M3 = [
        c * side,
        -s * side,
        0.0,
        s * side,
        c * side,
        0.0,
        0.0,
        0.0,
        1.0,
    ];
    let body = mul(&rot_scale, &mul(&persp, &centre));
    // keep the whole code inside the frame with a margin
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for (u, v) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)] {
        let (x, y) = apply(&body, u, v);
        xs.push(x);
        ys.push(y);
    }
    let (minx, maxx) = (
        xs.iter().cloned().fold(f64::MAX, f64::min),
        xs.iter().cloned().fold(f64::MIN, f64::max),
    );
    let (miny, maxy) = (
        ys.iter().cloned().fold(f64::MAX, f64::min),
        ys.iter().cloned().fold(f64::MIN, f64::max),
    );
    let margin = 20.0;
    let ox = rng.range(margin - minx, (fw - margin - maxx).max(margin - minx + 1.0));
    let oy = rng.range(margin - miny, (fh - margin - maxy).max(margin - miny + 1.0));
    let shift: M3 = [1.0, 0.0, ox, 0.0, 1.0, oy, 0.0, 0.0, 1.0];
    let code_to_frame = mul(&shift, &body);
    let frame_to_page = mul(&code_to_page, &inv(&code_to_frame));
    let _ = page_to_code;

    // lighting: gradient + optional glare blob
    let (lgx, lgy) = (rng.range(-0.25, 0.25) / fw, rng.range(-0.25, 0.25) / fh);
    let ambient = rng.range(0.0, 15.0);
    let (gx, gy) = apply(&code_to_frame, rng.range(0.2, 0.8), rng.range(0.2, 0.8));
    let gr = side * rng.range(0.15, 0.3);
    let bg = rng.range(60.0, 140.0);
    let mut buf = vec![0f32; (FRAME_W * FRAME_H) as usize];
    let (pw, ph) = (f64::from(page.width()), f64::from(page.height()));
    for y in 0..FRAME_H as usize {
        for x in 0..FRAME_W as usize {
            let mut acc = 0.0;
            for (dx, dy) in [(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)] {
                let (u, v) = apply(&frame_to_page, x as f64 + dx, y as f64 + dy);
                acc += if u >= 0.0 && v >= 0.0 && u < pw - 1.0 && v < ph - 1.0 {
                    f64::from(super::binarize::sample(page, u as f32, v as f32))
                } else {
                    bg + 20.0 * ((x as f64 / 97.0).sin() * (y as f64 / 61.0).cos())
                };
            }
            let light = p.gain * (1.0 + lgx * (x as f64 - fw / 2.0) + lgy * (y as f64 - fh / 2.0));
            let mut val = acc / 4.0 * 0.88 * light + ambient;
            if p.glare > 0.0 {
                let d2 = (x as f64 - gx).powi(2) + (y as f64 - gy).powi(2);
                val += p.glare * (-d2 / (2.0 * gr * gr)).exp();
            }
            buf[y * FRAME_W as usize + x] = val as f32;
        }
    }
    let buf = gaussian_blur(&buf, FRAME_W as usize, FRAME_H as usize, p.blur);
    let mut out = GrayImage::new(FRAME_W, FRAME_H);
    for (i, px) in out.iter_mut().enumerate() {
        let v = f64::from(buf[i]) + p.noise * rng.gauss();
        *px = v.round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// Homography mapping the unit square (0,0),(1,0),(1,1),(0,1) to a quad.
fn square_to_quad(q: &[(f64, f64); 4]) -> M3 {
    let (x0, y0) = q[0];
    let (x1, y1) = q[1];
    let (x2, y2) = q[2];
    let (x3, y3) = q[3];
    let dx1 = x1 - x2;
    let dx2 = x3 - x2;
    let dy1 = y1 - y2;
    let dy2 = y3 - y2;
    let sx = x0 - x1 + x2 - x3;
    let sy = y0 - y1 + y2 - y3;
    let den = dx1 * dy2 - dx2 * dy1;
    let g = (sx * dy2 - dx2 * sy) / den;
    let h = (dx1 * sy - sx * dy1) / den;
    [
        x1 - x0 + g * x1,
        x3 - x0 + h * x3,
        x0,
        y1 - y0 + g * y1,
        y3 - y0 + h * y3,
        y0,
        g,
        h,
        1.0,
    ]
}

fn gaussian_blur(src: &[f32], w: usize, h: usize, sigma: f64) -> Vec<f32> {
    if sigma < 0.1 {
        return src.to_vec();
    }
    let r = (sigma * 3.0).ceil() as isize;
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp() as f32)
        .collect();
    let ks: f32 = k.iter().sum();
    let k: Vec<f32> = k.iter().map(|v| v / ks).collect();
    // Separable: the same 1-D pass along rows, then along columns.
    let pass = |input: &[f32], along_rows: bool| {
        let (len, stride) = if along_rows { (w, 1) } else { (h, w) };
        let mut out = vec![0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                let pos = if along_rows { x } else { y };
                let base = y * w + x - pos * stride;
                let mut a = 0.0;
                for (i, kv) in k.iter().enumerate() {
                    let p = (pos as isize + i as isize - r).clamp(0, len as isize - 1) as usize;
                    a += input[base + p * stride] * kv;
                }
                out[y * w + x] = a;
            }
        }
        out
    };
    pass(&pass(src, true), false)
}

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The page has no code our detector can find and read.
    #[error("no readable QR code found on the page; pass a clean, upright page image")]
    NoCodeOnPage,
    /// The page's code does not hold the text the caller expects.
    #[error("the page's code reads {found:?}, not the expected text")]
    WrongText { found: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode {path}: {source}")]
    Image {
        path: PathBuf,
        source: image::ImageError,
    },
}

/// Write `per_category` frames per category under `out_dir/CATEGORY/` as
/// `sim-NNN.png` with `sim-NNN.txt` (the expected text) beside each.
/// Deterministic from `seed`. Returns the written image paths.
pub fn simulate(
    page: &GrayImage,
    expected_text: &str,
    out_dir: &Path,
    per_category: usize,
    seed: u64,
) -> Result<Vec<PathBuf>, SimError> {
    simulate_as(page, expected_text, out_dir, per_category, seed, "png")
}

/// As [`simulate`], choosing the image format by extension (`png` or `jpg`;
/// the committed fixtures are JPEG to stay small).
pub fn simulate_as(
    page: &GrayImage,
    expected_text: &str,
    out_dir: &Path,
    per_category: usize,
    seed: u64,
    ext: &str,
) -> Result<Vec<PathBuf>, SimError> {
    let (found, corners, dim) = locate_code(page).ok_or(SimError::NoCodeOnPage)?;
    if found.text != expected_text {
        return Err(SimError::WrongText { found: found.text });
    }
    let mut written = Vec::new();
    for (ci, cat) in CATEGORIES.iter().enumerate() {
        let dir = out_dir.join(cat);
        std::fs::create_dir_all(&dir).map_err(|source| SimError::Io {
            path: dir.clone(),
            source,
        })?;
        for i in 0..per_category {
            let mut rng = SimRng::new(
                seed.wrapping_mul(1_000_003)
                    .wrapping_add((ci * 10_000 + i) as u64),
            );
            let frame = render_frame(page, &corners, dim, cat, &mut rng);
            let img_path = dir.join(format!("sim-{i:03}.{ext}"));
            if ext == "jpg" || ext == "jpeg" {
                let f = std::fs::File::create(&img_path).map_err(|source| SimError::Io {
                    path: img_path.clone(),
                    source,
                })?;
                let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(
                    std::io::BufWriter::new(f),
                    75,
                );
                enc.encode_image(&frame).map_err(|source| SimError::Image {
                    path: img_path.clone(),
                    source,
                })?;
            } else {
                frame.save(&img_path).map_err(|source| SimError::Image {
                    path: img_path.clone(),
                    source,
                })?;
            }
            let txt = dir.join(format!("sim-{i:03}.txt"));
            std::fs::write(&txt, expected_text).map_err(|source| SimError::Io {
                path: txt.clone(),
                source,
            })?;
            written.push(img_path);
        }
    }
    Ok(written)
}
