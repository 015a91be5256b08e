//! MCP over stdin/stdout. stdout carries only protocol messages; logs go to stderr.

use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceExt;

use crate::clusters::Clusters;
use crate::config::Config;
use crate::mcp::{McpServer, Surface};

/// Serve until the client closes stdin. Clusters that are down at start are reported, not fatal.
pub async fn serve(cfg: &Config, clusters: Arc<Clusters>) -> anyhow::Result<()> {
    probe_in_background(&clusters);
    let server = McpServer::new(
        Surface::main(cfg),
        clusters,
        cfg.server.response_budget_bytes as usize,
    );
    let running = server.serve(rmcp::transport::stdio()).await?;
    let reason = running.waiting().await;
    tracing::info!(?reason, "stdio session ended");
    // Calls still running were dropped with the session: their cancels must go out.
    crate::trino::drain_cancels(Duration::from_secs(5)).await;
    Ok(())
}

/// Probe every cluster once at start-up and log the ones that are unavailable.
pub fn probe_in_background(clusters: &Arc<Clusters>) {
    for c in clusters.all() {
        let c = c.clone();
        tokio::spawn(async move {
            let h = c.client.health(Duration::from_secs(0)).await;
            if h.available {
                tracing::info!(
                    connection = c.name(),
                    version = h.version.as_deref().unwrap_or("?"),
                    "cluster available"
                );
            } else {
                tracing::warn!(
                    connection = c.name(),
                    reason = h.reason.as_deref().unwrap_or("unknown"),
                    "cluster unavailable"
                );
            }
        });
    }
}
