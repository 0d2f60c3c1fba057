//! The booth's storage and services, around the pure core: the SQLite database
//! ([`store`]: crossings, audit chain, officers, applied updates), the audit chain's
//! verification and export ([`audit`]), officer accounts ([`officers`]), the trust
//! folder on disk and its atomic swap by signed updates ([`trustdir`], [`import`]),
//! permission checks ([`permissions`]), size-capped reads of untrusted files
//! ([`files`]), and the [`terminal::Terminal`] service that the CLI and the kiosk share.
#![forbid(unsafe_code)]

pub mod audit;
pub mod files;
pub mod fleet;
pub mod import;
pub mod officers;
pub mod permissions;
pub mod store;
pub mod terminal;
pub mod trustdir;

pub use store::{Store, StoreError};
