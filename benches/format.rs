//! Rendering 10,000 rows x 12 columns of mixed Trino values, against plain
//! `serde_json::to_string` of the same rows.
//!
//! `format/{json,csv,markdown}`: streaming the rows through a `Collector` (shaping and text
//! rendering, the per-row work). `format/structured`: `finish`, which builds `QueryOutput`
//! from the kept rows, plus its serialisation (the bytes of `structuredContent`). A whole call
//! costs one text group plus `structured`.
//!
//! A counting global allocator reports allocations per row next to the ratios.
//! `MCP_TRINO_BENCH_SUMMARY=<file.json>` skips criterion and writes only the ratio summary
//! (what `cargo xtask bench` reads); `MCP_TRINO_BENCH_QUICK=1` takes fewer runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group};
use mcp_trino::format::{Collector, FinishInfo, Format};
use mcp_trino::trino::{Column, RowSink};
use serde_json::{Value, json};

/// The system allocator, counting allocations (reallocations count as one) and bytes asked.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(
            new_size.saturating_sub(layout.size()) as u64,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and bytes asked for while `f` runs (this thread and any other; the bench is
/// single-threaded).
fn counted<T>(f: impl FnOnce() -> T) -> (T, u64, u64) {
    let (a, b) = (
        ALLOCS.load(Ordering::Relaxed),
        ALLOC_BYTES.load(Ordering::Relaxed),
    );
    let out = f();
    (
        out,
        ALLOCS.load(Ordering::Relaxed) - a,
        ALLOC_BYTES.load(Ordering::Relaxed) - b,
    )
}

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
            |collector| {
                let r = collector.finish(info());
                serde_json::to_string(&r.structured).unwrap_or_default()
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// The ratio summary: every variant timed in turn, `runs` rounds, best of each (the least
/// disturbed run on a noisy machine), relative to the baseline measured in the same rounds.
fn summary(columns: &[Column], rows: &[Vec<Value>], runs: usize) -> Value {
    #[derive(Default)]
    struct Figure {
        best: Option<Duration>,
        allocs: u64,
        bytes: u64,
        out_bytes: usize,
    }
    impl Figure {
        fn add(&mut self, d: Duration, allocs: u64, bytes: u64, out_bytes: usize) {
            self.best = Some(self.best.map_or(d, |b| b.min(d)));
            (self.allocs, self.bytes, self.out_bytes) = (allocs, bytes, out_bytes);
        }
        fn ms(&self) -> f64 {
            self.best.unwrap_or_default().as_secs_f64() * 1e3
        }
    }
    let names = [
        "baseline",
        "json",
        "csv",
        "markdown",
        "structured",
        "json_call",
    ];
    let mut figs: Vec<Figure> = names.iter().map(|_| Figure::default()).collect();
    for _ in 0..runs {
        // Baseline: serde_json of the parsed values, as a plain server would answer.
        let t = Instant::now();
        let (s, a, b) = counted(|| serde_json::to_string(black_box(rows)).unwrap_or_default());
        figs[0].add(t.elapsed(), a, b, s.len());
        drop(s);
        for (i, format) in [Format::Json, Format::Csv, Format::Markdown]
            .into_iter()
            .enumerate()
        {
            let input = rows.to_vec();
            let t = Instant::now();
            let (c, a, b) = counted(|| stream(format, columns, input));
            let d = t.elapsed();
            let r = c.finish(info());
            figs[i + 1].add(d, a, b, r.text.first().map_or(0, String::len));
        }
        // Structured: `finish` (QueryOutput) and its serialisation.
        let c = stream(Format::Json, columns, rows.to_vec());
        let t = Instant::now();
        // (Values are dropped after the clock stops, as the baseline's rows are.)
        let ((r, s), a, b) = counted(|| {
            let r = c.finish(info());
            let s = serde_json::to_string(&r.structured).unwrap_or_default();
            (r, s)
        });
        figs[4].add(t.elapsed(), a, b, s.len());
        drop((r, s));
        // A whole json call: text and structured.
        let input = rows.to_vec();
        let t = Instant::now();
        let ((r, s), a, b) = counted(|| {
            let r = stream(Format::Json, columns, input).finish(info());
            let s = serde_json::to_string(&r.structured).unwrap_or_default();
            (r, s)
        });
        figs[5].add(
            t.elapsed(),
            a,
            b,
            s.len() + r.text.first().map_or(0, String::len),
        );
        drop((r, s));
    }
    let base = figs[0].ms();
    let per_row = |n: u64| n as f64 / ROWS as f64;
    let mut out = serde_json::Map::new();
    println!(
        "\n{:<11} {:>9} {:>9} {:>12} {:>12} {:>11}",
        "format", "best ms", "x base", "allocs/row", "bytes/row", "out bytes"
    );
    for (name, f) in names.iter().zip(&figs) {
        let ratio = f.ms() / base;
        println!(
            "{name:<11} {:>9.2} {:>9.2} {:>12.1} {:>12.0} {:>11}",
            f.ms(),
            ratio,
            per_row(f.allocs),
            per_row(f.bytes),
            f.out_bytes
        );
        out.insert(
            (*name).to_string(),
            json!({
                "best_ms": f.ms(),
                "ratio": ratio,
                "allocs_per_row": per_row(f.allocs),
                "alloc_bytes_per_row": per_row(f.bytes),
                "out_bytes": f.out_bytes,
            }),
        );
    }
    json!({"rows": ROWS, "columns": columns.len(), "runs": runs, "figures": out})
}

fn ratios(c: &mut Criterion) {
    let _ = c;
    summary(&columns(), &rows(), 5);
}

criterion_group!(benches, bench, ratios);

/// `MCP_TRINO_BENCH_PROFILE=<variant>`: run one variant (`baseline`, `json`, `csv`,
/// `markdown`, `structured`) 100 times and little else, for a profiler
/// (`perf record -g <bench exe>`), as the notes in `benches/RESULTS.md` were made. The inputs
/// are cloned before the first round and dropped after the last, so the rounds in between
/// are what the summary times.
fn profile(variant: &str) -> Result<(), String> {
    const ROUNDS: usize = 100;
    let (columns, rows) = (columns(), rows());
    let mut inputs: Vec<Vec<Vec<Value>>> = (0..ROUNDS).map(|_| rows.clone()).collect();
    let mut outputs = Vec::with_capacity(ROUNDS);
    for input in inputs.drain(..) {
        let out = match variant {
            "baseline" => serde_json::to_string(&rows).unwrap_or_default(),
            "json" | "csv" | "markdown" => {
                let format = variant.parse::<Format>().map_err(|e| e.0)?;
                let c = stream(format, &columns, input);
                // Freed in a batch, so that the round's own frees stay apart in a profile.
                outputs.push(c);
                if outputs.len() == 4 {
                    outputs.clear();
                }
                continue;
            }
            "structured" => {
                let r = stream(Format::Json, &columns, input).finish(info());
                serde_json::to_string(&r.structured).unwrap_or_default()
            }
            other => return Err(format!("unknown variant {other:?}")),
        };
        black_box(out);
    }
    black_box(outputs);
    Ok(())
}

fn main() {
    if let Ok(variant) = std::env::var("MCP_TRINO_BENCH_PROFILE") {
        if let Err(e) = profile(&variant) {
            eprintln!("{e}");
            std::process::exit(2);
        }
        return;
    }
    if let Ok(path) = std::env::var("MCP_TRINO_BENCH_SUMMARY") {
        let quick = std::env::var_os("MCP_TRINO_BENCH_QUICK").is_some();
        let (columns, rows) = (columns(), rows());
        // One untimed round first: page faults and allocator growth belong to no variant.
        summary(&columns, &rows, 1);
        let s = summary(&columns, &rows, if quick { 15 } else { 41 });
        let text = serde_json::to_string_pretty(&s).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("writing {path}: {e}");
            std::process::exit(1);
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
