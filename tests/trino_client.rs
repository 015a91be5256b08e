//! The Trino REST client against emulated clusters: plain, TLS with basic auth, bearer tokens;
//! cancellation on deadline and on early stop (seen on the cluster); no session state carried
//! from one call to the next; health probes. (Memory on 10M rows: `trino_memory.rs`.)

use std::collections::HashMap;
use std::time::Duration;

use mcp_trino::config::{self, Connection};
use mcp_trino::trino::{Call, ClientError, Column, RowSink, Stats, TrinoClient};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use trino_testkit::server::{AuthConfig, KnobSettings, TlsMaterial};
use trino_testkit::{Emulator, EmulatorConfig};

async fn emulator(f: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut cfg = EmulatorConfig::new("prod");
    f(&mut cfg);
    Emulator::start(cfg).await.expect("emulator")
}

fn connection(e: &Emulator, extra: &[(&str, &str)]) -> Connection {
    let mut env: HashMap<String, String> = HashMap::from([
        ("TRINO_HOST".into(), "127.0.0.1".into()),
        ("TRINO_PORT".into(), e.addr().port().to_string()),
        ("TRINO_SSL".into(), "false".into()),
        ("TRINO_USER".into(), "analyst".into()),
        ("TRINO_CATALOG".into(), "tpch".into()),
        ("TRINO_SCHEMA".into(), "tiny".into()),
    ]);
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    let cfg = config::load(None, &|k| env.get(k).cloned()).expect("config");
    cfg.connections[0].clone()
}

#[derive(Default)]
struct Collect {
    columns: Vec<Column>,
    rows: Vec<Vec<Value>>,
    stop_after: Option<usize>,
}

impl RowSink for Collect {
    fn columns(&mut self, c: &[Column]) {
        self.columns = c.to_vec();
    }
    fn row(&mut self, row: Vec<Value>) -> bool {
        self.rows.push(row);
        self.stop_after.is_none_or(|n| self.rows.len() < n)
    }
}

fn call(sql: &str) -> Call<'_> {
    Call {
        sql,
        tool: "test",
        timeout: Duration::from_secs(30),
        cancel: CancellationToken::new(),
    }
}

async fn rows(client: &TrinoClient, sql: &str) -> Result<Vec<Vec<Value>>, ClientError> {
    let mut sink = Collect::default();
    client.run(call(sql), &mut sink).await.map(|_| sink.rows)
}

#[tokio::test]
async fn runs_queries_with_the_configured_session() {
    let e = emulator(|c| c.page_rows = Some(100)).await;
    let client =
        TrinoClient::new(&connection(&e, &[]), vec!["mcp-server=test".into()]).expect("client");
    let mut sink = Collect::default();
    let done = client
        .run(
            call("SELECT custkey, name FROM customer ORDER BY custkey"),
            &mut sink,
        )
        .await
        .expect("query");
    assert_eq!(sink.rows.len(), 1500);
    assert_eq!(sink.columns[1].type_name, "varchar(25)");
    assert!(!done.stopped_early);
    let log = e.statements();
    let s = log.last().expect("logged");
    assert_eq!(
        (s.user.as_str(), s.source.as_deref()),
        ("analyst", Some("mcp-trino"))
    );
    assert_eq!(
        s.client_tags,
        vec!["mcp-trino", "mcp-tool=test", "mcp-server=test"]
    );
    e.stop().await;
}

#[tokio::test]
async fn use_and_set_session_in_one_call_do_not_affect_the_next() {
    let e = emulator(|_| {}).await;
    let client = TrinoClient::new(&connection(&e, &[]), vec![]).expect("client");
    rows(&client, "USE memory.sales").await.expect("USE runs");
    rows(&client, "SET SESSION query_max_run_time = '1s'")
        .await
        .expect("SET SESSION runs");
    // Still tpch.tiny: `users` is a memory.sales table, so it must not resolve.
    let err = rows(&client, "SELECT count(*) FROM users")
        .await
        .expect_err("session unchanged");
    assert!(
        matches!(&err, ClientError::Query(f) if f.error_name == "TABLE_NOT_FOUND"),
        "{err:?}"
    );
    assert_eq!(
        rows(&client, "SELECT count(*) FROM nation")
            .await
            .expect("tpch.tiny"),
        vec![vec![Value::from(25)]]
    );
    let last = e.statements().pop().expect("logged");
    assert_eq!(last.catalog.as_deref(), Some("tpch"));
    assert!(
        !last.session_properties.iter().any(|(_, v)| v == "1s"),
        "{:?}",
        last.session_properties
    );
    e.stop().await;
}

#[tokio::test]
async fn a_query_stopped_at_its_limit_is_cancelled_on_the_cluster() {
    let e = emulator(|c| c.page_rows = Some(100)).await;
    let client = TrinoClient::new(&connection(&e, &[]), vec![]).expect("client");
    let mut sink = Collect {
        stop_after: Some(1001),
        ..Default::default()
    };
    let done = client
        .run(call("SELECT * FROM synthetic.default.numbers"), &mut sink)
        .await
        .expect("query");
    assert!(done.stopped_early);
    assert_eq!(e.counters().cancels, 1);
    let q = e
        .queries()
        .into_iter()
        .find(|q| q.query_id == done.query_id)
        .expect("on the board");
    assert_eq!(
        (q.state.as_str(), q.error_code.as_deref()),
        ("FAILED", Some("USER_CANCELED"))
    );
    e.stop().await;
}

#[tokio::test]
async fn a_timed_out_query_is_cancelled_on_the_cluster() {
    let e = emulator(|c| {
        c.page_rows = Some(10);
        c.knobs = KnobSettings {
            page_delay_ms: 200,
            ..Default::default()
        };
    })
    .await;
    let client = TrinoClient::new(&connection(&e, &[]), vec![]).expect("client");
    let mut c = call("SELECT * FROM synthetic.default.numbers");
    c.timeout = Duration::from_millis(700);
    let err = client
        .run(c, &mut Collect::default())
        .await
        .expect_err("times out");
    let ClientError::Timeout { query_id: Some(id) } = err else {
        panic!("not a timeout: {err:?}")
    };
    // The cancel goes out before `run` returns.
    let q = e
        .queries()
        .into_iter()
        .find(|q| q.query_id == id)
        .expect("on the board");
    assert_eq!(q.error_code.as_deref(), Some("USER_CANCELED"));
    assert_eq!(e.counters().cancels, 1);
    e.stop().await;
}

#[tokio::test]
async fn tls_with_basic_auth_and_with_bearer_tokens() {
    let tls = TlsMaterial::self_signed().expect("cert");
    let dir = std::env::temp_dir().join(format!("mcp-trino-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem).expect("ca");
    let e = emulator(|c| {
        c.tls = Some(tls.clone());
        c.auth = AuthConfig {
            basic: Some(("analyst".into(), "s3cret".into())),
            bearer_tokens: vec!["jwt-token".into()],
        };
    })
    .await;
    let port = e.addr().port().to_string();
    let yaml = format!(
        "connections:\n  basic:\n    host: localhost\n    port: {port}\n    ssl: true\n    user: analyst\n    password: s3cret\n    ca_cert: {ca}\n    catalog: tpch\n    schema: tiny\n  bearer:\n    host: localhost\n    port: {port}\n    ssl: true\n    user: analyst\n    token: jwt-token\n    ca_cert: {ca}\n    catalog: tpch\n    schema: tiny\n  wrong:\n    host: localhost\n    port: {port}\n    ssl: true\n    user: analyst\n    password: nope\n    ca_cert: {ca}\n  untrusted:\n    host: localhost\n    port: {port}\n    ssl: true\n    user: analyst\n",
        ca = ca.display()
    );
    let cfg = config::load_yaml_str(&yaml, None, &|_| None).expect("config");
    for name in ["basic", "bearer"] {
        let client = TrinoClient::new(cfg.get(name).expect("conn"), vec![]).expect("client");
        assert_eq!(
            rows(&client, "SELECT count(*) FROM region")
                .await
                .expect(name),
            vec![vec![Value::from(5)]]
        );
        assert!(client.health(Duration::from_secs(60)).await.available);
    }
    let wrong = TrinoClient::new(cfg.get("wrong").expect("conn"), vec![]).expect("client");
    assert_eq!(
        rows(&wrong, "SELECT 1").await.expect_err("401"),
        ClientError::AuthFailed { status: 401 }
    );
    // Without the CA, the self-signed certificate is refused: a clear TLS failure.
    let untrusted = TrinoClient::new(cfg.get("untrusted").expect("conn"), vec![]).expect("client");
    let err = rows(&untrusted, "SELECT 1").await.expect_err("untrusted");
    assert!(
        matches!(&err, ClientError::ConnectionFailed { reason } if reason.contains("TLS")),
        "{err:?}"
    );
    e.stop().await;
}

#[tokio::test]
async fn health_reports_a_cluster_that_is_down_and_comes_back() {
    let e = emulator(|_| {}).await;
    let conn = connection(&e, &[]);
    let client = TrinoClient::new(&conn, vec![]).expect("client");
    assert!(client.health(Duration::from_secs(60)).await.available);
    e.kill().await;
    // Cached: no new probe within max_age.
    assert!(client.health(Duration::from_secs(60)).await.available);
    let h = client.health(Duration::ZERO).await;
    assert!(!h.available);
    assert_eq!(h.reason.as_deref(), Some("connection refused"));
}

/// Wants `stop_at` rows and, when `hint`, tells the client so; takes the whole first page
/// of rows (a page ends with a `progress` call) and stops at the next one.
struct PageSizes {
    stop_at: usize,
    hint: bool,
    rows: usize,
    pages: Vec<usize>,
    in_page: usize,
}

impl RowSink for PageSizes {
    fn columns(&mut self, _: &[Column]) {}
    fn row(&mut self, _: Vec<Value>) -> bool {
        if !self.pages.is_empty() {
            return false;
        }
        self.rows += 1;
        self.in_page += 1;
        true
    }
    fn progress(&mut self, _: &Stats) {
        if self.in_page > 0 {
            self.pages.push(std::mem::take(&mut self.in_page));
        }
    }
    fn rows_wanted(&self) -> Option<usize> {
        self.hint.then(|| self.stop_at.saturating_sub(self.rows))
    }
}

#[tokio::test]
async fn pages_are_asked_no_larger_than_the_rows_still_wanted() {
    // Trino's default page (1 MB of JSON) holds over 10,000 rows of this table; a sink that
    // wants 1,001 rows gets pages sized for them (`targetResultSize`), so the cluster does
    // not produce, and we do not parse, ten times what is read.
    let e = emulator(|_| {}).await;
    let client = TrinoClient::new(&connection(&e, &[]), vec![]).expect("client");
    let mut first_pages = Vec::new();
    for hint in [false, true] {
        let mut sink = PageSizes {
            stop_at: 1001,
            hint,
            rows: 0,
            pages: Vec::new(),
            in_page: 0,
        };
        let done = client
            .run(call("SELECT * FROM synthetic.default.numbers"), &mut sink)
            .await
            .expect("query");
        assert!(done.stopped_early);
        first_pages.push(sink.pages.first().copied().unwrap_or_default());
    }
    assert!(first_pages[0] > 10_000, "default page: {first_pages:?}");
    assert!(
        (1001..4000).contains(&first_pages[1]),
        "sized page: {first_pages:?}"
    );
    assert_eq!(e.counters().cancels, 2);
    e.stop().await;
}
