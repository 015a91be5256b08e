//! Hostile files and values: parser messages that would quote a secret, nesting that makes
//! the parser slow, values no request can carry, and floods of problems.

use super::super::file::{MAX_FLOW_DEPTH, too_deep_flow};
use super::*;

const A: &str = "connections:\n  a:\n    host: a.example.com\n    user: u\n";

#[test]
fn core_tags_on_secrets_are_reported_without_the_value() {
    for (yaml, path) in [
        ("    password: !!int hunter2\n", "connections.a.password"),
        ("    token: !!bool hunter2\n", "connections.a.token"),
        ("    token: !!float 'hunter2'\n", "connections.a.token"),
        (
            "    endpoint: true\n    auth: {bearer_tokens: [ok, !!null hunter2]}\n",
            "connections.a.auth.bearer_tokens[1]",
        ),
    ] {
        let lines = errors(from_yaml(&format!("{A}{yaml}"), &[]));
        has_line(&lines, &["config file: invalid YAML", path, "not shown"]);
        assert!(!lines.join("\n").contains("hunter2"), "{lines:?}");
    }
    // A duplicate key is still named (keys are named in messages anyway).
    let lines = errors(from_yaml(&format!("{A}    user: v\n"), &[]));
    has_line(&lines, &["duplicate entry with key \"user\""]);
}

#[test]
fn deep_flow_nesting_is_refused_before_parsing() {
    let deep = format!("{A}deep: {}{}\n", "[".repeat(30_000), "]".repeat(30_000));
    let started = std::time::Instant::now();
    let lines = errors(from_yaml(&deep, &[]));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    has_line(
        &lines,
        &[
            "config file: invalid YAML",
            "recursion limit exceeded",
            "line 5",
        ],
    );
    // As deep as allowed, and brackets in quotes and comments, are fine.
    let n = MAX_FLOW_DEPTH;
    let yaml = format!(
        "{A}    client_tags: {}x{}\n    catalog: \"[[[{{\\\"\"\n    schema: '[[''['  # [[[[\n",
        "[".repeat(n),
        "]".repeat(n)
    );
    assert_eq!(too_deep_flow(&yaml, n), None);
    assert_eq!(
        too_deep_flow(&format!("x: {}", "[".repeat(n + 1)), n),
        Some((1, 4 + n))
    );
    assert_eq!(
        too_deep_flow(&format!("x: '{}'", "[".repeat(n + 1)), n),
        None
    );
    assert_eq!(
        too_deep_flow(&format!("x: a{}", "[".repeat(n + 1)), n),
        None
    );
}

#[test]
fn impossible_hosts_are_refused() {
    let long = format!("{}.example.com", "a".repeat(300));
    let label = format!("{}.example.com", "a".repeat(64));
    for host in [
        long.as_str(),
        &label,
        "a..example.com",
        "999.1.1.1",
        "1:2:3",
    ] {
        let lines = errors(from_yaml(
            &format!("connections:\n  a: {{host: '{host}'}}\n"),
            &[],
        ));
        has_line(&lines, &["connection 'a': host"]);
    }
    let ok_label = format!("{}.example.com.", "a".repeat(63));
    for host in [
        ok_label.as_str(),
        "10.0.0.1",
        "::1",
        "[fe80::1]",
        "trino_coordinator",
    ] {
        ok(from_yaml(
            &format!("connections:\n  a: {{host: '{host}'}}\n"),
            &[],
        ));
    }
}

#[test]
fn credentials_no_request_can_carry_are_refused() {
    let lines = errors(from_yaml(
        "connections:\n  a: {host: a.example.com, user: 'ana:lyst', password: pw}\n",
        &[],
    ));
    has_line(&lines, &["connection 'a'", "user contains a colon"]);
    // Without a password the user only travels in X-Trino-User: a colon is fine there.
    ok(from_yaml(
        "connections:\n  a: {host: a.example.com, user: 'ana:lyst'}\n",
        &[],
    ));
    let env = [("JWT", "hunter2\n"), ("PW", "hunter3\r\n")];
    let lines = errors(from_yaml(
        "connections:\n  a: {host: a.example.com, user: u, token: '${JWT}'}\n  \
         b: {host: b.example.com, user: u, password: '${PW}'}\n\
         server:\n  reload_endpoint: {enabled: true, token: \"hunter4\\n\"}\n",
        &env,
    ));
    has_line(&lines, &["connection 'a'", "token must be printable ASCII"]);
    has_line(
        &lines,
        &["connection 'b'", "password contains a control character"],
    );
    has_line(&lines, &["server.reload_endpoint.token", "printable ASCII"]);
    assert!(!lines.join("\n").contains("hunter"), "{lines:?}");
}

#[test]
fn list_indexes_count_items_that_are_not_strings() {
    let lines = errors(from_yaml(
        &format!(
            "{A}    endpoint: true\n    auth: {{bearer_tokens: ['', 5, 'a b']}}\n    \
             client_tags: [1, 'x,y']\nserver:\n  allowed_hosts: [1, 'a b']\n"
        ),
        &[],
    ));
    has_line(&lines, &["auth.bearer_tokens[0]: a bearer token"]);
    has_line(
        &lines,
        &["connections.a.auth.bearer_tokens[1]: expected a string"],
    );
    has_line(&lines, &["auth.bearer_tokens[2]: a bearer token"]);
    has_line(&lines, &["client_tags[1] must be non-empty"]);
    has_line(&lines, &["server.allowed_hosts[1]: expected a host name"]);
}

#[test]
fn a_flood_of_problems_is_cut_short() {
    let mut yaml = A.to_string();
    for i in 0..1000 {
        yaml.push_str(&format!("junk{i}: 1\n"));
    }
    let e = from_yaml(&yaml, &[]).unwrap_err();
    assert_eq!(e.errors.len(), crate::config::error::MAX_REPORTED);
    assert_eq!(e.omitted, 1000 - e.errors.len());
    let text = e.to_string();
    assert!(
        text.starts_with("invalid configuration (1000 problems):"),
        "{text}"
    );
    assert!(
        text.ends_with("... and 950 more problems not shown"),
        "{text}"
    );
}

#[test]
fn an_oversized_file_is_refused_unread() {
    let big = TempFile::new("big.yaml", "");
    let f = std::fs::File::create(big.path()).unwrap();
    f.set_len(super::super::file::MAX_FILE_BYTES as u64 + 1)
        .unwrap();
    let lines = errors(load(Some(big.path()), &env_of(&[])));
    has_line(
        &lines,
        &["config file", "big.yaml", "is larger than 16 MiB"],
    );
}
