//! Scanning: everything between a device and a scanned text. The QR decode
//! pipeline over grey frames (`decode_frame`), a camera simulator that makes
//! photo-like test frames, a decode benchmark, and the device sources (camera,
//! serial barcode scanner, serial MRZ reader, keyboard wedge) that turn input
//! into [`ScanEvent`]s. See `docs/scanning.md` for the design and findings.

pub mod bench;
mod binarize;
pub mod camera;
mod decode;
mod finder;
pub mod framer;
mod grid;
pub mod image_file;
pub mod mrzlines;
mod qrdata;
pub mod serial;
pub mod sim;
pub mod wedge;

pub use decode::{
    CrossCheck, DecodeOptions, Decoded, cross_check, debug_bitmap, debug_report, debug_timings,
    decode_all, decode_frame, locate_code, trace_attempts, trace_every_attempt,
};

/// Live state of a scan source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    Connected,
    Disconnected,
    Reconnecting,
}

/// What a source delivers to the kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEvent {
    /// A barcode/QR text (AIM prefix and CR/LF already stripped).
    Code { source: String, text: String },
    /// A complete passport MRZ, lines joined with '\n' (2 lines TD3, or 3 lines TD1).
    Mrz { source: String, text: String },
    /// The reader delivered only part of a document: ask the officer to re-scan.
    MrzIncomplete { source: String },
    /// A line the source had to drop (too long, not UTF-8): ask the officer to re-scan.
    /// `detail` says why, with the line's length; never the line's content.
    Unreadable { source: String, detail: String },
    Status {
        source: String,
        status: SourceStatus,
        detail: Option<String>,
    },
}
pub use bench::{BenchReport, bench_dirs};
#[cfg(feature = "camera")]
pub use camera::NokhwaSource;
pub use camera::{
    CameraHandle, CameraOptions, Deduper, FrameSource, FrameSourceError, ReplaySource, spawn_camera,
};
pub use framer::{LineFramer, MrzFramer, strip_aim};
pub use image_file::{decode_image, to_grey};
pub use qrdata::{GridError, decode_grid};
pub use serial::{CancelToken, SerialConfig, spawn_barcode_scanner, spawn_mrz_reader};
pub use sim::{simulate, standin_page, standin_payload};
pub use wedge::WedgeAssembler;
