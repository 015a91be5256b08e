//! One query's protocol state machine: QUEUED on POST, dispatch on the first queued GET,
//! executing pages cut by size, replayable tokens, cancel, time limits.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Map, Value, json};

use super::Board;
use crate::engine::Engine;
use crate::errors::TrinoError;
use crate::model::{ClientSession, Execution, QueryInfo, RowStream};

/// How long a GET waits for rows before answering with an empty page (Trino caps maxWait at 1 s).
const LONG_POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Queued,
    Executing,
}

/// A serialised response, kept so that a repeated token gets the identical answer.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub body: Bytes,
    pub headers: Vec<(String, String)>,
}

/// Why a GET cannot be answered with a page.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// The token is neither the last one served nor the next: 410 Gone.
    Gone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Queued,
    Running,
    Finished,
    Failed,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Queued => "QUEUED",
            State::Running => "RUNNING",
            State::Finished => "FINISHED",
            State::Failed => "FAILED",
        }
    }
}

struct Running {
    columns: Vec<Value>,
    rows: RowStream,
    buffer: VecDeque<Vec<Value>>,
    exhausted: bool,
    update_type: Option<String>,
    response_headers: Vec<(String, String)>,
}

/// Limits that shape each page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageLimits {
    pub target_bytes: usize,
    pub max_rows: Option<usize>,
}

pub(crate) struct Query {
    pub id: String,
    pub slug: String,
    pub sql: String,
    pub session: ClientSession,
    created: Instant,
    created_ms: i64,
    ended_ms: Option<i64>,
    last_poll: Instant,
    state: State,
    queued_token: u64,
    exec_token: Option<u64>,
    cached: Option<(Phase, u64, Page)>,
    running: Option<Running>,
    /// Columns survive the end of `running` for the final page.
    columns: Option<Vec<Value>>,
    update_type: Option<String>,
    update_count: Option<i64>,
    error: Option<TrinoError>,
    /// True once the query reached FINISHED or FAILED.
    terminal: bool,
    /// True once a page without `nextUri` was sent; later tokens are gone.
    final_served: bool,
    canceled: bool,
    /// Set when a drop-connection fault hit this query: it is dead to clients from then on.
    pub dropped: bool,
    pub pages: u64,
    processed_rows: u64,
    processed_bytes: u64,
}

impl Query {
    pub fn new(id: String, slug: String, sql: String, session: ClientSession) -> Self {
        let now = Instant::now();
        Query {
            id,
            slug,
            sql,
            session,
            created: now,
            created_ms: chrono::Utc::now().timestamp_millis(),
            ended_ms: None,
            last_poll: now,
            state: State::Queued,
            queued_token: 0,
            exec_token: None,
            cached: None,
            running: None,
            columns: None,
            update_type: None,
            update_count: None,
            error: None,
            terminal: false,
            final_served: false,
            canceled: false,
            dropped: false,
            pages: 0,
            processed_rows: 0,
            processed_bytes: 0,
        }
    }

    pub fn info(&self) -> QueryInfo {
        QueryInfo {
            query_id: self.id.clone(),
            state: self.state.name().to_string(),
            user: self.session.user.clone(),
            source: self.session.source.clone(),
            query: self.sql.clone(),
            created_ms: self.created_ms,
            end_ms: self.ended_ms,
            error_type: self.error.as_ref().map(|e| e.error_type.to_string()),
            error_code: self.error.as_ref().map(|e| e.name.to_string()),
        }
    }

    /// A heartbeat: the client is still there.
    pub fn touch(&mut self) {
        self.last_poll = Instant::now();
    }

    pub fn is_live(&self) -> bool {
        !self.terminal
    }

    pub fn idle_for(&self) -> Duration {
        self.last_poll.elapsed()
    }

    pub fn ended_for(&self) -> Option<Duration> {
        self.terminal.then(|| self.last_poll.elapsed())
    }

    /// The answer to `POST /v1/statement`.
    pub fn post_response(&self, base: &str) -> Page {
        let next = self.uri(base, Phase::Queued, 1);
        self.page(base, Some(next), None)
    }

    /// `GET .../queued/{id}/{slug}/{token}`: the first call dispatches the query.
    pub async fn queued_get(
        &mut self,
        base: &str,
        token: u64,
        engine: &Engine,
        board: &Board,
    ) -> Result<Page, TokenError> {
        self.last_poll = Instant::now();
        if self.canceled {
            return Ok(self.page(base, None, None));
        }
        if let Some(page) = self.replay(Phase::Queued, token) {
            return Ok(page);
        }
        if token != self.queued_token + 1 || self.exec_token.is_some() {
            return Err(TokenError::Gone);
        }
        if !self.terminal && self.running.is_none() {
            // The query sees itself as running in system.runtime.queries, as on Trino.
            let mut info = self.info();
            info.state = State::Running.name().to_string();
            board.publish(info);
            match engine.execute(&self.sql, &self.session).await {
                Ok(exec) => self.start(exec),
                Err(e) => self.fail(e),
            }
        }
        let page = if self.terminal {
            self.page(base, None, None)
        } else {
            // The queued endpoint reports QUEUED until the client moves to the executing URI.
            let next = self.uri(base, Phase::Executing, 0);
            let state = std::mem::replace(&mut self.state, State::Queued);
            let page = self.page(base, Some(next), None);
            self.state = state;
            page
        };
        self.queued_token = token;
        self.cached = Some((Phase::Queued, token, page.clone()));
        Ok(page)
    }

    /// `GET .../executing/{id}/{slug}/{token}`: the next page of rows, or the final page.
    pub async fn executing_get(
        &mut self,
        base: &str,
        token: u64,
        limits: PageLimits,
        fail_after_pages: u64,
    ) -> Result<Page, TokenError> {
        self.last_poll = Instant::now();
        if self.canceled {
            return Ok(self.page(base, None, None));
        }
        if let Some(page) = self.replay(Phase::Executing, token) {
            return Ok(page);
        }
        let expected = self.exec_token.map_or(0, |t| t + 1);
        if token != expected || self.final_served || self.queued_token == 0 {
            return Err(TokenError::Gone);
        }
        if let Some(e) = self.time_limit_error() {
            self.fail(e);
        } else if fail_after_pages > 0 && self.pages >= fail_after_pages {
            self.fail(TrinoError::new(
                "GENERIC_INTERNAL_ERROR",
                format!("Emulated failure after {} pages", self.pages),
            ));
        }
        let page = if self.terminal {
            self.page(base, None, None)
        } else {
            self.next_page(base, token, limits).await
        };
        self.exec_token = Some(token);
        self.pages += 1;
        self.cached = Some((Phase::Executing, token, page.clone()));
        Ok(page)
    }

    /// Cancel a running query; returns whether it was still running.
    pub fn cancel(&mut self) -> bool {
        if self.terminal {
            return false;
        }
        self.canceled = true;
        self.fail(TrinoError::new("USER_CANCELED", "Query was canceled"));
        true
    }

    /// Fail a query nobody has polled for too long (Trino's `query.client.timeout`).
    pub fn abandon(&mut self, timeout: Duration) {
        self.fail(TrinoError::new(
            "ABANDONED_QUERY",
            format!(
                "Query {} was abandoned by the client, as it may have exited or stopped checking for query results. Query results have not been accessed since {}: currentTime {}",
                self.id,
                format_airlift(self.idle_for()),
                format_airlift(timeout)
            ),
        ));
    }

    /// Enforce `query_max_run_time` / `query_max_execution_time` even when nobody polls.
    pub fn enforce_time_limit(&mut self) {
        if !self.terminal
            && let Some(e) = self.time_limit_error()
        {
            self.fail(e);
        }
    }

    /// Trino's two limits, checked in Trino's order with Trino's two messages. Queries start
    /// executing at once here, so both count from creation.
    fn time_limit_error(&self) -> Option<TrinoError> {
        let elapsed = self.created.elapsed();
        let limit = |key: &str| {
            self.session
                .properties
                .get(key)
                .and_then(|v| parse_airlift(v))
        };
        if let Some(l) = limit("query_max_execution_time")
            && elapsed > l
        {
            let msg = format!(
                "Query exceeded the maximum execution time limit of {}",
                format_airlift(l)
            );
            return Some(TrinoError::new("EXCEEDED_TIME_LIMIT", msg));
        }
        if let Some(l) = limit("query_max_run_time")
            && elapsed > l
        {
            let msg = format!("Query exceeded maximum time limit of {}", format_airlift(l));
            return Some(TrinoError::new("EXCEEDED_TIME_LIMIT", msg));
        }
        None
    }

    fn replay(&self, phase: Phase, token: u64) -> Option<Page> {
        match &self.cached {
            Some((p, t, page)) if *p == phase && *t == token => Some(page.clone()),
            _ => None,
        }
    }

    fn start(&mut self, exec: Execution) {
        self.state = State::Running;
        self.columns = Some(exec.columns.clone());
        self.update_type = exec.update_type.clone();
        self.running = Some(Running {
            columns: exec.columns,
            rows: exec.rows,
            buffer: VecDeque::new(),
            exhausted: false,
            update_type: exec.update_type,
            response_headers: exec.response_headers,
        });
    }

    fn fail(&mut self, e: TrinoError) {
        self.state = State::Failed;
        self.error = Some(e);
        self.running = None;
        self.terminal = true;
        self.ended_ms = Some(chrono::Utc::now().timestamp_millis());
    }

    async fn next_page(&mut self, base: &str, token: u64, limits: PageLimits) -> Page {
        let Some(run) = self.running.as_mut() else {
            return self.page(base, None, None);
        };
        let deadline = tokio::time::Instant::now() + LONG_POLL;
        let mut data: Vec<Vec<Value>> = Vec::new();
        let mut bytes = 0usize;
        let mut failure = None;
        'fill: loop {
            while let Some(row) = run.buffer.pop_front() {
                bytes += approx_size_row(&row);
                data.push(row);
                if bytes >= limits.target_bytes || limits.max_rows.is_some_and(|m| data.len() >= m)
                {
                    break 'fill;
                }
            }
            if run.exhausted {
                break;
            }
            match tokio::time::timeout_at(deadline, run.rows.next()).await {
                Err(_) => break,
                Ok(None) => run.exhausted = true,
                Ok(Some(Err(e))) => {
                    failure = Some(e);
                    break;
                }
                Ok(Some(Ok(batch))) => run.buffer.extend(batch),
            }
        }
        if let Some(e) = failure {
            self.fail(e);
            return self.page(base, None, None);
        }
        self.processed_rows += data.len() as u64;
        self.processed_bytes += bytes as u64;
        if run.update_type.is_some() && data.len() == 1 && is_rows_column(&run.columns) {
            self.update_count = data[0].first().and_then(Value::as_i64);
        }
        let finished = run.exhausted && run.buffer.is_empty() && data.is_empty();
        if finished {
            let headers = std::mem::take(&mut run.response_headers);
            self.state = State::Finished;
            self.running = None;
            self.terminal = true;
            self.ended_ms = Some(chrono::Utc::now().timestamp_millis());
            let mut page = self.page(base, None, None);
            page.headers = headers;
            page
        } else {
            let next = self.uri(base, Phase::Executing, token + 1);
            let data = (!data.is_empty()).then_some(data);
            self.page(base, Some(next), data)
        }
    }

    fn uri(&self, base: &str, phase: Phase, token: u64) -> String {
        let kind = match phase {
            Phase::Queued => "queued",
            Phase::Executing => "executing",
        };
        format!(
            "{base}/v1/statement/{kind}/{}/{}/{token}",
            self.id, self.slug
        )
    }

    /// Build a `QueryResults` document; absent values are omitted, never null.
    fn page(&self, base: &str, next: Option<String>, data: Option<Vec<Vec<Value>>>) -> Page {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert(
            "infoUri".into(),
            json!(format!("{base}/ui/query.html?{}", self.id)),
        );
        if let Some(n) = next {
            m.insert("nextUri".into(), json!(n));
        }
        if self.state != State::Queued
            && self.error.is_none()
            && let Some(c) = &self.columns
        {
            m.insert("columns".into(), Value::Array(c.clone()));
        }
        if let Some(d) = data {
            m.insert("data".into(), json!(d));
        }
        m.insert("stats".into(), self.stats());
        if let Some(e) = &self.error {
            m.insert("error".into(), e.to_json());
        }
        m.insert("warnings".into(), json!([]));
        if self.error.is_none()
            && let Some(u) = &self.update_type
        {
            m.insert("updateType".into(), json!(u));
            if self.terminal
                && let Some(c) = self.update_count
            {
                m.insert("updateCount".into(), json!(c));
            }
        }
        let body = serde_json::to_vec(&Value::Object(m)).unwrap_or_default();
        Page {
            body: Bytes::from(body),
            headers: Vec::new(),
        }
    }

    fn stats(&self) -> Value {
        let elapsed = self.created.elapsed().as_millis() as u64;
        let queued = self.state == State::Queued;
        let done = self.terminal;
        let scheduled = !queued;
        let (completed, running) = match (scheduled, done) {
            (false, _) => (0, 0),
            (true, true) => (1, 0),
            (true, false) => (0, 1),
        };
        let mut s = json!({
            "state": self.state.name(),
            "queued": queued,
            "scheduled": scheduled,
            "nodes": if scheduled { 1 } else { 0 },
            "totalSplits": if scheduled { 1 } else { 0 },
            "queuedSplits": 0,
            "runningSplits": running,
            "completedSplits": completed,
            "cpuTimeMillis": elapsed / 2,
            "wallTimeMillis": elapsed,
            "queuedTimeMillis": if queued { elapsed } else { 0 },
            "elapsedTimeMillis": elapsed,
            "processedRows": self.processed_rows,
            "processedBytes": self.processed_bytes,
            "physicalInputBytes": self.processed_bytes,
            "physicalWrittenBytes": 0,
            "peakMemoryBytes": 0,
            "spilledBytes": 0,
        });
        if scheduled {
            let pct = if done { 100.0 } else { 0.0 };
            s["progressPercentage"] = json!(pct);
            s["runningPercentage"] = json!(if done { 0.0 } else { 100.0 });
            s["rootStage"] = json!({
                "stageId": "0",
                "state": self.state.name(),
                "done": done,
                "nodes": 1,
                "totalSplits": 1,
                "queuedSplits": 0,
                "runningSplits": running,
                "completedSplits": completed,
                "cpuTimeMillis": elapsed / 2,
                "wallTimeMillis": elapsed,
                "processedRows": self.processed_rows,
                "processedBytes": self.processed_bytes,
                "physicalInputBytes": self.processed_bytes,
                "failedTasks": 0,
                "coordinatorOnly": false,
                "subStages": [],
            });
        }
        s
    }
}

fn is_rows_column(columns: &[Value]) -> bool {
    columns.len() == 1 && columns[0]["name"] == "rows" && columns[0]["type"] == "bigint"
}

/// A cheap estimate of a row's JSON size, to cut pages near the byte target.
fn approx_size_row(row: &[Value]) -> usize {
    row.iter().map(approx_size).sum::<usize>() + row.len() + 2
}

fn approx_size(v: &Value) -> usize {
    // Iterative so that deeply nested values cannot overflow the stack.
    let mut total = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total += match v {
            Value::Null => 4,
            Value::Bool(_) => 5,
            Value::Number(_) => 12,
            Value::String(s) => s.len() + 2,
            Value::Array(a) => {
                stack.extend(a.iter());
                a.len() + 2
            }
            Value::Object(o) => {
                for (k, v) in o {
                    total += k.len() + 3;
                    stack.push(v);
                }
                2
            }
        };
    }
    total
}

/// Parse an airlift duration such as `30s`, `1.5m`, `500ms`, `2h`.
pub(crate) fn parse_airlift(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let value: f64 = num.trim().parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let secs = match unit.trim() {
        "ns" => value / 1e9,
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86400.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs).ok()
}

/// Format a duration the way airlift's `Duration.toString()` does: the largest unit in which
/// the value is at least 1, with two decimals (`1.00m`, `30.00s`, `2.85m`).
pub(crate) fn format_airlift(d: Duration) -> String {
    let secs = d.as_secs_f64();
    let units: [(&str, f64); 7] = [
        ("d", 86400.0),
        ("h", 3600.0),
        ("m", 60.0),
        ("s", 1.0),
        ("ms", 1e-3),
        ("us", 1e-6),
        ("ns", 1e-9),
    ];
    for (name, size) in units {
        if secs >= size {
            return format!("{:.2}{name}", secs / size);
        }
    }
    "0.00ns".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn airlift_durations_round_trip() {
        assert_eq!(parse_airlift("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_airlift("1.5m"), Some(Duration::from_secs(90)));
        assert_eq!(parse_airlift("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_airlift(" 2h "), Some(Duration::from_secs(7200)));
        assert_eq!(parse_airlift("2 parsecs"), None);
        assert_eq!(parse_airlift("-1s"), None);
        assert_eq!(parse_airlift(""), None);
        assert_eq!(format_airlift(Duration::from_secs(60)), "1.00m");
        assert_eq!(format_airlift(Duration::from_secs(30)), "30.00s");
        assert_eq!(format_airlift(Duration::from_millis(171_000)), "2.85m");
    }

    #[test]
    fn size_estimate_handles_deep_nesting() {
        let mut v = json!(1);
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        assert!(approx_size(&v) > 100_000);
        // Dropping a deeply nested Value recurses in serde_json; leak it in the test instead.
        std::mem::forget(v);
    }
}
