//! Building `Execution` values: result sets computed by the engine, DDL and DML results.

use std::panic::AssertUnwindSafe;

use futures::StreamExt;
use serde_json::Value;

use super::types::TrinoType;
use crate::errors::TrinoError;
use crate::model::{Execution, RowStream};

pub fn columns_json(names: &[String], types: &[TrinoType], parametric: bool) -> Vec<Value> {
    names
        .iter()
        .zip(types)
        .map(|(n, t)| t.column_json(n, parametric))
        .collect()
}

/// A panic while producing rows becomes an internal error instead of unwinding into the caller.
pub fn guard(stream: RowStream) -> RowStream {
    Box::pin(
        AssertUnwindSafe(stream)
            .catch_unwind()
            .map(|item| match item {
                Ok(r) => r,
                Err(_) => Err(TrinoError::new(
                    "GENERIC_INTERNAL_ERROR",
                    "internal error while producing rows",
                )),
            }),
    )
}

pub fn stream_of(rows: Vec<Vec<Value>>) -> RowStream {
    Box::pin(futures::stream::iter(if rows.is_empty() {
        vec![]
    } else {
        vec![Ok(rows)]
    }))
}

/// A computed result set (SHOW, DESCRIBE, EXPLAIN).
pub fn table(columns: &[(&str, TrinoType)], rows: Vec<Vec<Value>>, parametric: bool) -> Execution {
    Execution {
        columns: columns
            .iter()
            .map(|(n, t)| t.column_json(n, parametric))
            .collect(),
        rows: stream_of(rows),
        update_type: None,
        response_headers: Vec::new(),
    }
}

/// A statement without output: one `result boolean` column holding `true`.
pub fn done(update_type: &str, headers: Vec<(String, String)>) -> Execution {
    Execution {
        columns: vec![TrinoType::Boolean.column_json("result", true)],
        rows: stream_of(vec![vec![Value::Bool(true)]]),
        update_type: Some(update_type.to_string()),
        response_headers: headers,
    }
}

/// A data-changing statement: one `rows bigint` column with the count.
pub fn count(update_type: &str, rows: u64) -> Execution {
    Execution {
        columns: vec![TrinoType::BigInt.column_json("rows", true)],
        rows: stream_of(vec![vec![Value::from(rows)]]),
        update_type: Some(update_type.to_string()),
        response_headers: Vec::new(),
    }
}
