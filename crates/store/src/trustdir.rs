//! The trust store on disk (spec §5): a folder of `*.toml` key files, loaded whole or
//! not at all. Parsing a key file and the store itself are the core's
//! ([`evisa_core::trust`]); this module owns only the folder.

use std::path::{Path, PathBuf};

use evisa_core::trust::{TrustError, TrustStore, parse_key_file};

/// Loads every `*.toml` in `dir`. Any file that does not parse fails the whole
/// load, naming the file: a terminal never runs with fewer keys than it was given.
///
/// A signed update swaps the whole folder by renaming; if that happens while the
/// files are being read, the update marker in the folder changes and the load is
/// repeated, so the result is never a mix of old and new keys.
pub fn load_dir(dir: &Path) -> Result<TrustStore, TrustError> {
    let marker = || {
        crate::files::read_capped(
            &dir.join(evisa_core::update::STATE_FILE),
            crate::files::MAX_KEY_FILE,
            "a trust folder update marker",
        )
        .ok()
    };
    let mut attempts = 0;
    loop {
        let before = marker();
        let result = load_dir_once(dir);
        attempts += 1;
        if marker() == before || attempts == 3 {
            return result;
        }
    }
}

fn load_dir_once(dir: &Path) -> Result<TrustStore, TrustError> {
    let io = |source| TrustError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    files.retain(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file());
    files.sort();
    if files.is_empty() {
        return Err(TrustError::Empty(dir.to_path_buf()));
    }
    let mut keys = Vec::with_capacity(files.len());
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = crate::files::read_capped_text(
            &path,
            crate::files::MAX_KEY_FILE,
            "a trust-store key file",
        )
        .map_err(|e| TrustError::BadFile {
            file: name.clone(),
            problem: e.to_string(),
        })?;
        keys.push(parse_key_file(&name, &text)?);
    }
    TrustStore::new(keys)
}
