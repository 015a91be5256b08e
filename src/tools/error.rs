//! Tool errors: the seed's envelope `{"error":{"code","message","details"}}`, with codes from
//! seed 004 and the contract. Every failure a tool can have is one of these.

use serde_json::{Map, Value, json};

use crate::policy::{Refusal, RefusalCode};
use crate::trino::ClientError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidArgument,
    InvalidSql,
    LimitExceeded,
    TimeoutExceeded,
    QueryError,
    ReadOnly,
    InvalidType,
    PlanError,
    CatalogRequired,
    SchemaRequired,
    TableRequired,
    CatalogNotFound,
    SchemaNotFound,
    TableNotFound,
    UnknownConnection,
    ConnectionFailed,
    AuthFailed,
    QueryTimeout,
    Cancelled,
    RateLimited,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::InvalidSql => "INVALID_SQL",
            Code::LimitExceeded => "LIMIT_EXCEEDED",
            Code::TimeoutExceeded => "TIMEOUT_EXCEEDED",
            Code::QueryError => "QUERY_ERROR",
            Code::ReadOnly => "READ_ONLY",
            Code::InvalidType => "INVALID_TYPE",
            Code::PlanError => "PLAN_ERROR",
            Code::CatalogRequired => "CATALOG_REQUIRED",
            Code::SchemaRequired => "SCHEMA_REQUIRED",
            Code::TableRequired => "TABLE_REQUIRED",
            Code::CatalogNotFound => "CATALOG_NOT_FOUND",
            Code::SchemaNotFound => "SCHEMA_NOT_FOUND",
            Code::TableNotFound => "TABLE_NOT_FOUND",
            Code::UnknownConnection => "UNKNOWN_CONNECTION",
            Code::ConnectionFailed => "CONNECTION_FAILED",
            Code::AuthFailed => "AUTH_FAILED",
            Code::QueryTimeout => "QUERY_TIMEOUT",
            Code::Cancelled => "CANCELLED",
            Code::RateLimited => "RATE_LIMITED",
        }
    }
}

/// One tool failure: a code, a message for a person and a model (what was wrong, what to do
/// next), and details that apply.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    pub code: Code,
    pub message: String,
    pub details: Map<String, Value>,
}

impl ToolError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ToolError {
            code,
            message: message.into(),
            details: Map::new(),
        }
    }
}

/// The SQL as echoed in error details: whole up to [`SQL_ECHO_MAX`] bytes, else its start and
/// its size, so a huge statement does not come back to the model (or fill a log) in full.
pub fn echo_sql(sql: &str) -> String {
    if sql.len() <= SQL_ECHO_MAX {
        return sql.to_string();
    }
    let mut end = SQL_ECHO_MAX;
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &sql[..end], sql.len())
}

pub const SQL_ECHO_MAX: usize = 2048;

impl ToolError {
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    /// The seed 004 envelope, used as both the text and the structured content. Details come
    /// in a fixed order (seed 004 shows `sql` first) so outputs are stable.
    pub fn envelope(&self) -> Value {
        const ORDER: [&str; 9] = [
            "sql",
            "trino_error_code",
            "trino_error_name",
            "query_id",
            "line",
            "column",
            "connection",
            "available",
            "limit",
        ];
        let mut details = Map::new();
        for k in ORDER {
            if let Some(v) = self.details.get(k) {
                details.insert(k.to_string(), v.clone());
            }
        }
        for (k, v) in &self.details {
            if !details.contains_key(k) {
                details.insert(k.clone(), v.clone());
            }
        }
        json!({"error": {"code": self.code.as_str(), "message": self.message, "details": Value::Object(details)}})
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ToolError::new(Code::InvalidArgument, message)
    }

    pub fn from_refusal(r: Refusal, sql: &str) -> Self {
        let code = match r.code {
            RefusalCode::ReadOnly => Code::ReadOnly,
            RefusalCode::InvalidSql => Code::InvalidSql,
        };
        ToolError::new(code, r.message).detail("sql", echo_sql(sql))
    }

    /// A failure talking to the cluster. `connection` names it; `sql` is what was sent.
    pub fn from_client(e: ClientError, connection: &str, sql: &str, timeout_secs: u64) -> Self {
        let query_id = e.query_id().map(str::to_string);
        let err = match e {
            ClientError::ConnectionFailed { reason } => ToolError::new(
                Code::ConnectionFailed,
                format!(
                    "Failed to connect to '{connection}': {reason}\nCheck that the server is running and accessible."
                ),
            ),
            ClientError::AuthFailed { status } => ToolError::new(
                Code::AuthFailed,
                format!(
                    "Connection '{connection}' refused the configured credentials (HTTP {status}). Check the user, password or token configured for it."
                ),
            ),
            ClientError::Timeout { .. } => ToolError::new(
                Code::QueryTimeout,
                format!(
                    "The query did not finish within {timeout_secs} second{} and was cancelled on the cluster. Narrow it (filters, LIMIT, aggregation) or raise timeout_seconds (max 300).",
                    if timeout_secs == 1 { "" } else { "s" }
                ),
            ),
            ClientError::Cancelled { .. } => ToolError::new(
                Code::Cancelled,
                "The request was cancelled; the query was cancelled on the cluster.",
            ),
            ClientError::Protocol { message, .. } => ToolError::new(
                Code::ConnectionFailed,
                format!(
                    "Failed to talk to '{connection}': {message}\nCheck that the server is a Trino coordinator and is healthy."
                ),
            ),
            ClientError::Query(f) => {
                let mut t = if f.error_name == "EXCEEDED_TIME_LIMIT" {
                    ToolError::new(
                        Code::QueryTimeout,
                        format!(
                            "The cluster stopped the query at its time limit: {}",
                            f.message
                        ),
                    )
                } else {
                    ToolError::new(Code::QueryError, format!("Query failed: {}", f.message))
                };
                t = t
                    .detail("trino_error_code", f.error_code)
                    .detail("trino_error_name", f.error_name.clone());
                if let Some(l) = f.location {
                    t = t
                        .detail("line", l.line_number)
                        .detail("column", l.column_number);
                }
                t
            }
        };
        let mut err = err.detail("connection", connection);
        if !sql.is_empty() {
            err = err.detail("sql", echo_sql(sql));
        }
        if let Some(q) = query_id {
            err = err.detail("query_id", q);
        }
        err
    }
}
