//! The pure core of the Kazakhstan e-visa terminal (QR v1 spec).
//!
//! Bytes and values in, typed results out: no filesystem, clock, database, terminal or
//! network. The date, the trust store and the entry history are passed in. Everything
//! around it (storage, devices, screens, the ministry's tools) lives in other crates of
//! the workspace, so the compiler keeps this one pure: its dependency list has no
//! rusqlite, image, tokio, ratatui, serialport or nokhwa, and CI checks that it stays so.
#![forbid(unsafe_code)]

pub mod dates;
pub mod detail;
pub mod mrz;
pub mod payload;
pub mod report;
pub mod rules;
pub mod trust;
pub mod untrusted;
pub mod update;
