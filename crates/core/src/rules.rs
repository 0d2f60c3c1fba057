//! The decision table of spec §4: reason codes, and the pure functions that turn QR
//! text, an MRZ, the trust store, the checkpoint date and the recorded history of a
//! visa into ACCEPT or REJECT with every failing reason.
//!
//! Two steps, so the caller can fetch history for the visa number in between without
//! this module touching a database: [`read_visa`] (transport, signature, claims) and
//! [`decide`] (everything else).

use time::Date;

use crate::dates;
use crate::mrz::{self, Passport};
use crate::payload::{self, Claims, Visa};
use crate::trust::{self, TrustStore};

/// The stable reason codes of spec §4, in its order of reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReasonCode {
    MalformedQr,
    UnsupportedAlgorithm,
    UnknownKey,
    KeyRevoked,
    SignatureInvalid,
    MalformedPayload,
    VisaRevoked,
    VisaNotYetValid,
    VisaExpired,
    CheckpointNotAllowed,
    EntriesExhausted,
    Overstay,
    MrzInvalid,
    DocumentMismatch,
    HolderMismatch,
    PassportExpiryMismatch,
    PassportValidityTooShort,
    PassportExpired,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 18] = [
        ReasonCode::MalformedQr,
        ReasonCode::UnsupportedAlgorithm,
        ReasonCode::UnknownKey,
        ReasonCode::KeyRevoked,
        ReasonCode::SignatureInvalid,
        ReasonCode::MalformedPayload,
        ReasonCode::VisaRevoked,
        ReasonCode::VisaNotYetValid,
        ReasonCode::VisaExpired,
        ReasonCode::CheckpointNotAllowed,
        ReasonCode::EntriesExhausted,
        ReasonCode::Overstay,
        ReasonCode::MrzInvalid,
        ReasonCode::DocumentMismatch,
        ReasonCode::HolderMismatch,
        ReasonCode::PassportExpiryMismatch,
        ReasonCode::PassportValidityTooShort,
        ReasonCode::PassportExpired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::MalformedQr => "MALFORMED_QR",
            ReasonCode::UnsupportedAlgorithm => "UNSUPPORTED_ALGORITHM",
            ReasonCode::UnknownKey => "UNKNOWN_KEY",
            ReasonCode::KeyRevoked => "KEY_REVOKED",
            ReasonCode::SignatureInvalid => "SIGNATURE_INVALID",
            ReasonCode::MalformedPayload => "MALFORMED_PAYLOAD",
            ReasonCode::VisaRevoked => "VISA_REVOKED",
            ReasonCode::VisaNotYetValid => "VISA_NOT_YET_VALID",
            ReasonCode::VisaExpired => "VISA_EXPIRED",
            ReasonCode::CheckpointNotAllowed => "CHECKPOINT_NOT_ALLOWED",
            ReasonCode::EntriesExhausted => "ENTRIES_EXHAUSTED",
            ReasonCode::Overstay => "OVERSTAY",
            ReasonCode::MrzInvalid => "MRZ_INVALID",
            ReasonCode::DocumentMismatch => "DOCUMENT_MISMATCH",
            ReasonCode::HolderMismatch => "HOLDER_MISMATCH",
            ReasonCode::PassportExpiryMismatch => "PASSPORT_EXPIRY_MISMATCH",
            ReasonCode::PassportValidityTooShort => "PASSPORT_VALIDITY_TOO_SHORT",
            ReasonCode::PassportExpired => "PASSPORT_EXPIRED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failing rule with a sentence for the officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: ReasonCode,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Reject,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "ACCEPT",
            Verdict::Reject => "REJECT",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Entry,
    Exit,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Entry => "entry",
            Direction::Exit => "exit",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "entry" => Some(Direction::Entry),
            "exit" => Some(Direction::Exit),
            _ => None,
        }
    }
}

/// A border crossing recorded with a visa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub direction: Direction,
    pub date: Date,
    pub checkpoint: String,
}

/// What the terminal's records say about one visa number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Oldest first.
    pub movements: Vec<Movement>,
    /// Why the visa was cancelled, when it is on the revocation list.
    pub revoked: Option<String>,
}

/// Where and when the check happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The checkpoint date in Kazakhstan time (spec §4).
    pub date: Date,
    pub code: String,
    pub direction: Direction,
}

/// The QR after transport, signature and claims checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedVisa {
    /// Present whenever the claims parsed, even if the signature failed: the officer
    /// sees what the code claims, and every failing rule is reported.
    pub claims: Option<Claims>,
    /// True only when a trusted, unrevoked key's signature verified.
    pub authentic: bool,
    pub reasons: Vec<Reason>,
    /// Label of the key that signed it, if known.
    pub signer: Option<String>,
    /// The text is not an e-visa code at all (a URL, a boarding pass, an EU `HC1:`
    /// certificate), as opposed to a damaged one.
    pub foreign: bool,
}

impl ScannedVisa {
    /// True when the text is not an e-visa code at all (as opposed to a damaged one):
    /// the kiosk keeps waiting for the visa instead of showing a verdict.
    pub fn is_foreign_code(&self) -> bool {
        self.foreign
    }
}

/// Transport, COSE, algorithm, key, signature and claims checks (spec §4 rows 1–6).
pub fn read_visa(qr_text: &str, trust: &TrustStore) -> ScannedVisa {
    let mut reasons = Vec::new();
    let mut out = |code, detail: String| reasons.push(Reason { code, detail });
    let cose = match payload::unwrap_transport(qr_text).and_then(|b| payload::parse_cose(&b)) {
        Ok(c) => c,
        Err(e) => {
            let foreign = matches!(e, payload::QrError::NotAnEvisa { .. });
            out(ReasonCode::MalformedQr, e.to_string());
            return ScannedVisa {
                claims: None,
                authentic: false,
                reasons,
                signer: None,
                foreign,
            };
        }
    };
    let claims = payload::parse_claims(&cose.payload);
    let alg_ok = cose.alg == Some(payload::ALG_EDDSA);
    if !alg_ok {
        out(
            ReasonCode::UnsupportedAlgorithm,
            match cose.alg {
                Some(a) => format!(
                    "the code is signed with COSE algorithm {a}; only EdDSA (-8) is accepted"
                ),
                None => {
                    "the code does not state its signature algorithm; only EdDSA (-8) is accepted"
                        .into()
                }
            },
        );
    }
    let key = match &cose.kid {
        None => {
            out(
                ReasonCode::UnknownKey,
                "the code does not name its signing key (no kid)".into(),
            );
            None
        }
        Some(kid) => {
            let k = trust.find(kid);
            if k.is_none() {
                out(
                    ReasonCode::UnknownKey,
                    format!(
                        "signing key {} is not in this terminal's trust store; the code may be forged, or the trust store needs an update",
                        trust::hex(kid)
                    ),
                );
            }
            k
        }
    };
    if let Some(k) = key {
        if k.revoked {
            out(
                ReasonCode::KeyRevoked,
                format!("signing key \"{}\" has been revoked", k.label),
            );
        } else if let Ok(c) = &claims
            && !k.covers(c.issued_at)
        {
            out(
                ReasonCode::KeyRevoked,
                format!(
                    "the visa was issued at {} but signing key \"{}\" is valid only from {} to {}",
                    unix_day(c.issued_at),
                    k.label,
                    k.not_before,
                    k.not_after
                ),
            );
        }
    }
    let mut verified = false;
    if let (true, Some(k)) = (alg_ok, key) {
        verified = k.verify(&cose.sig_structure(), &cose.signature);
        if !verified {
            out(
                ReasonCode::SignatureInvalid,
                format!(
                    "the signature does not match key \"{}\": the code was altered or forged",
                    k.label
                ),
            );
        }
    }
    let claims = match claims {
        Ok(c) => Some(c),
        Err(e) => {
            out(
                ReasonCode::MalformedPayload,
                format!("the visa data is invalid: {e}"),
            );
            None
        }
    };
    let authentic = verified && reasons.is_empty();
    ScannedVisa {
        claims,
        authentic,
        reasons,
        signer: key.map(|k| k.label.clone()),
        foreign: false,
    }
}

fn unix_day(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map_or_else(|| format!("Unix time {secs}"), |t| t.date().to_string())
}

/// Holder or document fields that differ between visa and passport, by spec key.
pub type Field = &'static str;

/// The full verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    /// Every failing rule, in spec §4 order; empty on ACCEPT.
    pub reasons: Vec<Reason>,
    pub visa: Option<Visa>,
    pub passport: Option<Passport>,
    /// Spec holder keys (`dn`, `sn`, …) whose visa and passport values differ.
    pub mismatched: Vec<Field>,
    /// Entries already recorded with this visa before this check.
    pub entries_used: usize,
    pub signer: Option<String>,
}

impl Decision {
    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}

/// Rows 7–18 of spec §4, given the scanned visa, the MRZ text and the visa's history.
pub fn decide(
    scanned: &ScannedVisa,
    mrz_text: &str,
    history: &History,
    at: &Checkpoint,
) -> Decision {
    let mut reasons = scanned.reasons.clone();
    let mut mismatched = Vec::new();
    let visa = scanned.claims.as_ref().map(|c| &c.visa);
    let entries_used = history
        .movements
        .iter()
        .filter(|m| m.direction == Direction::Entry)
        .count();
    let mut out = |code, detail: String| reasons.push(Reason { code, detail });

    if let Some(v) = visa {
        if let Some(why) = &history.revoked {
            out(
                ReasonCode::VisaRevoked,
                format!("visa {} was cancelled after issue ({why})", v.number),
            );
        }
        if at.date < v.valid_from {
            out(
                ReasonCode::VisaNotYetValid,
                format!(
                    "the visa is valid from {}; today is {}",
                    v.valid_from, at.date
                ),
            );
        }
        if at.date > v.valid_until {
            out(
                ReasonCode::VisaExpired,
                format!(
                    "the visa was valid until {}; today is {}",
                    v.valid_until, at.date
                ),
            );
        }
        if !v.checkpoints.iter().any(|p| p == &at.code) {
            out(
                ReasonCode::CheckpointNotAllowed,
                format!(
                    "the visa is valid at {} only; this checkpoint is {}",
                    v.checkpoints.join(", "),
                    at.code
                ),
            );
        }
        match at.direction {
            // `ne` may be any u64: compared, never added to.
            Direction::Entry if !u64::try_from(entries_used).is_ok_and(|n| n < v.entries) => {
                let last = history
                    .movements
                    .iter()
                    .rev()
                    .find(|m| m.direction == Direction::Entry);
                out(
                    ReasonCode::EntriesExhausted,
                    format!(
                        "the visa allows {} entr{}; {} already recorded{}",
                        v.entries,
                        if v.entries == 1 { "y" } else { "ies" },
                        entries_used,
                        last.map_or(String::new(), |m| format!(
                            " (last on {} at {})",
                            m.date, m.checkpoint
                        ))
                    ),
                );
            }
            Direction::Exit => {
                let entry = history
                    .movements
                    .iter()
                    .rev()
                    .find(|m| m.direction == Direction::Entry);
                if let Some(e) = entry {
                    // `ds` may be any u64 here (claims can be built by hand): compare in
                    // i128, where neither side can wrap.
                    let days = i128::from((at.date - e.date).whole_days());
                    let over = days - i128::from(v.stay_days);
                    if over > 0 {
                        out(
                            ReasonCode::Overstay,
                            format!(
                                "entered on {} at {}; the permitted stay is {} days, today is day {} ({} over)",
                                e.date, e.checkpoint, v.stay_days, days, over
                            ),
                        );
                    }
                }
            }
            Direction::Entry => {}
        }
    }

    let passport = match mrz::parse(mrz_text, at.date) {
        Ok(p) => Some(p),
        Err(e) => {
            out(ReasonCode::MrzInvalid, format!("passport MRZ: {e}"));
            None
        }
    };

    if let (Some(v), Some(p)) = (visa, &passport) {
        let h = &v.holder;
        let mut doc = Vec::new();
        if h.document_number != p.document_number {
            mismatched.push("dn");
            doc.push(format!(
                "passport number on the visa is {}, passport shows {}",
                h.document_number, p.document_number
            ));
        }
        if h.document_country != p.issuing_state {
            mismatched.push("dc");
            doc.push(format!(
                "issuing state on the visa is {}, passport shows {}",
                h.document_country, p.issuing_state
            ));
        }
        if !doc.is_empty() {
            out(
                ReasonCode::DocumentMismatch,
                format!(
                    "{}: the passport was replaced; a new e-visa is required",
                    doc.join("; ")
                ),
            );
        }
        let holder = holder_differences(v, p, &mut mismatched);
        if !holder.is_empty() {
            out(ReasonCode::HolderMismatch, holder.join("; "));
        }
        if h.document_expiry != p.expiry {
            mismatched.push("de");
            out(
                ReasonCode::PassportExpiryMismatch,
                format!(
                    "passport expiry on the visa is {}, passport shows {}",
                    h.document_expiry, p.expiry
                ),
            );
        }
        match dates::add_months(v.valid_until, 3) {
            Some(needed) if p.expiry < needed => out(
                ReasonCode::PassportValidityTooShort,
                format!(
                    "the passport expires on {}; it must be valid until at least {} (3 months after the visa ends on {})",
                    p.expiry, needed, v.valid_until
                ),
            ),
            Some(_) => {}
            // `parse_claims` refuses such a date; claims built another way still get a
            // verdict, never a panic.
            None => out(
                ReasonCode::MalformedPayload,
                format!(
                    "the visa is valid until {}, too late for the calendar: the passport cannot be checked for 3 months' validity after it",
                    v.valid_until
                ),
            ),
        }
    }
    if let Some(p) = &passport
        && p.expiry < at.date
    {
        out(
            ReasonCode::PassportExpired,
            format!("the passport expired on {}", p.expiry),
        );
    }

    reasons.sort_by_key(|r| r.code);
    Decision {
        verdict: if reasons.is_empty() {
            Verdict::Accept
        } else {
            Verdict::Reject
        },
        reasons,
        visa: visa.cloned(),
        passport,
        mismatched,
        entries_used,
        signer: scanned.signer.clone(),
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}

fn holder_differences(v: &Visa, p: &Passport, mismatched: &mut Vec<Field>) -> Vec<String> {
    let h = &v.holder;
    let mut diffs: Vec<String> = Vec::new();
    let mut differ = |diffs: &mut Vec<String>, key: Field, what: &str, visa: &str, pass: &str| {
        mismatched.push(key);
        diffs.push(format!(
            "{what} on the visa: {}; the passport shows: {}",
            or_none(visa),
            or_none(pass)
        ));
    };
    // Names compare by the Doc 9303 truncation rule (spec §4: "names truncated in the
    // MRZ compare as a prefix"), on the name field as printed, never on a bare prefix.
    let names = mrz::match_name(&h.surname, &h.given_names, p.name_field());
    if !names.ok() {
        // A failure that neither identifier shows alone (the field's length) flags both.
        let both = names.surname == names.given_names;
        if !names.surname || both {
            differ(&mut diffs, "sn", "surname", &h.surname, &p.surname);
        }
        if !names.given_names || both {
            differ(
                &mut diffs,
                "gn",
                "given names",
                &h.given_names,
                &p.given_names,
            );
        }
        let why = match (p.names_truncated, names.truncated) {
            (true, false) => {
                " (the visa's name fits the passport's name field in full, so a shortened name there is not a truncation)"
            }
            (true, true) => {
                " (the passport's name field is full, but it is not a Doc 9303 truncation of the visa's name)"
            }
            (false, true) => {
                " (the visa's name is too long for the passport's name field, yet the field is not full)"
            }
            (false, false) => "",
        };
        if let Some(last) = diffs.last_mut() {
            last.push_str(why);
        }
    }
    if h.nationality != p.nationality {
        differ(
            &mut diffs,
            "na",
            "nationality",
            &h.nationality,
            &p.nationality,
        );
    }
    // The MRZ holds two-digit years, so the century is compared no further than it can tell.
    let same_birth = h.birth.year.rem_euclid(100) == p.birth.year.rem_euclid(100)
        && h.birth.month == p.birth.month
        && h.birth.day == p.birth.day;
    if !same_birth {
        differ(
            &mut diffs,
            "db",
            "date of birth",
            &h.birth.to_iso(),
            &p.birth.to_iso(),
        );
    }
    if h.sex != p.sex {
        differ(&mut diffs, "sx", "sex", h.sex.code(), p.sex.code());
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_in_spec_order() {
        for (i, c) in ReasonCode::ALL.iter().enumerate() {
            assert_eq!(ReasonCode::parse(c.as_str()), Some(*c));
            if i > 0 {
                assert!(ReasonCode::ALL[i - 1] < *c);
            }
        }
    }

    #[test]
    fn foreign_codes_are_told_apart_from_damaged_ones() {
        let trust = TrustStore::default();
        assert!(read_visa("https://example.org", &trust).is_foreign_code());
        assert!(read_visa("M1DOE/JOHN  EABC123 ALAFRAKC 0123", &trust).is_foreign_code());
        assert!(!read_visa("KZV1:00", &trust).is_foreign_code());
    }
}
