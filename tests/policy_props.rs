//! Property tests of the SQL policy: writes never pass read-only modes, literal and comment
//! content never changes a verdict, and no input makes the check panic or go slow.

use std::time::{Duration, Instant};

use mcp_trino::policy::{
    AccessMode, Policy, RefusalCode, Scope, StatementKind, quote_ident, quote_string,
};
use proptest::prelude::*;
use proptest::sample::select;

fn policy(mode: AccessMode) -> Policy {
    Policy::new(mode, Scope::new(Some("hive"), Some("sales")))
}

fn verdict(mode: AccessMode, sql: &str) -> Result<StatementKind, RefusalCode> {
    policy(mode).check(sql).map(|c| c.kind).map_err(|r| r.code)
}

/// Statements that must never run on a read-only connection, as tokens.
const WRITES: &[&[&str]] = &[
    &["INSERT", "INTO", "t", "VALUES", "(1)"],
    &["INSERT", "INTO", "t", "SELECT", "*", "FROM", "u"],
    &["DELETE", "FROM", "t"],
    &["UPDATE", "t", "SET", "a", "=", "1"],
    &[
        "MERGE",
        "INTO",
        "t",
        "USING",
        "s",
        "ON",
        "t.a = s.a",
        "WHEN",
        "MATCHED",
        "THEN",
        "DELETE",
    ],
    &["TRUNCATE", "TABLE", "t"],
    &["CREATE", "TABLE", "t", "AS", "SELECT", "1", "x"],
    &[
        "CREATE", "OR", "REPLACE", "VIEW", "v", "AS", "SELECT", "1", "x",
    ],
    &["CREATE", "SCHEMA", "s"],
    &["DROP", "TABLE", "t"],
    &["ALTER", "TABLE", "t", "EXECUTE", "optimize"],
    &["ALTER", "TABLE", "t", "RENAME", "TO", "u"],
    &["COMMENT", "ON", "TABLE", "t", "IS", "'x'"],
    &["REFRESH", "MATERIALIZED", "VIEW", "mv"],
    &["ANALYZE", "t"],
    &["GRANT", "SELECT", "ON", "t", "TO", "u"],
    &["REVOKE", "SELECT", "ON", "t", "FROM", "u"],
    &["DENY", "SELECT", "ON", "t", "TO", "u"],
    &["CALL", "system.runtime.kill_query('x')"],
    &["CALL", "pg.system.execute(query", "=>", "'DELETE FROM t')"],
    &["EXECUTE", "IMMEDIATE", "'SELECT 1'"],
    &["PREPARE", "p", "FROM", "SELECT", "1"],
    &["EXECUTE", "p"],
    &["DEALLOCATE", "PREPARE", "p"],
    &["USE", "a.b"],
    &["SET", "SESSION", "x", "=", "1"],
    &["RESET", "SESSION", "x"],
    &["SET", "ROLE", "admin"],
    &["SET", "SESSION", "AUTHORIZATION", "admin"],
    &["RESET", "SESSION", "AUTHORIZATION"],
    &["SET", "PATH", "a"],
    &["SET", "TIME", "ZONE", "LOCAL"],
    &["START", "TRANSACTION"],
    &["COMMIT"],
    &["ROLLBACK"],
    &["DESCRIBE", "INPUT", "p"],
    &["WITH", "SESSION", "a", "=", "1", "SELECT", "1"],
    &[
        "WITH", "FUNCTION", "f()", "RETURNS", "int", "RETURN", "1", "SELECT", "f()",
    ],
    &[
        "SELECT",
        "*",
        "FROM",
        "TABLE(pg.system.query(query",
        "=>",
        "'x'))",
    ],
    &[
        "SELECT",
        "*",
        "FROM",
        "t",
        "JOIN",
        "TABLE(system.query(query",
        "=>",
        "'x'))",
        "q",
        "ON",
        "true",
    ],
    &["SELECT", "1", ";", "DROP", "TABLE", "t"],
];

const SEPARATORS: &[&str] = &[
    " ",
    "  ",
    "\n",
    "\t",
    "\r\n",
    "/* c */",
    " /* SELECT */ ",
    "/**/",
    "-- x\n",
    "--\r",
    " -- ; SELECT 1\n",
    "/* ; */",
];

const WRAPPERS: &[(&str, &str)] = &[
    ("", ""),
    ("EXPLAIN ", ""),
    ("EXPLAIN ANALYZE ", ""),
    ("EXPLAIN ANALYZE VERBOSE ", ""),
    ("EXPLAIN (TYPE IO) ", ""),
    ("EXPLAIN (TYPE VALIDATE, FORMAT JSON) ", ""),
    ("EXPLAIN EXPLAIN ", ""),
    ("(", ")"),
    ("((", "))"),
    ("EXPLAIN (", ")"),
];

/// Upper- or lower-cases each ASCII letter according to `mask`.
fn recase(sql: &str, mask: &[bool]) -> String {
    sql.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask.get(i % mask.len().max(1)).copied().unwrap_or(false) {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

fn write_statement() -> impl Strategy<Value = String> {
    (
        select(WRITES),
        prop::collection::vec(select(SEPARATORS), 60),
        prop::collection::vec(select(SEPARATORS), 0..3),
        select(WRAPPERS),
        prop::collection::vec(any::<bool>(), 1..16),
        any::<bool>(),
    )
        .prop_map(|(tokens, seps, lead, (open, close), mask, semicolon)| {
            let mut sql: String = lead.concat();
            sql.push_str(open);
            for (i, tok) in tokens.iter().enumerate() {
                if i > 0 {
                    sql.push_str(seps.get(i).copied().unwrap_or(" "));
                }
                sql.push_str(tok);
            }
            sql.push_str(close);
            if semicolon {
                sql.push_str(";\n-- end");
            }
            recase(&sql, &mask)
        })
}

/// Text that tries hard to confuse a lexer: quotes, comment markers, keywords, `;`.
const NASTY: &[&str] = &[
    "'",
    "''",
    "\"",
    "\"\"",
    ";",
    "--",
    "/*",
    "*/",
    "\n",
    "\r",
    "`",
    "\\",
    "U&'",
    "X'",
    "DROP TABLE t",
    "DELETE FROM t",
    "; DELETE FROM t; --",
    "TABLE(pg.system.query(query => 'x'))",
    "WITH SESSION a = 1",
    "EXPLAIN ANALYZE",
    "\u{FF1B}",
    "\u{415}",
    "é",
    " ",
    "(",
    ")",
    "$",
];

fn nasty_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(select(NASTY), 0..12).prop_map(|v| v.concat()),
        (any::<String>(), prop::collection::vec(select(NASTY), 0..6))
            .prop_map(|(s, v)| format!("{s}{}", v.concat())),
    ]
    .prop_map(|s| s.replace('\0', ""))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_write_passes_read_only(sql in write_statement()) {
        for mode in [AccessMode::UserRo, AccessMode::AdminRo] {
            prop_assert!(policy(mode).check(&sql).is_err(), "{mode} allowed {sql:?}");
        }
    }

    #[test]
    fn string_content_never_changes_the_verdict(s in nasty_text()) {
        let lit = quote_string(&s);
        for mode in AccessMode::ALL {
            prop_assert_eq!(
                verdict(mode, &format!("SELECT {lit} FROM t")),
                verdict(mode, "SELECT 'x' FROM t")
            );
            prop_assert_eq!(
                verdict(mode, &format!("INSERT INTO t VALUES ({lit})")),
                verdict(mode, "INSERT INTO t VALUES ('x')")
            );
            prop_assert_eq!(
                verdict(mode, &format!("SELECT U&{lit} FROM t")),
                verdict(mode, "SELECT U&'x' FROM t")
            );
        }
    }

    #[test]
    fn quoted_identifier_content_never_changes_the_verdict(s in nasty_text()) {
        let id = quote_ident(&s);
        for mode in AccessMode::ALL {
            prop_assert_eq!(
                verdict(mode, &format!("SELECT {id} FROM t")),
                verdict(mode, "SELECT \"x\" FROM t")
            );
            prop_assert_eq!(
                verdict(mode, &format!("SELECT * FROM {id} AS {id}")),
                verdict(mode, "SELECT * FROM \"x\" AS \"x\"")
            );
            prop_assert_eq!(
                verdict(mode, &format!("DELETE FROM {id}")),
                verdict(mode, "DELETE FROM \"x\"")
            );
        }
    }

    #[test]
    fn comment_content_never_changes_the_verdict(s in nasty_text()) {
        let block = s.replace("*/", "* /");
        let line = s.replace(['\r', '\n'], " ");
        for mode in AccessMode::ALL {
            prop_assert_eq!(
                verdict(mode, &format!("SELECT 1 /*{block}*/ FROM t")),
                verdict(mode, "SELECT 1 FROM t")
            );
            prop_assert_eq!(
                verdict(mode, &format!("/*{block}*/ DELETE FROM t")),
                verdict(mode, "DELETE FROM t")
            );
            prop_assert_eq!(
                verdict(mode, &format!("SELECT 1 --{line}\nFROM t")),
                verdict(mode, "SELECT 1 FROM t")
            );
            prop_assert_eq!(
                verdict(mode, &format!("SELECT 1 FROM t; --{line}")),
                verdict(mode, "SELECT 1 FROM t")
            );
        }
    }

    #[test]
    fn never_panics(s in nasty_text()) {
        for mode in AccessMode::ALL {
            let _ = policy(mode).check(&s);
            let _ = policy(mode).check(&format!("SELECT * FROM {s}"));
            let _ = policy(mode).check(&format!("EXPLAIN {s}"));
        }
    }

    #[test]
    fn allowed_read_only_sql_starts_like_a_read(s in nasty_text()) {
        // Whatever passes a read-only mode must start with a read head (after comments).
        for mode in [AccessMode::UserRo, AccessMode::AdminRo] {
            if let Ok(checked) = policy(mode).check(&s) {
                prop_assert!(matches!(
                    checked.kind,
                    StatementKind::Query | StatementKind::Show | StatementKind::Describe
                        | StatementKind::Explain | StatementKind::ExplainAnalyze
                ));
                prop_assert!(!checked.sql.contains('\0'));
            }
        }
    }
}

/// Runs `f` and fails if it takes longer than `limit`.
fn within(limit: Duration, what: &str, f: impl FnOnce()) {
    let start = Instant::now();
    f();
    let took = start.elapsed();
    assert!(took < limit, "{what} took {took:?}");
}

#[test]
fn deep_nesting_is_fine() {
    // Up to the bound, nesting is accepted (and fast); beyond it, refused (and fast).
    let depth = mcp_trino::policy::MAX_NESTING;
    let sql = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
    let query = format!("{}SELECT * FROM t{}", "(".repeat(depth), ")".repeat(depth));
    within(Duration::from_secs(5), "nesting at the bound", || {
        for mode in AccessMode::ALL {
            assert_eq!(verdict(mode, &sql), Ok(StatementKind::Query));
            assert_eq!(verdict(mode, &query), Ok(StatementKind::Query));
        }
    });
    let depth = 10_000;
    let sql = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
    let query = format!("{}SELECT * FROM t{}", "(".repeat(depth), ")".repeat(depth));
    within(Duration::from_secs(5), "10,000 nested parentheses", || {
        for mode in AccessMode::ALL {
            assert_eq!(verdict(mode, &sql), Err(RefusalCode::InvalidSql));
            assert_eq!(verdict(mode, &query), Err(RefusalCode::InvalidSql));
        }
    });
    let unbalanced = format!("SELECT * FROM {}", "(".repeat(depth));
    within(Duration::from_secs(5), "unbalanced parentheses", || {
        for mode in AccessMode::ALL {
            let _ = verdict(mode, &unbalanced);
        }
    });
    let explains = format!("{}SELECT 1", "EXPLAIN ".repeat(depth));
    within(Duration::from_secs(5), "10,000 EXPLAIN wrappers", || {
        assert_eq!(
            verdict(AccessMode::AdminRo, &explains),
            Ok(StatementKind::Explain)
        );
    });
}

#[test]
fn one_megabyte_is_fine() {
    let mb = 1 << 20;
    let mut wide = String::from("SELECT ");
    while wide.len() < mb {
        wide.push_str("a.b + 'x;y' /* c */, ");
    }
    wide.push_str("1 FROM hive.sales.t, u JOIN v ON u.a = v.a");
    let comment = format!("SELECT 1 /*{}*/", "-".repeat(mb));
    let string = format!("SELECT '{}'", "''".repeat(mb / 2));
    let many_tables = format!("SELECT 1 FROM t{}", ", t".repeat(mb / 4));
    let cases = [
        ("wide select", wide),
        ("long comment", comment),
        ("long string", string),
        ("long FROM list", many_tables),
    ];
    for (what, sql) in cases {
        within(Duration::from_secs(5), what, || {
            for mode in AccessMode::ALL {
                assert_eq!(verdict(mode, &sql), Ok(StatementKind::Query), "{what}");
            }
        });
    }
    let garbage = "'\"/*--;`".repeat(mb / 8);
    within(Duration::from_secs(5), "garbage", || {
        for mode in AccessMode::ALL {
            let _ = verdict(mode, &garbage);
        }
    });
}
