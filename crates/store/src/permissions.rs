//! File-permission checks for what the terminal trusts and records: the database and
//! the trust folder. Anyone who can write the trust folder can make the terminal accept
//! a forged visa; anyone who can write the database can rewrite the evidence. The kiosk
//! warns on a group-writable path and refuses to run on a world-writable one; the CLI
//! warns on stderr. The pinned update root key file is held to the same bar, and
//! `update import` refuses one that others can replace.

use std::path::Path;

/// A permission problem found by [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Writable by every user (the kiosk refuses to run), not just the group.
    pub world_writable: bool,
    pub description: String,
}

/// Some(description) when `path` is group- or world-writable, or, for a folder (the
/// trust store), when any file directly inside it is. None when the permissions are
/// safe, the path does not exist, or the platform has no Unix modes.
pub fn unsafe_permissions(path: &Path) -> Option<String> {
    check(path).map(|f| f.description)
}

/// Like [`unsafe_permissions`], telling world-writable apart from group-writable. A
/// world-writable finding wins over a group-writable one.
#[cfg(unix)]
pub fn check(path: &Path) -> Option<Finding> {
    use std::os::unix::fs::PermissionsExt;
    let describe = |p: &Path, mode: u32| -> Option<Finding> {
        let world = mode & 0o002 != 0;
        let group = mode & 0o020 != 0;
        (world || group).then(|| Finding {
            world_writable: world,
            description: format!(
                "{} is {}-writable (mode {:04o}); run `chmod go-w {}`",
                p.display(),
                if world { "world" } else { "group" },
                mode & 0o7777,
                p.display()
            ),
        })
    };
    let meta = std::fs::metadata(path).ok()?;
    let mut worst = describe(path, meta.permissions().mode());
    if meta.is_dir()
        && let Ok(entries) = std::fs::read_dir(path)
    {
        for e in entries.flatten() {
            let p = e.path();
            let Ok(m) = std::fs::metadata(&p) else {
                continue;
            };
            if let Some(f) = describe(&p, m.permissions().mode()) {
                // Inside the folder only a world-writable file is reported (the spec's
                // bar); group-writable files are left to the folder's own check.
                if f.world_writable && !worst.as_ref().is_some_and(|w| w.world_writable) {
                    worst = Some(f);
                }
            }
        }
    }
    worst
}

#[cfg(not(unix))]
pub fn check(_: &Path) -> Option<Finding> {
    None
}

/// The checks for a pinned key file (the update root key): whoever can replace it
/// can sign trust updates. Besides [`check`] on the file and on its folder, a file
/// owned by anyone other than root or this user is world-writable in effect (its
/// owner can rewrite it), so it is reported as such.
#[cfg(unix)]
pub fn check_key_file(path: &Path) -> Option<Finding> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != 0 && meta.uid() != me {
        return Some(Finding {
            world_writable: true,
            description: format!(
                "{} is owned by user id {}, neither root nor this user ({me}); its owner could replace the key",
                path.display(),
                meta.uid()
            ),
        });
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // The file's own finding first; the folder's (a writable folder lets anyone
    // swap the file) only when the file itself is fine, or worse.
    match (check(path), check_dir_only(folder)) {
        (Some(f), Some(d)) if d.world_writable && !f.world_writable => Some(d),
        (Some(f), _) => Some(f),
        (None, d) => d,
    }
}

#[cfg(not(unix))]
pub fn check_key_file(_: &Path) -> Option<Finding> {
    None
}

/// [`check`] on a folder alone, not the files in it (a folder holding a key file may
/// hold other people's files too; only its own mode lets the key be swapped).
#[cfg(unix)]
fn check_dir_only(dir: &Path) -> Option<Finding> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).ok()?.permissions().mode();
    // The sticky bit (/tmp) stops others from replacing a file they do not own.
    if mode & 0o1000 != 0 {
        return None;
    }
    let world = mode & 0o002 != 0;
    let group = mode & 0o020 != 0;
    (world || group).then(|| Finding {
        world_writable: world,
        description: format!(
            "{} is {}-writable (mode {:04o}), so the key file in it can be replaced; run `chmod go-w {}`",
            dir.display(),
            if world { "world" } else { "group" },
            mode & 0o7777,
            dir.display()
        ),
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn modes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("k.toml");
        std::fs::write(&f, "x").unwrap();
        chmod(dir.path(), 0o755);
        chmod(&f, 0o644);
        assert_eq!(unsafe_permissions(dir.path()), None);
        assert_eq!(unsafe_permissions(&f), None);
        chmod(&f, 0o664);
        assert!(unsafe_permissions(&f).unwrap().contains("group-writable"));
        // A group-writable file inside is the file's own business; world-writable is not.
        assert_eq!(unsafe_permissions(dir.path()), None);
        chmod(&f, 0o666);
        let found = check(dir.path()).unwrap();
        assert!(found.world_writable);
        assert!(
            found.description.contains("k.toml"),
            "{}",
            found.description
        );
        chmod(&f, 0o644);
        chmod(dir.path(), 0o775);
        let found = check(dir.path()).unwrap();
        assert!(!found.world_writable);
        chmod(dir.path(), 0o777);
        assert!(check(dir.path()).unwrap().world_writable);
        chmod(dir.path(), 0o755);
        assert_eq!(unsafe_permissions(&dir.path().join("missing")), None);
    }

    #[test]
    fn a_writable_pinned_root_key_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("root.pub");
        std::fs::write(&f, "x").unwrap();
        chmod(dir.path(), 0o755);
        chmod(&f, 0o644);
        assert_eq!(check_key_file(&f), None);
        chmod(&f, 0o666);
        assert!(check_key_file(&f).unwrap().world_writable);
        chmod(&f, 0o664);
        assert!(!check_key_file(&f).unwrap().world_writable);
        chmod(&f, 0o644);
        chmod(dir.path(), 0o777);
        let found = check_key_file(&f).unwrap();
        assert!(found.world_writable, "{}", found.description);
        assert!(found.description.contains("can be replaced"));
        // With the sticky bit (as /tmp) others cannot replace the file.
        chmod(dir.path(), 0o1777);
        assert_eq!(check_key_file(&f), None);
        chmod(dir.path(), 0o755);
    }
}
