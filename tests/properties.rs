//! Property tests of the codec and the rules: random valid visas round-trip through
//! encode and decode; any single-bit flip in what is signed is caught; arbitrary input
//! never panics.

use ed25519_dalek::SigningKey;
use evisa_core::dates::PartialDate;
use evisa_core::payload::{self, Category, Claims, Envelope, Holder, Sex, Visa};
use evisa_core::rules::{self, Checkpoint, Direction, History, ReasonCode, Verdict};
use evisa_core::trust::{self, TrustStore};
use evisa_issuer as issue;
use proptest::prelude::*;
use time::{Date, macros::date};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

fn store() -> TrustStore {
    let text = trust::render_key_file(
        "prop",
        &key().verifying_key(),
        date!(2000 - 01 - 01),
        date!(2099 - 12 - 31),
    );
    TrustStore::new(vec![trust::parse_key_file("prop.toml", &text).unwrap()]).unwrap()
}

fn day() -> impl Strategy<Value = Date> {
    (0i64..20_000).prop_map(|d| date!(2000 - 01 - 01) + time::Duration::days(d))
}

fn name() -> impl Strategy<Value = String> {
    "[A-Z]{1,12}( [A-Z]{1,10}){0,2}"
}

fn partial_date() -> impl Strategy<Value = PartialDate> {
    (day(), 0u8..3).prop_map(|(d, unknown)| PartialDate {
        year: d.year(),
        month: (unknown < 2).then_some(d.month() as u8),
        day: (unknown == 0).then_some(d.day()),
    })
}

prop_compose! {
    fn claims()(
        number in "[A-Z0-9]{5,16}",
        invitation in "[A-Z0-9-]{0,20}",
        category in prop_oneof![Just(Category::Tourist), Just(Category::Business), Just(Category::Medical)],
        entries in 0u64..10,
        from in day(),
        len in 0i64..400,
        stay in 0u64..400,
        checkpoints in proptest::collection::vec("[A-Z]{3}", 0..4),
        surname in name(),
        given in prop_oneof![Just(String::new()), name()],
        nationality in "[A-Z]{1,3}",
        birth in partial_date(),
        sex in prop_oneof![Just(Sex::Male), Just(Sex::Female), Just(Sex::Unspecified)],
        document_number in "[A-Z0-9]{1,15}",
        document_country in "[A-Z]{1,3}",
        expiry in day(),
        iat in 946_684_800u64..4_000_000_000,
    ) -> Claims {
        Claims {
            issuer: "KZ".into(),
            issued_at: iat,
            expires_at: iat + 1,
            visa: Visa {
                number, invitation, category, entries,
                valid_from: from,
                valid_until: from + time::Duration::days(len),
                stay_days: stay,
                checkpoints,
                holder: Holder {
                    surname, given_names: given, nationality, birth, sex,
                    document_number, document_country, document_expiry: expiry,
                },
            },
        }
    }
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(tagged, compress, kid_unprotected)| {
        Envelope {
            tagged,
            compress,
            kid_unprotected,
            ..Envelope::default()
        }
    })
}

fn at() -> Checkpoint {
    Checkpoint {
        date: date!(2026 - 11 - 25),
        code: "NQZ".into(),
        direction: Direction::Entry,
    }
}

const SPECIMEN_MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

/// Re-encodes COSE bytes with one bit flipped at `bit` into QR text.
fn flipped(cose: &[u8], bit: usize) -> String {
    let mut b = cose.to_vec();
    b[bit / 8] ^= 1 << (bit % 8);
    payload::wrap_transport(&b, true)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_round_trip(c in claims(), env in envelope()) {
        let text = issue::sign(&c, &key(), &env);
        let cose = payload::parse_cose(&payload::unwrap_transport(&text).unwrap()).unwrap();
        let kid = trust::kid_of(&key().verifying_key());
        prop_assert_eq!(cose.kid.as_deref(), Some(kid.as_slice()));
        prop_assert_eq!(payload::parse_claims(&cose.payload).unwrap(), c.clone());
        let scanned = rules::read_visa(&text, &store());
        prop_assert!(scanned.authentic, "{:?}", scanned.reasons);
        prop_assert_eq!(scanned.claims, Some(c));
    }

    #[test]
    fn any_bit_flip_in_the_payload_is_caught(c in claims(), seed in any::<usize>()) {
        let text = issue::sign(&c, &key(), &Envelope::default());
        let raw = payload::unwrap_transport(&text).unwrap();
        let cose = payload::parse_cose(&raw).unwrap();
        // Locate the payload inside the COSE bytes: it is stored verbatim.
        let start = raw.windows(cose.payload.len()).position(|w| w == cose.payload.as_slice()).unwrap();
        let bit = start * 8 + seed % (cose.payload.len() * 8);
        let s = rules::read_visa(&flipped(&raw, bit), &store());
        let d = rules::decide(&s, SPECIMEN_MRZ, &History::default(), &at());
        prop_assert_eq!(d.verdict, Verdict::Reject);
        prop_assert!(d.has(ReasonCode::SignatureInvalid) || d.has(ReasonCode::MalformedQr), "{:?}", d.reasons);
    }

    #[test]
    fn any_bit_flip_in_the_protected_header_or_signature_is_caught(c in claims(), seed in any::<usize>()) {
        let text = issue::sign(&c, &key(), &Envelope::default());
        let raw = payload::unwrap_transport(&text).unwrap();
        let cose = payload::parse_cose(&raw).unwrap();
        let prot = raw.windows(cose.protected_raw.len()).position(|w| w == cose.protected_raw.as_slice()).unwrap();
        let sig = raw.len() - 64;
        let bit = if seed % 2 == 0 {
            prot * 8 + (seed / 2) % (cose.protected_raw.len() * 8)
        } else {
            sig * 8 + (seed / 2) % (64 * 8)
        };
        let s = rules::read_visa(&flipped(&raw, bit), &store());
        prop_assert!(!s.authentic);
        // A flipped kid or alg cannot even be checked; everything else fails the signature.
        let crypto = [ReasonCode::MalformedQr, ReasonCode::UnsupportedAlgorithm, ReasonCode::UnknownKey, ReasonCode::SignatureInvalid];
        prop_assert!(s.reasons.iter().any(|r| crypto.contains(&r.code)), "{:?}", s.reasons);
    }

    #[test]
    fn any_bit_flip_anywhere_never_accepts(c in claims(), seed in any::<usize>()) {
        let text = issue::sign(&c, &key(), &Envelope::default());
        let raw = payload::unwrap_transport(&text).unwrap();
        let s = rules::read_visa(&flipped(&raw, seed % (raw.len() * 8)), &store());
        let d = rules::decide(&s, SPECIMEN_MRZ, &History::default(), &at());
        prop_assert_eq!(d.verdict, Verdict::Reject);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}", mrz in "\\PC{0,120}") {
        let scanned = rules::read_visa(&s, &store());
        let d = rules::decide(&scanned, &mrz, &History::default(), &at());
        prop_assert_eq!(d.verdict, Verdict::Reject);
    }

    #[test]
    fn arbitrary_kzv1_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), zip in any::<bool>()) {
        let text = payload::wrap_transport(&bytes, zip);
        let d = rules::decide(&rules::read_visa(&text, &store()), SPECIMEN_MRZ, &History::default(), &at());
        prop_assert_eq!(d.verdict, Verdict::Reject);
    }

    #[test]
    fn arbitrary_claims_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = payload::parse_claims(&bytes);
    }
}
