//! The kiosk's languages (English, Russian, Kazakh) and their message catalogues:
//! `i18n/*.toml` files a translator edits, embedded in the binary. Lookups never fail
//! at run time (a missing key falls back to English, then to the key itself); the
//! tests make sure no key is missing in the first place.

use std::collections::HashMap;
use std::sync::OnceLock;

use evisa_core::mrz::MrzError;
use evisa_core::payload::{PayloadError, QrError};
use evisa_core::rules::{Detail, FieldDiff, NameNote, Reason, ReasonCode};
use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Ru,
    Kk,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ru, Lang::Kk];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Kk => "kk",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == s)
    }

    /// The next language in the F2 cycle.
    pub fn next(self) -> Self {
        match self {
            Lang::En => Lang::Ru,
            Lang::Ru => Lang::Kk,
            Lang::Kk => Lang::En,
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../i18n/en.toml"),
            Lang::Ru => include_str!("../i18n/ru.toml"),
            Lang::Kk => include_str!("../i18n/kk.toml"),
        }
    }
}

type Catalogue = HashMap<String, String>;

/// Flattens `[table] key = "text"` into `"table.key" → text`.
fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) -> Result<(), String> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out)?,
            _ => return Err(format!("{key} is not text")),
        }
    }
    Ok(())
}

/// Parses one catalogue file.
pub fn parse_catalogue(text: &str) -> Result<Catalogue, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut out = Catalogue::new();
    flatten("", &table, &mut out)?;
    Ok(out)
}

fn catalogue(lang: Lang) -> &'static Catalogue {
    static CATS: OnceLock<[Catalogue; 3]> = OnceLock::new();
    let cats = CATS.get_or_init(|| {
        // The files are compiled in and tested; an unparsable one is a build defect.
        Lang::ALL.map(|l| parse_catalogue(l.source()).unwrap_or_default())
    });
    &cats[Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0)]
}

/// The message for `key` in `lang`.
pub fn tr(lang: Lang, key: &str) -> String {
    catalogue(lang)
        .get(key)
        .or_else(|| catalogue(Lang::En).get(key))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// The message with its placeholders filled in: `{name}` takes the argument's value,
/// `{name#form|form|…}` the plural form the number in `name` needs in `lang` (one form
/// per CLDR category of the language, see [`plural_forms`]). An unknown name stays as
/// written, so a mistake shows instead of vanishing.
pub fn trf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    fill(lang, &tr(lang, key), args)
}

fn fill(lang: Lang, text: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = &after[..close];
        let (name, forms) = match inner.split_once('#') {
            Some((n, f)) => (n, Some(f)),
            None => (inner, None),
        };
        match (args.iter().find(|(k, _)| *k == name), forms) {
            (Some((_, v)), None) => out.push_str(v),
            (Some((_, v)), Some(forms)) => {
                let forms: Vec<&str> = forms.split('|').collect();
                let i = v
                    .trim()
                    .parse::<i128>()
                    .map_or(forms.len() - 1, |n| plural_index(lang, n));
                out.push_str(forms[i.min(forms.len() - 1)]);
            }
            (None, _) => {
                out.push('{');
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// How many plural forms a `{n#…}` placeholder lists in `lang`: English one/other,
/// Russian one/few/many (CLDR, integers), Kazakh one form (a noun after a numeral stays
/// singular: «3 күн»).
pub fn plural_forms(lang: Lang) -> usize {
    match lang {
        Lang::En => 2,
        Lang::Ru => 3,
        Lang::Kk => 1,
    }
}

/// The form of a whole number `n` in `lang`, as an index into its plural forms.
pub fn plural_index(lang: Lang, n: i128) -> usize {
    let n = n.unsigned_abs();
    match lang {
        Lang::En => usize::from(n != 1),
        Lang::Ru => {
            let (d, h) = (n % 10, n % 100);
            if d == 1 && h != 11 {
                0
            } else if (2..=4).contains(&d) && !(12..=14).contains(&h) {
                1
            } else {
                2
            }
        }
        Lang::Kk => 0,
    }
}

/// A date as the officer reads it (`format.date`: ISO for English, DD.MM.YYYY for
/// Russian and Kazakh).
pub fn date(lang: Lang, d: Date) -> String {
    trf(
        lang,
        "format.date",
        &[
            ("y", &format!("{:04}", d.year())),
            ("m", &format!("{:02}", u8::from(d.month()))),
            ("d", &format!("{:02}", d.day())),
        ],
    )
}

/// A date of birth (`YYYY-MM-DD`, `XX` for unknown parts) in the officer's format.
pub fn birth(lang: Lang, iso: &str) -> String {
    match (iso.get(0..4), iso.get(5..7), iso.get(8..10)) {
        (Some(y), Some(m), Some(d)) if iso.len() == 10 => {
            trf(lang, "format.date", &[("y", y), ("m", m), ("d", d)])
        }
        _ => iso.to_string(),
    }
}

/// A `YYYY-MM-DD HH:MM` clock reading with its date in the officer's format.
pub fn clock(lang: Lang, text: &str) -> String {
    match (text.get(..10), text.get(10..)) {
        (Some(d), Some(rest)) => format!("{}{rest}", birth(lang, d)),
        _ => text.to_string(),
    }
}

/// A reason code's plain-words title (the code itself is shown beside it).
pub fn reason_title(lang: Lang, code: ReasonCode) -> String {
    tr(lang, &format!("reason.{}", code.as_str()))
}

/// The catalogue key naming an MRZ field as the MRZ parser reports it.
fn mrz_field(lang: Lang, field: &str) -> String {
    let key = match field {
        "document number" => "mrzfield.document_number",
        "document number overflow" => "mrzfield.number_overflow",
        "date of birth" => "mrzfield.birth",
        "date of expiry" => "mrzfield.expiry",
        "personal number" => "mrzfield.personal",
        "composite" => "mrzfield.composite",
        "sex" => "mrzfield.sex",
        "primary identifier (surname)" => "mrzfield.surname",
        "name (digit at line 1)" => "mrzfield.name_digit",
        other => return other.to_string(),
    };
    tr(lang, key)
}

/// The MRZ parser's field names, for the test that each has a translation.
pub const MRZ_FIELDS: [&str; 9] = [
    "document number",
    "document number overflow",
    "date of birth",
    "date of expiry",
    "personal number",
    "composite",
    "sex",
    "primary identifier (surname)",
    "name (digit at line 1)",
];

/// A reason's sentence in `lang`, written from its facts. Untrusted values (names,
/// labels, checkpoint codes) are inserted as they are: the caller makes the result
/// safe to draw.
pub fn reason_detail(lang: Lang, r: &Reason) -> String {
    let t = |key: &str, args: &[(&str, &str)]| trf(lang, key, args);
    let d = |x: Date| date(lang, x);
    match &r.facts {
        Detail::Qr(QrError::NotAnEvisa { .. }) => t("detail.qr_foreign", &[]),
        Detail::Qr(_) => t("detail.qr_damaged", &[]),
        Detail::Algorithm { alg: Some(a) } => t("detail.algorithm", &[("alg", &a.to_string())]),
        Detail::Algorithm { alg: None } => t("detail.algorithm_none", &[]),
        Detail::NoKid => t("detail.no_kid", &[]),
        Detail::UnknownKey { kid } => t("detail.unknown_key", &[("kid", kid)]),
        Detail::KeyRevoked { label } => t("detail.key_revoked", &[("label", label)]),
        Detail::KeyOutOfPeriod {
            label,
            issued_at,
            not_before,
            not_after,
        } => {
            let issued =
                evisa_core::detail::unix_day(*issued_at).map_or_else(|| issued_at.to_string(), d);
            t(
                "detail.key_period",
                &[
                    ("label", label),
                    ("issued", &issued),
                    ("from", &d(*not_before)),
                    ("to", &d(*not_after)),
                ],
            )
        }
        Detail::Signature { label } => t("detail.signature", &[("label", label)]),
        Detail::Payload(e) => match e {
            PayloadError::Cbor(_) => t("detail.payload_cbor", &[]),
            PayloadError::NotAMap => t("detail.payload_not_map", &[]),
            PayloadError::Missing(f) => t("detail.payload_missing", &[("field", f)]),
            PayloadError::Type { field, .. } => t("detail.payload_type", &[("field", field)]),
            PayloadError::Value { field, .. } | PayloadError::TooLarge { field, .. } => {
                t("detail.payload_value", &[("field", field)])
            }
            PayloadError::DateOutOfRange { field, .. }
            | PayloadError::TimeOutOfRange { field, .. } => {
                t("detail.payload_date", &[("field", field)])
            }
        },
        Detail::ValidUntilTooLate { valid_until } => {
            t("detail.valid_until_too_late", &[("date", &d(*valid_until))])
        }
        Detail::VisaRevoked { number, why } => {
            t("detail.visa_revoked", &[("vn", number), ("why", why)])
        }
        Detail::NotYetValid { valid_from, today } => t(
            "detail.not_yet_valid",
            &[("from", &d(*valid_from)), ("today", &d(*today))],
        ),
        Detail::Expired { valid_until, today } => t(
            "detail.expired",
            &[("until", &d(*valid_until)), ("today", &d(*today))],
        ),
        Detail::Checkpoint { allowed, here } => t(
            "detail.checkpoint",
            &[("allowed", &allowed.join(", ")), ("here", here)],
        ),
        Detail::Entries {
            allowed,
            used,
            last,
        } => {
            let mut s = t(
                "detail.entries",
                &[("n", &allowed.to_string()), ("used", &used.to_string())],
            );
            if let Some(e) = last {
                s.push(' ');
                s.push_str(&t(
                    "detail.entries_last",
                    &[("date", &d(e.date)), ("checkpoint", &e.checkpoint)],
                ));
            }
            s
        }
        Detail::EntryAtBooth {
            booth,
            checkpoint,
            date: when,
        } => t(
            "detail.entry_at_booth",
            &[
                ("booth", booth),
                ("checkpoint", checkpoint),
                ("date", &d(*when)),
            ],
        ),
        Detail::Overstay {
            entered,
            checkpoint,
            stay_days,
            days,
            over,
        } => t(
            "detail.overstay",
            &[
                ("date", &d(*entered)),
                ("checkpoint", checkpoint),
                ("n", &stay_days.to_string()),
                ("days", &days.to_string()),
                ("over", &over.to_string()),
            ],
        ),
        Detail::Mrz(e) => match e {
            MrzError::Framing { .. } => t("detail.mrz_framing", &[]),
            MrzError::BadChar { line, pos, ch } => {
                let shown = if ch.is_alphanumeric() || ch.is_ascii_graphic() {
                    format!("«{ch}»")
                } else {
                    format!("U+{:04X}", u32::from(*ch))
                };
                t(
                    "detail.mrz_char",
                    &[
                        ("line", &line.to_string()),
                        ("pos", &pos.to_string()),
                        ("ch", &shown),
                    ],
                )
            }
            MrzError::NotPassport(kind) => t("detail.mrz_not_passport", &[("type", kind)]),
            MrzError::BadField { field, value } => t(
                "detail.mrz_field",
                &[("field", &mrz_field(lang, field)), ("value", value)],
            ),
            MrzError::CheckDigit {
                field,
                expected,
                found,
            } => t(
                "detail.mrz_check_digit",
                &[
                    ("field", &mrz_field(lang, field)),
                    ("found", &found.to_string()),
                    ("expected", &expected.to_string()),
                ],
            ),
        },
        Detail::Document { diffs } => {
            let parts: Vec<String> = diffs.iter().map(|x| diff(lang, x)).collect();
            upper_first(&t("detail.document", &[("diffs", &parts.join("; "))]))
        }
        Detail::Holder { diffs, note } => {
            let last = Detail::last_name_diff(diffs);
            let parts: Vec<String> = diffs
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let mut s = diff(lang, x);
                    if let (Some(n), true) = (note, Some(i) == last) {
                        let key = match n {
                            NameNote::FitsInFull => "detail.name_fits",
                            NameNote::NotATruncation => "detail.name_not_truncation",
                            NameNote::FieldNotFull => "detail.name_field_not_full",
                        };
                        s.push_str(&format!(" ({})", tr(lang, key)));
                    }
                    s
                })
                .collect();
            upper_first(&t("detail.holder", &[("diffs", &parts.join("; "))]))
        }
        Detail::ExpiryMismatch { visa, passport } => t(
            "detail.expiry_mismatch",
            &[("visa", &d(*visa)), ("passport", &d(*passport))],
        ),
        Detail::ValidityTooShort {
            expires,
            needed,
            visa_ends,
        } => t(
            "detail.validity_too_short",
            &[
                ("expires", &d(*expires)),
                ("needed", &d(*needed)),
                ("visa_ends", &d(*visa_ends)),
            ],
        ),
        Detail::PassportExpired { on } => t("detail.passport_expired", &[("date", &d(*on))]),
    }
}

/// A field name inside a sentence (the catalogue has it as a table heading).
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_lowercase().chain(c).collect())
}

/// A sentence that begins with a field name.
fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// "Surname on the visa: X; the passport shows: Y", the field named in `lang`.
fn diff(lang: Lang, x: &FieldDiff) -> String {
    let shown = |v: &str| {
        if v.is_empty() {
            tr(lang, "detail.none")
        } else if x.field == "db" {
            birth(lang, v)
        } else {
            v.to_string()
        }
    };
    trf(
        lang,
        "detail.diff",
        &[
            (
                "field",
                &lower_first(&tr(lang, &format!("field.{}", x.field))),
            ),
            ("visa", &shown(&x.visa)),
            ("passport", &shown(&x.passport)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Placeholder names (a plural `{n#…}` counts as `n`).
    fn placeholders(s: &str) -> BTreeSet<String> {
        s.split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(n, _)| n))
            .map(|n| n.split('#').next().unwrap_or(n).to_string())
            .collect()
    }

    /// The number of forms of each plural placeholder in `s`.
    fn plural_counts(s: &str) -> Vec<usize> {
        s.split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(n, _)| n))
            .filter_map(|n| n.split_once('#').map(|(_, f)| f.split('|').count()))
            .collect()
    }

    #[test]
    fn every_language_has_every_key_with_the_same_placeholders() {
        let cats: Vec<(Lang, Catalogue)> = Lang::ALL
            .iter()
            .map(|l| {
                (
                    *l,
                    parse_catalogue(l.source()).unwrap_or_else(|e| panic!("{}: {e}", l.code())),
                )
            })
            .collect();
        let all: BTreeSet<&String> = cats.iter().flat_map(|(_, c)| c.keys()).collect();
        let mut problems = Vec::new();
        for (lang, cat) in &cats {
            for key in &all {
                match cat.get(*key) {
                    None => problems.push(format!("{}: missing {key}", lang.code())),
                    Some(text) => {
                        let en = &cats[0].1[*key];
                        if placeholders(text) != placeholders(en) {
                            problems.push(format!("{}: placeholders differ in {key}", lang.code()));
                        }
                        if text.trim().is_empty() {
                            problems.push(format!("{}: empty {key}", lang.code()));
                        }
                        if plural_counts(text)
                            .iter()
                            .any(|n| *n != plural_forms(*lang))
                        {
                            problems.push(format!(
                                "{}: {key} needs {} plural forms",
                                lang.code(),
                                plural_forms(*lang)
                            ));
                        }
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn every_reason_code_has_a_title() {
        for lang in Lang::ALL {
            for code in ReasonCode::ALL {
                let key = format!("reason.{}", code.as_str());
                assert!(
                    catalogue(lang).contains_key(&key),
                    "{}: no title for {code}",
                    lang.code()
                );
            }
        }
    }

    /// Every `"section.key"` literal in the kiosk's code, and every key built from the
    /// kiosk's lists, exists in the English catalogue (a typo would show the raw key).
    #[test]
    fn every_key_the_kiosk_uses_exists() {
        let en = parse_catalogue(Lang::En.source()).unwrap();
        let sections: BTreeSet<&str> = en.keys().filter_map(|k| k.split('.').next()).collect();
        let sources = [
            include_str!("app.rs"),
            include_str!("view.rs"),
            include_str!("runtime.rs"),
            include_str!("i18n.rs"),
        ];
        let mut used: Vec<String> = Vec::new();
        for src in sources {
            // Escaped quotes inside literals would shift the split.
            let src = src.replace("\\\"", "").replace("'\"'", "");
            for (i, lit) in src.split('"').enumerate() {
                if i % 2 == 1
                    && let Some((section, rest)) = lit.split_once('.')
                    && sections.contains(section)
                    && !rest.is_empty()
                    // The file names in `include_str!` above.
                    && rest != "rs"
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    used.push(lit.to_string());
                }
            }
        }
        use crate::app::{CHECKLIST, REFUSE_REASONS};
        used.extend(CHECKLIST.iter().map(|k| format!("checklist.{k}")));
        used.extend(REFUSE_REASONS.iter().map(|k| format!("refuse.{k}")));
        for k in ["sn", "gn", "na", "db", "sx", "dn", "dc", "de"] {
            used.push(format!("field.{k}"));
        }
        for c in ["T", "B", "M"] {
            used.push(format!("category.{c}"));
        }
        assert!(used.len() > 50, "the scan found too few keys: {used:?}");
        let missing: Vec<&String> = used.iter().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    /// Regression: the catalogue test compared keys and placeholders but nothing checked
    /// the plural syntax, so a Russian key with two forms would pick the wrong word.
    #[test]
    fn a_missing_plural_form_or_placeholder_is_reported() {
        assert_eq!(plural_counts("{n} {n#день|дня|дней}"), [3]);
        assert_eq!(
            placeholders("{n} {n#a|b} {d}"),
            ["d", "n"].map(String::from).into()
        );
    }

    #[test]
    fn russian_plurals_follow_cldr() {
        let forms = |n: u32| trf(Lang::Ru, "verdict.stay_days", &[("n", &n.to_string())]);
        for (n, want) in [
            (1, "1 день"),
            (2, "2 дня"),
            (4, "4 дня"),
            (5, "5 дней"),
            (11, "11 дней"),
            (12, "12 дней"),
            (14, "14 дней"),
            (21, "21 день"),
            (22, "22 дня"),
            (111, "111 дней"),
            (101, "101 день"),
            (0, "0 дней"),
        ] {
            assert_eq!(forms(n), want);
        }
        assert_eq!(trf(Lang::Kk, "verdict.stay_days", &[("n", "30")]), "30 күн");
        assert_eq!(trf(Lang::En, "verdict.stay_days", &[("n", "1")]), "1 day");
    }

    #[test]
    fn dates_in_the_officers_format() {
        let d = time::macros::date!(2027 - 01 - 29);
        assert_eq!(date(Lang::En, d), "2027-01-29");
        assert_eq!(date(Lang::Ru, d), "29.01.2027");
        assert_eq!(date(Lang::Kk, d), "29.01.2027");
        assert_eq!(birth(Lang::Ru, "1990-XX-XX"), "XX.XX.1990");
        assert_eq!(clock(Lang::Kk, "2026-11-25 14:05"), "25.11.2026 14:05");
    }

    /// Every kind of reason sentence, in every language, comes from the catalogue with
    /// every placeholder filled (no raw key, no `{…}` left, no English in ru/kk).
    #[test]
    fn every_reason_detail_is_translated_and_filled() {
        use evisa_core::rules::LastEntry;
        let day = time::macros::date!(2027 - 01 - 29);
        let diff = |f| FieldDiff {
            field: f,
            visa: "A".into(),
            passport: String::new(),
        };
        let mut all = vec![
            Detail::Qr(QrError::NotAnEvisa {
                hint: String::new(),
            }),
            Detail::Qr(QrError::Empty),
            Detail::Algorithm { alg: Some(-7) },
            Detail::Algorithm { alg: None },
            Detail::NoKid,
            Detail::UnknownKey { kid: "ab".into() },
            Detail::KeyRevoked { label: "k".into() },
            Detail::KeyOutOfPeriod {
                label: "k".into(),
                issued_at: 1_700_000_000,
                not_before: day,
                not_after: day,
            },
            Detail::Signature { label: "k".into() },
            Detail::Payload(PayloadError::Cbor("x".into())),
            Detail::Payload(PayloadError::NotAMap),
            Detail::Payload(PayloadError::Missing("vn")),
            Detail::Payload(PayloadError::Type {
                field: "vn",
                expected: "text",
            }),
            Detail::Payload(PayloadError::Value {
                field: "vn",
                value: "x".into(),
            }),
            Detail::Payload(PayloadError::DateOutOfRange {
                field: "vu",
                value: "x".into(),
            }),
            Detail::Payload(PayloadError::TimeOutOfRange {
                field: "iat",
                value: 1,
            }),
            Detail::Payload(PayloadError::TooLarge {
                field: "ds",
                value: 1,
                max: 1,
            }),
            Detail::ValidUntilTooLate { valid_until: day },
            Detail::VisaRevoked {
                number: "V".into(),
                why: "w".into(),
            },
            Detail::NotYetValid {
                valid_from: day,
                today: day,
            },
            Detail::Expired {
                valid_until: day,
                today: day,
            },
            Detail::Checkpoint {
                allowed: vec!["ALA".into()],
                here: "NQZ".into(),
            },
            Detail::Entries {
                allowed: 2,
                used: 2,
                last: Some(LastEntry {
                    date: day,
                    checkpoint: "ALA".into(),
                }),
            },
            Detail::EntryAtBooth {
                booth: "b1".into(),
                checkpoint: "NQZ".into(),
                date: day,
            },
            Detail::Overstay {
                entered: day,
                checkpoint: "ALA".into(),
                stay_days: 30,
                days: 33,
                over: 3,
            },
            Detail::Mrz(MrzError::Framing { found: "x".into() }),
            Detail::Mrz(MrzError::BadChar {
                line: 1,
                pos: 2,
                ch: '\u{1b}',
            }),
            Detail::Mrz(MrzError::NotPassport("V".into())),
            Detail::Document {
                diffs: vec![diff("dn"), diff("dc")],
            },
            Detail::Holder {
                diffs: ["sn", "gn", "na", "db", "sx"].map(diff).to_vec(),
                note: Some(NameNote::FitsInFull),
            },
            Detail::Holder {
                diffs: vec![diff("sn")],
                note: Some(NameNote::NotATruncation),
            },
            Detail::Holder {
                diffs: vec![diff("gn")],
                note: Some(NameNote::FieldNotFull),
            },
            Detail::ExpiryMismatch {
                visa: day,
                passport: day,
            },
            Detail::ValidityTooShort {
                expires: day,
                needed: day,
                visa_ends: day,
            },
            Detail::PassportExpired { on: day },
        ];
        for field in MRZ_FIELDS {
            all.push(Detail::Mrz(MrzError::CheckDigit {
                field,
                expected: '1',
                found: '2',
            }));
            all.push(Detail::Mrz(MrzError::BadField {
                field,
                value: "x".into(),
            }));
        }
        for facts in all {
            let r = Reason::new(ReasonCode::MalformedQr, facts);
            let en = reason_detail(Lang::En, &r);
            for lang in [Lang::Ru, Lang::Kk] {
                let text = reason_detail(lang, &r);
                assert!(
                    !text.contains('{') && !text.contains("detail.") && !text.contains("field."),
                    "{}: {text}",
                    lang.code()
                );
                assert_ne!(text, en, "{} not translated", lang.code());
                // English words from the rules (field names, notes) must not leak.
                for english in ["on the visa", "passport", "surname", "date of", "number"] {
                    assert!(!text.contains(english), "{}: {text}", lang.code());
                }
            }
        }
    }

    /// The revocation list's reason is the ministry's data: shown as it is, labelled
    /// as the ministry's note, in a translated sentence.
    #[test]
    fn a_cancelled_visa_quotes_the_ministrys_note_in_a_translated_frame() {
        let r = Reason::new(
            ReasonCode::VisaRevoked,
            Detail::VisaRevoked {
                number: "EV1".into(),
                why: "fraudulent application".into(),
            },
        );
        assert_eq!(
            reason_detail(Lang::Ru, &r),
            "Виза EV1 аннулирована после выдачи. Примечание министерства: «fraudulent application»."
        );
        assert!(
            reason_detail(Lang::Kk, &r)
                .contains("Министрліктің ескертпесі: «fraudulent application»")
        );
    }

    #[test]
    fn lookups_and_placeholders() {
        assert_eq!(tr(Lang::Ru, "verdict.reject"), "ОТКАЗ");
        assert_eq!(
            trf(Lang::En, "verdict.stay_days", &[("n", "30")]),
            "30 days"
        );
        assert_eq!(tr(Lang::En, "no.such.key"), "no.such.key");
        assert_eq!(Lang::En.next().next().next(), Lang::En);
    }
}
