//! The decision table of spec §4: reason codes, and the pure functions that turn QR
//! text, an MRZ, the trust store, the checkpoint date and the recorded history of a
//! visa into ACCEPT or REJECT with every failing reason.
//!
//! Two steps, so the caller can fetch history for the visa number in between without
//! this module touching a database: [`read_visa`] (transport, signature, claims) and
//! [`decide`] (everything else).

use time::Date;

use crate::dates;
pub use crate::detail::{Detail, FieldDiff, LastEntry, NameNote};
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

/// One failing rule: its code, the stable English sentence (JSON, audit) and the facts
/// behind it, from which a screen writes the sentence in its own language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: ReasonCode,
    pub detail: String,
    pub facts: Detail,
}

impl Reason {
    /// A reason whose English `detail` is written from its facts.
    pub fn new(code: ReasonCode, facts: Detail) -> Self {
        Reason {
            code,
            detail: facts.to_string(),
            facts,
        }
    }
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
    let mut out = |code, facts: Detail| reasons.push(Reason::new(code, facts));
    let cose = match payload::unwrap_transport(qr_text).and_then(|b| payload::parse_cose(&b)) {
        Ok(c) => c,
        Err(e) => {
            let foreign = matches!(e, payload::QrError::NotAnEvisa { .. });
            out(ReasonCode::MalformedQr, Detail::Qr(e));
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
            Detail::Algorithm { alg: cose.alg },
        );
    }
    let key = match &cose.kid {
        None => {
            out(ReasonCode::UnknownKey, Detail::NoKid);
            None
        }
        Some(kid) => {
            let k = trust.find(kid);
            if k.is_none() {
                out(
                    ReasonCode::UnknownKey,
                    Detail::UnknownKey {
                        kid: trust::hex(kid),
                    },
                );
            }
            k
        }
    };
    if let Some(k) = key {
        if k.revoked {
            out(
                ReasonCode::KeyRevoked,
                Detail::KeyRevoked {
                    label: k.label.clone(),
                },
            );
        } else if let Ok(c) = &claims
            && !k.covers(c.issued_at)
        {
            out(
                ReasonCode::KeyRevoked,
                Detail::KeyOutOfPeriod {
                    label: k.label.clone(),
                    issued_at: c.issued_at,
                    not_before: k.not_before,
                    not_after: k.not_after,
                },
            );
        }
    }
    let mut verified = false;
    if let (true, Some(k)) = (alg_ok, key) {
        verified = k.verify(&cose.sig_structure(), &cose.signature);
        if !verified {
            out(
                ReasonCode::SignatureInvalid,
                Detail::Signature {
                    label: k.label.clone(),
                },
            );
        }
    }
    let claims = match claims {
        Ok(c) => Some(c),
        Err(e) => {
            out(ReasonCode::MalformedPayload, Detail::Payload(e));
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
    let mut out = |code, facts: Detail| reasons.push(Reason::new(code, facts));

    if let Some(v) = visa {
        if let Some(why) = &history.revoked {
            out(
                ReasonCode::VisaRevoked,
                Detail::VisaRevoked {
                    number: v.number.clone(),
                    why: why.clone(),
                },
            );
        }
        if at.date < v.valid_from {
            out(
                ReasonCode::VisaNotYetValid,
                Detail::NotYetValid {
                    valid_from: v.valid_from,
                    today: at.date,
                },
            );
        }
        if at.date > v.valid_until {
            out(
                ReasonCode::VisaExpired,
                Detail::Expired {
                    valid_until: v.valid_until,
                    today: at.date,
                },
            );
        }
        if !v.checkpoints.iter().any(|p| p == &at.code) {
            out(
                ReasonCode::CheckpointNotAllowed,
                Detail::Checkpoint {
                    allowed: v.checkpoints.clone(),
                    here: at.code.clone(),
                },
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
                    Detail::Entries {
                        allowed: v.entries,
                        used: entries_used,
                        last: last.map(|m| LastEntry {
                            date: m.date,
                            checkpoint: m.checkpoint.clone(),
                        }),
                    },
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
                            Detail::Overstay {
                                entered: e.date,
                                checkpoint: e.checkpoint.clone(),
                                stay_days: v.stay_days,
                                days,
                                over,
                            },
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
            out(ReasonCode::MrzInvalid, Detail::Mrz(e));
            None
        }
    };

    if let (Some(v), Some(p)) = (visa, &passport) {
        let h = &v.holder;
        let mut doc = Vec::new();
        if h.document_number != p.document_number {
            mismatched.push("dn");
            doc.push(FieldDiff {
                field: "dn",
                visa: h.document_number.clone(),
                passport: p.document_number.clone(),
            });
        }
        if h.document_country != p.issuing_state {
            mismatched.push("dc");
            doc.push(FieldDiff {
                field: "dc",
                visa: h.document_country.clone(),
                passport: p.issuing_state.clone(),
            });
        }
        if !doc.is_empty() {
            out(
                ReasonCode::DocumentMismatch,
                Detail::Document { diffs: doc },
            );
        }
        let (diffs, note) = holder_differences(v, p, &mut mismatched);
        if !diffs.is_empty() {
            out(ReasonCode::HolderMismatch, Detail::Holder { diffs, note });
        }
        if h.document_expiry != p.expiry {
            mismatched.push("de");
            out(
                ReasonCode::PassportExpiryMismatch,
                Detail::ExpiryMismatch {
                    visa: h.document_expiry,
                    passport: p.expiry,
                },
            );
        }
        match dates::add_months(v.valid_until, 3) {
            Some(needed) if p.expiry < needed => out(
                ReasonCode::PassportValidityTooShort,
                Detail::ValidityTooShort {
                    expires: p.expiry,
                    needed,
                    visa_ends: v.valid_until,
                },
            ),
            Some(_) => {}
            // `parse_claims` refuses such a date; claims built another way still get a
            // verdict, never a panic.
            None => out(
                ReasonCode::MalformedPayload,
                Detail::ValidUntilTooLate {
                    valid_until: v.valid_until,
                },
            ),
        }
    }
    if let Some(p) = &passport
        && p.expiry < at.date
    {
        out(
            ReasonCode::PassportExpired,
            Detail::PassportExpired { on: p.expiry },
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

fn holder_differences(
    v: &Visa,
    p: &Passport,
    mismatched: &mut Vec<Field>,
) -> (Vec<FieldDiff>, Option<NameNote>) {
    let h = &v.holder;
    let mut diffs: Vec<FieldDiff> = Vec::new();
    let mut differ = |diffs: &mut Vec<FieldDiff>, field: Field, visa: &str, pass: &str| {
        mismatched.push(field);
        diffs.push(FieldDiff {
            field,
            visa: visa.to_string(),
            passport: pass.to_string(),
        });
    };
    let mut note = None;
    // Names compare by the Doc 9303 truncation rule (spec §4: "names truncated in the
    // MRZ compare as a prefix"), on the name field as printed, never on a bare prefix.
    let names = mrz::match_name(&h.surname, &h.given_names, p.name_field());
    if !names.ok() {
        // A failure that neither identifier shows alone (the field's length) flags both.
        let both = names.surname == names.given_names;
        if !names.surname || both {
            differ(&mut diffs, "sn", &h.surname, &p.surname);
        }
        if !names.given_names || both {
            differ(&mut diffs, "gn", &h.given_names, &p.given_names);
        }
        note = match (p.names_truncated, names.truncated) {
            (true, false) => Some(NameNote::FitsInFull),
            (true, true) => Some(NameNote::NotATruncation),
            (false, true) => Some(NameNote::FieldNotFull),
            (false, false) => None,
        };
    }
    if h.nationality != p.nationality {
        differ(&mut diffs, "na", &h.nationality, &p.nationality);
    }
    // The MRZ holds two-digit years, so the century is compared no further than it can tell.
    let same_birth = h.birth.year.rem_euclid(100) == p.birth.year.rem_euclid(100)
        && h.birth.month == p.birth.month
        && h.birth.day == p.birth.day;
    if !same_birth {
        differ(&mut diffs, "db", &h.birth.to_iso(), &p.birth.to_iso());
    }
    if h.sex != p.sex {
        differ(&mut diffs, "sx", h.sex.code(), p.sex.code());
    }
    (diffs, note)
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
