//! The SQL policy: decides, before anything reaches Trino, whether one statement may run
//! under a connection's access mode.
//!
//! The check works on tokens from a Trino-aware lexer ([`lexer`]), never on raw text, so
//! keywords inside strings, quoted identifiers and comments never change a verdict. It
//! allow-lists and fails closed: what it does not recognise is refused.
//!
//! # Order of checks
//!
//! 1. Lexing. NUL bytes, unterminated strings/identifiers/comments, backquoted identifiers,
//!    characters Trino does not know (fullwidth `；`, no-break spaces, ...) and numbers glued
//!    to letters are `INVALID_SQL`.
//! 2. One statement, brackets nested at most [`MAX_NESTING`] levels. At most one trailing `;` is accepted and removed, together with any
//!    whitespace and comments after the last token, from the SQL sent to Trino (Trino itself
//!    rejects `;`). Any other `;` (`SELECT 1; DROP TABLE t`, `SELECT 1;;`) and empty input are
//!    `INVALID_SQL`.
//! 3. The statement head ([`classify`]), looking through any number of `EXPLAIN` wrappers.
//! 4. Constructs anywhere in the statement: query-scoped `WITH SESSION` / `WITH FUNCTION`
//!    and table functions (`TABLE(name(...))`).
//! 5. For `user_*` modes, the catalog/schema scope ([`scope`]).
//!
//! # Read-only modes (`user_ro`, `admin_ro`)
//!
//! Allowed: queries (`SELECT`, `WITH`, `VALUES`, `TABLE t`, parenthesised queries, set
//! operations), every `SHOW` form, `DESCRIBE`/`DESC` of a table, `EXPLAIN [(options)]` of an
//! allowed statement, and `EXPLAIN ANALYZE [VERBOSE]` of a query only (it runs the query, which
//! only reads). Everything else is refused: writes, DDL, `CALL`, `EXECUTE [IMMEDIATE]`,
//! `PREPARE`, `DEALLOCATE`, `DESCRIBE INPUT/OUTPUT`, `USE`, `SET ...`, `RESET ...`,
//! transactions, `WITH SESSION`, `WITH FUNCTION`, and table functions other than the built-in
//! `exclude_columns` and `sequence` (bare or as `system.builtin.*`), which is how connector
//! pass-through functions such as `TABLE(pg.system.query(...))` are kept out.
//!
//! # Read-write modes (`user_rw`, `admin_rw`)
//!
//! Writes, DDL and `CALL` are allowed (in `admin_rw`; `user_rw` is narrower, below), still one
//! statement at a time. Statements that only change session state are refused with
//! `INVALID_SQL`, because each tool call runs in a fresh Trino session built from
//! configuration and their effect could not outlive the call: `USE`, `SET/RESET SESSION`,
//! `SET ROLE`, `SET PATH`, `SET TIME ZONE`, `SET/RESET SESSION AUTHORIZATION`,
//! `START TRANSACTION`, `COMMIT`, `ROLLBACK`, `PREPARE`, `EXECUTE name`, `DEALLOCATE`,
//! `DESCRIBE INPUT/OUTPUT`. Also refused in every mode, with the same code in read-write
//! modes:
//! - `EXECUTE IMMEDIATE '...'`: the statement inside the string cannot be checked; send it
//!   directly instead.
//! - query-scoped `WITH SESSION ...`: session properties are set by the server's
//!   configuration (they carry its limits, such as `query_max_run_time`).
//!
//! `WITH FUNCTION` (inline routines, compute only) is allowed in read-write modes.
//!
//! # User modes (`user_ro`, `user_rw`)
//!
//! On top of the above, statements must stay inside the connection's configured catalog
//! (and schema, if one is set); anything outside is refused with `READ_ONLY` and a message
//! saying so. See [`scope`] for how relation positions are found. Also refused in user modes,
//! because their reach cannot be bounded by name: `SHOW CATALOGS`, `SHOW SCHEMAS`,
//! `SHOW SESSION`, `SHOW ROLES`/`ROLE GRANTS`/`GRANTS` and unknown `SHOW` forms; `CALL`
//! (procedure arguments name objects in strings); `GRANT`, `REVOKE`, `DENY`, roles, catalogs,
//! functions and anything setting `AUTHORIZATION`; and every table function that is not a
//! built-in, even in `user_rw`.
//!
//! # Codes for unrecognised input
//!
//! A statement whose head is not a Trino statement this module knows (including look-alike
//! keywords such as a Cyrillic `DЕLЕTE`) is `INVALID_SQL`, in every mode: the model should fix
//! the SQL, not look for a read-write connection. A known write or state change in a
//! read-only mode is `READ_ONLY`.
//!
//! # Known limits
//!
//! - Scalar functions are not checked: a connector could ship a scalar function with side
//!   effects. Trino's own access control (a read-only principal, or
//!   `access-control.name=read-only`) is the second layer and should be configured.
//! - Routines with compound bodies (`BEGIN ... ; ... END`) contain `;` and are refused as
//!   more than one statement.
//! - Table properties (`WITH (location = 's3://...')`) are not scope-checked.

mod classify;
mod lexer;
mod scope;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How much a connection lets its callers do. Seed 003's names; the default is `admin_ro`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessMode {
    UserRo,
    UserRw,
    #[default]
    AdminRo,
    AdminRw,
}

impl AccessMode {
    pub const ALL: [AccessMode; 4] = [
        AccessMode::UserRo,
        AccessMode::UserRw,
        AccessMode::AdminRo,
        AccessMode::AdminRw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::UserRo => "user_ro",
            AccessMode::UserRw => "user_rw",
            AccessMode::AdminRo => "admin_ro",
            AccessMode::AdminRw => "admin_rw",
        }
    }

    pub fn is_read_only(self) -> bool {
        matches!(self, AccessMode::UserRo | AccessMode::AdminRo)
    }

    /// User modes are limited to the configured catalog and schema.
    pub fn is_user(self) -> bool {
        matches!(self, AccessMode::UserRo | AccessMode::UserRw)
    }
}

impl fmt::Display for AccessMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An access mode name that is not one of `user_ro`, `user_rw`, `admin_ro`, `admin_rw`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAccessMode(pub String);

impl fmt::Display for UnknownAccessMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown access mode {:?}: expected one of user_ro, user_rw, admin_ro, admin_rw",
            self.0
        )
    }
}

impl std::error::Error for UnknownAccessMode {}

impl FromStr for AccessMode {
    type Err = UnknownAccessMode;

    /// Accepts the four names in any letter case; nothing else (no silent read-write).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccessMode::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownAccessMode(s.to_string()))
    }
}

/// The catalog and schema a connection is configured with. User modes stay inside them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub catalog: Option<String>,
    pub schema: Option<String>,
}

impl Scope {
    pub fn new(catalog: Option<&str>, schema: Option<&str>) -> Self {
        Scope {
            catalog: catalog.map(str::to_string),
            schema: schema.map(str::to_string),
        }
    }
}

/// The policy of one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub mode: AccessMode,
    pub scope: Scope,
}

/// What kind of statement passed the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    Query,
    Show,
    Describe,
    /// `EXPLAIN` without `ANALYZE`: plans, runs nothing.
    Explain,
    /// `EXPLAIN ANALYZE`: runs the inner statement.
    ExplainAnalyze,
    /// `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `TRUNCATE`.
    Write,
    /// `CREATE`, `DROP`, `ALTER`, `COMMENT`, `REFRESH`, `ANALYZE`, `GRANT`, `REVOKE`, `DENY`.
    Ddl,
    Call,
}

/// A statement that may run, and the exact SQL to send to Trino for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The statement without its trailing `;`, trailing comments or whitespace.
    pub sql: String,
    pub kind: StatementKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalCode {
    /// The statement is not allowed under this connection's access mode or scope.
    ReadOnly,
    /// The text is not one statement this server can accept.
    InvalidSql,
}

impl RefusalCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::ReadOnly => "READ_ONLY",
            RefusalCode::InvalidSql => "INVALID_SQL",
        }
    }
}

/// Why a statement may not run. `message` is for a person and a model: what was wrong and
/// what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: RefusalCode,
    pub message: String,
}

impl Refusal {
    pub(crate) fn read_only(message: impl Into<String>) -> Self {
        Refusal {
            code: RefusalCode::ReadOnly,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Refusal {
            code: RefusalCode::InvalidSql,
            message: message.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Refusal {}

impl Policy {
    pub fn new(mode: AccessMode, scope: Scope) -> Self {
        Policy { mode, scope }
    }

    /// Decides whether `sql` may run. On success, returns the SQL to send (trailing `;`,
    /// comments and whitespace removed) and the statement kind.
    pub fn check(&self, sql: &str) -> Result<Checked, Refusal> {
        let tokens = lexer::lex(sql).map_err(|e| {
            Refusal::invalid(format!(
                "Could not read the SQL: {e}. Send one Trino SQL statement."
            ))
        })?;
        let body = single_statement(&tokens)?;
        nesting_within_bounds(body)?;
        let end = body.last().map_or(0, |t| t.end);
        let text = sql
            .get(..end)
            .unwrap_or(sql)
            .trim_start_matches([' ', '\t', '\r', '\n']);
        let kind = classify::check(self, body, sql)?;
        if self.mode.is_user() {
            scope::check(self, body, sql)?;
        }
        Ok(Checked {
            sql: text.to_string(),
            kind,
        })
    }
}

/// Deepest bracket nesting accepted. Trino's recursive-descent parser gives up (a stack
/// overflow) long before 10,000 levels, and no real query comes near this.
pub const MAX_NESTING: usize = 1000;

fn nesting_within_bounds(body: &[lexer::Token]) -> Result<(), Refusal> {
    let mut depth = 0usize;
    for t in body {
        if t.is_punct('(') || t.is_punct('[') {
            depth += 1;
            if depth > MAX_NESTING {
                return Err(Refusal::invalid(format!(
                    "The SQL nests brackets more than {MAX_NESTING} levels deep. Flatten it \
                     (fewer parentheses, CTEs instead of nested subqueries)."
                )));
            }
        } else if t.is_punct(')') || t.is_punct(']') {
            depth = depth.saturating_sub(1);
        }
    }
    Ok(())
}

/// The tokens of the one statement in `tokens`, without a single trailing `;`.
fn single_statement(tokens: &[lexer::Token]) -> Result<&[lexer::Token], Refusal> {
    let body = match tokens.split_last() {
        Some((last, rest)) if last.is_punct(';') => rest,
        _ => tokens,
    };
    if body.iter().any(|t| t.is_punct(';')) {
        return Err(Refusal::invalid(
            "Only one statement per call is accepted, and `;` may only end it. Send each \
             statement in its own call.",
        ));
    }
    if body.is_empty() {
        return Err(Refusal::invalid(
            "The SQL is empty (only whitespace, comments or `;`). Send one Trino SQL statement.",
        ));
    }
    Ok(body)
}

/// A Trino identifier for `name`: wrapped in `"`, inner `"` doubled. Any other character,
/// including `.`, stays part of the one identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A Trino string literal for `s`: wrapped in `'`, inner `'` doubled.
pub fn quote_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The byte range of every token the lexer finds in `sql`, or `None` if it cannot be
/// tokenised. Not an API: for the fuzz targets in `fuzz/`.
#[doc(hidden)]
pub fn token_spans(sql: &str) -> Option<Vec<std::ops::Range<usize>>> {
    let tokens = lexer::lex(sql).ok()?;
    Some(tokens.iter().map(|t| t.start..t.end).collect())
}

#[cfg(test)]
mod tests;
