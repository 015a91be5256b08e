//! The row sink behind `trino_query`: renders rows as they stream in and keeps them for
//! the structured output, stopping at the row limit or the byte budget.

use serde_json::{Map, Value};

use super::keys::unique_keys;
use super::types::Shape;
use super::{FinishInfo, Format, Rendered, Truncation, csv, json, markdown, summary_line};
use crate::trino::{Column, RowSink};

/// One query's result: pass it to `TrinoClient::run` as the sink, then call `finish`.
pub struct Collector {
    format: Format,
    limit: usize,
    budget: usize,
    columns: Vec<Column>,
    /// Unique object keys for the structured rows, one per column.
    keys: Vec<String>,
    /// Per column; empty when no column needs shaping, to keep the common path short.
    /// The text is written shaped straight from the raw values; the kept rows are shaped
    /// into objects once, in `finish`.
    shapes: Vec<Shape>,
    /// The header has been written (at the first of `columns`, `row` or `finish`).
    started: bool,
    /// The main text block, rendered row by row.
    text: String,
    /// Reused for the JSON of nested values in csv and markdown cells.
    scratch: String,
    /// Bytes kept free for what `finish` appends to the main block (the JSON tail).
    reserve: usize,
    rows: Vec<Vec<Value>>,
    truncated: Option<Truncation>,
    ragged_rows: usize,
}

impl Collector {
    /// `limit`: most rows kept; `budget_bytes`: most bytes in the main text block.
    pub fn new(format: Format, limit: usize, budget_bytes: usize) -> Collector {
        Collector {
            format,
            limit,
            budget: budget_bytes,
            columns: Vec::new(),
            keys: Vec::new(),
            shapes: Vec::new(),
            started: false,
            // Grows with the result; the budget caps it.
            text: String::with_capacity(budget_bytes.min(64 * 1024)),
            scratch: String::new(),
            reserve: 0,
            rows: Vec::new(),
            truncated: None,
            ragged_rows: 0,
        }
    }

    /// Rows kept so far.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Write the header once; with no columns (DDL, or rows before columns) it is empty.
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        match self.format {
            Format::Json => {
                json::header(&mut self.text, &names);
                // The tail is longest with the most rows and `byte_budget`.
                let mut tail = String::new();
                json::tail(&mut tail, self.limit, Some(Truncation::ByteBudget.as_str()));
                self.reserve = tail.len();
            }
            Format::Csv => csv::header(&mut self.text, &names),
            Format::Markdown => markdown::header(&mut self.text, &names),
        }
    }

    /// Close the text and build `QueryOutput`.
    pub fn finish(mut self, info: FinishInfo) -> Rendered {
        self.start();
        let row_count = self.rows.len();
        let mut text = Vec::with_capacity(2);
        match self.format {
            Format::Json => {
                json::tail(
                    &mut self.text,
                    row_count,
                    self.truncated.map(Truncation::as_str),
                );
                text.push(self.text);
            }
            Format::Csv | Format::Markdown => {
                text.push(self.text);
                text.push(summary_line(
                    row_count,
                    self.truncated,
                    self.limit,
                    self.budget,
                    &info,
                ));
            }
        }
        let structured = query_output(
            &self.columns,
            &self.keys,
            &self.shapes,
            self.rows,
            self.truncated,
            self.limit,
            info,
        );
        Rendered {
            text,
            structured,
            row_count,
            truncated: self.truncated,
            ragged_rows: self.ragged_rows,
        }
    }
}

impl RowSink for Collector {
    fn columns(&mut self, columns: &[Column]) {
        // Trino sends columns once; a repeat (or columns after rows) cannot change the header.
        if self.started {
            return;
        }
        self.columns = columns.to_vec();
        self.keys = unique_keys(&columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>());
        let shapes: Vec<Shape> = columns
            .iter()
            .map(|c| Shape::for_type(&c.type_name))
            .collect();
        if !shapes.iter().all(Shape::is_keep) {
            self.shapes = shapes;
        }
        self.start();
    }

    fn row(&mut self, mut row: Vec<Value>) -> bool {
        if self.truncated.is_some() {
            return false;
        }
        self.start();
        if self.rows.len() >= self.limit {
            self.truncated = Some(Truncation::Limit);
            return false;
        }
        if row.len() != self.columns.len() {
            self.ragged_rows += 1;
            row.resize(self.columns.len(), Value::Null);
        }
        let mark = self.text.len();
        match self.format {
            Format::Json => json::row(&mut self.text, &row, &self.shapes, self.rows.is_empty()),
            Format::Csv => csv::row(&mut self.text, &row, &self.shapes, &mut self.scratch),
            Format::Markdown => {
                markdown::row(&mut self.text, &row, &self.shapes, &mut self.scratch)
            }
        }
        if self.text.len().saturating_add(self.reserve) > self.budget {
            // `mark` was the end of the previous row, a char boundary.
            self.text.truncate(mark);
            self.truncated = Some(Truncation::ByteBudget);
            return false;
        }
        self.rows.push(row);
        true
    }

    fn rows_wanted(&self) -> Option<usize> {
        // One past the limit: that row tells the result was cut.
        Some((self.limit + 1).saturating_sub(self.rows.len()))
    }

    fn bytes_wanted(&self) -> Option<usize> {
        Some(
            self.budget
                .saturating_sub(self.text.len().saturating_add(self.reserve)),
        )
    }
}

/// `QueryOutput`: columns with Trino's type text, rows as objects in column order, stats.
fn query_output(
    columns: &[Column],
    keys: &[String],
    shapes: &[Shape],
    rows: Vec<Vec<Value>>,
    truncated: Option<Truncation>,
    limit: usize,
    info: FinishInfo,
) -> Value {
    let row_count = rows.len();
    let columns: Vec<Value> = columns
        .iter()
        .map(|c| {
            let mut m = Map::with_capacity(2);
            m.insert("name".into(), Value::String(c.name.clone()));
            m.insert("type".into(), Value::String(c.type_name.clone()));
            Value::Object(m)
        })
        .collect();
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|row| {
            let mut m = Map::with_capacity(keys.len());
            for (i, (key, mut value)) in keys.iter().zip(row).enumerate() {
                if let Some(shape) = shapes.get(i) {
                    shape.apply(&mut value);
                }
                m.insert(key.clone(), value);
            }
            Value::Object(m)
        })
        .collect();
    let mut stats = Map::new();
    stats.insert("row_count".into(), row_count.into());
    stats.insert("truncated".into(), truncated.is_some().into());
    if let Some(t) = truncated {
        stats.insert("truncated_by".into(), t.as_str().into());
    }
    stats.insert("limit_applied".into(), limit.into());
    stats.insert("duration_ms".into(), info.duration_ms.into());
    stats.insert("query_id".into(), info.query_id.into());
    if let Some(t) = info.update_type {
        stats.insert("update_type".into(), t.into());
    }
    if let Some(n) = info.update_count {
        stats.insert("update_count".into(), n.into());
    }
    let mut out = Map::with_capacity(4);
    out.insert("columns".into(), Value::Array(columns));
    out.insert("rows".into(), Value::Array(rows));
    out.insert("row_count".into(), row_count.into());
    out.insert("stats".into(), Value::Object(stats));
    Value::Object(out)
}
