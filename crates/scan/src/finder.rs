//! The project's own finder-pattern detection and grouping. rqrr's grouping
//! projects neighbour distances through one finder's own (poorly estimated)
//! perspective and rejects most tilted or blurred codes; here finders are found
//! by 1:1:3:1:1 run-length scans (rows, then cross-checked on the column and the
//! row through the centre) and grouped by plain triangle geometry, ranked, and
//! handed on as candidate triples.

use super::binarize::Bitmap;

/// A finder-pattern candidate: centre in pixels, module size, hit count.
#[derive(Debug, Clone, Copy)]
pub struct Finder {
    pub x: f32,
    pub y: f32,
    pub module: f32,
    pub hits: u32,
}

/// Three finders in QR orientation (top-left, top-right, bottom-left) plus the
/// estimated side length in modules.
#[derive(Debug, Clone, Copy)]
pub struct Triple {
    pub tl: Finder,
    pub tr: Finder,
    pub bl: Finder,
    pub dim_estimate: f32,
    pub score: f32,
}

fn ratio_ok(st: &[usize; 5], tol: f32) -> bool {
    let total: usize = st.iter().sum();
    if total < 7 || st.contains(&0) {
        return false;
    }
    let m = total as f32 / 7.0;
    let v = m * tol;
    (st[0] as f32 - m).abs() < v
        && (st[1] as f32 - m).abs() < v
        && (st[2] as f32 - 3.0 * m).abs() < 3.0 * v
        && (st[3] as f32 - m).abs() < v
        && (st[4] as f32 - m).abs() < v
}

/// Run-length scan along a line through `(cx, cy)` in direction `(dx, dy)`,
/// returning the centre offset (in steps) and the pattern total when the
/// 1:1:3:1:1 pattern is centred there.
fn cross_check(
    bm: &Bitmap,
    cx: usize,
    cy: usize,
    dx: isize,
    dy: isize,
    max_run: usize,
) -> Option<(f32, usize)> {
    let (cx, cy) = (cx as isize, cy as isize);
    if cx as usize >= bm.w || cy as usize >= bm.h || !bm.get(cx as usize, cy as usize) {
        return None;
    }
    // The centre run is bounded too: through a long dark line (a stripe
    // along the scan direction) it would otherwise walk the whole frame for
    // every candidate on it, and a frame of such stripes took a second.
    // Perspective allows the cross run to be 2.5× the row's (checked by the
    // caller), so a core longer than three row patterns cannot be a finder.
    let max_core = 3 * max_run;
    let at = |k: isize| (cx + k * dx, cy + k * dy);
    let mut st = [0usize; 5];
    // backwards from the centre (itself included): states 2, 1, 0
    st[2] = run_from(bm, at(0), (-dx, -dy), true, max_core);
    if st[2] > max_core {
        return None;
    }
    let mut i = st[2] as isize;
    st[1] = run_from(bm, at(-i), (-dx, -dy), false, max_run);
    i += st[1] as isize;
    st[0] = run_from(bm, at(-i), (-dx, -dy), true, max_run);
    let back = st[2];
    // forwards: the rest of the centre run, states 3, 4
    let more = run_from(bm, at(1), (dx, dy), true, max_core - back);
    if more > max_core - back {
        return None;
    }
    st[2] += more;
    let mut j = 1 + more as isize;
    st[3] = run_from(bm, at(j), (dx, dy), false, max_run);
    j += st[3] as isize;
    st[4] = run_from(bm, at(j), (dx, dy), true, max_run);
    if !ratio_ok(&st, 0.9) {
        return None;
    }
    // centre of the middle run relative to (cx, cy)
    let start = -(back as f32) + 1.0;
    let centre = start + st[2] as f32 / 2.0 - 0.5;
    Some((centre, st.iter().sum()))
}

/// Pixels of one colour (`dark`) from `from` on, one `step` at a time, the
/// start included, counted to at most `limit + 1`: no walk is longer than
/// its limit, whatever the frame.
fn run_from(
    bm: &Bitmap,
    from: (isize, isize),
    step: (isize, isize),
    dark: bool,
    limit: usize,
) -> usize {
    let (mut x, mut y) = from;
    let mut n = 0;
    while n <= limit
        && x >= 0
        && y >= 0
        && (x as usize) < bm.w
        && (y as usize) < bm.h
        && bm.get(x as usize, y as usize) == dark
    {
        n += 1;
        x += step.0;
        y += step.1;
    }
    n
}

/// Find finder-pattern candidates in a binary image: every row's run lengths
/// (taken a word of packed pixels at a time), every window of five runs that
/// starts dark checked for 1:1:3:1:1, and each hit cross-checked.
pub fn find_finders(bm: &Bitmap) -> Vec<Finder> {
    find_finders_until(bm, &|| false)
}

/// [`find_finders`], giving up with what it has once `stop()` says so
/// (asked every 32 rows): a frame tiled with finder look-alikes (the frame
/// fuzzer's diagonal stripes, a candidate every few pixels of every row)
/// costs hundreds of milliseconds a pass, more than a whole frame's budget.
pub fn find_finders_until(bm: &Bitmap, stop: &dyn Fn() -> bool) -> Vec<Finder> {
    let mut found = Candidates::default();
    if bm.w < 7 || bm.h < 7 {
        return found.list;
    }
    let mut runs = Vec::with_capacity(256);
    for y in 0..bm.h {
        if y % 32 == 31 && stop() {
            break;
        }
        bm.row_runs(y, &mut runs);
        // runs alternate light, dark, light, …: dark runs sit at odd indices
        let mut x = runs.first().copied().unwrap_or(0) as usize;
        let mut i = 1;
        while i + 4 < runs.len() {
            let st = [
                runs[i] as usize,
                runs[i + 1] as usize,
                runs[i + 2] as usize,
                runs[i + 3] as usize,
                runs[i + 4] as usize,
            ];
            // loose on purpose: blur and 2 px modules distort the runs;
            // the cross-checks and grouping weed out false hits
            if ratio_ok(&st, 0.7) {
                let cxf = x as f32 + st[0] as f32 + st[1] as f32 + st[2] as f32 / 2.0;
                try_candidate(bm, cxf, y, &st, &mut found);
            }
            x += st[0] + st[1];
            i += 2;
        }
    }
    found.list
}

/// Finder candidates in the order they were first seen, with a coarse grid
/// over their centres: a new hit merges into the first candidate (in that
/// order) within 1.5 modules, and only the cells that close can hold one are
/// looked at. Scanning every candidate for every hit was quadratic, and the
/// pixel grid of a monitor makes thousands of them.
#[derive(Default)]
struct Candidates {
    list: Vec<Finder>,
    cells: std::collections::HashMap<(i32, i32), Vec<usize>>,
    /// The largest module any hit measured (bounds the merge distance).
    max_module: f32,
}

impl Candidates {
    const CELL: f32 = 32.0;

    fn cell(x: f32, y: f32) -> (i32, i32) {
        (
            (x / Self::CELL).floor() as i32,
            (y / Self::CELL).floor() as i32,
        )
    }

    fn add(&mut self, x: f32, y: f32, module: f32) {
        self.max_module = self.max_module.max(module);
        let reach = 1.5 * self.max_module;
        let (lo, hi) = (
            Self::cell(x - reach, y - reach),
            Self::cell(x + reach, y + reach),
        );
        let mut first: Option<usize> = None;
        for cy in lo.1..=hi.1 {
            for cx in lo.0..=hi.0 {
                for &i in self.cells.get(&(cx, cy)).map(Vec::as_slice).unwrap_or(&[]) {
                    let f = &self.list[i];
                    if (f.x - x).abs() <= module.max(f.module) * 1.5
                        && (f.y - y).abs() <= module.max(f.module) * 1.5
                        && first.is_none_or(|j| i < j)
                    {
                        first = Some(i);
                    }
                }
            }
        }
        let Some(i) = first else {
            self.cells
                .entry(Self::cell(x, y))
                .or_default()
                .push(self.list.len());
            self.list.push(Finder {
                x,
                y,
                module,
                hits: 1,
            });
            return;
        };
        let f = &mut self.list[i];
        let before = Self::cell(f.x, f.y);
        let n = f.hits as f32;
        f.x = (f.x * n + x) / (n + 1.0);
        f.y = (f.y * n + y) / (n + 1.0);
        f.module = (f.module * n + module) / (n + 1.0);
        f.hits += 1;
        let after = Self::cell(f.x, f.y);
        if after != before {
            if let Some(v) = self.cells.get_mut(&before) {
                v.retain(|&j| j != i);
            }
            self.cells.entry(after).or_default().push(i);
        }
    }
}

fn try_candidate(bm: &Bitmap, cxf: f32, y: usize, st: &[usize; 5], found: &mut Candidates) {
    let total: usize = st.iter().sum();
    // Float-to-int casts saturate (negative and NaN give 0) and truncate, which
    // is floor for the non-negative values that matter; `floor`/`round` are libm
    // calls without SSE4.1 and showed up at 7 % in the qr-real profile.
    let cx = cxf as usize;
    if cx >= bm.w {
        return;
    }
    let max_run = total;
    let Some((dy, vt)) = cross_check(bm, cx, y, 0, 1, max_run) else {
        return;
    };
    let cyf = y as f32 + dy;
    let cy = ((cyf + 0.5) as usize).min(bm.h - 1);
    let Some((dx, ht)) = cross_check(bm, cx, cy, 1, 0, max_run) else {
        return;
    };
    let cxf2 = cx as f32 + dx;
    // vertical and horizontal sizes must roughly agree (allow perspective)
    let (a, b) = (vt as f32, ht as f32);
    if a > 2.5 * b || b > 2.5 * a {
        return;
    }
    // a diagonal check rejects text and stripes
    let cx2 = ((cxf2 + 0.5) as usize).min(bm.w - 1);
    if cross_check(bm, cx2, cy, 1, 1, max_run * 2).is_none()
        && cross_check(bm, cx2, cy, 1, -1, max_run * 2).is_none()
    {
        return;
    }
    found.add(cxf2, cyf, (a + b) / 14.0);
}

fn dist(a: &Finder, b: &Finder) -> f32 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

/// Group candidates into plausible QR corner triples, best first.
pub fn group(finders: &[Finder], max_candidates: usize) -> Vec<Triple> {
    let mut cands: Vec<Finder> = finders.to_vec();
    cands.sort_by_key(|c| std::cmp::Reverse(c.hits));
    cands.truncate(max_candidates);
    let n = cands.len();
    let mut out = Vec::new();
    for i in 0..n {
        for j in (i + 1)..n {
            for k in (j + 1)..n {
                if let Some(t) = orient(&cands[i], &cands[j], &cands[k]) {
                    out.push(t);
                }
            }
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

fn orient(a: &Finder, b: &Finder, c: &Finder) -> Option<Triple> {
    let (ms, mx) = {
        let m = [a.module, b.module, c.module];
        (
            m.iter().cloned().fold(f32::MAX, f32::min),
            m.iter().cloned().fold(0.0, f32::max),
        )
    };
    // strong perspective makes the far finders less than half the near one
    if mx > ms * 3.0 {
        return None;
    }
    let (dab, dbc, dca) = (dist(a, b), dist(b, c), dist(c, a));
    // top-left is opposite the longest side
    let (tl, p, q) = if dbc >= dab && dbc >= dca {
        (a, b, c)
    } else if dca >= dab && dca >= dbc {
        (b, c, a)
    } else {
        (c, a, b)
    };
    let (ux, uy) = (p.x - tl.x, p.y - tl.y);
    let (vx, vy) = (q.x - tl.x, q.y - tl.y);
    let cross = ux * vy - uy * vx;
    let (tr, bl) = if cross > 0.0 { (p, q) } else { (q, p) };
    let lu = dist(tl, tr);
    let lv = dist(tl, bl);
    if lu < 1.0 || lv < 1.0 {
        return None;
    }
    let ratio = lu / lv;
    if !(0.5..=2.0).contains(&ratio) {
        return None;
    }
    let cos = (ux * vx + uy * vy) / (lu * lv);
    if cos.abs() > 0.5 {
        return None;
    }
    // run lengths along rows/columns overstate the module by 1/cos of the
    // code's rotation (folded into ±45°)
    let quarter = std::f32::consts::FRAC_PI_2;
    let ang = uy.atan2(ux).rem_euclid(quarter);
    let fold = ang.cos().max((quarter - ang).cos());
    let m_u = (tl.module + tr.module) / 2.0 * fold;
    let m_v = (tl.module + bl.module) / 2.0 * fold;
    let dim = (lu / m_u + lv / m_v) / 2.0 + 7.0;
    if !(17.0..=185.0).contains(&dim) {
        return None;
    }
    // prefer square, right-angled, consistent, often-hit triples
    // Real finders are hit on many rows; the weakest member counts most.
    // Size disagreement is penalised mildly, as perspective causes it too.
    let min_hits = a.hits.min(b.hits).min(c.hits) as f32;
    let score = -(cos.abs() * 2.0) - (ratio.ln()).abs() - 0.5 * (mx / ms).ln()
        + ((a.hits + b.hits + c.hits) as f32).ln() * 0.3
        + 0.6 * min_hits.ln();
    Some(Triple {
        tl: *tl,
        tr: *tr,
        bl: *bl,
        dim_estimate: dim,
        score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The merge rule scanned over every candidate, as it was.
    fn naive(hits: &[(f32, f32, f32)]) -> Vec<Finder> {
        let mut found: Vec<Finder> = Vec::new();
        'hits: for &(x, y, module) in hits {
            for f in found.iter_mut() {
                if (f.x - x).abs() <= module.max(f.module) * 1.5
                    && (f.y - y).abs() <= module.max(f.module) * 1.5
                {
                    let n = f.hits as f32;
                    f.x = (f.x * n + x) / (n + 1.0);
                    f.y = (f.y * n + y) / (n + 1.0);
                    f.module = (f.module * n + module) / (n + 1.0);
                    f.hits += 1;
                    continue 'hits;
                }
            }
            found.push(Finder {
                x,
                y,
                module,
                hits: 1,
            });
        }
        found
    }

    #[test]
    fn a_walk_along_a_long_dark_line_stops_one_past_its_limit() {
        // regression: the centre run of a cross-check had no limit, and a
        // frame of stripes along the scan made every candidate walk the frame
        let img = image::GrayImage::from_fn(3, 5000, |x, _| [if x == 1 { 0 } else { 255 }].into());
        let bm = crate::binarize::global(&img, 128);
        assert_eq!(run_from(&bm, (1, 2500), (0, 1), true, 10), 11);
        assert_eq!(run_from(&bm, (1, 2500), (0, -1), true, 10), 11);
        assert_eq!(
            run_from(&bm, (1, 4995), (0, 1), true, 10),
            5,
            "stops at the edge"
        );
        assert_eq!(
            run_from(&bm, (0, 10), (1, 0), false, 10),
            1,
            "stops at a colour change"
        );
        assert_eq!(cross_check(&bm, 1, 2500, 0, 1, 7), None);
    }

    #[test]
    fn the_finder_search_gives_up_when_told_and_keeps_what_it_found() {
        // a frame tiled with finder patterns (2 px modules, 16 px tiles)
        let img = image::GrayImage::from_fn(320, 320, |x, y| {
            // module 0..=6 of the finder from tile pixel 1 on; pixel 0 and
            // 15 are the light border between tiles
            let (px, py) = ((x % 16) as i32, (y % 16) as i32);
            let inside = (1..15).contains(&px) && (1..15).contains(&py);
            // rings by Chebyshev distance from the centre module: the 3×3
            // core and the outer ring dark, the ring between light
            let ring = ((px - 1) / 2 - 3).abs().max(((py - 1) / 2 - 3).abs());
            [if inside && ring != 2 { 20 } else { 230 }].into()
        });
        let bm = crate::binarize::global(&img, 128);
        let all = find_finders(&bm);
        assert!(
            all.iter().any(|f| f.y > 100.0),
            "look-alikes all the way down"
        );
        let cut = find_finders_until(&bm, &|| true);
        assert!(!cut.is_empty());
        assert!(
            cut.iter().all(|f| f.y < 40.0),
            "only the first 31 rows' candidates"
        );
    }

    proptest::proptest! {
        #[test]
        fn the_cell_index_merges_exactly_as_scanning_every_candidate(
            hits in proptest::collection::vec((-20f32..400.0, -20f32..400.0, 0.5f32..40.0), 0..300),
        ) {
            let mut c = Candidates::default();
            for &(x, y, m) in &hits {
                c.add(x, y, m);
            }
            let want = naive(&hits);
            proptest::prop_assert_eq!(c.list.len(), want.len());
            for (a, b) in c.list.iter().zip(&want) {
                proptest::prop_assert_eq!((a.x, a.y, a.module, a.hits), (b.x, b.y, b.module, b.hits));
            }
        }
    }
}
