//! Statement dispatch: the first keywords pick queries (DataFusion), metadata statements,
//! session statements, EXPLAIN, and memory-connector DDL/DML.

use datafusion::sql::sqlparser::tokenizer::Token;

use super::output::{columns_json, done, guard};
use super::query::{plan_query, rows};
use super::sql::{Cursor, tokenize, unknown_statement};
use super::{Inner, ddl, explain, show};
use crate::errors::TrinoError;
use crate::model::{ClientSession, Execution};

/// Executes one statement (on the analysis thread; rows are produced later).
pub async fn run(
    inner: &Inner,
    sql: &str,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    let toks = tokenize(sql)?;
    let mut c = Cursor::new(sql, toks);
    if c.at_end() {
        return Err(unknown_statement(&c));
    }
    if c.peek().map(|t| &t.token) == Some(&Token::LParen) {
        return run_query(inner, sql, session).await;
    }
    let first = c.peek_keyword().unwrap_or_default();
    match first.as_str() {
        "SELECT" | "WITH" | "VALUES" | "TABLE" => run_query(inner, sql, session).await,
        "SHOW" => show::show(inner, &mut c, session).await,
        "DESCRIBE" | "DESC" => {
            c.pos += 1;
            show::columns(inner, &mut c, session).await
        }
        "USE" => use_schema(inner, &mut c, session),
        "SET" => set_session(&mut c),
        "RESET" => reset_session(&mut c),
        "EXPLAIN" => explain::run(inner, &mut c, session).await,
        "CREATE" => ddl::create(inner, &mut c, session).await,
        "DROP" => ddl::drop(inner, &mut c, session),
        "INSERT" => ddl::insert(inner, &mut c, session).await,
        "DELETE" | "UPDATE" | "MERGE" | "TRUNCATE" => Err(TrinoError::new(
            "NOT_SUPPORTED",
            "This connector does not support modifying table rows",
        )),
        "ALTER" | "COMMENT" | "GRANT" | "REVOKE" | "DENY" | "CALL" | "PREPARE" | "EXECUTE"
        | "DEALLOCATE" | "START" | "COMMIT" | "ROLLBACK" | "ANALYZE" | "REFRESH" => {
            Err(TrinoError::new(
                "NOT_SUPPORTED",
                format!("{first} statements are not supported by this server"),
            ))
        }
        _ => Err(unknown_statement(&c)),
    }
}

pub async fn run_query(
    inner: &Inner,
    sql: &str,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    let planned = plan_query(inner, sql, session).await?;
    let parametric = session.parametric_datetime;
    let stream = rows(&planned, sql, parametric).await?;
    Ok(Execution {
        columns: columns_json(&planned.names, &planned.types, parametric),
        rows: guard(stream),
        update_type: None,
        response_headers: Vec::new(),
    })
}

/// `USE catalog.schema` or `USE schema` (against the session catalog).
fn use_schema(
    inner: &Inner,
    c: &mut Cursor,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    c.expect_keyword("USE")?;
    let (parts, loc) = c.qualified_name()?;
    c.expect_end()?;
    let (catalog, schema, explicit) = match parts.as_slice() {
        [s] => {
            let cat = session
                .catalog
                .as_ref()
                .map(|v| v.to_lowercase())
                .ok_or_else(|| {
                    TrinoError::new(
                        "MISSING_CATALOG_NAME",
                        "Catalog must be specified when session catalog is not set",
                    )
                    .at(loc.0, loc.1)
                })?;
            (cat, s.clone(), false)
        }
        [cat, s] => (cat.clone(), s.clone(), true),
        _ => {
            return Err(
                TrinoError::new("SYNTAX_ERROR", "Too many parts in schema name").at(loc.0, loc.1),
            );
        }
    };
    let provider = inner.catalog(&catalog).ok_or_else(|| {
        TrinoError::new(
            "CATALOG_NOT_FOUND",
            format!("Catalog '{catalog}' not found"),
        )
        .at(loc.0, loc.1)
    })?;
    if provider.schema(&schema).is_none() {
        return Err(TrinoError::new(
            "SCHEMA_NOT_FOUND",
            format!("Schema '{catalog}.{schema}' does not exist"),
        )
        .at(loc.0, loc.1));
    }
    let mut headers = Vec::new();
    if explicit {
        headers.push(("X-Trino-Set-Catalog".to_string(), catalog));
    }
    headers.push(("X-Trino-Set-Schema".to_string(), schema));
    Ok(done("USE", headers))
}

/// `SET SESSION name = value`.
fn set_session(c: &mut Cursor) -> Result<Execution, TrinoError> {
    c.expect_keyword("SET")?;
    if !c.keyword("SESSION") {
        return Err(TrinoError::new(
            "NOT_SUPPORTED",
            "Only SET SESSION is supported by this server",
        ));
    }
    let (parts, _) = c.qualified_name()?;
    c.expect_token(&Token::Eq, "'='")?;
    let value = match c.peek().map(|t| t.token.clone()) {
        Some(Token::SingleQuotedString(s)) => s,
        Some(Token::Number(n, _)) => n,
        Some(Token::Word(w))
            if matches!(w.value.to_ascii_lowercase().as_str(), "true" | "false") =>
        {
            w.value.to_ascii_lowercase()
        }
        _ => return Err(c.error("<expression>")),
    };
    c.pos += 1;
    c.expect_end()?;
    let name = parts.join(".");
    Ok(done(
        "SET SESSION",
        vec![(
            "X-Trino-Set-Session".into(),
            format!("{name}={}", url_encode(&value)),
        )],
    ))
}

/// `RESET SESSION name`.
fn reset_session(c: &mut Cursor) -> Result<Execution, TrinoError> {
    c.expect_keyword("RESET")?;
    c.expect_keyword("SESSION")?;
    let (parts, _) = c.qualified_name()?;
    c.expect_end()?;
    Ok(done(
        "RESET SESSION",
        vec![("X-Trino-Clear-Session".into(), parts.join("."))],
    ))
}

/// Java's `URLEncoder` form, which Trino uses for session values in headers.
fn url_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}
