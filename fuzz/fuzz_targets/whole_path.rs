//! The whole pure path under a structured, hostile payload: the fuzzer's bytes choose
//! which fields of a valid e-visa to replace (any date text, any integer up to
//! `u64::MAX`, any text, a value of the wrong type), how it is signed (by a fixed trusted
//! test key, so the verified branch runs; by an unknown key; not at all), the passport
//! MRZ (the payload holder's own, so every holder rule runs, or any text), the history
//! and the checkpoint date; then `read_visa` and `decide`. Nothing may panic, a trusted
//! ACCEPT needs a verified signature, and a `vu` beyond the calendar is never accepted.
#![no_main]

use std::sync::OnceLock;

use ciborium::value::{Integer, Value};
use ed25519_dalek::{Signer, SigningKey};
use evisa_core::dates::{self, PartialDate};
use evisa_core::mrz::Td3Fields;
use evisa_core::payload::{self, Category, Claims, Envelope, Holder, Sex, Visa};
use evisa_core::rules::{self, Checkpoint, Direction, History, Movement, ReasonCode, Verdict};
use evisa_core::trust::{self, TrustStore};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use time::Date;
use time::macros::date;

fn key() -> &'static SigningKey {
    static K: OnceLock<SigningKey> = OnceLock::new();
    K.get_or_init(|| SigningKey::from_bytes(&[7; 32]))
}

fn store() -> &'static TrustStore {
    static S: OnceLock<TrustStore> = OnceLock::new();
    S.get_or_init(|| {
        let text = trust::render_key_file(
            "fuzz",
            &key().verifying_key(),
            date!(0001 - 01 - 01),
            date!(9999 - 12 - 31),
        );
        TrustStore::new(vec![trust::parse_key_file("fuzz.toml", &text).unwrap()]).unwrap()
    })
}

fn specimen() -> Claims {
    Claims {
        issuer: "KZ".into(),
        issued_at: 1_792_486_800,
        expires_at: 1_801_335_599,
        visa: Visa {
            number: "EV26KZ0012345".into(),
            invitation: "INV-0012345".into(),
            category: Category::Tourist,
            entries: 1,
            valid_from: date!(2026 - 11 - 01),
            valid_until: date!(2027 - 01 - 29),
            stay_days: 30,
            checkpoints: vec!["NQZ".into(), "ALA".into()],
            holder: Holder {
                surname: "ERIKSSON".into(),
                given_names: "ANNA MARIA".into(),
                nationality: "UTO".into(),
                birth: PartialDate::parse_iso("1974-08-12").unwrap(),
                sex: Sex::Female,
                document_number: "L898902C3".into(),
                document_country: "UTO".into(),
                document_expiry: date!(2031 - 04 - 15),
            },
        },
    }
}

fn set(v: &mut Value, key: &Value, new: &Value) {
    if let Value::Map(entries) = v {
        for (k, val) in entries.iter_mut() {
            if k == key {
                *val = new.clone();
            } else {
                set(val, key, new);
            }
        }
    }
}

/// A date string: well-formed over the whole four-digit range (edges included) or any text.
fn date_text(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=3)? {
        0 => u.arbitrary::<String>()?,
        1 => format!(
            "{:04}-{:02}-{:02}",
            u.int_in_range(0..=9999u16)?,
            u.int_in_range(0..=13u8)?,
            u.int_in_range(0..=32u8)?
        ),
        2 => format!(
            "{}-XX-XX",
            *u.choose(&["0000", "0001", "1974", "9999"])?
        ),
        _ => u
            .choose(&["9999-12-31", "9999-10-01", "9999-09-30", "0000-01-01", "0001-01-01"])?
            .to_string(),
    })
}

fn integer(u: &mut Unstructured) -> Result<u64> {
    Ok(match u.int_in_range(0..=3)? {
        0 => u.int_in_range(0..=400)?,
        1 => *u.choose(&[u64::MAX, i64::MAX as u64, 253_402_300_799, 253_394_352_000])?,
        _ => u.arbitrary()?,
    })
}

/// A replacement for one field, usually of its own type, sometimes of another.
fn value_for(u: &mut Unstructured, field: &str) -> Result<Value> {
    if u.ratio(1, 16)? {
        return Ok(match u.int_in_range(0..=3)? {
            0 => Value::Null,
            1 => Value::Integer(Integer::from(u.arbitrary::<i64>()?)),
            2 => Value::Bytes(u.arbitrary()?),
            _ => Value::Array(vec![Value::Text(u.arbitrary()?)]),
        });
    }
    Ok(match field {
        "vf" | "vu" | "de" | "db" => Value::Text(date_text(u)?),
        "ne" | "ds" => Value::Integer(Integer::from(integer(u)?)),
        "pp" => {
            let n = u.int_in_range(0..=3)?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(Value::Text(if u.arbitrary()? {
                    "NQZ".into()
                } else {
                    u.arbitrary()?
                }));
            }
            Value::Array(items)
        }
        "sn" | "gn" if u.arbitrary()? => {
            // MRZ-like names, so that long ones exercise the truncation rule.
            let n = u.int_in_range(0..=60)?;
            let mut s = String::new();
            for _ in 0..n {
                s.push(*u.choose(&['A', 'E', 'R', 'I', 'K', 'S', 'O', 'N', ' ', 'Z'])?);
            }
            Value::Text(s)
        }
        _ => Value::Text(u.arbitrary()?),
    })
}

fn passport_of(h: &Holder) -> String {
    let two = |v: Option<u8>| v.map_or("<<".to_string(), |v| format!("{v:02}"));
    let birth = format!(
        "{:02}{}{}",
        h.birth.year.rem_euclid(100),
        two(h.birth.month),
        two(h.birth.day)
    );
    let e = h.document_expiry;
    let expiry = format!(
        "{:02}{:02}{:02}",
        e.year().rem_euclid(100),
        u8::from(e.month()),
        e.day()
    );
    Td3Fields {
        issuing_state: &h.document_country,
        surname: &h.surname,
        given_names: &h.given_names,
        document_number: &h.document_number,
        nationality: &h.nationality,
        birth: &birth,
        sex: match h.sex {
            Sex::Male => 'M',
            Sex::Female => 'F',
            Sex::Unspecified => '<',
        },
        expiry: &expiry,
        personal_number: "",
        empty_personal_check: '<',
    }
    .render()
}

fn any_date(u: &mut Unstructured) -> Result<Date> {
    Ok(if u.ratio(1, 4)? {
        Date::from_julian_day(
            u.int_in_range(Date::MIN.to_julian_day()..=Date::MAX.to_julian_day())?,
        )
        .unwrap_or(Date::MIN)
    } else {
        date!(2026 - 11 - 01) + time::Duration::days(u.int_in_range(-400..=400)?)
    })
}

fn run(u: &mut Unstructured) -> Result<()> {
    if u.ratio(1, 8)? {
        // The old coverage too: the bytes as QR text and as MRZ text.
        let qr: String = u.arbitrary()?;
        let mrz_text: String = u.arbitrary()?;
        let at = Checkpoint {
            date: any_date(u)?,
            code: "NQZ".into(),
            direction: Direction::Entry,
        };
        let d = rules::decide(
            &rules::read_visa(&qr, store()),
            &mrz_text,
            &History::default(),
            &at,
        );
        assert_eq!(d.verdict, Verdict::Reject);
        return Ok(());
    }
    let mut claims = payload::claims_value(&specimen());
    let mut far_vu = false;
    for field in [
        "vn", "in", "ty", "ne", "vf", "vu", "ds", "pp", "sn", "gn", "na", "db", "sx", "dn",
        "dc", "de",
    ] {
        if u.ratio(1, 10)? {
            let new = value_for(u, field)?;
            if field == "vu"
                && let Value::Text(t) = &new
            {
                far_vu = dates::parse_iso(t).is_some_and(|d| d > dates::LATEST);
            }
            set(&mut claims, &Value::Text(field.into()), &new);
        }
    }
    for claim in [6i64, 4] {
        if u.ratio(1, 10)? {
            let new = Value::Integer(Integer::from(integer(u)?));
            set(&mut claims, &Value::Integer(Integer::from(claim)), &new);
        }
    }
    let bytes = payload::encode_value(&claims);
    let env = Envelope {
        tagged: u.arbitrary()?,
        compress: u.arbitrary()?,
        kid_unprotected: u.arbitrary()?,
        ..Envelope::default()
    };
    let kid = trust::kid_of(&key().verifying_key());
    let (protected, tbs) = payload::prepare(&bytes, &kid, &env);
    let signature = match u.int_in_range(0..=7)? {
        0 => u.bytes(64)?.to_vec(),
        1 => SigningKey::from_bytes(&[8; 32]).sign(&tbs).to_bytes().to_vec(),
        _ => key().sign(&tbs).to_bytes().to_vec(),
    };
    let holder = payload::parse_claims(&bytes).ok().map(|c| c.visa.holder);
    let qr = payload::seal(protected, bytes, &kid, &signature, &env);
    let mrz_text = match holder {
        Some(h) if u.ratio(7, 8)? => passport_of(&h),
        _ => u.arbitrary()?,
    };
    let mut movements = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        movements.push(Movement {
            direction: if u.arbitrary()? {
                Direction::Entry
            } else {
                Direction::Exit
            },
            date: any_date(u)?,
            checkpoint: "ALA".into(),
        });
    }
    let history = History {
        movements,
        revoked: if u.ratio(1, 10)? {
            Some(u.arbitrary()?)
        } else {
            None
        },
    };
    let at = Checkpoint {
        date: any_date(u)?,
        code: if u.ratio(3, 4)? {
            "NQZ".into()
        } else {
            u.arbitrary()?
        },
        direction: if u.arbitrary()? {
            Direction::Entry
        } else {
            Direction::Exit
        },
    };
    let scanned = rules::read_visa(&qr, store());
    let d = rules::decide(&scanned, &mrz_text, &history, &at);
    assert_eq!(d.verdict == Verdict::Accept, d.reasons.is_empty());
    if d.verdict == Verdict::Accept {
        assert!(scanned.authentic);
    }
    if far_vu {
        assert!(d.has(ReasonCode::MalformedPayload), "{:?}", d.reasons);
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
