//! The booths as one fleet on a central PostgreSQL server, offline-first: the server's
//! schema, roles and row-level security ([`schema`]), the `[fleet]` configuration and
//! its credentials file ([`config`]), the connection and every statement a booth sends
//! ([`link`]), the [`FleetHook`](evisa_store::fleet::FleetHook) the terminal asks
//! before recording an entry ([`hook`]), and the sync task that pushes the outbox and
//! the audit chain and pulls the fleet's crossings ([`sync`]). docs/fleet.md explains
//! the design.
#![forbid(unsafe_code)]

pub mod config;
pub mod hook;
pub mod link;
pub mod schema;
pub mod sync;

pub use config::FleetConfig;
pub use link::{Link, LinkError};
