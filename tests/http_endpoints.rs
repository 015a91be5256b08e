//! The real binary serving HTTP (seed 003's layout): `/mcp` over composed connections,
//! `/{name}/mcp` per connection with its own tools, access mode and token; health pages;
//! Host/Origin/body/path checks; client headers never reaching Trino; reload; shutdown.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trino_testkit::server::KnobSettings;
use trino_testkit::{Emulator, EmulatorConfig};

struct Server {
    child: Child,
    url: String,
    config: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn emulator(cluster: &str) -> Emulator {
    let mut cfg = EmulatorConfig::new(cluster);
    cfg.synthetic_rows = 1_000_000;
    cfg.page_rows = Some(100);
    Emulator::start(cfg).await.expect("emulator")
}

fn yaml(prod: u16, staging: u16, dev: u16, extra: &str) -> String {
    format!(
        r#"server:
  bind: 127.0.0.1:0
  shutdown_grace_seconds: 3
connections:
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
    endpoint: true
  dev:
    host: 127.0.0.1
    port: {dev}
    user: analyst
    catalog: memory
    schema: sales
    access_mode: admin_rw
    endpoint: true
    transport: streamable-http
    auth:
      bearer_tokens: ["dev-token"]
{extra}"#
    )
}

fn start(config_text: &str) -> Server {
    let dir = std::env::temp_dir().join(format!(
        "mcp-trino-http-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("config.yaml");
    std::fs::write(&config, config_text).expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-trino"))
        .args(["serve", "--transport", "http", "--config"])
        .arg(&config)
        .env_clear()
        .env("MCP_TRINO_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("ready line");
    let url = line
        .trim()
        .strip_prefix("mcp-trino listening on ")
        .expect("ready line format")
        .to_string();
    Server { child, url, config }
}

fn http_client() -> reqwest::Client {
    mcp_trino::trino::install_crypto_provider();
    reqwest::Client::new()
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

async fn client(url: String, token: Option<&str>) -> RunningService<RoleClient, ()> {
    let mut cfg = StreamableHttpClientTransportConfig::with_uri(url);
    if let Some(t) = token {
        cfg = cfg.auth_header(t.to_string());
    }
    ().serve(StreamableHttpClientTransport::from_config(cfg))
        .await
        .expect("MCP handshake")
}

async fn call(
    c: &RunningService<RoleClient, ()>,
    tool: &str,
    args: Value,
) -> rmcp::model::CallToolResult {
    let map = args.as_object().cloned().unwrap_or_default();
    c.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(map))
        .await
        .expect("tools/call")
}

async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String, reqwest::header::HeaderMap) {
    let mut r = http_client().get(url);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let resp = r.send().await.expect("GET");
    let status = resp.status().as_u16();
    let h = resp.headers().clone();
    (status, resp.text().await.unwrap_or_default(), h)
}

/// A raw request line, so no client library normalises the path.
async fn raw_status(base: &str, request: &str) -> u16 {
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 256];
    let n = s.read(&mut buf).await.unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn init_body() -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    .to_string()
}

#[tokio::test]
async fn endpoints_offer_their_own_tools_under_their_own_rules() {
    let (prod, staging, dev) = (
        emulator("prod").await,
        emulator("staging").await,
        emulator("dev").await,
    );
    let s = start(&yaml(
        prod.addr().port(),
        staging.addr().port(),
        dev.addr().port(),
        "",
    ));

    // /mcp: the composed connection (prod) with the `connection` argument.
    let main = client(format!("{}/mcp", s.url), None).await;
    let tools = main.list_all_tools().await.expect("list");
    assert_eq!(tools.len(), 7);
    assert!(
        tools
            .iter()
            .all(|t| t.input_schema["properties"].get("connection").is_some())
    );
    let r = call(
        &main,
        "trino_query",
        json!({"sql": "SELECT count(*) AS n FROM nation"}),
    )
    .await;
    assert_eq!(
        r.structured_content.expect("structured")["rows"],
        json!([{"n": 25}])
    );
    let r = call(
        &main,
        "trino_query",
        json!({"sql": "SELECT 1", "connection": "staging"}),
    )
    .await;
    assert_eq!(
        r.structured_content.expect("structured")["error"]["code"],
        "UNKNOWN_CONNECTION"
    );

    // /staging/mcp: user_ro, four prefixed tools, no connection argument.
    let st = client(format!("{}/staging/mcp", s.url), None).await;
    let names: Vec<String> = st
        .list_all_tools()
        .await
        .expect("list")
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "staging_trino_query",
            "staging_trino_explain",
            "staging_trino_list_tables",
            "staging_trino_describe_table"
        ]
    );
    let r = call(
        &st,
        "staging_trino_query",
        json!({"sql": "SELECT count(*) AS n FROM users"}),
    )
    .await;
    assert_eq!(r.is_error, Some(false));
    let r = call(
        &st,
        "staging_trino_query",
        json!({"sql": "DELETE FROM users"}),
    )
    .await;
    assert_eq!(
        r.structured_content.expect("structured")["error"]["code"],
        "READ_ONLY"
    );
    // Tools of other endpoints cannot be called here.
    let unknown = st
        .call_tool(
            CallToolRequestParams::new("dev_trino_query").with_arguments(serde_json::Map::new()),
        )
        .await;
    assert!(
        unknown.is_err(),
        "a tool of /dev/mcp must not be reachable through /staging/mcp"
    );
    let unknown = st
        .call_tool(CallToolRequestParams::new("trino_query").with_arguments(serde_json::Map::new()))
        .await;
    assert!(unknown.is_err());

    // /dev/mcp: a bearer token is required; with it, writes work (admin_rw).
    let (status, _, h) = get(&format!("{}/dev/mcp", s.url), &[]).await;
    assert_eq!(status, 401);
    assert_eq!(
        h.get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"mcp-trino\"")
    );
    let (status, _, _) = get(
        &format!("{}/dev/mcp", s.url),
        &[("authorization", "Bearer wrong")],
    )
    .await;
    assert_eq!(status, 401);
    let dv = client(format!("{}/dev/mcp", s.url), Some("dev-token")).await;
    let tools = dv.list_all_tools().await.expect("list");
    assert_eq!(tools.len(), 7);
    let q = tools
        .iter()
        .find(|t| t.name == "dev_trino_query")
        .expect("prefixed");
    assert_eq!(
        q.annotations.as_ref().and_then(|a| a.read_only_hint),
        Some(false)
    );
    let r = call(
        &dv,
        "dev_trino_query",
        json!({"sql": "CREATE TABLE memory.sales.t AS SELECT 1 AS x"}),
    )
    .await;
    assert_eq!(r.is_error, Some(false), "{:?}", r.content);
    drop((main, st, dv));
    drop(s);
    for e in [prod, staging, dev] {
        e.stop().await;
    }
}

#[tokio::test]
async fn health_pages_and_request_checks() {
    let (prod, staging) = (emulator("prod").await, emulator("staging").await);
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let s = start(&yaml(prod.addr().port(), staging.addr().port(), down, ""));
    // Give the start-up probes a moment.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (status, body, _) = get(&format!("{}/health", s.url), &[]).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        v["connections"],
        json!({"prod": "up", "staging": "up", "dev": "down"})
    );
    let (status, body, _) = get(&format!("{}/prod/health", s.url), &[]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = get(&format!("{}/dev/health", s.url), &[]).await;
    assert_eq!(status, 503);
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        (v["status"].clone(), v["reason"].clone()),
        (json!("down"), json!("connection refused"))
    );
    assert_eq!(get(&format!("{}/nope/health", s.url), &[]).await.0, 404);

    // Host and Origin checks (DNS rebinding), before any MCP handling.
    let post = |headers: Vec<(&'static str, String)>| {
        let url = format!("{}/mcp", s.url);
        async move {
            let mut r = http_client()
                .post(url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream");
            for (k, v) in headers {
                r = r.header(k, v);
            }
            r.body(init_body())
                .send()
                .await
                .expect("post")
                .status()
                .as_u16()
        }
    };
    assert_eq!(post(vec![("host", "evil.example.com".into())]).await, 403);
    assert_eq!(
        post(vec![("origin", "http://evil.example.com".into())]).await,
        403
    );
    assert_eq!(
        post(vec![("origin", "http://localhost:3000".into())]).await,
        200
    );
    assert_eq!(post(vec![]).await, 200);
    // Oversized bodies are refused.
    let big = "x".repeat(2 * 1024 * 1024);
    let status = http_client()
        .post(format!("{}/mcp", s.url))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("post")
        .status()
        .as_u16();
    assert_eq!(status, 413);
    // Path tricks never reach an endpoint.
    for path in [
        "/staging/../dev/mcp",
        "/%2e%2e/dev/mcp",
        "//mcp",
        "/dev/mcp/../../mcp",
        "/DEV/mcp",
        "/dev%2fmcp",
    ] {
        let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        assert_eq!(raw_status(&s.url, &req).await, 404, "{path}");
    }
    drop(s);
    prod.stop().await;
    staging.stop().await;
}

#[tokio::test]
async fn client_headers_never_reach_trino() {
    let (prod, staging, dev) = (
        emulator("prod").await,
        emulator("staging").await,
        emulator("dev").await,
    );
    let s = start(&yaml(
        prod.addr().port(),
        staging.addr().port(),
        dev.addr().port(),
        "",
    ));
    let mut headers = HashMap::new();
    for (k, v) in [
        ("x-trino-user", "admin"),
        ("x-trino-session", "query_max_run_time=100d"),
        ("x-trino-role", "system=ROLE{admin}"),
    ] {
        headers.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    let cfg = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", s.url))
        .custom_headers(headers);
    let c = ().serve(StreamableHttpClientTransport::from_config(cfg)).await.expect("handshake");
    let r = call(&c, "trino_query", json!({"sql": "SELECT 1"})).await;
    assert_eq!(r.is_error, Some(false));
    let sent = prod.statements().pop().expect("statement");
    assert_eq!(sent.user, "analyst");
    assert!(!sent.headers.iter().any(|(k, _)| k == "x-trino-role"));
    assert!(!sent.session_properties.iter().any(|(_, v)| v == "100d"));
    drop(c);
    drop(s);
    for e in [prod, staging, dev] {
        e.stop().await;
    }
}

#[tokio::test]
async fn reload_adds_endpoints_and_keeps_the_old_config_when_the_new_one_is_invalid() {
    let (prod, staging, dev) = (
        emulator("prod").await,
        emulator("staging").await,
        emulator("dev").await,
    );
    let base = yaml(
        prod.addr().port(),
        staging.addr().port(),
        dev.addr().port(),
        "",
    );
    let s = start(&base);
    assert_eq!(get(&format!("{}/qa/health", s.url), &[]).await.0, 404);
    let qa = format!(
        "  qa:\n    host: 127.0.0.1\n    port: {}\n    user: analyst\n    catalog: tpch\n    schema: tiny\n    endpoint: true\n",
        prod.addr().port()
    );
    std::fs::write(&s.config, format!("{base}{qa}")).expect("write");
    let pid = s.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if get(&format!("{}/qa/health", s.url), &[]).await.0 != 404 {
            ok = true;
            break;
        }
    }
    assert!(ok, "the new connection appears after SIGHUP");
    let c = client(format!("{}/qa/mcp", s.url), None).await;
    let r = call(
        &c,
        "qa_trino_query",
        json!({"sql": "SELECT count(*) AS n FROM region"}),
    )
    .await;
    assert_eq!(
        r.structured_content.expect("structured")["rows"],
        json!([{"n": 5}])
    );
    drop(c);
    // An invalid file: the running configuration stays.
    std::fs::write(&s.config, "connections:\n  qa:\n    port: nope\n").expect("write");
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill")
            .success()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_ne!(get(&format!("{}/qa/health", s.url), &[]).await.0, 404);
    drop(s);
    for e in [prod, staging, dev] {
        e.stop().await;
    }
}

#[tokio::test]
async fn shutdown_cancels_running_queries() {
    let (prod, staging, dev) = (
        emulator("prod").await,
        emulator("staging").await,
        emulator("dev").await,
    );
    prod.knobs().set(&KnobSettings {
        page_delay_ms: 1000,
        ..Default::default()
    });
    let mut s = start(&yaml(
        prod.addr().port(),
        staging.addr().port(),
        dev.addr().port(),
        "",
    ));
    let url = format!("{}/mcp", s.url);
    let running = tokio::spawn(async move {
        let c = client(url, None).await;
        let _ = call(
            &c,
            "trino_query",
            json!({"sql": "SELECT * FROM synthetic.default.numbers", "limit": 10000}),
        )
        .await;
    });
    for _ in 0..100 {
        if prod.counters().statements >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(prod.counters().statements, 1);
    let pid = s.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(st) = s.child.try_wait().expect("wait") {
            break st;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "exits within the grace period"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    assert_eq!(
        prod.counters().cancels,
        1,
        "the running query was cancelled on the cluster"
    );
    running.abort();
    for e in [prod, staging, dev] {
        e.stop().await;
    }
}

#[tokio::test]
async fn rate_limits_tokens_metrics_and_admin_reload() {
    let (prod, staging, dev) = (
        emulator("prod").await,
        emulator("staging").await,
        emulator("dev").await,
    );
    let base = yaml(
        prod.addr().port(),
        staging.addr().port(),
        dev.addr().port(),
        "",
    );
    // dev: at most 3 calls per minute; staging gets its own token; reload over HTTP enabled.
    let config = base
        .replace(
            "      bearer_tokens: [\"dev-token\"]\n",
            "      bearer_tokens: [\"dev-token\"]\n    limits:\n      requests_per_window: 3\n      window_seconds: 60\n",
        )
        .replace(
            "    access_mode: user_ro\n    endpoint: true\n",
            "    access_mode: user_ro\n    endpoint: true\n    auth:\n      bearer_tokens: [\"staging-token\"]\n",
        )
        .replace(
            "  shutdown_grace_seconds: 3\n",
            "  shutdown_grace_seconds: 3\n  reload_endpoint:\n    enabled: true\n    token: reload-token\n",
        );
    let s = start(&config);

    // A token of one endpoint is refused by another.
    let (status, _, _) = get(
        &format!("{}/staging/mcp", s.url),
        &[("authorization", "Bearer dev-token")],
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, _) = get(
        &format!("{}/dev/mcp", s.url),
        &[("authorization", "Bearer staging-token")],
    )
    .await;
    assert_eq!(status, 401);

    // The fourth call within the window is refused, costs nothing, and says when to retry.
    let dv = client(format!("{}/dev/mcp", s.url), Some("dev-token")).await;
    for _ in 0..3 {
        let r = call(&dv, "dev_trino_query", json!({"sql": "SELECT 1"})).await;
        assert_eq!(r.is_error, Some(false));
    }
    let before = dev.counters().statements;
    let r = call(&dv, "dev_trino_query", json!({"sql": "SELECT 1"})).await;
    let e = r.structured_content.expect("structured");
    assert_eq!(e["error"]["code"], "RATE_LIMITED");
    assert!(
        e["error"]["details"]["retry_after_seconds"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{e}"
    );
    assert_eq!(
        dev.counters().statements,
        before,
        "a refused call never reaches Trino"
    );
    drop(dv);

    // Metrics: calls by endpoint, tool, connection and outcome; cluster state; cancels.
    let (status, body, h) = get(&format!("{}/metrics", s.url), &[]).await;
    assert_eq!(status, 200);
    assert!(
        h.get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"))
    );
    assert!(
        body.contains(r#"mcp_trino_tool_calls_total{endpoint="dev",tool="dev_trino_query",connection="dev",outcome="ok"} 3"#),
        "{body}"
    );
    assert!(body.contains(r#"outcome="RATE_LIMITED"} 1"#), "{body}");
    assert!(body.contains("mcp_trino_tool_call_duration_seconds_bucket"));
    assert!(body.contains(r#"mcp_trino_cluster_up{connection="prod"}"#));
    assert!(body.contains("mcp_trino_queries_cancelled_total"));
    for secret in ["dev-token", "staging-token", "reload-token"] {
        assert!(!body.contains(secret));
    }

    // POST /admin/reload needs its own token.
    let reload = |token: &'static str| {
        let url = format!("{}/admin/reload", s.url);
        async move {
            http_client()
                .post(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("post")
                .status()
                .as_u16()
        }
    };
    assert_eq!(reload("dev-token").await, 401);
    std::fs::write(
        &s.config,
        config.replace(
            "  dev:\n",
            "  qa:\n    host: 127.0.0.1\n    port: 1\n    endpoint: true\n  dev:\n",
        ),
    )
    .expect("write");
    assert_eq!(reload("reload-token").await, 200);
    assert_eq!(get(&format!("{}/qa/health", s.url), &[]).await.0, 503);
    drop(s);
    for e in [prod, staging, dev] {
        e.stop().await;
    }
}

#[tokio::test]
async fn prefixed_composition_lists_each_connection_under_its_prefix() {
    let (prod, staging, dev) = (
        emulator("prod").await,
        emulator("staging").await,
        emulator("dev").await,
    );
    let config = format!(
        "server:\n  compose: prefixed\n  stateless: true\nconnections:\n  prod:\n    host: 127.0.0.1\n    port: {}\n    catalog: tpch\n    schema: tiny\n  staging:\n    host: 127.0.0.1\n    port: {}\n    catalog: memory\n    schema: sales\n    access_mode: user_ro\n",
        prod.addr().port(),
        staging.addr().port()
    );
    let s = start(&config);
    let c = client(format!("{}/mcp", s.url), None).await;
    let names: Vec<String> = c
        .list_all_tools()
        .await
        .expect("list")
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(names.len(), 7 + 4);
    assert!(names.contains(&"prod_trino_list_catalogs".to_string()));
    assert!(names.contains(&"staging_trino_query".to_string()));
    assert!(
        !names.contains(&"staging_trino_list_catalogs".to_string()),
        "user_ro offers four tools"
    );
    let r = call(
        &c,
        "staging_trino_query",
        json!({"sql": "SELECT count(*) AS n FROM users"}),
    )
    .await;
    assert_eq!(r.is_error, Some(false));
    let r = call(
        &c,
        "prod_trino_query",
        json!({"sql": "SELECT count(*) AS n FROM nation"}),
    )
    .await;
    assert_eq!(
        r.structured_content.expect("structured")["rows"],
        json!([{"n": 25}])
    );
    drop(c);
    drop(s);
    for e in [prod, staging, dev] {
        e.stop().await;
    }
}

#[test]
fn a_remote_bind_with_unauthenticated_endpoints_refuses_to_start() {
    let config = "connections:\n  prod:\n    host: 127.0.0.1\n    port: 1\n";
    let dir = std::env::temp_dir().join(format!("mcp-trino-bind-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("config.yaml");
    std::fs::write(&file, config).expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-trino"))
        .args([
            "serve",
            "--transport",
            "http",
            "--bind",
            "0.0.0.0:0",
            "--config",
        ])
        .arg(&file)
        .env_clear()
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0") && stderr.contains("/mcp"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "it never became ready");
}
