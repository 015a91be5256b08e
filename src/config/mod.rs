//! Configuration: one validated, immutable [`Config`] built from the environment and an
//! optional YAML file. Everything else reads from it.
//!
//! # Sources and precedence
//!
//! 1. **The file** (`--config FILE` or `MCP_TRINO_CONFIG`, see [`config_path`]), in one of two
//!    layouts:
//!    - `connections:` — a mapping name -> connection, in file order. The default connection
//!      is `default_connection:` or else the first one.
//!    - the seed layout — connection fields at the top level describe the connection named
//!      `default`, and `additional_servers:` (name -> connection) adds more after it. The
//!      default connection is `default_connection:` or else `default`.
//!
//!    A file with `connections:` *and* top-level connection fields or `additional_servers:` is
//!    refused: it would be unclear which connection is the primary. Both layouts take the
//!    `server:` section and `default_connection:`.
//! 2. **`TRINO_*` variables** override, field by field, the *primary* connection: `default`
//!    in the seed layout (and when there is no file), the default connection in the
//!    `connections:` layout. Without a file they alone describe `default`.
//! 3. **`TRINO_ADDITIONAL_SERVERS`** entries, in JSON order: an entry whose name is already a
//!    connection *replaces* it whole, in place; a new name is appended. An entry may not
//!    replace the primary (use `TRINO_*` for that).
//!
//! Unset, empty and blank environment variables count as not set.
//!
//! # Credential inheritance (seed 000)
//!
//! Entries of `additional_servers:` and `TRINO_ADDITIONAL_SERVERS` inherit `user` and the
//! secret (`password`, or `token`) of the primary unless they set their own. Setting
//! `password` or `token` (even to `""` or null, which means "none") stops the secret from
//! being inherited; `user: ""` likewise. Connections of the `connections:` layout inherit
//! nothing: each says what it uses. Nothing else is inherited: not `access_mode` (a
//! writable primary must not make other clusters writable), nor catalog, schema, ssl,
//! port, timeout or source.
//!
//! # Defaults
//!
//! `ssl` is on except for `localhost`, `127.0.0.1` and `::1`; `port` is 443 with SSL and 8080
//! without; `ssl_verify` true; `timeout` 120 seconds (1..300); `source` `mcp-trino`;
//! `access_mode` `admin_ro`; `endpoint` false. Relative certificate paths in the file are
//! resolved against the file's folder.
//!
//! # `${VAR}` in the file
//!
//! Expanded in every string value after parsing: `${VAR}` (unset is an error naming the
//! variable and the YAML path), `${VAR:-default}` (unset or empty), `$$` for a literal `$`;
//! no recursion, never in keys. Numbers and booleans written as `${VAR}` become strings and
//! are parsed like the environment's. Values that came from a variable are never echoed in
//! error messages. A null `password`/`token`/`user` means "none", like `""`; other null
//! fields mean "not set".
//!
//! # Checks
//!
//! Unknown fields anywhere, bad ports/booleans/timeouts/modes, missing host, a host with a
//! scheme or port, a host that is neither an IP address nor a possible DNS name (at most 253
//! characters, labels of 1 to 63), a password or token over plain HTTP (inherited ones too),
//! both password and token, a password without a user, a basic-auth user with a colon or
//! password with a control character (RFC 7617), a token or reload token that is not
//! printable ASCII without spaces (it travels in a header), unreadable or non-PEM
//! certificate files, `client_cert` without `client_key`, certificates with `ssl: false`,
//! unsafe or duplicate (ignoring case) names, an unknown `default_connection`, `transport` or
//! `auth` without `endpoint`, `endpoint: true` on a reserved name, `user_*` modes without
//! catalog and schema, control characters in values sent as headers. Every problem found is
//! reported at once ([`ConfigErrors`], the first 50 and a count of the rest); no message
//! contains a secret, nor a value the YAML parser quotes.
//!
//! Before parsing, a file over 16 MiB, or with `[`/`{` nested more than 64 levels deep (the
//! parser's time grows with the square of that nesting), is refused. `mcp-trino
//! check-config` also builds each connection's client as `serve` does, so certificate
//! contents are checked there too; `config::load` only checks that they are PEM files.

mod env;
mod error;
mod expand;
mod fields;
mod file;
mod modes;
mod raw;
mod redact;
mod resolve;
mod secret;
mod server;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::{ConfigError, ConfigErrors};
pub use modes::{AccessMode, Compose, Transport};
pub use resolve::{DEFAULT_SOURCE, DEFAULT_TIMEOUT_SECS, RESERVED_NAMES};
pub use secret::Secret;
pub use server::{EndpointAuth, ReloadEndpoint, ServerConfig};

use error::Errors;
use resolve::{Inherited, check_names, resolve_connection};

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// In configuration order.
    pub connections: Vec<Connection>,
    /// Name of the connection used when a tool call names none.
    pub default_connection: String,
    pub server: ServerConfig,
}

/// One Trino cluster and how it is offered.
#[derive(Debug, Clone)]
pub struct Connection {
    pub name: String,
    /// Without brackets for IPv6 (see [`Connection::base_url`]).
    pub host: String,
    pub port: u16,
    pub ssl: bool,
    pub ssl_verify: bool,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// A JWT sent to Trino as `Authorization: Bearer`, instead of a password.
    pub token: Option<Secret>,
    /// The password/token came from the primary connection.
    pub credentials_inherited: bool,
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub timeout_secs: u32,
    pub source: String,
    pub access_mode: AccessMode,
    /// Served at `/{name}/mcp` with tools prefixed `{name}_`; otherwise composed into `/mcp`.
    pub endpoint: bool,
    /// Only with `endpoint`; `None` means the server's transport.
    pub transport: Option<Transport>,
    /// Tokens for the connection's own endpoint.
    pub auth: EndpointAuth,
    pub limits: Limits,
    pub ca_cert: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub client_tags: Vec<String>,
    pub session_properties: BTreeMap<String, String>,
}

/// Rate and concurrency limits for calls that reach a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// At most this many tool calls per window; `None` means unlimited.
    pub requests_per_window: Option<u32>,
    pub window_seconds: u32,
    /// At most this many queries running on the cluster at once; `None` means unlimited.
    pub max_concurrent_queries: Option<u32>,
}

impl Connection {
    /// `https://host:port` (or `http://`), IPv6 hosts in brackets; never credentials.
    pub fn base_url(&self) -> String {
        let scheme = if self.ssl { "https" } else { "http" };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }

    /// `"jwt"`, `"password"` or `"none"`: what is sent to Trino besides the user name.
    pub fn auth_kind(&self) -> &'static str {
        if self.token.is_some() {
            "jwt"
        } else if self.password.is_some() {
            "password"
        } else {
            "none"
        }
    }
}

impl Config {
    pub fn get(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name == name)
    }

    /// Names in configuration order.
    pub fn names(&self) -> Vec<&str> {
        self.connections.iter().map(|c| c.name.as_str()).collect()
    }

    /// The default connection (it always exists in a loaded config).
    pub fn get_default(&self) -> Option<&Connection> {
        self.get(&self.default_connection)
    }

    /// Connections composed into `/mcp` (those without their own endpoint), in order.
    pub fn composed(&self) -> impl Iterator<Item = &Connection> {
        self.connections.iter().filter(|c| !c.endpoint)
    }

    /// The MCP paths that would accept calls without a bearer token from beyond this machine
    /// (bind address not loopback), unless `allow_unauthenticated_remote` is set. The HTTP
    /// server should refuse to start when this is not empty.
    pub fn unauthenticated_remote_endpoints(&self) -> Vec<String> {
        if self.server.bind.ip().is_loopback() || self.server.allow_unauthenticated_remote {
            return Vec::new();
        }
        let mut out = Vec::new();
        if self.composed().next().is_some() && !self.server.auth.is_enabled() {
            out.push("/mcp".to_string());
        }
        for c in self.connections.iter().filter(|c| c.endpoint) {
            if !c.auth.is_enabled() {
                out.push(format!("/{}/mcp", c.name));
            }
        }
        out
    }

    /// The effective configuration with every secret shown as `"***"`
    /// (for `mcp-trino check-config`).
    pub fn redacted_json(&self) -> serde_json::Value {
        redact::redacted(self)
    }

    /// [`Config::redacted_json`] as pretty text.
    pub fn redacted_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.redacted_json()).unwrap_or_default()
    }
}

/// Which config file to read: the command-line path, else `MCP_TRINO_CONFIG` if set.
pub fn config_path(cli: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    cli.map(Path::to_path_buf).or_else(|| {
        env("MCP_TRINO_CONFIG")
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
    })
}

/// The process environment, for [`load`]. Tests pass a closure instead.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// Loads and checks the configuration from an optional YAML file and the environment.
pub fn load(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    match file {
        None => build(None, env),
        Some(path) => match read_file(path) {
            Ok(text) => build(Some((&text, path.parent())), env),
            Err(message) => Err(ConfigErrors {
                errors: vec![ConfigError {
                    location: format!("config file {}", path.display()),
                    message,
                }],
                omitted: 0,
            }),
        },
    }
}

/// The file's text; never more than [`file::MAX_FILE_BYTES`] are read.
fn read_file(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let cannot = |e: std::io::Error| format!("cannot read: {e}");
    let limit = file::MAX_FILE_BYTES as u64;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(file::too_big_message());
    }
    String::from_utf8(bytes).map_err(|_| "cannot read: stream did not contain valid UTF-8".into())
}

/// [`load`] with the file's text given directly; relative paths resolve against `base_dir`.
pub fn load_yaml_str(
    text: &str,
    base_dir: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    build(Some((text, base_dir)), env)
}

fn build(
    file: Option<(&str, Option<&Path>)>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    let mut errs = Errors::default();
    let parsed = match file {
        Some((text, dir)) => match file::parse_file(text, dir, env, &mut errs) {
            Some(f) => Some(f),
            None => return Err(errs.into_errors()),
        },
        None => None,
    };
    let env_primary = env::primary_from_env(env, &mut errs);
    let env_additional = env::additional_from_env(env, &mut errs);

    if parsed.is_none() && env_primary.is_empty() && env_additional.is_empty() && errs.is_empty() {
        errs.push(
            "configuration",
            "no Trino connection is configured: set TRINO_HOST (and TRINO_USER, ...) or pass \
             a config file with --config FILE or MCP_TRINO_CONFIG",
        );
        return Err(errs.into_errors());
    }

    let fc = parsed.unwrap_or_default();
    let explicit_default = fc.default_connection.clone();
    let (mut list, primary_name, default_name) = if fc.uses_connections_layout {
        let first = fc.connections.first().map(|(n, _)| n.clone());
        let default_name = explicit_default.clone().or(first).unwrap_or_default();
        (fc.connections, default_name.clone(), default_name)
    } else {
        let mut primary = fc.primary;
        if primary.origin.is_empty() {
            primary.origin = "environment".to_string();
        }
        let mut list = vec![("default".to_string(), primary)];
        list.extend(fc.additional);
        let default_name = explicit_default.clone().unwrap_or_else(|| "default".into());
        (list, "default".to_string(), default_name)
    };

    for (name, raw) in env_additional {
        let at = format!("TRINO_ADDITIONAL_SERVERS.{name}");
        match list.iter().position(|(n, _)| *n == name) {
            Some(_) if name == primary_name => errs.push(
                at,
                format!(
                    "'{name}' is the primary connection; set its fields with TRINO_* variables \
                     instead"
                ),
            ),
            Some(i) => list[i].1 = raw,
            None => list.push((name, raw)),
        }
    }

    let primary_index = list.iter().position(|(n, _)| *n == primary_name);
    let mut inherited = None;
    if let Some(i) = primary_index {
        let primary = &mut list[i].1;
        primary.overlay(env_primary);
        // The primary never inherits, even when it came from TRINO_ADDITIONAL_SERVERS.
        primary.inherits = false;
        inherited = Some(Inherited::of(&primary_name, primary));
    }

    let names: Vec<String> = list.iter().map(|(n, _)| n.clone()).collect();
    let connections: Vec<Connection> = list
        .into_iter()
        .map(|(name, raw)| resolve_connection(&name, raw, inherited.as_ref(), &mut errs))
        .collect();
    check_names(
        &names.iter().map(String::as_str).collect::<Vec<_>>(),
        &mut errs,
    );
    if !names.contains(&default_name) {
        errs.push(
            "default_connection",
            format!(
                "names {}, which is not a configured connection (configured: {})",
                errs.show("default_connection", &default_name),
                names.join(", ")
            ),
        );
    }

    errs.into_result(Config {
        connections,
        default_connection: default_name,
        server: fc.server,
    })
}
