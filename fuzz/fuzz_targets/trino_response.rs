//! Arbitrary bytes as Trino `QueryResults` response bodies, through the client's page
//! decoding (`trino::decode_page`, the code `TrinoClient` reads every page with) and into the
//! `Collector` the tools stream rows into, in every text format.
//!
//! The input is one body, or several separated by the byte 0x1E (never valid inside JSON),
//! read as the pages of one query the way `TrinoClient::run` walks them: an error or a
//! failed page ends it, columns are taken from the first page that has them, rows before
//! columns end it, and the sink may stop reading.
//!
//! Checked besides "no panic":
//! - a decoded page holds exactly the rows (and cells), columns, id and error of the JSON
//!   document it came from;
//! - a body that is not decoded gives a protocol error whose message is one of the fixed
//!   categories: it never quotes the body;
//! - the collector keeps every row it accepted and no other, stops only at the limit or the
//!   byte budget, never writes past the budget once a row is kept, and its texts agree with
//!   its structured output: JSON text parses and matches it cell by cell, CSV is RFC 4180
//!   with one record per row (NULL an empty field, strings as sent), markdown has one line
//!   per row with one unescaped `|` per cell boundary, and the summary line is one line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_trino::format::{Collector, FinishInfo, Format, Rendered, Truncation};
use mcp_trino::trino::{ClientError, Column, RowSink, Stats, decode_page};
use serde_json::Value;

/// Pages of one query read from one input, at most.
const MAX_PAGES: usize = 16;

/// Collector settings: the tools' defaults, and small ones that make the caps hit.
const SINKS: [(Format, usize, usize); 6] = [
    (Format::Json, 1000, 4 << 20),
    (Format::Csv, 1000, 4 << 20),
    (Format::Markdown, 1000, 4 << 20),
    (Format::Json, 2, 300),
    (Format::Csv, 3, 120),
    (Format::Markdown, 1, 100),
];

/// Every message a body that is not decoded may give (`client.rs`: `decode_page`).
const DECODE_MESSAGES: [&str; 6] = [
    "empty response",
    "the coordinator answered with an HTML page instead of JSON (a proxy or gateway error?)",
    "malformed response from the coordinator: truncated JSON",
    "malformed response from the coordinator: invalid JSON",
    "malformed response from the coordinator: JSON of an unexpected shape",
    "malformed response from the coordinator: unreadable body",
];

fuzz_target!(|data: &[u8]| {
    let bodies: Vec<&[u8]> = data.split(|b| *b == 0x1e).take(MAX_PAGES).collect();
    let pages: Vec<Result<Page, ClientError>> = bodies.iter().map(|b| decode(b)).collect();
    let mut big_budget_rows = Vec::new();
    for (format, limit, budget) in SINKS {
        let run = run_query(&pages, format, limit, budget);
        if budget == 4 << 20 {
            big_budget_rows.push(run.rendered.row_count);
        }
        check_run(&run, format, limit, budget);
    }
    assert!(
        big_budget_rows.windows(2).all(|w| w[0] == w[1]),
        "formats kept different row counts: {big_budget_rows:?}"
    );
});

/// What the harness keeps of a decoded page.
struct Page {
    id: String,
    next_uri: Option<String>,
    columns: Option<Vec<Column>>,
    data: Option<Vec<Vec<Value>>>,
    failed: bool,
    stats: Stats,
    update_type: Option<String>,
    update_count: Option<i64>,
}

/// Decodes one body and checks the result against the JSON document itself.
fn decode(body: &[u8]) -> Result<Page, ClientError> {
    let page = decode_page(body).map(|p| Page {
        id: p.id,
        next_uri: p.next_uri,
        columns: p.columns,
        data: p.data,
        failed: p.error.is_some(),
        stats: p.stats,
        update_type: p.update_type,
        update_count: p.update_count,
    });
    // The same bytes as plain JSON. It can fail where the page decodes: nesting past
    // serde_json's depth limit inside an ignored field.
    let doc = serde_json::from_slice::<Value>(body);
    match (&page, doc) {
        (Ok(page), Ok(doc)) => check_page(page, &doc),
        (Ok(_), Err(_)) => {}
        (Err(e), doc) => {
            let ClientError::Protocol { message, query_id } = e else {
                panic!("a body that is not decoded gave {e:?}");
            };
            assert!(
                query_id.is_none(),
                "first response: no query id yet, got {e:?}"
            );
            assert!(
                DECODE_MESSAGES.contains(&message.as_str()),
                "unexpected decode message (does it quote the body?): {message:?}"
            );
            if body.iter().all(u8::is_ascii_whitespace) {
                assert_eq!(message, "empty response");
            }
            if doc.is_ok() {
                // Well-formed JSON that is not a page: a shape error (or an HTML page, when
                // a string in it looks like one), never invalid or truncated JSON.
                assert!(
                    message == DECODE_MESSAGES[1] || message == DECODE_MESSAGES[4],
                    "well-formed JSON reported as {message:?}"
                );
            }
        }
    }
    page
}

/// A field of the document in either form serde accepts for a struct: an object, or an
/// array with the fields in declaration order (`protocol::QueryResults`).
fn field<'a>(doc: &'a Value, name: &str, index: usize) -> Option<&'a Value> {
    match doc {
        Value::Object(map) => map.get(name),
        Value::Array(items) => items.get(index),
        _ => None,
    }
}

fn check_page(page: &Page, doc: &Value) {
    assert!(
        matches!(doc, Value::Object(_) | Value::Array(_)),
        "a page decoded from {doc}"
    );
    assert_eq!(field(doc, "id", 0), Some(&Value::String(page.id.clone())));
    let rows = match field(doc, "data", 3) {
        None | Some(Value::Null) => None,
        Some(Value::Array(rows)) => Some(rows),
        Some(other) => panic!("a page decoded with data {other}"),
    };
    match (&page.data, rows) {
        (None, None) => {}
        (Some(decoded), Some(rows)) => {
            assert_eq!(
                decoded.len(),
                rows.len(),
                "row count differs from the page's data"
            );
            for (cells, row) in decoded.iter().zip(rows) {
                let expected = row.as_array().map(Vec::as_slice);
                assert_eq!(
                    Some(cells.as_slice()),
                    expected,
                    "a row differs from the page's data"
                );
            }
        }
        (decoded, rows) => panic!("data {decoded:?} decoded from {rows:?}"),
    }
    let columns = match field(doc, "columns", 2) {
        None | Some(Value::Null) => None,
        Some(Value::Array(c)) => Some(c),
        Some(other) => panic!("a page decoded with columns {other}"),
    };
    match (&page.columns, columns) {
        (None, None) => {}
        (Some(decoded), Some(columns)) => {
            assert_eq!(decoded.len(), columns.len(), "column count differs");
            for (c, json) in decoded.iter().zip(columns) {
                assert_eq!(field(json, "name", 0), Some(&Value::String(c.name.clone())));
                assert_eq!(
                    field(json, "type", 1),
                    Some(&Value::String(c.type_name.clone()))
                );
            }
        }
        (decoded, columns) => panic!("columns {decoded:?} decoded from {columns:?}"),
    }
    let error = field(doc, "error", 5).is_some_and(|e| !e.is_null());
    assert_eq!(
        page.failed, error,
        "error presence differs from the document"
    );
}

struct Run {
    rendered: Rendered,
    /// Rows handed to the sink, and how many it accepted.
    fed: usize,
    accepted: usize,
    /// The sink answered `false` (stop reading).
    stopped: bool,
    /// Columns given to the sink, if any.
    columns: Option<Vec<Column>>,
    /// The raw rows the sink accepted, in order.
    kept: Vec<Vec<Value>>,
}

/// Walks the pages the way `TrinoClient::run` does, into a collector.
fn run_query(
    pages: &[Result<Page, ClientError>],
    format: Format,
    limit: usize,
    budget: usize,
) -> Run {
    let mut sink = Collector::new(format, limit, budget);
    let (mut fed, mut accepted, mut stopped) = (0, 0, false);
    let mut columns: Option<Vec<Column>> = None;
    let mut kept = Vec::new();
    let mut info = FinishInfo::default();
    for page in pages {
        let Ok(page) = page else { break };
        if page.failed {
            break;
        }
        if columns.is_none()
            && let Some(c) = &page.columns
        {
            sink.columns(c);
            columns = Some(c.clone());
        }
        if let Some(data) = &page.data {
            if columns.is_none() {
                break; // "the coordinator sent rows before columns"
            }
            for row in data {
                fed += 1;
                if sink.row(row.clone()) {
                    accepted += 1;
                    kept.push(row.clone());
                } else {
                    stopped = true;
                    break;
                }
            }
        }
        sink.progress(&page.stats);
        info = FinishInfo {
            query_id: page.id.clone(),
            duration_ms: page.stats.elapsed_time_millis,
            update_type: page.update_type.clone(),
            update_count: page.update_count,
        };
        if page.next_uri.is_none() || stopped {
            break;
        }
    }
    Run {
        rendered: sink.finish(info),
        fed,
        accepted,
        stopped,
        columns,
        kept,
    }
}

fn check_run(run: &Run, format: Format, limit: usize, budget: usize) {
    let r = &run.rendered;
    let ncols = run.columns.as_ref().map_or(0, Vec::len);
    assert_eq!(
        r.row_count, run.accepted,
        "row_count is not the rows accepted"
    );
    assert!(r.row_count <= limit);
    assert!(r.ragged_rows <= run.fed);
    match r.truncated {
        None => assert!(!run.stopped, "stopped reading without saying why"),
        Some(Truncation::Limit) => {
            assert!(
                run.stopped && r.row_count == limit,
                "limit truncation below the limit"
            );
        }
        Some(Truncation::ByteBudget) => assert!(run.stopped),
    }
    if run.stopped {
        assert!(
            r.truncated.is_some(),
            "stopped reading without a truncation"
        );
    }
    if r.row_count > 0 {
        assert!(
            r.text[0].len() <= budget,
            "{format}: text of {} bytes past the budget {budget}",
            r.text[0].len()
        );
    }
    let s = &r.structured;
    assert_eq!(s["row_count"], Value::from(r.row_count));
    let rows = s["rows"].as_array().map_or(0, Vec::len);
    assert_eq!(rows, r.row_count, "structured rows differ from row_count");
    let columns = s["columns"].as_array().map_or(0, Vec::len);
    assert_eq!(columns, ncols, "structured columns differ from the columns");
    match format {
        Format::Json => {
            assert_eq!(r.text.len(), 1);
            json_text_matches_structured(r);
        }
        Format::Csv | Format::Markdown => {
            assert_eq!(r.text.len(), 2);
            assert!(
                !r.text[1].contains(['\n', '\r']),
                "summary is not one line: {:?}",
                r.text[1]
            );
            if format == Format::Csv {
                csv_matches(run, ncols);
            } else {
                markdown_lines(run, ncols);
            }
        }
    }
}

/// Numbers are compared as f64 within an ulp or two: the text is parsed again by
/// serde_json, whose default float parsing may round differently from the first parse.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || match (x.as_f64(), y.as_f64()) {
                    (Some(p), Some(q)) => {
                        p == q || (p - q).abs() <= 4.0 * f64::EPSILON * p.abs().max(q.abs())
                    }
                    _ => false,
                }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && same_json(v1, v2))
        }
        _ => a == b,
    }
}

/// As `format/tests.rs` checks it: the text parses, and its rows equal the structured
/// rows cell by cell.
fn json_text_matches_structured(r: &Rendered) {
    let text: Value = match serde_json::from_str(&r.text[0]) {
        Ok(v) => v,
        Err(e) => panic!("JSON text does not parse: {e}\n{}", r.text[0]),
    };
    let keys: Vec<&str> = text
        .as_object()
        .map_or(vec![], |o| o.keys().map(String::as_str).collect());
    let expected: &[&str] = if r.truncated.is_some() {
        &["columns", "rows", "row_count", "truncated", "truncated_by"]
    } else {
        &["columns", "rows", "row_count", "truncated"]
    };
    assert_eq!(keys, expected);
    assert_eq!(text["row_count"], Value::from(r.row_count));
    assert_eq!(text["truncated"], Value::from(r.truncated.is_some()));
    let names: Vec<Value> = r.structured["columns"]
        .as_array()
        .map_or(vec![], |c| c.iter().map(|c| c["name"].clone()).collect());
    assert_eq!(text["columns"], Value::Array(names));
    let text_rows = text["rows"].as_array().cloned().unwrap_or_default();
    let objects = r.structured["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(text_rows.len(), objects.len());
    for (cells, object) in text_rows.iter().zip(&objects) {
        let values: Vec<Value> = object
            .as_object()
            .map_or(vec![], |o| o.values().cloned().collect());
        assert!(
            same_json(cells, &Value::Array(values.clone())),
            "JSON text row {cells} differs from structured {values:?}"
        );
    }
}

/// One CSV field and whether it was quoted.
type Field = (String, bool);

/// RFC 4180 with `\n` record ends, strictly: a quote inside an unquoted field, or anything
/// but `,` or a line end after a closing quote, is an error.
fn parse_csv(text: &str) -> Result<Vec<Vec<Field>>, String> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let mut record = Vec::new();
        loop {
            let mut field = String::new();
            let quoted = chars.peek() == Some(&'"');
            if quoted {
                chars.next();
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => field.push(c),
                        None => return Err("unterminated quoted field".into()),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == '\n' {
                        break;
                    }
                    if c == '"' || c == '\r' {
                        return Err(format!("{c:?} in an unquoted field"));
                    }
                    field.push(c);
                    chars.next();
                }
            }
            record.push((field, quoted));
            match chars.next() {
                Some(',') => continue,
                Some('\n') => break,
                other => return Err(format!("{other:?} after a field")),
            }
        }
        records.push(record);
    }
    Ok(records)
}

fn csv_matches(run: &Run, ncols: usize) {
    let r = &run.rendered;
    let text = &r.text[0];
    if ncols == 0 {
        assert_eq!(text, "", "CSV without columns");
        return;
    }
    let records = match parse_csv(text) {
        Ok(records) => records,
        Err(e) => panic!("CSV text is not RFC 4180 ({e}):\n{text}"),
    };
    assert_eq!(records.len(), r.row_count + 1, "CSV records:\n{text}");
    let names = run.columns.iter().flatten().map(|c| c.name.as_str());
    for ((field, _), name) in records[0].iter().zip(names) {
        assert_eq!(field, name, "CSV header");
    }
    let objects = r.structured["rows"].as_array().cloned().unwrap_or_default();
    for ((record, raw), object) in records[1..].iter().zip(&run.kept).zip(&objects) {
        assert_eq!(record.len(), ncols, "CSV record width:\n{text}");
        let shaped: Vec<&Value> = object.as_object().map_or(vec![], |o| o.values().collect());
        for (i, (field, quoted)) in record.iter().enumerate() {
            let cell = raw.get(i).unwrap_or(&Value::Null);
            match cell {
                Value::Null => assert!(field.is_empty() && !quoted, "NULL as {field:?}"),
                Value::String(s) => {
                    assert_eq!(field, s, "string cell");
                    if s.is_empty() {
                        assert!(quoted, "the empty string must be quoted");
                    }
                }
                Value::Bool(b) => assert_eq!(field, &b.to_string()),
                Value::Number(_) | Value::Array(_) | Value::Object(_) => {
                    let parsed: Value = match serde_json::from_str(field) {
                        Ok(v) => v,
                        Err(e) => panic!("CSV cell {field:?} is not JSON: {e}"),
                    };
                    let expected = shaped.get(i).copied().unwrap_or(&Value::Null);
                    assert!(
                        same_json(&parsed, expected),
                        "CSV cell {field:?} differs from structured {expected}"
                    );
                }
            }
        }
    }
}

/// `|` characters not escaped as `\|`.
fn bars(line: &str) -> usize {
    let b = line.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

fn markdown_lines(run: &Run, ncols: usize) {
    let r = &run.rendered;
    let text = &r.text[0];
    if ncols == 0 {
        assert_eq!(text, "", "markdown without columns");
        return;
    }
    assert!(!text.contains('\r'), "markdown with a CR:\n{text}");
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), r.row_count + 2, "one line per row:\n{text}");
    for line in lines {
        assert_eq!(bars(line), ncols + 1, "cell boundaries in {line:?}");
    }
}
