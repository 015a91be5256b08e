//! Trino's type model: rendering (column `type`, compact DESCRIBE text, `typeSignature`),
//! parsing from SQL type text, and the mapping to and from Arrow storage types.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use serde_json::{Value, json};

/// Field metadata key holding the declared Trino type of a stored column.
pub const TYPE_KEY: &str = "trino.type";
/// Field metadata key holding a column comment.
pub const COMMENT_KEY: &str = "trino.comment";

/// Unbounded varchar length as Trino reports it in type signatures.
const VARCHAR_MAX: u64 = 2_147_483_647;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrinoType {
    Boolean,
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    Decimal(u8, u8),
    Varchar(Option<u32>),
    Char(u32),
    Varbinary,
    Json,
    Date,
    Time(u8),
    TimeTz(u8),
    Timestamp(u8),
    TimestampTz(u8),
    IntervalYearMonth,
    IntervalDaySecond,
    Array(Box<TrinoType>),
    Map(Box<TrinoType>, Box<TrinoType>),
    Row(Vec<(Option<String>, TrinoType)>),
    Uuid,
    Unknown,
}

/// How a type is rendered: the column `type` string, the compact DESCRIBE form, and whether
/// datetime precision is shown (the client's PARAMETRIC_DATETIME capability).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub compact: bool,
    pub parametric: bool,
}

impl Style {
    pub const DESCRIBE: Style = Style {
        compact: true,
        parametric: true,
    };
    pub fn column(parametric: bool) -> Style {
        Style {
            compact: false,
            parametric,
        }
    }
}

impl TrinoType {
    /// `type` text of a result column (arguments joined with ", ").
    pub fn display(&self, parametric: bool) -> String {
        self.render(Style::column(parametric))
    }

    /// Compact text used by DESCRIBE, SHOW COLUMNS and information_schema.
    pub fn compact(&self) -> String {
        self.render(Style::DESCRIBE)
    }

    pub fn render(&self, style: Style) -> String {
        let sep = if style.compact { "," } else { ", " };
        let dt = |base: &str, p: u8, suffix: &str| {
            if style.parametric {
                format!("{base}({p}){suffix}")
            } else {
                format!("{base}{suffix}")
            }
        };
        match self {
            TrinoType::Decimal(p, s) => format!("decimal({p}{sep}{s})"),
            TrinoType::Varchar(Some(n)) => format!("varchar({n})"),
            TrinoType::Char(n) => format!("char({n})"),
            TrinoType::Time(p) => dt("time", *p, ""),
            TrinoType::TimeTz(p) => dt("time", *p, " with time zone"),
            TrinoType::Timestamp(p) => dt("timestamp", *p, ""),
            TrinoType::TimestampTz(p) => dt("timestamp", *p, " with time zone"),
            TrinoType::Array(t) => format!("array({})", t.render(style)),
            TrinoType::Map(k, v) => format!("map({}, {})", k.render(style), v.render(style)),
            TrinoType::Row(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(name, t)| match name {
                        Some(n) => format!("{} {}", quote_field(n), t.render(style)),
                        None => t.render(style),
                    })
                    .collect();
                format!("row({})", parts.join(", "))
            }
            other => other.raw_type().to_string(),
        }
    }

    /// `rawType` of the type signature.
    pub fn raw_type(&self) -> &'static str {
        match self {
            TrinoType::Boolean => "boolean",
            TrinoType::TinyInt => "tinyint",
            TrinoType::SmallInt => "smallint",
            TrinoType::Integer => "integer",
            TrinoType::BigInt => "bigint",
            TrinoType::Real => "real",
            TrinoType::Double => "double",
            TrinoType::Decimal(..) => "decimal",
            TrinoType::Varchar(_) => "varchar",
            TrinoType::Char(_) => "char",
            TrinoType::Varbinary => "varbinary",
            TrinoType::Json => "json",
            TrinoType::Date => "date",
            TrinoType::Time(_) => "time",
            TrinoType::TimeTz(_) => "time with time zone",
            TrinoType::Timestamp(_) => "timestamp",
            TrinoType::TimestampTz(_) => "timestamp with time zone",
            TrinoType::IntervalYearMonth => "interval year to month",
            TrinoType::IntervalDaySecond => "interval day to second",
            TrinoType::Array(_) => "array",
            TrinoType::Map(..) => "map",
            TrinoType::Row(_) => "row",
            TrinoType::Uuid => "uuid",
            TrinoType::Unknown => "unknown",
        }
    }

    /// The `typeSignature` JSON object.
    pub fn signature(&self, parametric: bool) -> Value {
        let long = |v: u64| json!({"kind": "LONG", "value": v});
        let ty = |t: &TrinoType| json!({"kind": "TYPE", "value": t.signature(parametric)});
        let arguments: Vec<Value> = match self {
            TrinoType::Decimal(p, s) => vec![long(u64::from(*p)), long(u64::from(*s))],
            TrinoType::Varchar(n) => vec![long(n.map(u64::from).unwrap_or(VARCHAR_MAX))],
            TrinoType::Char(n) => vec![long(u64::from(*n))],
            TrinoType::Time(p)
            | TrinoType::TimeTz(p)
            | TrinoType::Timestamp(p)
            | TrinoType::TimestampTz(p) => {
                if parametric {
                    vec![long(u64::from(*p))]
                } else {
                    vec![]
                }
            }
            TrinoType::Array(t) => vec![ty(t)],
            TrinoType::Map(k, v) => vec![ty(k), ty(v)],
            TrinoType::Row(fields) => fields
                .iter()
                .map(|(name, t)| {
                    let mut named = serde_json::Map::new();
                    if let Some(n) = name {
                        named.insert("fieldName".into(), json!({"name": n}));
                    }
                    named.insert("typeSignature".into(), t.signature(parametric));
                    json!({"kind": "NAMED_TYPE", "value": Value::Object(named)})
                })
                .collect(),
            _ => vec![],
        };
        json!({"rawType": self.raw_type(), "arguments": arguments})
    }

    /// A Trino `Column` object.
    pub fn column_json(&self, name: &str, parametric: bool) -> Value {
        json!({"name": name, "type": self.display(parametric), "typeSignature": self.signature(parametric)})
    }

    /// Whether the type is an exact or approximate number (for operator checks).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            TrinoType::TinyInt
                | TrinoType::SmallInt
                | TrinoType::Integer
                | TrinoType::BigInt
                | TrinoType::Real
                | TrinoType::Double
                | TrinoType::Decimal(..)
        )
    }

    /// The Arrow type a stored column of this type uses.
    pub fn to_arrow(&self) -> DataType {
        match self {
            TrinoType::Boolean => DataType::Boolean,
            TrinoType::TinyInt => DataType::Int8,
            TrinoType::SmallInt => DataType::Int16,
            TrinoType::Integer => DataType::Int32,
            TrinoType::BigInt => DataType::Int64,
            TrinoType::Real => DataType::Float32,
            TrinoType::Double => DataType::Float64,
            TrinoType::Decimal(p, s) => DataType::Decimal128(*p, *s as i8),
            TrinoType::Varchar(_) | TrinoType::Char(_) | TrinoType::Json | TrinoType::Uuid => {
                DataType::Utf8
            }
            // Arrow has no time-with-zone type: store the canonical text.
            TrinoType::TimeTz(_) => DataType::Utf8,
            TrinoType::Varbinary => DataType::Binary,
            TrinoType::Date => DataType::Date32,
            TrinoType::Time(p) => DataType::Time64(if *p <= 6 {
                TimeUnit::Microsecond
            } else {
                TimeUnit::Nanosecond
            }),
            TrinoType::Timestamp(p) => DataType::Timestamp(ts_unit(*p), None),
            TrinoType::TimestampTz(p) => DataType::Timestamp(ts_unit(*p), Some("UTC".into())),
            TrinoType::IntervalYearMonth => DataType::Interval(IntervalUnit::YearMonth),
            TrinoType::IntervalDaySecond => DataType::Interval(IntervalUnit::DayTime),
            TrinoType::Array(t) => DataType::List(Arc::new(Field::new("item", t.to_arrow(), true))),
            TrinoType::Map(k, v) => {
                let entries = DataType::Struct(
                    vec![
                        Field::new("key", k.to_arrow(), false),
                        Field::new("value", v.to_arrow(), true),
                    ]
                    .into(),
                );
                DataType::Map(Arc::new(Field::new("entries", entries, false)), false)
            }
            TrinoType::Row(fields) => DataType::Struct(
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, (n, t))| {
                        Field::new(
                            n.clone().unwrap_or_else(|| format!("c{i}")),
                            t.to_arrow(),
                            true,
                        )
                    })
                    .collect::<Vec<_>>()
                    .into(),
            ),
            TrinoType::Unknown => DataType::Null,
        }
    }

    /// The Trino type of an Arrow value, for expressions that carry no declared type.
    pub fn from_arrow(dt: &DataType) -> TrinoType {
        match dt {
            DataType::Null => TrinoType::Unknown,
            DataType::Boolean => TrinoType::Boolean,
            DataType::Int8 => TrinoType::TinyInt,
            DataType::Int16 | DataType::UInt8 => TrinoType::SmallInt,
            DataType::Int32 | DataType::UInt16 => TrinoType::Integer,
            DataType::Int64 | DataType::UInt32 | DataType::UInt64 => TrinoType::BigInt,
            DataType::Float16 | DataType::Float32 => TrinoType::Real,
            DataType::Float64 => TrinoType::Double,
            DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
                TrinoType::Decimal((*p).min(38), (*s).max(0) as u8)
            }
            DataType::Decimal256(p, s) => TrinoType::Decimal((*p).min(38), (*s).clamp(0, 38) as u8),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => TrinoType::Varchar(None),
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => TrinoType::Varbinary,
            DataType::Date32 | DataType::Date64 => TrinoType::Date,
            DataType::Time32(u) | DataType::Time64(u) => TrinoType::Time(unit_precision(u)),
            DataType::Timestamp(u, None) => TrinoType::Timestamp(unit_precision(u)),
            DataType::Timestamp(u, Some(_)) => TrinoType::TimestampTz(unit_precision(u)),
            DataType::Interval(IntervalUnit::YearMonth) => TrinoType::IntervalYearMonth,
            DataType::Interval(_) | DataType::Duration(_) => TrinoType::IntervalDaySecond,
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::FixedSizeList(f, _)
            | DataType::ListView(f) => TrinoType::Array(Box::new(field_type(f))),
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => {
                    TrinoType::Map(Box::new(field_type(&kv[0])), Box::new(field_type(&kv[1])))
                }
                _ => TrinoType::Unknown,
            },
            DataType::Struct(fields) => TrinoType::Row(
                fields
                    .iter()
                    .map(|f| {
                        // DataFusion names anonymous struct fields c0, c1, ...
                        let anonymous = f
                            .name()
                            .strip_prefix('c')
                            .is_some_and(|d| d.parse::<u32>().is_ok());
                        (
                            if anonymous {
                                None
                            } else {
                                Some(f.name().clone())
                            },
                            field_type(f),
                        )
                    })
                    .collect(),
            ),
            DataType::Dictionary(_, v) => match v.as_ref() {
                DataType::Dictionary(..) => TrinoType::Unknown,
                other => TrinoType::from_arrow(other),
            },
            DataType::RunEndEncoded(_, v) => field_type(v),
            _ => TrinoType::Varchar(None),
        }
    }

    /// Parse Trino type text such as `varchar(25)`, `timestamp(6) with time zone`,
    /// `array(row(a bigint, b varchar))`.
    pub fn parse(text: &str) -> Result<TrinoType, String> {
        let mut p = TypeParser {
            chars: text.chars().collect(),
            pos: 0,
        };
        let t = p.parse_type(0)?;
        p.skip_ws();
        if p.pos < p.chars.len() {
            return Err(format!("Unknown type: {text}"));
        }
        Ok(t)
    }
}

/// Trino type of a field: its declared `trino.type` metadata if present, else from Arrow.
pub fn field_type(field: &Field) -> TrinoType {
    field
        .metadata()
        .get(TYPE_KEY)
        .and_then(|t| TrinoType::parse(t).ok())
        .unwrap_or_else(|| TrinoType::from_arrow(field.data_type()))
}

/// A stored column field carrying its Trino type (and optional comment) in metadata.
pub fn stored_field(name: &str, ty: &TrinoType, nullable: bool, comment: Option<&str>) -> Field {
    let mut meta = HashMap::new();
    meta.insert(TYPE_KEY.to_string(), ty.compact());
    if let Some(c) = comment {
        meta.insert(COMMENT_KEY.to_string(), c.to_string());
    }
    Field::new(name, ty.to_arrow(), nullable).with_metadata(meta)
}

fn ts_unit(p: u8) -> TimeUnit {
    match p {
        0 => TimeUnit::Second,
        1..=3 => TimeUnit::Millisecond,
        4..=6 => TimeUnit::Microsecond,
        _ => TimeUnit::Nanosecond,
    }
}

fn unit_precision(u: &TimeUnit) -> u8 {
    match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

fn quote_field(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Nesting deeper than this is rejected rather than risking the stack.
const MAX_TYPE_DEPTH: usize = 32;

struct TypeParser {
    chars: Vec<char>,
    pos: usize,
}

impl TypeParser {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> String {
        self.skip_ws();
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// A field name in `row(...)`: quoted or a bare word.
    fn field_name(&mut self) -> Result<String, String> {
        if self.eat('"') {
            let mut name = String::new();
            loop {
                match self.chars.get(self.pos) {
                    None => return Err("unterminated quoted field name".into()),
                    Some('"') if self.chars.get(self.pos + 1) == Some(&'"') => {
                        name.push('"');
                        self.pos += 2;
                    }
                    Some('"') => {
                        self.pos += 1;
                        return Ok(name);
                    }
                    Some(c) => {
                        name.push(*c);
                        self.pos += 1;
                    }
                }
            }
        }
        Ok(self.word())
    }

    fn number(&mut self) -> Result<u32, String> {
        let w = self.word();
        w.parse::<u32>()
            .map_err(|_| format!("expected a number, found '{w}'"))
    }

    /// Consume the given keywords (case-insensitive) if they all follow.
    fn keywords(&mut self, words: &[&str]) -> bool {
        let save = self.pos;
        for w in words {
            if !self.word().eq_ignore_ascii_case(w) {
                self.pos = save;
                return false;
            }
        }
        true
    }

    fn precision(&mut self, default: u32) -> Result<u8, String> {
        let p = if self.eat('(') {
            let p = self.number()?;
            if !self.eat(')') {
                return Err("expected ')'".into());
            }
            p
        } else {
            default
        };
        if p > 9 {
            return Err(format!("Unsupported precision {p}"));
        }
        Ok(p as u8)
    }

    fn parse_type(&mut self, depth: usize) -> Result<TrinoType, String> {
        if depth > MAX_TYPE_DEPTH {
            return Err("type nesting too deep".into());
        }
        let base = self.word().to_ascii_lowercase();
        let t = match base.as_str() {
            "boolean" => TrinoType::Boolean,
            "tinyint" => TrinoType::TinyInt,
            "smallint" => TrinoType::SmallInt,
            "integer" | "int" => TrinoType::Integer,
            "bigint" => TrinoType::BigInt,
            "real" | "float" => TrinoType::Real,
            "double" => {
                self.keywords(&["precision"]);
                TrinoType::Double
            }
            "decimal" | "numeric" => {
                let (mut p, mut s) = (38, 0);
                if self.eat('(') {
                    p = self.number()?;
                    if self.eat(',') {
                        s = self.number()?;
                    }
                    if !self.eat(')') {
                        return Err("expected ')'".into());
                    }
                }
                if p == 0 || p > 38 || s > p {
                    return Err(format!("Invalid decimal precision/scale ({p}, {s})"));
                }
                TrinoType::Decimal(p as u8, s as u8)
            }
            "varchar" => {
                if self.eat('(') {
                    let n = self.number()?;
                    if !self.eat(')') {
                        return Err("expected ')'".into());
                    }
                    TrinoType::Varchar(Some(n))
                } else {
                    TrinoType::Varchar(None)
                }
            }
            "char" => {
                let n = if self.eat('(') {
                    let n = self.number()?;
                    if !self.eat(')') {
                        return Err("expected ')'".into());
                    }
                    n
                } else {
                    1
                };
                TrinoType::Char(n)
            }
            "varbinary" => TrinoType::Varbinary,
            "json" => TrinoType::Json,
            "date" => TrinoType::Date,
            "uuid" => TrinoType::Uuid,
            "unknown" => TrinoType::Unknown,
            "time" => {
                let p = self.precision(3)?;
                if self.keywords(&["with", "time", "zone"]) {
                    TrinoType::TimeTz(p)
                } else {
                    TrinoType::Time(p)
                }
            }
            "timestamp" => {
                let p = self.precision(3)?;
                if self.keywords(&["with", "time", "zone"]) {
                    TrinoType::TimestampTz(p)
                } else {
                    TrinoType::Timestamp(p)
                }
            }
            "interval" => {
                if self.keywords(&["year", "to", "month"]) {
                    TrinoType::IntervalYearMonth
                } else if self.keywords(&["day", "to", "second"]) {
                    TrinoType::IntervalDaySecond
                } else {
                    return Err("Unknown interval type".into());
                }
            }
            "array" => {
                if !self.eat('(') {
                    return Err("expected '('".into());
                }
                let t = self.parse_type(depth + 1)?;
                if !self.eat(')') {
                    return Err("expected ')'".into());
                }
                TrinoType::Array(Box::new(t))
            }
            "map" => {
                if !self.eat('(') {
                    return Err("expected '('".into());
                }
                let k = self.parse_type(depth + 1)?;
                if !self.eat(',') {
                    return Err("expected ','".into());
                }
                let v = self.parse_type(depth + 1)?;
                if !self.eat(')') {
                    return Err("expected ')'".into());
                }
                TrinoType::Map(Box::new(k), Box::new(v))
            }
            "row" => {
                if !self.eat('(') {
                    return Err("expected '('".into());
                }
                let mut fields = Vec::new();
                loop {
                    // Either `name type` or an anonymous `type`.
                    let save = self.pos;
                    let name = self.field_name()?;
                    let named = match self.peek() {
                        Some(',') | Some(')') | Some('(') | None => false,
                        _ => {
                            let save2 = self.pos;
                            let ok = self.parse_type(depth + 1).is_ok();
                            self.pos = save2;
                            ok && !name.is_empty()
                        }
                    };
                    if named {
                        let t = self.parse_type(depth + 1)?;
                        fields.push((Some(name), t));
                    } else {
                        self.pos = save;
                        fields.push((None, self.parse_type(depth + 1)?));
                    }
                    if self.eat(',') {
                        continue;
                    }
                    if self.eat(')') {
                        break;
                    }
                    return Err("expected ',' or ')'".into());
                }
                TrinoType::Row(fields)
            }
            "" => return Err("expected a type".into()),
            other => return Err(format!("Unknown type '{other}'")),
        };
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_column_and_compact_forms() {
        let d = TrinoType::Decimal(12, 2);
        assert_eq!(d.display(true), "decimal(12, 2)");
        assert_eq!(d.compact(), "decimal(12,2)");
        let ts = TrinoType::TimestampTz(6);
        assert_eq!(ts.display(true), "timestamp(6) with time zone");
        assert_eq!(ts.display(false), "timestamp with time zone");
        assert_eq!(
            ts.signature(false),
            json!({"rawType": "timestamp with time zone", "arguments": []})
        );
        assert_eq!(
            TrinoType::Varchar(None).signature(true),
            json!({"rawType": "varchar", "arguments": [{"kind": "LONG", "value": 2147483647}]})
        );
    }

    #[test]
    fn parses_nested_types() {
        let t =
            TrinoType::parse("array(row(a bigint, \"first name\" varchar(3), double))").unwrap();
        assert_eq!(
            t.display(true),
            "array(row(a bigint, \"first name\" varchar(3), double))"
        );
        let m = TrinoType::parse("map(varchar, array(integer))").unwrap();
        assert_eq!(m.compact(), "map(varchar, array(integer))");
        assert_eq!(
            TrinoType::parse("TIMESTAMP(6) WITH TIME ZONE").unwrap(),
            TrinoType::TimestampTz(6)
        );
        assert_eq!(
            TrinoType::parse("interval day to second").unwrap(),
            TrinoType::IntervalDaySecond
        );
        assert!(TrinoType::parse("varchar(").is_err());
        assert!(TrinoType::parse("nope").is_err());
    }

    #[test]
    fn row_signature_has_named_fields() {
        let t = TrinoType::parse("row(a bigint, varchar)").unwrap();
        let sig = t.signature(true);
        assert_eq!(sig["arguments"][0]["value"]["fieldName"]["name"], "a");
        assert!(sig["arguments"][1]["value"].get("fieldName").is_none());
        assert_eq!(t.display(true), "row(a bigint, varchar)");
    }
}
