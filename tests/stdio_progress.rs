//! MCP progress notifications come from Trino's statistics, and `notifications/cancelled`
//! cancels the Trino query on the cluster. The real binary over stdio, rmcp's client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientRequest, ProgressNotificationParam,
};
use rmcp::service::{NotificationContext, PeerRequestOptions};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;
use trino_testkit::server::KnobSettings;
use trino_testkit::{Emulator, EmulatorConfig};

#[derive(Clone, Default)]
struct Recorder {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(params);
    }
}

async fn setup(
    page_delay_ms: u64,
) -> (
    Emulator,
    rmcp::service::RunningService<RoleClient, Recorder>,
    Recorder,
) {
    let mut cfg = EmulatorConfig::new("prod");
    cfg.page_rows = Some(100);
    cfg.synthetic_rows = 1_000_000;
    cfg.knobs = KnobSettings {
        page_delay_ms,
        ..Default::default()
    };
    let e = Emulator::start(cfg).await.expect("emulator");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-trino"));
    cmd.env_clear()
        .env("MCP_TRINO_LOG", "warn")
        .env("TRINO_HOST", "127.0.0.1")
        .env("TRINO_PORT", e.addr().port().to_string())
        .env("TRINO_USER", "analyst")
        .env("TRINO_CATALOG", "synthetic")
        .env("TRINO_SCHEMA", "default");
    let recorder = Recorder::default();
    let client = recorder
        .clone()
        .serve(TokioChildProcess::new(cmd).expect("spawn"))
        .await
        .expect("handshake");
    (e, client, recorder)
}

fn params(sql: &str, limit: u64) -> CallToolRequestParams {
    let args = json!({"sql": sql, "limit": limit})
        .as_object()
        .cloned()
        .unwrap_or_default();
    CallToolRequestParams::new("trino_query").with_arguments(args)
}

#[tokio::test]
async fn progress_notifications_follow_trino_stats() {
    let (e, client, recorder) = setup(0).await;
    let r = client
        .call_tool(params("SELECT id FROM numbers", 5000))
        .await
        .expect("call");
    assert_eq!(r.is_error, Some(false));
    // Let the last notifications arrive.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = recorder
        .progress
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    assert!(
        seen.len() >= 3,
        "one notification per page with new rows, got {}",
        seen.len()
    );
    assert!(
        seen.windows(2).all(|w| w[0].progress < w[1].progress),
        "progress only grows"
    );
    assert!(seen.iter().all(|p| {
        p.message
            .as_deref()
            .is_some_and(|m| m.contains("rows processed"))
    }));
    drop(client);
    e.stop().await;
}

#[tokio::test]
async fn cancelling_the_request_cancels_the_trino_query() {
    let (e, client, _recorder) = setup(700).await;
    let handle = client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(CallToolRequest::new(params(
                "SELECT * FROM numbers",
                10_000,
            ))),
            PeerRequestOptions::no_options(),
        )
        .await
        .expect("sent");
    // Wait until the query is on the cluster, then cancel the MCP request.
    for _ in 0..100 {
        if e.counters().statements == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(e.counters().statements, 1);
    handle
        .cancel(Some("user pressed stop".into()))
        .await
        .expect("notifications/cancelled sent");
    for _ in 0..100 {
        if e.counters().cancels == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(e.counters().cancels, 1, "the Trino query was cancelled");
    let q = e.queries().pop().expect("query");
    assert_eq!(q.error_code.as_deref(), Some("USER_CANCELED"));
    e.stop().await;
}
