//! Hostile SQL and hostile arguments through every path that takes them: `trino_query` and
//! `trino_explain` over stdio and over HTTP `/mcp` (with `connection`), and the tools of every
//! per-connection endpoint. Each hostile statement must be refused with READ_ONLY or
//! INVALID_SQL, and the emulators' statement counters prove nothing reached a cluster. Hostile
//! arguments get their exact error, and the SQL the server does send (recorded by the
//! emulator) carries identifiers and patterns only as quoted literals.

mod common;

use common::{Mcp, Server, call, emulator, error_code, mcp_http, mcp_stdio, ok, text};
use serde_json::{Value, json};
use trino_testkit::Emulator;

/// Statements a read-only connection must refuse; read-write ones may run them.
fn writes() -> Vec<String> {
    let mut v: Vec<String> = [
        "DELETE FROM nation",
        "delete from nation",
        "  \n\t DeLeTe FROM nation",
        "/* SELECT */ DELETE FROM nation",
        "-- SELECT 1\nDELETE FROM nation",
        "/* nested /* comment */ SELECT */ DELETE FROM nation",
        "(DELETE FROM nation)",
        "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
        "WITH x AS (SELECT 1), y AS (SELECT 2) DELETE FROM nation",
        "WITH RECURSIVE x(n) AS (SELECT 1) INSERT INTO t SELECT n FROM x",
        "INSERT INTO nation SELECT * FROM nation",
        "INSERT INTO \"nation\" VALUES (1, 'x', 1, 'x')",
        "UPDATE nation SET name = 'x'",
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
        "TRUNCATE TABLE nation",
        "CREATE TABLE t AS SELECT * FROM nation",
        "CREATE OR REPLACE VIEW v AS SELECT 1 AS x",
        "CREATE SCHEMA memory.evil",
        "DROP TABLE nation",
        "dRoP tAbLe \"nation\"",
        "DROP SCHEMA tiny CASCADE",
        "ALTER TABLE nation RENAME TO n2",
        "ALTER TABLE nation SET AUTHORIZATION alice",
        "COMMENT ON TABLE nation IS 'x'",
        "REFRESH MATERIALIZED VIEW mv",
        "GRANT SELECT ON nation TO alice",
        "REVOKE SELECT ON nation FROM alice",
        "DENY SELECT ON nation TO alice",
        "CREATE ROLE evil",
        "CALL system.runtime.kill_query(query_id => '1')",
        "call system.flush_metadata_cache()",
        "EXPLAIN ANALYZE DELETE FROM nation",
        "EXPLAIN ANALYZE VERBOSE INSERT INTO t VALUES (1)",
        "EXPLAIN (TYPE DISTRIBUTED) DELETE FROM nation",
        "EXPLAIN EXPLAIN DROP TABLE nation",
        "SELECT * FROM TABLE(pg.system.query(query => 'DELETE FROM t'))",
        "SELECT * FROM TABLE(system.query(query => 'DROP TABLE t'))",
        "SELECT * FROM nation, TABLE(mysql.system.query(query => 'DELETE FROM t')) x",
        "SELECT * FROM TABLE ( \"pg\" . \"system\" . \"query\" ( query => 'x' ) )",
        "SELECT * FROM TABLE(/* hi */ pg.system.query(query => 'x'))",
        "CREATE FUNCTION f() RETURNS int RETURN 1",
        "SET ROLE admin",
        "SET ROLE ALL",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // A write hidden after 1 MB of comment, and behind 10,000 parentheses.
    v.push(format!("/*{}*/ DELETE FROM nation", "x".repeat(1 << 20)));
    v.push(format!(
        "{}DELETE FROM nation{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    ));
    v
}

/// Statements every mode must refuse (session and identity changes, several statements,
/// lexical tricks).
fn always_refused() -> Vec<String> {
    let mut v: Vec<String> = [
        "SET SESSION query_max_run_time = '1h'",
        "set session authorization admin",
        "SET SESSION AUTHORIZATION 'admin'",
        "RESET SESSION AUTHORIZATION",
        "RESET SESSION query_max_run_time",
        "SET PATH evil",
        "SET TIME ZONE 'UTC'",
        "USE tpch.sf1",
        "USE system.runtime",
        "START TRANSACTION",
        "START TRANSACTION READ WRITE",
        "COMMIT",
        "ROLLBACK",
        "PREPARE p FROM DELETE FROM nation",
        "PREPARE p FROM SELECT 1",
        "EXECUTE p",
        "EXECUTE p USING 1",
        "EXECUTE IMMEDIATE 'DELETE FROM nation'",
        "EXECUTE IMMEDIATE 'SELECT 1'",
        "DEALLOCATE PREPARE p",
        "DESCRIBE INPUT p",
        "DESCRIBE OUTPUT p",
        "WITH SESSION query_max_run_time = '1h' SELECT 1",
        "with session query_max_memory='1TB' select 1",
        "SELECT 1; DROP TABLE nation",
        "SELECT 1;DELETE FROM nation",
        "SELECT 1;;",
        ";SELECT 1",
        "SELECT 1 -- comment\n; DROP TABLE nation",
        "SELECT 1 /* ; */ ; DROP TABLE nation",
        "SELECT ';'; DROP TABLE nation",
        "SELECT \"a;\" FROM nation; DELETE FROM nation",
        "SELECT 1\0; DROP TABLE nation",
        "\0DELETE FROM nation",
        "SELECT 1 \0",
        "SELECT 'unterminated",
        "SELECT \"unterminated",
        "SELECT 1 /* unterminated",
        "SELECT `backquoted` FROM nation",
        // Look-alikes: Cyrillic Е, fullwidth letters and semicolon, Greek question mark.
        "D\u{0415}L\u{0415}TE FROM nation",
        "\u{FF24}\u{FF25}\u{FF2C}\u{FF25}\u{FF34}\u{FF25} FROM nation",
        "SELECT 1\u{FF1B} DROP TABLE nation",
        "SELECT 1\u{037E} DROP TABLE nation",
        "SELECT\u{00A0}1",
        "SELECT 1\u{2028}; DROP TABLE nation",
        "SELECT\u{200B} 1",
        "",
        "   \n\t  ",
        "-- only a comment",
        "/* only a comment */",
        ";",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!(
        "SELECT 1 /*{}*/; DELETE FROM nation",
        "y".repeat(1 << 20)
    ));
    v.push(format!(
        "SELECT 1{}; DROP TABLE nation",
        " ".repeat(1 << 20)
    ));
    v.push(format!(
        "{}SET SESSION AUTHORIZATION admin{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    ));
    v
}

fn shown(sql: &str) -> String {
    let s: String = sql.chars().take(80).collect();
    format!("{s:?} ({} bytes)", sql.len())
}

/// Where SQL goes: a client, a tool name and the `connection` argument (if any).
struct Path<'a> {
    label: String,
    client: &'a Mcp,
    tool: String,
    connection: Option<&'static str>,
    read_only: bool,
}

impl Path<'_> {
    async fn send(&self, sql: &str) -> rmcp::model::CallToolResult {
        let mut args = json!({ "sql": sql });
        if let Some(c) = self.connection {
            args["connection"] = json!(c);
        }
        call(self.client, &self.tool, args).await
    }
}

const CONFIG: &str = r#"server:
  bind: 127.0.0.1:0
  max_body_bytes: 8388608
connections:
  prod:
    host: 127.0.0.1
    port: {ro}
    user: analyst
    catalog: tpch
    schema: tiny
  stage:
    host: 127.0.0.1
    port: {ro}
    user: analyst
    catalog: tpch
    schema: tiny
    access_mode: user_ro
  dev:
    host: 127.0.0.1
    port: {rw}
    user: analyst
    catalog: memory
    schema: sales
    access_mode: admin_rw
  ep_ro:
    host: 127.0.0.1
    port: {ro}
    user: analyst
    catalog: tpch
    schema: tiny
    endpoint: true
  ep_user:
    host: 127.0.0.1
    port: {ro}
    user: analyst
    catalog: tpch
    schema: tiny
    access_mode: user_ro
    endpoint: true
  ep_urw:
    host: 127.0.0.1
    port: {rw}
    user: analyst
    catalog: memory
    schema: sales
    access_mode: user_rw
    endpoint: true
  ep_rw:
    host: 127.0.0.1
    port: {rw}
    user: analyst
    catalog: memory
    schema: sales
    access_mode: admin_rw
    endpoint: true
"#;

fn config(ro: &Emulator, rw: &Emulator) -> String {
    CONFIG
        .replace("{ro}", &ro.addr().port().to_string())
        .replace("{rw}", &rw.addr().port().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_sql_is_refused_on_every_path_and_never_reaches_a_cluster() {
    // `ro` serves only read-only connections; `rw` the read-write ones.
    let ro = emulator("prod", |_| {}).await;
    let rw = emulator("dev", |_| {}).await;
    let server = Server::http(&config(&ro, &rw), &[]);
    let stdio = mcp_stdio(&server.config, &server.dir.join("stdio-stderr.log")).await;
    let main = mcp_http(format!("{}/mcp", server.url), None).await;
    let mut endpoints = Vec::new();
    for (name, read_only) in [
        ("ep_ro", true),
        ("ep_user", true),
        ("ep_urw", false),
        ("ep_rw", false),
    ] {
        endpoints.push((
            name,
            read_only,
            mcp_http(format!("{}/{name}/mcp", server.url), None).await,
        ));
    }
    let mut paths = Vec::new();
    for (transport, client) in [("stdio", &stdio), ("http /mcp", &main)] {
        for (conn, read_only) in [("prod", true), ("stage", true), ("dev", false)] {
            for tool in ["trino_query", "trino_explain"] {
                paths.push(Path {
                    label: format!("{transport} {tool} connection={conn}"),
                    client,
                    tool: tool.to_string(),
                    connection: Some(conn),
                    read_only,
                });
            }
        }
    }
    for (name, read_only, client) in &endpoints {
        for tool in ["trino_query", "trino_explain"] {
            paths.push(Path {
                label: format!("/{name}/mcp {name}_{tool}"),
                client,
                tool: format!("{name}_{tool}"),
                connection: None,
                read_only: *read_only,
            });
        }
    }
    assert_eq!(paths.len(), 20);

    let (writes, always) = (writes(), always_refused());
    let mut failures = Vec::new();
    let mut calls = 0;
    for p in &paths {
        let statements = always.iter().chain(writes.iter().filter(|_| p.read_only));
        for sql in statements {
            let r = p.send(sql).await;
            calls += 1;
            // The refusal echoes at most the statement's start, whatever its size.
            if text(&r, 0).len() > 16 * 1024 {
                failures.push(format!(
                    "{}: {} -> {} bytes of answer",
                    p.label,
                    shown(sql),
                    text(&r, 0).len()
                ));
            }
            match error_code(&r).as_deref() {
                Some("READ_ONLY" | "INVALID_SQL") => {}
                other => failures.push(format!(
                    "{}: {} -> {other:?} {}",
                    p.label,
                    shown(sql),
                    text(&r, 0).chars().take(200).collect::<String>()
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} hostile calls were not refused:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(calls > 1000, "{calls}");
    assert_eq!(ro.counters().statements, 0, "{:?}", ro.statements());
    assert_eq!(rw.counters().statements, 0, "{:?}", rw.statements());

    // Still serving, on every path.
    for p in &paths {
        let r = p.send("SELECT 1 AS one").await;
        assert_eq!(error_code(&r), None, "{}: {}", p.label, text(&r, 0));
    }
    assert_eq!(ro.counters().statements + rw.counters().statements, 20);
    // Nesting beyond what Trino's parser survives is refused before it.
    for p in &paths {
        let sql = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let r = p.send(&sql).await;
        assert_eq!(
            error_code(&r).as_deref(),
            Some("INVALID_SQL"),
            "{}",
            p.label
        );
    }
    // 1000 levels are the policy's bound: sent to the cluster (which answers what it will).
    let before = ro.counters().statements;
    let deep = format!("SELECT {}1{} AS x", "(".repeat(1000), ")".repeat(1000));
    let r = paths[0].send(&deep).await;
    assert_eq!(ro.counters().statements, before + 1, "{}", text(&r, 0));
    // Extreme but harmless input gets an answer (whatever Trino says), never a crash.
    for sql in [
        format!("SELECT 1 AS x /*{}*/", "z".repeat(1 << 20)),
        format!("SELECT '{}' AS s", "q".repeat(1 << 20)),
    ] {
        for p in [&paths[0], &paths[6]] {
            let r = p.send(&sql).await;
            assert!(
                !r.content.is_empty(),
                "{}: no answer to {}",
                p.label,
                shown(&sql)
            );
        }
    }
    let r = paths[0].send("SELECT count(*) AS n FROM nation").await;
    assert_eq!(ok(&r)["rows"][0]["n"], 25);
}

/// `quote_ident` as Trino reads it.
fn q(id: &str) -> String {
    format!("\"{}\"", id.replace('"', "\"\""))
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_arguments_get_exact_errors_and_reach_trino_only_quoted() {
    let ro = emulator("prod", |_| {}).await;
    let rw = emulator("dev", |_| {}).await;
    let server = Server::http(&config(&ro, &rw), &[]);
    let main = mcp_http(format!("{}/mcp", server.url), None).await;
    let ep = mcp_http(format!("{}/ep_user/mcp", server.url), None).await;

    // Refused before Trino: (tool, arguments, code).
    let refused: Vec<(&str, Value, &str)> = vec![
        ("trino_query", json!({}), "INVALID_SQL"),
        ("trino_query", json!({"sql": 42}), "INVALID_ARGUMENT"),
        // null means "not given", as for every optional argument.
        ("trino_query", json!({"sql": null}), "INVALID_SQL"),
        (
            "trino_query",
            json!({"sql": ["SELECT 1"]}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": {"text": "SELECT 1"}}),
            "INVALID_ARGUMENT",
        ),
        ("trino_query", json!({"sql": true}), "INVALID_ARGUMENT"),
        (
            "trino_query",
            json!({"SQL": "SELECT 1"}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "extra": 1}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "__proto__": {}}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "limit": "10"}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "limit": 1.5}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "limit": true}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "limit": 0}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "limit": -1}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "limit": 10001}),
            "LIMIT_EXCEEDED",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "limit": 1e20}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "limit": u64::MAX}),
            "LIMIT_EXCEEDED",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "limit": i64::MIN}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "timeout_seconds": 0}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "timeout_seconds": 301}),
            "TIMEOUT_EXCEEDED",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "timeout_seconds": -1}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "timeout_seconds": "5"}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "format": "CSV"}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "format": ""}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "format": 1}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "connection": 5}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "nope"}),
            "UNKNOWN_CONNECTION",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "PROD"}),
            "UNKNOWN_CONNECTION",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "prod\n"}),
            "UNKNOWN_CONNECTION",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "../dev"}),
            "UNKNOWN_CONNECTION",
        ),
        (
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "prod/../dev"}),
            "UNKNOWN_CONNECTION",
        ),
        // Endpoint connections are not part of /mcp.
        (
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "ep_rw"}),
            "UNKNOWN_CONNECTION",
        ),
        (
            "trino_explain",
            json!({"sql": "SELECT 1", "type": "ANALYZE"}),
            "INVALID_TYPE",
        ),
        (
            "trino_explain",
            json!({"sql": "SELECT 1", "type": 1}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_list_schemas",
            json!({"catalog": 1}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_list_schemas",
            json!({"catalog": ""}),
            "CATALOG_REQUIRED",
        ),
        (
            "trino_list_tables",
            json!({"catalog": "tpch", "schema": "tiny", "pattern": 5}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_describe_table",
            json!({"catalog": "tpch", "schema": "tiny"}),
            "TABLE_REQUIRED",
        ),
        (
            "trino_describe_table",
            json!({"catalog": "tpch", "schema": "tiny", "table": ["a"]}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_describe_table",
            json!({"catalog": "tpch", "schema": "tiny", "table": "region", "sample": "yes"}),
            "INVALID_ARGUMENT",
        ),
        (
            "trino_list_connections",
            json!({"connection": "ep_ro"}),
            "UNKNOWN_CONNECTION",
        ),
    ];
    let mut failures = Vec::new();
    for (tool, args, code) in &refused {
        let r = call(&main, tool, args.clone()).await;
        let got = error_code(&r);
        if got.as_deref() != Some(*code) {
            failures.push(format!(
                "{tool} {args} -> {got:?}, want {code}: {}",
                text(&r, 0)
            ));
        }
    }
    // An endpoint takes no `connection` and no argument of another tool.
    for args in [
        json!({"sql": "SELECT 1", "connection": "prod"}),
        json!({"sql": "SELECT 1", "connection": "ep_rw"}),
        json!({"sql": "SELECT 1", "catalog": "system"}),
    ] {
        let r = call(&ep, "ep_user_trino_query", args.clone()).await;
        if error_code(&r).as_deref() != Some("INVALID_ARGUMENT") {
            failures.push(format!(
                "ep_user_trino_query {args} -> {:?}",
                error_code(&r)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert_eq!(ro.counters().statements, 0, "{:?}", ro.statements());
    assert_eq!(rw.counters().statements, 0, "{:?}", rw.statements());

    // Identifiers and patterns with quotes, dots, semicolons and newlines: each reaches Trino
    // only inside one quoted identifier or string literal.
    let nasty = [
        "tpch\"; DROP TABLE nation; --",
        "tiny.nation",
        "region;DELETE FROM nation",
        "re\ngion",
        "it's",
        "back\\slash",
        "\"\"",
        "x\" UNION SELECT 1 --",
        "ünïcødé",
    ];
    for id in nasty {
        ro.reset();
        let r = call(&main, "trino_list_schemas", json!({"catalog": id})).await;
        let sent: Vec<String> = ro.statements().into_iter().map(|s| s.sql).collect();
        assert_eq!(
            sent,
            vec![format!("SHOW SCHEMAS FROM {}", q(id))],
            "{}",
            text(&r, 0)
        );
        assert!(
            error_code(&r).is_some(),
            "{id:?} is no catalog: {}",
            text(&r, 0)
        );

        ro.reset();
        let r = call(
            &main,
            "trino_list_tables",
            json!({"catalog": "tpch", "schema": id, "pattern": id}),
        )
        .await;
        let sent: Vec<String> = ro.statements().into_iter().map(|s| s.sql).collect();
        assert_eq!(
            sent,
            vec![format!(
                "SHOW TABLES FROM \"tpch\".{} LIKE {}",
                q(id),
                lit(id)
            )],
            "{}",
            text(&r, 0)
        );

        ro.reset();
        let r = call(
            &main,
            "trino_describe_table",
            json!({"catalog": "tpch", "schema": "tiny", "table": id}),
        )
        .await;
        let sent: Vec<String> = ro.statements().into_iter().map(|s| s.sql).collect();
        assert_eq!(
            sent.first(),
            Some(&format!("DESCRIBE \"tpch\".\"tiny\".{}", q(id))),
            "{}",
            text(&r, 0)
        );
        assert_eq!(
            error_code(&r).as_deref(),
            Some("TABLE_NOT_FOUND"),
            "{}",
            text(&r, 0)
        );
    }
    // LIKE patterns with quotes stay one literal (and still filter).
    for (pattern, tables) in [
        ("n%' OR '1'='1", json!([])),
        ("%' --", json!([])),
        ("n%", json!(["nation"])),
        ("%o%n", json!(["nation", "region"])),
    ] {
        ro.reset();
        let r = call(
            &main,
            "trino_list_tables",
            json!({"catalog": "tpch", "schema": "tiny", "pattern": pattern}),
        )
        .await;
        assert_eq!(ok(&r)["tables"], tables, "{pattern}");
        let sent: Vec<String> = ro.statements().into_iter().map(|s| s.sql).collect();
        assert_eq!(
            sent,
            vec![format!(
                "SHOW TABLES FROM \"tpch\".\"tiny\" LIKE {}",
                lit(pattern)
            )]
        );
    }
    // Limits and timeouts at the bounds are accepted.
    for args in [
        json!({"sql": "SELECT 1 AS one", "limit": 1}),
        json!({"sql": "SELECT 1 AS one", "limit": 10000}),
        json!({"sql": "SELECT 1 AS one", "timeout_seconds": 1}),
        json!({"sql": "SELECT 1 AS one", "timeout_seconds": 300}),
    ] {
        let r = call(&main, "trino_query", args.clone()).await;
        assert_eq!(ok(&r)["rows"][0]["one"], 1, "{args}");
    }
}
