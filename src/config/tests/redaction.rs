//! No secret value escapes through `Debug`, `Serialize` or the redacted view.

use super::{env_of, ok};
use crate::config::{Config, load_yaml_str};

const SECRETS: [&str; 6] = [
    "prod-password-4f2a",
    "stage-jwt-9b7c",
    "endpoint-token-1d3e",
    "endpoint-token-2e4f",
    "reload-token-5a6b",
    "main-token-7c8d",
];

fn config_with_secrets() -> Config {
    let yaml = r#"
default_connection: staging
server:
  bind: 0.0.0.0:8080
  reload_endpoint: {enabled: true, token: "${RELOAD}"}
  auth: {bearer_tokens: ["${MAIN_TOKEN}"]}
connections:
  prod:
    host: prod.example.com
    user: analyst
    password: ${PROD_PW}
  staging:
    host: staging.example.com
    token: ${STAGE_JWT}
    endpoint: true
    auth: {bearer_tokens: ["${EP1}", "${EP2}"]}
"#;
    let env = env_of(&[
        ("PROD_PW", SECRETS[0]),
        ("STAGE_JWT", SECRETS[1]),
        ("EP1", SECRETS[2]),
        ("EP2", SECRETS[3]),
        ("RELOAD", SECRETS[4]),
        ("MAIN_TOKEN", SECRETS[5]),
    ]);
    ok(load_yaml_str(yaml, None, &env))
}

#[track_caller]
fn assert_clean(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "secret {s} leaked in:\n{text}");
    }
}

#[test]
fn debug_and_redacted_views_hide_every_secret() {
    let c = config_with_secrets();
    // The secrets really are loaded...
    assert_eq!(
        c.get("prod").unwrap().password.as_ref().unwrap().expose(),
        SECRETS[0]
    );
    assert!(
        c.server
            .reload_endpoint
            .token
            .as_ref()
            .unwrap()
            .ct_eq(SECRETS[4].as_bytes())
    );
    // ...and nothing shows them.
    assert_clean(&format!("{c:?}"));
    assert_clean(&format!("{c:#?}"));
    assert_clean(&c.redacted_pretty());
    assert_clean(&serde_json::to_string(&c.redacted_json()).unwrap());
    for conn in &c.connections {
        assert_clean(&format!("{conn:?}"));
        assert_clean(&conn.base_url());
        assert_clean(&serde_json::to_string(&conn.password).unwrap());
        assert_clean(&serde_json::to_string(&conn.auth.bearer_tokens).unwrap());
    }
    assert!(format!("{c:?}").contains("Secret(***)"));
}

#[test]
fn redacted_view_shape() {
    let c = config_with_secrets();
    let v = c.redacted_json();
    assert_eq!(v["default_connection"], "staging");
    let conns = v["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0]["name"], "prod");
    assert_eq!(conns[0]["default"], false);
    assert_eq!(conns[0]["password_set"], true);
    assert_eq!(conns[0]["password"], "***");
    assert_eq!(conns[0]["token_set"], false);
    assert_eq!(conns[0]["token"], serde_json::Value::Null);
    assert_eq!(conns[0]["url"], "https://prod.example.com:443");
    assert_eq!(conns[0]["mcp_path"], "/mcp");
    assert_eq!(conns[1]["name"], "staging");
    assert_eq!(conns[1]["default"], true);
    assert_eq!(conns[1]["token"], "***");
    assert_eq!(conns[1]["auth_kind"], "jwt");
    assert_eq!(conns[1]["mcp_path"], "/staging/mcp");
    assert_eq!(
        conns[1]["auth"]["bearer_tokens"],
        serde_json::json!(["***", "***"])
    );
    assert_eq!(v["server"]["reload_endpoint"]["token"], "***");
    assert_eq!(
        v["server"]["auth"]["bearer_tokens"],
        serde_json::json!(["***"])
    );
    // Field order is stable (serde_json preserve_order): name first.
    let text = c.redacted_pretty();
    assert!(text.find("\"default_connection\"").unwrap() < text.find("\"connections\"").unwrap());
}

#[test]
fn unauthenticated_remote_endpoints() {
    // Bound to 0.0.0.0: /mcp has server.auth and staging has tokens, so nothing is open.
    let c = config_with_secrets();
    assert!(c.unauthenticated_remote_endpoints().is_empty());

    let yaml = "server: {bind: '0.0.0.0:8080'}\nconnections:\n  a: {host: a.example.com}\n  b: {host: b.example.com, endpoint: true}\n";
    let c = ok(load_yaml_str(yaml, None, &env_of(&[])));
    assert_eq!(c.unauthenticated_remote_endpoints(), ["/mcp", "/b/mcp"]);
    let allowed = yaml.replace("{bind:", "{allow_unauthenticated_remote: true, bind:");
    let c = ok(load_yaml_str(&allowed, None, &env_of(&[])));
    assert!(c.unauthenticated_remote_endpoints().is_empty());
    let local = yaml.replace("0.0.0.0", "127.0.0.1");
    let c = ok(load_yaml_str(&local, None, &env_of(&[])));
    assert!(c.unauthenticated_remote_endpoints().is_empty());
}

#[test]
fn errors_never_show_secrets() {
    // Many things wrong around secret values: none of the messages may carry them.
    let yaml = r#"
connections:
  a: {host: localhost, user: u, password: "${PROD_PW}", token: "${STAGE_JWT}"}
  b: {host: h.example.com, password: "${PROD_PW}", auth: {bearer_tokens: ["${EP1}"]}}
server:
  reload_endpoint: {enabled: "${RELOAD}", token: "${RELOAD}"}
"#;
    let env = env_of(&[
        ("PROD_PW", SECRETS[0]),
        ("STAGE_JWT", SECRETS[1]),
        ("EP1", SECRETS[2]),
        ("RELOAD", SECRETS[4]),
    ]);
    let err = load_yaml_str(yaml, None, &env).unwrap_err();
    assert!(err.errors.len() >= 4, "{err}");
    assert_clean(&err.to_string());
    assert_clean(&format!("{err:?}"));
}
