//! Tool-call metrics in the Prometheus text exposition format 0.0.4, without a metrics crate:
//! a few labelled counters and one histogram, rendered in a fixed order (families as listed,
//! series sorted by label values) so scrapes and tests are stable.
//!
//! Label values come from configuration (endpoints, tools, connections, outcome codes), so the
//! number of series is bounded; a cap still stops a bug from growing memory without end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the duration histogram, in seconds.
pub const DURATION_BUCKETS: [f64; 15] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Series kept at most, over all families; new series beyond it are dropped.
pub const DEFAULT_MAX_SERIES: usize = 10_000;

/// A point-in-time value the caller reads when rendering (cluster health, cancel counts).
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    pub name: String,
    pub help: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// Rendered as `# TYPE name counter` (a monotonic count read from elsewhere), else gauge.
    pub counter: bool,
}

impl Gauge {
    // Named to pair with `counter`, not as the type's constructor.
    #[allow(clippy::self_named_constructors)]
    pub fn gauge(name: &str, help: &str, labels: &[(&str, &str)], value: f64) -> Self {
        Gauge {
            name: name.to_string(),
            help: help.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
            counter: false,
        }
    }

    pub fn counter(name: &str, help: &str, labels: &[(&str, &str)], value: f64) -> Self {
        Gauge {
            counter: true,
            ..Gauge::gauge(name, help, labels, value)
        }
    }
}

pub struct Metrics {
    inner: Mutex<Inner>,
    max_series: usize,
}

#[derive(Default)]
struct Inner {
    /// {endpoint, tool, connection, outcome}
    calls: BTreeMap<[String; 4], u64>,
    /// {endpoint, tool}
    durations: BTreeMap<[String; 2], Histogram>,
    /// {endpoint, tool, connection}
    rows: BTreeMap<[String; 3], u64>,
    bytes: BTreeMap<[String; 3], u64>,
    series: usize,
    warned: bool,
}

#[derive(Default)]
struct Histogram {
    /// Per bucket (not cumulative); observations above the last bound only count in `count`.
    buckets: [u64; DURATION_BUCKETS.len()],
    sum: f64,
    count: u64,
}

const CALLS: &str = "mcp_trino_tool_calls_total";
const DURATION: &str = "mcp_trino_tool_call_duration_seconds";
const ROWS: &str = "mcp_trino_rows_returned_total";
const BYTES: &str = "mcp_trino_bytes_returned_total";

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Metrics::with_max_series(DEFAULT_MAX_SERIES)
    }

    pub fn with_max_series(max_series: usize) -> Self {
        Metrics {
            inner: Mutex::new(Inner::default()),
            max_series,
        }
    }

    /// Records one finished tool call. `outcome` is `ok` or the error code.
    #[allow(clippy::too_many_arguments)]
    pub fn tool_call(
        &self,
        endpoint: &str,
        tool: &str,
        connection: &str,
        outcome: &str,
        duration: Duration,
        rows: u64,
        bytes: u64,
    ) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *guard;
        let mut room = Room {
            series: &mut inner.series,
            warned: &mut inner.warned,
            max: self.max_series,
        };
        let s = |v: &str| v.to_string();
        if let Some(n) = room.slot(
            &mut inner.calls,
            [s(endpoint), s(tool), s(connection), s(outcome)],
        ) {
            *n += 1;
        }
        if let Some(h) = room.slot(&mut inner.durations, [s(endpoint), s(tool)]) {
            let secs = duration.as_secs_f64();
            if let Some(i) = DURATION_BUCKETS.iter().position(|&le| secs <= le) {
                h.buckets[i] += 1;
            }
            h.sum += secs;
            h.count += 1;
        }
        let key = [s(endpoint), s(tool), s(connection)];
        if let Some(n) = room.slot(&mut inner.rows, key.clone()) {
            *n += rows;
        }
        if let Some(n) = room.slot(&mut inner.bytes, key) {
            *n += bytes;
        }
    }

    /// The exposition text: this registry's families, then `extra` grouped by name (sorted by
    /// name, then labels).
    pub fn render(&self, extra: &[Gauge]) -> String {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();

        header(
            &mut out,
            CALLS,
            "Tool calls by endpoint, tool, connection and outcome (ok or the error code).",
            "counter",
        );
        for (k, v) in &inner.calls {
            sample(
                &mut out,
                CALLS,
                &labels(&["endpoint", "tool", "connection", "outcome"], k),
                *v as f64,
            );
        }

        header(
            &mut out,
            DURATION,
            "Tool call duration in seconds.",
            "histogram",
        );
        for (k, h) in &inner.durations {
            let base = labels(&["endpoint", "tool"], k);
            let mut cumulative = 0;
            for (le, n) in DURATION_BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let mut l = base.clone();
                l.push(("le".to_string(), number(*le)));
                sample(
                    &mut out,
                    &format!("{DURATION}_bucket"),
                    &l,
                    cumulative as f64,
                );
            }
            let mut l = base.clone();
            l.push(("le".to_string(), "+Inf".to_string()));
            sample(&mut out, &format!("{DURATION}_bucket"), &l, h.count as f64);
            sample(&mut out, &format!("{DURATION}_sum"), &base, h.sum);
            sample(
                &mut out,
                &format!("{DURATION}_count"),
                &base,
                h.count as f64,
            );
        }

        for (name, help, map) in [
            (ROWS, "Result rows returned to clients.", &inner.rows),
            (
                BYTES,
                "Bytes of result text returned to clients.",
                &inner.bytes,
            ),
        ] {
            header(&mut out, name, help, "counter");
            for (k, v) in map {
                sample(
                    &mut out,
                    name,
                    &labels(&["endpoint", "tool", "connection"], k),
                    *v as f64,
                );
            }
        }
        drop(inner);

        let mut extra: Vec<&Gauge> = extra.iter().collect();
        extra.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.labels.cmp(&b.labels)));
        let mut last: Option<&str> = None;
        for g in extra {
            if last != Some(g.name.as_str()) {
                let kind = if g.counter { "counter" } else { "gauge" };
                header(&mut out, &g.name, &g.help, kind);
                last = Some(&g.name);
            }
            sample(&mut out, &g.name, &g.labels, g.value);
        }
        out
    }
}

/// Series accounting shared by the families of one update.
struct Room<'a> {
    series: &'a mut usize,
    warned: &'a mut bool,
    max: usize,
}

impl Room<'_> {
    fn slot<'m, K: Ord, V: Default>(
        &mut self,
        map: &'m mut BTreeMap<K, V>,
        key: K,
    ) -> Option<&'m mut V> {
        if !map.contains_key(&key) {
            if *self.series >= self.max {
                if !*self.warned {
                    *self.warned = true;
                    tracing::warn!(
                        max_series = self.max,
                        "metrics: series limit reached; new label combinations are not recorded"
                    );
                }
                return None;
            }
            *self.series += 1;
        }
        Some(map.entry(key).or_default())
    }
}

fn labels(names: &[&str], values: &[String]) -> Vec<(String, String)> {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect()
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    // HELP text escapes only backslash and newline.
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(String, String)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(&number(value));
    out.push('\n');
}

fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// Prometheus spells infinities `+Inf`/`-Inf`; Rust's `Display` has no exponent, which the
/// format accepts.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_HEAD: &str = "\
# HELP mcp_trino_tool_calls_total Tool calls by endpoint, tool, connection and outcome (ok or the error code).
# TYPE mcp_trino_tool_calls_total counter
# HELP mcp_trino_tool_call_duration_seconds Tool call duration in seconds.
# TYPE mcp_trino_tool_call_duration_seconds histogram
# HELP mcp_trino_rows_returned_total Result rows returned to clients.
# TYPE mcp_trino_rows_returned_total counter
# HELP mcp_trino_bytes_returned_total Bytes of result text returned to clients.
# TYPE mcp_trino_bytes_returned_total counter
";

    #[test]
    fn an_empty_registry_renders_headers_only() {
        assert_eq!(Metrics::new().render(&[]), EMPTY_HEAD);
    }

    #[test]
    fn renders_calls_histogram_and_gauges_exactly() {
        let m = Metrics::new();
        let ms = Duration::from_millis;
        m.tool_call("/mcp", "trino_query", "prod", "ok", ms(20), 5, 300);
        m.tool_call("/mcp", "trino_query", "prod", "QUERY_ERROR", ms(1500), 0, 0);
        m.tool_call(
            "/mcp",
            "trino_query",
            "dev",
            "ok",
            Duration::from_secs(400),
            1,
            10,
        );
        let gauges = [
            Gauge::counter(
                "mcp_trino_queries_cancelled_total",
                "Queries cancelled on the cluster.",
                &[("connection", "prod")],
                2.0,
            ),
            Gauge::gauge(
                "mcp_trino_cluster_up",
                "1 when the cluster answered its last health probe.",
                &[("connection", "prod")],
                1.0,
            ),
            Gauge::gauge(
                "mcp_trino_cluster_up",
                "1 when the cluster answered its last health probe.",
                &[("connection", "dev")],
                0.0,
            ),
        ];
        let expected = r#"# HELP mcp_trino_tool_calls_total Tool calls by endpoint, tool, connection and outcome (ok or the error code).
# TYPE mcp_trino_tool_calls_total counter
mcp_trino_tool_calls_total{endpoint="/mcp",tool="trino_query",connection="dev",outcome="ok"} 1
mcp_trino_tool_calls_total{endpoint="/mcp",tool="trino_query",connection="prod",outcome="QUERY_ERROR"} 1
mcp_trino_tool_calls_total{endpoint="/mcp",tool="trino_query",connection="prod",outcome="ok"} 1
# HELP mcp_trino_tool_call_duration_seconds Tool call duration in seconds.
# TYPE mcp_trino_tool_call_duration_seconds histogram
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="0.005"} 0
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="0.01"} 0
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="0.025"} 1
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="0.05"} 1
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="0.1"} 1
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="0.25"} 1
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="0.5"} 1
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="1"} 1
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="2.5"} 2
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="5"} 2
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="10"} 2
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="30"} 2
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="60"} 2
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="120"} 2
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="300"} 2
mcp_trino_tool_call_duration_seconds_bucket{endpoint="/mcp",tool="trino_query",le="+Inf"} 3
mcp_trino_tool_call_duration_seconds_sum{endpoint="/mcp",tool="trino_query"} 401.52
mcp_trino_tool_call_duration_seconds_count{endpoint="/mcp",tool="trino_query"} 3
# HELP mcp_trino_rows_returned_total Result rows returned to clients.
# TYPE mcp_trino_rows_returned_total counter
mcp_trino_rows_returned_total{endpoint="/mcp",tool="trino_query",connection="dev"} 1
mcp_trino_rows_returned_total{endpoint="/mcp",tool="trino_query",connection="prod"} 5
# HELP mcp_trino_bytes_returned_total Bytes of result text returned to clients.
# TYPE mcp_trino_bytes_returned_total counter
mcp_trino_bytes_returned_total{endpoint="/mcp",tool="trino_query",connection="dev"} 10
mcp_trino_bytes_returned_total{endpoint="/mcp",tool="trino_query",connection="prod"} 300
# HELP mcp_trino_cluster_up 1 when the cluster answered its last health probe.
# TYPE mcp_trino_cluster_up gauge
mcp_trino_cluster_up{connection="dev"} 0
mcp_trino_cluster_up{connection="prod"} 1
# HELP mcp_trino_queries_cancelled_total Queries cancelled on the cluster.
# TYPE mcp_trino_queries_cancelled_total counter
mcp_trino_queries_cancelled_total{connection="prod"} 2
"#;
        assert_eq!(m.render(&gauges), expected);
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        let m = Metrics::new();
        m.tool_call("/a\\b", "t\"q\"", "x\ny", "ok", Duration::ZERO, 0, 0);
        let text = m.render(&[Gauge::gauge("g", "line\nwith \\ slash", &[], f64::NAN)]);
        assert!(
            text.contains(
                r#"mcp_trino_tool_calls_total{endpoint="/a\\b",tool="t\"q\"",connection="x\ny",outcome="ok"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains("# HELP g line\\nwith \\\\ slash\n"), "{text}");
        assert!(text.contains("\ng NaN\n"), "{text}");
        // Zero seconds falls in the first bucket (bounds are inclusive).
        assert!(text.contains(r#"le="0.005"} 1"#), "{text}");
        // Every sample is one line: no raw newline inside a label value.
        assert!(text.lines().all(|l| l.starts_with('#') || l.contains(' ')));
    }

    #[test]
    fn series_are_sorted_by_labels_whatever_the_call_order() {
        let a = Metrics::new();
        let b = Metrics::new();
        let calls = [
            ("/mcp", "trino_query", "b", "ok"),
            ("/dev/mcp", "dev_trino_query", "dev", "ok"),
            ("/mcp", "trino_explain", "a", "READ_ONLY"),
            ("/mcp", "trino_query", "a", "ok"),
        ];
        for c in calls {
            a.tool_call(c.0, c.1, c.2, c.3, Duration::from_millis(1), 1, 1);
        }
        for c in calls.iter().rev() {
            b.tool_call(c.0, c.1, c.2, c.3, Duration::from_millis(1), 1, 1);
        }
        let text = a.render(&[]);
        assert_eq!(text, b.render(&[]));
        let order: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("mcp_trino_tool_calls_total{"))
            .collect();
        assert_eq!(
            order,
            [
                r#"mcp_trino_tool_calls_total{endpoint="/dev/mcp",tool="dev_trino_query",connection="dev",outcome="ok"} 1"#,
                r#"mcp_trino_tool_calls_total{endpoint="/mcp",tool="trino_explain",connection="a",outcome="READ_ONLY"} 1"#,
                r#"mcp_trino_tool_calls_total{endpoint="/mcp",tool="trino_query",connection="a",outcome="ok"} 1"#,
                r#"mcp_trino_tool_calls_total{endpoint="/mcp",tool="trino_query",connection="b",outcome="ok"} 1"#,
            ]
        );
    }

    #[test]
    fn the_series_cap_drops_new_series_and_keeps_counting_old_ones() {
        // One call makes 4 series (calls, duration, rows, bytes).
        let m = Metrics::with_max_series(6);
        let d = Duration::from_millis(1);
        m.tool_call("/mcp", "q", "a", "ok", d, 1, 1);
        // Room for 2 more: the new calls and rows series; duration exists already.
        m.tool_call("/mcp", "q", "b", "ok", d, 1, 1);
        for i in 0..1000 {
            m.tool_call("/mcp", "q", &format!("c{i}"), "ok", d, 1, 1);
        }
        m.tool_call("/mcp", "q", "a", "ok", d, 1, 1);
        let text = m.render(&[]);
        let samples = |prefix: &str| text.lines().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(samples("mcp_trino_tool_calls_total{"), 2);
        assert_eq!(samples("mcp_trino_rows_returned_total{"), 2);
        assert_eq!(samples("mcp_trino_bytes_returned_total{"), 1);
        assert!(text.contains(r#"connection="a",outcome="ok"} 2"#), "{text}");
        // The existing histogram kept counting every call.
        assert!(text.contains(
            r#"mcp_trino_tool_call_duration_seconds_count{endpoint="/mcp",tool="q"} 1003"#
        ));
        assert!(!text.contains("c999"));
    }
}
