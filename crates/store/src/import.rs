//! Applying signed updates to a terminal (format: `evisa_core::update`,
//! `docs/update-format.md`), imported offline from removable media or pulled from the
//! fleet: the pinned root key read as a terminal must, and [`import`] applying a
//! verified update atomically — the revocation list in one database transaction, the
//! trust folder by swapping in a complete, validated copy
//! (`renameat2(RENAME_EXCHANGE)` on Linux) inside that transaction, before its commit.

use std::io;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use ed25519_dalek::pkcs8::DecodePublicKey;
use evisa_core::trust::{self, TrustError, TrustStore, hex};
use evisa_core::update::{
    Content, KeyFileEntry, Kind, MAX_FILE, STATE_FILE, Update, UpdateError, check_content_policy,
    check_root_policy, parse,
};

use crate::store::{AppliedUpdate, AuditEvent, RevokedVisa, Store, StoreError};
use crate::trustdir;

/// Why an import failed: the update itself, or the terminal's database.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Update(#[from] UpdateError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TrustError> for ImportError {
    fn from(e: TrustError) -> Self {
        ImportError::Update(UpdateError::Trust(e))
    }
}

impl ImportError {
    /// Whether the file itself was refused (bad, truncated, replayed, wrongly signed),
    /// as opposed to an operational failure (I/O, database).
    pub fn is_rejection(&self) -> bool {
        match self {
            ImportError::Update(e) => e.is_rejection(),
            ImportError::Store(StoreError::Replay { .. }) => true,
            ImportError::Store(_) => false,
        }
    }
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
) -> Result<Imported, ImportError> {
    let root = load_root_pub(root_pub, training, &mut |w| tracing::warn!("{w}"))?;
    let update = read_file(path, &root)?;
    check_content_policy(&update, training)?;
    import(&update, store, keys_dir, now, officer)
}

/// The same checks and apply as [`import_file`], for an update that arrived as bytes
/// (pulled from the fleet): the pinned root key, the size cap, the signature, the
/// content policy, then [`import`] (replay check, atomic apply).
pub fn import_bytes(
    bytes: &[u8],
    root_pub: &Path,
    training: bool,
    store: &mut Store,
    keys_dir: &Path,
    now: &str,
    officer: Option<&str>,
) -> Result<Imported, ImportError> {
    let root = load_root_pub(root_pub, training, &mut |w| tracing::warn!("{w}"))?;
    let update = parse(bytes, &root)?;
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
) -> Result<Imported, ImportError> {
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
    if let Some(last) = store.last_update_of(kind)?
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
        kind,
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
                || Ok::<(), ImportError>(()),
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
                    }
                    .into());
                }
                _ => false,
            };
            if interrupted {
                details["completed_interrupted_import"] = true.into();
                store.apply_update(&applied, None, &audit_event(&details, now, officer), || {
                    Ok::<(), ImportError>(())
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
                        Ok::<(), ImportError>(())
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
        kind: crate::audit::AuditKind::UpdateImport,
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
    let loaded = trustdir::load_dir(&staged.path)?;
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
}
