//! The signed update format (`docs/update-format.md`): trust-store updates and visa
//! revocation lists, signed by the ministry's root key. This module owns the wire
//! format only — [`sign`], [`parse`] (with the root signature check), the content
//! checks and the trust policy for what an update installs — all pure. Applying an
//! update to a terminal (database, folder swap) is `evisa_store::import`.
//!
//! Replay: each kind has its own monotonic sequence number; an update not above the
//! last applied one is refused, so an old list cannot un-revoke a visa or a key. The
//! trust folder also carries the sequence number of the update it came from
//! (`.evisa-update`, written into the copy before the swap, so it moves atomically with
//! the keys): a fresh database cannot be used to roll the folder back.

use std::path::Path;

use base64::Engine as _;
use ed25519_dalek::pkcs8::{EncodePublicKey, spki::der::pem::LineEnding};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::trust::{self, TrustError, TrustStore, hex, kid_of};

/// First line of every update file.
pub const MAGIC: &str = "EVISA-UPDATE/1";
/// Prefix of the signed bytes: a root signature over an update can never be taken for
/// a signature over anything else.
pub const SIG_CONTEXT: &[u8] = b"evisa update v1 signature\0";
/// Largest update file accepted.
pub const MAX_FILE: usize = 64 << 20;
/// The trust folder's record of the update it came from.
pub const STATE_FILE: &str = ".evisa-update";
/// Name of the deterministic test-only root key pair.
pub const TEST_ROOT_NAME: &str = "TEST-ONLY-update-root";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Trust,
    RevokedVisas,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Trust => "trust",
            Kind::RevokedVisas => "revoked_visas",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "trust" => Some(Kind::Trust),
            "revoked_visas" => Some(Kind::RevokedVisas),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("update file is {0} bytes, more than the {MAX_FILE} accepted")]
    TooLarge(usize),
    #[error("not an update file (it must start with the line {MAGIC:?})")]
    NotAnUpdate,
    #[error("update format {0:?} is not supported by this terminal (it reads {MAGIC:?})")]
    UnsupportedVersion(String),
    #[error("update file is truncated or malformed: {0}")]
    Truncated(&'static str),
    #[error("update file is malformed: {0}")]
    Malformed(String),
    #[error("update is signed by root key kid {found}, not by the pinned root key (kid {pinned})")]
    UnknownRoot { found: String, pinned: String },
    #[error(
        "the root signature does not verify: the file was altered or not signed by the pinned root key"
    )]
    BadSignature,
    #[error("root key {path}: {problem}")]
    RootKey { path: String, problem: String },
    #[error(
        "no update root key is configured: set `update_root_key` in the terminal configuration (--config FILE) or pass --root-pub FILE"
    )]
    NoRootKey,
    #[error(
        "root key {path} is a TEST-ONLY key, whose secret anyone can compute; a terminal refuses it as its trust anchor outside training mode (--training, or `training = true` in the configuration)"
    )]
    TestOnlyRoot { path: String },
    #[error("root key {0}; refusing to trust it")]
    UnsafeRootKey(String),
    #[error(
        "the update installs TEST-ONLY key {file} (\"{label}\") in the trust store; a terminal refuses it outside training mode"
    )]
    TestOnlyContent { file: String, label: String },
    #[error("update contents are invalid: {0}")]
    Invalid(String),
    #[error(
        "trust update #{seq} is not newer than the one the trust folder holds (#{applied}); an old update cannot be replayed"
    )]
    FolderReplay { seq: u64, applied: u64 },
    #[error("the updated trust folder would not load: {0}")]
    Trust(#[from] TrustError),
    #[error("trust folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
}

impl UpdateError {
    /// Whether the file itself was refused (bad, truncated, replayed, wrongly signed),
    /// as opposed to an operational failure (I/O, database).
    pub fn is_rejection(&self) -> bool {
        !matches!(
            self,
            UpdateError::Io { .. }
                | UpdateError::RootKey { .. }
                | UpdateError::NoRootKey
                | UpdateError::TestOnlyRoot { .. }
                | UpdateError::UnsafeRootKey(_)
                | UpdateError::Folder { .. }
        )
    }
}

/// One key file carried by a trust update: the exact bytes to write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFileEntry {
    pub file: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokedEntry {
    pub visa_number: String,
    pub reason: String,
}

/// The signed body (one line of compact JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    kind: String,
    seq: u64,
    issued: String,
    root_kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keys: Option<Vec<KeyFileEntry>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked_visas: Option<Vec<RevokedEntry>>,
}

/// What an update carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// The complete set of key files the trust folder must hold.
    Trust(Vec<KeyFileEntry>),
    /// The complete visa revocation list.
    RevokedVisas(Vec<RevokedEntry>),
}

impl Content {
    pub fn kind(&self) -> Kind {
        match self {
            Content::Trust(_) => Kind::Trust,
            Content::RevokedVisas(_) => Kind::RevokedVisas,
        }
    }
}

/// An update whose root signature verified and whose contents are valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub seq: u64,
    /// RFC 3339, as signed.
    pub issued: String,
    pub content: Content,
    /// SHA-256 of the whole file.
    pub sha256: [u8; 32],
}

/// Signs an update (ministry side). `issued` is RFC 3339.
pub fn sign(
    content: &Content,
    seq: u64,
    issued: &str,
    root: &SigningKey,
) -> Result<Vec<u8>, UpdateError> {
    check_seq(seq)?;
    check_issued(issued)?;
    check_content(content)?;
    let (keys, revoked_visas) = match content {
        Content::Trust(k) => (Some(k.clone()), None),
        Content::RevokedVisas(v) => (None, Some(v.clone())),
    };
    let body = Body {
        kind: content.kind().as_str().to_string(),
        seq,
        issued: issued.to_string(),
        root_kid: hex(&kid_of(&root.verifying_key())),
        keys,
        revoked_visas,
    };
    let json = serde_json::to_string(&body).map_err(|e| UpdateError::Malformed(e.to_string()))?;
    let signed = format!("{MAGIC}\n{json}\n");
    let sig = root.sign(&signed_bytes(signed.as_bytes()));
    let b64 = base64::engine::general_purpose::STANDARD.encode(sig.to_bytes());
    Ok(format!("{signed}signature {b64}\n").into_bytes())
}

fn signed_bytes(signed: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIG_CONTEXT.len() + signed.len());
    m.extend_from_slice(SIG_CONTEXT);
    m.extend_from_slice(signed);
    m
}

/// Parses an update file and verifies its root signature (strict Ed25519) and
/// contents. Pure: no file, clock or database.
pub fn parse(bytes: &[u8], root: &VerifyingKey) -> Result<Update, UpdateError> {
    if bytes.len() > MAX_FILE {
        return Err(UpdateError::TooLarge(bytes.len()));
    }
    let magic_line = format!("{MAGIC}\n");
    if !bytes.starts_with(magic_line.as_bytes()) {
        if let Some(rest) = bytes.strip_prefix(b"EVISA-UPDATE/") {
            let v = rest.split(|b| *b == b'\n').next().unwrap_or_default();
            return Err(UpdateError::UnsupportedVersion(format!(
                "EVISA-UPDATE/{}",
                String::from_utf8_lossy(&v[..v.len().min(20)])
            )));
        }
        return Err(UpdateError::NotAnUpdate);
    }
    let rest = &bytes[magic_line.len()..];
    let Some(body_end) = rest.iter().position(|b| *b == b'\n') else {
        return Err(UpdateError::Truncated("the body line is not terminated"));
    };
    let body_bytes = &rest[..body_end];
    let sig_line = &rest[body_end + 1..];
    let Some(sig_line) = sig_line.strip_suffix(b"\n") else {
        return Err(UpdateError::Truncated(
            "the signature line is missing or not terminated",
        ));
    };
    let Some(sig_b64) = sig_line.strip_prefix(b"signature ") else {
        return Err(UpdateError::Truncated(
            "the line after the body is not \"signature BASE64\"",
        ));
    };
    if sig_b64.contains(&b'\n') {
        return Err(UpdateError::Truncated(
            "extra lines after the signature line",
        ));
    }
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sig_b64)
        .ok()
        .and_then(|s| Signature::from_slice(&s).ok())
        .ok_or(UpdateError::Truncated(
            "the signature is not 64 bytes of base64",
        ))?;
    let signed = &bytes[..magic_line.len() + body_end + 1];
    let pinned = hex(&kid_of(root));
    if root.verify_strict(&signed_bytes(signed), &sig).is_err() {
        // Name a different root when the body says so; the kid is only a hint.
        let found = serde_json::from_slice::<serde_json::Value>(body_bytes)
            .ok()
            .and_then(|v| v.get("root_kid")?.as_str().map(str::to_string));
        return Err(match found {
            Some(found) if found != pinned => UpdateError::UnknownRoot { found, pinned },
            _ => UpdateError::BadSignature,
        });
    }
    let body: Body =
        serde_json::from_slice(body_bytes).map_err(|e| UpdateError::Malformed(e.to_string()))?;
    if body.root_kid != pinned {
        return Err(UpdateError::Malformed(format!(
            "root_kid {} does not name the key that signed it ({pinned})",
            body.root_kid
        )));
    }
    check_seq(body.seq)?;
    check_issued(&body.issued)?;
    let content = match (Kind::parse(&body.kind), body.keys, body.revoked_visas) {
        (Some(Kind::Trust), Some(keys), None) => Content::Trust(keys),
        (Some(Kind::RevokedVisas), None, Some(list)) => Content::RevokedVisas(list),
        (Some(k), _, _) => {
            return Err(UpdateError::Malformed(format!(
                "a {} update must carry exactly the {:?} field",
                k.as_str(),
                match k {
                    Kind::Trust => "keys",
                    Kind::RevokedVisas => "revoked_visas",
                }
            )));
        }
        (None, _, _) => {
            return Err(UpdateError::Malformed(format!(
                "unknown update kind {:?}",
                body.kind
            )));
        }
    };
    check_content(&content)?;
    Ok(Update {
        seq: body.seq,
        issued: body.issued,
        content,
        sha256: Sha256::digest(bytes).into(),
    })
}

fn check_seq(seq: u64) -> Result<(), UpdateError> {
    if seq == 0 || seq > i64::MAX as u64 {
        return Err(UpdateError::Invalid(format!(
            "seq {seq} is outside 1..=2^63-1"
        )));
    }
    Ok(())
}

fn check_issued(issued: &str) -> Result<(), UpdateError> {
    time::OffsetDateTime::parse(issued, &time::format_description::well_known::Rfc3339)
        .map(|_| ())
        .map_err(|_| UpdateError::Invalid(format!("issued {issued:?} is not an RFC 3339 time")))
}

/// A key file name the update may create: plain, `.toml`, no path or hidden name.
fn valid_key_file_name(name: &str) -> bool {
    name.len() <= 100
        && name.ends_with(".toml")
        && name.len() > 5
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn check_content(content: &Content) -> Result<(), UpdateError> {
    match content {
        Content::Trust(keys) => {
            if keys.is_empty() {
                return Err(UpdateError::Invalid(
                    "a trust update must carry at least one key file".into(),
                ));
            }
            let mut parsed = Vec::with_capacity(keys.len());
            for k in keys {
                if !valid_key_file_name(&k.file) {
                    return Err(UpdateError::Invalid(format!(
                        "key file name {:?} is not a plain NAME.toml",
                        k.file
                    )));
                }
                if keys.iter().filter(|o| o.file == k.file).count() > 1 {
                    return Err(UpdateError::Invalid(format!(
                        "key file {} appears twice",
                        k.file
                    )));
                }
                parsed.push(trust::parse_key_file(&k.file, &k.text)?);
            }
            TrustStore::new(parsed)?;
        }
        Content::RevokedVisas(list) => {
            let mut seen = std::collections::HashSet::new();
            for v in list {
                if v.visa_number.is_empty()
                    || v.visa_number.len() > 64
                    || v.visa_number
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(UpdateError::Invalid(format!(
                        "visa number {:?} is not valid",
                        v.visa_number
                    )));
                }
                if !seen.insert(v.visa_number.as_str()) {
                    return Err(UpdateError::Invalid(format!(
                        "visa {} appears twice",
                        v.visa_number
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The trust policy for a pinned root key (spec §5): outside training mode, a
/// test-only key (one of [`trust::TEST_ONLY_KEYS`], or a file named TEST-ONLY) is
/// refused. Pure.
pub fn check_root_policy(
    path: &Path,
    key: &VerifyingKey,
    training: bool,
) -> Result<(), UpdateError> {
    let named = path
        .file_name()
        .is_some_and(|n| trust::says_test_only(&n.to_string_lossy()));
    if !training && (trust::is_test_only_key(key) || named) {
        return Err(UpdateError::TestOnlyRoot {
            path: path.display().to_string(),
        });
    }
    Ok(())
}

/// The trust policy for what an update would install: outside training mode a trust
/// update carrying a test-only key is refused (and changes nothing). Pure.
pub fn check_content_policy(update: &Update, training: bool) -> Result<(), UpdateError> {
    let Content::Trust(keys) = &update.content else {
        return Ok(());
    };
    if training {
        return Ok(());
    }
    for k in keys {
        // The contents were validated by `parse`; a key that fails here is refused.
        let parsed = trust::parse_key_file(&k.file, &k.text)?;
        if parsed.is_test_only() {
            return Err(UpdateError::TestOnlyContent {
                file: k.file.clone(),
                label: parsed.label,
            });
        }
    }
    Ok(())
}

/// A trust update's content from key files (name, text): every file must parse and
/// together they must form a valid trust store (no duplicates), as a terminal will
/// load them. Sorted by name, so the same folder always signs to the same bytes.
pub fn trust_content(mut keys: Vec<KeyFileEntry>) -> Result<Content, UpdateError> {
    let parsed = keys
        .iter()
        .map(|k| trust::parse_key_file(&k.file, &k.text))
        .collect::<Result<Vec<_>, _>>()?;
    TrustStore::new(parsed)?;
    keys.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(Content::Trust(keys))
}

pub fn root_pub_pem(key: &VerifyingKey) -> Result<String, UpdateError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| UpdateError::Malformed(e.to_string()))
}

/// Parses a revocation list text file: one visa per line, `NUMBER reason text`;
/// blank lines and `#` comments are skipped.
pub fn revoked_content_from_text(text: &str) -> Result<Content, UpdateError> {
    let mut list = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (number, reason) = line
            .split_once(char::is_whitespace)
            .map(|(n, r)| (n, r.trim()))
            .unwrap_or((line, ""));
        list.push(RevokedEntry {
            visa_number: number.to_string(),
            reason: if reason.is_empty() {
                "revoked by the ministry".into()
            } else {
                reason.to_string()
            },
        });
    }
    Ok(Content::RevokedVisas(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> SigningKey {
        SigningKey::from_bytes(&[42; 32])
    }

    fn list() -> Content {
        Content::RevokedVisas(vec![RevokedEntry {
            visa_number: "EV1".into(),
            reason: "fraud".into(),
        }])
    }

    #[test]
    fn sign_parse_round_trip() {
        let bytes = sign(&list(), 3, "2026-11-25T10:00:00Z", &root()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("EVISA-UPDATE/1\n{\"kind\":\"revoked_visas\",\"seq\":3,"));
        let u = parse(&bytes, &root().verifying_key()).unwrap();
        assert_eq!(u.seq, 3);
        assert_eq!(u.content, list());
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sign(&list(), 1, "2026-11-25T10:00:00Z", &root()).unwrap();
        for n in 0..bytes.len() {
            assert!(parse(&bytes[..n], &root().verifying_key()).is_err(), "{n}");
        }
    }

    #[test]
    fn other_root_is_named() {
        let bytes = sign(&list(), 1, "2026-11-25T10:00:00Z", &root()).unwrap();
        let other = SigningKey::from_bytes(&[7; 32]);
        assert!(matches!(
            parse(&bytes, &other.verifying_key()),
            Err(UpdateError::UnknownRoot { .. })
        ));
    }

    proptest::proptest! {
        // The parser of untrusted bytes from removable media never panics, and no
        // single-byte change to a signed file survives.
        #[test]
        fn mutations_never_verify(pos in 0usize..4096, byte in proptest::prelude::any::<u8>()) {
            let bytes = sign(&list(), 2, "2026-11-25T10:00:00Z", &root()).unwrap();
            let mut m = bytes.clone();
            let i = pos % m.len();
            proptest::prop_assume!(m[i] != byte);
            m[i] = byte;
            let r = parse(&m, &root().verifying_key());
            // Base64 padding bits are the one place a change can decode to the same
            // signature; then the file's meaning is unchanged.
            if let Ok(u) = r {
                proptest::prop_assert_eq!(u.content, list());
                proptest::prop_assert!(i >= bytes.len() - 4);
            }
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let mut with_magic = format!("{MAGIC}\n").into_bytes();
            with_magic.extend_from_slice(&bytes);
            let _ = parse(&bytes, &root().verifying_key());
            let _ = parse(&with_magic, &root().verifying_key());
        }
    }

    #[test]
    fn key_file_names_are_plain() {
        for ok in ["a.toml", "TEST-ONLY-x_1.toml"] {
            assert!(valid_key_file_name(ok), "{ok}");
        }
        for bad in [
            "../a.toml",
            ".a.toml",
            "a/b.toml",
            ".toml",
            "a.txt",
            "a b.toml",
        ] {
            assert!(!valid_key_file_name(bad), "{bad}");
        }
    }
}
