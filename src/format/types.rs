//! Trino type text, read just far enough to turn `row` values into objects.
//!
//! Trino sends a `row` value as a JSON array; its field names are only in the column type
//! (`row(a bigint, b varchar)`). We parse the type text once per column into a [`Shape`] and
//! apply it to every value of that column. The parser never panics; text it cannot read
//! gives [`Shape::Keep`] (values are left as Trino sent them).

use serde_json::{Map, Value};

use super::keys::unique_keys;

/// Types nested deeper than this are left unshaped; it also bounds the recursion of
/// the parser and of [`Shape::apply`].
pub const MAX_DEPTH: usize = 64;

/// What to do with the values of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// Leave the value as it is.
    Keep,
    /// `array(T)`: shape each element.
    Array(Box<Shape>),
    /// `map(K, V)`: shape each value (keys are always strings on the wire).
    Map(Box<Shape>),
    /// `row(...)` with at least one named field: the array becomes an object with these
    /// keys (unique; an anonymous field in a mixed row gets `_col{i}`).
    Object(Vec<(String, Shape)>),
    /// `row(...)` with anonymous fields only: stays an array, fields may need shaping.
    Tuple(Vec<Shape>),
}

impl Shape {
    /// The shape for a column's type text; `Keep` when nothing needs doing or the text
    /// cannot be parsed.
    pub fn for_type(type_text: &str) -> Shape {
        let mut p = Parser {
            s: type_text.as_bytes(),
            pos: 0,
        };
        let Some(ty) = p.parse_type(0) else {
            return Shape::Keep;
        };
        p.skip_ws();
        if p.pos != p.s.len() {
            return Shape::Keep;
        }
        ty
    }

    pub fn is_keep(&self) -> bool {
        matches!(self, Shape::Keep)
    }

    /// Reshape `value` in place. Values that do not match the type (a row array of the
    /// wrong length, a scalar where an array was expected) are left as they are.
    pub fn apply(&self, value: &mut Value) {
        match (self, value) {
            (Shape::Keep, _) => {}
            (Shape::Array(inner), Value::Array(items)) => {
                for item in items {
                    inner.apply(item);
                }
            }
            (Shape::Map(inner), Value::Object(entries)) => {
                for (_, v) in entries.iter_mut() {
                    inner.apply(v);
                }
            }
            (Shape::Tuple(fields), Value::Array(items)) if items.len() == fields.len() => {
                for (shape, item) in fields.iter().zip(items.iter_mut()) {
                    shape.apply(item);
                }
            }
            (Shape::Object(fields), value @ Value::Array(_)) => {
                let Value::Array(items) = value else { return };
                if items.len() != fields.len() {
                    return;
                }
                let mut object = Map::with_capacity(fields.len());
                for ((key, shape), mut item) in fields.iter().zip(std::mem::take(items)) {
                    shape.apply(&mut item);
                    object.insert(key.clone(), item);
                }
                *value = Value::Object(object);
            }
            _ => {}
        }
    }
}

/// Keywords that continue a multi-word type name, so that the anonymous field
/// `interval day to second` is not read as a field `interval` of type `day to second`.
const MULTI_WORD_HEADS: [&str; 4] = ["timestamp", "time", "interval", "double"];
const MULTI_WORD_TAILS: [&str; 10] = [
    "with",
    "without",
    "to",
    "day",
    "year",
    "month",
    "hour",
    "minute",
    "second",
    "precision",
];

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    /// An unquoted word: letters, digits, `_`.
    fn word(&mut self) -> &[u8] {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or_default()
    }

    /// A `"quoted"` name with `""` for a quote; the opening quote is at `pos`.
    fn quoted(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                b'"' if self.s.get(self.pos + 1) == Some(&b'"') => {
                    out.push(b'"');
                    self.pos += 2;
                }
                b'"' => {
                    self.pos += 1;
                    return String::from_utf8(out).ok();
                }
                b => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    /// Skip the rest of a type we do not need to understand (`(10, 2)`, `(3) with time
    /// zone`, ` day to second`): up to a `,` or `)` outside parentheses. Iterative, so
    /// it also serves for types nested beyond `MAX_DEPTH`.
    fn skip_rest(&mut self) -> Option<()> {
        let mut depth = 0usize;
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    self.quoted()?;
                    continue;
                }
                b'(' => depth += 1,
                b')' if depth == 0 => return Some(()),
                b')' => depth -= 1,
                b',' if depth == 0 => return Some(()),
                _ => {}
            }
            self.pos += 1;
        }
        (depth == 0).then_some(())
    }

    fn parse_type(&mut self, depth: usize) -> Option<Shape> {
        self.skip_ws();
        let name = self.word();
        if name.is_empty() {
            return None;
        }
        if depth >= MAX_DEPTH {
            self.skip_rest()?;
            return Some(Shape::Keep);
        }
        let shape = if name.eq_ignore_ascii_case(b"array") {
            self.eat(b'(')?;
            let inner = self.parse_type(depth + 1)?;
            self.eat(b')')?;
            if inner.is_keep() {
                Shape::Keep
            } else {
                Shape::Array(Box::new(inner))
            }
        } else if name.eq_ignore_ascii_case(b"map") {
            self.eat(b'(')?;
            self.parse_type(depth + 1)?;
            self.eat(b',')?;
            let value = self.parse_type(depth + 1)?;
            self.eat(b')')?;
            if value.is_keep() {
                Shape::Keep
            } else {
                Shape::Map(Box::new(value))
            }
        } else if name.eq_ignore_ascii_case(b"row") {
            self.parse_row(depth)?
        } else {
            self.skip_rest()?;
            Shape::Keep
        };
        Some(shape)
    }

    /// `row(` fields `)`, the word `row` already read.
    fn parse_row(&mut self, depth: usize) -> Option<Shape> {
        self.eat(b'(')?;
        let mut names: Vec<Option<String>> = Vec::new();
        let mut shapes = Vec::new();
        loop {
            let (name, shape) = self.parse_field(depth + 1)?;
            names.push(name);
            shapes.push(shape);
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b')' => {
                    self.pos += 1;
                    break;
                }
                _ => return None,
            }
        }
        if names.iter().all(Option::is_none) {
            if shapes.iter().all(Shape::is_keep) {
                return Some(Shape::Keep);
            }
            return Some(Shape::Tuple(shapes));
        }
        let names: Vec<String> = names.into_iter().map(Option::unwrap_or_default).collect();
        let keys = unique_keys(&names);
        Some(Shape::Object(keys.into_iter().zip(shapes).collect()))
    }

    /// One row field: `name type`, `"quoted name" type`, or an anonymous `type`.
    fn parse_field(&mut self, depth: usize) -> Option<(Option<String>, Shape)> {
        self.skip_ws();
        if self.peek() == Some(b'"') {
            let name = self.quoted()?;
            let ty = self.parse_type(depth)?;
            return Some((Some(name), ty));
        }
        let start = self.pos;
        let first = self.word().to_vec();
        let after_first = self.pos;
        let named = match self.peek() {
            Some(b) if b.is_ascii_whitespace() => {
                self.skip_ws();
                let next = self.word();
                let continues_type = MULTI_WORD_HEADS
                    .iter()
                    .any(|h| first.eq_ignore_ascii_case(h.as_bytes()))
                    && MULTI_WORD_TAILS
                        .iter()
                        .any(|t| next.eq_ignore_ascii_case(t.as_bytes()));
                !next.is_empty() && !continues_type
            }
            _ => false,
        };
        if named {
            self.pos = after_first;
            let name = String::from_utf8(first).ok()?;
            let ty = self.parse_type(depth)?;
            Some((Some(name), ty))
        } else {
            self.pos = start;
            Some((None, self.parse_type(depth)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_DEPTH, Shape};
    use crate::format::json::write_cell;
    use serde_json::{Value, json};

    fn shaped(type_text: &str, mut value: Value) -> Value {
        Shape::for_type(type_text).apply(&mut value);
        value
    }

    fn object(fields: &[(&str, Shape)]) -> Shape {
        Shape::Object(
            fields
                .iter()
                .map(|(k, s)| (k.to_string(), s.clone()))
                .collect(),
        )
    }

    #[test]
    fn scalar_types_need_no_shaping() {
        for t in [
            "bigint",
            "varchar",
            "varchar(3)",
            "decimal(10, 2)",
            "decimal(10,2)",
            "timestamp(3) with time zone",
            "timestamp with time zone",
            "time(6)",
            "interval day to second",
            "interval year to month",
            "double precision",
            "qdigest(bigint)",
            "array(bigint)",
            "map(varchar, bigint)",
            "array(array(varchar(10)))",
            "row(bigint, varchar)",
            "unknown",
        ] {
            assert_eq!(Shape::for_type(t), Shape::Keep, "{t}");
        }
    }

    #[test]
    fn named_row_becomes_object() {
        assert_eq!(
            Shape::for_type("row(a bigint, b varchar(3))"),
            object(&[("a", Shape::Keep), ("b", Shape::Keep)])
        );
        assert_eq!(
            shaped("row(a bigint, b varchar)", json!([1, "x"])),
            json!({"a": 1, "b": "x"})
        );
    }

    #[test]
    fn field_types_with_several_words() {
        assert_eq!(
            shaped(
                "row(ts timestamp(3) with time zone, d decimal(10, 2), i interval day to second)",
                json!(["2024-01-01 00:00:00.000 UTC", "1.50", "1 00:00:00.000"])
            ),
            json!({"ts": "2024-01-01 00:00:00.000 UTC", "d": "1.50", "i": "1 00:00:00.000"})
        );
    }

    #[test]
    fn quoted_field_names() {
        assert_eq!(
            shaped(
                r#"row("first name" varchar, "x""y" bigint, "a,b)" double)"#,
                json!(["Ann", 1, 2.5])
            ),
            json!({"first name": "Ann", "x\"y": 1, "a,b)": 2.5})
        );
    }

    #[test]
    fn anonymous_rows_stay_arrays() {
        assert_eq!(
            shaped("row(bigint, varchar)", json!([1, "x"])),
            json!([1, "x"])
        );
        assert_eq!(
            Shape::for_type("row(interval day to second, timestamp(6) with time zone)"),
            Shape::Keep
        );
        assert_eq!(
            shaped("row(bigint, row(a bigint))", json!([1, [2]])),
            json!([1, {"a": 2}])
        );
    }

    #[test]
    fn mixed_and_duplicate_field_names_get_unique_keys() {
        assert_eq!(
            shaped("row(a bigint, varchar, a double)", json!([1, "x", 2.0])),
            json!({"a": 1, "_col1": "x", "a_2": 2.0})
        );
    }

    #[test]
    fn shaping_goes_through_arrays_maps_and_nested_rows() {
        assert_eq!(
            shaped(
                "array(row(x integer, y varchar))",
                json!([[1, "a"], null, [2, "b"]])
            ),
            json!([{"x": 1, "y": "a"}, null, {"x": 2, "y": "b"}])
        );
        assert_eq!(
            shaped(
                "map(varchar, row(n bigint, tags array(row(k varchar))))",
                json!({"p": [1, [["t"]]], "q": null})
            ),
            json!({"p": {"n": 1, "tags": [{"k": "t"}]}, "q": null})
        );
        assert_eq!(
            shaped("row(outer row(inner row(v bigint)))", json!([[[7]]])),
            json!({"outer": {"inner": {"v": 7}}})
        );
    }

    #[test]
    fn field_named_like_a_type_keyword() {
        assert_eq!(
            shaped(
                "row(timestamp bigint, row varchar, map bigint)",
                json!([1, "r", 2])
            ),
            json!({"timestamp": 1, "row": "r", "map": 2})
        );
    }

    #[test]
    fn mismatched_values_are_left_alone() {
        assert_eq!(shaped("row(a bigint, b bigint)", json!([1])), json!([1]));
        assert_eq!(shaped("row(a bigint)", json!("x")), json!("x"));
        assert_eq!(shaped("row(a bigint)", Value::Null), Value::Null);
        assert_eq!(
            shaped("array(row(a bigint))", json!({"k": 1})),
            json!({"k": 1})
        );
    }

    #[test]
    fn text_written_from_raw_values_equals_shaped_values() {
        let cases = [
            ("row(a bigint, b varchar)", json!([1, "x"])),
            ("row(a bigint, b varchar)", json!([1])),
            ("row(a bigint, b varchar)", json!("s")),
            ("row(bigint, row(a bigint))", json!([1, [2]])),
            ("row(bigint, row(a bigint))", json!([1, [2], 3])),
            (
                "array(row(x integer, y varchar))",
                json!([[1, "a"], null, [2]]),
            ),
            (
                "map(varchar, row(n bigint, tags array(row(k varchar))))",
                json!({"p": [1, [["t"], "odd"]], "q": null, "r": 5}),
            ),
            ("row(a bigint, varchar, a double)", json!([1, "x\n\"", 2.5])),
            ("array(row(a bigint))", json!({"k": [1]})),
        ];
        for (t, raw) in cases {
            let shape = Shape::for_type(t);
            let mut direct = String::new();
            write_cell(&mut direct, &raw, Some(&shape));
            let mut via_objects = String::new();
            write_cell(&mut via_objects, &shaped(t, raw.clone()), None);
            assert_eq!(direct, via_objects, "{t} {raw}");
        }
    }

    #[test]
    fn unparsable_text_keeps_values() {
        for t in [
            "",
            "row(",
            "row(a bigint",
            "row(a bigint))",
            "row()",
            "array()",
            "map(varchar)",
            "row(\"open bigint)",
            "decimal(10, 2",
            "row(a bigint,)",
            "(((",
            ")",
            "row(a bigint) trailing(",
            "ароw(a bigint)",
        ] {
            assert_eq!(Shape::for_type(t), Shape::Keep, "{t}");
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let depth = 10_000;
        let text = format!("{}bigint{}", "array(".repeat(depth), ")".repeat(depth));
        assert_eq!(Shape::for_type(&text), Shape::Keep);
        let rows = format!("{}bigint{}", "row(a ".repeat(depth), ")".repeat(depth));
        // Shaped down to MAX_DEPTH, the rest kept; most of all, no stack overflow.
        let mut shape = Shape::for_type(&rows);
        let mut levels = 0;
        while let Shape::Object(fields) = shape {
            levels += 1;
            shape = fields
                .into_iter()
                .next()
                .map(|f| f.1)
                .unwrap_or(Shape::Keep);
        }
        assert!(levels > 0 && levels <= MAX_DEPTH, "{levels}");
    }
}
