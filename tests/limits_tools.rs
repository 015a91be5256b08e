//! Per-connection limits seen through the tools: calls over the window or over the
//! concurrency limit answer RATE_LIMITED with a retry hint, and never reach Trino.

use std::sync::Arc;

use mcp_trino::clusters::Clusters;
use mcp_trino::config;
use mcp_trino::mcp::{McpServer, Surface};
use mcp_trino::tools::ToolOutput;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use trino_testkit::server::knobs::KnobSettings;
use trino_testkit::{Emulator, EmulatorConfig};

async fn server(limits: &str) -> (Emulator, McpServer) {
    let e = Emulator::start(EmulatorConfig::new("prod"))
        .await
        .expect("emulator");
    let yaml = format!(
        "connections:\n  prod:\n    host: 127.0.0.1\n    port: {}\n    ssl: false\n    user: analyst\n    catalog: tpch\n    schema: tiny\n    limits:\n{limits}",
        e.addr().port()
    );
    let cfg = config::load_yaml_str(&yaml, None, &|_| None).expect("config");
    let clusters = Arc::new(Clusters::from_config(&cfg).expect("clusters"));
    (e, McpServer::new(Surface::main(&cfg), clusters, 4 << 20))
}

async fn call(s: &McpServer, tool: &str, args: Value) -> ToolOutput {
    s.run(tool, args.as_object(), CancellationToken::new(), None)
        .await
        .expect("known tool")
}

fn code(out: &ToolOutput) -> &str {
    out.structured["error"]["code"].as_str().unwrap_or("ok")
}

#[tokio::test]
async fn calls_over_the_window_are_refused_without_reaching_trino() {
    let (e, s) = server("      requests_per_window: 3\n      window_seconds: 3600\n").await;
    let query = json!({"sql": "SELECT 1"});

    // Calls refused before Trino (policy, arguments, unknown connection) use no slot.
    let refused = call(&s, "trino_query", json!({"sql": "DROP TABLE nation"})).await;
    assert_eq!(code(&refused), "READ_ONLY");
    let missing = call(&s, "trino_list_schemas", json!({})).await;
    assert_eq!(code(&missing), "CATALOG_REQUIRED");

    for _ in 0..3 {
        let out = call(&s, "trino_query", query.clone()).await;
        assert!(!out.is_error, "{:?}", out.text);
    }
    assert_eq!(e.counters().statements, 3);

    for (tool, args) in [
        ("trino_query", query.clone()),
        ("trino_explain", query.clone()),
        ("trino_list_catalogs", json!({})),
        (
            "trino_describe_table",
            json!({"catalog": "tpch", "schema": "tiny", "table": "nation"}),
        ),
    ] {
        let out = call(&s, tool, args).await;
        assert!(out.is_error);
        assert_eq!(code(&out), "RATE_LIMITED", "{tool}: {:?}", out.text);
        let details = &out.structured["error"]["details"];
        assert_eq!(details["connection"], "prod");
        let retry = details["retry_after_seconds"].as_u64().expect("retry hint");
        assert!((1..=3600).contains(&retry), "{retry}");
        let message = out.structured["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.starts_with("Connection 'prod' allows 3 calls per 3600 s; retry in "),
            "{message}"
        );
        assert_eq!(out.connection.as_deref(), Some("prod"));
    }
    assert_eq!(
        e.counters().statements,
        3,
        "refused calls never reach Trino"
    );

    // Listing connections does not query Trino and is not limited.
    let out = call(&s, "trino_list_connections", json!({})).await;
    assert!(!out.is_error, "{:?}", out.text);
    e.stop().await;
}

#[tokio::test]
async fn a_second_simultaneous_call_over_the_concurrency_limit_is_refused() {
    let (e, s) = server("      max_concurrent_queries: 1\n").await;
    e.knobs().set(&KnobSettings {
        page_delay_ms: 500,
        ..Default::default()
    });
    let args = json!({"sql": "SELECT 1"});
    let (a, b) = tokio::join!(
        call(&s, "trino_query", args.clone()),
        call(&s, "trino_query", args.clone())
    );
    let mut codes = [code(&a), code(&b)];
    codes.sort();
    assert_eq!(codes, ["RATE_LIMITED", "ok"], "{:?} {:?}", a.text, b.text);
    let limited = if a.is_error { &a } else { &b };
    assert_eq!(
        limited.structured["error"]["message"],
        "Connection 'prod' allows at most 1 query at once; 1 is running. Retry in a moment."
    );
    assert_eq!(
        limited.structured["error"]["details"]["retry_after_seconds"],
        1
    );
    assert_eq!(e.counters().statements, 1);

    // The slot came back when the first call finished.
    e.knobs().set(&KnobSettings::default());
    let again = call(&s, "trino_query", args).await;
    assert!(!again.is_error, "{:?}", again.text);
    assert_eq!(e.counters().statements, 2);
    e.stop().await;
}
