//! Kazakhstan e-visa verification terminal: a pure verification core
//! (`payload`, `trust`, `mrz`, `rules`) with adapters around it.
#![forbid(unsafe_code)]
pub mod scan;
