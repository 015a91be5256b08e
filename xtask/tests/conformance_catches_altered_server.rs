//! The golden runner must catch a wrong implementation: our real server behind a proxy
//! (`xtask conformance-alter`) that changes one error code, drops a truncation flag and
//! reorders columns. Exactly the golden cases those changes touch must fail, with exit 1.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Golden cases the proxy's alterations reach, read from the golden files themselves.
fn touched_cases() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let dir = root().join("fixtures/golden/cases");
    for entry in std::fs::read_dir(&dir).expect("golden cases dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("case file");
        let cases: Vec<Value> = serde_json::from_str(&text).expect("case JSON");
        for c in cases {
            let s = &c["expect"]["structured"];
            let touched = s.pointer("/error/code") == Some(&"LIMIT_EXCEEDED".into())
                || s.pointer("/stats/truncated") == Some(&true.into())
                || s.pointer("/columns/0/name") == Some(&"mixed case".into());
            if touched {
                names.insert(c["name"].as_str().expect("name").to_string());
            }
        }
    }
    names
}

#[test]
fn runner_fails_exactly_the_cases_an_altered_server_breaks() {
    let xtask = env!("CARGO_BIN_EXE_xtask");
    let server = root().join("target/debug/mcp-trino");
    let emulator = root().join("target/debug/trino-emulator");
    assert!(
        server.exists() && emulator.exists(),
        "build the binaries first: cargo build -p mcp-trino -p trino-testkit --bins"
    );
    let proxy = format!("'{xtask}' conformance-alter '{}'", server.display());
    let out = Command::new(xtask)
        .args(["conformance", "--stdio", &proxy])
        .output()
        .expect("run xtask conformance");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let failed: BTreeSet<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("FAIL  "))
        .map(|l| l.split("  ").next().unwrap_or(l).to_string())
        .collect();
    let expected = touched_cases();
    for must in [
        "query/error/limit_exceeded",
        "query/json/truncated_at_limit",
        "query/csv/truncated",
        "names/json/odd_names",
    ] {
        assert!(
            expected.contains(must),
            "golden case {must} no longer exists"
        );
    }
    assert_eq!(failed, expected, "{stdout}");
    // Reasons name the first differing path and both values.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("FAIL  query/error/limit_exceeded  ")
                && l.contains("LIMIT_EXCEEDED")
                && l.contains("INVALID_ARGUMENT")),
        "{stdout}"
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.ends_with(&format!("{} failed", expected.len())),
        "{summary}"
    );
}
