//! `trino_query` and `trino_explain`: user SQL, so the policy checks it first.

use std::str::FromStr;
use std::time::Duration;

use serde_json::{Value, json};

use super::args::{Args, Bounded};
use super::error::{Code, ToolError};
use super::{CallEnv, Failure, Progress, ToolKind, ToolOutput, admit, pretty, resolve};
use crate::format::{Collector, FinishInfo, Format};
use crate::trino::{Call, Column, RowSink, Stats};

const LIMIT: Bounded = Bounded {
    name: "limit",
    max: 10_000,
    over: Code::LimitExceeded,
};
const TIMEOUT: Bounded = Bounded {
    name: "timeout_seconds",
    max: 300,
    over: Code::TimeoutExceeded,
};
const DEFAULT_LIMIT: u64 = 1000;

/// The statement text, required and not blank (seed 004: `SQL query is required`).
fn sql_arg<'a>(args: &Args<'a>) -> Result<&'a str, ToolError> {
    match args.string("sql")? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(ToolError::new(
            Code::InvalidSql,
            "SQL query is required: pass one SQL statement in 'sql'.",
        )),
    }
}

pub async fn query(args: &Args<'_>, env: &CallEnv<'_>) -> Result<ToolOutput, Failure> {
    let plain = |e: ToolError| (e, None);
    let sql = sql_arg(args).map_err(plain)?;
    let limit = args.bounded(&LIMIT, DEFAULT_LIMIT).map_err(plain)? as usize;
    let format = match args.string("format").map_err(plain)? {
        None => Format::Json,
        Some(f) => Format::from_str(f).map_err(|_| {
            plain(ToolError::invalid(format!(
                "Argument 'format' must be json, csv or markdown, not '{}'.",
                f.chars()
                    .filter(|c| !c.is_control())
                    .take(32)
                    .collect::<String>()
            )))
        })?,
    };
    // Read the timeout before resolving the connection only to validate it; its default is
    // the connection's own.
    let requested_timeout = args.bounded(&TIMEOUT, 0).map_err(plain)?;
    let cluster = resolve(ToolKind::Query, args, env)?;
    let name = cluster.name().to_string();
    let timeout_secs = if requested_timeout == 0 {
        u64::from(cluster.connection().timeout_secs)
    } else {
        requested_timeout
    };
    let checked = cluster.policy.check(sql).map_err(|r| {
        (
            ToolError::from_refusal(r, sql).detail("connection", name.as_str()),
            Some(name.clone()),
        )
    })?;
    let _permit = admit(cluster)?;

    let mut collector = Collector::new(format, limit, env.budget_bytes);
    let mut sink = WithProgress {
        inner: &mut collector,
        progress: env.progress.clone(),
    };
    let call = Call {
        sql: &checked.sql,
        tool: ToolKind::Query.name(),
        timeout: Duration::from_secs(timeout_secs),
        cancel: env.cancel.clone(),
    };
    let finished = cluster.client.run(call, &mut sink).await.map_err(|e| {
        (
            ToolError::from_client(e, &name, sql, timeout_secs),
            Some(name.clone()),
        )
    })?;
    let rendered = collector.finish(FinishInfo {
        query_id: finished.query_id.clone(),
        duration_ms: finished.elapsed.as_millis() as u64,
        update_type: finished.update_type.clone(),
        update_count: finished.update_count,
    });
    Ok(ToolOutput {
        text: rendered.text,
        structured: rendered.structured,
        is_error: false,
        connection: Some(name),
        query_id: Some(finished.query_id),
        rows: rendered.row_count,
        code: None,
    })
}

pub async fn explain(args: &Args<'_>, env: &CallEnv<'_>) -> Result<ToolOutput, Failure> {
    let plain = |e: ToolError| (e, None);
    let sql = sql_arg(args).map_err(plain)?;
    let ty = match args.string("type").map_err(plain)? {
        None => "LOGICAL".to_string(),
        Some(t) => {
            let upper = t.trim().to_ascii_uppercase();
            if !["LOGICAL", "DISTRIBUTED", "IO", "VALIDATE"].contains(&upper.as_str()) {
                let shown: String = t.chars().filter(|c| !c.is_control()).take(32).collect();
                return Err(plain(ToolError::new(
                    Code::InvalidType,
                    format!(
                        "Invalid explain type '{shown}': use LOGICAL, DISTRIBUTED, IO or VALIDATE."
                    ),
                )));
            }
            upper
        }
    };
    let cluster = resolve(ToolKind::Explain, args, env)?;
    let name = cluster.name().to_string();
    // Explaining is held to the same policy as running.
    let checked = cluster.policy.check(sql).map_err(|r| {
        (
            ToolError::from_refusal(r, sql).detail("connection", name.as_str()),
            Some(name.clone()),
        )
    })?;
    let options = if ty == "IO" {
        "TYPE IO, FORMAT JSON".to_string()
    } else {
        format!("TYPE {ty}")
    };
    // A newline keeps a leading `--` comment of the statement from swallowing anything.
    let statement = format!("EXPLAIN ({options})\n{}", checked.sql);
    let timeout_secs = u64::from(cluster.connection().timeout_secs);
    let mut rows = super::Rows::new(1);
    let _permit = admit(cluster)?;
    let call = Call {
        sql: &statement,
        tool: ToolKind::Explain.name(),
        timeout: Duration::from_secs(timeout_secs),
        cancel: env.cancel.clone(),
    };
    let finished = cluster.client.run(call, &mut rows).await.map_err(|e| {
        let mut err = ToolError::from_client(e, &name, sql, timeout_secs);
        if err.code == Code::QueryError {
            err.code = Code::PlanError;
            err.message = err
                .message
                .replacen("Query failed", "Failed to generate plan", 1);
        }
        (err, Some(name.clone()))
    })?;
    let plan = match rows.rows.first().and_then(|r| r.first()) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let body = json!({"type": ty, "plan": plan});
    Ok(ToolOutput {
        text: vec![pretty(&body)],
        structured: body,
        is_error: false,
        connection: Some(name),
        query_id: Some(finished.query_id),
        rows: 1,
        code: None,
    })
}

/// Passes rows through and reports Trino's statistics as progress.
struct WithProgress<'a> {
    inner: &'a mut Collector,
    progress: Option<Progress>,
}

impl RowSink for WithProgress<'_> {
    fn columns(&mut self, columns: &[Column]) {
        self.inner.columns(columns);
    }

    fn row(&mut self, row: Vec<Value>) -> bool {
        self.inner.row(row)
    }

    fn progress(&mut self, stats: &Stats) {
        if let Some(p) = &self.progress {
            p(stats);
        }
    }

    fn rows_wanted(&self) -> Option<usize> {
        self.inner.rows_wanted()
    }

    fn bytes_wanted(&self) -> Option<usize> {
        self.inner.bytes_wanted()
    }
}
