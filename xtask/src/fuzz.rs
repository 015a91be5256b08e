//! `cargo xtask fuzz`: every cargo-fuzz target of `fuzz/` for a bounded time.
//!
//! Needs the nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz if it
//! is missing. Builds go to `target/fuzz`. Each target starts from its seeds in
//! `fuzz/corpus/<target>/` (read only) and writes what it learns to
//! `target/fuzz/corpus/<target>/`; a crash, timeout or OOM input is written to
//! `target/fuzz/artifacts/<target>/` and fails the run with its path.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};

use super::{root, run as step};

/// The targets, in the order they run.
pub const TARGETS: [&str; 3] = ["sql_policy", "config", "trino_response"];

/// libFuzzer fails an input that runs longer than this (a hang, not a slow input).
const INPUT_TIMEOUT_SECS: u64 = 30;

pub fn run(seconds_per_target: u64) -> anyhow::Result<()> {
    ensure_cargo_fuzz()?;
    let root = root();
    let target_dir = root.join("target/fuzz");
    // One build for every target; `run` below reuses it (same options).
    step(
        "cargo +nightly fuzz build",
        &mut fuzz_command(&root, &target_dir, "build"),
    )?;
    for target in TARGETS {
        let started = Instant::now();
        let learned = target_dir.join("corpus").join(target);
        let artifacts = target_dir.join("artifacts").join(target);
        for dir in [&learned, &artifacts] {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let since = SystemTime::now();
        let mut cmd = fuzz_command(&root, &target_dir, "run");
        cmd.arg(target)
            .arg(&learned)
            .arg(root.join("fuzz/corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds_per_target}"))
            .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
            // Trailing separator: libFuzzer prepends the prefix to the file name.
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-print_final_stats=1");
        eprintln!("==> fuzz {target} for {seconds_per_target} s");
        let status = cmd
            .status()
            .with_context(|| format!("starting cargo fuzz run {target}"))?;
        if !status.success() {
            let found = new_artifacts(&artifacts, since);
            let Some(input) = found.first() else {
                bail!("fuzz target {target} failed ({status}) without writing an input");
            };
            bail!(
                "fuzz target {target} failed ({status}); input: {}\n  reproduce: cd fuzz && \
                 CARGO_TARGET_DIR={} cargo +nightly fuzz run -s none {target} {}",
                input.display(),
                target_dir.display(),
                input.display()
            );
        }
        eprintln!(
            "==> fuzz {target}: ok ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// `cargo +nightly fuzz <sub> -s none` in `fuzz/`, building into `target_dir`. No sanitizer:
/// the code under test is safe Rust, and a panic is what the targets look for; it also
/// halves the build.
fn fuzz_command(root: &Path, target_dir: &Path, sub: &str) -> Command {
    // The rustup proxy (not $CARGO, which is the toolchain running the xtask) so that
    // `+nightly` works; forget what the outer cargo set for its own toolchain.
    let mut c = Command::new("cargo");
    c.current_dir(root.join("fuzz"))
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env("CARGO_TARGET_DIR", target_dir)
        .args(["+nightly", "fuzz", sub, "--sanitizer", "none"]);
    c
}

fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let nightly = Command::new("cargo")
        .args(["+nightly", "--version"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .is_ok_and(|o| o.status.success());
    if !nightly {
        step(
            "rustup toolchain install nightly --profile minimal",
            Command::new("rustup").args([
                "toolchain",
                "install",
                "nightly",
                "--profile",
                "minimal",
            ]),
        )?;
    }
    let present = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    step(
        "cargo install cargo-fuzz --locked",
        Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]),
    )
}

/// Files libFuzzer wrote to `dir` since `since` (crash-, timeout-, oom-, leak-...).
fn new_artifacts(dir: &Path, since: SystemTime) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(SystemTime, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let modified = e.metadata().ok()?.modified().ok()?;
            (modified >= since).then(|| (modified, e.path()))
        })
        .filter(|(_, p)| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with("slow-unit-"))
        })
        .collect();
    found.sort();
    found.into_iter().rev().map(|(_, p)| p).collect()
}
