//! The `csv` text format: RFC 4180 with a header row and `\n` line ends.
//!
//! NULL is an empty field and the empty string is `""`, so the two stay distinct. Strings
//! are written raw; other values as compact JSON (`[1,2]`, `{"a":1}`, `true`, `1.5`).

use serde_json::Value;

use super::json::{write_cell, write_number};
use super::types::Shape;

/// Append one field, quoted only when it must be: it contains `,` `"` CR or LF, starts or
/// ends with whitespace (which readers often trim), or is the empty string.
pub fn field(out: &mut String, s: &str) {
    if !needs_quotes(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    let mut rest = s;
    while let Some(i) = rest.find('"') {
        // `i` is the position of an ASCII quote, a char boundary.
        out.push_str(rest.get(..=i).unwrap_or_default());
        out.push('"');
        rest = rest.get(i + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out.push('"');
}

fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace)
}

pub fn header(out: &mut String, names: &[&str]) {
    if names.is_empty() {
        // No columns (e.g. DDL): no header line, an empty CSV.
        return;
    }
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, name);
    }
    out.push('\n');
}

/// One record; `shapes` as for `json::row`; `scratch` is a reusable buffer for nested values.
pub fn row(out: &mut String, cells: &[Value], shapes: &[Shape], scratch: &mut String) {
    if cells.is_empty() {
        return;
    }
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match cell {
            Value::Null => {}
            Value::String(s) => field(out, s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            // Numbers never contain a character that needs quoting.
            Value::Number(n) => write_number(out, n),
            Value::Array(_) | Value::Object(_) => {
                scratch.clear();
                write_cell(scratch, cell, shapes.get(i));
                field(out, scratch);
            }
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::field;

    fn quoted(s: &str) -> String {
        let mut out = String::new();
        field(&mut out, s);
        out
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quoted("abc"), "abc");
        assert_eq!(quoted("Zürich 😀"), "Zürich 😀");
        assert_eq!(quoted("a b"), "a b");
        assert_eq!(quoted(""), "\"\"");
        assert_eq!(quoted("a,b"), "\"a,b\"");
        assert_eq!(quoted("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quoted("\""), "\"\"\"\"");
        assert_eq!(quoted("l1\nl2"), "\"l1\nl2\"");
        assert_eq!(quoted("l1\r\nl2"), "\"l1\r\nl2\"");
        assert_eq!(quoted(" lead"), "\" lead\"");
        assert_eq!(quoted("trail\t"), "\"trail\t\"");
        assert_eq!(quoted("nbsp\u{a0}"), "\"nbsp\u{a0}\"");
    }
}
