//! A lexer for Trino SQL, close to Trino's own `SqlBase.g4` lexer rules.
//!
//! It only has to find token boundaries the way Trino does, so that a keyword inside a
//! string, a quoted identifier or a comment is never seen as a keyword. Where Trino's rules
//! would split text differently from ours (for example `1.5from`), we return an error instead
//! of guessing: an error is a refusal, never an allow.
//!
//! Iterative and linear: every loop moves forward through the input, and searches for a
//! closing delimiter start where the last one ended.

use std::fmt;

/// What a significant token is. Comments and whitespace produce no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An unquoted identifier or keyword. `key` is the upper-case form used to compare with
    /// keywords (see [`keyword_key`]).
    Word { key: String },
    /// A `"..."` identifier; the value has `""` turned into `"`.
    Quoted(String),
    /// A string literal: `'...'`, `U&'...'` or `X'...'`.
    Str,
    /// A numeric literal.
    Num,
    /// Any other single character Trino knows: operators and punctuation.
    Punct(char),
}

/// A token and its byte range in the statement text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The keyword form of a word token, `None` for every other token.
    pub fn key(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word { key } => Some(key),
            _ => None,
        }
    }

    pub fn is_kw(&self, kw: &str) -> bool {
        self.key() == Some(kw)
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }
}

/// Why the text could not be tokenised. Positions are byte offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LexError {
    Nul,
    Unterminated { what: &'static str, at: usize },
    Backquote { at: usize },
    BadChar { ch: char, at: usize },
    BadNumber { at: usize },
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LexError::Nul => write!(f, "the SQL contains a NUL character"),
            LexError::Unterminated { what, at } => {
                write!(f, "unterminated {what} starting at byte {at}")
            }
            LexError::Backquote { at } => write!(
                f,
                "backquoted identifier at byte {at}: Trino does not accept `...`; \
                 quote identifiers with double quotes instead"
            ),
            LexError::BadChar { ch, at } => write!(
                f,
                "unexpected character {ch:?} (U+{:04X}) at byte {at}",
                u32::from(*ch)
            ),
            LexError::BadNumber { at } => write!(
                f,
                "a number at byte {at} runs straight into letters; put a space after the \
                 number, or quote the identifier with double quotes"
            ),
        }
    }
}

/// Punctuation and operator characters Trino's grammar uses. Anything else outside strings,
/// identifiers and comments is an error (Trino reports it as an unrecognised token too).
const PUNCT: &str = "()[]{},.;:+-*/%=<>!|^$?&";

/// Splits `sql` into significant tokens, or says why it cannot.
pub(crate) fn lex(sql: &str) -> Result<Vec<Token>, LexError> {
    if sql.contains('\0') {
        return Err(LexError::Nul);
    }
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = char_at(sql, i) {
        let next = char_at(sql, i + c.len_utf8());
        match c {
            ' ' | '\t' | '\r' | '\n' => i += 1,
            '-' if next == Some('-') => {
                // Trino ends a line comment at `\r` or `\n`.
                i = match find_from(sql, i + 2, &['\r', '\n']) {
                    Some(p) => p,
                    None => sql.len(),
                };
            }
            '/' if next == Some('*') => {
                // Block comments do not nest: the first `*/` ends it.
                let body = i + 2;
                match sql.get(body..).and_then(|rest| rest.find("*/")) {
                    Some(p) => i = body + p + 2,
                    None => {
                        return Err(LexError::Unterminated {
                            what: "block comment",
                            at: i,
                        });
                    }
                }
            }
            '\'' => {
                let end = quoted_end(sql, i + 1, b'\'', true).ok_or(LexError::Unterminated {
                    what: "string literal",
                    at: i,
                })?;
                out.push(tok(Tok::Str, i, end));
                i = end;
            }
            '"' => {
                let end = quoted_end(sql, i + 1, b'"', true).ok_or(LexError::Unterminated {
                    what: "quoted identifier",
                    at: i,
                })?;
                let inner = sql.get(i + 1..end - 1).unwrap_or("");
                out.push(tok(Tok::Quoted(inner.replace("\"\"", "\"")), i, end));
                i = end;
            }
            '`' => return Err(LexError::Backquote { at: i }),
            'x' | 'X' if next == Some('\'') => {
                // Binary literal: no `''` escape inside, the first `'` ends it.
                let end = quoted_end(sql, i + 2, b'\'', false).ok_or(LexError::Unterminated {
                    what: "binary literal",
                    at: i,
                })?;
                out.push(tok(Tok::Str, i, end));
                i = end;
            }
            'u' | 'U' if next == Some('&') && bytes.get(i + 2) == Some(&b'\'') => {
                let end = quoted_end(sql, i + 3, b'\'', true).ok_or(LexError::Unterminated {
                    what: "Unicode string literal",
                    at: i,
                })?;
                out.push(tok(Tok::Str, i, end));
                i = end;
            }
            '0'..='9' => {
                let end = number_end(sql, i)?;
                out.push(tok(Tok::Num, i, end));
                i = end;
            }
            '.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                let end = number_end(sql, i)?;
                out.push(tok(Tok::Num, i, end));
                i = end;
            }
            c if c == '_' || c.is_alphabetic() => {
                let mut end = i;
                while let Some(w) = char_at(sql, end) {
                    if w == '_' || w.is_alphanumeric() {
                        end += w.len_utf8();
                    } else {
                        break;
                    }
                }
                let text = sql.get(i..end).unwrap_or("");
                out.push(tok(
                    Tok::Word {
                        key: keyword_key(text),
                    },
                    i,
                    end,
                ));
                i = end;
            }
            c if PUNCT.contains(c) => {
                out.push(tok(Tok::Punct(c), i, i + 1));
                i += 1;
            }
            other => return Err(LexError::BadChar { ch: other, at: i }),
        }
    }
    Ok(out)
}

fn tok(tok: Tok, start: usize, end: usize) -> Token {
    Token { tok, start, end }
}

fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..).and_then(|rest| rest.chars().next())
}

fn find_from(s: &str, from: usize, pat: &[char]) -> Option<usize> {
    s.get(from..)
        .and_then(|rest| rest.find(pat))
        .map(|p| from + p)
}

/// End (exclusive) of a literal whose body starts at `from` and is closed by `quote`.
/// With `doubling`, two quotes in a row stand for one quote and do not close it.
fn quoted_end(s: &str, from: usize, quote: u8, doubling: bool) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = from;
    loop {
        let rest = bytes.get(i..)?;
        let p = rest.iter().position(|b| *b == quote)?;
        let at = i + p;
        if doubling && bytes.get(at + 1) == Some(&quote) {
            i = at + 2;
        } else {
            return Some(at + 1);
        }
    }
}

/// End of a numeric literal starting at `start` (a digit, or `.` followed by a digit).
///
/// Trino lexes `1e5x` as one bad identifier but `1.5x` as `1.5` then `x`; rather than mirror
/// every case, a number followed directly by a letter, digit or `_` is an error.
fn number_end(s: &str, start: usize) -> Result<usize, LexError> {
    let bytes = s.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = start;
    if bytes.get(i) != Some(&b'.') {
        // A run of ASCII letters, digits and `_` after a leading digit is one Trino token
        // (a number, or an identifier starting with a digit, which Trino rejects).
        while bytes.get(i).is_some_and(|b| is_word(*b)) {
            i += 1;
        }
        let run = s.get(start..i).unwrap_or("");
        let plain = run.bytes().all(|b| b.is_ascii_digit() || b == b'_');
        if !plain || bytes.get(i) != Some(&b'.') {
            return finish_number(s, i, start);
        }
    }
    // A fraction: `.` then digits, then an optional exponent.
    i += 1;
    // Digits, with single `_` between digits.
    loop {
        match bytes.get(i) {
            Some(b) if b.is_ascii_digit() => i += 1,
            Some(b'_') if bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()) => i += 2,
            _ => break,
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(|b| b.is_ascii_digit()) {
            while bytes.get(j).is_some_and(|b| b.is_ascii_digit()) {
                j += 1;
            }
            i = j;
        }
    }
    finish_number(s, i, start)
}

fn finish_number(s: &str, end: usize, start: usize) -> Result<usize, LexError> {
    match char_at(s, end) {
        Some(c) if c == '_' || c.is_alphanumeric() => Err(LexError::BadNumber { at: start }),
        _ => Ok(end),
    }
}

/// The form of a word used to compare it with keywords: ASCII upper case, and any other
/// letter whose Unicode case mapping is a single ASCII letter is folded to that letter.
///
/// Trino matches keywords on ASCII letters only, but older releases upper-cased with Java's
/// `Character.toUpperCase`, which turns `ı` into `I` and `ſ` into `S`. Folding the same way
/// means a word that Trino might read as a keyword is treated as that keyword here, which can
/// only make the verdict stricter.
pub(crate) fn keyword_key(word: &str) -> String {
    word.chars().map(fold_char).collect()
}

fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    one_ascii(c.to_uppercase())
        .or_else(|| one_ascii(c.to_lowercase()))
        .unwrap_or(c)
}

/// The upper-case ASCII letter a case mapping yields, if it yields exactly one ASCII char.
fn one_ascii(mut mapped: impl Iterator<Item = char>) -> Option<char> {
    match (mapped.next(), mapped.next()) {
        (Some(a), None) if a.is_ascii() => Some(a.to_ascii_uppercase()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<Tok> {
        match lex(sql) {
            Ok(t) => t.into_iter().map(|t| t.tok).collect(),
            Err(e) => panic!("lex error for {sql:?}: {e}"),
        }
    }

    fn word(k: &str) -> Tok {
        Tok::Word { key: k.to_string() }
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            kinds("SELECT 'it''s; DROP' x"),
            vec![word("SELECT"), Tok::Str, word("X")]
        );
        assert_eq!(kinds("U&'\\0044ROP'"), vec![Tok::Str]);
        assert_eq!(
            kinds("u&'a' UESCAPE '!'"),
            vec![Tok::Str, word("UESCAPE"), Tok::Str]
        );
        // Binary literals have no `''` escape: this is two literals.
        assert_eq!(kinds("X'ab''cd'"), vec![Tok::Str, Tok::Str]);
        assert_eq!(kinds("ax'1'"), vec![word("AX"), Tok::Str]);
    }

    #[test]
    fn quoted_identifiers() {
        assert_eq!(
            kinds(r#""a""b" "DELETE""#),
            vec![Tok::Quoted("a\"b".into()), Tok::Quoted("DELETE".into())]
        );
        assert_eq!(kinds(r#""""#), vec![Tok::Quoted(String::new())]);
    }

    #[test]
    fn comments_are_dropped_and_do_not_nest() {
        assert_eq!(kinds("/* a /* b */ 1"), vec![Tok::Num]);
        assert_eq!(kinds("1 -- x ; DROP\n2"), vec![Tok::Num, Tok::Num]);
        assert_eq!(kinds("1 --x\r2"), vec![Tok::Num, Tok::Num]);
        assert_eq!(kinds("1 -- no newline"), vec![Tok::Num]);
        assert_eq!(kinds("/*/ x */"), vec![]);
        assert_eq!(
            kinds("a-/**/-b"),
            vec![word("A"), Tok::Punct('-'), Tok::Punct('-'), word("B")]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(lex("a\0b"), Err(LexError::Nul));
        assert!(matches!(lex("'abc"), Err(LexError::Unterminated { .. })));
        assert!(matches!(lex("'abc''"), Err(LexError::Unterminated { .. })));
        assert!(matches!(lex("\"abc"), Err(LexError::Unterminated { .. })));
        assert!(matches!(
            lex("/* abc *"),
            Err(LexError::Unterminated { .. })
        ));
        assert!(matches!(lex("X'ab"), Err(LexError::Unterminated { .. })));
        assert!(matches!(lex("`a`"), Err(LexError::Backquote { at: 0 })));
        assert!(matches!(
            lex("SELECT 1\u{FF1B}"),
            Err(LexError::BadChar { .. })
        ));
        assert!(matches!(
            lex("SELECT\u{A0}1"),
            Err(LexError::BadChar { .. })
        ));
        assert!(matches!(lex("a # b"), Err(LexError::BadChar { .. })));
        assert!(matches!(lex("a \\ b"), Err(LexError::BadChar { .. })));
    }

    #[test]
    fn numbers() {
        for ok in [
            "1", "1_000", "1.5", "1.", ".5", "1e5", "1.5E-3", "0x1F", "0b101", "1e",
        ] {
            assert_eq!(kinds(ok), vec![Tok::Num], "{ok}");
        }
        assert_eq!(kinds("1.2.3"), vec![Tok::Num, Tok::Num]);
        assert_eq!(kinds("a.5"), vec![word("A"), Tok::Num]);
        assert_eq!(kinds("1e+5"), vec![Tok::Num, Tok::Punct('+'), Tok::Num]);
        for bad in ["1.5from", ".5x", "1.5e", "1.5_", "1é"] {
            assert!(matches!(lex(bad), Err(LexError::BadNumber { .. })), "{bad}");
        }
    }

    #[test]
    fn keyword_folding() {
        assert_eq!(keyword_key("select"), "SELECT");
        // Dotless i upper-cases to I; long s to S; Kelvin sign lower-cases to k.
        assert_eq!(keyword_key("\u{131}nsert"), "INSERT");
        assert_eq!(keyword_key("\u{17F}elect"), "SELECT");
        assert_eq!(keyword_key("\u{212A}ey"), "KEY");
        // Cyrillic look-alikes stay what they are.
        assert_ne!(keyword_key("D\u{415}LETE"), "DELETE");
        // Unicode letters are allowed in words; `ß` has no one-letter ASCII mapping.
        assert_eq!(kinds("größe"), vec![word("GRößE")]);
    }

    #[test]
    fn spans() {
        let toks = lex("  SELECT \"a\" -- c").unwrap_or_default();
        let spans: Vec<(usize, usize)> = toks.iter().map(|t| (t.start, t.end)).collect();
        assert_eq!(spans, vec![(2, 8), (9, 12)]);
    }
}
