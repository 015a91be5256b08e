//! Catalog/schema scope for `user_*` modes.
//!
//! Names in relation positions must stay inside the configured catalog (and schema, if set):
//! `c.s.t` needs `c` = catalog (and `s` = schema), `s.t` needs `s` = schema, and `t` resolves
//! to the session's catalog and schema, which the server sets from configuration. Unquoted
//! parts compare case-insensitively (Trino lower-cases them), quoted parts exactly. Four or
//! more parts, or a position that cannot be read, is refused.
//!
//! Relation positions are found from tokens:
//! - anywhere: after `JOIN`, `INTO`, `TABLE` (`TABLE t`, `CREATE TABLE t`, `TABLE(t)` table
//!   arguments), `USING name` (MERGE), `LIKE` after `(` or `,` (CREATE TABLE ... LIKE);
//! - after `FROM` in a query (a parenthesis level where `SELECT` appeared; not `IS DISTINCT
//!   FROM`, not inside `EXTRACT(... FROM ...)` and the like), and after each `,` of that
//!   FROM list until a clause keyword (`WHERE`, `GROUP`, `HAVING`, `ORDER`, set operations);
//! - per statement: `UPDATE t`, `DELETE FROM t`, `DESCRIBE t`, `ANALYZE t`,
//!   `REFRESH MATERIALIZED VIEW t`, `CREATE/DROP/ALTER VIEW|MATERIALIZED VIEW|SCHEMA`,
//!   `ALTER ... RENAME TO`, `COMMENT ON TABLE|VIEW|COLUMN`, `SHOW COLUMNS FROM t`,
//!   `SHOW CREATE ...`, `SHOW STATS FOR t`, and schema positions in `SHOW TABLES FROM s` and
//!   `SHOW FUNCTIONS FROM s`.
//!
//! Column references (`u.name`) are never in these positions, so they are not mistaken for
//! relations.

use super::classify::{self, Head, starts_query};
use super::lexer::{Tok, Token};
use super::{Policy, Refusal};

/// One part of a dotted name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NamePart {
    /// The text as written for unquoted parts, the unescaped value for quoted ones.
    pub value: String,
    pub quoted: bool,
}

/// Reads a dotted name at `i`: the parts and the index after it. `Ok(None)` if no name starts
/// at `i`; `Err(())` if a `.` is not followed by a name part.
pub(crate) fn read_name(
    toks: &[Token],
    sql: &str,
    i: usize,
) -> Result<Option<(Vec<NamePart>, usize)>, ()> {
    let mut parts = Vec::new();
    let mut j = i;
    loop {
        let part = match toks.get(j) {
            Some(
                t @ Token {
                    tok: Tok::Word { .. },
                    ..
                },
            ) => NamePart {
                value: sql.get(t.start..t.end).unwrap_or("").to_string(),
                quoted: false,
            },
            Some(Token {
                tok: Tok::Quoted(v),
                ..
            }) => NamePart {
                value: v.clone(),
                quoted: true,
            },
            _ if parts.is_empty() => return Ok(None),
            _ => return Err(()),
        };
        parts.push(part);
        j += 1;
        if toks.get(j).is_some_and(|t| t.is_punct('.')) {
            j += 1;
        } else {
            return Ok(Some((parts, j)));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// A table, view or materialized view: `t`, `s.t`, `c.s.t`.
    Relation,
    /// A schema: `s`, `c.s`.
    Schema,
    /// A column: `t.col`, `s.t.col`, `c.s.t.col` (the relation is all but the last part).
    Column,
}

fn kw(toks: &[Token], i: usize, word: &str) -> bool {
    toks.get(i).is_some_and(|t| t.is_kw(word))
}

fn punct(toks: &[Token], i: usize, c: char) -> bool {
    toks.get(i).is_some_and(|t| t.is_punct(c))
}

/// Checks every relation and schema name of the statement against the policy's scope.
pub(crate) fn check(policy: &Policy, toks: &[Token], sql: &str) -> Result<(), Refusal> {
    let checker = Checker { policy, toks, sql };
    let st = classify::parse(toks)?;
    checker.statement(st.head, st.at)?;
    checker.scan()
}

struct Checker<'a> {
    policy: &'a Policy,
    toks: &'a [Token],
    sql: &'a str,
}

/// Per parenthesis level: has `SELECT` appeared, and are we inside its FROM list.
#[derive(Default)]
struct Level {
    query: bool,
    from: bool,
}

impl Checker<'_> {
    fn refuse(&self, what: &str) -> Refusal {
        let mode = self.policy.mode;
        Refusal::read_only(format!(
            "{what} is outside this connection's catalog/schema: access mode {mode} is limited \
             to {}. Use names inside it (unqualified names resolve there), or a connection \
             configured for the other catalog.",
            self.scope_text()
        ))
    }

    /// A statement form whose reach cannot be bounded by names (catalog listings, grants,
    /// procedures, roles, ownership).
    fn refuse_statement(&self, from: usize, to: usize) -> Refusal {
        let mode = self.policy.mode;
        Refusal::read_only(format!(
            "{} is not available on this connection: access mode {mode} is limited to {}, and \
             this statement can reach outside this connection's catalog/schema or change \
             permissions. Use an admin connection for it.",
            self.text(from, to),
            self.scope_text()
        ))
    }

    fn scope_text(&self) -> String {
        match (&self.policy.scope.catalog, &self.policy.scope.schema) {
            (Some(c), Some(s)) => format!("schema {c}.{s}"),
            (Some(c), None) => format!("catalog {c}"),
            (None, Some(s)) => format!("schema {s} of the session catalog"),
            (None, None) => "the session catalog (none is configured)".to_string(),
        }
    }

    fn text(&self, from: usize, to: usize) -> String {
        let span = self.toks.get(from).zip(self.toks.get(to));
        span.and_then(|(a, b)| self.sql.get(a.start..b.end))
            .unwrap_or("this statement")
            .to_string()
    }

    /// Statement-specific name positions at the head `at`.
    fn statement(&self, head: Head, at: usize) -> Result<(), Refusal> {
        let t = self.toks;
        let first = t.get(at).and_then(Token::key).unwrap_or("");
        match (head, first) {
            (Head::Write, "UPDATE") | (Head::Ddl, "ANALYZE") | (Head::Describe, _) => {
                self.slot(at + 1, Position::Relation)
            }
            (Head::Write, "DELETE") if kw(t, at + 1, "FROM") => {
                self.slot(at + 2, Position::Relation)
            }
            (Head::Ddl, "REFRESH") if kw(t, at + 1, "MATERIALIZED") && kw(t, at + 2, "VIEW") => {
                self.slot(at + 3, Position::Relation)
            }
            (Head::Ddl, "CREATE" | "DROP" | "ALTER") => self.object_statement(first, at),
            (Head::Ddl, "COMMENT") if kw(t, at + 1, "ON") => {
                match t.get(at + 2).and_then(Token::key) {
                    Some("TABLE") => Ok(()), // the TABLE rule of `scan` checks the name
                    Some("VIEW") => self.slot(at + 3, Position::Relation),
                    Some("COLUMN") => self.slot(at + 3, Position::Column),
                    _ => Err(self.refuse_statement(at, at + 2)),
                }
            }
            (Head::Show, _) => self.show(at),
            (Head::Query | Head::Write, _) => Ok(()),
            _ => Err(self.refuse_statement(at, at)),
        }
    }

    /// `CREATE [OR REPLACE] | DROP | ALTER` of a table, view, materialized view or schema.
    fn object_statement(&self, verb: &str, at: usize) -> Result<(), Refusal> {
        let t = self.toks;
        if t.iter().any(|tok| tok.is_kw("AUTHORIZATION")) {
            return Err(self.refuse_statement(at, at + 1));
        }
        let mut k = at + 1;
        if verb == "CREATE" && kw(t, k, "OR") && kw(t, k + 1, "REPLACE") {
            k += 2;
        }
        let position = match t.get(k).and_then(Token::key) {
            Some("TABLE") => Position::Relation, // the name is checked by the TABLE rule
            Some("VIEW") => {
                self.slot(k + 1, Position::Relation)?;
                Position::Relation
            }
            Some("MATERIALIZED") if kw(t, k + 1, "VIEW") => {
                self.slot(k + 2, Position::Relation)?;
                Position::Relation
            }
            Some("SCHEMA") => {
                self.slot(k + 1, Position::Schema)?;
                Position::Schema
            }
            _ => return Err(self.refuse_statement(at, k)),
        };
        if verb == "ALTER" {
            for i in k..t.len() {
                if kw(t, i, "RENAME") && kw(t, i + 1, "TO") {
                    self.slot(i + 2, position)?;
                }
            }
        }
        Ok(())
    }

    fn show(&self, at: usize) -> Result<(), Refusal> {
        let t = self.toks;
        let from_or_in = |i| kw(t, i, "FROM") || kw(t, i, "IN");
        match t.get(at + 1).and_then(Token::key) {
            Some("TABLES" | "FUNCTIONS") if from_or_in(at + 2) => {
                self.slot(at + 3, Position::Schema)
            }
            Some("TABLES" | "FUNCTIONS") => Ok(()),
            Some("COLUMNS") if from_or_in(at + 2) => self.slot(at + 3, Position::Relation),
            Some("STATS") if kw(t, at + 2, "FOR") => {
                if punct(t, at + 3, '(') {
                    Ok(()) // a query: `scan` checks it
                } else {
                    self.slot(at + 3, Position::Relation)
                }
            }
            Some("CREATE") => match t.get(at + 2).and_then(Token::key) {
                Some("TABLE") => Ok(()),
                Some("VIEW") => self.slot(at + 3, Position::Relation),
                Some("MATERIALIZED") if kw(t, at + 3, "VIEW") => {
                    self.slot(at + 4, Position::Relation)
                }
                Some("SCHEMA") => self.slot(at + 3, Position::Schema),
                _ => Err(self.refuse_statement(at, at + 2)),
            },
            _ => Err(self.refuse_statement(at, at + 1)),
        }
    }

    /// Finds relation positions anywhere in the statement, iteratively.
    fn scan(&self) -> Result<(), Refusal> {
        let t = self.toks;
        let mut levels = vec![Level::default()];
        for (i, tok) in t.iter().enumerate() {
            match &tok.tok {
                Tok::Punct('(' | '[') => levels.push(Level::default()),
                // The outermost level is never popped, whatever the balance.
                Tok::Punct(')' | ']') if levels.len() > 1 => {
                    levels.pop();
                }
                Tok::Punct(',') if levels.last().is_some_and(|l| l.from) => {
                    self.slot(i + 1, Position::Relation)?;
                }
                Tok::Word { key } => {
                    let Some(level) = levels.last_mut() else {
                        continue;
                    };
                    match key.as_str() {
                        "SELECT" => {
                            level.query = true;
                            level.from = false;
                        }
                        "FROM" => {
                            let distinct = i > 0 && kw(t, i - 1, "DISTINCT");
                            if level.query && !distinct {
                                level.from = true;
                                self.slot(i + 1, Position::Relation)?;
                            }
                        }
                        // Reserved words only: a non-reserved one could be an alias.
                        "WHERE" | "GROUP" | "HAVING" | "ORDER" | "UNION" | "EXCEPT"
                        | "INTERSECT" => level.from = false,
                        "JOIN" | "INTO" => self.slot(i + 1, Position::Relation)?,
                        "TABLE" => {
                            if punct(t, i + 1, '(') {
                                self.table_argument(i + 2)?;
                            } else {
                                self.slot(i + 1, Position::Relation)?;
                            }
                        }
                        "USING" if !punct(t, i + 1, '(') => {
                            self.slot(i + 1, Position::Relation)?;
                        }
                        "LIKE" if i > 0 && (punct(t, i - 1, '(') || punct(t, i - 1, ',')) => {
                            self.slot(i + 1, Position::Relation)?;
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `TABLE(name)` is a table argument; a call or a query inside is checked elsewhere.
    fn table_argument(&self, i: usize) -> Result<(), Refusal> {
        if let Ok(Some((_, next))) = read_name(self.toks, self.sql, i)
            && punct(self.toks, next, ')')
        {
            return self.slot(i, Position::Relation);
        }
        Ok(())
    }

    /// A name position at `i`. Subqueries, `UNNEST`, `LATERAL` and `JSON_TABLE` are not names;
    /// what is inside them is found by `scan`.
    fn slot(&self, i: usize, position: Position) -> Result<(), Refusal> {
        let t = self.toks;
        let mut k = i;
        if kw(t, k, "IF") && (kw(t, k + 1, "NOT") || kw(t, k + 1, "EXISTS")) {
            k += 1;
            if kw(t, k, "NOT") {
                k += 1;
            }
            if kw(t, k, "EXISTS") {
                k += 1;
            }
        }
        if position == Position::Relation {
            while punct(t, k, '(') {
                k += 1;
            }
            if starts_query(t, k) {
                return Ok(());
            }
            let special = ["UNNEST", "LATERAL", "JSON_TABLE"];
            if special.iter().any(|w| kw(t, k, w)) && punct(t, k + 1, '(') {
                return Ok(());
            }
        }
        let Some(first) = t.get(k) else {
            return Ok(()); // the statement ends here; Trino will reject it
        };
        let Ok(Some((parts, next))) = read_name(t, self.sql, k) else {
            let shown = self.sql.get(first.start..first.end).unwrap_or("?");
            return Err(Refusal::read_only(format!(
                "Could not read the name at {shown:?}, so its catalog and schema cannot be \
                 checked; access mode {} is limited to {}. Write a plain table name.",
                self.policy.mode,
                self.scope_text()
            )));
        };
        if self.in_scope(&parts, position) {
            Ok(())
        } else {
            Err(self.refuse(&self.text(k, next.saturating_sub(1))))
        }
    }

    fn in_scope(&self, parts: &[NamePart], position: Position) -> bool {
        let scope = &self.policy.scope;
        let (catalog, schema) = match (position, parts) {
            (Position::Relation, [_]) => return true,
            (Position::Column, [_, _]) => return true,
            (Position::Relation, [s, _])
            | (Position::Schema, [s])
            | (Position::Column, [s, _, _]) => (None, Some(s)),
            (Position::Relation, [c, s, _])
            | (Position::Schema, [c, s])
            | (Position::Column, [c, s, _, _]) => (Some(c), Some(s)),
            _ => return false,
        };
        let catalog_ok = match (catalog, &scope.catalog) {
            (None, _) => true,
            (Some(part), Some(conf)) => same(part, conf),
            (Some(_), None) => false,
        };
        let schema_ok = match (schema, &scope.schema) {
            (Some(part), Some(conf)) => same(part, conf),
            _ => true,
        };
        catalog_ok && schema_ok
    }
}

/// Trino lower-cases unquoted identifiers; quoted ones are taken as written.
fn same(part: &NamePart, configured: &str) -> bool {
    if part.quoted {
        part.value == configured
    } else {
        part.value.to_lowercase() == configured.to_lowercase()
    }
}
