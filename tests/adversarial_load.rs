//! Load: 200 concurrent MCP clients call one endpoint limited to 8 concurrent queries for a
//! bounded time. No failure but RATE_LIMITED, no deadlock (every call returns), `/health`
//! answers throughout, the server's memory stays flat, and every query the cluster saw
//! finished or was cancelled.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Server, call, emulator, error_code, http_client, mcp_http, text};
use serde_json::json;
use trino_testkit::server::KnobSettings;

const CLIENTS: usize = 200;
const LIMIT: usize = 8;
/// Bounded, as the issue allows (a minute at most); long enough for many rounds.
const RUN: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_on_an_endpoint_limited_to_eight() {
    // The cluster gets a runtime of its own, so 200 clients in this process cannot starve it.
    let cluster = {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            else {
                return;
            };
            let e = rt.block_on(emulator("prod", |c| c.page_rows = Some(10)));
            let _ = tx.send(e);
            // Keep the runtime (and the cluster) alive for the rest of the process.
            rt.block_on(std::future::pending::<()>());
        });
        rx.recv().expect("emulator")
    };
    // Each query pages a few times, slowly, so calls overlap.
    cluster.knobs().set(&KnobSettings {
        page_delay_ms: 20,
        ..Default::default()
    });
    let config = format!(
        "server:\n  bind: 127.0.0.1:0\nconnections:\n  busy:\n    host: 127.0.0.1\n    port: {}\n    user: analyst\n    catalog: tpch\n    schema: tiny\n    endpoint: true\n    limits:\n      max_concurrent_queries: {LIMIT}\n",
        cluster.addr().port()
    );
    let server = Server::http(&config, &[]);
    let url = format!("{}/busy/mcp", server.url);

    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(mcp_http(url.clone(), None).await);
    }
    // Warm the cluster up first: the emulator's first query builds its tables (seconds in
    // a debug build), which would otherwise hold the 8 slots for most of the run.
    let r = call(
        &clients[0],
        "busy_trino_query",
        json!({"sql": "SELECT nationkey, name FROM nation"}),
    )
    .await;
    assert_eq!(error_code(&r), None, "{}", text(&r, 0));
    cluster.reset();
    let ok = Arc::new(AtomicU64::new(0));
    let limited = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));

    // /health every 250 ms, each answer within 2 s; RSS sampled alongside.
    let watcher = {
        let stop = stop.clone();
        let base = server.url.clone();
        let pid = server.pid();
        tokio::spawn(async move {
            let http = http_client();
            let mut samples = Vec::new();
            let mut slow_health = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let t = Instant::now();
                let r = http
                    .get(format!("{base}/health"))
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => slow_health.push(format!("status {}", r.status())),
                    Err(e) => slow_health.push(format!("{e} after {:?}", t.elapsed())),
                }
                samples.push(common::rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            (samples, slow_health)
        })
    };

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, c) in clients.into_iter().enumerate() {
        let (ok, limited, failures, stop) =
            (ok.clone(), limited.clone(), failures.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut round = 0u64;
            while started.elapsed() < RUN {
                round += 1;
                let r = call(
                    &c,
                    "busy_trino_query",
                    json!({"sql": "SELECT nationkey, name FROM nation"}),
                )
                .await;
                match error_code(&r).as_deref() {
                    None => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Some("RATE_LIMITED") => {
                        limited.fetch_add(1, Ordering::Relaxed);
                        // As a polite client would: wait about `retry_after_seconds` (1),
                        // jittered so the clients do not move in lockstep.
                        let jitter = (i as u64 * 37 + round * 11) % 500;
                        tokio::time::sleep(Duration::from_millis(750 + jitter)).await;
                    }
                    Some(other) => {
                        let mut f = failures.lock().unwrap_or_else(|p| p.into_inner());
                        f.push(format!("{other}: {}", text(&r, 0)));
                    }
                }
            }
            let _ = stop;
            let _ = c.cancel().await;
        }));
    }
    // No deadlock: every client finishes soon after the run ends.
    for t in tasks {
        tokio::time::timeout(RUN + Duration::from_secs(60), t)
            .await
            .expect("a client hung")
            .expect("join");
    }
    stop.store(true, Ordering::SeqCst);
    let (samples, slow_health) = watcher.await.expect("watcher");

    let failures = failures.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let (ok, limited) = (ok.load(Ordering::Relaxed), limited.load(Ordering::Relaxed));
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );
    assert!(ok > 100 && limited > 100, "ok {ok}, limited {limited}");
    assert!(slow_health.is_empty(), "/health: {slow_health:?}");

    // Flat memory: after warming up (first quarter), no growth beyond noise.
    let n = samples.len();
    assert!(n > 20, "{n} samples");
    let warm = samples[n / 4..n / 2].iter().copied().max().unwrap_or(0);
    let late = samples[n * 3 / 4..].iter().copied().max().unwrap_or(0);
    assert!(
        late <= warm + warm / 4 + 8 * 1024,
        "RSS grew from {warm} KiB to {late} KiB: {samples:?}"
    );

    // Every query the cluster saw ended; at most LIMIT ran at once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let queries = cluster.queries();
    let live: Vec<_> = queries
        .iter()
        .filter(|q| !matches!(q.state.as_str(), "FINISHED" | "FAILED"))
        .collect();
    assert!(live.is_empty(), "still running: {live:?}");
    assert_eq!(
        cluster.counters().statements,
        ok,
        "one statement per successful call"
    );
    let mut events: Vec<(i64, i32)> = queries
        .iter()
        .flat_map(|q| [(q.created_ms, 1), (q.end_ms.unwrap_or(i64::MAX), -1)])
        .collect();
    events.sort();
    let mut running = 0;
    let mut peak = 0;
    for (_, d) in events {
        running += d;
        peak = peak.max(running);
    }
    // Millisecond timestamps can make an end and a start look simultaneous.
    assert!(peak as usize <= LIMIT + 1, "peak {peak} concurrent queries");
    eprintln!(
        "load: {ok} calls ran, {limited} rate-limited, peak {peak} queries, RSS {}..{} KiB",
        samples.iter().min().unwrap_or(&0),
        samples.iter().max().unwrap_or(&0)
    );
}
