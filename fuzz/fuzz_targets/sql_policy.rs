//! Arbitrary text through the SQL lexer and `Policy::check` in every access mode.
//!
//! Besides "no panic", it checks what `src/policy/mod.rs` documents:
//! - lexing: tokens are ordered, non-empty, on char boundaries; the text between them is only
//!   whitespace and comments; each token read alone is that one token; NUL is refused;
//! - text that does not lex, is empty, or holds a `;` other than one trailing one is
//!   `INVALID_SQL` in every mode;
//! - the modes are nested: whatever `user_ro` accepts, `user_rw` and `admin_ro` accept, and
//!   whatever `admin_ro` or `user_rw` accepts, `admin_rw` accepts, with the same result;
//! - read-only modes accept only queries, SHOW, DESCRIBE and EXPLAIN;
//! - `admin_rw` never answers `READ_ONLY` (it refuses only what no mode can run);
//! - an accepted statement is one statement, and the SQL to send is the input without
//!   leading whitespace and without its trailing `;`, comments and whitespace: checking it
//!   again (with or without one `;`) gives the same result, and adding a second statement
//!   is refused;
//! - leading whitespace and a trailing comment change nothing;
//! - `quote_string`/`quote_ident` (how the metadata tools build SQL) give one literal or one
//!   identifier for any text: the statements built with them are accepted, and a quoted
//!   catalog is scope-checked exactly.

#![no_main]

use std::ops::Range;

use libfuzzer_sys::fuzz_target;
use mcp_trino::policy::{
    AccessMode, Checked, Policy, Refusal, RefusalCode, Scope, StatementKind, quote_ident,
    quote_string, token_spans,
};

/// The scope of the user modes (the policy corpus uses the same).
const CATALOG: &str = "hive";
const SCHEMA: &str = "sales";

type Verdict = Result<Checked, Refusal>;

fuzz_target!(|data: &[u8]| {
    // Lossy: invalid UTF-8 becomes U+FFFD, which the lexer refuses outside literals.
    let sql = String::from_utf8_lossy(data);
    let policies = AccessMode::ALL.map(|m| Policy::new(m, Scope::new(Some(CATALOG), Some(SCHEMA))));
    let spans = token_spans(&sql);
    check_lexer(&sql, spans.as_deref());

    let verdicts: Vec<Verdict> = policies.iter().map(|p| p.check(&sql)).collect();
    check_statement_shape(&sql, spans.as_deref(), &verdicts);
    check_mode_order(&sql, &verdicts);
    for (policy, verdict) in policies.iter().zip(&verdicts) {
        check_verdict(policy, &sql, verdict);
    }
    check_quoting(&policies, &sql);
});

fn ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn texts<'a>(sql: &'a str, spans: &[Range<usize>]) -> Vec<&'a str> {
    spans.iter().map(|r| &sql[r.clone()]).collect()
}

fn check_lexer(sql: &str, spans: Option<&[Range<usize>]>) {
    if sql.contains('\0') {
        assert!(spans.is_none(), "NUL must not lex: {sql:?}");
    }
    let Some(spans) = spans else { return };
    let mut prev = 0;
    for r in spans {
        assert!(
            r.start < r.end && r.end <= sql.len(),
            "bad span {r:?} in {sql:?}"
        );
        assert!(prev <= r.start, "overlapping spans at {r:?} in {sql:?}");
        assert!(
            sql.is_char_boundary(r.start) && sql.is_char_boundary(r.end),
            "span {r:?} not on char boundaries in {sql:?}"
        );
        let gap = &sql[prev..r.start];
        assert_eq!(
            token_spans(gap).as_deref(),
            Some(&[][..]),
            "text between tokens is not only whitespace and comments: {gap:?} in {sql:?}"
        );
        let token = &sql[r.clone()];
        let alone = token_spans(token);
        let whole = 0..token.len();
        assert_eq!(
            alone.as_deref(),
            Some(std::slice::from_ref(&whole)),
            "token {token:?} of {sql:?} does not lex alone as itself"
        );
        prev = r.end;
    }
    let tail = &sql[prev..];
    assert_eq!(
        token_spans(tail).as_deref(),
        Some(&[][..]),
        "text after the last token is not only whitespace and comments: {tail:?} in {sql:?}"
    );
}

/// Steps 1 and 2 of the policy: text that does not lex, is empty, or is not one statement
/// with at most one trailing `;` is `INVALID_SQL` whatever the mode.
fn check_statement_shape(sql: &str, spans: Option<&[Range<usize>]>, verdicts: &[Verdict]) {
    let must_be_invalid = match spans {
        None => true,
        Some(spans) => {
            let t = texts(sql, spans);
            let body = match t.split_last() {
                Some((&";", rest)) => rest,
                _ => &t[..],
            };
            body.is_empty() || body.contains(&";")
        }
    };
    if must_be_invalid {
        for (mode, v) in AccessMode::ALL.iter().zip(verdicts) {
            assert!(
                matches!(v, Err(r) if r.code == RefusalCode::InvalidSql),
                "{mode}: expected INVALID_SQL for {sql:?}, got {v:?}"
            );
        }
    }
}

fn verdict_of(verdicts: &[Verdict], mode: AccessMode) -> &Verdict {
    let i = AccessMode::ALL.iter().position(|m| *m == mode).unwrap_or(0);
    &verdicts[i]
}

/// `narrow` accepting means `wide` accepts, with the same SQL and kind.
fn implies(verdicts: &[Verdict], narrow: AccessMode, wide: AccessMode, sql: &str) {
    if let Ok(c) = verdict_of(verdicts, narrow) {
        let w = verdict_of(verdicts, wide);
        assert!(
            w.as_ref() == Ok(c),
            "{narrow} accepts but {wide} differs for {sql:?}: {c:?} vs {w:?}"
        );
    }
}

fn check_mode_order(sql: &str, verdicts: &[Verdict]) {
    use AccessMode::*;
    implies(verdicts, UserRo, UserRw, sql);
    implies(verdicts, UserRo, AdminRo, sql);
    implies(verdicts, AdminRo, AdminRw, sql);
    implies(verdicts, UserRw, AdminRw, sql);
    if let Err(r) = verdict_of(verdicts, AdminRw) {
        assert_eq!(
            r.code,
            RefusalCode::InvalidSql,
            "admin_rw refused {sql:?} as READ_ONLY: {r}"
        );
    }
}

fn same_outcome(a: &Verdict, b: &Verdict) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(x), Err(y)) => x.code == y.code,
        _ => false,
    }
}

fn check_verdict(policy: &Policy, sql: &str, verdict: &Verdict) {
    let mode = policy.mode;
    // Leading whitespace and a trailing comment change nothing (messages may name byte
    // offsets, so only the code of a refusal is compared).
    let framed = format!(" \n\t{sql}\n-- a trailing comment\n");
    let again = policy.check(&framed);
    assert!(
        same_outcome(verdict, &again),
        "{mode}: whitespace and a comment around {sql:?} changed {verdict:?} into {again:?}"
    );

    let checked = match verdict {
        Err(r) => {
            assert!(
                !r.message.trim().is_empty(),
                "{mode}: empty message for {sql:?}"
            );
            return;
        }
        Ok(c) => c,
    };
    if mode.is_read_only() {
        assert!(
            matches!(
                checked.kind,
                StatementKind::Query
                    | StatementKind::Show
                    | StatementKind::Describe
                    | StatementKind::Explain
                    | StatementKind::ExplainAnalyze
            ),
            "{mode} accepted a {:?} statement: {sql:?}",
            checked.kind
        );
    }
    let out = &checked.sql;
    assert!(!out.is_empty(), "{mode}: empty SQL to send for {sql:?}");
    assert!(
        !out.starts_with(ws) && sql.trim_start_matches(ws).starts_with(out.as_str()),
        "{mode}: SQL to send {out:?} is not a prefix of {sql:?} without leading whitespace"
    );
    let Some(out_spans) = token_spans(out) else {
        panic!("{mode}: SQL to send {out:?} does not lex (input {sql:?})");
    };
    let out_tokens = texts(out, &out_spans);
    assert!(
        !out_tokens.contains(&";"),
        "{mode}: SQL to send {out:?} holds a `;` (input {sql:?})"
    );
    assert_eq!(
        out_spans.last().map(|r| r.end),
        Some(out.len()),
        "{mode}: SQL to send {out:?} does not end at its last token"
    );
    let in_spans = token_spans(sql).unwrap_or_default();
    let mut in_tokens = texts(sql, &in_spans);
    if in_tokens.last() == Some(&";") {
        in_tokens.pop();
    }
    assert_eq!(
        out_tokens, in_tokens,
        "{mode}: SQL to send {out:?} is not the statement of {sql:?}"
    );

    // The SQL to send is itself accepted, as is, with one `;`, and nothing more.
    for variant in [out.clone(), format!("{out};"), format!("{out}\n;  ")] {
        let v = policy.check(&variant);
        assert!(
            v.as_ref() == Ok(checked),
            "{mode}: {variant:?} (from {sql:?}) gives {v:?}, not {checked:?}"
        );
    }
    for variant in [format!("{out};;"), format!("{out}; SELECT 1")] {
        let v = policy.check(&variant);
        assert!(
            matches!(&v, Err(r) if r.code == RefusalCode::InvalidSql),
            "{mode}: {variant:?} must be INVALID_SQL, got {v:?}"
        );
    }
}

/// Statements built the way `tools/meta.rs` builds them, around the fuzz text.
fn check_quoting(policies: &[Policy], text: &str) {
    if text.contains('\0') {
        return; // The lexer refuses NUL anywhere, quoted or not.
    }
    let lit = quote_string(text);
    let id = quote_ident(text);
    let accepted = [
        format!("SELECT {lit}"),
        format!("SELECT * FROM {id}"),
        format!(
            "SELECT * FROM {}.{}.{id}",
            quote_ident(CATALOG),
            quote_ident(SCHEMA)
        ),
        format!("SHOW COLUMNS FROM {}.{id}", quote_ident(SCHEMA)),
    ];
    for p in policies {
        for sql in &accepted {
            let v = p.check(sql);
            assert!(
                matches!(&v, Ok(c) if c.sql == *sql),
                "{}: {sql:?} must be accepted as is, got {v:?}",
                p.mode
            );
        }
        // A quoted catalog is compared exactly with the configured one in user modes.
        let other = format!("SELECT * FROM {id}.{}.t", quote_ident(SCHEMA));
        let v = p.check(&other);
        let in_scope = !p.mode.is_user() || text == CATALOG;
        if in_scope {
            assert!(
                v.is_ok(),
                "{}: {other:?} must be accepted, got {v:?}",
                p.mode
            );
        } else {
            assert!(
                matches!(&v, Err(r) if r.code == RefusalCode::ReadOnly),
                "{}: {other:?} is outside {CATALOG}.{SCHEMA}, got {v:?}",
                p.mode
            );
        }
    }
}
