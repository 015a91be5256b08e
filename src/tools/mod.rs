//! The seven tools: argument checks, the call to Trino, and the response (text for the model,
//! `structuredContent` for programs). Transport-free: `call` takes parsed arguments and
//! returns a [`ToolOutput`]; the MCP layer turns it into a `CallToolResult`.

// Errors carry details for the model; they are on the cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

mod args;
mod defs;
mod error;
mod meta;
mod run;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

pub use defs::{ALL, ToolKind};
pub use error::{Code, ToolError};

use crate::clusters::{Cluster, Clusters};
use crate::limits::Permit;
use crate::trino::{Call, Finished, RowSink, Stats};

/// Which connections a tool call may use, and how it names one.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Reachable connection names, in configuration order.
    pub names: Vec<String>,
    /// Used when the call names none.
    pub default: String,
    /// Whether the `connection` argument is offered (false on a per-connection endpoint).
    pub argument: bool,
}

/// Receives Trino's statistics while a query runs (for MCP progress notifications).
pub type Progress = Arc<dyn Fn(&Stats) + Send + Sync>;

/// Everything a call needs besides its arguments.
pub struct CallEnv<'a> {
    pub clusters: &'a Clusters,
    pub reach: &'a Reach,
    pub cancel: CancellationToken,
    pub progress: Option<Progress>,
    /// Response budget of `trino_query` text, in bytes.
    pub budget_bytes: usize,
}

/// A finished call, success or error, plus what the audit log and metrics need.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    pub text: Vec<String>,
    pub structured: Value,
    pub is_error: bool,
    pub connection: Option<String>,
    pub query_id: Option<String>,
    pub rows: usize,
    /// The error code, when `is_error`.
    pub code: Option<&'static str>,
}

impl ToolOutput {
    fn error(e: ToolError, connection: Option<String>) -> Self {
        let envelope = e.envelope();
        ToolOutput {
            text: vec![pretty(&envelope)],
            structured: envelope,
            is_error: true,
            query_id: e
                .details
                .get("query_id")
                .and_then(Value::as_str)
                .map(str::to_string),
            connection,
            rows: 0,
            code: Some(e.code.as_str()),
        }
    }
}

/// Pretty JSON with two-space indents, as the metadata tools answer.
pub(crate) fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Run one tool call. Never panics on any input; every failure is an error envelope.
pub async fn call(
    kind: ToolKind,
    args: Option<&Map<String, Value>>,
    env: &CallEnv<'_>,
) -> ToolOutput {
    let allowed = kind.arguments(env.reach.argument);
    let parsed = match args::Args::new(args, &allowed) {
        Ok(a) => a,
        Err(e) => return ToolOutput::error(e, None),
    };
    let result = match kind {
        ToolKind::Query => run::query(&parsed, env).await,
        ToolKind::Explain => run::explain(&parsed, env).await,
        ToolKind::ListCatalogs => meta::list_catalogs(&parsed, env).await,
        ToolKind::ListSchemas => meta::list_schemas(&parsed, env).await,
        ToolKind::ListTables => meta::list_tables(&parsed, env).await,
        ToolKind::DescribeTable => meta::describe_table(&parsed, env).await,
        ToolKind::ListConnections => meta::list_connections(&parsed, env),
    };
    match result {
        Ok(out) => out,
        Err((e, connection)) => ToolOutput::error(e, connection),
    }
}

/// An error together with the connection it concerns (for the audit log).
pub(crate) type Failure = (ToolError, Option<String>);

/// The cluster a call uses: the `connection` argument (where offered) or the default.
/// Seed 000's wording for an unknown name.
pub(crate) fn resolve<'a>(
    kind: ToolKind,
    args: &args::Args<'_>,
    env: &'a CallEnv<'_>,
) -> Result<&'a Arc<Cluster>, Failure> {
    let requested = if env.reach.argument {
        args.string("connection").map_err(|e| (e, None))?
    } else {
        None
    };
    let name = requested.unwrap_or(env.reach.default.as_str());
    let found = env
        .reach
        .names
        .iter()
        .any(|n| n == name)
        .then(|| env.clusters.get(name))
        .flatten();
    let Some(cluster) = found else {
        let shown: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
        let e = ToolError::new(
            Code::UnknownConnection,
            format!(
                "Connection '{shown}' not found\nAvailable: {}",
                env.reach.names.join(", ")
            ),
        )
        .detail("available", env.reach.names.clone());
        return Err((e, None));
    };
    let mode = cluster.connection().access_mode;
    if !kind.offered_in(mode) {
        let e = ToolError::invalid(format!(
            "{} is not available on connection '{}' (access mode {}). Available there: trino_query, trino_explain, trino_list_tables, trino_describe_table.",
            kind.name(),
            cluster.name(),
            mode.as_str()
        ))
        .detail("connection", cluster.name());
        return Err((e, Some(cluster.name().to_string())));
    }
    Ok(cluster)
}

/// Admission to the cluster's rate and concurrency limits. Taken once the call is known to be
/// valid (arguments, connection, policy) and right before the first Trino request, and held
/// for the whole call, so refused or invalid calls cost nothing.
pub(crate) fn admit(cluster: &Cluster) -> Result<Permit, Failure> {
    cluster.limiter.try_acquire().map_err(|r| {
        let e = ToolError::new(Code::RateLimited, r.message)
            .detail("connection", cluster.name())
            .detail("retry_after_seconds", r.retry_after_secs);
        (e, Some(cluster.name().to_string()))
    })
}

/// Run SQL the server built itself (metadata tools), collecting rows into `sink`.
pub(crate) async fn run_sql(
    cluster: &Cluster,
    kind: ToolKind,
    sql: &str,
    timeout: Duration,
    env: &CallEnv<'_>,
    sink: &mut dyn RowSink,
) -> Result<Finished, Failure> {
    let call = Call {
        sql,
        tool: kind.name(),
        timeout,
        cancel: env.cancel.clone(),
    };
    cluster.client.run(call, sink).await.map_err(|e| {
        (
            ToolError::from_client(e, cluster.name(), sql, timeout.as_secs()),
            Some(cluster.name().to_string()),
        )
    })
}

/// Collects every row, up to a bound (metadata answers are small; the bound keeps memory flat).
pub(crate) struct Rows {
    pub rows: Vec<Vec<Value>>,
    pub max: usize,
    pub overflow: bool,
}

impl Rows {
    pub fn new(max: usize) -> Self {
        Rows {
            rows: Vec::new(),
            max,
            overflow: false,
        }
    }
}

impl RowSink for Rows {
    fn columns(&mut self, _columns: &[crate::trino::Column]) {}

    fn row(&mut self, row: Vec<Value>) -> bool {
        if self.rows.len() >= self.max {
            self.overflow = true;
            return false;
        }
        self.rows.push(row);
        true
    }

    fn rows_wanted(&self) -> Option<usize> {
        Some((self.max + 1).saturating_sub(self.rows.len()))
    }
}
