//! The project's own QR grid decoder: from a sampled module matrix (`true` =
//! dark, row-major, side `dim`) to the payload bytes. It owns format and
//! version information, unmasking, the zig-zag codeword order, block
//! de-interleaving (ISO/IEC 18004 table 9), Reed–Solomon correction over
//! GF(256) and the data segments. It replaces rqrr's decode call on the hot
//! path: rqrr evaluates every syndrome by repeated squaring (~5 ms for a
//! version-16 code); log/antilog tables and Horner's rule make the same work
//! a few microseconds. The caller falls back to rqrr whenever this decoder
//! says no, so it may be stricter than rqrr but never more lenient.
//!
//! Every input is attacker-controlled: all table reads are bounds-checked
//! and every length is checked before it is used.

use std::sync::OnceLock;

/// Why a grid did not decode (the caller only needs "no", the reason helps tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    #[error("side is not a QR version size")]
    Size,
    #[error("format information unreadable")]
    Format,
    #[error("version information disagrees with the size")]
    VersionInfo,
    #[error("too many errors in a block")]
    Ecc,
    #[error("data segments malformed")]
    Data,
    #[error("segment mode not handled here")]
    Unsupported,
}

/// EC level index in table order: L, M, Q, H.
const EC_L: usize = 0;

/// ECC codewords per block, by EC level (L, M, Q, H) and version 1..=40 (index 0 unused).
const ECC_PER_BLOCK: [[u8; 41]; 4] = [
    [
        0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28,
        30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
    [
        0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28,
        28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    ],
    [
        0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30,
        30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
    [
        0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24,
        30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
];

/// Number of RS blocks, by EC level (L, M, Q, H) and version 1..=40 (index 0 unused).
const BLOCKS: [[u8; 41]; 4] = [
    [
        0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13,
        14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25,
    ],
    [
        0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21,
        23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
    ],
    [
        0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29,
        34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68,
    ],
    [
        0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32,
        35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81,
    ],
];

/// Misdecode-protection codewords (table 9's "p"): ECC codewords not spent
/// on correction in the smallest symbols, so a block corrects (ecc - p) / 2.
fn misdecode_protection(version: usize, level: usize) -> usize {
    match (version, level) {
        (1, 0) => 3,
        (1, 1) => 2,
        (1, _) => 1,
        (2, 0) => 2,
        (3, 0) => 1,
        _ => 0,
    }
}

struct Gf {
    exp: [u8; 512],
    log: [u8; 256],
}

fn gf() -> &'static Gf {
    static T: OnceLock<Gf> = OnceLock::new();
    T.get_or_init(|| {
        let mut exp = [0u8; 512];
        let mut log = [0u8; 256];
        let mut x: u16 = 1;
        for (i, e) in exp.iter_mut().enumerate().take(255) {
            *e = x as u8;
            log[x as usize] = i as u8;
            x <<= 1;
            if x & 0x100 != 0 {
                x ^= 0x11D;
            }
        }
        for i in 255..512 {
            exp[i] = exp[i - 255];
        }
        Gf { exp, log }
    })
}

impl Gf {
    fn mul(&self, a: u8, b: u8) -> u8 {
        if a == 0 || b == 0 {
            0
        } else {
            self.exp[self.log[a as usize] as usize + self.log[b as usize] as usize]
        }
    }
    /// a / b, b != 0.
    fn div(&self, a: u8, b: u8) -> u8 {
        if a == 0 || b == 0 {
            0
        } else {
            self.exp[self.log[a as usize] as usize + 255 - self.log[b as usize] as usize]
        }
    }
    /// alpha^(e mod 255).
    fn pow_a(&self, e: usize) -> u8 {
        self.exp[e % 255]
    }
    /// Evaluate a polynomial given lowest degree first.
    fn eval_low(&self, p: &[u8], x: u8) -> u8 {
        p.iter().rev().fold(0, |acc, &c| self.mul(acc, x) ^ c)
    }
}

/// Correct one block (data followed by ECC, first byte = highest degree) in
/// place, at most `t` errors. Err when uncorrectable.
fn correct_block(block: &mut [u8], ecc: usize, t: usize) -> Result<(), GridError> {
    let g = gf();
    let n = block.len();
    if ecc == 0 || n > 255 || ecc >= n {
        return Err(GridError::Ecc);
    }
    let mut s = [0u8; 64];
    let s = &mut s[..ecc.min(64)];
    let mut any = false;
    for (j, sj) in s.iter_mut().enumerate() {
        // Horner with multiplication by alpha^j as a log-domain add.
        let mut acc = 0u8;
        for &c in block.iter() {
            acc = if acc == 0 {
                c
            } else {
                g.exp[(g.log[acc as usize] as usize + j) % 255] ^ c
            };
        }
        *sj = acc;
        any |= acc != 0;
    }
    if !any {
        return Ok(());
    }
    if t == 0 {
        return Err(GridError::Ecc);
    }
    // Berlekamp–Massey: error locator lambda (lowest degree first).
    let mut lambda = [0u8; 65];
    let mut prev = [0u8; 65];
    lambda[0] = 1;
    prev[0] = 1;
    let mut l = 0usize;
    let mut m = 1usize;
    let mut b = 1u8;
    for k in 0..s.len() {
        let mut d = s[k];
        for i in 1..=l.min(k) {
            d ^= g.mul(lambda[i], s[k - i]);
        }
        if d == 0 {
            m += 1;
        } else if 2 * l <= k {
            let tmp = lambda;
            let coef = g.div(d, b);
            for i in 0..65 - m {
                lambda[i + m] ^= g.mul(coef, prev[i]);
            }
            l = k + 1 - l;
            prev = tmp;
            b = d;
            m = 1;
        } else {
            let coef = g.div(d, b);
            for i in 0..65 - m {
                lambda[i + m] ^= g.mul(coef, prev[i]);
            }
            m += 1;
        }
    }
    if l == 0 || l > t {
        return Err(GridError::Ecc);
    }
    let lambda = &lambda[..=l];
    // Chien search over the block's positions: position i (from the start)
    // has degree n-1-i, locator X = alpha^(n-1-i), root at X^-1.
    let mut positions = Vec::with_capacity(l);
    for i in 0..n {
        let deg = n - 1 - i;
        let xinv = g.pow_a(255 - deg % 255);
        if g.eval_low(lambda, xinv) == 0 {
            positions.push(i);
        }
    }
    if positions.len() != l {
        return Err(GridError::Ecc);
    }
    // Forney (first consecutive root alpha^0): e = X * Omega(X^-1) / Lambda'(X^-1).
    let mut omega = [0u8; 64];
    let omega = &mut omega[..s.len()];
    for (i, o) in omega.iter_mut().enumerate() {
        let mut v = 0u8;
        for j in 0..=i.min(l) {
            v ^= g.mul(lambda[j], s[i - j]);
        }
        *o = v;
    }
    // Formal derivative in characteristic 2: odd-degree terms only.
    let mut dl = [0u8; 64];
    for i in (1..=l).step_by(2) {
        dl[i - 1] = lambda[i];
    }
    let dl = &dl[..l];
    for &i in &positions {
        let deg = n - 1 - i;
        let x = g.pow_a(deg);
        let xinv = g.pow_a(255 - deg % 255);
        let den = g.eval_low(dl, xinv);
        if den == 0 {
            return Err(GridError::Ecc);
        }
        let e = g.mul(x, g.div(g.eval_low(omega, xinv), den));
        block[i] ^= e;
    }
    // Never trust a correction that does not yield a codeword.
    for j in 0..s.len() {
        let mut acc = 0u8;
        for &c in block.iter() {
            acc = g.mul(acc, g.pow_a(j)) ^ c;
        }
        if acc != 0 {
            return Err(GridError::Ecc);
        }
    }
    Ok(())
}

/// BCH(15,5) format codewords for all 32 data values, already XOR-masked.
fn format_codewords() -> &'static [u16; 32] {
    static T: OnceLock<[u16; 32]> = OnceLock::new();
    T.get_or_init(|| {
        let mut out = [0u16; 32];
        for (d, o) in out.iter_mut().enumerate() {
            let mut r = (d as u32) << 10;
            for bit in (10..15).rev() {
                if r & (1 << bit) != 0 {
                    r ^= 0x537 << (bit - 10);
                }
            }
            *o = ((((d as u32) << 10) | r) ^ 0x5412) as u16;
        }
        out
    })
}

/// BCH(18,6) version codewords; index = version (7..=40 used).
fn version_codewords() -> &'static [u32; 41] {
    static T: OnceLock<[u32; 41]> = OnceLock::new();
    T.get_or_init(|| {
        let mut out = [0u32; 41];
        for (v, o) in out.iter_mut().enumerate().skip(7) {
            let mut r = (v as u32) << 12;
            for bit in (12..18).rev() {
                if r & (1 << bit) != 0 {
                    r ^= 0x1F25 << (bit - 12);
                }
            }
            *o = ((v as u32) << 12) | r;
        }
        out
    })
}

/// The version an 18-bit version-information word (bit i = module i of a
/// block, as ISO 18004 places them) encodes, with its Hamming distance from
/// the codeword, when within the code's 3-error reach.
pub fn version_from_bits(word: u32) -> Option<(usize, u32)> {
    nearest(version_codewords(), word, 7)
}

/// Nearest valid codeword within distance 3, as its data value.
fn nearest<const N: usize, T: Copy + Into<u32>>(
    table: &[T; N],
    word: u32,
    skip: usize,
) -> Option<(usize, u32)> {
    table
        .iter()
        .enumerate()
        .skip(skip)
        .map(|(d, &c)| (d, (c.into() ^ word).count_ones()))
        .min_by_key(|&(_, dist)| dist)
        .filter(|&(_, dist)| dist <= 3)
}

struct View<'a> {
    dim: usize,
    dark: &'a [bool],
    mirrored: bool,
}

impl View<'_> {
    /// Module at row `r`, column `c` (false out of range).
    fn get(&self, r: usize, c: usize) -> bool {
        let (r, c) = if self.mirrored { (c, r) } else { (r, c) };
        if r >= self.dim || c >= self.dim {
            return false;
        }
        self.dark.get(r * self.dim + c).copied().unwrap_or(false)
    }
}

fn mask_bit(mask: usize, r: usize, c: usize) -> bool {
    let v = match mask {
        0 => (r + c) % 2,
        1 => r % 2,
        2 => c % 3,
        3 => (r + c) % 3,
        4 => (r / 2 + c / 3) % 2,
        5 => (r * c) % 2 + (r * c) % 3,
        6 => ((r * c) % 2 + (r * c) % 3) % 2,
        _ => ((r + c) % 2 + (r * c) % 3) % 2,
    };
    v == 0
}

/// Data-module coordinates in reading order for a version, cached.
fn data_positions(version: usize) -> &'static [(u8, u8)] {
    static T: OnceLock<Vec<Vec<(u8, u8)>>> = OnceLock::new();
    let all = T.get_or_init(|| (0..=40).map(build_positions).collect());
    all.get(version).map(Vec::as_slice).unwrap_or(&[])
}

fn build_positions(version: usize) -> Vec<(u8, u8)> {
    if !(1..=40).contains(&version) {
        return Vec::new();
    }
    let dim = 17 + 4 * version;
    let mut func = vec![false; dim * dim];
    let mut mark = |r0: usize, c0: usize, h: usize, w: usize| {
        for r in r0..(r0 + h).min(dim) {
            for c in c0..(c0 + w).min(dim) {
                func[r * dim + c] = true;
            }
        }
    };
    // Finders with separators and format areas; the dark module is inside the last.
    mark(0, 0, 9, 9);
    mark(0, dim - 8, 9, 8);
    mark(dim - 8, 0, 8, 9);
    // Timing patterns.
    mark(6, 0, 1, dim);
    mark(0, 6, dim, 1);
    if version >= 7 {
        mark(0, dim - 11, 6, 3);
        mark(dim - 11, 0, 3, 6);
    }
    let ap = crate::grid::alignment_positions(version);
    let last = ap.len().saturating_sub(1);
    for (i, &r) in ap.iter().enumerate() {
        for (j, &c) in ap.iter().enumerate() {
            // The three corners under the finder patterns carry none.
            let corner =
                (i == 0 || i == last) && (j == 0 || j == last) && !(i == last && j == last);
            if corner {
                continue;
            }
            mark(r - 2, c - 2, 5, 5);
        }
    }
    let mut out = Vec::with_capacity(dim * dim);
    let mut upward = true;
    let mut right = dim as isize - 1;
    while right >= 1 {
        if right == 6 {
            right = 5;
        }
        for k in 0..dim {
            let r = if upward { dim - 1 - k } else { k };
            for dc in 0..2 {
                let c = right as usize - dc;
                if !func[r * dim + c] {
                    out.push((r as u8, c as u8));
                }
            }
        }
        upward = !upward;
        right -= 2;
    }
    out
}

/// Decode a module matrix (row-major, `true` = dark, side `dim` = 17 + 4 ×
/// version), trying the mirrored reading too as rqrr does. Returns the
/// payload bytes (byte segments raw, ECI designators dropped, kanji as Shift JIS).
pub fn decode_grid(dim: usize, dark: &[bool]) -> Result<Vec<u8>, GridError> {
    if !(21..=177).contains(&dim) || !(dim - 17).is_multiple_of(4) || dark.len() != dim * dim {
        return Err(GridError::Size);
    }
    let first = decode_view(&View {
        dim,
        dark,
        mirrored: false,
    });
    match first {
        Ok(b) => Ok(b),
        Err(e) => decode_view(&View {
            dim,
            dark,
            mirrored: true,
        })
        .map_err(|_| e),
    }
}

fn read_format(v: &View) -> Result<(usize, usize), GridError> {
    let dim = v.dim;
    let mut a = 0u32;
    let mut b = 0u32;
    for i in 0..15 {
        let (r, c) = match i {
            0..=5 => (i, 8),
            6 => (7, 8),
            7 => (8, 8),
            8 => (8, 7),
            _ => (8, 14 - i),
        };
        a |= u32::from(v.get(r, c)) << i;
        let (r, c) = if i < 8 {
            (8, dim - 1 - i)
        } else {
            (dim - 15 + i, 8)
        };
        b |= u32::from(v.get(r, c)) << i;
    }
    let table = format_codewords();
    let best = [nearest(table, a, 0), nearest(table, b, 0)]
        .into_iter()
        .flatten()
        .min_by_key(|&(_, d)| d)
        .ok_or(GridError::Format)?;
    let data = best.0;
    // Level bits: L=01, M=00, Q=11, H=10 -> table order L, M, Q, H.
    let level = match data >> 3 {
        1 => EC_L,
        0 => 1,
        3 => 2,
        _ => 3,
    };
    Ok((level, data & 7))
}

fn check_version_info(v: &View, version: usize) -> Result<(), GridError> {
    if version < 7 {
        return Ok(());
    }
    let dim = v.dim;
    let mut a = 0u32;
    let mut b = 0u32;
    for i in 0..18 {
        a |= u32::from(v.get(i / 3, dim - 11 + i % 3)) << i;
        b |= u32::from(v.get(dim - 11 + i % 3, i / 3)) << i;
    }
    let table = version_codewords();
    let found = [nearest(table, a, 7), nearest(table, b, 7)]
        .into_iter()
        .flatten()
        .min_by_key(|&(_, d)| d);
    match found {
        // A readable version that disagrees with the size means a wrong grid.
        Some((ver, _)) if ver != version => Err(GridError::VersionInfo),
        _ => Ok(()),
    }
}

fn decode_view(v: &View) -> Result<Vec<u8>, GridError> {
    let version = (v.dim - 17) / 4;
    let (level, mask) = read_format(v)?;
    check_version_info(v, version)?;
    let pos = data_positions(version);
    let total = pos.len() / 8;
    let mut raw = vec![0u8; total];
    for (k, &(r, c)) in pos.iter().take(total * 8).enumerate() {
        let (r, c) = (r as usize, c as usize);
        let bit = v.get(r, c) ^ mask_bit(mask, r, c);
        raw[k / 8] |= u8::from(bit) << (7 - k % 8);
    }
    let nblocks = *BLOCKS
        .get(level)
        .and_then(|t| t.get(version))
        .ok_or(GridError::Size)? as usize;
    let ecc = *ECC_PER_BLOCK
        .get(level)
        .and_then(|t| t.get(version))
        .ok_or(GridError::Size)? as usize;
    if nblocks == 0 || total < nblocks * (ecc + 1) {
        return Err(GridError::Size);
    }
    let short_len = total / nblocks;
    let nlong = total % nblocks;
    let nshort = nblocks - nlong;
    let short_data = short_len - ecc;
    // De-interleave: data codewords column by column (short blocks have one
    // fewer), then ECC codewords column by column.
    let mut blocks: Vec<Vec<u8>> = (0..nblocks)
        .map(|b| Vec::with_capacity(short_len + usize::from(b >= nshort)))
        .collect();
    let mut it = raw.iter().copied();
    for k in 0..=short_data {
        for (b, blk) in blocks.iter_mut().enumerate() {
            if k < short_data || b >= nshort {
                blk.push(it.next().ok_or(GridError::Size)?);
            }
        }
    }
    for _ in 0..ecc {
        for blk in blocks.iter_mut() {
            blk.push(it.next().ok_or(GridError::Size)?);
        }
    }
    let t = ecc.saturating_sub(misdecode_protection(version, level)) / 2;
    let mut data = Vec::with_capacity(total);
    for blk in blocks.iter_mut() {
        correct_block(blk, ecc, t)?;
        let dlen = blk.len() - ecc;
        data.extend_from_slice(&blk[..dlen]);
    }
    parse_segments(&data, version)
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn remaining(&self) -> usize {
        self.data.len() * 8 - self.pos
    }
    fn take(&mut self, n: usize) -> Result<usize, GridError> {
        if n > self.remaining() || n > 32 {
            return Err(GridError::Data);
        }
        let mut v = 0usize;
        for _ in 0..n {
            let byte = self.data[self.pos / 8];
            v = (v << 1) | usize::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Ok(v)
    }
}

const ALNUM: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

fn parse_segments(data: &[u8], version: usize) -> Result<Vec<u8>, GridError> {
    let class = match version {
        0..=9 => 0,
        10..=26 => 1,
        _ => 2,
    };
    let mut bits = Bits { data, pos: 0 };
    let mut out = Vec::new();
    while bits.remaining() >= 4 {
        match bits.take(4)? {
            0 => break,
            1 => {
                let count = bits.take([10, 12, 14][class])?;
                if bits.remaining() < count / 3 * 10 + [0, 4, 7][count % 3] {
                    return Err(GridError::Data);
                }
                let mut left = count;
                while left > 0 {
                    let (nb, nd, lim) = match left {
                        1 => (4, 1, 10),
                        2 => (7, 2, 100),
                        _ => (10, 3, 1000),
                    };
                    let val = bits.take(nb)?;
                    if val >= lim {
                        return Err(GridError::Data);
                    }
                    let s = format!("{val:0nd$}");
                    out.extend_from_slice(s.as_bytes());
                    left -= nd;
                }
            }
            2 => {
                let count = bits.take([9, 11, 13][class])?;
                if bits.remaining() < count / 2 * 11 + (count % 2) * 6 {
                    return Err(GridError::Data);
                }
                let mut left = count;
                while left >= 2 {
                    let val = bits.take(11)?;
                    let (a, b) = (val / 45, val % 45);
                    out.push(*ALNUM.get(a).ok_or(GridError::Data)?);
                    out.push(ALNUM[b]);
                    left -= 2;
                }
                if left == 1 {
                    out.push(*ALNUM.get(bits.take(6)?).ok_or(GridError::Data)?);
                }
            }
            4 => {
                let count = bits.take([8, 16, 16][class])?;
                if bits.remaining() < count * 8 {
                    return Err(GridError::Data);
                }
                for _ in 0..count {
                    out.push(bits.take(8)? as u8);
                }
            }
            8 => {
                let count = bits.take([8, 10, 12][class])?;
                if bits.remaining() < count * 13 {
                    return Err(GridError::Data);
                }
                for _ in 0..count {
                    // 13-bit value back to a Shift JIS double byte.
                    let d = bits.take(13)?;
                    let w = ((d / 0xC0) << 8) | (d % 0xC0);
                    let sj = if w + 0x8140 <= 0x9FFC {
                        w + 0x8140
                    } else {
                        w + 0xC140
                    };
                    out.push((sj >> 8) as u8);
                    out.push(sj as u8);
                }
            }
            7 => {
                // ECI: designator read and dropped (today's output rule: raw bytes).
                let first = bits.take(8)?;
                if first & 0x80 == 0 {
                } else if first & 0xC0 == 0x80 {
                    bits.take(8)?;
                } else if first & 0xE0 == 0xC0 {
                    bits.take(16)?;
                } else {
                    return Err(GridError::Data);
                }
            }
            // Structured append, FNC1: rqrr's path decides.
            _ => return Err(GridError::Unsupported),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(code: &qrcode::QrCode) -> (usize, Vec<bool>) {
        let dim = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        (dim, dark)
    }

    fn level(i: usize) -> qrcode::EcLevel {
        [
            qrcode::EcLevel::L,
            qrcode::EcLevel::M,
            qrcode::EcLevel::Q,
            qrcode::EcLevel::H,
        ][i]
    }

    #[test]
    fn block_table_matches_every_version_and_level() {
        // Total codewords = sum over blocks; a wrong entry fails to decode.
        for v in 1..=40i16 {
            for l in 0..4 {
                let text = if v < 5 {
                    format!("v{v}l{l}")
                } else {
                    format!("V{v}L{l} table check 0123456789")
                };
                let code = qrcode::QrCode::with_version(
                    text.as_bytes(),
                    qrcode::Version::Normal(v),
                    level(l),
                )
                .expect("encodes");
                let (dim, dark) = matrix(&code);
                assert_eq!(
                    decode_grid(dim, &dark).as_deref(),
                    Ok(text.as_bytes()),
                    "v{v} l{l}"
                );
                let g = crate::grid::to_rqrr(dim, &dark);
                let mut theirs = Vec::new();
                g.decode_to(&mut theirs).expect("rqrr decodes");
                assert_eq!(theirs, text.as_bytes());
            }
        }
    }

    #[test]
    fn a_block_with_capacity_errors_in_whole_codewords_is_corrected() {
        for li in 0..4 {
            for v in [1i16, 5, 7, 16, 40] {
                let payload = b"CAPACITY";
                let code =
                    qrcode::QrCode::with_version(payload, qrcode::Version::Normal(v), level(li))
                        .expect("encodes");
                let (dim, mut dark) = matrix(&code);
                let version = v as usize;
                let nblocks = BLOCKS[li][version] as usize;
                let t =
                    (ECC_PER_BLOCK[li][version] as usize - misdecode_protection(version, li)) / 2;
                assert!(t > 0);
                let pos = data_positions(version);
                // Interleaved codeword j * nblocks belongs to block 0.
                for j in 0..t {
                    for b in 0..8 {
                        let (r, c) = pos[(j * nblocks) * 8 + b];
                        let i = r as usize * dim + c as usize;
                        dark[i] = !dark[i];
                    }
                }
                assert_eq!(
                    decode_grid(dim, &dark).as_deref(),
                    Ok(&payload[..]),
                    "v{v} l{li} t{t}"
                );
            }
        }
    }

    #[test]
    fn mirrored_grid_decodes() {
        let code =
            qrcode::QrCode::with_version(b"MIRROR", qrcode::Version::Normal(8), qrcode::EcLevel::M)
                .expect("encodes");
        let (dim, dark) = matrix(&code);
        let t: Vec<bool> = (0..dim * dim)
            .map(|i| dark[(i % dim) * dim + i / dim])
            .collect();
        assert_eq!(decode_grid(dim, &t).as_deref(), Ok(&b"MIRROR"[..]));
    }

    #[test]
    fn hostile_sizes_and_blank_grids_are_errors() {
        assert_eq!(decode_grid(22, &[false; 22 * 22]), Err(GridError::Size));
        assert_eq!(decode_grid(21, &[false; 10]), Err(GridError::Size));
        for dim in (21..=177).step_by(4) {
            assert!(decode_grid(dim, &vec![false; dim * dim]).is_err());
            assert!(decode_grid(dim, &vec![true; dim * dim]).is_err());
        }
    }

    fn level_index(l: qrcode::EcLevel) -> usize {
        match l {
            qrcode::EcLevel::L => 0,
            qrcode::EcLevel::M => 1,
            qrcode::EcLevel::Q => 2,
            qrcode::EcLevel::H => 3,
        }
    }

    const VERSIONS: [i16; 12] = [1, 2, 3, 4, 6, 7, 10, 15, 16, 22, 30, 40];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Flips in data modules: within the per-block capacity the payload
        /// comes back exactly; beyond it, an error or the payload, never another text.
        #[test]
        fn flipped_modules_never_give_a_wrong_text(
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            vi in 0..VERSIONS.len(),
            li in 0..4usize,
            within in proptest::prelude::any::<bool>(),
            seeds in proptest::collection::vec(proptest::prelude::any::<u32>(), 0..200),
        ) {
            let v = VERSIONS[vi];
            let Ok(code) = qrcode::QrCode::with_version(&payload, qrcode::Version::Normal(v), level(li)) else {
                return Ok(());
            };
            let (dim, mut dark) = matrix(&code);
            let version = v as usize;
            let lv = level_index(code.error_correction_level());
            let t = (ECC_PER_BLOCK[lv][version] as usize - misdecode_protection(version, lv)) / 2;
            let pos = data_positions(version);
            let nflips = if within { seeds.len().min(t) } else { seeds.len() };
            for &s in seeds.iter().take(nflips) {
                let (r, c) = pos[s as usize % pos.len()];
                let i = r as usize * dim + c as usize;
                dark[i] = !dark[i];
            }
            let got = decode_grid(dim, &dark);
            if within {
                proptest::prop_assert_eq!(got, Ok(payload));
            } else if let Ok(text) = got {
                proptest::prop_assert_eq!(text, payload);
            }
        }

        /// Attacker-chosen modules: an answer or an error, never a panic.
        #[test]
        fn random_grids_never_panic(
            vi in 1..=40usize,
            cells in proptest::collection::vec(proptest::prelude::any::<bool>(), 177 * 177),
        ) {
            let dim = 17 + 4 * vi;
            let _ = decode_grid(dim, &cells[..dim * dim]);
        }
    }
}
