//! What can go wrong talking to a cluster, in terms the tools can map to error codes.

use std::fmt;

use super::protocol::ErrorLocation;

/// A Trino query failure, as the coordinator reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryFailure {
    pub query_id: String,
    pub error_name: String,
    pub error_code: i64,
    pub error_type: String,
    pub message: String,
    pub location: Option<ErrorLocation>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClientError {
    /// No usable HTTP exchange: refused, unreachable, DNS or TLS failure, connection cut.
    ConnectionFailed { reason: String },
    /// The coordinator answered 401 or 403 for the configured identity.
    AuthFailed { status: u16 },
    /// The deadline passed; the query (if it was created) was cancelled on the cluster.
    Timeout { query_id: Option<String> },
    /// The caller cancelled; the query (if it was created) was cancelled on the cluster.
    Cancelled { query_id: Option<String> },
    /// Trino ran the statement and it failed.
    Query(QueryFailure),
    /// The coordinator said something we cannot use: bad JSON, an HTML page, a foreign
    /// `nextUri`, an unexpected status. The query was cancelled when it still existed.
    Protocol {
        message: String,
        query_id: Option<String>,
    },
}

impl ClientError {
    pub fn query_id(&self) -> Option<&str> {
        match self {
            ClientError::Timeout { query_id }
            | ClientError::Cancelled { query_id }
            | ClientError::Protocol { query_id, .. } => query_id.as_deref(),
            ClientError::Query(f) => Some(&f.query_id),
            ClientError::ConnectionFailed { .. } | ClientError::AuthFailed { .. } => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::ConnectionFailed { reason } => write!(f, "{reason}"),
            ClientError::AuthFailed { status } => {
                write!(
                    f,
                    "the cluster refused the configured credentials (HTTP {status})"
                )
            }
            ClientError::Timeout { .. } => {
                write!(f, "the query did not finish before its deadline")
            }
            ClientError::Cancelled { .. } => write!(f, "the query was cancelled"),
            ClientError::Query(q) => write!(f, "{}: {}", q.error_name, q.message),
            ClientError::Protocol { message, .. } => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for ClientError {}
