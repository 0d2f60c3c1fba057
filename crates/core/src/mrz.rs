//! The passport's machine-readable zone: ICAO Doc 9303 TD3 parsing, every check digit,
//! name splitting, two-digit-year resolution, and the name-field truncation of ICAO Doc
//! 9303 Part 4 §4.2.3 in both directions ([`render_name`] writes a name the way an issuer
//! does; [`match_name`] decides whether a name field can be that name). Pure: the
//! checkpoint date that decides centuries is passed in.

use time::{Date, Month};

use crate::dates::PartialDate;
use crate::payload::Sex;

pub const TD3_LINE: usize = 44;
/// Width of the TD3 name field (upper line, positions 6 to 44).
pub const NAME_FIELD: usize = 39;

/// Why an MRZ was refused (reason `MRZ_INVALID`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error(
        "a passport MRZ is two lines of 44 characters; got {found} (re-scan the passport or type both lines)"
    )]
    Framing { found: String },
    #[error(
        "line {line}, position {pos}: {} is not an MRZ character (A-Z, 0-9, <)",
        describe_char(.ch)
    )]
    BadChar { line: usize, pos: usize, ch: char },
    #[error("document type {0} is not a passport (TD3 MRZ must start with P)")]
    NotPassport(String),
    #[error("{field} {value} is not valid")]
    BadField { field: &'static str, value: String },
    #[error("{field} check digit fails: the MRZ says {found}, the data gives {expected}")]
    CheckDigit {
        field: &'static str,
        expected: char,
        found: char,
    },
}

/// A character named so that the officer can tell what it is: printable ones in quotes,
/// anything else (control characters, invisible or reordering marks) by code point only.
fn describe_char(ch: &char) -> String {
    if ch.is_alphanumeric() || ch.is_ascii_graphic() {
        format!("\"{ch}\"")
    } else {
        format!("U+{:04X}", u32::from(*ch))
    }
}

/// A passport's MRZ data, with `<` fillers turned into spaces and trailing fillers
/// dropped, the way spec §3 writes the holder map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passport {
    /// `P` plus the optional second type character (`P<` gives `"P"`).
    pub document_type: String,
    pub issuing_state: String,
    pub surname: String,
    pub given_names: String,
    /// True when the name field is full to its last position: Doc 9303 says the name
    /// must then be treated as possibly truncated (see [`match_name`]).
    pub names_truncated: bool,
    /// The whole document number, including characters that overflow into the
    /// optional data field.
    pub document_number: String,
    pub nationality: String,
    pub birth: PartialDate,
    pub sex: Sex,
    pub expiry: Date,
    /// The optional data / personal number, without a document-number overflow.
    pub personal_number: String,
    /// The two lines as parsed.
    pub lines: [String; 2],
}

impl Passport {
    /// The 39-character name field exactly as the MRZ prints it (fillers included).
    pub fn name_field(&self) -> &str {
        self.lines[0].get(5..5 + NAME_FIELD).unwrap_or("")
    }
}

/// ICAO 9303 check digit: weights 7, 3, 1; digits as themselves, A–Z as 10–35, `<` as 0.
/// `None` when a character is outside the MRZ alphabet.
pub fn check_digit(field: &str) -> Option<char> {
    let mut sum = 0u32;
    for (i, c) in field.bytes().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'<' => 0,
            _ => return None,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    char::from_digit(sum % 10, 10)
}

/// Splits typed or scanned input into the two TD3 lines: CR, LF, CRLF, surrounding
/// whitespace, or both lines on one line separated by a space.
pub fn split_lines(input: &str) -> Result<[String; 2], MrzError> {
    let tokens: Vec<String> = input
        .split_whitespace()
        .map(|t| t.to_ascii_uppercase())
        .collect();
    match tokens.as_slice() {
        [a, b] if a.chars().count() == TD3_LINE && b.chars().count() == TD3_LINE => {
            Ok([a.clone(), b.clone()])
        }
        _ => Err(MrzError::Framing {
            found: describe_tokens(&tokens),
        }),
    }
}

fn describe_tokens(tokens: &[String]) -> String {
    match tokens.len() {
        0 => "nothing".into(),
        1 => format!("one line of {} characters", tokens[0].chars().count()),
        n => format!(
            "{n} lines of {} characters",
            tokens
                .iter()
                .map(|t| t.chars().count().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn readable(field: &str) -> String {
    field
        .trim_end_matches('<')
        .split('<')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn verify(field: &'static str, data: &str, found: char) -> Result<(), MrzError> {
    // The charset was checked before; a character outside it still only fails the check.
    let expected = check_digit(data).unwrap_or('?');
    if expected == found {
        Ok(())
    } else {
        Err(MrzError::CheckDigit {
            field,
            expected,
            found,
        })
    }
}

fn two_digits(s: &str) -> Option<u8> {
    s.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| s.parse().ok())?
}

/// Parses a TD3 passport MRZ. `today` is the checkpoint date: birth years resolve to
/// the most recent past century, expiry years to the century that puts them within
/// 50 years after today.
pub fn parse(input: &str, today: Date) -> Result<Passport, MrzError> {
    let [l1, l2] = split_lines(input)?;
    for (n, line) in [&l1, &l2].into_iter().enumerate() {
        if let Some((pos, ch)) = line
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '<'))
        {
            return Err(MrzError::BadChar {
                line: n + 1,
                pos: pos + 1,
                ch,
            });
        }
    }
    // From here on both lines are ASCII, so byte slicing is character slicing.
    let type2 = l1.as_bytes()[1];
    if !l1.starts_with('P') || !(type2.is_ascii_uppercase() || type2 == b'<') {
        return Err(MrzError::NotPassport(l1[0..2].to_string()));
    }
    let code = |field: &'static str, raw: &str| -> Result<String, MrzError> {
        let v = raw.trim_end_matches('<');
        if v.is_empty() || !v.bytes().all(|c| c.is_ascii_uppercase()) {
            return Err(MrzError::BadField {
                field,
                value: raw.to_string(),
            });
        }
        Ok(v.to_string())
    };
    let issuing_state = code("issuing state", &l1[2..5])?;
    let name = &l1[5..5 + NAME_FIELD];
    if let Some(pos) = name.bytes().position(|c| c.is_ascii_digit()) {
        return Err(MrzError::BadField {
            field: "name (digit at line 1)",
            value: format!("position {}", pos + 6),
        });
    }
    let (primary, secondary) = name.split_once("<<").unwrap_or((name, ""));
    let surname = readable(primary);
    if surname.is_empty() {
        return Err(MrzError::BadField {
            field: "primary identifier (surname)",
            value: name.to_string(),
        });
    }

    let l2b = l2.as_bytes();
    let cd = |i: usize| l2b[i] as char;
    // Document number: an overflow (ICAO 9303 Part 5 §4.2.4 layout, used on some TD3
    // passports too) is flagged by `<` in the check-digit position; the rest of the
    // number then opens the optional data field, followed by the check digit of the
    // whole number.
    let mut optional = l2[28..42].to_string();
    let document_number = if cd(9) == '<' && l2b[28] != b'<' {
        let ext_len = optional.find('<').unwrap_or(optional.len());
        if ext_len < 2 {
            return Err(MrzError::BadField {
                field: "document number overflow",
                value: optional.clone(),
            });
        }
        let number = format!("{}{}", &l2[0..9], &optional[..ext_len - 1]);
        verify(
            "document number",
            &number,
            optional.as_bytes()[ext_len - 1] as char,
        )?;
        optional = optional[ext_len..].to_string();
        readable(&number)
    } else {
        verify("document number", &l2[0..9], cd(9))?;
        readable(&l2[0..9])
    };
    if document_number.is_empty() {
        return Err(MrzError::BadField {
            field: "document number",
            value: l2[0..9].to_string(),
        });
    }
    let nationality = code("nationality", &l2[10..13])?;

    verify("date of birth", &l2[13..19], cd(19))?;
    let birth = birth_date(&l2[13..19], today)?;
    let sex = match cd(20) {
        'M' => Sex::Male,
        'F' => Sex::Female,
        '<' | 'X' => Sex::Unspecified,
        other => {
            return Err(MrzError::BadField {
                field: "sex",
                value: other.to_string(),
            });
        }
    };
    verify("date of expiry", &l2[21..27], cd(27))?;
    let expiry = expiry_date(&l2[21..27], today)?;
    // An empty personal-number field is printed with `<` or `0` as its check digit;
    // both occur on real passports.
    let personal_empty = l2[28..42].bytes().all(|c| c == b'<');
    if !(personal_empty && matches!(cd(42), '<' | '0')) {
        verify("personal number", &l2[28..42], cd(42))?;
    }
    let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
    verify("composite", &composite, cd(43))?;

    Ok(Passport {
        document_type: readable(&l1[0..2]),
        issuing_state,
        surname,
        given_names: readable(secondary),
        names_truncated: !name.ends_with('<'),
        document_number,
        nationality,
        birth,
        sex,
        expiry,
        personal_number: readable(&optional),
        lines: [l1.clone(), l2.clone()],
    })
}

fn birth_date(s: &str, today: Date) -> Result<PartialDate, MrzError> {
    let bad = || MrzError::BadField {
        field: "date of birth",
        value: s.to_string(),
    };
    let yy = two_digits(&s[0..2]).ok_or_else(bad)?;
    let part = |p: &str| -> Result<Option<u8>, MrzError> {
        if p == "<<" {
            Ok(None)
        } else {
            two_digits(p).map(Some).ok_or_else(bad)
        }
    };
    let month = part(&s[2..4])?;
    let day = part(&s[4..6])?;
    let this_century = today.year() - today.year().rem_euclid(100);
    let mut d = PartialDate {
        year: this_century + i32::from(yy),
        month,
        day,
    };
    // A birth date is never in the future: take the previous century when it would be.
    let future = match (month, day) {
        (Some(m), Some(dd)) => Month::try_from(m)
            .ok()
            .and_then(|m| Date::from_calendar_date(d.year, m, dd).ok())
            .is_some_and(|date| date > today),
        (Some(m), None) => (d.year, m) > (today.year(), today.month() as u8),
        _ => d.year > today.year(),
    };
    if future {
        d.year -= 100;
    }
    if !d.is_possible() {
        return Err(bad());
    }
    Ok(d)
}

fn expiry_date(s: &str, today: Date) -> Result<Date, MrzError> {
    let bad = || MrzError::BadField {
        field: "date of expiry",
        value: s.to_string(),
    };
    let yy = two_digits(&s[0..2]).ok_or_else(bad)?;
    let mm = two_digits(&s[2..4]).ok_or_else(bad)?;
    let dd = two_digits(&s[4..6]).ok_or_else(bad)?;
    let this_century = today.year() - today.year().rem_euclid(100);
    let mut year = this_century + i32::from(yy);
    if year > today.year() + 50 {
        year -= 100;
    } else if year < today.year() - 50 {
        year += 100;
    }
    Month::try_from(mm)
        .ok()
        .and_then(|m| Date::from_calendar_date(year, m, dd).ok())
        .ok_or_else(bad)
}

/// A name as MRZ components: every component non-empty and A–Z only. `None` when the
/// text holds anything else (a doubled space, a lowercase letter, a digit): such a
/// name is not what any MRZ can state, so it never matches one.
fn components(name: &str) -> Option<Vec<&str>> {
    if name.is_empty() {
        return Some(Vec::new());
    }
    let parts: Vec<&str> = name.split(' ').collect();
    parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_uppercase()))
        .then_some(parts)
}

/// Primary and secondary identifier joined as Doc 9303 writes them, before padding.
fn join_name(primary: &[&str], secondary: &[&str]) -> String {
    let mut s = primary.join("<");
    if !secondary.is_empty() {
        s.push_str("<<");
        s.push_str(&secondary.join("<"));
    }
    s
}

/// Writes a name into a name field of `width` characters as ICAO Doc 9303 does:
/// components joined by `<`, the two identifiers by `<<`, fillers up to the end. A
/// name that does not fit is truncated by the Doc 9303 rule (Part 4 §4.2.3, Part 3
/// "truncation of the name"): the secondary identifier is cut first, from its end; when
/// not even `<<` and the first character of the secondary identifier fit, characters
/// are removed from the primary identifier's last components; every kept component
/// keeps at least one character and the field ends with a letter, which marks the
/// truncation. Of the methods Doc 9303 leaves to the issuer this is the plain cut, the
/// one its examples 4.2.3.2 b and 4.2.3.3 a show.
///
/// `None` when the name cannot be written (a character outside A–Z, an empty surname,
/// or more components than the field can hold one letter of each).
pub fn render_name(surname: &str, given: &str, width: usize) -> Option<String> {
    let primary = components(surname)?;
    let secondary = components(given)?;
    if primary.is_empty() {
        return None;
    }
    let full = join_name(&primary, &secondary);
    if full.len() <= width {
        return Some(format!("{full:<<width$}"));
    }
    let tokens: Vec<(&str, usize)> = primary
        .iter()
        .enumerate()
        .map(|(i, t)| (*t, usize::from(i > 0)))
        .chain(
            secondary
                .iter()
                .enumerate()
                .map(|(i, t)| (*t, if i == 0 { 2 } else { 1 })),
        )
        .collect();
    // Every primary component and the first secondary one must appear (Doc 9303:
    // "two filler characters and the first character of the first component of the
    // secondary identifier can be inserted").
    let forced = primary.len() + usize::from(!secondary.is_empty());
    // First the plain cut at `width`, in positions of the untruncated name.
    let mut lens: Vec<usize> = Vec::new();
    let mut pos = 0;
    for (i, (t, sep)) in tokens.iter().enumerate() {
        let start = pos + sep;
        if start < width {
            lens.push(t.len().min(width - start));
        } else if i < forced {
            lens.push(1);
        } else {
            break;
        }
        pos = start + t.len();
    }
    let total = |lens: &[usize]| -> usize {
        lens.iter().sum::<usize>() + tokens[..lens.len()].iter().map(|t| t.1).sum::<usize>()
    };
    // A cut right after a separator would leave a filler last: take one letter of the
    // next component instead, and make room for it below.
    if total(&lens) < width && lens.len() < tokens.len() {
        lens.push(1);
    }
    let mut excess = total(&lens).saturating_sub(width);
    while excess > 0 {
        let i = lens.iter().rposition(|&l| l > 1)?;
        let cut = excess.min(lens[i] - 1);
        lens[i] -= cut;
        excess -= cut;
    }
    let mut out = String::with_capacity(width);
    for ((t, sep), len) in tokens.iter().zip(&lens) {
        out.extend(std::iter::repeat_n('<', *sep));
        out.push_str(&t[..*len]);
    }
    (out.len() == width).then_some(out)
}

/// Which identifiers of a visa's name a passport's name field agrees with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameMatch {
    pub surname: bool,
    pub given_names: bool,
    /// The visa's name is too long for the field, so a Doc 9303 truncation of it is
    /// what the passport should show.
    pub truncated: bool,
}

impl NameMatch {
    pub fn ok(self) -> bool {
        self.surname && self.given_names
    }
}

/// Each `<`-separated component of `part` is a non-empty prefix of the visa's component
/// in the same place; `exact_count` demands every visa component, otherwise at least
/// one and at most all of them (the field ran out before the rest).
fn prefixes_of(part: &str, visa: &[&str], exact_count: bool) -> bool {
    let got: Vec<&str> = part.split('<').collect();
    let count_ok = if exact_count {
        got.len() == visa.len()
    } else {
        !got.is_empty() && got.len() <= visa.len()
    };
    count_ok
        && got
            .iter()
            .zip(visa)
            .all(|(g, v)| !g.is_empty() && v.starts_with(g))
}

/// Whether a passport's name field (`<` fillers included, e.g. the 39 characters of a
/// TD3 upper line from position 6) states the visa's name — the exact form of spec §4's
/// "names truncated in the MRZ compare as a prefix":
///
/// - a name that fits the field must be written in full, exactly, whatever the field's
///   last character (Doc 9303 Part 4 §4.2.3.4: a full field is not a truncation when
///   the whole name fits);
/// - a name that does not fit must be a Doc 9303 truncation of it: the field full to
///   its last position with a letter there; every primary component present as a
///   non-empty prefix of the visa's component, `<<`, then the secondary components in
///   order as non-empty prefixes, of which only trailing ones may be missing (a name
///   with no secondary identifier: its leading components, no `<<`). This admits every
///   truncation method Doc 9303 gives as an example (initials, cut components, a fixed
///   number of characters per component) and nothing else.
pub fn match_name(surname: &str, given: &str, field: &str) -> NameMatch {
    let width = field.len();
    let trimmed = field.trim_end_matches('<');
    let (fp, fs) = trimmed.split_once("<<").unwrap_or((trimmed, ""));
    let (Some(primary), Some(secondary)) = (components(surname), components(given)) else {
        return NameMatch {
            surname: components(surname).is_some_and(|p| p.join("<") == fp),
            given_names: components(given).is_some_and(|s| s.join("<") == fs),
            truncated: false,
        };
    };
    let truncated = join_name(&primary, &secondary).len() > width;
    let exact = NameMatch {
        surname: !primary.is_empty() && primary.join("<") == fp,
        given_names: secondary.join("<") == fs,
        truncated,
    };
    if !truncated {
        return exact;
    }
    let filled = field.bytes().last().is_some_and(|c| c.is_ascii_uppercase());
    if !filled {
        // The visa's name cannot fit, yet the passport shows a shorter one untruncated.
        return exact;
    }
    if secondary.is_empty() {
        let ok = !trimmed.contains("<<") && prefixes_of(trimmed, &primary, false);
        return NameMatch {
            surname: ok,
            given_names: !trimmed.contains("<<"),
            truncated,
        };
    }
    NameMatch {
        surname: trimmed.contains("<<") && prefixes_of(fp, &primary, true),
        given_names: trimmed.contains("<<") && prefixes_of(fs, &secondary, false),
        truncated,
    }
}

/// Builds TD3 lines from fields (the inverse of [`parse`]), for the fixture generator
/// and tests. Names are written, and truncated, by [`render_name`]: the same Doc 9303
/// rule [`match_name`] checks, so generated passports and the holder check agree.
#[derive(Debug, Clone)]
pub struct Td3Fields<'a> {
    pub issuing_state: &'a str,
    pub surname: &'a str,
    pub given_names: &'a str,
    pub document_number: &'a str,
    pub nationality: &'a str,
    /// `YYMMDD`, `<<` allowed for month and day.
    pub birth: &'a str,
    /// `M`, `F` or `<`.
    pub sex: char,
    /// `YYMMDD`.
    pub expiry: &'a str,
    pub personal_number: &'a str,
    /// Check digit to print for an empty personal number (`<` or `0`).
    pub empty_personal_check: char,
}

fn pad(s: &str, n: usize) -> String {
    let mut out: String = s.replace(' ', "<").chars().take(n).collect();
    while out.len() < n {
        out.push('<');
    }
    out
}

impl Td3Fields<'_> {
    pub fn render(&self) -> String {
        // A name Doc 9303 cannot write (test input only) is written as given, cut.
        let name = render_name(self.surname, self.given_names, NAME_FIELD).unwrap_or_else(|| {
            let mut name = self.surname.replace(' ', "<");
            if !self.given_names.is_empty() {
                name.push_str("<<");
                name.push_str(&self.given_names.replace(' ', "<"));
            }
            pad(&name, NAME_FIELD)
        });
        let l1 = format!("P<{}{}", pad(self.issuing_state, 3), name);
        let split = self
            .document_number
            .char_indices()
            .nth(9)
            .map(|(i, _)| i)
            .filter(|_| self.document_number.is_ascii());
        let (num9, num_cd, optional) = if let Some(at) = split {
            let cd = check_digit(self.document_number).unwrap_or('0');
            (
                self.document_number[..at].to_string(),
                '<',
                pad(
                    &format!("{}{cd}{}", &self.document_number[at..], {
                        if self.personal_number.is_empty() {
                            String::new()
                        } else {
                            format!("<{}", self.personal_number)
                        }
                    }),
                    14,
                ),
            )
        } else {
            let n = pad(self.document_number, 9);
            let cd = check_digit(&n).unwrap_or('0');
            (n, cd, pad(self.personal_number, 14))
        };
        let opt_cd = if optional.bytes().all(|c| c == b'<') {
            self.empty_personal_check
        } else {
            check_digit(&optional).unwrap_or('0')
        };
        let birth_cd = check_digit(self.birth).unwrap_or('0');
        let exp_cd = check_digit(self.expiry).unwrap_or('0');
        let partial = format!(
            "{num9}{num_cd}{}{}{birth_cd}{}{}{exp_cd}{optional}{opt_cd}",
            pad(self.nationality, 3),
            self.birth,
            self.sex,
            self.expiry
        );
        // Fields that are not MRZ text (test input only) give a line that fails to parse.
        let at = |r: std::ops::Range<usize>| partial.get(r).unwrap_or("");
        let composite = format!("{}{}{}", at(0..10), at(13..20), at(21..43));
        let l2 = format!("{partial}{}", check_digit(&composite).unwrap_or('0'));
        format!("{l1}\n{l2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 25);
    // The ICAO 9303 Part 4 specimen.
    const SPECIMEN: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

    #[test]
    fn icao_specimen() {
        let p = parse(SPECIMEN, date!(2010 - 01 - 01)).unwrap();
        assert_eq!(p.surname, "ERIKSSON");
        assert_eq!(p.given_names, "ANNA MARIA");
        assert_eq!(p.issuing_state, "UTO");
        assert_eq!(p.nationality, "UTO");
        assert_eq!(p.document_number, "L898902C3");
        assert_eq!(p.birth.to_iso(), "1974-08-12");
        assert_eq!(p.sex, Sex::Female);
        assert_eq!(p.expiry, date!(2012 - 04 - 15));
        assert_eq!(p.personal_number, "ZE184226B");
        assert!(!p.names_truncated);
    }

    #[test]
    fn hand_computed_check_digits() {
        // 5*7+2*3+0*1 = 41 -> 1
        assert_eq!(check_digit("520"), Some('1'));
        // L=21: 21*7 + 8*3 + 9*1 + 8*7 + 9*3 + 0 + 2*7 + C(12)*3 + 3*1 = 147+24+9+56+27+0+14+36+3 = 316 -> 6
        assert_eq!(check_digit("L898902C3"), Some('6'));
        assert_eq!(check_digit("<<<<"), Some('0'));
        assert_eq!(check_digit("a"), None);
    }

    #[test]
    fn framing_variants() {
        let (a, b) = SPECIMEN.split_once('\n').unwrap();
        for input in [
            format!("{a}\r\n{b}"),
            format!("{a}\r{b}"),
            format!("  {a} {b}  \n"),
            format!("{}\n{}", a.to_lowercase(), b),
        ] {
            assert!(parse(&input, TODAY).is_ok(), "{input:?}");
        }
        assert!(matches!(parse(a, TODAY), Err(MrzError::Framing { .. })));
        assert!(matches!(
            parse(&format!("{a}\n{}", &b[1..]), TODAY),
            Err(MrzError::Framing { .. })
        ));
    }

    fn sample(birth: &str, personal: &str, empty_cd: char, number: &str) -> String {
        Td3Fields {
            issuing_state: "D",
            surname: "MUSTERMANN",
            given_names: "ERIKA",
            document_number: number,
            nationality: "D",
            birth,
            sex: '<',
            expiry: "310101",
            personal_number: personal,
            empty_personal_check: empty_cd,
        }
        .render()
    }

    #[test]
    fn unknown_birth_parts_and_empty_personal_number() {
        let p = parse(&sample("64<<<<", "", '<', "C01X00T47"), TODAY).unwrap();
        assert_eq!(p.birth.to_iso(), "1964-XX-XX");
        assert_eq!(p.sex, Sex::Unspecified);
        assert_eq!(p.nationality, "D");
        let p = parse(&sample("640812", "", '0', "C01X00T47"), TODAY).unwrap();
        assert_eq!(p.birth.to_iso(), "1964-08-12");
        assert!(parse(&sample("640812", "", '5', "C01X00T47"), TODAY).is_err());
    }

    #[test]
    fn century_resolution() {
        let p = parse(&sample("250101", "", '<', "C01X00T47"), TODAY).unwrap();
        assert_eq!(p.birth.year, 2025);
        let p = parse(&sample("270101", "", '<', "C01X00T47"), TODAY).unwrap();
        assert_eq!(p.birth.year, 1927);
        assert_eq!(p.expiry.year(), 2031);
    }

    #[test]
    fn overflowing_document_number() {
        let p = parse(&sample("640812", "", '<', "AB12345678901"), TODAY).unwrap();
        assert_eq!(p.document_number, "AB12345678901");
        assert_eq!(p.personal_number, "");
    }

    /// ICAO Doc 9303 Part 4 (8th ed.) §4.2.3 "Truncation of names in the MRZ", the TD3
    /// name field of 39 characters. The same names appear for the MRV-A visa in Part 7
    /// §4.2.3 (also 39 characters); example 4.2.3.3 c is taken as Part 7 prints it (six
    /// characters per primary component), which fills exactly 39 positions.
    /// (surname, given names, name field without the `PPUTO` prefix)
    const DOC9303_TD3: [(&str, &str, &str); 15] = [
        // 4.2.3.1 a–f: names that fit, written in full.
        (
            "ERIKSSON",
            "ANNA MARIA",
            "ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        ),
        (
            "HENG",
            "DEBORAH MING LO",
            "HENG<<DEBORAH<MING<LO<<<<<<<<<<<<<<<<<<",
        ),
        (
            "SMITH JONES",
            "SUSIE MARGARET",
            "SMITH<JONES<<SUSIE<MARGARET<<<<<<<<<<<<",
        ),
        (
            "OCONNOR",
            "ENYA SIOBHAN",
            "OCONNOR<<ENYA<SIOBHAN<<<<<<<<<<<<<<<<<<",
        ),
        (
            "VAN DER MUELLEN",
            "MARTIN",
            "VAN<DER<MUELLEN<<MARTIN<<<<<<<<<<<<<<<<",
        ),
        (
            "AL BASRI",
            "HUDA MUHAMMAD JAWAD",
            "AL<BASRI<<HUDA<MUHAMMAD<JAWAD<<<<<<<<<<",
        ),
        (
            "VILARCHAO FERNANDEZ",
            "JOSE RAMON",
            "VILARCHAO<FERNANDEZ<<JOSE<RAMON<<<<<<<<",
        ),
        ("ARKFREITH", "", "ARKFREITH<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<"),
        (
            "SATRIYA SUDARPA",
            "",
            "SATRIYA<SUDARPA<<<<<<<<<<<<<<<<<<<<<<<<",
        ),
        // 4.2.3.2 a, b: secondary identifier truncated.
        (
            "NILAVADHANANANDA",
            "CHAYAPA DEJTHAMRONG KRASUANG",
            "NILAVADHANANANDA<<CHAYAPA<DEJTHAMRONG<K",
        ),
        (
            "NILAVADHANANANDA",
            "ARNPOL PETCH CHARONGUANG",
            "NILAVADHANANANDA<<ARNPOL<PETCH<CHARONGU",
        ),
        // 4.2.3.3 a, b, c: primary identifier truncated.
        (
            "BENNELONG WOOLOOMOOLOO WARRANDYTE WARNAMBOOL",
            "DINGO POTOROO",
            "BENNELONG<WOOLOOMOOLOO<WARRANDYTE<W<<DI",
        ),
        (
            "BENNELONG WOOLOOMOOLOO WARRANDYTE WARNAMBOOL",
            "DINGO POTOROO",
            "BENNELONG<WOOLOOM<WARRAND<WARNAM<<DINGO",
        ),
        (
            "BENNELONG WOOLOOMOOLOO WARRANDYTE WARNAMBOOL",
            "DINGO POTOROO",
            "BENNEL<WOOLOO<WARRAN<WARNAM<<DINGO<POTO",
        ),
        // 4.2.3.4: fits exactly; a letter in the last position, yet not truncated.
        (
            "PAPANDROPOULOUS",
            "JONATHON WARREN TREVOR",
            "PAPANDROPOULOUS<<JONATHON<WARREN<TREVOR",
        ),
    ];

    #[test]
    fn doc9303_truncation_examples_match_their_names() {
        for (sn, gn, field) in DOC9303_TD3 {
            assert_eq!(field.len(), NAME_FIELD, "{field}");
            assert!(match_name(sn, gn, field).ok(), "{sn}, {gn} vs {field}");
        }
    }

    #[test]
    fn doc9303_td2_truncation_examples_match_at_their_width() {
        // Doc 9303 Part 6 §4.2.3.1 (TD2, a name field of 31 characters).
        let name = "NILAVADHANANANDA";
        assert!(
            match_name(
                name,
                "CHAYAPA DEJTHAMRONG KRASUANG",
                "NILAVADHANANANDA<<CHAYAPA<DEJ<K"
            )
            .ok()
        );
        assert!(
            match_name(
                name,
                "ARNPOL PETCH CHARONGUANG",
                "NILAVADHANANANDA<<ARN<PET<CHARO"
            )
            .ok()
        );
    }

    #[test]
    fn render_name_writes_doc9303_examples() {
        for (sn, gn, field) in DOC9303_TD3 {
            let r = render_name(sn, gn, NAME_FIELD).unwrap();
            assert_eq!(r.len(), NAME_FIELD);
            assert!(match_name(sn, gn, &r).ok(), "{r}");
            // Names that fit, and the plain cuts of 4.2.3.2, come out exactly as printed;
            // 4.2.3.3 shows other issuers' choices for the primary identifier.
            if !sn.starts_with("BENNELONG") {
                assert_eq!(r, field);
            }
        }
        assert_eq!(
            render_name(
                "BENNELONG WOOLOOMOOLOO WARRANDYTE WARNAMBOOL",
                "DINGO POTOROO",
                NAME_FIELD
            )
            .unwrap(),
            "BENNELONG<WOOLOOMOOLOO<WARRANDYTE<WA<<D"
        );
        assert_eq!(
            render_name("ERIK", "", NAME_FIELD).unwrap(),
            format!("ERIK{}", "<".repeat(35))
        );
        assert_eq!(render_name("erik", "", NAME_FIELD), None);
        assert_eq!(render_name("", "ANNA", NAME_FIELD), None);
    }

    #[test]
    fn render_name_never_ends_a_truncated_field_with_a_filler() {
        // The plain cut would end on the filler after "HUBERTA".
        let r = render_name(
            "WOLFESCHLEGELSTEINHAUSEN",
            "ANNA HUBERTA BLAINE",
            NAME_FIELD,
        )
        .unwrap();
        assert_eq!(r, "WOLFESCHLEGELSTEINHAUSEN<<ANNA<HUBERT<B");
        assert!(match_name("WOLFESCHLEGELSTEINHAUSEN", "ANNA HUBERTA BLAINE", &r).ok());
    }

    #[test]
    fn filled_name_field_is_not_a_prefix_wildcard() {
        // Issue 8: a field filled to the last position was taken as "maybe truncated"
        // and only a surname prefix was compared.
        let field = format!("ERIK<<X{}", "Z".repeat(32));
        assert_eq!(field.len(), NAME_FIELD);
        let m = match_name("ERIKSSON", "ANNA MARIA", &field);
        assert!(!m.surname && !m.given_names);
        // A name that fits must be written in full even when it fills the field.
        let m = match_name(
            "PAPANDROPOULOUS",
            "JONATHON WARREN TREVOR",
            "PAPANDROPOULOUS<<JONATHON<WARREN<TREVIS",
        );
        assert!(m.surname && !m.given_names);
    }

    #[test]
    fn truncation_must_keep_every_component_in_place() {
        let (sn, gn) = (
            "BENNELONG WOOLOOMOOLOO WARRANDYTE WARNAMBOOL",
            "DINGO POTOROO",
        );
        // A primary component dropped.
        assert!(!match_name(sn, gn, "BENNELONG<WOOLOOMOOLOO<WARRANDYTE<<DINGOP").ok());
        // Components swapped, or a letter that is not the component's.
        assert!(!match_name(sn, gn, "BENNELONG<WOOLOOMOOLOO<WARRANDYTE<W<<PO").ok());
        assert!(!match_name(sn, gn, "BENNELONG<WOOLOOMOOLOO<WARRANDYTE<X<<DI").ok());
        // No secondary identifier at all, or the field not full.
        assert!(!match_name(sn, gn, "BENNELONG<WOOLOOMOOLOO<WARRANDYTE<WARNAM").ok());
        assert!(!match_name(sn, gn, "BENNELONG<WOOLOOMOOLOO<WARRANDYTE<W<<D<<").ok());
        // An empty component between fillers.
        assert!(!match_name(sn, gn, "BENNELONG<WOOLOOMOOLOO<WARRANDYTE<W<<D<<").ok());
        assert!(
            !match_name(
                "NILAVADHANANANDA",
                "CHAYAPA DEJTHAMRONG KRASUANG",
                "NILAVADHANANANDA<<CHAYAPA<<DEJTHAMRONGK"
            )
            .ok()
        );
        // A name the MRZ could not hold never matches.
        assert!(
            !match_name(
                "ERIKSSON",
                "ANNA  MARIA",
                "ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
            )
            .ok()
        );
    }

    #[test]
    fn truncated_names_are_flagged() {
        let t = Td3Fields {
            surname: "WOLFESCHLEGELSTEINHAUSENBERGERDORFF",
            given_names: "HUBERT BLAINE",
            ..Td3Fields {
                issuing_state: "USA",
                surname: "",
                given_names: "",
                document_number: "123456789",
                nationality: "USA",
                birth: "800101",
                sex: 'M',
                expiry: "300101",
                personal_number: "",
                empty_personal_check: '<',
            }
        }
        .render();
        let p = parse(&t, TODAY).unwrap();
        assert!(p.names_truncated);
        assert_eq!(p.given_names, "HU");
    }
}
