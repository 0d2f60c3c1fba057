//! What a failing rule found, as data: the numbers, dates, names and fields behind a
//! reason code. Its [`Display`](std::fmt::Display) is the stable English sentence that
//! JSON output and audit records carry (`Reason::detail`); a screen in another language
//! renders its own sentence from the same values.

use time::Date;

use crate::mrz::MrzError;
use crate::payload::{PayloadError, QrError};

/// A holder or document field (spec key: `sn`, `gn`, `na`, `db`, `sx`, `dn`, `dc`)
/// whose visa and passport values differ, as printed on each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDiff {
    pub field: &'static str,
    pub visa: String,
    pub passport: String,
}

/// Why compared names that look like a truncation still differ (Doc 9303 rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameNote {
    /// The passport's name field is full, but the visa's name fits it entirely.
    FitsInFull,
    /// The passport's name field is full, yet it is no truncation of the visa's name.
    NotATruncation,
    /// The visa's name is too long for the field, yet the field is not full.
    FieldNotFull,
}

/// The last entry recorded with a visa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEntry {
    pub date: Date,
    pub checkpoint: String,
}

/// The facts behind one reason, one variant per kind of sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// `MALFORMED_QR`: the transport or COSE layer could not be read.
    Qr(QrError),
    /// `UNSUPPORTED_ALGORITHM`; `None` when the code names no algorithm.
    Algorithm { alg: Option<i64> },
    /// `UNKNOWN_KEY`: the code names no signing key.
    NoKid,
    /// `UNKNOWN_KEY`: the key (hex key ID) is not in the trust store.
    UnknownKey { kid: String },
    /// `KEY_REVOKED`: the key is revoked.
    KeyRevoked { label: String },
    /// `KEY_REVOKED`: the visa was issued outside the key's validity.
    KeyOutOfPeriod {
        label: String,
        /// Issue time in Unix seconds (shown as a date when it is one).
        issued_at: u64,
        not_before: Date,
        not_after: Date,
    },
    /// `SIGNATURE_INVALID`.
    Signature { label: String },
    /// `MALFORMED_PAYLOAD`: the claims are invalid.
    Payload(PayloadError),
    /// `MALFORMED_PAYLOAD`: the visa ends too late to add 3 months.
    ValidUntilTooLate { valid_until: Date },
    /// `VISA_REVOKED`; `why` is the revocation list's own text.
    VisaRevoked { number: String, why: String },
    /// `VISA_NOT_YET_VALID`.
    NotYetValid { valid_from: Date, today: Date },
    /// `VISA_EXPIRED`.
    Expired { valid_until: Date, today: Date },
    /// `CHECKPOINT_NOT_ALLOWED`.
    Checkpoint { allowed: Vec<String>, here: String },
    /// `ENTRIES_EXHAUSTED` from the terminal's own history.
    Entries {
        allowed: u64,
        used: usize,
        last: Option<LastEntry>,
    },
    /// `ENTRIES_EXHAUSTED` when another booth of the fleet recorded the entry.
    EntryAtBooth {
        booth: String,
        checkpoint: String,
        date: Date,
    },
    /// `OVERSTAY`: `days` since entry, `over` the permitted `stay_days`.
    Overstay {
        entered: Date,
        checkpoint: String,
        stay_days: u64,
        days: i128,
        over: i128,
    },
    /// `MRZ_INVALID`.
    Mrz(MrzError),
    /// `DOCUMENT_MISMATCH`: passport number and/or issuing state.
    Document { diffs: Vec<FieldDiff> },
    /// `HOLDER_MISMATCH`: names, nationality, birth date, sex; `note` explains a name
    /// difference that looks like a truncation (it follows the last name difference).
    Holder {
        diffs: Vec<FieldDiff>,
        note: Option<NameNote>,
    },
    /// `PASSPORT_EXPIRY_MISMATCH`.
    ExpiryMismatch { visa: Date, passport: Date },
    /// `PASSPORT_VALIDITY_TOO_SHORT`.
    ValidityTooShort {
        expires: Date,
        needed: Date,
        visa_ends: Date,
    },
    /// `PASSPORT_EXPIRED`.
    PassportExpired { on: Date },
}

/// The day of a Unix time, when it is one the calendar holds.
pub fn unix_day(secs: u64) -> Option<Date> {
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|t| t.date())
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}

fn field_words(key: &str) -> &'static str {
    match key {
        "sn" => "surname",
        "gn" => "given names",
        "na" => "nationality",
        "db" => "date of birth",
        "sx" => "sex",
        "dn" => "passport number",
        "dc" => "issuing state",
        _ => "field",
    }
}

impl NameNote {
    fn english(self) -> &'static str {
        match self {
            NameNote::FitsInFull => {
                " (the visa's name fits the passport's name field in full, so a shortened name there is not a truncation)"
            }
            NameNote::NotATruncation => {
                " (the passport's name field is full, but it is not a Doc 9303 truncation of the visa's name)"
            }
            NameNote::FieldNotFull => {
                " (the visa's name is too long for the passport's name field, yet the field is not full)"
            }
        }
    }
}

impl Detail {
    /// The index of the last name difference (`sn` or `gn`) in a holder mismatch: the
    /// [`NameNote`] follows it.
    pub fn last_name_diff(diffs: &[FieldDiff]) -> Option<usize> {
        diffs
            .iter()
            .rposition(|d| d.field == "sn" || d.field == "gn")
    }
}

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Detail::Qr(e) => write!(f, "{e}"),
            Detail::Algorithm { alg: Some(a) } => write!(
                f,
                "the code is signed with COSE algorithm {a}; only EdDSA (-8) is accepted"
            ),
            Detail::Algorithm { alg: None } => f.write_str(
                "the code does not state its signature algorithm; only EdDSA (-8) is accepted",
            ),
            Detail::NoKid => f.write_str("the code does not name its signing key (no kid)"),
            Detail::UnknownKey { kid } => write!(
                f,
                "signing key {kid} is not in this terminal's trust store; the code may be forged, or the trust store needs an update"
            ),
            Detail::KeyRevoked { label } => write!(f, "signing key \"{label}\" has been revoked"),
            Detail::KeyOutOfPeriod {
                label,
                issued_at,
                not_before,
                not_after,
            } => {
                let issued = unix_day(*issued_at)
                    .map_or_else(|| format!("Unix time {issued_at}"), |d| d.to_string());
                write!(
                    f,
                    "the visa was issued at {issued} but signing key \"{label}\" is valid only from {not_before} to {not_after}"
                )
            }
            Detail::Signature { label } => write!(
                f,
                "the signature does not match key \"{label}\": the code was altered or forged"
            ),
            Detail::Payload(e) => write!(f, "the visa data is invalid: {e}"),
            Detail::ValidUntilTooLate { valid_until } => write!(
                f,
                "the visa is valid until {valid_until}, too late for the calendar: the passport cannot be checked for 3 months' validity after it"
            ),
            Detail::VisaRevoked { number, why } => {
                write!(f, "visa {number} was cancelled after issue ({why})")
            }
            Detail::NotYetValid { valid_from, today } => {
                write!(f, "the visa is valid from {valid_from}; today is {today}")
            }
            Detail::Expired { valid_until, today } => {
                write!(
                    f,
                    "the visa was valid until {valid_until}; today is {today}"
                )
            }
            Detail::Checkpoint { allowed, here } => write!(
                f,
                "the visa is valid at {} only; this checkpoint is {here}",
                allowed.join(", ")
            ),
            Detail::Entries {
                allowed,
                used,
                last,
            } => {
                write!(
                    f,
                    "the visa allows {allowed} entr{}; {used} already recorded",
                    if *allowed == 1 { "y" } else { "ies" }
                )?;
                if let Some(l) = last {
                    write!(f, " (last on {} at {})", l.date, l.checkpoint)?;
                }
                Ok(())
            }
            Detail::EntryAtBooth {
                booth,
                checkpoint,
                date,
            } => write!(f, "entry made at booth {booth} ({checkpoint}) on {date}"),
            Detail::Overstay {
                entered,
                checkpoint,
                stay_days,
                days,
                over,
            } => write!(
                f,
                "entered on {entered} at {checkpoint}; the permitted stay is {stay_days} days, today is day {days} ({over} over)"
            ),
            Detail::Mrz(e) => write!(f, "passport MRZ: {e}"),
            Detail::Document { diffs } => {
                let parts: Vec<String> = diffs
                    .iter()
                    .map(|d| {
                        format!(
                            "{} on the visa is {}, passport shows {}",
                            field_words(d.field),
                            d.visa,
                            d.passport
                        )
                    })
                    .collect();
                write!(
                    f,
                    "{}: the passport was replaced; a new e-visa is required",
                    parts.join("; ")
                )
            }
            Detail::Holder { diffs, note } => {
                let last_name = Detail::last_name_diff(diffs);
                for (i, d) in diffs.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(
                        f,
                        "{} on the visa: {}; the passport shows: {}",
                        field_words(d.field),
                        or_none(&d.visa),
                        or_none(&d.passport)
                    )?;
                    if let (Some(n), true) = (note, Some(i) == last_name) {
                        f.write_str(n.english())?;
                    }
                }
                Ok(())
            }
            Detail::ExpiryMismatch { visa, passport } => write!(
                f,
                "passport expiry on the visa is {visa}, passport shows {passport}"
            ),
            Detail::ValidityTooShort {
                expires,
                needed,
                visa_ends,
            } => write!(
                f,
                "the passport expires on {expires}; it must be valid until at least {needed} (3 months after the visa ends on {visa_ends})"
            ),
            Detail::PassportExpired { on } => write!(f, "the passport expired on {on}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    /// The English sentences are a stable interface (JSON, audit records): pinned here
    /// for the variants the fixture cases do not reach without a history.
    #[test]
    fn english_sentences_are_unchanged() {
        let day = date!(2026 - 11 - 05);
        let entries = Detail::Entries {
            allowed: 1,
            used: 1,
            last: Some(LastEntry {
                date: day,
                checkpoint: "ALA".into(),
            }),
        };
        assert_eq!(
            entries.to_string(),
            "the visa allows 1 entry; 1 already recorded (last on 2026-11-05 at ALA)"
        );
        let overstay = Detail::Overstay {
            entered: day,
            checkpoint: "ALA".into(),
            stay_days: 30,
            days: 32,
            over: 2,
        };
        assert_eq!(
            overstay.to_string(),
            "entered on 2026-11-05 at ALA; the permitted stay is 30 days, today is day 32 (2 over)"
        );
        let diff = |field: &'static str, visa: &str, passport: &str| FieldDiff {
            field,
            visa: visa.into(),
            passport: passport.into(),
        };
        let holder = Detail::Holder {
            diffs: vec![diff("gn", "ANNA MARIA", ""), diff("na", "UTO", "D")],
            note: Some(NameNote::FieldNotFull),
        };
        assert_eq!(
            holder.to_string(),
            "given names on the visa: ANNA MARIA; the passport shows: (none) (the visa's name is too long for the passport's name field, yet the field is not full); nationality on the visa: UTO; the passport shows: D"
        );
        assert_eq!(
            Detail::KeyOutOfPeriod {
                label: "k".into(),
                issued_at: u64::MAX,
                not_before: day,
                not_after: day,
            }
            .to_string(),
            format!(
                "the visa was issued at Unix time {} but signing key \"k\" is valid only from 2026-11-05 to 2026-11-05",
                u64::MAX
            )
        );
    }
}
