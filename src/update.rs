//! Signed updates (format: `docs/update-format.md`): trust-store updates and visa
//! revocation lists, signed by the ministry's root key and imported offline from
//! removable media. Parsing and signature checking are pure ([`parse`]); [`import`]
//! applies a verified update atomically: the revocation list in one database
//! transaction, the trust folder by swapping in a complete, validated copy
//! (`renameat2(RENAME_EXCHANGE)` on Linux) inside that transaction, before its commit.
//!
//! Replay: each kind has its own monotonic sequence number; an update not above the
//! last applied one is refused, so an old list cannot un-revoke a visa or a key. The
//! trust folder also carries the sequence number of the update it came from
//! (`.evisa-update`, written into the copy before the swap, so it moves atomically with
//! the keys): a fresh database cannot be used to roll the folder back.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePublicKey, EncodePublicKey, spki::der::pem::LineEnding};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::store::{AppliedUpdate, AuditEvent, RevokedVisa, Store, StoreError};
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
    Io { path: String, source: io::Error },
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
    Folder { path: String, source: io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UpdateError {
    /// Whether the file itself was refused (bad, truncated, replayed, wrongly signed),
    /// as opposed to an operational failure (I/O, database).
    pub fn is_rejection(&self) -> bool {
        match self {
            UpdateError::Io { .. }
            | UpdateError::RootKey { .. }
            | UpdateError::NoRootKey
            | UpdateError::TestOnlyRoot { .. }
            | UpdateError::UnsafeRootKey(_)
            | UpdateError::Folder { .. } => false,
            UpdateError::Store(StoreError::Replay { .. }) => true,
            UpdateError::Store(_) => false,
            _ => true,
        }
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

/// Reads a pinned root public key (SPKI PEM, `-----BEGIN PUBLIC KEY-----`).
pub fn read_root_pub(path: &Path) -> Result<VerifyingKey, UpdateError> {
    let bad = |problem: String| UpdateError::RootKey {
        path: path.display().to_string(),
        problem,
    };
    let text =
        crate::files::read_capped_text(path, crate::files::MAX_KEY_FILE, "a public key PEM file")
            .map_err(|e| bad(e.to_string()))?;
    let key = VerifyingKey::from_public_key_pem(&text)
        .map_err(|e| bad(format!("not an Ed25519 public key PEM ({e})")))?;
    if key.is_weak() {
        return Err(bad("a small-order (weak) key".into()));
    }
    Ok(key)
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

/// Reads the pinned root key as a terminal must: no file that others can replace
/// (world-writable, or owned by another user; group-writable only warns, through
/// `warn`), and no test-only key outside training mode.
pub fn load_root_pub(
    path: &Path,
    training: bool,
    warn: &mut dyn FnMut(&str),
) -> Result<VerifyingKey, UpdateError> {
    if let Some(f) = crate::permissions::check_key_file(path) {
        if f.world_writable {
            return Err(UpdateError::UnsafeRootKey(f.description));
        }
        warn(&f.description);
    }
    let key = read_root_pub(path)?;
    check_root_policy(path, &key, training)?;
    Ok(key)
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

pub fn root_pub_pem(key: &VerifyingKey) -> Result<String, UpdateError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| UpdateError::Malformed(e.to_string()))
}

/// The deterministic test-only root key (public seed: anyone can sign with it).
pub fn test_root_key() -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(format!("evisa fixture key {TEST_ROOT_NAME}")).into())
}

/// Writes the test-only root pair: `KEYS/TEST-ONLY-update-root.pub` and the secret in
/// `KEYS/test-only-secret/`. Called by `evisa fixtures`.
pub fn write_test_root(keys_dir: &Path) -> anyhow::Result<()> {
    let sk = test_root_key();
    let secret_dir = keys_dir.join(crate::fixtures::SECRET_DIR);
    std::fs::create_dir_all(&secret_dir)?;
    std::fs::write(
        secret_dir.join(format!("{TEST_ROOT_NAME}.key")),
        crate::issue::key_to_pem(&sk)?,
    )?;
    std::fs::write(
        keys_dir.join(format!("{TEST_ROOT_NAME}.pub")),
        root_pub_pem(&sk.verifying_key())?,
    )?;
    Ok(())
}

/// Writes sample update files signed by the test-only root (deterministic: fixed
/// issue time, Ed25519 signatures are deterministic). Files named `fail_*` must be
/// refused by any terminal pinning the test root; the others apply in name order to
/// a terminal with the sample trust folder.
pub fn write_sample_updates(out: &Path, keys_dir: &Path) -> anyhow::Result<()> {
    let root = test_root_key();
    let issued = "2026-11-20T06:00:00Z";
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    std::fs::create_dir_all(out)?;
    let list = |visas: &[(&str, &str)]| {
        Content::RevokedVisas(
            visas
                .iter()
                .map(|(v, r)| RevokedEntry {
                    visa_number: v.to_string(),
                    reason: r.to_string(),
                })
                .collect(),
        )
    };
    let rv1 = sign(
        &list(&[("EV26KZ0012345", "cancelled by the migration service (test)")]),
        1,
        issued,
        &root,
    )?;
    let rv2 = sign(
        &list(&[
            ("EV26KZ0012345", "cancelled by the migration service (test)"),
            ("EV26KZ0099999", "fraudulent application (test)"),
        ]),
        2,
        issued,
        &root,
    )?;
    let trust1 = sign(&trust_content_from_dir(keys_dir)?, 1, issued, &root)?;
    let write = |name: &str, bytes: &[u8]| std::fs::write(out.join(name), bytes);
    write("revoked-visas-1.evu", &rv1)?;
    write("revoked-visas-2.evu", &rv2)?;
    write("trust-1.evu", &trust1)?;
    let mut bad_sig = rv2.clone();
    let n = bad_sig.len();
    bad_sig[n - 10] = if bad_sig[n - 10] == b'A' { b'B' } else { b'A' };
    write("fail_bad_signature.evu", &bad_sig)?;
    write("fail_truncated.evu", &rv2[..rv2.len() - 20])?;
    let altered = String::from_utf8(rv2.clone())?.replace("EV26KZ0099999", "EV26KZ0099998");
    write("fail_altered_contents.evu", altered.as_bytes())?;
    let foreign = SigningKey::from_bytes(&Sha256::digest(b"evisa fixture key foreign-root").into());
    write(
        "fail_foreign_root.evu",
        &sign(&list(&[]), 3, issued, &foreign)?,
    )?;
    write(
        "README.md",
        b"# Sample signed updates (TEST ONLY)\n\nGenerated by `evisa fixtures`, signed by `keys/test-only-secret/TEST-ONLY-update-root.key`.\nThe `*.evu` files without `fail_` apply in name order to a terminal with the sample trust\nfolder (`evisa update import FILE --db DB`); each `fail_*` file must be refused and change nothing.\nImporting `revoked-visas-1.evu` after `revoked-visas-2.evu` is refused as a replay.\nFormat: docs/update-format.md.\n",
    )?;
    Ok(())
}

/// Builds a trust update's content from a folder of key files (every `*.toml`,
/// validated as a trust store).
pub fn trust_content_from_dir(dir: &Path) -> Result<Content, UpdateError> {
    TrustStore::load_dir(dir)?;
    let mut keys = Vec::new();
    let io = |source| UpdateError::Io {
        path: dir.display().to_string(),
        source,
    };
    for e in std::fs::read_dir(dir).map_err(io)? {
        let p = e.map_err(io)?.path();
        if p.extension().is_some_and(|x| x == "toml") && p.is_file() {
            let text = crate::files::read_capped_text(
                &p,
                crate::files::MAX_KEY_FILE,
                "a trust-store key file",
            )
            .map_err(|e| UpdateError::Invalid(e.to_string()))?;
            keys.push(KeyFileEntry {
                file: p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                text,
            });
        }
    }
    keys.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(Content::Trust(keys))
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

/// Reads an update file from removable media, refusing one over [`MAX_FILE`] before
/// reading it, and verifies it against the pinned root key ([`parse`]).
pub fn read_file(path: &Path, root: &VerifyingKey) -> Result<Update, UpdateError> {
    use std::io::Read as _;
    let io = |source| UpdateError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_FILE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    parse(&bytes, root)
}

/// The kiosk's one call: read, verify and apply the update file at `path` with the
/// root public key pinned at `root_pub`. The caller reloads its `TrustStore` after a
/// trust update.
pub fn import_file(
    path: &Path,
    root_pub: &Path,
    training: bool,
    store: &mut Store,
    keys_dir: &Path,
    now: &str,
    officer: Option<&str>,
) -> Result<Imported, UpdateError> {
    let root = load_root_pub(root_pub, training, &mut |w| tracing::warn!("{w}"))?;
    let update = read_file(path, &root)?;
    check_content_policy(&update, training)?;
    import(&update, store, keys_dir, now, officer)
}

/// What a terminal does with its trust folder at start: removes staging folders that
/// killed imports left beside it ([`clean_stale_staging`]) and applies the trust
/// policy to the loaded store ([`TrustStore::check_policy`]).
pub fn terminal_start(
    keys_dir: &Path,
    trust: &TrustStore,
    training: bool,
) -> Result<(), UpdateError> {
    for p in clean_stale_staging(keys_dir) {
        tracing::info!(
            "removed {} left by an interrupted update import",
            p.display()
        );
    }
    trust.check_policy(keys_dir, training)?;
    Ok(())
}

/// Removes the staging folders (`.NAME.update-SEQ-PID`, and `….swap` of the rename
/// fallback) that an import killed part-way left next to the trust folder `keys_dir`.
/// One whose process still runs is another import at work and is left alone; nothing
/// is removed while the trust folder itself is missing (a `.swap` folder may then
/// hold the only copy of the keys). Returns what was removed.
pub fn clean_stale_staging(keys_dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    if !keys_dir.is_dir() {
        return removed;
    }
    let base = keys_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keys".into());
    let prefix = format!(".{base}.update-");
    let Ok(entries) = std::fs::read_dir(parent_of(keys_dir)) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let rest = rest.strip_suffix(".swap").unwrap_or(rest);
        let Some(pid) = rest
            .split_once('-')
            .and_then(|(seq, pid)| seq.parse::<u64>().ok().and(pid.parse::<u32>().ok()))
        else {
            continue;
        };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        let p = e.path();
        let is_dir = std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir());
        if is_dir && std::fs::remove_dir_all(&p).is_ok() {
            removed.push(p);
        }
    }
    removed
}

#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Without /proc, assume it may still run: a folder left over is harmless, removing a
/// live import's is not.
#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: u32) -> bool {
    true
}

/// What [`import`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub kind: Kind,
    pub seq: u64,
    pub issued: String,
    /// Keys in the trust folder, or visas on the revocation list, after the import.
    pub count: usize,
    /// The trust folder already held this update (an import interrupted after the
    /// swap); only the database record was added.
    pub completed_interrupted: bool,
}

/// The trust folder's own record of its last update.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct FolderState {
    kind: String,
    seq: u64,
    sha256: String,
}

fn read_folder_state(keys_dir: &Path) -> Option<FolderState> {
    let text = crate::files::read_capped_text(
        &keys_dir.join(STATE_FILE),
        crate::files::MAX_KEY_FILE,
        "a trust folder update marker",
    )
    .ok()?;
    serde_json::from_str(&text).ok()
}

/// Applies a verified update: the revocation list to the database, or the key files
/// to the trust folder, with the applied-update record and an `update_import` audit
/// row, all or nothing. `now` is the RFC 3339 time recorded as `applied_at`.
pub fn import(
    update: &Update,
    store: &mut Store,
    keys_dir: &Path,
    now: &str,
    officer: Option<&str>,
) -> Result<Imported, UpdateError> {
    let kind = update.content.kind();
    let seq = update.seq as i64;
    // Before anything can refuse this update: an import killed after its commit
    // leaves its staging folder, and the retry of that same update is a replay.
    if kind == Kind::Trust {
        for p in clean_stale_staging(keys_dir) {
            tracing::info!(
                "removed {} left by an interrupted update import",
                p.display()
            );
        }
    }
    // Early replay check (the transaction checks again, against concurrent imports).
    if let Some(last) = store.last_update_of(kind.as_str())?
        && last.seq >= seq
    {
        return Err(StoreError::Replay {
            kind: kind.as_str().into(),
            seq,
            applied: last.seq,
        }
        .into());
    }
    let applied = AppliedUpdate {
        kind: kind.as_str().into(),
        seq,
        sha256: update.sha256.to_vec(),
        issued: update.issued.clone(),
        applied_at: now.to_string(),
    };
    let mut details = serde_json::json!({
        "update_kind": kind.as_str(),
        "seq": update.seq,
        "sha256": hex(&update.sha256),
        "issued": update.issued,
    });
    match &update.content {
        Content::RevokedVisas(list) => {
            details["revoked_visas"] = list.len().into();
            let mut sorted: Vec<(&str, &str)> = list
                .iter()
                .map(|v| (v.visa_number.as_str(), v.reason.as_str()))
                .collect();
            sorted.sort_unstable();
            // Lets `audit verify` find the list edited outside an update.
            details["revoked_visas_sha256"] =
                crate::audit::revocation_list_digest(sorted.into_iter()).into();
            let rows: Vec<RevokedVisa> = list
                .iter()
                .map(|v| RevokedVisa {
                    visa_number: v.visa_number.clone(),
                    reason: v.reason.clone(),
                })
                .collect();
            store.apply_update(
                &applied,
                Some(&rows),
                &audit_event(&details, now, officer),
                || Ok::<(), UpdateError>(()),
            )?;
            Ok(Imported {
                kind,
                seq: update.seq,
                issued: update.issued.clone(),
                count: list.len(),
                completed_interrupted: false,
            })
        }
        Content::Trust(keys) => {
            // Which keys, by kid, and which of them revoked: what an auditor asks.
            details["keys"] = keys
                .iter()
                .map(|k| {
                    let parsed = trust::parse_key_file(&k.file, &k.text).ok();
                    serde_json::json!({
                        "file": k.file,
                        "kid": parsed.as_ref().map(|p| hex(&p.kid)),
                        "revoked": parsed.as_ref().map(|p| p.revoked),
                    })
                })
                .collect::<Vec<_>>()
                .into();
            let state = read_folder_state(keys_dir);
            let sha = hex(&update.sha256);
            let interrupted = match &state {
                Some(s) if s.kind == "trust" && s.seq == update.seq && s.sha256 == sha => true,
                Some(s) if s.kind == "trust" && s.seq >= update.seq => {
                    return Err(UpdateError::FolderReplay {
                        seq: update.seq,
                        applied: s.seq,
                    });
                }
                _ => false,
            };
            if interrupted {
                details["completed_interrupted_import"] = true.into();
                store.apply_update(&applied, None, &audit_event(&details, now, officer), || {
                    Ok::<(), UpdateError>(())
                })?;
            } else {
                let staged = stage_trust_folder(keys_dir, update, keys)?;
                let swapped = std::cell::Cell::new(false);
                let result = store.apply_update(
                    &applied,
                    None,
                    &audit_event(&details, now, officer),
                    || {
                        swap(keys_dir, &staged.path)?;
                        swapped.set(true);
                        Ok::<(), UpdateError>(())
                    },
                );
                if result.is_err() && swapped.get() {
                    // The commit failed after the swap: put the old folder back.
                    swap(keys_dir, &staged.path)?;
                }
                result?;
            }
            Ok(Imported {
                kind,
                seq: update.seq,
                issued: update.issued.clone(),
                count: keys.len(),
                completed_interrupted: interrupted,
            })
        }
    }
}

fn audit_event<'a>(
    details: &'a serde_json::Value,
    now: &'a str,
    officer: Option<&'a str>,
) -> AuditEvent<'a> {
    AuditEvent {
        kind: crate::audit::kinds::UPDATE_IMPORT,
        officer,
        terminal: None,
        at: now,
        details,
    }
}

/// A staging folder next to the trust folder; removed (with whatever it then holds,
/// the old keys after a swap) when dropped.
struct Staged {
    path: PathBuf,
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn folder_err(path: &Path) -> impl Fn(io::Error) -> UpdateError + '_ {
    move |source| UpdateError::Folder {
        path: path.display().to_string(),
        source,
    }
}

/// Builds the updated trust folder beside the current one: the update's key files, the
/// state file, and everything of the current folder that is not a key file (the root
/// public key, a secrets folder on a test machine), hard-linked where possible. All of
/// it is flushed to disk and loaded as a trust store before anything is swapped.
fn stage_trust_folder(
    keys_dir: &Path,
    update: &Update,
    keys: &[KeyFileEntry],
) -> Result<Staged, UpdateError> {
    let err = folder_err(keys_dir);
    let meta = std::fs::metadata(keys_dir).map_err(&err)?;
    if !meta.is_dir() {
        return Err(UpdateError::Folder {
            path: keys_dir.display().to_string(),
            source: io::Error::new(io::ErrorKind::NotADirectory, "not a folder"),
        });
    }
    let parent = parent_of(keys_dir);
    let base = keys_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keys".into());
    let staged = Staged {
        path: parent.join(format!(
            ".{base}.update-{}-{}",
            update.seq,
            std::process::id()
        )),
    };
    if staged.path.exists() {
        std::fs::remove_dir_all(&staged.path).map_err(&err)?;
    }
    std::fs::create_dir(&staged.path).map_err(&err)?;
    std::fs::set_permissions(&staged.path, meta.permissions()).map_err(&err)?;
    for entry in std::fs::read_dir(keys_dir).map_err(&err)? {
        let entry = entry.map_err(&err)?;
        let name = entry.file_name();
        let p = entry.path();
        let is_key_file = p.extension().is_some_and(|e| e == "toml");
        if is_key_file || name == STATE_FILE {
            continue;
        }
        carry_over(&p, &staged.path.join(&name)).map_err(&err)?;
    }
    for k in keys {
        write_synced(&staged.path.join(&k.file), k.text.as_bytes()).map_err(&err)?;
    }
    let state = FolderState {
        kind: "trust".into(),
        seq: update.seq,
        sha256: hex(&update.sha256),
    };
    let state = serde_json::to_string(&state).map_err(|e| UpdateError::Malformed(e.to_string()))?;
    write_synced(&staged.path.join(STATE_FILE), state.as_bytes()).map_err(&err)?;
    sync_dir(&staged.path).map_err(&err)?;
    let loaded = TrustStore::load_dir(&staged.path)?;
    if loaded.keys().len() != keys.len() {
        return Err(UpdateError::Invalid(format!(
            "the staged trust folder holds {} keys, the update {}",
            loaded.keys().len(),
            keys.len()
        )));
    }
    Ok(staged)
}

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn sync_dir(path: &Path) -> io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

/// Copies a non-key entry of the trust folder into the staged one: a hard link for a
/// file (no second copy of a secret), a copy when linking is not possible.
fn carry_over(from: &Path, to: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        #[cfg(unix)]
        return std::os::unix::fs::symlink(std::fs::read_link(from)?, to);
        #[cfg(not(unix))]
        return std::fs::copy(from, to).map(|_| ());
    }
    if meta.is_dir() {
        std::fs::create_dir(to)?;
        std::fs::set_permissions(to, meta.permissions())?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            carry_over(&e.path(), &to.join(e.file_name()))?;
        }
        return Ok(());
    }
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to)?;
    }
    Ok(())
}

/// Exchanges the trust folder and the staged one in one step; afterwards `staged`
/// holds the old contents. Calling it again swaps back.
fn swap(keys_dir: &Path, staged: &Path) -> Result<(), UpdateError> {
    let err = folder_err(keys_dir);
    exchange(keys_dir, staged).map_err(&err)?;
    sync_dir(&parent_of(keys_dir)).map_err(&err)?;
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        // A file system without RENAME_EXCHANGE: fall back to three renames.
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
            exchange_by_renames(a, b)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    exchange_by_renames(a, b)
}

/// Not atomic: between the renames the trust folder is missing, which makes the
/// terminal refuse to load it (fail closed) rather than run on a partial folder.
fn exchange_by_renames(a: &Path, b: &Path) -> io::Result<()> {
    let mut tmp = b.as_os_str().to_owned();
    tmp.push(".swap");
    let tmp = PathBuf::from(tmp);
    std::fs::rename(a, &tmp)?;
    if let Err(e) = std::fs::rename(b, a) {
        let _ = std::fs::rename(&tmp, a);
        return Err(e);
    }
    std::fs::rename(&tmp, b)
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
    fn fallback_exchange_swaps_folders() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("keys"), dir.path().join(".keys.new"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(a.join("old.toml"), "old").unwrap();
        std::fs::write(b.join("new.toml"), "new").unwrap();
        exchange_by_renames(&a, &b).unwrap();
        assert!(a.join("new.toml").exists() && b.join("old.toml").exists());
        exchange(&a, &b).unwrap();
        assert!(a.join("old.toml").exists() && b.join("new.toml").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
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
