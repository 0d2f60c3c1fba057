//! Issue 8, the pure core under hostile input: structurally valid payloads (a CBOR CWT
//! with the `evisa` map) holding any date strings, any integers up to `u64::MAX` and any
//! text, signed by a trusted key, by an unknown one or not at all, through
//! `read_visa` + `decide` with any MRZ, history and checkpoint date. Nothing may panic;
//! an impossible date or number is `MALFORMED_PAYLOAD`, never an ACCEPT. Plus one
//! regression test per defect class of the core, named for the bug it guards.

use ciborium::value::{Integer, Value};
use ed25519_dalek::{Signer, SigningKey};
use evisa_core::dates::{self, PartialDate};
use evisa_core::mrz::{self, Td3Fields};
use evisa_core::payload::{self, Category, Claims, Envelope, Holder, Sex, Visa};
use evisa_core::rules::{
    self, Checkpoint, Direction, History, Movement, ReasonCode, ScannedVisa, Verdict,
};
use evisa_core::trust::{self, TrustStore};
use proptest::prelude::*;
use time::{Date, macros::date};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn stranger() -> SigningKey {
    SigningKey::from_bytes(&[8; 32])
}

/// A trust store whose key window spans every date the `time` crate knows, so that any
/// `iat` reaches the checks after the key lookup.
fn store() -> TrustStore {
    let text = trust::render_key_file(
        "hostile",
        &key().verifying_key(),
        date!(0001 - 01 - 01),
        date!(9999 - 12 - 31),
    );
    TrustStore::new(vec![trust::parse_key_file("hostile.toml", &text).unwrap()]).unwrap()
}

#[derive(Debug, Clone, Copy)]
enum Signing {
    Trusted,
    Unknown,
    Garbage,
}

/// Wraps payload bytes into QR text, signed as `how` says.
fn seal(payload_bytes: Vec<u8>, how: Signing, env: &Envelope) -> String {
    let k = match how {
        Signing::Unknown => stranger(),
        _ => key(),
    };
    let kid = trust::kid_of(&k.verifying_key());
    let (protected, tbs) = payload::prepare(&payload_bytes, &kid, env);
    let sig = match how {
        Signing::Garbage => vec![0x5A; 64],
        _ => k.sign(&tbs).to_bytes().to_vec(),
    };
    payload::seal(protected, payload_bytes, &kid, &sig, env)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn uint(u: u64) -> Value {
    Value::Integer(Integer::from(u))
}

/// The ERIKSSON specimen visa: every field valid, so a test changes only what it means to.
fn specimen() -> Claims {
    let valid_until = date!(2027 - 01 - 29);
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
            valid_until,
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

fn yymmdd(d: Date) -> String {
    format!(
        "{:02}{:02}{:02}",
        d.year().rem_euclid(100),
        u8::from(d.month()),
        d.day()
    )
}

/// The passport MRZ of a holder, names written by the Doc 9303 renderer.
fn passport_of(h: &Holder) -> String {
    let two = |v: Option<u8>| v.map_or("<<".to_string(), |v| format!("{v:02}"));
    let birth = format!(
        "{:02}{}{}",
        h.birth.year.rem_euclid(100),
        two(h.birth.month),
        two(h.birth.day)
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
        expiry: &yymmdd(h.document_expiry),
        personal_number: "",
        empty_personal_check: '<',
    }
    .render()
}

fn at(d: Date) -> Checkpoint {
    Checkpoint {
        date: d,
        code: "NQZ".into(),
        direction: Direction::Entry,
    }
}

/// Replaces the value under text key `key` anywhere in a claims map (the `evisa` map
/// and the holder map inside it), or under integer key `key` at the top.
fn set(v: &mut Value, key: &str, new: Value) {
    if let Value::Map(entries) = v {
        for (k, val) in entries.iter_mut() {
            let hit = match k {
                Value::Text(t) => t == key,
                Value::Integer(i) => key.parse::<i128>().is_ok_and(|n| i128::from(*i) == n),
                _ => false,
            };
            if hit {
                *val = new.clone();
            } else {
                set(val, key, new.clone());
            }
        }
    }
}

fn with(field: &str, new: Value) -> String {
    let mut v = payload::claims_value(&specimen());
    set(&mut v, field, new);
    seal(
        payload::encode_value(&v),
        Signing::Trusted,
        &Envelope::default(),
    )
}

fn verdict(qr: &str, mrz_text: &str, checkpoint: &Checkpoint) -> rules::Decision {
    let scanned = rules::read_visa(qr, &store());
    rules::decide(&scanned, mrz_text, &History::default(), checkpoint)
}

const TODAY: Date = date!(2026 - 11 - 25);

#[test]
fn the_specimen_is_accepted() {
    // Guards the tests below: each fails only for the one value it changes.
    let qr = with("vn", text("EV26KZ0012345"));
    let d = verdict(&qr, &passport_of(&specimen().visa.holder), &at(TODAY));
    assert_eq!(d.verdict, Verdict::Accept, "{:?}", d.reasons);
}

#[test]
fn valid_until_in_year_9999_is_malformed_payload_not_a_panic() {
    for how in [Signing::Trusted, Signing::Unknown, Signing::Garbage] {
        let mut v = payload::claims_value(&specimen());
        set(&mut v, "vu", text("9999-12-31"));
        let qr = seal(payload::encode_value(&v), how, &Envelope::default());
        let d = verdict(&qr, &passport_of(&specimen().visa.holder), &at(TODAY));
        assert_eq!(d.verdict, Verdict::Reject);
        let r = d
            .reasons
            .iter()
            .find(|r| r.code == ReasonCode::MalformedPayload)
            .unwrap_or_else(|| panic!("{how:?}: {:?}", d.reasons));
        assert!(
            r.detail.contains("vu") && r.detail.contains("9999-12-31"),
            "{}",
            r.detail
        );
    }
}

#[test]
fn dates_at_the_edges_of_the_calendar_are_malformed_payload_not_a_panic() {
    let mrz_text = passport_of(&specimen().visa.holder);
    for field in ["vf", "vu", "de"] {
        for bad in ["9999-10-01", "9999-12-31", "0000-01-01", "0000-12-31"] {
            let d = verdict(&with(field, text(bad)), &mrz_text, &at(TODAY));
            assert!(
                d.verdict == Verdict::Reject && d.has(ReasonCode::MalformedPayload),
                "{field}={bad}: {:?}",
                d.reasons
            );
        }
    }
    let d = verdict(&with("db", text("0000-XX-XX")), &mrz_text, &at(TODAY));
    assert!(d.has(ReasonCode::MalformedPayload), "{:?}", d.reasons);
    // The last accepted day still gets a verdict from the rules, not a refusal.
    let d = verdict(&with("vu", text("9999-09-30")), &mrz_text, &at(TODAY));
    assert!(!d.has(ReasonCode::MalformedPayload), "{:?}", d.reasons);
    assert!(
        d.has(ReasonCode::PassportValidityTooShort),
        "{:?}",
        d.reasons
    );
}

#[test]
fn iat_and_exp_u64_max_are_malformed_payload_not_a_panic() {
    let mrz_text = passport_of(&specimen().visa.holder);
    for field in ["6", "4"] {
        for big in [u64::MAX, i64::MAX as u64, 253_402_300_799] {
            let d = verdict(&with(field, uint(big)), &mrz_text, &at(TODAY));
            assert!(
                d.verdict == Verdict::Reject && d.has(ReasonCode::MalformedPayload),
                "{field}={big}: {:?}",
                d.reasons
            );
        }
    }
}

#[test]
fn stay_days_u64_max_does_not_wrap() {
    let mrz_text = passport_of(&specimen().visa.holder);
    // Through the codec: more days than the calendar spans is impossible.
    let d = verdict(&with("ds", uint(u64::MAX)), &mrz_text, &at(TODAY));
    assert!(d.has(ReasonCode::MalformedPayload), "{:?}", d.reasons);
    // Claims built by hand skip the codec: `ds as i64` wrapped to -1 and every exit
    // was an overstay. Compared without wrapping, u64::MAX days is never exceeded.
    let mut c = specimen();
    c.visa.stay_days = u64::MAX;
    let scanned = ScannedVisa {
        claims: Some(c),
        authentic: true,
        reasons: Vec::new(),
        signer: None,
        foreign: false,
    };
    let history = History {
        movements: vec![Movement {
            direction: Direction::Entry,
            date: date!(2026 - 11 - 02),
            checkpoint: "ALA".into(),
        }],
        revoked: None,
    };
    let exit = Checkpoint {
        direction: Direction::Exit,
        ..at(TODAY)
    };
    let d = rules::decide(&scanned, &mrz_text, &history, &exit);
    assert!(!d.has(ReasonCode::Overstay), "{:?}", d.reasons);
    assert_eq!(d.verdict, Verdict::Accept, "{:?}", d.reasons);
}

#[test]
fn entries_u64_max_is_compared_not_added() {
    let d = verdict(
        &with("ne", uint(u64::MAX)),
        &passport_of(&specimen().visa.holder),
        &at(TODAY),
    );
    assert_eq!(d.verdict, Verdict::Accept, "{:?}", d.reasons);
    let d = verdict(
        &with("ne", uint(0)),
        &passport_of(&specimen().visa.holder),
        &at(TODAY),
    );
    assert!(d.has(ReasonCode::EntriesExhausted), "{:?}", d.reasons);
}

#[test]
fn hand_built_claims_valid_until_9999_are_malformed_payload_not_a_panic() {
    // `decide` takes claims from anywhere; the 3-month rule must not panic on them.
    let mut c = specimen();
    c.visa.valid_until = date!(9999 - 12 - 31);
    let scanned = ScannedVisa {
        claims: Some(c),
        authentic: true,
        reasons: Vec::new(),
        signer: None,
        foreign: false,
    };
    let d = rules::decide(
        &scanned,
        &passport_of(&specimen().visa.holder),
        &History::default(),
        &at(TODAY),
    );
    assert!(d.has(ReasonCode::MalformedPayload), "{:?}", d.reasons);
    assert_eq!(d.verdict, Verdict::Reject);
}

#[test]
fn filled_name_field_is_not_a_prefix_wildcard() {
    // Issue 8: P<UTOERIK<<XZZZ… (field filled to the last position) was ACCEPTed for a
    // visa of ERIKSSON, ANNA MARIA, with no ≠ on the kiosk.
    let h = Holder {
        surname: "ERIK".into(),
        given_names: format!("X{}", "Z".repeat(40)),
        ..specimen().visa.holder
    };
    let mrz_text = passport_of(&h);
    assert!(mrz_text.starts_with("P<UTOERIK<<XZZZ"));
    assert!(!mrz_text.lines().next().unwrap().ends_with('<'));
    let d = verdict(&with("vn", text("EV26KZ0012345")), &mrz_text, &at(TODAY));
    assert_eq!(d.verdict, Verdict::Reject);
    assert!(d.has(ReasonCode::HolderMismatch), "{:?}", d.reasons);
    assert!(d.mismatched.contains(&"sn") && d.mismatched.contains(&"gn"));
}

#[test]
fn doc9303_truncated_passport_name_is_accepted() {
    let mut c = specimen();
    c.visa.holder.surname = "BENNELONG WOOLOOMOOLOO WARRANDYTE WARNAMBOOL".into();
    c.visa.holder.given_names = "DINGO POTOROO".into();
    let qr = seal(
        payload::encode_claims(&c),
        Signing::Trusted,
        &Envelope::default(),
    );
    // Doc 9303 Part 4 §4.2.3.3 b, the issuer cutting every primary component.
    let l2 = passport_of(&c.visa.holder)
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let mrz_text = format!("P<UTOBENNELONG<WOOLOOM<WARRAND<WARNAM<<DINGO\n{l2}");
    let d = verdict(&qr, &mrz_text, &at(TODAY));
    assert_eq!(d.verdict, Verdict::Accept, "{:?}", d.reasons);
    // The same field for a visa whose given names start otherwise is a mismatch.
    c.visa.holder.given_names = "DINA POTOROO".into();
    let qr = seal(
        payload::encode_claims(&c),
        Signing::Trusted,
        &Envelope::default(),
    );
    let d = verdict(&qr, &mrz_text, &at(TODAY));
    assert!(d.has(ReasonCode::HolderMismatch), "{:?}", d.reasons);
    assert_eq!(d.mismatched, vec!["gn"]);
}

#[test]
fn reason_details_hold_no_rust_debug_text() {
    // `{:?}` printed "\"ERIKSSON\"" and '\u{1b}': details are plain sentences.
    let h = Holder {
        surname: "ERIKSON".into(),
        ..specimen().visa.holder
    };
    let d = verdict(
        &with("vn", text("EV26KZ0012345")),
        &passport_of(&h),
        &at(TODAY),
    );
    let r = &d.reasons[0];
    assert_eq!(r.code, ReasonCode::HolderMismatch);
    assert!(
        !r.detail.contains('"') && !r.detail.contains('\\'),
        "{}",
        r.detail
    );
    let mrz_text = passport_of(&specimen().visa.holder).replacen('E', "\u{1b}", 1);
    let d = verdict(&with("vn", text("EV26KZ0012345")), &mrz_text, &at(TODAY));
    let r = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::MrzInvalid)
        .unwrap();
    assert!(
        r.detail.contains("U+001B") && !r.detail.contains('\\'),
        "{}",
        r.detail
    );
    let d = verdict(
        &with("sx", text("Q\"\u{7}")),
        &passport_of(&specimen().visa.holder),
        &at(TODAY),
    );
    let r = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::MalformedPayload)
        .unwrap();
    assert!(
        !r.detail.contains("\\u{7}") && !r.detail.contains("\\\""),
        "{}",
        r.detail
    );
}

// ---- The whole pure path over arbitrary structurally valid payloads ----

/// A date string and whether the terminal must refuse it as impossible.
fn date_text() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        // Plausible: any real day in the years travellers live in.
        (0i64..60_000).prop_map(|d| {
            let day = date!(1900 - 01 - 01) + time::Duration::days(d);
            (day.to_string(), false)
        }),
        // Any day the accepted range holds.
        (0i64..3_651_966).prop_map(|d| {
            let day = dates::EARLIEST + time::Duration::days(d);
            (day.to_string(), false)
        }),
        // The edges and beyond.
        prop::sample::select(vec![
            ("0001-01-01", false),
            ("9999-09-30", false),
            ("2024-02-29", false),
            ("0000-01-01", true),
            ("0000-12-31", true),
            ("9999-10-01", true),
            ("9999-12-31", true),
            ("2026-02-29", true),
            ("2026-13-01", true),
            ("2026-00-10", true),
            ("+999-01-01", true),
            ("2026-1-1", true),
        ])
        .prop_map(|(s, bad)| (s.to_string(), bad)),
        // Any text at all (never a date: it starts with a letter).
        "x\\PC{0,20}".prop_map(|s| (s, true)),
    ]
}

fn partial_date_text() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        date_text(),
        (
            0u16..=9999,
            prop::sample::select(vec!["XX-XX", "08-XX", "13-XX", "XX-12"])
        )
            .prop_map(|(y, rest)| {
                let bad = y == 0 || rest == "13-XX" || rest == "XX-12";
                (format!("{y:04}-{rest}"), bad)
            }),
    ]
}

/// Unix seconds and whether they fall outside the accepted days.
fn unix_time() -> impl Strategy<Value = (u64, bool)> {
    prop_oneof![
        (946_684_800u64..4_102_444_800).prop_map(|t| (t, false)),
        // 0001-01-01T00:00Z is before 1970: not a u64; the largest accepted second is the
        // end of 9999-09-30 UTC.
        Just((253_394_351_999, false)),
        Just((253_394_352_000, true)),
        (253_394_352_000u64..=u64::MAX).prop_map(|t| (t, true)),
        Just((u64::MAX, true)),
        Just((i64::MAX as u64, true)),
    ]
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..400,
        Just(u64::MAX),
        Just(i64::MAX as u64),
        any::<u64>()
    ]
}

fn name_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z]{1,20}( [A-Z]{1,20}){0,4}",
        Just(String::new()),
        "\\PC{0,50}",
    ]
}

#[derive(Debug, Clone)]
struct Hostile {
    qr: String,
    /// Some date or number in it is impossible.
    impossible: bool,
    holder: Option<Holder>,
}

/// Each field is changed with this probability, so that many payloads are valid except
/// for one or two values and reach every rule after the signature.
const CHANGE: f64 = 0.08;

fn maybe<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(CHANGE, s)
}

prop_compose! {
    fn hostile()(
        vf in maybe(date_text()), vu in maybe(date_text()), de in maybe(date_text()),
        db in maybe(partial_date_text()),
        iat in maybe(unix_time()), exp in maybe(unix_time()), ne in maybe(count()), ds in maybe(count()),
        vn in maybe("\\PC{0,30}"), inv in maybe("\\PC{0,30}"),
        ty in maybe(prop::sample::select(vec!["T", "B", "M", "", "Q"])),
        sx in maybe(prop::sample::select(vec!["M", "F", "X", "", "<"])),
        pp in maybe(prop::collection::vec(prop_oneof![Just("NQZ".to_string()), "\\PC{0,5}"], 0..4)),
        sn in maybe(name_text()), gn in maybe(name_text()),
        na in maybe("[A-Z]{1,3}"), dn in maybe("[A-Z0-9]{1,15}"), dc in maybe("[A-Z]{1,3}"),
        how in prop::sample::select(vec![Signing::Trusted, Signing::Trusted, Signing::Unknown, Signing::Garbage]),
        tagged in any::<bool>(), compress in any::<bool>(), kid_unprotected in any::<bool>(),
    ) -> Hostile {
        let impossible = [&vf, &vu, &de, &db].iter().any(|v| v.as_ref().is_some_and(|v| v.1))
            || [&iat, &exp].iter().any(|v| v.as_ref().is_some_and(|v| v.1))
            || ds.is_some_and(|ds| ds > payload::max_stay_days());
        let mut v = payload::claims_value(&specimen());
        let mut put = |k: &str, val: Option<Value>| {
            if let Some(val) = val {
                set(&mut v, k, val);
            }
        };
        put("vf", vf.map(|d| text(&d.0)));
        put("vu", vu.map(|d| text(&d.0)));
        put("de", de.map(|d| text(&d.0)));
        put("db", db.map(|d| text(&d.0)));
        put("6", iat.map(|t| uint(t.0)));
        put("4", exp.map(|t| uint(t.0)));
        put("ne", ne.map(uint));
        put("ds", ds.map(uint));
        put("vn", vn.map(|t| text(&t)));
        put("in", inv.map(|t| text(&t)));
        put("ty", ty.map(text));
        put("sx", sx.map(text));
        put("pp", pp.map(|pp| Value::Array(pp.iter().map(|p| text(p)).collect())));
        put("sn", sn.map(|t| text(&t)));
        put("gn", gn.map(|t| text(&t)));
        put("na", na.map(|t| text(&t)));
        put("dn", dn.map(|t| text(&t)));
        put("dc", dc.map(|t| text(&t)));
        let env = Envelope { tagged, compress, kid_unprotected, ..Envelope::default() };
        let bytes = payload::encode_value(&v);
        // The holder as the payload states it, when it parses, for a matching passport.
        let holder = payload::parse_claims(&bytes).ok().map(|c| c.visa.holder);
        Hostile { qr: seal(bytes, how, &env), impossible, holder }
    }
}

fn movement() -> impl Strategy<Value = Movement> {
    (any_date(), any::<bool>()).prop_map(|(date, entry)| Movement {
        direction: if entry {
            Direction::Entry
        } else {
            Direction::Exit
        },
        date,
        checkpoint: "ALA".into(),
    })
}

/// Any date the `time` crate can hold, year -9999 to 9999.
fn any_date() -> impl Strategy<Value = Date> {
    prop_oneof![
        1 => (Date::MIN.to_julian_day()..=Date::MAX.to_julian_day())
            .prop_map(|j| Date::from_julian_day(j).unwrap()),
        1 => prop::sample::select(vec![Date::MIN, Date::MAX, dates::EARLIEST, dates::LATEST]),
        // Mostly a working terminal's dates, so that the MRZ's two-digit years resolve.
        6 => (0i64..2_000).prop_map(|d| date!(2025 - 01 - 01) + time::Duration::days(d)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn whole_pure_path_never_panics_and_impossible_values_never_accept(
        h in hostile(),
        mrz_kind in 0u8..4,
        mrz_junk in "\\PC{0,100}",
        movements in prop::collection::vec(movement(), 0..3),
        revoked in prop::option::weighted(0.1, "\\PC{0,20}"),
        // Mostly within the specimen's validity, so that payloads get to ACCEPT.
        date in prop_oneof![3 => (0i64..90).prop_map(|d| date!(2026 - 11 - 01) + time::Duration::days(d)), 1 => any_date()],
        code in prop_oneof![3 => Just("NQZ".to_string()), 1 => "[A-Z]{3}"],
        exit in any::<bool>(),
    ) {
        // The holder's own passport makes every rule after the MRZ run.
        let mrz_text = match (&h.holder, mrz_kind) {
            (Some(holder), 0..=2) => passport_of(holder),
            _ => mrz_junk,
        };
        let history = History { movements, revoked };
        let checkpoint = Checkpoint {
            date,
            code,
            direction: if exit { Direction::Exit } else { Direction::Entry },
        };
        let scanned = rules::read_visa(&h.qr, &store());
        let d = rules::decide(&scanned, &mrz_text, &history, &checkpoint);
        prop_assert_eq!(d.verdict == Verdict::Accept, d.reasons.is_empty());
        if h.impossible {
            prop_assert!(d.has(ReasonCode::MalformedPayload), "{:?}", d.reasons);
            prop_assert_eq!(d.verdict, Verdict::Reject);
        }
        if d.verdict == Verdict::Accept {
            prop_assert!(scanned.authentic);
        }
        for r in &d.reasons {
            prop_assert!(!r.detail.is_empty());
        }
    }

    #[test]
    fn a_name_that_fits_matches_only_itself(
        a in "[A-Z]{1,8}( [A-Z]{1,8}){0,1}", ag in "([A-Z]{1,6}( [A-Z]{1,6}){0,1})?",
        b in "[A-Z]{1,8}( [A-Z]{1,8}){0,1}", bg in "([A-Z]{1,6}( [A-Z]{1,6}){0,1})?",
    ) {
        let field = mrz::render_name(&b, &bg, mrz::NAME_FIELD).unwrap();
        prop_assert_eq!(mrz::match_name(&a, &ag, &field).ok(), a == b && ag == bg);
    }

    #[test]
    fn every_rendered_name_matches_its_own_name(
        sn in "[A-Z]{1,25}( [A-Z]{1,25}){0,4}", gn in "([A-Z]{1,25}( [A-Z]{1,25}){0,5})?",
    ) {
        if let Some(field) = mrz::render_name(&sn, &gn, mrz::NAME_FIELD) {
            prop_assert_eq!(field.len(), mrz::NAME_FIELD);
            prop_assert!(mrz::match_name(&sn, &gn, &field).ok(), "{}", field);
        }
    }
}
