//! Paging 10,000 rows from an emulated cluster (in-process) with pages of 100, 1,000 and
//! 10,000 rows, three ways:
//!
//! - `paging/bare/*`: the bare protocol cost, a plain reqwest loop that POSTs the statement,
//!   follows `nextUri` and parses every page (`serde_json`, rows as `Vec<Vec<Value>>`);
//! - `paging/client/*`: our `TrinoClient::run` into a sink that only counts;
//! - `paging/tool/*`: `trino_query` through `McpServer::run` (policy, client, `Collector`,
//!   json text and `QueryOutput`) and the serialisation of its result, which is what a
//!   transport writes.
//!
//! The emulator runs in the same process and its work is in every figure; the ratios printed
//! at the end (best of a few interleaved rounds) are what matters. `cargo xtask bench` measures
//! the same over real stdio and HTTP transports with release binaries.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use mcp_trino::clusters::Clusters;
use mcp_trino::config;
use mcp_trino::mcp::{McpServer, Surface};
use mcp_trino::trino::{Call, Column, RowSink, TrinoClient};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;
use trino_testkit::{Emulator, EmulatorConfig};

const ROWS: usize = 10_000;
const SQL: &str = "SELECT * FROM synthetic.default.numbers LIMIT 10000";
const PAGE_ROWS: [usize; 3] = [100, 1_000, 10_000];

/// One page of Trino's protocol, read as a minimal client would.
#[derive(Deserialize)]
struct Page {
    #[serde(rename = "nextUri", default)]
    next_uri: Option<String>,
    #[serde(default)]
    data: Option<Vec<Vec<Value>>>,
    #[serde(default)]
    error: Option<Value>,
}

/// The bare protocol: submit, follow `nextUri` to the end, parse every page; the row count.
async fn bare(http: &reqwest::Client, base: &str, sql: &str) -> usize {
    let mut rows = 0;
    let mut resp = http
        .post(format!("{base}/v1/statement"))
        .header("X-Trino-User", "bench")
        .body(sql.to_string())
        .send()
        .await;
    loop {
        let body = match resp {
            Ok(r) => r.bytes().await.unwrap_or_default(),
            Err(e) => panic!("bare loop: {e}"),
        };
        let page: Page = serde_json::from_slice(&body).expect("a QueryResults page");
        assert!(page.error.is_none(), "query failed: {:?}", page.error);
        rows += page.data.map_or(0, |d| black_box(d).len());
        match page.next_uri {
            Some(next) => resp = http.get(next).header("X-Trino-User", "bench").send().await,
            None => return rows,
        }
    }
}

/// The result as a transport writes it (borrowed: no copy of the values).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    content: &'a [String],
    structured_content: &'a Value,
}

struct Count(usize);

impl RowSink for Count {
    fn columns(&mut self, _c: &[Column]) {}
    fn row(&mut self, row: Vec<Value>) -> bool {
        black_box(row);
        self.0 += 1;
        true
    }
}

struct Setup {
    emulators: Vec<(usize, Emulator)>,
    clients: HashMap<usize, TrinoClient>,
    server: McpServer,
    http: reqwest::Client,
}

impl Setup {
    async fn start() -> Setup {
        let mut emulators = Vec::new();
        for rows in PAGE_ROWS {
            let mut cfg = EmulatorConfig::new("prod");
            cfg.page_rows = Some(rows);
            cfg.synthetic_rows = 100_000;
            emulators.push((rows, Emulator::start(cfg).await.expect("emulator")));
        }
        let mut yaml = String::from("connections:\n");
        for (rows, e) in &emulators {
            yaml.push_str(&format!(
                "  p{rows}:\n    host: 127.0.0.1\n    port: {}\n    user: bench\n",
                e.addr().port()
            ));
        }
        let cfg = config::load_yaml_str(&yaml, None, &|_| None).expect("config");
        let clusters = Arc::new(Clusters::from_config(&cfg).expect("clusters"));
        let clients = cfg
            .connections
            .iter()
            .map(|c| {
                let rows: usize = c.name[1..].parse().expect("page size");
                (rows, TrinoClient::new(c, vec![]).expect("client"))
            })
            .collect();
        let server = McpServer::new(Surface::main(&cfg), clusters, 4 << 20);
        mcp_trino::trino::install_crypto_provider();
        Setup {
            emulators,
            clients,
            server,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, page_rows: usize) -> String {
        self.emulators
            .iter()
            .find(|(r, _)| *r == page_rows)
            .map(|(_, e)| e.url())
            .unwrap_or_default()
    }

    async fn bare(&self, page_rows: usize) -> usize {
        bare(&self.http, &self.url(page_rows), SQL).await
    }

    async fn client(&self, page_rows: usize) -> usize {
        let mut sink = Count(0);
        self.clients[&page_rows]
            .run(
                Call {
                    sql: SQL,
                    tool: "bench",
                    timeout: Duration::from_secs(60),
                    cancel: CancellationToken::new(),
                },
                &mut sink,
            )
            .await
            .expect("query");
        sink.0
    }

    async fn tool(&self, page_rows: usize) -> usize {
        let args = json!({"sql": SQL, "limit": ROWS, "connection": format!("p{page_rows}")});
        let out = self
            .server
            .run(
                "trino_query",
                args.as_object(),
                CancellationToken::new(),
                None,
            )
            .await
            .expect("trino_query");
        assert!(!out.is_error, "{:?}", out.text.first());
        // What a transport writes: the text blocks and the structured content.
        let bytes = serde_json::to_vec(&Wire {
            content: &out.text,
            structured_content: &out.structured,
        })
        .unwrap_or_default();
        black_box(bytes);
        out.rows
    }
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let s = rt.block_on(Setup::start());
    for rows in PAGE_ROWS {
        // Warm up each path once (the engine's first scan, connection pools) and check counts.
        assert_eq!(rt.block_on(s.bare(rows)), ROWS);
        assert_eq!(rt.block_on(s.client(rows)), ROWS);
        assert_eq!(rt.block_on(s.tool(rows)), ROWS);
    }
    let mut g = c.benchmark_group("paging");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(3));
    for rows in PAGE_ROWS {
        g.bench_function(format!("bare/{rows}_row_pages"), |b| {
            b.iter(|| rt.block_on(s.bare(rows)))
        });
        g.bench_function(format!("client/{rows}_row_pages"), |b| {
            b.iter(|| rt.block_on(s.client(rows)))
        });
        g.bench_function(format!("tool/{rows}_row_pages"), |b| {
            b.iter(|| rt.block_on(s.tool(rows)))
        });
    }
    g.finish();

    // Ratios from interleaved rounds: best of each, relative to the bare loop.
    println!(
        "\n{:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "page rows", "bare ms", "client ms", "tool ms", "client x", "tool x"
    );
    for rows in PAGE_ROWS {
        let mut best = [Duration::MAX; 3];
        for _ in 0..7 {
            let t = Instant::now();
            rt.block_on(s.bare(rows));
            best[0] = best[0].min(t.elapsed());
            let t = Instant::now();
            rt.block_on(s.client(rows));
            best[1] = best[1].min(t.elapsed());
            let t = Instant::now();
            rt.block_on(s.tool(rows));
            best[2] = best[2].min(t.elapsed());
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{rows:>10} {:>10.2} {:>10.2} {:>10.2} {:>9.2} {:>9.2}",
            ms(best[0]),
            ms(best[1]),
            ms(best[2]),
            ms(best[1]) / ms(best[0]),
            ms(best[2]) / ms(best[0]),
        );
    }
    let Setup { emulators, .. } = s;
    rt.block_on(async {
        for (_, e) in emulators {
            e.stop().await;
        }
    });
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
