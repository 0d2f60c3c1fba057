//! The issuer side, used by the ministry tooling, the fixture generator and tests:
//! signing keys (PKCS#8 PEM), visa description files, signing a visa into QR text and
//! rendering the printable A4 e-visa page a traveller carries.

use ed25519_dalek::Signer;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use image::{GrayImage, Luma};
use time::{Date, OffsetDateTime};

use evisa_core::dates::{self, PartialDate};
use evisa_core::payload::{self, Category, Claims, Envelope, Holder, Sex, Visa};
use evisa_core::trust::{self, TrustError};
use evisa_core::update::{self, Content, KeyFileEntry, UpdateError};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("signing key is not a PKCS#8 PEM Ed25519 private key: {0}")]
    Key(String),
    #[error("visa file: {0}")]
    VisaFile(String),
    #[error("the e-visa text does not fit in a QR code: {0}")]
    Qr(String),
}

pub use evisa_core::dates::KZ_OFFSET;

pub fn generate_key() -> SigningKey {
    let mut seed = [0u8; 32];
    rand::fill(&mut seed);
    SigningKey::from_bytes(&seed)
}

pub fn key_to_pem(key: &SigningKey) -> Result<String, IssueError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|p| p.to_string())
        .map_err(|e| IssueError::Key(e.to_string()))
}

pub fn key_from_pem(pem: &str) -> Result<SigningKey, IssueError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| IssueError::Key(e.to_string()))
}

/// Signs claims into QR text with the given envelope layout.
pub fn sign(claims: &Claims, key: &SigningKey, env: &Envelope) -> String {
    let payload = payload::encode_claims(claims);
    let kid = trust::kid_of(&key.verifying_key());
    let (protected, tbs) = payload::prepare(&payload, &kid, env);
    let sig = key.sign(&tbs);
    payload::seal(protected, payload, &kid, &sig.to_bytes(), env)
}

/// A visa description file (`evisa issue --visa FILE.toml`): what the migration
/// service's system would hand to the signer.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct VisaFile {
    pub number: String,
    pub invitation: String,
    /// `T`, `B` or `M`.
    pub category: String,
    pub entries: u64,
    pub valid_from: String,
    pub valid_until: String,
    pub stay_days: u64,
    pub checkpoints: Vec<String>,
    /// Issue time, RFC 3339 (`2026-10-01T09:30:00Z`).
    pub issued_at: String,
    pub holder: HolderFile,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct HolderFile {
    pub surname: String,
    #[serde(default)]
    pub given_names: String,
    pub nationality: String,
    /// `YYYY-MM-DD`, `XX` for an unknown month or day.
    pub birth: String,
    /// `M`, `F` or `X`.
    pub sex: String,
    pub document_number: String,
    pub document_country: String,
    pub document_expiry: String,
}

impl VisaFile {
    pub fn parse(text: &str) -> Result<Self, IssueError> {
        toml::from_str(text).map_err(|e| IssueError::VisaFile(e.message().to_string()))
    }

    pub fn to_claims(&self) -> Result<Claims, IssueError> {
        let bad = |what: &str, v: &str| IssueError::VisaFile(format!("{what} {v:?} is not valid"));
        let date = |what: &str, v: &str| dates::parse_iso(v).ok_or_else(|| bad(what, v));
        let h = &self.holder;
        let valid_until = date("valid_until", &self.valid_until)?;
        let issued = OffsetDateTime::parse(
            &self.issued_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| bad("issued_at", &self.issued_at))?;
        Ok(Claims {
            issuer: "KZ".into(),
            issued_at: u64::try_from(issued.unix_timestamp())
                .map_err(|_| bad("issued_at", &self.issued_at))?,
            expires_at: end_of_day_kz(valid_until),
            visa: Visa {
                number: self.number.clone(),
                invitation: self.invitation.clone(),
                category: Category::from_code(&self.category)
                    .ok_or_else(|| bad("category", &self.category))?,
                entries: self.entries,
                valid_from: date("valid_from", &self.valid_from)?,
                valid_until,
                stay_days: self.stay_days,
                checkpoints: self.checkpoints.clone(),
                holder: Holder {
                    surname: h.surname.clone(),
                    given_names: h.given_names.clone(),
                    nationality: h.nationality.clone(),
                    birth: PartialDate::parse_iso(&h.birth)
                        .ok_or_else(|| bad("holder.birth", &h.birth))?,
                    sex: Sex::from_code(&h.sex).ok_or_else(|| bad("holder.sex", &h.sex))?,
                    document_number: h.document_number.clone(),
                    document_country: h.document_country.clone(),
                    document_expiry: date("holder.document_expiry", &h.document_expiry)?,
                },
            },
        })
    }
}

/// The last second of `day` in Kazakhstan time, as Unix seconds (the `exp` claim).
pub fn end_of_day_kz(day: Date) -> u64 {
    let t = day
        .with_hms(23, 59, 59)
        .expect("valid time")
        .assume_offset(KZ_OFFSET)
        .unix_timestamp();
    u64::try_from(t).unwrap_or(0)
}

/// Renders the QR text as a grayscale image with `module_px` pixels per module and
/// the standard 4-module quiet zone.
pub fn qr_image(text: &str, module_px: u32) -> Result<GrayImage, IssueError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::Q)
        .map_err(|e| IssueError::Qr(e.to_string()))?;
    Ok(code
        .render::<Luma<u8>>()
        .module_dimensions(module_px, module_px)
        .quiet_zone(true)
        .build())
}

/// A4 at 150 dpi.
pub const PAGE_W: u32 = 1240;
pub const PAGE_H: u32 = 1754;

/// The printable e-visa page: a header, the visa and holder fields in words, and the
/// QR code large enough for a booth camera (about 6 cm square).
pub fn render_page(claims: &Claims, qr_text: &str) -> Result<GrayImage, IssueError> {
    let mut page = GrayImage::from_pixel(PAGE_W, PAGE_H, Luma([255]));
    let v = &claims.visa;
    let h = &v.holder;
    draw_text(&mut page, 80, 70, 4, "REPUBLIC OF KAZAKHSTAN");
    draw_text(&mut page, 80, 120, 4, "ELECTRONIC VISA / E-VISA");
    fill(&mut page, 80, 170, PAGE_W - 160, 4, 0);
    let issued = OffsetDateTime::from_unix_timestamp(claims.issued_at as i64)
        .map(|t| t.to_offset(KZ_OFFSET).date().to_string())
        .unwrap_or_default();
    let rows: Vec<(&str, String)> = vec![
        ("VISA NUMBER", v.number.clone()),
        ("INVITATION", v.invitation.clone()),
        ("CATEGORY", v.category.name().to_uppercase()),
        ("ENTRIES", v.entries.to_string()),
        ("VALID FROM", v.valid_from.to_string()),
        ("VALID UNTIL", v.valid_until.to_string()),
        ("PERMITTED STAY", format!("{} DAYS", v.stay_days)),
        ("CHECKPOINTS", v.checkpoints.join(", ")),
        ("ISSUED", issued),
        ("SURNAME", h.surname.clone()),
        ("GIVEN NAMES", h.given_names.clone()),
        ("NATIONALITY", h.nationality.clone()),
        ("DATE OF BIRTH", h.birth.to_iso()),
        ("SEX", h.sex.code().into()),
        ("PASSPORT NO.", h.document_number.clone()),
        ("ISSUING STATE", h.document_country.clone()),
        ("PASSPORT EXPIRY", h.document_expiry.to_string()),
    ];
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 210 + i as u32 * 40;
        draw_text(&mut page, 80, y, 2, label);
        draw_text(&mut page, 420, y - 4, 3, value);
    }
    let qr = qr_image(qr_text, 5)?;
    // Scale to about 6 cm (354 px at 150 dpi) or more, whole pixels per module only.
    let x = (PAGE_W.saturating_sub(qr.width())) / 2;
    let y = 940;
    image::imageops::overlay(&mut page, &qr, i64::from(x), i64::from(y));
    draw_text(
        &mut page,
        80,
        PAGE_H - 120,
        2,
        "PRESENT THIS PAGE WITH YOUR PASSPORT AT BORDER CONTROL.",
    );
    draw_text(
        &mut page,
        80,
        PAGE_H - 90,
        2,
        "THE QR CODE IS SIGNED; ANY ALTERATION MAKES THE VISA INVALID.",
    );
    Ok(page)
}

fn fill(img: &mut GrayImage, x: u32, y: u32, w: u32, h: u32, v: u8) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, Luma([v]));
        }
    }
}

/// Draws ASCII text with the public-domain 8×8 bitmap font, `scale` pixels per dot.
fn draw_text(img: &mut GrayImage, x: u32, y: u32, scale: u32, text: &str) {
    use font8x8::UnicodeFonts;
    for (i, ch) in text.chars().enumerate() {
        let glyph = font8x8::BASIC_FONTS.get(ch).unwrap_or([0; 8]);
        let gx = x + i as u32 * 8 * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                if bits & (1 << col) != 0 {
                    fill(
                        img,
                        gx + col * scale,
                        y + row as u32 * scale,
                        scale,
                        scale,
                        0,
                    );
                }
            }
        }
    }
}

/// Largest key file read from a folder to be signed into a trust update.
const MAX_KEY_FILE: u64 = 64 << 10;

/// Builds a trust update's content from a folder of key files (every `*.toml`,
/// validated as a trust store): the ministry's `evisa-issuer update sign --keys DIR`.
pub fn trust_content_from_dir(dir: &Path) -> Result<Content, UpdateError> {
    use std::io::Read as _;
    let io = |source| UpdateError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut keys = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        let p = e.map_err(io)?.path();
        if !(p.extension().is_some_and(|x| x == "toml") && p.is_file()) {
            continue;
        }
        let mut text = String::new();
        std::fs::File::open(&p)
            .and_then(|f| f.take(MAX_KEY_FILE + 1).read_to_string(&mut text))
            .map_err(|e| UpdateError::Invalid(format!("{}: {e}", p.display())))?;
        if text.len() as u64 > MAX_KEY_FILE {
            return Err(UpdateError::Invalid(format!(
                "{} is larger than {MAX_KEY_FILE} bytes (not a trust-store key file)",
                p.display()
            )));
        }
        keys.push(KeyFileEntry {
            file: p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            text,
        });
    }
    if keys.is_empty() {
        return Err(UpdateError::Trust(TrustError::Empty(dir.to_path_buf())));
    }
    update::trust_content(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip() {
        let k = SigningKey::from_bytes(&[9; 32]);
        let pem = key_to_pem(&k).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(key_from_pem(&pem).unwrap().to_bytes(), k.to_bytes());
        assert!(
            key_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err()
        );
    }

    #[test]
    fn exp_is_end_of_kazakh_day() {
        // 2026-12-31 23:59:59 +05:00 = 18:59:59Z
        assert_eq!(
            end_of_day_kz(time::macros::date!(2026 - 12 - 31)),
            1_798_743_599
        );
    }
}
