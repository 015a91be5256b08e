//! Peers: the Trino MCP servers published on PyPI against ours, on one emulator, all driven by
//! the same rmcp client, so that the ratios compare servers and not clients (a Python client
//! costs more CPU per call than any of the servers it would measure, on a 2-core machine).
//!
//! `benches/peers/peer_bench.py setup` installs the peers into `target/peer-venvs/` (instant
//! once done); `peer_bench.py spec` says how to start each one and call its query tool. Each
//! server runs with the small explicit environment the spec gives, in an empty directory.
//! Paging is over stdio for every server; load is over Streamable HTTP where a peer has it,
//! over stdio (one session, that many calls in flight) where it has not, and ours runs both.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rmcp::model::CallToolResult;
use serde::Deserialize;
use serde_json::Value;

use super::client::{
    Args, Load, Mcp, Work, bare, call, close, http_session, load, spawn_stdio, text_of,
};
use super::probe::{median, ms, start, ticks_ms, tree_ticks};
use super::report::{Report, Status};
use super::{CLIENT_LEVELS, PEER_TARGET, Profile};
use crate::root;

/// The small query's row count (`SELECT nationkey, name FROM tpch.tiny.nation`).
const SMALL_ROWS: usize = 25;
/// An HTTP server must accept connections within this.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(30);
/// All sessions of a load level opened and warmed up within this.
const SESSIONS_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Deserialize)]
struct Spec {
    servers: Vec<Server>,
}

#[derive(Deserialize)]
struct Server {
    key: String,
    #[serde(default)]
    version: Option<String>,
    /// Why it cannot run (not installed), or none.
    available: Option<String>,
    tool: String,
    cwd: PathBuf,
    paging_rows: usize,
    small_rows: usize,
    paging_arguments: Args,
    small_arguments: Args,
    #[serde(default)]
    stdio: Option<Launch>,
    #[serde(default)]
    http: Option<HttpLaunch>,
}

#[derive(Deserialize)]
struct Launch {
    command: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

/// `{port}` and `{port2}` in these stand for free ports.
#[derive(Deserialize)]
struct HttpLaunch {
    argv: Vec<String>,
    env: BTreeMap<String, String>,
    url: String,
}

struct Paging {
    median_ms: f64,
    cpu_ms: f64,
}

/// One server's figures; failures are kept as their reason.
struct Figures {
    paging: Result<Paging, String>,
    /// (transport, clients) -> load.
    load: BTreeMap<(&'static str, usize), Result<Load, String>>,
}

const HTTP: &str = "streamable-http";
const STDIO: &str = "stdio";

pub(super) async fn peers(
    p: &Profile,
    dir: &Path,
    emulator_bin: &Path,
    server_bin: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let script = root().join("benches/peers/peer_bench.py");
    // Instant when the venvs exist (a stamp per venv); a peer that fails to install is
    // reported by `spec` as not available.
    let status = Command::new("python3")
        .arg(&script)
        .arg("setup")
        .current_dir(root())
        .status()
        .context("starting python3 (it installs the peers)")?;
    if status.code() == Some(1) {
        bail!("peer_bench.py setup failed");
    }
    let dir = dir.join("peers");
    std::fs::create_dir_all(&dir)?;
    let emulator = start(
        emulator_bin,
        &["--bind", "127.0.0.1:0", "--cluster", "prod"],
        &dir.join("emulator.log"),
    )?;
    let out = Command::new("python3")
        .arg(&script)
        .args(["spec", "--emulator-url", &emulator.url, "--ours-bin"])
        .arg(server_bin)
        .arg("--out-dir")
        .arg(&dir)
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .context("starting peer_bench.py spec")?;
    if !out.status.success() {
        bail!("peer_bench.py spec failed ({})", out.status);
    }
    let spec: Spec = serde_json::from_slice(&out.stdout).context("reading peer_bench.py spec")?;
    // The first tpch scans generate the data: not part of any server's figures.
    let http = reqwest::Client::new();
    for _ in 0..2 {
        bare(
            &http,
            &emulator.url,
            "SELECT * FROM tpch.tiny.orders LIMIT 10000",
        )
        .await?;
    }
    let budget = Duration::from_secs(if p.quick { 100 } else { 300 });
    let mut figures: Vec<(&Server, Figures)> = Vec::new();
    for s in &spec.servers {
        if let Some(why) = &s.available {
            report.row(
                "peers",
                s.key.clone(),
                format!("not measured: {why}"),
                &format!(">= {PEER_TARGET}x"),
                Status::NotRun,
            );
            continue;
        }
        if s.small_rows != SMALL_ROWS {
            bail!(
                "the spec's small query returns {} rows, not {SMALL_ROWS}",
                s.small_rows
            );
        }
        println!("  -- {} {}", s.key, s.version.as_deref().unwrap_or(""));
        let t = Instant::now();
        let f = match tokio::time::timeout(budget, measure(p, s, &dir, emulator.pid())).await {
            Ok(f) => f,
            Err(_) => Figures {
                paging: Err(format!("over its {} s budget", budget.as_secs())),
                load: BTreeMap::new(),
            },
        };
        report.detail(format!(
            "peers: {} {} measured in {:.0} s",
            s.key,
            s.version.as_deref().unwrap_or("?"),
            t.elapsed().as_secs_f64()
        ));
        figures.push((s, f));
    }
    compare(&figures, report);
    Ok(())
}

async fn measure(p: &Profile, s: &Server, dir: &Path, emulator_pid: u32) -> Figures {
    let log = |what: &str| dir.join(format!("{}-{what}.log", s.key));
    let paging = match &s.stdio {
        Some(l) => paging(p, s, l, &log("stdio"))
            .await
            .map_err(|e| format!("{e:#}")),
        None => Err("no stdio launch in the spec".into()),
    };
    let mut transports = Vec::new();
    if s.http.is_some() {
        transports.push(HTTP);
    }
    if s.http.is_none() || s.key == "ours" {
        transports.push(STDIO);
    }
    let mut load = BTreeMap::new();
    for transport in transports {
        // One HTTP server for both levels, as a deployment would have it.
        let server = match (transport, &s.http) {
            (HTTP, Some(h)) => match HttpServer::start(h, &s.cwd, &log("http")).await {
                Ok(x) => Some(x),
                Err(e) => {
                    for n in CLIENT_LEVELS {
                        load.insert((transport, n), Err(format!("{e:#}")));
                    }
                    continue;
                }
            },
            _ => None,
        };
        for n in CLIENT_LEVELS {
            let r = level(p, s, server.as_ref(), n, &log(transport), emulator_pid).await;
            let r = match r {
                Ok(l) if l.calls == 0 => Err(l.first_error.unwrap_or_else(|| "no call".into())),
                Ok(l) => Ok(l),
                Err(e) => Err(format!("{e:#}")),
            };
            match &r {
                Ok(l) => println!(
                    "     {transport} x{n}: {:.0} calls/s, p50 {:.1} ms, server CPU {:.2} ms/call, {} errors",
                    l.calls_per_s, l.p50_ms, l.server_cpu_ms, l.errors
                ),
                Err(e) => println!("     {transport} x{n}: failed: {e}"),
            }
            load.insert((transport, n), r);
        }
    }
    Figures { paging, load }
}

/// The 10,000-row call over stdio: one warm-up, then `peer_paging_reps` timed calls.
async fn paging(p: &Profile, s: &Server, l: &Launch, log: &Path) -> anyhow::Result<Paging> {
    let (c, pid) = stdio(s, l, log).await?;
    let want = s.paging_rows;
    let check = |r: &CallToolResult| match rows_in(r) {
        Ok(n) if n == want => Ok(()),
        Ok(n) => Err(anyhow::anyhow!("{n} rows, not {want}")),
        Err(e) => Err(anyhow::anyhow!(e)),
    };
    check(&call(&c, &s.tool, &s.paging_arguments).await?)?;
    let (mut times, mut ticks) = (Vec::new(), 0);
    for _ in 0..p.peer_paging_reps {
        let before = pid.map_or(0, tree_ticks);
        let t = Instant::now();
        let r = call(&c, &s.tool, &s.paging_arguments).await?;
        times.push(ms(t.elapsed()));
        ticks += pid.map_or(0, tree_ticks).saturating_sub(before);
        check(&r)?;
    }
    let _ = c.cancel().await;
    println!(
        "     paging over stdio: median {:.1} ms of {} calls",
        median(&times),
        times.len()
    );
    Ok(Paging {
        median_ms: median(&times),
        cpu_ms: ticks_ms(ticks) / times.len().max(1) as f64,
    })
}

async fn stdio(s: &Server, l: &Launch, log: &Path) -> anyhow::Result<(Mcp, Option<u32>)> {
    let mut cmd = tokio::process::Command::new(&l.command);
    cmd.args(&l.args)
        .env_clear()
        .envs(&l.env)
        .current_dir(&s.cwd);
    spawn_stdio(cmd, log).await
}

/// `n` clients calling the small query: over HTTP one session each (all opened and warmed
/// up before the clock starts), over stdio one session with `n` calls in flight.
async fn level(
    p: &Profile,
    s: &Server,
    http: Option<&HttpServer>,
    n: usize,
    log: &Path,
    emulator_pid: u32,
) -> anyhow::Result<Load> {
    let work = Work {
        tool: &s.tool,
        args: &s.small_arguments,
        good: |r| match rows_in(r) {
            Ok(SMALL_ROWS) => Ok(()),
            Ok(n) => Err(format!("{n} rows, not {SMALL_ROWS}")),
            Err(e) => Err(e),
        },
    };
    let (sessions, pid) = match http {
        Some(h) => {
            let open = async {
                let mut set = tokio::task::JoinSet::new();
                let url = Arc::new(h.url.clone());
                let gate = Arc::new(tokio::sync::Semaphore::new(16));
                for _ in 0..n {
                    let (url, gate) = (url.clone(), gate.clone());
                    let (tool, args) = (s.tool.clone(), s.small_arguments.clone());
                    set.spawn(async move {
                        let _permit = gate.acquire().await?;
                        let c = http_session(&url).await?;
                        call(&c, &tool, &args).await?;
                        anyhow::Ok(Arc::new(c))
                    });
                }
                let mut sessions = Vec::with_capacity(n);
                while let Some(r) = set.join_next().await {
                    sessions.push(r??);
                }
                anyhow::Ok(sessions)
            };
            let sessions = tokio::time::timeout(SESSIONS_TIMEOUT, open)
                .await
                .with_context(|| format!("{n} sessions not open within {SESSIONS_TIMEOUT:?}"))??;
            (sessions, Some(h.pid()))
        }
        None => {
            let l = s.stdio.as_ref().context("no stdio launch in the spec")?;
            let (c, pid) = stdio(s, l, log).await?;
            call(&c, &s.tool, &s.small_arguments).await?;
            (vec![Arc::new(c)], pid)
        }
    };
    let l = load(&sessions, n, &work, p.peer_window, pid, &[emulator_pid]).await;
    close(sessions).await;
    l
}

/// Rows in a query tool's answer, whatever the server's shape: a JSON list of rows, or an
/// object with `rows`. Errors told in-band (with `isError` false) are errors here too.
fn rows_in(r: &CallToolResult) -> Result<usize, String> {
    let text = text_of(r);
    let cut = |t: &str| t.chars().take(200).collect::<String>();
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(rows)) => Ok(rows.len()),
        Ok(Value::Object(o)) => match (o.get("rows"), o.get("error")) {
            (Some(Value::Array(rows)), None) => Ok(rows.len()),
            (_, Some(e)) => Err(cut(&e.to_string())),
            _ => Err(cut(&text)),
        },
        _ => Err(cut(&text)),
    }
}

/// An HTTP server started from the spec on free ports; its process group is killed on drop.
struct HttpServer {
    child: Child,
    url: String,
}

impl HttpServer {
    async fn start(h: &HttpLaunch, cwd: &Path, log: &Path) -> anyhow::Result<HttpServer> {
        let (port, port2) = (free_port()?, free_port()?);
        let fill = |t: &str| {
            t.replace("{port}", &port.to_string())
                .replace("{port2}", &port2.to_string())
        };
        let (program, args) = h.argv.split_first().context("empty argv in the spec")?;
        let log = std::fs::File::create(log)?;
        let mut cmd = Command::new(program);
        cmd.args(args.iter().map(|a| fill(a)))
            .env_clear()
            .envs(h.env.iter().map(|(k, v)| (k, fill(v))))
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().with_context(|| format!("starting {program}"))?;
        let mut server = HttpServer {
            child,
            url: fill(&h.url),
        };
        let deadline = Instant::now() + LISTEN_TIMEOUT;
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("{program} exited ({status}) before listening");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("{program} not listening on port {port} after {LISTEN_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        // The group: a server may run workers of its own.
        let _ = Command::new("kill")
            .args(["-KILL", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The table rows: every peer against ours, on the same transport and client count.
fn compare(figures: &[(&Server, Figures)], report: &mut Report) {
    let Some((_, ours)) = figures.iter().find(|(s, _)| s.key == "ours") else {
        report.not_run("peers", "our own server was not measured".into());
        return;
    };
    let target = format!(">= {PEER_TARGET}x");
    match &ours.paging {
        Ok(o) => report.detail(format!(
            "peers: ours, paging 10k rows over stdio: median {:.1} ms, server CPU {:.1} ms per call",
            o.median_ms, o.cpu_ms
        )),
        Err(e) => report.not_run("peers", format!("ours: paging: {e}")),
    }
    for ((t, n), l) in &ours.load {
        if let Err(e) = l {
            report.not_run("peers", format!("ours: {n} clients over {t}: {e}"));
        }
    }
    for (s, f) in figures.iter().filter(|(s, _)| s.key != "ours") {
        let key = &s.key;
        match (&f.paging, &ours.paging) {
            (Ok(x), Ok(o)) => {
                let ratio = x.median_ms / o.median_ms;
                report.row(
                    "peers",
                    format!("{key}: paging 10k rows over stdio, latency"),
                    format!(
                        "{:.0} ms vs ours {:.0} ms: {ratio:.2}x",
                        x.median_ms, o.median_ms
                    ),
                    &target,
                    Status::of(ratio >= PEER_TARGET),
                );
                report.detail(format!(
                    "peers: {key}, paging: server CPU {:.1} ms per call vs ours {:.1} ms ({:.1}x)",
                    x.cpu_ms,
                    o.cpu_ms,
                    x.cpu_ms / o.cpu_ms
                ));
            }
            (Err(e), _) => report.row(
                "peers",
                format!("{key}: paging 10k rows over stdio, latency"),
                format!("not measured: {e}"),
                &target,
                Status::NotRun,
            ),
            (_, Err(_)) => {}
        }
        for ((t, n), l) in &f.load {
            let Some(Ok(o)) = ours.load.get(&(*t, *n)) else {
                continue;
            };
            let x = match l {
                Ok(x) => x,
                Err(e) => {
                    report.row(
                        "peers",
                        format!("{key}: {n} clients over {t}"),
                        format!("not measured: {e}"),
                        &target,
                        Status::NotRun,
                    );
                    continue;
                }
            };
            let cps = o.calls_per_s / x.calls_per_s;
            report.row(
                "peers",
                format!("{key}: {n} clients over {t}, calls/s"),
                format!(
                    "{:.0} vs ours {:.0}: ours {cps:.2}x",
                    x.calls_per_s, o.calls_per_s
                ),
                &target,
                Status::of(cps >= PEER_TARGET),
            );
            let p50 = x.p50_ms / o.p50_ms;
            report.row(
                "peers",
                format!("{key}: {n} clients over {t}, p50 latency"),
                format!("{:.1} ms vs ours {:.1} ms: {p50:.2}x", x.p50_ms, o.p50_ms),
                &target,
                Status::of(p50 >= PEER_TARGET),
            );
            report.detail(format!(
                "peers: {key}, {n} clients over {t}: p99 {:.1} ms vs ours {:.1} ms; server CPU \
                 {:.2} ms per call vs ours {:.2} ms; {} calls, {} errors{}",
                x.p99_ms,
                o.p99_ms,
                x.server_cpu_ms,
                o.server_cpu_ms,
                x.calls,
                x.errors,
                x.first_error
                    .as_ref()
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::{CallToolResult, ContentBlock};

    use super::rows_in;

    fn text(t: &str) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(t)])
    }

    #[test]
    fn rows_in_every_peer_shape() {
        // Ours and akko: an object with `rows`; the FastMCP peers: a list of row objects.
        assert_eq!(
            rows_in(&text(r#"{"columns":["a"],"rows":[[1],[2]],"row_count":2}"#)),
            Ok(2)
        );
        assert_eq!(rows_in(&text(r#"[{"a":1},{"a":2},{"a":3}]"#)), Ok(3));
        assert_eq!(rows_in(&text("[]")), Ok(0));
    }

    #[test]
    fn in_band_errors_are_errors() {
        // akko answers errors with isError false and an `error` key; trino-mcp with text.
        let e = rows_in(&text(r#"{"error":"TABLE_NOT_FOUND: x","rows":[]}"#));
        assert!(e.is_err_and(|e| e.contains("TABLE_NOT_FOUND")));
        assert!(rows_in(&text("Error: Query failed: line 1:1")).is_err());
        assert!(rows_in(&text(r#"{"status":"ok"}"#)).is_err());
        let long = "x".repeat(1000);
        assert!(rows_in(&text(&long)).is_err_and(|e| e.chars().count() == 200));
    }
}
