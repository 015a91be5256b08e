//! Reading a YAML/JSON mapping field by field, with the path of every field for messages.
//!
//! Fields are read by hand rather than through `#[derive(Deserialize)]` so that every problem
//! is reported (serde stops at the first), each with its full path, and so that numbers and
//! booleans also accept strings: after `${VAR}` expansion `port: ${PORT}` is a string.

use serde_norway::Value;

use super::error::Errors;
use super::expand::{join, key_text};

/// The entries of one mapping that have not been read yet.
pub(crate) struct Fields {
    path: String,
    /// Appended to every location, e.g. ` (connection 'default')` for top-level fields.
    suffix: String,
    entries: Vec<(String, Value)>,
}

impl Fields {
    /// `value` must be a mapping; null counts as an empty one.
    pub fn new(value: Value, path: &str, suffix: &str, errs: &mut Errors) -> Option<Fields> {
        let entries = match value {
            Value::Null => Vec::new(),
            Value::Mapping(map) => map.into_iter().map(|(k, v)| (key_text(&k), v)).collect(),
            other => {
                errs.push(
                    located(path, suffix),
                    format!("expected a mapping, got {}", kind(&other)),
                );
                return None;
            }
        };
        Some(Fields {
            path: path.to_string(),
            suffix: suffix.to_string(),
            entries,
        })
    }

    pub fn set_suffix(&mut self, suffix: &str) {
        self.suffix = suffix.to_string();
    }

    /// The location of `key` as shown in messages.
    pub fn at(&self, key: &str) -> String {
        located(&join(&self.path, key), &self.suffix)
    }

    /// The plain YAML path of `key` (used for poisoned-path lookups).
    pub fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    pub fn take(&mut self, key: &str) -> Option<Value> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }

    /// A nested mapping.
    pub fn child(&mut self, key: &str, errs: &mut Errors) -> Option<Fields> {
        let v = self.take(key)?;
        Fields::new(v, &self.path_of(key), &self.suffix, errs)
    }

    /// The remaining entries, in order (for mappings of names).
    pub fn into_entries(self) -> Vec<(String, Value)> {
        self.entries
    }

    pub fn string(&mut self, key: &str, errs: &mut Errors) -> Option<String> {
        match self.take(key)? {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => {
                errs.push(
                    self.at(key),
                    format!("expected a string, got {} (quote it)", kind(&other)),
                );
                None
            }
        }
    }

    /// A credential: `None` when absent, `Some(None)` when explicitly empty (`""` or null,
    /// which stops inheritance), `Some(Some(v))` when set.
    pub fn credential(&mut self, key: &str, errs: &mut Errors) -> Option<Option<String>> {
        match self.take(key)? {
            Value::Null => Some(None),
            Value::String(s) if s.is_empty() => Some(None),
            Value::String(s) => Some(Some(s)),
            other => {
                // Never echo the value: it may be a secret.
                errs.push(
                    self.at(key),
                    format!("expected a string, got {}", kind(&other)),
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str, errs: &mut Errors) -> Option<bool> {
        match self.take(key)? {
            Value::Null => None,
            Value::Bool(b) => Some(b),
            Value::String(s) => {
                let parsed = parse_bool(&s);
                if parsed.is_none() {
                    let got = errs.show(&self.path_of(key), &s);
                    errs.push(self.at(key), bool_message(&got));
                }
                parsed
            }
            Value::Number(n) => match n.as_u64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => {
                    errs.push(self.at(key), bool_message(&n.to_string()));
                    None
                }
            },
            other => {
                errs.push(
                    self.at(key),
                    format!("expected true or false, got {}", kind(&other)),
                );
                None
            }
        }
    }

    /// A whole number in `min..=max`; `unit` is appended to the range in messages.
    pub fn number(
        &mut self,
        key: &str,
        min: u64,
        max: u64,
        unit: &str,
        errs: &mut Errors,
    ) -> Option<u64> {
        let text = match self.take(key)? {
            Value::Null => return None,
            Value::Number(n) => n.to_string(),
            Value::String(s) => s,
            other => {
                errs.push(
                    self.at(key),
                    format!("expected a number, got {}", kind(&other)),
                );
                return None;
            }
        };
        let got = errs.show(&self.path_of(key), &text);
        let parsed = parse_number(&text, min, max, unit, &got);
        if let Err(message) = &parsed {
            errs.push(self.at(key), message.clone());
        }
        parsed.ok()
    }

    /// A list of strings, each with its index in the list (items that are not strings are
    /// reported and left out, so messages about the others must use these indexes).
    pub fn strings(&mut self, key: &str, errs: &mut Errors) -> Option<Vec<(usize, String)>> {
        let items = match self.take(key)? {
            Value::Null => return None,
            Value::Sequence(items) => items,
            other => {
                errs.push(
                    self.at(key),
                    format!("expected a list, got {}", kind(&other)),
                );
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let path = format!("{}[{i}]", self.path_of(key));
            match item {
                Value::String(s) => out.push((i, s)),
                // Its `${VAR}` failed and was reported already.
                Value::Null if errs.is_poisoned(&path) => {}
                other => errs.push(
                    located(&path, &self.suffix),
                    format!("expected a string, got {}", kind(&other)),
                ),
            }
        }
        Some(out)
    }

    /// Reports every entry not read as an unknown field.
    pub fn finish(self, errs: &mut Errors) {
        for (k, _) in &self.entries {
            errs.push(self.at(k), "unknown field");
        }
    }
}

fn located(path: &str, suffix: &str) -> String {
    let path = if path.is_empty() { "(top level)" } else { path };
    format!("{path}{suffix}")
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// `true/false/1/0/yes/no`, any letter case. Anything else is refused, never guessed.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// `got` is the value as it may be shown (see `Errors::show`).
pub(crate) fn bool_message(got: &str) -> String {
    format!("expected true/false (or 1/0, yes/no), got {got}")
}

/// `got` is the value as it may be shown (see `Errors::show`).
pub(crate) fn parse_number(
    text: &str,
    min: u64,
    max: u64,
    unit: &str,
    got: &str,
) -> Result<u64, String> {
    let t = text.trim();
    match t.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) && t.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!(
            "must be a whole number from {min} to {max}{unit}, got {got}"
        )),
    }
}

/// A user-supplied (non-secret) value, quoted and shortened for messages.
pub(crate) fn shown(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{:?}...", cut)
    } else {
        format!("{s:?}")
    }
}
