//! A connection as written in one source (file, `TRINO_*`, `TRINO_ADDITIONAL_SERVERS`),
//! before sources are merged and defaults applied. `None` means "not set here".

use std::path::{Path, PathBuf};

use serde_norway::Value;

use super::error::Errors;
use super::fields::Fields;
use super::modes::{AccessMode, Transport};

#[derive(Debug, Clone, Default)]
pub(crate) struct RawConnection {
    pub host: Option<String>,
    /// The host's `${VAR}` failed; "host is required" would only repeat that.
    pub host_poisoned: bool,
    pub port: Option<u16>,
    pub ssl: Option<bool>,
    pub ssl_verify: Option<bool>,
    pub user: Option<Option<String>>,
    pub password: Option<Option<String>>,
    pub token: Option<Option<String>>,
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub timeout: Option<u32>,
    pub source: Option<String>,
    pub access_mode: Option<AccessMode>,
    pub endpoint: Option<bool>,
    pub transport: Option<Transport>,
    /// With their indexes in the written list.
    pub bearer_tokens: Option<Vec<(usize, String)>>,
    pub limits: RawLimits,
    pub ca_cert: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// With their indexes in the written list.
    pub client_tags: Option<Vec<(usize, String)>>,
    pub session_properties: Option<Vec<(String, String)>>,
    /// Credentials come from the primary unless set here (additional servers, seed 000).
    pub inherits: bool,
    /// Where it was written, for messages: `connections.prod`, `TRINO_ADDITIONAL_SERVERS.dev`.
    pub origin: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RawLimits {
    pub requests_per_window: Option<u32>,
    pub window_seconds: Option<u32>,
    pub max_concurrent_queries: Option<u32>,
}

/// Field names of a connection in the config file.
pub(crate) const FILE_FIELDS: &[&str] = &[
    "host",
    "port",
    "ssl",
    "ssl_verify",
    "user",
    "password",
    "token",
    "catalog",
    "schema",
    "timeout",
    "source",
    "access_mode",
    "endpoint",
    "transport",
    "auth",
    "limits",
    "ca_cert",
    "client_cert",
    "client_key",
    "client_tags",
    "session_properties",
];

/// Field names accepted in `TRINO_ADDITIONAL_SERVERS` entries.
pub(crate) const ENV_FIELDS: &[&str] = &[
    "host",
    "port",
    "user",
    "password",
    "catalog",
    "schema",
    "ssl",
    "ssl_verify",
    "access_mode",
    "endpoint",
    "timeout",
];

/// Reads the connection fields present in `f`, leaving other keys in place. Only the names
/// in `allowed` are read, so the rest are reported as unknown by `Fields::finish`.
/// Relative certificate paths are resolved against `base_dir` (the config file's folder).
pub(crate) fn read_connection(
    f: &mut Fields,
    allowed: &[&str],
    base_dir: Option<&Path>,
    errs: &mut Errors,
) -> RawConnection {
    let on = |k: &str| allowed.contains(&k);
    let mut c = RawConnection::default();
    if on("host") {
        let poisoned = f.has("host") && errs.is_poisoned(&f.path_of("host"));
        c.host = f.string("host", errs);
        c.host_poisoned = poisoned;
    }
    if on("port") {
        c.port = f
            .number("port", 1, 65535, "", errs)
            .and_then(|n| u16::try_from(n).ok());
    }
    if on("ssl") {
        c.ssl = f.boolean("ssl", errs);
    }
    if on("ssl_verify") {
        c.ssl_verify = f.boolean("ssl_verify", errs);
    }
    if on("user") {
        c.user = f.credential("user", errs);
    }
    if on("password") {
        c.password = f.credential("password", errs);
    }
    if on("token") {
        c.token = f.credential("token", errs);
    }
    if on("catalog") {
        c.catalog = f.string("catalog", errs).filter(|s| !s.is_empty());
    }
    if on("schema") {
        c.schema = f.string("schema", errs).filter(|s| !s.is_empty());
    }
    if on("timeout") {
        c.timeout = f
            .number("timeout", 1, 300, " seconds", errs)
            .and_then(|n| u32::try_from(n).ok());
    }
    if on("source") {
        c.source = f.string("source", errs);
    }
    if on("access_mode") {
        c.access_mode = parsed(f, "access_mode", errs, super::modes::parse_access_mode);
    }
    if on("endpoint") {
        c.endpoint = f.boolean("endpoint", errs);
    }
    if on("transport") {
        c.transport = parsed(f, "transport", errs, str::parse);
    }
    if on("auth")
        && let Some(mut auth) = f.child("auth", errs)
    {
        c.bearer_tokens = auth.strings("bearer_tokens", errs);
        auth.finish(errs);
    }
    if on("limits")
        && let Some(mut limits) = f.child("limits", errs)
    {
        let mut n = |key: &str, max: u64, unit: &str| {
            limits
                .number(key, 1, max, unit, errs)
                .and_then(|n| u32::try_from(n).ok())
        };
        c.limits.requests_per_window = n("requests_per_window", 1_000_000, "");
        c.limits.window_seconds = n("window_seconds", 86_400, " seconds");
        c.limits.max_concurrent_queries = n("max_concurrent_queries", 10_000, "");
        limits.finish(errs);
    }
    for (key, slot) in [
        ("ca_cert", &mut c.ca_cert),
        ("client_cert", &mut c.client_cert),
        ("client_key", &mut c.client_key),
    ] {
        if on(key) {
            *slot = f
                .string(key, errs)
                .filter(|s| !s.is_empty())
                .map(|s| resolve_path(&s, base_dir));
        }
    }
    if on("client_tags") {
        c.client_tags = f.strings("client_tags", errs);
    }
    if on("session_properties")
        && let Some(props) = f.child("session_properties", errs)
    {
        c.session_properties = Some(read_session_properties(props, errs));
    }
    c
}

/// A string field parsed with `FromStr` whose error is the message.
fn parsed<T>(
    f: &mut Fields,
    key: &str,
    errs: &mut Errors,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    let s = f.string(key, errs)?;
    match parse(&s) {
        Ok(v) => Some(v),
        Err(message) => {
            let path = f.path_of(key);
            let message = message.replace(&super::fields::shown(&s), &errs.show(&path, &s));
            errs.push(f.at(key), message);
            None
        }
    }
}

/// Session property values may be written as numbers or booleans; Trino gets them as text.
fn read_session_properties(props: Fields, errs: &mut Errors) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let locations: Vec<String> = props.keys().map(|k| props.at(k)).collect();
    for ((name, value), at) in props.into_entries().into_iter().zip(locations) {
        let text = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                errs.push(
                    at,
                    format!(
                        "expected a text, number or boolean value, got {}",
                        super::fields::kind(&other)
                    ),
                );
                continue;
            }
        };
        out.push((name, text));
    }
    out
}

fn resolve_path(s: &str, base_dir: Option<&Path>) -> PathBuf {
    let p = PathBuf::from(s);
    match base_dir {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p,
    }
}

impl RawConnection {
    /// Fields set in `over` replace those here (environment over file).
    pub fn overlay(&mut self, over: RawConnection) {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f; } )* };
        }
        if over.host.is_some() {
            self.host_poisoned = false;
        }
        take!(
            host,
            port,
            ssl,
            ssl_verify,
            user,
            password,
            token,
            catalog,
            schema,
            timeout,
            source,
            access_mode,
            endpoint,
            transport,
            bearer_tokens,
            ca_cert,
            client_cert,
            client_key,
            client_tags,
            session_properties
        );
        let l = over.limits;
        if l.requests_per_window.is_some() {
            self.limits.requests_per_window = l.requests_per_window;
        }
        if l.window_seconds.is_some() {
            self.limits.window_seconds = l.window_seconds;
        }
        if l.max_concurrent_queries.is_some() {
            self.limits.max_concurrent_queries = l.max_concurrent_queries;
        }
    }

    /// Nothing set at all (used to tell "no configuration" from "incomplete").
    pub fn is_empty(&self) -> bool {
        self.host.is_none()
            && self.port.is_none()
            && self.ssl.is_none()
            && self.ssl_verify.is_none()
            && self.user.is_none()
            && self.password.is_none()
            && self.token.is_none()
            && self.catalog.is_none()
            && self.schema.is_none()
            && self.timeout.is_none()
            && self.source.is_none()
            && self.access_mode.is_none()
            && self.endpoint.is_none()
    }
}
