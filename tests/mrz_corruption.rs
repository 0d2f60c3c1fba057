//! Every single-character corruption of a valid MRZ is caught: by a check digit where
//! ICAO 9303 puts one, or rejected as malformed where the character becomes impossible.

use evisa_core::mrz::{self, MrzError};
use time::macros::date;

const TODAY: time::Date = date!(2010 - 01 - 01);
const L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
const L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<";

fn value(c: char) -> u32 {
    match c {
        '0'..='9' => c as u32 - '0' as u32,
        'A'..='Z' => c as u32 - 'A' as u32 + 10,
        _ => 0,
    }
}

/// Positions of line 2 that no check digit covers: nationality (11–13) and sex (21).
/// Within the alphabet those can only be caught when the result is not a valid value.
fn uncovered(pos: usize) -> bool {
    (10..13).contains(&pos) || pos == 20
}

#[test]
fn specimen_is_valid() {
    mrz::parse(&format!("{L1}\n{L2}"), TODAY).unwrap();
}

#[test]
fn every_covered_substitution_in_line_2_is_caught() {
    let (mut caught, mut blind) = (0, 0);
    for pos in 0..44 {
        if uncovered(pos) {
            continue;
        }
        for ch in ALPHABET.chars() {
            let mut l2: Vec<char> = L2.chars().collect();
            let old = l2[pos];
            if old == ch {
                continue;
            }
            l2[pos] = ch;
            let l2: String = l2.into_iter().collect();
            let r = mrz::parse(&format!("{L1}\n{l2}"), TODAY);
            if r.is_ok() {
                // The 7-3-1 scheme is blind to a substitution whose values differ by a
                // multiple of 10 (L=21 for 1, A=10 for 0, …) where letters are legal:
                // the only corruptions allowed through, and exactly those.
                assert_eq!(
                    value(old).abs_diff(value(ch)) % 10,
                    0,
                    "corruption at {pos} to {ch:?} was accepted: {l2}"
                );
                blind += 1;
            } else {
                caught += 1;
            }
        }
    }
    assert!(caught > 1300, "{caught} caught");
    assert!(blind < 80, "{blind} undetectable substitutions");
}

#[test]
fn every_non_mrz_character_anywhere_is_malformed() {
    for line in 0..2 {
        for pos in 0..44 {
            for ch in ['a', ' ', '-', 'Ä', '0'] {
                let mut lines = [L1.to_string(), L2.to_string()];
                let mut chars: Vec<char> = lines[line].chars().collect();
                if chars[pos] == ch
                    || ch == '0' && line == 1
                    || ch == '0' && line == 0 && (2..5).contains(&pos)
                {
                    continue;
                }
                chars[pos] = ch;
                lines[line] = chars.into_iter().collect();
                let r = mrz::parse(&format!("{}\n{}", lines[0], lines[1]), TODAY);
                // Lower case is folded to upper case on purpose (typed input); that may
                // then be a valid substitution of line 1's uncovered name field.
                if ch == 'a' {
                    continue;
                }
                assert!(r.is_err(), "{ch:?} at line {} pos {pos} accepted", line + 1);
            }
        }
    }
}

#[test]
fn uncovered_positions_reject_impossible_values() {
    // Sex must be M, F, X or <.
    let l2 = format!("{}Q{}", &L2[..20], &L2[21..]);
    assert!(matches!(
        mrz::parse(&format!("{L1}\n{l2}"), TODAY),
        Err(MrzError::BadField { field: "sex", .. })
    ));
    // Nationality must be letters.
    let l2 = format!("{}U7O{}", &L2[..10], &L2[13..]);
    assert!(matches!(
        mrz::parse(&format!("{L1}\n{l2}"), TODAY),
        Err(MrzError::BadField {
            field: "nationality",
            ..
        })
    ));
    // A digit in the document type is malformed.
    let l1 = format!("1{}", &L1[1..]);
    assert!(matches!(
        mrz::parse(&format!("{l1}\n{L2}"), TODAY),
        Err(MrzError::NotPassport(_))
    ));
}

#[test]
fn length_changes_are_framing_errors() {
    for cut in [1, 43] {
        let r = mrz::parse(&format!("{L1}\n{}", &L2[..cut]), TODAY);
        assert!(matches!(r, Err(MrzError::Framing { .. })));
    }
    let r = mrz::parse(&format!("{L1}<\n{L2}"), TODAY);
    assert!(matches!(r, Err(MrzError::Framing { .. })));
}
