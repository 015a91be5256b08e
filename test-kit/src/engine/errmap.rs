//! DataFusion errors to Trino error names, codes and messages, located in the SQL text.

use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, SchemaError};
use datafusion::sql::sqlparser::tokenizer::Token;

use super::sql::{Tok, parser_error};
use crate::errors::TrinoError;

/// Maps an analysis or planning failure; `toks` are the statement's tokens.
pub fn map_error(err: &DataFusionError, sql: &str, toks: &[Tok]) -> TrinoError {
    let span = diagnostic_location(err);
    let root = err.find_root();
    let at = |e: TrinoError, found: Option<(u32, u32)>| match span.or(found) {
        Some((l, c)) => e.at(l, c),
        None => e,
    };
    match root {
        DataFusionError::SchemaError(e, _) => match e.as_ref() {
            SchemaError::FieldNotFound { field, .. } => {
                let name = match &field.relation {
                    Some(r) => format!("{}.{}", r.table(), field.name),
                    None => field.name.clone(),
                };
                let first = field
                    .relation
                    .as_ref()
                    .map(|r| r.table().to_string())
                    .unwrap_or(field.name.clone());
                at(
                    TrinoError::new(
                        "COLUMN_NOT_FOUND",
                        format!("Column '{name}' cannot be resolved"),
                    ),
                    find_word(toks, &first, false),
                )
            }
            SchemaError::AmbiguousReference { field } => at(
                TrinoError::new(
                    "AMBIGUOUS_NAME",
                    format!("Column '{}' is ambiguous", field.name),
                ),
                find_word(toks, &field.name, false),
            ),
            other => TrinoError::new("GENERIC_USER_ERROR", other.to_string()),
        },
        DataFusionError::SQL(e, _) => parser_error(sql, &e.to_string()),
        DataFusionError::ArrowError(e, _) => map_arrow(e),
        DataFusionError::NotImplemented(m) => TrinoError::new("NOT_SUPPORTED", m.clone()),
        DataFusionError::ResourcesExhausted(m) => {
            TrinoError::new("GENERIC_INSUFFICIENT_RESOURCES", m.clone())
        }
        DataFusionError::Plan(m) | DataFusionError::Execution(m) => {
            if let Some(name) = m
                .strip_prefix("Invalid function '")
                .and_then(|r| r.split('\'').next())
            {
                return at(
                    TrinoError::new(
                        "FUNCTION_NOT_FOUND",
                        format!("Function '{name}' not registered"),
                    ),
                    find_word(toks, name, true),
                );
            }
            map_message(m, matches!(root, DataFusionError::Plan(_)))
        }
        other => map_message(&other.message(), false),
    }
}

/// Maps a failure while rows are produced (no location, like Trino's runtime errors).
pub fn map_runtime(err: &DataFusionError) -> TrinoError {
    match err.find_root() {
        DataFusionError::ArrowError(e, _) => map_arrow(e),
        DataFusionError::ResourcesExhausted(m) => {
            TrinoError::new("GENERIC_INSUFFICIENT_RESOURCES", m.clone())
        }
        other => map_message(&other.message(), false),
    }
}

fn map_arrow(e: &ArrowError) -> TrinoError {
    match e {
        ArrowError::DivideByZero => TrinoError::new("DIVISION_BY_ZERO", "Division by zero"),
        ArrowError::CastError(m) => TrinoError::new("INVALID_CAST_ARGUMENT", cast_message(m)),
        ArrowError::ArithmeticOverflow(m) => {
            TrinoError::new("NUMERIC_VALUE_OUT_OF_RANGE", m.clone())
        }
        ArrowError::ComputeError(m) if m.contains("Overflow") || m.contains("overflow") => {
            TrinoError::new("NUMERIC_VALUE_OUT_OF_RANGE", m.clone())
        }
        ArrowError::InvalidArgumentError(m) if m.contains("non-nullable") => {
            TrinoError::new("CONSTRAINT_VIOLATION", m.clone())
        }
        other => TrinoError::new("GENERIC_INTERNAL_ERROR", other.to_string()),
    }
}

fn map_message(m: &str, plan: bool) -> TrinoError {
    let lower = m.to_lowercase();
    if lower.contains("divide by zero") || lower.contains("division by zero") {
        TrinoError::new("DIVISION_BY_ZERO", "Division by zero")
    } else if lower.contains("cannot cast") {
        TrinoError::new("INVALID_CAST_ARGUMENT", cast_message(m))
    } else if lower.contains("overflow") {
        TrinoError::new("NUMERIC_VALUE_OUT_OF_RANGE", m.to_string())
    } else if lower.contains("non-aggregate values")
        || lower.contains("must appear in the group by")
    {
        TrinoError::new("EXPRESSION_NOT_AGGREGATE", first_line(m))
    } else if lower.contains("coerce")
        || lower.contains("common type")
        || lower.contains("no function matches")
    {
        TrinoError::new("TYPE_MISMATCH", first_line(m))
    } else if lower.contains("not supported") || lower.contains("unsupported") {
        TrinoError::new("NOT_SUPPORTED", first_line(m))
    } else if plan {
        TrinoError::new("GENERIC_USER_ERROR", first_line(m))
    } else {
        TrinoError::new("GENERIC_INTERNAL_ERROR", first_line(m))
    }
}

fn first_line(m: &str) -> String {
    m.lines().next().unwrap_or_default().to_string()
}

/// Arrow says `Cannot cast string 'abc' to value of Int64 type`; Trino `Cannot cast 'abc' to bigint`.
fn cast_message(m: &str) -> String {
    let value = m
        .split_once("string '")
        .and_then(|(_, r)| r.rsplit_once("' to "))
        .map(|(v, _)| v.to_string());
    let target = m
        .split_once("value of ")
        .and_then(|(_, r)| r.strip_suffix(" type"))
        .map(|t| match t {
            "Int8" => "tinyint",
            "Int16" => "smallint",
            "Int32" => "integer",
            "Int64" => "bigint",
            "Float32" => "real",
            "Float64" => "double",
            "Date32" => "date",
            "Boolean" => "boolean",
            other => other,
        });
    match (value, target) {
        (Some(v), Some(t)) => format!("Cannot cast '{v}' to {t}"),
        _ => first_line(m),
    }
}

fn diagnostic_location(err: &DataFusionError) -> Option<(u32, u32)> {
    match err {
        DataFusionError::Diagnostic(d, inner) => d
            .span
            .filter(|s| s.start.line > 0)
            .map(|s| (s.start.line as u32, s.start.column as u32))
            .or_else(|| diagnostic_location(inner)),
        DataFusionError::Context(_, inner) => diagnostic_location(inner),
        _ => None,
    }
}

/// Location of the first word equal to `name` (a function call when `call`).
pub fn find_word(toks: &[Tok], name: &str, call: bool) -> Option<(u32, u32)> {
    toks.iter().enumerate().find_map(|(i, t)| match &t.token {
        Token::Word(w) if w.value.eq_ignore_ascii_case(name) => {
            let next_is_paren = matches!(toks.get(i + 1).map(|n| &n.token), Some(Token::LParen));
            (!call || next_is_paren).then_some((t.line, t.col))
        }
        _ => None,
    })
}
