//! The real `mcp-trino` binary over stdio, driven by rmcp's client, against emulated
//! clusters: every tool's text and structured output, and every error code the tools can
//! give without HTTP (RATE_LIMITED belongs to the HTTP endpoints).

use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use trino_testkit::server::{AuthConfig, KnobSettings, TlsMaterial};
use trino_testkit::{Emulator, EmulatorConfig};

struct Stack {
    prod: Emulator,
    staging: Emulator,
    _secure: Emulator,
    client: RunningService<RoleClient, ()>,
    _dir: std::path::PathBuf,
}

async fn emulator(cluster: &str, f: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut cfg = EmulatorConfig::new(cluster);
    cfg.synthetic_rows = 1_000_000;
    f(&mut cfg);
    Emulator::start(cfg).await.expect("emulator")
}

/// prod (default, admin_ro, tpch.tiny), staging (user_ro on memory.sales), dev (admin_rw),
/// secure (TLS + bearer), wrongauth (TLS, bad token), down (nothing listens).
async fn stack() -> Stack {
    let prod = emulator("prod", |c| c.page_rows = Some(100)).await;
    let staging = emulator("staging", |_| {}).await;
    let tls = TlsMaterial::self_signed().expect("cert");
    let secure = emulator("dev", |c| {
        c.tls = Some(tls.clone());
        c.auth = AuthConfig {
            basic: None,
            bearer_tokens: vec!["good-token".into()],
        };
    })
    .await;
    let dir = std::env::temp_dir().join(format!(
        "mcp-trino-stdio-{}-{}",
        std::process::id(),
        prod.addr().port()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem).expect("ca");
    let down_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let yaml = format!(
        r#"connections:
  prod:
    host: 127.0.0.1
    port: {prod}
    user: analyst
    catalog: tpch
    schema: tiny
  staging:
    host: 127.0.0.1
    port: {staging}
    user: analyst
    catalog: memory
    schema: sales
    access_mode: user_ro
  dev:
    host: 127.0.0.1
    port: {staging}
    user: analyst
    catalog: memory
    access_mode: admin_rw
  secure:
    host: localhost
    port: {secure}
    ssl: true
    user: analyst
    token: good-token
    ca_cert: {ca}
  wrongauth:
    host: localhost
    port: {secure}
    ssl: true
    user: analyst
    token: bad-token
    ca_cert: {ca}
  down:
    host: 127.0.0.1
    port: {down}
    user: analyst
"#,
        prod = prod.addr().port(),
        staging = staging.addr().port(),
        secure = secure.addr().port(),
        down = down_port,
        ca = ca.display()
    );
    let file = dir.join("config.yaml");
    std::fs::write(&file, yaml).expect("config");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-trino"));
    cmd.arg("--config")
        .arg(&file)
        .env_clear()
        .env("MCP_TRINO_LOG", "warn");
    let transport = TokioChildProcess::new(cmd).expect("spawn mcp-trino");
    let client = ().serve(transport).await.expect("MCP handshake");
    Stack {
        prod,
        staging,
        _secure: secure,
        client,
        _dir: dir,
    }
}

async fn call(s: &Stack, tool: &str, args: Value) -> CallToolResult {
    let map = args.as_object().cloned().unwrap_or_default();
    s.client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(map))
        .await
        .expect("tools/call")
}

fn text(r: &CallToolResult, i: usize) -> String {
    r.content
        .get(i)
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

fn ok(r: &CallToolResult) -> Value {
    assert_eq!(r.is_error, Some(false), "unexpected error: {}", text(r, 0));
    r.structured_content.clone().expect("structuredContent")
}

/// Asserts an error result: code, text equal to the structured envelope; returns the envelope.
fn err(r: &CallToolResult, code: &str) -> Value {
    assert_eq!(
        r.is_error,
        Some(true),
        "expected {code}, got success: {}",
        text(r, 0)
    );
    let s = r.structured_content.clone().expect("structured error");
    assert_eq!(s["error"]["code"], code, "{s}");
    let parsed: Value = serde_json::from_str(&text(r, 0)).expect("error text is JSON");
    assert_eq!(parsed, s);
    assert!(
        s["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    s
}

#[tokio::test]
async fn tools_list_has_the_seven_tools_with_strict_schemas_and_seed_annotations() {
    let s = stack().await;
    let tools = s.client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "trino_query",
            "trino_explain",
            "trino_list_catalogs",
            "trino_list_schemas",
            "trino_list_tables",
            "trino_describe_table",
            "trino_list_connections"
        ]
    );
    for t in &tools {
        assert_eq!(
            t.input_schema.get("additionalProperties"),
            Some(&json!(false)),
            "{}",
            t.name
        );
        assert!(
            t.input_schema["properties"].get("connection").is_some(),
            "{}",
            t.name
        );
        assert!(t.output_schema.is_some(), "{}", t.name);
        assert!(t.title.is_some());
        let a = t.annotations.as_ref().expect("annotations");
        assert_eq!(a.open_world_hint, Some(false));
        if t.name == "trino_query" {
            // dev is admin_rw, so not every connection is read-only.
            assert_eq!(
                (a.read_only_hint, a.destructive_hint, a.idempotent_hint),
                (Some(false), Some(false), Some(false))
            );
        } else {
            assert_eq!(
                (a.read_only_hint, a.idempotent_hint),
                (Some(true), Some(true))
            );
        }
    }
    let q = &tools[0].input_schema["properties"];
    assert_eq!(q["limit"]["maximum"], 10000);
    assert_eq!(q["timeout_seconds"]["maximum"], 300);
}

#[tokio::test]
async fn query_formats_truncation_and_structured_output() {
    let s = stack().await;
    let sql = "SELECT nationkey, name FROM nation ORDER BY nationkey";
    let r = call(&s, "trino_query", json!({"sql": sql, "limit": 3})).await;
    let st = ok(&r);
    let t: Value = serde_json::from_str(&text(&r, 0)).expect("json text");
    assert_eq!(t["columns"], json!(["nationkey", "name"]));
    assert_eq!(
        t["rows"],
        json!([[0, "ALGERIA"], [1, "ARGENTINA"], [2, "BRAZIL"]])
    );
    assert_eq!(
        (t["row_count"].clone(), t["truncated"].clone()),
        (json!(3), json!(true))
    );
    assert_eq!(
        st["columns"],
        json!([{"name": "nationkey", "type": "bigint"}, {"name": "name", "type": "varchar(25)"}])
    );
    assert_eq!(st["rows"][0], json!({"nationkey": 0, "name": "ALGERIA"}));
    assert_eq!(st["stats"]["limit_applied"], 3);
    assert_eq!(st["stats"]["truncated"], true);
    assert!(
        st["stats"]["query_id"]
            .as_str()
            .is_some_and(|q| !q.is_empty())
    );
    // Stopping at the limit cancelled the rest on the cluster.
    assert!(s.prod.counters().cancels >= 1);

    let r = call(
        &s,
        "trino_query",
        json!({"sql": "SELECT name, regionkey FROM region ORDER BY regionkey", "format": "csv"}),
    )
    .await;
    ok(&r);
    assert_eq!(
        text(&r, 0),
        "name,regionkey\nAFRICA,0\nAMERICA,1\nASIA,2\nEUROPE,3\nMIDDLE EAST,4\n"
    );
    assert!(
        text(&r, 1).starts_with("5 rows returned"),
        "{}",
        text(&r, 1)
    );
    let r = call(&s, "trino_query", json!({"sql": "SELECT name, regionkey FROM region ORDER BY regionkey LIMIT 2", "format": "markdown"})).await;
    ok(&r);
    assert_eq!(
        text(&r, 0),
        "| name | regionkey |\n|------|-----------|\n| AFRICA | 0 |\n| AMERICA | 1 |\n"
    );
}

#[tokio::test]
async fn query_argument_errors_are_refused_before_trino() {
    let s = stack().await;
    let before = s.prod.counters().statements;
    let cases = [
        (json!({"sql": "   "}), "INVALID_SQL"),
        (json!({}), "INVALID_SQL"),
        (json!({"sql": "SELECT 1", "limit": 10001}), "LIMIT_EXCEEDED"),
        (json!({"sql": "SELECT 1", "limit": 0}), "INVALID_ARGUMENT"),
        (
            json!({"sql": "SELECT 1", "limit": "10"}),
            "INVALID_ARGUMENT",
        ),
        (
            json!({"sql": "SELECT 1", "timeout_seconds": 301}),
            "TIMEOUT_EXCEEDED",
        ),
        (
            json!({"sql": "SELECT 1", "format": "xml"}),
            "INVALID_ARGUMENT",
        ),
        (
            json!({"sql": "SELECT 1", "bogus": true}),
            "INVALID_ARGUMENT",
        ),
        (json!({"sql": 42}), "INVALID_ARGUMENT"),
        (json!({"sql": "DELETE FROM nation"}), "READ_ONLY"),
        (
            json!({"sql": "/* hi */ INSERT INTO t VALUES (1)"}),
            "READ_ONLY",
        ),
        (
            json!({"sql": "EXPLAIN ANALYZE INSERT INTO t VALUES (1)"}),
            "READ_ONLY",
        ),
        (
            json!({"sql": "SELECT * FROM TABLE(pg.system.query(query => 'DELETE FROM t'))"}),
            "READ_ONLY",
        ),
        (json!({"sql": "SELECT 1; DROP TABLE t"}), "INVALID_SQL"),
        (
            json!({"sql": "SELECT 1", "connection": "nope"}),
            "UNKNOWN_CONNECTION",
        ),
    ];
    for (args, code) in cases {
        let r = call(&s, "trino_query", args.clone()).await;
        let e = err(&r, code);
        if code == "READ_ONLY" {
            assert_eq!(e["error"]["details"]["sql"], args["sql"]);
        }
    }
    let e = err(
        &call(
            &s,
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "nope"}),
        )
        .await,
        "UNKNOWN_CONNECTION",
    );
    assert_eq!(
        e["error"]["message"],
        "Connection 'nope' not found\nAvailable: prod, staging, dev, secure, wrongauth, down"
    );
    assert_eq!(
        e["error"]["details"]["available"],
        json!(["prod", "staging", "dev", "secure", "wrongauth", "down"])
    );
    assert_eq!(
        s.prod.counters().statements,
        before,
        "nothing reached the cluster"
    );
}

#[tokio::test]
async fn query_errors_from_the_cluster() {
    let s = stack().await;
    let e = err(
        &call(&s, "trino_query", json!({"sql": "SELECT * FROM nope"})).await,
        "QUERY_ERROR",
    );
    let d = &e["error"]["details"];
    assert_eq!(
        (d["trino_error_name"].clone(), d["trino_error_code"].clone()),
        (json!("TABLE_NOT_FOUND"), json!(46))
    );
    assert_eq!(
        (d["line"].clone(), d["column"].clone()),
        (json!(1), json!(15))
    );
    assert_eq!(d["sql"], "SELECT * FROM nope");
    assert!(d["query_id"].as_str().is_some());

    let e = err(
        &call(
            &s,
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "down"}),
        )
        .await,
        "CONNECTION_FAILED",
    );
    assert_eq!(
        e["error"]["message"],
        "Failed to connect to 'down': connection refused\nCheck that the server is running and accessible."
    );
    err(
        &call(
            &s,
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "wrongauth"}),
        )
        .await,
        "AUTH_FAILED",
    );
    let r = call(
        &s,
        "trino_query",
        json!({"sql": "SELECT count(*) FROM tpch.tiny.region", "connection": "secure"}),
    )
    .await;
    assert_eq!(ok(&r)["rows"], json!([{"_col0": 5}]));

    s.staging.knobs().set(&KnobSettings {
        page_delay_ms: 1500,
        ..Default::default()
    });
    let before = s.staging.counters().cancels;
    let e = err(
        &call(&s, "trino_query", json!({"sql": "SELECT * FROM synthetic.default.numbers", "connection": "dev", "timeout_seconds": 1})).await,
        "QUERY_TIMEOUT",
    );
    assert!(e["error"]["details"]["query_id"].as_str().is_some());
    s.staging.knobs().set(&KnobSettings::default());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        s.staging.counters().cancels,
        before + 1,
        "the timed-out query was cancelled"
    );
}

#[tokio::test]
async fn explain_types_and_errors() {
    let s = stack().await;
    let r = call(&s, "trino_explain", json!({"sql": "SELECT * FROM nation"})).await;
    let st = ok(&r);
    assert_eq!(st["type"], "LOGICAL");
    assert!(st["plan"].as_str().is_some_and(|p| !p.is_empty()));
    let st = ok(&call(
        &s,
        "trino_explain",
        json!({"sql": "SELECT * FROM nation", "type": "io"}),
    )
    .await);
    assert_eq!(st["type"], "IO");
    let io: Value =
        serde_json::from_str(st["plan"].as_str().unwrap_or("")).expect("IO plan is JSON");
    assert_eq!(io["inputTableColumnInfos"][0]["table"]["catalog"], "tpch");
    let st = ok(&call(
        &s,
        "trino_explain",
        json!({"sql": "SELECT 1", "type": "Validate"}),
    )
    .await);
    assert_eq!(
        (st["type"].clone(), st["plan"].clone()),
        (json!("VALIDATE"), json!("true"))
    );
    err(
        &call(
            &s,
            "trino_explain",
            json!({"sql": "SELECT 1", "type": "physical"}),
        )
        .await,
        "INVALID_TYPE",
    );
    err(
        &call(&s, "trino_explain", json!({"sql": ""})).await,
        "INVALID_SQL",
    );
    let e = err(
        &call(&s, "trino_explain", json!({"sql": "SELECT * FROM nope"})).await,
        "PLAN_ERROR",
    );
    assert_eq!(e["error"]["details"]["trino_error_name"], "TABLE_NOT_FOUND");
    err(
        &call(&s, "trino_explain", json!({"sql": "DELETE FROM nation"})).await,
        "READ_ONLY",
    );
    // On a read-write connection, explaining a write is allowed.
    ok(&call(&s, "trino_explain", json!({"sql": "INSERT INTO memory.sales.users SELECT * FROM memory.sales.users", "connection": "dev"})).await);
}

#[tokio::test]
async fn catalogs_schemas_tables() {
    let s = stack().await;
    let r = call(&s, "trino_list_catalogs", json!({})).await;
    let st = ok(&r);
    assert_eq!(
        st["catalogs"],
        json!(["memory", "synthetic", "system", "tpch"])
    );
    assert_eq!(st["count"], 4);
    let t: Value = serde_json::from_str(&text(&r, 0)).expect("json");
    assert_eq!(
        t,
        json!({"catalogs": ["memory", "synthetic", "system", "tpch"]})
    );
    assert!(text(&r, 0).contains("\n  \"catalogs\""), "pretty JSON");

    let st = ok(&call(&s, "trino_list_schemas", json!({"catalog": "tpch"})).await);
    assert_eq!(st["catalog"], "tpch");
    assert!(
        st["schemas"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("tiny")))
    );
    err(
        &call(&s, "trino_list_schemas", json!({"catalog": ""})).await,
        "CATALOG_REQUIRED",
    );
    err(
        &call(&s, "trino_list_schemas", json!({"catalog": "nope"})).await,
        "CATALOG_NOT_FOUND",
    );

    let r = call(
        &s,
        "trino_list_tables",
        json!({"catalog": "tpch", "schema": "tiny", "pattern": "part%"}),
    )
    .await;
    let st = ok(&r);
    assert_eq!(
        st,
        json!({"catalog": "tpch", "schema": "tiny", "tables": ["part", "partsupp"], "count": 2, "pattern": "part%"})
    );
    let t: Value = serde_json::from_str(&text(&r, 0)).expect("json");
    assert_eq!(t["pattern"], "part%");
    let r = call(
        &s,
        "trino_list_tables",
        json!({"catalog": "tpch", "schema": "tiny", "pattern": "_egion"}),
    )
    .await;
    assert_eq!(ok(&r)["tables"], json!(["region"]));
    let r = call(
        &s,
        "trino_list_tables",
        json!({"catalog": "tpch", "schema": "tiny"}),
    )
    .await;
    assert_eq!(ok(&r)["pattern"], "");
    assert_eq!(
        serde_json::from_str::<Value>(&text(&r, 0)).expect("json")["pattern"],
        Value::Null
    );
    // A pattern with a quote is a literal, never SQL.
    let r = call(
        &s,
        "trino_list_tables",
        json!({"catalog": "tpch", "schema": "tiny", "pattern": "x' OR '1'='1"}),
    )
    .await;
    assert_eq!(ok(&r)["tables"], json!([]));
    err(
        &call(&s, "trino_list_tables", json!({"catalog": "tpch"})).await,
        "SCHEMA_REQUIRED",
    );
    err(
        &call(&s, "trino_list_tables", json!({"schema": "tiny"})).await,
        "CATALOG_REQUIRED",
    );
    err(
        &call(
            &s,
            "trino_list_tables",
            json!({"catalog": "tpch", "schema": "nope"}),
        )
        .await,
        "SCHEMA_NOT_FOUND",
    );
    err(
        &call(
            &s,
            "trino_list_tables",
            json!({"catalog": "nope", "schema": "x"}),
        )
        .await,
        "CATALOG_NOT_FOUND",
    );
}

#[tokio::test]
async fn describe_table_with_and_without_sample() {
    let s = stack().await;
    let r = call(
        &s,
        "trino_describe_table",
        json!({"catalog": "tpch", "schema": "tiny", "table": "region"}),
    )
    .await;
    let st = ok(&r);
    assert_eq!(st["column_count"], 3);
    assert_eq!(
        st["columns"][0],
        json!({"name": "regionkey", "type": "bigint", "nullable": "NO"})
    );
    assert_eq!(st["sample_count"], 5);
    let t: Value = serde_json::from_str(&text(&r, 0)).expect("json");
    assert_eq!(t["table"], "tpch.tiny.region");
    assert_eq!(
        t["columns"][1],
        json!({"name": "name", "type": "varchar(25)", "nullable": false, "comment": null})
    );
    assert_eq!(t["sample"][0][1], "AFRICA");
    let st = ok(&call(
        &s,
        "trino_describe_table",
        json!({"catalog": "tpch", "schema": "tiny", "table": "region", "include_sample": false}),
    )
    .await);
    assert!(st.get("sample").is_none());
    // A sample the user may not read does not fail the tool.
    let st = ok(&call(
        &s,
        "trino_describe_table",
        json!({"catalog": "memory", "schema": "restricted", "table": "inbox"}),
    )
    .await);
    assert!(
        st["sample_error"]
            .as_str()
            .is_some_and(|e| e.contains("Access Denied")),
        "{st}"
    );
    err(
        &call(
            &s,
            "trino_describe_table",
            json!({"catalog": "tpch", "schema": "tiny", "table": ""}),
        )
        .await,
        "TABLE_REQUIRED",
    );
    err(
        &call(
            &s,
            "trino_describe_table",
            json!({"catalog": "tpch", "schema": "tiny", "table": "nope"}),
        )
        .await,
        "TABLE_NOT_FOUND",
    );
    err(
        &call(
            &s,
            "trino_describe_table",
            json!({"catalog": "tpch", "schema": "nope", "table": "x"}),
        )
        .await,
        "SCHEMA_NOT_FOUND",
    );
    // Names are quoted identifiers: a quote in a name is part of the name.
    err(
        &call(
            &s,
            "trino_describe_table",
            json!({"catalog": "tpch", "schema": "tiny", "table": "region\" --"}),
        )
        .await,
        "TABLE_NOT_FOUND",
    );
    let last = s
        .prod
        .statements()
        .into_iter()
        .rev()
        .find(|q| q.sql.starts_with("DESCRIBE"))
        .expect("sent");
    assert_eq!(last.sql, "DESCRIBE \"tpch\".\"tiny\".\"region\"\" --\"");
}

#[tokio::test]
async fn list_connections_and_user_mode_limits() {
    let s = stack().await;
    let r = call(&s, "trino_list_connections", json!({})).await;
    let st = ok(&r);
    assert_eq!(st["count"], 6);
    assert_eq!(st["connections"][0]["name"], "prod");
    assert_eq!(st["connections"][0]["is_default"], true);
    assert_eq!(st["connections"][1]["is_default"], false);
    let t: Value = serde_json::from_str(&text(&r, 0)).expect("json");
    assert_eq!(t["default"], "prod");
    assert_eq!(
        t["connections"][3],
        json!({"name": "secure", "host": "localhost", "port": s._secure.addr().port(), "catalog": null, "ssl": true})
    );
    for secret in ["good-token", "bad-token", "analyst"] {
        assert!(!text(&r, 0).contains(secret) && !st.to_string().contains(secret));
    }
    // staging is user_ro on memory.sales: the admin tools and other schemas are out of reach.
    err(
        &call(&s, "trino_list_catalogs", json!({"connection": "staging"})).await,
        "INVALID_ARGUMENT",
    );
    err(
        &call(
            &s,
            "trino_list_tables",
            json!({"catalog": "tpch", "schema": "tiny", "connection": "staging"}),
        )
        .await,
        "READ_ONLY",
    );
    err(
        &call(
            &s,
            "trino_query",
            json!({"sql": "SELECT * FROM tpch.tiny.nation", "connection": "staging"}),
        )
        .await,
        "READ_ONLY",
    );
    let st = ok(&call(
        &s,
        "trino_query",
        json!({"sql": "SELECT count(*) AS n FROM users", "connection": "staging"}),
    )
    .await);
    assert!(st["rows"][0]["n"].as_i64().is_some());
}
