//! Strict reading of tool arguments: unknown names, wrong JSON types and out-of-range values
//! become `INVALID_ARGUMENT` (or the seed's specific codes) before anything reaches Trino.
//! `null` counts as "not given", as many clients send it for unset optional arguments.

use serde_json::{Map, Value};

use super::error::{Code, ToolError};

pub struct Args<'a> {
    map: Option<&'a Map<String, Value>>,
}

/// Integer 1..=max with a default; above `max` is `over` (the seed's own code), below 1 is
/// `INVALID_ARGUMENT`.
pub struct Bounded {
    pub name: &'static str,
    pub max: u64,
    pub over: Code,
}

impl<'a> Args<'a> {
    /// Refuses names outside `allowed`, listing what the tool takes.
    pub fn new(map: Option<&'a Map<String, Value>>, allowed: &[&str]) -> Result<Self, ToolError> {
        if let Some(m) = map
            && let Some(unknown) = m.keys().find(|k| !allowed.contains(&k.as_str()))
        {
            let takes = if allowed.is_empty() {
                "no arguments".to_string()
            } else {
                allowed.join(", ")
            };
            return Err(ToolError::invalid(format!(
                "Unknown argument '{}'. This tool takes: {takes}.",
                printable(unknown)
            )));
        }
        Ok(Args { map })
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(key)).filter(|v| !v.is_null())
    }

    pub fn string(&self, key: &str) -> Result<Option<&'a str>, ToolError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ToolError::invalid(format!(
                "Argument '{key}' must be a string, not {}.",
                kind(other)
            ))),
        }
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, ToolError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(ToolError::invalid(format!(
                "Argument '{key}' must be true or false, not {}.",
                kind(other)
            ))),
        }
    }

    /// A whole number in 1..=max, or the default when absent. Never clamped.
    pub fn bounded(&self, b: &Bounded, default: u64) -> Result<u64, ToolError> {
        let Some(v) = self.get(b.name) else {
            return Ok(default);
        };
        let Value::Number(n) = v else {
            return Err(ToolError::invalid(format!(
                "Argument '{}' must be an integer from 1 to {}, not {}.",
                b.name,
                b.max,
                kind(v)
            )));
        };
        if let Some(u) = n.as_u64() {
            if u == 0 {
                return Err(ToolError::invalid(format!(
                    "Argument '{}' must be at least 1.",
                    b.name
                )));
            }
            if u > b.max {
                return Err(ToolError::new(
                    b.over,
                    format!(
                        "Argument '{}' is {u}, above the maximum of {}. Use at most {}.",
                        b.name, b.max, b.max
                    ),
                )
                .detail("limit", b.max));
            }
            return Ok(u);
        }
        if n.as_i64().is_some() {
            return Err(ToolError::invalid(format!(
                "Argument '{}' must be at least 1.",
                b.name
            )));
        }
        Err(ToolError::invalid(format!(
            "Argument '{}' must be a whole number from 1 to {}.",
            b.name, b.max
        )))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Argument names come from the client: show them without control characters and bounded.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    const LIMIT: Bounded = Bounded {
        name: "limit",
        max: 10_000,
        over: Code::LimitExceeded,
    };

    #[test]
    fn bounded_values() {
        let m = args(json!({"limit": 10_000}));
        assert_eq!(
            Args::new(Some(&m), &["limit"]).and_then(|a| a.bounded(&LIMIT, 1000)),
            Ok(10_000)
        );
        let m = args(json!({}));
        assert_eq!(
            Args::new(Some(&m), &["limit"]).and_then(|a| a.bounded(&LIMIT, 1000)),
            Ok(1000)
        );
        let m = args(json!({"limit": null}));
        assert_eq!(
            Args::new(Some(&m), &["limit"]).and_then(|a| a.bounded(&LIMIT, 1000)),
            Ok(1000)
        );
        for (v, code) in [
            (json!(10_001), Code::LimitExceeded),
            (json!(u64::MAX), Code::LimitExceeded),
            (json!(0), Code::InvalidArgument),
            (json!(-5), Code::InvalidArgument),
            (json!(1.5), Code::InvalidArgument),
            (json!("10"), Code::InvalidArgument),
            (json!([1]), Code::InvalidArgument),
        ] {
            let m = args(json!({ "limit": v }));
            let err = Args::new(Some(&m), &["limit"]).and_then(|a| a.bounded(&LIMIT, 1000));
            assert_eq!(err.map_err(|e| e.code), Err(code), "{v}");
        }
    }

    #[test]
    fn unknown_and_wrong_types() {
        let m = args(json!({"sql": "x", "nope\n": 1}));
        let e = Args::new(Some(&m), &["sql"]).err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("Unknown argument 'nope'. This tool takes: sql.")
        );
        let m = args(json!({"sql": 5}));
        let e = Args::new(Some(&m), &["sql"])
            .and_then(|a| a.string("sql"))
            .err()
            .map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("Argument 'sql' must be a string, not a number.")
        );
        let m = args(json!({"include_sample": "yes"}));
        assert!(
            Args::new(Some(&m), &["include_sample"])
                .and_then(|a| a.boolean("include_sample"))
                .is_err()
        );
    }
}
