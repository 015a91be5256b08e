//! Rendering 10,000 rows x 12 columns of mixed Trino values, against plain
//! `serde_json::to_string` of the same rows.
//!
//! `format/{json,csv,markdown}`: streaming the rows through a `Collector` (shaping and text
//! rendering, the per-row work). `format/structured`: `finish`, which builds `QueryOutput`
//! from the kept rows. A whole call costs one text group plus `structured`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mcp_trino::format::{Collector, FinishInfo, Format, Rendered};
use mcp_trino::trino::{Column, RowSink};
use serde_json::{Value, json};

const ROWS: usize = 10_000;

fn columns() -> Vec<Column> {
    [
        ("id", "bigint"),
        ("score", "double"),
        ("name", "varchar"),
        ("price", "decimal(12, 2)"),
        ("day", "date"),
        ("ts", "timestamp(6) with time zone"),
        ("active", "boolean"),
        ("note", "varchar"),
        ("tags", "array(bigint)"),
        ("attrs", "map(varchar, bigint)"),
        ("pair", "row(a bigint, b varchar)"),
        ("blob", "varbinary"),
    ]
    .into_iter()
    .map(|(name, ty)| Column {
        name: name.into(),
        type_name: ty.into(),
        type_signature: None,
    })
    .collect()
}

fn rows() -> Vec<Vec<Value>> {
    (0..ROWS)
        .map(|i| {
            let n = i as i64;
            let name = match i % 10 {
                0 => format!("O'Brien, \"Pat\" #{i}"),
                1 => format!("line one\nline two | {i}"),
                _ => format!("customer-{i:06}"),
            };
            vec![
                json!(n * 1_000_000_007),
                json!(i as f64 * 0.37 + 0.001),
                json!(name),
                json!(format!("{}.{:02}", i * 3, i % 100)),
                json!(format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1)),
                json!(format!(
                    "2024-01-15 10:{:02}:{:02}.{:06} UTC",
                    i % 60,
                    (i / 60) % 60,
                    i * 37 % 1_000_000
                )),
                json!(i % 3 == 0),
                if i % 5 == 0 {
                    json!(format!("note {i}"))
                } else {
                    Value::Null
                },
                json!([n, n + 1, n + 2]),
                json!({"a": n, "b": n * 2}),
                json!([n, format!("v{i}")]),
                json!("ZWg/AAECAwQFBgcICQ=="),
            ]
        })
        .collect()
}

fn info() -> FinishInfo {
    FinishInfo {
        query_id: "20240115_100000_00001_abcde".into(),
        duration_ms: 42,
        update_type: None,
        update_count: None,
    }
}

/// Stream all rows into a collector (the part that renders text).
fn stream(format: Format, columns: &[Column], rows: Vec<Vec<Value>>) -> Collector {
    let mut c = Collector::new(format, ROWS, 64 << 20);
    c.columns(columns);
    for row in rows {
        c.row(row);
    }
    c
}

fn bench(c: &mut Criterion) {
    let columns = columns();
    let rows = rows();

    let mut g = c.benchmark_group("format/baseline_serde_json");
    g.sample_size(10);
    g.bench_function("10k_x_12", |b| {
        b.iter(|| serde_json::to_string(black_box(&rows)).unwrap_or_default())
    });
    g.finish();

    for (group, format) in [
        ("format/json", Format::Json),
        ("format/csv", Format::Csv),
        ("format/markdown", Format::Markdown),
    ] {
        let mut g = c.benchmark_group(group);
        g.sample_size(10);
        g.bench_function("10k_x_12", |b| {
            b.iter_batched(
                || rows.clone(),
                |rows| stream(format, &columns, rows),
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }

    let mut g = c.benchmark_group("format/structured");
    g.sample_size(10);
    g.bench_function("10k_x_12", |b| {
        b.iter_batched(
            || stream(Format::Json, &columns, rows.clone()),
            |collector| collector.finish(info()),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    ratios(&columns, &rows);
}

/// A rough summary next to criterion's numbers: best of a few runs, relative to the baseline.
fn ratios(columns: &[Column], rows: &[Vec<Value>]) {
    fn best(mut run: impl FnMut() -> Duration) -> Duration {
        (0..5).map(|_| run()).min().unwrap_or_default()
    }
    let baseline = best(|| {
        let t = Instant::now();
        black_box(serde_json::to_string(rows).unwrap_or_default());
        t.elapsed()
    });
    let out_len = serde_json::to_string(rows).map(|s| s.len()).unwrap_or(0);
    println!(
        "\nbaseline serde_json::to_string: {:.2} ms, {} bytes",
        baseline.as_secs_f64() * 1e3,
        out_len
    );
    for format in [Format::Json, Format::Csv, Format::Markdown] {
        let mut size = 0;
        let text = best(|| {
            let input = rows.to_vec();
            let t = Instant::now();
            let c = stream(format, columns, input);
            let d = t.elapsed();
            let r: Rendered = c.finish(info());
            size = r.text.first().map_or(0, String::len);
            d
        });
        let whole = best(|| {
            let input = rows.to_vec();
            let t = Instant::now();
            let r = stream(format, columns, input).finish(info());
            let d = t.elapsed();
            drop(black_box(r));
            d
        });
        println!(
            "{format:>8}: text {:.2} ms ({:.2}x baseline, {size} bytes); with structured {:.2} ms ({:.2}x)",
            text.as_secs_f64() * 1e3,
            text.as_secs_f64() / baseline.as_secs_f64(),
            whole.as_secs_f64() * 1e3,
            whole.as_secs_f64() / baseline.as_secs_f64(),
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
