//! The clients the bench measures with: the bare Trino protocol loop, rmcp MCP sessions, and
//! a load of concurrent calls.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde::Deserialize;
use serde_json::{Value, json};

use super::probe::{clean_env, cpu_ticks, ms, percentile, ticks_ms, tree_ticks};

pub(super) type Mcp = RunningService<RoleClient, ()>;
pub(super) type Args = serde_json::Map<String, Value>;

pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Deserialize)]
struct Page {
    #[serde(rename = "nextUri", default)]
    next_uri: Option<String>,
    #[serde(default)]
    data: Option<Vec<Vec<Value>>>,
    #[serde(default)]
    error: Option<Value>,
}

/// The bare protocol cost: submit, follow `nextUri` to the end, parse every page.
pub(super) async fn bare(http: &reqwest::Client, base: &str, sql: &str) -> anyhow::Result<usize> {
    Ok(bare_first(http, base, sql, usize::MAX).await?.0)
}

/// The bare protocol's early stop: read pages until `limit` rows are in, then cancel the
/// rest with a DELETE on `nextUri`, as a minimal client would. Rows and bytes read.
pub(super) async fn bare_first(
    http: &reqwest::Client,
    base: &str,
    sql: &str,
    limit: usize,
) -> anyhow::Result<(usize, usize)> {
    let (mut rows, mut bytes) = (0, 0);
    let mut resp = http
        .post(format!("{base}/v1/statement"))
        .header("X-Trino-User", "bench")
        .body(sql.to_string())
        .send()
        .await?;
    loop {
        let body = resp.error_for_status()?.bytes().await?;
        bytes += body.len();
        let page: Page = serde_json::from_slice(&body)?;
        if let Some(e) = page.error {
            bail!("query failed: {e}");
        }
        rows += page.data.map_or(0, |d| std::hint::black_box(d).len());
        let Some(next) = page.next_uri else {
            return Ok((rows, bytes));
        };
        if rows > limit {
            http.delete(next)
                .header("X-Trino-User", "bench")
                .send()
                .await?;
            return Ok((rows, bytes));
        }
        resp = http
            .get(next)
            .header("X-Trino-User", "bench")
            .send()
            .await?;
    }
}

/// Our server over stdio with `config`.
pub(super) async fn stdio_session(
    bin: &Path,
    config: &Path,
    log: &Path,
) -> anyhow::Result<(Mcp, Option<u32>)> {
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("--config").arg(config);
    clean_env(&mut cmd);
    spawn_stdio(cmd.into(), log).await
}

/// Any MCP server over stdio, started from a prepared command; its stderr goes to `log`.
pub(super) async fn spawn_stdio(
    cmd: tokio::process::Command,
    log: &Path,
) -> anyhow::Result<(Mcp, Option<u32>)> {
    let name = cmd.as_std().get_program().to_string_lossy().into_owned();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::from(log))
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    let pid = transport.id();
    let svc = tokio::time::timeout(CALL_TIMEOUT, ().serve(transport))
        .await
        .context("MCP handshake (stdio) timed out")?
        .context("MCP handshake (stdio)")?;
    Ok((svc, pid))
}

pub(super) async fn http_session(url: &str) -> anyhow::Result<Mcp> {
    let cfg = StreamableHttpClientTransportConfig::with_uri(url.to_string());
    tokio::time::timeout(
        CALL_TIMEOUT,
        ().serve(StreamableHttpClientTransport::from_config(cfg)),
    )
    .await
    .context("MCP handshake (HTTP) timed out")?
    .context("MCP handshake (HTTP)")
}

pub(super) fn query_args(sql: &str, limit: usize, connection: &str) -> Args {
    json!({"sql": sql, "limit": limit, "connection": connection})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// One `trino_query` call; the result, refused when it is an error.
pub(super) async fn query(c: &Mcp, args: &Args) -> anyhow::Result<CallToolResult> {
    call(c, "trino_query", args).await
}

/// One `tools/call`; the result, refused when it is an error.
pub(super) async fn call(c: &Mcp, tool: &str, args: &Args) -> anyhow::Result<CallToolResult> {
    let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args.clone());
    let r = tokio::time::timeout(CALL_TIMEOUT, c.call_tool(params))
        .await
        .context("tools/call timed out")??;
    if r.is_error == Some(true) {
        bail!(
            "{tool} failed: {}",
            text_of(&r).chars().take(400).collect::<String>()
        );
    }
    Ok(r)
}

/// The text blocks of a result, joined.
pub(super) fn text_of(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.as_str())
        .collect()
}

pub(super) fn row_count(r: &CallToolResult) -> usize {
    r.structured_content
        .as_ref()
        .and_then(|s| s["row_count"].as_u64())
        .unwrap_or(0) as usize
}

pub(super) fn truncated_by(r: &CallToolResult) -> Option<String> {
    r.structured_content
        .as_ref()
        .and_then(|s| s["stats"]["truncated_by"].as_str())
        .map(str::to_string)
}

pub(super) async fn emulator_cancels(http: &reqwest::Client, url: &str) -> anyhow::Result<u64> {
    let v: Value = http
        .get(format!("{url}/_emulator/state"))
        .send()
        .await?
        .json()
        .await?;
    v["counters"]["cancels"]
        .as_u64()
        .context("no counters.cancels in /_emulator/state")
}

/// What a load of concurrent calls did in its window.
pub(super) struct Load {
    pub calls: usize,
    pub errors: usize,
    pub elapsed_s: f64,
    pub calls_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// CPU per successful call of the server's process tree, of each `others` pid, of this
    /// client.
    pub server_cpu_ms: f64,
    pub others_cpu_ms: Vec<f64>,
    pub client_cpu_ms: f64,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
}

/// The call a load repeats. A call is good when it is not an error and `good` accepts it.
pub(super) struct Work<'a> {
    pub tool: &'a str,
    pub args: &'a Args,
    pub good: fn(&CallToolResult) -> Result<(), String>,
}

/// `workers` loops repeating `work` over `sessions` (worker `i` uses session `i % len`) until
/// `window` has passed; calls started in the window are waited for.
pub(super) async fn load(
    sessions: &[Arc<Mcp>],
    workers: usize,
    work: &Work<'_>,
    window: Duration,
    server_pid: Option<u32>,
    others: &[u32],
) -> anyhow::Result<Load> {
    if sessions.is_empty() {
        bail!("no session to load");
    }
    let snapshot = || {
        (
            server_pid.map_or(0, tree_ticks),
            others
                .iter()
                .map(|p| cpu_ticks(&p.to_string()).unwrap_or(0))
                .collect::<Vec<_>>(),
            cpu_ticks("self").unwrap_or(0),
        )
    };
    let before = snapshot();
    let t0 = Instant::now();
    let deadline = t0 + window;
    let mut tasks = Vec::with_capacity(workers);
    for i in 0..workers {
        let s = sessions[i % sessions.len()].clone();
        let (tool, args, good) = (work.tool.to_string(), work.args.clone(), work.good);
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors, mut first) = (Vec::new(), 0usize, None);
            while Instant::now() < deadline {
                let t = Instant::now();
                let outcome = match call(&s, &tool, &args).await {
                    Ok(r) => good(&r),
                    Err(e) => Err(format!("{e:#}")),
                };
                match outcome {
                    Ok(()) => lat.push(ms(t.elapsed())),
                    Err(e) => {
                        errors += 1;
                        first.get_or_insert(e);
                    }
                }
            }
            (lat, errors, first)
        }));
    }
    let (mut lat, mut errors, mut first_error) = (Vec::new(), 0, None);
    for t in tasks {
        let (l, e, f) = t.await?;
        lat.extend(l);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let elapsed_s = t0.elapsed().as_secs_f64();
    let after = snapshot();
    lat.sort_by(f64::total_cmp);
    let calls = lat.len();
    let per_call = |a: u64, b: u64| ticks_ms(a.saturating_sub(b)) / calls.max(1) as f64;
    Ok(Load {
        calls,
        errors,
        elapsed_s,
        calls_per_s: calls as f64 / elapsed_s,
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
        server_cpu_ms: per_call(after.0, before.0),
        others_cpu_ms: after
            .1
            .iter()
            .zip(&before.1)
            .map(|(a, b)| per_call(*a, *b))
            .collect(),
        client_cpu_ms: per_call(after.2, before.2),
        first_error,
    })
}

/// Close sessions (the ones no task holds any more).
pub(super) async fn close(sessions: Vec<Arc<Mcp>>) {
    for s in sessions {
        if let Ok(s) = Arc::try_unwrap(s) {
            let _ = s.cancel().await;
        }
    }
}

/// Our server over stdio driven with hand-written JSON-RPC lines: each response is parsed
/// once into a `serde_json::Value`, nothing more. Set beside rmcp's client, it tells the
/// server's share of a call from the client library's.
pub(super) struct RawStdio {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    next_id: u64,
}

impl RawStdio {
    pub(super) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub(super) async fn start(bin: &Path, config: &Path, log: &Path) -> anyhow::Result<RawStdio> {
        use tokio::io::AsyncBufReadExt;
        let mut cmd = std::process::Command::new(bin);
        cmd.arg("--config").arg(config);
        clean_env(&mut cmd);
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)?,
            ))
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdin = child.stdin.take().context("stdin")?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut raw = RawStdio {
            child,
            stdin,
            lines: tokio::io::BufReader::new(stdout).lines(),
            next_id: 1,
        };
        raw.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "bench-raw", "version": "0"}}),
        )
        .await?;
        raw.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await?;
        Ok(raw)
    }

    async fn send(&mut self, msg: &Value) -> anyhow::Result<()> {
        use tokio::io::AsyncWriteExt;
        let mut line = serde_json::to_vec(msg)?;
        line.push(b'\n');
        self.stdin.write_all(&line).await?;
        self.stdin.flush().await?;
        Ok(())
    }

    /// One request; its `result`, or an error for a JSON-RPC error.
    pub(super) async fn request(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await?;
        let read = async {
            while let Some(line) = self.lines.next_line().await? {
                let mut v: Value = serde_json::from_str(&line)?;
                if v["id"] == id {
                    if !v["error"].is_null() {
                        bail!("{method}: {}", v["error"]);
                    }
                    return Ok(v["result"].take());
                }
            }
            bail!("the server closed stdout")
        };
        tokio::time::timeout(CALL_TIMEOUT, read)
            .await
            .with_context(|| format!("{method} timed out"))?
    }
}
