//! The seven tools as MCP announces them: names (seed 004), titles, agent-oriented
//! descriptions, strict input schemas, output schemas and annotations.

use serde_json::{Value, json};

use crate::config::AccessMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolKind {
    Query,
    Explain,
    ListCatalogs,
    ListSchemas,
    ListTables,
    DescribeTable,
    ListConnections,
}

pub const ALL: [ToolKind; 7] = [
    ToolKind::Query,
    ToolKind::Explain,
    ToolKind::ListCatalogs,
    ToolKind::ListSchemas,
    ToolKind::ListTables,
    ToolKind::DescribeTable,
    ToolKind::ListConnections,
];

impl ToolKind {
    pub fn name(self) -> &'static str {
        match self {
            ToolKind::Query => "trino_query",
            ToolKind::Explain => "trino_explain",
            ToolKind::ListCatalogs => "trino_list_catalogs",
            ToolKind::ListSchemas => "trino_list_schemas",
            ToolKind::ListTables => "trino_list_tables",
            ToolKind::DescribeTable => "trino_describe_table",
            ToolKind::ListConnections => "trino_list_connections",
        }
    }

    pub fn from_name(name: &str) -> Option<ToolKind> {
        ALL.into_iter().find(|k| k.name() == name)
    }

    /// `admin_*` modes offer all seven tools; `user_*` modes the four of seed 003's user role.
    pub fn offered_in(self, mode: AccessMode) -> bool {
        !mode.is_user()
            || matches!(
                self,
                ToolKind::Query
                    | ToolKind::Explain
                    | ToolKind::ListTables
                    | ToolKind::DescribeTable
            )
    }

    pub fn title(self) -> &'static str {
        match self {
            ToolKind::Query => "Run SQL query",
            ToolKind::Explain => "Explain query plan",
            ToolKind::ListCatalogs => "List catalogs",
            ToolKind::ListSchemas => "List schemas",
            ToolKind::ListTables => "List tables",
            ToolKind::DescribeTable => "Describe table",
            ToolKind::ListConnections => "List connections",
        }
    }

    pub fn description(self, read_only: bool) -> String {
        let base = match self {
            ToolKind::Query => {
                "Run one SQL statement on Trino and return its rows (json, csv or markdown). Use it after you know the tables: \
                 find them with trino_list_tables / trino_describe_table first. Every row the cluster reads costs time: \
                 filter with WHERE, aggregate in SQL, and keep `limit` small (default 1000, max 10000). The result says \
                 whether it was truncated at the limit or at the response size budget. csv is the most token-efficient format."
            }
            ToolKind::Explain => {
                "Show Trino's plan for a statement without running it. LOGICAL (default) shows the plan tree, DISTRIBUTED \
                 the fragments, IO the tables and columns read (JSON), VALIDATE only checks that the statement is valid. \
                 Cheap: use it to check a heavy query before running it."
            }
            ToolKind::ListCatalogs => {
                "List the catalogs (data sources) of the cluster. Cheap. Start here when you do not know where data lives."
            }
            ToolKind::ListSchemas => "List the schemas of one catalog. Cheap.",
            ToolKind::ListTables => {
                "List the tables of one schema, optionally filtered with a SQL LIKE pattern (`%` any characters, `_` one \
                 character; case-sensitive). Cheap."
            }
            ToolKind::DescribeTable => {
                "Describe a table: its columns with Trino types, nullability and comments, plus up to 5 sample rows \
                 (include_sample, default true; set false to avoid reading data). Use it before writing a query."
            }
            ToolKind::ListConnections => {
                "List the Trino clusters this server can query, the default first. Use a name as the `connection` \
                 argument of the other tools. Never shows credentials."
            }
        };
        if self == ToolKind::Query && read_only {
            format!("{base} Read-only: only SELECT, SHOW, DESCRIBE and EXPLAIN are allowed.")
        } else {
            base.to_string()
        }
    }

    /// Seed 004's annotation table; `trino_query` is announced read-only where every
    /// reachable connection is read-only (contract section 1).
    pub fn annotations(self, all_read_only: bool) -> (bool, Option<bool>, bool, bool) {
        // (read_only, destructive, idempotent, open_world)
        match self {
            ToolKind::Query if all_read_only => (true, Some(false), false, false),
            ToolKind::Query => (false, Some(false), false, false),
            _ => (true, None, true, false),
        }
    }

    /// Argument names the tool takes, `connection` included when offered.
    pub fn arguments(self, with_connection: bool) -> Vec<&'static str> {
        let mut a: Vec<&'static str> = match self {
            ToolKind::Query => vec!["sql", "limit", "format", "timeout_seconds"],
            ToolKind::Explain => vec!["sql", "type"],
            ToolKind::ListCatalogs | ToolKind::ListConnections => vec![],
            ToolKind::ListSchemas => vec!["catalog"],
            ToolKind::ListTables => vec!["catalog", "schema", "pattern"],
            ToolKind::DescribeTable => vec!["catalog", "schema", "table", "include_sample"],
        };
        if with_connection {
            a.push("connection");
        }
        a
    }

    /// Strict JSON Schema of the arguments. `connections` lists the names the `connection`
    /// argument accepts (`None`: the argument is not offered).
    pub fn input_schema(
        self,
        connections: Option<(&[String], &str)>,
        default_timeout: u64,
    ) -> Value {
        let mut props = serde_json::Map::new();
        let mut required: Vec<&str> = Vec::new();
        let s = |d: &str| json!({"type": "string", "description": d});
        match self {
            ToolKind::Query => {
                props.insert("sql".into(), json!({"type": "string", "minLength": 1, "description": "One SQL statement, without a trailing semicolon."}));
                props.insert("limit".into(), json!({"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000, "description": "Maximum rows to return (1-10000)."}));
                props.insert("format".into(), json!({"type": "string", "enum": ["json", "csv", "markdown"], "default": "json", "description": "Output format of the text result."}));
                props.insert("timeout_seconds".into(), json!({"type": "integer", "minimum": 1, "maximum": 300, "default": default_timeout, "description": "Cancel the query on the cluster after this many seconds (1-300)."}));
                required.push("sql");
            }
            ToolKind::Explain => {
                props.insert("sql".into(), json!({"type": "string", "minLength": 1, "description": "The statement to explain."}));
                props.insert("type".into(), json!({"type": "string", "default": "LOGICAL", "description": "LOGICAL, DISTRIBUTED, IO or VALIDATE (any letter case)."}));
                required.push("sql");
            }
            ToolKind::ListCatalogs | ToolKind::ListConnections => {}
            ToolKind::ListSchemas => {
                props.insert("catalog".into(), s("Catalog name."));
                required.push("catalog");
            }
            ToolKind::ListTables => {
                props.insert("catalog".into(), s("Catalog name."));
                props.insert("schema".into(), s("Schema name."));
                props.insert(
                    "pattern".into(),
                    s("SQL LIKE pattern on table names, e.g. order% or %_log."),
                );
                required.extend(["catalog", "schema"]);
            }
            ToolKind::DescribeTable => {
                props.insert("catalog".into(), s("Catalog name."));
                props.insert("schema".into(), s("Schema name."));
                props.insert("table".into(), s("Table name."));
                props.insert("include_sample".into(), json!({"type": "boolean", "default": true, "description": "Include up to 5 sample rows."}));
                required.extend(["catalog", "schema", "table"]);
            }
        }
        if let Some((names, default)) = connections {
            props.insert(
                "connection".into(),
                json!({"type": "string", "description": format!("Trino connection to use: one of {}. Default: {default}.", names.join(", "))}),
            );
        }
        json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
    }

    /// JSON Schema of `structuredContent` on success.
    pub fn output_schema(self) -> Value {
        let strings = json!({"type": "array", "items": {"type": "string"}});
        let count = json!({"type": "integer", "minimum": 0});
        match self {
            ToolKind::Query => json!({
                "type": "object",
                "properties": {
                    "columns": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "type": {"type": "string"}}, "required": ["name", "type"]}},
                    "rows": {"type": "array", "items": {"type": "object"}},
                    "row_count": count,
                    "stats": {"type": "object", "properties": {
                        "row_count": count, "truncated": {"type": "boolean"}, "limit_applied": {"type": "integer"},
                        "duration_ms": {"type": "integer"}, "query_id": {"type": "string"},
                        "truncated_by": {"type": "string", "enum": ["limit", "byte_budget"]}
                    }, "required": ["row_count", "truncated", "limit_applied", "duration_ms"]}
                },
                "required": ["columns", "rows", "row_count", "stats"]
            }),
            ToolKind::Explain => json!({
                "type": "object",
                "properties": {"type": {"type": "string", "enum": ["LOGICAL", "DISTRIBUTED", "IO", "VALIDATE"]}, "plan": {"type": "string"}},
                "required": ["type", "plan"]
            }),
            ToolKind::ListCatalogs => json!({
                "type": "object", "properties": {"catalogs": strings, "count": count}, "required": ["catalogs", "count"]
            }),
            ToolKind::ListSchemas => json!({
                "type": "object", "properties": {"catalog": {"type": "string"}, "schemas": strings, "count": count},
                "required": ["catalog", "schemas", "count"]
            }),
            ToolKind::ListTables => json!({
                "type": "object",
                "properties": {"catalog": {"type": "string"}, "schema": {"type": "string"}, "tables": strings, "count": count, "pattern": {"type": "string"}},
                "required": ["catalog", "schema", "tables", "count", "pattern"]
            }),
            ToolKind::DescribeTable => json!({
                "type": "object",
                "properties": {
                    "catalog": {"type": "string"}, "schema": {"type": "string"}, "table": {"type": "string"},
                    "columns": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "type": {"type": "string"},
                        "nullable": {"type": "string", "enum": ["YES", "NO"]}, "comment": {"type": "string"}
                    }, "required": ["name", "type"]}},
                    "column_count": count,
                    "sample": {"type": "array", "items": {"type": "array"}},
                    "sample_count": count,
                    "sample_error": {"type": "string"}
                },
                "required": ["catalog", "schema", "table", "columns", "column_count"]
            }),
            ToolKind::ListConnections => json!({
                "type": "object",
                "properties": {
                    "connections": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "host": {"type": "string"}, "port": {"type": "integer"},
                        "catalog": {"type": ["string", "null"]}, "ssl": {"type": "boolean"}, "is_default": {"type": "boolean"}
                    }, "required": ["name", "host", "port", "ssl", "is_default"]}},
                    "count": count
                },
                "required": ["connections", "count"]
            }),
        }
    }
}
