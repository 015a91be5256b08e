//! The Trino REST client of one connection: a fresh session per call built from
//! configuration, `nextUri` paging with bounded retries, and a cancel on every way out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::error::{ClientError, QueryFailure};
use super::protocol::{Column, QueryResults, Stats};
use super::tls;
use crate::config::Connection;

/// A page bigger than this is refused rather than buffered (Trino's pages are ~1 MB).
const MAX_PAGE_BYTES: usize = 64 * 1024 * 1024;
/// Bounded retries of one `nextUri` GET on gateway errors and cut connections.
const MAX_ATTEMPTS: u32 = 8;
/// The cluster-side time limit is a backstop a little past our own deadline.
const BACKSTOP_GRACE_SECS: u64 = 10;
/// How long a cancel may take before we give up on it.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);
/// User sent when the configuration names none (Trino requires one).
const FALLBACK_USER: &str = "mcp-trino";

/// Receives a query's result as it streams in.
pub trait RowSink: Send {
    fn columns(&mut self, columns: &[Column]);
    /// Take one row; return `false` to stop reading (the query is then cancelled).
    fn row(&mut self, row: Vec<Value>) -> bool;
    /// Trino's statistics after each page, for progress reporting.
    fn progress(&mut self, _stats: &Stats) {}
    /// How many more rows the sink will take (one past a row limit, to see that the result
    /// was cut); `None`: all of them.
    fn rows_wanted(&self) -> Option<usize> {
        None
    }
    /// How many more bytes of rows the sink will take; `None`: no bound.
    fn bytes_wanted(&self) -> Option<usize> {
        None
    }
}

/// Trino's default page size (`targetResultSize`): pages are never asked to be larger.
const DEFAULT_PAGE_BYTES: usize = 1 << 20;
/// Smallest page asked for, so a wrong guess costs few extra round trips.
const MIN_PAGE_BYTES: usize = 16 << 10;
/// Row size assumed before the first rows arrive.
const GUESSED_ROW_BYTES: usize = 128;

/// The `targetResultSize` to ask for: no more than the sink still wants (with a quarter to
/// spare), so a cluster does not produce, and we do not parse, rows past a limit or a byte
/// budget. `None` keeps Trino's default.
fn page_target(
    rows: Option<usize>,
    bytes: Option<usize>,
    row_bytes: Option<usize>,
) -> Option<usize> {
    let per_row = row_bytes.unwrap_or(GUESSED_ROW_BYTES).max(1);
    let by_rows = rows.map(|r| r.saturating_mul(per_row));
    let want = by_rows.into_iter().chain(bytes).min()?;
    let target = want.saturating_add(want / 4);
    (target < DEFAULT_PAGE_BYTES).then_some(target.max(MIN_PAGE_BYTES))
}

/// `uri` with `targetResultSize` (only executing pages take it).
fn with_page_target(mut uri: Url, target: Option<usize>) -> Url {
    if let Some(t) = target
        && uri.path().starts_with("/v1/statement/executing/")
    {
        uri.query_pairs_mut()
            .append_pair("targetResultSize", &format!("{t}B"));
    }
    uri
}

/// One statement to run.
pub struct Call<'a> {
    pub sql: &'a str,
    /// Tool name, sent as a client tag so cluster admins can see where a query came from.
    pub tool: &'a str,
    pub timeout: Duration,
    pub cancel: CancellationToken,
}

/// How a statement ended when it did not fail.
#[derive(Debug, Clone)]
pub struct Finished {
    pub query_id: String,
    pub columns: Vec<Column>,
    /// The sink stopped reading early and the rest of the query was cancelled.
    pub stopped_early: bool,
    pub update_type: Option<String>,
    pub update_count: Option<i64>,
    pub warnings: Vec<String>,
    pub stats: Stats,
    pub elapsed: Duration,
}

#[derive(Clone)]
pub struct TrinoClient {
    http: reqwest::Client,
    base: Url,
    conn: Arc<Connection>,
    /// Tags that name this server (and endpoint), added to every query.
    server_tags: Arc<Vec<String>>,
    pub(super) health: Arc<super::health::HealthCache>,
    /// Cancels sent (DELETE requests), shared by clones; read for metrics.
    cancels: Arc<AtomicU64>,
}

impl TrinoClient {
    pub fn new(conn: &Connection, server_tags: Vec<String>) -> Result<Self, String> {
        // reqwest panics if no provider is installed, even for plain HTTP.
        tls::install_crypto_provider();
        let base = Url::parse(&conn.base_url())
            .map_err(|e| format!("connection '{}': bad URL: {e}", conn.name))?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60));
        if conn.ssl {
            let tls =
                tls::client_config(conn).map_err(|e| format!("connection '{}': {e}", conn.name))?;
            builder = builder.tls_backend_preconfigured(tls);
        }
        let http = builder
            .build()
            .map_err(|e| format!("connection '{}': HTTP client: {e}", conn.name))?;
        Ok(TrinoClient {
            http,
            base,
            conn: Arc::new(conn.clone()),
            server_tags: Arc::new(server_tags),
            health: Arc::new(super::health::HealthCache::default()),
            cancels: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// How many queries this client has cancelled on the cluster (DELETEs sent).
    pub fn cancels(&self) -> u64 {
        self.cancels.load(Ordering::Relaxed)
    }

    pub(super) fn base(&self) -> &Url {
        &self.base
    }

    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Run one statement, streaming rows into `sink`. Whatever happens (error, deadline,
    /// cancellation, early stop, or this future being dropped), a query still running on the
    /// cluster is cancelled.
    pub async fn run(
        &self,
        call: Call<'_>,
        sink: &mut dyn RowSink,
    ) -> Result<Finished, ClientError> {
        let started = Instant::now();
        let deadline = started + call.timeout;
        if call.cancel.is_cancelled() {
            return Err(ClientError::Cancelled { query_id: None });
        }
        let submit = self.submit(&call);
        tokio::pin!(submit);
        let stopped = tokio::select! {
            biased;
            r = &mut submit => Ok(r?),
            _ = call.cancel.cancelled() => Err(ClientError::Cancelled { query_id: None }),
            _ = tokio::time::sleep_until(deadline.into()) => Err(ClientError::Timeout { query_id: None }),
        };
        let first = match stopped {
            Ok(first) => first,
            Err(mut e) => {
                // Stopped while the statement was being submitted: let the answer arrive
                // (briefly) so the query can be cancelled instead of left on the cluster.
                if let Ok(Ok(first)) = tokio::time::timeout(CANCEL_TIMEOUT, &mut submit).await {
                    cancel_query(self, &first.id, first.next_uri.as_deref()).await;
                    match &mut e {
                        ClientError::Cancelled { query_id } | ClientError::Timeout { query_id } => {
                            *query_id = Some(first.id)
                        }
                        _ => {}
                    }
                }
                return Err(e);
            }
        };
        let mut guard = CancelGuard {
            client: self.clone(),
            query_id: first.id.clone(),
            next_uri: None,
        };
        let mut columns: Option<Vec<Column>> = None;
        // Rows and body bytes of the data pages so far: the row size behind `page_target`.
        let (mut seen_rows, mut seen_bytes) = (0usize, 0usize);
        let mut page = first;
        loop {
            if let Some(e) = page.error.take() {
                guard.disarm();
                return Err(ClientError::Query(QueryFailure {
                    query_id: page.id,
                    error_name: e.error_name,
                    error_code: e.error_code,
                    error_type: e.error_type,
                    message: e.message,
                    location: e.error_location,
                }));
            }
            if columns.is_none()
                && let Some(c) = page.columns.take()
            {
                sink.columns(&c);
                columns = Some(c);
            }
            let mut stopped = false;
            if let Some(data) = page.data.take() {
                seen_rows += data.len();
                seen_bytes += page.body_bytes;
                if columns.is_none() {
                    return Err(guard
                        .fail("the coordinator sent rows before columns".into())
                        .await);
                }
                for row in data {
                    if !sink.row(row) {
                        stopped = true;
                        break;
                    }
                }
            }
            sink.progress(&page.stats);
            guard.next_uri = page.next_uri.clone();
            let finished = |stopped_early| Finished {
                query_id: page.id.clone(),
                columns: columns.clone().unwrap_or_default(),
                stopped_early,
                update_type: page.update_type.clone(),
                update_count: page.update_count,
                warnings: page.warnings.iter().map(|w| w.message.clone()).collect(),
                stats: page.stats.clone(),
                elapsed: started.elapsed(),
            };
            let Some(next) = page.next_uri.clone() else {
                guard.disarm();
                return Ok(finished(false));
            };
            if stopped {
                let done = finished(true);
                guard.cancel_now().await;
                return Ok(done);
            }
            let row_bytes = (seen_rows > 0).then(|| seen_bytes / seen_rows);
            let target = page_target(sink.rows_wanted(), sink.bytes_wanted(), row_bytes);
            let next = match self.same_origin(&next) {
                Some(u) => with_page_target(u, target),
                None => {
                    guard.next_uri = None;
                    let msg = "the coordinator sent a nextUri on another scheme, host or port; refusing to follow it";
                    return Err(guard.fail(msg.into()).await);
                }
            };
            page = match self
                .fetch(next, deadline, &call.cancel, &guard.query_id)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    guard.cancel_now().await;
                    return Err(e);
                }
            };
        }
    }

    /// The first request; never retried, so a statement is never submitted twice.
    async fn submit(&self, call: &Call<'_>) -> Result<QueryResults, ClientError> {
        let url = self
            .base
            .join("/v1/statement")
            .map_err(|e| ClientError::Protocol {
                message: format!("bad statement URL: {e}"),
                query_id: None,
            })?;
        let resp = self
            .http
            .post(url)
            .headers(self.session_headers(call.tool, call.timeout))
            .header(CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(call.sql.to_string())
            .send()
            .await
            .map_err(|e| connection_error(&e))?;
        let status = resp.status();
        match status {
            StatusCode::OK => read_results(resp, None)
                .await
                .map_err(|f| f.into_error(None)),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(ClientError::AuthFailed {
                status: status.as_u16(),
            }),
            StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => Err(ClientError::ConnectionFailed {
                reason: format!("the coordinator is unavailable (HTTP {})", status.as_u16()),
            }),
            _ => {
                let text = body_snippet(resp).await;
                Err(ClientError::Protocol {
                    message: format!(
                        "the coordinator refused the statement (HTTP {}){text}",
                        status.as_u16()
                    ),
                    query_id: None,
                })
            }
        }
    }

    /// GET a `nextUri`, retrying gateway errors and cut connections within the deadline.
    async fn fetch(
        &self,
        url: Url,
        deadline: Instant,
        cancel: &CancellationToken,
        query_id: &str,
    ) -> Result<QueryResults, ClientError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let once = async {
                let resp = self
                    .http
                    .get(url.clone())
                    .headers(self.request_headers())
                    .send()
                    .await;
                let resp = match resp {
                    Ok(r) => r,
                    Err(e) => return Err(Fault::Retry(connection_error(&e).to_string())),
                };
                let status = resp.status();
                match status {
                    StatusCode::OK => read_results(resp, Some(query_id)).await,
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                        Err(Fault::Fatal(ClientError::AuthFailed {
                            status: status.as_u16(),
                        }))
                    }
                    StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT => {
                        Err(Fault::Retry(format!("HTTP {}", status.as_u16())))
                    }
                    StatusCode::NOT_FOUND | StatusCode::GONE => {
                        Err(Fault::Fatal(ClientError::Protocol {
                            message: format!(
                                "the coordinator no longer knows this query (HTTP {}); it may have restarted",
                                status.as_u16()
                            ),
                            query_id: Some(query_id.to_string()),
                        }))
                    }
                    _ => {
                        let text = body_snippet(resp).await;
                        Err(Fault::Fatal(ClientError::Protocol {
                            message: format!(
                                "unexpected HTTP {} from the coordinator{text}",
                                status.as_u16()
                            ),
                            query_id: Some(query_id.to_string()),
                        }))
                    }
                }
            };
            let outcome = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(ClientError::Cancelled { query_id: Some(query_id.into()) }),
                r = tokio::time::timeout_at(deadline.into(), once) => match r {
                    Ok(r) => r,
                    Err(_) => return Err(ClientError::Timeout { query_id: Some(query_id.into()) }),
                },
            };
            let reason = match outcome {
                Ok(results) => return Ok(results),
                Err(Fault::Fatal(e)) => return Err(e),
                Err(Fault::Retry(reason)) => reason,
            };
            if attempt >= MAX_ATTEMPTS {
                return Err(ClientError::ConnectionFailed {
                    reason: format!(
                        "the coordinator stopped answering after {attempt} attempts ({reason})"
                    ),
                });
            }
            tracing::debug!(query_id, attempt, reason, "retrying nextUri");
            let backoff =
                Duration::from_millis(50u64 << attempt.min(5)).min(Duration::from_secs(1));
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(ClientError::Cancelled { query_id: Some(query_id.into()) }),
                _ = tokio::time::sleep_until(deadline.into()) => {
                    return Err(ClientError::Timeout { query_id: Some(query_id.into()) })
                }
                _ = tokio::time::sleep(backoff) => {}
            }
        }
    }

    /// `nextUri` is followed only on the coordinator's own scheme, host and port: anything else
    /// could send our credentials to a stranger.
    fn same_origin(&self, uri: &str) -> Option<Url> {
        let u = Url::parse(uri).ok()?;
        let same = u.scheme() == self.base.scheme()
            && u.host_str().map(str::to_ascii_lowercase)
                == self.base.host_str().map(str::to_ascii_lowercase)
            && u.port_or_known_default() == self.base.port_or_known_default()
            && u.username().is_empty()
            && u.password().is_none();
        same.then_some(u)
    }

    /// Headers every request carries: identity and authentication.
    pub(super) fn request_headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        let user = self.conn.user.as_deref().unwrap_or(FALLBACK_USER);
        insert(&mut h, "x-trino-user", user);
        h.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("mcp-trino/", env!("CARGO_PKG_VERSION"))),
        );
        if let Some(token) = &self.conn.token {
            insert(
                &mut h,
                AUTHORIZATION.as_str(),
                &format!("Bearer {}", token.expose()),
            );
        } else if let Some(password) = &self.conn.password {
            use base64::Engine as _;
            let pair = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", password.expose()));
            insert(&mut h, AUTHORIZATION.as_str(), &format!("Basic {pair}"));
        }
        if let Some(v) = h.get_mut(AUTHORIZATION) {
            v.set_sensitive(true);
        }
        h
    }

    /// The whole session of a new query, from configuration only: nothing a previous
    /// response set and nothing the MCP client sent.
    fn session_headers(&self, tool: &str, timeout: Duration) -> HeaderMap {
        let mut h = self.request_headers();
        insert(&mut h, "x-trino-source", &self.conn.source);
        if let Some(c) = &self.conn.catalog {
            insert(&mut h, "x-trino-catalog", c);
        }
        if let Some(s) = &self.conn.schema {
            insert(&mut h, "x-trino-schema", s);
        }
        let mut tags: Vec<String> = vec!["mcp-trino".into(), format!("mcp-tool={tool}")];
        tags.extend(self.server_tags.iter().cloned());
        tags.extend(self.conn.client_tags.iter().cloned());
        insert(&mut h, "x-trino-client-tags", &tags.join(","));
        let mut props = self.conn.session_properties.clone();
        let backstop = timeout.as_secs() + BACKSTOP_GRACE_SECS;
        let keep_configured = props
            .get("query_max_run_time")
            .and_then(|v| parse_duration_secs(v))
            .is_some_and(|configured| configured <= backstop);
        if !keep_configured {
            props.insert("query_max_run_time".into(), format!("{backstop}s"));
        }
        let session: Vec<String> = props
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect();
        insert(&mut h, "x-trino-session", &session.join(","));
        insert(&mut h, "x-trino-client-capabilities", "PARAMETRIC_DATETIME");
        h
    }
}

/// Cancels the query on the cluster unless disarmed; a dropped guard cancels in the background.
struct CancelGuard {
    client: TrinoClient,
    query_id: String,
    next_uri: Option<String>,
}

impl CancelGuard {
    fn disarm(&mut self) {
        self.query_id.clear();
    }

    async fn cancel_now(&mut self) {
        if self.query_id.is_empty() {
            return;
        }
        let (client, id, next) = (
            self.client.clone(),
            std::mem::take(&mut self.query_id),
            self.next_uri.take(),
        );
        // Tracked, so that shutdown can wait for it even if this call is dropped meanwhile.
        let task = CANCELS.spawn(async move { cancel_query(&client, &id, next.as_deref()).await });
        let _ = task.await;
    }

    async fn fail(&mut self, message: String) -> ClientError {
        let query_id = Some(self.query_id.clone());
        self.cancel_now().await;
        ClientError::Protocol { message, query_id }
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if self.query_id.is_empty() {
            return;
        }
        let (client, id, next) = (
            self.client.clone(),
            std::mem::take(&mut self.query_id),
            self.next_uri.take(),
        );
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            CANCELS.spawn_on(
                async move { cancel_query(&client, &id, next.as_deref()).await },
                &rt,
            );
        }
    }
}

/// Every cancel in flight, process-wide: a dropped call's DELETE must still go out before the
/// process exits.
static CANCELS: std::sync::LazyLock<tokio_util::task::TaskTracker> =
    std::sync::LazyLock::new(tokio_util::task::TaskTracker::new);

/// At shutdown: let cancelled calls reach their DELETE, then wait (bounded) until every
/// cancel has been sent.
pub async fn drain_cancels(max: Duration) {
    let deadline = tokio::time::Instant::now() + max;
    // Calls see the shutdown token within a poll; give them a moment to start their cancel.
    tokio::time::sleep(Duration::from_millis(100).min(max)).await;
    CANCELS.close();
    let _ = tokio::time::timeout_at(deadline, CANCELS.wait()).await;
    CANCELS.reopen();
}

/// `DELETE` the current `nextUri` (or `/v1/query/{id}` when it is not ours); best effort.
async fn cancel_query(client: &TrinoClient, query_id: &str, next_uri: Option<&str>) {
    let target = next_uri
        .and_then(|u| client.same_origin(u))
        .or_else(|| client.base.join(&format!("/v1/query/{query_id}")).ok());
    let Some(target) = target else { return };
    client.cancels.fetch_add(1, Ordering::Relaxed);
    let req = client
        .http
        .delete(target)
        .headers(client.request_headers())
        .send();
    match tokio::time::timeout(CANCEL_TIMEOUT, req).await {
        Ok(Ok(r)) if r.status().is_success() => tracing::debug!(query_id, "query cancelled"),
        Ok(Ok(r)) => tracing::warn!(query_id, status = r.status().as_u16(), "cancel refused"),
        Ok(Err(_)) | Err(_) => tracing::warn!(query_id, "cancel did not reach the coordinator"),
    }
}

enum Fault {
    Retry(String),
    Fatal(ClientError),
}

impl Fault {
    fn into_error(self, query_id: Option<&str>) -> ClientError {
        match self {
            Fault::Fatal(e) => e,
            Fault::Retry(reason) => ClientError::Protocol {
                message: reason,
                query_id: query_id.map(str::to_string),
            },
        }
    }
}

/// Read and parse a `QueryResults` page, bounded in size. A cut body is retryable (the same
/// token replays the same page); bad JSON or an HTML page is not.
async fn read_results(
    mut resp: reqwest::Response,
    query_id: Option<&str>,
) -> Result<QueryResults, Fault> {
    let mut body: Vec<u8> = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_PAGE_BYTES {
                    return Err(Fault::Fatal(ClientError::Protocol {
                        message: format!(
                            "a result page is larger than {} MiB",
                            MAX_PAGE_BYTES / (1024 * 1024)
                        ),
                        query_id: query_id.map(str::to_string),
                    }));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(_) => {
                return Err(Fault::Retry(
                    "the connection was cut while reading a page".into(),
                ));
            }
        }
    }
    decode_page(&body, query_id)
}

/// A whole page body: blank is retryable (the same token replays the page); an HTML page,
/// bad JSON or a document of the wrong shape is not.
fn decode_page(body: &[u8], query_id: Option<&str>) -> Result<QueryResults, Fault> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Fault::Retry("empty response".into()));
    }
    let mut page = serde_json::from_slice::<QueryResults>(body).map_err(|e| {
        let message = if looks_like_html(body) {
            "the coordinator answered with an HTML page instead of JSON (a proxy or gateway error?)"
                .to_string()
        } else {
            format!(
                "malformed response from the coordinator: {}",
                e.classify_text()
            )
        };
        Fault::Fatal(ClientError::Protocol {
            message,
            query_id: query_id.map(str::to_string),
        })
    })?;
    page.body_bytes = body.len();
    Ok(page)
}

/// [`decode_page`] of a first response, with the error the call would end with. Not an API:
/// for the fuzz targets in `fuzz/` (as `trino::decode_page`).
#[doc(hidden)]
pub fn decode_page_for_fuzzing(body: &[u8]) -> Result<QueryResults, ClientError> {
    decode_page(body, None).map_err(|f| f.into_error(None))
}

trait ClassifyText {
    fn classify_text(&self) -> &'static str;
}

impl ClassifyText for serde_json::Error {
    /// A category, never the body: error text could echo data or secrets.
    fn classify_text(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Eof => "truncated JSON",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "JSON of an unexpected shape",
            serde_json::error::Category::Io => "unreadable body",
        }
    }
}

fn looks_like_html(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(256)]).to_ascii_lowercase();
    head.trim_start().starts_with('<') || head.contains("<html")
}

/// The first line of a non-JSON error body (bounded, control characters removed), for messages.
async fn body_snippet(resp: reqwest::Response) -> String {
    let Ok(bytes) = resp.bytes().await else {
        return String::new();
    };
    if looks_like_html(&bytes) {
        return ": an HTML error page".into();
    }
    let text: String = String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if text.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", text.trim())
    }
}

/// A clear reason for a failed exchange: refused, DNS, TLS, timeout; never a URL or secret.
pub(super) fn connection_error(e: &reqwest::Error) -> ClientError {
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        chain.push_str(&s.to_string().to_ascii_lowercase());
        chain.push(' ');
        source = s.source();
    }
    let reason = if chain.contains("connection refused") {
        "connection refused".to_string()
    } else if chain.contains("dns")
        || chain.contains("failed to lookup")
        || chain.contains("name or service not known")
    {
        "the host name could not be resolved".to_string()
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake")
    {
        "the TLS handshake failed (check ssl, ssl_verify and ca_cert)".to_string()
    } else if e.is_timeout() || chain.contains("timed out") {
        "the connection timed out".to_string()
    } else if chain.contains("reset") || chain.contains("closed") || chain.contains("broken pipe") {
        "the connection was closed by the server".to_string()
    } else {
        "the server could not be reached".to_string()
    };
    ClientError::ConnectionFailed { reason }
}

fn insert(h: &mut HeaderMap, name: &str, value: &str) {
    // Config validation refuses control characters, so this cannot fail for configured values.
    if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
        h.insert(n, v);
    }
}

/// Session property values are URL-encoded, as the official clients send them.
fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Seconds of a Trino duration like `90s`, `2m`, `1.5h`.
fn parse_duration_secs(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = s.split_at(split);
    let n: f64 = n.trim().parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then_some(secs.ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("90s"), Some(90));
        assert_eq!(parse_duration_secs("2m"), Some(120));
        assert_eq!(parse_duration_secs("1.5h"), Some(5400));
        assert_eq!(parse_duration_secs("soon"), None);
    }

    #[test]
    fn page_targets() {
        // Nothing bounded, or bounds past Trino's default: the default.
        assert_eq!(page_target(None, None, None), None);
        assert_eq!(page_target(Some(100_000), None, Some(100)), None);
        // 1,001 rows of 80 bytes, a quarter to spare.
        assert_eq!(page_target(Some(1001), None, Some(80)), Some(100_100));
        // Before any row: the guessed size.
        assert_eq!(page_target(Some(1001), None, None), Some(1001 * 160));
        // The byte bound when it is the smaller; never under the floor.
        assert_eq!(
            page_target(Some(1001), Some(40_000), Some(80)),
            Some(50_000)
        );
        assert_eq!(
            page_target(Some(1), Some(10), Some(80)),
            Some(MIN_PAGE_BYTES)
        );
        assert_eq!(page_target(Some(0), None, Some(0)), Some(MIN_PAGE_BYTES));
    }

    #[test]
    fn page_target_only_on_executing_pages() {
        let exec = Url::parse("http://c:8080/v1/statement/executing/q/s/3").unwrap();
        assert_eq!(
            with_page_target(exec.clone(), Some(20_000)).as_str(),
            "http://c:8080/v1/statement/executing/q/s/3?targetResultSize=20000B"
        );
        assert_eq!(with_page_target(exec.clone(), None), exec);
        let queued = Url::parse("http://c:8080/v1/statement/queued/q/s/1").unwrap();
        assert_eq!(with_page_target(queued.clone(), Some(20_000)), queued);
    }

    #[test]
    fn html_detection() {
        assert!(looks_like_html(b"<html><body>502</body></html>"));
        assert!(looks_like_html(b"  <!DOCTYPE html>"));
        assert!(!looks_like_html(b"{\"id\":1}"));
    }
}
