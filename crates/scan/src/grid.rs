//! From a finder triple to a module matrix: an initial affine map from the
//! three finder centres, refined into a least-squares homography with every
//! alignment pattern located by template matching (not just rqrr's single
//! spiral-searched anchor), then sampled per module against a local threshold.
//! The matrix is handed to `rqrr::Grid::new(SimpleGrid::from_func(..))`.

use super::binarize::{Integral, sample};
use super::finder::Triple;
use image::GrayImage;

/// Projective map from module coordinates (x, y) to image pixels.
#[derive(Debug, Clone, Copy)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    pub fn map(&self, x: f64, y: f64) -> (f64, f64) {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + h[8];
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        (
            (h[0] * x + h[1] * y + h[2]) / w,
            (h[3] * x + h[4] * y + h[5]) / w,
        )
    }

    /// Least-squares fit (h33 = 1) over `pts` = (module x, module y, px, py).
    /// With `affine` the projective row is fixed to (0, 0, 1).
    pub fn fit(pts: &[(f64, f64, f64, f64)], affine: bool) -> Option<Self> {
        let n = if affine { 6 } else { 8 };
        if pts.len() < if affine { 3 } else { 4 } {
            return None;
        }
        // normalise for conditioning
        let (mut mx, mut my, mut px, mut py) = (0.0, 0.0, 0.0, 0.0);
        for p in pts {
            mx += p.0;
            my += p.1;
            px += p.2;
            py += p.3;
        }
        let k = pts.len() as f64;
        let (mx, my, px, py) = (mx / k, my / k, px / k, py / k);
        let mut sm = 0.0;
        let mut sp = 0.0;
        for p in pts {
            sm += ((p.0 - mx).powi(2) + (p.1 - my).powi(2)).sqrt();
            sp += ((p.2 - px).powi(2) + (p.3 - py).powi(2)).sqrt();
        }
        let sm = if sm > 0.0 { k / sm } else { 1.0 };
        let sp = if sp > 0.0 { k / sp } else { 1.0 };
        let mut ata = [[0f64; 8]; 8];
        let mut atb = [0f64; 8];
        for p in pts {
            let (x, y) = ((p.0 - mx) * sm, (p.1 - my) * sm);
            let (u, v) = ((p.2 - px) * sp, (p.3 - py) * sp);
            let r1 = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y];
            let r2 = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y];
            for (r, b) in [(r1, u), (r2, v)] {
                for i in 0..n {
                    atb[i] += r[i] * b;
                    for j in 0..n {
                        ata[i][j] += r[i] * r[j];
                    }
                }
            }
        }
        let sol = solve(&mut ata, &mut atb, n)?;
        let mut h = [0f64; 9];
        h[..n].copy_from_slice(&sol[..n]);
        h[8] = 1.0;
        // compose: T_p^-1 * H * T_m
        let tm = [sm, 0.0, -sm * mx, 0.0, sm, -sm * my, 0.0, 0.0, 1.0];
        let tpi = [1.0 / sp, 0.0, px, 0.0, 1.0 / sp, py, 0.0, 0.0, 1.0];
        let r = mul(&tpi, &mul(&h, &tm));
        if r.iter().any(|v| !v.is_finite()) {
            return None;
        }
        Some(Homography(r))
    }

    /// Pixels per module (the two column vectors' lengths) at module (x, y).
    pub fn jacobian(&self, x: f64, y: f64) -> [f64; 4] {
        let (x0, y0) = self.map(x, y);
        let (x1, y1) = self.map(x + 1.0, y);
        let (x2, y2) = self.map(x, y + 1.0);
        [x1 - x0, x2 - x0, y1 - y0, y2 - y0]
    }
}

fn mul(a: &[f64; 9], b: &[f64; 9]) -> [f64; 9] {
    let mut r = [0f64; 9];
    for i in 0..3 {
        for j in 0..3 {
            r[i * 3 + j] = (0..3).map(|k| a[i * 3 + k] * b[k * 3 + j]).sum();
        }
    }
    r
}

fn solve(a: &mut [[f64; 8]; 8], b: &mut [f64; 8], n: usize) -> Option<[f64; 8]> {
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-9 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in 0..n {
            if r != c {
                let f = a[r][c] / a[c][c];
                if f != 0.0 {
                    let pivot = a[c];
                    for (k, v) in a[r].iter_mut().enumerate().take(n).skip(c) {
                        *v -= f * pivot[k];
                    }
                    b[r] -= f * b[c];
                }
            }
        }
    }
    let mut x = [0f64; 8];
    for i in 0..n {
        x[i] = b[i] / a[i][i];
    }
    Some(x)
}

/// Alignment-pattern centre coordinates (module index) for a version.
pub fn alignment_positions(version: usize) -> Vec<usize> {
    if version < 2 {
        return Vec::new();
    }
    let num = version / 7 + 2;
    let step = if version == 32 {
        26
    } else {
        (version * 4 + num * 2 + 1) / (num * 2 - 2) * 2
    };
    let mut res = vec![6usize];
    let mut pos = version * 4 + 10;
    let mut tail = Vec::new();
    for _ in 0..num - 1 {
        tail.push(pos);
        pos = pos.saturating_sub(step);
    }
    tail.reverse();
    res.extend(tail);
    res
}

/// The 25 sample points of the alignment-pattern template (centre, the
/// light ring one module out, the dark ring two out) as pixel offsets for
/// module axes `j` (dx/dmx, dx/dmy, dy/dmx, dy/dmy), with their bounding box.
/// Built once per search: the template is evaluated a few hundred times at
/// the same scale.
struct ApatTemplate {
    offs: [(f32, f32); 25],
    lo: (f32, f32),
    hi: (f32, f32),
}

impl ApatTemplate {
    fn new(j: &[f64; 4]) -> Self {
        // module offset to pixel offset through the local Jacobian
        let px = |dx: i32, dy: i32| {
            let (dx, dy) = (f64::from(dx), f64::from(dy));
            (
                (j[0] * dx + j[1] * dy) as f32,
                (j[2] * dx + j[3] * dy) as f32,
            )
        };
        let mut offs = [(0.0f32, 0.0f32); 25];
        let mut k = 1;
        for (dx, dy) in [
            (-1, -1),
            (0, -1),
            (1, -1),
            (1, 0),
            (1, 1),
            (0, 1),
            (-1, 1),
            (-1, 0),
        ] {
            offs[k] = px(dx, dy);
            k += 1;
        }
        for i in -2i32..=2 {
            for (dx, dy) in [(i, -2), (i, 2)] {
                offs[k] = px(dx, dy);
                k += 1;
            }
            if i.abs() < 2 {
                for (dx, dy) in [(-2, i), (2, i)] {
                    offs[k] = px(dx, dy);
                    k += 1;
                }
            }
        }
        let mut lo = (f32::MAX, f32::MAX);
        let mut hi = (f32::MIN, f32::MIN);
        for &(x, y) in &offs {
            lo = (lo.0.min(x), lo.1.min(y));
            hi = (hi.0.max(x), hi.1.max(y));
        }
        ApatTemplate { offs, lo, hi }
    }

    /// The template's first `v.len()` samples at pixel `(cx, cy)`: the centre,
    /// the inner ring (8), the outer ring (16).
    fn samples(&self, img: &GrayImage, cx: f32, cy: f32, v: &mut [f32]) {
        let (w, h) = (img.width() as f32, img.height() as f32);
        let inside = cx + self.lo.0 >= 0.0
            && cy + self.lo.1 >= 0.0
            && cx + self.hi.0 < w - 1.0
            && cy + self.hi.1 < h - 1.0;
        if inside {
            // every point has all four bilinear neighbours: no clamping
            let raw = img.as_raw();
            let stride = img.width() as usize;
            for (o, &(dx, dy)) in v.iter_mut().zip(&self.offs) {
                let (x, y) = (cx + dx, cy + dy);
                let (x0, y0) = (x as usize, y as usize);
                let (fx, fy) = (x - x0 as f32, y - y0 as f32);
                let i = y0 * stride + x0;
                let p = |i: usize| f32::from(raw[i]);
                let top = p(i) + (p(i + 1) - p(i)) * fx;
                let bot = p(i + stride) + (p(i + stride + 1) - p(i + stride)) * fx;
                *o = top + (bot - top) * fy;
            }
        } else {
            for (o, &(dx, dy)) in v.iter_mut().zip(&self.offs) {
                *o = sample(img, cx + dx, cy + dy);
            }
        }
    }

    /// An upper bound of [`Self::score`] from the centre and the inner ring
    /// alone (9 of the 25 samples): the outer ring's mean is at least 0 and
    /// the darker of its maximum and the centre at least the centre.
    fn bound(&self, img: &GrayImage, cx: f64, cy: f64) -> f32 {
        let mut v = [0f32; 9];
        self.samples(img, cx as f32, cy as f32, &mut v);
        let centre = v[0];
        let ring1 = &v[1..9];
        let r1 = ring1.iter().sum::<f32>() / 8.0;
        let r1_min = ring1.iter().copied().fold(255.0, f32::min);
        0.6 * (r1 - 0.5 * centre) + 0.4 * (r1_min - centre)
    }

    /// Light ring minus dark parts at pixel `(cx, cy)`: average contrast,
    /// penalised by the worst light and dark samples.
    fn score(&self, img: &GrayImage, cx: f64, cy: f64) -> f32 {
        let mut v = [0f32; 25];
        self.samples(img, cx as f32, cy as f32, &mut v);
        let centre = v[0];
        let ring1 = &v[1..9];
        let ring2 = &v[9..25];
        let r1 = ring1.iter().sum::<f32>() / 8.0;
        let r1_min = ring1.iter().copied().fold(255.0, f32::min);
        let r2 = ring2.iter().sum::<f32>() / 16.0;
        let r2_max = ring2.iter().copied().fold(0.0, f32::max);
        let avg = r1 - 0.5 * (centre + r2);
        let worst = r1_min - r2_max.max(centre);
        0.6 * avg + 0.4 * worst
    }
}

/// Search for the alignment pattern near its predicted place; returns the best
/// centre and its score. A hill climb in half-module steps from the predicted
/// place comes first: where the map is already good (most patterns) it ends
/// on a peak scoring at least `strong` after a handful of template
/// evaluations. Only when it does not is the whole square of `radius` modules
/// searched, as before.
fn find_apat(
    img: &GrayImage,
    h: &Homography,
    mx: f64,
    my: f64,
    radius: f64,
    strong: f32,
) -> (f64, f64, f32) {
    let (px, py) = h.map(mx, my);
    let j = h.jacobian(mx, my);
    let tpl = ApatTemplate::new(&j);
    // a step of (dx, dy) modules from pixel o, through the local Jacobian
    let place = |(ox, oy): (f64, f64), dx: f64, dy: f64| {
        (ox + j[0] * dx + j[1] * dy, oy + j[2] * dx + j[3] * dy)
    };
    let at = |o: (f64, f64), dx: f64, dy: f64| {
        let (cx, cy) = place(o, dx, dy);
        (cx, cy, tpl.score(img, cx, cy))
    };
    // Steps are in module units, mapped to pixels through the local Jacobian.
    let search = |o: (f64, f64), steps: i32, step: f64, mut best: (f64, f64, f32)| {
        for sy in -steps..=steps {
            for sx in -steps..=steps {
                // `best` is at least the centre's score already
                if sx == 0 && sy == 0 {
                    continue;
                }
                let c = at(o, sx as f64 * step, sy as f64 * step);
                if c.2 > best.2 {
                    best = c;
                }
            }
        }
        best
    };
    let steps = (radius / 0.5).ceil() as i32;
    // The climb and the full search both walk the half-module lattice round
    // the predicted place, and the climb's neighbourhoods overlap: each
    // lattice point is scored once (NaN = not yet; radii here are ≤ 3
    // modules, 13 × 13 points).
    const SIDE: usize = 13;
    let mut memo = [f32::NAN; SIDE * SIDE];
    let mut lattice = |nx: i32, ny: i32| {
        let slot = usize::try_from(ny + steps)
            .ok()
            .zip(usize::try_from(nx + steps).ok())
            .filter(|&(y, x)| x < SIDE && y < SIDE)
            .map(|(y, x)| y * SIDE + x);
        let (cx, cy) = place((px, py), f64::from(nx) * 0.5, f64::from(ny) * 0.5);
        let score = match slot {
            Some(i) if !memo[i].is_nan() => memo[i],
            Some(i) => {
                memo[i] = tpl.score(img, cx, cy);
                memo[i]
            }
            None => tpl.score(img, cx, cy),
        };
        (cx, cy, score)
    };
    let mut pos = (0i32, 0i32);
    let mut best = lattice(0, 0);
    for _ in 0..steps {
        let mut next = None;
        for (dx, dy) in [
            (-1, -1),
            (0, -1),
            (1, -1),
            (-1, 0),
            (1, 0),
            (-1, 1),
            (0, 1),
            (1, 1),
        ] {
            let (nx, ny) = (pos.0 + dx, pos.1 + dy);
            if nx.abs() > steps || ny.abs() > steps {
                continue;
            }
            let c = lattice(nx, ny);
            if c.2 > best.2 {
                best = c;
                next = Some((nx, ny));
            }
        }
        match next {
            Some(n) => pos = n,
            None => break,
        }
    }
    let coarse = if best.2 >= strong {
        best
    } else {
        // Most weak climbs are on no pattern at all (a wrong side or
        // version: on qr-real about 3 of 4 full searches ended below the
        // callers' acceptance, half the strong score). When no lattice
        // point's upper bound reaches it, none of their scores can: give up
        // at a third of the samples.
        let floor = strong * 0.5 - 0.5;
        let hope = (-steps..=steps).any(|sy| {
            (-steps..=steps).any(|sx| {
                let (cx, cy) = place((px, py), f64::from(sx) * 0.5, f64::from(sy) * 0.5);
                tpl.bound(img, cx, cy) >= floor
            })
        });
        if !hope {
            return best;
        }
        // half-module steps: the template's peak is about a module wide
        for sy in -steps..=steps {
            for sx in -steps..=steps {
                let c = lattice(sx, sy);
                if c.2 > best.2 {
                    best = c;
                }
            }
        }
        best
    };
    // Refine around the coarse winner (within a quarter module of the peak):
    // fifth-module steps, then tenths around the best.
    let fine = search((coarse.0, coarse.1), 1, 0.2, coarse);
    search((fine.0, fine.1), 1, 0.1, fine)
}

/// Contrast of a finder: mean of the light ring minus mean of the dark core.
fn finder_contrast(img: &GrayImage, h: &Homography, mx: f64, my: f64) -> f32 {
    let j = h.jacobian(mx, my);
    let (cx, cy) = h.map(mx, my);
    let s = |dx: f64, dy: f64| {
        sample(
            img,
            (cx + j[0] * dx + j[1] * dy) as f32,
            (cy + j[2] * dx + j[3] * dy) as f32,
        )
    };
    let dark = (s(0.0, 0.0) + s(0.8, 0.0) + s(-0.8, 0.0) + s(0.0, 0.8) + s(0.0, -0.8)) / 5.0;
    let light = (s(2.0, 0.0) + s(-2.0, 0.0) + s(0.0, 2.0) + s(0.0, -2.0)) / 4.0;
    light - dark
}

/// The outer edge of a finder from its centre along `axis` (one module, in
/// pixels, measured with the finder's own module size so that perspective
/// does not push the edge out of the search range): where the grey profile
/// crosses from the dark outer ring to the light outside, sub-pixel.
fn finder_edge(img: &GrayImage, centre: (f64, f64), axis: (f64, f64)) -> Option<(f64, f64)> {
    let at = |t: f64| {
        let (x, y) = (centre.0 + t * axis.0, centre.1 + t * axis.1);
        (x, y, sample(img, x as f32, y as f32))
    };
    let dark = (at(0.0).2 + at(0.5).2 + at(1.0).2) / 3.0;
    let light = (at(1.8).2 + at(2.0).2 + at(2.2).2) / 3.0;
    if light - dark < 10.0 {
        return None;
    }
    let mid = (dark + light) / 2.0;
    // the ring must be dark somewhere in 2.5..3.6, then the edge follows
    let mut t = 2.5;
    let mut seen_dark = false;
    let mut prev = at(t);
    while t < 5.0 {
        let nt = t + 0.1;
        let cur = at(nt);
        if prev.2 < mid {
            seen_dark = true;
        }
        if seen_dark && prev.2 < mid && cur.2 >= mid {
            let f = f64::from((mid - prev.2) / (cur.2 - prev.2).max(1e-3));
            let te = t + 0.1 * f;
            if !(2.9..=4.3).contains(&te) {
                return None;
            }
            let (x, y, _) = at(te);
            return Some((x, y));
        }
        prev = cur;
        t = nt;
    }
    None
}

/// Locate the grid for a triple assuming side `dim`; returns the refined map.
pub fn locate(img: &GrayImage, t: &Triple, dim: usize) -> Option<Homography> {
    let pts = finder_points(t, dim);
    let affine = Homography::fit(&pts, true)?;
    Some(refine(img, dim, affine, pts, false))
}

/// How well side `dim` explains the two timing patterns of a triple, before
/// any expensive grid location: row 6 and column 6 are sampled along the
/// straight lines between the finder centres (where the affine map from the
/// finders is exact at both ends) and each sample is compared with the mean of
/// its two neighbours; the fraction alternating as the pattern must (or
/// exactly against it) is ~1.0 for the right side and ~0.5 for a wrong one. (zxing-cpp also settles the
/// dimension from the finders before sampling; here the timing rows decide.)
pub fn timing_fit(img: &GrayImage, t: &Triple, dim: usize) -> f32 {
    if dim < 21 {
        return 0.0;
    }
    let d = dim as f32 - 7.0; // modules between the finder centres
    let mut ok = 0usize;
    let mut n = 0usize;
    for (a, b, c) in [(t.tl, t.tr, t.bl), (t.tl, t.bl, t.tr)] {
        // row 6 runs 2.5 modules off the line through the finder centres
        // (row 3.5), towards the third finder
        let (ox, oy) = ((c.x - a.x) * 3.0 / d, (c.y - a.y) * 3.0 / d);
        let at = |i: usize| {
            // module i lies (i + 0.5 - 3.5) modules from the TL centre
            let f = (i as f32 - 3.0) / d;
            sample(img, a.x + ox + (b.x - a.x) * f, a.y + oy + (b.y - a.y) * f)
        };
        let vals: Vec<f32> = (7..dim - 7).map(at).collect();
        for k in 1..vals.len() - 1 {
            let i = k + 7;
            let dark = vals[k] < (vals[k - 1] + vals[k + 1]) / 2.0;
            ok += usize::from(dark == (i % 2 == 0));
            n += 1;
        }
    }
    if n == 0 {
        return 0.0;
    }
    // a consistently inverted pattern is the right side sampled one module
    // off (blur, a finder centre off by a module): just as telling
    let f = ok as f32 / n as f32;
    f.max(1.0 - f)
}

/// The version written in the code's version-information blocks (versions
/// 7 and up), read from the image before any grid is located: each 6×3 block
/// sits at a fixed offset from its finder (columns 5–7 left of the top-right
/// finder's centre, rows 5–7 above the bottom-left one's), whatever the
/// version. The finder-to-finder vectors over a candidate side place it; each
/// candidate version in `versions` is tried, and a read counts only when the
/// block names the very version whose side placed it (noise would have to
/// land near one particular codeword of the BCH(18,6) code). zxing-cpp also
/// reads these blocks to settle the dimension of large codes; the timing rows
/// cannot, once modules are three blurred pixels wide.
/// Returns the version and the bits corrected (0–3).
pub fn read_version(
    img: &GrayImage,
    t: &Triple,
    versions: impl IntoIterator<Item = usize>,
) -> Option<(usize, u32)> {
    let (tl, tr, bl) = (
        (f64::from(t.tl.x), f64::from(t.tl.y)),
        (f64::from(t.tr.x), f64::from(t.tr.y)),
        (f64::from(t.bl.x), f64::from(t.bl.y)),
    );
    let mut best: Option<(usize, u32)> = None;
    for version in versions {
        if !(7..=40).contains(&version) {
            continue;
        }
        let d = (10 + 4 * version) as f64; // modules between finder centres
        let u = ((tr.0 - tl.0) / d, (tr.1 - tl.1) / d);
        let v = ((bl.0 - tl.0) / d, (bl.1 - tl.1) / d);
        let at = |o: (f64, f64), dc: f64, dr: f64| {
            sample(
                img,
                (o.0 + u.0 * dc + v.0 * dr) as f32,
                (o.1 + u.1 * dc + v.1 * dr) as f32,
            )
        };
        for (o, transposed) in [(tr, false), (bl, true)] {
            // the finder's own dark core and light ring set the threshold
            let dark = at(o, 0.0, 0.0);
            let light =
                (at(o, 2.0, 0.0) + at(o, -2.0, 0.0) + at(o, 0.0, 2.0) + at(o, 0.0, -2.0)) / 4.0;
            if light - dark < 10.0 {
                continue;
            }
            let mid = (dark + light) / 2.0;
            let mut word = 0u32;
            for i in 0..18 {
                let (a, b) = (-7.0 + (i % 3) as f64, -3.0 + (i / 3) as f64);
                let (dc, dr) = if transposed { (b, a) } else { (a, b) };
                word |= u32::from(at(o, dc, dr) < mid) << i;
            }
            if let Some(found) = super::qrdata::version_from_bits(word)
                && found.0 == version
                && best.is_none_or(|b| found.1 < b.1)
            {
                best = Some(found);
            }
        }
    }
    best
}

/// The three finder centres as (module x, module y, px, py): TL, TR, BL.
pub fn finder_points(t: &Triple, dim: usize) -> Vec<(f64, f64, f64, f64)> {
    let d = dim as f64;
    vec![
        (3.5, 3.5, t.tl.x as f64, t.tl.y as f64),
        (d - 3.5, 3.5, t.tr.x as f64, t.tr.y as f64),
        (3.5, d - 3.5, t.bl.x as f64, t.bl.y as f64),
    ]
}

/// The second candidate: the outer edges of the three finders (12 more
/// points) carry the local scale at each corner, hence the perspective; start
/// from a homography fitted to them (this wins when alignment patterns are
/// missing or occluded, or the tilt is strong).
pub fn locate_by_edges(img: &GrayImage, t: &Triple, dim: usize) -> Option<Homography> {
    let d = dim as f64;
    let pts = finder_points(t, dim);
    let affine = Homography::fit(&pts, true)?;
    let mut with_edges = pts;
    for (f, (cx, cy)) in [
        (t.tl, (3.5, 3.5)),
        (t.tr, (d - 3.5, 3.5)),
        (t.bl, (3.5, d - 3.5)),
    ] {
        let j = affine.jacobian(cx, cy);
        let (ex, ey) = ((j[0], j[2]), (j[1], j[3]));
        let (lx, ly) = (
            (ex.0 * ex.0 + ex.1 * ex.1).sqrt(),
            (ey.0 * ey.0 + ey.1 * ey.1).sqrt(),
        );
        if lx < 1e-6 || ly < 1e-6 {
            continue;
        }
        // row/column runs overstate the module by 1/cos of the rotation
        let quarter = std::f64::consts::FRAC_PI_2;
        let ang = ex.1.atan2(ex.0).rem_euclid(quarter);
        let m = f64::from(f.module) * ang.cos().max((quarter - ang).cos());
        let (ux, uy) = (
            (ex.0 / lx * m, ex.1 / lx * m),
            (ey.0 / ly * m, ey.1 / ly * m),
        );
        for (dx, dy) in [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)] {
            let axis = (dx * ux.0 + dy * uy.0, dx * ux.1 + dy * uy.1);
            if let Some((px, py)) = finder_edge(img, (f64::from(f.x), f64::from(f.y)), axis) {
                with_edges.push((cx + 3.5 * dx, cy + 3.5 * dy, px, py));
            }
        }
    }
    if with_edges.len() < 3 + 10 {
        return None;
    }
    let hp = Homography::fit(&with_edges, false)?;
    Some(refine(img, dim, hp, with_edges, true))
}

/// Follow the alignment patterns outwards from the finders, refitting the map.
fn refine(
    img: &GrayImage,
    dim: usize,
    start: Homography,
    mut pts: Vec<(f64, f64, f64, f64)>,
    projective: bool,
) -> Homography {
    let mut h = start;
    let version = (dim - 17) / 4;
    let pos = alignment_positions(version);
    if pos.is_empty() {
        return h;
    }
    let contrast = finder_contrast(img, &h, 3.5, 3.5).max(8.0);
    let last = *pos.last().unwrap_or(&0);
    let mut centres: Vec<(usize, usize)> = Vec::new();
    for &y in &pos {
        for &x in &pos {
            let on_finder = (x == 6 && (y == 6 || y == last)) || (x == last && y == 6);
            if !on_finder {
                centres.push((x, y));
            }
        }
    }
    // nearest the finders first: each found pattern refines the map that
    // predicts the next, so perspective is followed outwards from the corner
    centres.sort_by_key(|&(x, y)| (x + y, x.abs_diff(y)));
    let mut interior = projective;
    let mut found = 0;
    for (tried, &(x, y)) in centres.iter().enumerate() {
        // the patterns nearest the finders are where the map is best: none
        // of the first four there means a wrong side or no code, not a map
        // worth following further
        if (found == 0 && tried >= 4) || (tried >= 8 && found * 3 < tried) {
            break;
        }
        let (mx, my) = (x as f64 + 0.5, y as f64 + 0.5);
        let radius = if (projective && found > 0) || (!projective && interior) {
            2.0
        } else {
            3.0
        };
        let (cx, cy, sc) = find_apat(img, &h, mx, my, radius, 0.7 * contrast);
        if sc < 0.35 * contrast {
            continue;
        }
        pts.push((mx, my, cx, cy));
        found += 1;
        if x > 10 && y > 10 {
            interior = true;
        }
        let refit = if interior && pts.len() >= 4 {
            Homography::fit(&pts, false)
        } else {
            Homography::fit(&pts, true)
        };
        if let Some(nh) = refit {
            h = nh;
        }
    }
    if found >= 3 && interior {
        // drop outliers (> 1 module) and refit once
        let kept: Vec<_> = pts
            .iter()
            .copied()
            .filter(|p| {
                let (u, v) = h.map(p.0, p.1);
                let j = h.jacobian(p.0, p.1);
                let m =
                    ((j[0] * j[0] + j[2] * j[2]).sqrt() + (j[1] * j[1] + j[3] * j[3]).sqrt()) / 2.0;
                ((u - p.2).powi(2) + (v - p.3).powi(2)).sqrt() < m
            })
            .collect();
        if kept.len() >= 5
            && kept.len() < pts.len()
            && let Some(nh) = Homography::fit(&kept, false)
        {
            h = nh;
        }
    }
    h
}

/// Sample module values (grey) at module centres.
pub fn sample_modules(img: &GrayImage, h: &Homography, dim: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(dim * dim);
    for y in 0..dim {
        for x in 0..dim {
            let (px, py) = h.map(x as f64 + 0.5, y as f64 + 0.5);
            v.push(sample(img, px as f32, py as f32));
        }
    }
    v
}

/// Sample only row 6 and column 6 (the timing patterns), into an otherwise
/// white `dim × dim` matrix laid out like [`sample_modules`]'s.
pub fn sample_timing(img: &GrayImage, h: &Homography, dim: usize) -> Vec<f32> {
    let mut v = vec![255.0; dim * dim];
    for i in 0..dim {
        for (x, y) in [(i, 6), (6, i)] {
            let (px, py) = h.map(x as f64 + 0.5, y as f64 + 0.5);
            v[y * dim + x] = sample(img, px as f32, py as f32);
        }
    }
    v
}

/// Local thresholds per module: the mean of a window ≈ 7 modules wide around
/// each module centre.
pub fn local_thresholds(img: &GrayImage, h: &Homography, dim: usize) -> Vec<f32> {
    let pts: Vec<(f64, f64)> = (0..dim * dim)
        .map(|i| h.map((i % dim) as f64 + 0.5, (i / dim) as f64 + 0.5))
        .collect();
    window_means(img, &pts, threshold_radius(h, dim))
}

/// Half-size of the threshold window: 3.5 modules at the code's centre.
fn threshold_radius(h: &Homography, dim: usize) -> usize {
    let j = h.jacobian(dim as f64 / 2.0, dim as f64 / 2.0);
    let m = ((j[0] * j[0] + j[2] * j[2]).sqrt() + (j[1] * j[1] + j[3] * j[3]).sqrt()) / 2.0;
    (m * 3.5).clamp(2.0, 400.0) as usize
}

/// The mean grey level of the `(2r+1)²` window around each point (clamped
/// to the frame), from a summed-area table of just the points' neighbourhood
/// (the whole frame's would cost more than the rest of a read).
fn window_means(img: &GrayImage, pts: &[(f64, f64)], r: usize) -> Vec<f32> {
    let (w, hh) = (img.width() as f64, img.height() as f64);
    let centres: Vec<(usize, usize)> = pts
        .iter()
        .map(|&(x, y)| {
            (
                x.clamp(0.0, w - 1.0) as usize,
                y.clamp(0.0, hh - 1.0) as usize,
            )
        })
        .collect();
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for &(x, y) in &centres {
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    let integral = Integral::over(
        img,
        x0.saturating_sub(r),
        y0.saturating_sub(r),
        x1 + r + 1,
        y1 + r + 1,
    );
    centres
        .iter()
        .map(|&(x, y)| integral.mean(x, y, r) as f32)
        .collect()
}

/// A matrix handed to rqrr, `true` = dark module.
pub fn to_rqrr(dim: usize, dark: &[bool]) -> rqrr::Grid<rqrr::SimpleGrid> {
    rqrr::Grid::new(rqrr::SimpleGrid::from_func(dim, |x, y| dark[y * dim + x]))
}

/// Local corrections to a homography for codes that are not flat (curved
/// paper, lens distortion over a large version): one global projective map
/// cannot follow the bend, and a v25–v40 code drifts by more than a module
/// between alignment patterns. The lattice of alignment-pattern centres (and
/// the finder centres at its three finder corners) is measured, each node's
/// displacement from the global map kept, and a module is sampled at the
/// global map plus the displacement interpolated bilinearly inside its
/// lattice cell (zxing-cpp also samples large codes through one local
/// transform per alignment-pattern cell; a displacement field is the same
/// idea with nothing to invert).
#[derive(Debug, Clone)]
pub struct Mesh {
    /// Lattice coordinates in modules (alignment centres + 0.5), ascending.
    coords: Vec<f64>,
    /// Pixel displacement per node, row-major over `coords × coords`.
    disp: Vec<(f64, f64)>,
}

/// The cell of an ascending lattice holding `x` and the position inside it,
/// clamped to the cell (outside the lattice the edge nodes' correction holds).
fn lattice_cell(coords: &[f64], x: f64) -> (usize, f64) {
    let mut i = 0;
    while i + 2 < coords.len() && x >= coords[i + 1] {
        i += 1;
    }
    let span = coords[i + 1] - coords[i];
    (i, ((x - coords[i]) / span).clamp(0.0, 1.0))
}

/// `h` moved by a pixel offset: the same map, shifted in the image.
fn shifted(h: &Homography, (dx, dy): (f64, f64)) -> Homography {
    let mut s = h.0;
    for k in 0..3 {
        s[k] += dx * h.0[6 + k];
        s[3 + k] += dy * h.0[6 + k];
    }
    Homography(s)
}

impl Mesh {
    /// Module coordinates to pixels: the global map plus the local correction.
    pub fn map(&self, h: &Homography, x: f64, y: f64) -> (f64, f64) {
        let (px, py) = h.map(x, y);
        let n = self.coords.len();
        let (i, u) = lattice_cell(&self.coords, x);
        let (j, v) = lattice_cell(&self.coords, y);
        let d = |a: usize, b: usize| self.disp[b * n + a];
        let (a, b, c, e) = (d(i, j), d(i + 1, j), d(i, j + 1), d(i + 1, j + 1));
        let top = (a.0 + (b.0 - a.0) * u, a.1 + (b.1 - a.1) * u);
        let bot = (c.0 + (e.0 - c.0) * u, c.1 + (e.1 - c.1) * u);
        (
            px + top.0 + (bot.0 - top.0) * v,
            py + top.1 + (bot.1 - top.1) * v,
        )
    }

    /// Measure the lattice around a located map. `finders` are the three
    /// finder centres as (module x, module y, px, py) in TL, TR, BL order.
    /// `None` below version 7 (a single alignment pattern leaves no lattice
    /// worth interpolating) or when fewer than half the nodes are found.
    pub fn measure(
        img: &GrayImage,
        h: &Homography,
        dim: usize,
        finders: &[(f64, f64, f64, f64)],
    ) -> Option<Mesh> {
        let pos = alignment_positions((dim.checked_sub(17)?) / 4);
        let n = pos.len();
        if n < 3 || finders.len() < 3 {
            return None;
        }
        let coords: Vec<f64> = pos.iter().map(|&p| p as f64 + 0.5).collect();
        let mut disp: Vec<Option<(f64, f64)>> = vec![None; n * n];
        let off = |p: &(f64, f64, f64, f64)| {
            let (x, y) = h.map(p.0, p.1);
            (p.2 - x, p.3 - y)
        };
        let corner = [(0, 0), (n - 1, 0), (0, n - 1)];
        for (k, &(a, b)) in corner.iter().enumerate() {
            disp[b * n + a] = Some(off(&finders[k]));
        }
        let contrast = finder_contrast(img, h, 3.5, 3.5).max(8.0);
        let mut order: Vec<(usize, usize)> = (0..n)
            .flat_map(|b| (0..n).map(move |a| (a, b)))
            .filter(|ab| !corner.contains(ab))
            .collect();
        // outwards from the top-left corner, so each node is predicted from
        // measured neighbours that already carry the bend
        order.sort_by_key(|&(a, b)| (a + b, a.abs_diff(b)));
        // A bent code still shows nearly all its patterns; a wrong size or
        // map misses many. Give up as soon as a third of them are missed.
        let nodes = n * n - 3;
        let mut missed = 0usize;
        let mut found = 0usize;
        for (a, b) in order {
            let mut sum = (0.0, 0.0);
            let mut k = 0.0;
            for (na, nb) in [(a.wrapping_sub(1), b), (a, b.wrapping_sub(1))] {
                if let Some(Some(d)) = (na < n && nb < n).then(|| disp[nb * n + na]) {
                    sum = (sum.0 + d.0, sum.1 + d.1);
                    k += 1.0;
                }
            }
            let guess = if k > 0.0 {
                (sum.0 / k, sum.1 / k)
            } else {
                (0.0, 0.0)
            };
            let (mx, my) = (coords[a], coords[b]);
            let hs = shifted(h, guess);
            let (cx, cy, sc) = find_apat(img, &hs, mx, my, 1.5, 0.7 * contrast);
            if sc < 0.35 * contrast {
                missed += 1;
                // the first two sit next to the finders, where the map is best
                if missed * 3 > nodes || (found == 0 && missed >= 2) {
                    return None;
                }
                continue;
            }
            let (x, y) = h.map(mx, my);
            disp[b * n + a] = Some((cx - x, cy - y));
            found += 1;
        }
        // unmeasured nodes take the mean of their measured neighbours,
        // repeatedly, so a hole is filled from its surroundings
        for _ in 0..n {
            let snapshot = disp.clone();
            let mut holes = false;
            for b in 0..n {
                for a in 0..n {
                    if snapshot[b * n + a].is_some() {
                        continue;
                    }
                    let mut sum = (0.0, 0.0);
                    let mut k = 0.0;
                    for (na, nb) in [
                        (a.wrapping_sub(1), b),
                        (a + 1, b),
                        (a, b.wrapping_sub(1)),
                        (a, b + 1),
                    ] {
                        if na < n
                            && nb < n
                            && let Some(d) = snapshot[nb * n + na]
                        {
                            sum = (sum.0 + d.0, sum.1 + d.1);
                            k += 1.0;
                        }
                    }
                    if k > 0.0 {
                        disp[b * n + a] = Some((sum.0 / k, sum.1 / k));
                    } else {
                        holes = true;
                    }
                }
            }
            if !holes {
                break;
            }
        }
        Some(Mesh {
            coords,
            disp: disp.into_iter().map(|d| d.unwrap_or((0.0, 0.0))).collect(),
        })
    }

    /// Grey module values and their local thresholds through the corrected
    /// map (as [`sample_modules`] and [`local_thresholds`] do through `h`).
    pub fn sample(&self, img: &GrayImage, h: &Homography, dim: usize) -> (Vec<f32>, Vec<f32>) {
        let pts: Vec<(f64, f64)> = (0..dim * dim)
            .map(|i| self.map(h, (i % dim) as f64 + 0.5, (i / dim) as f64 + 0.5))
            .collect();
        let vals = pts
            .iter()
            .map(|&(x, y)| sample(img, x as f32, y as f32))
            .collect();
        (vals, window_means(img, &pts, threshold_radius(h, dim)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::finder::Finder;
    use std::f64::consts::PI;

    proptest::proptest! {
        /// The alignment search gives up on a lattice whose bounds all fall
        /// short: the bound must never be below the score it stands for,
        /// inside the frame, at its edges or beyond.
        #[test]
        fn the_template_bound_is_never_below_its_score(
            pixels in proptest::collection::vec(0u8..=255, 48 * 40),
            jac in (-4.0f64..4.0, -4.0f64..4.0, -4.0f64..4.0, -4.0f64..4.0),
            at in (-10.0f64..60.0, -10.0f64..50.0),
        ) {
            let img = GrayImage::from_raw(48, 40, pixels).expect("size");
            let tpl = ApatTemplate::new(&[jac.0, jac.1, jac.2, jac.3]);
            let (b, s) = (tpl.bound(&img, at.0, at.1), tpl.score(&img, at.0, at.1));
            proptest::prop_assert!(b >= s - 1e-3, "bound {b} < score {s}");
        }
    }

    #[test]
    fn the_template_bound_is_tight_on_a_clean_pattern() {
        // black outer ring and centre, white inner ring, 4 px modules: the
        // outer ring's mean is 0, where the bound gives nothing away
        let img = GrayImage::from_fn(40, 40, |x, y| {
            // Chebyshev distance from the centre pixels 18–19
            let d = (x as i32 - 18).abs().max((y as i32 - 18).abs());
            [if d <= 2 || (6..=10).contains(&d) {
                0
            } else {
                255
            }]
            .into()
        });
        let tpl = ApatTemplate::new(&[4.0, 0.0, 0.0, 4.0]);
        let (b, s) = (tpl.bound(&img, 18.5, 18.5), tpl.score(&img, 18.5, 18.5));
        assert!(s > 200.0, "score {s}");
        assert!(b >= s && b - s < 1.0, "bound {b}, score {s}");
    }

    const PX: f64 = 6.0;
    const MARGIN: f64 = 40.0;

    /// A v25 code drawn at 6 px per module on a page bent in both directions
    /// (up to `amp` px off the flat position): module coordinates to pixels.
    fn bent(dim: usize, amp: f64) -> impl Fn(f64, f64) -> (f64, f64) {
        let d = dim as f64;
        move |mx, my| {
            let (x, y) = (MARGIN + mx * PX, MARGIN + my * PX);
            (
                x + amp * (PI * my / d).sin() * (my / d),
                y + amp * (PI * mx / d).sin(),
            )
        }
    }

    /// `code` drawn on a page bent by up to `amp` px, and its true matrix.
    pub(crate) fn render(code: &qrcode::QrCode, amp: f64) -> (GrayImage, Vec<bool>) {
        let dim = code.width();
        let truth: Vec<bool> = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        let warp = bent(dim, amp);
        let side = (2.0 * MARGIN + dim as f64 * PX) as u32 + 20;
        let img = GrayImage::from_fn(side, side, |px, py| {
            // invert the warp by fixed-point iteration (it moves slowly)
            let (tx, ty) = (f64::from(px) + 0.5, f64::from(py) + 0.5);
            let (mut mx, mut my) = ((tx - MARGIN) / PX, (ty - MARGIN) / PX);
            for _ in 0..20 {
                let (wx, wy) = warp(mx, my);
                mx += (tx - wx) / PX;
                my += (ty - wy) / PX;
            }
            let inside = mx >= 0.0 && my >= 0.0 && mx < dim as f64 && my < dim as f64;
            let dark = inside && truth[my as usize * dim + mx as usize];
            [if dark { 30 } else { 220 }].into()
        });
        (img, truth)
    }

    fn triple(dim: usize, amp: f64) -> Triple {
        let warp = bent(dim, amp);
        let d = dim as f64;
        let f = |mx: f64, my: f64| {
            let (x, y) = warp(mx, my);
            Finder {
                x: x as f32,
                y: y as f32,
                module: PX as f32,
                hits: 10,
            }
        };
        Triple {
            tl: f(3.5, 3.5),
            tr: f(d - 3.5, 3.5),
            bl: f(3.5, d - 3.5),
            dim_estimate: dim as f32,
            score: 1.0,
        }
    }

    fn errors(dark: &[bool], truth: &[bool]) -> usize {
        dark.iter().zip(truth).filter(|(a, b)| a != b).count()
    }

    #[test]
    fn lattice_cells_clamp_outside_the_lattice() {
        let c = [6.5, 30.5, 54.5];
        assert_eq!(lattice_cell(&c, 0.5), (0, 0.0));
        assert_eq!(lattice_cell(&c, 18.5), (0, 0.5));
        assert_eq!(lattice_cell(&c, 30.5), (1, 0.0));
        assert_eq!(lattice_cell(&c, 60.5), (1, 1.0));
    }

    #[test]
    fn a_shifted_map_moves_every_point_by_the_offset() {
        let pts = [
            (3.5, 3.5, 100.0, 120.0),
            (40.5, 3.5, 330.0, 100.0),
            (3.5, 40.5, 130.0, 350.0),
            (40.5, 40.5, 370.0, 340.0),
        ];
        let h = Homography::fit(&pts, false).expect("fit");
        let s = shifted(&h, (5.0, -3.0));
        for (x, y) in [(0.0, 0.0), (20.0, 7.0), (44.0, 44.0)] {
            let (a, b) = (h.map(x, y), s.map(x, y));
            assert!((b.0 - a.0 - 5.0).abs() < 1e-9 && (b.1 - a.1 + 3.0).abs() < 1e-9);
        }
    }

    #[test]
    fn a_flat_code_measures_a_mesh_without_displacement() {
        let code = qrcode::QrCode::with_version(
            b"flat mesh".as_slice(),
            qrcode::Version::Normal(10),
            qrcode::EcLevel::M,
        )
        .expect("encode");
        let dim = code.width();
        let (img, truth) = render(&code, 0.0);
        let t = triple(dim, 0.0);
        let h = locate(&img, &t, dim).expect("located");
        let mesh = Mesh::measure(&img, &h, dim, &finder_points(&t, dim)).expect("mesh");
        assert!(mesh.disp.iter().all(|d| d.0.hypot(d.1) < 1.0), "{mesh:?}");
        let (vals, thr) = mesh.sample(&img, &h, dim);
        let dark: Vec<bool> = vals.iter().zip(&thr).map(|(v, t)| v < t).collect();
        assert_eq!(errors(&dark, &truth), 0);
    }

    /// A version-25 code of 600 characters, for the bent-page tests (rendered
    /// with a 12-pixel bend).
    pub(crate) fn bent_page_code() -> (qrcode::QrCode, String) {
        let text = "bent page ".repeat(60);
        let code = qrcode::QrCode::with_version(
            text.as_bytes(),
            qrcode::Version::Normal(25),
            qrcode::EcLevel::M,
        )
        .expect("encode");
        (code, text)
    }

    #[test]
    fn a_bent_large_code_is_sampled_through_the_alignment_lattice() {
        let (code, text) = bent_page_code();
        let dim = code.width();
        let (img, truth) = render(&code, 12.0);
        let t = triple(dim, 12.0);
        let h = locate(&img, &t, dim).expect("located");
        // the one projective map cannot follow a 2-module bend …
        let flat = sample_modules(&img, &h, dim);
        let thr = local_thresholds(&img, &h, dim);
        let dark: Vec<bool> = flat.iter().zip(&thr).map(|(v, t)| v < t).collect();
        assert!(errors(&dark, &truth) > 200, "{}", errors(&dark, &truth));
        // … the lattice of alignment patterns does
        let mesh = Mesh::measure(&img, &h, dim, &finder_points(&t, dim)).expect("mesh");
        let (vals, thr) = mesh.sample(&img, &h, dim);
        let dark: Vec<bool> = vals.iter().zip(&thr).map(|(v, t)| v < t).collect();
        assert!(errors(&dark, &truth) < 20, "{}", errors(&dark, &truth));
        assert_eq!(
            crate::qrdata::decode_grid(dim, &dark).expect("decodes"),
            text.as_bytes()
        );
    }

    #[test]
    fn no_mesh_below_version_seven_or_without_patterns() {
        let img = GrayImage::from_pixel(400, 400, [200].into());
        let t = triple(41, 0.0);
        let h = Homography::fit(&finder_points(&t, 41), true).expect("fit");
        assert!(Mesh::measure(&img, &h, 41, &finder_points(&t, 41)).is_none());
        let t = triple(57, 0.0);
        let h = Homography::fit(&finder_points(&t, 57), true).expect("fit");
        assert!(Mesh::measure(&img, &h, 57, &finder_points(&t, 57)).is_none());
    }
}

#[cfg(test)]
mod version_tests {
    use super::*;
    use crate::finder::Finder;

    /// A code of version `v` drawn with `m`-pixel modules, rotated by `deg`
    /// about the image centre (nearest-module rendering, grey levels 30/225),
    /// and its three finder centres in pixels.
    fn rotated_code(v: i16, m: f64, deg: f64) -> (GrayImage, [(f32, f32); 3], usize) {
        let code = qrcode::QrCode::with_version(
            format!("version {v} test").as_bytes(),
            qrcode::Version::Normal(v),
            qrcode::EcLevel::M,
        )
        .expect("encodes");
        let n = code.width();
        let colors = code.to_colors();
        let side = ((n + 16) as f64 * m * 1.5) as u32;
        let c = f64::from(side) / 2.0;
        let (s, co) = deg.to_radians().sin_cos();
        // module coordinates -> pixels: rotate about the code's centre
        let to_px = |mx: f64, my: f64| {
            let (x, y) = ((mx - n as f64 / 2.0) * m, (my - n as f64 / 2.0) * m);
            (c + x * co - y * s, c + x * s + y * co)
        };
        let img = GrayImage::from_fn(side, side, |x, y| {
            let (x, y) = (f64::from(x) + 0.5 - c, f64::from(y) + 0.5 - c);
            let (mx, my) = (
                (x * co + y * s) / m + n as f64 / 2.0,
                (-x * s + y * co) / m + n as f64 / 2.0,
            );
            let dark = mx >= 0.0
                && my >= 0.0
                && (mx as usize) < n
                && (my as usize) < n
                && colors[my as usize * n + mx as usize] == qrcode::Color::Dark;
            [if dark { 30 } else { 225 }].into()
        });
        let f = |mx: f64, my: f64| {
            let (x, y) = to_px(mx, my);
            (x as f32, y as f32)
        };
        let d = n as f64;
        (img, [f(3.5, 3.5), f(d - 3.5, 3.5), f(3.5, d - 3.5)], n)
    }

    fn triple(c: [(f32, f32); 3], m: f32, dim_estimate: f32) -> Triple {
        let f = |(x, y): (f32, f32)| Finder {
            x,
            y,
            module: m,
            hits: 5,
        };
        Triple {
            tl: f(c[0]),
            tr: f(c[1]),
            bl: f(c[2]),
            dim_estimate,
            score: 1.0,
        }
    }

    #[test]
    fn the_version_blocks_name_the_version_even_when_the_side_estimate_is_off() {
        for (v, m, deg) in [
            (7, 4.0, 0.0),
            (12, 3.0, 17.0),
            (25, 3.0, -33.0),
            (40, 2.5, 8.0),
        ] {
            let (img, c, n) = rotated_code(v, m, deg);
            // the finder-distance estimate is a few modules off on blurred codes
            for off in [-3.0, 0.0, 3.0] {
                let t = triple(c, m as f32, n as f32 + off);
                assert_eq!(
                    read_version(&img, &t, v as usize - 4..=v as usize + 4).map(|r| r.0),
                    Some(v as usize),
                    "v{v} at {deg}°, estimate off by {off}"
                );
            }
        }
    }

    #[test]
    fn no_version_is_read_where_there_is_no_code() {
        let (mut img, c, n) = rotated_code(20, 3.0, 10.0);
        // wipe everything but the three finders' surroundings
        let keep = |x: f32, y: f32| {
            c.iter()
                .any(|f| (f.0 - x).abs() < 12.0 && (f.1 - y).abs() < 12.0)
        };
        for (x, y, p) in img.enumerate_pixels_mut() {
            if !keep(x as f32, y as f32) {
                *p = [225].into();
            }
        }
        assert_eq!(read_version(&img, &triple(c, 3.0, n as f32), 16..=24), None);
    }

    #[test]
    fn the_timing_rows_fit_the_true_side_and_not_its_neighbours() {
        // regression: row 6 was sampled on its boundary with row 5
        let (img, c, n) = rotated_code(10, 3.0, 21.0);
        // a camera's blur: a module's edges spread over its neighbours
        let img = image::imageops::blur(&img, 1.6);
        let t = triple(c, 3.0, n as f32);
        let fit = timing_fit(&img, &t, n);
        // (0.96 here; 0.88 when sampled half a module off)
        assert!(fit > 0.93, "fit {fit}");
        for wrong in [n - 4, n + 4] {
            assert!(timing_fit(&img, &t, wrong) < 0.75, "side {wrong}");
        }
    }
}
