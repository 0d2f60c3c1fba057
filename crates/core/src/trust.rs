//! The terminal's trust store (spec §5): issuer public keys with their kid, label,
//! validity window and revocation flag, and the Ed25519 signature check. Parsing a key
//! file is pure; [`TrustStore::load_dir`] is the one place that reads the folder.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use time::Date;

use crate::dates;

/// The 8-byte key identifier of spec §2.
pub type Kid = [u8; 8];

/// kid = first 8 bytes of SHA-256 of the raw 32-byte public key.
pub fn kid_of(key: &VerifyingKey) -> Kid {
    let digest = Sha256::digest(key.as_bytes());
    let mut kid = [0u8; 8];
    kid.copy_from_slice(&digest[..8]);
    kid
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read trust store {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("trust store {0} holds no key files (*.toml)")]
    Empty(PathBuf),
    #[error("trust store key file {file}: {problem}")]
    BadFile { file: String, problem: String },
    #[error("trust store key files {first} and {second} hold the same key (kid {kid})")]
    Duplicate {
        first: String,
        second: String,
        kid: String,
    },
    #[error(
        "trust store key file {file} (\"{label}\") is a TEST-ONLY key, whose secret anyone can compute; a terminal refuses it outside training mode (remove it, or set `training = true` on a training machine)"
    )]
    TestOnlyKey { file: String, label: String },
}

/// The public keys of the key pairs `evisa fixtures` derives from fixed, public seeds
/// (SHA-256 of `"evisa fixture key NAME"`): anyone can sign with them. The binary
/// knows them by the key itself, so renaming a file or relabelling a key does not
/// hide one. A test derives them afresh from the seeds, so this list cannot drift.
pub const TEST_ONLY_KEYS: [(&str, [u8; 32]); 5] = [
    (
        "TEST-ONLY-issuer-2026",
        [
            0xde, 0x9c, 0x99, 0x4a, 0xd2, 0x48, 0x8b, 0x99, 0x84, 0x88, 0xe7, 0xca, 0xd8, 0xdf,
            0x51, 0x39, 0xf3, 0x18, 0xb3, 0x90, 0x9e, 0x11, 0x06, 0xd6, 0x7b, 0x5c, 0x33, 0x3f,
            0x3f, 0x65, 0xc3, 0x57,
        ],
    ),
    (
        "TEST-ONLY-revoked-2025",
        [
            0x8d, 0xa5, 0xcb, 0x43, 0x2b, 0xfa, 0xbe, 0x67, 0xa3, 0xcd, 0x84, 0xaa, 0x3a, 0x06,
            0x08, 0xda, 0x91, 0xbb, 0x06, 0x6a, 0x34, 0x94, 0x3a, 0xfe, 0x79, 0xa5, 0xd1, 0xef,
            0xa3, 0x1a, 0x08, 0xbc,
        ],
    ),
    (
        "TEST-ONLY-untrusted",
        [
            0xc7, 0x1a, 0x6a, 0x36, 0xb8, 0x50, 0x0c, 0xb2, 0xce, 0x8c, 0x74, 0xf9, 0xcb, 0x26,
            0xfb, 0x51, 0x1b, 0xd1, 0x42, 0xd8, 0xf6, 0x1d, 0xe7, 0x91, 0xd6, 0x05, 0xef, 0x49,
            0xe6, 0x76, 0xb2, 0x51,
        ],
    ),
    (
        "TEST-ONLY-update-root",
        [
            0x1c, 0xc9, 0x6e, 0xf2, 0x81, 0xf5, 0x20, 0x07, 0xfb, 0x48, 0x79, 0xc4, 0xd8, 0x89,
            0xa9, 0xf8, 0x87, 0x01, 0xf1, 0x10, 0xef, 0x06, 0x83, 0xf9, 0x04, 0x31, 0xce, 0xe9,
            0xf2, 0x4a, 0x73, 0x26,
        ],
    ),
    (
        "foreign-root",
        [
            0x6c, 0x62, 0xb3, 0xdc, 0xbb, 0x58, 0xfe, 0xce, 0xad, 0xd4, 0xce, 0x50, 0xbe, 0x51,
            0x02, 0x92, 0x25, 0x38, 0x90, 0x0e, 0xb6, 0x1e, 0xb3, 0x18, 0x0e, 0xe2, 0x31, 0x31,
            0xa2, 0x81, 0xa9, 0x93,
        ],
    ),
];

/// Whether `key` is one of [`TEST_ONLY_KEYS`].
pub fn is_test_only_key(key: &VerifyingKey) -> bool {
    TEST_ONLY_KEYS.iter().any(|(_, k)| k == key.as_bytes())
}

/// Whether a file name or label says TEST-ONLY (any case, `-`, `_` or space): such a
/// key is treated as test-only whatever its bytes, since its owner said so.
pub fn says_test_only(text: &str) -> bool {
    let t: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_uppercase)
        .collect();
    t.contains("TESTONLY")
}

/// One trusted issuer key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub label: String,
    pub key: VerifyingKey,
    pub kid: Kid,
    pub not_before: Date,
    pub not_after: Date,
    pub revoked: bool,
    /// File name it came from, for messages.
    pub source: String,
}

impl TrustedKey {
    /// Strict RFC 8032 verification (`verify_strict`): rejects non-canonical S and
    /// small-order keys as spec §2 requires.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(message, &sig).is_ok()
    }

    /// A key generated for tests: one of [`TEST_ONLY_KEYS`], or labelled or named so.
    pub fn is_test_only(&self) -> bool {
        is_test_only_key(&self.key) || says_test_only(&self.label) || says_test_only(&self.source)
    }

    /// Whether an `iat` (Unix seconds) falls on a UTC day within the key's window.
    pub fn covers(&self, issued_at: u64) -> bool {
        let Some(day) = i64::try_from(issued_at)
            .ok()
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
            .map(|t| t.date())
        else {
            return false;
        };
        self.not_before <= day && day <= self.not_after
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    label: String,
    public_key: String,
    not_before: String,
    not_after: String,
    #[serde(default)]
    revoked: bool,
}

/// Parses one key file's text (spec §5). The kid is derived, never read.
pub fn parse_key_file(name: &str, text: &str) -> Result<TrustedKey, TrustError> {
    let bad = |problem: String| TrustError::BadFile {
        file: name.to_string(),
        problem,
    };
    let f: KeyFile = toml::from_str(text).map_err(|e| bad(e.message().to_string()))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(f.public_key.trim())
        .map_err(|e| bad(format!("public_key is not base64 ({e})")))?;
    let raw: [u8; 32] = raw
        .try_into()
        .map_err(|r: Vec<u8>| bad(format!("public_key is {} bytes, not 32", r.len())))?;
    let key = VerifyingKey::from_bytes(&raw)
        .map_err(|_| bad("public_key is not a valid Ed25519 point".into()))?;
    if key.is_weak() {
        return Err(bad("public_key is a small-order (weak) key".into()));
    }
    let date = |field: &str, v: &str| {
        dates::parse_iso(v).ok_or_else(|| bad(format!("{field} {v:?} is not a YYYY-MM-DD date")))
    };
    let not_before = date("not_before", &f.not_before)?;
    let not_after = date("not_after", &f.not_after)?;
    if not_before > not_after {
        return Err(bad(format!(
            "not_before {not_before} is after not_after {not_after}"
        )));
    }
    Ok(TrustedKey {
        label: f.label,
        kid: kid_of(&key),
        key,
        not_before,
        not_after,
        revoked: f.revoked,
        source: name.to_string(),
    })
}

/// Renders a key file for [`parse_key_file`] (used by `keygen`).
pub fn render_key_file(
    label: &str,
    key: &VerifyingKey,
    not_before: Date,
    not_after: Date,
) -> String {
    format!(
        "# Trust-store entry (spec §5). kid = {}\nlabel = {}\npublic_key = \"{}\"\nnot_before = \"{not_before}\"\nnot_after = \"{not_after}\"\nrevoked = false\n",
        hex(&kid_of(key)),
        toml_string(label),
        base64::engine::general_purpose::STANDARD.encode(key.as_bytes()),
    )
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The set of issuer keys a terminal trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustStore {
    keys: Vec<TrustedKey>,
}

impl TrustStore {
    /// Builds a store from parsed keys; the same key twice is an error.
    pub fn new(keys: Vec<TrustedKey>) -> Result<Self, TrustError> {
        for (i, a) in keys.iter().enumerate() {
            if let Some(b) = keys[..i].iter().find(|b| b.kid == a.kid) {
                return Err(TrustError::Duplicate {
                    first: b.source.clone(),
                    second: a.source.clone(),
                    kid: hex(&a.kid),
                });
            }
        }
        Ok(TrustStore { keys })
    }

    pub fn find(&self, kid: &[u8]) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.kid.as_slice() == kid)
    }

    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// The test-only keys in the store, as (file, label).
    pub fn test_only_keys(&self) -> Vec<(String, String)> {
        self.keys
            .iter()
            .filter(|k| k.is_test_only())
            .map(|k| (k.source.clone(), k.label.clone()))
            .collect()
    }

    /// The trust policy of a terminal (spec §5): outside training mode a store that
    /// holds a test-only key is refused, naming the first such file (under `dir`, the
    /// folder it was loaded from). Pure: the caller decides what training mode is.
    pub fn check_policy(&self, dir: &Path, training: bool) -> Result<(), TrustError> {
        if training {
            return Ok(());
        }
        match self.test_only_keys().into_iter().next() {
            None => Ok(()),
            Some((file, label)) => Err(TrustError::TestOnlyKey {
                file: dir.join(file).display().to_string(),
                label,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use time::macros::date;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn key_file_round_trip_and_kid_is_derived() {
        let sk = key(7);
        let text = render_key_file(
            "test \"signer\"",
            &sk.verifying_key(),
            date!(2026 - 01 - 01),
            date!(2027 - 12 - 31),
        );
        let k = parse_key_file("a.toml", &text).unwrap();
        assert_eq!(k.label, "test \"signer\"");
        assert_eq!(k.kid, kid_of(&sk.verifying_key()));
        assert!(!k.revoked);
        assert!(k.covers(1_767_225_600)); // 2026-01-01T00:00Z
        assert!(!k.covers(1_767_225_599));
    }

    #[test]
    fn bad_files_are_named() {
        let e = parse_key_file("x.toml", "label = 1").unwrap_err();
        assert!(e.to_string().contains("x.toml"), "{e}");
        let e = parse_key_file(
            "y.toml",
            "label=\"a\"\npublic_key=\"AAAA\"\nnot_before=\"2026-01-01\"\nnot_after=\"2026-01-02\"",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not 32"), "{e}");
    }

    /// The seed formula of `evisa fixtures` (src/fixtures.rs, src/update.rs).
    fn fixture_seeded(name: &str) -> VerifyingKey {
        SigningKey::from_bytes(&Sha256::digest(format!("evisa fixture key {name}")).into())
            .verifying_key()
    }

    #[test]
    fn test_only_key_list_is_what_the_fixture_seeds_derive() {
        for (name, public) in TEST_ONLY_KEYS {
            let derived = fixture_seeded(name);
            assert_eq!(
                &public,
                derived.as_bytes(),
                "{name}: {:?}",
                derived.as_bytes()
            );
        }
        assert!(is_test_only_key(&fixture_seeded(
            crate::update::TEST_ROOT_NAME
        )));
        assert!(!is_test_only_key(&key(7).verifying_key()));
    }

    #[test]
    fn test_only_keys_are_refused_outside_training_whatever_their_name() {
        let test_key = fixture_seeded("TEST-ONLY-issuer-2026");
        let text = render_key_file(
            "MIA e-visa signer 2026-01",
            &test_key,
            date!(2026 - 01 - 01),
            date!(2027 - 12 - 31),
        );
        let renamed = parse_key_file("mia-2026.toml", &text).unwrap();
        let store = TrustStore::new(vec![renamed]).unwrap();
        assert_eq!(
            store.test_only_keys(),
            vec![("mia-2026.toml".into(), "MIA e-visa signer 2026-01".into())]
        );
        let e = store
            .check_policy(Path::new("/etc/evisa/keys"), false)
            .unwrap_err();
        assert!(
            e.to_string().contains("/etc/evisa/keys/mia-2026.toml"),
            "{e}"
        );
        assert!(store.check_policy(Path::new("k"), true).is_ok());
        // A production key is accepted; one that says TEST ONLY is not.
        let prod = render_key_file(
            "MIA signer",
            &key(7).verifying_key(),
            date!(2026 - 01 - 01),
            date!(2027 - 12 - 31),
        );
        let ok = TrustStore::new(vec![parse_key_file("mia.toml", &prod).unwrap()]).unwrap();
        assert!(ok.check_policy(Path::new("k"), false).is_ok());
        let named =
            TrustStore::new(vec![parse_key_file("test_only-x.toml", &prod).unwrap()]).unwrap();
        assert!(named.check_policy(Path::new("k"), false).is_err());
        let labelled = prod.replace("MIA signer", "Test Only signer");
        let labelled = TrustStore::new(vec![parse_key_file("x.toml", &labelled).unwrap()]).unwrap();
        assert!(labelled.check_policy(Path::new("k"), false).is_err());
    }

    #[test]
    fn duplicates_refused() {
        let sk = key(3);
        let text = render_key_file(
            "a",
            &sk.verifying_key(),
            date!(2026 - 01 - 01),
            date!(2027 - 01 - 01),
        );
        let a = parse_key_file("a.toml", &text).unwrap();
        let b = parse_key_file("b.toml", &text).unwrap();
        assert!(matches!(
            TrustStore::new(vec![a, b]),
            Err(TrustError::Duplicate { .. })
        ));
    }
}
