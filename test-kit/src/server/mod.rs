//! The emulated coordinator: HTTP endpoints of Trino's client protocol over the engine.
//!
//! - `http`: routes and request parsing.
//! - `query`: one query's state machine and page building.
//! - `auth`, `tls`: optional basic/bearer authentication and HTTPS.
//! - `knobs`: fault injection and counters for tests.

mod auth;
mod http;
pub mod knobs;
mod query;
mod tls;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

pub use auth::AuthConfig;
pub use knobs::{CounterSnapshot, KnobSettings, Knobs, RecordedStatement};
pub use tls::TlsMaterial;

use crate::engine::{Engine, EngineConfig};
use crate::model::{QueryCatalog, QueryInfo};
use knobs::{Counters, StatementLog};
use query::Query;

/// How one emulated cluster is started.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub bind: SocketAddr,
    /// `prod`, `staging` or `dev`: selects the dataset and `/v1/info` environment.
    pub cluster: String,
    pub tls: Option<TlsMaterial>,
    pub auth: AuthConfig,
    /// Cap on rows per page, on top of the byte target.
    pub page_rows: Option<usize>,
    /// Target JSON size of a data page (Trino's default `targetResultSize` is 1 MB).
    pub target_result_bytes: usize,
    pub synthetic_rows: u64,
    /// Queries not polled for this long fail with ABANDONED_QUERY (Trino's `query.client.timeout`).
    pub client_timeout: Duration,
    pub knobs: KnobSettings,
}

impl EmulatorConfig {
    pub fn new(cluster: &str) -> Self {
        EmulatorConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            cluster: cluster.to_string(),
            tls: None,
            auth: AuthConfig::default(),
            page_rows: None,
            target_result_bytes: 1024 * 1024,
            synthetic_rows: 10_000_000,
            client_timeout: Duration::from_secs(300),
            knobs: KnobSettings::default(),
        }
    }
}

/// The coordinator's list of queries as `system.runtime.queries` shows it.
#[derive(Default)]
pub(crate) struct Board {
    infos: Mutex<BTreeMap<String, QueryInfo>>,
}

const BOARD_CAPACITY: usize = 5_000;

impl Board {
    pub(crate) fn publish(&self, info: QueryInfo) {
        let mut m = self.infos.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(info.query_id.clone(), info);
        // Ids sort by creation time, so the first keys are the oldest.
        while m.len() > BOARD_CAPACITY {
            let Some(k) = m.keys().next().cloned() else {
                break;
            };
            m.remove(&k);
        }
    }
}

impl QueryCatalog for Board {
    fn queries(&self) -> Vec<QueryInfo> {
        self.infos
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

pub(crate) struct AppState {
    pub cfg: EmulatorConfig,
    /// The address actually bound (the configured one may have port 0).
    pub addr: SocketAddr,
    pub scheme: &'static str,
    pub engine: Engine,
    pub queries: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Query>>>>,
    pub board: Arc<Board>,
    pub knobs: Knobs,
    pub counters: Counters,
    pub log: StatementLog,
    seq: AtomicU64,
    coordinator_id: String,
    pub started: Instant,
}

impl AppState {
    pub(crate) fn next_query_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::SeqCst) % 100_000;
        let now = chrono::Utc::now().format("%Y%m%d_%H%M%S");
        format!("{now}_{n:05}_{}", self.coordinator_id)
    }

    pub(crate) fn query(&self, id: &str) -> Option<Arc<tokio::sync::Mutex<Query>>> {
        self.queries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }
}

/// A running emulated cluster. Dropping it without `stop` leaves the server task running
/// until the runtime ends.
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<AppState>,
    handle: axum_server::Handle<SocketAddr>,
    background: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Emulator {
    pub async fn start(cfg: EmulatorConfig) -> anyhow::Result<Self> {
        if cfg.auth.basic.is_some() && cfg.tls.is_none() {
            anyhow::bail!(
                "basic authentication needs TLS (--tls-cert/--tls-key): Trino accepts passwords only over HTTPS"
            );
        }
        tls::install_crypto_provider();
        let board = Arc::new(Board::default());
        let engine = Engine::new(
            EngineConfig {
                cluster: cfg.cluster.clone(),
                synthetic_rows: cfg.synthetic_rows,
            },
            board.clone(),
        )
        .await
        .context("starting the SQL engine")?;
        let knobs = Knobs::default();
        knobs.set(&cfg.knobs);
        let scheme = if cfg.tls.is_some() { "https" } else { "http" };
        let listener = std::net::TcpListener::bind(cfg.bind)
            .with_context(|| format!("binding {}", cfg.bind))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(AppState {
            addr,
            scheme,
            engine,
            queries: Mutex::new(HashMap::new()),
            board,
            knobs,
            counters: Counters::default(),
            log: StatementLog::default(),
            seq: AtomicU64::new(0),
            coordinator_id: coordinator_id(),
            started: Instant::now(),
            cfg,
        });
        let app = http::router(state.clone());
        let handle = axum_server::Handle::new();
        let task = match &state.cfg.tls {
            Some(t) => {
                let rustls = axum_server::tls_rustls::RustlsConfig::from_pem(
                    t.cert_pem.clone().into(),
                    t.key_pem.clone().into(),
                )
                .await
                .context("loading the TLS certificate and key")?;
                let server = axum_server::from_tcp_rustls(listener, rustls)?.handle(handle.clone());
                tokio::spawn(async move {
                    if let Err(e) = server.serve(app.into_make_service()).await {
                        tracing::error!("emulator server stopped: {e}");
                    }
                })
            }
            None => {
                let server = axum_server::from_tcp(listener)?.handle(handle.clone());
                tokio::spawn(async move {
                    if let Err(e) = server.serve(app.into_make_service()).await {
                        tracing::error!("emulator server stopped: {e}");
                    }
                })
            }
        };
        let background = CancellationToken::new();
        tokio::spawn(reaper(state.clone(), background.clone()));
        Ok(Emulator {
            addr,
            state,
            handle,
            background,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.state.scheme, self.addr)
    }

    pub fn cluster(&self) -> &str {
        &self.state.cfg.cluster
    }

    pub fn knobs(&self) -> &Knobs {
        &self.state.knobs
    }

    pub fn counters(&self) -> CounterSnapshot {
        self.state.counters.snapshot()
    }

    pub fn statements(&self) -> Vec<RecordedStatement> {
        self.state.log.all()
    }

    pub fn queries(&self) -> Vec<QueryInfo> {
        self.state.board.queries()
    }

    /// Clear counters and the statement log (knobs stay as they are).
    pub fn reset(&self) {
        self.state.counters.reset();
        self.state.log.clear();
    }

    /// Graceful stop: finish in-flight requests for up to a second.
    pub async fn stop(self) {
        self.background.cancel();
        self.handle.graceful_shutdown(Some(Duration::from_secs(1)));
        let _ = self.task.await;
    }

    /// Hard stop: every open connection is cut, as when a coordinator dies.
    pub async fn kill(self) {
        self.background.cancel();
        self.handle.shutdown();
        let _ = self.task.await;
    }
}

/// Fails abandoned and over-time queries and forgets old finished ones.
async fn reaper(state: Arc<AppState>, stop: CancellationToken) {
    const RETENTION: Duration = Duration::from_secs(15 * 60);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        let all: Vec<_> = state
            .queries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let mut expired = Vec::new();
        for q in all {
            // A locked query is being served right now, so it is neither idle nor expired.
            let Ok(mut q) = q.try_lock() else { continue };
            if q.is_live() && q.idle_for() > state.cfg.client_timeout {
                q.abandon(state.cfg.client_timeout);
                state.counters.abandoned.fetch_add(1, Ordering::SeqCst);
            }
            q.enforce_time_limit();
            state.board.publish(q.info());
            if q.ended_for().is_some_and(|d| d > RETENTION) {
                expired.push(q.id.clone());
            }
        }
        let mut map = state.queries.lock().unwrap_or_else(|p| p.into_inner());
        for id in expired {
            map.remove(&id);
        }
    }
}

fn coordinator_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    let mut n = h.finish();
    (0..5)
        .map(|_| {
            let c = (b'a' + (n % 26) as u8) as char;
            n /= 26;
            c
        })
        .collect()
}

/// A random URL slug, so that query URIs cannot be guessed from the query id alone.
pub(crate) fn slug() -> String {
    use std::hash::{BuildHasher, Hasher};
    let s = std::collections::hash_map::RandomState::new();
    let mut a = s.build_hasher();
    a.write_u8(1);
    let mut b = s.build_hasher();
    b.write_u8(2);
    format!("y{:016x}{:016x}", a.finish(), b.finish())
}
