//! Scan events: what every input device (camera, serial scanner, serial MRZ reader,
//! keyboard wedge) reports to the kiosk.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    Connected,
    Disconnected,
    Reconnecting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEvent {
    /// A barcode/QR text (AIM prefix and CR/LF already stripped).
    Code { source: String, text: String },
    /// A complete passport MRZ, lines joined with '\n' (2 lines TD3, or 3 lines TD1).
    Mrz { source: String, text: String },
    /// The reader delivered only part of a document: ask the officer to re-scan.
    MrzIncomplete { source: String },
    Status {
        source: String,
        status: SourceStatus,
        detail: Option<String>,
    },
}
