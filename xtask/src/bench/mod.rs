//! `cargo xtask bench [--quick]`: result paging and formatting against the limit and against
//! other servers (issue #7). Every figure is a ratio measured in the same run.
//!
//! The debug xtask builds release binaries (`mcp-trino`, `trino-emulator`, itself, and the
//! `format` bench) and re-runs itself from `target/release/xtask`, so that the clients measured
//! here (the bare protocol loop, rmcp's MCP client) are optimised like the server they measure.
//!
//! Steps (each prints its figures; the table at the end says which targets are met):
//! - formatting: the `format` criterion bench's summary mode (best of interleaved rounds, a
//!   counting allocator for allocations per row);
//! - paging: `trino_query` returning 10,000 rows over stdio and HTTP against a plain reqwest
//!   loop that follows `nextUri` and parses the same pages, with 100-, 1,000- and 10,000-row
//!   pages (one emulator per page size);
//! - early stop: `limit 1000` over the 10-million-row table against the same over a 1,000-row
//!   table, with the cancels counted on the cluster and the server's peak RSS (`VmHWM`);
//! - throughput: 8 and 64 concurrent MCP sessions over HTTP, calls/s, p50/p99 and the server's
//!   CPU time per call (`/proc/<pid>/stat`);
//! - start-up: process start to the answer of the first `tools/list` over stdio;
//! - peers: `benches/peers/peer_bench.py` (the Python Trino MCP servers from PyPI, and ours,
//!   against one emulator, driven by the same Python client).
//!
//! Results go to stdout and to `benches/RESULTS.md`, between markers of the mode that ran;
//! everything else in that file (the profile notes) is kept.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{cargo, root, run as run_step};

type Mcp = RunningService<RoleClient, ()>;

const PAGING_SQL: &str = "SELECT * FROM synthetic.default.numbers LIMIT 10000";
const PAGING_ROWS: usize = 10_000;
const PAGE_SIZES: [usize; 3] = [100, 1_000, 10_000];
const EARLY_SQL: &str = "SELECT * FROM synthetic.default.numbers";
const EARLY_LIMIT: usize = 1_000;
const BIG_TABLE: u64 = 10_000_000;
const SMALL_SQL: &str = "SELECT nationkey, name FROM tpch.tiny.nation";
const CLIENT_LEVELS: [usize; 2] = [8, 64];
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Where the release child finds the `format` bench executable (set by the debug parent).
const FORMAT_EXE_ENV: &str = "MCP_TRINO_BENCH_FORMAT_EXE";
const BUILD_SECS_ENV: &str = "MCP_TRINO_BENCH_BUILD_SECS";
/// For profiling one step: a comma list of areas (`formatting,paging,early stop,throughput,
/// start-up,peers`); a partial run does not touch RESULTS.md.
const ONLY_ENV: &str = "MCP_TRINO_BENCH_ONLY";

fn wanted(area: &str) -> bool {
    std::env::var(ONLY_ENV).map_or(true, |only| only.split(',').any(|a| a.trim() == area))
}

/// Targets of issue #7.
const FORMAT_TARGET: f64 = 1.5;
const PAGING_TARGET: f64 = 1.3;
const EARLY_TARGET: f64 = 2.0;
const RSS_TARGET_MIB: f64 = 64.0;
const PEER_TARGET: f64 = 5.0;

pub fn run(quick: bool) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        relaunch(quick)
    } else {
        measure(quick)
    }
}

fn command_line(quick: bool) -> &'static str {
    if quick {
        "cargo xtask bench --quick"
    } else {
        "cargo xtask bench"
    }
}

/// Build everything measured, in release, then run the measurements from the release xtask.
fn relaunch(quick: bool) -> anyhow::Result<()> {
    let t = Instant::now();
    let release = root().join("target/release");
    if !release.join("trino-emulator").exists() {
        eprintln!(
            "note: the first release build compiles DataFusion (the emulator's engine): about 10 \
             minutes on 2 cores"
        );
    }
    run_step(
        "cargo build --release -p mcp-trino -p trino-testkit --bins",
        cargo().args([
            "build",
            "--release",
            "-p",
            "mcp-trino",
            "-p",
            "trino-testkit",
            "--bins",
        ]),
    )?;
    run_step(
        "cargo build --release -p xtask",
        cargo().args(["build", "--release", "-p", "xtask"]),
    )?;
    let format_exe = format_bench_exe()?;
    let build_secs = t.elapsed().as_secs_f64();
    let exe = release.join("xtask");
    let mut cmd = Command::new(&exe);
    cmd.arg("bench")
        .env(FORMAT_EXE_ENV, &format_exe)
        .env(BUILD_SECS_ENV, format!("{build_secs:.0}"))
        .current_dir(root());
    if quick {
        cmd.arg("--quick");
    }
    eprintln!("==> {} (release build of the xtask)", exe.display());
    let status = cmd
        .status()
        .with_context(|| format!("starting {}", exe.display()))?;
    if !status.success() {
        bail!("the release xtask failed ({status})");
    }
    Ok(())
}

/// Compile the `format` bench (bench profile) and return its executable.
fn format_bench_exe() -> anyhow::Result<PathBuf> {
    eprintln!("==> cargo bench -p mcp-trino --bench format --no-run");
    let out = cargo()
        .args([
            "bench",
            "-p",
            "mcp-trino",
            "--bench",
            "format",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("starting cargo bench")?;
    if !out.status.success() {
        bail!("cargo bench --no-run failed ({})", out.status);
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "format")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo did not report the format bench's executable")
}

// ---------------------------------------------------------------------------------------------
// The results table

#[derive(Clone, Copy, PartialEq)]
enum Status {
    Met,
    Missed,
    /// A figure without a target of its own.
    Info,
    NotRun,
}

impl Status {
    fn of(met: bool) -> Status {
        if met { Status::Met } else { Status::Missed }
    }
    fn label(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Missed => "MISSED",
            Status::Info => "-",
            Status::NotRun => "NOT RUN",
        }
    }
}

struct Row {
    area: &'static str,
    figure: String,
    value: String,
    target: String,
    status: Status,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    /// Step timings and free-form details for RESULTS.md.
    details: Vec<String>,
}

impl Report {
    fn row(&mut self, area: &'static str, figure: String, value: String, target: &str, s: Status) {
        println!(
            "  {area:<11} {figure:<46} {value:<52} {target:<12} {}",
            s.label()
        );
        self.rows.push(Row {
            area,
            figure,
            value,
            target: target.to_string(),
            status: s,
        });
    }

    fn not_run(&mut self, area: &'static str, why: String) {
        self.row(area, "(step)".into(), why, "", Status::NotRun);
    }

    fn detail(&mut self, line: String) {
        println!("  {line}");
        self.details.push(line);
    }

    fn table(&self) -> String {
        let w =
            |f: fn(&Row) -> usize, h: &str| self.rows.iter().map(f).max().unwrap_or(0).max(h.len());
        let (wa, wf, wv, wt) = (
            w(|r| r.area.len(), "area"),
            w(|r| r.figure.chars().count(), "figure"),
            w(|r| r.value.chars().count(), "value"),
            w(|r| r.target.chars().count(), "target"),
        );
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<wa$}  {:<wf$}  {:<wv$}  {:<wt$}  status",
            "area", "figure", "value", "target"
        );
        let _ = writeln!(s, "{}", "-".repeat(wa + wf + wv + wt + 14));
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{:<wa$}  {:<wf$}  {:<wv$}  {:<wt$}  {}",
                r.area,
                r.figure,
                r.value,
                r.target,
                r.status.label()
            );
        }
        s
    }

    fn markdown(&self) -> String {
        let mut s =
            String::from("| area | figure | value | target | status |\n|---|---|---|---|---|\n");
        for r in &self.rows {
            let esc = |t: &str| t.replace('|', "\\|");
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                r.area,
                esc(&r.figure),
                esc(&r.value),
                esc(&r.target),
                r.status.label()
            );
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Processes and /proc

/// A child that prints `... listening on <url>` first; killed on drop. Its stderr goes to a
/// log file.
struct Proc {
    child: Child,
    url: String,
}

impl Proc {
    fn start(bin: &Path, args: &[&str], log: &Path) -> anyhow::Result<Proc> {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .env("RUST_LOG", "warn")
            .env("MCP_TRINO_LOG", "warn");
        clean_env(&mut cmd);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{} did not report readiness within 60 s (log: {})",
                    bin.display(),
                    log.display()
                );
            }
        };
        let url = line
            .split_once(" listening on ")
            .map(|(_, u)| u.trim().to_string())
            .with_context(|| format!("unexpected first line from {}: {line}", bin.display()))?;
        Ok(Proc { child, url })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn port(&self) -> String {
        self.url.rsplit(':').next().unwrap_or_default().to_string()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// No inherited `TRINO_*` / `MCP_TRINO_*` variable reaches a process we measure.
fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("TRINO_") || k.starts_with("MCP_TRINO_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("MCP_TRINO_LOG", "warn");
}

fn clk_tck() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU time of a process, in clock ticks.
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3, utime 14, stime 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// A `/proc/<pid>/status` value in KiB (`VmHWM`, `VmRSS`).
fn status_kib(pid: u32, key: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

// ---------------------------------------------------------------------------------------------
// Statistics

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

// ---------------------------------------------------------------------------------------------
// Clients: the bare protocol loop and MCP sessions

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
async fn bare(http: &reqwest::Client, base: &str, sql: &str) -> anyhow::Result<usize> {
    let mut rows = 0;
    let mut resp = http
        .post(format!("{base}/v1/statement"))
        .header("X-Trino-User", "bench")
        .body(sql.to_string())
        .send()
        .await?;
    loop {
        let body = resp.error_for_status()?.bytes().await?;
        let page: Page = serde_json::from_slice(&body)?;
        if let Some(e) = page.error {
            bail!("query failed: {e}");
        }
        rows += page.data.map_or(0, |d| std::hint::black_box(d).len());
        match page.next_uri {
            Some(next) => {
                resp = http
                    .get(next)
                    .header("X-Trino-User", "bench")
                    .send()
                    .await?
            }
            None => return Ok(rows),
        }
    }
}

/// The bare protocol's early stop: read pages until `limit` rows are in, then cancel the
/// rest with a DELETE on `nextUri`, as a minimal client would. Rows and bytes read.
async fn bare_first(
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

async fn stdio_session(
    bin: &Path,
    config: &Path,
    log: &Path,
) -> anyhow::Result<(Mcp, Option<u32>)> {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.arg("--config").arg(config);
    for (k, _) in std::env::vars() {
        if k.starts_with("TRINO_") || k.starts_with("MCP_TRINO_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("MCP_TRINO_LOG", "warn");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::from(log))
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let pid = transport.id();
    let svc = tokio::time::timeout(CALL_TIMEOUT, ().serve(transport))
        .await
        .context("MCP handshake (stdio) timed out")?
        .context("MCP handshake (stdio)")?;
    Ok((svc, pid))
}

async fn http_session(url: &str) -> anyhow::Result<Mcp> {
    let cfg = StreamableHttpClientTransportConfig::with_uri(url.to_string());
    tokio::time::timeout(
        CALL_TIMEOUT,
        ().serve(StreamableHttpClientTransport::from_config(cfg)),
    )
    .await
    .context("MCP handshake (HTTP) timed out")?
    .context("MCP handshake (HTTP)")
}

fn query_args(sql: &str, limit: usize, connection: &str) -> serde_json::Map<String, Value> {
    json!({"sql": sql, "limit": limit, "connection": connection})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// One `trino_query` call; the result, refused when it is an error.
async fn query(c: &Mcp, args: &serde_json::Map<String, Value>) -> anyhow::Result<CallToolResult> {
    let params = CallToolRequestParams::new("trino_query").with_arguments(args.clone());
    let r = tokio::time::timeout(CALL_TIMEOUT, c.call_tool(params))
        .await
        .context("tools/call timed out")??;
    if r.is_error == Some(true) {
        let text = r
            .content
            .first()
            .and_then(|c| c.as_text())
            .map(|t| t.text.clone())
            .unwrap_or_default();
        bail!(
            "trino_query failed: {}",
            text.chars().take(400).collect::<String>()
        );
    }
    Ok(r)
}

fn row_count(r: &CallToolResult) -> usize {
    r.structured_content
        .as_ref()
        .and_then(|s| s["row_count"].as_u64())
        .unwrap_or(0) as usize
}

fn truncated_by(r: &CallToolResult) -> Option<String> {
    r.structured_content
        .as_ref()
        .and_then(|s| s["stats"]["truncated_by"].as_str())
        .map(str::to_string)
}

async fn emulator_cancels(http: &reqwest::Client, url: &str) -> anyhow::Result<u64> {
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

// ---------------------------------------------------------------------------------------------
// The run

struct Profile {
    quick: bool,
    paging_reps: usize,
    early_reps: usize,
    window: Duration,
    startup_runs: usize,
}

struct Stack {
    dir: PathBuf,
    server_bin: PathBuf,
    config: PathBuf,
    /// Page size -> emulator.
    paging: Vec<(usize, Proc)>,
    big: Proc,
    small: Proc,
    http: reqwest::Client,
}

fn measure(quick: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let p = Profile {
        quick,
        paging_reps: if quick { 9 } else { 31 },
        early_reps: if quick { 9 } else { 31 },
        window: Duration::from_secs(if quick { 5 } else { 20 }),
        startup_runs: if quick { 5 } else { 21 },
    };
    let release = root().join("target/release");
    let server_bin = release.join("mcp-trino");
    let emulator_bin = release.join("trino-emulator");
    for b in [&server_bin, &emulator_bin] {
        if !b.exists() {
            bail!(
                "{} is missing: run `cargo xtask bench` (it builds the release binaries)",
                b.display()
            );
        }
    }
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let _ = rustls::crypto::ring::default_provider().install_default();

    let mut report = Report::default();
    println!(
        "\n==> {} ({} CPUs, load {})",
        command_line(quick),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );

    if wanted("formatting") {
        let t = Instant::now();
        println!("\n==> formatting: 10,000 rows x 12 columns (the `format` bench's summary mode)");
        if let Err(e) = formatting(&p, &dir, &mut report) {
            report.not_run("formatting", format!("{e:#}"));
        }
        report
            .details
            .push(format!("formatting: {:.0} s", t.elapsed().as_secs_f64()));
    }

    // Emulators: one per page size, the 10M-row table, a 1,000-row table.
    let elog = |name: &str| dir.join(format!("emulator-{name}.log"));
    let mut paging = Vec::new();
    for rows in PAGE_SIZES {
        let r = rows.to_string();
        paging.push((
            rows,
            Proc::start(
                &emulator_bin,
                &[
                    "--bind",
                    "127.0.0.1:0",
                    "--cluster",
                    "prod",
                    "--page-rows",
                    &r,
                    "--synthetic-rows",
                    "100000",
                ],
                &elog(&format!("p{rows}")),
            )?,
        ));
    }
    let big_rows = BIG_TABLE.to_string();
    let big = Proc::start(
        &emulator_bin,
        &[
            "--bind",
            "127.0.0.1:0",
            "--cluster",
            "prod",
            "--synthetic-rows",
            &big_rows,
        ],
        &elog("big"),
    )?;
    let small = Proc::start(
        &emulator_bin,
        &[
            "--bind",
            "127.0.0.1:0",
            "--cluster",
            "prod",
            "--synthetic-rows",
            "1000",
        ],
        &elog("small"),
    )?;
    let config = dir.join("config.yaml");
    let stack = Stack {
        dir: dir.clone(),
        server_bin,
        config: config.clone(),
        paging,
        big,
        small,
        http: reqwest::Client::new(),
    };
    std::fs::write(&config, stack.yaml())?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let steps: [(&str, &'static str); 4] = [
        (
            "paging: trino_query returning 10,000 rows vs the bare protocol loop",
            "paging",
        ),
        (
            "early stop: limit 1,000 over 10,000,000 rows vs over 1,000 rows",
            "early stop",
        ),
        (
            "throughput: concurrent MCP sessions over HTTP",
            "throughput",
        ),
        (
            "start-up: process start to the first tools/list answer (stdio)",
            "start-up",
        ),
    ];
    for (title, area) in steps {
        if !wanted(area) {
            continue;
        }
        println!("\n==> {title}");
        let t = Instant::now();
        let r = rt.block_on(async {
            match area {
                "paging" => stack.paging(&p, &mut report).await,
                "early stop" => stack.early_stop(&p, &mut report).await,
                "throughput" => stack.throughput(&p, &mut report).await,
                _ => stack.startup(&p, &mut report).await,
            }
        });
        if let Err(e) = r {
            report.not_run(area, format!("{e:#}"));
        }
        report
            .details
            .push(format!("{area}: {:.0} s", t.elapsed().as_secs_f64()));
    }
    drop(rt);
    let Stack {
        paging, big, small, ..
    } = stack;
    drop((paging, big, small));

    if wanted("peers") {
        println!(
            "\n==> peers: benches/peers/peer_bench.py (Python MCP servers from PyPI, and ours)"
        );
        let t = Instant::now();
        if let Err(e) = peers(&p, &dir, &emulator_bin, &mut report) {
            report.not_run("peers", format!("{e:#}"));
        }
        report
            .details
            .push(format!("peers: {:.0} s", t.elapsed().as_secs_f64()));
    }

    let elapsed = started.elapsed().as_secs_f64();
    let table = report.table();
    let met = report
        .rows
        .iter()
        .filter(|r| r.status == Status::Met)
        .count();
    let targets = report
        .rows
        .iter()
        .filter(|r| matches!(r.status, Status::Met | Status::Missed))
        .count();
    let not_run = report
        .rows
        .iter()
        .filter(|r| r.status == Status::NotRun)
        .count();
    println!("\n==> results ({})\n", command_line(quick));
    print!("{table}");
    println!(
        "\n{met} of {targets} targets met{}; measured in {elapsed:.0} s{}",
        if not_run > 0 {
            format!(", {not_run} step(s) not run")
        } else {
            String::new()
        },
        std::env::var(BUILD_SECS_ENV)
            .map(|s| format!(" (plus {s} s of build checks before)"))
            .unwrap_or_default()
    );
    if std::env::var_os(ONLY_ENV).is_some() {
        println!("(a partial run: {ONLY_ENV} is set; benches/RESULTS.md left alone)");
        return Ok(());
    }
    let path = write_results(&report, quick, elapsed)?;
    println!("written to {}", path.display());
    Ok(())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

impl Stack {
    /// One connection per emulator; generous limits on the throughput connection (`small`) so
    /// that 64 clients are measured, not refused, with the limiter in the path.
    fn yaml(&self) -> String {
        let mut s = String::from(
            "# Written by `cargo xtask bench`.\nserver:\n  shutdown_grace_seconds: 1\nconnections:\n",
        );
        let conn = |s: &mut String, name: &str, port: &str| {
            let _ = write!(
                s,
                "  {name}:\n    host: 127.0.0.1\n    port: {port}\n    user: bench\n"
            );
        };
        for (rows, e) in &self.paging {
            conn(&mut s, &format!("p{rows}"), &e.port());
        }
        conn(&mut s, "big", &self.big.port());
        conn(&mut s, "small", &self.small.port());
        s.push_str(
            "    limits:\n      requests_per_window: 1000000\n      window_seconds: 60\n      max_concurrent_queries: 1024\n",
        );
        s
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    fn http_server(&self) -> anyhow::Result<Proc> {
        let config = self.config.to_string_lossy().to_string();
        Proc::start(
            &self.server_bin,
            &[
                "serve",
                "--transport",
                "http",
                "--bind",
                "127.0.0.1:0",
                "--config",
                &config,
            ],
            &self.log("server-http"),
        )
    }

    async fn paging(&self, p: &Profile, report: &mut Report) -> anyhow::Result<()> {
        let (stdio, stdio_pid) =
            stdio_session(&self.server_bin, &self.config, &self.log("server-stdio")).await?;
        let server = self.http_server()?;
        let http = http_session(&format!("{}/mcp", server.url)).await?;
        let pids = [
            stdio_pid.map(|p| p.to_string()).unwrap_or_default(),
            server.pid().to_string(),
        ];
        let tck = clk_tck();
        for (rows, emu) in &self.paging {
            let args = query_args(PAGING_SQL, PAGING_ROWS, &format!("p{rows}"));
            let check = |r: &CallToolResult, via: &str| -> anyhow::Result<()> {
                let n = row_count(r);
                if n != PAGING_ROWS || truncated_by(r).is_some() {
                    bail!("{via}: {n} rows (truncated by {:?})", truncated_by(r));
                }
                Ok(())
            };
            // Warm-up: the engine's first scan, connection pools, allocators.
            for _ in 0..2 {
                let n = bare(&self.http, &emu.url, PAGING_SQL).await?;
                if n != PAGING_ROWS {
                    bail!("bare loop: {n} rows");
                }
                check(&query(&stdio, &args).await?, "stdio")?;
                check(&query(&http, &args).await?, "HTTP")?;
            }
            // Interleaved rounds; CPU ticks of the server, the emulator and this client around
            // each call say where the time goes.
            let emu_pid = emu.pid().to_string();
            let mut times: [Vec<f64>; 3] = Default::default();
            let mut cpu = [[0u64; 3]; 3];
            for _ in 0..p.paging_reps {
                for mode in 0..3 {
                    let server_pid = [None, Some(&pids[0]), Some(&pids[1])][mode];
                    let ticks = || {
                        [
                            server_pid.and_then(|p| cpu_ticks(p)).unwrap_or(0),
                            cpu_ticks(&emu_pid).unwrap_or(0),
                            cpu_ticks("self").unwrap_or(0),
                        ]
                    };
                    let before = ticks();
                    let t = Instant::now();
                    match mode {
                        0 => {
                            bare(&self.http, &emu.url, PAGING_SQL).await?;
                        }
                        1 => check(&query(&stdio, &args).await?, "stdio")?,
                        _ => check(&query(&http, &args).await?, "HTTP")?,
                    }
                    times[mode].push(ms(t.elapsed()));
                    for (acc, (a, b)) in cpu[mode].iter_mut().zip(ticks().iter().zip(before)) {
                        *acc += a.saturating_sub(b);
                    }
                }
            }
            let m: Vec<f64> = times.iter().map(|v| median(v)).collect();
            let per_call = |t: u64| t as f64 * 1e3 / tck / p.paging_reps as f64;
            report.detail(format!(
                "paging {rows}-row pages, bare loop: median {:.1} ms; CPU per call: emulator {:.1} ms, client {:.1} ms",
                m[0],
                per_call(cpu[0][1]),
                per_call(cpu[0][2]),
            ));
            for (i, via) in ["stdio", "HTTP"].into_iter().enumerate() {
                let ratio = m[i + 1] / m[0];
                report.row(
                    "paging",
                    format!("trino_query over {via}, {rows}-row pages"),
                    format!("{:.1} ms vs bare {:.1} ms: {ratio:.2}x", m[i + 1], m[0]),
                    &format!("<= {PAGING_TARGET}x"),
                    Status::of(ratio <= PAGING_TARGET),
                );
                let c = &cpu[i + 1];
                report.detail(format!(
                    "paging {rows}-row pages over {via}: median {:.1} ms; CPU per call: server {:.1} ms, emulator {:.1} ms, client {:.1} ms",
                    m[i + 1],
                    per_call(c[0]),
                    per_call(c[1]),
                    per_call(c[2]),
                ));
            }
        }
        let _ = stdio.cancel().await;
        let _ = http.cancel().await;
        drop(server);
        Ok(())
    }

    async fn early_stop(&self, p: &Profile, report: &mut Report) -> anyhow::Result<()> {
        // One server process per table, so that each one's peak RSS is its own.
        let (s_small, pid_small) = stdio_session(
            &self.server_bin,
            &self.config,
            &self.log("server-early-small"),
        )
        .await?;
        let (s_big, pid_big) = stdio_session(
            &self.server_bin,
            &self.config,
            &self.log("server-early-big"),
        )
        .await?;
        let a_small = query_args(EARLY_SQL, EARLY_LIMIT, "small");
        let a_big = query_args(EARLY_SQL, EARLY_LIMIT, "big");
        for _ in 0..2 {
            query(&s_small, &a_small).await?;
            query(&s_big, &a_big).await?;
        }
        for emu in [&self.small, &self.big] {
            bare_first(&self.http, &emu.url, EARLY_SQL, EARLY_LIMIT).await?;
        }
        let cancels0 = emulator_cancels(&self.http, &self.big.url).await?;
        let small_cancels0 = emulator_cancels(&self.http, &self.small.url).await?;
        let (mut t_small, mut t_big) = (Vec::new(), Vec::new());
        // The floor: the same early stop by the bare protocol loop (its own DELETEs are counted
        // apart from ours).
        let (mut b_small, mut b_big, mut big_bytes, mut bare_cancels) =
            (Vec::new(), Vec::new(), 0, 0);
        let tck = clk_tck();
        let (big_emu, big_srv) = (
            self.big.pid().to_string(),
            pid_big.map(|p| p.to_string()).unwrap_or_default(),
        );
        let mut big_cpu = [0u64; 2];
        for _ in 0..p.early_reps {
            let t = Instant::now();
            bare_first(&self.http, &self.small.url, EARLY_SQL, EARLY_LIMIT).await?;
            b_small.push(ms(t.elapsed()));
            let c0 = emulator_cancels(&self.http, &self.big.url).await?;
            let t = Instant::now();
            let (_, bytes) = bare_first(&self.http, &self.big.url, EARLY_SQL, EARLY_LIMIT).await?;
            b_big.push(ms(t.elapsed()));
            big_bytes = bytes;
            bare_cancels += emulator_cancels(&self.http, &self.big.url).await? - c0;
            let t = Instant::now();
            let r = query(&s_small, &a_small).await?;
            t_small.push(ms(t.elapsed()));
            if row_count(&r) != EARLY_LIMIT || truncated_by(&r).is_some() {
                bail!(
                    "1,000-row table: {} rows, truncated by {:?}",
                    row_count(&r),
                    truncated_by(&r)
                );
            }
            let before = [
                cpu_ticks(&big_srv).unwrap_or(0),
                cpu_ticks(&big_emu).unwrap_or(0),
            ];
            let t = Instant::now();
            let r = query(&s_big, &a_big).await?;
            t_big.push(ms(t.elapsed()));
            big_cpu[0] += cpu_ticks(&big_srv).unwrap_or(0).saturating_sub(before[0]);
            big_cpu[1] += cpu_ticks(&big_emu).unwrap_or(0).saturating_sub(before[1]);
            if row_count(&r) != EARLY_LIMIT || truncated_by(&r).as_deref() != Some("limit") {
                bail!(
                    "10M-row table: {} rows, truncated by {:?}",
                    row_count(&r),
                    truncated_by(&r)
                );
            }
        }
        let cancels = emulator_cancels(&self.http, &self.big.url).await? - cancels0 - bare_cancels;
        let small_cancels = emulator_cancels(&self.http, &self.small.url).await? - small_cancels0;
        let (mb, msm) = (median(&t_big), median(&t_small));
        let ratio = mb / msm;
        report.row(
            "early stop",
            "limit 1,000: 10M-row table vs 1,000-row table".into(),
            format!("{mb:.1} ms vs {msm:.1} ms: {ratio:.2}x"),
            &format!("<= {EARLY_TARGET}x"),
            Status::of(ratio <= EARLY_TARGET),
        );
        report.row(
            "early stop",
            "cancels seen on the cluster (10M-row table)".into(),
            format!("{cancels} of {} calls", p.early_reps),
            "every call",
            Status::of(cancels == p.early_reps as u64),
        );
        report.detail(format!(
            "early stop: cancels on the 1,000-row cluster: {small_cancels} (the query ends by itself)"
        ));
        let (bb, bs) = (median(&b_big), median(&b_small));
        report.detail(format!(
            "early stop floor, bare protocol loop (read past 1,000 rows, then DELETE): {bb:.1} ms vs {bs:.1} ms: {:.2}x; \
             the 10M-row table's first data page is {} KiB",
            bb / bs,
            big_bytes / 1024
        ));
        let per_call = |t: u64| t as f64 * 1e3 / tck / p.early_reps as f64;
        report.detail(format!(
            "early stop, 10M-row table: CPU per call: server {:.1} ms, emulator {:.1} ms",
            per_call(big_cpu[0]),
            per_call(big_cpu[1])
        ));
        for (label, pid) in [("10M-row table", pid_big), ("1,000-row table", pid_small)] {
            let hwm = pid.and_then(|p| status_kib(p, "VmHWM"));
            let mib = hwm.map(|k| k as f64 / 1024.0);
            report.row(
                "early stop",
                format!("server peak RSS (VmHWM), {label}"),
                mib.map_or("unknown".into(), |m| format!("{m:.1} MiB")),
                &format!("< {RSS_TARGET_MIB:.0} MiB"),
                mib.map_or(Status::NotRun, |m| Status::of(m < RSS_TARGET_MIB)),
            );
        }
        let _ = s_small.cancel().await;
        let _ = s_big.cancel().await;
        Ok(())
    }

    async fn throughput(&self, p: &Profile, report: &mut Report) -> anyhow::Result<()> {
        let server = self.http_server()?;
        let url = format!("{}/mcp", server.url);
        let pid = server.pid().to_string();
        let emu_pid = self.small.pid().to_string();
        let tck = clk_tck();
        let args = Arc::new(query_args(SMALL_SQL, 1000, "small"));
        for n in CLIENT_LEVELS {
            let mut sessions = Vec::with_capacity(n);
            for _ in 0..n {
                sessions.push(Arc::new(http_session(&url).await?));
            }
            for s in &sessions {
                query(s, &args).await?;
            }
            let (c0, e0, me0) = (
                cpu_ticks(&pid).unwrap_or(0),
                cpu_ticks(&emu_pid).unwrap_or(0),
                cpu_ticks("self").unwrap_or(0),
            );
            let t0 = Instant::now();
            let deadline = t0 + p.window;
            let mut tasks = Vec::with_capacity(n);
            for s in &sessions {
                let (s, args) = (s.clone(), args.clone());
                tasks.push(tokio::spawn(async move {
                    let (mut lat, mut errors) = (Vec::new(), 0usize);
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        match query(&s, &args).await {
                            Ok(r) if row_count(&r) == 25 => lat.push(ms(t.elapsed())),
                            _ => errors += 1,
                        }
                    }
                    (lat, errors)
                }));
            }
            let (mut lat, mut errors) = (Vec::new(), 0);
            for t in tasks {
                let (l, e) = t.await?;
                lat.extend(l);
                errors += e;
            }
            let elapsed = t0.elapsed().as_secs_f64();
            let cpu = cpu_ticks(&pid).unwrap_or(0).saturating_sub(c0) as f64 * 1e3 / tck;
            let emu_cpu = cpu_ticks(&emu_pid).unwrap_or(0).saturating_sub(e0) as f64 * 1e3 / tck;
            let me_cpu = cpu_ticks("self").unwrap_or(0).saturating_sub(me0) as f64 * 1e3 / tck;
            lat.sort_by(f64::total_cmp);
            let calls = lat.len();
            let per = |x: f64| x / calls.max(1) as f64;
            report.row(
                "throughput",
                format!("{n} clients over HTTP (25-row query)"),
                format!(
                    "{:.0} calls/s, p50 {:.1} ms, p99 {:.1} ms",
                    calls as f64 / elapsed,
                    percentile(&lat, 50.0),
                    percentile(&lat, 99.0)
                ),
                "-",
                if errors == 0 {
                    Status::Info
                } else {
                    Status::Missed
                },
            );
            report.row(
                "throughput",
                format!("{n} clients: server CPU per call"),
                format!(
                    "{:.2} ms (emulator {:.2} ms, client {:.2} ms)",
                    per(cpu),
                    per(emu_cpu),
                    per(me_cpu)
                ),
                "-",
                Status::Info,
            );
            report.detail(format!(
                "throughput {n} clients: {calls} calls in {elapsed:.1} s, {errors} errors"
            ));
            for s in sessions {
                if let Ok(s) = Arc::try_unwrap(s) {
                    let _ = s.cancel().await;
                }
            }
        }
        drop(server);
        Ok(())
    }

    async fn startup(&self, p: &Profile, report: &mut Report) -> anyhow::Result<()> {
        let mut times = Vec::new();
        for _ in 0..p.startup_runs {
            let t = Instant::now();
            let (c, _) =
                stdio_session(&self.server_bin, &self.config, &self.log("server-startup")).await?;
            let tools = tokio::time::timeout(CALL_TIMEOUT, c.list_all_tools())
                .await
                .context("tools/list timed out")??;
            times.push(ms(t.elapsed()));
            if tools.is_empty() {
                bail!("tools/list answered no tools");
            }
            let _ = c.cancel().await;
        }
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        report.row(
            "start-up",
            "process start to first tools/list answer (stdio)".into(),
            format!(
                "median {:.1} ms (min {:.1}, max {:.1}; {} runs)",
                median(&times),
                sorted[0],
                sorted[sorted.len() - 1],
                times.len()
            ),
            "-",
            Status::Info,
        );
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Formatting (the criterion bench's summary mode)

fn formatting(p: &Profile, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let exe = std::env::var(FORMAT_EXE_ENV).map(PathBuf::from).context(
        "the format bench was not built (run `cargo xtask bench`, not the release xtask directly)",
    )?;
    let out = dir.join("format.json");
    let mut cmd = Command::new(&exe);
    cmd.env("MCP_TRINO_BENCH_SUMMARY", &out).current_dir(root());
    if p.quick {
        cmd.env("MCP_TRINO_BENCH_QUICK", "1");
    }
    let status = cmd
        .status()
        .with_context(|| format!("starting {}", exe.display()))?;
    if !status.success() {
        bail!("the format bench failed ({status})");
    }
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
    let f = &v["figures"];
    let base = &f["baseline"];
    report.detail(format!(
        "formatting baseline (serde_json::to_string of the parsed rows): {:.2} ms, {:.1} allocs/row, best of {} rounds",
        base["best_ms"].as_f64().unwrap_or(f64::NAN),
        base["allocs_per_row"].as_f64().unwrap_or(f64::NAN),
        v["runs"]
    ));
    for (key, label) in [
        ("json", "json text"),
        ("csv", "csv text"),
        ("markdown", "markdown text"),
        ("structured", "structured output (build + serialise)"),
    ] {
        let x = &f[key];
        let ratio = x["ratio"].as_f64().unwrap_or(f64::NAN);
        report.row(
            "formatting",
            format!("{label} vs serde_json"),
            format!(
                "{:.2} ms vs {:.2} ms: {ratio:.2}x; {:.1} allocs/row",
                x["best_ms"].as_f64().unwrap_or(f64::NAN),
                base["best_ms"].as_f64().unwrap_or(f64::NAN),
                x["allocs_per_row"].as_f64().unwrap_or(f64::NAN)
            ),
            &format!("<= {FORMAT_TARGET}x"),
            Status::of(ratio <= FORMAT_TARGET),
        );
    }
    let call = &f["json_call"];
    report.row(
        "formatting",
        "whole json call (text + structured)".into(),
        format!(
            "{:.2} ms: {:.2}x; {:.1} allocs/row",
            call["best_ms"].as_f64().unwrap_or(f64::NAN),
            call["ratio"].as_f64().unwrap_or(f64::NAN),
            call["allocs_per_row"].as_f64().unwrap_or(f64::NAN)
        ),
        "-",
        Status::Info,
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Peers (benches/peers/peer_bench.py, owned by its own README)

fn peers(p: &Profile, dir: &Path, emulator_bin: &Path, report: &mut Report) -> anyhow::Result<()> {
    let script = root().join("benches/peers/peer_bench.py");
    if !script.exists() {
        bail!("{} is missing", script.display());
    }
    let python = "python3";
    // Instant when the venvs exist (a stamp per venv); a peer that fails to install is
    // reported by `run` as not installed.
    let status = Command::new(python)
        .arg(&script)
        .arg("setup")
        .current_dir(root())
        .status()
        .context("starting python3 (needed for the peer benchmark)")?;
    if status.code() == Some(1) {
        bail!("peer_bench.py setup could not make the client venv");
    }
    let emulator = Proc::start(
        emulator_bin,
        &["--bind", "127.0.0.1:0", "--cluster", "prod"],
        &dir.join("emulator-peers.log"),
    )?;
    let out = dir.join("peers.json");
    let _ = std::fs::remove_file(&out);
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .args(["run", "--emulator-url", &emulator.url, "--ours-bin"])
        .arg(root().join("target/release/mcp-trino"))
        .arg("--out")
        .arg(&out)
        .current_dir(root());
    if p.quick {
        cmd.arg("--quick");
    }
    let status = cmd.status().context("starting peer_bench.py run")?;
    drop(emulator);
    if !out.exists() {
        bail!("peer_bench.py run wrote no results ({status})");
    }
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
    let servers = &v["servers"];
    for (key, peer) in servers.as_object().into_iter().flatten() {
        if key.starts_with("ours") {
            continue;
        }
        let status = peer["status"].as_str().unwrap_or("ok");
        let r = &v["ratios"][key];
        if r.is_null() {
            report.row(
                "peers",
                key.clone(),
                format!("no comparison: {status}"),
                &format!(">= {PEER_TARGET}x"),
                Status::NotRun,
            );
            continue;
        }
        let base = r["compared_with"].as_str().unwrap_or("ours");
        if let Some(x) = r["paging_time_peer_over_ours"].as_f64() {
            let (pm, om) = (
                peer["paging"]["median_ms"].as_f64().unwrap_or(f64::NAN),
                servers[base]["paging"]["median_ms"]
                    .as_f64()
                    .unwrap_or(f64::NAN),
            );
            report.row(
                "peers",
                format!("{key}: paging 10k rows, stdio (time)"),
                format!("{pm:.0} ms vs ours {om:.0} ms: {x:.2}x"),
                &format!(">= {PEER_TARGET}x"),
                Status::of(x >= PEER_TARGET),
            );
            if let Some(raw) = r["paging_raw_peer_over_ours"].as_f64() {
                report.row(
                    "peers",
                    format!("{key}: paging, raw JSON-RPC (no client library)"),
                    format!(
                        "{:.0} ms vs ours {:.0} ms: {raw:.2}x",
                        peer["paging"]["raw_stdio_median_ms"]
                            .as_f64()
                            .unwrap_or(f64::NAN),
                        servers[base]["paging"]["raw_stdio_median_ms"]
                            .as_f64()
                            .unwrap_or(f64::NAN)
                    ),
                    "-",
                    Status::Info,
                );
            }
        }
        for (transport, levels) in r["throughput"].as_object().into_iter().flatten() {
            for (n, t) in levels.as_object().into_iter().flatten() {
                let cps = t["calls_per_s_ours_over_peer"].as_f64().unwrap_or(f64::NAN);
                let p50 = t["p50_peer_over_ours"].as_f64().unwrap_or(f64::NAN);
                let pr = &peer["throughput"][transport][n];
                let or = &servers[base]["throughput"][transport][n];
                report.row(
                    "peers",
                    format!("{key}: {transport}, {n} clients, calls/s"),
                    format!(
                        "{:.0} vs ours {:.0}: ours {cps:.2}x",
                        pr["calls_per_s"].as_f64().unwrap_or(f64::NAN),
                        or["calls_per_s"].as_f64().unwrap_or(f64::NAN)
                    ),
                    &format!(">= {PEER_TARGET}x"),
                    Status::of(cps >= PEER_TARGET),
                );
                report.row(
                    "peers",
                    format!("{key}: {transport}, {n} clients, p50"),
                    format!(
                        "{:.1} ms vs ours {:.1} ms: {p50:.2}x",
                        pr["p50_ms"].as_f64().unwrap_or(f64::NAN),
                        or["p50_ms"].as_f64().unwrap_or(f64::NAN)
                    ),
                    &format!(">= {PEER_TARGET}x"),
                    Status::of(p50 >= PEER_TARGET),
                );
                if let Some(cpu) = t["server_cpu_peer_over_ours"].as_f64() {
                    report.row(
                        "peers",
                        format!("{key}: {transport}, {n} clients, server CPU/call"),
                        format!(
                            "{:.2} ms vs ours {:.2} ms: {cpu:.2}x",
                            pr["server_cpu_ms_per_call"].as_f64().unwrap_or(f64::NAN),
                            or["server_cpu_ms_per_call"].as_f64().unwrap_or(f64::NAN)
                        ),
                        "-",
                        Status::Info,
                    );
                }
            }
        }
    }
    report.detail(format!(
        "peers: full results in {} (peer_bench.py, profile {}, {} s)",
        out.display(),
        v["meta"]["profile"].as_str().unwrap_or("?"),
        v["meta"]["elapsed_s"]
    ));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// benches/RESULTS.md

const RESULTS_HEAD: &str = "# Benchmark results\n\n\
`cargo xtask bench [--quick]` writes the sections between the `bench:` markers; everything \
else here (the notes on targets not met) is written by hand and kept.\n\n";

fn write_results(report: &Report, quick: bool, elapsed: f64) -> anyhow::Result<PathBuf> {
    let path = root().join("benches/RESULTS.md");
    let mode = if quick { "quick" } else { "full" };
    let (begin, end) = (
        format!("<!-- bench:{mode}:begin -->"),
        format!("<!-- bench:{mode}:end -->"),
    );
    let mut sec = String::new();
    let _ = writeln!(sec, "{begin}");
    let _ = writeln!(sec, "## `{}`\n", command_line(quick));
    let commit = Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(root())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let met = report
        .rows
        .iter()
        .filter(|r| r.status == Status::Met)
        .count();
    let targets = report
        .rows
        .iter()
        .filter(|r| matches!(r.status, Status::Met | Status::Missed))
        .count();
    let _ = writeln!(
        sec,
        "Run {date} at `{commit}`, {} CPUs, load average {} at the end; measured in {elapsed:.0} s{}. \
         {met} of {targets} targets met.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg(),
        std::env::var(BUILD_SECS_ENV)
            .map(|s| format!(" after {s} s of build checks"))
            .unwrap_or_default()
    );
    sec.push_str(&report.markdown());
    sec.push_str("\nDetails:\n\n");
    for d in &report.details {
        let _ = writeln!(sec, "- {d}");
    }
    let _ = writeln!(sec, "\n```text\n{}```", report.table());
    let _ = writeln!(sec, "{end}");

    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| RESULTS_HEAD.to_string());
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(b), Some(e)) if e > b => {
            format!("{}{}{}", &old[..b], sec.trim_end(), &old[e + end.len()..])
        }
        _ => format!("{}\n{}", old.trim_end(), sec),
    };
    std::fs::write(&path, new)?;
    Ok(path)
}
