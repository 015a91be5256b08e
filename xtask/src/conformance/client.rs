//! The MCP client side of the runner: rmcp's client over a child process (stdio) or
//! streamable HTTP, reduced to what the goldens compare.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value};

use super::cases::Expect;

const CALL_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Client {
    service: RunningService<RoleClient, ()>,
}

/// Split a command line on whitespace, honouring '...', "..." and backslash escapes.
pub fn split_command(line: &str) -> anyhow::Result<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => bail!("unterminated ' in command: {line}"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => cur.push(chars.next().context("trailing \\")?),
                        Some(ch) => cur.push(ch),
                        None => bail!("unterminated \" in command: {line}"),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next().context("trailing \\ in command")?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    if words.is_empty() {
        bail!("empty --stdio command");
    }
    Ok(words)
}

impl Client {
    /// Start `command` with exactly `env` added to a cleaned environment (no inherited
    /// `TRINO_*`/`MCP_TRINO_*`), its stderr going to `stderr_log`.
    pub async fn stdio(
        command: &[String],
        env: &[(String, String)],
        stderr_log: &Path,
    ) -> anyhow::Result<Client> {
        let (program, args) = command.split_first().context("empty command")?;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("TRINO_") || k.starts_with("MCP_TRINO_") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr_log)
            .with_context(|| format!("opening {}", stderr_log.display()))?;
        let (transport, _) = TokioChildProcess::builder(cmd)
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {program}"))?;
        let service = tokio::time::timeout(CALL_TIMEOUT, ().serve(transport))
            .await
            .context("MCP handshake timed out")?
            .with_context(|| {
                format!(
                    "MCP handshake with {program} (stderr: {})",
                    stderr_log.display()
                )
            })?;
        Ok(Client { service })
    }

    pub async fn http(url: &str) -> anyhow::Result<Client> {
        let cfg = StreamableHttpClientTransportConfig::with_uri(url.to_string());
        let service = tokio::time::timeout(
            CALL_TIMEOUT,
            ().serve(StreamableHttpClientTransport::from_config(cfg)),
        )
        .await
        .context("MCP handshake timed out")?
        .with_context(|| format!("MCP handshake with {url}"))?;
        Ok(Client { service })
    }

    /// `tools/list` as JSON, one object per tool, in the server's order.
    pub async fn list_tools(&self) -> anyhow::Result<Value> {
        let tools = tokio::time::timeout(CALL_TIMEOUT, self.service.list_all_tools())
            .await
            .context("tools/list timed out")?
            .context("tools/list")?;
        Ok(serde_json::to_value(tools)?)
    }

    /// One `tools/call`; a protocol-level error becomes a result no golden can match.
    pub async fn call(&self, tool: &str, args: &Map<String, Value>) -> Expect {
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args.clone());
        match tokio::time::timeout(CALL_TIMEOUT, self.service.call_tool(params)).await {
            Ok(Ok(r)) => observed(r),
            Ok(Err(e)) => protocol_error(format!("JSON-RPC error: {e}")),
            Err(_) => protocol_error("no answer within 60 s".into()),
        }
    }

    pub async fn close(self) {
        let _ = self.service.cancel().await;
    }
}

fn protocol_error(msg: String) -> Expect {
    Expect {
        is_error: true,
        text: vec![format!("<{msg}>")],
        structured: Value::Null,
    }
}

fn observed(r: CallToolResult) -> Expect {
    Expect {
        is_error: r.is_error.unwrap_or(false),
        text: r
            .content
            .iter()
            .map(|c| {
                c.as_text()
                    .map_or_else(|| "<non-text content>".to_string(), |t| t.text.clone())
            })
            .collect(),
        structured: r.structured_content.unwrap_or(Value::Null),
    }
}
