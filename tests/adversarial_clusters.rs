//! Failing clusters behind the real binary (HTTP, one connection per failure): down at start,
//! dying mid-query, slow pages past the deadline, 503 storms, failing queries, cut
//! connections, malformed JSON, HTML pages, a `nextUri` pointing elsewhere and a 401 after a
//! password change. Each call gets the right error code, the query is cancelled on the cluster
//! when it still exists, and the healthy cluster keeps serving after every failure.

mod common;

use std::time::Duration;

use common::{Server, call, closed_port, emulator, error_code, mcp_http, ok, text};
use serde_json::json;
use trino_testkit::server::KnobSettings;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn conn(name: &str, port: u16) -> String {
    format!(
        "  {name}:\n    host: 127.0.0.1\n    port: {port}\n    user: analyst\n    catalog: tpch\n    schema: tiny\n"
    )
}

/// A mock coordinator: POST answers QUEUED with a nextUri on itself (or `next`), GETs answer
/// `page`, DELETEs are accepted.
async fn mock(next: Option<String>, page: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let next = next.unwrap_or_else(|| format!("{}/v1/statement/executing/q1/s/0", server.uri()));
    let body = json!({"id": "q1", "infoUri": "http://x/ui", "nextUri": next,
                      "stats": {"state": "QUEUED", "queued": true}, "warnings": []});
    Mock::given(method("POST"))
        .and(path("/v1/statement"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(page)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer, verb: &str) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == verb)
        .map(|r| r.url.path().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_clusters_give_their_codes_cancel_and_spare_the_others() {
    let healthy = emulator("prod", |_| {}).await;
    let slow = emulator("prod", |_| {}).await;
    slow.knobs().set(&KnobSettings {
        page_delay_ms: 3000,
        ..Default::default()
    });
    let storm = emulator("prod", |_| {}).await;
    storm.knobs().set(&KnobSettings {
        unavailable_responses: 1_000_000,
        ..Default::default()
    });
    let failing = emulator("prod", |c| c.page_rows = Some(10)).await;
    failing.knobs().set(&KnobSettings {
        fail_after_pages: 2,
        ..Default::default()
    });
    let cut = emulator("prod", |c| c.page_rows = Some(10)).await;
    cut.knobs().set(&KnobSettings {
        drop_after_pages: 1,
        ..Default::default()
    });
    let dying = emulator("prod", |c| c.page_rows = Some(10)).await;
    dying.knobs().set(&KnobSettings {
        page_delay_ms: 500,
        ..Default::default()
    });
    let badjson = mock(
        None,
        ResponseTemplate::new(200).set_body_raw("{\"id\":\"q1\",\"nextUri\":", "application/json"),
    )
    .await;
    let html = mock(
        None,
        ResponseTemplate::new(502).set_body_raw(
            "<html><body><h1>502 Bad Gateway</h1>internal-host-name</body></html>",
            "text/html",
        ),
    )
    .await;
    let elsewhere = MockServer::start().await;
    let foreign = mock(
        Some(format!("{}/v1/statement/executing/q1/s/0", elsewhere.uri())),
        ResponseTemplate::new(200),
    )
    .await;
    let rotated = mock(
        None,
        ResponseTemplate::new(401).insert_header("WWW-Authenticate", "Basic realm=\"Trino\""),
    )
    .await;
    let port = |m: &MockServer| m.address().port();
    let mut yaml = String::from("server:\n  bind: 127.0.0.1:0\nconnections:\n");
    for (name, p) in [
        ("healthy", healthy.addr().port()),
        ("down", closed_port()),
        ("slow", slow.addr().port()),
        ("storm", storm.addr().port()),
        ("failing", failing.addr().port()),
        ("cut", cut.addr().port()),
        ("dying", dying.addr().port()),
        ("badjson", port(&badjson)),
        ("html", port(&html)),
        ("foreign", port(&foreign)),
        ("rotated", port(&rotated)),
    ] {
        yaml.push_str(&conn(name, p));
    }
    let server = Server::http(&yaml, &[]);
    let c = mcp_http(format!("{}/mcp", server.url), None).await;
    let healthy_serves = |label: String| {
        let c = &c;
        async move {
            let r = call(
                c,
                "trino_query",
                json!({"sql": "SELECT count(*) AS n FROM nation", "connection": "healthy"}),
            )
            .await;
            assert_eq!(ok(&r)["rows"][0]["n"], 25, "after {label}");
        }
    };
    let query = |connection: &'static str, sql: &'static str, timeout: u32| {
        let c = &c;
        async move {
            call(
                c,
                "trino_query",
                json!({"sql": sql, "connection": connection, "timeout_seconds": timeout}),
            )
            .await
        }
    };

    // (connection, SQL, timeout, expected code). The storm outlasts the client's retries
    // (with backoff) well within 60 s; the slow cluster does not answer within 2 s.
    let big = "SELECT * FROM synthetic.default.numbers";
    for (connection, sql, timeout, code) in [
        ("down", "SELECT 1", 60, "CONNECTION_FAILED"),
        ("slow", "SELECT 1", 2, "QUERY_TIMEOUT"),
        ("storm", "SELECT 1", 60, "CONNECTION_FAILED"),
        ("failing", big, 60, "QUERY_ERROR"),
        ("cut", big, 60, "CONNECTION_FAILED"),
        ("badjson", "SELECT 1", 60, "CONNECTION_FAILED"),
        ("html", "SELECT 1", 60, "CONNECTION_FAILED"),
        ("foreign", "SELECT 1", 60, "CONNECTION_FAILED"),
        ("rotated", "SELECT 1", 60, "AUTH_FAILED"),
    ] {
        let r = query(connection, sql, timeout).await;
        assert_eq!(
            error_code(&r).as_deref(),
            Some(code),
            "{connection}: {}",
            text(&r, 0)
        );
        let t = text(&r, 0);
        assert!(
            !t.contains("internal-host-name") && !t.contains("<html"),
            "{t}"
        );
        healthy_serves(connection.to_string()).await;
    }

    // Cancelled on the cluster where the query still existed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(slow.counters().cancels >= 1, "slow: {:?}", slow.counters());
    assert!(
        storm.counters().delete_requests >= 1,
        "storm: {:?}",
        storm.counters()
    );
    // By its nextUri, as Trino's clients do; by id when that URI is not the cluster's.
    let next = "/v1/statement/executing/q1/s/0";
    for (name, m, target) in [
        ("badjson", &badjson, next),
        ("rotated", &rotated, next),
        ("foreign", &foreign, "/v1/query/q1"),
    ] {
        assert_eq!(
            requests(m, "DELETE").await,
            vec![target.to_string()],
            "{name}"
        );
    }
    // The POST to a gateway error page is never repeated (it could run the query twice).
    assert_eq!(requests(&html, "POST").await.len(), 1);
    // A nextUri elsewhere is never followed.
    assert!(
        elsewhere
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );

    // Dying mid-query: the coordinator goes away between pages.
    let pending = tokio::spawn({
        let url = format!("{}/mcp", server.url);
        async move {
            let c = mcp_http(url, None).await;
            call(
                &c,
                "trino_query",
                json!({"sql": big, "connection": "dying", "timeout_seconds": 60}),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(dying.counters().polls >= 1, "the query was paging");
    dying.kill().await;
    let r = tokio::time::timeout(Duration::from_secs(30), pending)
        .await
        .expect("the call ends")
        .expect("join");
    assert_eq!(
        error_code(&r).as_deref(),
        Some("CONNECTION_FAILED"),
        "{}",
        text(&r, 0)
    );
    healthy_serves("dying".into()).await;

    // Nothing left running on the clusters still up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (name, e) in [
        ("healthy", &healthy),
        ("slow", &slow),
        ("storm", &storm),
        ("failing", &failing),
    ] {
        let live: Vec<_> = e
            .queries()
            .into_iter()
            .filter(|q| !matches!(q.state.as_str(), "FINISHED" | "FAILED"))
            .collect();
        assert!(live.is_empty(), "{name}: {live:?}");
    }
}
