//! Formatting: the `format` criterion bench's summary mode, read back into the table.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use super::report::{Report, Status};
use super::{FORMAT_EXE_ENV, FORMAT_TARGET, Profile};
use crate::root;

pub(super) fn formatting(p: &Profile, dir: &Path, report: &mut Report) -> anyhow::Result<()> {
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
