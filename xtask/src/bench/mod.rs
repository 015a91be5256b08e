//! `cargo xtask bench [--quick]`: result paging and formatting against the limit and against
//! other servers (issue #7). Every figure is a ratio measured in the same run.
//!
//! The debug xtask builds, in one release cargo invocation (so DataFusion compiles once),
//! `mcp-trino`, `trino-emulator`, itself and the `format` bench, and re-runs itself from
//! `target/release/xtask`, so that the clients measuring (the bare protocol loop, rmcp's MCP
//! client) are optimised like the server they measure.
//!
//! Modules: `ours` (the steps measuring our server on its own), `formatting`, `peers`,
//! `client` (the clients that measure), `probe` (`/proc`, statistics), `report` (the table
//! and `benches/RESULTS.md`).
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
//! - peers: the Trino MCP servers from PyPI (installed by `benches/peers/peer_bench.py`, which
//!   also says how to start and call each) and ours, against one emulator, all driven by the
//!   same rmcp client.
//!
//! Results go to stdout and to `benches/RESULTS.md`, between markers of the mode that ran;
//! everything else in that file (the profile notes) is kept.

mod client;
mod formatting;
mod ours;
mod peers;
mod probe;
mod report;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::{cargo, root};
use probe::loadavg;
use report::Report;

const PAGING_SQL: &str = "SELECT * FROM synthetic.default.numbers LIMIT 10000";
const PAGING_ROWS: usize = 10_000;
const PAGE_SIZES: [usize; 3] = [100, 1_000, 10_000];
const EARLY_SQL: &str = "SELECT * FROM synthetic.default.numbers";
const EARLY_LIMIT: usize = 1_000;
const BIG_TABLE: u64 = 10_000_000;
const SMALL_SQL: &str = "SELECT nationkey, name FROM tpch.tiny.nation";
const CLIENT_LEVELS: [usize; 2] = [8, 64];
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
            "note: the first release build compiles DataFusion (the emulator's engine): 15 to 40 \
             minutes on 2 cores, once"
        );
    }
    let format_exe = build()?;
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

/// One release build of the binaries, the xtask and the `format` bench: one invocation, so
/// features unify once and no crate is compiled twice. Returns the bench's executable.
fn build() -> anyhow::Result<PathBuf> {
    let args = [
        "build",
        "--release",
        "-p",
        "mcp-trino",
        "-p",
        "trino-testkit",
        "-p",
        "xtask",
        "--bins",
        "--bench",
        "format",
        "--message-format=json-render-diagnostics",
    ];
    eprintln!("==> cargo {}", args.join(" "));
    let out = cargo()
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .context("starting cargo build")?;
    if !out.status.success() {
        bail!("cargo build --release failed ({})", out.status);
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "format")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo did not report the format bench's executable")
}

struct Profile {
    quick: bool,
    paging_reps: usize,
    early_reps: usize,
    window: Duration,
    startup_runs: usize,
    /// Timed paging calls per peer, and the load window for peers.
    peer_paging_reps: usize,
    peer_window: Duration,
}

/// One step: its title, then its figures, or a NOT RUN row saying why it could not run.
fn step(
    report: &mut Report,
    area: &'static str,
    title: &str,
    f: impl FnOnce(&mut Report) -> anyhow::Result<()>,
) {
    if !wanted(area) {
        return;
    }
    println!("\n==> {title}");
    let t = Instant::now();
    if let Err(e) = f(report) {
        report.not_run(area, format!("{e:#}"));
    }
    report
        .details
        .push(format!("{area}: {:.0} s", t.elapsed().as_secs_f64()));
}

fn measure(quick: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let p = Profile {
        quick,
        paging_reps: if quick { 9 } else { 31 },
        early_reps: if quick { 9 } else { 31 },
        window: Duration::from_secs(if quick { 5 } else { 20 }),
        startup_runs: if quick { 5 } else { 21 },
        peer_paging_reps: if quick { 3 } else { 9 },
        peer_window: Duration::from_secs(if quick { 4 } else { 12 }),
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
    step(
        &mut report,
        "formatting",
        "formatting: 10,000 rows x 12 columns (the `format` bench's summary mode)",
        |r| formatting::formatting(&p, &dir, r),
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stack = ours::Stack::start(&dir, server_bin.clone(), &emulator_bin)?;
    let steps: [(&'static str, &str); 4] = [
        (
            "paging",
            "paging: trino_query returning 10,000 rows vs the bare protocol loop",
        ),
        (
            "early stop",
            "early stop: limit 1,000 over 10,000,000 rows vs over 1,000 rows",
        ),
        (
            "throughput",
            "throughput: concurrent MCP sessions over HTTP",
        ),
        (
            "start-up",
            "start-up: process start to the first tools/list answer (stdio)",
        ),
    ];
    for (area, title) in steps {
        step(&mut report, area, title, |r| {
            rt.block_on(async {
                match area {
                    "paging" => stack.paging(&p, r).await,
                    "early stop" => stack.early_stop(&p, r).await,
                    "throughput" => stack.throughput(&p, r).await,
                    _ => stack.startup(&p, r).await,
                }
            })
        });
    }
    // The peers get the machine to themselves.
    drop(stack);
    step(
        &mut report,
        "peers",
        "peers: the Trino MCP servers from PyPI and ours, one emulator, the same rmcp client",
        |r| rt.block_on(peers::peers(&p, &dir, &emulator_bin, &server_bin, r)),
    );
    drop(rt);

    let elapsed = started.elapsed().as_secs_f64();
    let (met, targets, not_run) = report.counts();
    println!("\n==> results ({})\n", command_line(quick));
    print!("{}", report.table());
    println!(
        "\n{met} of {targets} targets met{}; measured in {elapsed:.0} s{}",
        if not_run > 0 {
            format!(", {not_run} step(s) not run")
        } else {
            String::new()
        },
        std::env::var(BUILD_SECS_ENV)
            .map(|s| format!(" (after {s} s of build)"))
            .unwrap_or_default()
    );
    if std::env::var_os(ONLY_ENV).is_some() {
        println!("(a partial run: {ONLY_ENV} is set; benches/RESULTS.md left alone)");
        return Ok(());
    }
    let path = report::write_results(&report, quick, elapsed)?;
    println!("written to {}", path.display());
    Ok(())
}
