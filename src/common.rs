//! What both binaries share at their edge: reporting an error once, readably, and
//! the small readers of dates and images that their commands take.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use time::Date;

use evisa_core::dates;
use evisa_core::untrusted::printable;
use evisa_store::files;

/// A binary's whole life: parse the command line (help and version exit 0, usage
/// errors 2), run it, and report an error once, escaped, with exit status 2.
pub fn main_with<C: clap::Parser>(prog: &str, run: impl FnOnce(C) -> Result<ExitCode>) -> ExitCode {
    let cli = match C::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{prog}: error: {}", printable_lines(&error_chain(&e)));
            ExitCode::from(2)
        }
    }
}

/// Reads an image with its file size capped, then decodes it with its pixel size
/// and memory capped.
pub fn read_image(path: &Path) -> Result<image::DynamicImage> {
    let bytes = files::read_capped(path, files::MAX_IMAGE_FILE, "an image this terminal reads")?;
    evisa_scan::decode_image(bytes)
        .map_err(|e| anyhow!("cannot read image {}: {e}", path.display()))
}

/// Escapes every control character but the line breaks of a multi-line message
/// (a TOML error quotes the lines at fault): messages can quote file contents.
pub fn printable_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| printable(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The error and its causes on one line, skipping a cause that the message before it
/// already quotes (the library's errors name their source in their own text).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

pub fn parse_date(s: &str) -> Result<Date> {
    dates::parse_iso(s).ok_or_else(|| anyhow!("{s:?} is not a YYYY-MM-DD date"))
}

pub fn decode_image(path: &Path) -> Result<String> {
    let img = evisa_scan::to_grey(&read_image(path)?);
    // A still image is not a live frame: no time budget, every attempt may run.
    let opts = evisa_scan::DecodeOptions {
        budget: None,
        ..Default::default()
    };
    evisa_scan::decode_frame(&img, &opts)
        .map(|d| d.text)
        .ok_or_else(|| anyhow!("no readable QR code in {}", path.display()))
}
