//! The fixture datasets, embedded in the binary and loaded at engine start: SQL scripts run
//! through the engine, plus typed JSON tables (values in Trino's wire encoding).

use std::sync::Arc;

use base64::Engine as _;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, IntervalDayTimeArray,
    IntervalYearMonthArray, ListArray, MapArray, NullArray, RecordBatch, StringArray, StructArray,
    Time64MicrosecondArray, Time64NanosecondArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, make_array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, IntervalDayTime, Schema, TimeUnit};
use futures::StreamExt;
use serde_json::Value;

use super::Engine;
use super::catalogs::memory::MemoryTable;
use super::types::{TrinoType, stored_field};
use crate::model::ClientSession;

const COMMON: &str = include_str!("../../../fixtures/datasets/common.sql");
const PROD: &str = include_str!("../../../fixtures/datasets/prod.sql");
const STAGING: &str = include_str!("../../../fixtures/datasets/staging.sql");
const DEV: &str = include_str!("../../../fixtures/datasets/dev.sql");
const ALL_TYPES: &str = include_str!("../../../fixtures/datasets/all_types.json");

pub async fn load(engine: &Engine) -> anyhow::Result<()> {
    let cluster_sql = match engine.inner.config.cluster.as_str() {
        "staging" => STAGING,
        "dev" => DEV,
        _ => PROD,
    };
    run_script(engine, COMMON).await?;
    run_script(engine, cluster_sql).await?;
    load_json_table(engine, ALL_TYPES)?;
    Ok(())
}

/// Statements end with `;` at the end of a line; `--` lines are comments.
async fn run_script(engine: &Engine, script: &str) -> anyhow::Result<()> {
    let session = ClientSession {
        user: "admin".into(),
        parametric_datetime: true,
        ..Default::default()
    };
    let mut statement = String::new();
    for line in script.lines() {
        if line.trim_start().starts_with("--") {
            continue;
        }
        statement.push_str(line);
        statement.push('\n');
        if line.trim_end().ends_with(';') {
            let sql = statement.trim().trim_end_matches(';').to_string();
            statement.clear();
            let execution = engine
                .execute(&sql, &session)
                .await
                .map_err(|e| anyhow::anyhow!("{e} in: {sql}"))?;
            let mut rows = execution.rows;
            while let Some(r) = rows.next().await {
                r.map_err(|e| anyhow::anyhow!("{e} in: {sql}"))?;
            }
        }
    }
    Ok(())
}

fn load_json_table(engine: &Engine, text: &str) -> anyhow::Result<()> {
    let doc: Value = serde_json::from_str(text)?;
    let name = doc["table"].as_str().unwrap_or_default();
    let parts: Vec<&str> = name.split('.').collect();
    let [_, schema_name, table_name] = parts.as_slice() else {
        anyhow::bail!("bad table name {name}")
    };
    let empty = Vec::new();
    let columns = doc["columns"].as_array().unwrap_or(&empty);
    let rows = doc["rows"].as_array().unwrap_or(&empty);
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for (i, col) in columns.iter().enumerate() {
        let cname = col["name"].as_str().unwrap_or_default();
        let ty = TrinoType::parse(col["type"].as_str().unwrap_or_default())
            .map_err(|e| anyhow::anyhow!(e))?;
        let values: Vec<&Value> = rows
            .iter()
            .map(|r| r.get(i).unwrap_or(&Value::Null))
            .collect();
        let array = build(&ty, &values).map_err(|e| anyhow::anyhow!("column {cname}: {e}"))?;
        let nullable = col["nullable"].as_bool().unwrap_or(true);
        let field = stored_field(cname, &ty, nullable, col["comment"].as_str())
            .with_data_type(array.data_type().clone());
        fields.push(field);
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    let memory = &engine.inner.memory;
    memory.create_schema(schema_name);
    let target = memory
        .memory_schema(schema_name)
        .ok_or_else(|| anyhow::anyhow!("no schema {schema_name}"))?;
    let table = Arc::new(MemoryTable::new(schema));
    table.append(batch)?;
    target.add_table(table_name, table);
    Ok(())
}

fn float(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) if s == "NaN" => Some(f64::NAN),
        Value::String(s) if s == "Infinity" => Some(f64::INFINITY),
        Value::String(s) if s == "-Infinity" => Some(f64::NEG_INFINITY),
        other => other.as_f64(),
    }
}

fn decimal(s: &str, scale: u8) -> Option<i128> {
    let (neg, s) = s.strip_prefix('-').map(|r| (true, r)).unwrap_or((false, s));
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{frac:0<width$}", width = scale as usize);
    let v: i128 = format!("{int}{}", &frac[..scale as usize]).parse().ok()?;
    Some(if neg { -v } else { v })
}

fn nanos_of_day(s: &str) -> Option<i64> {
    let t = NaiveTime::parse_from_str(s, "%H:%M:%S%.f").ok()?;
    Some(
        i64::from(chrono::Timelike::num_seconds_from_midnight(&t)) * 1_000_000_000
            + i64::from(chrono::Timelike::nanosecond(&t)),
    )
}

/// UTC nanoseconds of `YYYY-MM-DD HH:MM:SS[.f]`, optionally followed by ` zone`.
fn instant(s: &str, with_zone: bool) -> Option<(i64, Option<String>)> {
    let (local, zone) = if with_zone {
        s.rsplit_once(' ').map(|(l, z)| (l, Some(z)))?
    } else {
        (s, None)
    };
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    let utc = match zone {
        None | Some("UTC") => Utc.from_utc_datetime(&naive),
        Some(z) => {
            let tz: chrono_tz::Tz = z.parse().ok()?;
            tz.from_local_datetime(&naive).single()?.with_timezone(&Utc)
        }
    };
    Some((utc.timestamp_nanos_opt()?, zone.map(str::to_string)))
}

fn build(ty: &TrinoType, values: &[&Value]) -> Result<ArrayRef, String> {
    let strs = || {
        values
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let ints = || values.iter().map(|v| v.as_i64()).collect::<Vec<_>>();
    Ok(match ty {
        TrinoType::Boolean => Arc::new(BooleanArray::from(
            values.iter().map(|v| v.as_bool()).collect::<Vec<_>>(),
        )),
        TrinoType::TinyInt => Arc::new(Int8Array::from(
            ints()
                .into_iter()
                .map(|v| v.map(|x| x as i8))
                .collect::<Vec<_>>(),
        )),
        TrinoType::SmallInt => Arc::new(Int16Array::from(
            ints()
                .into_iter()
                .map(|v| v.map(|x| x as i16))
                .collect::<Vec<_>>(),
        )),
        TrinoType::Integer => Arc::new(Int32Array::from(
            ints()
                .into_iter()
                .map(|v| v.map(|x| x as i32))
                .collect::<Vec<_>>(),
        )),
        TrinoType::BigInt => Arc::new(Int64Array::from(ints())),
        TrinoType::Real => Arc::new(Float32Array::from(
            values
                .iter()
                .map(|v| float(v).map(|x| x as f32))
                .collect::<Vec<_>>(),
        )),
        TrinoType::Double => Arc::new(Float64Array::from(
            values.iter().map(|v| float(v)).collect::<Vec<_>>(),
        )),
        TrinoType::Decimal(p, s) => Arc::new(
            Decimal128Array::from(
                values
                    .iter()
                    .map(|v| v.as_str().and_then(|x| decimal(x, *s)))
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(*p, *s as i8)
            .map_err(|e| e.to_string())?,
        ),
        TrinoType::Varchar(_)
        | TrinoType::Char(_)
        | TrinoType::Json
        | TrinoType::Uuid
        | TrinoType::TimeTz(_) => Arc::new(StringArray::from(strs())),
        TrinoType::Varbinary => {
            let bytes: Vec<Option<Vec<u8>>> = values
                .iter()
                .map(|v| {
                    v.as_str()
                        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                })
                .collect();
            Arc::new(BinaryArray::from_iter(bytes))
        }
        TrinoType::Date => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or("epoch")?;
            Arc::new(Date32Array::from(
                values
                    .iter()
                    .map(|v| {
                        let d = NaiveDate::parse_from_str(v.as_str()?, "%Y-%m-%d").ok()?;
                        Some((d - epoch).num_days() as i32)
                    })
                    .collect::<Vec<_>>(),
            ))
        }
        TrinoType::Time(p) => {
            let n: Vec<Option<i64>> = values
                .iter()
                .map(|v| v.as_str().and_then(nanos_of_day))
                .collect();
            if *p <= 6 {
                Arc::new(Time64MicrosecondArray::from(
                    n.into_iter()
                        .map(|x| x.map(|v| v / 1000))
                        .collect::<Vec<_>>(),
                ))
            } else {
                Arc::new(Time64NanosecondArray::from(n))
            }
        }
        TrinoType::Timestamp(p) | TrinoType::TimestampTz(p) => {
            let tz = matches!(ty, TrinoType::TimestampTz(_));
            let parsed: Vec<Option<(i64, Option<String>)>> = values
                .iter()
                .map(|v| v.as_str().and_then(|s| instant(s, tz)))
                .collect();
            let zone = parsed
                .iter()
                .flatten()
                .find_map(|(_, z)| z.clone())
                .unwrap_or_else(|| "UTC".into());
            let nanos: Vec<Option<i64>> =
                parsed.iter().map(|x| x.as_ref().map(|(n, _)| *n)).collect();
            let scaled = |d: i64| {
                nanos
                    .iter()
                    .map(|x| x.map(|n| n.div_euclid(d)))
                    .collect::<Vec<_>>()
            };
            let array: ArrayRef = match ty.to_arrow() {
                DataType::Timestamp(TimeUnit::Second, _) => {
                    Arc::new(TimestampSecondArray::from(scaled(1_000_000_000)))
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => {
                    Arc::new(TimestampMillisecondArray::from(scaled(1_000_000)))
                }
                DataType::Timestamp(TimeUnit::Microsecond, _) => {
                    Arc::new(TimestampMicrosecondArray::from(scaled(1000)))
                }
                _ => Arc::new(TimestampNanosecondArray::from(nanos.clone())),
            };
            let _ = p;
            if tz {
                // Relabel only: the values already are UTC instants.
                let dt = match array.data_type() {
                    DataType::Timestamp(u, _) => DataType::Timestamp(*u, Some(zone.into())),
                    other => other.clone(),
                };
                make_array(
                    array
                        .to_data()
                        .into_builder()
                        .data_type(dt)
                        .build()
                        .map_err(|e| e.to_string())?,
                )
            } else {
                array
            }
        }
        TrinoType::IntervalYearMonth => Arc::new(IntervalYearMonthArray::from(
            values
                .iter()
                .map(|v| {
                    let s = v.as_str()?;
                    let (neg, s) = s.strip_prefix('-').map(|r| (true, r)).unwrap_or((false, s));
                    let (y, m) = s.split_once('-')?;
                    let months = y.parse::<i32>().ok()? * 12 + m.parse::<i32>().ok()?;
                    Some(if neg { -months } else { months })
                })
                .collect::<Vec<_>>(),
        )),
        TrinoType::IntervalDaySecond => Arc::new(IntervalDayTimeArray::from(
            values
                .iter()
                .map(|v| {
                    let s = v.as_str()?;
                    let (neg, s) = s.strip_prefix('-').map(|r| (true, r)).unwrap_or((false, s));
                    let (d, t) = s.split_once(' ')?;
                    let ms = (nanos_of_day(t)? / 1_000_000) as i32;
                    let days = d.parse::<i32>().ok()?;
                    Some(if neg {
                        IntervalDayTime::new(-days, -ms)
                    } else {
                        IntervalDayTime::new(days, ms)
                    })
                })
                .collect::<Vec<_>>(),
        )),
        TrinoType::Array(inner) => {
            let mut offsets = vec![0i32];
            let mut items: Vec<&Value> = Vec::new();
            for v in values {
                if let Some(a) = v.as_array() {
                    items.extend(a.iter());
                }
                offsets.push(items.len() as i32);
            }
            let child = build(inner, &items)?;
            let nulls = NullBuffer::from(values.iter().map(|v| !v.is_null()).collect::<Vec<_>>());
            let field = Arc::new(Field::new("item", child.data_type().clone(), true));
            Arc::new(
                ListArray::try_new(field, OffsetBuffer::new(offsets.into()), child, Some(nulls))
                    .map_err(|e| e.to_string())?,
            )
        }
        TrinoType::Map(k, val) => {
            let mut offsets = vec![0i32];
            let mut keys: Vec<Value> = Vec::new();
            let mut vals: Vec<&Value> = Vec::new();
            for v in values {
                if let Some(o) = v.as_object() {
                    for (key, x) in o {
                        let key = if k.is_numeric() {
                            key.parse::<i64>().map(Value::from).unwrap_or(Value::Null)
                        } else {
                            Value::String(key.clone())
                        };
                        keys.push(key);
                        vals.push(x);
                    }
                }
                offsets.push(keys.len() as i32);
            }
            let key_refs: Vec<&Value> = keys.iter().collect();
            let key_array = build(k, &key_refs)?;
            let value_array = build(val, &vals)?;
            let entries = StructArray::try_new(
                vec![
                    Field::new("key", key_array.data_type().clone(), false),
                    Field::new("value", value_array.data_type().clone(), true),
                ]
                .into(),
                vec![key_array, value_array],
                None,
            )
            .map_err(|e| e.to_string())?;
            let field = Arc::new(Field::new("entries", entries.data_type().clone(), false));
            let nulls = NullBuffer::from(values.iter().map(|v| !v.is_null()).collect::<Vec<_>>());
            Arc::new(
                MapArray::try_new(
                    field,
                    OffsetBuffer::new(offsets.into()),
                    entries,
                    Some(nulls),
                    false,
                )
                .map_err(|e| e.to_string())?,
            )
        }
        TrinoType::Row(fields) => {
            let mut arrays = Vec::new();
            let mut out_fields = Vec::new();
            for (i, (name, t)) in fields.iter().enumerate() {
                let col: Vec<&Value> = values
                    .iter()
                    .map(|v| v.as_array().and_then(|a| a.get(i)).unwrap_or(&Value::Null))
                    .collect();
                let a = build(t, &col)?;
                out_fields.push(Field::new(
                    name.clone().unwrap_or_else(|| format!("c{i}")),
                    a.data_type().clone(),
                    true,
                ));
                arrays.push(a);
            }
            let nulls = NullBuffer::from(values.iter().map(|v| !v.is_null()).collect::<Vec<_>>());
            Arc::new(
                StructArray::try_new(out_fields.into(), arrays, Some(nulls))
                    .map_err(|e| e.to_string())?,
            )
        }
        TrinoType::Unknown => Arc::new(NullArray::new(values.len())),
    })
}
