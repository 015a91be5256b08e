//! The `server:` section: settings of HTTP serving.

use std::net::SocketAddr;

use super::error::Errors;
use super::fields::Fields;
use super::modes::Compose;
use super::secret::Secret;

/// Settings of HTTP serving (ignored over stdio).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Default `127.0.0.1:8080`: local only unless configured.
    pub bind: SocketAddr,
    /// Accepted `Host` header names (without port). Default: localhost names.
    pub allowed_hosts: Vec<String>,
    /// Accepted `Origin` values; requests without `Origin` are not affected. Default: none.
    pub allowed_origins: Vec<String>,
    pub compose: Compose,
    pub max_body_bytes: u64,
    /// Byte budget of one tool result's text.
    pub response_budget_bytes: u64,
    /// Allow endpoints without bearer tokens when `bind` is not a loopback address.
    pub allow_unauthenticated_remote: bool,
    pub stateless: bool,
    /// Log full SQL text (otherwise a hash and a short prefix).
    pub log_sql: bool,
    pub reload_endpoint: ReloadEndpoint,
    pub shutdown_grace_seconds: u32,
    /// Bearer tokens for `/mcp` (each connection's own endpoint has `auth` of its own).
    pub auth: EndpointAuth,
}

/// `POST /admin/reload`, guarded by its own token.
#[derive(Debug, Clone, Default)]
pub struct ReloadEndpoint {
    pub enabled: bool,
    pub token: Option<Secret>,
}

/// Bearer tokens that may call an MCP endpoint; empty means no authentication.
#[derive(Debug, Clone, Default)]
pub struct EndpointAuth {
    pub bearer_tokens: Vec<Secret>,
}

impl EndpointAuth {
    pub fn is_enabled(&self) -> bool {
        !self.bearer_tokens.is_empty()
    }

    /// Whether `presented` matches one of the tokens. Every token is compared (no early
    /// exit), each in constant time.
    pub fn accepts(&self, presented: &[u8]) -> bool {
        self.bearer_tokens
            .iter()
            .fold(false, |ok, t| t.ct_eq(presented) | ok)
    }
}

pub const DEFAULT_MAX_BODY_BYTES: u64 = 1024 * 1024;
pub const DEFAULT_RESPONSE_BUDGET_BYTES: u64 = 4 * 1024 * 1024;
pub const DEFAULT_SHUTDOWN_GRACE_SECONDS: u32 = 10;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            allowed_origins: Vec::new(),
            compose: Compose::Connection,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            response_budget_bytes: DEFAULT_RESPONSE_BUDGET_BYTES,
            allow_unauthenticated_remote: false,
            stateless: false,
            log_sql: false,
            reload_endpoint: ReloadEndpoint::default(),
            shutdown_grace_seconds: DEFAULT_SHUTDOWN_GRACE_SECONDS,
            auth: EndpointAuth::default(),
        }
    }
}

/// Reads `server:`; fields not given keep their defaults.
pub(crate) fn read_server(mut f: Fields, errs: &mut Errors) -> ServerConfig {
    let mut s = ServerConfig::default();
    if let Some(bind) = f.string("bind", errs) {
        match bind.trim().parse::<SocketAddr>() {
            Ok(addr) => s.bind = addr,
            Err(_) => errs.push(
                f.at("bind"),
                format!(
                    "expected an IP address and port like 127.0.0.1:8080 or [::1]:8080, got {}",
                    errs.show(&f.path_of("bind"), &bind)
                ),
            ),
        }
    }
    let hosts = f.strings("allowed_hosts", errs);
    if let Some(hosts) = &hosts {
        s.allowed_hosts = hosts.iter().map(|(_, h)| h.clone()).collect();
    }
    if let Some(origins) = f.strings("allowed_origins", errs) {
        s.allowed_origins = origins.into_iter().map(|(_, o)| o).collect();
    }
    if let Some(compose) = f.string("compose", errs) {
        match compose.parse() {
            Ok(c) => s.compose = c,
            Err(_) => errs.push(
                f.at("compose"),
                format!(
                    "unknown compose mode {}; expected connection or prefixed",
                    errs.show(&f.path_of("compose"), &compose)
                ),
            ),
        }
    }
    const GIB: u64 = 1024 * 1024 * 1024;
    if let Some(n) = f.number("max_body_bytes", 1024, GIB, " bytes", errs) {
        s.max_body_bytes = n;
    }
    if let Some(n) = f.number("response_budget_bytes", 1024, GIB, " bytes", errs) {
        s.response_budget_bytes = n;
    }
    if let Some(b) = f.boolean("allow_unauthenticated_remote", errs) {
        s.allow_unauthenticated_remote = b;
    }
    if let Some(b) = f.boolean("stateless", errs) {
        s.stateless = b;
    }
    if let Some(b) = f.boolean("log_sql", errs) {
        s.log_sql = b;
    }
    if let Some(mut r) = f.child("reload_endpoint", errs) {
        s.reload_endpoint.enabled = r.boolean("enabled", errs).unwrap_or(false);
        let token = r.credential("token", errs).flatten();
        if s.reload_endpoint.enabled && token.is_none() {
            errs.push(
                r.at("token"),
                "is required when the reload endpoint is enabled",
            );
        }
        // It is presented as `Authorization: Bearer`; a line break (say, from a secret file)
        // would make a token no request can carry.
        if token.as_deref().is_some_and(|t| !valid_bearer_token(t)) {
            errs.push(r.at("token"), BEARER_TOKEN_RULE);
        }
        s.reload_endpoint.token = token.map(Secret::new);
        r.finish(errs);
    }
    if let Some(n) = f.number("shutdown_grace_seconds", 0, 300, " seconds", errs) {
        s.shutdown_grace_seconds = n as u32;
    }
    if let Some(mut a) = f.child("auth", errs) {
        let tokens = a.strings("bearer_tokens", errs).unwrap_or_default();
        s.auth.bearer_tokens = checked_tokens(tokens, &a.at("bearer_tokens"), errs);
        a.finish(errs);
    }
    for (i, h) in hosts.iter().flatten() {
        if h.trim().is_empty() || h.contains(['/', ' ', '@']) {
            errs.push(
                format!("{}[{i}]", f.at("allowed_hosts")),
                format!(
                    "expected a host name like example.com, got {}",
                    errs.show(&format!("{}[{i}]", f.path_of("allowed_hosts")), h)
                ),
            );
        }
    }
    f.finish(errs);
    s
}

/// What [`valid_bearer_token`] asks, for messages.
pub(crate) const BEARER_TOKEN_RULE: &str =
    "a bearer token must be non-empty printable ASCII without spaces";

/// Non-empty printable ASCII without spaces: what an `Authorization: Bearer` header carries.
pub(crate) fn valid_bearer_token(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic())
}

/// Bearer tokens must be non-empty and printable ASCII (they travel in a header). Each comes
/// with its index in the written list.
pub(crate) fn checked_tokens(
    tokens: Vec<(usize, String)>,
    at: &str,
    errs: &mut Errors,
) -> Vec<Secret> {
    let mut out = Vec::with_capacity(tokens.len());
    for (i, t) in tokens {
        if !valid_bearer_token(&t) {
            errs.push(format!("{at}[{i}]"), BEARER_TOKEN_RULE);
        } else {
            out.push(Secret::new(t));
        }
    }
    out
}
