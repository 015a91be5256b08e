//! Trino's `QueryResults` documents, read leniently: unknown fields are ignored and absent
//! ones take defaults, since servers of different versions add and drop fields.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResults {
    pub id: String,
    #[serde(default)]
    pub next_uri: Option<String>,
    #[serde(default)]
    pub columns: Option<Vec<Column>>,
    #[serde(default)]
    pub data: Option<Vec<Vec<Value>>>,
    #[serde(default)]
    pub stats: Stats,
    #[serde(default)]
    pub error: Option<QueryError>,
    #[serde(default)]
    pub warnings: Vec<Warning>,
    #[serde(default)]
    pub update_type: Option<String>,
    #[serde(default)]
    pub update_count: Option<i64>,
    /// Size of the page's JSON body (not a field of the document).
    #[serde(skip)]
    pub body_bytes: usize,
}

/// A result column: its name and Trino's full type text (`varchar(25)`, `decimal(10, 2)`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default, rename = "typeSignature")]
    pub type_signature: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Stats {
    pub state: String,
    pub queued: bool,
    pub scheduled: bool,
    pub progress_percentage: Option<f64>,
    pub processed_rows: u64,
    pub processed_bytes: u64,
    pub elapsed_time_millis: u64,
    pub total_splits: u64,
    pub completed_splits: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryError {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub error_code: i64,
    #[serde(default)]
    pub error_name: String,
    #[serde(default)]
    pub error_type: String,
    #[serde(default)]
    pub error_location: Option<ErrorLocation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorLocation {
    pub line_number: u32,
    pub column_number: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Warning {
    #[serde(default)]
    pub message: String,
}
