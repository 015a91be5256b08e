//! Compact JSON written straight into a `String`, and the layout of the `json` text format.
//!
//! The writer produces what `serde_json::to_string` does for a `Value`, but appends to an
//! existing buffer without intermediate allocations, and walks nested values with an
//! explicit stack so no input depth can exhaust the call stack.

use serde_json::{Number, Value};
use std::fmt::Write;

use super::types::Shape;

/// Append `value` as compact JSON.
pub fn write_value(out: &mut String, value: &Value) {
    enum Frame<'a> {
        Array(std::slice::Iter<'a, Value>),
        Object(serde_json::map::Iter<'a>),
    }
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut next = Some(value);
    loop {
        if let Some(v) = next.take() {
            match v {
                Value::Null => out.push_str("null"),
                Value::Bool(true) => out.push_str("true"),
                Value::Bool(false) => out.push_str("false"),
                Value::Number(n) => write_number(out, n),
                Value::String(s) => write_str(out, s),
                Value::Array(items) => {
                    out.push('[');
                    let mut it = items.iter();
                    next = it.next();
                    if next.is_none() {
                        out.push(']');
                    } else {
                        stack.push(Frame::Array(it));
                    }
                    continue;
                }
                Value::Object(map) => {
                    out.push('{');
                    let mut it = map.iter();
                    if let Some((k, v)) = it.next() {
                        write_str(out, k);
                        out.push(':');
                        next = Some(v);
                        stack.push(Frame::Object(it));
                    } else {
                        out.push('}');
                    }
                    continue;
                }
            }
        }
        // The current value is done: move to the next sibling, closing finished containers.
        match stack.last_mut() {
            None => return,
            Some(Frame::Array(it)) => match it.next() {
                Some(v) => {
                    out.push(',');
                    next = Some(v);
                }
                None => {
                    out.push(']');
                    stack.pop();
                }
            },
            Some(Frame::Object(it)) => match it.next() {
                Some((k, v)) => {
                    out.push(',');
                    write_str(out, k);
                    out.push(':');
                    next = Some(v);
                }
                None => {
                    out.push('}');
                    stack.pop();
                }
            },
        }
    }
}

/// Append `value` as compact JSON, shaped as `shape` says (`None`: as it is).
pub fn write_cell(out: &mut String, value: &Value, shape: Option<&Shape>) {
    match shape {
        None | Some(Shape::Keep) => write_value(out, value),
        Some(shape) => write_shaped(out, value, shape),
    }
}

/// What `Shape::apply` followed by `write_value` writes, without building the objects.
/// Recursion follows the shape, whose depth the type parser bounds.
fn write_shaped(out: &mut String, value: &Value, shape: &Shape) {
    match (shape, value) {
        (Shape::Array(inner), Value::Array(items)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_shaped(out, item, inner);
            }
            out.push(']');
        }
        (Shape::Map(inner), Value::Object(entries)) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write_shaped(out, v, inner);
            }
            out.push('}');
        }
        (Shape::Tuple(fields), Value::Array(items)) if items.len() == fields.len() => {
            out.push('[');
            for (i, (field, item)) in fields.iter().zip(items).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_shaped(out, item, field);
            }
            out.push(']');
        }
        (Shape::Object(fields), Value::Array(items)) if items.len() == fields.len() => {
            out.push('{');
            for (i, ((key, field), item)) in fields.iter().zip(items).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, key);
                out.push(':');
                write_shaped(out, item, field);
            }
            out.push('}');
        }
        // `Keep`, or a value that does not match its type: as it is.
        _ => write_value(out, value),
    }
}

/// Numbers exactly as serde_json prints them (full 64-bit integers, shortest floats).
pub fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        write_u64(out, u);
    } else if let Some(i) = n.as_i64() {
        out.push('-');
        write_u64(out, i.unsigned_abs());
    } else {
        // Floats are rarer; `Number`'s Display is serde_json's own float formatting.
        let _ = write!(out, "{n}");
    }
}

pub fn write_u64(out: &mut String, mut n: u64) {
    // u64::MAX has 20 digits; fill from the right.
    let mut buf = [0u8; 20];
    let mut len = 0;
    for slot in buf.iter_mut().rev() {
        // `n % 10` is a single digit, so the cast cannot truncate.
        *slot = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in buf.get(buf.len() - len..).unwrap_or_default() {
        out.push(char::from(b));
    }
}

/// Append `s` as a JSON string literal, escaped as serde_json does.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut run_start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escapes are ASCII, so `i` is a char boundary.
        out.push_str(s.get(run_start..i).unwrap_or_default());
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
        } else {
            out.push_str(escape);
        }
        run_start = i + 1;
    }
    out.push_str(s.get(run_start..).unwrap_or_default());
    out.push('"');
}

/// `{`, the columns line and the opening of `rows`.
pub fn header(out: &mut String, names: &[&str]) {
    out.push_str("{\n  \"columns\": [");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_str(out, name);
    }
    out.push_str("],\n  \"rows\": [");
}

/// One row line; `first` says whether a comma must close the previous one. `shapes` has
/// one entry per column, or none when no column needs shaping.
pub fn row(out: &mut String, cells: &[Value], shapes: &[Shape], first: bool) {
    out.push_str(if first { "\n    [" } else { ",\n    [" });
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_cell(out, cell, shapes.get(i));
    }
    out.push(']');
}

/// Close `rows` and the object.
pub fn tail(out: &mut String, row_count: usize, truncated_by: Option<&str>) {
    out.push_str(if row_count == 0 { "],\n" } else { "\n  ],\n" });
    out.push_str("  \"row_count\": ");
    write_u64(out, row_count as u64);
    out.push_str(",\n  \"truncated\": ");
    match truncated_by {
        Some(by) => {
            out.push_str("true,\n  \"truncated_by\": ");
            write_str(out, by);
        }
        None => out.push_str("false"),
    }
    out.push_str("\n}");
}

#[cfg(test)]
mod tests {
    use super::{write_str, write_value};
    use serde_json::{Value, json};

    fn compact(v: &Value) -> String {
        let mut s = String::new();
        write_value(&mut s, v);
        s
    }

    #[test]
    fn matches_serde_json() {
        let samples = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(9_223_372_036_854_775_807_i64),
            json!(-9_223_372_036_854_775_808_i64),
            json!(18_446_744_073_709_551_615_u64),
            json!(1.5),
            json!(-0.0),
            json!(1e300),
            json!(1.0e-7),
            json!(0.1),
            json!("plain"),
            json!("q\"b\\n\nr\rt\tb\u{8}f\u{c}z\u{0}\u{1f}\u{7f}é😀"),
            json!([]),
            json!({}),
            json!([1, [2, [3, []]], {"a": [{}], "b": {"c": null}}]),
            json!({"k\"": "v", "": [null, "x"]}),
        ];
        for v in samples {
            assert_eq!(compact(&v), serde_json::to_string(&v).unwrap_or_default());
        }
    }

    #[test]
    fn every_control_char_escapes_like_serde_json() {
        for b in 0u8..0x80 {
            let s = char::from(b).to_string();
            let mut ours = String::new();
            write_str(&mut ours, &s);
            assert_eq!(ours, serde_json::to_string(&s).unwrap_or_default(), "{b}");
        }
    }

    #[test]
    fn deep_values_do_not_overflow_the_stack() {
        const DEPTH: usize = 100_000;
        let mut v = json!(1);
        for _ in 0..DEPTH {
            v = Value::Array(vec![v]);
        }
        let s = compact(&v);
        assert_eq!(s, format!("{}1{}", "[".repeat(DEPTH), "]".repeat(DEPTH)));
        // Dropping is recursive in serde_json; unwrap iteratively to keep the test safe.
        let mut pending = vec![v];
        while let Some(v) = pending.pop() {
            if let Value::Array(items) = v {
                pending.extend(items);
            }
        }
    }
}
