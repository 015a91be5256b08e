//! Statement classification: what the statement head is (through any `EXPLAIN` wrappers),
//! whether the access mode allows it, and constructs that are checked wherever they appear
//! (`WITH SESSION`, `WITH FUNCTION`, table functions).

use super::lexer::Token;
use super::scope::{NamePart, read_name};
use super::{Policy, Refusal, StatementKind};

/// What a statement starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    Query,
    Show,
    Describe,
    Write,
    Ddl,
    Call,
    /// Uses or changes session state: `USE`, `SET ...`, `RESET ...`, transactions,
    /// `PREPARE`, `EXECUTE name`, `DEALLOCATE`, `DESCRIBE INPUT/OUTPUT`.
    Session,
    ExecuteImmediate,
    Unknown,
}

/// The statement head and the `EXPLAIN` wrappers around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Statement {
    /// `None` without `EXPLAIN`; `Some(true)` if any wrapper is `EXPLAIN ANALYZE`.
    pub explain: Option<bool>,
    pub head: Head,
    /// Index of the head token (after the `EXPLAIN` wrappers).
    pub at: usize,
}

fn kw(toks: &[Token], i: usize, word: &str) -> bool {
    toks.get(i).is_some_and(|t| t.is_kw(word))
}

fn punct(toks: &[Token], i: usize, c: char) -> bool {
    toks.get(i).is_some_and(|t| t.is_punct(c))
}

/// Words a query can start with (after any opening parentheses).
pub(crate) fn starts_query(toks: &[Token], i: usize) -> bool {
    ["SELECT", "WITH", "VALUES", "TABLE"]
        .iter()
        .any(|w| kw(toks, i, w))
}

/// Finds the statement head, looping over `EXPLAIN` wrappers (no recursion).
pub(crate) fn parse(toks: &[Token]) -> Result<Statement, Refusal> {
    let mut at = 0;
    let mut explain: Option<bool> = None;
    while kw(toks, at, "EXPLAIN") {
        let mut analyze = explain.unwrap_or(false);
        at += 1;
        if kw(toks, at, "ANALYZE") {
            analyze = true;
            at += 1;
            if kw(toks, at, "VERBOSE") {
                at += 1;
            }
        } else if punct(toks, at, '(') && (kw(toks, at + 1, "FORMAT") || kw(toks, at + 1, "TYPE")) {
            at = explain_options_end(toks, at)?;
        }
        explain = Some(analyze);
    }
    Ok(Statement {
        explain,
        head: head_at(toks, at),
        at,
    })
}

/// Index after `(FORMAT x, TYPE y)`; anything else inside is malformed.
fn explain_options_end(toks: &[Token], open: usize) -> Result<usize, Refusal> {
    let mut i = open + 1;
    loop {
        let option = kw(toks, i, "FORMAT") || kw(toks, i, "TYPE");
        let value = toks.get(i + 1).is_some_and(|t| t.key().is_some());
        if !option || !value {
            break;
        }
        i += 2;
        if punct(toks, i, ',') {
            i += 1;
        } else if punct(toks, i, ')') {
            return Ok(i + 1);
        } else {
            break;
        }
    }
    Err(Refusal::invalid(
        "Could not read the EXPLAIN options: write them as `EXPLAIN (TYPE LOGICAL|DISTRIBUTED|\
         VALIDATE|IO, FORMAT TEXT|GRAPHVIZ|JSON) statement`.",
    ))
}

fn head_at(toks: &[Token], at: usize) -> Head {
    let Some(first) = toks.get(at) else {
        return Head::Unknown;
    };
    if first.is_punct('(') {
        let mut i = at;
        while punct(toks, i, '(') {
            i += 1;
        }
        return if starts_query(toks, i) {
            Head::Query
        } else {
            Head::Unknown
        };
    }
    match first.key().unwrap_or("") {
        "SELECT" | "WITH" | "VALUES" | "TABLE" => Head::Query,
        "SHOW" => Head::Show,
        "DESCRIBE" | "DESC" => {
            // `DESCRIBE INPUT p` is about a prepared statement; `DESCRIBE input` is a table.
            let prepared = (kw(toks, at + 1, "INPUT") || kw(toks, at + 1, "OUTPUT"))
                && toks.get(at + 2).is_some_and(|t| !t.is_punct('.'));
            if prepared {
                Head::Session
            } else {
                Head::Describe
            }
        }
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "TRUNCATE" => Head::Write,
        "CREATE" | "DROP" | "ALTER" | "COMMENT" | "REFRESH" | "ANALYZE" | "GRANT" | "REVOKE"
        | "DENY" => Head::Ddl,
        "CALL" => Head::Call,
        "EXECUTE" if kw(toks, at + 1, "IMMEDIATE") => Head::ExecuteImmediate,
        "USE" | "SET" | "RESET" | "START" | "COMMIT" | "ROLLBACK" | "PREPARE" | "EXECUTE"
        | "DEALLOCATE" => Head::Session,
        _ => Head::Unknown,
    }
}

/// A short name for the statement, such as `DROP TABLE` or `SET SESSION AUTHORIZATION`.
fn describe(toks: &[Token], at: usize) -> String {
    let words: Vec<&str> = toks
        .iter()
        .skip(at)
        .take(5)
        .map_while(|t| t.key())
        .collect();
    let n = match words.as_slice() {
        ["SET" | "RESET", "SESSION", "AUTHORIZATION", ..] => 3,
        ["CREATE", "OR", "REPLACE", "MATERIALIZED", ..] => 5,
        ["CREATE", "OR", "REPLACE", ..] => 4,
        [_, "MATERIALIZED", ..] | ["COMMENT", "ON", ..] => 3,
        ["DELETE", "FROM", ..] | ["INSERT" | "MERGE", "INTO", ..] => 2,
        ["EXECUTE", "IMMEDIATE", ..] | ["DESCRIBE", "INPUT" | "OUTPUT", ..] => 2,
        [
            "ALTER" | "CREATE" | "DROP" | "SET" | "RESET" | "START" | "TRUNCATE" | "DEALLOCATE",
            _,
            ..,
        ] => 2,
        _ => 1,
    };
    let n = n.min(words.len());
    words.get(..n).map(|w| w.join(" ")).unwrap_or_default()
}

const ALLOWED_FORMS: &str = "Only queries (SELECT, WITH, VALUES, TABLE), SHOW, DESCRIBE and \
                             EXPLAIN of those can run here";

/// Checks the statement head against the mode, then constructs anywhere in the statement.
pub(crate) fn check(policy: &Policy, toks: &[Token], sql: &str) -> Result<StatementKind, Refusal> {
    let st = parse(toks)?;
    let mode = policy.mode;
    let ro = mode.is_read_only();
    let what = describe(toks, st.at);
    let explained = if st.explain.is_some() {
        " (inside EXPLAIN)"
    } else {
        ""
    };
    let head_kind = match st.head {
        Head::Query if ro => {
            query_is_only_a_query(toks, st.at, &mode)?;
            StatementKind::Query
        }
        Head::Query => StatementKind::Query,
        Head::Show => StatementKind::Show,
        Head::Describe => StatementKind::Describe,
        Head::Write | Head::Ddl | Head::Call if ro => {
            return Err(Refusal::read_only(format!(
                "{what}{explained} is not allowed: this connection is read-only (access mode \
                 {mode}). {ALLOWED_FORMS}; use a read-write connection to change data or schema."
            )));
        }
        Head::Write => StatementKind::Write,
        Head::Ddl => StatementKind::Ddl,
        Head::Call => StatementKind::Call,
        Head::Session if ro => {
            return Err(Refusal::read_only(format!(
                "{what}{explained} is not allowed: it uses or changes session state, and this \
                 connection is read-only (access mode {mode}). {ALLOWED_FORMS}. Qualify table \
                 names (catalog.schema.table) instead of switching catalog or schema."
            )));
        }
        Head::Session => {
            return Err(Refusal::invalid(format!(
                "{what}{explained} is not accepted: every call runs in a fresh Trino session, so \
                 session state (current catalog/schema, session properties, roles, prepared \
                 statements, transactions) does not carry over to the next call. Qualify table \
                 names (catalog.schema.table) and send each statement on its own."
            )));
        }
        Head::ExecuteImmediate if ro => {
            return Err(Refusal::read_only(format!(
                "EXECUTE IMMEDIATE{explained} is not allowed: it runs a statement hidden in a \
                 string, and this connection is read-only (access mode {mode}). {ALLOWED_FORMS}."
            )));
        }
        Head::ExecuteImmediate => {
            return Err(Refusal::invalid(format!(
                "EXECUTE IMMEDIATE{explained} is not accepted: the statement inside the string \
                 cannot be checked. Send that statement itself instead."
            )));
        }
        Head::Unknown => {
            let start = toks
                .get(st.at)
                .and_then(|t| sql.get(t.start..t.end))
                .map(|s| s.chars().take(40).collect::<String>())
                .unwrap_or_else(|| "nothing".to_string());
            let forms = if ro {
                "a query (SELECT, WITH, VALUES, TABLE), SHOW, DESCRIBE or EXPLAIN"
            } else {
                "a query, SHOW, DESCRIBE, EXPLAIN, or a write/DDL statement"
            };
            return Err(Refusal::invalid(format!(
                "Could not recognise this statement{explained}: it starts with {start:?}. Send \
                 one Trino SQL statement: {forms}."
            )));
        }
    };
    let kind = match st.explain {
        None => head_kind,
        Some(false) => StatementKind::Explain,
        Some(true) => {
            if ro && st.head != Head::Query {
                return Err(Refusal::read_only(format!(
                    "EXPLAIN ANALYZE runs the statement it explains; on this read-only \
                     connection (access mode {mode}) it is only allowed for queries. Use \
                     EXPLAIN without ANALYZE for {what}."
                )));
            }
            StatementKind::ExplainAnalyze
        }
    };
    check_constructs(policy, toks, sql)?;
    Ok(kind)
}

/// Trino reserves these words: in a valid query they never appear unquoted, so one that does
/// marks a statement pretending to be a query (e.g. `WITH x AS (...) INSERT INTO ...`).
const RESERVED_STATEMENT_WORDS: [&str; 8] = [
    "INSERT",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "EXECUTE",
    "PREPARE",
    "DEALLOCATE",
];

/// A statement that starts like a query must be one: no reserved statement word anywhere,
/// and after a `WITH` list the main statement must start a query (`UPDATE` and `MERGE` are
/// not reserved, so they are caught there).
fn query_is_only_a_query(
    toks: &[Token],
    at: usize,
    mode: &super::AccessMode,
) -> Result<(), Refusal> {
    if let Some(word) = toks
        .iter()
        .skip(at)
        .filter_map(|t| t.key())
        .find(|k| RESERVED_STATEMENT_WORDS.contains(k))
    {
        return Err(Refusal::read_only(format!(
            "{word} inside a query is not allowed: this connection is read-only (access mode \
             {mode}). {ALLOWED_FORMS}."
        )));
    }
    let mut i = at;
    while kw(toks, i, "WITH") {
        i = after_with_list(toks, i + 1);
    }
    if i != at && !(starts_query(toks, i) || punct(toks, i, '(')) {
        let head = toks
            .get(i)
            .and_then(|t| t.key())
            .unwrap_or("something else");
        return Err(Refusal::read_only(format!(
            "A WITH clause followed by {head} is not a query: this connection is read-only \
             (access mode {mode}). {ALLOWED_FORMS}."
        )));
    }
    Ok(())
}

/// Index of the first token after `[RECURSIVE] name [(cols)] AS (...) [, ...]`.
fn after_with_list(toks: &[Token], mut i: usize) -> usize {
    if kw(toks, i, "RECURSIVE") {
        i += 1;
    }
    let mut depth = 0usize;
    while let Some(t) = toks.get(i) {
        if t.is_punct('(') {
            depth += 1;
        } else if t.is_punct(')') {
            depth = depth.saturating_sub(1);
            // The end of a CTE body: a comma continues the list, AS follows a column list.
            if depth == 0 && !punct(toks, i + 1, ',') && !kw(toks, i + 1, "AS") {
                return i + 1;
            }
        }
        i += 1;
    }
    i
}

/// `WITH SESSION`, `WITH FUNCTION` and table functions, wherever they appear.
fn check_constructs(policy: &Policy, toks: &[Token], sql: &str) -> Result<(), Refusal> {
    let mode = policy.mode;
    let ro = mode.is_read_only();
    for (i, t) in toks.iter().enumerate() {
        let Some(key) = t.key() else { continue };
        match key {
            "WITH" if ro && kw(toks, i + 1, "FUNCTION") && !cte_follows(toks, i + 2) => {
                return Err(Refusal::read_only(format!(
                    "WITH FUNCTION is not allowed: this connection is read-only (access mode \
                     {mode}) and does not accept inline routines. Write the expression in the \
                     query instead."
                )));
            }
            "SESSION" if session_property_follows(toks, sql, i + 1) => {
                let message = "WITH SESSION is not accepted: session properties, including the \
                               server's query limits, come from the connection's configuration. \
                               Remove the WITH SESSION clause.";
                return Err(if ro {
                    Refusal::read_only(message)
                } else {
                    Refusal::invalid(message)
                });
            }
            "TABLE" if punct(toks, i + 1, '(') => table_call(policy, toks, sql, i + 2)?,
            _ => {}
        }
    }
    Ok(())
}

/// After `WITH session` or `WITH function`, a CTE continues with `AS` or a column list.
fn cte_follows(toks: &[Token], i: usize) -> bool {
    kw(toks, i, "AS") || punct(toks, i, '(')
}

/// `SESSION name[.name] =`: a session property assignment (`WITH SESSION`, also after
/// `WITH FUNCTION ...`). A CTE or alias named `session` is never followed by this.
fn session_property_follows(toks: &[Token], sql: &str, i: usize) -> bool {
    match read_name(toks, sql, i) {
        Ok(Some((_, next))) => punct(toks, next, '='),
        _ => false,
    }
}

/// Built-in table functions, by exact name.
const BUILTIN_TABLE_FUNCTIONS: [&str; 2] = ["exclude_columns", "sequence"];

fn is_builtin(parts: &[NamePart]) -> bool {
    let canon = |p: &NamePart| {
        if p.quoted {
            p.value.clone()
        } else {
            p.value.to_lowercase()
        }
    };
    let known = |p: &NamePart| BUILTIN_TABLE_FUNCTIONS.contains(&canon(p).as_str());
    match parts {
        [f] => known(f),
        [c, s, f] => canon(c) == "system" && canon(s) == "builtin" && known(f),
        _ => false,
    }
}

/// What follows `TABLE (` at index `i`: a table argument (`TABLE(t)`, `TABLE(query)`) or a
/// table function call, which must be a built-in unless the mode is `admin_rw`.
fn table_call(policy: &Policy, toks: &[Token], sql: &str, i: usize) -> Result<(), Refusal> {
    if starts_query(toks, i) || punct(toks, i, '(') {
        return Ok(());
    }
    let unreadable = || {
        Refusal::invalid(
            "Could not read what follows `TABLE (`: expected a table function call such as \
             TABLE(sequence(start => 1, stop => 10)), or a table argument TABLE(name).",
        )
    };
    let Ok(Some((parts, next))) = read_name(toks, sql, i) else {
        return Err(unreadable());
    };
    if punct(toks, next, ')') {
        return Ok(()); // a table argument; its name is scope-checked in user modes
    }
    if !punct(toks, next, '(') {
        return Err(unreadable());
    }
    if is_builtin(&parts) || policy.mode == super::AccessMode::AdminRw {
        return Ok(());
    }
    let name = toks
        .get(i)
        .zip(toks.get(next.saturating_sub(1)))
        .and_then(|(a, b)| sql.get(a.start..b.end))
        .unwrap_or("?");
    let mode = policy.mode;
    Err(if mode.is_read_only() {
        Refusal::read_only(format!(
            "Table function {name} is not allowed: this connection is read-only (access mode \
             {mode}) and accepts only Trino's built-in table functions (exclude_columns, \
             sequence). Connector table functions such as system.query pass SQL straight to \
             another database, unchecked. Query the tables through Trino instead."
        ))
    } else {
        Refusal::read_only(format!(
            "Table function {name} is not allowed: it can reach outside this connection's \
             catalog/schema (access mode {mode}); only Trino's built-in table functions \
             (exclude_columns, sequence) are accepted. Query the tables through Trino instead."
        ))
    })
}
