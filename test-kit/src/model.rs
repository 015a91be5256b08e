//! Types shared by the protocol layer (HTTP, paging, cancel) and the engine (SQL execution).

use std::collections::BTreeMap;
use std::pin::Pin;

use futures::Stream;
use serde_json::Value;

use crate::errors::TrinoError;

/// The session a client established with the headers of its `POST /v1/statement`.
#[derive(Debug, Clone, Default)]
pub struct ClientSession {
    /// `X-Trino-User`.
    pub user: String,
    /// `X-Trino-Source`.
    pub source: Option<String>,
    /// `X-Trino-Catalog`.
    pub catalog: Option<String>,
    /// `X-Trino-Schema`.
    pub schema: Option<String>,
    /// `X-Trino-Time-Zone` (zone id such as `UTC` or `America/New_York`).
    pub time_zone: Option<String>,
    /// `X-Trino-Session` properties, URL-decoded.
    pub properties: BTreeMap<String, String>,
    /// `X-Trino-Client-Tags`.
    pub client_tags: Vec<String>,
    /// Whether `X-Trino-Client-Capabilities` lists `PARAMETRIC_DATETIME`. Without it, Trino
    /// reports `timestamp`/`time` types without precision and rounds values to milliseconds.
    pub parametric_datetime: bool,
}

/// Rows already encoded as Trino encodes them on the wire, in batches of any size.
pub type RowStream = Pin<Box<dyn Stream<Item = Result<Vec<Vec<Value>>, TrinoError>> + Send>>;

/// What the engine hands back for one statement that passed analysis.
pub struct Execution {
    /// Trino `Column` objects: `{"name", "type", "typeSignature"}`.
    pub columns: Vec<Value>,
    /// The rows; a runtime failure (e.g. division by zero) is an `Err` item.
    pub rows: RowStream,
    /// `updateType` for statements that are not queries: `CREATE TABLE`, `INSERT`, `USE`, ...
    pub update_type: Option<String>,
    /// Response headers Trino sets on the final page, e.g. `X-Trino-Set-Catalog`.
    pub response_headers: Vec<(String, String)>,
}

/// One row of `system.runtime.queries`.
#[derive(Debug, Clone)]
pub struct QueryInfo {
    pub query_id: String,
    /// Trino state name: QUEUED, RUNNING, FINISHED, FAILED.
    pub state: String,
    pub user: String,
    pub source: Option<String>,
    pub query: String,
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    pub end_ms: Option<i64>,
    pub error_type: Option<String>,
    pub error_code: Option<String>,
}

/// Read access to the coordinator's query list, for `system.runtime.queries`.
pub trait QueryCatalog: Send + Sync {
    fn queries(&self) -> Vec<QueryInfo>;
}
