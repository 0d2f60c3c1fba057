//! The e-visa QR payload codec (spec §1–§3), both directions: the `KZV1:` transport
//! (AIM prefix and CR/LF stripping, Base45, zlib with a 16 KiB cap), the COSE_Sign1
//! envelope and the CWT claims with the `evisa` map. Pure: bytes and values in, typed
//! results out; signing keys are passed in by the issuer, verification lives in `trust`.

pub mod base45;

use std::io::{Read, Write};

use ciborium::value::{Integer, Value};
use time::Date;

use crate::dates::{self, PartialDate};

/// The text every e-visa QR starts with.
pub const PREFIX: &str = "KZV1:";
/// Zip-bomb guard of spec §1.
pub const MAX_DECOMPRESSED: usize = 16 * 1024;
/// COSE algorithm identifier of EdDSA.
pub const ALG_EDDSA: i64 = -8;
/// CWT claim key of the `evisa` map.
pub const CLAIM_EVISA: i64 = -65537;
const COSE_SIGN1_TAG: u64 = 18;

/// Why QR text could not be taken apart into a COSE_Sign1 (reason `MALFORMED_QR`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The text is something else entirely: a URL, an EU `HC1:` certificate, a boarding pass.
    #[error("this is not a Kazakhstan e-visa code (it does not start with \"KZV1:\"{hint})")]
    NotAnEvisa { hint: String },
    #[error("the e-visa code is damaged: {0}")]
    Base45(#[from] base45::Base45Error),
    #[error("the e-visa code is damaged: compressed data is invalid ({0})")]
    Zlib(String),
    #[error("the e-visa code is damaged: decompressed data exceeds {MAX_DECOMPRESSED} bytes")]
    TooLarge,
    #[error(
        "the e-visa code is damaged: payload is neither zlib data nor a COSE message (first byte 0x{0:02x})"
    )]
    UnknownEncoding(u8),
    #[error("the e-visa code is damaged: empty payload")]
    Empty,
    #[error("the e-visa code is damaged: COSE_Sign1 structure is invalid ({0})")]
    Cose(String),
}

/// Why the signed claims are not a valid e-visa (reason `MALFORMED_PAYLOAD`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the signed data is not valid CBOR ({0})")]
    Cbor(String),
    #[error("the signed data is not a claims map")]
    NotAMap,
    #[error("required field {0} is missing")]
    Missing(&'static str),
    #[error("field {field} has the wrong type (expected {expected})")]
    Type {
        field: &'static str,
        expected: &'static str,
    },
    #[error("field {field} holds an impossible value: {}", shown(.value))]
    Value { field: &'static str, value: String },
    /// A date the calendar arithmetic of the rules cannot carry (spec §4).
    #[error(
        "field {field} holds the date {value}, outside the dates a terminal can check ({} to {})",
        dates::EARLIEST,
        dates::LATEST
    )]
    DateOutOfRange { field: &'static str, value: String },
    /// A Unix time that is no day of the calendar the terminal can check.
    #[error(
        "field {field} holds the time {value}, which is not a moment between {} and {}",
        dates::EARLIEST,
        dates::LATEST
    )]
    TimeOutOfRange { field: &'static str, value: u64 },
    /// A count too large for any calendar the rules compare it with.
    #[error("field {field} holds {value}, more than the {max} days the calendar can span")]
    TooLarge {
        field: &'static str,
        value: u64,
        max: u64,
    },
}

/// An untrusted value in a sentence: cut to a readable length, never Rust `Debug` text.
fn shown(value: &str) -> String {
    const MAX: usize = 40;
    match value.char_indices().nth(MAX) {
        Some((i, _)) => format!("\"{}…\"", &value[..i]),
        None => format!("\"{value}\""),
    }
}

/// The longest permitted stay (`ds`) accepted: the whole span of dates a terminal can
/// check. A longer one could never be compared with a day count between two dates.
pub fn max_stay_days() -> u64 {
    u64::try_from((dates::LATEST - dates::EARLIEST).whole_days()).unwrap_or(0)
}

/// A COSE_Sign1 message taken apart but not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSign1 {
    /// The protected header exactly as transmitted: it is part of the signed bytes.
    pub protected_raw: Vec<u8>,
    /// `alg` from the protected header, if present and an integer.
    pub alg: Option<i64>,
    /// `kid` from the protected header, or else from the unprotected one (spec §2).
    pub kid: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

impl CoseSign1 {
    /// The RFC 9052 Sig_structure `["Signature1", protected, h'', payload]` that is signed.
    pub fn sig_structure(&self) -> Vec<u8> {
        sig_structure(&self.protected_raw, &self.payload)
    }
}

fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let v = Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]);
    cbor_bytes(&v)
}

fn cbor_bytes(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Serialising a Value into a Vec cannot fail.
    ciborium::into_writer(v, &mut out).expect("CBOR into Vec");
    out
}

/// Visa category (`ty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Tourist,
    Business,
    Medical,
}

impl Category {
    pub fn code(self) -> &'static str {
        match self {
            Category::Tourist => "T",
            Category::Business => "B",
            Category::Medical => "M",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        match s {
            "T" => Some(Category::Tourist),
            "B" => Some(Category::Business),
            "M" => Some(Category::Medical),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Category::Tourist => "tourist",
            Category::Business => "business",
            Category::Medical => "medical treatment",
        }
    }
}

/// Holder sex as the MRZ states it (`X` is the MRZ's `<`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
    Unspecified,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
            Sex::Unspecified => "X",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        match s {
            "M" => Some(Sex::Male),
            "F" => Some(Sex::Female),
            "X" => Some(Sex::Unspecified),
            _ => None,
        }
    }
}

/// The holder's travel document as printed in the visa (`h` map).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    pub birth: PartialDate,
    pub sex: Sex,
    pub document_number: String,
    pub document_country: String,
    pub document_expiry: Date,
}

/// The `evisa` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visa {
    pub number: String,
    pub invitation: String,
    pub category: Category,
    pub entries: u64,
    pub valid_from: Date,
    pub valid_until: Date,
    pub stay_days: u64,
    pub checkpoints: Vec<String>,
    pub holder: Holder,
}

/// The CWT claims set of an e-visa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub issuer: String,
    pub issued_at: u64,
    pub expires_at: u64,
    pub visa: Visa,
}

/// Strips what scanners add around the text: an AIM symbology identifier (`]Q1`…`]Q6`)
/// in front and CR/LF behind (spec §1).
pub fn strip_scanner_framing(text: &str) -> &str {
    let t = text.trim_end_matches(['\r', '\n']);
    match t.as_bytes() {
        [b']', b'Q', b'1'..=b'6', ..] => &t[3..],
        _ => t,
    }
}

/// QR text → the COSE_Sign1 bytes it carries (prefix, Base45, optional zlib).
pub fn unwrap_transport(text: &str) -> Result<Vec<u8>, QrError> {
    let t = strip_scanner_framing(text);
    let Some(body) = t.strip_prefix(PREFIX) else {
        return Err(QrError::NotAnEvisa {
            hint: describe_foreign_code(t),
        });
    };
    let raw = base45::decode(body)?;
    match raw.first() {
        None => Err(QrError::Empty),
        Some(_) if is_zlib_header(&raw) => inflate_capped(&raw),
        Some(0xD2) | Some(0x84) => Ok(raw),
        Some(&b) => Err(QrError::UnknownEncoding(b)),
    }
}

fn describe_foreign_code(t: &str) -> String {
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        "; it is a web address".into()
    } else if t.starts_with("HC1:") {
        "; it is an EU digital COVID certificate".into()
    } else if t.starts_with("M1") || t.starts_with("M2") {
        "; it looks like a boarding pass".into()
    } else if t.is_empty() {
        "; it is empty".into()
    } else {
        String::new()
    }
}

fn is_zlib_header(raw: &[u8]) -> bool {
    raw.len() >= 2
        && raw[0] & 0x0F == 8
        && raw[0] >> 4 <= 7
        && u16::from_be_bytes([raw[0], raw[1]]).is_multiple_of(31)
}

fn inflate_capped(raw: &[u8]) -> Result<Vec<u8>, QrError> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(raw)
        .take(MAX_DECOMPRESSED as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| QrError::Zlib(e.to_string()))?;
    if out.len() > MAX_DECOMPRESSED {
        return Err(QrError::TooLarge);
    }
    Ok(out)
}

/// Parses one complete CBOR item from `bytes`, refusing trailing garbage.
fn cbor_item(bytes: &[u8]) -> Result<Value, String> {
    let mut cur = std::io::Cursor::new(bytes);
    let v: Value = ciborium::from_reader(&mut cur).map_err(|e| e.to_string())?;
    let used = usize::try_from(cur.position()).unwrap_or(usize::MAX);
    if used != bytes.len() {
        return Err(format!(
            "{} bytes of trailing data",
            bytes.len().saturating_sub(used)
        ));
    }
    Ok(v)
}

/// COSE bytes → the four parts of a COSE_Sign1, tagged (18) or untagged.
pub fn parse_cose(bytes: &[u8]) -> Result<CoseSign1, QrError> {
    let bad = |m: &str| QrError::Cose(m.to_string());
    let v = cbor_item(bytes).map_err(QrError::Cose)?;
    let v = match v {
        Value::Tag(COSE_SIGN1_TAG, inner) => *inner,
        Value::Tag(t, _) => return Err(QrError::Cose(format!("unexpected CBOR tag {t}"))),
        other => other,
    };
    let Value::Array(parts) = v else {
        return Err(bad("not an array"));
    };
    let [protected, unprotected, payload, signature]: [Value; 4] = parts
        .try_into()
        .map_err(|p: Vec<Value>| QrError::Cose(format!("{} elements instead of 4", p.len())))?;
    let Value::Bytes(protected_raw) = protected else {
        return Err(bad("protected header is not a byte string"));
    };
    let Value::Map(unprotected) = unprotected else {
        return Err(bad("unprotected header is not a map"));
    };
    let Value::Bytes(payload) = payload else {
        return Err(bad("payload is not a byte string"));
    };
    let Value::Bytes(signature) = signature else {
        return Err(bad("signature is not a byte string"));
    };
    let protected = if protected_raw.is_empty() {
        Vec::new()
    } else {
        match cbor_item(&protected_raw).map_err(QrError::Cose)? {
            Value::Map(m) => m,
            _ => return Err(bad("protected header is not a map")),
        }
    };
    let alg = map_get_int(&protected, 1).and_then(|v| match v {
        Value::Integer(i) => i64::try_from(*i).ok(),
        _ => None,
    });
    let kid_of = |m: &[(Value, Value)]| match map_get_int(m, 4) {
        Some(Value::Bytes(b)) => Some(b.clone()),
        _ => None,
    };
    let kid = kid_of(&protected).or_else(|| kid_of(&unprotected));
    Ok(CoseSign1 {
        protected_raw,
        alg,
        kid,
        payload,
        signature,
    })
}

fn map_get_int(m: &[(Value, Value)], key: i64) -> Option<&Value> {
    m.iter().find_map(|(k, v)| match k {
        Value::Integer(i) if i128::from(*i) == i128::from(key) => Some(v),
        _ => None,
    })
}

fn map_get_text<'a>(m: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    m.iter().find_map(|(k, v)| match k {
        Value::Text(t) if t == key => Some(v),
        _ => None,
    })
}

fn want_text(v: Option<&Value>, field: &'static str) -> Result<String, PayloadError> {
    match v {
        None => Err(PayloadError::Missing(field)),
        Some(Value::Text(t)) => Ok(t.clone()),
        Some(_) => Err(PayloadError::Type {
            field,
            expected: "text",
        }),
    }
}

fn want_uint(v: Option<&Value>, field: &'static str) -> Result<u64, PayloadError> {
    match v {
        None => Err(PayloadError::Missing(field)),
        Some(Value::Integer(i)) => u64::try_from(*i).map_err(|_| PayloadError::Type {
            field,
            expected: "unsigned integer",
        }),
        Some(_) => Err(PayloadError::Type {
            field,
            expected: "unsigned integer",
        }),
    }
}

fn want_map<'a>(
    v: Option<&'a Value>,
    field: &'static str,
) -> Result<&'a [(Value, Value)], PayloadError> {
    match v {
        None => Err(PayloadError::Missing(field)),
        Some(Value::Map(m)) => Ok(m),
        Some(_) => Err(PayloadError::Type {
            field,
            expected: "map",
        }),
    }
}

/// A `YYYY-MM-DD` date that is possible and within the range the rules can carry.
fn want_date(v: Option<&Value>, field: &'static str) -> Result<Date, PayloadError> {
    let s = want_text(v, field)?;
    match dates::parse_iso(&s) {
        None => Err(PayloadError::Value { field, value: s }),
        Some(d) if !dates::in_range(d) => Err(PayloadError::DateOutOfRange { field, value: s }),
        Some(d) => Ok(d),
    }
}

/// Unix seconds that fall on a UTC day within the range the rules can carry.
fn want_time(v: Option<&Value>, field: &'static str) -> Result<u64, PayloadError> {
    let secs = want_uint(v, field)?;
    let day = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|t| t.date());
    if day.is_some_and(dates::in_range) {
        Ok(secs)
    } else {
        Err(PayloadError::TimeOutOfRange { field, value: secs })
    }
}

/// The signed payload bytes → the e-visa claims (spec §3). Unknown keys are ignored.
///
/// Every value is range-checked here, before any rule does arithmetic with it (spec §4:
/// an impossible value is `MALFORMED_PAYLOAD`, never a crash): `vf`, `vu`, `de` and the
/// known parts of `db` must lie within [`dates::EARLIEST`]..=[`dates::LATEST`], `iat` and
/// `exp` must fall on a UTC day in that range, and `ds` may be at most
/// [`max_stay_days`]. `ne` may be any unsigned integer: the rules only compare it.
pub fn parse_claims(payload: &[u8]) -> Result<Claims, PayloadError> {
    let v = cbor_item(payload).map_err(PayloadError::Cbor)?;
    let Value::Map(top) = v else {
        return Err(PayloadError::NotAMap);
    };
    let issuer = want_text(map_get_int(&top, 1), "iss (1)")?;
    if issuer != "KZ" {
        return Err(PayloadError::Value {
            field: "iss (1)",
            value: issuer,
        });
    }
    let issued_at = want_time(map_get_int(&top, 6), "iat (6)")?;
    let expires_at = want_time(map_get_int(&top, 4), "exp (4)")?;
    let ev = want_map(map_get_int(&top, CLAIM_EVISA), "evisa (-65537)")?;
    let ty = want_text(map_get_text(ev, "ty"), "ty")?;
    let category = Category::from_code(&ty).ok_or(PayloadError::Value {
        field: "ty",
        value: ty,
    })?;
    let checkpoints = match map_get_text(ev, "pp") {
        None => return Err(PayloadError::Missing("pp")),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::Text(t) => Ok(t.clone()),
                _ => Err(PayloadError::Type {
                    field: "pp",
                    expected: "array of text",
                }),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(PayloadError::Type {
                field: "pp",
                expected: "array of text",
            });
        }
    };
    let h = want_map(map_get_text(ev, "h"), "h")?;
    let db = want_text(map_get_text(h, "db"), "h.db")?;
    let birth = match PartialDate::parse_iso(&db) {
        None => {
            return Err(PayloadError::Value {
                field: "h.db",
                value: db,
            });
        }
        Some(b) if !b.in_range() => {
            return Err(PayloadError::DateOutOfRange {
                field: "h.db",
                value: db,
            });
        }
        Some(b) => b,
    };
    let sx = want_text(map_get_text(h, "sx"), "h.sx")?;
    let sex = Sex::from_code(&sx).ok_or(PayloadError::Value {
        field: "h.sx",
        value: sx,
    })?;
    let holder = Holder {
        surname: want_text(map_get_text(h, "sn"), "h.sn")?,
        given_names: want_text(map_get_text(h, "gn"), "h.gn")?,
        nationality: want_text(map_get_text(h, "na"), "h.na")?,
        birth,
        sex,
        document_number: want_text(map_get_text(h, "dn"), "h.dn")?,
        document_country: want_text(map_get_text(h, "dc"), "h.dc")?,
        document_expiry: want_date(map_get_text(h, "de"), "h.de")?,
    };
    let visa = Visa {
        number: want_text(map_get_text(ev, "vn"), "vn")?,
        invitation: want_text(map_get_text(ev, "in"), "in")?,
        category,
        entries: want_uint(map_get_text(ev, "ne"), "ne")?,
        valid_from: want_date(map_get_text(ev, "vf"), "vf")?,
        valid_until: want_date(map_get_text(ev, "vu"), "vu")?,
        stay_days: want_uint(map_get_text(ev, "ds"), "ds")?,
        checkpoints,
        holder,
    };
    let max_stay = max_stay_days();
    if visa.stay_days > max_stay {
        return Err(PayloadError::TooLarge {
            field: "ds",
            value: visa.stay_days,
            max: max_stay,
        });
    }
    if visa.valid_from > visa.valid_until {
        return Err(PayloadError::Value {
            field: "vf/vu",
            value: format!(
                "valid from {} is after valid until {}",
                visa.valid_from, visa.valid_until
            ),
        });
    }
    Ok(Claims {
        issuer,
        issued_at,
        expires_at,
        visa,
    })
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn int(i: i64) -> Value {
    Value::Integer(Integer::from(i))
}

fn uint(u: u64) -> Value {
    Value::Integer(Integer::from(u))
}

/// Claims → the CBOR payload bytes, in the key order of spec §3.
pub fn encode_claims(c: &Claims) -> Vec<u8> {
    cbor_bytes(&claims_value(c))
}

/// The CBOR bytes of any value: with [`claims_value`], what tests and fuzz targets use
/// to build payloads the typed [`Claims`] cannot express (a date in year 0000, a count
/// past `u64`, a field of the wrong type).
pub fn encode_value(v: &Value) -> Vec<u8> {
    cbor_bytes(v)
}

/// Claims → the CWT claims map as a CBOR value, in the key order of spec §3.
pub fn claims_value(c: &Claims) -> Value {
    let v = &c.visa;
    let h = &v.holder;
    let holder = Value::Map(vec![
        (text("sn"), text(&h.surname)),
        (text("gn"), text(&h.given_names)),
        (text("na"), text(&h.nationality)),
        (text("db"), text(&h.birth.to_iso())),
        (text("sx"), text(h.sex.code())),
        (text("dn"), text(&h.document_number)),
        (text("dc"), text(&h.document_country)),
        (text("de"), text(&h.document_expiry.to_string())),
    ]);
    let evisa = Value::Map(vec![
        (text("vn"), text(&v.number)),
        (text("in"), text(&v.invitation)),
        (text("ty"), text(v.category.code())),
        (text("ne"), uint(v.entries)),
        (text("vf"), text(&v.valid_from.to_string())),
        (text("vu"), text(&v.valid_until.to_string())),
        (text("ds"), uint(v.stay_days)),
        (
            text("pp"),
            Value::Array(v.checkpoints.iter().map(|p| text(p)).collect()),
        ),
        (text("h"), holder),
    ]);
    Value::Map(vec![
        (int(1), text(&c.issuer)),
        (int(6), uint(c.issued_at)),
        (int(4), uint(c.expires_at)),
        (int(CLAIM_EVISA), evisa),
    ])
}

/// How the issuer lays out the envelope. The defaults are what spec §1–§2 prescribe;
/// the other settings exist to produce the variants a verifier must also accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    pub tagged: bool,
    pub compress: bool,
    /// Put kid in the unprotected header instead of the protected one.
    pub kid_unprotected: bool,
    pub alg: i64,
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope {
            tagged: true,
            compress: true,
            kid_unprotected: false,
            alg: ALG_EDDSA,
        }
    }
}

/// Builds the protected header and the bytes to sign; the caller signs them (the
/// secret key never enters this module) and passes the signature to [`seal`].
pub fn prepare(payload: &[u8], kid: &[u8], env: &Envelope) -> (Vec<u8>, Vec<u8>) {
    let mut prot = vec![(int(1), int(env.alg))];
    if !env.kid_unprotected {
        prot.push((int(4), Value::Bytes(kid.to_vec())));
    }
    let protected_raw = cbor_bytes(&Value::Map(prot));
    let tbs = sig_structure(&protected_raw, payload);
    (protected_raw, tbs)
}

/// Assembles the COSE_Sign1 and wraps it into QR text.
pub fn seal(
    protected_raw: Vec<u8>,
    payload: Vec<u8>,
    kid: &[u8],
    signature: &[u8],
    env: &Envelope,
) -> String {
    let unprotected = if env.kid_unprotected {
        vec![(int(4), Value::Bytes(kid.to_vec()))]
    } else {
        Vec::new()
    };
    let arr = Value::Array(vec![
        Value::Bytes(protected_raw),
        Value::Map(unprotected),
        Value::Bytes(payload),
        Value::Bytes(signature.to_vec()),
    ]);
    let msg = if env.tagged {
        Value::Tag(COSE_SIGN1_TAG, Box::new(arr))
    } else {
        arr
    };
    wrap_transport(&cbor_bytes(&msg), env.compress)
}

/// COSE bytes → QR text.
pub fn wrap_transport(cose: &[u8], compress: bool) -> String {
    let body = if compress {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(cose).expect("write to Vec");
        z.finish().expect("finish into Vec")
    } else {
        cose.to_vec()
    };
    format!("{PREFIX}{}", base45::encode(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_aim_and_line_endings() {
        assert_eq!(strip_scanner_framing("]Q3KZV1:AB\r\n"), "KZV1:AB");
        assert_eq!(strip_scanner_framing("]Q7KZV1:AB"), "]Q7KZV1:AB");
        assert_eq!(strip_scanner_framing("KZV1:AB\n"), "KZV1:AB");
    }

    #[test]
    fn foreign_codes_are_named() {
        let e = unwrap_transport("https://example.org/x").unwrap_err();
        assert!(e.to_string().contains("not a Kazakhstan e-visa"), "{e}");
        assert!(e.to_string().contains("web address"), "{e}");
        let e = unwrap_transport("HC1:6BFOXN").unwrap_err();
        assert!(e.to_string().contains("COVID"), "{e}");
    }

    #[test]
    fn zip_bomb_is_refused() {
        let big = vec![0u8; MAX_DECOMPRESSED + 1];
        let text = wrap_transport(&big, true);
        assert_eq!(unwrap_transport(&text), Err(QrError::TooLarge));
        let ok = vec![0xD2u8; MAX_DECOMPRESSED];
        assert_eq!(
            unwrap_transport(&wrap_transport(&ok, true)).unwrap().len(),
            MAX_DECOMPRESSED
        );
    }

    #[test]
    fn cose_with_trailing_bytes_is_malformed() {
        let arr = Value::Array(vec![
            Value::Bytes(vec![]),
            Value::Map(vec![]),
            Value::Bytes(vec![1]),
            Value::Bytes(vec![2]),
        ]);
        let mut b = cbor_bytes(&arr);
        assert!(parse_cose(&b).is_ok());
        b.push(0);
        assert!(matches!(parse_cose(&b), Err(QrError::Cose(_))));
    }
}
