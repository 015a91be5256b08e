//! `cargo xtask conformance` and `cargo xtask golden [--bless]`: run the golden cases of
//! `fixtures/golden/` against any MCP server (a stdio command or an HTTP URL) on the golden
//! stack, and print a pass/fail table. See `fixtures/golden/README.md`.

pub mod alter;
mod cases;
mod client;
mod compare;
mod stack;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

use cases::Expect;
use client::Client;
pub use stack::Stack;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Command line of a stdio server (default: our `target/debug/mcp-trino`).
    pub stdio: Option<String>,
    /// `http://host:port/mcp` of a server already running on the stack.
    pub url: Option<String>,
    /// `emulator` (default) or `docker`.
    pub backend: String,
    pub filter: Option<String>,
    /// Emulators on base+1..=base+3 (0: ephemeral ports; `--url` needs fixed ones).
    pub base_port: u16,
    /// Write observed results into the golden files instead of comparing.
    pub bless: bool,
}

/// Where the cases go.
pub enum Target {
    /// A stdio command; endpoint cases go to the `/mcp` URL given with it, if any (our own
    /// server, also started over HTTP), or are skipped.
    Stdio(Vec<String>, Option<String>),
    Http(String),
}

impl Target {
    /// The `/mcp` URL whose `/{endpoint}/mcp` siblings serve endpoint cases.
    fn http_base(&self) -> Option<&str> {
        match self {
            Target::Stdio(_, url) => url.as_deref(),
            Target::Http(url) => Some(url),
        }
    }
}

pub struct Report {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

pub fn golden_dir() -> PathBuf {
    crate::root().join("fixtures/golden")
}

/// The command line entry: start the stack, run, print. `Ok(false)` when a case failed.
pub fn run(opts: &Options) -> anyhow::Result<bool> {
    let docker = match opts.backend.as_str() {
        "" | "emulator" => false,
        "docker" => true,
        other => bail!("unknown --backend {other} (emulator or docker)"),
    };
    if opts.stdio.is_some() && opts.url.is_some() {
        bail!("give --stdio or --url, not both");
    }
    let root = crate::root();
    let emulator = root.join("target/debug/trino-emulator");
    if !emulator.exists() {
        bail!(
            "{} is missing: cargo build -p trino-testkit --bins",
            emulator.display()
        );
    }
    let base = if opts.url.is_some() && opts.base_port == 0 {
        18480
    } else {
        opts.base_port
    };
    let dir = root.join("target/conformance");
    let stack = if docker {
        start_docker(&dir)?
    } else {
        Stack::start(&emulator, base, &dir)?
    };
    stack.main_env()?;
    let mut _http = None;
    let target = match (&opts.stdio, &opts.url) {
        (_, Some(url)) => {
            eprintln!(
                "conformance: the server at {url} must serve {} (emulators on ports {}..{})",
                stack.yaml_path().display(),
                base + 1,
                base + 3
            );
            Target::Http(url.clone())
        }
        (Some(cmd), None) => Target::Stdio(client::split_command(cmd)?, None),
        (None, None) => {
            // Our own server: also over HTTP, for the endpoint cases.
            let server = root.join("target/debug/mcp-trino");
            let http = serve_http(&server, &stack)?;
            let url = format!("{}/mcp", http.url);
            _http = Some(http);
            Target::Stdio(vec![server.to_string_lossy().to_string()], Some(url))
        }
    };
    let report = run_target(&stack, &target, opts.filter.as_deref(), opts.bless)?;
    Ok(report.failed == 0)
}

#[cfg(feature = "docker")]
fn start_docker(dir: &Path) -> anyhow::Result<Stack> {
    crate::docker::require_engine()?;
    Stack::from_real(crate::docker::real::Stack::start()?, dir)
}

#[cfg(not(feature = "docker"))]
fn start_docker(_dir: &Path) -> anyhow::Result<Stack> {
    crate::docker::require_engine()?;
    bail!(
        "--backend docker needs the xtask built with it: cargo run -p xtask --features docker -- conformance --backend docker"
    )
}

/// Run every case (and the `tools/list` goldens) against `target` on a started stack.
pub fn run_target(
    stack: &Stack,
    target: &Target,
    filter: Option<&str>,
    bless: bool,
) -> anyhow::Result<Report> {
    // rmcp's reqwest may be built without a default crypto provider; HTTPS is never used.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run_async(stack, target, filter, bless))
}

async fn run_async(
    stack: &Stack,
    target: &Target,
    filter: Option<&str>,
    bless: bool,
) -> anyhow::Result<Report> {
    let dir = golden_dir();
    let mut files = cases::load_dir(&dir.join("cases"))?;
    let selected = |name: &str| filter.is_none_or(|f| name.contains(f));
    let stderr_log = stack.dir.join("server-stderr.log");
    let _ = std::fs::remove_file(&stderr_log);
    let main = match target {
        Target::Stdio(cmd, _) => Client::stdio(cmd, &stack.main_env()?, &stderr_log).await?,
        Target::Http(url) => Client::http(url).await?,
    };
    let mut results: Vec<(String, Result<(), String>)> = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    for file in &mut files {
        for case in &mut file.cases {
            if !selected(&case.name) {
                continue;
            }
            if let Some((_, why)) = stack
                .unsupported
                .iter()
                .find(|(prefix, _)| case.name.starts_with(prefix))
            {
                skipped.push((case.name.clone(), why.to_string()));
                continue;
            }
            let observed = if case.endpoint == "main" {
                main.call(&case.tool, &case.arguments).await
            } else {
                match target.http_base() {
                    Some(url) => {
                        let c = Client::http(&endpoint_url(url, &case.endpoint)?).await?;
                        let o = c.call(&case.tool, &case.arguments).await;
                        c.close().await;
                        o
                    }
                    None => {
                        skipped.push((
                            case.name.clone(),
                            "per-connection endpoint case: HTTP only (--url)".into(),
                        ));
                        continue;
                    }
                }
            };
            let outcome = if bless {
                // The rules must hold for what we store. A golden that still matches is kept
                // as it is, so re-blessing only shows the cases that really changed (not new
                // query ids and durations).
                let r = compare::compare(&observed, &observed, &case.rules);
                let unchanged = case
                    .expect
                    .as_ref()
                    .is_some_and(|e| compare::compare(e, &observed, &case.rules).is_ok());
                if !unchanged {
                    case.expect = Some(observed);
                }
                r
            } else {
                match &case.expect {
                    Some(e) => compare::compare(e, &observed, &case.rules),
                    None => {
                        Err("no expected result in the golden file (run golden --bless)".into())
                    }
                }
            };
            results.push((case.name.clone(), outcome));
        }
        if bless {
            cases::save(file)?;
        }
    }
    main.close().await;
    for mode in stack::MODES {
        let name = format!("tools_list/{mode}");
        if !selected(&name) {
            continue;
        }
        let outcome = tools_list(stack, target, mode, &stderr_log, bless).await;
        results.push((name, outcome));
    }
    let mut report = Report {
        passed: 0,
        failed: 0,
        skipped: skipped.len(),
    };
    for (name, r) in &results {
        match r {
            Ok(()) => {
                report.passed += 1;
                println!("PASS  {name}");
            }
            Err(reason) => {
                report.failed += 1;
                println!("FAIL  {name}  {reason}");
            }
        }
    }
    for (name, why) in &skipped {
        println!("SKIP  {name}  {why}");
    }
    if bless {
        println!("blessed {} cases into {}", results.len(), dir.display());
    }
    if report.skipped > 0 {
        println!("{} skipped", report.skipped);
    }
    println!("{} passed, {} failed", report.passed, report.failed);
    Ok(report)
}

fn endpoint_url(main: &str, endpoint: &str) -> anyhow::Result<String> {
    let base = main
        .strip_suffix("/mcp")
        .with_context(|| format!("--url must end in /mcp: {main}"))?;
    Ok(format!("{base}/{endpoint}/mcp"))
}

/// `tools/list` of a server whose only connection has `mode`: over stdio a fresh server
/// per mode; over HTTP the stack's `/{mode}/mcp` endpoint, whose tools are the golden ones
/// prefixed `{mode}_` and without the `connection` argument.
async fn tools_list(
    stack: &Stack,
    target: &Target,
    mode: &str,
    stderr_log: &Path,
    bless: bool,
) -> Result<(), String> {
    let path = golden_dir().join(format!("tools_list/{mode}.json"));
    let observed = async {
        let (client, prefix) = match target {
            Target::Stdio(cmd, _) => (
                Client::stdio(cmd, &stack.mode_env(mode)?, stderr_log).await?,
                None,
            ),
            Target::Http(url) => (Client::http(&endpoint_url(url, mode)?).await?, Some(mode)),
        };
        let tools = client.list_tools().await;
        client.close().await;
        anyhow::Ok((tools?, prefix))
    }
    .await
    .map_err(|e| format!("{e:#}"))?;
    let (tools, prefix) = observed;
    if bless {
        if prefix.is_some() {
            return Err("bless tools/list over stdio only".into());
        }
        let mut text = serde_json::to_string_pretty(&tools).map_err(|e| e.to_string())?;
        text.push('\n');
        return std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()));
    }
    let golden: Value = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e}", path.display()))
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("{}: {e}", path.display())))?;
    let golden = match prefix {
        Some(m) => as_endpoint(golden, m),
        None => golden,
    };
    let e = Expect {
        is_error: false,
        text: vec![],
        structured: golden,
    };
    let a = Expect {
        is_error: false,
        text: vec![],
        structured: tools,
    };
    compare::compare(&e, &a, &[]).map_err(|m| m.replacen("structured", "tools", 1))
}

/// The golden tools as a per-connection endpoint announces them.
fn as_endpoint(mut tools: Value, mode: &str) -> Value {
    if let Some(list) = tools.as_array_mut() {
        for t in list {
            if let Some(Value::String(name)) = t.get_mut("name") {
                *name = format!("{mode}_{name}");
            }
            if let Some(Value::Object(props)) = t.pointer_mut("/inputSchema/properties") {
                props.remove("connection");
            }
            if let Some(Value::Array(req)) = t.pointer_mut("/inputSchema/required") {
                req.retain(|r| r != "connection");
            }
        }
    }
    tools
}

/// Our server over HTTP on the stack's YAML, on an ephemeral port.
fn serve_http(server: &Path, stack: &Stack) -> anyhow::Result<crate::procs::Process> {
    let config = stack.yaml_path().to_string_lossy().to_string();
    crate::procs::Process::start(
        server,
        &[
            "serve",
            "--transport",
            "http",
            "--config",
            &config,
            "--bind",
            "127.0.0.1:0",
        ],
    )
}

/// The `cargo xtask e2e` step: the goldens against our server over stdio, then over HTTP.
pub fn e2e() -> anyhow::Result<()> {
    let root = crate::root();
    let stack = Stack::start(
        &root.join("target/debug/trino-emulator"),
        0,
        &root.join("target/conformance"),
    )?;
    e2e_on(stack)
}

/// The goldens against our server over stdio and over HTTP on a started stack (emulators,
/// or real Trino with `e2e --backend docker`).
pub fn e2e_on(stack: Stack) -> anyhow::Result<()> {
    let root = crate::root();
    stack.main_env()?;
    let server = root.join("target/debug/mcp-trino");
    let stdio = run_target(
        &stack,
        &Target::Stdio(vec![server.to_string_lossy().to_string()], None),
        None,
        false,
    )?;
    let http = serve_http(&server, &stack)?;
    let over_http = run_target(
        &stack,
        &Target::Http(format!("{}/mcp", http.url)),
        None,
        false,
    )?;
    if stdio.failed + over_http.failed > 0 {
        bail!(
            "conformance: {} failed over stdio, {} over HTTP",
            stdio.failed,
            over_http.failed
        );
    }
    Ok(())
}
