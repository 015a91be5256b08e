//! Arbitrary bytes as a YAML config file and as `TRINO_*` variables (with
//! `TRINO_ADDITIONAL_SERVERS` JSON), through `config::load_yaml_str` / the environment path
//! of `config::load`, with a known secret fed in every place a secret can come from.
//!
//! Input layout (so that plain YAML files make good seeds): the first byte holds flags, the
//! rest is split at NUL bytes. Part 0 is the YAML file (used when flag `FILE` is set);
//! parts 1.. are the values of `ENV_VARS`, in order (a missing part is an unset variable).
//!
//! The secret `SECRET` comes in through:
//! - `TRINO_PASSWORD` (flag `ENV_PASSWORD`);
//! - every variable whose name mentions PASSWORD, TOKEN, JWT or SECRET, for `${VAR}` in the
//!   file (used anywhere: values that came from a variable are never echoed);
//! - flag `FILE_SECRETS`: the value of every `password`, `token`, `auth.bearer_tokens` and
//!   `server.reload_endpoint.token` the file sets is replaced by it;
//! - flag `ENV_SECRETS`: the same for `password` in `TRINO_ADDITIONAL_SERVERS` entries.
//!
//! Checked besides "no panic":
//! - no error (location or message) contains any part of the secret;
//! - a configuration that loads keeps the documented rules (unique valid names, an existing
//!   default, no credentials over plain HTTP, no password without a user, user modes with
//!   catalog and schema, no control characters in header values, ...), its Trino client can
//!   be built (as `serve` does; connections with certificate files aside), and when the
//!   secret can only be in secret fields, neither `redacted_json` nor `Debug` shows it.
//!
//! Inputs that contain the marker themselves are skipped, and certificate paths are
//! replaced by files of a scratch folder: the loader reads them, and fuzz input must not
//! name `/dev/zero`.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mcp_trino::config::{self, Config, ConfigErrors, RESERVED_NAMES};
use mcp_trino::trino::TrinoClient;
use serde_norway::Value as Yaml;

const SECRET: &str = "S3CRET-fuzz-value";
/// No message may contain this much of the secret (messages cut values at 40 characters).
const MARKER: &str = "S3C";

const FILE: u8 = 1;
const ENV_PASSWORD: u8 = 2;
const FILE_SECRETS: u8 = 4;
const ENV_SECRETS: u8 = 8;
/// Relative certificate paths resolve against the scratch folder (else the working dir).
const BASE_DIR: u8 = 16;

const ENV_VARS: [&str; 12] = [
    "TRINO_HOST",
    "TRINO_PORT",
    "TRINO_USER",
    "TRINO_CATALOG",
    "TRINO_SCHEMA",
    "TRINO_SSL",
    "TRINO_SSL_VERIFY",
    "TRINO_TIMEOUT",
    "TRINO_SOURCE",
    "TRINO_ACCESS_MODE",
    "TRINO_ADDITIONAL_SERVERS",
    // Not read by the loader: for `${FUZZ_VAR}` in the file.
    "FUZZ_VAR",
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if text.contains(MARKER) {
        return;
    }
    let mut parts = text.split('\0');
    let file_text = parts.next().unwrap_or("");
    let mut values: Vec<Option<String>> = parts.map(|p| Some(p.to_string())).collect();
    values.resize(ENV_VARS.len(), None);
    if flags & ENV_SECRETS != 0
        && let Some(json) = values[10].as_mut()
    {
        *json = with_env_secrets(json);
    }
    let env = |name: &str| -> Option<String> {
        if name == "TRINO_PASSWORD" {
            return (flags & ENV_PASSWORD != 0).then(|| SECRET.to_string());
        }
        if let Some(i) = ENV_VARS.iter().position(|v| *v == name) {
            return values[i].clone();
        }
        let secretish = ["PASSWORD", "TOKEN", "JWT", "SECRET"];
        secretish
            .iter()
            .any(|s| name.contains(s))
            .then(|| SECRET.to_string())
    };

    let base = (flags & BASE_DIR != 0).then(|| scratch().as_path());
    let (result, file_secrets_only) = if flags & FILE != 0 {
        let Some(yaml) = prepare_file(file_text, flags & FILE_SECRETS != 0) else {
            return;
        };
        let result = config::load_yaml_str(&yaml, base, &env);
        (result, !yaml.contains("${"))
    } else {
        (config::load(None, &env), true)
    };
    match result {
        Err(errors) => check_errors(&errors),
        Ok(config) => check_config(&config, file_secrets_only),
    }
});

fn check_errors(errors: &ConfigErrors) {
    assert!(!errors.errors.is_empty(), "an error without problems");
    let text = errors.to_string();
    assert!(
        !text.contains(MARKER),
        "an error message shows the secret:\n{text}"
    );
}

fn check_config(config: &Config, secret_only_in_secret_fields: bool) {
    let names = config.names();
    assert!(!names.is_empty());
    assert!(config.get_default().is_some(), "default connection missing");
    for (i, c) in config.connections.iter().enumerate() {
        let n = &c.name;
        let valid = n.len() <= 32
            && n.starts_with(|ch: char| ch.is_ascii_lowercase())
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        assert!(valid, "invalid name {n:?} loaded");
        assert!(
            !names[..i].iter().any(|m| m.eq_ignore_ascii_case(n)),
            "duplicate name {n:?} loaded"
        );
        assert!(!c.host.is_empty(), "{n}: empty host");
        assert!(!c.host.contains("://"), "{n}: host with a scheme");
        assert!(
            (1..=300).contains(&c.timeout_secs),
            "{n}: timeout {}",
            c.timeout_secs
        );
        assert!(c.port >= 1, "{n}: port 0");
        assert!(
            !(c.password.is_some() && c.token.is_some()),
            "{n}: both password and token"
        );
        if c.password.is_some() || c.token.is_some() {
            assert!(c.ssl, "{n}: credentials over plain HTTP");
        }
        if c.password.is_some() {
            assert!(c.user.is_some(), "{n}: password without user");
        }
        if c.access_mode.is_user() {
            assert!(
                c.catalog.is_some() && c.schema.is_some(),
                "{n}: user mode without catalog and schema"
            );
        }
        if c.transport.is_some() {
            assert!(c.endpoint, "{n}: transport without endpoint");
        }
        if c.endpoint {
            assert!(
                !RESERVED_NAMES.contains(&n.as_str()),
                "{n}: reserved endpoint"
            );
        }
        if c.auth.is_enabled() {
            assert!(c.endpoint, "{n}: bearer tokens without endpoint");
        }
        if !c.ssl {
            assert!(
                c.ca_cert.is_none() && c.client_cert.is_none() && c.client_key.is_none(),
                "{n}: certificates without ssl"
            );
        }
        assert_eq!(
            c.client_cert.is_some(),
            c.client_key.is_some(),
            "{n}: client_cert without client_key"
        );
        let header_values = [c.user.as_deref(), Some(c.source.as_str())]
            .into_iter()
            .chain([c.catalog.as_deref(), c.schema.as_deref()])
            .flatten()
            .chain(c.client_tags.iter().map(String::as_str))
            .chain(c.session_properties.values().map(String::as_str));
        for v in header_values {
            assert!(
                !v.contains(char::is_control),
                "{n}: control character in {v:?}"
            );
        }
        assert!(!c.source.trim().is_empty(), "{n}: empty source");
        // `serve` builds a client from each connection: one that loads must not fail there
        // (certificate files aside: the loader only looks for a PEM header in them).
        let no_files = c.ca_cert.is_none() && c.client_cert.is_none() && c.client_key.is_none();
        if no_files && let Err(e) = TrinoClient::new(c, Vec::new()) {
            panic!("{n}: loads, but its client cannot be built: {e}");
        }
    }
    if config.server.reload_endpoint.enabled {
        assert!(config.server.reload_endpoint.token.is_some());
    }
    if secret_only_in_secret_fields {
        let shown = [config.redacted_pretty(), format!("{config:?}")];
        for text in shown {
            assert!(!text.contains(MARKER), "the secret is shown:\n{text}");
        }
    }
}

/// The file as the loader gets it: certificate paths made harmless and, with
/// `FILE_SECRETS`, the secret in every secret field. `None` when the rewritten file does
/// not read back the same (the input is skipped).
fn prepare_file(text: &str, secrets: bool) -> Option<String> {
    let Ok(mut doc) = serde_norway::from_str::<Yaml>(text) else {
        return Some(text.to_string()); // The loader refuses it before reading anything.
    };
    let mut changed = defuse_paths(&mut doc);
    if secrets {
        changed |= put_file_secrets(&mut doc);
    }
    if !changed {
        return Some(text.to_string());
    }
    let out = serde_norway::to_string(&doc).ok()?;
    // Certificate paths must stay harmless in the text the loader parses.
    let mut again = serde_norway::from_str::<Yaml>(&out).ok()?;
    (!defuse_paths(&mut again)).then_some(out)
}

/// A scratch folder with a PEM file and a file that is not PEM.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join("mcp-trino-fuzz-config");
        let _ = std::fs::create_dir_all(&dir);
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        for (name, content) in [("ca.pem", pem), ("not-pem.txt", "plain text\n")] {
            let path = dir.join(name);
            // Written once: fuzzing jobs running side by side share the folder.
            if std::fs::read_to_string(&path).ok().as_deref() != Some(content) {
                let _ = std::fs::write(&path, content);
            }
        }
        dir
    })
}

/// The paths certificate fields may name: relative and absolute, PEM, not PEM, missing.
fn safe_paths() -> [String; 5] {
    let dir = scratch();
    let abs = |f: &str| dir.join(f).to_string_lossy().into_owned();
    [
        "ca.pem".to_string(),
        "not-pem.txt".to_string(),
        "missing.pem".to_string(),
        abs("ca.pem"),
        abs("not-pem.txt"),
    ]
}

const PATH_KEYS: [&str; 3] = ["ca_cert", "client_cert", "client_key"];

/// Replaces the value of every certificate field, anywhere, by one of `safe_paths` (picked
/// by its length); returns whether anything was not already safe.
fn defuse_paths(v: &mut Yaml) -> bool {
    let mut changed = false;
    match v {
        Yaml::Mapping(map) => {
            for (k, val) in map.iter_mut() {
                if matches!(k, Yaml::String(s) if PATH_KEYS.contains(&s.as_str())) {
                    let safe = safe_paths();
                    if !matches!(val, Yaml::String(s) if safe.contains(s)) {
                        let pick = match val {
                            Yaml::String(s) => s.len() % safe.len(),
                            _ => 0,
                        };
                        *val = Yaml::String(safe[pick].clone());
                        changed = true;
                    }
                } else {
                    changed |= defuse_paths(val);
                }
            }
        }
        Yaml::Sequence(items) => {
            for item in items {
                changed |= defuse_paths(item);
            }
        }
        Yaml::Tagged(t) => changed |= defuse_paths(&mut t.value),
        _ => {}
    }
    changed
}

fn get_mut<'a>(v: &'a mut Yaml, key: &str) -> Option<&'a mut Yaml> {
    match v {
        Yaml::Mapping(map) => map.get_mut(key),
        _ => None,
    }
}

/// Puts the secret in the secret fields of one connection; returns whether any was set.
fn connection_secrets(conn: &mut Yaml) -> bool {
    let mut changed = false;
    for key in ["password", "token"] {
        if let Some(v) = get_mut(conn, key) {
            *v = Yaml::String(SECRET.into());
            changed = true;
        }
    }
    if let Some(auth) = get_mut(conn, "auth") {
        changed |= bearer_secrets(auth);
    }
    changed
}

fn bearer_secrets(auth: &mut Yaml) -> bool {
    match get_mut(auth, "bearer_tokens") {
        Some(Yaml::Sequence(items)) if !items.is_empty() => {
            for item in items.iter_mut() {
                *item = Yaml::String(SECRET.into());
            }
            true
        }
        _ => false,
    }
}

fn put_file_secrets(doc: &mut Yaml) -> bool {
    // The seed layout's top level is the connection `default`.
    let mut changed = connection_secrets(doc);
    for section in ["connections", "additional_servers"] {
        if let Some(Yaml::Mapping(conns)) = get_mut(doc, section) {
            for (_, conn) in conns.iter_mut() {
                changed |= connection_secrets(conn);
            }
        }
    }
    if let Some(server) = get_mut(doc, "server") {
        if let Some(auth) = get_mut(server, "auth") {
            changed |= bearer_secrets(auth);
        }
        if let Some(reload) = get_mut(server, "reload_endpoint")
            && let Some(token) = get_mut(reload, "token")
        {
            *token = Yaml::String(SECRET.into());
            changed = true;
        }
    }
    changed
}

/// `TRINO_ADDITIONAL_SERVERS` with the secret as the `password` of every entry that sets
/// one (unchanged when it is not a JSON object of objects).
fn with_env_secrets(json: &str) -> String {
    let Ok(serde_json::Value::Object(mut entries)) = serde_json::from_str(json) else {
        return json.to_string();
    };
    for (_, entry) in entries.iter_mut() {
        if let Some(p) = entry.get_mut("password") {
            *p = serde_json::Value::String(SECRET.into());
        }
    }
    serde_json::to_string(&entries).unwrap_or_else(|_| json.to_string())
}
