//! A deliberately wrong server, for proving that the runner catches differences: a stdio
//! proxy in front of a real server that changes a few answers on their way back.
//!
//! Alterations (each touches a small, known set of golden cases):
//! - error code `LIMIT_EXCEEDED` becomes `INVALID_ARGUMENT` (text and structured);
//! - `structuredContent.stats.truncated: true` becomes `false`;
//! - the `columns` of a `trino_query` result over `memory.fixtures.odd_names` come reversed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use anyhow::Context;
use serde_json::Value;

pub fn run(command: &[String]) -> anyhow::Result<()> {
    let (program, args) = command
        .split_first()
        .context("conformance-alter needs a command")?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {program}"))?;
    let mut to_child = child.stdin.take().context("child stdin")?;
    let from_child = child.stdout.take().context("child stdout")?;
    std::thread::spawn(move || {
        // Requests pass unchanged; closing our stdin closes the child's.
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if writeln!(to_child, "{line}")
                .and_then(|_| to_child.flush())
                .is_err()
            {
                break;
            }
        }
    });
    let mut out = std::io::stdout().lock();
    for line in BufReader::new(from_child).lines().map_while(Result::ok) {
        let line = match serde_json::from_str::<Value>(&line) {
            Ok(mut msg) => {
                alter(&mut msg);
                msg.to_string()
            }
            Err(_) => line,
        };
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    let status = child.wait()?;
    std::process::exit(status.code().unwrap_or(1));
}

fn alter(msg: &mut Value) {
    let Some(result) = msg.get_mut("result") else {
        return;
    };
    let mut changed = false;
    if let Some(sc) = result.get_mut("structuredContent") {
        if let Some(code) = sc.pointer_mut("/error/code")
            && code == "LIMIT_EXCEEDED"
        {
            *code = "INVALID_ARGUMENT".into();
            changed = true;
        }
        if let Some(t) = sc.pointer_mut("/stats/truncated")
            && t == true
        {
            *t = false.into();
        }
        let odd = sc
            .pointer("/columns/0/name")
            .is_some_and(|n| n == "mixed case");
        if odd && let Some(Value::Array(cols)) = sc.get_mut("columns") {
            cols.reverse();
        }
    }
    if changed {
        // Keep the text equal to the structured envelope, as a consistent server would.
        let sc = result.get("structuredContent").cloned().unwrap_or_default();
        if let Some(Value::Array(content)) = result.get_mut("content")
            && let Some(first) = content.first_mut()
        {
            first["text"] = serde_json::to_string_pretty(&sc).unwrap_or_default().into();
        }
    }
}
