//! SHOW CATALOGS / SCHEMAS / TABLES / COLUMNS / CREATE TABLE / SESSION and DESCRIBE, with
//! Trino's column names and checks.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::CatalogProvider;
use serde_json::Value;

use super::Inner;
use super::catalogs::info_schema;
use super::output::table;
use super::resolve::{Access, TableRef, qualify};
use super::sql::{Cursor, like};
use super::types::{COMMENT_KEY, TrinoType, field_type};
use crate::errors::TrinoError;
use crate::model::{ClientSession, Execution};

const VARCHAR: TrinoType = TrinoType::Varchar(None);

pub async fn show(
    inner: &Inner,
    c: &mut Cursor<'_>,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    c.expect_keyword("SHOW")?;
    let parametric = session.parametric_datetime;
    if c.keyword("CATALOGS") {
        let pattern = like_clause(c)?;
        let rows = inner
            .catalog_names()
            .into_iter()
            .filter(|n| matches(n, &pattern))
            .map(|n| vec![Value::String(n)]);
        return Ok(table(&[("Catalog", VARCHAR)], rows.collect(), parametric));
    }
    if c.keyword("SCHEMAS") {
        let catalog = if c.keyword("FROM") || c.keyword("IN") {
            let (name, loc) = c.identifier()?;
            Some((name, loc))
        } else {
            None
        };
        let pattern = like_clause(c)?;
        let loc = c.statement_location();
        let name = match catalog {
            Some((n, _)) => n,
            None => session
                .catalog
                .as_ref()
                .map(|s| s.to_lowercase())
                .ok_or_else(|| {
                    TrinoError::new(
                        "MISSING_CATALOG_NAME",
                        "Catalog must be specified when session catalog is not set",
                    )
                    .at(1, 1)
                })?,
        };
        let provider = find_catalog(inner, &name, loc)?;
        let rows = schema_names(&provider)
            .into_iter()
            .filter(|n| matches(n, &pattern))
            .map(|n| vec![Value::String(n)]);
        return Ok(table(&[("Schema", VARCHAR)], rows.collect(), parametric));
    }
    if c.keyword("TABLES") {
        let target = if c.keyword("FROM") || c.keyword("IN") {
            Some(c.qualified_name()?)
        } else {
            None
        };
        let pattern = like_clause(c)?;
        let stmt = c.statement_location();
        let (catalog, schema, loc) = match target {
            Some((parts, _)) => match parts.as_slice() {
                [s] => (session_catalog(session, stmt)?, s.clone(), stmt),
                [cat, s] => (cat.clone(), s.clone(), stmt),
                _ => {
                    return Err(
                        TrinoError::new("SYNTAX_ERROR", "Too many parts in schema name")
                            .at(stmt.0, stmt.1),
                    );
                }
            },
            None => {
                let cat = session_catalog(session, (1, 1))?;
                let s = session
                    .schema
                    .as_ref()
                    .map(|s| s.to_lowercase())
                    .ok_or_else(|| {
                        TrinoError::new(
                            "MISSING_SCHEMA_NAME",
                            "Schema must be specified when session schema is not set",
                        )
                        .at(1, 1)
                    })?;
                (cat, s, (1, 1))
            }
        };
        let provider = find_catalog(inner, &catalog, loc)?;
        let schema_provider = provider.schema(&schema).ok_or_else(|| {
            TrinoError::new(
                "SCHEMA_NOT_FOUND",
                format!("Schema '{schema}' does not exist"),
            )
            .at(loc.0, loc.1)
        })?;
        let mut names = schema_provider.table_names();
        names.sort();
        let rows = names
            .into_iter()
            .filter(|n| matches(n, &pattern))
            .map(|n| vec![Value::String(n)]);
        return Ok(table(&[("Table", VARCHAR)], rows.collect(), parametric));
    }
    if c.keyword("COLUMNS") {
        if !(c.keyword("FROM") || c.keyword("IN")) {
            return Err(c.error("'FROM', 'IN'"));
        }
        return columns(inner, c, session).await;
    }
    if c.keywords(&["CREATE", "TABLE"]) {
        let (t, fields) = resolve_table(inner, c, session).await?;
        c.expect_end()?;
        let text = create_table_text(&t, &fields);
        return Ok(table(
            &[("Create Table", VARCHAR)],
            vec![vec![Value::String(text)]],
            parametric,
        ));
    }
    if c.keyword("SESSION") {
        let pattern = like_clause(c)?;
        let rows = session
            .properties
            .iter()
            .filter(|(n, _)| matches(n, &pattern))
            .map(|(n, v)| {
                vec![
                    Value::String(n.clone()),
                    Value::String(v.clone()),
                    Value::String(String::new()),
                    Value::String("varchar".into()),
                    Value::String(String::new()),
                ]
            })
            .collect();
        let cols = [
            ("Name", VARCHAR),
            ("Value", VARCHAR),
            ("Default", VARCHAR),
            ("Type", VARCHAR),
            ("Description", VARCHAR),
        ];
        return Ok(table(&cols, rows, parametric));
    }
    Err(c.error("'CATALOGS', 'COLUMNS', 'CREATE', 'SCHEMAS', 'SESSION', 'TABLES'"))
}

/// `SHOW COLUMNS FROM t [LIKE p]` and `DESCRIBE t` (the keyword already consumed).
pub async fn columns(
    inner: &Inner,
    c: &mut Cursor<'_>,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    let (_, fields) = resolve_table(inner, c, session).await?;
    let pattern = like_clause(c)?;
    let rows = fields
        .fields()
        .iter()
        .filter(|f| matches(f.name(), &pattern))
        .filter(|f| !(is_columns_table(&fields) && f.name() == "comment"))
        .map(|f| {
            vec![
                Value::String(f.name().clone()),
                Value::String(field_type(f).compact()),
                Value::String(String::new()),
                Value::String(f.metadata().get(COMMENT_KEY).cloned().unwrap_or_default()),
            ]
        })
        .collect();
    let cols = [
        ("Column", VARCHAR),
        ("Type", VARCHAR),
        ("Extra", VARCHAR),
        ("Comment", VARCHAR),
    ];
    Ok(table(&cols, rows, session.parametric_datetime))
}

/// The hidden `comment` column of information_schema.columns is not described.
fn is_columns_table(schema: &SchemaRef) -> bool {
    schema.as_ref() == info_schema::schema_of("columns").as_ref()
}

/// Parses and checks a table name; returns it with its columns.
async fn resolve_table(
    inner: &Inner,
    c: &mut Cursor<'_>,
    session: &ClientSession,
) -> Result<(TableRef, SchemaRef), TrinoError> {
    let (parts, loc) = c.qualified_name()?;
    let t = qualify(&parts, session, loc)?;
    inner.check_table(&t, session, loc, Access::Show)?;
    let provider = inner
        .catalog(&t.catalog)
        .and_then(|cat| cat.schema(&t.schema))
        .ok_or_else(|| {
            TrinoError::new(
                "SCHEMA_NOT_FOUND",
                format!("Schema '{}' does not exist", t.schema),
            )
        })?;
    let table = provider
        .table(&t.table)
        .await
        .ok()
        .flatten()
        .ok_or_else(|| {
            TrinoError::new(
                "TABLE_NOT_FOUND",
                format!("Table '{}' does not exist", t.qualified()),
            )
        })?;
    Ok((t, table.schema()))
}

fn session_catalog(session: &ClientSession, loc: (u32, u32)) -> Result<String, TrinoError> {
    session
        .catalog
        .as_ref()
        .map(|s| s.to_lowercase())
        .ok_or_else(|| {
            TrinoError::new(
                "MISSING_CATALOG_NAME",
                "Catalog must be specified when session catalog is not set",
            )
            .at(loc.0, loc.1)
        })
}

fn find_catalog(
    inner: &Inner,
    name: &str,
    loc: (u32, u32),
) -> Result<Arc<dyn CatalogProvider>, TrinoError> {
    inner.catalog(name).ok_or_else(|| {
        TrinoError::new("CATALOG_NOT_FOUND", format!("Catalog '{name}' not found")).at(loc.0, loc.1)
    })
}

fn schema_names(catalog: &Arc<dyn CatalogProvider>) -> Vec<String> {
    let mut names = catalog.schema_names();
    names.sort();
    names.dedup();
    names
}

/// `[LIKE 'pattern' [ESCAPE 'c']]`
fn like_clause(c: &mut Cursor) -> Result<Option<(String, Option<char>)>, TrinoError> {
    if !c.keyword("LIKE") {
        c.expect_end()?;
        return Ok(None);
    }
    let pattern = c.string()?;
    let escape = if c.keyword("ESCAPE") {
        c.string()?.chars().next()
    } else {
        None
    };
    c.expect_end()?;
    Ok(Some((pattern, escape)))
}

fn matches(name: &str, pattern: &Option<(String, Option<char>)>) -> bool {
    match pattern {
        Some((p, e)) => like(name, p, *e),
        None => true,
    }
}

/// Trino's SHOW CREATE TABLE layout: three-space indented columns.
pub fn create_table_text(t: &TableRef, schema: &SchemaRef) -> String {
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            let mut line = format!("   {} {}", quote_ident(f.name()), field_type(f).compact());
            if !f.is_nullable() {
                line.push_str(" NOT NULL");
            }
            if let Some(comment) = f.metadata().get(COMMENT_KEY) {
                line.push_str(&format!(" COMMENT '{}'", comment.replace('\'', "''")));
            }
            line
        })
        .collect();
    format!(
        "CREATE TABLE {} (\n{}\n)",
        t.qualified(),
        columns.join(",\n")
    )
}

fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}
