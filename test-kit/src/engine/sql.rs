//! SQL text helpers: tokens with locations, a cursor for the statements the engine parses by
//! hand, and Trino-style syntax errors.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::errors::TrinoError;

/// Statement keywords Trino lists when the first word of a statement is not one.
const STATEMENT_START: &str = "'ALTER', 'ANALYZE', 'CALL', 'COMMENT', 'COMMIT', 'CREATE', 'DEALLOCATE', 'DELETE', \
'DENY', 'DESC', 'DESCRIBE', 'DROP', 'EXECUTE', 'EXPLAIN', 'GRANT', 'INSERT', 'MERGE', 'PREPARE', 'REFRESH', \
'RESET', 'REVOKE', 'ROLLBACK', 'SET', 'SHOW', 'START', 'TRUNCATE', 'UPDATE', 'USE', 'WITH', <query>";

/// A token with its 1-based location and byte range in the SQL text.
#[derive(Debug, Clone)]
pub struct Tok {
    pub token: Token,
    pub line: u32,
    pub col: u32,
    pub start: usize,
    pub end: usize,
}

impl Tok {
    /// The upper-cased word if the token is an unquoted word.
    pub fn keyword(&self) -> Option<String> {
        match &self.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        }
    }

    /// Text as Trino quotes it in `mismatched input '...'`.
    pub fn text(&self, sql: &str) -> String {
        sql.get(self.start..self.end)
            .unwrap_or_default()
            .to_string()
    }
}

/// Maps sqlparser locations (line, char column) to byte offsets.
pub struct LineIndex {
    lines: Vec<usize>,
}

impl LineIndex {
    pub fn new(sql: &str) -> Self {
        let mut lines = vec![0];
        lines.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { lines }
    }

    pub fn offset(&self, sql: &str, loc: Location) -> usize {
        let Some(&line_start) = self.lines.get((loc.line as usize).saturating_sub(1)) else {
            return sql.len();
        };
        let rest = sql.get(line_start..).unwrap_or_default();
        let chars = (loc.column as usize).saturating_sub(1);
        line_start
            + rest
                .char_indices()
                .nth(chars)
                .map(|(i, _)| i)
                .unwrap_or(rest.len())
    }
}

/// Tokens of `sql` without whitespace and comments.
pub fn tokenize(sql: &str) -> Result<Vec<Tok>, TrinoError> {
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| {
            TrinoError::new(
                "SYNTAX_ERROR",
                format!("token recognition error at: '{}'", e.message.trim()),
            )
            .at(
                e.location.line.max(1) as u32,
                e.location.column.max(1) as u32,
            )
        })?;
    let index = LineIndex::new(sql);
    let toks: Vec<Tok> = tokens
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .map(|TokenWithSpan { token, span }| Tok {
            line: span.start.line as u32,
            col: span.start.column as u32,
            start: index.offset(sql, span.start),
            end: index.offset(sql, span.end),
            token,
        })
        .collect();
    digit_identifiers(&toks)?;
    Ok(toks)
}

/// Trino lexes `123abc` (and `1e`) as one DIGIT_IDENTIFIER token and rejects it, where
/// sqlparser reads a number and an alias.
fn digit_identifiers(toks: &[Tok]) -> Result<(), TrinoError> {
    let bad = |t: &Tok| {
        TrinoError::new(
            "SYNTAX_ERROR",
            "identifiers must not start with a digit; surround the identifier with double quotes",
        )
        .at(t.line, t.col)
    };
    for (i, t) in toks.iter().enumerate() {
        match &t.token {
            Token::Word(w)
                if w.quote_style.is_none() && w.value.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                return Err(bad(t));
            }
            Token::Number(n, _) if !n.contains('.') => {
                if let Some(next) = toks.get(i + 1)
                    && next.start == t.end
                    && matches!(&next.token, Token::Word(w) if w.quote_style.is_none())
                {
                    return Err(bad(t));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A cursor over the tokens of one statement.
pub struct Cursor<'a> {
    pub sql: &'a str,
    pub toks: Vec<Tok>,
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(sql: &'a str, toks: Vec<Tok>) -> Self {
        Cursor { sql, toks, pos: 0 }
    }

    pub fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    pub fn peek_keyword(&self) -> Option<String> {
        self.peek().and_then(Tok::keyword)
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    /// Consumes the keyword (case-insensitive) if it is next.
    pub fn keyword(&mut self, kw: &str) -> bool {
        if self.peek_keyword().as_deref() == Some(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the keywords if all of them follow.
    pub fn keywords(&mut self, kws: &[&str]) -> bool {
        let ok = kws.iter().enumerate().all(|(i, kw)| {
            self.toks
                .get(self.pos + i)
                .and_then(Tok::keyword)
                .as_deref()
                == Some(*kw)
        });
        if ok {
            self.pos += kws.len();
        }
        ok
    }

    pub fn expect_keyword(&mut self, kw: &str) -> Result<(), TrinoError> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(self.error(&format!("'{kw}'")))
        }
    }

    pub fn token(&mut self, t: &Token) -> bool {
        if self.peek().map(|x| &x.token) == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect_token(&mut self, t: &Token, what: &str) -> Result<(), TrinoError> {
        if self.token(t) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// An identifier (lower-cased like Trino's names) and its location.
    pub fn identifier(&mut self) -> Result<(String, (u32, u32)), TrinoError> {
        match self.peek() {
            Some(Tok {
                token: Token::Word(w),
                line,
                col,
                ..
            }) => {
                let out = (w.value.to_lowercase(), (*line, *col));
                self.pos += 1;
                Ok(out)
            }
            _ => Err(self.error("<identifier>")),
        }
    }

    /// A dotted name; returns the parts and the location of its first part.
    pub fn qualified_name(&mut self) -> Result<(Vec<String>, (u32, u32)), TrinoError> {
        let (first, loc) = self.identifier()?;
        let mut parts = vec![first];
        while self.token(&Token::Period) {
            parts.push(self.identifier()?.0);
        }
        Ok((parts, loc))
    }

    pub fn string(&mut self) -> Result<String, TrinoError> {
        match self.peek() {
            Some(Tok {
                token: Token::SingleQuotedString(s),
                ..
            }) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.error("<string>")),
        }
    }

    /// Location of the statement's first token: Trino reports errors about the statement as a
    /// whole (e.g. an unknown catalog in `SHOW SCHEMAS FROM x`) there.
    pub fn statement_location(&self) -> (u32, u32) {
        self.toks.first().map(|t| (t.line, t.col)).unwrap_or((1, 1))
    }

    /// Location of the next token (or the end of the text).
    pub fn location(&self) -> (u32, u32) {
        match self.peek() {
            Some(t) => (t.line, t.col),
            None => end_location(self.sql),
        }
    }

    /// Byte offset where the next token starts.
    pub fn offset(&self) -> usize {
        self.peek().map(|t| t.start).unwrap_or(self.sql.len())
    }

    /// `mismatched input` at the next token.
    pub fn error(&self, expecting: &str) -> TrinoError {
        let (line, col) = self.location();
        let input = self
            .peek()
            .map(|t| t.text(self.sql))
            .unwrap_or_else(|| "<EOF>".into());
        TrinoError::new(
            "SYNTAX_ERROR",
            format!("mismatched input '{input}'. Expecting: {expecting}"),
        )
        .at(line, col)
    }

    pub fn expect_end(&self) -> Result<(), TrinoError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error("<EOF>"))
        }
    }
}

/// The location just past the last character, where Trino reports `<EOF>`.
pub fn end_location(sql: &str) -> (u32, u32) {
    let line = sql.matches('\n').count() as u32 + 1;
    let last = sql.rsplit('\n').next().unwrap_or_default();
    (line, last.chars().count() as u32 + 1)
}

/// The error for a statement whose first word starts no Trino statement.
pub fn unknown_statement(cursor: &Cursor) -> TrinoError {
    cursor.error(STATEMENT_START)
}

/// Converts a sqlparser error message into Trino's syntax error, located where sqlparser
/// stopped (messages end with `at Line: L, Column: C`).
pub fn parser_error(sql: &str, message: &str) -> TrinoError {
    let loc = message.rfind("Line: ").and_then(|i| {
        let rest = &message[i + 6..];
        let (line, rest) = rest.split_once(", Column: ")?;
        let col: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        Some((line.trim().parse::<u32>().ok()?, col.parse::<u32>().ok()?))
    });
    let body = message.split(" at Line: ").next().unwrap_or(message);
    let body = body.trim_start_matches("sql parser error: ");
    let (expected, found) = match body.split_once(", found: ") {
        Some((e, f)) => (
            e.trim_start_matches("Expected: ").to_string(),
            f.trim().to_string(),
        ),
        None => (String::new(), String::new()),
    };
    let (line, col) = loc.unwrap_or((1, 1));
    if found.is_empty() {
        if message.contains("recursion limit") {
            return TrinoError::new("SYNTAX_ERROR", "Statement is too deeply nested").at(1, 1);
        }
        return TrinoError::new("SYNTAX_ERROR", body.to_string()).at(line, col);
    }
    let (input, (line, col)) = if found == "EOF" {
        ("<EOF>".to_string(), end_location(sql))
    } else {
        (found.clone(), (line, col))
    };
    let expecting = match expected.as_str() {
        "end of statement" => "<EOF>".to_string(),
        "an expression" => "<expression>".to_string(),
        "identifier" => "<identifier>".to_string(),
        e if e.starts_with('(') || e.starts_with(')') || e.len() == 1 => format!("'{e}'"),
        e => e.to_string(),
    };
    TrinoError::new(
        "SYNTAX_ERROR",
        format!("mismatched input '{input}'. Expecting: {expecting}"),
    )
    .at(line, col)
}

/// Shifts a location found in a sub-statement (text starting at `base`) into the full text.
pub fn shift(err: TrinoError, base: (u32, u32)) -> TrinoError {
    match err.location {
        Some((1, c)) => TrinoError {
            location: Some((base.0, base.1 + c - 1)),
            ..err
        },
        Some((l, c)) => TrinoError {
            location: Some((base.0 + l - 1, c)),
            ..err
        },
        None => err,
    }
}

/// SQL LIKE with `%` and `_` and an optional escape character; case-sensitive like Trino.
pub fn like(value: &str, pattern: &str, escape: Option<char>) -> bool {
    let v: Vec<char> = value.chars().collect();
    let mut p = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            if let Some(n) = chars.next() {
                p.push((n, true));
            }
        } else {
            p.push((c, false));
        }
    }
    // Iterative matcher with backtracking on the last `%`.
    let (mut i, mut j) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while i < v.len() {
        if j < p.len() && !p[j].1 && p[j].0 == '%' {
            star = Some(j);
            mark = i;
            j += 1;
        } else if j < p.len() && ((!p[j].1 && p[j].0 == '_') || p[j].0 == v[i]) {
            i += 1;
            j += 1;
        } else if let Some(s) = star {
            j = s + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    while j < p.len() && !p[j].1 && p[j].0 == '%' {
        j += 1;
    }
    j == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_like_sql() {
        assert!(like("nation", "n%", None));
        assert!(like("nation", "%tio_", None));
        assert!(!like("Nation", "n%", None));
        assert!(like("a_b", "a\\_b", Some('\\')));
        assert!(!like("axb", "a\\_b", Some('\\')));
    }

    #[test]
    fn tokens_have_byte_offsets() {
        let sql = "SELECT 'é', x\nFROM t";
        let toks = tokenize(sql).unwrap();
        let from = toks
            .iter()
            .find(|t| t.keyword().as_deref() == Some("FROM"))
            .unwrap();
        assert_eq!((from.line, from.col), (2, 1));
        assert_eq!(&sql[from.start..from.end], "FROM");
    }

    #[test]
    fn identifiers_starting_with_a_digit_are_errors_as_in_trino() {
        for bad in [
            "SELECT 123abc",
            "SELECT 1e",
            "SELECT 1 AS 2x",
            "SELECT 1e5x",
        ] {
            let e = tokenize(bad).map(|_| ()).expect_err(bad);
            assert_eq!(e.name, "SYNTAX_ERROR", "{bad}");
        }
        for ok in [
            "SELECT 123 abc",
            "SELECT 1.5x",
            "SELECT 1e5",
            "SELECT 12 AS x",
            "SELECT \"1x\"",
            "SELECT 0x1F",
        ] {
            assert!(tokenize(ok).is_ok(), "{ok}");
        }
    }
}
