//! Trino-protocol emulator: speaks Trino's client REST protocol on top of an embedded
//! DataFusion engine, so official Trino clients cannot tell it from a Trino coordinator.
//!
//! - `model`: the types shared by the protocol layer and the engine.
//! - `errors`: Trino's standard error names, codes and types.
//! - `engine`: executes one statement for one client session (DataFusion + Trino statements).
//! - `server`: the HTTP side of a coordinator: statements, paging, cancel, auth, TLS, faults.

pub mod engine;
pub mod errors;
pub mod model;
pub mod server;

pub use server::{Emulator, EmulatorConfig};
