//! Shared scaffolding of the integration tests that drive the real binary: emulated clusters,
//! the server over HTTP or stdio, MCP clients and result checks. Each test binary uses a
//! subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trino_testkit::{Emulator, EmulatorConfig};

pub type Mcp = RunningService<RoleClient, ()>;

/// An emulated cluster with a 1M-row synthetic table (`f` adjusts the rest).
pub async fn emulator(cluster: &str, f: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut cfg = EmulatorConfig::new(cluster);
    cfg.synthetic_rows = 1_000_000;
    f(&mut cfg);
    Emulator::start(cfg).await.expect("emulator")
}

/// A port where nothing listens (just released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A fresh folder under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("mcp-trino-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The binary serving HTTP; its stderr goes to `stderr.log` in its folder. Killed on drop.
pub struct Server {
    child: Child,
    pub url: String,
    pub dir: PathBuf,
    pub config: PathBuf,
}

impl Server {
    /// `serve --transport http --config <file>` with a clean environment plus `env`.
    pub fn http(config_text: &str, env: &[(&str, &str)]) -> Server {
        let dir = temp_dir("http");
        let config = dir.join("config.yaml");
        std::fs::write(&config, config_text).expect("config");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-trino"));
        cmd.args(["serve", "--transport", "http", "--config"])
            .arg(&config)
            .env_clear()
            .env("MCP_TRINO_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let stderr = std::fs::File::create(dir.join("stderr.log")).expect("log");
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("ready line");
        let Some(url) = line.trim().strip_prefix("mcp-trino listening on ") else {
            let log = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
            panic!("server did not start: {line:?}\n{log}");
        };
        Server {
            url: url.to_string(),
            child,
            dir,
            config,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// Resident set size now, in KiB (Linux).
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }

    /// Still running?
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// An MCP session over Streamable HTTP, with an optional bearer token.
pub async fn mcp_http(url: String, token: Option<&str>) -> Mcp {
    mcp_trino::trino::install_crypto_provider();
    let mut cfg = StreamableHttpClientTransportConfig::with_uri(url);
    if let Some(t) = token {
        cfg = cfg.auth_header(t.to_string());
    }
    ().serve(StreamableHttpClientTransport::from_config(cfg))
        .await
        .expect("MCP handshake")
}

/// The binary over stdio on `config` (clean environment), its stderr into `stderr_log`.
pub async fn mcp_stdio(config: &Path, stderr_log: &Path) -> Mcp {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-trino"));
    cmd.arg("--config")
        .arg(config)
        .env_clear()
        .env("MCP_TRINO_LOG", "warn");
    let log = std::fs::File::create(stderr_log).expect("log");
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(log)
        .spawn()
        .expect("spawn mcp-trino");
    ().serve(transport).await.expect("MCP handshake")
}

pub async fn call(c: &Mcp, tool: &str, args: Value) -> CallToolResult {
    let map = args.as_object().cloned().unwrap_or_default();
    c.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(map))
        .await
        .expect("tools/call")
}

/// `tools/call` with any JSON as `arguments` (also non-objects), as a raw result or a
/// JSON-RPC error message.
pub async fn call_raw(c: &Mcp, tool: &str, args: Value) -> Result<CallToolResult, String> {
    let map = args.as_object().cloned().unwrap_or_default();
    c.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(map))
        .await
        .map_err(|e| e.to_string())
}

pub fn text(r: &CallToolResult, i: usize) -> String {
    r.content
        .get(i)
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// The error code of a failed call, `None` for a success.
pub fn error_code(r: &CallToolResult) -> Option<String> {
    if r.is_error != Some(true) {
        return None;
    }
    Some(
        r.structured_content
            .as_ref()
            .and_then(|s| s["error"]["code"].as_str())
            .unwrap_or("<no code>")
            .to_string(),
    )
}

pub fn ok(r: &CallToolResult) -> Value {
    assert_eq!(r.is_error, Some(false), "unexpected error: {}", text(r, 0));
    r.structured_content.clone().expect("structuredContent")
}

/// Asserts an error result with `code` whose text is the structured envelope; returns it.
pub fn err(r: &CallToolResult, code: &str) -> Value {
    assert_eq!(
        r.is_error,
        Some(true),
        "expected {code}, got success: {}",
        text(r, 0)
    );
    let s = r.structured_content.clone().expect("structured error");
    assert_eq!(s["error"]["code"], code, "{s}");
    let parsed: Value = serde_json::from_str(&text(r, 0)).expect("error text is JSON");
    assert_eq!(parsed, s);
    s
}

pub fn http_client() -> reqwest::Client {
    mcp_trino::trino::install_crypto_provider();
    reqwest::Client::new()
}

/// Send raw bytes and return the status code of the answer (0 when none came).
pub async fn raw_status(base: &str, request: &[u8]) -> u16 {
    let head = raw_exchange(base, request).await;
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Send raw bytes (no client library normalising anything) and read the first answer bytes.
pub async fn raw_exchange(base: &str, request: &[u8]) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf))
        .await
        .ok()
        .and_then(|r| r.ok())
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).to_string()
}
