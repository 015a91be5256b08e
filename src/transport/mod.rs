//! Transports: how MCP messages reach an [`McpServer`](crate::mcp::McpServer). They know
//! nothing of SQL or Trino.

pub mod http;
pub mod stdio;
