//! Our server measured against the bare protocol and against itself: paging, early stop,
//! throughput and start-up, each on emulators of its own.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use rmcp::model::CallToolResult;

use super::client::{
    CALL_TIMEOUT, RawStdio, Work, bare, bare_first, close, emulator_cancels, http_session, load,
    query, query_args, row_count, stdio_session, truncated_by,
};
use super::probe::{cpu_ticks, median, ms, start, status_kib, ticks_ms};
use super::report::{Report, Status};
use super::{
    BIG_TABLE, CLIENT_LEVELS, EARLY_LIMIT, EARLY_SQL, EARLY_TARGET, PAGE_SIZES, PAGING_ROWS,
    PAGING_SQL, PAGING_TARGET, Profile, RSS_TARGET_MIB, SMALL_SQL,
};
use crate::procs::Process;

pub(super) struct Stack {
    dir: PathBuf,
    server_bin: PathBuf,
    config: PathBuf,
    /// Page size -> emulator.
    paging: Vec<(usize, Process)>,
    big: Process,
    small: Process,
    http: reqwest::Client,
}

impl Stack {
    /// The emulators: one per page size, the 10M-row table, a 1,000-row table.
    pub(super) fn start(
        dir: &Path,
        server_bin: PathBuf,
        emulator_bin: &Path,
    ) -> anyhow::Result<Stack> {
        let emulator = |name: &str, extra: &[&str]| {
            let mut args = vec!["--bind", "127.0.0.1:0", "--cluster", "prod"];
            args.extend_from_slice(extra);
            start(
                emulator_bin,
                &args,
                &dir.join(format!("emulator-{name}.log")),
            )
        };
        let mut paging = Vec::new();
        for rows in PAGE_SIZES {
            let r = rows.to_string();
            let e = emulator(
                &format!("p{rows}"),
                &["--page-rows", &r, "--synthetic-rows", "100000"],
            )?;
            paging.push((rows, e));
        }
        let big = emulator("big", &["--synthetic-rows", &BIG_TABLE.to_string()])?;
        let small = emulator("small", &["--synthetic-rows", "1000"])?;
        let stack = Stack {
            dir: dir.to_path_buf(),
            server_bin,
            config: dir.join("config.yaml"),
            paging,
            big,
            small,
            http: reqwest::Client::new(),
        };
        std::fs::write(&stack.config, stack.yaml())?;
        Ok(stack)
    }

    /// One connection per emulator; generous limits on the throughput connection (`small`) so
    /// that 64 clients are measured, not refused, with the limiter in the path.
    pub(super) fn yaml(&self) -> String {
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
            conn(&mut s, &format!("p{rows}"), e.port());
        }
        conn(&mut s, "big", self.big.port());
        conn(&mut s, "small", self.small.port());
        s.push_str(
            "    limits:\n      requests_per_window: 1000000\n      window_seconds: 60\n      max_concurrent_queries: 1024\n",
        );
        s
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    fn http_server(&self) -> anyhow::Result<Process> {
        let config = self.config.to_string_lossy().to_string();
        start(
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

    pub(super) async fn paging(&self, p: &Profile, report: &mut Report) -> anyhow::Result<()> {
        let (stdio, stdio_pid) =
            stdio_session(&self.server_bin, &self.config, &self.log("server-stdio")).await?;
        let server = self.http_server()?;
        let http = http_session(&format!("{}/mcp", server.url)).await?;
        let mut raw =
            RawStdio::start(&self.server_bin, &self.config, &self.log("server-raw")).await?;
        let pids = [
            stdio_pid.map(|p| p.to_string()).unwrap_or_default(),
            server.pid().to_string(),
            raw.pid().map(|p| p.to_string()).unwrap_or_default(),
        ];
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
                raw_query(&mut raw, &args).await?;
            }
            // Interleaved rounds; CPU ticks of the server, the emulator and this client around
            // each call say where the time goes.
            let emu_pid = emu.pid().to_string();
            let mut times: [Vec<f64>; 4] = Default::default();
            let mut cpu = [[0u64; 3]; 4];
            for _ in 0..p.paging_reps {
                for mode in 0..4 {
                    let server_pid = [None, Some(&pids[0]), Some(&pids[1]), Some(&pids[2])][mode];
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
                        2 => check(&query(&http, &args).await?, "HTTP")?,
                        _ => raw_query(&mut raw, &args).await?,
                    }
                    times[mode].push(ms(t.elapsed()));
                    for (acc, (a, b)) in cpu[mode].iter_mut().zip(ticks().iter().zip(before)) {
                        *acc += a.saturating_sub(b);
                    }
                }
            }
            let m: Vec<f64> = times.iter().map(|v| median(v)).collect();
            let per_call = |t: u64| ticks_ms(t) / p.paging_reps as f64;
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
            // The same stdio call without a client library: the server's share of the call.
            let ratio = m[3] / m[0];
            report.row(
                "paging",
                format!("the same over stdio, raw JSON-RPC client, {rows}-row pages"),
                format!("{:.1} ms vs bare {:.1} ms: {ratio:.2}x", m[3], m[0]),
                "-",
                Status::Info,
            );
            let c = &cpu[3];
            report.detail(format!(
                "paging {rows}-row pages over stdio, raw JSON-RPC client: median {:.1} ms; CPU per call: server {:.1} ms, emulator {:.1} ms, client {:.1} ms",
                m[3],
                per_call(c[0]),
                per_call(c[1]),
                per_call(c[2]),
            ));
        }
        let _ = stdio.cancel().await;
        let _ = http.cancel().await;
        drop(server);
        Ok(())
    }

    pub(super) async fn early_stop(&self, p: &Profile, report: &mut Report) -> anyhow::Result<()> {
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
        let per_call = |t: u64| ticks_ms(t) / p.early_reps as f64;
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

    pub(super) async fn throughput(&self, p: &Profile, report: &mut Report) -> anyhow::Result<()> {
        let server = self.http_server()?;
        let url = format!("{}/mcp", server.url);
        let args = query_args(SMALL_SQL, 1000, "small");
        let work = Work {
            tool: "trino_query",
            args: &args,
            good: |r| match row_count(r) {
                25 => Ok(()),
                n => Err(format!("{n} rows, not 25")),
            },
        };
        for n in CLIENT_LEVELS {
            let mut sessions = Vec::with_capacity(n);
            for _ in 0..n {
                sessions.push(Arc::new(http_session(&url).await?));
            }
            for s in &sessions {
                query(s, &args).await?;
            }
            let l = load(
                &sessions,
                n,
                &work,
                p.window,
                Some(server.pid()),
                &[self.small.pid()],
            )
            .await?;
            close(sessions).await;
            report.row(
                "throughput",
                format!("{n} clients over HTTP (25-row query)"),
                format!(
                    "{:.0} calls/s, p50 {:.1} ms, p99 {:.1} ms",
                    l.calls_per_s, l.p50_ms, l.p99_ms
                ),
                "-",
                if l.errors == 0 {
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
                    l.server_cpu_ms,
                    l.others_cpu_ms.first().copied().unwrap_or(f64::NAN),
                    l.client_cpu_ms
                ),
                "-",
                Status::Info,
            );
            report.detail(format!(
                "throughput {n} clients: {} calls in {:.1} s, {} errors{}",
                l.calls,
                l.elapsed_s,
                l.errors,
                l.first_error
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default()
            ));
        }
        Ok(())
    }

    pub(super) async fn startup(&self, p: &Profile, report: &mut Report) -> anyhow::Result<()> {
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

/// One `trino_query` over the raw client, checked like the rmcp calls.
async fn raw_query(raw: &mut RawStdio, args: &super::client::Args) -> anyhow::Result<()> {
    let r = raw
        .request(
            "tools/call",
            serde_json::json!({"name": "trino_query", "arguments": args}),
        )
        .await?;
    let n = r["structuredContent"]["row_count"].as_u64().unwrap_or(0) as usize;
    if r["isError"] == true || n != PAGING_ROWS {
        bail!("raw stdio: {n} rows (isError {})", r["isError"]);
    }
    Ok(())
}
