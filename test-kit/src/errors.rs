//! Trino's standard error codes (io.trino.spi.StandardErrorCode) for the names the emulator
//! raises, and the error value the engine and protocol layer pass around.

use serde_json::{Value, json};

/// A Trino query failure, as it appears in `QueryResults.error`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrinoError {
    /// `errorName`, e.g. `TABLE_NOT_FOUND`.
    pub name: &'static str,
    /// Numeric `errorCode`.
    pub code: i32,
    /// `errorType`: `USER_ERROR`, `INTERNAL_ERROR`, `INSUFFICIENT_RESOURCES` or `EXTERNAL`.
    pub error_type: &'static str,
    /// Message without the `line L:C: ` prefix; [`TrinoError::full_message`] adds it.
    pub message: String,
    /// 1-based (line, column) of the offending token, when Trino would report one.
    pub location: Option<(u32, u32)>,
    /// Java exception class reported in `failureInfo.type`.
    pub failure_type: &'static str,
}

/// (name, code, type) for every standard error the emulator can raise.
const CODES: &[(&str, i32, &str)] = &[
    ("GENERIC_USER_ERROR", 0, "USER_ERROR"),
    ("SYNTAX_ERROR", 1, "USER_ERROR"),
    ("ABANDONED_QUERY", 2, "USER_ERROR"),
    ("USER_CANCELED", 3, "USER_ERROR"),
    ("PERMISSION_DENIED", 4, "USER_ERROR"),
    ("NOT_FOUND", 5, "USER_ERROR"),
    ("FUNCTION_NOT_FOUND", 6, "USER_ERROR"),
    ("INVALID_FUNCTION_ARGUMENT", 7, "USER_ERROR"),
    ("DIVISION_BY_ZERO", 8, "USER_ERROR"),
    ("INVALID_CAST_ARGUMENT", 9, "USER_ERROR"),
    ("OPERATOR_NOT_FOUND", 10, "USER_ERROR"),
    ("ALREADY_EXISTS", 12, "USER_ERROR"),
    ("CONSTRAINT_VIOLATION", 16, "USER_ERROR"),
    ("NOT_SUPPORTED", 13, "USER_ERROR"),
    ("INVALID_SESSION_PROPERTY", 14, "USER_ERROR"),
    ("NUMERIC_VALUE_OUT_OF_RANGE", 19, "USER_ERROR"),
    ("PROCEDURE_NOT_FOUND", 29, "USER_ERROR"),
    ("SCHEMA_NOT_EMPTY", 34, "USER_ERROR"),
    ("QUERY_TEXT_TOO_LARGE", 35, "USER_ERROR"),
    ("ADMINISTRATIVELY_KILLED", 38, "USER_ERROR"),
    ("TYPE_NOT_FOUND", 43, "USER_ERROR"),
    ("CATALOG_NOT_FOUND", 44, "USER_ERROR"),
    ("SCHEMA_NOT_FOUND", 45, "USER_ERROR"),
    ("TABLE_NOT_FOUND", 46, "USER_ERROR"),
    ("COLUMN_NOT_FOUND", 47, "USER_ERROR"),
    ("SCHEMA_ALREADY_EXISTS", 49, "USER_ERROR"),
    ("TABLE_ALREADY_EXISTS", 50, "USER_ERROR"),
    ("COLUMN_ALREADY_EXISTS", 51, "USER_ERROR"),
    ("DUPLICATE_COLUMN_NAME", 54, "USER_ERROR"),
    ("MISSING_COLUMN_NAME", 55, "USER_ERROR"),
    ("MISSING_CATALOG_NAME", 56, "USER_ERROR"),
    ("MISSING_SCHEMA_NAME", 57, "USER_ERROR"),
    ("TYPE_MISMATCH", 58, "USER_ERROR"),
    ("INVALID_LITERAL", 59, "USER_ERROR"),
    ("MISMATCHED_COLUMN_ALIASES", 61, "USER_ERROR"),
    ("AMBIGUOUS_NAME", 62, "USER_ERROR"),
    ("MISSING_GROUP_BY", 64, "USER_ERROR"),
    ("EXPRESSION_NOT_AGGREGATE", 73, "USER_ERROR"),
    ("GENERIC_INTERNAL_ERROR", 65536, "INTERNAL_ERROR"),
    ("SERVER_STARTING_UP", 65548, "INTERNAL_ERROR"),
    (
        "GENERIC_INSUFFICIENT_RESOURCES",
        131072,
        "INSUFFICIENT_RESOURCES",
    ),
    ("EXCEEDED_TIME_LIMIT", 131075, "INSUFFICIENT_RESOURCES"),
];

impl TrinoError {
    /// An error with a standard name; unknown names become `GENERIC_INTERNAL_ERROR` so a typo
    /// can never produce a made-up code on the wire.
    pub fn new(name: &'static str, message: impl Into<String>) -> Self {
        let (name, code, error_type) = CODES
            .iter()
            .copied()
            .find(|(n, _, _)| *n == name)
            .unwrap_or(("GENERIC_INTERNAL_ERROR", 65536, "INTERNAL_ERROR"));
        let failure_type = if name == "SYNTAX_ERROR" {
            "io.trino.sql.parser.ParsingException"
        } else {
            "io.trino.spi.TrinoException"
        };
        TrinoError {
            name,
            code,
            error_type,
            message: message.into(),
            location: None,
            failure_type,
        }
    }

    /// Attach a 1-based location; the message then gets Trino's `line L:C: ` prefix.
    pub fn at(mut self, line: u32, column: u32) -> Self {
        self.location = Some((line, column));
        self
    }

    /// The message as Trino sends it, with the `line L:C: ` prefix when located.
    pub fn full_message(&self) -> String {
        match self.location {
            Some((l, c)) => format!("line {l}:{c}: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// The `QueryResults.error` JSON object.
    pub fn to_json(&self) -> Value {
        let message = self.full_message();
        let mut failure = json!({
            "type": self.failure_type,
            "message": message,
            "suppressed": [],
            "stack": [],
        });
        let mut error = json!({
            "message": message,
            "errorCode": self.code,
            "errorName": self.name,
            "errorType": self.error_type,
        });
        if let Some((l, c)) = self.location {
            let loc = json!({"lineNumber": l, "columnNumber": c});
            error["errorLocation"] = loc.clone();
            failure["errorLocation"] = loc;
        }
        error["failureInfo"] = failure;
        error
    }
}

impl std::fmt::Display for TrinoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.full_message())
    }
}

impl std::error::Error for TrinoError {}
