//! Big block letters for the verdict banner, readable from across the booth: 8×8
//! bitmap glyphs (font8x8, plus a drawn ✔ and ✘) packed two pixel rows per text row
//! with half-block characters, so one glyph is 8 columns by 4 rows.

use font8x8::UnicodeFonts;

/// Text rows of a rendered line.
pub const ROWS: usize = 4;
/// Columns per glyph.
pub const GLYPH_WIDTH: usize = 8;

const CHECK: [&str; 8] = [
    "........", "......##", ".....##.", "##..##..", ".####...", "..##....", "........", "........",
];
const CROSS: [&str; 8] = [
    "##....##", ".##..##.", "..####..", "...##...", "..####..", ".##..##.", "##....##", "........",
];

fn from_art(art: &[&str; 8]) -> [u8; 8] {
    art.map(|row| {
        row.bytes().enumerate().fold(
            0u8,
            |acc, (i, b)| if b == b'#' { acc | (1 << i) } else { acc },
        )
    })
}

fn glyph(c: char) -> [u8; 8] {
    match c {
        '✔' => from_art(&CHECK),
        '✘' => from_art(&CROSS),
        _ => font8x8::BASIC_FONTS.get(c).unwrap_or([0; 8]),
    }
}

/// Width in columns of `text` when rendered.
pub fn width(text: &str) -> usize {
    text.chars().count() * GLYPH_WIDTH
}

/// `text` as [`ROWS`] lines of half-block characters.
pub fn render(text: &str) -> Vec<String> {
    let glyphs: Vec<[u8; 8]> = text.chars().map(glyph).collect();
    (0..ROWS)
        .map(|row| {
            let mut line = String::new();
            for g in &glyphs {
                let (top, bottom) = (g[row * 2], g[row * 2 + 1]);
                for bit in 0..8 {
                    let t = top & (1 << bit) != 0;
                    let b = bottom & (1 << bit) != 0;
                    line.push(match (t, b) {
                        (true, true) => '█',
                        (true, false) => '▀',
                        (false, true) => '▄',
                        (false, false) => ' ',
                    });
                }
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_four_rows_of_fixed_width() {
        let lines = render("✔ OK");
        assert_eq!(lines.len(), ROWS);
        for l in &lines {
            assert_eq!(l.chars().count(), width("✔ OK"));
        }
        assert!(lines.iter().any(|l| l.contains('█')));
    }
}
