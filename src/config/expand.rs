//! `${VAR}` expansion in the parsed YAML tree.
//!
//! Expansion runs on each string scalar *after* parsing, so a variable's value can never add
//! keys or be cut by a `#`. Rules: `${VAR}` is the variable (an unset one is an error naming
//! it and the YAML path), `${VAR:-text}` falls back to `text` when the variable is unset or
//! empty, `$$` is a literal `$`, any other `$` is kept as is. Expanded text and default text
//! are never expanded again. Mapping keys are never expanded.

use serde_norway::Value;

use super::error::Errors;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ExpandError {
    Unset(String),
    BadName(String),
    Unterminated,
}

/// Expands one string.
pub(crate) fn expand_str(
    input: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or(ExpandError::Unterminated)?;
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            if !valid_name(name) {
                return Err(ExpandError::BadName(inner.to_string()));
            }
            match (env(name), default) {
                (Some(v), Some(d)) if v.is_empty() => out.push_str(d),
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(ExpandError::Unset(name.to_string())),
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Expands every string scalar under `value`; `path` is the YAML path used in messages.
/// A failed string becomes null (so later checks see "not set") and its path is poisoned.
pub(crate) fn expand_tree(
    value: &mut Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    errs: &mut Errors,
) {
    match value {
        Value::String(s) => match expand_str(s, env) {
            Ok(expanded) => {
                if s.contains("${") {
                    errs.mark_expanded(path.to_string());
                }
                *s = expanded;
            }
            Err(e) => {
                let at = if path.is_empty() { "(top level)" } else { path };
                let message = match e {
                    ExpandError::Unset(name) => format!(
                        "environment variable {name} is not set (use ${{{name}:-default}} for a fallback)"
                    ),
                    ExpandError::BadName(inner) => {
                        format!(
                            "invalid variable reference ${{{inner}}} (write $$ for a literal $)"
                        )
                    }
                    ExpandError::Unterminated => {
                        "unterminated ${ (write $$ for a literal $)".to_string()
                    }
                };
                errs.push(at, message);
                errs.poison(path.to_string());
                *value = Value::Null;
            }
        },
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_tree(item, &format!("{path}[{i}]"), env, errs);
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map.iter_mut() {
                let child = join(path, &key_text(k));
                expand_tree(v, &child, env, errs);
            }
        }
        Value::Tagged(tagged) => expand_tree(&mut tagged.value, path, env, errs),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => "?".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("trino.example.com".into()),
            "EMPTY" => Some(String::new()),
            "TRICKY" => Some("${HOST}$$".into()),
            _ => None,
        }
    }

    #[test]
    fn plain_and_default_forms() {
        assert_eq!(expand_str("${HOST}", &env).unwrap(), "trino.example.com");
        assert_eq!(
            expand_str("https://${HOST}:443/x", &env).unwrap(),
            "https://trino.example.com:443/x"
        );
        assert_eq!(expand_str("${NOPE:-fallback}", &env).unwrap(), "fallback");
        assert_eq!(expand_str("${EMPTY:-fallback}", &env).unwrap(), "fallback");
        assert_eq!(expand_str("${EMPTY}", &env).unwrap(), "");
        assert_eq!(expand_str("${NOPE:-}", &env).unwrap(), "");
        assert_eq!(expand_str("${HOST:-x}", &env).unwrap(), "trino.example.com");
    }

    #[test]
    fn dollar_escape_and_lone_dollar() {
        assert_eq!(expand_str("pa$$word", &env).unwrap(), "pa$word");
        assert_eq!(expand_str("$${HOST}", &env).unwrap(), "${HOST}");
        assert_eq!(expand_str("cost $5 $", &env).unwrap(), "cost $5 $");
    }

    #[test]
    fn no_recursion() {
        // The value of TRICKY contains ${HOST} and $$; both stay literal.
        assert_eq!(expand_str("${TRICKY}", &env).unwrap(), "${HOST}$$");
        // Default text is literal too.
        assert_eq!(expand_str("${NOPE:-${HOST}", &env).unwrap(), "${HOST");
    }

    #[test]
    fn errors() {
        assert_eq!(
            expand_str("x${NOPE}y", &env),
            Err(ExpandError::Unset("NOPE".into()))
        );
        assert_eq!(expand_str("${HOST", &env), Err(ExpandError::Unterminated));
        assert_eq!(
            expand_str("${}", &env),
            Err(ExpandError::BadName("".into()))
        );
        assert_eq!(
            expand_str("${A-B}", &env),
            Err(ExpandError::BadName("A-B".into()))
        );
        assert_eq!(
            expand_str("${1X}", &env),
            Err(ExpandError::BadName("1X".into()))
        );
    }
}
