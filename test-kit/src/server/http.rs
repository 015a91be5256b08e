//! Routes of the emulated coordinator and the translation of HTTP requests into sessions.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use percent_encoding::percent_decode_str;
use serde_json::json;

use super::auth::AuthOutcome;
use super::knobs::{KnobSettings, RecordedStatement};
use super::query::{Page, PageLimits, Query, TokenError, format_airlift};
use super::{AppState, slug};
use crate::model::ClientSession;

type Shared = State<Arc<AppState>>;

/// Trino caps `targetResultSize` at 128 MB.
const MAX_TARGET_RESULT_SIZE: usize = 128 * 1024 * 1024;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/statement", post(post_statement))
        .route(
            "/v1/statement/queued/{id}/{slug}/{token}",
            get(get_queued).head(head_poll).delete(delete_by_uri),
        )
        .route(
            "/v1/statement/executing/{id}/{slug}/{token}",
            get(get_executing).head(head_poll).delete(delete_by_uri),
        )
        .route("/v1/query/{id}", delete(delete_by_id))
        .route("/v1/info", get(info))
        .route("/v1/info/state", get(info_state))
        .route("/_emulator/state", get(emulator_state))
        .route("/_emulator/knobs", put(set_knobs))
        .route("/_emulator/reset", post(reset))
        .fallback(|| async { plain(StatusCode::NOT_FOUND, "Not Found") })
        .with_state(state)
}

async fn post_statement(State(st): Shared, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    if st.knobs.down.load(Ordering::SeqCst) {
        return dropped_connection();
    }
    let authenticated = match st.cfg.auth.check(&headers) {
        AuthOutcome::Allowed(user) => user,
        AuthOutcome::Denied => return unauthorized(&st),
    };
    let Ok(sql) = String::from_utf8(body.to_vec()) else {
        return plain(StatusCode::BAD_REQUEST, "SQL statement is not valid UTF-8");
    };
    if sql.trim().is_empty() {
        return plain(StatusCode::BAD_REQUEST, "SQL statement is empty");
    }
    let Some(session) = session_from_headers(&headers, authenticated) else {
        return plain(StatusCode::BAD_REQUEST, "User must be set");
    };
    let id = st.next_query_id();
    st.log.push(RecordedStatement {
        query_id: id.clone(),
        sql: sql.clone(),
        user: session.user.clone(),
        source: session.source.clone(),
        catalog: session.catalog.clone(),
        schema: session.schema.clone(),
        client_tags: session.client_tags.clone(),
        session_properties: session
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        headers: headers
            .iter()
            .filter(|(k, _)| *k != header::AUTHORIZATION)
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    });
    st.counters.statements.fetch_add(1, Ordering::SeqCst);
    let query = Query::new(id.clone(), slug(), sql, session);
    let page = query.post_response(&base_url(&st, &headers, &uri));
    st.board.publish(query.info());
    st.queries
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, Arc::new(tokio::sync::Mutex::new(query)));
    json_page(page)
}

async fn get_queued(
    State(st): Shared,
    Path((id, slug, token)): Path<(String, String, u64)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = faults_before_poll(&st).await {
        return r;
    }
    let Some(q) = st.query(&id) else {
        return not_found();
    };
    let mut q = q.lock().await;
    if q.slug != slug {
        return not_found();
    }
    if q.dropped {
        return dropped_connection();
    }
    let result = q
        .queued_get(&base_url(&st, &headers, &uri), token, &st.engine, &st.board)
        .await;
    st.board.publish(q.info());
    page_or_gone(result)
}

async fn get_executing(
    State(st): Shared,
    Path((id, slug, token)): Path<(String, String, u64)>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = faults_before_poll(&st).await {
        return r;
    }
    let Some(q) = st.query(&id) else {
        return not_found();
    };
    let mut q = q.lock().await;
    if q.slug != slug {
        return not_found();
    }
    let drop_after = st.knobs.drop_after_pages.load(Ordering::SeqCst);
    if q.dropped || (drop_after > 0 && q.pages >= drop_after) {
        q.dropped = true;
        return dropped_connection();
    }
    let target = params
        .get("targetResultSize")
        .and_then(|s| parse_data_size(s))
        .unwrap_or(st.cfg.target_result_bytes)
        .clamp(1, MAX_TARGET_RESULT_SIZE);
    let limits = PageLimits {
        target_bytes: target,
        max_rows: st.cfg.page_rows,
    };
    let fail_after = st.knobs.fail_after_pages.load(Ordering::SeqCst);
    let result = q
        .executing_get(&base_url(&st, &headers, &uri), token, limits, fail_after)
        .await;
    st.board.publish(q.info());
    page_or_gone(result)
}

/// Clients may HEAD the current `nextUri` as a heartbeat; it must not advance the query.
async fn head_poll(
    State(st): Shared,
    Path((id, slug, _token)): Path<(String, String, u64)>,
) -> Response {
    match st.query(&id) {
        Some(q) => {
            if let Ok(mut q) = q.try_lock()
                && q.slug == slug
            {
                q.touch();
            }
            StatusCode::OK.into_response()
        }
        None => not_found(),
    }
}

async fn delete_by_uri(
    State(st): Shared,
    Path((id, slug, _token)): Path<(String, String, u64)>,
) -> Response {
    cancel(&st, &id, Some(&slug)).await
}

async fn delete_by_id(State(st): Shared, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let AuthOutcome::Denied = st.cfg.auth.check(&headers) {
        return unauthorized(&st);
    }
    cancel(&st, &id, None).await
}

async fn cancel(st: &AppState, id: &str, slug: Option<&str>) -> Response {
    st.counters.delete_requests.fetch_add(1, Ordering::SeqCst);
    if st.knobs.down.load(Ordering::SeqCst) {
        return dropped_connection();
    }
    let Some(q) = st.query(id) else {
        return not_found();
    };
    let mut q = q.lock().await;
    if slug.is_some_and(|s| s != q.slug) {
        return not_found();
    }
    if q.dropped {
        return dropped_connection();
    }
    if q.cancel() {
        st.counters.cancels.fetch_add(1, Ordering::SeqCst);
    }
    st.board.publish(q.info());
    StatusCode::NO_CONTENT.into_response()
}

async fn info(State(st): Shared) -> Response {
    let body = json!({
        "nodeVersion": {"version": "476"},
        "environment": st.cfg.cluster,
        "coordinator": true,
        "starting": false,
        "uptime": format_airlift(st.started.elapsed()),
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn info_state() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        "\"ACTIVE\"",
    )
        .into_response()
}

async fn emulator_state(State(st): Shared) -> Response {
    let body = json!({
        "cluster": st.cfg.cluster,
        "counters": st.counters.snapshot(),
        "knobs": st.knobs.get(),
        "statements": st.log.all(),
        "queries": st.board_json(),
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn set_knobs(State(st): Shared, body: Bytes) -> Response {
    match serde_json::from_slice::<KnobSettings>(&body) {
        Ok(k) => {
            st.knobs.set(&k);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => plain(StatusCode::BAD_REQUEST, &format!("invalid knobs: {e}")),
    }
}

async fn reset(State(st): Shared) -> Response {
    st.counters.reset();
    st.log.clear();
    StatusCode::NO_CONTENT.into_response()
}

impl AppState {
    fn board_json(&self) -> serde_json::Value {
        use crate::model::QueryCatalog;
        self.board
            .queries()
            .into_iter()
            .map(|q| {
                json!({"query_id": q.query_id, "state": q.state, "user": q.user, "source": q.source,
                       "query": q.query, "error_code": q.error_code})
            })
            .collect()
    }
}

/// Faults that hit every `nextUri` GET before the query is looked at.
async fn faults_before_poll(st: &AppState) -> Option<Response> {
    if st.knobs.down.load(Ordering::SeqCst) {
        return Some(dropped_connection());
    }
    st.counters.polls.fetch_add(1, Ordering::SeqCst);
    if st.knobs.take_unavailable() {
        return Some(gateway_unavailable());
    }
    let delay = st.knobs.page_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    None
}

/// The session of a new query, from the first request's headers only (later GETs carry no
/// session state in Trino's protocol). `None` when no user can be determined.
fn session_from_headers(h: &HeaderMap, authenticated: Option<String>) -> Option<ClientSession> {
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let user = get("x-trino-user").map(str::to_string).or(authenticated)?;
    let mut properties = std::collections::BTreeMap::new();
    for value in h.get_all("x-trino-session") {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(',') {
            if let Some((k, v)) = pair.split_once('=') {
                properties.insert(url_decode(k.trim()), url_decode(v.trim()));
            }
        }
    }
    let client_tags = h
        .get_all("x-trino-client-tags")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let parametric_datetime = h
        .get_all("x-trino-client-capabilities")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|c| c.trim() == "PARAMETRIC_DATETIME");
    Some(ClientSession {
        user,
        source: get("x-trino-source").map(str::to_string),
        catalog: get("x-trino-catalog").map(str::to_string),
        schema: get("x-trino-schema").map(str::to_string),
        time_zone: get("x-trino-time-zone").map(str::to_string),
        properties,
        client_tags,
        parametric_datetime,
    })
}

/// Session values are URL-encoded by clients (`+` for space in Java, `%20` in Python).
fn url_decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The URL clients reached us at, used to build `nextUri`: Trino derives it from the request.
fn base_url(st: &AppState, headers: &HeaderMap, uri: &Uri) -> String {
    // HTTP/2 clients (the Trino CLI's OkHttp over TLS) send `:authority`, not `Host`.
    let from_uri = uri.authority().map(|a| a.as_str().to_string());
    let from_header = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let host = from_uri.or(from_header).filter(|h| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
    });
    match host {
        Some(h) => format!("{}://{h}", st.scheme),
        None => format!("{}://{}", st.scheme, st.addr),
    }
}

/// Parse an airlift data size such as `1MB`, `512kB` or `100B`.
fn parse_data_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let value: f64 = num.trim().parse().ok()?;
    let mult = match unit {
        "B" => 1.0,
        "kB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = value * mult;
    (bytes.is_finite() && bytes >= 1.0).then_some(bytes as usize)
}

fn json_page(page: Page) -> Response {
    let mut r = Response::new(Body::from(page.body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (k, v) in page.headers {
        if let (Ok(k), Ok(v)) = (header::HeaderName::try_from(k), HeaderValue::try_from(v)) {
            r.headers_mut().append(k, v);
        }
    }
    r
}

fn page_or_gone(result: Result<Page, TokenError>) -> Response {
    match result {
        Ok(page) => json_page(page),
        Err(TokenError::Gone) => plain(StatusCode::GONE, "Invalid token"),
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain")],
        text.to_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "Query not found")
}

fn unauthorized(st: &AppState) -> Response {
    let mut r = plain(StatusCode::UNAUTHORIZED, "Unauthorized");
    for c in st.cfg.auth.challenges() {
        r.headers_mut()
            .append(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
    }
    r
}

fn gateway_unavailable() -> Response {
    let html = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/html")],
        html,
    )
        .into_response()
}

/// A response whose body breaks off: the client sees a connection that died mid-page.
fn dropped_connection() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"id\":\"")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "emulated connection drop",
        )),
    ];
    let mut r = Response::new(Body::from_stream(futures::stream::iter(chunks)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("4096"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-trino-user", "alice".parse().unwrap());
        h.insert("x-trino-catalog", "tpch".parse().unwrap());
        h.append("x-trino-session", "a=1,b=x%20y".parse().unwrap());
        h.append("x-trino-session", "c=p+q".parse().unwrap());
        h.insert(
            "x-trino-client-tags",
            "mcp-trino, tool=trino_query".parse().unwrap(),
        );
        h.insert(
            "x-trino-client-capabilities",
            "NUMBER,PARAMETRIC_DATETIME".parse().unwrap(),
        );
        let s = session_from_headers(&h, None).unwrap();
        assert_eq!(s.user, "alice");
        assert_eq!(s.catalog.as_deref(), Some("tpch"));
        assert_eq!(s.properties.get("b").map(String::as_str), Some("x y"));
        assert_eq!(s.properties.get("c").map(String::as_str), Some("p q"));
        assert_eq!(s.client_tags, vec!["mcp-trino", "tool=trino_query"]);
        assert!(s.parametric_datetime);
        assert!(session_from_headers(&HeaderMap::new(), None).is_none());
        assert_eq!(
            session_from_headers(&HeaderMap::new(), Some("bob".into()))
                .unwrap()
                .user,
            "bob"
        );
    }

    #[test]
    fn data_sizes() {
        assert_eq!(parse_data_size("1MB"), Some(1024 * 1024));
        assert_eq!(parse_data_size("16kB"), Some(16 * 1024));
        assert_eq!(parse_data_size("100B"), Some(100));
        assert_eq!(parse_data_size("lots"), None);
        assert_eq!(parse_data_size("0B"), None);
    }
}
