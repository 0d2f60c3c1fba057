//! Kazakhstan e-visa verification terminal.
//!
//! The pure core — [`payload`], [`trust`], [`mrz`], [`rules`] (with [`dates`]) — takes
//! bytes and values and returns typed results: no I/O, clock or database inside.
//! Around it sit the adapters: [`store`] (SQLite), [`terminal`] (the core wired to the
//! store, trust folder and clock), [`issue`] (the issuer side: signing and printable
//! pages) and [`fixtures`] (the committed test vectors).
#![forbid(unsafe_code)]

pub mod audit;
pub mod config;
pub mod dates;
pub mod files;
pub mod fixtures;
pub mod i18n;
pub mod issue;
pub mod kiosk;
pub mod mrz;
pub mod officers;
pub mod payload;
pub mod permissions;
pub mod report;
pub mod rules;
pub mod scan;
pub mod store;
pub mod terminal;
pub mod trust;
pub mod untrusted;
pub mod update;
