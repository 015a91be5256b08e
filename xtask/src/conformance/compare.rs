//! Comparing an observed result with a golden one. Everything compares exactly, except the
//! values that declared rules cover: each rule checks the observed value (a duration, a query
//! id, a plan) and only then lets it differ from the golden file.

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cases::Expect;

/// A declared matcher for a value that legitimately varies between runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    /// `structured.stats.duration_ms`, `text[1]`, `text[0].plan` (inside JSON text),
    /// `structured.connections[*].port`, `structured.rows[0]["x,y"]`.
    pub path: String,
    #[serde(flatten)]
    pub kind: RuleKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RuleKind {
    NonNegativeInteger,
    /// An integer in 1..=65535.
    Port,
    NonEmptyString,
    /// Trino's query id: `^\d{8}_\d{6}_\d{5}_[a-z0-9]{5}$`.
    TrinoQueryId,
    /// A string matching the whole of `pattern`.
    Regex {
        pattern: String,
    },
}

pub const QUERY_ID: &str = r"\d{8}_\d{6}_\d{5}_[a-z0-9]{5}";

impl RuleKind {
    fn check(&self, v: &Value) -> Result<(), String> {
        let ok = match self {
            RuleKind::NonNegativeInteger => v.as_u64().is_some(),
            RuleKind::Port => v.as_u64().is_some_and(|p| (1..=65535).contains(&p)),
            RuleKind::NonEmptyString => v.as_str().is_some_and(|s| !s.is_empty()),
            RuleKind::TrinoQueryId => v.as_str().is_some_and(|s| full(QUERY_ID, s)),
            RuleKind::Regex { pattern } => {
                if Regex::new(pattern).is_err() {
                    return Err(format!("invalid regex in golden file: {pattern}"));
                }
                v.as_str().is_some_and(|s| full(pattern, s))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{} does not satisfy rule {}", show(v), self.name()))
        }
    }

    fn name(&self) -> String {
        match self {
            RuleKind::NonNegativeInteger => "non_negative_integer".into(),
            RuleKind::Port => "port".into(),
            RuleKind::NonEmptyString => "non_empty_string".into(),
            RuleKind::TrinoQueryId => "trino_query_id".into(),
            RuleKind::Regex { pattern } => format!("regex /{pattern}/"),
        }
    }
}

fn full(pattern: &str, s: &str) -> bool {
    Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|r| r.is_match(s))
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
    All,
}

fn parse_path(path: &str) -> Result<Vec<Seg>, String> {
    let bad = || format!("bad rule path `{path}`");
    let mut segs = Vec::new();
    let mut chars = path.chars().peekable();
    let mut key = String::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !key.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut key)));
                }
            }
            '[' => {
                if !key.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut key)));
                }
                let mut inner = String::new();
                if chars.peek() == Some(&'"') {
                    chars.next();
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('\\') => inner.push(chars.next().ok_or_else(bad)?),
                            Some(ch) => inner.push(ch),
                            None => return Err(bad()),
                        }
                    }
                    if chars.next() != Some(']') {
                        return Err(bad());
                    }
                    segs.push(Seg::Key(inner));
                    continue;
                }
                for ch in chars.by_ref() {
                    if ch == ']' {
                        break;
                    }
                    inner.push(ch);
                }
                if inner == "*" {
                    segs.push(Seg::All);
                } else {
                    segs.push(Seg::Index(inner.parse().map_err(|_| bad())?));
                }
            }
            _ => key.push(c),
        }
    }
    if !key.is_empty() {
        segs.push(Seg::Key(key));
    }
    Ok(segs)
}

fn fmt_path(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Key(k) => s.push_str(&format!("[{}]", Value::String(k.clone()))),
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
            Seg::All => s.push_str("[*]"),
        }
    }
    s
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        let cut: String = s.chars().take(160).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// Compare observed with expected under the rules; `Err` names the first differing path
/// and both values.
pub fn compare(expected: &Expect, actual: &Expect, rules: &[Rule]) -> Result<(), String> {
    let mut parsed = Vec::new();
    for r in rules {
        let segs = parse_path(&r.path)?;
        match segs.first() {
            Some(Seg::Key(k)) if k == "structured" || k == "text" => {}
            _ => {
                return Err(format!(
                    "rule path `{}` must start with structured or text",
                    r.path
                ));
            }
        }
        parsed.push((segs, &r.kind));
    }
    if expected.is_error != actual.is_error {
        return Err(format!(
            "isError: expected {}, got {}",
            expected.is_error, actual.is_error
        ));
    }
    if expected.text.len() != actual.text.len() {
        return Err(format!(
            "text: expected {} content blocks, got {}",
            expected.text.len(),
            actual.text.len()
        ));
    }
    for (i, (e, a)) in expected.text.iter().zip(&actual.text).enumerate() {
        let here = [Seg::Key("text".into()), Seg::Index(i)];
        let mine: Vec<(&[Seg], &RuleKind)> = parsed
            .iter()
            .filter(|(s, _)| s.len() >= 2 && s[..2] == here)
            .map(|(s, k)| (&s[2..], *k))
            .collect();
        compare_text(i, e, a, &mine)?;
    }
    let mut e = expected.structured.clone();
    let mut a = actual.structured.clone();
    let root = [Seg::Key("structured".into())];
    for (segs, kind) in &parsed {
        if segs[0] == root[0] {
            apply(&mut e, &mut a, &segs[1..], kind, &mut root.to_vec())?;
        }
    }
    diff(&e, &a, &mut root.to_vec())
}

fn compare_text(i: usize, e: &str, a: &str, rules: &[(&[Seg], &RuleKind)]) -> Result<(), String> {
    let prefix = vec![Seg::Key("text".into()), Seg::Index(i)];
    if let Some((_, kind)) = rules.iter().find(|(s, _)| s.is_empty()) {
        return kind
            .check(&Value::String(a.to_string()))
            .map_err(|m| format!("{}: {m}", fmt_path(&prefix)));
    }
    if rules.is_empty() {
        return text_diff(i, e, a);
    }
    // Rules inside a JSON text: values compare as JSON and the layout must be the golden's.
    let mut ev: Value = serde_json::from_str(e)
        .map_err(|_| format!("text[{i}]: golden text is not JSON but has rules inside it"))?;
    let mut av: Value = serde_json::from_str(a)
        .map_err(|_| format!("text[{i}]: expected JSON text, got {}", show(&a.into())))?;
    let relaid = if serde_json::to_string_pretty(&ev).ok().as_deref() == Some(e) {
        serde_json::to_string_pretty(&av).unwrap_or_default()
    } else if serde_json::to_string(&ev).ok().as_deref() == Some(e) {
        serde_json::to_string(&av).unwrap_or_default()
    } else {
        return Err(format!(
            "text[{i}]: golden JSON text is neither pretty nor compact"
        ));
    };
    if relaid != a {
        return text_diff(i, &relaid, a).map_err(|m| format!("{m} (JSON layout)"));
    }
    for (segs, kind) in rules {
        apply(&mut ev, &mut av, segs, kind, &mut prefix.clone())?;
    }
    diff(&ev, &av, &mut prefix.clone())
}

fn text_diff(i: usize, e: &str, a: &str) -> Result<(), String> {
    if e == a {
        return Ok(());
    }
    let (el, al): (Vec<&str>, Vec<&str>) = (e.split('\n').collect(), a.split('\n').collect());
    for n in 0..el.len().max(al.len()) {
        let (x, y) = (el.get(n), al.get(n));
        if x != y {
            let q = |s: Option<&&str>| s.map_or("<none>".to_string(), |s| show(&(*s).into()));
            return Err(format!(
                "text[{i}] line {}: expected {}, got {}",
                n + 1,
                q(x),
                q(y)
            ));
        }
    }
    Err(format!("text[{i}] differs"))
}

/// Check the rule on every observed value the path reaches, then blank the path on both
/// sides so the exact comparison skips only what the rule vouched for.
fn apply(
    e: &mut Value,
    a: &mut Value,
    segs: &[Seg],
    kind: &RuleKind,
    at: &mut Vec<Seg>,
) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        kind.check(a)
            .map_err(|m| format!("{}: {m}", fmt_path(at)))?;
        let mark = Value::String(format!("<{}>", kind.name()));
        *e = mark.clone();
        *a = mark;
        return Ok(());
    };
    let missing = |at: &Vec<Seg>, side: &str| format!("{}: missing in {side}", fmt_path(at));
    match first {
        Seg::Key(k) => {
            at.push(first.clone());
            let ev = e.get_mut(k.as_str()).ok_or_else(|| missing(at, "golden"))?;
            let av = a.get_mut(k.as_str()).ok_or_else(|| missing(at, "result"))?;
            apply(ev, av, rest, kind, at)?;
            at.pop();
        }
        Seg::Index(n) => {
            at.push(first.clone());
            let ev = e.get_mut(*n).ok_or_else(|| missing(at, "golden"))?;
            let av = a.get_mut(*n).ok_or_else(|| missing(at, "result"))?;
            apply(ev, av, rest, kind, at)?;
            at.pop();
        }
        Seg::All => {
            let (Some(ea), Some(aa)) = (e.as_array_mut(), a.as_array_mut()) else {
                return Err(format!("{}: [*] on a non-array", fmt_path(at)));
            };
            for (n, (ev, av)) in ea.iter_mut().zip(aa.iter_mut()).enumerate() {
                at.push(Seg::Index(n));
                apply(ev, av, rest, kind, at)?;
                at.pop();
            }
        }
    }
    Ok(())
}

/// The first difference between two JSON values (object key order aside).
fn diff(e: &Value, a: &Value, at: &mut Vec<Seg>) -> Result<(), String> {
    let differ = |at: &Vec<Seg>| {
        Err(format!(
            "{}: expected {}, got {}",
            fmt_path(at),
            show(e),
            show(a)
        ))
    };
    match (e, a) {
        (Value::Object(eo), Value::Object(ao)) => {
            for (k, ev) in eo {
                at.push(Seg::Key(k.clone()));
                match ao.get(k) {
                    Some(av) => diff(ev, av, at)?,
                    None => {
                        return Err(format!("{}: missing (expected {})", fmt_path(at), show(ev)));
                    }
                }
                at.pop();
            }
            if let Some((k, av)) = ao.iter().find(|(k, _)| !eo.contains_key(*k)) {
                at.push(Seg::Key(k.clone()));
                return Err(format!("{}: unexpected {}", fmt_path(at), show(av)));
            }
            Ok(())
        }
        (Value::Array(ea), Value::Array(aa)) => {
            for (n, (ev, av)) in ea.iter().zip(aa).enumerate() {
                at.push(Seg::Index(n));
                diff(ev, av, at)?;
                at.pop();
            }
            if ea.len() != aa.len() {
                return Err(format!(
                    "{}: expected {} items, got {}",
                    fmt_path(at),
                    ea.len(),
                    aa.len()
                ));
            }
            Ok(())
        }
        _ if e == a => Ok(()),
        _ => differ(at),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ex(text: &[&str], structured: Value) -> Expect {
        Expect {
            is_error: false,
            text: text.iter().map(|s| s.to_string()).collect(),
            structured,
        }
    }

    fn rule(path: &str, kind: RuleKind) -> Rule {
        Rule {
            path: path.into(),
            kind,
        }
    }

    #[test]
    fn rules_cover_varying_values_and_nothing_else() {
        let e = ex(
            &["{\n  \"plan\": \"a\",\n  \"type\": \"IO\"\n}"],
            json!({"stats": {"duration_ms": 3, "n": 1}}),
        );
        let a = ex(
            &["{\n  \"plan\": \"b\",\n  \"type\": \"IO\"\n}"],
            json!({"stats": {"duration_ms": 90, "n": 1}}),
        );
        let rules = [
            rule("text[0].plan", RuleKind::NonEmptyString),
            rule("structured.stats.duration_ms", RuleKind::NonNegativeInteger),
        ];
        assert_eq!(compare(&e, &a, &rules), Ok(()));
        let mut b = a.clone();
        b.structured["stats"]["n"] = json!(2);
        assert_eq!(
            compare(&e, &b, &rules),
            Err("structured.stats.n: expected 1, got 2".into())
        );
        let mut c = a.clone();
        c.structured["stats"]["duration_ms"] = json!(-1);
        assert!(compare(&e, &c, &rules).is_err_and(|m| m.contains("non_negative_integer")));
        let mut d = a.clone();
        d.text[0] = "{\"plan\":\"b\",\"type\":\"IO\"}".into();
        assert!(compare(&e, &d, &rules).is_err_and(|m| m.contains("JSON layout")));
    }

    #[test]
    fn paths_with_wildcards_and_quoted_keys() {
        assert_eq!(
            parse_path(r#"structured.rows[0]["x,y"].a[*]"#),
            Ok(vec![
                Seg::Key("structured".into()),
                Seg::Key("rows".into()),
                Seg::Index(0),
                Seg::Key("x,y".into()),
                Seg::Key("a".into()),
                Seg::All
            ])
        );
        let e = ex(&[], json!({"c": [{"port": 1}, {"port": 2}]}));
        let a = ex(&[], json!({"c": [{"port": 5}, {"port": 6}]}));
        assert_eq!(
            compare(&e, &a, &[rule("structured.c[*].port", RuleKind::Port)]),
            Ok(())
        );
        let q = rule(
            "text[0]",
            RuleKind::Regex {
                pattern: format!("1 row returned, \\d+ ms, query {QUERY_ID}"),
            },
        );
        let e = ex(&["x"], json!(null));
        let a = ex(
            &["1 row returned, 5 ms, query 20240115_100000_00001_abcde"],
            json!(null),
        );
        assert_eq!(compare(&e, &a, &[q]), Ok(()));
    }
}
