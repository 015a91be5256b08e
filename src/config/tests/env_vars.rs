//! `TRINO_*` and `TRINO_ADDITIONAL_SERVERS`.

use super::{errors, from_env, has_line, ok};
use crate::config::{AccessMode, DEFAULT_SOURCE, DEFAULT_TIMEOUT_SECS};

#[test]
fn primary_defaults() {
    let c = ok(from_env(&[("TRINO_HOST", "trino.example.com")]));
    assert_eq!(c.names(), ["default"]);
    assert_eq!(c.default_connection, "default");
    let d = c.get_default().unwrap();
    assert_eq!(d.host, "trino.example.com");
    assert!(d.ssl);
    assert_eq!(d.port, 443);
    assert!(d.ssl_verify);
    assert_eq!(d.timeout_secs, 120);
    assert_eq!(DEFAULT_TIMEOUT_SECS, 120);
    assert_eq!(d.source, "mcp-trino");
    assert_eq!(DEFAULT_SOURCE, "mcp-trino");
    assert_eq!(d.access_mode, AccessMode::AdminRo);
    assert!(!d.endpoint);
    assert_eq!(d.transport, None);
    assert_eq!(d.user, None);
    assert!(d.password.is_none() && d.token.is_none());
    assert_eq!(d.catalog, None);
    assert_eq!(d.limits.window_seconds, 60);
    assert_eq!(d.limits.requests_per_window, None);
    assert_eq!(d.base_url(), "https://trino.example.com:443");
    assert_eq!(d.auth_kind(), "none");
}

#[test]
fn ssl_is_off_by_default_only_for_loopback_names() {
    for host in ["localhost", "127.0.0.1", "::1", "LocalHost", "[::1]"] {
        let c = ok(from_env(&[("TRINO_HOST", host)]));
        let d = c.get_default().unwrap();
        assert!(!d.ssl, "{host}");
        assert_eq!(d.port, 8080, "{host}");
    }
    let c = ok(from_env(&[("TRINO_HOST", "::1")]));
    assert_eq!(c.get_default().unwrap().base_url(), "http://[::1]:8080");
    for host in ["127.0.0.2", "trino", "localhost.example.com", "10.0.0.1"] {
        let c = ok(from_env(&[("TRINO_HOST", host)]));
        assert!(c.get_default().unwrap().ssl, "{host}");
    }
}

#[test]
fn explicit_ssl_and_port() {
    let c = ok(from_env(&[
        ("TRINO_HOST", "trino.example.com"),
        ("TRINO_SSL", "false"),
    ]));
    assert_eq!(
        c.get_default().unwrap().base_url(),
        "http://trino.example.com:8080"
    );
    let c = ok(from_env(&[
        ("TRINO_HOST", "localhost"),
        ("TRINO_SSL", "true"),
    ]));
    assert_eq!(c.get_default().unwrap().base_url(), "https://localhost:443");
    let c = ok(from_env(&[
        ("TRINO_HOST", "localhost"),
        ("TRINO_PORT", "9090"),
    ]));
    assert_eq!(c.get_default().unwrap().base_url(), "http://localhost:9090");
}

#[test]
fn all_primary_variables() {
    let c = ok(from_env(&[
        ("TRINO_HOST", "trino.example.com"),
        ("TRINO_PORT", "8443"),
        ("TRINO_USER", "analyst"),
        ("TRINO_PASSWORD", "pw"),
        ("TRINO_CATALOG", "hive"),
        ("TRINO_SCHEMA", "web"),
        ("TRINO_SSL", "yes"),
        ("TRINO_SSL_VERIFY", "no"),
        ("TRINO_TIMEOUT", "300"),
        ("TRINO_SOURCE", "my-agent"),
        ("TRINO_ACCESS_MODE", "user_rw"),
    ]));
    let d = c.get_default().unwrap();
    assert_eq!(d.port, 8443);
    assert_eq!(d.user.as_deref(), Some("analyst"));
    assert_eq!(d.password.as_ref().unwrap().expose(), "pw");
    assert_eq!(d.catalog.as_deref(), Some("hive"));
    assert_eq!(d.schema.as_deref(), Some("web"));
    assert!(d.ssl && !d.ssl_verify);
    assert_eq!(d.timeout_secs, 300);
    assert_eq!(d.source, "my-agent");
    assert_eq!(d.access_mode, AccessMode::UserRw);
    assert_eq!(d.auth_kind(), "password");
}

#[test]
fn empty_variables_count_as_unset() {
    let c = ok(from_env(&[
        ("TRINO_HOST", "trino.example.com"),
        ("TRINO_PORT", ""),
        ("TRINO_PASSWORD", ""),
        ("TRINO_SSL", " "),
        ("TRINO_CATALOG", ""),
    ]));
    let d = c.get_default().unwrap();
    assert_eq!(d.port, 443);
    assert!(d.password.is_none() && d.catalog.is_none() && d.ssl);
}

#[test]
fn booleans_accept_six_words_in_any_case() {
    for (text, want) in [
        ("true", true),
        ("TRUE", true),
        ("1", true),
        ("yes", true),
        ("Yes", true),
        ("false", false),
        ("False", false),
        ("0", false),
        ("no", false),
        ("NO", false),
    ] {
        let c = ok(from_env(&[
            ("TRINO_HOST", "trino.example.com"),
            ("TRINO_SSL_VERIFY", text),
        ]));
        assert_eq!(c.get_default().unwrap().ssl_verify, want, "{text}");
    }
}

#[test]
fn bad_booleans_are_errors_naming_the_variable() {
    for text in ["maybe", "on", "off", "2", "tru"] {
        let lines = errors(from_env(&[
            ("TRINO_HOST", "h.example.com"),
            ("TRINO_SSL", text),
        ]));
        has_line(&lines, &["TRINO_SSL:", &format!("{text:?}")]);
        let lines = errors(from_env(&[
            ("TRINO_HOST", "h.example.com"),
            ("TRINO_SSL_VERIFY", text),
        ]));
        has_line(&lines, &["TRINO_SSL_VERIFY:", "true/false"]);
    }
}

#[test]
fn bad_ports() {
    for text in [
        "abc",
        "0",
        "65536",
        "-1",
        "+80",
        "80.5",
        "99999999999999999999",
    ] {
        let lines = errors(from_env(&[
            ("TRINO_HOST", "h.example.com"),
            ("TRINO_PORT", text),
        ]));
        has_line(&lines, &["TRINO_PORT:", "1 to 65535"]);
    }
    let c = ok(from_env(&[
        ("TRINO_HOST", "h.example.com"),
        ("TRINO_PORT", "65535"),
    ]));
    assert_eq!(c.get_default().unwrap().port, 65535);
}

#[test]
fn timeout_range() {
    for (text, want) in [("1", 1), ("300", 300), (" 60 ", 60)] {
        let c = ok(from_env(&[
            ("TRINO_HOST", "h.example.com"),
            ("TRINO_TIMEOUT", text),
        ]));
        assert_eq!(c.get_default().unwrap().timeout_secs, want);
    }
    for text in ["0", "301", "2m", "abc"] {
        let lines = errors(from_env(&[
            ("TRINO_HOST", "h.example.com"),
            ("TRINO_TIMEOUT", text),
        ]));
        has_line(&lines, &["TRINO_TIMEOUT:", "1 to 300 seconds"]);
    }
}

#[test]
fn unknown_access_mode() {
    for text in ["rw", "ADMIN_RW", "admin", "read_only"] {
        let lines = errors(from_env(&[
            ("TRINO_HOST", "h.example.com"),
            ("TRINO_ACCESS_MODE", text),
        ]));
        has_line(
            &lines,
            &[
                "TRINO_ACCESS_MODE:",
                "unknown access mode",
                "user_ro, user_rw, admin_ro, admin_rw",
            ],
        );
    }
}

#[test]
fn nothing_configured() {
    let lines = errors(from_env(&[]));
    has_line(&lines, &["no Trino connection is configured", "TRINO_HOST"]);
}

#[test]
fn missing_primary_host() {
    let lines = errors(from_env(&[("TRINO_USER", "analyst")]));
    has_line(
        &lines,
        &["connection 'default'", "host is required", "TRINO_HOST"],
    );
    let lines = errors(from_env(&[(
        "TRINO_ADDITIONAL_SERVERS",
        r#"{"staging": {"host": "s.example.com"}}"#,
    )]));
    has_line(&lines, &["connection 'default'", "host is required"]);
}

#[test]
fn additional_servers_keep_json_order() {
    let c = ok(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"zeta": {"host": "z.example.com"}, "alpha": {"host": "a.example.com"},
                "mid": {"host": "m.example.com"}}"#,
        ),
    ]));
    assert_eq!(c.names(), ["default", "zeta", "alpha", "mid"]);
    assert_eq!(c.default_connection, "default");
}

#[test]
fn credentials_are_inherited_unless_overridden() {
    let c = ok(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        ("TRINO_USER", "analyst"),
        ("TRINO_PASSWORD", "secret"),
        ("TRINO_CATALOG", "hive"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{
              "staging": {"host": "staging.example.com"},
              "other": {"host": "other.example.com", "user": "bob", "password": "pw2"},
              "dev": {"host": "localhost", "port": 8080, "user": "admin", "password": "", "ssl": false}
            }"#,
        ),
    ]));
    let staging = c.get("staging").unwrap();
    assert_eq!(staging.user.as_deref(), Some("analyst"));
    assert_eq!(staging.password.as_ref().unwrap().expose(), "secret");
    assert!(staging.credentials_inherited);
    // Only credentials are inherited.
    assert_eq!(staging.catalog, None);

    let other = c.get("other").unwrap();
    assert_eq!(other.user.as_deref(), Some("bob"));
    assert_eq!(other.password.as_ref().unwrap().expose(), "pw2");
    assert!(!other.credentials_inherited);

    let dev = c.get("dev").unwrap();
    assert_eq!(dev.user.as_deref(), Some("admin"));
    assert!(dev.password.is_none());
    assert!(!dev.credentials_inherited);
    assert_eq!(dev.base_url(), "http://localhost:8080");

    assert!(!c.get_default().unwrap().credentials_inherited);
}

#[test]
fn user_empty_with_inherited_password_is_an_error() {
    // "user": "" keeps the inherited password, which then has no user.
    let lines = errors(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        ("TRINO_USER", "analyst"),
        ("TRINO_PASSWORD", "secret"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"nouser": {"host": "n.example.com", "user": ""}}"#,
        ),
    ]));
    has_line(
        &lines,
        &["connection 'nouser'", "password is set but user is not"],
    );
}

#[test]
fn inherited_password_over_plain_http_is_refused() {
    let lines = errors(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        ("TRINO_USER", "analyst"),
        ("TRINO_PASSWORD", "s3cr3t-value"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"dev": {"host": "localhost"}}"#,
        ),
    ]));
    has_line(
        &lines,
        &[
            "connection 'dev'",
            "inherited from 'default'",
            "ssl: true",
            "password: \"\"",
        ],
    );
    assert!(lines.iter().all(|l| !l.contains("s3cr3t-value")));
}

#[test]
fn access_mode_is_not_inherited() {
    let c = ok(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        ("TRINO_ACCESS_MODE", "admin_rw"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"staging": {"host": "s.example.com"}, "rw": {"host": "r.example.com", "access_mode": "user_rw", "catalog": "c", "schema": "s"}}"#,
        ),
    ]));
    assert_eq!(c.get_default().unwrap().access_mode, AccessMode::AdminRw);
    assert_eq!(c.get("staging").unwrap().access_mode, AccessMode::AdminRo);
    assert_eq!(c.get("rw").unwrap().access_mode, AccessMode::UserRw);
}

#[test]
fn additional_server_fields() {
    let c = ok(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"dev": {"host": "dev.example.com", "port": "8443", "catalog": "memory",
                "schema": "default", "ssl": "yes", "ssl_verify": false, "access_mode": "admin_rw",
                "endpoint": true, "timeout": 30}}"#,
        ),
    ]));
    let dev = c.get("dev").unwrap();
    assert_eq!(dev.port, 8443);
    assert_eq!(dev.catalog.as_deref(), Some("memory"));
    assert_eq!(dev.schema.as_deref(), Some("default"));
    assert!(dev.ssl && !dev.ssl_verify && dev.endpoint);
    assert_eq!(dev.access_mode, AccessMode::AdminRw);
    assert_eq!(dev.timeout_secs, 30);
}

#[test]
fn additional_server_errors() {
    let lines = errors(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"a": {"host": "a.example.com", "token": "t", "hots": 1},
                "b": {"port": 70000},
                "c": {"host": "c.example.com", "ssl": "maybe", "timeout": 0, "access_mode": "rw"},
                "d": "d.example.com"}"#,
        ),
    ]));
    has_line(&lines, &["TRINO_ADDITIONAL_SERVERS.a.token: unknown field"]);
    has_line(&lines, &["TRINO_ADDITIONAL_SERVERS.a.hots: unknown field"]);
    has_line(
        &lines,
        &["TRINO_ADDITIONAL_SERVERS.b.port:", "1 to 65535", "70000"],
    );
    has_line(
        &lines,
        &[
            "connection 'b'",
            "host is required",
            "TRINO_ADDITIONAL_SERVERS.b",
        ],
    );
    has_line(&lines, &["TRINO_ADDITIONAL_SERVERS.c.ssl:", "\"maybe\""]);
    has_line(
        &lines,
        &["TRINO_ADDITIONAL_SERVERS.c.timeout:", "1 to 300 seconds"],
    );
    has_line(
        &lines,
        &[
            "TRINO_ADDITIONAL_SERVERS.c.access_mode:",
            "unknown access mode",
        ],
    );
    has_line(
        &lines,
        &["TRINO_ADDITIONAL_SERVERS.d:", "expected a mapping"],
    );
}

#[test]
fn additional_servers_json_problems_never_echo_input() {
    let lines = errors(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"a": {"password": "leaky-secret""#,
        ),
    ]));
    has_line(
        &lines,
        &["TRINO_ADDITIONAL_SERVERS:", "not valid JSON", "line 1"],
    );
    assert!(lines.iter().all(|l| !l.contains("leaky-secret")));

    let lines = errors(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        ("TRINO_ADDITIONAL_SERVERS", r#""leaky-secret""#),
    ]));
    has_line(
        &lines,
        &["TRINO_ADDITIONAL_SERVERS:", "must be a JSON object"],
    );
    assert!(lines.iter().all(|l| !l.contains("leaky-secret")));

    let lines = errors(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"a": {"host": "x.example.com", "password": 12345}}"#,
        ),
    ]));
    has_line(
        &lines,
        &["TRINO_ADDITIONAL_SERVERS.a.password:", "expected a string"],
    );
    assert!(lines.iter().all(|l| !l.contains("12345")));
}

#[test]
fn additional_servers_duplicate_name() {
    let lines = errors(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"a": {"host": "a.example.com"}, "a": {"host": "b.example.com"}}"#,
        ),
    ]));
    has_line(&lines, &["TRINO_ADDITIONAL_SERVERS.a:", "appears twice"]);
}

#[test]
fn additional_server_cannot_replace_the_primary() {
    let lines = errors(from_env(&[
        ("TRINO_HOST", "prod.example.com"),
        (
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"default": {"host": "x.example.com"}}"#,
        ),
    ]));
    has_line(
        &lines,
        &[
            "TRINO_ADDITIONAL_SERVERS.default:",
            "primary connection",
            "TRINO_*",
        ],
    );
}
