//! Peak memory of the Trino client stays flat on a 10-million-row table read with a limit.
//! Alone in its own test binary: RSS is per process, and other tests' emulators would move it.

use std::collections::HashMap;
use std::time::Duration;

use mcp_trino::config;
use mcp_trino::trino::{Call, Column, RowSink, TrinoClient};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use trino_testkit::{Emulator, EmulatorConfig};

/// Keeps only a count, so memory measures the client, not the test.
struct Count(usize, usize);

impl RowSink for Count {
    fn columns(&mut self, _c: &[Column]) {}
    fn row(&mut self, _row: Vec<Value>) -> bool {
        self.0 += 1;
        self.0 <= self.1
    }
}

fn call(sql: &str) -> Call<'_> {
    Call {
        sql,
        tool: "test",
        timeout: Duration::from_secs(30),
        cancel: CancellationToken::new(),
    }
}

/// Resident set size of this process, from /proc (Linux).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::test]
async fn memory_stays_flat_on_ten_million_rows_with_a_limit() {
    let mut cfg = EmulatorConfig::new("prod");
    cfg.synthetic_rows = 10_000_000;
    let e = Emulator::start(cfg).await.expect("emulator");
    let env: HashMap<&str, String> = HashMap::from([
        ("TRINO_HOST", "127.0.0.1".to_string()),
        ("TRINO_PORT", e.addr().port().to_string()),
        ("TRINO_USER", "analyst".into()),
    ]);
    let conn = config::load(None, &|k| env.get(k).cloned()).expect("config");
    let client = TrinoClient::new(&conn.connections[0], vec![]).expect("client");
    // Warm up allocators and the engine once.
    client
        .run(
            call("SELECT * FROM synthetic.default.numbers"),
            &mut Count(0, 1000),
        )
        .await
        .expect("warm-up");
    let before = rss_kib().unwrap_or(0);
    for _ in 0..5 {
        let done = client
            .run(
                call("SELECT * FROM synthetic.default.numbers"),
                &mut Count(0, 1000),
            )
            .await
            .expect("query");
        assert!(done.stopped_early);
    }
    let after = rss_kib().unwrap_or(0);
    // Each run reads at most one ~1 MB page; the table is ~10M rows (~600 MB of JSON).
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    assert_eq!(e.counters().cancels, 6);
    e.stop().await;
}
