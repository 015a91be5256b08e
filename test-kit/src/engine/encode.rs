//! Arrow values to Trino's JSON wire encoding (client protocol `data` rows).

use base64::Engine as _;
use chrono::{DateTime, Offset, TimeZone, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, DurationMicrosecondType,
    DurationMillisecondType, DurationNanosecondType, DurationSecondType, Float16Type, Float32Type,
    Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, IntervalDayTimeType,
    IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType, Time32MillisecondType,
    Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use serde_json::Value;

use super::types::TrinoType;

/// Encodes every row of a batch; `types` gives each column's Trino type.
pub fn encode_batch(batch: &RecordBatch, types: &[TrinoType], parametric: bool) -> Vec<Vec<Value>> {
    let columns = batch.columns();
    (0..batch.num_rows())
        .map(|row| {
            columns
                .iter()
                .zip(types)
                .map(|(col, ty)| encode_value(col.as_ref(), row, ty, parametric))
                .collect()
        })
        .collect()
}

/// The wire value of one cell.
pub fn encode_value(array: &dyn Array, i: usize, ty: &TrinoType, parametric: bool) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(i).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(i).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(i).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(i).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(i).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(i).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(i).into(),
        DataType::Float16 => real(f32::from(array.as_primitive::<Float16Type>().value(i))),
        DataType::Float32 => real(array.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => double(array.as_primitive::<Float64Type>().value(i)),
        DataType::Decimal128(_, s) => Value::String(decimal_text(
            &array.as_primitive::<Decimal128Type>().value(i).to_string(),
            *s,
        )),
        DataType::Decimal256(_, s) => Value::String(decimal_text(
            &array.as_primitive::<Decimal256Type>().value(i).to_string(),
            *s,
        )),
        DataType::Utf8 => text(array.as_string::<i32>().value(i), ty),
        DataType::LargeUtf8 => text(array.as_string::<i64>().value(i), ty),
        DataType::Utf8View => text(array.as_string_view().value(i), ty),
        DataType::Binary => binary(array.as_binary::<i32>().value(i)),
        DataType::LargeBinary => binary(array.as_binary::<i64>().value(i)),
        DataType::BinaryView => binary(array.as_binary_view().value(i)),
        DataType::FixedSizeBinary(_) => binary(array.as_fixed_size_binary().value(i)),
        DataType::Date32 => date(i64::from(array.as_primitive::<Date32Type>().value(i))),
        DataType::Date64 => date(
            array
                .as_primitive::<Date64Type>()
                .value(i)
                .div_euclid(86_400_000),
        ),
        DataType::Time32(TimeUnit::Second) => time(
            i64::from(array.as_primitive::<Time32SecondType>().value(i)) * 1_000_000_000,
            ty,
            parametric,
        ),
        DataType::Time32(_) => time(
            i64::from(array.as_primitive::<Time32MillisecondType>().value(i)) * 1_000_000,
            ty,
            parametric,
        ),
        DataType::Time64(TimeUnit::Microsecond) => time(
            array.as_primitive::<Time64MicrosecondType>().value(i) * 1_000,
            ty,
            parametric,
        ),
        DataType::Time64(_) => time(
            array.as_primitive::<Time64NanosecondType>().value(i),
            ty,
            parametric,
        ),
        DataType::Timestamp(unit, tz) => {
            let (secs, nanos) = match unit {
                TimeUnit::Second => (array.as_primitive::<TimestampSecondType>().value(i), 0),
                TimeUnit::Millisecond => split(
                    array.as_primitive::<TimestampMillisecondType>().value(i),
                    1_000,
                ),
                TimeUnit::Microsecond => split(
                    array.as_primitive::<TimestampMicrosecondType>().value(i),
                    1_000_000,
                ),
                TimeUnit::Nanosecond => split(
                    array.as_primitive::<TimestampNanosecondType>().value(i),
                    1_000_000_000,
                ),
            };
            timestamp(secs, nanos, tz.as_deref(), ty, parametric)
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            year_month(array.as_primitive::<IntervalYearMonthType>().value(i))
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = array.as_primitive::<IntervalDayTimeType>().value(i);
            day_second(i64::from(v.days) * 86_400_000 + i64::from(v.milliseconds))
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(i);
            if matches!(ty, TrinoType::IntervalYearMonth) {
                year_month(v.months)
            } else {
                day_second(
                    (i64::from(v.months) * 30 + i64::from(v.days)) * 86_400_000
                        + v.nanoseconds / 1_000_000,
                )
            }
        }
        DataType::Duration(unit) => {
            let ms = match unit {
                TimeUnit::Second => array
                    .as_primitive::<DurationSecondType>()
                    .value(i)
                    .saturating_mul(1000),
                TimeUnit::Millisecond => array.as_primitive::<DurationMillisecondType>().value(i),
                TimeUnit::Microsecond => {
                    array.as_primitive::<DurationMicrosecondType>().value(i) / 1000
                }
                TimeUnit::Nanosecond => {
                    array.as_primitive::<DurationNanosecondType>().value(i) / 1_000_000
                }
            };
            day_second(ms)
        }
        DataType::List(_) => list(&array.as_list::<i32>().value(i), ty, parametric),
        DataType::LargeList(_) => list(&array.as_list::<i64>().value(i), ty, parametric),
        DataType::FixedSizeList(..) => list(&array.as_fixed_size_list().value(i), ty, parametric),
        DataType::Map(..) => {
            let entries = array.as_map().value(i);
            let (kt, vt) = match ty {
                TrinoType::Map(k, v) => ((**k).clone(), (**v).clone()),
                _ => (TrinoType::Varchar(None), TrinoType::Unknown),
            };
            let keys = entries.column(0);
            let values = entries.column(1);
            let mut out = serde_json::Map::new();
            for j in 0..entries.len() {
                let key = match encode_value(keys.as_ref(), j, &kt, parametric) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(key, encode_value(values.as_ref(), j, &vt, parametric));
            }
            Value::Object(out)
        }
        DataType::Struct(_) => {
            let s = array.as_struct();
            let field_types: Vec<TrinoType> = match ty {
                TrinoType::Row(f) if f.len() == s.num_columns() => {
                    f.iter().map(|(_, t)| t.clone()).collect()
                }
                _ => s
                    .fields()
                    .iter()
                    .map(|f| super::types::field_type(f))
                    .collect(),
            };
            Value::Array(
                s.columns()
                    .iter()
                    .zip(&field_types)
                    .map(|(c, t)| encode_value(c.as_ref(), i, t, parametric))
                    .collect(),
            )
        }
        DataType::Dictionary(..) => {
            match datafusion::arrow::compute::cast(&array.slice(i, 1), &dict_value(array)) {
                Ok(plain) => encode_value(plain.as_ref(), 0, ty, parametric),
                Err(_) => Value::Null,
            }
        }
        _ => match datafusion::arrow::util::display::array_value_to_string(array, i) {
            Ok(s) => Value::String(s),
            Err(_) => Value::Null,
        },
    }
}

fn dict_value(array: &dyn Array) -> DataType {
    match array.data_type() {
        DataType::Dictionary(_, v) => (**v).clone(),
        other => other.clone(),
    }
}

fn split(v: i64, per_sec: i64) -> (i64, u32) {
    let secs = v.div_euclid(per_sec);
    let frac = v.rem_euclid(per_sec);
    (secs, (frac * (1_000_000_000 / per_sec)) as u32)
}

/// Java prints float and double in shortest round-trip form; non-finite values are strings.
fn double(v: f64) -> Value {
    if v.is_nan() {
        Value::String("NaN".into())
    } else if v.is_infinite() {
        Value::String(if v > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn real(v: f32) -> Value {
    if !v.is_finite() {
        return double(f64::from(v));
    }
    // Go through the shortest decimal text so 0.1f32 stays 0.1 rather than 0.10000000149.
    double(v.to_string().parse::<f64>().unwrap_or(f64::from(v)))
}

/// Plain decimal text with exactly `scale` fraction digits from the unscaled integer text.
pub fn decimal_text(unscaled: &str, scale: i8) -> String {
    let (neg, digits) = match unscaled.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, unscaled),
    };
    let sign = if neg { "-" } else { "" };
    if scale <= 0 {
        let zeros = "0".repeat(scale.unsigned_abs() as usize);
        return if digits == "0" {
            "0".into()
        } else {
            format!("{sign}{digits}{zeros}")
        };
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

fn text(s: &str, ty: &TrinoType) -> Value {
    match ty {
        TrinoType::Char(n) => {
            let len = s.chars().count();
            let pad = (*n as usize).saturating_sub(len);
            Value::String(format!("{s}{}", " ".repeat(pad)))
        }
        TrinoType::Uuid => Value::String(s.to_ascii_lowercase()),
        _ => Value::String(s.to_string()),
    }
}

fn binary(b: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(b))
}

fn date(days: i64) -> Value {
    match DateTime::<Utc>::from_timestamp(days.saturating_mul(86_400), 0) {
        Some(d) => Value::String(d.format("%Y-%m-%d").to_string()),
        None => Value::Null,
    }
}

/// Precision of a datetime type, and 3 when the client lacks PARAMETRIC_DATETIME.
fn shown_precision(ty: &TrinoType, parametric: bool, default: u8) -> u8 {
    if !parametric {
        return 3;
    }
    match ty {
        TrinoType::Time(p)
        | TrinoType::TimeTz(p)
        | TrinoType::Timestamp(p)
        | TrinoType::TimestampTz(p) => *p,
        _ => default,
    }
}

/// Rounds nanoseconds of a day/second to `p` digits, half up, carrying into seconds.
fn round_nanos(secs: i64, nanos: u32, p: u8) -> (i64, u64) {
    let unit = 10u64.pow(9 - u32::from(p.min(9)));
    let rounded = (u64::from(nanos) + unit / 2) / unit;
    let per_sec = 1_000_000_000 / unit;
    if rounded >= per_sec {
        (secs + 1, rounded - per_sec)
    } else {
        (secs, rounded)
    }
}

fn fraction(value: u64, p: u8) -> String {
    if p == 0 {
        String::new()
    } else {
        format!(".{value:0>width$}", width = p as usize)
    }
}

fn time(nanos_of_day: i64, ty: &TrinoType, parametric: bool) -> Value {
    let p = shown_precision(ty, parametric, 9);
    let (secs, frac) = round_nanos(
        nanos_of_day.div_euclid(1_000_000_000),
        nanos_of_day.rem_euclid(1_000_000_000) as u32,
        p,
    );
    let secs = secs.rem_euclid(86_400);
    Value::String(format!(
        "{:02}:{:02}:{:02}{}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        fraction(frac, p)
    ))
}

fn timestamp(secs: i64, nanos: u32, tz: Option<&str>, ty: &TrinoType, parametric: bool) -> Value {
    let p = shown_precision(ty, parametric, 3);
    let (secs, frac) = round_nanos(secs, nanos, p);
    let Some(utc) = DateTime::<Utc>::from_timestamp(secs, 0) else {
        return Value::Null;
    };
    let frac = fraction(frac, p);
    let Some(zone) = tz else {
        return Value::String(format!("{}{frac}", utc.format("%Y-%m-%d %H:%M:%S")));
    };
    let local = match parse_zone(zone) {
        Some(Zone::Named(z)) => utc.with_timezone(&z).naive_local(),
        Some(Zone::Fixed(o)) => utc.with_timezone(&o).naive_local(),
        None => utc.naive_utc(),
    };
    Value::String(format!(
        "{}{frac} {}",
        local.format("%Y-%m-%d %H:%M:%S"),
        zone_label(zone)
    ))
}

enum Zone {
    Named(chrono_tz::Tz),
    Fixed(chrono::FixedOffset),
}

fn parse_zone(zone: &str) -> Option<Zone> {
    if let Ok(tz) = zone.parse::<chrono_tz::Tz>() {
        return Some(Zone::Named(tz));
    }
    let (sign, rest) = match zone.as_bytes().first() {
        Some(b'+') => (1, &zone[1..]),
        Some(b'-') => (-1, &zone[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let secs = sign * (h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60);
    chrono::FixedOffset::east_opt(secs).map(Zone::Fixed)
}

/// Trino prints `UTC` for UTC-equivalent zones and otherwise the zone as given.
fn zone_label(zone: &str) -> String {
    match zone {
        "+00:00" | "Z" | "UTC" | "Etc/UTC" => "UTC".into(),
        z => z.to_string(),
    }
}

/// The offset of a zone at an instant, as `+HH:MM` (used for time with time zone).
pub fn offset_text(zone: &str, at: DateTime<Utc>) -> Option<String> {
    let secs = match parse_zone(zone)? {
        Zone::Named(z) => z
            .offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc(),
        Zone::Fixed(o) => o.local_minus_utc(),
    };
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    Some(format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60))
}

fn year_month(months: i32) -> Value {
    let sign = if months < 0 { "-" } else { "" };
    let m = months.unsigned_abs();
    Value::String(format!("{sign}{}-{}", m / 12, m % 12))
}

fn day_second(ms: i64) -> Value {
    let sign = if ms < 0 { "-" } else { "" };
    let a = ms.unsigned_abs();
    let (days, rem) = (a / 86_400_000, a % 86_400_000);
    Value::String(format!(
        "{sign}{days} {:02}:{:02}:{:02}.{:03}",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    ))
}

fn list(values: &ArrayRef, ty: &TrinoType, parametric: bool) -> Value {
    let element = match ty {
        TrinoType::Array(t) => (**t).clone(),
        _ => TrinoType::Unknown,
    };
    Value::Array(
        (0..values.len())
            .map(|j| encode_value(values.as_ref(), j, &element, parametric))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_pads_scale() {
        assert_eq!(decimal_text("12345", 2), "123.45");
        assert_eq!(decimal_text("-5", 2), "-0.05");
        assert_eq!(decimal_text("10", 2), "0.10");
        assert_eq!(decimal_text("7", 0), "7");
    }

    #[test]
    fn intervals_and_times() {
        assert_eq!(year_month(14), Value::String("1-2".into()));
        assert_eq!(year_month(-3), Value::String("-0-3".into()));
        assert_eq!(
            day_second(2 * 86_400_000 + 3 * 3_600_000 + 4 * 60_000 + 5678),
            Value::String("2 03:04:05.678".into())
        );
        assert_eq!(
            time(3_723_456_789_000, &TrinoType::Time(3), true),
            Value::String("01:02:03.457".into())
        );
        assert_eq!(
            timestamp(
                999_993_600 + 3 * 3600,
                321_000_000,
                Some("America/Los_Angeles"),
                &TrinoType::TimestampTz(3),
                true
            ),
            Value::String("2001-09-08 20:00:00.321 America/Los_Angeles".into())
        );
        assert_eq!(
            timestamp(0, 999_999_999, None, &TrinoType::Timestamp(6), false),
            Value::String("1970-01-01 00:00:01.000".into())
        );
    }

    #[test]
    fn non_finite_doubles_are_strings() {
        assert_eq!(double(f64::NAN), Value::String("NaN".into()));
        assert_eq!(double(f64::NEG_INFINITY), Value::String("-Infinity".into()));
        assert_eq!(real(0.1), serde_json::json!(0.1));
    }
}
