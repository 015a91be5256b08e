//! Tool behaviour that a stdio client cannot observe directly: a cancelled call answers
//! CANCELLED (MCP drops the reply after notifications/cancelled), and the response byte budget
//! truncates with `truncated_by: byte_budget`. Driven through the MCP layer's `run`.

use std::collections::HashMap;
use std::sync::Arc;

use mcp_trino::clusters::Clusters;
use mcp_trino::config;
use mcp_trino::mcp::{McpServer, Surface};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use trino_testkit::{Emulator, EmulatorConfig};

async fn server(budget: usize) -> (Emulator, McpServer) {
    let e = Emulator::start(EmulatorConfig::new("prod"))
        .await
        .expect("emulator");
    let env: HashMap<&str, String> = HashMap::from([
        ("TRINO_HOST", "127.0.0.1".to_string()),
        ("TRINO_PORT", e.addr().port().to_string()),
        ("TRINO_USER", "analyst".into()),
        ("TRINO_CATALOG", "tpch".into()),
        ("TRINO_SCHEMA", "tiny".into()),
    ]);
    let cfg = config::load(None, &|k| env.get(k).cloned()).expect("config");
    let clusters = Arc::new(Clusters::from_config(&cfg).expect("clusters"));
    (e, McpServer::new(Surface::main(&cfg), clusters, budget))
}

#[tokio::test]
async fn a_cancelled_call_answers_cancelled() {
    let (e, s) = server(4 << 20).await;
    let args = json!({"sql": "SELECT * FROM customer"})
        .as_object()
        .cloned();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let out = s
        .run("trino_query", args.as_ref(), cancel, None)
        .await
        .expect("known tool");
    assert!(out.is_error);
    assert_eq!(out.structured["error"]["code"], "CANCELLED");
    e.stop().await;
}

#[tokio::test]
async fn the_byte_budget_truncates_and_says_so() {
    let (e, s) = server(400).await;
    let args = json!({"sql": "SELECT custkey, name FROM customer", "format": "csv"})
        .as_object()
        .cloned();
    let out = s
        .run("trino_query", args.as_ref(), CancellationToken::new(), None)
        .await
        .expect("known tool");
    assert!(!out.is_error, "{:?}", out.text);
    assert!(out.text[0].len() <= 400);
    assert_eq!(out.structured["stats"]["truncated"], true);
    assert_eq!(out.structured["stats"]["truncated_by"], "byte_budget");
    assert!(
        out.text[1].contains("truncated at the response budget of 400 bytes"),
        "{}",
        out.text[1]
    );
    // Stopping early cancelled the rest of the query on the cluster.
    assert_eq!(e.counters().cancels, 1);
    e.stop().await;
}

#[tokio::test]
async fn only_read_only_connections_make_trino_query_read_only() {
    let (e, s) = server(4 << 20).await;
    let q = s
        .tools()
        .into_iter()
        .find(|t| t.name == "trino_query")
        .expect("tool");
    let a = q.annotations.expect("annotations");
    assert_eq!(
        (a.read_only_hint, a.destructive_hint),
        (Some(true), Some(false))
    );
    assert!(q.description.unwrap_or_default().contains("Read-only"));
    e.stop().await;
}
