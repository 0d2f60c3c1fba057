//! The kiosk's languages (English, Russian, Kazakh) and their message catalogues:
//! `i18n/*.toml` files a translator edits, embedded in the binary. Lookups never fail
//! at run time (a missing key falls back to English, then to the key itself); the
//! tests make sure no key is missing in the first place.

use std::collections::HashMap;
use std::sync::OnceLock;

use evisa_core::rules::ReasonCode;

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

/// The message with `{name}` placeholders filled in.
pub fn trf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = tr(lang, key);
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// A reason code's plain-words title (the code itself is shown beside it).
pub fn reason_title(lang: Lang, code: ReasonCode) -> String {
    tr(lang, &format!("reason.{}", code.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn placeholders(s: &str) -> BTreeSet<String> {
        s.split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
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
