//! The metadata tools. They build their SQL themselves, with every name a quoted identifier
//! and every pattern a string literal, so nothing a client sends is spliced into SQL.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::args::Args;
use super::error::{Code, ToolError};
use super::{CallEnv, Failure, Rows, ToolKind, ToolOutput, admit, pretty, resolve, run_sql};
use crate::clusters::Cluster;
use crate::policy::{quote_ident, quote_string};

/// More schemas or tables than this is not an answer a model can use.
const MAX_NAMES: usize = 100_000;
const SAMPLE_ROWS: usize = 5;

fn required<'a>(args: &Args<'a>, key: &str, code: Code, what: &str) -> Result<&'a str, Failure> {
    match args.string(key).map_err(|e| (e, None))? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err((
            ToolError::new(code, format!("{what} is required: pass it in '{key}'.")),
            None,
        )),
    }
}

fn timeout(cluster: &Cluster) -> Duration {
    Duration::from_secs(u64::from(cluster.connection().timeout_secs))
}

/// Trino's own error name decides "not found" (never the message text).
fn not_found(mut f: Failure, hint: &str) -> Failure {
    let name =
        f.0.details
            .get("trino_error_name")
            .and_then(Value::as_str)
            .unwrap_or("");
    let code = match name {
        "CATALOG_NOT_FOUND" => Some(Code::CatalogNotFound),
        "SCHEMA_NOT_FOUND" => Some(Code::SchemaNotFound),
        "TABLE_NOT_FOUND" => Some(Code::TableNotFound),
        _ => None,
    };
    if let Some(code) = code {
        f.0.code = code;
        let msg = f.0.message.trim_start_matches("Query failed: ").to_string();
        f.0.message = format!("{msg}. {hint}");
    }
    f
}

/// `user_*` connections see only their configured catalog and schema.
fn in_scope(cluster: &Cluster, catalog: &str, schema: Option<&str>) -> Result<(), Failure> {
    let conn = cluster.connection();
    if !conn.access_mode.is_user() {
        return Ok(());
    }
    let same = |configured: &Option<String>, given: &str| {
        configured
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case(given))
    };
    if same(&conn.catalog, catalog) && schema.is_none_or(|s| same(&conn.schema, s)) {
        return Ok(());
    }
    let e = ToolError::new(
        Code::ReadOnly,
        format!(
            "Connection '{}' is limited to catalog '{}' and schema '{}'.",
            conn.name,
            conn.catalog.as_deref().unwrap_or(""),
            conn.schema.as_deref().unwrap_or("")
        ),
    )
    .detail("connection", conn.name.as_str());
    Err((e, Some(conn.name.clone())))
}

fn names(rows: Rows) -> Vec<Value> {
    rows.rows
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect()
}

fn ok(
    body: Value,
    structured: Value,
    cluster: &Cluster,
    query_id: Option<String>,
    rows: usize,
) -> ToolOutput {
    ToolOutput {
        text: vec![pretty(&body)],
        structured,
        is_error: false,
        connection: Some(cluster.name().to_string()),
        query_id,
        rows,
        code: None,
    }
}

pub async fn list_catalogs(args: &Args<'_>, env: &CallEnv<'_>) -> Result<ToolOutput, Failure> {
    let cluster = resolve(ToolKind::ListCatalogs, args, env)?;
    let _permit = admit(cluster)?;
    let mut rows = Rows::new(MAX_NAMES);
    let done = run_sql(
        cluster,
        ToolKind::ListCatalogs,
        "SHOW CATALOGS",
        timeout(cluster),
        env,
        &mut rows,
    )
    .await?;
    let catalogs = names(rows);
    let n = catalogs.len();
    Ok(ok(
        json!({"catalogs": catalogs}),
        json!({"catalogs": catalogs, "count": n}),
        cluster,
        Some(done.query_id),
        n,
    ))
}

pub async fn list_schemas(args: &Args<'_>, env: &CallEnv<'_>) -> Result<ToolOutput, Failure> {
    let catalog = required(args, "catalog", Code::CatalogRequired, "Catalog")?;
    let cluster = resolve(ToolKind::ListSchemas, args, env)?;
    let sql = format!("SHOW SCHEMAS FROM {}", quote_ident(catalog));
    let _permit = admit(cluster)?;
    let mut rows = Rows::new(MAX_NAMES);
    let done = run_sql(
        cluster,
        ToolKind::ListSchemas,
        &sql,
        timeout(cluster),
        env,
        &mut rows,
    )
    .await
    .map_err(|f| not_found(f, "Use trino_list_catalogs to see the catalogs."))?;
    let schemas = names(rows);
    let n = schemas.len();
    Ok(ok(
        json!({"catalog": catalog, "schemas": schemas}),
        json!({"catalog": catalog, "schemas": schemas, "count": n}),
        cluster,
        Some(done.query_id),
        n,
    ))
}

pub async fn list_tables(args: &Args<'_>, env: &CallEnv<'_>) -> Result<ToolOutput, Failure> {
    let catalog = required(args, "catalog", Code::CatalogRequired, "Catalog")?;
    let schema = required(args, "schema", Code::SchemaRequired, "Schema")?;
    let pattern = args.string("pattern").map_err(|e| (e, None))?;
    let cluster = resolve(ToolKind::ListTables, args, env)?;
    in_scope(cluster, catalog, Some(schema))?;
    let mut sql = format!(
        "SHOW TABLES FROM {}.{}",
        quote_ident(catalog),
        quote_ident(schema)
    );
    if let Some(p) = pattern {
        sql.push_str(" LIKE ");
        sql.push_str(&quote_string(p));
    }
    let mut rows = Rows::new(MAX_NAMES);
    let _permit = admit(cluster)?;
    let done = run_sql(
        cluster,
        ToolKind::ListTables,
        &sql,
        timeout(cluster),
        env,
        &mut rows,
    )
    .await
    .map_err(|f| not_found(f, "Use trino_list_schemas to see the schemas of a catalog."))?;
    let tables = names(rows);
    let n = tables.len();
    // Seed 004: the text echoes `null` for no pattern, the structured output `""`.
    Ok(ok(
        json!({"catalog": catalog, "schema": schema, "tables": tables, "pattern": pattern}),
        json!({"catalog": catalog, "schema": schema, "tables": tables, "count": n, "pattern": pattern.unwrap_or("")}),
        cluster,
        Some(done.query_id),
        n,
    ))
}

pub async fn describe_table(args: &Args<'_>, env: &CallEnv<'_>) -> Result<ToolOutput, Failure> {
    let catalog = required(args, "catalog", Code::CatalogRequired, "Catalog")?;
    let schema = required(args, "schema", Code::SchemaRequired, "Schema")?;
    let table = required(args, "table", Code::TableRequired, "Table")?;
    let include_sample = args
        .boolean("include_sample")
        .map_err(|e| (e, None))?
        .unwrap_or(true);
    let cluster = resolve(ToolKind::DescribeTable, args, env)?;
    in_scope(cluster, catalog, Some(schema))?;
    let qualified = format!(
        "{}.{}.{}",
        quote_ident(catalog),
        quote_ident(schema),
        quote_ident(table)
    );

    // One permit covers all of DESCRIBE's queries: they run one after another.
    let _permit = admit(cluster)?;
    // DESCRIBE gives Trino's own not-found errors and the column types.
    let mut described = Rows::new(MAX_NAMES);
    let done = run_sql(
        cluster,
        ToolKind::DescribeTable,
        &format!("DESCRIBE {qualified}"),
        timeout(cluster),
        env,
        &mut described,
    )
    .await
    .map_err(|f| not_found(f, "Use trino_list_tables to see the tables of a schema."))?;
    // Nullability lives in information_schema; without it the answer still stands.
    let nullability = nullability(cluster, catalog, schema, table, env).await;

    let mut text_cols = Vec::new();
    let mut struct_cols = Vec::new();
    for row in described.rows {
        let mut it = row.into_iter();
        let name = it.next().unwrap_or(Value::Null);
        let ty = it.next().unwrap_or(Value::Null);
        let _extra = it.next();
        let comment = match it.next() {
            Some(Value::String(s)) if !s.is_empty() => Value::String(s),
            _ => Value::Null,
        };
        let nullable = name
            .as_str()
            .and_then(|n| nullability.as_ref().and_then(|m| m.get(n).cloned()));
        text_cols.push(json!({
            "name": name, "type": ty,
            "nullable": nullable.as_ref().map(|n| Value::Bool(n == "YES")).unwrap_or(Value::Null),
            "comment": comment,
        }));
        let mut s = Map::new();
        s.insert("name".into(), name);
        s.insert("type".into(), ty);
        if let Some(n) = nullable {
            s.insert("nullable".into(), Value::String(n));
        }
        if !comment.is_null() {
            s.insert("comment".into(), comment);
        }
        struct_cols.push(Value::Object(s));
    }
    let column_count = struct_cols.len();
    let mut text = json!({"table": format!("{catalog}.{schema}.{table}"), "columns": text_cols});
    let mut structured = json!({
        "catalog": catalog, "schema": schema, "table": table, "columns": struct_cols, "column_count": column_count
    });
    if include_sample {
        let mut sample = Rows::new(SAMPLE_ROWS);
        let sql = format!("SELECT * FROM {qualified} LIMIT {SAMPLE_ROWS}");
        match run_sql(
            cluster,
            ToolKind::DescribeTable,
            &sql,
            timeout(cluster),
            env,
            &mut sample,
        )
        .await
        {
            Ok(_) => {
                let n = sample.rows.len();
                text["sample"] = json!(sample.rows);
                text["sample_count"] = json!(n);
                structured["sample"] = json!(sample.rows);
                structured["sample_count"] = json!(n);
            }
            Err((e, _)) => {
                // A failing sample (e.g. no SELECT permission) does not fail the tool.
                let why = format!("The sample could not be read: {}", e.message);
                text["sample_error"] = json!(why);
                structured["sample_error"] = json!(why);
            }
        }
    }
    Ok(ok(
        text,
        structured,
        cluster,
        Some(done.query_id),
        column_count,
    ))
}

async fn nullability(
    cluster: &Cluster,
    catalog: &str,
    schema: &str,
    table: &str,
    env: &CallEnv<'_>,
) -> Option<std::collections::HashMap<String, String>> {
    let sql = format!(
        "SELECT column_name, is_nullable FROM {}.information_schema.columns WHERE table_schema = {} AND table_name = {}",
        quote_ident(catalog),
        quote_string(&schema.to_lowercase()),
        quote_string(&table.to_lowercase())
    );
    let mut rows = Rows::new(MAX_NAMES);
    run_sql(
        cluster,
        ToolKind::DescribeTable,
        &sql,
        timeout(cluster),
        env,
        &mut rows,
    )
    .await
    .ok()?;
    Some(
        rows.rows
            .into_iter()
            .filter_map(|r| match (r.first(), r.get(1)) {
                (Some(Value::String(n)), Some(Value::String(y))) => Some((n.clone(), y.clone())),
                _ => None,
            })
            .collect(),
    )
}

pub fn list_connections(args: &Args<'_>, env: &CallEnv<'_>) -> Result<ToolOutput, Failure> {
    // `connection` is accepted (every tool takes it) and must name a reachable connection.
    let cluster = resolve(ToolKind::ListConnections, args, env)?;
    let default = env.reach.default.as_str();
    // Configuration order, the default first.
    let mut names: Vec<&String> = env
        .reach
        .names
        .iter()
        .filter(|n| n.as_str() == default)
        .collect();
    names.extend(env.reach.names.iter().filter(|n| n.as_str() != default));
    let mut text = Vec::new();
    let mut structured = Vec::new();
    for name in names {
        let Some(c) = env.clusters.get(name) else {
            continue;
        };
        let conn = c.connection();
        text.push(json!({"name": conn.name, "host": conn.host, "port": conn.port, "catalog": conn.catalog, "ssl": conn.ssl}));
        structured.push(json!({
            "name": conn.name, "host": conn.host, "port": conn.port, "catalog": conn.catalog, "ssl": conn.ssl,
            "is_default": conn.name == default
        }));
    }
    let n = structured.len();
    Ok(ok(
        json!({"connections": text, "default": default}),
        json!({"connections": structured, "count": n}),
        cluster,
        None,
        n,
    ))
}
