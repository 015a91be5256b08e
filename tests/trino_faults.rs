//! Fault tests of the Trino REST client against scripted coordinators (wiremock): retries,
//! bad responses, foreign nextUri, auth failures, deadlines, cancellation, early stop.
//! Each case also checks that a query still running is cancelled with DELETE.

use std::collections::HashMap;
use std::time::Duration;

use mcp_trino::config;
use mcp_trino::trino::{Call, ClientError, Column, RowSink, TrinoClient};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn client_for(server: &MockServer, extra: &[(&str, &str)]) -> TrinoClient {
    let addr = server.address();
    let mut env: HashMap<String, String> = HashMap::from([
        ("TRINO_HOST".into(), addr.ip().to_string()),
        ("TRINO_PORT".into(), addr.port().to_string()),
        ("TRINO_SSL".into(), "false".into()),
        ("TRINO_USER".into(), "analyst".into()),
        ("TRINO_CATALOG".into(), "tpch".into()),
        ("TRINO_SCHEMA".into(), "tiny".into()),
    ]);
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    let cfg = config::load(None, &|k| env.get(k).cloned()).expect("valid config");
    TrinoClient::new(&cfg.connections[0], vec!["mcp-server=test".into()]).expect("client")
}

#[derive(Default)]
struct Collect {
    columns: Vec<Column>,
    rows: Vec<Vec<Value>>,
    stop_after: Option<usize>,
}

impl RowSink for Collect {
    fn columns(&mut self, columns: &[Column]) {
        self.columns = columns.to_vec();
    }
    fn row(&mut self, row: Vec<Value>) -> bool {
        self.rows.push(row);
        self.stop_after.is_none_or(|n| self.rows.len() < n)
    }
}

fn call(sql: &str) -> Call<'_> {
    Call {
        sql,
        tool: "trino_query",
        timeout: Duration::from_secs(10),
        cancel: CancellationToken::new(),
    }
}

fn cols() -> Value {
    json!([{"name": "n", "type": "bigint", "typeSignature": {"rawType": "bigint", "arguments": []}}])
}

fn page(server: &MockServer, token: Option<u32>, data: Option<Value>) -> Value {
    let mut p = json!({"id": "q1", "infoUri": "http://x/ui", "stats": {"state": "RUNNING"}, "columns": cols(), "warnings": []});
    if let Some(t) = token {
        p["nextUri"] = json!(format!("{}/v1/statement/executing/q1/s/{t}", server.uri()));
    }
    if let Some(d) = data {
        p["data"] = d;
    }
    p
}

async fn queued(server: &MockServer) {
    let body = json!({"id": "q1", "infoUri": "http://x/ui", "nextUri": format!("{}/v1/statement/executing/q1/s/0", server.uri()),
                      "stats": {"state": "QUEUED", "queued": true}, "warnings": []});
    Mock::given(method("POST"))
        .and(path("/v1/statement"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

async fn deletes(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .collect()
}

async fn accept_deletes(server: &MockServer) {
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(server)
        .await;
}

#[tokio::test]
async fn pages_are_followed_and_the_session_comes_from_config_only() {
    let server = MockServer::start().await;
    queued(&server).await;
    Mock::given(method("GET"))
        .and(path("/v1/statement/executing/q1/s/0"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(page(&server, Some(1), Some(json!([[1], [2]]))))
                // A response trying to change the session must be ignored.
                .insert_header("X-Trino-Set-Catalog", "evil")
                .insert_header("X-Trino-Set-Session", "query_max_run_time=100d"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/statement/executing/q1/s/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            &server,
            None,
            Some(json!([[3]])),
        )))
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let mut sink = Collect::default();
    let done = client
        .run(call("SELECT n FROM t"), &mut sink)
        .await
        .expect("query runs");
    assert_eq!(
        sink.rows,
        vec![vec![json!(1)], vec![json!(2)], vec![json!(3)]]
    );
    assert_eq!(sink.columns[0].type_name, "bigint");
    assert!(!done.stopped_early);
    assert_eq!(done.query_id, "q1");
    assert!(
        deletes(&server).await.is_empty(),
        "a finished query is not cancelled"
    );

    // Second call: same headers as the first, whatever the responses said.
    let mut sink = Collect::default();
    client.run(call("SELECT n FROM t"), &mut sink).await.ok();
    let posts: Vec<Request> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(posts.len(), 2);
    for p in &posts {
        let h = |n: &str| {
            p.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(h("x-trino-user"), "analyst");
        assert_eq!(h("x-trino-catalog"), "tpch");
        assert_eq!(h("x-trino-schema"), "tiny");
        assert_eq!(h("x-trino-source"), "mcp-trino");
        assert_eq!(
            h("x-trino-client-tags"),
            "mcp-trino,mcp-tool=trino_query,mcp-server=test"
        );
        assert_eq!(h("x-trino-session"), "query_max_run_time=20s");
        assert_eq!(h("x-trino-client-capabilities"), "PARAMETRIC_DATETIME");
        assert_eq!(h("authorization"), "");
        assert_eq!(String::from_utf8_lossy(&p.body), "SELECT n FROM t");
    }
}

#[tokio::test]
async fn gateway_errors_on_next_uri_are_retried_and_the_post_is_never_repeated() {
    let server = MockServer::start().await;
    queued(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>busy</html>"))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            &server,
            None,
            Some(json!([[7]])),
        )))
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let mut sink = Collect::default();
    client
        .run(call("SELECT 7"), &mut sink)
        .await
        .expect("retried to success");
    assert_eq!(sink.rows, vec![vec![json!(7)]]);
    let posts = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 1, "the statement is submitted once");
}

#[tokio::test]
async fn a_503_storm_gives_up_with_connection_failed_and_cancels() {
    let server = MockServer::start().await;
    queued(&server).await;
    accept_deletes(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let err = client
        .run(call("SELECT 1"), &mut Collect::default())
        .await
        .expect_err("storm");
    assert!(
        matches!(&err, ClientError::ConnectionFailed { reason } if reason.contains("8 attempts")),
        "{err:?}"
    );
    assert_eq!(deletes(&server).await.len(), 1);
}

#[tokio::test]
async fn gateway_error_on_submit_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let err = client
        .run(call("SELECT 1"), &mut Collect::default())
        .await
        .expect_err("503");
    assert!(
        matches!(err, ClientError::ConnectionFailed { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn malformed_and_html_pages_are_clean_errors_and_the_query_is_cancelled() {
    for (body, content_type, expected) in [
        (
            "{\"id\":\"q1\",\"nextUri\":",
            "application/json",
            "truncated JSON",
        ),
        ("{\"id\": 5}", "application/json", "unexpected shape"),
        (
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            "text/html",
            "HTML page",
        ),
    ] {
        let server = MockServer::start().await;
        queued(&server).await;
        accept_deletes(&server).await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, content_type))
            .mount(&server)
            .await;
        let client = client_for(&server, &[]);
        let err = client
            .run(call("SELECT 1"), &mut Collect::default())
            .await
            .expect_err("bad page");
        match &err {
            ClientError::Protocol { message, query_id } => {
                assert!(message.contains(expected), "{message}");
                assert_eq!(query_id.as_deref(), Some("q1"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            deletes(&server).await.len(),
            1,
            "cancelled after {expected}"
        );
    }
}

#[tokio::test]
async fn html_error_status_is_reported_without_the_page() {
    let server = MockServer::start().await;
    queued(&server).await;
    accept_deletes(&server).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_raw("<html><body>stack trace secret</body></html>", "text/html"),
        )
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let err = client
        .run(call("SELECT 1"), &mut Collect::default())
        .await
        .expect_err("500");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 500") && text.contains("HTML error page"),
        "{text}"
    );
    assert!(!text.contains("secret"));
}

#[tokio::test]
async fn next_uri_on_another_origin_is_refused_and_the_query_cancelled_by_id() {
    let server = MockServer::start().await;
    let body = json!({"id": "q1", "infoUri": "http://x/ui", "nextUri": "http://127.0.0.1:9/v1/statement/executing/q1/s/0",
                      "stats": {"state": "QUEUED"}, "warnings": []});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    accept_deletes(&server).await;
    let client = client_for(&server, &[]);
    let err = client
        .run(call("SELECT 1"), &mut Collect::default())
        .await
        .expect_err("foreign");
    assert!(
        err.to_string().contains("another scheme, host or port"),
        "{err}"
    );
    let d = deletes(&server).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].url.path(), "/v1/query/q1");
}

#[tokio::test]
async fn unauthorized_is_auth_failed_on_submit_and_mid_query() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let err = client
        .run(call("SELECT 1"), &mut Collect::default())
        .await
        .expect_err("401");
    assert_eq!(err, ClientError::AuthFailed { status: 401 });

    let server = MockServer::start().await;
    queued(&server).await;
    accept_deletes(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let err = client
        .run(call("SELECT 1"), &mut Collect::default())
        .await
        .expect_err("401 mid-query");
    assert_eq!(err, ClientError::AuthFailed { status: 401 });
}

#[tokio::test]
async fn trino_errors_keep_name_code_location_and_query_id() {
    let server = MockServer::start().await;
    queued(&server).await;
    let failed = json!({"id": "q1", "infoUri": "http://x/ui", "stats": {"state": "FAILED"}, "warnings": [],
        "error": {"message": "line 1:15: Table 'tpch.tiny.nope' does not exist", "errorCode": 46,
                  "errorName": "TABLE_NOT_FOUND", "errorType": "USER_ERROR",
                  "errorLocation": {"lineNumber": 1, "columnNumber": 15},
                  "failureInfo": {"type": "io.trino.spi.TrinoException", "stack": ["a", "b"]}}});
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(failed))
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let err = client
        .run(
            call("SELECT * FROM tpch.tiny.nope"),
            &mut Collect::default(),
        )
        .await
        .expect_err("fails");
    let ClientError::Query(f) = err else {
        panic!("not a query failure")
    };
    assert_eq!(
        (f.error_name.as_str(), f.error_code, f.query_id.as_str()),
        ("TABLE_NOT_FOUND", 46, "q1")
    );
    assert_eq!(
        f.location.map(|l| (l.line_number, l.column_number)),
        Some((1, 15))
    );
    assert!(
        deletes(&server).await.is_empty(),
        "a failed query needs no cancel"
    );
}

#[tokio::test]
async fn an_oversized_error_stack_is_a_clean_query_error() {
    let server = MockServer::start().await;
    queued(&server).await;
    let stack: Vec<String> = (0..50_000)
        .map(|i| format!("io.trino.Frame{i}.method(Frame.java:{i})"))
        .collect();
    let failed = json!({"id": "q1", "infoUri": "http://x/ui", "stats": {"state": "FAILED"}, "warnings": [],
        "error": {"message": "boom", "errorCode": 65536, "errorName": "GENERIC_INTERNAL_ERROR", "errorType": "INTERNAL_ERROR",
                  "failureInfo": {"type": "java.lang.RuntimeException", "stack": stack, "suppressed": []}}});
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(failed))
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let err = client
        .run(call("SELECT 1"), &mut Collect::default())
        .await
        .expect_err("fails");
    let ClientError::Query(f) = &err else {
        panic!("not a query failure: {err:?}")
    };
    assert_eq!(f.message, "boom");
    assert!(
        !err.to_string().contains("Frame"),
        "the stack never reaches the caller"
    );
}

#[tokio::test]
async fn the_deadline_cancels_a_slow_query() {
    let server = MockServer::start().await;
    queued(&server).await;
    accept_deletes(&server).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(page(&server, Some(1), None))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let mut c = call("SELECT slow");
    c.timeout = Duration::from_millis(300);
    let err = client
        .run(c, &mut Collect::default())
        .await
        .expect_err("deadline");
    assert_eq!(
        err,
        ClientError::Timeout {
            query_id: Some("q1".into())
        }
    );
    assert_eq!(deletes(&server).await.len(), 1);
}

#[tokio::test]
async fn the_cancellation_token_cancels_the_query() {
    let server = MockServer::start().await;
    queued(&server).await;
    accept_deletes(&server).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(page(&server, Some(1), None))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let c = call("SELECT slow");
    let token = c.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        token.cancel();
    });
    let err = client
        .run(c, &mut Collect::default())
        .await
        .expect_err("cancelled");
    assert_eq!(
        err,
        ClientError::Cancelled {
            query_id: Some("q1".into())
        }
    );
    assert_eq!(deletes(&server).await.len(), 1);
}

#[tokio::test]
async fn stopping_early_cancels_the_rest() {
    let server = MockServer::start().await;
    queued(&server).await;
    accept_deletes(&server).await;
    Mock::given(method("GET"))
        .and(path_regex("/executing/q1/s/0$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            &server,
            Some(1),
            Some(json!([[1], [2], [3]])),
        )))
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let mut sink = Collect {
        stop_after: Some(2),
        ..Default::default()
    };
    let done = client
        .run(call("SELECT n"), &mut sink)
        .await
        .expect("stops");
    assert!(done.stopped_early);
    assert_eq!(sink.rows.len(), 2);
    let d = deletes(&server).await;
    assert_eq!(d.len(), 1);
    assert!(
        d[0].url.path().ends_with("/executing/q1/s/1"),
        "{}",
        d[0].url
    );
}

#[tokio::test]
async fn dropping_the_call_cancels_in_the_background() {
    let server = MockServer::start().await;
    queued(&server).await;
    accept_deletes(&server).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(page(&server, Some(1), None))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let client = client_for(&server, &[]);
    let run = async {
        let mut sink = Collect::default();
        client.run(call("SELECT slow"), &mut sink).await.map(|_| ())
    };
    let _ = tokio::time::timeout(Duration::from_millis(300), run).await;
    for _ in 0..50 {
        if !deletes(&server).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("dropping the call did not cancel the query");
}

#[tokio::test]
async fn connection_refused_is_connection_failed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let env: HashMap<&str, String> = HashMap::from([
        ("TRINO_HOST", "127.0.0.1".to_string()),
        ("TRINO_PORT", port.to_string()),
        ("TRINO_SSL", "false".into()),
    ]);
    let cfg = config::load(None, &|k| env.get(k).cloned()).expect("config");
    let client = TrinoClient::new(&cfg.connections[0], vec![]).expect("client");
    let err = client
        .run(call("SELECT 1"), &mut Collect::default())
        .await
        .expect_err("refused");
    assert_eq!(
        err,
        ClientError::ConnectionFailed {
            reason: "connection refused".into()
        }
    );
    let h = client.health(Duration::from_secs(60)).await;
    assert!(!h.available);
    assert_eq!(h.reason.as_deref(), Some("connection refused"));
}

#[tokio::test]
async fn a_deadline_during_submission_still_cancels_the_query() {
    let server = MockServer::start().await;
    let body = json!({"id": "q1", "infoUri": "http://x/ui", "nextUri": format!("{}/v1/statement/queued/q1/s/1", server.uri()),
                      "stats": {"state": "QUEUED", "queued": true}, "warnings": []});
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(body)
                .set_delay(Duration::from_millis(600)),
        )
        .mount(&server)
        .await;
    accept_deletes(&server).await;
    let client = client_for(&server, &[]);
    let mut c = call("SELECT 1");
    c.timeout = Duration::from_millis(200);
    let err = client
        .run(c, &mut Collect::default())
        .await
        .expect_err("deadline");
    assert_eq!(
        err,
        ClientError::Timeout {
            query_id: Some("q1".into())
        }
    );
    assert_eq!(
        deletes(&server).await.len(),
        1,
        "the query submitted late was cancelled"
    );
}
