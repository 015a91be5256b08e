//! One HTTP process, many MCP endpoints (seed 003): `/mcp` for the composed connections,
//! `/{name}/mcp` per connection with `endpoint: true`, health pages, and reload. Each request
//! is checked (Host, Origin, bearer token, body size) before any MCP handling. The current
//! configuration sits behind one pointer that a reload swaps; in-flight calls keep the old.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::clusters::Clusters;
use crate::config::{self, Config, EndpointAuth};
use crate::mcp::{McpServer, Surface};
use crate::metrics::{Gauge, Metrics};

/// How often cluster health is refreshed in the background (health pages never probe).
const HEALTH_INTERVAL: Duration = Duration::from_secs(10);

type Service = StreamableHttpService<McpServer, LocalSessionManager>;

struct Endpoint {
    service: Service,
    auth: EndpointAuth,
}

/// Everything derived from one configuration.
struct Runtime {
    cfg: Config,
    clusters: Arc<Clusters>,
    main: Option<Endpoint>,
    endpoints: HashMap<String, Endpoint>,
}

pub struct App {
    current: RwLock<Arc<Runtime>>,
    /// Lives across reloads, so counters keep counting.
    metrics: Arc<Metrics>,
    config_path: Option<PathBuf>,
    /// Cancelled on shutdown: ends sessions and cancels every running Trino query.
    shutdown: CancellationToken,
}

impl App {
    fn runtime(&self) -> Arc<Runtime> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn build(
    cfg: Config,
    shutdown: &CancellationToken,
    metrics: &Arc<Metrics>,
) -> Result<Runtime, String> {
    let clusters = Arc::new(Clusters::from_config(&cfg)?);
    let budget = cfg.server.response_budget_bytes as usize;
    let endpoint = |surface: Surface, auth: EndpointAuth| {
        let server = McpServer::new(surface, clusters.clone(), budget)
            .with_shutdown(shutdown.clone())
            .with_metrics(metrics.clone())
            .with_log_sql(cfg.server.log_sql);
        let mut http = StreamableHttpServerConfig::default()
            .with_cancellation_token(shutdown.child_token())
            // Host and Origin are checked before the request gets here, with the configured lists.
            .disable_allowed_hosts()
            .with_max_request_body_bytes(cfg.server.max_body_bytes as usize);
        if cfg.server.stateless {
            http = http
                .with_legacy_session_mode(false)
                .with_json_response(true);
        }
        let service = StreamableHttpService::new(
            move || Ok(server.clone()),
            LocalSessionManager::default().into(),
            http,
        );
        Endpoint { service, auth }
    };
    let main_surface = Surface::main(&cfg);
    let main =
        (!main_surface.groups.is_empty()).then(|| endpoint(main_surface, cfg.server.auth.clone()));
    let endpoints = cfg
        .connections
        .iter()
        .filter(|c| c.endpoint)
        .map(|c| {
            (
                c.name.clone(),
                endpoint(Surface::endpoint(c), c.auth.clone()),
            )
        })
        .collect();
    Ok(Runtime {
        cfg,
        clusters,
        main,
        endpoints,
    })
}

/// Serve until SIGTERM/Ctrl-C; reload on SIGHUP. `bind` overrides `server.bind`.
pub async fn serve(
    cfg: Config,
    config_path: Option<PathBuf>,
    bind: Option<SocketAddr>,
) -> anyhow::Result<()> {
    let addr = bind.unwrap_or(cfg.server.bind);
    if !addr.ip().is_loopback() && !cfg.server.allow_unauthenticated_remote {
        let mut check = cfg.clone();
        check.server.bind = addr;
        let open = check.unauthenticated_remote_endpoints();
        if !open.is_empty() {
            anyhow::bail!(
                "refusing to listen on {addr} with endpoints that need no token: {}. Configure auth.bearer_tokens \
                 (server.auth for /mcp), bind to 127.0.0.1, or set server.allow_unauthenticated_remote: true",
                open.join(", ")
            );
        }
    }
    let grace = Duration::from_secs(u64::from(cfg.server.shutdown_grace_seconds));
    let shutdown = CancellationToken::new();
    let metrics = Arc::new(Metrics::new());
    let runtime = build(cfg, &shutdown, &metrics).map_err(anyhow::Error::msg)?;
    let app = Arc::new(App {
        current: RwLock::new(Arc::new(runtime)),
        metrics,
        config_path,
        shutdown: shutdown.clone(),
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    tokio::spawn(health_loop(app.clone()));
    tokio::spawn(reload_on_sighup(app.clone()));
    // One line on stdout when ready (stdout is not the protocol channel over HTTP).
    println!("mcp-trino listening on http://{local}");
    describe(&app.runtime(), local);
    let router = router(app.clone());
    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: cancelling running queries");
        stop.cancel();
    });
    let serving = tokio::spawn(accept_loop(listener, router, shutdown.clone()));
    shutdown.cancelled().await;
    // Cancelled calls send their DELETEs; give them and open responses the grace period.
    let started = tokio::time::Instant::now();
    let waited = tokio::time::timeout(grace, serving).await;
    // Calls dropped with their sessions still owe the cluster a DELETE.
    crate::trino::drain_cancels(
        grace
            .saturating_sub(started.elapsed())
            .max(Duration::from_secs(1)),
    )
    .await;
    match waited {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("server task failed: {e}"),
        Err(_) => tracing::warn!("grace period of {grace:?} passed; exiting"),
    }
    Ok(())
}

/// A client gets this long to send a request's headers; then its connection is closed, so
/// slow clients (slowloris) cannot hold connections open. Bodies and responses (long calls,
/// SSE streams) are not limited by it.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Accept connections until `shutdown`, then let open ones finish (the caller bounds the
/// wait). `axum::serve` would do the same but without a header read timeout.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: CancellationToken,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;

    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(
            router
                .clone()
                .map_request(|r: axum::http::Request<hyper::body::Incoming>| r.map(Body::new)),
        );
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

fn describe(rt: &Runtime, local: SocketAddr) {
    if rt.main.is_some() {
        tracing::info!("MCP endpoint http://{local}/mcp");
    }
    for name in rt.endpoints.keys() {
        tracing::info!("MCP endpoint http://{local}/{name}/mcp");
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/health", get(health_all))
        .route("/metrics", get(metrics))
        .route("/admin/reload", post(reload_request))
        .fallback(dispatch)
        .with_state(app)
}

/// `/mcp`, `/{name}/mcp` and `/{name}/health`. Paths are matched exactly: no dot segments, no
/// encodings, no trailing tricks reach an endpoint.
async fn dispatch(State(app): State<Arc<App>>, req: Request) -> Response {
    let rt = app.runtime();
    let path = req.uri().path().to_string();
    if path == "/mcp" || path == "/mcp/" {
        return match &rt.main {
            Some(e) => mcp(&rt, e, req).await,
            None => not_found(),
        };
    }
    // Exactly one leading `/`: `//beta/mcp` is not `/beta/mcp`.
    let mut parts = path.strip_prefix('/').unwrap_or(&path).splitn(3, '/');
    let (Some(name), Some(leaf), None) = (parts.next(), parts.next(), parts.next()) else {
        return not_found();
    };
    if !valid_name(name) {
        return not_found();
    }
    match leaf {
        "mcp" => match rt.endpoints.get(name) {
            Some(e) => mcp(&rt, e, req).await,
            None => not_found(),
        },
        "health" => health_one(&rt, name),
        _ => not_found(),
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

async fn mcp(rt: &Runtime, endpoint: &Endpoint, req: Request) -> Response {
    if let Err(r) = check_host_and_origin(&rt.cfg, req.headers()) {
        return r;
    }
    if endpoint.auth.is_enabled() {
        let token = bearer(req.headers());
        if !token.is_some_and(|t| endpoint.auth.accepts(t.as_bytes())) {
            return unauthorized();
        }
    }
    let too_big = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > rt.cfg.server.max_body_bytes);
    if too_big {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    }
    let req = match checked_body(req, rt.cfg.server.max_body_bytes).await {
        Ok(req) => req,
        Err(refusal) => return refusal,
    };
    let is_delete = req.method() == axum::http::Method::DELETE;
    match endpoint.service.clone().oneshot(req).await {
        // rmcp ends a session with 202; clients (the Python SDK) expect 200 or 204.
        Ok(resp) if is_delete && resp.status() == StatusCode::ACCEPTED => {
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(resp) => resp.map(Body::new),
        Err(never) => match never {},
    }
}

/// A POST body is read here, bounded (also when chunked), and must be JSON: malformed JSON
/// is a JSON-RPC parse error with 400, as the JSON-RPC over HTTP convention has it (rmcp
/// would answer 415).
#[allow(clippy::result_large_err)]
async fn checked_body(req: Request, max: u64) -> Result<Request, Response> {
    if req.method() != axum::http::Method::POST {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        ));
    };
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if is_json && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
        let body = json!({"jsonrpc": "2.0", "id": null,
            "error": {"code": -32700, "message": "Parse error: the body is not valid JSON"}});
        return Err(json_response(StatusCode::BAD_REQUEST, body));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

// A refusal is a whole response; it is the cold path, so its size does not matter.
#[allow(clippy::result_large_err)]
/// DNS-rebinding defence: the Host must be an allowed name, and a browser Origin, when sent,
/// must be allowed (with an empty list, only origins on an allowed host).
fn check_host_and_origin(cfg: &Config, headers: &HeaderMap) -> Result<(), Response> {
    let allowed_host = |host: &str| {
        cfg.server
            .allowed_hosts
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(host))
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(strip_port);
    if !host.is_some_and(allowed_host) {
        return Err(error(StatusCode::FORBIDDEN, "Host header is not allowed"));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let ok = if cfg.server.allowed_origins.is_empty() {
            url::Url::parse(origin)
                .ok()
                .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
                .is_some_and(|h| allowed_host(&h))
        } else {
            cfg.server
                .allowed_origins
                .iter()
                .any(|a| origin_matches(a, origin))
        };
        if !ok {
            return Err(error(StatusCode::FORBIDDEN, "Origin header is not allowed"));
        }
    }
    Ok(())
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

/// `http://host:port` exactly, or `http://host:*` for any port.
fn origin_matches(allowed: &str, origin: &str) -> bool {
    match allowed.strip_suffix(":*") {
        Some(prefix) => {
            origin == prefix
                || origin.strip_prefix(prefix).is_some_and(|r| {
                    r.starts_with(':') && r[1..].chars().all(|c| c.is_ascii_digit())
                })
        }
        None => allowed.eq_ignore_ascii_case(origin),
    }
}

/// `GET /health`: the process is up, and the last known state of each cluster (no Trino traffic).
async fn health_all(State(app): State<Arc<App>>) -> Response {
    let rt = app.runtime();
    let mut conns = serde_json::Map::new();
    for c in rt.clusters.all() {
        let state = match c.client.cached_health() {
            Some(h) if h.available => "up",
            Some(_) => "down",
            None => "unknown",
        };
        conns.insert(c.name().to_string(), json!(state));
    }
    json_response(
        StatusCode::OK,
        json!({"status": "ok", "connections": conns}),
    )
}

/// `GET /metrics`: Prometheus text. Tool-call series come from the registry; cluster state and
/// cancelled queries are read at scrape time.
async fn metrics(State(app): State<Arc<App>>) -> Response {
    let rt = app.runtime();
    let mut extra = Vec::new();
    for c in rt.clusters.all() {
        let labels = [("connection", c.name())];
        let up = c
            .client
            .cached_health()
            .map_or(0.0, |h| if h.available { 1.0 } else { 0.0 });
        extra.push(Gauge::gauge(
            "mcp_trino_cluster_up",
            "1 when the cluster answered its last health probe.",
            &labels,
            up,
        ));
        extra.push(Gauge::counter(
            "mcp_trino_queries_cancelled_total",
            "Trino queries this server cancelled (limit reached, deadline, client cancel, shutdown).",
            &labels,
            c.client.cancels() as f64,
        ));
    }
    let body = app.metrics.render(&extra);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `GET /{name}/health`: 200 when the cluster answered the last probe, 503 with a reason.
fn health_one(rt: &Runtime, name: &str) -> Response {
    let Some(c) = rt.clusters.get(name) else {
        return not_found();
    };
    match c.client.cached_health() {
        Some(h) if h.available => json_response(
            StatusCode::OK,
            json!({"status": "up", "connection": name, "checked_seconds_ago": h.checked_at.elapsed().as_secs()}),
        ),
        Some(h) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "down", "connection": name, "reason": h.reason, "checked_seconds_ago": h.checked_at.elapsed().as_secs()}),
        ),
        None => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unknown", "connection": name, "reason": "not checked yet"}),
        ),
    }
}

async fn health_loop(app: Arc<App>) {
    let mut reported: HashMap<String, bool> = HashMap::new();
    loop {
        let rt = app.runtime();
        for c in rt.clusters.all() {
            let h = c.client.health(Duration::ZERO).await;
            if reported.get(c.name()) != Some(&h.available) {
                if h.available {
                    tracing::info!(connection = c.name(), "cluster available");
                } else {
                    tracing::warn!(
                        connection = c.name(),
                        reason = h.reason.as_deref().unwrap_or("?"),
                        "cluster unavailable"
                    );
                }
                reported.insert(c.name().to_string(), h.available);
            }
        }
        tokio::select! {
            _ = app.shutdown.cancelled() => return,
            _ = tokio::time::sleep(HEALTH_INTERVAL) => {}
        }
    }
}

/// Re-read the configuration; an invalid one keeps the old running. Reading and parsing
/// run on a blocking thread, so a slow file never stalls the runtime serving calls.
async fn reload(app: &App) -> Result<Vec<String>, String> {
    let path = app.config_path.clone();
    let cfg =
        tokio::task::spawn_blocking(move || config::load(path.as_deref(), &config::process_env))
            .await
            .map_err(|e| format!("reading the configuration failed: {e}"))?
            .map_err(|e| e.to_string())?;
    let old = app.runtime();
    if cfg.server.bind != old.cfg.server.bind {
        tracing::warn!("server.bind changed; it takes effect at the next start");
    }
    let names: Vec<String> = cfg.connections.iter().map(|c| c.name.clone()).collect();
    let runtime = build(cfg, &app.shutdown, &app.metrics)?;
    *app.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(runtime);
    tracing::info!(connections = %names.join(","), "configuration reloaded");
    let rt = app.runtime();
    for c in rt.clusters.all() {
        let c = c.clone();
        tokio::spawn(async move {
            c.client.health(Duration::ZERO).await;
        });
    }
    Ok(names)
}

async fn reload_on_sighup(app: Arc<App>) {
    #[cfg(unix)]
    {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        loop {
            tokio::select! {
                _ = app.shutdown.cancelled() => return,
                got = hup.recv() => if got.is_none() { return },
            }
            if let Err(e) = reload(&app).await {
                tracing::error!("reload failed, keeping the running configuration:\n{e}");
            }
        }
    }
}

/// `POST /admin/reload`, when enabled, with its own token.
async fn reload_request(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let rt = app.runtime();
    let r = &rt.cfg.server.reload_endpoint;
    if !r.enabled {
        return not_found();
    }
    if let Err(resp) = check_host_and_origin(&rt.cfg, &headers) {
        return resp;
    }
    let ok = r
        .token
        .as_ref()
        .is_some_and(|t| bearer(&headers).is_some_and(|b| t.ct_eq(b.as_bytes())));
    if !ok {
        return unauthorized();
    }
    match reload(&app).await {
        Ok(names) => json_response(
            StatusCode::OK,
            json!({"reloaded": true, "connections": names}),
        ),
        Err(e) => {
            tracing::error!("reload failed, keeping the running configuration:\n{e}");
            json_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"reloaded": false, "error": e}),
            )
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    json_response(status, json!({"error": message}))
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found")
}

fn unauthorized() -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, "missing or invalid bearer token");
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"mcp-trino\""),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stripped_from_hosts() {
        assert_eq!(strip_port("localhost:8080"), "localhost");
        assert_eq!(strip_port("[::1]:8080"), "::1");
        assert_eq!(strip_port("example.com"), "example.com");
    }

    #[test]
    fn origins() {
        assert!(origin_matches(
            "http://localhost:*",
            "http://localhost:3000"
        ));
        assert!(origin_matches("http://localhost:*", "http://localhost"));
        assert!(!origin_matches(
            "http://localhost:*",
            "http://localhost.evil.com"
        ));
        assert!(!origin_matches(
            "http://localhost:*",
            "http://localhost:3000/x"
        ));
        assert!(origin_matches(
            "https://app.example.com",
            "https://app.example.com"
        ));
    }

    #[test]
    fn names() {
        assert!(valid_name("prod") && valid_name("us-east_1"));
        assert!(
            !valid_name("..") && !valid_name("Prod") && !valid_name("%2e%2e") && !valid_name("")
        );
    }
}
