//! The passport's machine-readable zone: ICAO Doc 9303 TD3 parsing, every check digit,
//! name splitting and two-digit-year resolution. Pure: the checkpoint date that decides
//! centuries is passed in.

use time::{Date, Month};

use crate::dates::PartialDate;
use crate::payload::Sex;

pub const TD3_LINE: usize = 44;
const NAME_FIELD: usize = 39;

/// Why an MRZ was refused (reason `MRZ_INVALID`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error(
        "a passport MRZ is two lines of 44 characters; got {found} (re-scan the passport or type both lines)"
    )]
    Framing { found: String },
    #[error("line {line}, position {pos}: {ch:?} is not an MRZ character (A-Z, 0-9, <)")]
    BadChar { line: usize, pos: usize, ch: char },
    #[error("document type {0:?} is not a passport (TD3 MRZ must start with P)")]
    NotPassport(String),
    #[error("{field} {value:?} is not valid")]
    BadField { field: &'static str, value: String },
    #[error("{field} check digit fails: the MRZ says {found}, the data gives {expected}")]
    CheckDigit {
        field: &'static str,
        expected: char,
        found: char,
    },
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
    /// True when the name field is full to its last position: the names may have been
    /// truncated and compare as a prefix.
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
    let expected = check_digit(data).expect("charset checked before");
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

/// Builds TD3 lines from fields (the inverse of [`parse`]), for the fixture generator
/// and tests. Names are truncated to the 39-character field as ICAO prescribes for
/// the simple case: the tail is cut.
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
        let mut name = self.surname.replace(' ', "<");
        if !self.given_names.is_empty() {
            name.push_str("<<");
            name.push_str(&self.given_names.replace(' ', "<"));
        }
        let l1 = format!("P<{}{}", pad(self.issuing_state, 3), pad(&name, NAME_FIELD));
        let (num9, num_cd, optional) = if self.document_number.len() > 9 {
            let cd = check_digit(self.document_number).unwrap_or('0');
            (
                self.document_number[..9].to_string(),
                '<',
                pad(
                    &format!("{}{cd}{}", &self.document_number[9..], {
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
        let composite = format!(
            "{}{}{}",
            &partial[0..10],
            &partial[13..20],
            &partial[21..43]
        );
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
