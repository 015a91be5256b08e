//! The MCP side: an rmcp `ServerHandler` serving one [`Surface`] over any transport. It
//! announces the tools, routes calls to `tools::call`, forwards progress and cancellation,
//! and writes one audit line per call. It knows nothing of HTTP or SQL.

mod surface;

use std::sync::Arc;
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ServerCapabilities,
    ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;

pub use surface::{Group, Surface};

use crate::clusters::Clusters;
use crate::metrics::Metrics;
use crate::tools::{self, CallEnv, Progress, ToolKind, ToolOutput};

struct Entry {
    tool: Tool,
    kind: ToolKind,
    group: usize,
}

struct Inner {
    surface: Surface,
    clusters: Arc<Clusters>,
    budget_bytes: usize,
    entries: Vec<Entry>,
}

/// One MCP endpoint. Cheap to clone (transports clone it per session or per request).
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
    /// Cancelled when the process shuts down: every running call cancels its Trino query.
    shutdown: tokio_util::sync::CancellationToken,
    metrics: Option<Arc<Metrics>>,
    /// Put the SQL text in the audit line (off by default: SQL can hold personal data).
    log_sql: bool,
}

impl McpServer {
    pub fn new(surface: Surface, clusters: Arc<Clusters>, budget_bytes: usize) -> Self {
        let mut entries = Vec::new();
        for (gi, g) in surface.groups.iter().enumerate() {
            for kind in &g.tools {
                entries.push(Entry {
                    tool: describe(*kind, g),
                    kind: *kind,
                    group: gi,
                });
            }
        }
        McpServer {
            inner: Arc::new(Inner {
                surface,
                clusters,
                budget_bytes,
                entries,
            }),
            shutdown: tokio_util::sync::CancellationToken::new(),
            metrics: None,
            log_sql: false,
        }
    }

    /// Count calls, durations, rows and bytes per endpoint, tool, connection and outcome.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn with_log_sql(mut self, log_sql: bool) -> Self {
        self.log_sql = log_sql;
        self
    }

    /// Calls are cancelled (and their Trino queries with them) when `token` is.
    pub fn with_shutdown(mut self, token: tokio_util::sync::CancellationToken) -> Self {
        self.shutdown = token;
        self
    }

    pub fn surface(&self) -> &Surface {
        &self.inner.surface
    }

    pub fn tools(&self) -> Vec<Tool> {
        self.inner.entries.iter().map(|e| e.tool.clone()).collect()
    }

    /// Run a tool by its announced name; `None` if this endpoint has no such tool.
    pub async fn run(
        &self,
        name: &str,
        args: Option<&serde_json::Map<String, Value>>,
        cancel: tokio_util::sync::CancellationToken,
        progress: Option<Progress>,
    ) -> Option<ToolOutput> {
        let entry = self.inner.entries.iter().find(|e| e.tool.name == name)?;
        let group = self.inner.surface.groups.get(entry.group)?;
        let env = CallEnv {
            clusters: &self.inner.clusters,
            reach: &group.reach,
            cancel,
            progress,
            budget_bytes: self.inner.budget_bytes,
        };
        let started = Instant::now();
        let out = tools::call(entry.kind, args, &env).await;
        let elapsed = started.elapsed();
        let connection = out.connection.as_deref().unwrap_or("-");
        let outcome = out.code.unwrap_or("ok");
        let sql = if self.log_sql {
            args.and_then(|a| a.get("sql"))
                .and_then(Value::as_str)
                .unwrap_or("")
        } else {
            ""
        };
        tracing::info!(
            target: "audit",
            endpoint = %self.inner.surface.name,
            tool = name,
            connection,
            query_id = out.query_id.as_deref().unwrap_or("-"),
            duration_ms = elapsed.as_millis() as u64,
            rows = out.rows,
            outcome,
            sql,
            "tool call"
        );
        if let Some(m) = &self.metrics {
            let bytes: usize = out.text.iter().map(String::len).sum();
            m.tool_call(
                &self.inner.surface.name,
                name,
                connection,
                outcome,
                elapsed,
                out.rows as u64,
                bytes as u64,
            );
        }
        Some(out)
    }
}

/// The `Tool` as announced: prefixed name, title, description, schemas, annotations.
fn describe(kind: ToolKind, g: &Group) -> Tool {
    let name = match &g.prefix {
        Some(p) => format!("{p}{}", kind.name()),
        None => kind.name().to_string(),
    };
    let connections = g
        .reach
        .argument
        .then_some((g.reach.names.as_slice(), g.reach.default.as_str()));
    let input = as_object(kind.input_schema(connections, g.default_timeout));
    let (read_only, destructive, idempotent, open_world) = kind.annotations(g.all_read_only);
    let mut ann = ToolAnnotations::with_title(kind.title())
        .read_only(read_only)
        .idempotent(idempotent)
        .open_world(open_world);
    if let Some(d) = destructive {
        ann = ann.destructive(d);
    }
    Tool::new(name, kind.description(g.all_read_only), Arc::new(input))
        .with_title(kind.title())
        .with_raw_output_schema(Arc::new(as_object(kind.output_schema())))
        .with_annotations(ann)
}

fn as_object(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let names: Vec<String> = self
            .inner
            .surface
            .groups
            .iter()
            .flat_map(|g| g.reach.names.iter().cloned())
            .collect();
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("mcp-trino", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "Query Trino clusters ({}). Find data with the list/describe tools, then run SQL with trino_query. \
                 Results are cut at `limit` rows and at a response size budget; errors carry a code and a hint.",
                names.join(", ")
            ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner
            .entries
            .iter()
            .find(|e| e.tool.name == name)
            .map(|e| e.tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let progress = context
            .meta
            .get_progress_token()
            .map(|token| progress_forwarder(token, context.peer.clone()));
        // Cancel on the client's notifications/cancelled or on shutdown, whichever comes first.
        let cancel = self.shutdown.child_token();
        let (client_ct, linked) = (context.ct.clone(), cancel.clone());
        let link = tokio::spawn(async move {
            client_ct.cancelled().await;
            linked.cancel();
        });
        let out = self
            .run(&request.name, request.arguments.as_ref(), cancel, progress)
            .await;
        link.abort();
        let Some(out) = out else {
            return Err(McpError::invalid_params(
                format!("Unknown tool: {}", request.name),
                None,
            ));
        };
        let content = out.text.into_iter().map(ContentBlock::text).collect();
        let mut result = if out.is_error {
            CallToolResult::error(content)
        } else {
            CallToolResult::success(content)
        };
        result.structured_content = Some(out.structured);
        Ok(result.into())
    }
}

/// MCP progress from Trino's statistics: processed rows as the (monotonic) progress value.
fn progress_forwarder(token: rmcp::model::ProgressToken, peer: rmcp::Peer<RoleServer>) -> Progress {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ProgressNotificationParam>();
    tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            if peer.notify_progress(p).await.is_err() {
                break;
            }
        }
    });
    let last = std::sync::Mutex::new(None::<u64>);
    Arc::new(move |stats: &crate::trino::Stats| {
        let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
        if *last == Some(stats.processed_rows) {
            return;
        }
        *last = Some(stats.processed_rows);
        let mut message = format!("{}: {} rows processed", stats.state, stats.processed_rows);
        if let Some(pct) = stats.progress_percentage {
            message.push_str(&format!(", {pct:.0}% done"));
        }
        let mut p = ProgressNotificationParam::new(token.clone(), stats.processed_rows as f64);
        p.message = Some(message);
        let _ = tx.send(p);
    })
}
