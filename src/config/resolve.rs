//! From merged raw settings to a checked [`Connection`]: defaults, credential inheritance,
//! and every per-connection rule. Problems are collected, never thrown one at a time.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::Errors;
use super::fields::shown;
use super::raw::RawConnection;
use super::secret::Secret;
use super::server::{EndpointAuth, checked_tokens, valid_bearer_token};
use super::{Connection, Limits};

pub const DEFAULT_TIMEOUT_SECS: u32 = 120;
pub const DEFAULT_SOURCE: &str = "mcp-trino";
pub const DEFAULT_WINDOW_SECONDS: u32 = 60;
/// Paths of the HTTP server that a connection endpoint `/{name}/mcp` must not shadow.
pub const RESERVED_NAMES: &[&str] = &["mcp", "health", "metrics", "admin"];

/// The primary's credentials, given to additional servers that set none of their own.
#[derive(Clone, Default)]
pub(crate) struct Inherited {
    pub from: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
}

impl Inherited {
    pub fn of(name: &str, raw: &RawConnection) -> Inherited {
        Inherited {
            from: name.to_string(),
            user: raw.user.clone().flatten(),
            password: raw.password.clone().flatten(),
            token: raw.token.clone().flatten(),
        }
    }
}

pub(crate) fn resolve_connection(
    name: &str,
    raw: RawConnection,
    primary: Option<&Inherited>,
    errs: &mut Errors,
) -> Connection {
    let at = format!("connection '{name}'");

    let host = raw.host.as_deref().map(str::trim).unwrap_or("");
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .to_string();
    if host.is_empty() {
        if !raw.host_poisoned {
            let hint = match raw.origin.as_str() {
                "environment" | "config file" => {
                    "set TRINO_HOST, or host: at the top of the config file".to_string()
                }
                origin => format!("set host in {origin}"),
            };
            errs.push(&at, format!("host is required ({hint})"));
        }
    } else if let Err(m) = check_host(&host) {
        errs.push(&at, format!("host {m}"));
    }

    let ssl = raw.ssl.unwrap_or_else(|| !is_local_host(&host));
    let port = raw.port.unwrap_or(if ssl { 443 } else { 8080 });

    // Seed 000: credentials come from the primary unless the server sets its own. Password
    // and token travel together: setting either one stops both from being inherited.
    let inherit = raw.inherits.then_some(primary).flatten();
    let user = match (&raw.user, inherit) {
        (Some(u), _) => u.clone(),
        (None, Some(p)) => p.user.clone(),
        (None, None) => None,
    };
    let own_secret = raw.password.is_some() || raw.token.is_some();
    let (password, token, inherited) = match inherit {
        Some(p) if !own_secret && (p.password.is_some() || p.token.is_some()) => {
            (p.password.clone(), p.token.clone(), true)
        }
        _ => (
            raw.password.clone().flatten(),
            raw.token.clone().flatten(),
            false,
        ),
    };

    if password.is_some() && token.is_some() {
        errs.push(
            &at,
            "both password and token are set; use one of them (password for basic auth, token for a JWT)",
        );
    }
    for (field, set) in [("password", password.is_some()), ("token", token.is_some())] {
        if !set || ssl {
            continue;
        }
        let message = match inherit {
            Some(p) if inherited => format!(
                "the {field} inherited from '{}' would be sent over plain HTTP (ssl is false); \
                 set ssl: true, or {field}: \"\" so that nothing is inherited",
                p.from
            ),
            _ => format!(
                "a {field} is set but ssl is false; credentials are only sent over HTTPS, \
                 so set ssl: true or remove the {field}"
            ),
        };
        errs.push(&at, message);
    }
    if password.is_some() && user.is_none() {
        errs.push(
            &at,
            "a password is set but user is not; password authentication needs a user name",
        );
    }
    // HTTP basic authentication sends `user:password` (RFC 7617): the user may not contain a
    // colon, and neither may contain a control character.
    if password.is_some() && user.as_deref().is_some_and(|u| u.contains(':')) {
        errs.push(
            &at,
            "user contains a colon, which HTTP basic authentication cannot carry with a \
             password (RFC 7617)",
        );
    }
    if password.as_deref().is_some_and(has_control) {
        errs.push(
            &at,
            "password contains a control character (a line break from a secret file?); \
             HTTP basic authentication cannot carry it",
        );
    }
    // The token travels as `Authorization: Bearer <token>`; a header cannot carry a line
    // break or other control character (the request would go without it).
    if token.as_deref().is_some_and(|t| !valid_bearer_token(t)) {
        errs.push(
            &at,
            "token must be printable ASCII without spaces or control characters (a line \
             break from a secret file?); it is sent in an HTTP header",
        );
    }

    let endpoint = raw.endpoint.unwrap_or(false);
    if raw.transport.is_some() && !endpoint {
        errs.push(
            &at,
            "transport is set but endpoint is not true; transport only applies to the \
             connection's own endpoint (set endpoint: true or remove transport)",
        );
    }
    if endpoint && RESERVED_NAMES.contains(&name) {
        errs.push(
            &at,
            format!(
                "endpoint: true would serve /{name}/mcp, which collides with the server's own /{name} \
                 path; rename the connection (reserved: {})",
                RESERVED_NAMES.join(", ")
            ),
        );
    }
    let tokens = raw.bearer_tokens.unwrap_or_default();
    if !tokens.is_empty() && !endpoint {
        errs.push(
            &at,
            "auth.bearer_tokens only protect the connection's own endpoint; set endpoint: true, \
             or put the tokens in server.auth for /mcp",
        );
    }
    let auth = EndpointAuth {
        bearer_tokens: checked_tokens(tokens, &format!("{at}: auth.bearer_tokens"), errs),
    };

    let access_mode = raw.access_mode.unwrap_or_default();
    if access_mode.is_user() && (raw.catalog.is_none() || raw.schema.is_none()) {
        errs.push(
            &at,
            format!(
                "access_mode {access_mode} limits tools to the configured catalog and schema; \
                 set both catalog and schema"
            ),
        );
    }

    match (&raw.client_cert, &raw.client_key) {
        (Some(_), None) => errs.push(
            &at,
            "client_cert is set without client_key; set both or neither",
        ),
        (None, Some(_)) => errs.push(
            &at,
            "client_key is set without client_cert; set both or neither",
        ),
        _ => {}
    }
    for (field, path) in [
        ("ca_cert", &raw.ca_cert),
        ("client_cert", &raw.client_cert),
        ("client_key", &raw.client_key),
    ] {
        let Some(path) = path else { continue };
        if !ssl {
            errs.push(
                &at,
                format!(
                    "{field} is set but ssl is false; certificates are only used with ssl: true"
                ),
            );
        }
        if let Err(m) = check_pem(path) {
            errs.push(&at, format!("{field}: {m}"));
        }
    }

    let source = raw.source.unwrap_or_else(|| DEFAULT_SOURCE.to_string());
    if source.trim().is_empty() {
        errs.push(&at, "source must not be empty");
    }
    let client_tags = raw.client_tags.unwrap_or_default();
    for (i, tag) in &client_tags {
        if tag.is_empty() || tag.contains(',') {
            errs.push(
                &at,
                format!("client_tags[{i}] must be non-empty and contain no comma"),
            );
        }
    }
    let client_tags: Vec<String> = client_tags.into_iter().map(|(_, t)| t).collect();
    let mut session_properties = BTreeMap::new();
    for (k, v) in raw.session_properties.unwrap_or_default() {
        if !valid_property_name(&k) {
            errs.push(
                &at,
                format!(
                    "session_properties: {} is not a property name (letters, digits, _ and . only)",
                    shown(&k)
                ),
            );
        }
        session_properties.insert(k, v);
    }
    // Values below travel in HTTP headers; a line break there would forge another header.
    let header_values = [
        ("user", user.as_deref()),
        ("source", Some(source.as_str())),
        ("catalog", raw.catalog.as_deref()),
        ("schema", raw.schema.as_deref()),
    ];
    for (field, value) in header_values {
        if value.is_some_and(has_control) {
            errs.push(&at, format!("{field} contains a control character"));
        }
    }
    if client_tags.iter().any(|t| has_control(t))
        || session_properties.values().any(|v| has_control(v))
    {
        errs.push(
            &at,
            "client_tags and session_properties must not contain control characters",
        );
    }

    Connection {
        name: name.to_string(),
        host,
        port,
        ssl,
        ssl_verify: raw.ssl_verify.unwrap_or(true),
        user,
        password: password.map(Secret::new),
        token: token.map(Secret::new),
        credentials_inherited: inherited,
        catalog: raw.catalog,
        schema: raw.schema,
        timeout_secs: raw.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS),
        source,
        access_mode,
        endpoint,
        transport: raw.transport,
        auth,
        limits: Limits {
            requests_per_window: raw.limits.requests_per_window,
            window_seconds: raw.limits.window_seconds.unwrap_or(DEFAULT_WINDOW_SECONDS),
            max_concurrent_queries: raw.limits.max_concurrent_queries,
        },
        ca_cert: raw.ca_cert,
        client_cert: raw.client_cert,
        client_key: raw.client_key,
        client_tags,
        session_properties,
    }
}

/// Plain HTTP is the default only for the loopback names.
pub(crate) fn is_local_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    matches!(h.as_str(), "localhost" | "127.0.0.1" | "::1")
}

fn check_host(host: &str) -> Result<(), String> {
    if host.contains("://") {
        return Err(
            "must be a host name without a scheme; ssl: true/false picks https or http".into(),
        );
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "/@?#[]\\".contains(c))
    {
        return Err("must be a bare host name or IP address".into());
    }
    if host.matches(':').count() == 1 {
        return Err("must not include a port; use port instead".into());
    }
    check_host_name(host)
}

/// An IP address, or a DNS name that can exist: at most 253 characters, labels (the parts
/// between dots) of 1 to 63. International names are measured in their ASCII form.
fn check_host_name(host: &str) -> Result<(), String> {
    const NOT_A_HOST: &str = "must be a host name or an IP address";
    let parsed = if host.contains(':') {
        url::Host::parse(&format!("[{host}]"))
    } else {
        url::Host::parse(host)
    };
    let name = match parsed {
        Ok(url::Host::Domain(name)) => name,
        Ok(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => return Ok(()),
        Err(_) => return Err(NOT_A_HOST.into()),
    };
    let name = name.strip_suffix('.').unwrap_or(&name);
    if name.len() > 253 {
        return Err(format!(
            "is {} characters long; a DNS name has at most 253",
            name.len()
        ));
    }
    if name
        .split('.')
        .any(|label| label.is_empty() || label.len() > 63)
    {
        return Err(
            "has an empty label or one longer than 63 characters (labels are the parts \
             between dots); no DNS name can have it"
                .into(),
        );
    }
    Ok(())
}

/// Certificates and keys must be readable PEM files; the content is never shown.
fn check_pem(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(format!(
            "{} is not a PEM file (no -----BEGIN line)",
            path.display()
        ));
    }
    Ok(())
}

/// Trino system and catalog session properties: `name` or `catalog.name`.
fn valid_property_name(k: &str) -> bool {
    !k.is_empty()
        && !k.starts_with('.')
        && !k.ends_with('.')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// `^[a-z][a-z0-9_-]{0,31}$`: safe in URL paths, tool-name prefixes and metric labels.
pub(crate) fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

/// Name rules and case-insensitive duplicates over the final list.
pub(crate) fn check_names(names: &[&str], errs: &mut Errors) {
    for (i, name) in names.iter().enumerate() {
        if !valid_name(name) {
            errs.push(
                format!("connection name {}", shown(name)),
                "must start with a lowercase letter and use only a-z, 0-9, _ and - \
                 (at most 32 characters)",
            );
        }
        if let Some(first) = names[..i].iter().find(|n| n.eq_ignore_ascii_case(name)) {
            errs.push(
                format!("connection name {}", shown(name)),
                format!(
                    "duplicates {} (names are compared ignoring letter case)",
                    shown(first)
                ),
            );
        }
    }
}
