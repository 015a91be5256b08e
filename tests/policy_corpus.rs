//! Runs every statement of `fixtures/policy/corpus.tsv` through the policy and reports every
//! line whose verdict differs from the expected one.

use mcp_trino::policy::{AccessMode, Policy, RefusalCode, Scope};

const CORPUS: &str = include_str!("../fixtures/policy/corpus.tsv");

/// Turns the corpus escapes (`\n`, `\r`, `\t`, `\0`, `\\`, `\u{XXXX}`) into characters.
fn unescape(field: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                let rest: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let hex = rest.strip_prefix('{').ok_or("bad \\u escape")?;
                let code = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                out.push(char::from_u32(code).ok_or("bad code point")?);
            }
            other => return Err(format!("unknown escape \\{other:?}")),
        }
    }
    Ok(out)
}

/// Expands the modes field into policies.
fn policies(field: &str) -> Result<Vec<Policy>, String> {
    let mut out = Vec::new();
    for item in field.split(',') {
        let (names, scope) = match item.split_once('@') {
            Some((names, scope)) => (names, scope),
            None => (item, "hive.sales"),
        };
        let scope = match scope.split_once('.') {
            Some((c, s)) => Scope::new(Some(c), Some(s)),
            None => Scope::new(Some(scope), None),
        };
        let modes: Vec<AccessMode> = match names {
            "all" => AccessMode::ALL.to_vec(),
            "ro" => vec![AccessMode::UserRo, AccessMode::AdminRo],
            "rw" => vec![AccessMode::UserRw, AccessMode::AdminRw],
            "user" => vec![AccessMode::UserRo, AccessMode::UserRw],
            "admin" => vec![AccessMode::AdminRo, AccessMode::AdminRw],
            one => vec![one.parse().map_err(|e| format!("{e}"))?],
        };
        out.extend(modes.into_iter().map(|m| Policy::new(m, scope.clone())));
    }
    Ok(out)
}

#[test]
fn corpus() {
    let mut statements = 0;
    let mut checks = 0;
    let mut problems = Vec::new();
    for (n, line) in CORPUS.lines().enumerate() {
        let line_no = n + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [sql, modes, expected, ..] = fields.as_slice() else {
            problems.push(format!(
                "line {line_no}: expected at least 3 TAB-separated fields"
            ));
            continue;
        };
        let (sql, policies) = match (unescape(sql), policies(modes)) {
            (Ok(sql), Ok(p)) => (sql, p),
            (Err(e), _) | (_, Err(e)) => {
                problems.push(format!("line {line_no}: {e}"));
                continue;
            }
        };
        statements += 1;
        for policy in policies {
            checks += 1;
            let got = match policy.check(&sql) {
                Ok(_) => "allow".to_string(),
                Err(r) => r.code.as_str().to_string(),
            };
            if got != *expected {
                let why = policy
                    .check(&sql)
                    .err()
                    .map(|r| r.message)
                    .unwrap_or_default();
                problems.push(format!(
                    "line {line_no} [{}]: expected {expected}, got {got}: {sql:?} {why}",
                    policy.mode
                ));
            }
        }
    }
    for p in &problems {
        eprintln!("{p}");
    }
    assert!(
        problems.is_empty(),
        "{} corpus mismatches (listed above)",
        problems.len()
    );
    assert!(
        statements >= 150,
        "only {statements} statements in the corpus"
    );
    eprintln!("corpus: {statements} statements, {checks} checks");
}

#[test]
fn refusal_codes_render() {
    assert_eq!(RefusalCode::ReadOnly.as_str(), "READ_ONLY");
    assert_eq!(RefusalCode::InvalidSql.as_str(), "INVALID_SQL");
}
