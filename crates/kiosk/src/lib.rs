//! The officer's booth terminal UI, in The Elm Architecture: [`app`] (model, messages,
//! update), [`view`] (drawing), [`worker`] (the thread that owns the database),
//! [`runtime`] (the event loop, devices, signals, terminal restore), plus the kiosk's
//! [`config`] file, the message catalogues ([`i18n`]) and the failures an officer
//! can meet, by category ([`fault`]).
#![forbid(unsafe_code)]

pub mod app;
pub mod bigtext;
pub mod config;
pub mod fault;
pub mod fleet;
pub mod i18n;
pub mod runtime;
pub mod view;
pub mod worker;

pub use runtime::{KioskArgs, KioskError, run};
