//! Start-up checks: every message names the connection and the field, none shows a secret.

use super::{PEM, TempFile, errors, from_yaml, has_line, ok};

fn one(conn: &str) -> String {
    format!("connections:\n  a: {{{conn}}}\n")
}

#[test]
fn missing_host() {
    let lines = errors(from_yaml(&one("user: u"), &[]));
    has_line(
        &lines,
        &["connection 'a'", "host is required", "connections.a"],
    );
    let lines = errors(from_yaml(&one("host: ''"), &[]));
    has_line(&lines, &["connection 'a'", "host is required"]);
}

#[test]
fn bad_host() {
    let lines = errors(from_yaml(&one("host: 'https://trino.example.com'"), &[]));
    has_line(&lines, &["connection 'a'", "without a scheme"]);
    let lines = errors(from_yaml(&one("host: 'trino.example.com:8443'"), &[]));
    has_line(&lines, &["connection 'a'", "use port instead"]);
    let lines = errors(from_yaml(&one("host: 'user@trino'"), &[]));
    has_line(&lines, &["connection 'a'", "bare host name"]);
    // IPv6 literals are fine, with or without brackets.
    let c = ok(from_yaml(&one("host: 'fd00::1'"), &[]));
    assert_eq!(c.get("a").unwrap().base_url(), "https://[fd00::1]:443");
}

#[test]
fn bad_port() {
    for port in ["0", "65536", "'http'", "-5", "1.5"] {
        let lines = errors(from_yaml(
            &one(&format!("host: h.example.com, port: {port}")),
            &[],
        ));
        has_line(&lines, &["connections.a.port:", "1 to 65535"]);
    }
}

#[test]
fn unknown_access_mode() {
    let lines = errors(from_yaml(
        &one("host: h.example.com, access_mode: read_write"),
        &[],
    ));
    has_line(
        &lines,
        &[
            "connections.a.access_mode:",
            "unknown access mode \"read_write\"",
            "admin_ro",
        ],
    );
}

#[test]
fn timeout_range() {
    for t in ["0", "301", "'2m'"] {
        let lines = errors(from_yaml(
            &one(&format!("host: h.example.com, timeout: {t}")),
            &[],
        ));
        has_line(&lines, &["connections.a.timeout:", "1 to 300 seconds"]);
    }
    let c = ok(from_yaml(&one("host: h.example.com, timeout: '300'"), &[]));
    assert_eq!(c.get("a").unwrap().timeout_secs, 300);
}

#[test]
fn secrets_over_plain_http() {
    let lines = errors(from_yaml(
        &one("host: h.example.com, ssl: false, user: u, password: pw-value-1"),
        &[],
    ));
    has_line(
        &lines,
        &[
            "connection 'a'",
            "password is set but ssl is false",
            "ssl: true",
        ],
    );
    let lines = errors(from_yaml(&one("host: localhost, token: tok-value-1"), &[]));
    has_line(&lines, &["connection 'a'", "token is set but ssl is false"]);
    for l in &lines {
        assert!(!l.contains("value-1"));
    }
    // User-only over HTTP is allowed (a dev cluster).
    ok(from_yaml(&one("host: localhost, user: u"), &[]));
    // An empty password is no password.
    ok(from_yaml(
        &one("host: localhost, user: u, password: ''"),
        &[],
    ));
}

#[test]
fn inherited_password_over_plain_http_in_the_file() {
    let yaml = "host: h.example.com\nuser: u\npassword: pw\nadditional_servers:\n  dev: {host: localhost}\n";
    let lines = errors(from_yaml(yaml, &[]));
    has_line(
        &lines,
        &[
            "connection 'dev'",
            "password inherited from 'default'",
            "ssl: true",
            "password: \"\"",
        ],
    );
    // The fix the message suggests works.
    let fixed = yaml.replace("{host: localhost}", "{host: localhost, password: ''}");
    let c = ok(from_yaml(&fixed, &[]));
    assert!(c.get("dev").unwrap().password.is_none());
    assert_eq!(c.get("dev").unwrap().user.as_deref(), Some("u"));
}

#[test]
fn password_and_token_together() {
    let lines = errors(from_yaml(
        &one("host: h.example.com, user: u, password: p, token: t"),
        &[],
    ));
    has_line(&lines, &["connection 'a'", "both password and token"]);
}

#[test]
fn password_without_user() {
    let lines = errors(from_yaml(&one("host: h.example.com, password: p"), &[]));
    has_line(
        &lines,
        &["connection 'a'", "password is set but user is not"],
    );
}

#[test]
fn certificate_files() {
    let missing = std::env::temp_dir().join("mcp-trino-config-test-missing-ca.pem");
    let lines = errors(from_yaml(
        &one(&format!(
            "host: h.example.com, ca_cert: '{}'",
            missing.display()
        )),
        &[],
    ));
    has_line(
        &lines,
        &["connection 'a'", "ca_cert: cannot read", "missing-ca.pem"],
    );

    let not_pem = TempFile::new("key.der", "\u{1}\u{2}binary");
    let lines = errors(from_yaml(
        &one(&format!(
            "host: h.example.com, client_cert: '{p}', client_key: '{p}'",
            p = not_pem.path().display()
        )),
        &[],
    ));
    has_line(
        &lines,
        &["connection 'a'", "client_cert:", "not a PEM file"],
    );
    has_line(&lines, &["connection 'a'", "client_key:", "not a PEM file"]);

    let pem = TempFile::new("cert.pem", PEM);
    let p = pem.path().display();
    let lines = errors(from_yaml(
        &one(&format!("host: h.example.com, client_cert: '{p}'")),
        &[],
    ));
    has_line(
        &lines,
        &["connection 'a'", "client_cert is set without client_key"],
    );
    let lines = errors(from_yaml(
        &one(&format!("host: h.example.com, client_key: '{p}'")),
        &[],
    ));
    has_line(
        &lines,
        &["connection 'a'", "client_key is set without client_cert"],
    );
    let lines = errors(from_yaml(
        &one(&format!("host: localhost, ca_cert: '{p}'")),
        &[],
    ));
    has_line(
        &lines,
        &["connection 'a'", "ca_cert is set but ssl is false"],
    );
    ok(from_yaml(
        &one(&format!(
            "host: h.example.com, ca_cert: '{p}', client_cert: '{p}', client_key: '{p}'"
        )),
        &[],
    ));
}

#[test]
fn unsafe_names() {
    let long = "a".repeat(33);
    for name in [
        "Prod",
        "1prod",
        "prod.eu",
        "_x",
        "pröd",
        "a b",
        long.as_str(),
        "''",
    ] {
        let lines = errors(from_yaml(
            &format!("connections:\n  {name}: {{host: h.example.com}}\n"),
            &[],
        ));
        has_line(&lines, &["connection name", "lowercase letter"]);
    }
    let ok_name = format!("a{}", "-_9".repeat(10));
    ok(from_yaml(
        &format!("connections:\n  {ok_name}: {{host: h.example.com}}\n"),
        &[],
    ));
}

#[test]
fn duplicate_names_ignore_case() {
    let lines = errors(from_yaml(
        "connections:\n  prod: {host: a.example.com}\n  PROD: {host: b.example.com}\n",
        &[],
    ));
    has_line(&lines, &["connection name \"PROD\"", "duplicates \"prod\""]);
    let lines = errors(from_yaml(
        "host: a.example.com\nadditional_servers:\n  Default: {host: b.example.com}\n",
        &[],
    ));
    has_line(
        &lines,
        &["connection name \"Default\"", "duplicates \"default\""],
    );
}

#[test]
fn transport_needs_endpoint() {
    let lines = errors(from_yaml(&one("host: h.example.com, transport: http"), &[]));
    has_line(
        &lines,
        &[
            "connection 'a'",
            "transport is set but endpoint is not true",
        ],
    );
    let lines = errors(from_yaml(
        &one("host: h.example.com, endpoint: true, transport: sse"),
        &[],
    ));
    has_line(
        &lines,
        &[
            "connections.a.transport:",
            "unknown transport",
            "streamable-http",
        ],
    );
}

#[test]
fn reserved_names_with_endpoint() {
    for name in ["mcp", "health", "metrics", "admin"] {
        let lines = errors(from_yaml(
            &format!("connections:\n  {name}: {{host: h.example.com, endpoint: true}}\n"),
            &[],
        ));
        has_line(
            &lines,
            &[&format!("connection '{name}'"), "collides", "reserved"],
        );
        // Composed into /mcp, the name is harmless.
        ok(from_yaml(
            &format!("connections:\n  {name}: {{host: h.example.com}}\n"),
            &[],
        ));
    }
}

#[test]
fn endpoint_tokens_need_endpoint() {
    let lines = errors(from_yaml(
        &one("host: h.example.com, auth: {bearer_tokens: [t]}"),
        &[],
    ));
    has_line(
        &lines,
        &["connection 'a'", "auth.bearer_tokens", "endpoint: true"],
    );
    let lines = errors(from_yaml(
        &one("host: h.example.com, endpoint: true, auth: {bearer_tokens: ['']}"),
        &[],
    ));
    has_line(
        &lines,
        &["connection 'a': auth.bearer_tokens[0]", "non-empty"],
    );
}

#[test]
fn user_modes_need_catalog_and_schema() {
    for mode in ["user_ro", "user_rw"] {
        let lines = errors(from_yaml(
            &one(&format!(
                "host: h.example.com, access_mode: {mode}, catalog: c"
            )),
            &[],
        ));
        has_line(
            &lines,
            &["connection 'a'", mode, "set both catalog and schema"],
        );
    }
}

#[test]
fn limits_ranges() {
    let lines = errors(from_yaml(
        &one(
            "host: h.example.com, limits: {requests_per_window: 0, window_seconds: 0, max_concurrent_queries: -1}",
        ),
        &[],
    ));
    has_line(&lines, &["connections.a.limits.requests_per_window:"]);
    has_line(&lines, &["connections.a.limits.window_seconds:"]);
    has_line(&lines, &["connections.a.limits.max_concurrent_queries:"]);
}

#[test]
fn header_values_are_checked() {
    let lines = errors(from_yaml(
        &one(
            "host: h.example.com, user: \"u\\r\\nX-Evil: 1\", client_tags: ['a,b'], session_properties: {'bad name': x}",
        ),
        &[],
    ));
    has_line(
        &lines,
        &["connection 'a'", "user contains a control character"],
    );
    has_line(&lines, &["connection 'a'", "client_tags[0]", "no comma"]);
    has_line(
        &lines,
        &["connection 'a'", "session_properties:", "\"bad name\""],
    );
}

#[test]
fn all_problems_are_reported_together() {
    let yaml = r#"
default_connection: ghost
connections:
  a: {host: h.example.com, port: 0}
  b: {ssl: false, user: u, password: hidden-pw-77}
  c: {host: h.example.com, transport: http, timeout: 999}
  mcp: {host: h.example.com, endpoint: true}
"#;
    let err = from_yaml(yaml, &[]).unwrap_err();
    let lines = err.lines();
    has_line(&lines, &["connections.a.port:"]);
    has_line(&lines, &["connection 'b'", "host is required"]);
    has_line(
        &lines,
        &["connection 'b'", "password is set but ssl is false"],
    );
    has_line(&lines, &["connection 'c'", "transport"]);
    has_line(&lines, &["connections.c.timeout:"]);
    has_line(&lines, &["connection 'mcp'", "collides"]);
    has_line(&lines, &["default_connection:", "ghost"]);
    assert_eq!(lines.len(), 7, "{lines:#?}");

    let text = err.to_string();
    let mut text_lines = text.lines();
    assert_eq!(
        text_lines.next(),
        Some("invalid configuration (7 problems):")
    );
    assert_eq!(text_lines.count(), 7);
    assert!(!text.contains("hidden-pw-77"));
    assert!(!format!("{err:?}").contains("hidden-pw-77"));
}

#[test]
fn seed_layout_top_level_fields_name_the_default_connection() {
    let lines = errors(from_yaml("host: h.example.com\nport: 0\nssl: maybe\n", &[]));
    has_line(&lines, &["port (connection 'default'):", "1 to 65535"]);
    has_line(&lines, &["ssl (connection 'default'):", "\"maybe\""]);
}

#[test]
fn values_from_variables_are_not_echoed() {
    let lines = errors(from_yaml(
        &one("host: h.example.com, ssl: '${S}', port: 'x${S}', access_mode: '${S}'"),
        &[("S", "sekrit-ish")],
    ));
    has_line(&lines, &["connections.a.ssl:", "not shown"]);
    has_line(&lines, &["connections.a.port:", "not shown"]);
    has_line(
        &lines,
        &[
            "connections.a.access_mode:",
            "unknown access mode",
            "not shown",
        ],
    );
    assert!(lines.iter().all(|l| !l.contains("sekrit")), "{lines:?}");
}
