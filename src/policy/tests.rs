//! Unit tests of the policy API; the statement corpus is in `tests/policy_corpus.rs`.

use super::*;

fn policy(mode: AccessMode) -> Policy {
    Policy::new(mode, Scope::new(Some("hive"), Some("sales")))
}

fn code(mode: AccessMode, sql: &str) -> Option<RefusalCode> {
    policy(mode).check(sql).err().map(|r| r.code)
}

#[test]
fn access_mode_names() {
    for m in AccessMode::ALL {
        assert_eq!(m.as_str().parse::<AccessMode>(), Ok(m));
        assert_eq!(m.to_string(), m.as_str());
    }
    assert_eq!("USER_RO".parse::<AccessMode>(), Ok(AccessMode::UserRo));
    assert!("read_only".parse::<AccessMode>().is_err());
    assert!("".parse::<AccessMode>().is_err());
    assert!(" user_ro".parse::<AccessMode>().is_err());
    assert_eq!(AccessMode::default(), AccessMode::AdminRo);
    assert!(AccessMode::UserRo.is_read_only() && AccessMode::UserRo.is_user());
    assert!(!AccessMode::AdminRw.is_read_only() && !AccessMode::AdminRw.is_user());
}

#[test]
fn sql_sent_has_no_trailing_semicolon_or_comment() {
    let p = policy(AccessMode::AdminRo);
    let sent = |sql: &str| p.check(sql).map(|c| c.sql).unwrap_or_default();
    assert_eq!(sent("SELECT 1;"), "SELECT 1");
    assert_eq!(sent("  SELECT 1 ; -- done\n"), "SELECT 1");
    assert_eq!(sent("SELECT 1 /* a */ ;/* b */"), "SELECT 1");
    assert_eq!(sent("SELECT 1 -- trailing"), "SELECT 1");
    assert_eq!(sent("/* lead */ SELECT 'a;b'"), "/* lead */ SELECT 'a;b'");
    assert_eq!(sent("SELECT 1 -- x\nFROM t"), "SELECT 1 -- x\nFROM t");
}

#[test]
fn kinds() {
    let p = policy(AccessMode::AdminRw);
    let kind = |sql: &str| p.check(sql).map(|c| c.kind).ok();
    assert_eq!(kind("SELECT 1"), Some(StatementKind::Query));
    assert_eq!(kind("SHOW TABLES"), Some(StatementKind::Show));
    assert_eq!(kind("DESC t"), Some(StatementKind::Describe));
    assert_eq!(kind("EXPLAIN SELECT 1"), Some(StatementKind::Explain));
    assert_eq!(
        kind("EXPLAIN ANALYZE SELECT 1"),
        Some(StatementKind::ExplainAnalyze)
    );
    assert_eq!(kind("INSERT INTO t VALUES 1"), Some(StatementKind::Write));
    assert_eq!(kind("CREATE TABLE t (a int)"), Some(StatementKind::Ddl));
    assert_eq!(
        kind("CALL system.flush_metadata_cache()"),
        Some(StatementKind::Call)
    );
}

#[test]
fn codes_by_mode() {
    use AccessMode::*;
    use RefusalCode::*;
    assert_eq!(code(AdminRo, "DELETE FROM t"), Some(ReadOnly));
    assert_eq!(code(AdminRw, "DELETE FROM t"), None);
    assert_eq!(code(AdminRo, "USE hive.sales"), Some(ReadOnly));
    assert_eq!(code(AdminRw, "USE hive.sales"), Some(InvalidSql));
    assert_eq!(code(UserRw, "SET ROLE admin"), Some(InvalidSql));
    assert_eq!(code(AdminRo, "FROB t"), Some(InvalidSql));
    assert_eq!(code(AdminRw, "FROB t"), Some(InvalidSql));
    assert_eq!(code(UserRo, "SELECT * FROM other.s.t"), Some(ReadOnly));
}

#[test]
fn messages_explain_what_to_do() {
    let r = policy(AccessMode::UserRw).check("COMMIT").err();
    let msg = r.map(|r| r.message).unwrap_or_default();
    assert!(msg.contains("fresh Trino session"), "{msg}");
    let r = policy(AccessMode::UserRo)
        .check("SELECT * FROM tpch.tiny.nation")
        .err();
    let msg = r.map(|r| r.message).unwrap_or_default();
    assert!(
        msg.contains("outside this connection's catalog/schema"),
        "{msg}"
    );
    assert!(msg.contains("tpch.tiny.nation"), "{msg}");
    let r = policy(AccessMode::AdminRo).check("drop table t").err();
    let msg = r.map(|r| r.message).unwrap_or_default();
    assert!(
        msg.contains("DROP TABLE") && msg.contains("read-only"),
        "{msg}"
    );
}

#[test]
fn quote_ident_doubles_quotes() {
    assert_eq!(quote_ident("orders"), "\"orders\"");
    assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    assert_eq!(quote_ident("x.y"), "\"x.y\"");
    assert_eq!(quote_ident(""), "\"\"");
    assert_eq!(quote_ident("it's"), "\"it's\"");
}

#[test]
fn quote_string_doubles_quotes() {
    assert_eq!(quote_string("abc"), "'abc'");
    assert_eq!(quote_string("it's"), "'it''s'");
    assert_eq!(
        quote_string("'; DROP TABLE t; --"),
        "'''; DROP TABLE t; --'"
    );
    assert_eq!(quote_string("a\"b"), "'a\"b'");
    assert_eq!(quote_string(""), "''");
}

#[test]
fn quoted_values_survive_the_lexer() {
    for s in ["a", "a\"b", "\"\"", "x'y", "-- c", "/* c */", "; DROP", "é"] {
        let sql = format!("SELECT {} FROM {}", quote_string(s), quote_ident(s));
        let toks = lexer::lex(&sql).unwrap_or_default();
        assert_eq!(toks.len(), 4, "{sql}");
        assert_eq!(
            toks.get(3).map(|t| t.tok.clone()),
            Some(lexer::Tok::Quoted(s.to_string()))
        );
    }
}

mod props {
    use super::super::lexer::{Tok, lex};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn quote_ident_round_trips(s in any::<String>().prop_map(|s| s.replace('\0', ""))) {
            let toks = lex(&quote_ident(&s)).unwrap_or_default();
            let kinds: Vec<Tok> = toks.into_iter().map(|t| t.tok).collect();
            prop_assert_eq!(kinds, vec![Tok::Quoted(s)]);
        }

        #[test]
        fn quote_string_is_one_literal(s in any::<String>().prop_map(|s| s.replace('\0', ""))) {
            let lit = quote_string(&s);
            let toks = lex(&lit).unwrap_or_default();
            prop_assert_eq!(toks.len(), 1);
            prop_assert_eq!(toks.first().map(|t| (t.tok.clone(), t.end)), Some((Tok::Str, lit.len())));
        }
    }
}

#[test]
fn nesting_is_bounded() {
    let at = |n: usize| format!("SELECT {}1{}", "(".repeat(n), ")".repeat(n));
    for mode in AccessMode::ALL {
        assert_eq!(code(mode, &at(MAX_NESTING)), None, "{mode}");
        assert_eq!(
            code(mode, &at(MAX_NESTING + 1)),
            Some(RefusalCode::InvalidSql)
        );
        assert_eq!(code(mode, &at(100_000)), Some(RefusalCode::InvalidSql));
    }
    // Depth, not count: many sibling brackets are fine.
    let wide = format!("SELECT {}", vec!["(1)"; 5000].join(" + "));
    assert_eq!(code(AccessMode::AdminRo, &wide), None);
}
