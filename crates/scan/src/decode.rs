//! The frame decode pipeline: a sequence of attempts, cheapest first, each
//! ending in rqrr's decoder, stopped at the first grid whose error correction
//! succeeds or when the per-frame budget runs out. Every call into rqrr runs
//! under `catch_unwind`, so a hostile frame cannot take the kiosk down.

use super::binarize::{self, Bitmap, LocalMeans};
use super::finder;
use super::grid;
use super::qrdata;
use image::GrayImage;
use std::cell::OnceCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// Decode every grid rqrr's own detector groups (the image type is private to
/// rqrr, hence a macro rather than a generic function).
macro_rules! collect_grids {
    ($p:expr, $name:expr) => {{
        let mut v = Vec::new();
        for g in $p.detect_grids() {
            let mut bytes = Vec::new();
            if g.decode_to(&mut bytes).is_ok() {
                v.push(Decoded {
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                    bytes,
                    attempt: $name,
                });
            }
        }
        v
    }};
}

/// Tuning for [`decode_frame`].
#[derive(Debug, Clone, Copy)]
pub struct DecodeOptions {
    /// Stop starting new attempts once this much time has passed (checked
    /// between attempts and between candidate grids). `None` = run them all.
    pub budget: Option<Duration>,
    /// The clock, injectable for tests; the only impurity of the pipeline.
    pub clock: fn() -> Instant,
    /// Also look for light-on-dark (inverted) codes.
    pub try_inverted: bool,
    /// Also try rqrr's own detector (plain and on our bitmaps).
    pub try_rqrr_detector: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            budget: Some(Duration::from_millis(150)),
            clock: Instant::now,
            try_inverted: true,
            try_rqrr_detector: true,
        }
    }
}

/// Options compare by their settings; the clock (a function pointer) is left out.
impl PartialEq for DecodeOptions {
    fn eq(&self, o: &Self) -> bool {
        self.budget == o.budget
            && self.try_inverted == o.try_inverted
            && self.try_rqrr_detector == o.try_rqrr_detector
    }
}
impl Eq for DecodeOptions {}

/// A decoded code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The payload as text (UTF-8; invalid sequences replaced).
    pub text: String,
    /// The raw payload bytes as rqrr delivered them.
    pub bytes: Vec<u8>,
    /// Which attempt read it (for the benchmark and diagnostics).
    pub attempt: &'static str,
}

struct Ctx<'a> {
    opts: &'a DecodeOptions,
    start: Instant,
    /// Stop at the first code ([`decode_frame`]) rather than collect all.
    first_only: bool,
}

impl Ctx<'_> {
    fn expired(&self) -> bool {
        match self.opts.budget {
            Some(b) => (self.opts.clock)().saturating_duration_since(self.start) >= b,
            None => false,
        }
    }
}

/// Decode one QR code from a grey frame, or `None`.
pub fn decode_frame(img: &GrayImage, opts: &DecodeOptions) -> Option<Decoded> {
    guarded(img, opts, true).into_iter().next()
}

/// The whole pipeline under `catch_unwind` too: rqrr calls are guarded one by
/// one, this also covers the project's own code.
fn guarded(img: &GrayImage, opts: &DecodeOptions, first_only: bool) -> Vec<Decoded> {
    let mut out = Vec::new();
    let ok = catch_unwind(AssertUnwindSafe(|| run(img, opts, &mut out, first_only))).is_ok();
    if !ok {
        tracing::warn!(
            width = img.width(),
            height = img.height(),
            "decode pipeline panicked on a frame"
        );
    }
    out
}

/// Decode every distinct code the cheapest successful attempt finds.
pub fn decode_all(img: &GrayImage, opts: &DecodeOptions) -> Vec<Decoded> {
    guarded(img, opts, false)
}

fn push(out: &mut Vec<Decoded>, d: Decoded) {
    if !out.iter().any(|o| o.bytes == d.bytes) {
        out.push(d);
    }
}

/// Grid locations already tried and failed on one image: the local and hard
/// attempts differ only in the bitmap and mostly find the same finders, and
/// locating and sampling read the grey image, not the bitmap, so a triple
/// whose three centres sit within a tenth of a module of a failed one would
/// repeat that work to the same end. (The Otsu attempt keeps its own: shared,
/// its failures cost the hard attempt a simulator read.)
#[derive(Default)]
struct Tried(Vec<([(f32, f32); 3], usize)>);

impl Tried {
    fn seen(&self, t: &finder::Triple, dim: usize) -> bool {
        let m = (t.tl.module + t.tr.module + t.bl.module) / 3.0 * 0.1;
        let c = [(t.tl.x, t.tl.y), (t.tr.x, t.tr.y), (t.bl.x, t.bl.y)];
        self.0.iter().any(|(p, d)| {
            *d == dim
                && p.iter()
                    .zip(&c)
                    .all(|(a, b)| (a.0 - b.0).abs() <= m && (a.1 - b.1).abs() <= m)
        })
    }

    fn add(&mut self, t: &finder::Triple, dim: usize) {
        // bounded: a frame full of finder look-alikes gives at most 12
        // triples × 9 versions per attempt
        if self.0.len() < 4096 {
            self.0
                .push(([(t.tl.x, t.tl.y), (t.tr.x, t.tr.y), (t.bl.x, t.bl.y)], dim));
        }
    }
}

/// A trace of one decode: each attempt's time and what it read. With `every`
/// set, an attempt's reads are taken out of the result as it ends, so every
/// attempt runs (the benchmark's attempt matrix).
struct Trace {
    every: bool,
    steps: Vec<(&'static str, Duration, Vec<Decoded>)>,
}

thread_local! {
    static TRACE: std::cell::RefCell<Option<Trace>> = const { std::cell::RefCell::new(None) };
}

/// Time each attempt of [`decode_frame`] on `img` (binarising included):
/// (attempt, time) in the order they ran, and the result. For the
/// benchmark's per-attempt breakdown; the pipeline itself never reads it.
pub fn trace_attempts(
    img: &GrayImage,
    opts: &DecodeOptions,
) -> (Vec<(&'static str, Duration)>, Option<Decoded>) {
    let (steps, d) = traced(img, opts, false);
    (steps.into_iter().map(|(n, t, _)| (n, t)).collect(), d)
}

/// Run every attempt of [`decode_frame`] on `img`, whatever the earlier ones
/// read: (attempt, time, what it read) in pipeline order. What an attempt
/// reads does not depend on the ones before it (bar the hard attempt
/// skipping the local one's failed triples), so the benchmark can weigh
/// other orders of the attempts from one run.
pub fn trace_every_attempt(
    img: &GrayImage,
    opts: &DecodeOptions,
) -> Vec<(&'static str, Duration, Vec<Decoded>)> {
    traced(img, opts, true).0
}

type Steps = Vec<(&'static str, Duration, Vec<Decoded>)>;

fn traced(img: &GrayImage, opts: &DecodeOptions, every: bool) -> (Steps, Option<Decoded>) {
    TRACE.with(|t| {
        *t.borrow_mut() = Some(Trace {
            every,
            steps: Vec::new(),
        })
    });
    let d = decode_frame(img, opts);
    let steps = TRACE.with(|t| t.borrow_mut().take()).map(|t| t.steps);
    (steps.unwrap_or_default(), d)
}

/// Run one attempt, noting its time and reads when tracing.
fn attempt(name: &'static str, out: &mut Vec<Decoded>, f: impl FnOnce(&mut Vec<Decoded>)) {
    let on = TRACE.with(|t| t.borrow().is_some());
    let t0 = on.then(Instant::now);
    let before = out.len();
    f(out);
    if let Some(t0) = t0 {
        let e = t0.elapsed();
        TRACE.with(|t| {
            if let Some(tr) = t.borrow_mut().as_mut() {
                let read = if tr.every {
                    out.split_off(before)
                } else {
                    out[before..].to_vec()
                };
                tr.steps.push((name, e, read));
            }
        });
    }
}

/// One way of looking for a code in a frame: a copy of the frame at some
/// scale, a way to binarise it and a detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// Photos: a quarter-size copy, where a typical code's modules are still
    /// several pixels wide and every pass costs a sixteenth.
    Quarter,
    /// Local means, 15 % below: the main attempt.
    Local,
    /// One global (Otsu) level: clean codes whose modules are wider than
    /// the local window.
    Otsu,
    /// Local means, 25 % below: small blurred finders whose light ring is
    /// only a little above the mean.
    Hard,
    /// rqrr's detector on our local bitmap.
    RqrrBitmap,
    /// rqrr's detector on the stretched grey frame (close-ups).
    RqrrPlain,
    /// A 2× upscale: small modules.
    Up2,
    /// The reduced copy, a wider window and a softer threshold.
    Down2,
    /// The reduced copy, one global level.
    Down2Otsu,
    /// The reduced copy, thresholded at the mean itself.
    Soft,
    /// Light-on-dark codes.
    Inverted,
    /// Photos at full size: a small code in a large photo.
    Full,
}

impl Attempt {
    fn name(self) -> &'static str {
        match self {
            Attempt::Quarter => "own-quarter",
            Attempt::Local => "own-local",
            Attempt::Otsu => "own-otsu",
            Attempt::Hard => "own-hard",
            Attempt::RqrrBitmap => "rqrr-bitmap",
            Attempt::RqrrPlain => "rqrr-plain",
            Attempt::Up2 => "own-up2",
            Attempt::Down2 => "own-down2",
            Attempt::Down2Otsu => "own-down2-otsu",
            Attempt::Soft => "own-soft",
            Attempt::Inverted => "own-inverted",
            Attempt::Full => "own-full",
        }
    }
}

use Attempt::*;

/// The attempt order per class of frame: photos (above 2,200 px), frames
/// up to [`UP2_MAX`] (which get the 2× upscale) and those between (the
/// booth camera's 1280×720). What an attempt reads does not depend on the
/// ones before it, so the order changes only the time a frame costs; these
/// were chosen with `scripts/attempt-order.py` over the attempt matrix of
/// all five benchmark sets (docs/scanning.md, "Attempt order"). The hard
/// attempt reuses the local one's means and failed triples, so it follows it.
const ORDER_PHOTO: &[Attempt] = &[
    Quarter, Local, Otsu, Down2, Down2Otsu, Soft, Hard, RqrrBitmap, RqrrPlain, Inverted, Full,
];
const ORDER_MID: &[Attempt] = &[
    Local, Hard, Down2, Down2Otsu, Otsu, Soft, RqrrBitmap, RqrrPlain, Inverted,
];
const ORDER_SMALL: &[Attempt] = &[
    Soft, Otsu, Down2, Local, Hard, RqrrBitmap, Up2, Down2Otsu, RqrrPlain, Inverted,
];

/// A frame and the copies and bitmaps attempts share, each made when an
/// attempt first needs it.
struct Frame<'a> {
    img: &'a GrayImage,
    /// Above 2,200 px: the main attempts work on a half-size copy.
    big: bool,
    half: OnceCell<GrayImage>,
    /// The reduced copy: a photo's quarter, else half of the frame.
    small: OnceCell<GrayImage>,
    means: OnceCell<LocalMeans>,
    local: OnceCell<Bitmap>,
}

impl Frame<'_> {
    /// The frame the main attempts work on.
    fn base(&self) -> &GrayImage {
        if self.big {
            self.half.get_or_init(|| binarize::downscale2(self.img))
        } else {
            self.img
        }
    }

    fn small(&self) -> &GrayImage {
        self.small.get_or_init(|| {
            if self.big {
                binarize::downscale(self.img, 4)
            } else {
                binarize::downscale2(self.img)
            }
        })
    }

    /// The main local window: ≈ 1/60 of the frame, measured best on the
    /// simulator set (thin light rings of blurred finders survive).
    fn radius(&self) -> usize {
        let b = self.base();
        (b.width().max(b.height()) as usize / 60).clamp(6, 60)
    }

    fn means(&self) -> &LocalMeans {
        self.means
            .get_or_init(|| LocalMeans::new(self.base(), self.radius()))
    }

    fn local(&self) -> &Bitmap {
        self.local
            .get_or_init(|| self.means().bitmap(self.base(), 15))
    }
}

fn run(img: &GrayImage, opts: &DecodeOptions, out: &mut Vec<Decoded>, first_only: bool) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 21 || h < 21 || w.checked_mul(h).is_none_or(|n| n > 64 << 20) {
        return;
    }
    let ctx = Ctx {
        opts,
        start: (opts.clock)(),
        first_only,
    };
    let side = w.max(h);
    let f = Frame {
        img,
        big: side > 2200,
        half: OnceCell::new(),
        small: OnceCell::new(),
        means: OnceCell::new(),
        local: OnceCell::new(),
    };
    let order = if f.big {
        ORDER_PHOTO
    } else if side <= UP2_MAX {
        ORDER_SMALL
    } else {
        ORDER_MID
    };
    // shared by the local and hard attempts only (see `Tried`)
    let mut tried = Tried::default();
    for &a in order {
        let runs = match a {
            RqrrBitmap | RqrrPlain => opts.try_rqrr_detector,
            Inverted => opts.try_inverted,
            Down2 | Down2Otsu | Soft => f.small().width() >= 21 && f.small().height() >= 21,
            _ => true,
        };
        if runs {
            attempt(a.name(), out, |out| step(a, &f, &ctx, out, &mut tried));
            if (!out.is_empty() && first_only) || ctx.expired() {
                return;
            }
        }
    }
}

fn step(a: Attempt, f: &Frame, ctx: &Ctx, out: &mut Vec<Decoded>, tried: &mut Tried) {
    let name = a.name();
    match a {
        Quarter => {
            // the same window in scene terms as the half-size passes
            let q = f.small();
            let r = (q.width().max(q.height()) as usize / 30).clamp(6, 60);
            let bm = LocalMeans::new(q, r).bitmap(q, 15);
            own(q, &bm, name, ctx, out, &mut Tried::default());
        }
        Local => own(f.base(), f.local(), name, ctx, out, tried),
        Otsu => {
            // Cheap, and its triples mostly repeat the local ones. (With
            // the local attempt's `Tried` shared, its failures cost the
            // hard attempt a simulator read.)
            let base = f.base();
            let glob = binarize::global(base, binarize::otsu_level(base));
            own(base, &glob, name, ctx, out, &mut Tried::default());
        }
        Hard => {
            let hard = f.means().bitmap(f.base(), 25);
            own(f.base(), &hard, name, ctx, out, tried);
        }
        RqrrBitmap => {
            // as for rqrr-plain below: its flood fills cost ~20 ms a
            // megapixel, and the codes it reads where ours did not have
            // modules large enough for a half-size copy
            let base = f.base();
            if base.width().max(base.height()) > 1100 {
                let small;
                let s = if f.big {
                    small = binarize::downscale2(base);
                    &small
                } else {
                    f.small()
                };
                let r = (s.width().max(s.height()) as usize / 60).clamp(6, 60);
                rqrr_bitmap(&LocalMeans::new(s, r).bitmap(s, 15), name, out);
            } else {
                rqrr_bitmap(f.local(), name, out);
            }
        }
        RqrrPlain => {
            // rqrr's own detector reads codes with large modules (close-ups)
            // and costs ~20 ms a megapixel: at most ~1 Mpx is handed to it
            let base = f.base();
            let src = if f.big || base.width().max(base.height()) > 1100 {
                f.small()
            } else {
                base
            };
            rqrr_plain(&binarize::stretch(src), name, out)
        }
        Up2 => own_pyramid(&binarize::upscale2(f.img), name, ctx, out),
        Down2 => {
            let s = f.small();
            let r = (s.width().max(s.height()) as usize / 40).clamp(6, 60);
            let bm = LocalMeans::new(s, r).bitmap(s, 8);
            own(s, &bm, name, ctx, out, &mut Tried::default());
        }
        Down2Otsu => {
            // Modules far wider than any local window (a code filling the
            // frame, often on a monitor whose pixel grid stripes the light
            // modules at full size): one global level on the reduced copy.
            let s = f.small();
            let glob = binarize::global(s, binarize::otsu_level(s));
            own_top(s, &glob, name, ctx, out, (3, 3), &mut Tried::default());
        }
        Soft => {
            // Blur thins a finder's outer ring to a faint grey line a
            // threshold below the local mean misses: threshold at the mean
            // itself. That bitmap is noisy (many false finders, hence
            // triples): only the best-ranked few are worth a grid location.
            let s = f.small();
            let r = (s.width().max(s.height()) as usize / 60).clamp(6, 60);
            let soft = LocalMeans::new(s, r).bitmap(s, 0);
            own_top(s, &soft, name, ctx, out, (2, 3), &mut Tried::default());
        }
        Inverted => {
            let inv = binarize::invert(f.base());
            let bm = LocalMeans::new(&inv, f.radius()).bitmap(&inv, 8);
            own(&inv, &bm, name, ctx, out, &mut Tried::default());
            if (out.is_empty() || !ctx.first_only) && !ctx.expired() && ctx.opts.try_rqrr_detector {
                rqrr_bitmap(&bm, "rqrr-inverted", out);
            }
        }
        // A small code in a large photo, too fine for the half-size copy.
        // It read nothing on our sets and costs an unread 12 Mpx photo
        // 40–90 ms, so it runs last.
        Full => own_pyramid(f.img, name, ctx, out),
    }
}

/// A finer scale than the main attempts (an upscaled frame, or a photo at
/// full size): a wider window and a soft threshold.
fn own_pyramid(alt: &GrayImage, name: &'static str, ctx: &Ctx, out: &mut Vec<Decoded>) {
    let r = (alt.width().max(alt.height()) as usize / 40).clamp(6, 80);
    let bm = LocalMeans::new(alt, r).bitmap(alt, 8);
    own(alt, &bm, name, ctx, out, &mut Tried::default());
}

/// Frames up to this side get an upscaled attempt. Every read it made on our
/// sets was on a frame of at most 1,024 px; at 1,400 px the doubled frame
/// is 6 Mpx and the attempt the slowest of all.
const UP2_MAX: usize = 1100;

/// Grid locations one attempt may try. Reads come within the first 16 on
/// every set we have (one came 46th); a frame that yields nothing tries
/// 12 triples × up to 9 sides, and each try follows alignment patterns, so
/// unread frames would otherwise set the tail.
const MAX_GRIDS: usize = 32;

/// Located maps per attempt that get the lattice resampling of [`mesh_decode`].
const MESH_TRIES: usize = 3;

/// Our own finder detection, grouping, homography and sampling.
fn own(
    img: &GrayImage,
    bm: &Bitmap,
    name: &'static str,
    ctx: &Ctx,
    out: &mut Vec<Decoded>,
    tried: &mut Tried,
) {
    own_top(img, bm, name, ctx, out, (12, usize::MAX), tried);
}

/// [`own`] over only the `limit.0` best-ranked triples and, for each, the
/// `limit.1` best candidate versions (late attempts on noisy bitmaps, where
/// the full search would cost an unread frame most).
fn own_top(
    img: &GrayImage,
    bm: &Bitmap,
    name: &'static str,
    ctx: &Ctx,
    out: &mut Vec<Decoded>,
    limit: (usize, usize),
    tried: &mut Tried,
) {
    let (max_triples, max_versions) = limit;
    let finders = finder::find_finders_until(bm, &|| ctx.expired());
    if finders.len() < 3 {
        return;
    }
    let triples = finder::group(&finders, 14);
    let mut used: Vec<(f32, f32)> = Vec::new();
    // maps located for large sizes that did not decode: (timing fit of
    // their samples, triple, side, map)
    let mut drifting: Vec<(f32, usize, usize, grid::Homography)> = Vec::new();
    let mut located = Vec::new();
    let mut ntries = 0;
    'triples: for (ti, t) in triples.iter().take(max_triples).enumerate() {
        if ctx.expired() {
            return;
        }
        // a finder already part of a decoded code is not reused
        if [t.tl, t.tr, t.bl].iter().any(|f| {
            used.iter()
                .any(|u| (u.0 - f.x).abs() < 2.0 && (u.1 - f.y).abs() < 2.0)
        }) {
            continue;
        }
        let versions = candidate_versions(img, t);
        for v in versions.into_iter().take(max_versions) {
            let dim = 17 + 4 * v;
            if tried.seen(t, dim) {
                continue;
            }
            if ntries >= MAX_GRIDS {
                break 'triples;
            }
            ntries += 1;
            if let Some((d, _)) = try_grid(img, t, dim, name, Some(&mut located)) {
                used.extend([t.tl, t.tr, t.bl].iter().map(|f| (f.x, f.y)));
                push(out, d);
                if ctx.first_only {
                    return;
                }
                break;
            }
            tried.add(t, dim);
        }
        drifting.extend(located.drain(..).map(|(fit, dim, h)| (fit, ti, dim, h)));
    }
    if !used.is_empty() {
        return;
    }
    // Second stage, only when no triple decoded: large codes whose map fits
    // at the alignment patterns but drifts between them (bent paper) are
    // resampled through their lattice of alignment patterns.
    // Only a few maps: those whose timing rows fit best (a gently bent code
    // of the right size still samples them better than chance, a wrong size
    // does not), and, as a bend can push row 6 off by a module or two, the
    // size nearest the finder-distance estimate of each of the two
    // best-ranked triples.
    drifting.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut picks: Vec<usize> = (0..drifting.len().min(MESH_TRIES)).collect();
    for (tri, t) in triples.iter().enumerate().take(2) {
        let nearest = (0..drifting.len())
            .filter(|&i| drifting[i].1 == tri)
            .min_by(|&i, &j| {
                let off = |k: usize| (drifting[k].2 as f32 - t.dim_estimate).abs();
                off(i).total_cmp(&off(j))
            });
        if let Some(i) = nearest
            && !picks.contains(&i)
        {
            picks.push(i);
        }
    }
    for (_, ti, dim, h) in picks.into_iter().map(|i| drifting[i]) {
        if ctx.expired() {
            return;
        }
        if let Some((d, _)) = mesh_decode(img, &triples[ti], h, dim, name) {
            push(out, d);
            if ctx.first_only {
                return;
            }
        }
    }
}

/// The versions worth a grid location for a triple, best first: v0 ± 2 around
/// the finder-distance estimate, ordered by how well their timing patterns
/// fit (so the right one usually comes first and no other is tried), plus,
/// for large codes whose estimate drifts further, versions up to ± 4 whose
/// timing patterns fit clearly.
fn candidate_versions(img: &GrayImage, t: &finder::Triple) -> Vec<usize> {
    let v0 = ((t.dim_estimate - 17.0) / 4.0).round().clamp(1.0, 40.0) as usize;
    let spread = if v0 >= 16 { 4 } else { 2 };
    let mut scored: Vec<(f32, usize)> = (v0.saturating_sub(spread).max(1)..=(v0 + spread).min(40))
        .map(|v| (grid::timing_fit(img, t, 17 + 4 * v), v))
        .filter(|&(fit, v)| v.abs_diff(v0) <= 2 || fit >= 0.75)
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.abs_diff(v0).cmp(&b.1.abs_diff(v0)))
    });
    let mut versions: Vec<usize> = scored.into_iter().map(|s| s.1).collect();
    if v0 >= 6
        && let Some((read, fixed)) = grid::read_version(img, t, v0.saturating_sub(4)..=v0 + 4)
    {
        // Noise lands within one bit of a given version codeword 0.007 % of
        // the time: a block read with at most one bit corrected settles the
        // side, and a grid that fails at the side its code says it has would
        // fail at every other side too.
        if fixed <= 1 {
            return vec![read];
        }
        versions.retain(|&v| v != read);
        versions.insert(0, read);
    }
    versions
}

/// Locate and decode a triple at side `dim`. Maps of large sizes (version 7
/// and up) located by the alignment patterns that did not decode go to
/// `located`, for the lattice resampling of [`mesh_decode`].
fn try_grid(
    img: &GrayImage,
    t: &finder::Triple,
    dim: usize,
    name: &'static str,
    located: Option<&mut Vec<(f32, usize, grid::Homography)>>,
) -> Option<(Decoded, grid::Homography)> {
    let by_alignment = || {
        let h = grid::locate(img, t, dim)?;
        let mut fit = 0.0;
        let r = sample_and_decode_fit(img, h, dim, name, &mut fit);
        if r.is_none()
            && dim >= 45
            && let Some(l) = located
        {
            l.push((fit, dim, h));
        }
        r
    };
    let by_edges =
        || grid::locate_by_edges(img, t, dim).and_then(|h| sample_and_decode(img, h, dim, name));
    // finders of clearly different sizes mean strong perspective: edges first
    let m = [t.tl.module, t.tr.module, t.bl.module];
    let spread = m.iter().copied().fold(0.0, f32::max)
        / m.iter().copied().fold(f32::MAX, f32::min).max(1e-3);
    if spread > 1.3 {
        by_edges().or_else(by_alignment)
    } else {
        by_alignment().or_else(by_edges)
    }
}

fn sample_and_decode(
    img: &GrayImage,
    h: grid::Homography,
    dim: usize,
    name: &'static str,
) -> Option<(Decoded, grid::Homography)> {
    sample_and_decode_fit(img, h, dim, name, &mut 0.0)
}

/// [`sample_and_decode`], also reporting the timing-pattern fit of the samples.
fn sample_and_decode_fit(
    img: &GrayImage,
    h: grid::Homography,
    dim: usize,
    name: &'static str,
    fit: &mut f32,
) -> Option<(Decoded, grid::Homography)> {
    // Cheap early rejection, before sampling the whole grid (31,000 modules
    // at version 40) and the thresholds and three variants below: a map that
    // puts the timing patterns out of phase samples noise.
    *fit = grey_timing_fit(dim, &grid::sample_timing(img, &h, dim));
    if *fit < 0.6 {
        return None;
    }
    let vals = grid::sample_modules(img, &h, dim);
    let thr = grid::local_thresholds(img, &h, dim);
    decode_samples(dim, &vals, &thr, name).map(|d| (d, h))
}

/// The last resort for a large located code that did not decode: sample it
/// again through the alignment-pattern lattice ([`grid::Mesh`]), for paper
/// that bends. Only when the global map's timing patterns already fit (the
/// size and the map are right, the modules between drift).
fn mesh_decode(
    img: &GrayImage,
    t: &finder::Triple,
    h: grid::Homography,
    dim: usize,
    name: &'static str,
) -> Option<(Decoded, grid::Homography)> {
    if dim < 45 {
        return None;
    }
    let mesh = grid::Mesh::measure(img, &h, dim, &grid::finder_points(t, dim))?;
    let (vals, thr) = mesh.sample(img, &h, dim);
    decode_samples(dim, &vals, &thr, name).map(|d| (d, h))
}

/// Decide dark/light for sampled module values and decode: against the local
/// thresholds, then one global threshold, then after sharpening.
fn decode_samples(dim: usize, vals: &[f32], thr: &[f32], name: &'static str) -> Option<Decoded> {
    let dark: Vec<bool> = vals.iter().zip(thr).map(|(v, t)| *v < *t).collect();
    if let Some(d) = decode_matrix(dim, &dark, name) {
        return Some(d);
    }
    // second opinion: one global threshold over the sampled modules
    let mut sorted = vals.to_vec();
    let n = sorted.len();
    let hi = *sorted.select_nth_unstable_by(n * 9 / 10, f32::total_cmp).1;
    let lo = *sorted.select_nth_unstable_by(n / 10, f32::total_cmp).1;
    let mid = (lo + hi) / 2.0;
    let dark2: Vec<bool> = vals.iter().map(|v| *v < mid).collect();
    if dark2 != dark
        && let Some(d) = decode_matrix(dim, &dark2, name)
    {
        return Some(d);
    }
    // blur spreads each module into its neighbours: undo some of it on the
    // module grid (unsharp mask against the 4-neighbour mean)
    let at = |x: usize, y: usize| vals[y * dim + x];
    let sharp: Vec<f32> = (0..dim * dim)
        .map(|i| {
            let (x, y) = (i % dim, i / dim);
            let mut sum = 0.0;
            let mut n = 0.0;
            for (nx, ny) in [
                (x.wrapping_sub(1), y),
                (x + 1, y),
                (x, y.wrapping_sub(1)),
                (x, y + 1),
            ] {
                if nx < dim && ny < dim {
                    sum += at(nx, ny);
                    n += 1.0;
                }
            }
            let v = at(x, y);
            v + 0.8 * (v - sum / n)
        })
        .collect();
    let dark3: Vec<bool> = sharp.iter().zip(thr).map(|(v, t)| *v < *t).collect();
    if dark3 != dark {
        return decode_matrix(dim, &dark3, name);
    }
    None
}

/// [`timing_score`] on grey module values, without a threshold: each timing
/// module compared with the mean of its two neighbours along the pattern.
fn grey_timing_fit(dim: usize, vals: &[f32]) -> f32 {
    if dim < 21 || vals.len() < dim * dim {
        return 0.0;
    }
    let mut ok = 0;
    let mut n = 0;
    for i in 8..dim - 8 {
        let want = i % 2 == 0;
        let row = |k: usize| vals[6 * dim + k];
        let col = |k: usize| vals[k * dim + 6];
        ok += usize::from((row(i) < (row(i - 1) + row(i + 1)) / 2.0) == want)
            + usize::from((col(i) < (col(i - 1) + col(i + 1)) / 2.0) == want);
        n += 2;
    }
    ok as f32 / n as f32
}

/// Fraction of the timing-pattern modules (row and column 6 between the
/// finders) that alternate as they must. A wrong size or map scores near 0.5.
fn timing_score(dim: usize, dark: &[bool]) -> f32 {
    if dim < 21 || dark.len() < dim * dim {
        return 0.0;
    }
    let mut ok = 0;
    let mut n = 0;
    for i in 8..dim - 8 {
        let want = i % 2 == 0;
        ok += usize::from(dark[6 * dim + i] == want) + usize::from(dark[i * dim + 6] == want);
        n += 2;
    }
    ok as f32 / n as f32
}

/// Hand a sampled module matrix to rqrr's decoder (format, ECC, text).
/// rqrr's Reed–Solomon syndromes cost ~5 ms for a version-16 code, so a
/// matrix whose timing patterns are mostly wrong is not worth the call.
pub fn decode_matrix(dim: usize, dark: &[bool], name: &'static str) -> Option<Decoded> {
    if timing_score(dim, dark) < 0.7 {
        return None;
    }
    if CROSS.with(|c| c.borrow().is_some()) {
        cross_record(dim, dark);
    }
    if let Ok(Ok(bytes)) = catch_unwind(|| qrdata::decode_grid(dim, dark)) {
        return Some(Decoded {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
            attempt: name,
        });
    }
    // Our decoder is stricter than rqrr's (structured append, FNC1, odd
    // ECI designators): whatever it refuses, rqrr still gets to try.
    catch_unwind(AssertUnwindSafe(|| {
        let g = grid::to_rqrr(dim, dark);
        let mut bytes = Vec::new();
        g.decode_to(&mut bytes).ok()?;
        Some(Decoded {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
            attempt: name,
        })
    }))
    .ok()
    .flatten()
}

/// Both grid decoders' verdicts on every module matrix one pipeline run
/// sampled (see [`cross_check`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CrossCheck {
    /// Matrices handed to the grid decoders.
    pub grids: usize,
    /// Read by both, with equal bytes.
    pub both: usize,
    /// Read by the project's decoder only.
    pub ours_only: usize,
    /// Those texts (lossy UTF-8), to check against the image's label.
    pub ours_only_texts: Vec<String>,
    /// Read by rqrr's decoder only (ours refused; the pipeline falls back).
    pub rqrr_only: usize,
    /// Read by both with different bytes: (ours, rqrr's), lossy UTF-8. Must stay empty.
    pub disagreements: Vec<(String, String)>,
}

thread_local! {
    static CROSS: std::cell::RefCell<Option<CrossCheck>> = const { std::cell::RefCell::new(None) };
}

/// Run [`decode_all`] on a frame and, for every matrix it samples, run the
/// project's grid decoder AND rqrr's, recording agreement. The guard that
/// the own decoder never reads a text rqrr would read differently.
pub fn cross_check(img: &GrayImage, opts: &DecodeOptions) -> CrossCheck {
    CROSS.with(|c| *c.borrow_mut() = Some(CrossCheck::default()));
    let _ = decode_all(img, opts);
    CROSS.with(|c| c.borrow_mut().take()).unwrap_or_default()
}

fn cross_record(dim: usize, dark: &[bool]) {
    let ours = catch_unwind(|| qrdata::decode_grid(dim, dark))
        .ok()
        .and_then(Result::ok);
    let theirs = catch_unwind(AssertUnwindSafe(|| {
        let mut bytes = Vec::new();
        grid::to_rqrr(dim, dark).decode_to(&mut bytes).ok()?;
        Some(bytes)
    }))
    .ok()
    .flatten();
    CROSS.with(|c| {
        if let Some(x) = c.borrow_mut().as_mut() {
            x.grids += 1;
            match (ours, theirs) {
                (Some(a), Some(b)) if a == b => x.both += 1,
                (Some(a), Some(b)) => x.disagreements.push((
                    String::from_utf8_lossy(&a).into_owned(),
                    String::from_utf8_lossy(&b).into_owned(),
                )),
                (Some(a), None) => {
                    x.ours_only += 1;
                    x.ours_only_texts
                        .push(String::from_utf8_lossy(&a).into_owned());
                }
                (None, Some(_)) => x.rqrr_only += 1,
                (None, None) => {}
            }
        }
    });
}

fn rqrr_bitmap(bm: &Bitmap, name: &'static str, out: &mut Vec<Decoded>) {
    let found = catch_unwind(AssertUnwindSafe(|| {
        let mut p = rqrr::PreparedImage::prepare_from_bitmap(bm.w, bm.h, |x, y| bm.get(x, y));
        collect_grids!(p, name)
    }));
    for d in found.unwrap_or_default() {
        push(out, d);
    }
}

fn rqrr_plain(img: &GrayImage, name: &'static str, out: &mut Vec<Decoded>) {
    let found = catch_unwind(AssertUnwindSafe(|| {
        let mut p = rqrr::PreparedImage::prepare(img.clone());
        collect_grids!(p, name)
    }));
    for d in found.unwrap_or_default() {
        push(out, d);
    }
}

/// A code found by [`locate_code`]: text, outer corners (TL, TR, BR, BL) in
/// pixels, side in modules.
pub type LocatedCode = (Decoded, [(f64, f64); 4], usize);

/// Find and decode a code on a clean image (a printed page) with the project's
/// own detector, returning its text and the pixel positions of its four outer
/// corners (top-left, top-right, bottom-right, bottom-left, in code
/// orientation) and its side in modules. Used by the camera simulator.
pub fn locate_code(img: &GrayImage) -> Option<LocatedCode> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 21 || h < 21 {
        return None;
    }
    let r = (w.max(h) / 40).clamp(6, 60);
    for bm in [
        LocalMeans::new(img, r).bitmap(img, 8),
        binarize::global(img, binarize::otsu_level(img)),
    ] {
        let finders = finder::find_finders(&bm);
        for t in finder::group(&finders, 14).iter().take(12) {
            let v0 = ((t.dim_estimate - 17.0) / 4.0).round().clamp(1.0, 40.0) as usize;
            for v in [v0, v0 + 1, v0.saturating_sub(1)] {
                if !(1..=40).contains(&v) {
                    continue;
                }
                let dim = 17 + 4 * v;
                if let Some((d, hm)) = try_grid(img, t, dim, "locate", None) {
                    let n = dim as f64;
                    let c = [
                        hm.map(0.0, 0.0),
                        hm.map(n, 0.0),
                        hm.map(n, n),
                        hm.map(0.0, n),
                    ];
                    return Some((d, c, dim));
                }
            }
        }
    }
    None
}

/// Human-readable trace of the own detector on one frame (for tuning).
#[doc(hidden)]
pub fn debug_report(img: &GrayImage) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let r = (img.width().max(img.height()) as usize / 60).clamp(6, 60);
    let bm = if std::env::var_os("EVISA_DEBUG_OTSU").is_some() {
        binarize::global(img, binarize::otsu_level(img))
    } else {
        LocalMeans::new(img, r).bitmap(img, 15)
    };
    let finders = finder::find_finders(&bm);
    let mut fs = finders.clone();
    fs.sort_by_key(|f| std::cmp::Reverse(f.hits));
    for f in fs.iter().take(15) {
        let _ = writeln!(
            s,
            "finder ({:.1},{:.1}) m={:.2} hits={}",
            f.x, f.y, f.module, f.hits
        );
    }
    for t in finder::group(&finders, 14).iter().take(5) {
        let _ = writeln!(
            s,
            "triple tl=({:.0},{:.0}) tr=({:.0},{:.0}) bl=({:.0},{:.0}) dim~{:.1} score={:.2}",
            t.tl.x, t.tl.y, t.tr.x, t.tr.y, t.bl.x, t.bl.y, t.dim_estimate, t.score
        );
        let v0 = ((t.dim_estimate - 17.0) / 4.0).round().clamp(1.0, 40.0) as usize;
        for v in [v0, v0 + 1, v0.saturating_sub(1)] {
            let dim = 17 + 4 * v;
            let ok = try_grid(img, t, dim, "dbg", None).is_some();
            let _ = writeln!(s, "  v{v} dim {dim}: {}", if ok { "READ" } else { "fail" });
        }
    }
    s
}

/// The local-mean bitmap the first attempt uses, as an image (for tuning).
#[doc(hidden)]
pub fn debug_bitmap(img: &GrayImage) -> GrayImage {
    let r = (img.width().max(img.height()) as usize / 60).clamp(6, 60);
    let bm = LocalMeans::new(img, r).bitmap(img, 15);
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        [if bm.get(x as usize, y as usize) {
            0
        } else {
            255
        }]
        .into()
    })
}

/// Stage timings of the first attempt on one frame, in ms (for tuning).
#[doc(hidden)]
pub fn debug_timings(img: &GrayImage) -> Vec<(&'static str, f64)> {
    let mut v = Vec::new();
    let t = Instant::now();
    let r = (img.width().max(img.height()) as usize / 60).clamp(6, 60);
    let means = LocalMeans::new(img, r);
    v.push(("local means", t.elapsed().as_secs_f64() * 1e3));
    let t = Instant::now();
    let bm = means.bitmap(img, 15);
    v.push(("binarise", t.elapsed().as_secs_f64() * 1e3));
    let t = Instant::now();
    let finders = finder::find_finders(&bm);
    v.push(("finders", t.elapsed().as_secs_f64() * 1e3));
    let t = Instant::now();
    let triples = finder::group(&finders, 14);
    v.push(("group", t.elapsed().as_secs_f64() * 1e3));
    if let Some(tr) = triples.first() {
        let v0 = ((tr.dim_estimate - 17.0) / 4.0).round().clamp(1.0, 40.0) as usize;
        let dim = 17 + 4 * v0;
        let t = Instant::now();
        let hs = grid::locate(img, tr, dim);
        v.push(("locate", t.elapsed().as_secs_f64() * 1e3));
        if let Some(h) = hs.as_ref() {
            let t = Instant::now();
            let vals = grid::sample_modules(img, h, dim);
            let thr = grid::local_thresholds(img, h, dim);
            v.push(("sample", t.elapsed().as_secs_f64() * 1e3));
            let dark: Vec<bool> = vals.iter().zip(&thr).map(|(a, b)| a < b).collect();
            let t = Instant::now();
            for _ in 0..20 {
                let _ = decode_matrix(dim, &dark, "t");
            }
            v.push(("grid decode (x20)", t.elapsed().as_secs_f64() * 1e3));
            let t = Instant::now();
            for _ in 0..20 {
                let mut sink = Vec::new();
                let _ = grid::to_rqrr(dim, &dark).decode_to(&mut sink);
            }
            v.push(("rqrr decode (x20)", t.elapsed().as_secs_f64() * 1e3));
            let t = Instant::now();
            for _ in 0..20 {
                let _ = grid::to_rqrr(dim, &dark);
            }
            v.push(("SimpleGrid (x20)", t.elapsed().as_secs_f64() * 1e3));
            let g = grid::to_rqrr(dim, &dark);
            let t = Instant::now();
            for _ in 0..20 {
                let _ = g.get_raw_data();
            }
            v.push(("get_raw_data (x20)", t.elapsed().as_secs_f64() * 1e3));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_attempts() -> DecodeOptions {
        DecodeOptions {
            budget: None,
            ..Default::default()
        }
    }

    /// The pipeline itself, not through `guarded`: a panic here fails the
    /// test instead of being caught and logged. No budget: what is read must
    /// not depend on the machine's speed.
    fn run_unguarded(img: &GrayImage) -> Vec<Decoded> {
        let mut out = Vec::new();
        run(img, &all_attempts(), &mut out, false);
        out
    }

    #[test]
    fn photo_sized_frames_of_degenerate_shapes_run_every_attempt_without_panicking() {
        // Over 2,200 px a side the quarter-size copy, the lazy half-size one
        // and the ~1 Mpx copies for rqrr come in; shapes that shrink to
        // nothing along one side must still be handled (the fuzz target's
        // frames stop at 2,047 px).
        let mut s = 0x2545_f491_u32;
        for (w, h) in [
            (1, 2300),
            (2300, 1),
            (3, 4100),
            (4100, 7),
            (2201, 22),
            (23, 2201),
        ] {
            let img = GrayImage::from_fn(w, h, |_, _| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                [(s >> 24) as u8].into()
            });
            assert!(run_unguarded(&img).is_empty(), "{w}×{h}");
        }
    }

    #[test]
    fn every_class_runs_each_of_its_attempts_once_and_hard_after_local() {
        let all = [
            Quarter, Local, Otsu, Hard, RqrrBitmap, RqrrPlain, Up2, Down2, Down2Otsu, Soft,
            Inverted, Full,
        ];
        for (order, only) in [
            (ORDER_PHOTO, &[Quarter, Full][..]),
            (ORDER_MID, &[][..]),
            (ORDER_SMALL, &[Up2][..]),
        ] {
            let special = [Quarter, Full, Up2];
            for a in all {
                let n = order.iter().filter(|&&b| b == a).count();
                let want = usize::from(!special.contains(&a) || only.contains(&a));
                assert_eq!(n, want, "{a:?} in {order:?}");
            }
            let at = |a| order.iter().position(|&b| b == a);
            assert!(at(Local) < at(Hard), "{order:?}");
        }
    }

    /// A frame with a code that every attempt of its class can read.
    fn clean_code(px: u32) -> (GrayImage, &'static str) {
        let text = "every attempt";
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
            .expect("encode");
        let n = code.width() as u32;
        let colors = code.to_colors();
        let side = (n + 8) * px;
        let img = GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = ((x / px) as i64 - 4, (y / px) as i64 - 4);
            let inside = mx >= 0 && my >= 0 && (mx as u32) < n && (my as u32) < n;
            let dark =
                inside && colors[(my as u32 * n + mx as u32) as usize] == qrcode::Color::Dark;
            [if dark { 30 } else { 220 }].into()
        });
        (img, text)
    }

    #[test]
    fn the_attempt_matrix_runs_every_attempt_and_keeps_what_each_read() {
        // 8 px modules in a 264 px frame: the small class
        let (img, text) = clean_code(8);
        let steps = trace_every_attempt(&img, &all_attempts());
        let names: Vec<&str> = steps.iter().map(|s| s.0).collect();
        let want: Vec<&str> = ORDER_SMALL.iter().map(|a| a.name()).collect();
        assert_eq!(names, want);
        // the first attempt reads it, and so do later ones: nothing stopped
        // the run and each attempt's reads are its own
        for a in [Soft, Otsu] {
            let s = steps.iter().find(|s| s.0 == a.name()).expect("ran");
            assert_eq!(
                s.2.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(),
                [text],
                "{a:?}"
            );
        }
        // the plain decode stops at the first
        let (trace, d) = trace_attempts(&img, &all_attempts());
        assert_eq!(trace.len(), 1);
        assert_eq!(d.map(|d| d.attempt), Some(ORDER_SMALL[0].name()));
    }

    #[test]
    fn a_code_in_a_photo_sized_frame_is_read_from_the_quarter_size_copy() {
        let text = "photo sized";
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
            .expect("encode");
        // 16 px modules (4 at quarter size), in a 2,400 × 1,800 light frame
        let n = code.width() as u32;
        let colors = code.to_colors();
        let img = GrayImage::from_fn(2400, 1800, |x, y| {
            let (mx, my) = ((x as i64 - 700) / 16, (y as i64 - 400) / 16);
            let inside = x >= 700 && y >= 400 && (mx as u32) < n && (my as u32) < n;
            let dark =
                inside && colors[(my as u32 * n + mx as u32) as usize] == qrcode::Color::Dark;
            [if dark { 30 } else { 220 }].into()
        });
        let got = run_unguarded(&img);
        assert_eq!(
            got.first().map(|d| (d.text.as_str(), d.attempt)),
            Some((text, "own-quarter"))
        );
    }

    #[test]
    fn a_large_code_on_a_bent_page_is_read_through_its_alignment_lattice() {
        let (code, text) = grid::tests::bent_page_code();
        let (img, _) = grid::tests::render(&code, 12.0);
        let d = decode_frame(&img, &all_attempts()).expect("read");
        assert_eq!(d.text, text);
    }

    /// A version-2 code filling a 1500 px frame, light modules striped by a
    /// monitor's pixel grid (a darker line every 5 px each way).
    fn monitor_frame(text: &str) -> GrayImage {
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
            .expect("encode");
        let dim = code.width() as u32;
        let colors = code.to_colors();
        let px = 56;
        let margin = 60;
        let side = dim * px + 2 * margin;
        GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = (x.wrapping_sub(margin) / px, y.wrapping_sub(margin) / px);
            let dark =
                mx < dim && my < dim && colors[(my * dim + mx) as usize] == qrcode::Color::Dark;
            let v = if dark {
                25
            } else if x % 5 == 0 || y % 5 == 0 {
                90
            } else {
                215
            };
            [v].into()
        })
    }

    #[test]
    fn a_code_filling_a_monitor_frame_is_read() {
        let text = "https://example.kz/visa/0042";
        let d = decode_frame(&monitor_frame(text), &all_attempts()).expect("read");
        assert_eq!(d.text, text);
    }

    /// A version-10 code at 6 px per module whose top-left finder has faded
    /// (its outer ring printed light grey, as blur leaves a thin ring), with
    /// a 3×3 box blur over everything.
    fn faded_finder_frame(text: &str, ring: u8) -> GrayImage {
        let code = qrcode::QrCode::with_version(
            text.as_bytes(),
            qrcode::Version::Normal(10),
            qrcode::EcLevel::H,
        )
        .expect("encode");
        let dim = code.width() as u32;
        let colors = code.to_colors();
        let px = 6;
        let margin = 48;
        let side = dim * px + 2 * margin;
        let sharp = GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = (x.wrapping_sub(margin) / px, y.wrapping_sub(margin) / px);
            if mx >= dim || my >= dim || colors[(my * dim + mx) as usize] != qrcode::Color::Dark {
                return [215].into();
            }
            let outer_ring = mx < 7 && my < 7 && (mx == 0 || my == 0 || mx == 6 || my == 6);
            [if outer_ring { ring } else { 25 }].into()
        });
        GrayImage::from_fn(side, side, |x, y| {
            let mut sum = 0u32;
            for dy in 0..3 {
                for dx in 0..3 {
                    let (sx, sy) = ((x + dx).saturating_sub(1), (y + dy).saturating_sub(1));
                    sum += u32::from(sharp.get_pixel(sx.min(side - 1), sy.min(side - 1))[0]);
                }
            }
            [(sum / 9) as u8].into()
        })
    }

    #[test]
    fn a_finder_with_a_faded_outer_ring_is_found_at_the_local_mean() {
        // at this grey only the threshold at the mean keeps the ring dark
        let text = "faded finder ring 0123456789";
        let d = decode_frame(&faded_finder_frame(text, 165), &all_attempts()).expect("read");
        assert_eq!(d.text, text);
    }
}
