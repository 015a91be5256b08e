//! Engine tests through the public API: statements in, Trino-encoded columns and rows out.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use serde_json::{Value, json};
use trino_testkit::engine::{Engine, EngineConfig};
use trino_testkit::errors::TrinoError;
use trino_testkit::model::{ClientSession, QueryCatalog, QueryInfo};

struct FakeQueries;

impl QueryCatalog for FakeQueries {
    fn queries(&self) -> Vec<QueryInfo> {
        vec![QueryInfo {
            query_id: "20240101_000000_00001_abcde".into(),
            state: "FINISHED".into(),
            user: "alice".into(),
            source: Some("test".into()),
            query: "SELECT 1".into(),
            created_ms: 1_704_067_200_000,
            end_ms: Some(1_704_067_201_000),
            error_type: None,
            error_code: None,
        }]
    }
}

async fn engine(cluster: &str) -> Engine {
    let config = EngineConfig {
        cluster: cluster.into(),
        synthetic_rows: 100_000,
    };
    Engine::new(config, Arc::new(FakeQueries))
        .await
        .expect("engine starts")
}

fn session(catalog: Option<&str>, schema: Option<&str>) -> ClientSession {
    ClientSession {
        user: "tester".into(),
        catalog: catalog.map(str::to_string),
        schema: schema.map(str::to_string),
        parametric_datetime: true,
        ..Default::default()
    }
}

struct Output {
    columns: Vec<Value>,
    rows: Vec<Vec<Value>>,
    update_type: Option<String>,
    headers: Vec<(String, String)>,
}

async fn run_as(e: &Engine, sql: &str, s: &ClientSession) -> Result<Output, TrinoError> {
    let ex = e.execute(sql, s).await?;
    let mut rows = Vec::new();
    let mut stream = ex.rows;
    while let Some(batch) = stream.next().await {
        rows.extend(batch?);
    }
    Ok(Output {
        columns: ex.columns,
        rows,
        update_type: ex.update_type,
        headers: ex.response_headers,
    })
}

async fn run(e: &Engine, sql: &str) -> Output {
    match run_as(e, sql, &session(Some("tpch"), Some("tiny"))).await {
        Ok(o) => o,
        Err(err) => panic!("{sql}: {err}"),
    }
}

async fn fail(e: &Engine, sql: &str, s: &ClientSession) -> TrinoError {
    match run_as(e, sql, s).await {
        Ok(_) => panic!("{sql} should fail"),
        Err(err) => err,
    }
}

fn names(o: &Output) -> Vec<String> {
    o.columns
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn types(o: &Output) -> Vec<String> {
    o.columns
        .iter()
        .map(|c| c["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpch_tiny_counts_and_values() {
    let e = engine("prod").await;
    for (table, n) in [
        ("lineitem", 60175),
        ("orders", 15000),
        ("customer", 1500),
        ("part", 2000),
        ("partsupp", 8000),
        ("supplier", 100),
        ("nation", 25),
        ("region", 5),
    ] {
        let o = run(&e, &format!("SELECT count(*) FROM tpch.tiny.{table}")).await;
        assert_eq!(o.rows, vec![vec![json!(n)]], "{table}");
    }
    let o = run(&e, "SELECT * FROM nation WHERE nationkey = 0").await;
    assert_eq!(names(&o), ["nationkey", "name", "regionkey", "comment"]);
    assert_eq!(
        types(&o),
        ["bigint", "varchar(25)", "bigint", "varchar(152)"]
    );
    assert_eq!(
        o.rows,
        vec![vec![
            json!(0),
            json!("ALGERIA"),
            json!(0),
            json!(" haggle. carefully final deposits detect slyly agai")
        ]]
    );
    let o = run(
        &e,
        "SELECT orderkey, extendedprice, shipdate, linenumber FROM lineitem LIMIT 1",
    )
    .await;
    assert_eq!(types(&o), ["bigint", "double", "date", "integer"]);
    assert_eq!(
        o.rows,
        vec![vec![
            json!(1),
            json!(24710.35),
            json!("1996-03-13"),
            json!(1)
        ]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_sf1_and_synthetic_lazily() {
    let e = engine("dev").await;
    for sql in [
        "SELECT * FROM tpch.sf1.lineitem",
        "SELECT * FROM synthetic.default.numbers",
    ] {
        let started = Instant::now();
        let ex = e.execute(sql, &session(None, None)).await.expect("plans");
        let mut stream = ex.rows;
        let mut rows = 0;
        while rows < 1000 {
            rows += stream.next().await.expect("rows").expect("ok").len();
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "{sql} took {:?}",
            started.elapsed()
        );
    }
    let o = run(
        &e,
        "SELECT count(*), max(id) FROM synthetic.default.numbers",
    )
    .await;
    assert_eq!(o.rows, vec![vec![json!(100_000), json!(100_000)]]);
    let o = run(&e, "SELECT * FROM synthetic.default.numbers WHERE id = 2").await;
    assert_eq!(types(&o), ["bigint", "varchar", "double", "timestamp(3)"]);
    assert_eq!(
        o.rows,
        vec![vec![
            json!(2),
            json!("item-2"),
            json!(0.5),
            json!("2024-01-01 00:00:02.000")
        ]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_types_encoding() {
    let e = engine("prod").await;
    let o = run(&e, "SELECT * FROM memory.fixtures.all_types ORDER BY id").await;
    let t = types(&o);
    assert_eq!(t[8], "decimal(12, 2)");
    assert_eq!(t[12], "char(5)");
    assert_eq!(t[19], "timestamp(6) with time zone");
    assert_eq!(t[25], "row(a bigint, b varchar)");
    assert_eq!(
        o.columns[11]["typeSignature"],
        json!({"rawType": "varchar", "arguments": [{"kind": "LONG", "value": 20}]})
    );
    let r1 = &o.rows[0];
    assert_eq!(r1[5], json!(9223372036854775807i64));
    assert_eq!(r1[6], json!(1.5));
    assert_eq!(r1[8], json!("1234567890.12"));
    assert_eq!(r1[10], json!("naïve café"));
    assert_eq!(r1[12], json!("ab   "));
    assert_eq!(r1[13], json!("ZWg/"));
    assert_eq!(r1[14], json!("{\"a\":1,\"b\":[true,null]}"));
    assert_eq!(r1[16], json!("01:02:03.456"));
    assert_eq!(r1[17], json!("01:02:03.456+05:45"));
    assert_eq!(r1[18], json!("2001-08-22 03:04:05.321000"));
    assert_eq!(
        r1[19],
        json!("2001-08-22 03:04:05.123456 America/Los_Angeles")
    );
    assert_eq!(r1[20], json!("2024-01-02 03:04:05.678 UTC"));
    assert_eq!(r1[21], json!("1-2"));
    assert_eq!(r1[22], json!("2 03:04:05.678"));
    assert_eq!(r1[23], json!(["a", null, "c"]));
    assert_eq!(r1[24], json!({"a": 1, "b": 2}));
    assert_eq!(r1[25], json!([1, "x"]));
    assert_eq!(r1[26], json!("12151fd2-7586-11e9-8f9e-2a86e4085a59"));
    let r2 = &o.rows[1];
    assert_eq!(r2[6], json!("NaN"));
    assert_eq!(r2[7], json!("Infinity"));
    assert_eq!(r2[8], json!("-0.05"));
    assert_eq!(r2[10], json!("comma, \"quote\"\nnewline"));
    assert_eq!(r2[21], json!("-0-3"));
    assert!(o.rows[2][1].is_null());

    // Without PARAMETRIC_DATETIME: no precision and millisecond values.
    let mut s = session(None, None);
    s.parametric_datetime = false;
    let o = run_as(
        &e,
        "SELECT c_timestamp, c_timestamp_tz FROM memory.fixtures.all_types WHERE id = 1",
        &s,
    )
    .await
    .unwrap();
    assert_eq!(types(&o), ["timestamp", "timestamp with time zone"]);
    assert_eq!(
        o.columns[0]["typeSignature"],
        json!({"rawType": "timestamp", "arguments": []})
    );
    assert_eq!(
        o.rows[0],
        vec![
            json!("2001-08-22 03:04:05.321"),
            json!("2001-08-22 03:04:05.123 America/Los_Angeles")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expression_columns_are_named_like_trino() {
    let e = engine("prod").await;
    let o = run(
        &e,
        "SELECT 1, name, 1.5 AS \"Ratio\", regionkey + 1 FROM nation WHERE nationkey = 1",
    )
    .await;
    assert_eq!(names(&o), ["_col0", "name", "Ratio", "_col3"]);
    assert_eq!(
        types(&o),
        ["integer", "varchar(25)", "decimal(2, 1)", "bigint"]
    );
    assert_eq!(
        o.rows,
        vec![vec![json!(1), json!("ARGENTINA"), json!("1.5"), json!(2)]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_and_describe() {
    let e = engine("prod").await;
    let o = run(&e, "SHOW CATALOGS").await;
    assert_eq!(names(&o), ["Catalog"]);
    assert_eq!(
        o.rows,
        vec![
            vec![json!("memory")],
            vec![json!("synthetic")],
            vec![json!("system")],
            vec![json!("tpch")]
        ]
    );
    let o = run(&e, "SHOW SCHEMAS FROM tpch LIKE 's%1'").await;
    assert_eq!(names(&o), ["Schema"]);
    assert_eq!(o.rows, vec![vec![json!("sf1")]]);
    let o = run(&e, "SHOW TABLES FROM memory.sales").await;
    assert_eq!(names(&o), ["Table"]);
    assert_eq!(
        o.rows,
        vec![
            vec![json!("orders")],
            vec![json!("products")],
            vec![json!("users")]
        ]
    );
    let o = run(&e, "SHOW TABLES LIKE 'n%'").await;
    assert_eq!(o.rows, vec![vec![json!("nation")]]);
    let o = run(&e, "DESCRIBE memory.sales.users").await;
    assert_eq!(names(&o), ["Column", "Type", "Extra", "Comment"]);
    assert_eq!(
        o.rows[0],
        vec![json!("id"), json!("bigint"), json!(""), json!("user id")]
    );
    assert_eq!(
        o.rows[1],
        vec![json!("name"), json!("varchar(50)"), json!(""), json!("")]
    );
    let o = run(&e, "SHOW COLUMNS FROM orders LIKE 'total%'").await;
    assert_eq!(
        o.rows,
        vec![vec![
            json!("totalprice"),
            json!("double"),
            json!(""),
            json!("")
        ]]
    );
    let o = run(&e, "SHOW CREATE TABLE memory.sales.products").await;
    assert_eq!(names(&o), ["Create Table"]);
    assert_eq!(
        o.rows[0][0],
        json!(
            "CREATE TABLE memory.sales.products (\n   id bigint NOT NULL,\n   name varchar NOT NULL COMMENT 'display name',\n   category varchar,\n   price decimal(10,2) COMMENT 'unit price in USD',\n   stock integer\n)"
        )
    );
    let o = run(&e, "SELECT column_name, ordinal_position, is_nullable, data_type, comment FROM memory.information_schema.columns WHERE table_name = 'users' AND column_name IN ('id', 'email')").await;
    assert_eq!(
        o.rows,
        vec![
            vec![
                json!("id"),
                json!(1),
                json!("NO"),
                json!("bigint"),
                json!("user id")
            ],
            vec![
                json!("email"),
                json!(3),
                json!("YES"),
                json!("varchar"),
                json!("contact address")
            ],
        ]
    );
    let o = run(&e, "SELECT * FROM tpch.information_schema.columns WHERE table_schema = 'tiny' AND table_name = 'region'").await;
    assert_eq!(o.columns.len(), 8);
    let o = run(
        &e,
        "SELECT schema_name FROM memory.information_schema.schemata ORDER BY 1",
    )
    .await;
    assert!(o.rows.contains(&vec![json!("information_schema")]));
    let o = run(&e, "SELECT table_type FROM tpch.information_schema.tables WHERE table_schema = 'tiny' AND table_name = 'nation'").await;
    assert_eq!(o.rows, vec![vec![json!("BASE TABLE")]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_statements() {
    let e = engine("prod").await;
    let o = run(&e, "USE memory.sales").await;
    assert_eq!(o.update_type.as_deref(), Some("USE"));
    assert_eq!(
        o.headers,
        vec![
            ("X-Trino-Set-Catalog".into(), "memory".into()),
            ("X-Trino-Set-Schema".into(), "sales".into())
        ]
    );
    assert_eq!(o.rows, vec![vec![json!(true)]]);
    let o = run(&e, "SET SESSION query_max_run_time = '10m'").await;
    assert_eq!(o.update_type.as_deref(), Some("SET SESSION"));
    assert_eq!(
        o.headers,
        vec![(
            "X-Trino-Set-Session".into(),
            "query_max_run_time=10m".into()
        )]
    );
    let o = run(&e, "RESET SESSION query_max_run_time").await;
    assert_eq!(
        o.headers,
        vec![("X-Trino-Clear-Session".into(), "query_max_run_time".into())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_forms() {
    let e = engine("prod").await;
    let o = run(
        &e,
        "EXPLAIN SELECT regionkey, count(*) FROM nation GROUP BY 1",
    )
    .await;
    assert_eq!(names(&o), ["Query Plan"]);
    let text = o.rows[0][0].as_str().unwrap_or_default().to_string();
    assert!(
        text.starts_with("Trino version: 476\nFragment 0 [SINGLE]"),
        "{text}"
    );
    assert!(
        text.contains("TableScan[table = tpch:tiny:nation]"),
        "{text}"
    );
    let o = run(&e, "EXPLAIN (TYPE LOGICAL) SELECT 1").await;
    assert!(
        o.rows[0][0]
            .as_str()
            .unwrap_or_default()
            .contains("Output[columnNames = [_col0]]")
    );
    let o = run(&e, "EXPLAIN (TYPE VALIDATE) SELECT * FROM nation").await;
    assert_eq!(names(&o), ["Valid"]);
    assert_eq!(o.rows, vec![vec![json!(true)]]);
    let err = fail(
        &e,
        "EXPLAIN (TYPE VALIDATE) SELECT * FROM nope",
        &session(Some("tpch"), Some("tiny")),
    )
    .await;
    assert_eq!(err.name, "TABLE_NOT_FOUND");
    let o = run(&e, "EXPLAIN (TYPE IO, FORMAT JSON) SELECT * FROM nation").await;
    let io: Value = serde_json::from_str(o.rows[0][0].as_str().unwrap_or_default()).expect("json");
    assert_eq!(
        io["inputTableColumnInfos"][0]["table"]["schemaTable"]["table"],
        "nation"
    );
    let o = run(&e, "EXPLAIN ANALYZE SELECT count(*) FROM region").await;
    assert!(
        o.rows[0][0]
            .as_str()
            .unwrap_or_default()
            .contains("Execution:")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_trino_names_and_locations() {
    let e = engine("prod").await;
    let s = session(Some("tpch"), Some("tiny"));
    let check = |err: TrinoError, name: &str, message: &str| {
        assert_eq!((err.name, err.full_message().as_str()), (name, message));
    };
    check(
        fail(&e, "SELECT * FROM tpch.tiny.nations", &s).await,
        "TABLE_NOT_FOUND",
        "line 1:15: Table 'tpch.tiny.nations' does not exist",
    );
    check(
        fail(&e, "SELECT * FROM nope.tiny.nation", &s).await,
        "CATALOG_NOT_FOUND",
        "line 1:15: Catalog 'nope' not found",
    );
    check(
        fail(&e, "SELECT * FROM tpch.nope.nation", &s).await,
        "SCHEMA_NOT_FOUND",
        "line 1:15: Schema 'nope' does not exist",
    );
    check(
        fail(&e, "SELECT foo FROM nation", &s).await,
        "COLUMN_NOT_FOUND",
        "line 1:8: Column 'foo' cannot be resolved",
    );
    check(
        fail(&e, "SELECT nope(1)", &s).await,
        "FUNCTION_NOT_FOUND",
        "line 1:8: Function 'nope' not registered",
    );
    check(
        fail(&e, "SELECT * FROM nation WHERE nationkey = 'a'", &s).await,
        "TYPE_MISMATCH",
        "line 1:38: Cannot apply operator: bigint = varchar(1)",
    );
    check(
        fail(&e, "SELET 1", &s).await,
        "SYNTAX_ERROR",
        "line 1:1: mismatched input 'SELET'. Expecting: 'ALTER', 'ANALYZE', 'CALL', 'COMMENT', 'COMMIT', 'CREATE', 'DEALLOCATE', 'DELETE', 'DENY', 'DESC', 'DESCRIBE', 'DROP', 'EXECUTE', 'EXPLAIN', 'GRANT', 'INSERT', 'MERGE', 'PREPARE', 'REFRESH', 'RESET', 'REVOKE', 'ROLLBACK', 'SET', 'SHOW', 'START', 'TRUNCATE', 'UPDATE', 'USE', 'WITH', <query>",
    );
    let err = fail(&e, "SELECT 1 FROM", &s).await;
    assert_eq!(err.name, "SYNTAX_ERROR");
    assert_eq!(err.location, Some((1, 14)));
    check(
        fail(&e, "SELECT 1 / 0", &s).await,
        "DIVISION_BY_ZERO",
        "Division by zero",
    );
    check(
        fail(&e, "SELECT * FROM nation", &session(None, None)).await,
        "MISSING_CATALOG_NAME",
        "line 1:15: Catalog must be specified when session catalog is not set",
    );
    check(
        fail(&e, "SELECT * FROM nation", &session(Some("tpch"), None)).await,
        "MISSING_SCHEMA_NAME",
        "line 1:15: Schema must be specified when session schema is not set",
    );
    check(
        fail(&e, "SELECT * FROM memory.restricted.secrets", &s).await,
        "PERMISSION_DENIED",
        "Access Denied: Cannot select from table memory.restricted.secrets",
    );
    let mut admin = session(None, None);
    admin.user = "admin".into();
    assert_eq!(
        run_as(&e, "SELECT count(*) FROM memory.restricted.secrets", &admin)
            .await
            .unwrap()
            .rows,
        vec![vec![json!(2)]]
    );
    check(
        fail(&e, "CREATE TABLE tpch.tiny.t (x bigint)", &s).await,
        "NOT_SUPPORTED",
        "This connector does not support creating tables",
    );
    check(
        fail(&e, "SHOW SCHEMAS", &session(None, None)).await,
        "MISSING_CATALOG_NAME",
        "line 1:1: Catalog must be specified when session catalog is not set",
    );
    let deep = format!("SELECT {}1{}", "(".repeat(500), ")".repeat(500));
    assert_eq!(fail(&e, &deep, &s).await.name, "SYNTAX_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_ddl_and_dml_round_trip() {
    let e = engine("dev").await;
    let s = session(Some("memory"), Some("default"));
    let o = run_as(&e, "CREATE SCHEMA memory.scratch", &s)
        .await
        .unwrap();
    assert_eq!(o.update_type.as_deref(), Some("CREATE SCHEMA"));
    let o = run_as(&e, "CREATE TABLE memory.scratch.t (id bigint NOT NULL, name varchar(10) COMMENT 'n', ts timestamp(6))", &s).await.unwrap();
    assert_eq!(
        (o.update_type.as_deref(), o.rows.clone()),
        (Some("CREATE TABLE"), vec![vec![json!(true)]])
    );
    let o = run_as(&e, "INSERT INTO memory.scratch.t VALUES (1, 'a', TIMESTAMP '2024-01-01 00:00:00.123456'), (2, 'b', NULL)", &s).await.unwrap();
    assert_eq!(
        (o.update_type.as_deref(), names(&o), o.rows.clone()),
        (
            Some("INSERT"),
            vec!["rows".to_string()],
            vec![vec![json!(2)]]
        )
    );
    let o = run_as(&e, "INSERT INTO memory.scratch.t (id) SELECT 3", &s)
        .await
        .unwrap();
    assert_eq!(o.rows, vec![vec![json!(1)]]);
    let o = run_as(&e, "SELECT * FROM memory.scratch.t ORDER BY id", &s)
        .await
        .unwrap();
    assert_eq!(types(&o), ["bigint", "varchar(10)", "timestamp(6)"]);
    assert_eq!(
        o.rows[0],
        vec![json!(1), json!("a"), json!("2024-01-01 00:00:00.123456")]
    );
    assert_eq!(o.rows[2], vec![json!(3), Value::Null, Value::Null]);
    let err = fail(&e, "INSERT INTO memory.scratch.t (name) VALUES ('x')", &s).await;
    assert_eq!(err.name, "CONSTRAINT_VIOLATION");
    let o = run_as(
        &e,
        "CREATE TABLE memory.scratch.c AS SELECT nationkey AS k, name FROM tpch.tiny.nation",
        &s,
    )
    .await
    .unwrap();
    assert_eq!(
        (o.update_type.as_deref(), o.rows.clone()),
        (Some("CREATE TABLE"), vec![vec![json!(25)]])
    );
    let o = run_as(&e, "DESCRIBE memory.scratch.c", &s).await.unwrap();
    assert_eq!(o.rows[1][1], json!("varchar(25)"));
    assert_eq!(
        fail(&e, "CREATE TABLE memory.scratch.c (x bigint)", &s)
            .await
            .name,
        "TABLE_ALREADY_EXISTS"
    );
    assert_eq!(
        fail(&e, "DROP SCHEMA memory.scratch", &s).await.name,
        "SCHEMA_NOT_EMPTY"
    );
    run_as(&e, "DROP TABLE memory.scratch.t", &s).await.unwrap();
    run_as(&e, "DROP TABLE memory.scratch.c", &s).await.unwrap();
    run_as(&e, "DROP TABLE IF EXISTS memory.scratch.c", &s)
        .await
        .unwrap();
    let o = run_as(&e, "DROP SCHEMA memory.scratch", &s).await.unwrap();
    assert_eq!(o.update_type.as_deref(), Some("DROP SCHEMA"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_tables() {
    let e = engine("prod").await;
    let o = run(&e, "SELECT query_id, state, user, source, query, created, \"end\", error_type FROM system.runtime.queries").await;
    assert_eq!(
        o.rows,
        vec![vec![
            json!("20240101_000000_00001_abcde"),
            json!("FINISHED"),
            json!("alice"),
            json!("test"),
            json!("SELECT 1"),
            json!("2024-01-01 00:00:00.000 UTC"),
            json!("2024-01-01 00:00:01.000 UTC"),
            Value::Null,
        ]]
    );
    let o = run(
        &e,
        "SELECT coordinator, node_version FROM system.runtime.nodes",
    )
    .await;
    assert_eq!(o.rows, vec![vec![json!(true), json!("476")]]);
    let o = run(&e, "SELECT catalog_name, connector_name FROM system.metadata.catalogs WHERE catalog_name = 'tpch'").await;
    assert_eq!(o.rows, vec![vec![json!("tpch"), json!("tpch")]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_have_different_sales_data() {
    let count = |o: Output| o.rows[0][0].clone();
    let prod = engine("prod").await;
    let staging = engine("staging").await;
    let dev = engine("dev").await;
    let sql = "SELECT count(*) FROM memory.sales.users";
    assert_eq!(count(run(&prod, sql).await), json!(5));
    assert_eq!(count(run(&staging, sql).await), json!(5));
    assert_eq!(count(run(&dev, sql).await), json!(1));
    let who = "SELECT name FROM memory.sales.users WHERE id IN (4, 6) ORDER BY id";
    assert_eq!(
        run(&prod, who).await.rows,
        vec![vec![json!("Dmitri Ivanov")]]
    );
    assert_eq!(
        run(&staging, who).await.rows,
        vec![vec![json!("Staging Tester")]]
    );
}
