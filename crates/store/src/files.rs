//! Bounded reads of files and devices the terminal does not control. A path on the
//! command line or in a configuration can name `/dev/zero`, a FIFO fed by an attacker
//! or a multi-gigabyte sparse file; an unbounded `read_to_end` on it never returns and
//! grows memory without limit. Every read here stops one byte past its cap and says
//! what the file was expected to be.

use std::io::Read as _;
use std::path::Path;

/// Largest QR text file (`--qr-file`): a version-40 QR holds at most 4,296 characters;
/// the rest is room for scanner framing and line ends.
pub const MAX_QR_TEXT: u64 = 64 << 10;
/// Largest MRZ file (`--mrz-file`): two 44-character lines and their framing.
pub const MAX_MRZ_TEXT: u64 = 4 << 10;
/// Largest image file (`--image`, `decode`, `simulate --page`).
pub const MAX_IMAGE_FILE: u64 = 64 << 20;
/// Largest configuration file.
pub const MAX_CONFIG: u64 = 1 << 20;
/// Largest key file of any kind: trust-store entry, public or secret key PEM.
pub const MAX_KEY_FILE: u64 = 64 << 10;
/// Largest visa description file (`issue --visa`).
pub const MAX_VISA_FILE: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is larger than {max} bytes (not {what})")]
    TooLarge {
        path: String,
        max: u64,
        what: &'static str,
    },
    #[error("{path} is not UTF-8 text (not {what})")]
    NotText { path: String, what: &'static str },
}

/// The bytes of `path` (`-` is standard input), at most `max` of them: one byte more
/// is [`ReadError::TooLarge`]. `what` names what the file should be, with its article
/// ("a QR text file").
pub fn read_capped(path: &Path, max: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    let shown = || {
        if path == Path::new("-") {
            "standard input".to_string()
        } else {
            path.display().to_string()
        }
    };
    let io = |source| ReadError::Io {
        path: shown(),
        source,
    };
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    } else {
        std::fs::File::open(path)
            .map_err(io)?
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    }
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge {
            path: shown(),
            max,
            what,
        });
    }
    Ok(bytes)
}

/// [`read_capped`] for a text file.
pub fn read_capped_text(path: &Path, max: u64, what: &'static str) -> Result<String, ReadError> {
    let bytes = read_capped(path, max, what)?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotText {
        path: if path == Path::new("-") {
            "standard input".into()
        } else {
            path.display().to_string()
        },
        what,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_zero_is_refused_at_the_cap() {
        let e = read_capped(Path::new("/dev/zero"), 1000, "a QR text file").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/dev/zero is larger than 1000 bytes (not a QR text file)"
        );
    }

    #[test]
    fn exactly_the_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, [b'a'; 10]).unwrap();
        assert_eq!(read_capped(&p, 10, "x").unwrap().len(), 10);
        assert!(matches!(
            read_capped(&p, 9, "x"),
            Err(ReadError::TooLarge { max: 9, .. })
        ));
        std::fs::write(&p, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_capped_text(&p, 10, "x"),
            Err(ReadError::NotText { .. })
        ));
    }
}
