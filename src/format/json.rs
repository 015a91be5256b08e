//! Compact JSON written straight into a `String`, and the layout of the `json` text format.
//!
//! The writer produces what `serde_json::to_string` does for a `Value`, but appends to an
//! existing buffer without intermediate allocations. Nesting is written by recursion up to
//! `RECURSION_LIMIT` levels and on an explicit stack below that, so that no input depth can
//! exhaust the call stack and the common shallow cell allocates nothing.

use serde_json::{Number, Value};

use super::types::Shape;

/// Levels of nesting written by recursion; deeper values go on to `write_deep`.
const RECURSION_LIMIT: usize = 32;

/// Append `value` as compact JSON.
pub fn write_value(out: &mut String, value: &Value) {
    write_nested(out, value, 0);
}

fn write_nested(out: &mut String, value: &Value, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) if depth < RECURSION_LIMIT => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_nested(out, item, depth + 1);
            }
            out.push(']');
        }
        Value::Object(map) if depth < RECURSION_LIMIT => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write_nested(out, v, depth + 1);
            }
            out.push('}');
        }
        Value::Array(_) | Value::Object(_) => write_deep(out, value),
    }
}

/// `write_value` with an explicit stack instead of recursion, for any depth.
fn write_deep(out: &mut String, value: &Value) {
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

/// Numbers exactly as serde_json prints them: itoa for integers, zmij for floats, the crates
/// serde_json itself uses (a `Number` is always finite).
pub fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        write_u64(out, u);
    } else if let Some(i) = n.as_i64() {
        out.push_str(itoa::Buffer::new().format(i));
    } else if let Some(f) = n.as_f64() {
        out.push_str(zmij::Buffer::new().format_finite(f));
    } else {
        // Not reachable without serde_json's `arbitrary_precision`; its Display is exact.
        out.push_str(&n.to_string());
    }
}

pub fn write_u64(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// What follows the backslash for each byte that JSON escapes: `u` for `\u00XX`, 0 for none.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Append `s` as a JSON string literal, escaped as serde_json does.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut run_start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let escape = ESCAPE[usize::from(b)];
        if escape == 0 {
            continue;
        }
        // Escaped bytes are ASCII, so `i` is a char boundary.
        out.push_str(s.get(run_start..i).unwrap_or_default());
        out.push('\\');
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push(char::from(escape));
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
    use proptest::prelude::*;
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

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            // Every f64 class: subnormals, huge exponents, negative zero (NaN and infinities
            // cannot be a JSON number).
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        #[test]
        fn any_value_writes_as_serde_json_does(v in any_value()) {
            prop_assert_eq!(compact(&v), serde_json::to_string(&v).unwrap_or_default());
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
    fn values_around_the_recursion_limit_match_serde_json() {
        for depth in [
            super::RECURSION_LIMIT - 1,
            super::RECURSION_LIMIT,
            super::RECURSION_LIMIT + 1,
            100,
        ] {
            let mut v = json!({"k": [1, "x"], "e": {}});
            for i in 0..depth {
                v = if i % 2 == 0 {
                    json!([v, null])
                } else {
                    json!({"a": v, "b": []})
                };
            }
            assert_eq!(
                compact(&v),
                serde_json::to_string(&v).unwrap_or_default(),
                "{depth}"
            );
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
