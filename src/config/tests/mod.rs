//! Tests of the configuration module. The environment is always a closure over a map: the
//! real process environment is never read or changed.

mod env_vars;
mod file_layouts;
mod hostile;
mod redaction;
mod validation;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Config, ConfigErrors, load, load_yaml_str};

pub(super) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

pub(super) fn from_env(pairs: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    load(None, &env_of(pairs))
}

pub(super) fn from_yaml(yaml: &str, pairs: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    load_yaml_str(yaml, None, &env_of(pairs))
}

/// The error lines of a result that must have failed.
pub(super) fn errors(r: Result<Config, ConfigErrors>) -> Vec<String> {
    match r {
        Ok(c) => panic!("expected errors, got a config: {:#?}", c.names()),
        Err(e) => e.lines(),
    }
}

pub(super) fn ok(r: Result<Config, ConfigErrors>) -> Config {
    match r {
        Ok(c) => c,
        Err(e) => panic!("expected a config, got:\n{e}"),
    }
}

/// Asserts one line contains every fragment.
#[track_caller]
pub(super) fn has_line(lines: &[String], fragments: &[&str]) {
    assert!(
        lines
            .iter()
            .any(|l| fragments.iter().all(|f| l.contains(f))),
        "no line contains all of {fragments:?}; lines:\n{}",
        lines.join("\n")
    );
}

/// A file under the temp dir, removed on drop.
pub(super) struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str, content: &str) -> TempFile {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mcp-trino-config-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        TempFile(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn dir(&self) -> &Path {
        self.0.parent().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.dir());
    }
}

pub(super) const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

#[test]
fn config_path_prefers_the_command_line() {
    let env = env_of(&[("MCP_TRINO_CONFIG", "/etc/mcp-trino.yaml")]);
    assert_eq!(
        super::config_path(Some(Path::new("/tmp/a.yaml")), &env),
        Some(PathBuf::from("/tmp/a.yaml"))
    );
    assert_eq!(
        super::config_path(None, &env),
        Some(PathBuf::from("/etc/mcp-trino.yaml"))
    );
    assert_eq!(super::config_path(None, &env_of(&[])), None);
    assert_eq!(
        super::config_path(None, &env_of(&[("MCP_TRINO_CONFIG", "")])),
        None
    );
}

#[test]
fn example_fixture_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.yaml");
    let env = env_of(&[
        ("PROD_TRINO_PASSWORD", "prod-pass-123"),
        ("STAGING_TRINO_JWT", "eyJ.staging.jwt"),
        ("DEV_MCP_TOKEN", "dev-endpoint-token"),
    ]);
    let c = ok(load(Some(&path), &env));
    assert_eq!(c.names(), ["prod", "staging", "dev"]);
    assert_eq!(c.default_connection, "prod");

    let prod = c.get("prod").unwrap();
    assert!(!prod.endpoint);
    assert_eq!(prod.base_url(), "https://trino.prod.example.com:443");
    assert_eq!(prod.user.as_deref(), Some("mcp-reader"));
    assert_eq!(prod.password.as_ref().unwrap().expose(), "prod-pass-123");
    assert_eq!(prod.session_properties["query_max_run_time"], "2m");
    assert_eq!(prod.access_mode, super::AccessMode::AdminRo);

    let staging = c.get("staging").unwrap();
    assert!(staging.endpoint);
    assert_eq!(staging.access_mode, super::AccessMode::UserRo);
    assert_eq!(staging.transport, Some(super::Transport::StreamableHttp));
    assert_eq!(staging.auth_kind(), "jwt");

    let dev = c.get("dev").unwrap();
    assert!(dev.endpoint && !dev.ssl);
    assert_eq!(dev.base_url(), "http://localhost:8080");
    assert_eq!(dev.access_mode, super::AccessMode::AdminRw);
    assert!(dev.auth.accepts(b"dev-endpoint-token"));
    assert!(!dev.auth.accepts(b"dev-endpoint-tokeN"));
    assert_eq!(dev.limits.requests_per_window, Some(60));
    assert_eq!(dev.limits.max_concurrent_queries, Some(2));
    assert_eq!(dev.user.as_deref(), Some("developer"));

    assert_eq!(
        c.composed().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["prod"]
    );
    assert!(c.unauthenticated_remote_endpoints().is_empty());

    // Without the token variables the file is refused, naming each variable and path.
    let lines = errors(load(Some(&path), &env_of(&[])));
    has_line(
        &lines,
        &["connections.prod.password", "PROD_TRINO_PASSWORD"],
    );
    has_line(&lines, &["connections.staging.token", "STAGING_TRINO_JWT"]);
    has_line(
        &lines,
        &["connections.dev.auth.bearer_tokens[0]", "DEV_MCP_TOKEN"],
    );
}

#[test]
#[ignore = "prints the redacted example for a person to read"]
fn print_example() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.yaml");
    let env = env_of(&[
        ("PROD_TRINO_PASSWORD", "p"),
        ("STAGING_TRINO_JWT", "j"),
        ("DEV_MCP_TOKEN", "t"),
    ]);
    println!("{}", ok(load(Some(&path), &env)).redacted_pretty());
    println!("{}", load(Some(&path), &env_of(&[])).unwrap_err());
}
