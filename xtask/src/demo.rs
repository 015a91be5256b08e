//! `cargo xtask demo`: prod, staging and dev emulated clusters behind one mcp-trino HTTP
//! server, in seed 003's layout: prod composed into /mcp, staging as a read-only user
//! endpoint, dev as a read-write admin endpoint with a bearer token and a rate limit.

use std::process::Command;

use anyhow::Context;

use crate::procs::Process;
use crate::{cargo, python, root, run as run_step};

/// The dev endpoint's bearer token (the Docker demo takes `DEV_MCP_TOKEN` instead when set).
pub(crate) const DEV_TOKEN: &str = "demo-dev-token";

pub fn run(port: u16, check: bool, build: bool) -> anyhow::Result<()> {
    if build {
        run_step(
            "cargo build --bins",
            cargo().args(["build", "-p", "mcp-trino", "-p", "trino-testkit", "--bins"]),
        )?;
    }
    let emulator = root().join("target/debug/trino-emulator");
    let server = root().join("target/debug/mcp-trino");
    let start =
        |cluster: &str| Process::start(&emulator, &["--bind", "127.0.0.1:0", "--cluster", cluster]);
    let (prod, staging, dev) = (start("prod")?, start("staging")?, start("dev")?);
    let dir = root().join("target/demo");
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("config.yaml");
    std::fs::write(&config, config_yaml(&prod.url, &staging.url, &dev.url)?)?;
    let bind = format!("127.0.0.1:{port}");
    let config_arg = config.to_string_lossy().to_string();
    let mcp = Process::start(
        &server,
        &[
            "serve",
            "--transport",
            "http",
            "--bind",
            &bind,
            "--config",
            &config_arg,
        ],
    )?;
    print_endpoints(
        &mcp.url,
        "emulated Trino clusters",
        &config.display().to_string(),
        DEV_TOKEN,
    );
    if check {
        return check_stack(&mcp.url, DEV_TOKEN);
    }
    println!("\nPress Ctrl-C to stop.");
    let _keep = (mcp, prod, staging, dev);
    wait_for_ctrl_c();
    Ok(())
}

/// The endpoints and a client configuration to paste; shared by the emulator demo and
/// `demo --backend docker` (xtask/src/docker.rs).
pub(crate) fn print_endpoints(url: &str, clusters: &str, config: &str, token: &str) {
    println!("\nmcp-trino demo: three {clusters} behind {url}");
    println!("  {url}/mcp          prod (admin_ro; tpch, memory.sales)");
    println!("  {url}/staging/mcp  staging (user_ro, memory.sales only)");
    println!("  {url}/dev/mcp      dev (admin_rw, bearer token {token}, 60 calls/min)");
    println!("  {url}/health       health of every cluster");
    println!("  configuration: {config}");
    println!("\nPaste into your MCP client configuration (Cursor / Claude Desktop / VS Code):\n");
    println!("{}", client_config(url, token));
}

/// The official Python MCP client against a running demo stack (any backend).
pub(crate) fn check_stack(url: &str, token: &str) -> anyhow::Result<()> {
    let venv = python::venv(&root().join("target/py-venv"), crate::PY_PACKAGES)?;
    run_step(
        "the official MCP client against the demo stack",
        Command::new(venv.python())
            .arg(root().join("tests/clients/check_demo.py"))
            .args(["--url", url, "--token", token]),
    )
}

fn port_of(url: &str) -> anyhow::Result<String> {
    url.rsplit(':')
        .next()
        .map(str::to_string)
        .context("emulator URL without a port")
}

fn config_yaml(prod: &str, staging: &str, dev: &str) -> anyhow::Result<String> {
    Ok(format!(
        r#"# Written by `cargo xtask demo`.
server:
  allowed_origins: ["http://localhost:*", "http://127.0.0.1:*"]
  shutdown_grace_seconds: 3
connections:
  prod:
    host: 127.0.0.1
    port: {prod}
    user: analyst
    catalog: tpch
    schema: tiny
  staging:
    host: 127.0.0.1
    port: {staging}
    user: analyst
    catalog: memory
    schema: sales
    access_mode: user_ro
    endpoint: true
  dev:
    host: 127.0.0.1
    port: {dev}
    user: analyst
    catalog: memory
    schema: sales
    access_mode: admin_rw
    endpoint: true
    auth:
      bearer_tokens: ["{DEV_TOKEN}"]
    limits:
      requests_per_window: 60
      window_seconds: 60
      max_concurrent_queries: 4
"#,
        prod = port_of(prod)?,
        staging = port_of(staging)?,
        dev = port_of(dev)?,
    ))
}

fn client_config(url: &str, token: &str) -> String {
    format!(
        r#"{{
  "mcpServers": {{
    "trino":         {{ "url": "{url}/mcp" }},
    "trino-staging": {{ "url": "{url}/staging/mcp" }},
    "trino-dev":     {{ "url": "{url}/dev/mcp", "headers": {{ "Authorization": "Bearer {token}" }} }}
  }}
}}"#
    )
}

/// Block until Ctrl-C: SIGINT reaches the whole foreground process group, so the emulators
/// and the server (which stop cleanly on it) end together with us.
fn wait_for_ctrl_c() {
    loop {
        std::thread::park();
    }
}
