//! The effective configuration for people (`mcp-trino check-config`): every secret as `"***"`.
//!
//! Built field by field rather than derived, so that adding a field to `Connection` cannot
//! make a secret appear here by accident.

use serde_json::{Value, json};

use super::secret::Secret;
use super::{Config, Connection};

pub(crate) fn redacted(config: &Config) -> Value {
    let connections: Vec<Value> = config
        .connections
        .iter()
        .map(|c| connection(c, c.name == config.default_connection))
        .collect();
    let s = &config.server;
    json!({
        "default_connection": config.default_connection,
        "connections": connections,
        "server": {
            "bind": s.bind.to_string(),
            "allowed_hosts": s.allowed_hosts,
            "allowed_origins": s.allowed_origins,
            "compose": s.compose.as_str(),
            "max_body_bytes": s.max_body_bytes,
            "response_budget_bytes": s.response_budget_bytes,
            "allow_unauthenticated_remote": s.allow_unauthenticated_remote,
            "stateless": s.stateless,
            "log_sql": s.log_sql,
            "reload_endpoint": {
                "enabled": s.reload_endpoint.enabled,
                "token_set": s.reload_endpoint.token.is_some(),
                "token": hidden(s.reload_endpoint.token.as_ref()),
            },
            "shutdown_grace_seconds": s.shutdown_grace_seconds,
            "auth": tokens(&s.auth.bearer_tokens),
        },
    })
}

fn connection(c: &Connection, is_default: bool) -> Value {
    json!({
        "name": c.name,
        "default": is_default,
        "url": c.base_url(),
        "host": c.host,
        "port": c.port,
        "ssl": c.ssl,
        "ssl_verify": c.ssl_verify,
        "user": c.user,
        "auth_kind": c.auth_kind(),
        "password_set": c.password.is_some(),
        "password": hidden(c.password.as_ref()),
        "token_set": c.token.is_some(),
        "token": hidden(c.token.as_ref()),
        "credentials_inherited": c.credentials_inherited,
        "catalog": c.catalog,
        "schema": c.schema,
        "timeout_secs": c.timeout_secs,
        "source": c.source,
        "access_mode": c.access_mode.as_str(),
        "endpoint": c.endpoint,
        "mcp_path": if c.endpoint { format!("/{}/mcp", c.name) } else { "/mcp".to_string() },
        "transport": c.transport.map(|t| t.as_str()),
        "auth": tokens(&c.auth.bearer_tokens),
        "limits": {
            "requests_per_window": c.limits.requests_per_window,
            "window_seconds": c.limits.window_seconds,
            "max_concurrent_queries": c.limits.max_concurrent_queries,
        },
        "ca_cert": c.ca_cert.as_ref().map(|p| p.display().to_string()),
        "client_cert": c.client_cert.as_ref().map(|p| p.display().to_string()),
        "client_key": c.client_key.as_ref().map(|p| p.display().to_string()),
        "client_tags": c.client_tags,
        "session_properties": c.session_properties,
    })
}

fn hidden(s: Option<&Secret>) -> Value {
    match s {
        Some(_) => Value::String("***".into()),
        None => Value::Null,
    }
}

fn tokens(list: &[Secret]) -> Value {
    json!({
        "bearer_tokens": list.iter().map(|_| "***").collect::<Vec<_>>(),
        "enabled": !list.is_empty(),
    })
}
