//! Properties of the result formats over arbitrary strings: CSV reads back to the same
//! fields, markdown rows stay one line with one unescaped `|` per cell boundary, and the
//! JSON text parses to the same values.

use mcp_trino::format::{Collector, FinishInfo, Format, Rendered};
use mcp_trino::trino::{Column, RowSink};
use proptest::prelude::*;
use serde_json::Value;

type Cell = Option<String>;

fn run(format: Format, names: &[String], rows: &[Vec<Cell>]) -> Rendered {
    let columns: Vec<Column> = names
        .iter()
        .map(|n| Column {
            name: n.clone(),
            type_name: "varchar".into(),
            type_signature: None,
        })
        .collect();
    let mut c = Collector::new(format, 10_000, 1 << 30);
    c.columns(&columns);
    for row in rows {
        let cells = row
            .iter()
            .map(|c| c.clone().map_or(Value::Null, Value::String))
            .collect();
        assert!(c.row(cells));
    }
    c.finish(FinishInfo {
        query_id: "q".into(),
        duration_ms: 1,
        update_type: None,
        update_count: None,
    })
}

/// A minimal RFC 4180 reader: every record ends with `\n`; an unquoted empty field reads
/// as `None` (NULL), a quoted one as `Some("")`.
fn read_csv(text: &str) -> Result<Vec<Vec<Cell>>, String> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let mut record = Vec::new();
        loop {
            let mut field = String::new();
            let was_quoted = chars.peek() == Some(&'"');
            if was_quoted {
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
                    match c {
                        ',' | '\n' => break,
                        '"' | '\r' => return Err(format!("raw {c:?} in an unquoted field")),
                        _ => {
                            field.push(c);
                            chars.next();
                        }
                    }
                }
                if field.starts_with(char::is_whitespace) || field.ends_with(char::is_whitespace) {
                    return Err(format!("unquoted field with outer whitespace: {field:?}"));
                }
            }
            record.push(if was_quoted || !field.is_empty() {
                Some(field)
            } else {
                None
            });
            match chars.next() {
                Some(',') => continue,
                Some('\n') => break,
                other => {
                    return Err(format!(
                        "expected , or newline after a field, got {other:?}"
                    ));
                }
            }
        }
        records.push(record);
    }
    Ok(records)
}

/// Split a markdown line at the `|` not preceded by `\`.
fn split_cells(line: &str) -> Vec<&str> {
    let mut cuts = Vec::new();
    let mut prev = None;
    for (i, c) in line.char_indices() {
        if c == '|' && prev != Some('\\') {
            cuts.push(i);
        }
        prev = Some(c);
    }
    cuts.windows(2)
        .map(|w| line.get(w[0] + 1..w[1]).unwrap_or_default())
        .collect()
}

fn md_cell(s: &str) -> String {
    s.replace("\r\n", "<br>")
        .replace(['\r', '\n'], "<br>")
        .replace('|', "\\|")
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a ,\"\r\n|\\\\\t\u{a0}é😀]{0,8}",]
}

fn table() -> impl Strategy<Value = (Vec<String>, Vec<Vec<Cell>>)> {
    (1usize..6).prop_flat_map(|n| {
        (
            proptest::collection::vec(text_strategy(), n),
            proptest::collection::vec(
                proptest::collection::vec(proptest::option::weighted(0.85, text_strategy()), n),
                0..12,
            ),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn csv_reads_back_to_the_same_fields((names, rows) in table()) {
        let r = run(Format::Csv, &names, &rows);
        let records = read_csv(&r.text[0]).map_err(TestCaseError::fail)?;
        prop_assert_eq!(records.len(), rows.len() + 1);
        let header: Vec<Cell> = names.iter().cloned().map(Some).collect();
        prop_assert_eq!(&records[0], &header);
        for (record, row) in records[1..].iter().zip(&rows) {
            if row.len() == 1 && row[0].is_none() {
                // A lone NULL is an empty line; still one empty, unquoted field.
                prop_assert_eq!(record, &vec![None]);
            } else {
                prop_assert_eq!(record, row);
            }
        }
    }

    #[test]
    fn markdown_rows_stay_on_one_line((names, rows) in table()) {
        let r = run(Format::Markdown, &names, &rows);
        let text = &r.text[0];
        prop_assert!(text.ends_with('\n'));
        prop_assert!(!text.contains('\r'));
        let lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
        prop_assert_eq!(lines.len(), rows.len() + 2);
        for line in &lines {
            let pipes = split_cells(line).len() + 1;
            prop_assert_eq!(pipes, names.len() + 1, "line {:?}", line);
            prop_assert!(line.starts_with('|') && line.ends_with('|'));
        }
        let header: Vec<String> = names.iter().map(|n| format!(" {} ", md_cell(n))).collect();
        prop_assert_eq!(split_cells(lines[0]), header.iter().map(String::as_str).collect::<Vec<_>>());
        for (line, row) in lines[2..].iter().zip(&rows) {
            let expected: Vec<String> = row
                .iter()
                .map(|c| format!(" {} ", c.as_deref().map_or("NULL".to_string(), md_cell)))
                .collect();
            prop_assert_eq!(split_cells(line), expected.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }

    #[test]
    fn json_text_parses_to_the_same_values((names, rows) in table()) {
        let r = run(Format::Json, &names, &rows);
        let v: Value = serde_json::from_str(&r.text[0]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected_rows: Vec<Value> = rows
            .iter()
            .map(|row| Value::Array(row.iter().map(|c| c.clone().map_or(Value::Null, Value::String)).collect()))
            .collect();
        prop_assert_eq!(&v["rows"], &Value::Array(expected_rows));
        prop_assert_eq!(&v["columns"], &Value::Array(names.iter().cloned().map(Value::String).collect()));
        prop_assert_eq!(&v["row_count"], &Value::from(rows.len()));
        let structured_rows = r.structured["rows"].as_array().cloned().unwrap_or_default();
        prop_assert_eq!(structured_rows.len(), rows.len());
        for (object, row) in structured_rows.iter().zip(&v["rows"].as_array().cloned().unwrap_or_default()) {
            let values: Vec<Value> = object.as_object().map_or(vec![], |o| o.values().cloned().collect());
            prop_assert_eq!(&Value::Array(values), row);
        }
    }
}
