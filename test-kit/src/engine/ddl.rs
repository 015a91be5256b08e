//! Memory-connector DDL and DML: CREATE SCHEMA/TABLE, CTAS, INSERT, DROP TABLE/SCHEMA.
//! Other catalogs refuse writes the way Trino's read-only connectors do.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::physical_plan::collect;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::Inner;
use super::catalogs::memory::{MemorySchema, MemoryTable};
use super::errmap::map_runtime;
use super::output::{count, done};
use super::query::{Planned, physical, plan_query};
use super::resolve::{Access, TableRef, qualify};
use super::sql::{Cursor, shift, tokenize};
use super::types::{TrinoType, field_type, stored_field};
use crate::errors::TrinoError;
use crate::model::{ClientSession, Execution};

pub async fn create(
    inner: &Inner,
    c: &mut Cursor<'_>,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    c.expect_keyword("CREATE")?;
    if c.keyword("SCHEMA") {
        return create_schema(inner, c, session);
    }
    if c.keyword("TABLE") {
        return create_table(inner, c, session).await;
    }
    if c.keyword("VIEW") || c.keywords(&["OR", "REPLACE"]) {
        return Err(TrinoError::new(
            "NOT_SUPPORTED",
            "This connector does not support creating views",
        ));
    }
    Err(c.error("'SCHEMA', 'TABLE'"))
}

fn create_schema(
    inner: &Inner,
    c: &mut Cursor,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    let if_not_exists = c.keywords(&["IF", "NOT", "EXISTS"]);
    let (parts, loc) = c.qualified_name()?;
    skip_properties(c)?;
    c.expect_end()?;
    let (catalog, schema) = schema_name(&parts, session, loc)?;
    writable_catalog(inner, &catalog, loc, "creating schemas")?;
    if !inner.memory.create_schema(&schema) && !if_not_exists {
        return Err(TrinoError::new(
            "SCHEMA_ALREADY_EXISTS",
            format!("Schema '{catalog}.{schema}' already exists"),
        )
        .at(loc.0, loc.1));
    }
    Ok(done("CREATE SCHEMA", vec![]))
}

fn schema_name(
    parts: &[String],
    session: &ClientSession,
    loc: (u32, u32),
) -> Result<(String, String), TrinoError> {
    match parts {
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
            Ok((cat, s.clone()))
        }
        [c, s] => Ok((c.clone(), s.clone())),
        _ => Err(TrinoError::new("SYNTAX_ERROR", "Too many parts in schema name").at(loc.0, loc.1)),
    }
}

/// Only `memory` accepts writes; `what` completes Trino's "does not support ..." message.
fn writable_catalog(
    inner: &Inner,
    catalog: &str,
    loc: (u32, u32),
    what: &str,
) -> Result<(), TrinoError> {
    if inner.catalog(catalog).is_none() {
        return Err(TrinoError::new(
            "CATALOG_NOT_FOUND",
            format!("Catalog '{catalog}' not found"),
        )
        .at(loc.0, loc.1));
    }
    if catalog != "memory" {
        return Err(TrinoError::new(
            "NOT_SUPPORTED",
            format!("This connector does not support {what}"),
        ));
    }
    Ok(())
}

/// The memory schema a new or existing table lives in, with Trino's checks.
fn target_schema(
    inner: &Inner,
    t: &TableRef,
    loc: (u32, u32),
    what: &str,
) -> Result<Arc<MemorySchema>, TrinoError> {
    if inner.catalog(&t.catalog).is_none() {
        return Err(TrinoError::new(
            "CATALOG_NOT_FOUND",
            format!("Catalog '{}' not found", t.catalog),
        )
        .at(loc.0, loc.1));
    }
    let exists = inner
        .catalog(&t.catalog)
        .and_then(|c| c.schema(&t.schema))
        .is_some();
    if !exists {
        return Err(TrinoError::new(
            "SCHEMA_NOT_FOUND",
            format!("Schema '{}' does not exist", t.schema),
        )
        .at(loc.0, loc.1));
    }
    writable_catalog(inner, &t.catalog, loc, what)?;
    inner.memory.memory_schema(&t.schema).ok_or_else(|| {
        TrinoError::new(
            "SCHEMA_NOT_FOUND",
            format!("Schema '{}' does not exist", t.schema),
        )
        .at(loc.0, loc.1)
    })
}

/// Skips `WITH ( ... )` table or schema properties.
fn skip_properties(c: &mut Cursor) -> Result<(), TrinoError> {
    if c.peek_keyword().as_deref() == Some("WITH")
        && c.toks.get(c.pos + 1).map(|t| &t.token) == Some(&Token::LParen)
    {
        c.pos += 1;
        skip_parens(c)?;
    }
    Ok(())
}

fn skip_parens(c: &mut Cursor) -> Result<(), TrinoError> {
    c.expect_token(&Token::LParen, "'('")?;
    let mut depth = 1;
    while depth > 0 {
        match c.peek().map(|t| &t.token) {
            None => return Err(c.error("')'")),
            Some(Token::LParen) => depth += 1,
            Some(Token::RParen) => depth -= 1,
            _ => {}
        }
        c.pos += 1;
    }
    Ok(())
}

async fn create_table(
    inner: &Inner,
    c: &mut Cursor<'_>,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    let if_not_exists = c.keywords(&["IF", "NOT", "EXISTS"]);
    let (parts, loc) = c.qualified_name()?;
    let t = qualify(&parts, session, loc)?;
    // `(` followed by `name type` defines columns; otherwise it lists CTAS column aliases.
    let mut aliases = None;
    let mut fields = None;
    if c.peek().map(|x| &x.token) == Some(&Token::LParen) {
        let defines = !matches!(
            c.toks.get(c.pos + 2).map(|x| &x.token),
            Some(Token::Comma | Token::RParen)
        );
        if defines {
            fields = Some(column_definitions(c)?);
        } else {
            aliases = Some(column_aliases(c)?);
        }
    }
    if c.keyword("COMMENT") {
        c.string()?;
    }
    skip_properties(c)?;
    let schema = target_schema(inner, &t, loc, "creating tables")?;
    let exists = schema.memory_table(&t.table).is_some();
    if exists && !if_not_exists {
        return Err(TrinoError::new(
            "TABLE_ALREADY_EXISTS",
            format!("Table '{}' already exists", t.qualified()),
        )
        .at(loc.0, loc.1));
    }
    if let Some(fields) = fields {
        c.expect_end()?;
        if !exists {
            schema.add_table(
                &t.table,
                Arc::new(MemoryTable::new(Arc::new(Schema::new(fields)))),
            );
        }
        return Ok(done("CREATE TABLE", vec![]));
    }
    if !c.keyword("AS") {
        return Err(c.error("'(', 'AS', 'COMMENT', 'WITH'"));
    }
    // CTAS: the query runs now; `WITH [NO] DATA` may end the statement.
    let base = c.location();
    let start = c.offset();
    let mut end = c.sql.len();
    let n = c.toks.len();
    let kw = |i: usize| c.toks.get(i).and_then(|t| t.keyword());
    let mut with_data = true;
    if n >= 3
        && kw(n - 3).as_deref() == Some("WITH")
        && kw(n - 2).as_deref() == Some("NO")
        && kw(n - 1).as_deref() == Some("DATA")
    {
        end = c.toks[n - 3].start;
        with_data = false;
    } else if n >= 2 && kw(n - 2).as_deref() == Some("WITH") && kw(n - 1).as_deref() == Some("DATA")
    {
        end = c.toks[n - 2].start;
    }
    let query_sql = c.sql.get(start..end).unwrap_or_default();
    let planned = plan_query(inner, query_sql, session)
        .await
        .map_err(|e| shift(e, base))?;
    if exists {
        return Ok(count("CREATE TABLE", 0));
    }
    let names = match aliases {
        Some(a) if a.len() != planned.names.len() => {
            return Err(TrinoError::new(
                "MISMATCHED_COLUMN_ALIASES",
                "Column alias list has 1 entries but 'query' has 2 columns available"
                    .replace("1 entries", &format!("{} entries", a.len()))
                    .replace("2 columns", &format!("{} columns", planned.names.len())),
            )
            .at(loc.0, loc.1));
        }
        Some(a) => a,
        None => planned.names.iter().map(|n| n.to_lowercase()).collect(),
    };
    let mut seen = HashSet::new();
    for (i, name) in names.iter().enumerate() {
        if name.starts_with("_col") && aliases_missing(&planned, i) {
            return Err(TrinoError::new(
                "MISSING_COLUMN_NAME",
                format!("Column name not specified at position {}", i + 1),
            )
            .at(base.0, base.1));
        }
        if !seen.insert(name.clone()) {
            return Err(TrinoError::new(
                "DUPLICATE_COLUMN_NAME",
                format!("Column name '{name}' specified more than once"),
            )
            .at(base.0, base.1));
        }
    }
    let source = planned.plan.schema().as_arrow().clone();
    let fields: Vec<Field> = names
        .iter()
        .zip(&planned.types)
        .zip(source.fields())
        .map(|((name, ty), src)| {
            let storage = if matches!(src.data_type(), DataType::Timestamp(_, Some(_))) {
                src.data_type().clone()
            } else {
                ty.to_arrow()
            };
            stored_field(name, ty, true, None).with_data_type(storage)
        })
        .collect();
    let target = Arc::new(Schema::new(fields));
    let table = Arc::new(MemoryTable::new(target.clone()));
    let rows = if with_data {
        write_rows(&planned, query_sql, &table, &target, None)
            .await
            .map_err(|e| shift(e, base))?
    } else {
        0
    };
    schema.add_table(&t.table, table);
    Ok(count("CREATE TABLE", rows))
}

fn aliases_missing(planned: &Planned, i: usize) -> bool {
    planned.plan.schema().field(i).name() != &planned.names[i]
}

fn column_aliases(c: &mut Cursor) -> Result<Vec<String>, TrinoError> {
    c.expect_token(&Token::LParen, "'('")?;
    let mut names = vec![c.identifier()?.0];
    while c.token(&Token::Comma) {
        names.push(c.identifier()?.0);
    }
    c.expect_token(&Token::RParen, "')'")?;
    Ok(names)
}

/// `( name type [NOT NULL] [COMMENT '...'] [WITH (...)], ... )`
fn column_definitions(c: &mut Cursor) -> Result<Vec<Field>, TrinoError> {
    c.expect_token(&Token::LParen, "'('")?;
    let mut fields: Vec<Field> = Vec::new();
    loop {
        let (name, name_loc) = c.identifier()?;
        let type_loc = c.location();
        let start = c.offset();
        let mut depth = 0;
        let mut end = start;
        while let Some(t) = c.peek() {
            match (&t.token, t.keyword().as_deref()) {
                (Token::LParen, _) => depth += 1,
                (Token::RParen, _) if depth == 0 => break,
                (Token::RParen, _) => depth -= 1,
                (Token::Comma, _) if depth == 0 => break,
                (_, Some("NOT" | "COMMENT" | "WITH")) if depth == 0 => break,
                _ => {}
            }
            end = t.end;
            c.pos += 1;
        }
        let text = c.sql.get(start..end).unwrap_or_default();
        let ty = TrinoType::parse(text).map_err(|_| {
            TrinoError::new(
                "TYPE_NOT_FOUND",
                format!("Unknown type '{text}' for column '{name}'"),
            )
            .at(type_loc.0, type_loc.1)
        })?;
        let nullable = !c.keywords(&["NOT", "NULL"]);
        let comment = if c.keyword("COMMENT") {
            Some(c.string()?)
        } else {
            None
        };
        skip_properties(c)?;
        if fields.iter().any(|f| f.name() == &name) {
            return Err(TrinoError::new(
                "DUPLICATE_COLUMN_NAME",
                format!("Column name '{name}' specified more than once"),
            )
            .at(name_loc.0, name_loc.1));
        }
        fields.push(stored_field(&name, &ty, nullable, comment.as_deref()));
        if c.token(&Token::Comma) {
            continue;
        }
        c.expect_token(&Token::RParen, "',', ')'")?;
        return Ok(fields);
    }
}

/// Runs the query and appends its rows, cast to the table's columns; `columns` maps query
/// columns to table column positions (INSERT with a column list).
async fn write_rows(
    planned: &Planned,
    sql: &str,
    table: &MemoryTable,
    target: &SchemaRef,
    columns: Option<&[usize]>,
) -> Result<u64, TrinoError> {
    let toks = tokenize(sql)?;
    let plan = physical(planned, &toks, sql).await??;
    let batches = collect(plan, planned.state.task_ctx())
        .await
        .map_err(|e| map_runtime(&e))?;
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    let mut total = 0u64;
    for batch in batches {
        let n = batch.num_rows();
        let mut arrays: Vec<ArrayRef> = target
            .fields()
            .iter()
            .map(|f| new_null_array(f.data_type(), n))
            .collect();
        for (i, col) in batch.columns().iter().enumerate() {
            let pos = columns.map(|c| c[i]).unwrap_or(i);
            let field = &target.fields()[pos];
            arrays[pos] = if col.data_type() == field.data_type() {
                col.clone()
            } else {
                cast_with_options(col, field.data_type(), &options).map_err(|e| {
                    map_runtime(&datafusion::common::DataFusionError::ArrowError(
                        Box::new(e),
                        None,
                    ))
                })?
            };
        }
        for (field, array) in target.fields().iter().zip(&arrays) {
            if !field.is_nullable() && array.null_count() > 0 {
                return Err(TrinoError::new(
                    "CONSTRAINT_VIOLATION",
                    format!(
                        "NULL value not allowed for NOT NULL column: {}",
                        field.name()
                    ),
                ));
            }
        }
        let out = RecordBatch::try_new(target.clone(), arrays)
            .map_err(|e| TrinoError::new("GENERIC_INTERNAL_ERROR", e.to_string()))?;
        table
            .append(out)
            .map_err(|e| TrinoError::new("GENERIC_INTERNAL_ERROR", e.to_string()))?;
        total += n as u64;
    }
    Ok(total)
}

/// `INSERT INTO t [(cols)] query`
pub async fn insert(
    inner: &Inner,
    c: &mut Cursor<'_>,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    c.expect_keyword("INSERT")?;
    c.expect_keyword("INTO")?;
    let (parts, loc) = c.qualified_name()?;
    let t = qualify(&parts, session, loc)?;
    inner.check_table(&t, session, loc, Access::Insert)?;
    let schema = target_schema(inner, &t, loc, "inserts")?;
    let table = schema.memory_table(&t.table).ok_or_else(|| {
        TrinoError::new(
            "TABLE_NOT_FOUND",
            format!("Table '{}' does not exist", t.qualified()),
        )
        .at(loc.0, loc.1)
    })?;
    let target = datafusion::catalog::TableProvider::schema(table.as_ref());
    let mut positions = None;
    if c.peek().map(|x| &x.token) == Some(&Token::LParen)
        && matches!(
            c.toks.get(c.pos + 2).map(|x| &x.token),
            Some(Token::Comma | Token::RParen)
        )
    {
        let names = column_aliases(c)?;
        let mut pos = Vec::new();
        for n in &names {
            let i = target.index_of(n).map_err(|_| {
                TrinoError::new(
                    "COLUMN_NOT_FOUND",
                    format!("Insert column name does not exist: {n}"),
                )
                .at(loc.0, loc.1)
            })?;
            pos.push(i);
        }
        positions = Some(pos);
    }
    let base = c.location();
    let query_sql = c.sql.get(c.offset()..).unwrap_or_default();
    let planned = plan_query(inner, query_sql, session)
        .await
        .map_err(|e| shift(e, base))?;
    let expected: Vec<usize> = positions
        .clone()
        .unwrap_or_else(|| (0..target.fields().len()).collect());
    let table_types: Vec<TrinoType> = expected
        .iter()
        .map(|i| field_type(&target.fields()[*i]))
        .collect();
    let mismatch = planned.types.len() != expected.len()
        || table_types
            .iter()
            .zip(&planned.types)
            .any(|(t, q)| !assignable(q, t));
    if mismatch {
        let list = |ts: &[TrinoType]| {
            ts.iter()
                .map(|t| t.compact())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(TrinoError::new(
            "TYPE_MISMATCH",
            format!(
                "Insert query has mismatched column types: Table: [{}], Query: [{}]",
                list(&table_types),
                list(&planned.types)
            ),
        )
        .at(1, 1));
    }
    let rows = write_rows(&planned, query_sql, &table, &target, positions.as_deref())
        .await
        .map_err(|e| shift(e, base))?;
    Ok(count("INSERT", rows))
}

/// Trino coerces numbers to numbers and text to text-like types, never text to numbers.
fn assignable(from: &TrinoType, to: &TrinoType) -> bool {
    use TrinoType as T;
    let text = |t: &T| {
        matches!(
            t,
            T::Varchar(_) | T::Char(_) | T::Json | T::Uuid | T::TimeTz(_)
        )
    };
    match (from, to) {
        (T::Unknown, _) => true,
        (f, t) if f.is_numeric() => t.is_numeric(),
        (f, t) if text(f) => text(t) || matches!(t, T::Varbinary),
        (f, t) if text(t) || t.is_numeric() => f == t,
        _ => true,
    }
}

pub fn drop(
    inner: &Inner,
    c: &mut Cursor,
    session: &ClientSession,
) -> Result<Execution, TrinoError> {
    c.expect_keyword("DROP")?;
    if c.keyword("TABLE") {
        let if_exists = c.keywords(&["IF", "EXISTS"]);
        let (parts, loc) = c.qualified_name()?;
        c.expect_end()?;
        let t = qualify(&parts, session, loc)?;
        match inner.check_table(&t, session, loc, Access::Insert) {
            Ok(()) => {}
            Err(e) if if_exists && matches!(e.name, "TABLE_NOT_FOUND" | "SCHEMA_NOT_FOUND") => {
                return Ok(done("DROP TABLE", vec![]));
            }
            Err(e) => return Err(e),
        }
        let schema = target_schema(inner, &t, loc, "dropping tables")?;
        schema.drop_table(&t.table);
        return Ok(done("DROP TABLE", vec![]));
    }
    if c.keyword("SCHEMA") {
        let if_exists = c.keywords(&["IF", "EXISTS"]);
        let (parts, loc) = c.qualified_name()?;
        let _ = c.keyword("RESTRICT");
        c.expect_end()?;
        let (catalog, schema) = schema_name(&parts, session, loc)?;
        let exists = inner
            .catalog(&catalog)
            .and_then(|p| p.schema(&schema))
            .is_some();
        if !exists {
            if if_exists && inner.catalog(&catalog).is_some() {
                return Ok(done("DROP SCHEMA", vec![]));
            }
            writable_catalog(inner, &catalog, loc, "dropping schemas")?;
            return Err(TrinoError::new(
                "SCHEMA_NOT_FOUND",
                format!("Schema '{catalog}.{schema}' does not exist"),
            )
            .at(loc.0, loc.1));
        }
        writable_catalog(inner, &catalog, loc, "dropping schemas")?;
        let Some(s) = inner.memory.memory_schema(&schema) else {
            return Err(TrinoError::new(
                "SCHEMA_NOT_FOUND",
                format!("Schema '{catalog}.{schema}' does not exist"),
            ));
        };
        if !s.is_empty() {
            return Err(TrinoError::new(
                "SCHEMA_NOT_EMPTY",
                format!("Cannot drop non-empty schema '{schema}'"),
            )
            .at(loc.0, loc.1));
        }
        inner.memory.drop_schema(&schema);
        return Ok(done("DROP SCHEMA", vec![]));
    }
    if c.keyword("VIEW") {
        return Err(TrinoError::new(
            "NOT_SUPPORTED",
            "This connector does not support dropping views",
        ));
    }
    Err(c.error("'SCHEMA', 'TABLE'"))
}
