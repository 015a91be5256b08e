//! The `markdown` text format: a GitHub-flavoured table.
//!
//! Every cell (header too) escapes `|` as `\|` and turns line breaks into `<br>`, so a row
//! is always one line with exactly one unescaped `|` per cell boundary. NULL shows as
//! `NULL`, strings raw, other values as compact JSON.

use serde_json::Value;

use super::json::{write_cell, write_number};
use super::types::Shape;

/// Append `s` with `|` escaped and `\r\n`, `\n`, `\r` as `<br>`.
pub fn cell(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    // Most cells have nothing to escape: one scan, one copy.
    if !bytes.iter().any(|b| matches!(b, b'|' | b'\r' | b'\n')) {
        out.push_str(s);
        return;
    }
    let mut run_start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let (escape, width) = match b {
            b'|' => ("\\|", 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => ("<br>", 2),
            b'\r' | b'\n' => ("<br>", 1),
            _ => {
                i += 1;
                continue;
            }
        };
        // `i` points at an ASCII byte, a char boundary.
        out.push_str(s.get(run_start..i).unwrap_or_default());
        out.push_str(escape);
        i += width;
        run_start = i;
    }
    out.push_str(s.get(run_start..).unwrap_or_default());
}

/// Header line and separator line (dashes as wide as each header cell plus its two spaces).
pub fn header(out: &mut String, names: &[&str]) {
    if names.is_empty() {
        // No columns (e.g. DDL): no table; the summary line says what happened.
        return;
    }
    let mut widths = Vec::with_capacity(names.len());
    out.push('|');
    for name in names {
        out.push(' ');
        let start = out.len();
        cell(out, name);
        widths.push(out.get(start..).map_or(0, |c| c.chars().count()));
        out.push_str(" |");
    }
    out.push_str("\n|");
    for w in widths {
        for _ in 0..w + 2 {
            out.push('-');
        }
        out.push('|');
    }
    out.push('\n');
}

/// One table line; `shapes` as for `json::row`; `scratch` is a reusable buffer for nested
/// values.
pub fn row(out: &mut String, cells: &[Value], shapes: &[Shape], scratch: &mut String) {
    if cells.is_empty() {
        return;
    }
    out.push('|');
    for (i, c) in cells.iter().enumerate() {
        out.push(' ');
        match c {
            Value::Null => out.push_str("NULL"),
            Value::String(s) => cell(out, s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => write_number(out, n),
            Value::Array(_) | Value::Object(_) => {
                scratch.clear();
                write_cell(scratch, c, shapes.get(i));
                cell(out, scratch);
            }
        }
        out.push_str(" |");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::cell;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        cell(&mut out, s);
        out
    }

    #[test]
    fn escapes_pipes_and_line_breaks() {
        assert_eq!(escaped("plain"), "plain");
        assert_eq!(escaped("a|b"), "a\\|b");
        assert_eq!(escaped("||"), "\\|\\|");
        assert_eq!(escaped("l1\nl2"), "l1<br>l2");
        assert_eq!(escaped("l1\r\nl2"), "l1<br>l2");
        assert_eq!(escaped("l1\rl2"), "l1<br>l2");
        assert_eq!(escaped("\n\n"), "<br><br>");
        assert_eq!(escaped("\r\r\n"), "<br><br>");
        assert_eq!(escaped("é|😀\n"), "é\\|😀<br>");
        assert_eq!(escaped(""), "");
    }
}
