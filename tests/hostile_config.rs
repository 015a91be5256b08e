//! Hostile configuration (issue #8), against the real binary.
//!
//! 1. Every invalid variable, file and combination is refused at start-up, over HTTP, over
//!    stdio and by `check-config`: the process exits non-zero within seconds, never serves
//!    (no "listening on" line, no JSON-RPC answer), names the offending field or variable, and
//!    prints no secret. Every case carries a secret (`Sekr1t-<case>`) somewhere.
//! 2. A server with secrets everywhere they can be (basic password over TLS, Trino JWTs,
//!    endpoint bearer tokens, the reload token, values from `${VAR}`, `TRINO_PASSWORD` and
//!    `TRINO_ADDITIONAL_SERVERS`), run at the most verbose log level and driven through every
//!    path (successes, AUTH_FAILED, CONNECTION_FAILED, READ_ONLY, INVALID_ARGUMENT, wrong
//!    bearer tokens, health pages, metrics, reloads with changed and invalid secrets, SIGTERM),
//!    then every byte it produced is searched for every secret, plain and base64.
//!
//! `configurations_that_still_start_or_leak` lists the hostile configurations that are *not*
//! refused (or leak) today, each a bug; it fails until they are fixed:
//! - a Trino `token` or `server.reload_endpoint.token` with a control character (a trailing
//!   newline from a mounted secret, CR LF) is accepted; the JWT's header is then silently
//!   dropped (AUTH_FAILED at run time), and no request can present the reload token;
//! - YAML core tags on a secret (`password: !!int ...`) make the YAML error quote the secret;
//! - a `${VAR}` value in `default_connection` is echoed in its error;
//! - host names longer than DNS allows (300 characters; 10 MB too) and a basic-auth user with
//!   a colon are accepted, so the server starts with a connection that can never work;
//! - flow nesting is quadratic to parse (`[[[[...`: 20 000 levels take 10 s; 10 MB, days);
//! - refusals after loading (non-loopback bind, an unparsable `ca_cert`) go through the log
//!   filter, so `MCP_TRINO_LOG=rmcp=debug` hides them (exit 1, empty stderr), and
//!   `check-config` accepts the unparsable `ca_cert` that `serve` refuses.

mod common;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use trino_testkit::server::{AuthConfig, TlsMaterial};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-trino");
/// A refused configuration must end the process within this time...
const DEADLINE: Duration = Duration::from_secs(10);
/// ... or this one for a file over 1 MB: scanning 10 MB takes 2-3 s in a debug build, and
/// more when the two cores are shared with builds and the other tests.
const BIG_DEADLINE: Duration = Duration::from_secs(30);
/// The most verbose log filter: everything `debug` logs and more, from every crate.
const MOST_VERBOSE: &str = "trace";
/// Every secret of the table cases starts with this; found anywhere (any case), it is a leak.
const MARKER: &str = "sekr1t";

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// A child process killed (and reaped) on drop, so a failing assertion leaves nothing running.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Collects a pipe into a shared buffer on a thread, so the caller can watch it live.
fn drain(mut r: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let b = buf.clone();
    let h = std::thread::spawn(move || {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match r.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => b
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(&chunk[..n]),
            }
        }
    });
    (buf, h)
}

fn snapshot(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `serve --transport http [--bind 127.0.0.1:0]`, stdin closed.
    Http,
    /// The default command (stdio), with an `initialize` written and stdin kept open.
    Stdio,
    /// `check-config`.
    Check,
}

#[derive(Debug, PartialEq, Eq)]
enum Ended {
    Exited,
    /// It printed its ready line (HTTP) or answered JSON-RPC (stdio): it served.
    Served,
    TimedOut,
}

struct Run {
    ended: Ended,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

const STDIO_INPUT: &str = concat!(
    r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"hostile-config","version":"0"}}}"#,
    "\n",
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    "\n",
    r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    "\n",
);

/// Runs the binary with a clean environment plus `env`; stops it as soon as it serves.
fn run_binary(args: &[OsString], env: &[(String, String)], mode: Mode, deadline: Duration) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if mode == Mode::Stdio {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let started = Instant::now();
    let mut child = Guard(cmd.spawn().expect("spawn mcp-trino"));
    let (out, out_h) = drain(child.0.stdout.take().expect("stdout"));
    let (err, err_h) = drain(child.0.stderr.take().expect("stderr"));
    // Kept open until the process ends: a server that started would wait for more input.
    let stdin = child.0.stdin.take().map(|mut w| {
        let _ = w.write_all(STDIO_INPUT.as_bytes());
        let _ = w.flush();
        w
    });
    let served = |out: &str| match mode {
        Mode::Http => out.contains("listening on"),
        Mode::Stdio => !out.trim().is_empty(),
        Mode::Check => false,
    };
    let (ended, code) = loop {
        if let Ok(Some(status)) = child.0.try_wait() {
            break (Ended::Exited, status.code());
        }
        if served(&snapshot(&out)) {
            break (Ended::Served, None);
        }
        if started.elapsed() > deadline {
            break (Ended::TimedOut, None);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    drop(stdin);
    drop(child); // kills it if it still runs, so the pipes close
    let _ = out_h.join();
    let _ = err_h.join();
    Run {
        ended,
        code,
        stdout: snapshot(&out),
        stderr: snapshot(&err),
        elapsed,
    }
}

// ---------------------------------------------------------------------------------------------
// Secret search
// ---------------------------------------------------------------------------------------------

/// The forms a secret could take in output: itself (any letter case), its base64 at each byte
/// alignment (so it is found inside a longer encoded text, standard and URL-safe), and the
/// `user:secret` pair of HTTP basic auth.
fn forms(secret: &str, users: &[&str]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let mut out = vec![secret.to_string()];
    for engine in [&STANDARD, &URL_SAFE] {
        for shift in 0..3usize {
            let mut bytes = vec![b'\0'; shift];
            bytes.extend_from_slice(secret.as_bytes());
            let enc = engine.encode(&bytes);
            // Characters mixed with the neighbours' bits are dropped at both ends.
            let skip = if shift == 0 { 0 } else { 4 };
            if enc.len() > skip + 12 {
                out.push(enc[skip..enc.len() - 4].to_string());
            }
        }
        for user in users {
            out.push(engine.encode(format!("{user}:{secret}")));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Where `text` contains a form of `secret` (the plain form compared ignoring case).
fn leaks(text: &str, secret: &str, users: &[&str]) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    for f in &forms(secret, users) {
        let hit = if f == secret {
            lower.find(&f.to_ascii_lowercase())
        } else {
            text.find(f.as_str())
        };
        if let Some(at) = hit {
            let from = text.floor_char_boundary(at.saturating_sub(60));
            let to = text.ceil_char_boundary((at + f.len() + 60).min(text.len()));
            found.push(format!("{f:?} in ...{}...", &text[from..to]));
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Part 1: the table of invalid configurations
// ---------------------------------------------------------------------------------------------

const HTTP: u8 = 1;
const STDIO: u8 = 2;
const CHECK: u8 = 4;
const ALL: u8 = HTTP | STDIO | CHECK;

#[derive(Clone)]
enum File {
    None,
    Text(String),
    Bytes(Vec<u8>),
    /// `--config` names a file that does not exist.
    Missing,
    /// `--config` names a directory.
    Directory,
}

/// One hostile configuration. In `file`, `env` and `expect`, `{S}` is the case's secret and
/// `{DIR}` the folder of its config file.
#[derive(Clone)]
struct Case {
    name: &'static str,
    file: File,
    env: Vec<(String, String)>,
    /// Every one must appear in stderr: the path of the offending field or variable.
    expect: Vec<&'static str>,
    modes: u8,
    /// Pass `--bind 127.0.0.1:0` over HTTP (off to test `server.bind` itself).
    bind: bool,
    /// Name the file with `MCP_TRINO_CONFIG` instead of `--config`.
    via_env: bool,
}

impl Case {
    fn secret(&self) -> String {
        format!("Sekr1t-{}", self.name)
    }
    fn with_env(mut self, vars: &[(&str, &str)]) -> Self {
        self.env
            .extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }
    fn modes(mut self, modes: u8) -> Self {
        self.modes = modes;
        self
    }
    fn no_bind(mut self) -> Self {
        self.bind = false;
        self
    }
    fn via_env(mut self) -> Self {
        self.via_env = true;
        self
    }
}

/// Only environment variables, on top of a valid primary whose password is the secret. A
/// variable set to "" counts as unset.
fn env_case(name: &'static str, vars: &[(&str, &str)], expect: &[&'static str]) -> Case {
    Case {
        name,
        file: File::None,
        env: Vec::new(),
        expect: expect.to_vec(),
        modes: ALL,
        bind: true,
        via_env: false,
    }
    .with_env(&[
        ("TRINO_HOST", "trino.example.com"),
        ("TRINO_USER", "analyst"),
        ("TRINO_PASSWORD", "{S}"),
    ])
    .with_env(vars)
}

fn file_case(name: &'static str, yaml: &str, expect: &[&'static str]) -> Case {
    Case {
        name,
        file: File::Text(yaml.to_string()),
        env: Vec::new(),
        expect: expect.to_vec(),
        modes: ALL,
        bind: true,
        via_env: false,
    }
}

/// A valid connection `prod` whose password is the secret; cases append to it.
const PROD: &str = "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    password: \"{S}\"\n";

fn prod_with(extra: &str) -> String {
    format!("{PROD}{extra}")
}

/// The seed layout: a primary with the secret as its password.
const SEED: &str = "host: trino.example.com\nuser: analyst\npassword: \"{S}\"\n";

fn billion_laughs() -> String {
    let mut s = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for w in names.windows(2) {
        let (prev, next) = (w[0], w[1]);
        let refs = vec![format!("*{prev}"); 9].join(",");
        s.push_str(&format!("{next}: &{next} [{refs}]\n"));
    }
    s.push_str("host: trino.example.com\nuser: analyst\npassword: \"{S}\"\n");
    s
}

const MIB: usize = 1024 * 1024;

fn cases() -> Vec<Case> {
    let tls_prod = "connections:\n  prod:\n    host: trino.example.com\n    ssl: true\n    user: analyst\n    password: \"{S}\"\n";
    vec![
        // --- TRINO_* variables -----------------------------------------------------------
        env_case("env_port_zero", &[("TRINO_PORT", "0")], &["TRINO_PORT"]),
        env_case("env_port_70000", &[("TRINO_PORT", "70000")], &["TRINO_PORT"]),
        env_case("env_port_abc", &[("TRINO_PORT", "abc")], &["TRINO_PORT"]),
        env_case("env_port_negative", &[("TRINO_PORT", "-443")], &["TRINO_PORT"]),
        env_case("env_ssl_maybe", &[("TRINO_SSL", "maybe")], &["TRINO_SSL:"]),
        env_case(
            "env_ssl_verify_sometimes",
            &[("TRINO_SSL_VERIFY", "sometimes")],
            &["TRINO_SSL_VERIFY"],
        ),
        env_case(
            "env_access_mode_root",
            &[("TRINO_ACCESS_MODE", "root")],
            &["TRINO_ACCESS_MODE"],
        ),
        env_case("env_timeout_zero", &[("TRINO_TIMEOUT", "0")], &["TRINO_TIMEOUT"]),
        env_case("env_timeout_301", &[("TRINO_TIMEOUT", "301")], &["TRINO_TIMEOUT"]),
        env_case(
            "env_timeout_overflow",
            &[("TRINO_TIMEOUT", "99999999999999999999999")],
            &["TRINO_TIMEOUT"],
        ),
        env_case("env_timeout_unit", &[("TRINO_TIMEOUT", "30s")], &["TRINO_TIMEOUT"]),
        env_case(
            "env_password_plain_http",
            &[("TRINO_HOST", "localhost")],
            &["connection 'default': a password is set but ssl is false"],
        ),
        env_case(
            "env_ssl_false_with_password",
            &[("TRINO_SSL", "false")],
            &["connection 'default': a password is set but ssl is false"],
        ),
        env_case(
            "env_password_without_user",
            &[("TRINO_USER", "")],
            &["connection 'default': a password is set but user is not"],
        ),
        env_case(
            "env_user_ro_without_scope",
            &[("TRINO_ACCESS_MODE", "user_ro")],
            &["connection 'default': access_mode user_ro"],
        ),
        env_case(
            "env_host_missing",
            &[("TRINO_HOST", "")],
            &["connection 'default': host is required"],
        ),
        env_case(
            "env_host_with_scheme",
            &[("TRINO_HOST", "https://analyst:{S}@trino.example.com")],
            &["connection 'default': host must be a host name without a scheme"],
        ),
        env_case(
            "env_host_with_credentials",
            &[("TRINO_HOST", "analyst:{S}@trino.example.com")],
            &["connection 'default': host must be a bare host name"],
        ),
        env_case(
            "env_host_with_port",
            &[("TRINO_HOST", "trino.example.com:8443")],
            &["connection 'default': host must not include a port"],
        ),
        env_case(
            "env_user_header_injection",
            &[("TRINO_USER", "analyst\r\nX-Trino-User: admin")],
            &["connection 'default': user contains a control character"],
        ),
        env_case(
            "env_catalog_control_char",
            &[("TRINO_CATALOG", "tpch\u{7}")],
            &["connection 'default': catalog contains a control character"],
        ),
        env_case(
            "env_additional_not_json",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"staging": {"host": "s.example.com", "password": "{S}""#)],
            &["TRINO_ADDITIONAL_SERVERS: is not valid JSON"],
        ),
        env_case(
            "env_additional_secret_then_garbage",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"staging": {"password": "{S}" "host": 1}}"#)],
            &["TRINO_ADDITIONAL_SERVERS: is not valid JSON"],
        ),
        env_case(
            "env_additional_array",
            &[("TRINO_ADDITIONAL_SERVERS", r#"[{"host": "s.example.com", "password": "{S}"}]"#)],
            &["TRINO_ADDITIONAL_SERVERS: must be a JSON object"],
        ),
        env_case(
            "env_additional_string",
            &[("TRINO_ADDITIONAL_SERVERS", r#""{S}""#)],
            &["TRINO_ADDITIONAL_SERVERS: must be a JSON object"],
        ),
        env_case(
            "env_additional_entry_not_object",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"staging": "{S}"}"#)],
            &["TRINO_ADDITIONAL_SERVERS.staging: expected a mapping"],
        ),
        env_case(
            "env_additional_wrong_types",
            &[(
                "TRINO_ADDITIONAL_SERVERS",
                r#"{"staging": {"host": 5, "port": "x", "ssl": "maybe", "ssl_verify": [], "timeout": true, "endpoint": "perhaps", "access_mode": 3, "user": 7, "password": {"value": "{S}"}}}"#,
            )],
            &[
                "TRINO_ADDITIONAL_SERVERS.staging.host: expected a string",
                "TRINO_ADDITIONAL_SERVERS.staging.port:",
                "TRINO_ADDITIONAL_SERVERS.staging.ssl:",
                "TRINO_ADDITIONAL_SERVERS.staging.ssl_verify:",
                "TRINO_ADDITIONAL_SERVERS.staging.timeout:",
                "TRINO_ADDITIONAL_SERVERS.staging.endpoint:",
                "TRINO_ADDITIONAL_SERVERS.staging.access_mode:",
                "TRINO_ADDITIONAL_SERVERS.staging.user:",
                "TRINO_ADDITIONAL_SERVERS.staging.password: expected a string",
            ],
        ),
        env_case(
            "env_additional_unknown_fields",
            &[(
                "TRINO_ADDITIONAL_SERVERS",
                r#"{"staging": {"host": "s.example.com", "token": "{S}-jwt", "passwd": "{S}-2", "auth": {"bearer_tokens": ["{S}-3"]}}}"#,
            )],
            &[
                "TRINO_ADDITIONAL_SERVERS.staging.token: unknown field",
                "TRINO_ADDITIONAL_SERVERS.staging.passwd: unknown field",
                "TRINO_ADDITIONAL_SERVERS.staging.auth: unknown field",
            ],
        ),
        env_case(
            "env_additional_duplicate_names",
            &[(
                "TRINO_ADDITIONAL_SERVERS",
                r#"{"staging": {"host": "a.example.com"}, "staging": {"host": "b.example.com", "password": "{S}-dup"}}"#,
            )],
            &["TRINO_ADDITIONAL_SERVERS.staging: the same name appears twice"],
        ),
        env_case(
            "env_additional_name_with_slash",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"../admin/x": {"host": "a.example.com"}}"#)],
            &[r#"connection name "../admin/x""#],
        ),
        env_case(
            "env_additional_name_with_spaces",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"my staging": {"host": "a.example.com"}}"#)],
            &[r#"connection name "my staging""#],
        ),
        env_case(
            "env_additional_name_uppercase",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"Staging": {"host": "a.example.com"}}"#)],
            &[r#"connection name "Staging""#],
        ),
        env_case(
            "env_additional_name_empty",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"": {"host": "a.example.com"}}"#)],
            &[r#"connection name """#],
        ),
        env_case(
            "env_additional_replaces_primary",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"default": {"host": "a.example.com"}}"#)],
            &["TRINO_ADDITIONAL_SERVERS.default"],
        ),
        env_case(
            "env_additional_missing_host",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"staging": {"port": 8443}}"#)],
            &["connection 'staging': host is required (set host in TRINO_ADDITIONAL_SERVERS.staging)"],
        ),
        env_case(
            "env_additional_inherits_over_plain_http",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"dev": {"host": "localhost"}}"#)],
            &["connection 'dev': the password inherited from 'default'"],
        ),
        env_case(
            "env_additional_reserved_endpoint",
            &[("TRINO_ADDITIONAL_SERVERS", r#"{"admin": {"host": "a.example.com", "endpoint": true}}"#)],
            &["connection 'admin': endpoint: true would serve /admin/mcp"],
        ),
        env_case(
            "env_config_file_missing",
            &[("MCP_TRINO_CONFIG", "{DIR}/nope/mcp-trino.yaml")],
            &["config file {DIR}/nope/mcp-trino.yaml: cannot read"],
        ),
        Case {
            name: "env_nothing_configured",
            file: File::None,
            env: vec![("UNRELATED_PASSWORD".into(), "{S}".into())],
            expect: vec!["configuration: no Trino connection is configured"],
            modes: ALL,
            bind: true,
            via_env: false,
        },
        // --- files: not a configuration at all ------------------------------------------
        file_case(
            "file_not_yaml",
            "connections: [\n  prod: {host: trino.example.com, password: \"{S}\"\n",
            &["config file: invalid YAML"],
        ),
        file_case(
            "file_is_a_list",
            "- host: trino.example.com\n  password: \"{S}\"\n",
            &["(top level): expected a mapping, got a list"],
        ),
        file_case(
            "file_is_a_scalar",
            "\"{S}\"\n",
            &["(top level): expected a mapping, got a string"],
        ),
        file_case(
            "file_two_documents",
            &format!("{PROD}---\nconnections: {{}}\n"),
            &["config file: invalid YAML", "more than one document"],
        ),
        file_case(
            "file_duplicate_key",
            &format!("{PROD}  prod:\n    host: other.example.com\n"),
            &["config file: invalid YAML", "duplicate entry with key \"prod\""],
        ),
        file_case(
            "file_custom_tag_on_password",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    password: !vault \"{S}\"\n",
            &["connections.prod.password: expected a string, got a tagged value"],
        ),
        file_case(
            "file_secret_with_yaml_syntax_error",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    password: {S}: \"oops\n",
            &["config file: invalid YAML"],
        ),
        file_case(
            "file_secret_bad_escape",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    password: \"{S}\\q\"\n",
            &["config file: invalid YAML"],
        ),
        file_case(
            "file_secret_unterminated_quote",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    password: '{S}\n",
            &["config file: invalid YAML"],
        ),
        // --- files: unknown keys at each level ------------------------------------------
        file_case(
            "file_unknown_top_level",
            &prod_with("defualt_connection: prod\n"),
            &["defualt_connection: unknown field"],
        ),
        file_case(
            "file_unknown_seed_top_level",
            &format!("{SEED}hots: x\n"),
            &["hots: unknown field"],
        ),
        file_case(
            "file_unknown_server_key",
            &prod_with("server:\n  bnd: 127.0.0.1:0\n"),
            &["server.bnd: unknown field"],
        ),
        file_case(
            "file_unknown_server_auth_key",
            &prod_with("server:\n  auth:\n    bearer_token: [\"{S}-mcp\"]\n"),
            &["server.auth.bearer_token: unknown field"],
        ),
        file_case(
            "file_unknown_reload_key",
            &prod_with("server:\n  reload_endpoint:\n    enabled: true\n    token: \"{S}-reload\"\n    tokn: x\n"),
            &["server.reload_endpoint.tokn: unknown field"],
        ),
        file_case(
            "file_unknown_connection_key",
            &prod_with("    passwrod: x\n"),
            &["connections.prod.passwrod: unknown field"],
        ),
        file_case(
            "file_unknown_auth_key",
            &prod_with("    endpoint: true\n    auth:\n      bearer_token: [\"{S}-mcp\"]\n"),
            &["connections.prod.auth.bearer_token: unknown field"],
        ),
        file_case(
            "file_unknown_limits_key",
            &prod_with("    limits:\n      requests_per_minute: 5\n"),
            &["connections.prod.limits.requests_per_minute: unknown field"],
        ),
        file_case(
            "file_unknown_additional_server_key",
            &format!("{SEED}additional_servers:\n  dev:\n    host: dev.example.com\n    pasword: \"{{S}}-dev\"\n"),
            &["additional_servers.dev.pasword: unknown field"],
        ),
        file_case(
            "file_merge_key",
            &prod_with("    <<: {catalog: tpch}\n"),
            &["connections.prod.<<: unknown field"],
        ),
        // --- files: wrong shapes and values ---------------------------------------------
        file_case(
            "file_connections_is_a_list",
            "connections:\n  - host: trino.example.com\n    password: \"{S}\"\n",
            &["connections: expected a mapping, got a list"],
        ),
        file_case(
            "file_connection_is_a_string",
            "connections:\n  prod: \"{S}\"\n",
            &["connections.prod: expected a mapping, got a string"],
        ),
        file_case(
            "file_connections_empty",
            "connections: {}\nserver:\n  auth:\n    bearer_tokens: [\"{S}\"]\n",
            &["connections: must list at least one connection"],
        ),
        file_case(
            "file_mixed_layouts",
            &format!("host: trino.example.com\n{PROD}"),
            &["(top level): the file uses `connections:` and also top-level host"],
        ),
        file_case(
            "file_missing_host",
            "connections:\n  prod:\n    user: analyst\n    password: \"{S}\"\n",
            &["connection 'prod': host is required (set host in connections.prod)"],
        ),
        file_case(
            "file_host_with_scheme",
            "connections:\n  prod:\n    host: https://trino.example.com\n    user: analyst\n    password: \"{S}\"\n",
            &["connection 'prod': host must be a host name without a scheme"],
        ),
        file_case(
            "file_host_with_path",
            "connections:\n  prod:\n    host: trino.example.com/ui\n    user: analyst\n    password: \"{S}\"\n",
            &["connection 'prod': host must be a bare host name"],
        ),
        file_case(
            "file_host_is_a_number",
            "connections:\n  prod:\n    host: 10\n    user: analyst\n    password: \"{S}\"\n",
            &["connections.prod.host: expected a string"],
        ),
        file_case(
            "file_password_over_plain_http",
            "connections:\n  prod:\n    host: localhost\n    user: analyst\n    password: \"{S}\"\n",
            &["connection 'prod': a password is set but ssl is false"],
        ),
        file_case(
            "file_token_over_plain_http",
            "connections:\n  prod:\n    host: trino.example.com\n    ssl: false\n    user: analyst\n    token: \"{S}\"\n",
            &["connection 'prod': a token is set but ssl is false"],
        ),
        file_case(
            "file_inherited_password_over_plain_http",
            &format!("{SEED}additional_servers:\n  dev:\n    host: dev.example.com\n    ssl: false\n"),
            &["connection 'dev': the password inherited from 'default' would be sent over plain HTTP"],
        ),
        file_case(
            "file_password_and_token",
            &prod_with("    token: \"{S}-jwt\"\n"),
            &["connection 'prod': both password and token are set"],
        ),
        file_case(
            "file_password_without_user",
            "connections:\n  prod:\n    host: trino.example.com\n    password: \"{S}\"\n",
            &["connection 'prod': a password is set but user is not"],
        ),
        file_case(
            "file_user_ro_without_scope",
            &prod_with("    access_mode: user_ro\n    catalog: tpch\n"),
            &["connection 'prod': access_mode user_ro limits tools"],
        ),
        file_case(
            "file_user_rw_without_scope",
            &prod_with("    access_mode: user_rw\n    schema: tiny\n"),
            &["connection 'prod': access_mode user_rw limits tools"],
        ),
        file_case(
            "file_access_mode_unknown",
            &prod_with("    access_mode: root\n"),
            &["connections.prod.access_mode"],
        ),
        file_case(
            "file_endpoint_auth_without_endpoint",
            &prod_with("    auth:\n      bearer_tokens: [\"{S}-mcp\"]\n"),
            &["connection 'prod': auth.bearer_tokens only protect the connection's own endpoint"],
        ),
        file_case(
            "file_transport_without_endpoint",
            &prod_with("    transport: streamable-http\n"),
            &["connection 'prod': transport is set but endpoint is not true"],
        ),
        file_case(
            "file_transport_unknown",
            &prod_with("    endpoint: true\n    transport: carrier-pigeon\n"),
            &["connections.prod.transport"],
        ),
        file_case(
            "file_endpoint_on_reserved_name",
            "connections:\n  metrics:\n    host: trino.example.com\n    user: analyst\n    password: \"{S}\"\n    endpoint: true\n",
            &["connection 'metrics': endpoint: true would serve /metrics/mcp"],
        ),
        file_case(
            "file_bearer_token_empty_string",
            &prod_with("    endpoint: true\n    auth:\n      bearer_tokens: [\"\"]\n"),
            &["connection 'prod': auth.bearer_tokens[0]: a bearer token must be non-empty"],
        ),
        file_case(
            "file_bearer_token_with_space",
            &prod_with("    endpoint: true\n    auth:\n      bearer_tokens: [\"{S} x\"]\n"),
            &["connection 'prod': auth.bearer_tokens[0]: a bearer token must be non-empty printable ASCII"],
        ),
        file_case(
            "file_bearer_token_with_newline",
            &prod_with("    endpoint: true\n    auth:\n      bearer_tokens: [\"{S}\\n\"]\n"),
            &["connection 'prod': auth.bearer_tokens[0]: a bearer token must be non-empty printable ASCII"],
        ),
        file_case(
            "file_bearer_tokens_non_string",
            &prod_with("    endpoint: true\n    auth:\n      bearer_tokens: [123, true, {t: x}]\n"),
            &[
                "connections.prod.auth.bearer_tokens[0]: expected a string, got a number",
                "connections.prod.auth.bearer_tokens[1]: expected a string, got a boolean",
                "connections.prod.auth.bearer_tokens[2]: expected a string, got a mapping",
            ],
        ),
        file_case(
            "file_bearer_tokens_not_a_list",
            &prod_with("    endpoint: true\n    auth:\n      bearer_tokens: \"{S}-mcp\"\n"),
            &["connections.prod.auth.bearer_tokens: expected a list, got a string"],
        ),
        file_case(
            "file_server_bearer_tokens_bad",
            &prod_with("server:\n  auth:\n    bearer_tokens: [\"\", \"{S} two words\", 5]\n"),
            &[
                "server.auth.bearer_tokens[0]: a bearer token must be non-empty",
                "server.auth.bearer_tokens[1]: a bearer token must be non-empty",
                "server.auth.bearer_tokens[2]: expected a string, got a number",
            ],
        ),
        file_case(
            "file_server_bearer_tokens_not_a_list",
            &prod_with("server:\n  auth:\n    bearer_tokens: \"{S}-mcp\"\n"),
            &["server.auth.bearer_tokens: expected a list, got a string"],
        ),
        // Over HTTP only: a non-loopback bind with an endpoint that has an empty token list.
        file_case(
            "file_remote_bind_empty_endpoint_tokens",
            &prod_with("    endpoint: true\n    auth:\n      bearer_tokens: []\nserver:\n  bind: 0.0.0.0:0\n  auth:\n    bearer_tokens: [\"{S}-mcp\"]\n"),
            &["refusing to listen on 0.0.0.0:0", "/prod/mcp"],
        )
        .modes(HTTP)
        .no_bind(),
        file_case(
            "file_remote_bind_without_tokens",
            &prod_with("server:\n  bind: \"[::]:0\"\n"),
            &["refusing to listen on [::]:0", "/mcp"],
        )
        .modes(HTTP)
        .no_bind(),
        file_case(
            "file_ca_cert_missing",
            &format!("{tls_prod}    ca_cert: {{DIR}}/no-such-ca.pem\n"),
            &["connection 'prod': ca_cert: cannot read {DIR}/no-such-ca.pem"],
        ),
        file_case(
            "file_ca_cert_is_a_directory",
            &format!("{tls_prod}    ca_cert: adir\n"),
            &["connection 'prod': ca_cert: cannot read {DIR}/adir"],
        ),
        file_case(
            "file_ca_cert_not_pem",
            &format!("{tls_prod}    ca_cert: not-pem.txt\n"),
            &["connection 'prod': ca_cert: {DIR}/not-pem.txt is not a PEM file"],
        ),
        // PEM armour around garbage passes the file check; the client refuses it at start.
        // (`check-config` accepts it: see configurations_that_still_start_or_leak.)
        file_case(
            "file_ca_cert_garbage_pem",
            &format!("{tls_prod}    ca_cert: fake.pem\n"),
            &["connection 'prod': ca_cert", "fake.pem"],
        )
        .modes(HTTP | STDIO),
        file_case(
            "file_ca_cert_with_ssl_false",
            "connections:\n  prod:\n    host: trino.example.com\n    ssl: false\n    user: analyst\n    ca_cert: fake.pem\n    auth:\n      bearer_tokens: [\"{S}\"]\n",
            &["connection 'prod': ca_cert is set but ssl is false"],
        ),
        file_case(
            "file_client_cert_without_key",
            &format!("{tls_prod}    client_cert: fake.pem\n"),
            &["connection 'prod': client_cert is set without client_key"],
        ),
        file_case(
            "file_unset_var_in_host",
            "connections:\n  prod:\n    host: ${UNSET_HOSTILE_HOST}\n    user: analyst\n    password: \"{S}\"\n",
            &["connections.prod.host: environment variable UNSET_HOSTILE_HOST is not set"],
        ),
        file_case(
            "file_unset_var_in_password",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    password: ${UNSET_HOSTILE_PASSWORD}\n    endpoint: true\n    auth:\n      bearer_tokens: [\"{S}\"]\n",
            &["connections.prod.password: environment variable UNSET_HOSTILE_PASSWORD is not set"],
        ),
        file_case(
            "file_unset_var_in_bearer_token",
            &prod_with("    endpoint: true\n    auth:\n      bearer_tokens: [\"${UNSET_HOSTILE_TOKEN}\"]\n"),
            &["connections.prod.auth.bearer_tokens[0]: environment variable UNSET_HOSTILE_TOKEN is not set"],
        ),
        file_case(
            "file_bad_var_name",
            &prod_with("    catalog: \"${1BAD}\"\n"),
            &["connections.prod.catalog: invalid variable reference"],
        ),
        file_case(
            "file_unterminated_var",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    password: \"${HOSTILE_PW\"\n",
            &["connections.prod.password: unterminated ${"],
        )
        .with_env(&[("HOSTILE_PW", "{S}")]),
        // A secret from a variable, put in the wrong fields: never echoed.
        file_case(
            "file_secret_var_in_wrong_fields",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    port: ${HOSTILE_PW}\n    ssl: ${HOSTILE_PW}\n    timeout: ${HOSTILE_PW}\n    access_mode: ${HOSTILE_PW}\n    endpoint: true\n    transport: ${HOSTILE_PW}\n    limits:\n      window_seconds: ${HOSTILE_PW}\nserver:\n  bind: ${HOSTILE_PW}\n  compose: ${HOSTILE_PW}\n  max_body_bytes: ${HOSTILE_PW}\n  stateless: ${HOSTILE_PW}\n  allowed_hosts: [\"${HOSTILE_PW} x\"]\n",
            &[
                "connections.prod.port:",
                "connections.prod.ssl:",
                "connections.prod.timeout:",
                "connections.prod.access_mode:",
                "connections.prod.transport:",
                "connections.prod.limits.window_seconds:",
                "server.bind:",
                "server.compose:",
                "server.max_body_bytes:",
                "server.stateless:",
                "server.allowed_hosts[0]:",
                "a value from an environment variable (not shown)",
            ],
        )
        .with_env(&[("HOSTILE_PW", "{S}")]),
        file_case(
            "file_bind_garbage",
            &prod_with("server:\n  bind: not-an-address\n"),
            &["server.bind: expected an IP address and port"],
        ),
        file_case(
            "file_bind_host_name",
            &prod_with("server:\n  bind: localhost:8080\n"),
            &["server.bind: expected an IP address and port"],
        ),
        file_case(
            "file_bind_without_port",
            &prod_with("server:\n  bind: 127.0.0.1\n"),
            &["server.bind: expected an IP address and port"],
        ),
        file_case(
            "file_bind_port_out_of_range",
            &prod_with("server:\n  bind: 127.0.0.1:99999\n"),
            &["server.bind: expected an IP address and port"],
        ),
        file_case(
            "file_bind_number",
            &prod_with("server:\n  bind: 8080\n"),
            &["server.bind: expected a string"],
        ),
        file_case(
            "file_reload_enabled_without_token",
            &prod_with("server:\n  reload_endpoint:\n    enabled: true\n"),
            &["server.reload_endpoint.token: is required"],
        ),
        file_case(
            "file_reload_token_wrong_type",
            &prod_with("server:\n  reload_endpoint:\n    enabled: true\n    token: [\"{S}-reload\"]\n"),
            &["server.reload_endpoint.token: expected a string"],
        ),
        file_case(
            "file_server_numbers_out_of_range",
            &prod_with("server:\n  max_body_bytes: 10\n  response_budget_bytes: 99999999999999\n  shutdown_grace_seconds: 301\n"),
            &[
                "server.max_body_bytes:",
                "server.response_budget_bytes:",
                "server.shutdown_grace_seconds:",
            ],
        ),
        file_case(
            "file_allowed_hosts_bad",
            &prod_with("server:\n  allowed_hosts: [\"evil.example.com/x\", \"\"]\n"),
            &["server.allowed_hosts[0]:", "server.allowed_hosts[1]:"],
        ),
        file_case(
            "file_compose_unknown",
            &prod_with("server:\n  compose: everything\n"),
            &["server.compose: unknown compose mode"],
        ),
        file_case(
            "file_port_zero",
            &prod_with("    port: 0\n"),
            &["connections.prod.port: must be a whole number from 1 to 65535"],
        ),
        file_case(
            "file_port_text",
            &prod_with("    port: https\n"),
            &["connections.prod.port: must be a whole number from 1 to 65535"],
        ),
        file_case(
            "file_timeout_out_of_range",
            &prod_with("    timeout: 301\n"),
            &["connections.prod.timeout: must be a whole number from 1 to 300 seconds"],
        ),
        file_case(
            "file_limits_out_of_range",
            &prod_with("    limits:\n      requests_per_window: 0\n      window_seconds: -5\n      max_concurrent_queries: 100000\n"),
            &[
                "connections.prod.limits.requests_per_window:",
                "connections.prod.limits.window_seconds:",
                "connections.prod.limits.max_concurrent_queries:",
            ],
        ),
        file_case(
            "file_session_properties_bad",
            &prod_with("    session_properties:\n      \"bad name\": 1\n      nested: {a: 1}\n"),
            &[
                "connections.prod.session_properties.nested: expected a text, number or boolean",
                "session_properties: \"bad name\" is not a property name",
            ],
        ),
        file_case(
            "file_client_tag_with_comma",
            &prod_with("    client_tags: [\"a,b\"]\n"),
            &["connection 'prod': client_tags[0] must be non-empty and contain no comma"],
        ),
        file_case(
            "file_default_connection_unknown",
            &format!("default_connection: nope\n{PROD}"),
            &["default_connection: names \"nope\", which is not a configured connection"],
        ),
        file_case(
            "file_connection_name_invalid",
            "connections:\n  Prod/../x:\n    host: trino.example.com\n    user: analyst\n    password: \"{S}\"\n",
            &[r#"connection name "Prod/../x""#],
        ),
        // --- files that are not files, or hostile ones -----------------------------------
        Case {
            name: "file_does_not_exist",
            file: File::Missing,
            env: Vec::new(),
            expect: vec!["config file {DIR}/missing.yaml: cannot read"],
            modes: ALL,
            bind: true,
            via_env: false,
        }
        .with_env(&[("TRINO_HOST", "trino.example.com"), ("TRINO_USER", "analyst"), ("TRINO_PASSWORD", "{S}")]),
        Case {
            name: "file_is_a_directory",
            file: File::Directory,
            env: Vec::new(),
            expect: vec!["config file {DIR}/config.d: cannot read"],
            modes: ALL,
            bind: true,
            via_env: false,
        }
        .with_env(&[("TRINO_HOST", "trino.example.com"), ("TRINO_USER", "analyst"), ("TRINO_PASSWORD", "{S}")]),
        Case {
            name: "file_10mb_of_garbage",
            file: File::Text(format!("{PROD}{}", "{[:&*!|>".repeat(10 * MIB / 8))),
            env: Vec::new(),
            expect: vec!["config file: invalid YAML"],
            modes: ALL,
            bind: true,
            via_env: false,
        },
        // Scanning 10 MB takes 2-3 s in a debug build and loading is the same whatever the
        // command, so each of these two runs in one serving mode.
        Case {
            name: "file_10mb_unknown_value",
            file: File::Text(format!("{PROD}junk: \"{}\"\n", "x".repeat(10 * MIB))),
            env: Vec::new(),
            expect: vec!["junk: unknown field"],
            modes: STDIO,
            bind: true,
            via_env: false,
        },
        Case {
            // The secret itself is 10 MB, on a connection that would send it over plain HTTP.
            name: "file_10mb_password",
            file: File::Text(format!(
                "connections:\n  prod:\n    host: localhost\n    user: analyst\n    password: \"{{S}}-{}\"\n",
                "y".repeat(10 * MIB)
            )),
            env: Vec::new(),
            expect: vec!["connection 'prod': a password is set but ssl is false"],
            modes: HTTP,
            bind: true,
            via_env: false,
        },
        Case {
            name: "file_binary_bytes",
            file: File::Bytes({
                let mut b = PROD.as_bytes().to_vec();
                b.extend((0..=255u8).cycle().take(64 * 1024));
                b
            }),
            env: Vec::new(),
            expect: vec!["config file {DIR}/config.yaml: cannot read", "UTF-8"],
            modes: ALL,
            bind: true,
            via_env: false,
        },
        Case {
            name: "file_control_characters",
            file: File::Bytes(format!("{PROD}\u{1}\u{2}\u{0}\n").into_bytes()),
            env: Vec::new(),
            expect: vec!["config file: invalid YAML"],
            modes: ALL,
            bind: true,
            via_env: false,
        },
        Case {
            name: "file_utf16",
            file: File::Bytes({
                let mut b = vec![0xFF, 0xFE];
                for u in PROD.replace("{S}", "Sekr1t-file_utf16").encode_utf16() {
                    b.extend_from_slice(&u.to_le_bytes());
                }
                b
            }),
            env: vec![("TRINO_PASSWORD".into(), "{S}".into())],
            expect: vec!["config file {DIR}/config.yaml: cannot read"],
            modes: ALL,
            bind: true,
            via_env: false,
        },
        file_case(
            "file_deep_flow_nesting",
            &format!("{PROD}deep: {}{}\n", "[".repeat(2_000), "]".repeat(2_000)),
            &["config file: invalid YAML", "recursion limit exceeded"],
        ),
        file_case(
            "file_deep_block_nesting",
            &format!(
                "{PROD}deep:\n{}",
                (1..3000).map(|i| format!("{}k:\n", " ".repeat(i))).collect::<String>()
            ),
            &["config file: invalid YAML", "recursion limit exceeded"],
        ),
        file_case(
            "file_billion_laughs",
            &billion_laughs(),
            &["config file: invalid YAML", "repetition limit exceeded"],
        ),
        file_case(
            "file_aliases_as_connections",
            "base: &b {host: localhost, user: analyst, password: \"{S}\"}\nconnections:\n  a: *b\n  b: *b\n",
            &["base: unknown field", "connection 'a': a password is set but ssl is false"],
        ),
        // --- combinations: a valid file and an invalid environment ---------------------
        file_case("combo_valid_file_bad_port", PROD, &["TRINO_PORT:"])
            .with_env(&[("TRINO_PORT", "abc")]),
        file_case("combo_valid_file_bad_timeout", PROD, &["TRINO_TIMEOUT:"])
            .with_env(&[("TRINO_TIMEOUT", "0")]),
        file_case(
            "combo_env_makes_file_password_plain",
            PROD,
            &["connection 'prod': a password is set but ssl is false"],
        )
        .with_env(&[("TRINO_SSL", "false")]),
        file_case(
            "combo_env_user_mode_without_scope",
            PROD,
            &["connection 'prod': access_mode user_ro"],
        )
        .with_env(&[("TRINO_ACCESS_MODE", "user_ro")]),
        file_case(
            "combo_env_password_and_file_token",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    token: \"{S}-jwt\"\n",
            &["connection 'prod': both password and token are set"],
        )
        .with_env(&[("TRINO_PASSWORD", "{S}")]),
        file_case(
            "combo_env_replaces_the_primary",
            PROD,
            &["TRINO_ADDITIONAL_SERVERS.prod: 'prod' is the primary connection"],
        )
        .with_env(&[("TRINO_ADDITIONAL_SERVERS", r#"{"prod": {"host": "other.example.com"}}"#)]),
        file_case(
            "combo_env_server_inherits_into_plain_http",
            SEED,
            &["connection 'dev': the password inherited from 'default' would be sent over plain HTTP"],
        )
        .with_env(&[("TRINO_ADDITIONAL_SERVERS", r#"{"dev": {"host": "localhost"}}"#)]),
        file_case(
            "combo_env_duplicates_a_file_name_ignoring_case",
            PROD,
            &[r#"connection name "PROD""#],
        )
        .with_env(&[("TRINO_ADDITIONAL_SERVERS", r#"{"PROD": {"host": "other.example.com"}}"#)]),
        file_case(
            "combo_env_bad_json_with_valid_file",
            PROD,
            &["TRINO_ADDITIONAL_SERVERS: is not valid JSON"],
        )
        .with_env(&[("TRINO_ADDITIONAL_SERVERS", "{\"x\": {\"password\": \"{S}-env\"")]),
        file_case(
            "combo_config_named_by_env_is_a_list",
            "- host: trino.example.com\n  password: \"{S}\"\n",
            &["(top level): expected a mapping, got a list"],
        )
        .via_env(),
        file_case(
            "combo_file_and_env_problems_reported_together",
            &prod_with("    port: 0\n"),
            &["connections.prod.port:", "TRINO_SSL_VERIFY:", "TRINO_ADDITIONAL_SERVERS.x.port:"],
        )
        .with_env(&[
            ("TRINO_SSL_VERIFY", "sure"),
            ("TRINO_ADDITIONAL_SERVERS", r#"{"x": {"host": "x.example.com", "port": 0, "password": "{S}-x"}}"#),
        ]),
    ]
}

/// Hostile configurations the server accepts today (it starts, half-working) or whose error
/// leaks the secret. Each is a bug; see `configurations_that_still_start_or_leak`.
fn open_cases() -> Vec<Case> {
    vec![
        // A JWT with a control character (a trailing newline from a mounted secret, or CR LF)
        // cannot travel in a header: the client silently drops the Authorization header.
        file_case(
            "open_token_with_trailing_newline",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    token: \"${HOSTILE_JWT}\"\n",
            &["connection 'prod'", "token"],
        )
        .with_env(&[("HOSTILE_JWT", "{S}\n")]),
        file_case(
            "open_token_with_crlf",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    token: \"{S}\\r\\nX-Trino-User: admin\"\n",
            &["connection 'prod'", "token"],
        ),
        // YAML core tags on a secret: serde_norway's error quotes the scalar.
        file_case(
            "open_int_tag_on_password",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    password: !!int \"{S}\"\n",
            &["connections.prod.password"],
        ),
        file_case(
            "open_bool_tag_on_token",
            "connections:\n  prod:\n    host: trino.example.com\n    user: analyst\n    token: !!bool {S}\n",
            &["connections.prod.token"],
        ),
        file_case(
            "open_float_tag_on_bearer_token",
            &prod_with("    endpoint: true\n    auth:\n      bearer_tokens: [!!float {S}]\n"),
            &["connections.prod.auth.bearer_tokens[0]"],
        ),
        file_case(
            "open_null_tag_on_reload_token",
            &prod_with("server:\n  reload_endpoint:\n    enabled: true\n    token: !!null {S}\n"),
            &["server.reload_endpoint.token"],
        ),
        // Host names longer than DNS allows (253) can never resolve.
        file_case(
            "open_host_300_chars",
            &format!(
                "connections:\n  prod:\n    host: {}.example.com\n    user: analyst\n    password: \"{{S}}\"\n",
                "a".repeat(300)
            ),
            &["connection 'prod': host"],
        ),
        // The YAML scanner is quadratic in flow nesting: 30 000 `[` (a 60 KB file) keep the
        // process busy for tens of seconds before "recursion limit exceeded" (2 500: 0.2 s,
        // 5 000: 1 s, 10 000: 3 s, 20 000: 10 s in a debug build); a 10 MB file, for days. The
        // same parse runs on SIGHUP inside the server's async runtime.
        file_case(
            "open_deep_flow_nesting_is_quadratic",
            &format!("{PROD}deep: {}{}\n", "[".repeat(30_000), "]".repeat(30_000)),
            &["config file: invalid YAML", "recursion limit exceeded"],
        )
        .modes(CHECK),
        // Basic auth cannot carry a user name with a colon (RFC 7617).
        file_case(
            "open_user_with_colon_and_password",
            "connections:\n  prod:\n    host: trino.example.com\n    user: \"ana:lyst\"\n    password: \"{S}\"\n",
            &["connection 'prod'", "user"],
        ),
        // A reload token no request can present: a control character cannot travel in a
        // header (endpoint bearer tokens are checked for this; the reload token is not).
        file_case(
            "open_reload_token_with_trailing_newline",
            &prod_with("server:\n  reload_endpoint:\n    enabled: true\n    token: \"${HOSTILE_RELOAD}\"\n"),
            &["server.reload_endpoint.token"],
        )
        .with_env(&[("HOSTILE_RELOAD", "{S}-reload\n")]),
        // A `${VAR}` value is echoed in the default_connection message.
        file_case(
            "open_var_value_in_default_connection",
            &format!("default_connection: ${{HOSTILE_PW}}\n{PROD}"),
            &["default_connection"],
        )
        .with_env(&[("HOSTILE_PW", "{S}-dc")]),
        // Start-up refusals after loading go through the log filter: a filter naming only
        // some targets hides them, and the process exits 1 without a word.
        file_case(
            "open_refusal_hidden_by_log_filter_remote_bind",
            &prod_with("server:\n  bind: 0.0.0.0:0\n"),
            &["refusing to listen on 0.0.0.0:0"],
        )
        .with_env(&[("MCP_TRINO_LOG", "rmcp=debug")])
        .modes(HTTP)
        .no_bind(),
        file_case(
            "open_refusal_hidden_by_log_filter_bad_ca",
            "connections:\n  prod:\n    host: trino.example.com\n    ssl: true\n    user: analyst\n    password: \"{S}\"\n    ca_cert: fake.pem\n",
            &["ca_cert"],
        )
        .with_env(&[("MCP_TRINO_LOG", "rmcp=debug")])
        .modes(HTTP | STDIO),
        // Refused by `serve`, accepted by `check-config`.
        file_case(
            "open_garbage_pem_passes_check_config",
            "connections:\n  prod:\n    host: trino.example.com\n    ssl: true\n    user: analyst\n    password: \"{S}\"\n    ca_cert: fake.pem\n",
            &["ca_cert"],
        )
        .modes(CHECK),
    ]
}

/// The case's folder: its config file plus certificate-like files cases point at.
fn case_dir(root: &Path, case: &Case) -> PathBuf {
    let dir = root.join(case.name);
    std::fs::create_dir_all(dir.join("adir")).expect("case dir");
    std::fs::create_dir_all(dir.join("config.d")).expect("case dir");
    std::fs::write(dir.join("not-pem.txt"), "just some text\n").expect("file");
    std::fs::write(
        dir.join("fake.pem"),
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    )
    .expect("file");
    dir
}

/// Runs one case in each of its modes; returns the problems found.
fn check_case(root: &Path, case: &Case) -> Vec<String> {
    let dir = case_dir(root, case);
    let secret = case.secret();
    let dir_s = dir.display().to_string();
    let subst = |s: &str| s.replace("{S}", &secret).replace("{DIR}", &dir_s);
    let config: Option<PathBuf> = match &case.file {
        File::None => None,
        File::Text(t) => {
            let p = dir.join("config.yaml");
            std::fs::write(&p, subst(t)).expect("config");
            Some(p)
        }
        File::Bytes(b) => {
            let p = dir.join("config.yaml");
            let text = String::from_utf8_lossy(b);
            // Substitute only where the bytes are text; keep the rest byte for byte.
            let bytes = if text.as_bytes() == b.as_slice() {
                subst(&text).into_bytes()
            } else {
                let cut = b.windows(3).position(|w| w == b"{S}").map(|i| i + 3);
                let mut out = Vec::new();
                match cut {
                    Some(end) => {
                        out.extend_from_slice(
                            subst(&String::from_utf8_lossy(&b[..end])).as_bytes(),
                        );
                        out.extend_from_slice(&b[end..]);
                    }
                    None => out.extend_from_slice(b),
                }
                out
            };
            std::fs::write(&p, bytes).expect("config");
            Some(p)
        }
        File::Missing => Some(dir.join("missing.yaml")),
        File::Directory => Some(dir.join("config.d")),
    };
    let mut env: Vec<(String, String)> = vec![("MCP_TRINO_LOG".into(), MOST_VERBOSE.into())];
    env.extend(case.env.iter().map(|(k, v)| (k.clone(), subst(v))));
    let in_file = config
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .is_some_and(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()));
    let in_env = env.iter().any(|(_, v)| v.contains(&secret));
    assert!(in_file || in_env, "case {} carries no secret", case.name);
    let big = config
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .is_some_and(|m| m.is_file() && m.len() > 1024 * 1024);
    let deadline = if big { BIG_DEADLINE } else { DEADLINE };
    if case.via_env
        && let Some(p) = &config
    {
        env.push(("MCP_TRINO_CONFIG".into(), p.display().to_string()));
    }
    let config_args = |args: &mut Vec<OsString>| {
        if !case.via_env
            && let Some(p) = &config
        {
            args.push("--config".into());
            args.push(p.clone().into_os_string());
        }
    };

    let mut problems = Vec::new();
    for mode in [Mode::Http, Mode::Stdio, Mode::Check] {
        let bit = match mode {
            Mode::Http => HTTP,
            Mode::Stdio => STDIO,
            Mode::Check => CHECK,
        };
        if case.modes & bit == 0 {
            continue;
        }
        let mut args: Vec<OsString> = Vec::new();
        match mode {
            Mode::Http => {
                args.extend(["serve", "--transport", "http"].map(OsString::from));
                if case.bind {
                    args.extend(["--bind", "127.0.0.1:0"].map(OsString::from));
                }
            }
            Mode::Stdio => {}
            Mode::Check => args.push("check-config".into()),
        }
        config_args(&mut args);
        let run = run_binary(&args, &env, mode, deadline);
        let mut bad = Vec::new();
        match run.ended {
            Ended::Exited => {}
            Ended::Served => bad.push("it started serving".to_string()),
            Ended::TimedOut => bad.push(format!("still running after {deadline:?}")),
        }
        if run.ended == Ended::Exited && run.code == Some(0) {
            bad.push("exit code 0".to_string());
        }
        if mode == Mode::Check && run.ended == Ended::Exited && run.code != Some(2) {
            bad.push(format!("check-config exit code {:?}, expected 2", run.code));
        }
        if run.stdout.contains("listening on") {
            bad.push("printed a ready line".to_string());
        } else if !run.stdout.trim().is_empty() {
            bad.push(format!("wrote to stdout: {:.300}", run.stdout));
        }
        for e in &case.expect {
            let e = subst(e);
            if !run.stderr.contains(&e) {
                bad.push(format!("stderr does not name {e:?}"));
            }
        }
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            for hit in leaks(text, &secret, &["analyst"]) {
                bad.push(format!("secret in {stream}: {hit}"));
            }
            if text.to_ascii_lowercase().contains(MARKER) {
                bad.push(format!("a secret fragment ({MARKER}) in {stream}"));
            }
        }
        if !bad.is_empty() {
            problems.push(format!(
                "[{} over {:?}] {} (after {:?}, exit {:?})\n      stderr: {:.600}",
                case.name,
                mode,
                bad.join("; "),
                run.elapsed,
                run.code,
                run.stderr.trim()
            ));
        }
    }
    problems
}

/// Runs `cases` on two threads; returns every problem.
fn check_all(tag: &str, cases: Vec<Case>) -> Vec<String> {
    let root = common::temp_dir(tag);
    let next = AtomicUsize::new(0);
    let problems = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let found = check_case(&root, case);
                    problems
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend(found);
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&root);
    problems.into_inner().unwrap_or_else(|p| p.into_inner())
}

#[test]
fn invalid_configurations_are_refused_at_start_naming_the_field_without_secrets() {
    let cases = cases();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let n = names.len();
    names.dedup();
    assert_eq!(
        names.len(),
        n,
        "case names are unique (they are the secrets)"
    );
    let started = Instant::now();
    let problems = check_all("hostile", cases);
    assert!(
        problems.is_empty(),
        "{} problem(s) with hostile configurations:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    eprintln!(
        "{n} hostile configurations refused in {:?}",
        started.elapsed()
    );
}

#[test]
fn configurations_that_still_start_or_leak() {
    let problems = check_all("hostile-open", open_cases());
    assert!(
        problems.is_empty(),
        "{} hostile configuration(s) are accepted or leak their secret:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// Part 2: a running server, searched for every secret
// ---------------------------------------------------------------------------------------------

/// Everything the server (and `check-config`) produced, labelled for messages.
#[derive(Default)]
struct Recorder {
    items: Mutex<Vec<(String, String)>>,
}

impl Recorder {
    fn add(&self, label: impl Into<String>, text: impl Into<String>) {
        self.items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((label.into(), text.into()));
    }
    fn all(&self) -> Vec<(String, String)> {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

/// One HTTP exchange, recorded whole (status, every header, body).
async fn exchange(
    rec: &Recorder,
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, String)],
    body: Option<String>,
) -> Reply {
    let mut r = http.request(method.clone(), url);
    for (k, v) in headers {
        r = r.header(*k, v.as_str());
    }
    if let Some(b) = body {
        r = r.body(b);
    }
    let resp = tokio::time::timeout(Duration::from_secs(60), r.send())
        .await
        .expect("answer in time")
        .expect("HTTP exchange");
    let status = resp.status().as_u16();
    let hdrs = resp.headers().clone();
    let body = tokio::time::timeout(Duration::from_secs(60), resp.text())
        .await
        .expect("body in time")
        .unwrap_or_default();
    let mut text = format!("HTTP {status}\n");
    for (k, v) in &hdrs {
        text.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
    }
    text.push('\n');
    text.push_str(&body);
    rec.add(format!("{method} {url}"), text);
    Reply {
        status,
        headers: hdrs,
        body,
    }
}

/// A Streamable HTTP MCP session spoken by hand, so every byte of every answer is recorded.
struct Session<'a> {
    rec: &'a Recorder,
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    session: Option<String>,
    version: Option<String>,
    next_id: u64,
}

impl<'a> Session<'a> {
    /// Initializes; `Err(status)` when refused.
    async fn open(rec: &'a Recorder, url: &str, token: Option<&str>) -> Result<Session<'a>, u16> {
        let mut s = Session {
            rec,
            http: common::http_client(),
            url: url.to_string(),
            token: token.map(str::to_string),
            session: None,
            version: None,
            next_id: 1,
        };
        let (status, result) = s
            .request(
                "initialize",
                json!({"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "hostile-config", "version": "0"}}),
            )
            .await;
        if status != 200 {
            return Err(status);
        }
        s.version = result["result"]["protocolVersion"]
            .as_str()
            .map(str::to_string);
        let r = s
            .post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert!(r.status < 300, "initialized: {}", r.status);
        Ok(s)
    }

    async fn post(&self, body: Value) -> Reply {
        let mut h = vec![
            ("content-type", "application/json".to_string()),
            ("accept", "application/json, text/event-stream".to_string()),
        ];
        if let Some(t) = &self.token {
            h.push(("authorization", format!("Bearer {t}")));
        }
        if let Some(sid) = &self.session {
            h.push(("mcp-session-id", sid.clone()));
        }
        if let Some(v) = &self.version {
            h.push(("mcp-protocol-version", v.clone()));
        }
        exchange(
            self.rec,
            &self.http,
            reqwest::Method::POST,
            &self.url,
            &h,
            Some(body.to_string()),
        )
        .await
    }

    /// A request; the JSON-RPC answer with its id (from JSON or from the SSE stream).
    async fn request(&mut self, method: &str, params: Value) -> (u16, Value) {
        let id = self.next_id;
        self.next_id += 1;
        let r = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        if self.session.is_none() {
            self.session = r
                .headers
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
        }
        let answer = std::iter::once(r.body.as_str())
            .chain(r.body.lines().filter_map(|l| l.strip_prefix("data:")))
            .filter_map(|t| serde_json::from_str::<Value>(t.trim()).ok())
            .find(|v| v["id"] == json!(id))
            .unwrap_or(Value::Null);
        (r.status, answer)
    }

    /// `tools/call`; the result object (`isError`, `structuredContent`, `content`).
    async fn call(&mut self, tool: &str, args: Value) -> Value {
        let (status, v) = self
            .request("tools/call", json!({"name": tool, "arguments": args}))
            .await;
        assert_eq!(status, 200, "{tool}: {v}");
        assert!(v.get("result").is_some(), "{tool}: no result in {v}");
        v["result"].clone()
    }
}

fn ok_rows(r: &Value) -> Value {
    assert_eq!(r["isError"], json!(false), "unexpected error: {r}");
    r["structuredContent"]["rows"].clone()
}

fn code(r: &Value) -> String {
    assert_eq!(r["isError"], json!(true), "expected an error: {r}");
    r["structuredContent"]["error"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_string()
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// Distinct secrets; all contain "S3cr3t" so that even a fragment is found.
struct Secrets {
    basic_pw: String,
    overridden_pw: String,
    wrong_pw: String,
    wrong_pw_v2: String,
    wrong_pw_v3: String,
    env_json_pw: String,
    down_pw: String,
    untrusted_pw: String,
    jwt: String,
    wrong_jwt: String,
    mcp_bearer: String,
    mcp_bearer_env: String,
    ep_bearer: String,
    ep_bearer_v2: String,
    reload: String,
    presented_wrong: String,
    bad_reload_pw: String,
    bad_reload_bearer: String,
}

impl Secrets {
    fn new() -> Secrets {
        let nonce = format!("{:x}", std::process::id() ^ 0x5eed);
        let s = |kind: &str| format!("S3cr3t{kind}{nonce}Zq");
        Secrets {
            basic_pw: s("BasicPw"),
            overridden_pw: s("OverriddenPw"),
            wrong_pw: s("WrongPw"),
            wrong_pw_v2: s("WrongPwTwo"),
            wrong_pw_v3: s("WrongPwThree"),
            env_json_pw: s("EnvJsonPw"),
            down_pw: s("DownPw"),
            untrusted_pw: s("UntrustedPw"),
            jwt: s("Jwt"),
            wrong_jwt: s("WrongJwt"),
            mcp_bearer: s("McpBearer"),
            mcp_bearer_env: s("McpBearerEnv"),
            ep_bearer: s("EpBearer"),
            ep_bearer_v2: s("EpBearerTwo"),
            reload: s("Reload"),
            presented_wrong: s("PresentedWrong"),
            bad_reload_pw: s("BadReloadPw"),
            bad_reload_bearer: s("BadReloadBearer"),
        }
    }

    fn all(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("basic_pw", &self.basic_pw),
            ("overridden_pw", &self.overridden_pw),
            ("wrong_pw", &self.wrong_pw),
            ("wrong_pw_v2", &self.wrong_pw_v2),
            ("wrong_pw_v3", &self.wrong_pw_v3),
            ("env_json_pw", &self.env_json_pw),
            ("down_pw", &self.down_pw),
            ("untrusted_pw", &self.untrusted_pw),
            ("jwt", &self.jwt),
            ("wrong_jwt", &self.wrong_jwt),
            ("mcp_bearer", &self.mcp_bearer),
            ("mcp_bearer_env", &self.mcp_bearer_env),
            ("ep_bearer", &self.ep_bearer),
            ("ep_bearer_v2", &self.ep_bearer_v2),
            ("reload", &self.reload),
            ("presented_wrong", &self.presented_wrong),
            ("bad_reload_pw", &self.bad_reload_pw),
            ("bad_reload_bearer", &self.bad_reload_bearer),
        ]
    }
}

/// The configuration of the secret-grep test. `ep_bearer` and `wrong_pw` change on reload.
fn grep_config(
    s: &Secrets,
    basic: u16,
    jwt: u16,
    down: u16,
    ep_bearer: &str,
    wrong_pw: &str,
) -> String {
    format!(
        r#"server:
  bind: 127.0.0.1:0
  shutdown_grace_seconds: 3
  log_sql: true
  reload_endpoint:
    enabled: true
    token: ${{RELOAD_TOKEN}}
  auth:
    bearer_tokens: ["{mcp}", "${{MCP_TOKEN_2}}"]
connections:
  basic:
    host: localhost
    port: {basic}
    ssl: true
    user: analyst
    password: "{overridden}"
    ca_cert: ca.pem
    catalog: tpch
    schema: tiny
  jwt:
    host: localhost
    port: {jwt}
    ssl: true
    user: analyst
    token: "{jwt_token}"
    ca_cert: ca.pem
    catalog: tpch
    schema: tiny
    endpoint: true
    auth:
      bearer_tokens: ["{ep_bearer}"]
  wrongpw:
    host: localhost
    port: {basic}
    ssl: true
    user: analyst
    password: "{wrong_pw}"
    ca_cert: ca.pem
  wrongjwt:
    host: localhost
    port: {jwt}
    ssl: true
    user: analyst
    token: ${{WRONG_JWT}}
    ca_cert: ca.pem
  down:
    host: localhost
    port: {down}
    ssl: true
    user: analyst
    password: "{down_pw}"
    ca_cert: ca.pem
  untrusted:
    host: localhost
    port: {basic}
    ssl: true
    user: analyst
    password: "{untrusted_pw}"
"#,
        untrusted_pw = s.untrusted_pw,
        mcp = s.mcp_bearer,
        overridden = s.overridden_pw,
        jwt_token = s.jwt,
        down_pw = s.down_pw,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_any_output_log_page_metric_or_error() {
    // Phases with their times (shown with --nocapture). The first query on a fresh emulator
    // takes most of the time (its engine warms up: 5-20 s in a debug build).
    let t0 = Instant::now();
    let phase = |what: &str| eprintln!("{:>6.2}s {what}", t0.elapsed().as_secs_f64());
    let secrets = Secrets::new();
    let s = &secrets;
    let tls = TlsMaterial::self_signed().expect("cert");
    let basic_emu = common::emulator("prod", |c| {
        c.tls = Some(tls.clone());
        c.auth = AuthConfig {
            basic: Some(("analyst".into(), s.basic_pw.clone())),
            bearer_tokens: vec![],
        };
    })
    .await;
    let jwt_emu = common::emulator("dev", |c| {
        c.tls = Some(tls.clone());
        c.auth = AuthConfig {
            basic: None,
            bearer_tokens: vec![s.jwt.clone()],
        };
    })
    .await;
    let (basic, jwt, down) = (
        basic_emu.addr().port(),
        jwt_emu.addr().port(),
        common::closed_port(),
    );
    let dir = common::temp_dir("secret-grep");
    std::fs::write(dir.join("ca.pem"), &tls.ca_pem).expect("ca");
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        grep_config(s, basic, jwt, down, &s.ep_bearer, &s.wrong_pw),
    )
    .expect("config");
    let env: Vec<(String, String)> = vec![
        ("MCP_TRINO_LOG".into(), MOST_VERBOSE.into()),
        ("TRINO_PASSWORD".into(), s.basic_pw.clone()),
        ("RELOAD_TOKEN".into(), s.reload.clone()),
        ("MCP_TOKEN_2".into(), s.mcp_bearer_env.clone()),
        ("WRONG_JWT".into(), s.wrong_jwt.clone()),
        (
            "TRINO_ADDITIONAL_SERVERS".into(),
            json!({"extra": {"host": "localhost", "port": basic, "ssl": true, "ssl_verify": false,
                             "user": "analyst", "password": s.env_json_pw}})
            .to_string(),
        ),
    ];
    let rec = Recorder::default();

    phase("emulators up");
    // check-config on the same file and environment.
    let out = Command::new(BIN)
        .arg("check-config")
        .arg("--config")
        .arg(&config)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("check-config");
    let cc_stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        cc_stdout.contains("***") && cc_stdout.contains("wrongjwt"),
        "{cc_stdout}"
    );
    rec.add("check-config stdout", cc_stdout);
    rec.add("check-config stderr", String::from_utf8_lossy(&out.stderr));

    phase("check-config done");
    // The server over HTTP at the most verbose log level.
    let mut child = Guard(
        Command::new(BIN)
            .args([
                "serve",
                "--transport",
                "http",
                "--bind",
                "127.0.0.1:0",
                "--config",
            ])
            .arg(&config)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let pid = child.0.id();
    let (out_buf, out_h) = drain(child.0.stdout.take().expect("stdout"));
    let (err_buf, err_h) = drain(child.0.stderr.take().expect("stderr"));
    let started = Instant::now();
    let base = loop {
        let text = snapshot(&out_buf);
        if let Some(url) = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("mcp-trino listening on "))
        {
            break url.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20) && matches!(child.0.try_wait(), Ok(None)),
            "server did not start:\n{}",
            snapshot(&err_buf)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let http = common::http_client();
    let get = |path: &str| {
        let url = format!("{base}{path}");
        let (rec, http) = (&rec, &http);
        async move { exchange(rec, http, reqwest::Method::GET, &url, &[], None).await }
    };

    phase("server ready");
    // Health: wait for the first background probes, then every page.
    for _ in 0..100 {
        let h = get("/health").await;
        if !h.body.contains("unknown") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let h = get("/health").await;
    assert_eq!(h.status, 200);
    let hv: Value = serde_json::from_str(&h.body).expect("health JSON");
    assert_eq!(hv["connections"]["basic"], "up", "{hv}");
    assert_eq!(hv["connections"]["down"], "down", "{hv}");
    for name in [
        "basic",
        "jwt",
        "wrongpw",
        "wrongjwt",
        "down",
        "untrusted",
        "extra",
    ] {
        let r = get(&format!("/{name}/health")).await;
        assert!(r.status == 200 || r.status == 503, "{name}: {}", r.status);
    }

    phase("health pages");
    // /mcp with the configured token: every outcome.
    let mut main = Session::open(&rec, &format!("{base}/mcp"), Some(&s.mcp_bearer))
        .await
        .expect("/mcp with its token");
    let (_, tools) = main.request("tools/list", json!({})).await;
    assert!(
        tools.to_string().contains("trino_list_connections"),
        "{tools}"
    );
    let conns = main.call("trino_list_connections", json!({})).await;
    // `jwt` has its own endpoint, so /mcp lists the six others.
    assert_eq!(conns["structuredContent"]["count"], json!(6), "{conns}");
    // TLS + basic auth with the password from TRINO_PASSWORD (the file's is overridden).
    let r = main
        .call(
            "trino_query",
            json!({"sql": "SELECT count(*) AS n FROM nation"}),
        )
        .await;
    assert_eq!(ok_rows(&r), json!([{"n": 25}]));
    let r = main.call("trino_list_catalogs", json!({})).await;
    assert_eq!(r["isError"], json!(false), "{r}");
    let r = main
        .call(
            "trino_describe_table",
            json!({"catalog": "tpch", "schema": "tiny", "table": "region"}),
        )
        .await;
    assert_eq!(r["isError"], json!(false), "{r}");
    let r = main
        .call("trino_explain", json!({"sql": "SELECT * FROM region"}))
        .await;
    assert_eq!(r["isError"], json!(false), "{r}");
    // With a progress token, so progress notifications stream too.
    let (status, r) = main
        .request(
            "tools/call",
            json!({"name": "trino_query", "_meta": {"progressToken": "p1"},
                   "arguments": {"sql": "SELECT name FROM region", "format": "csv"}}),
        )
        .await;
    assert_eq!(
        (status, &r["result"]["isError"]),
        (200, &json!(false)),
        "{r}"
    );
    for (conn, expected) in [
        ("wrongpw", "AUTH_FAILED"),
        ("extra", "AUTH_FAILED"),
        ("wrongjwt", "AUTH_FAILED"),
        ("down", "CONNECTION_FAILED"),
        // TLS to a certificate it does not trust (no ca_cert): refused before any credential.
        ("untrusted", "CONNECTION_FAILED"),
        ("nope", "UNKNOWN_CONNECTION"),
    ] {
        let r = main
            .call(
                "trino_query",
                json!({"sql": "SELECT 1", "connection": conn}),
            )
            .await;
        assert_eq!(code(&r), expected, "{conn}: {r}");
        let r = main
            .call(
                "trino_list_schemas",
                json!({"catalog": "tpch", "connection": conn}),
            )
            .await;
        assert_eq!(code(&r), expected, "{conn}: {r}");
    }
    let r = main
        .call(
            "trino_query",
            json!({"sql": "DELETE FROM memory.sales.users"}),
        )
        .await;
    assert_eq!(code(&r), "READ_ONLY");
    let r = main
        .call("trino_query", json!({"sql": "SELECT 1", "limit": 0}))
        .await;
    assert_eq!(code(&r), "INVALID_ARGUMENT");
    // A credential-looking argument is refused without echoing its value. (Arguments are
    // client data, which rmcp's debug log prints in full: this value is not one of the
    // configured secrets searched below.)
    let r = main
        .call(
            "trino_query",
            json!({"sql": "SELECT 1", "password": "ArgValue-9f3e1c"}),
        )
        .await;
    assert_eq!(code(&r), "INVALID_ARGUMENT");
    assert!(!r.to_string().contains("ArgValue-9f3e1c"), "{r}");
    let r = main
        .call("trino_query", json!({"sql": "SELECT * FROM no_such_table"}))
        .await;
    assert_eq!(r["isError"], json!(true), "{r}");
    drop(main);
    // The second /mcp token, from ${MCP_TOKEN_2}.
    let mut second = Session::open(&rec, &format!("{base}/mcp"), Some(&s.mcp_bearer_env))
        .await
        .expect("/mcp with the token from the environment");
    let r = second.call("trino_list_connections", json!({})).await;
    assert_eq!(r["isError"], json!(false), "{r}");
    drop(second);

    // /jwt/mcp: its own token; the JWT reaches the cluster over TLS.
    let mut ep = Session::open(&rec, &format!("{base}/jwt/mcp"), Some(&s.ep_bearer))
        .await
        .expect("/jwt/mcp with its token");
    let r = ep
        .call(
            "jwt_trino_query",
            json!({"sql": "SELECT count(*) AS n FROM region"}),
        )
        .await;
    assert_eq!(ok_rows(&r), json!([{"n": 5}]));
    drop(ep);

    // Wrong tokens: refused, and the presented value is never echoed.
    for (path, token) in [
        ("/mcp", Some(s.presented_wrong.as_str())),
        ("/mcp", Some(s.ep_bearer.as_str())),
        ("/mcp", None),
        ("/jwt/mcp", Some(s.mcp_bearer.as_str())),
        ("/jwt/mcp", Some(s.presented_wrong.as_str())),
    ] {
        let refused = Session::open(&rec, &format!("{base}{path}"), token).await;
        assert_eq!(refused.err(), Some(401), "{path} with {token:?}");
    }
    let reload = |token: String| {
        let url = format!("{base}/admin/reload");
        let (rec, http) = (&rec, &http);
        async move {
            exchange(
                rec,
                http,
                reqwest::Method::POST,
                &url,
                &[("authorization", format!("Bearer {token}"))],
                None,
            )
            .await
        }
    };
    assert_eq!(reload(s.mcp_bearer.clone()).await.status, 401);
    assert_eq!(reload(s.presented_wrong.clone()).await.status, 401);

    let m = get("/metrics").await;
    assert_eq!(m.status, 200);
    assert!(m.body.contains(r#"outcome="AUTH_FAILED""#), "{}", m.body);

    phase("tool calls");
    // SIGHUP with changed secrets: the new endpoint token works, the old one is refused.
    std::fs::write(
        &config,
        grep_config(s, basic, jwt, down, &s.ep_bearer_v2, &s.wrong_pw_v2),
    )
    .expect("config v2");
    signal(pid, "-HUP");
    let mut reloaded = None;
    for _ in 0..100 {
        if let Ok(sess) =
            Session::open(&rec, &format!("{base}/jwt/mcp"), Some(&s.ep_bearer_v2)).await
        {
            reloaded = Some(sess);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut ep = reloaded.expect("the new endpoint token works after SIGHUP");
    let r = ep
        .call(
            "jwt_trino_query",
            json!({"sql": "SELECT count(*) AS n FROM nation"}),
        )
        .await;
    assert_eq!(ok_rows(&r), json!([{"n": 25}]));
    drop(ep);
    assert_eq!(
        Session::open(&rec, &format!("{base}/jwt/mcp"), Some(&s.ep_bearer))
            .await
            .err(),
        Some(401)
    );
    let mut main = Session::open(&rec, &format!("{base}/mcp"), Some(&s.mcp_bearer))
        .await
        .expect("/mcp after reload");
    let r = main
        .call(
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "wrongpw"}),
        )
        .await;
    assert_eq!(code(&r), "AUTH_FAILED");
    drop(main);

    phase("SIGHUP reload");
    // An invalid file with secrets in it, reloaded over HTTP: refused, the error names the
    // problems and none of the secrets.
    let invalid = format!(
        "{}  plain:\n    host: localhost\n    user: analyst\n    password: \"{}\"\n    endpoint: true\n    auth:\n      bearer_tokens: [\"{} x\"]\n",
        grep_config(s, basic, jwt, down, &s.ep_bearer_v2, &s.wrong_pw_v2),
        s.bad_reload_pw,
        s.bad_reload_bearer
    );
    std::fs::write(&config, invalid).expect("invalid config");
    let r = reload(s.reload.clone()).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("connection 'plain': a password is set but ssl is false")
            && r.body.contains("auth.bearer_tokens[0]"),
        "{}",
        r.body
    );
    // The same through SIGHUP (logged).
    signal(pid, "-HUP");
    // And a valid reload over HTTP with yet another password.
    std::fs::write(
        &config,
        grep_config(s, basic, jwt, down, &s.ep_bearer_v2, &s.wrong_pw_v3),
    )
    .expect("config v3");
    let r = reload(s.reload.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut main = Session::open(&rec, &format!("{base}/mcp"), Some(&s.mcp_bearer))
        .await
        .expect("/mcp after the second reload");
    let r = main
        .call(
            "trino_query",
            json!({"sql": "SELECT 1", "connection": "wrongpw"}),
        )
        .await;
    assert_eq!(code(&r), "AUTH_FAILED");
    let r = main
        .call(
            "trino_query",
            json!({"sql": "SELECT count(*) AS n FROM region"}),
        )
        .await;
    assert_eq!(ok_rows(&r), json!([{"n": 5}]));
    drop(main);
    for path in ["/health", "/basic/health", "/wrongpw/health", "/metrics"] {
        get(path).await;
    }

    phase("HTTP reloads");
    // SIGTERM: a clean exit within the grace period.
    signal(pid, "-TERM");
    let stopping = Instant::now();
    let status = loop {
        if let Ok(Some(st)) = child.0.try_wait() {
            break st;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    drop(child);
    let _ = out_h.join();
    let _ = err_h.join();
    let stdout = snapshot(&out_buf);
    let stderr = snapshot(&err_buf);
    rec.add("server stdout", stdout.clone());
    rec.add("server stderr", stderr.clone());

    phase("SIGTERM exit");
    // The same secrets over stdio: a success and a refused password.
    let (so, se) = {
        let (config, env) = (config.clone(), env.clone());
        tokio::task::spawn_blocking(move || stdio_session(&config, &env))
            .await
            .expect("stdio session")
    };
    rec.add("stdio stdout", so);
    rec.add("stdio stderr", se);

    phase("stdio session");
    // The search is meaningful: the secrets were used, and the log is the verbose one.
    assert!(
        basic_emu.counters().statements >= 3,
        "basic auth reached Trino"
    );
    assert!(jwt_emu.counters().statements >= 2, "the JWT reached Trino");
    assert!(
        stderr.contains("TRACE") && stderr.contains("DEBUG"),
        "the most verbose logs are on"
    );
    assert!(stderr.contains("tool call") && stderr.contains("AUTH_FAILED"));
    assert!(stderr.contains("reload failed") && stderr.contains("configuration reloaded"));
    let items = rec.all();
    let bytes: usize = items.iter().map(|(_, t)| t.len()).sum();
    assert!(items.len() > 50, "{} recorded outputs", items.len());

    // The search.
    let mut hits = Vec::new();
    for (label, text) in &items {
        for (name, secret) in s.all() {
            for hit in leaks(text, secret, &["analyst"]) {
                hits.push(format!("{name} in {label}: {hit}"));
            }
        }
        if text.to_ascii_lowercase().contains("s3cr3t") {
            hits.push(format!("a secret fragment (S3cr3t) in {label}"));
        }
    }
    assert!(
        hits.is_empty(),
        "{} secret(s) found in {} outputs ({bytes} bytes):\n  {}",
        hits.len(),
        items.len(),
        hits.join("\n  ")
    );
    eprintln!(
        "searched {} outputs ({bytes} bytes, {} of server stderr) for {} secrets",
        items.len(),
        stderr.len(),
        s.all().len()
    );
    basic_emu.stop().await;
    jwt_emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The default (stdio) command on the same configuration: initialize, a successful call and
/// a refused password, then stdin closes. Returns stdout and stderr.
fn stdio_session(config: &Path, env: &[(String, String)]) -> (String, String) {
    let mut child = Guard(
        Command::new(BIN)
            .arg("--config")
            .arg(config)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn stdio"),
    );
    let (out, out_h) = drain(child.0.stdout.take().expect("stdout"));
    let (err, err_h) = drain(child.0.stderr.take().expect("stderr"));
    let mut stdin = child.0.stdin.take().expect("stdin");
    let calls = [
        json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": "trino_query", "arguments": {"sql": "SELECT count(*) AS n FROM nation"}}}),
        json!({"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": {"name": "trino_query", "arguments": {"sql": "SELECT 1", "connection": "wrongpw"}}}),
        json!({"jsonrpc": "2.0", "id": 12, "method": "tools/call", "params": {"name": "trino_list_connections", "arguments": {}}}),
    ];
    let mut input = STDIO_INPUT.to_string();
    for c in &calls {
        input.push_str(&c.to_string());
        input.push('\n');
    }
    stdin.write_all(input.as_bytes()).expect("write stdin");
    stdin.flush().expect("flush");
    let started = Instant::now();
    loop {
        let text = snapshot(&out);
        let answered = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["id"].as_u64().is_some_and(|id| id >= 10))
            .count();
        if answered == calls.len() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "stdio answers: {text}\n{}",
            snapshot(&err)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    let started = Instant::now();
    while matches!(child.0.try_wait(), Ok(None)) && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(child);
    let _ = out_h.join();
    let _ = err_h.join();
    let stdout = snapshot(&out);
    let answers: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    let by_id = |id: u64| {
        answers
            .iter()
            .find(|v| v["id"] == json!(id))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(ok_rows(&by_id(10)["result"]), json!([{"n": 25}]));
    assert_eq!(code(&by_id(11)["result"]), "AUTH_FAILED");
    (stdout, snapshot(&err))
}
