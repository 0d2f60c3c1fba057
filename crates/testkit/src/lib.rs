//! The committed test vectors: test-only keys and a manifest of cases, each a QR text,
//! a QR image, an MRZ, the checkpoint context, the history to seed, and the expected
//! verdict with its reason codes. Deterministic (keys from fixed seeds, Ed25519
//! signatures are deterministic), so `evisa fixtures` reproduces the files exactly.

pub mod pg;
pub mod samples;

use std::path::Path;

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use time::Date;
use time::macros::date;

use evisa_core::dates::PartialDate;
use evisa_core::mrz::Td3Fields;
use evisa_core::payload::{self, Category, Claims, Envelope, Holder, Sex, Visa};
use evisa_core::rules::ReasonCode;
use evisa_core::trust;
use evisa_issuer as issue;

/// Prefix of every generated key: nobody can mistake one for a production key.
/// Why writing or reading the fixtures failed.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Issue(#[from] issue::IssueError),
    #[error(transparent)]
    Update(#[from] evisa_core::update::UpdateError),
    #[error(transparent)]
    Trust(#[from] evisa_core::trust::TrustError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Image(#[from] image::ImageError),
    #[error("CBOR: {0}")]
    Cbor(String),
    #[error("{0}")]
    Invalid(String),
}

pub const KEY_PREFIX: &str = "TEST-ONLY";
/// Folder under `keys/` holding the test secret keys (outside the trust store).
pub const SECRET_DIR: &str = "test-only-secret";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct SeedMovement {
    pub direction: String,
    pub date: String,
    pub checkpoint: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    pub description: String,
    /// Files relative to the fixtures folder.
    pub qr_file: String,
    /// Absent when the text cannot be a QR image (scanner framing, empty).
    pub png_file: Option<String>,
    pub mrz_file: String,
    pub date: String,
    pub checkpoint: String,
    pub direction: String,
    /// Crossings recorded with this visa before the check.
    #[serde(default)]
    pub seed_movements: Vec<SeedMovement>,
    /// Visa numbers on the revocation list before the check.
    #[serde(default)]
    pub seed_revoked: Vec<String>,
    pub verdict: String,
    pub codes: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub generated_by: String,
    pub cases: Vec<Case>,
}

fn seeded_key(name: &str) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(format!("evisa fixture key {name}")).into())
}

struct TestKey {
    name: &'static str,
    label: &'static str,
    not_before: Date,
    not_after: Date,
    revoked: bool,
    trusted: bool,
}

const KEYS: [TestKey; 3] = [
    TestKey {
        name: "TEST-ONLY-issuer-2026",
        label: "TEST ONLY e-visa signer 2026 (not for production)",
        not_before: date!(2026 - 01 - 01),
        not_after: date!(2027 - 12 - 31),
        revoked: false,
        trusted: true,
    },
    TestKey {
        name: "TEST-ONLY-revoked-2025",
        label: "TEST ONLY revoked signer 2025 (not for production)",
        not_before: date!(2025 - 01 - 01),
        not_after: date!(2027 - 12 - 31),
        revoked: true,
        trusted: true,
    },
    TestKey {
        name: "TEST-ONLY-untrusted",
        label: "TEST ONLY signer absent from the trust store",
        not_before: date!(2026 - 01 - 01),
        not_after: date!(2027 - 12 - 31),
        revoked: false,
        trusted: false,
    },
];

fn write(path: &Path, bytes: &[u8]) -> Result<(), FixtureError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes).map_err(|source| FixtureError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// The trust-store key file of a test key.
fn trust_entry(k: &TestKey) -> String {
    let sk = seeded_key(k.name);
    let entry = trust::render_key_file(k.label, &sk.verifying_key(), k.not_before, k.not_after);
    if k.revoked {
        entry.replace("revoked = false", "revoked = true")
    } else {
        entry
    }
}

/// The trust entry (file name, text) of the signer absent from the sample trust
/// store (`TEST-ONLY-untrusted`, which signs the `unknown_key` case): the key the
/// sample update `trust-2.evu` adds, so a booth can be shown accepting a visa of a
/// signer it learnt about while running.
pub fn untrusted_signer_entry() -> (String, String) {
    let k = &KEYS[2];
    debug_assert!(!k.trusted);
    (format!("{}.toml", k.name), trust_entry(k))
}

/// Writes the test keys to `keys_dir` (trust-store entries at its top, secret keys in
/// [`SECRET_DIR`]).
pub fn write_keys(keys_dir: &Path) -> Result<(), FixtureError> {
    for k in &KEYS {
        let sk = seeded_key(k.name);
        let pem = issue::key_to_pem(&sk)?;
        write(
            &keys_dir.join(SECRET_DIR).join(format!("{}.key", k.name)),
            pem.as_bytes(),
        )?;
        if k.trusted {
            write(
                &keys_dir.join(format!("{}.toml", k.name)),
                trust_entry(k).as_bytes(),
            )?;
        }
    }
    write(
        &keys_dir.join(SECRET_DIR).join("README.md"),
        b"# TEST-ONLY secret keys\n\nThese keys are generated from fixed, public seeds by `evisa fixtures`.\nAnyone can recompute them: they sign test fixtures and nothing else.\nNever put them, or the matching `keys/TEST-ONLY-*.toml`, on a production terminal.\n",
    )?;
    // The test-only root key that signs update files (`evisa update`).
    samples::write_test_root(keys_dir)?;
    Ok(())
}

/// A passport and the visa that matches it.
#[derive(Clone)]
struct Person {
    surname: &'static str,
    given: &'static str,
    nationality: &'static str,
    /// `YYYY-MM-DD` with `XX` allowed.
    birth: &'static str,
    sex: Sex,
    number: &'static str,
    country: &'static str,
    expiry: Date,
    personal: &'static str,
    empty_personal_check: char,
}

impl Person {
    fn mrz(&self) -> String {
        let b = PartialDate::parse_iso(self.birth).expect("fixture birth date");
        let two = |v: Option<u8>| v.map_or("<<".to_string(), |v| format!("{v:02}"));
        let birth = format!("{:02}{}{}", b.year % 100, two(b.month), two(b.day));
        let e = self.expiry;
        let expiry = format!("{:02}{:02}{:02}", e.year() % 100, e.month() as u8, e.day());
        Td3Fields {
            issuing_state: self.country,
            surname: self.surname,
            given_names: self.given,
            document_number: self.number,
            nationality: self.nationality,
            birth: &birth,
            sex: match self.sex {
                Sex::Male => 'M',
                Sex::Female => 'F',
                Sex::Unspecified => '<',
            },
            expiry: &expiry,
            personal_number: self.personal,
            empty_personal_check: self.empty_personal_check,
        }
        .render()
    }

    fn holder(&self) -> Holder {
        Holder {
            surname: self.surname.into(),
            given_names: self.given.into(),
            nationality: self.nationality.into(),
            birth: PartialDate::parse_iso(self.birth).expect("fixture birth date"),
            sex: self.sex,
            document_number: self.number.into(),
            document_country: self.country.into(),
            document_expiry: self.expiry,
        }
    }
}

const ERIKSSON: Person = Person {
    surname: "ERIKSSON",
    given: "ANNA MARIA",
    nationality: "UTO",
    birth: "1974-08-12",
    sex: Sex::Female,
    number: "L898902C3",
    country: "UTO",
    expiry: date!(2031 - 04 - 15),
    personal: "ZE184226B",
    empty_personal_check: '<',
};

fn claims(p: &Person, number: &str, category: Category) -> Claims {
    let valid_until = date!(2027 - 01 - 29);
    Claims {
        issuer: "KZ".into(),
        // 2026-10-20T09:00:00Z
        issued_at: 1_792_486_800,
        expires_at: issue::end_of_day_kz(valid_until),
        visa: Visa {
            number: number.into(),
            invitation: format!("INV-{}", &number[number.len() - 7..]),
            category,
            entries: 1,
            valid_from: date!(2026 - 11 - 01),
            valid_until,
            stay_days: 30,
            checkpoints: vec!["NQZ".into(), "ALA".into()],
            holder: p.holder(),
        },
    }
}

struct Builder<'a> {
    out: &'a Path,
    cases: Vec<Case>,
}

struct Spec<'a> {
    name: &'a str,
    description: &'a str,
    qr: String,
    png: bool,
    mrz: String,
    date: Date,
    checkpoint: &'a str,
    direction: &'a str,
    seed_movements: Vec<SeedMovement>,
    seed_revoked: Vec<String>,
    codes: &'a [ReasonCode],
}

impl Builder<'_> {
    fn add(&mut self, s: Spec<'_>) -> Result<(), FixtureError> {
        let dir = format!("cases/{}", s.name);
        let qr_file = format!("{dir}/qr.txt");
        let mrz_file = format!("{dir}/mrz.txt");
        write(&self.out.join(&qr_file), s.qr.as_bytes())?;
        write(&self.out.join(&mrz_file), format!("{}\n", s.mrz).as_bytes())?;
        let png_file = if s.png {
            let f = format!("{dir}/qr.png");
            let img = issue::qr_image(&s.qr, 3)?;
            img.save(self.out.join(&f))?;
            Some(f)
        } else {
            None
        };
        self.cases.push(Case {
            name: s.name.into(),
            description: s.description.into(),
            qr_file,
            png_file,
            mrz_file,
            date: s.date.to_string(),
            checkpoint: s.checkpoint.into(),
            direction: s.direction.into(),
            seed_movements: s.seed_movements,
            seed_revoked: s.seed_revoked,
            verdict: if s.codes.is_empty() {
                "ACCEPT"
            } else {
                "REJECT"
            }
            .into(),
            codes: s.codes.iter().map(|c| c.as_str().to_string()).collect(),
        });
        Ok(())
    }
}

const TODAY: Date = date!(2026 - 11 - 25);

fn spec<'a>(
    name: &'a str,
    description: &'a str,
    qr: String,
    mrz: String,
    codes: &'a [ReasonCode],
) -> Spec<'a> {
    Spec {
        name,
        description,
        qr,
        png: true,
        mrz,
        date: TODAY,
        checkpoint: "NQZ",
        direction: "entry",
        seed_movements: Vec::new(),
        seed_revoked: Vec::new(),
        codes,
    }
}

fn seed(direction: &str, date: Date) -> SeedMovement {
    SeedMovement {
        direction: direction.into(),
        date: date.to_string(),
        checkpoint: "ALA".into(),
    }
}

/// Signs with a changed COSE layout or contents, for the negative cases.
fn sign_raw(payload_bytes: Vec<u8>, key: &SigningKey, env: &Envelope) -> String {
    use ed25519_dalek::Signer;
    let kid = trust::kid_of(&key.verifying_key());
    let (protected, tbs) = payload::prepare(&payload_bytes, &kid, env);
    let sig = key.sign(&tbs);
    payload::seal(protected, payload_bytes, &kid, &sig.to_bytes(), env)
}

/// Generates keys and every case; returns the number of cases.
/// The keys and the base visa every case is made from.
struct Keys {
    issuer: SigningKey,
    revoked: SigningKey,
    untrusted: SigningKey,
    env: Envelope,
    /// The specimen holder's tourist visa, which most cases vary.
    base: Claims,
    /// The specimen holder's passport MRZ.
    mrz: String,
}

impl Keys {
    /// Signed by the sample trust store's issuer key, in the default envelope.
    fn signed(&self, c: &Claims) -> String {
        issue::sign(c, &self.issuer, &self.env)
    }
}

pub fn generate(out: &Path, keys_dir: &Path) -> Result<usize, FixtureError> {
    write_keys(keys_dir)?;
    let k = Keys {
        issuer: seeded_key(KEYS[0].name),
        revoked: seeded_key(KEYS[1].name),
        untrusted: seeded_key(KEYS[2].name),
        env: Envelope::default(),
        base: claims(&ERIKSSON, "EV26KZ0012345", Category::Tourist),
        mrz: ERIKSSON.mrz(),
    };

    if out.join("cases").exists() {
        std::fs::remove_dir_all(out.join("cases"))?;
    }
    let mut b = Builder {
        out,
        cases: Vec::new(),
    };
    let (base, mrz) = (&k.base, &k.mrz);

    // A sample visa file and page, as `evisa issue` takes and makes them.
    let sample = issue::VisaFile {
        number: base.visa.number.clone(),
        invitation: base.visa.invitation.clone(),
        category: "T".into(),
        entries: 1,
        valid_from: base.visa.valid_from.to_string(),
        valid_until: base.visa.valid_until.to_string(),
        stay_days: 30,
        checkpoints: base.visa.checkpoints.clone(),
        issued_at: "2026-10-20T09:00:00Z".into(),
        holder: issue::HolderFile {
            surname: ERIKSSON.surname.into(),
            given_names: ERIKSSON.given.into(),
            nationality: ERIKSSON.nationality.into(),
            birth: ERIKSSON.birth.into(),
            sex: "F".into(),
            document_number: ERIKSSON.number.into(),
            document_country: ERIKSSON.country.into(),
            document_expiry: ERIKSSON.expiry.to_string(),
        },
    };
    write(
        &out.join("visas/eriksson.toml"),
        toml::to_string(&sample)
            .map_err(|e| FixtureError::Invalid(e.to_string()))?
            .as_bytes(),
    )?;
    write(
        &out.join("passports/eriksson.mrz"),
        format!("{mrz}\n").as_bytes(),
    )?;
    let page_text = k.signed(&sample.to_claims()?);
    issue::render_page(&sample.to_claims()?, &page_text)?
        .save(out.join("visas/eriksson-page.png"))?;
    write(&out.join("visas/eriksson.qr.txt"), page_text.as_bytes())?;

    accept_cases(&mut b, &k)?;
    reject_transport_and_signature_cases(&mut b, &k)?;
    reject_rule_cases(&mut b, &k)?;
    reject_passport_cases(&mut b, &k)?;

    // Sample signed update files (`evisa update import`), good and `fail_`.
    samples::write_sample_updates(&out.join("updates"), keys_dir)?;

    let n = b.cases.len();
    let manifest = Manifest {
        generated_by: "evisa fixtures --out fixtures --keys keys".into(),
        cases: b.cases,
    };
    write(
        &out.join("cases.json"),
        format!("{}\n", serde_json::to_string_pretty(&manifest)?).as_bytes(),
    )?;
    Ok(n)
}

/// The ACCEPT cases: every visa category, exit, long and truncated names, unknown
/// birth dates, unusual sexes and country codes, envelope variants, scanner framing,
/// the validity boundary.
fn accept_cases(b: &mut Builder<'_>, k: &Keys) -> Result<(), FixtureError> {
    b.add(spec(
        "accept_tourist",
        "tourist visa, matching passport (the ICAO specimen holder)",
        k.signed(&k.base),
        k.mrz.clone(),
        &[],
    ))?;
    let kim = Person {
        surname: "KIM",
        given: "MIN JUN",
        nationality: "KOR",
        birth: "1988-03-02",
        sex: Sex::Male,
        number: "M12345678",
        country: "KOR",
        expiry: date!(2033 - 06 - 30),
        personal: "",
        empty_personal_check: '<',
    };
    b.add(spec(
        "accept_business",
        "business visa",
        k.signed(&claims(&kim, "EV26KZ0020001", Category::Business)),
        kim.mrz(),
        &[],
    ))?;
    let patel = Person {
        surname: "PATEL",
        given: "PRIYA",
        nationality: "IND",
        birth: "1962-12-31",
        sex: Sex::Female,
        number: "Z7654321",
        country: "IND",
        expiry: date!(2030 - 01 - 15),
        personal: "",
        empty_personal_check: '0',
    };
    b.add(spec(
        "accept_medical",
        "medical-treatment visa; empty personal number printed with check digit 0",
        k.signed(&claims(&patel, "EV26KZ0030001", Category::Medical)),
        patel.mrz(),
        &[],
    ))?;
    b.add(Spec {
        direction: "exit",
        seed_movements: vec![seed("entry", date!(2026 - 11 - 10))],
        ..spec(
            "accept_exit",
            "exit 15 days after the recorded entry (stay 30 days)",
            k.signed(&k.base),
            k.mrz.clone(),
            &[],
        )
    })?;
    b.add(Spec {
        direction: "exit",
        seed_movements: vec![seed("entry", date!(2026 - 10 - 26))],
        ..spec(
            "accept_exit_last_day",
            "exit exactly 30 days after entry: not yet an overstay",
            k.signed(&k.base),
            k.mrz.clone(),
            &[],
        )
    })?;
    let long = Person {
        surname: "WOLFESCHLEGELSTEINHAUSEN",
        given: "HUBERT BLAINE CHRISTOPHER",
        nationality: "USA",
        birth: "1979-07-04",
        sex: Sex::Male,
        number: "561234567",
        country: "USA",
        expiry: date!(2032 - 09 - 01),
        personal: "",
        empty_personal_check: '<',
    };
    b.add(spec(
        "accept_long_name_truncated",
        "names truncated in the MRZ; the visa holds them in full and they compare as a prefix",
        k.signed(&claims(&long, "EV26KZ0040001", Category::Tourist)),
        long.mrz(),
        &[],
    ))?;
    // ICAO Doc 9303 Part 4 §4.2.3.3: a primary identifier too long for `<<` and a
    // letter of the given names; the passport cuts its last component.
    let bennelong = Person {
        surname: "BENNELONG WOOLOOMOOLOO WARRANDYTE WARNAMBOOL",
        given: "DINGO POTOROO",
        nationality: "AUS",
        birth: "1981-05-17",
        sex: Sex::Male,
        number: "PA1234567",
        country: "AUS",
        expiry: date!(2033 - 03 - 14),
        personal: "",
        empty_personal_check: '<',
    };
    b.add(spec(
        "accept_primary_identifier_truncated",
        "surname too long for the MRZ: truncated the Doc 9303 way, keeping a letter of each component and of the given names",
        k.signed(&claims(&bennelong, "EV26KZ0040002", Category::Tourist)),
        bennelong.mrz(),
        &[],
    ))?;
    let nobirthday = Person {
        surname: "ABDULLAEV",
        given: "RUSTAM",
        nationality: "AFG",
        birth: "1985-XX-XX",
        sex: Sex::Male,
        number: "P01234567",
        country: "AFG",
        expiry: date!(2029 - 05 - 20),
        personal: "",
        empty_personal_check: '<',
    };
    b.add(spec(
        "accept_unknown_birth_day",
        "unknown birth month and day (MRZ <<, visa XX)",
        k.signed(&claims(&nobirthday, "EV26KZ0050001", Category::Tourist)),
        nobirthday.mrz(),
        &[],
    ))?;
    let x = Person {
        surname: "NOVAK",
        given: "ALEX",
        nationality: "CZE",
        birth: "1990-02-28",
        sex: Sex::Unspecified,
        number: "40123456",
        country: "CZE",
        expiry: date!(2034 - 02 - 27),
        personal: "",
        empty_personal_check: '<',
    };
    b.add(spec(
        "accept_sex_unspecified",
        "sex < in the MRZ, X on the visa",
        k.signed(&claims(&x, "EV26KZ0060001", Category::Tourist)),
        x.mrz(),
        &[],
    ))?;
    let mustermann = Person {
        surname: "MUSTERMANN",
        given: "ERIKA",
        nationality: "D",
        birth: "1964-08-12",
        sex: Sex::Female,
        number: "C01X00T47",
        country: "D",
        expiry: date!(2031 - 10 - 31),
        personal: "",
        empty_personal_check: '<',
    };
    b.add(spec(
        "accept_german_d",
        "German passport: nationality and issuing state D<<",
        k.signed(&claims(&mustermann, "EV26KZ0070001", Category::Business)),
        mustermann.mrz(),
        &[],
    ))?;
    b.add(spec(
        "accept_untagged_uncompressed_unprotected_kid",
        "untagged COSE_Sign1, no zlib, kid in the unprotected header: all allowed by spec §1-§2",
        issue::sign(
            &k.base,
            &k.issuer,
            &Envelope {
                tagged: false,
                compress: false,
                kid_unprotected: true,
                ..k.env
            },
        ),
        k.mrz.clone(),
        &[],
    ))?;
    b.add(Spec {
        png: false,
        ..spec(
            "accept_scanner_framing",
            "AIM prefix ]Q1 and CRLF as a serial scanner sends them",
            format!("]Q1{}\r\n", k.signed(&k.base)),
            k.mrz.clone(),
            &[],
        )
    })?;
    let boundary = Claims {
        visa: Visa {
            valid_until: date!(2026 - 11 - 30),
            holder: Holder {
                document_expiry: date!(2027 - 02 - 28),
                ..k.base.visa.holder.clone()
            },
            ..k.base.visa.clone()
        },
        ..k.base.clone()
    };
    let boundary_person = Person {
        expiry: date!(2027 - 02 - 28),
        ..ERIKSSON
    };
    b.add(spec(
        "accept_validity_boundary",
        "visa ends 30 Nov; passport expires 28 Feb = exactly 3 calendar months later",
        k.signed(&boundary),
        boundary_person.mrz(),
        &[],
    ))?;

    Ok(())
}

/// REJECT cases of the transport, the signature, the key and the payload (spec §4 rows 1–6), including impossible values.
fn reject_transport_and_signature_cases(b: &mut Builder<'_>, k: &Keys) -> Result<(), FixtureError> {
    use ReasonCode as R;
    // --- REJECT: one per reason code, then combinations ---
    b.add(Spec {
        png: true,
        ..spec(
            "malformed_qr_url",
            "a web address, not an e-visa",
            "https://evisa.gov.kz/check?id=12345".into(),
            k.mrz.clone(),
            &[R::MalformedQr],
        )
    })?;
    b.add(spec(
        "malformed_qr_hc1",
        "an EU digital COVID certificate",
        "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4.OI1RM8ZA.A5:S9MKN4NN3F85QNCY0O%0VZ001HOC9JU0D0HT0HB2PL/IB*09B9LW4T*8+DCMH0LDK2%K:XFE70*LP$V25$0Q:J:4MO1P0%0L0HD+9E/HY+4J6TH48S%4K.GJ2PT3QY:GQ3TE2I+-CPHN6D7LLK*Y0ZPQT.8J$8VYAZ$0PEL".into(),
        k.mrz.clone(),
        &[R::MalformedQr],
    ))?;
    b.add(spec(
        "malformed_qr_base45",
        "KZV1: prefix but not Base45",
        "KZV1:this is not base45!".into(),
        k.mrz.clone(),
        &[R::MalformedQr],
    ))?;
    let good = k.signed(&k.base);
    let truncated = good[..good.len() - 30].to_string();
    b.add(spec(
        "malformed_qr_truncated",
        "a valid code cut short",
        truncated,
        k.mrz.clone(),
        &[R::MalformedQr],
    ))?;
    b.add(spec(
        "unsupported_algorithm",
        "protected header says ES256 (-7)",
        issue::sign(&k.base, &k.issuer, &Envelope { alg: -7, ..k.env }),
        k.mrz.clone(),
        &[R::UnsupportedAlgorithm],
    ))?;
    b.add(spec(
        "unknown_key",
        "signed by a key that is not in the trust store",
        issue::sign(&k.base, &k.untrusted, &k.env),
        k.mrz.clone(),
        &[R::UnknownKey],
    ))?;
    b.add(spec(
        "key_revoked",
        "signed by a key marked revoked in the trust store",
        issue::sign(&k.base, &k.revoked, &k.env),
        k.mrz.clone(),
        &[R::KeyRevoked],
    ))?;
    let early = Claims {
        // 2025-12-31T12:00:00Z, before the key's not_before
        issued_at: 1_767_182_400,
        ..k.base.clone()
    };
    b.add(spec(
        "key_window",
        "issued before the signing key's validity window",
        k.signed(&early),
        k.mrz.clone(),
        &[R::KeyRevoked],
    ))?;
    // Sign one visa, then swap in the payload of another: the signature no longer fits.
    let forged = {
        let other = Claims {
            visa: Visa {
                stay_days: 90,
                ..k.base.visa.clone()
            },
            ..k.base.clone()
        };
        let kid = trust::kid_of(&k.issuer.verifying_key());
        let (protected, tbs) = payload::prepare(&payload::encode_claims(&k.base), &kid, &k.env);
        let sig = ed25519_dalek::Signer::sign(&k.issuer, &tbs);
        payload::seal(
            protected,
            payload::encode_claims(&other),
            &kid,
            &sig.to_bytes(),
            &k.env,
        )
    };
    b.add(spec(
        "signature_invalid",
        "stay changed from 30 to 90 days after signing",
        forged,
        k.mrz.clone(),
        &[R::SignatureInvalid],
    ))?;
    let missing_ds = {
        let mut bytes = payload::encode_claims(&k.base);
        let v: ciborium::value::Value = ciborium::from_reader(bytes.as_slice())
            .map_err(|e| FixtureError::Cbor(e.to_string()))?;
        let stripped = strip_key(v, "ds");
        bytes.clear();
        ciborium::into_writer(&stripped, &mut bytes)
            .map_err(|e| FixtureError::Cbor(e.to_string()))?;
        sign_raw(bytes, &k.issuer, &k.env)
    };
    b.add(spec(
        "malformed_payload",
        "signed claims without the permitted stay (ds)",
        missing_ds,
        k.mrz.clone(),
        &[R::MalformedPayload],
    ))?;
    let far_future = Claims {
        visa: Visa {
            valid_until: date!(9999 - 12 - 31),
            ..k.base.visa.clone()
        },
        ..k.base.clone()
    };
    b.add(spec(
        "malformed_payload_far_future",
        "validly signed, valid until 9999-12-31: no calendar can check 3 months after it (issue 8: this panicked)",
        k.signed(&far_future),
        k.mrz.clone(),
        &[R::MalformedPayload],
    ))?;
    let endless_stay = Claims {
        visa: Visa {
            stay_days: u64::MAX,
            ..k.base.visa.clone()
        },
        ..k.base.clone()
    };
    b.add(spec(
        "malformed_payload_stay_overflow",
        "validly signed, permitted stay u64::MAX days: more than any calendar spans",
        k.signed(&endless_stay),
        k.mrz.clone(),
        &[R::MalformedPayload],
    ))?;
    Ok(())
}

/// REJECT cases of the visa rules that depend on the checkpoint and the history (spec §4 rows 7–12).
fn reject_rule_cases(b: &mut Builder<'_>, k: &Keys) -> Result<(), FixtureError> {
    use ReasonCode as R;
    b.add(Spec {
        seed_revoked: vec![k.base.visa.number.clone()],
        ..spec(
            "visa_revoked",
            "visa on the revocation list",
            k.signed(&k.base),
            k.mrz.clone(),
            &[R::VisaRevoked],
        )
    })?;
    b.add(Spec {
        date: date!(2026 - 10 - 31),
        ..spec(
            "visa_not_yet_valid",
            "one day before valid-from",
            k.signed(&k.base),
            k.mrz.clone(),
            &[R::VisaNotYetValid],
        )
    })?;
    b.add(Spec {
        date: date!(2027 - 01 - 30),
        ..spec(
            "visa_expired",
            "one day after valid-until",
            k.signed(&k.base),
            k.mrz.clone(),
            &[R::VisaExpired],
        )
    })?;
    b.add(Spec {
        checkpoint: "TSE",
        ..spec(
            "checkpoint_not_allowed",
            "visa for NQZ and ALA presented at TSE",
            k.signed(&k.base),
            k.mrz.clone(),
            &[R::CheckpointNotAllowed],
        )
    })?;
    b.add(Spec {
        seed_movements: vec![
            seed("entry", date!(2026 - 11 - 05)),
            seed("exit", date!(2026 - 11 - 12)),
        ],
        ..spec(
            "entries_exhausted",
            "single-entry visa already used for an entry",
            k.signed(&k.base),
            k.mrz.clone(),
            &[R::EntriesExhausted],
        )
    })?;
    b.add(Spec {
        direction: "exit",
        seed_movements: vec![seed("entry", date!(2026 - 10 - 25))],
        ..spec(
            "overstay",
            "exit 31 days after entry with 30 days permitted",
            k.signed(&k.base),
            k.mrz.clone(),
            &[R::Overstay],
        )
    })?;
    Ok(())
}

/// REJECT cases of the passport: MRZ, document, holder and validity (spec §4 rows 13–18), and several reasons at once.
fn reject_passport_cases(b: &mut Builder<'_>, k: &Keys) -> Result<(), FixtureError> {
    use ReasonCode as R;
    let mut bad_mrz = k.mrz.clone();
    // Corrupt the birth-date check digit (line 2, position 20).
    let pos = TD3_LINE_2_START + 19;
    let old = bad_mrz.as_bytes()[pos];
    bad_mrz.replace_range(pos..=pos, if old == b'9' { "0" } else { "9" });
    b.add(spec(
        "mrz_invalid",
        "birth-date check digit wrong",
        k.signed(&k.base),
        bad_mrz,
        &[R::MrzInvalid],
    ))?;
    let replaced = Person {
        number: "X9876543",
        ..ERIKSSON
    };
    b.add(spec(
        "document_mismatch",
        "the passport was replaced after the visa was issued",
        k.signed(&k.base),
        replaced.mrz(),
        &[R::DocumentMismatch],
    ))?;
    let other_birth = Person {
        birth: "1975-08-12",
        ..ERIKSSON
    };
    b.add(spec(
        "holder_mismatch",
        "date of birth differs",
        k.signed(&k.base),
        other_birth.mrz(),
        &[R::HolderMismatch],
    ))?;
    // Issue 8: a name field filled to its last position was taken as "maybe truncated"
    // and only a surname prefix was compared, so ERIK<<XZZZ… passed for ERIKSSON.
    let bypass = Person {
        surname: "ERIK",
        given: "XZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        ..ERIKSSON
    };
    b.add(spec(
        "holder_mismatch_truncation_bypass",
        "passport name field ERIK<<XZZZ... filled to the last position, visa of ERIKSSON, ANNA MARIA",
        k.signed(&k.base),
        bypass.mrz(),
        &[R::HolderMismatch],
    ))?;
    let renewed = Person {
        expiry: date!(2031 - 05 - 15),
        ..ERIKSSON
    };
    b.add(spec(
        "passport_expiry_mismatch",
        "passport expiry differs from the visa",
        k.signed(&k.base),
        renewed.mrz(),
        &[R::PassportExpiryMismatch],
    ))?;
    let short = Person {
        expiry: date!(2027 - 02 - 27),
        ..ERIKSSON
    };
    let short_claims = Claims {
        visa: Visa {
            valid_until: date!(2026 - 11 - 30),
            holder: short.holder(),
            ..k.base.visa.clone()
        },
        ..k.base.clone()
    };
    b.add(spec(
        "passport_validity_too_short",
        "visa ends 30 Nov; passport expires 27 Feb, one day short of 3 calendar months",
        k.signed(&short_claims),
        short.mrz(),
        &[R::PassportValidityTooShort],
    ))?;
    let expired = Person {
        expiry: date!(2026 - 11 - 24),
        ..ERIKSSON
    };
    let expired_claims = Claims {
        visa: Visa {
            holder: expired.holder(),
            ..k.base.visa.clone()
        },
        ..k.base.clone()
    };
    b.add(spec(
        "passport_expired",
        "passport expired yesterday (so also valid less than 3 months after the visa)",
        k.signed(&expired_claims),
        expired.mrz(),
        &[R::PassportValidityTooShort, R::PassportExpired],
    ))?;
    let sex_and_name = Person {
        sex: Sex::Male,
        given: "ANNA",
        ..ERIKSSON
    };
    b.add(Spec {
        date: date!(2027 - 02 - 01),
        checkpoint: "ALA",
        ..spec(
            "several_reasons",
            "expired visa, other holder details and replaced passport: every reason is reported",
            k.signed(&Claims {
                visa: Visa {
                    checkpoints: vec!["NQZ".into()],
                    ..k.base.visa.clone()
                },
                ..k.base.clone()
            }),
            Person {
                number: "L1111111",
                ..sex_and_name
            }
            .mrz(),
            &[
                R::VisaExpired,
                R::CheckpointNotAllowed,
                R::DocumentMismatch,
                R::HolderMismatch,
            ],
        )
    })?;
    b.add(spec(
        "mrz_malformed_framing",
        "only one MRZ line was read",
        k.signed(&k.base),
        k.mrz.lines().next().unwrap_or_default().to_string(),
        &[R::MrzInvalid],
    ))?;

    Ok(())
}

const TD3_LINE_2_START: usize = 45;

fn strip_key(v: ciborium::value::Value, key: &str) -> ciborium::value::Value {
    use ciborium::value::Value;
    match v {
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .filter(|(k, _)| !matches!(k, Value::Text(t) if t == key))
                .map(|(k, v)| (k, strip_key(v, key)))
                .collect(),
        ),
        other => other,
    }
}

/// Loads the manifest.
pub fn load_manifest(dir: &Path) -> Result<Manifest, FixtureError> {
    let text = std::fs::read_to_string(dir.join("cases.json"))?;
    Ok(serde_json::from_str(&text)?)
}
