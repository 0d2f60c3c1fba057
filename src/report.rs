//! How a decision is shown outside the program: the JSON object of spec §6 for
//! scripts, and plain text for a person at a shell.

use serde_json::{Value, json};

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

/// `{"verdict", "reasons": [{"code", "detail"}], "visa", "passport"}` (spec §6).
pub fn decision_json(d: &Decision) -> Value {
    json!({
        "verdict": d.verdict.as_str(),
        "reasons": d.reasons.iter().map(|r| json!({"code": r.code.as_str(), "detail": r.detail})).collect::<Vec<_>>(),
        "visa": d.visa.as_ref().map(visa_json),
        "passport": d.passport.as_ref().map(passport_json),
    })
}

/// A few lines for a person.
pub fn decision_text(d: &Decision) -> String {
    let mut out = format!("{}\n", d.verdict.as_str());
    for r in &d.reasons {
        out.push_str(&format!("  {}: {}\n", r.code, r.detail));
    }
    if let Some(v) = &d.visa {
        let h = &v.holder;
        out.push_str(&format!(
            "visa {} ({}, {} entr{}, {} days) valid {} to {} at {}\n",
            v.number,
            v.category.name(),
            v.entries,
            if v.entries == 1 { "y" } else { "ies" },
            v.stay_days,
            v.valid_from,
            v.valid_until,
            v.checkpoints.join("/")
        ));
        out.push_str(&format!(
            "holder {}, {} ({}), born {}, sex {}, passport {} {} expires {}\n",
            h.surname,
            h.given_names,
            h.nationality,
            h.birth,
            h.sex.code(),
            h.document_country,
            h.document_number,
            h.document_expiry
        ));
    }
    if let Some(p) = &d.passport {
        out.push_str(&format!(
            "passport {}, {} ({}), born {}, sex {}, {} {} expires {}\n",
            p.surname,
            p.given_names,
            p.nationality,
            p.birth,
            p.sex.code(),
            p.issuing_state,
            p.document_number,
            p.expiry
        ));
    }
    out
}
