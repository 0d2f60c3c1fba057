//! Big block letters for the verdict banner, readable from across the booth: 8×8
//! bitmap glyphs (font8x8, plus a drawn ✔ and ✘) packed two pixel rows per text row
//! with half-block characters, so one glyph is 8 columns by 4 rows. Russian and
//! Kazakh capitals font8x8 does not have are drawn here as data.

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

/// Cyrillic capitals (Russian and Kazakh) that font8x8 lacks, drawn in its style.
/// Letters shaped like Latin ones borrow those glyphs (see [`LATIN_TWINS`]).
const CYRILLIC: [(char, [&str; 8]); 29] = [
    (
        'Б',
        [
            "######..", "##......", "##......", "#####...", "##..##..", "##..##..", "#####...",
            "........",
        ],
    ),
    (
        'Г',
        [
            "######..", "##......", "##......", "##......", "##......", "##......", "##......",
            "........",
        ],
    ),
    (
        'Д',
        [
            "..####..", ".##.##..", "##..##..", "##..##..", "##..##..", "#######.", "##...##.",
            "........",
        ],
    ),
    (
        'Ж',
        [
            "##.#.##.", ".##.##..", "..###...", "..###...", ".##.##..", "##.#.##.", "##.#.##.",
            "........",
        ],
    ),
    (
        'З',
        [
            ".####...", "##..##..", "....##..", "..###...", "....##..", "##..##..", ".####...",
            "........",
        ],
    ),
    (
        'И',
        [
            "##...##.", "##..###.", "##.####.", "#######.", "####.##.", "###..##.", "##...##.",
            "........",
        ],
    ),
    (
        'Й',
        [
            "..###...", "##...##.", "##..###.", "##.####.", "#######.", "####.##.", "###..##.",
            "##...##.",
        ],
    ),
    (
        'Л',
        [
            "..####..", ".##.##..", "##..##..", "##..##..", "##..##..", "##..##..", "##..##..",
            "........",
        ],
    ),
    (
        'П',
        [
            "######..", "##..##..", "##..##..", "##..##..", "##..##..", "##..##..", "##..##..",
            "........",
        ],
    ),
    (
        'У',
        [
            "##..##..", "##..##..", "##..##..", ".#####..", "....##..", "##..##..", ".####...",
            "........",
        ],
    ),
    (
        'Ф',
        [
            "..##....", ".######.", "##.##.##", "##.##.##", ".######.", "..##....", "..##....",
            "........",
        ],
    ),
    (
        'Ц',
        [
            "##..##..", "##..##..", "##..##..", "##..##..", "##..##..", "#######.", ".....##.",
            "........",
        ],
    ),
    (
        'Ч',
        [
            "##..##..", "##..##..", "##..##..", ".#####..", "....##..", "....##..", "....##..",
            "........",
        ],
    ),
    (
        'Ш',
        [
            "##.##.##", "##.##.##", "##.##.##", "##.##.##", "##.##.##", "##.##.##", "########",
            "........",
        ],
    ),
    (
        'Щ',
        [
            "##.##.#.", "##.##.#.", "##.##.#.", "##.##.#.", "##.##.#.", "########", "......##",
            "........",
        ],
    ),
    (
        'Ъ',
        [
            "###.....", ".##.....", ".##.....", ".#####..", ".##..##.", ".##..##.", ".#####..",
            "........",
        ],
    ),
    (
        'Ы',
        [
            "##....##", "##....##", "##....##", "#####.##", "##..####", "##..####", "#####.##",
            "........",
        ],
    ),
    (
        'Ь',
        [
            "##......", "##......", "##......", "#####...", "##..##..", "##..##..", "#####...",
            "........",
        ],
    ),
    (
        'Э',
        [
            ".####...", "##..##..", "....##..", "..####..", "....##..", "##..##..", ".####...",
            "........",
        ],
    ),
    (
        'Ю',
        [
            "##..###.", "##.##.##", "####..##", "####..##", "##.#..##", "##.##.##", "##..###.",
            "........",
        ],
    ),
    (
        'Я',
        [
            "..#####.", ".##..##.", ".##..##.", "..#####.", "...####.", "..##.##.", ".##..##.",
            "........",
        ],
    ),
    (
        'Ә',
        [
            ".####...", "##..##..", "....##..", "######..", "##..##..", "##..##..", ".####...",
            "........",
        ],
    ),
    (
        'Ғ',
        [
            "######..", "##......", "##......", "####....", "##......", "##......", "##......",
            "........",
        ],
    ),
    (
        'Қ',
        [
            "##..##..", "##.##...", "####....", "###.....", "####....", "##.##...", "##..###.",
            "......#.",
        ],
    ),
    (
        'Ң',
        [
            "##..##..", "##..##..", "##..##..", "######..", "##..##..", "##..##..", "##..###.",
            ".....##.",
        ],
    ),
    (
        'Ө',
        [
            ".####...", "##..##..", "##..##..", "######..", "##..##..", "##..##..", ".####...",
            "........",
        ],
    ),
    (
        'Ұ',
        [
            "##..##..", "##..##..", ".####...", "..##....", "######..", "..##....", "..##....",
            "........",
        ],
    ),
    (
        'Ү',
        [
            "##..##..", "##..##..", "##..##..", ".####...", "..##....", "..##....", "..##....",
            "........",
        ],
    ),
    (
        'Һ',
        [
            "##......", "##......", "#####...", "##..##..", "##..##..", "##..##..", "##..##..",
            "........",
        ],
    ),
];

/// Cyrillic capitals drawn with the Latin letter of the same shape.
const LATIN_TWINS: [(char, char); 13] = [
    ('А', 'A'),
    ('В', 'B'),
    ('Е', 'E'),
    ('Ё', 'E'),
    ('К', 'K'),
    ('М', 'M'),
    ('Н', 'H'),
    ('О', 'O'),
    ('Р', 'P'),
    ('С', 'C'),
    ('Т', 'T'),
    ('Х', 'X'),
    ('І', 'I'),
];

fn from_art(art: &[&str; 8]) -> [u8; 8] {
    art.map(|row| {
        row.bytes().enumerate().fold(
            0u8,
            |acc, (i, b)| if b == b'#' { acc | (1 << i) } else { acc },
        )
    })
}

/// The glyph of `c`, when there is one.
fn try_glyph(c: char) -> Option<[u8; 8]> {
    match c {
        '✔' => Some(from_art(&CHECK)),
        '✘' => Some(from_art(&CROSS)),
        _ => {
            let c = LATIN_TWINS
                .iter()
                .find(|(cy, _)| *cy == c)
                .map_or(c, |(_, l)| *l);
            CYRILLIC
                .iter()
                .find(|(cy, _)| *cy == c)
                .map(|(_, art)| from_art(art))
                .or_else(|| font8x8::BASIC_FONTS.get(c))
        }
    }
}

fn glyph(c: char) -> [u8; 8] {
    try_glyph(c).unwrap_or([0; 8])
}

/// True when every letter of `text` has a glyph (a word without one is not drawn big).
pub fn can_render(text: &str) -> bool {
    text.chars().all(|c| try_glyph(c).is_some())
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

    /// Regression: font8x8 has no Cyrillic, so "ОТКАЗ" and "БАС ТАРТУ" drew as blanks.
    #[test]
    fn every_verdict_word_of_every_language_has_glyphs() {
        use crate::i18n::{Lang, tr};
        for lang in Lang::ALL {
            for key in ["verdict.accept", "verdict.reject"] {
                let word = tr(lang, key);
                assert!(can_render(&word), "{}: {word}", lang.code());
                for c in word.chars().filter(|c| *c != ' ') {
                    assert_ne!(glyph(c), [0; 8], "{}: {c} in {word}", lang.code());
                }
            }
        }
        // Every Russian and Kazakh capital, not only today's verdict words.
        for c in ('А'..='Я').chain("ЁӘҒҚҢӨҰҮҺІ".chars()) {
            assert!(can_render(&c.to_string()), "{c}");
        }
    }
}
