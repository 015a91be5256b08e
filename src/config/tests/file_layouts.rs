//! The YAML file: both layouts, `${VAR}`, unknown fields, the server section, precedence.

use super::{PEM, TempFile, errors, from_yaml, has_line, ok};
use crate::config::{AccessMode, Compose, Transport, load};

#[test]
fn connections_layout_keeps_order_and_first_is_default() {
    let c = ok(from_yaml(
        "connections:\n  zeta: {host: z.example.com}\n  alpha: {host: a.example.com}\n  mid: {host: m.example.com}\n",
        &[],
    ));
    assert_eq!(c.names(), ["zeta", "alpha", "mid"]);
    assert_eq!(c.default_connection, "zeta");
}

#[test]
fn default_connection_picks_another() {
    let yaml = "default_connection: mid\nconnections:\n  zeta: {host: z.example.com}\n  mid: {host: m.example.com}\n";
    let c = ok(from_yaml(yaml, &[]));
    assert_eq!(c.default_connection, "mid");
    assert_eq!(c.get_default().unwrap().host, "m.example.com");
    // Order is still the file's.
    assert_eq!(c.names(), ["zeta", "mid"]);
}

#[test]
fn default_connection_must_exist() {
    let lines = errors(from_yaml(
        "default_connection: nope\nconnections:\n  a: {host: a.example.com}\n  b: {host: b.example.com}\n",
        &[],
    ));
    has_line(
        &lines,
        &["default_connection:", "\"nope\"", "configured: a, b"],
    );
    let lines = errors(from_yaml(
        "default_connection: nope\nhost: a.example.com\n",
        &[],
    ));
    has_line(
        &lines,
        &["default_connection:", "\"nope\"", "configured: default"],
    );
}

#[test]
fn seed_layout_primary_and_additional_servers() {
    let yaml = r#"
host: prod.example.com
user: analyst
password: ${PROD_PASSWORD}
catalog: hive
additional_servers:
  production:
    host: prod2.example.com
    user: ${PROD_TRINO_USER}
    password: ${PROD_TRINO_PASSWORD}
  staging:
    host: staging.example.com
"#;
    let c = ok(from_yaml(
        yaml,
        &[
            ("PROD_PASSWORD", "pw0"),
            ("PROD_TRINO_USER", "u1"),
            ("PROD_TRINO_PASSWORD", "pw1"),
        ],
    ));
    assert_eq!(c.names(), ["default", "production", "staging"]);
    assert_eq!(c.default_connection, "default");
    let p = c.get("production").unwrap();
    assert_eq!(p.user.as_deref(), Some("u1"));
    assert_eq!(p.password.as_ref().unwrap().expose(), "pw1");
    let s = c.get("staging").unwrap();
    assert_eq!(s.user.as_deref(), Some("analyst"));
    assert_eq!(s.password.as_ref().unwrap().expose(), "pw0");
    assert!(s.credentials_inherited);
    assert_eq!(s.catalog, None);
}

#[test]
fn seed_layout_with_only_additional_servers_takes_the_primary_from_env() {
    let yaml = "additional_servers:\n  staging: {host: staging.example.com}\n";
    let c = ok(from_yaml(
        yaml,
        &[
            ("TRINO_HOST", "prod.example.com"),
            ("TRINO_USER", "analyst"),
            ("TRINO_PASSWORD", "pw"),
        ],
    ));
    assert_eq!(c.names(), ["default", "staging"]);
    assert_eq!(
        c.get("staging")
            .unwrap()
            .password
            .as_ref()
            .unwrap()
            .expose(),
        "pw"
    );
    // Without TRINO_HOST the primary has no host.
    let lines = errors(from_yaml(yaml, &[]));
    has_line(&lines, &["connection 'default'", "host is required"]);
}

#[test]
fn seed_layout_default_connection_and_token_inheritance() {
    let yaml = r#"
host: prod.example.com
token: jwt-primary
default_connection: staging
additional_servers:
  staging: {host: staging.example.com}
  own: {host: own.example.com, user: u, password: pw}
"#;
    let c = ok(from_yaml(yaml, &[]));
    assert_eq!(c.default_connection, "staging");
    let s = c.get("staging").unwrap();
    assert_eq!(s.token.as_ref().unwrap().expose(), "jwt-primary");
    assert!(s.password.is_none());
    // Setting a password stops the token from being inherited (never both).
    let own = c.get("own").unwrap();
    assert!(own.token.is_none());
    assert_eq!(own.auth_kind(), "password");
}

#[test]
fn connections_layout_inherits_nothing() {
    let yaml = "connections:\n  a: {host: a.example.com, user: u, password: pw}\n  b: {host: b.example.com}\n";
    let c = ok(from_yaml(yaml, &[]));
    let b = c.get("b").unwrap();
    assert!(b.user.is_none() && b.password.is_none() && !b.credentials_inherited);
}

#[test]
fn mixed_layouts_are_refused() {
    let lines = errors(from_yaml(
        "host: x.example.com\nconnections:\n  a: {host: a.example.com}\n",
        &[],
    ));
    has_line(
        &lines,
        &["(top level)", "`connections:`", "host", "not both"],
    );
    let lines = errors(from_yaml(
        "connections:\n  a: {host: a.example.com}\nadditional_servers:\n  b: {host: b.example.com}\n",
        &[],
    ));
    has_line(&lines, &["(top level)", "additional_servers", "not both"]);
    // Reported once, not again as unknown fields.
    assert!(
        lines.iter().all(|l| !l.contains("unknown field")),
        "{lines:?}"
    );
}

#[test]
fn env_overrides_the_default_connection_of_the_file() {
    let yaml = r#"
default_connection: b
connections:
  a: {host: a.example.com, catalog: ca}
  b: {host: b.example.com, catalog: cb, port: 8443, user: fileuser}
"#;
    let c = ok(from_yaml(
        yaml,
        &[
            ("TRINO_HOST", "env.example.com"),
            ("TRINO_CATALOG", "envcat"),
            ("TRINO_ACCESS_MODE", "admin_rw"),
        ],
    ));
    let b = c.get("b").unwrap();
    assert_eq!(b.host, "env.example.com");
    assert_eq!(b.catalog.as_deref(), Some("envcat"));
    assert_eq!(b.access_mode, AccessMode::AdminRw);
    // Fields the environment does not set stay as in the file.
    assert_eq!(b.port, 8443);
    assert_eq!(b.user.as_deref(), Some("fileuser"));
    // Other connections are untouched.
    let a = c.get("a").unwrap();
    assert_eq!(a.host, "a.example.com");
    assert_eq!(a.access_mode, AccessMode::AdminRo);
}

#[test]
fn env_overrides_the_seed_layout_primary() {
    let yaml =
        "host: file.example.com\nport: 9000\nadditional_servers:\n  s: {host: s.example.com}\n";
    let c = ok(from_yaml(
        yaml,
        &[("TRINO_PORT", "9443"), ("TRINO_USER", "envuser")],
    ));
    let d = c.get("default").unwrap();
    assert_eq!(d.host, "file.example.com");
    assert_eq!(d.port, 9443);
    // Additional servers inherit the primary's credentials after the override.
    assert_eq!(c.get("s").unwrap().user.as_deref(), Some("envuser"));
}

#[test]
fn env_additional_servers_replace_in_place_and_append() {
    let yaml = r#"
connections:
  a: {host: a.example.com}
  b: {host: b.example.com, catalog: filecat, access_mode: admin_rw}
  c: {host: c.example.com}
"#;
    let c = ok(from_yaml(
        yaml,
        &[(
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"new": {"host": "n.example.com"}, "b": {"host": "envb.example.com"}}"#,
        )],
    ));
    assert_eq!(c.names(), ["a", "b", "c", "new"]);
    let b = c.get("b").unwrap();
    assert_eq!(b.host, "envb.example.com");
    // Replaced whole: nothing of the file's `b` survives.
    assert_eq!(b.catalog, None);
    assert_eq!(b.access_mode, AccessMode::AdminRo);

    // The primary (here the default connection `a`) cannot be replaced.
    let lines = errors(from_yaml(
        yaml,
        &[(
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"a": {"host": "x.example.com"}}"#,
        )],
    ));
    has_line(
        &lines,
        &["TRINO_ADDITIONAL_SERVERS.a:", "primary connection"],
    );
}

#[test]
fn env_additional_servers_inherit_from_the_file_primary() {
    let yaml = "connections:\n  main: {host: m.example.com, user: u, password: filepw}\n";
    let c = ok(from_yaml(
        yaml,
        &[(
            "TRINO_ADDITIONAL_SERVERS",
            r#"{"extra": {"host": "e.example.com"}}"#,
        )],
    ));
    let e = c.get("extra").unwrap();
    assert_eq!(e.user.as_deref(), Some("u"));
    assert_eq!(e.password.as_ref().unwrap().expose(), "filepw");
}

#[test]
fn expansion_forms() {
    let yaml = r#"
connections:
  prod:
    host: ${HOST}
    port: ${PORT}
    ssl: ${SSL:-true}
    user: ${USER_NAME:-fallback}
    password: "pa$$word"
    catalog: ${TRICKY}
    source: "${EMPTY:-src}"
    client_tags: [a, "${TAG}", "x-${TAG}-y"]
    session_properties:
      query_max_run_time: ${RUN_TIME:-2m}
"#;
    let c = ok(from_yaml(
        yaml,
        &[
            ("HOST", "trino.example.com"),
            ("PORT", "8443"),
            ("TRICKY", "${HOST}$$"),
            ("EMPTY", ""),
            ("TAG", "t1"),
        ],
    ));
    let p = c.get("prod").unwrap();
    assert_eq!(p.host, "trino.example.com");
    assert_eq!(p.port, 8443);
    assert!(p.ssl);
    assert_eq!(p.user.as_deref(), Some("fallback"));
    assert_eq!(p.password.as_ref().unwrap().expose(), "pa$word");
    // No recursion: the variable's value is taken literally.
    assert_eq!(p.catalog.as_deref(), Some("${HOST}$$"));
    assert_eq!(p.source, "src");
    assert_eq!(p.client_tags, ["a", "t1", "x-t1-y"]);
    assert_eq!(p.session_properties["query_max_run_time"], "2m");
}

#[test]
fn unset_variable_names_the_variable_and_the_path() {
    let yaml = r#"
connections:
  prod:
    host: ${PROD_HOST}
    password: ${PROD_PASSWORD}
    client_tags: [ok, "${MISSING_TAG}"]
server:
  reload_endpoint: {enabled: true, token: "${RELOAD_TOKEN}"}
"#;
    let lines = errors(from_yaml(yaml, &[]));
    has_line(&lines, &["connections.prod.host:", "PROD_HOST is not set"]);
    has_line(
        &lines,
        &["connections.prod.password:", "PROD_PASSWORD is not set"],
    );
    has_line(&lines, &["connections.prod.client_tags[1]:", "MISSING_TAG"]);
    has_line(&lines, &["server.reload_endpoint.token:", "RELOAD_TOKEN"]);
    // No follow-on noise: the host is not also reported as missing, nor the tag as null.
    assert!(
        lines.iter().all(|l| !l.contains("host is required")),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| !l.contains("got null")), "{lines:?}");
}

#[test]
fn bad_references_are_errors() {
    let lines = errors(from_yaml(
        "connections:\n  a: {host: \"${UNCLOSED\"}\n  b: {host: \"${BAD-NAME}\"}\n",
        &[("UNCLOSED", "x")],
    ));
    has_line(&lines, &["connections.a.host:", "unterminated"]);
    has_line(
        &lines,
        &[
            "connections.b.host:",
            "invalid variable reference ${BAD-NAME}",
        ],
    );
}

#[test]
fn keys_are_not_expanded() {
    let lines = errors(from_yaml(
        "connections:\n  ${NAME}: {host: a.example.com}\n",
        &[("NAME", "prod")],
    ));
    has_line(&lines, &["connection name \"${NAME}\"", "lowercase letter"]);
    // A field name written as a variable is not a field.
    let lines = errors(from_yaml(
        "connections:\n  a: {host: a.example.com, \"${FIELD}\": x}\n",
        &[("FIELD", "catalog")],
    ));
    has_line(&lines, &["connections.a.${FIELD}: unknown field"]);
}

#[test]
fn expansion_cannot_inject_structure() {
    let yaml = "connections:\n  a: {host: a.example.com, catalog: \"${EVIL}\"}\n";
    let c = ok(from_yaml(yaml, &[("EVIL", "x # not a comment")]));
    assert_eq!(
        c.get("a").unwrap().catalog.as_deref(),
        Some("x # not a comment")
    );
    // A line break stays inside the value (and is refused there: it would forge a header).
    let lines = errors(from_yaml(
        yaml,
        &[("EVIL", "x\nb:\n  host: evil.example.com")],
    ));
    has_line(
        &lines,
        &["connection 'a'", "catalog contains a control character"],
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
}

#[test]
fn unknown_fields_at_every_level() {
    let yaml = r#"
colour: blue
connections:
  a:
    host: a.example.com
    hots: typo
    endpoint: true
    auth: {bearer_tokens: [t0k3n-value], basic: x}
    limits: {requests_per_window: 5, burst: 2}
server:
  bnd: 0.0.0.0:1
  reload_endpoint: {enabled: false, tokn: x}
  auth: {tokens: [x]}
"#;
    let lines = errors(from_yaml(yaml, &[]));
    has_line(&lines, &["colour: unknown field"]);
    has_line(&lines, &["connections.a.hots: unknown field"]);
    has_line(&lines, &["connections.a.auth.basic: unknown field"]);
    has_line(&lines, &["connections.a.limits.burst: unknown field"]);
    has_line(&lines, &["server.bnd: unknown field"]);
    has_line(&lines, &["server.reload_endpoint.tokn: unknown field"]);
    has_line(&lines, &["server.auth.tokens: unknown field"]);
    assert_eq!(lines.len(), 7, "{lines:#?}");

    let lines = errors(from_yaml(
        "hots: x\nhost: a.example.com\nadditional_servers:\n  b: {host: b.example.com, pasword: x}\n",
        &[],
    ));
    has_line(&lines, &["hots: unknown field"]);
    has_line(&lines, &["additional_servers.b.pasword: unknown field"]);
}

#[test]
fn wrong_types_name_the_path() {
    let yaml = r#"
connections:
  a:
    host: [a, b]
    port: true
    ssl: 2
    client_tags: tag
    session_properties: {x: [1]}
  b: just-a-string
server: []
"#;
    let lines = errors(from_yaml(yaml, &[]));
    has_line(
        &lines,
        &["connections.a.host:", "expected a string, got a list"],
    );
    has_line(&lines, &["connections.a.port:", "expected a number"]);
    has_line(&lines, &["connections.a.ssl:", "true/false"]);
    has_line(&lines, &["connections.a.client_tags:", "expected a list"]);
    has_line(
        &lines,
        &["connections.a.session_properties.x:", "got a list"],
    );
    has_line(&lines, &["connections.b:", "expected a mapping"]);
    has_line(&lines, &["server:", "expected a mapping"]);
}

#[test]
fn yaml_problems() {
    let lines = errors(from_yaml("connections: [\n", &[]));
    has_line(&lines, &["config file:", "invalid YAML"]);
    let lines = errors(from_yaml(
        "connections:\n  a: {host: a.example.com}\n  a: {host: b.example.com}\n",
        &[],
    ));
    has_line(&lines, &["invalid YAML", "duplicate"]);
    let lines = errors(from_yaml("- a\n- b\n", &[]));
    has_line(&lines, &["(top level):", "expected a mapping"]);
    let lines = errors(from_yaml("connections: {}\n", &[]));
    has_line(&lines, &["connections:", "at least one"]);
}

#[test]
fn unreadable_file() {
    let path = std::env::temp_dir().join("mcp-trino-config-test-does-not-exist.yaml");
    let lines = errors(load(Some(&path), &super::env_of(&[])));
    has_line(
        &lines,
        &["config file", "does-not-exist.yaml", "cannot read"],
    );
}

#[test]
fn empty_file_uses_the_environment() {
    let c = ok(from_yaml("", &[("TRINO_HOST", "h.example.com")]));
    assert_eq!(c.names(), ["default"]);
    let c = ok(from_yaml(
        "# only a comment\n",
        &[("TRINO_HOST", "h.example.com")],
    ));
    assert_eq!(c.names(), ["default"]);
}

#[test]
fn server_defaults() {
    let c = ok(from_yaml("host: h.example.com\n", &[]));
    let s = &c.server;
    assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(s.allowed_hosts, ["localhost", "127.0.0.1", "::1"]);
    assert!(s.allowed_origins.is_empty());
    assert_eq!(s.compose, Compose::Connection);
    assert_eq!(s.max_body_bytes, 1024 * 1024);
    assert_eq!(s.response_budget_bytes, 4 * 1024 * 1024);
    assert!(!s.allow_unauthenticated_remote && !s.stateless && !s.log_sql);
    assert!(!s.reload_endpoint.enabled && s.reload_endpoint.token.is_none());
    assert_eq!(s.shutdown_grace_seconds, 10);
    assert!(!s.auth.is_enabled());
}

#[test]
fn server_fields() {
    let yaml = r#"
host: h.example.com
server:
  bind: "[::]:9000"
  allowed_hosts: [mcp.example.com]
  allowed_origins: ["https://app.example.com"]
  compose: prefixed
  max_body_bytes: 2048
  response_budget_bytes: "65536"
  allow_unauthenticated_remote: "yes"
  stateless: true
  log_sql: 1
  reload_endpoint: {enabled: true, token: reload-tok}
  shutdown_grace_seconds: 0
  auth: {bearer_tokens: [main-tok]}
"#;
    let c = ok(from_yaml(yaml, &[]));
    let s = &c.server;
    assert_eq!(s.bind.to_string(), "[::]:9000");
    assert_eq!(s.allowed_hosts, ["mcp.example.com"]);
    assert_eq!(s.allowed_origins, ["https://app.example.com"]);
    assert_eq!(s.compose, Compose::Prefixed);
    assert_eq!(s.max_body_bytes, 2048);
    assert_eq!(s.response_budget_bytes, 65536);
    assert!(s.allow_unauthenticated_remote && s.stateless && s.log_sql);
    assert!(s.reload_endpoint.enabled);
    assert!(
        s.reload_endpoint
            .token
            .as_ref()
            .unwrap()
            .ct_eq(b"reload-tok")
    );
    assert_eq!(s.shutdown_grace_seconds, 0);
    assert!(s.auth.accepts(b"main-tok"));
}

#[test]
fn server_errors() {
    let yaml = r#"
host: h.example.com
server:
  bind: localhost
  compose: merged
  max_body_bytes: 10
  shutdown_grace_seconds: 301
  reload_endpoint: {enabled: true}
  allowed_hosts: ["http://x/"]
  auth: {bearer_tokens: ["", "has space"]}
"#;
    let lines = errors(from_yaml(yaml, &[]));
    has_line(&lines, &["server.bind:", "127.0.0.1:8080", "\"localhost\""]);
    has_line(&lines, &["server.compose:", "connection or prefixed"]);
    has_line(&lines, &["server.max_body_bytes:", "1024 to"]);
    has_line(&lines, &["server.shutdown_grace_seconds:", "0 to 300"]);
    has_line(&lines, &["server.reload_endpoint.token:", "required"]);
    has_line(&lines, &["server.allowed_hosts[0]:", "host name"]);
    has_line(&lines, &["server.auth.bearer_tokens[0]:", "non-empty"]);
    has_line(&lines, &["server.auth.bearer_tokens[1]:", "without spaces"]);
}

#[test]
fn connection_fields() {
    let cert = TempFile::new("ca.pem", PEM);
    let yaml = format!(
        r#"
connections:
  a:
    host: a.example.com
    port: 8443
    user: u
    token: jwt
    catalog: hive
    schema: web
    timeout: 30
    source: agent
    ssl_verify: false
    access_mode: user_ro
    endpoint: true
    transport: http
    auth: {{bearer_tokens: [tok1, tok2]}}
    limits: {{requests_per_window: 10, window_seconds: 5, max_concurrent_queries: 3}}
    ca_cert: {ca}
    client_cert: {ca}
    client_key: {ca}
    client_tags: [x, y]
    session_properties: {{query_max_run_time: 2m, hive.insert_existing_partitions_behavior: APPEND, retries: 3, spill: true}}
"#,
        ca = cert.path().display()
    );
    let c = ok(from_yaml(&yaml, &[]));
    let a = c.get("a").unwrap();
    assert_eq!(a.port, 8443);
    assert_eq!(a.token.as_ref().unwrap().expose(), "jwt");
    assert_eq!(a.timeout_secs, 30);
    assert_eq!(a.source, "agent");
    assert!(!a.ssl_verify);
    assert_eq!(a.access_mode, AccessMode::UserRo);
    assert_eq!(a.transport, Some(Transport::Http));
    assert!(a.auth.accepts(b"tok2") && !a.auth.accepts(b"tok3"));
    assert_eq!(a.limits.requests_per_window, Some(10));
    assert_eq!(a.limits.window_seconds, 5);
    assert_eq!(a.limits.max_concurrent_queries, Some(3));
    assert_eq!(a.ca_cert.as_deref(), Some(cert.path()));
    assert_eq!(a.client_tags, ["x", "y"]);
    assert_eq!(a.session_properties["retries"], "3");
    assert_eq!(a.session_properties["spill"], "true");
    assert_eq!(
        a.session_properties["hive.insert_existing_partitions_behavior"],
        "APPEND"
    );
}

#[test]
fn relative_cert_paths_resolve_against_the_file() {
    let cfg = TempFile::new(
        "mcp.yaml",
        "connections:\n  a: {host: a.example.com, ca_cert: ca.pem}\n",
    );
    std::fs::write(cfg.dir().join("ca.pem"), PEM).unwrap();
    let c = ok(load(Some(cfg.path()), &super::env_of(&[])));
    assert_eq!(
        c.get("a").unwrap().ca_cert.as_deref(),
        Some(cfg.dir().join("ca.pem").as_path())
    );
}
