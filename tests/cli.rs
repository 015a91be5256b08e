//! The `mcp-trino` command line: `check-config` prints the effective configuration with every
//! secret redacted, and refuses an invalid one with every problem named.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcp-trino"));
    c.env_clear();
    c
}

#[test]
fn check_config_redacts_secrets() {
    let out = bin()
        .arg("check-config")
        .env("TRINO_HOST", "prod.example.com")
        .env("TRINO_USER", "analyst")
        .env("TRINO_PASSWORD", "pa55-word-xyz")
        .env(
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"staging": {"host": "staging.example.com", "password": "tok-abc-123"}}"#,
        )
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let text = v.to_string();
    assert!(text.contains("prod.example.com") && text.contains("staging.example.com"));
    for secret in ["pa55-word-xyz", "tok-abc-123"] {
        assert!(!stdout.contains(secret) && !String::from_utf8_lossy(&out.stderr).contains(secret));
    }
    assert!(text.contains("***"));
}

#[test]
fn check_config_refuses_an_invalid_configuration_naming_each_problem() {
    let out = bin()
        .arg("check-config")
        .env("TRINO_HOST", "localhost")
        .env("TRINO_SSL", "false")
        .env("TRINO_USER", "analyst")
        .env("TRINO_PASSWORD", "pa55-word-xyz")
        .env("TRINO_ACCESS_MODE", "superuser")
        .env(
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"Bad Name": {"port": 99999}}"#,
        )
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.stdout.is_empty());
    for needle in ["password", "TRINO_ACCESS_MODE", "Bad Name", "port", "host"] {
        assert!(stderr.contains(needle), "missing {needle} in: {stderr}");
    }
    assert!(!stderr.contains("pa55-word-xyz"));
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let out = bin()
        .args(["--config", "/nonexistent/mcp-trino.yaml", "check-config"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/mcp-trino.yaml"));
}
