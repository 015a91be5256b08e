//! Hostile HTTP transport: bad Host/Origin, missing and wrong tokens, another endpoint's
//! token, oversized and malformed bodies, path tricks and slow clients. Every attack carries
//! a well-formed `tools/call` of `trino_query` inside a live MCP session, so the only thing
//! stopping it is the check under test; the emulator's statement counter proves no tool ran.

mod common;

use std::time::{Duration, Instant};

use common::{Server, emulator, http_client, raw_exchange, raw_status};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CONFIG: &str = r#"server:
  bind: 127.0.0.1:0
  max_body_bytes: 65536
  auth:
    bearer_tokens: ["main-token"]
connections:
  prod:
    host: 127.0.0.1
    port: {port}
    user: analyst
    catalog: tpch
    schema: tiny
  alpha:
    host: 127.0.0.1
    port: {port}
    user: analyst
    catalog: tpch
    schema: tiny
    endpoint: true
    auth:
      bearer_tokens: ["alpha-token"]
  beta:
    host: 127.0.0.1
    port: {port}
    user: analyst
    catalog: tpch
    schema: tiny
    endpoint: true
    auth:
      bearer_tokens: ["beta-token"]
"#;

/// What an attack is called, its body, its header changes and the status it must get.
type Attack<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, u16);

/// A live MCP session on one endpoint, driven with raw requests.
struct Session {
    url: String,
    id: String,
    token: String,
}

async fn open_session(url: &str, token: &str) -> Session {
    let c = http_client();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "attacker", "version": "1"}}});
    let r = c
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(init.to_string())
        .send()
        .await
        .expect("initialize");
    assert_eq!(r.status().as_u16(), 200);
    let id = r
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .expect("session id")
        .to_string();
    let _ = r.text().await;
    let s = Session {
        url: url.to_string(),
        id,
        token: token.to_string(),
    };
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let r = s.post(note.to_string(), &[]).await;
    assert!(r.0 < 300, "initialized: {}", r.0);
    s
}

fn tool_call(tool: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": tool, "arguments": {"sql": "SELECT 1 AS one"}}})
    .to_string()
}

impl Session {
    /// POST `body` with the session's headers, overridden or removed (`""`) by `headers`.
    async fn post(&self, body: String, headers: &[(&str, &str)]) -> (u16, String) {
        let mut all: Vec<(String, String)> = vec![
            ("content-type".into(), "application/json".into()),
            (
                "accept".into(),
                "application/json, text/event-stream".into(),
            ),
            ("mcp-session-id".into(), self.id.clone()),
            ("mcp-protocol-version".into(), "2025-11-25".into()),
            ("authorization".into(), format!("Bearer {}", self.token)),
        ];
        for (k, v) in headers {
            all.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
            if !v.is_empty() {
                all.push((k.to_string(), v.to_string()));
            }
        }
        let mut r = http_client().post(&self.url).body(body);
        for (k, v) in &all {
            r = r.header(k.as_str(), v.as_str());
        }
        let resp = r.send().await.expect("POST");
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap_or_default())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_attacks_get_the_right_status_and_run_no_tool() {
    let prod = emulator("prod", |_| {}).await;
    let server = Server::http(
        &CONFIG.replace("{port}", &prod.addr().port().to_string()),
        &[],
    );
    let alpha = open_session(&format!("{}/alpha/mcp", server.url), "alpha-token").await;
    let main = open_session(&format!("{}/mcp", server.url), "main-token").await;

    // The request form is right: with everything in order the tool runs.
    let (status, body) = alpha.post(tool_call("alpha_trino_query"), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"one\""), "{body}");
    assert_eq!(prod.counters().statements, 1);

    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{{\"name\":\"alpha_trino_query\",\"arguments\":{{\"sql\":\"SELECT 1 /*{}*/\"}}}}}}",
        "x".repeat(70_000)
    );
    let call = tool_call("alpha_trino_query");
    let attacks: Vec<Attack> = vec![
        ("no token", call.clone(), vec![("authorization", "")], 401),
        (
            "wrong token",
            call.clone(),
            vec![("authorization", "Bearer nope")],
            401,
        ),
        (
            "another endpoint's token",
            call.clone(),
            vec![("authorization", "Bearer beta-token")],
            401,
        ),
        (
            "the main endpoint's token",
            call.clone(),
            vec![("authorization", "Bearer main-token")],
            401,
        ),
        (
            "token as Basic",
            call.clone(),
            vec![("authorization", "Basic alpha-token")],
            401,
        ),
        (
            "token prefix",
            call.clone(),
            vec![("authorization", "Bearer alpha-toke")],
            401,
        ),
        (
            "token with suffix",
            call.clone(),
            vec![("authorization", "Bearer alpha-token2")],
            401,
        ),
        (
            "bad Host",
            call.clone(),
            vec![("host", "evil.example.com")],
            403,
        ),
        (
            "rebinding Host with port",
            call.clone(),
            vec![("host", "attacker.test:80")],
            403,
        ),
        (
            "bad Origin",
            call.clone(),
            vec![("origin", "http://evil.example.com")],
            403,
        ),
        ("null Origin", call.clone(), vec![("origin", "null")], 403),
        (
            "Origin on an allowed name but another scheme",
            call.clone(),
            vec![("origin", "file://localhost")],
            403,
        ),
        ("oversized body", big.clone(), vec![], 413),
        (
            "malformed JSON",
            "{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": \"tools/call\", \"params\": {".into(),
            vec![],
            400,
        ),
        ("not JSON", "SELECT 1".into(), vec![], 400),
        ("empty body", String::new(), vec![], 400),
        (
            "wrong content type",
            call.clone(),
            vec![("content-type", "text/plain")],
            415,
        ),
        (
            "unknown session",
            call.clone(),
            vec![("mcp-session-id", "not-a-session")],
            404,
        ),
        (
            "another endpoint's session",
            call.clone(),
            vec![("mcp-session-id", main.id.as_str())],
            404,
        ),
    ];
    let mut wrong = Vec::new();
    for (what, body, headers, want) in &attacks {
        let (status, text) = alpha.post(body.clone(), headers).await;
        if status != *want {
            wrong.push(format!(
                "{what}: {status}, want {want}: {}",
                text.chars().take(200).collect::<String>()
            ));
        }
        if body.contains("SELECT 1") && text.contains("\"one\"") {
            wrong.push(format!("{what}: the tool ran"));
        }
    }
    // A JSON-RPC batch (no longer part of MCP) and a call of another endpoint's tool.
    let batch = format!("[{call},{call}]");
    let (status, text) = alpha.post(batch, &[]).await;
    if status == 200 && text.contains("\"one\"") {
        wrong.push(format!("batch ran tools: {text}"));
    }
    let (_, text) = alpha.post(tool_call("beta_trino_query"), &[]).await;
    if text.contains("\"one\"") {
        wrong.push(format!("another endpoint's tool ran: {text}"));
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    assert_eq!(
        prod.counters().statements,
        1,
        "a refused request reached the cluster: {:?}",
        prod.statements()
    );

    // Path tricks, with a valid token for the endpoint they aim at, never reach one.
    for path in [
        "/alpha/../beta/mcp",
        "/alpha/%2e%2e/beta/mcp",
        "/%2e%2e/beta/mcp",
        "/beta%2fmcp",
        "/beta/mcp/",
        "//beta/mcp",
        "/BETA/mcp",
        "/beta/mcp/..",
        "/beta/./mcp",
        "/beta/mcp%00",
        "/beta;x/mcp",
        "/beta/mcp?x=/alpha/mcp#",
    ] {
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alpha-token\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            alpha.id,
            call.len(),
            call
        );
        let status = raw_status(&server.url, req.as_bytes()).await;
        // `?query` is not part of the path: that one reaches /beta/mcp, which wants its own
        // token.
        let want = if path.starts_with("/beta/mcp?") {
            401
        } else {
            404
        };
        assert_eq!(status, want, "{path}");
    }
    // Garbage instead of HTTP.
    let head = raw_exchange(
        &server.url,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls?\r\n\r\n",
    )
    .await;
    assert!(
        head.is_empty() || head.starts_with("HTTP/1.1 400"),
        "{head:?}"
    );
    let head = raw_exchange(
        &server.url,
        format!(
            "GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "a".repeat(100_000)
        )
        .as_bytes(),
    )
    .await;
    assert!(
        head.is_empty() || head.starts_with("HTTP/1.1 4"),
        "{head:?}"
    );
    assert_eq!(prod.counters().statements, 1);

    // The server is unharmed.
    let (status, body) = alpha.post(tool_call("alpha_trino_query"), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(prod.counters().statements, 2);

    // Ending a session takes its token; then the session is gone (204, as clients expect).
    let delete = |token: &'static str| {
        http_client()
            .delete(&alpha.url)
            .bearer_auth(token)
            .header("mcp-session-id", alpha.id.clone())
            .send()
    };
    assert_eq!(
        delete("beta-token")
            .await
            .expect("DELETE")
            .status()
            .as_u16(),
        401
    );
    assert_eq!(alpha.post(tool_call("alpha_trino_query"), &[]).await.0, 200);
    assert_eq!(
        delete("alpha-token")
            .await
            .expect("DELETE")
            .status()
            .as_u16(),
        204
    );
    assert_eq!(alpha.post(tool_call("alpha_trino_query"), &[]).await.0, 404);
    assert_eq!(prod.counters().statements, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_do_not_block_others() {
    let prod = emulator("prod", |_| {}).await;
    let server = Server::http(
        &CONFIG.replace("{port}", &prod.addr().port().to_string()),
        &[],
    );
    let addr = server.url.trim_start_matches("http://").to_string();
    // 200 connections that never finish their headers (slowloris), one byte at a time.
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut s = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        s.write_all(b"POST /alpha/mcp HTTP/1.1\r\nHost: localhost\r\nX-A: ")
            .await
            .expect("write");
        slow.push(s);
    }
    // Others are still served, promptly.
    let started = Instant::now();
    let (status, _, _) = get_health(&server.url).await;
    assert_eq!(status, 200);
    let alpha = open_session(&format!("{}/alpha/mcp", server.url), "alpha-token").await;
    let (status, body) = alpha.post(tool_call("alpha_trino_query"), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Keep dribbling bytes: the header deadline still cuts them off (about 10 s).
    let deadline = Instant::now() + Duration::from_secs(25);
    let mut closed = 0;
    let mut open: Vec<tokio::net::TcpStream> = slow;
    while !open.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut still = Vec::new();
        for mut s in open {
            let _ = s.write_all(b"a").await;
            let mut buf = [0u8; 256];
            match tokio::time::timeout(Duration::from_millis(1), s.read(&mut buf)).await {
                // EOF, an error status (408) or a reset: the server let go.
                Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
                Err(_) => still.push(s),
            }
        }
        open = still;
    }
    assert_eq!(open.len(), 0, "{closed} closed, {} still open", open.len());
    assert_eq!(prod.counters().statements, 1);
    // A slow body (headers complete, body never sent) runs nothing either.
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /alpha/mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alpha-token\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: {}\r\nContent-Length: 1000\r\n\r\n{{\"jsonrpc\":\"2.0\"",
        alpha.id
    );
    s.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, _, _) = get_health(&server.url).await;
    assert_eq!(status, 200);
    drop(s);
    assert_eq!(prod.counters().statements, 1);
}

async fn get_health(base: &str) -> (u16, Value, ()) {
    let r = http_client()
        .get(format!("{base}/health"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("health");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null), ())
}
