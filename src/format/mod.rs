//! Query results as the model reads them (`json`, `csv`, `markdown` text) and as
//! `structuredContent` (`QueryOutput`), within a row limit and a byte budget.
//!
//! [`Collector`] is the [`RowSink`](crate::trino::RowSink) a query runs into: each row is
//! shaped (named `row` values become objects) and rendered into the text as it
//! arrives, so the text never grows past the budget and reading stops as soon as a cap is
//! hit. [`Collector::finish`] closes the text and builds the structured output.

mod collector;
mod csv;
mod json;
mod keys;
mod markdown;
mod types;

use std::fmt;
use std::str::FromStr;

pub use collector::Collector;
pub use keys::unique_keys;

/// The text format of `trino_query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Csv,
    Markdown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `format` argument other than `json`, `csv` or `markdown` (exact, lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown format '{}': use one of json, csv, markdown",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "markdown" => Ok(Format::Markdown),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

/// Which cap cut the result short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    /// More than `limit` rows: the rest was cancelled on the cluster.
    Limit,
    /// The next row would have taken the text past the byte budget.
    ByteBudget,
}

impl Truncation {
    /// The `truncated_by` value: `limit` or `byte_budget`.
    pub fn as_str(self) -> &'static str {
        match self {
            Truncation::Limit => "limit",
            Truncation::ByteBudget => "byte_budget",
        }
    }
}

/// What the client knows once the statement ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinishInfo {
    pub query_id: String,
    pub duration_ms: u64,
    pub update_type: Option<String>,
    pub update_count: Option<i64>,
}

/// The tool result's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Text content blocks: one for `json`; the table and a summary line for `csv` and
    /// `markdown`.
    pub text: Vec<String>,
    /// `QueryOutput`.
    pub structured: serde_json::Value,
    pub row_count: usize,
    pub truncated: Option<Truncation>,
    /// Rows whose cell count did not match the columns (padded with NULL or cut); Trino
    /// never sends them, so a non-zero count is worth a log line.
    pub ragged_rows: usize,
}

/// The one-line summary of a `csv` or `markdown` result, e.g.
/// `2 rows returned, truncated at the limit of 2 rows, 42 ms, query 20240115_100000_00001_abcde`.
pub fn summary_line(
    row_count: usize,
    truncated: Option<Truncation>,
    limit: usize,
    budget_bytes: usize,
    info: &FinishInfo,
) -> String {
    let mut s = format!(
        "{row_count} {} returned",
        if row_count == 1 { "row" } else { "rows" }
    );
    match truncated {
        Some(Truncation::Limit) => {
            s.push_str(&format!(", truncated at the limit of {limit} rows"));
        }
        Some(Truncation::ByteBudget) => {
            s.push_str(&format!(
                ", truncated at the response budget of {budget_bytes} bytes"
            ));
        }
        None => {}
    }
    s.push_str(&format!(
        ", {} ms, query {}",
        info.duration_ms,
        one_line(&info.query_id)
    ));
    match (&info.update_type, info.update_count) {
        (Some(t), Some(n)) => s.push_str(&format!(
            "; {}: {n} {}",
            one_line(t),
            if n == 1 { "row" } else { "rows" }
        )),
        (Some(t), None) => s.push_str(&format!("; {}", one_line(t))),
        (None, Some(n)) => s.push_str(&format!(
            "; {n} {} updated",
            if n == 1 { "row" } else { "rows" }
        )),
        (None, None) => {}
    }
    s
}

/// The summary must stay one line whatever the server sent.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests;
