//! How a decision is shown outside the program: the JSON object of spec §6 for
//! scripts, and plain text for a person at a shell. Every string in the text comes
//! from the payload, the MRZ or a key file and goes through
//! [`crate::untrusted::printable`], so it is shown, never acted upon by the terminal.
//! A verdict given under conditions a real border would not accept (test-only keys,
//! no history checked) carries [`Warning`]s: a `WARNING:` line in the text, and a
//! `warnings` array beside the spec's four keys in the JSON.

use serde_json::{Value, json};

use crate::untrusted::printable;

use crate::mrz::Passport;
use crate::payload::Visa;
use crate::rules::Decision;

/// The visa in the spec's own keys (§3), so it can be compared field by field.
pub fn visa_json(v: &Visa) -> Value {
    let h = &v.holder;
    json!({
        "vn": v.number,
        "in": v.invitation,
        "ty": v.category.code(),
        "ne": v.entries,
        "vf": v.valid_from.to_string(),
        "vu": v.valid_until.to_string(),
        "ds": v.stay_days,
        "pp": v.checkpoints,
        "h": {
            "sn": h.surname,
            "gn": h.given_names,
            "na": h.nationality,
            "db": h.birth.to_iso(),
            "sx": h.sex.code(),
            "dn": h.document_number,
            "dc": h.document_country,
            "de": h.document_expiry.to_string(),
        }
    })
}

/// The passport in the same keys as the visa's holder map, plus what only the MRZ has.
pub fn passport_json(p: &Passport) -> Value {
    json!({
        "sn": p.surname,
        "gn": p.given_names,
        "na": p.nationality,
        "db": p.birth.to_iso(),
        "sx": p.sex.code(),
        "dn": p.document_number,
        "dc": p.issuing_state,
        "de": p.expiry.to_string(),
        "document_type": p.document_type,
        "personal_number": p.personal_number,
        "names_truncated": p.names_truncated,
    })
}

/// Something the verdict's reader must know about how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Stable code for scripts: `TEST_ONLY_KEY`, `DEFAULT_KEYS`, `NO_HISTORY`.
    pub code: &'static str,
    pub detail: String,
}

impl Warning {
    /// `CODE: detail`, as the JSON `warnings` array holds it.
    pub fn line(&self) -> String {
        format!("{}: {}", self.code, self.detail)
    }
}

/// `{"verdict", "reasons": [{"code", "detail"}], "visa", "passport"}` (spec §6).
pub fn decision_json(d: &Decision) -> Value {
    json!({
        "verdict": d.verdict.as_str(),
        "reasons": d.reasons.iter().map(|r| json!({"code": r.code.as_str(), "detail": r.detail})).collect::<Vec<_>>(),
        "visa": d.visa.as_ref().map(visa_json),
        "passport": d.passport.as_ref().map(passport_json),
    })
}

/// [`decision_json`] with a top-level `"warnings": ["CODE: detail", …]` when there
/// are any; the spec's four keys are unchanged.
pub fn decision_json_warned(d: &Decision, warnings: &[Warning]) -> Value {
    let mut v = decision_json(d);
    if !warnings.is_empty() {
        v["warnings"] = warnings
            .iter()
            .map(Warning::line)
            .collect::<Vec<_>>()
            .into();
    }
    v
}

/// [`decision_text`] followed by one `WARNING:` line per warning.
pub fn decision_text_warned(d: &Decision, warnings: &[Warning]) -> String {
    let mut out = decision_text(d);
    for w in warnings {
        out.push_str(&format!("WARNING: {}\n", printable(&w.line())));
    }
    out
}

/// The JSON text of `v` with every character a terminal would act on written as a
/// `\uXXXX` escape. serde_json escapes C0 controls but leaves C1 controls (U+009B is
/// a CSI) and bidirectional overrides raw; the escaped text decodes to the same value.
pub fn json_text(v: &Value) -> String {
    let text = v.to_string();
    let shown = printable(&text);
    if matches!(shown, std::borrow::Cow::Borrowed(_)) {
        return text;
    }
    // Outside strings JSON holds only ASCII punctuation, so every such character is
    // inside a string, where `\uXXXX` is valid (all of them are in the BMP).
    text.chars()
        .map(|c| {
            if printable(c.encode_utf8(&mut [0; 4])) == c.to_string() {
                c.to_string()
            } else {
                format!("\\u{:04x}", c as u32)
            }
        })
        .collect()
}

/// A few lines for a person.
pub fn decision_text(d: &Decision) -> String {
    let mut out = format!("{}\n", d.verdict.as_str());
    for r in &d.reasons {
        out.push_str(&format!("  {}: {}\n", r.code, printable(&r.detail)));
    }
    if let Some(v) = &d.visa {
        let h = &v.holder;
        out.push_str(&format!(
            "visa {} ({}, {} entr{}, {} days) valid {} to {} at {}\n",
            printable(&v.number),
            v.category.name(),
            v.entries,
            if v.entries == 1 { "y" } else { "ies" },
            v.stay_days,
            v.valid_from,
            v.valid_until,
            printable(&v.checkpoints.join("/"))
        ));
        out.push_str(&format!(
            "holder {}, {} ({}), born {}, sex {}, passport {} {} expires {}\n",
            printable(&h.surname),
            printable(&h.given_names),
            printable(&h.nationality),
            h.birth,
            h.sex.code(),
            printable(&h.document_country),
            printable(&h.document_number),
            h.document_expiry
        ));
    }
    if let Some(p) = &d.passport {
        out.push_str(&format!(
            "passport {}, {} ({}), born {}, sex {}, {} {} expires {}\n",
            printable(&p.surname),
            printable(&p.given_names),
            printable(&p.nationality),
            p.birth,
            p.sex.code(),
            printable(&p.issuing_state),
            printable(&p.document_number),
            p.expiry
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_escapes_c1_and_bidi_without_changing_the_value() {
        let v = json!({"sn": "A\u{9b}31m\u{202e}B\u{1b}[2J", "n": 1});
        let text = json_text(&v);
        assert!(text.is_ascii(), "{text}");
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }
}
