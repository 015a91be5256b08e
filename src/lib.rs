//! mcp-trino: an MCP server for one or many Trino clusters.
//!
//! Data flows one way: config -> connections (Trino REST client) -> SQL policy -> tools ->
//! formatting -> transports. See ARCHITECTURE.md for the map.

pub mod clusters;
pub mod config;
pub mod format;
pub mod limits;
pub mod mcp;
pub mod metrics;
pub mod policy;
pub mod tools;
pub mod transport;
pub mod trino;
