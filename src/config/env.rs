//! The `TRINO_*` environment variables.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_norway::Value;

use super::error::Errors;
use super::fields::{Fields, bool_message, parse_bool, parse_number, shown};
use super::raw::{ENV_FIELDS, RawConnection, read_connection};

pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads a variable; unset, empty and blank count as not set.
fn var(env: Env, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// The primary connection as described by `TRINO_*`; only the variables that are set.
pub(crate) fn primary_from_env(env: Env, errs: &mut Errors) -> RawConnection {
    let mut c = RawConnection {
        origin: "environment".to_string(),
        ..RawConnection::default()
    };
    c.host = var(env, "TRINO_HOST").map(|s| s.trim().to_string());
    if let Some(v) = var(env, "TRINO_PORT") {
        match parse_number(&v, 1, 65535, "", &shown(&v)) {
            Ok(n) => c.port = u16::try_from(n).ok(),
            Err(m) => errs.push("TRINO_PORT", m),
        }
    }
    c.user = var(env, "TRINO_USER").map(Some);
    c.password = var(env, "TRINO_PASSWORD").map(Some);
    c.catalog = var(env, "TRINO_CATALOG");
    c.schema = var(env, "TRINO_SCHEMA");
    c.ssl = env_bool(env, "TRINO_SSL", errs);
    c.ssl_verify = env_bool(env, "TRINO_SSL_VERIFY", errs);
    if let Some(v) = var(env, "TRINO_TIMEOUT") {
        match parse_number(&v, 1, 300, " seconds", &shown(&v)) {
            Ok(n) => c.timeout = u32::try_from(n).ok(),
            Err(m) => errs.push("TRINO_TIMEOUT", m),
        }
    }
    c.source = var(env, "TRINO_SOURCE");
    if let Some(v) = var(env, "TRINO_ACCESS_MODE") {
        match super::modes::parse_access_mode(v.trim()) {
            Ok(m) => c.access_mode = Some(m),
            Err(m) => errs.push("TRINO_ACCESS_MODE", m),
        }
    }
    c
}

fn env_bool(env: Env, name: &str, errs: &mut Errors) -> Option<bool> {
    let v = var(env, name)?;
    let parsed = parse_bool(&v);
    if parsed.is_none() {
        errs.push(name, bool_message(&shown(&v)));
    }
    parsed
}

/// `TRINO_ADDITIONAL_SERVERS`: a JSON object of name -> server, in written order.
pub(crate) fn additional_from_env(env: Env, errs: &mut Errors) -> Vec<(String, RawConnection)> {
    const VAR: &str = "TRINO_ADDITIONAL_SERVERS";
    let Some(text) = var(env, VAR) else {
        return Vec::new();
    };
    let entries = match serde_json::from_str::<Entries>(&text) {
        Ok(Entries(entries)) => entries,
        Err(e) => {
            // serde_json's data errors can quote input (a secret); say only where it broke.
            let message = if e.is_data() {
                "must be a JSON object mapping connection names to servers, like {\"staging\": {\"host\": \"...\"}}".to_string()
            } else {
                format!(
                    "is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                )
            };
            errs.push(VAR, message);
            return Vec::new();
        }
    };
    let mut out: Vec<(String, RawConnection)> = Vec::new();
    for (name, json) in entries {
        let path = format!("{VAR}.{name}");
        if out.iter().any(|(n, _)| *n == name) {
            errs.push(&path, "the same name appears twice");
            continue;
        }
        let Some(mut f) = Fields::new(json_to_yaml(json), &path, "", errs) else {
            continue;
        };
        let mut c = read_connection(&mut f, ENV_FIELDS, None, errs);
        f.finish(errs);
        c.inherits = true;
        c.origin = path;
        out.push((name, c));
    }
    out
}

/// The top-level object, keeping order and duplicate keys (serde_json's map drops them).
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn json_to_yaml(v: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else if let Some(i) = n.as_i64() {
                Value::Number(i.into())
            } else {
                Value::Number(n.as_f64().unwrap_or(f64::NAN).into())
            }
        }
        J::String(s) => Value::String(s),
        J::Array(items) => Value::Sequence(items.into_iter().map(json_to_yaml).collect()),
        J::Object(map) => Value::Mapping(
            map.into_iter()
                .map(|(k, v)| (Value::String(k), json_to_yaml(v)))
                .collect(),
        ),
    }
}
