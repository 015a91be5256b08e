//! The emulator's protocol state machine over real HTTP: QUEUED first page, paging, token
//! replay and rejection, cancel by DELETE, session headers, auth, TLS and the fault knobs.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use trino_testkit::server::{AuthConfig, KnobSettings, TlsMaterial};
use trino_testkit::{Emulator, EmulatorConfig};

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("client")
}

async fn start(f: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut cfg = EmulatorConfig::new("prod");
    cfg.synthetic_rows = 100_000;
    f(&mut cfg);
    Emulator::start(cfg).await.expect("emulator starts")
}

async fn post(c: &reqwest::Client, e: &Emulator, sql: &str) -> Value {
    c.post(format!("{}/v1/statement", e.url()))
        .header("X-Trino-User", "tester")
        .header("X-Trino-Source", "protocol-test")
        .body(sql.to_string())
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json")
}

async fn get(c: &reqwest::Client, uri: &str) -> (u16, String) {
    let r = c
        .get(uri)
        .header("X-Trino-User", "tester")
        .send()
        .await
        .expect("get");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

/// Follow nextUri to the end; returns all pages.
async fn drain(c: &reqwest::Client, first: Value) -> Vec<Value> {
    let mut pages = vec![first];
    while let Some(next) = pages
        .last()
        .and_then(|p| p["nextUri"].as_str())
        .map(str::to_string)
    {
        let (status, body) = get(c, &next).await;
        assert_eq!(status, 200, "{body}");
        pages.push(serde_json::from_str(&body).expect("page json"));
        assert!(pages.len() < 10_000, "runaway paging");
    }
    pages
}

fn rows(pages: &[Value]) -> Vec<Value> {
    pages
        .iter()
        .filter_map(|p| p["data"].as_array())
        .flatten()
        .cloned()
        .collect()
}

#[tokio::test]
async fn queued_then_executing_pages_then_finished() {
    let e = start(|c| c.page_rows = Some(10)).await;
    let c = http();
    let first = post(
        &c,
        &e,
        "SELECT nationkey, name FROM tpch.tiny.nation ORDER BY nationkey",
    )
    .await;
    assert_eq!(first["stats"]["state"], "QUEUED");
    assert_eq!(first["stats"]["queued"], true);
    assert!(
        first.get("columns").is_none()
            && first.get("data").is_none()
            && first.get("error").is_none()
    );
    assert!(
        first["nextUri"]
            .as_str()
            .unwrap_or("")
            .contains("/v1/statement/queued/")
    );
    assert_eq!(first["warnings"], serde_json::json!([]));
    let pages = drain(&c, first).await;
    assert!(
        pages[1]["nextUri"]
            .as_str()
            .unwrap_or("")
            .contains("/v1/statement/executing/")
    );
    let data_pages = pages.iter().filter(|p| p.get("data").is_some()).count();
    assert_eq!(data_pages, 3, "25 rows at 10 per page");
    for p in pages.iter().filter(|p| p.get("data").is_some()) {
        assert_eq!(p["columns"][1]["type"], "varchar(25)");
        assert!(
            p.get("nextUri").is_some(),
            "data pages are followed by a final page"
        );
    }
    let last = pages.last().expect("pages");
    assert_eq!(last["stats"]["state"], "FINISHED");
    assert!(last.get("nextUri").is_none() && last.get("data").is_none());
    let r = rows(&pages);
    assert_eq!(r.len(), 25);
    assert_eq!(r[0], serde_json::json!([0, "ALGERIA"]));
    e.stop().await;
}

#[tokio::test]
async fn replayed_tokens_repeat_and_wrong_tokens_are_gone() {
    let e = start(|c| c.page_rows = Some(5)).await;
    let c = http();
    let first = post(&c, &e, "SELECT regionkey FROM tpch.tiny.region").await;
    let queued = first["nextUri"].as_str().expect("next").to_string();
    let (_, a) = get(&c, &queued).await;
    let (_, b) = get(&c, &queued).await;
    assert_eq!(a, b, "same token, same answer");
    let page: Value = serde_json::from_str(&a).expect("json");
    let exec0 = page["nextUri"].as_str().expect("executing").to_string();
    let (_, p0) = get(&c, &exec0).await;
    let (_, p0again) = get(&c, &exec0).await;
    assert_eq!(p0, p0again);
    let skip = exec0.replace("/0", "/5");
    assert_eq!(get(&c, &skip).await.0, 410);
    let unknown = exec0.replace(
        first["id"].as_str().expect("id"),
        "20200101_000000_00000_xxxxx",
    );
    let (status, body) = get(&c, &unknown).await;
    assert_eq!((status, body.as_str()), (404, "Query not found"));
    e.stop().await;
}

#[tokio::test]
async fn delete_cancels_and_later_gets_show_user_canceled() {
    let e = start(|c| c.page_rows = Some(100)).await;
    let c = http();
    for by_id in [false, true] {
        let first = post(&c, &e, "SELECT * FROM synthetic.default.numbers").await;
        let (_, q) = get(&c, first["nextUri"].as_str().expect("next")).await;
        let q: Value = serde_json::from_str(&q).expect("json");
        let (_, p) = get(&c, q["nextUri"].as_str().expect("exec")).await;
        let p: Value = serde_json::from_str(&p).expect("json");
        let next = p["nextUri"].as_str().expect("more pages").to_string();
        let target = if by_id {
            format!("{}/v1/query/{}", e.url(), first["id"].as_str().expect("id"))
        } else {
            next.clone()
        };
        let r = c
            .delete(target)
            .header("X-Trino-User", "tester")
            .send()
            .await
            .expect("delete");
        assert_eq!(r.status().as_u16(), 204);
        let (_, after) = get(&c, &next).await;
        let after: Value = serde_json::from_str(&after).expect("json");
        assert_eq!(after["stats"]["state"], "FAILED");
        assert_eq!(after["error"]["errorName"], "USER_CANCELED");
        assert_eq!(after["error"]["errorCode"], 3);
        assert!(after.get("nextUri").is_none());
    }
    assert_eq!(e.counters().cancels, 2);
    let canceled = e
        .queries()
        .into_iter()
        .filter(|q| q.error_code.as_deref() == Some("USER_CANCELED"))
        .count();
    assert_eq!(canceled, 2);
    e.stop().await;
}

#[tokio::test]
async fn bad_requests() {
    let e = start(|_| {}).await;
    let c = http();
    let r = c
        .post(format!("{}/v1/statement", e.url()))
        .body("SELECT 1")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.text().await.unwrap_or_default(), "User must be set");
    let r = c
        .post(format!("{}/v1/statement", e.url()))
        .header("X-Trino-User", "u")
        .body("  ")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        e.counters().statements,
        0,
        "refused requests create no query"
    );
    let info: Value = c
        .get(format!("{}/v1/info", e.url()))
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("json");
    assert_eq!(info["starting"], false);
    assert_eq!(info["environment"], "prod");
    e.stop().await;
}

#[tokio::test]
async fn session_headers_are_applied_and_set_headers_returned_on_the_final_page() {
    let e = start(|_| {}).await;
    let c = http();
    let first: Value = c
        .post(format!("{}/v1/statement", e.url()))
        .header("X-Trino-User", "tester")
        .header("X-Trino-Catalog", "tpch")
        .header("X-Trino-Schema", "tiny")
        .header("X-Trino-Session", "query_max_run_time=1m")
        .header("X-Trino-Client-Tags", "a,b")
        .body("SELECT count(*) FROM nation")
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(rows(&drain(&c, first).await), vec![serde_json::json!([25])]);
    let log = e.statements();
    let s = log.last().expect("recorded");
    assert_eq!(s.sql, "SELECT count(*) FROM nation");
    assert_eq!(
        (s.catalog.as_deref(), s.schema.as_deref()),
        (Some("tpch"), Some("tiny"))
    );
    assert_eq!(s.client_tags, vec!["a", "b"]);
    assert_eq!(
        s.session_properties,
        vec![("query_max_run_time".to_string(), "1m".to_string())]
    );

    let mut next = post(&c, &e, "USE tpch.tiny").await["nextUri"]
        .as_str()
        .expect("next")
        .to_string();
    loop {
        let r = c
            .get(&next)
            .header("X-Trino-User", "tester")
            .send()
            .await
            .expect("get");
        let set_catalog = r
            .headers()
            .get("x-trino-set-catalog")
            .map(|v| v.to_str().unwrap_or("").to_string());
        let set_schema = r
            .headers()
            .get("x-trino-set-schema")
            .map(|v| v.to_str().unwrap_or("").to_string());
        let page: Value = r.json().await.expect("json");
        match page["nextUri"].as_str() {
            Some(n) => next = n.to_string(),
            None => {
                assert_eq!(page["updateType"], "USE");
                assert_eq!(
                    (set_catalog.as_deref(), set_schema.as_deref()),
                    (Some("tpch"), Some("tiny"))
                );
                break;
            }
        }
    }
    e.stop().await;
}

#[tokio::test]
async fn dml_reports_update_count() {
    let e = start(|_| {}).await;
    let c = http();
    drain(
        &c,
        post(&c, &e, "CREATE TABLE memory.default.t (x bigint)").await,
    )
    .await;
    let pages = drain(
        &c,
        post(&c, &e, "INSERT INTO memory.default.t VALUES (1), (2)").await,
    )
    .await;
    let last = pages.last().expect("pages");
    assert_eq!(last["updateType"], "INSERT");
    assert_eq!(last["updateCount"], 2);
    e.stop().await;
}

#[tokio::test]
async fn time_limit_fails_with_exceeded_time_limit() {
    let e = start(|c| {
        c.page_rows = Some(10);
        c.knobs.page_delay_ms = 300;
    })
    .await;
    let c = http();
    let first: Value = c
        .post(format!("{}/v1/statement", e.url()))
        .header("X-Trino-User", "tester")
        .header("X-Trino-Session", "query_max_run_time=500ms")
        .body("SELECT * FROM synthetic.default.numbers")
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let pages = drain(&c, first).await;
    let last = pages.last().expect("pages");
    assert_eq!(last["error"]["errorName"], "EXCEEDED_TIME_LIMIT");
    assert_eq!(last["error"]["errorType"], "INSUFFICIENT_RESOURCES");
    e.stop().await;
}

#[tokio::test]
async fn unpolled_queries_are_abandoned() {
    let e = start(|c| c.client_timeout = Duration::from_millis(300)).await;
    let c = http();
    let first = post(&c, &e, "SELECT 1").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let pages = drain(&c, first).await;
    assert_eq!(
        pages.last().expect("pages")["error"]["errorName"],
        "ABANDONED_QUERY"
    );
    assert_eq!(e.counters().abandoned, 1);
    e.stop().await;
}

#[tokio::test]
async fn fault_knobs() {
    let e = start(|c| c.page_rows = Some(5)).await;
    let c = http();
    // 503 storm: the next two GETs fail, then the same token works.
    e.knobs().set(&KnobSettings {
        unavailable_responses: 2,
        ..Default::default()
    });
    let first = post(&c, &e, "SELECT regionkey FROM tpch.tiny.region").await;
    let next = first["nextUri"].as_str().expect("next").to_string();
    assert_eq!(get(&c, &next).await.0, 503);
    let (status, body) = get(&c, &next).await;
    assert_eq!(status, 503);
    assert!(body.contains("<html>"));
    assert_eq!(get(&c, &next).await.0, 200);

    // Failure after N pages.
    e.knobs().set(&KnobSettings {
        fail_after_pages: 2,
        ..Default::default()
    });
    let pages = drain(
        &c,
        post(&c, &e, "SELECT * FROM synthetic.default.numbers").await,
    )
    .await;
    assert_eq!(
        pages.last().expect("pages")["error"]["errorName"],
        "GENERIC_INTERNAL_ERROR"
    );

    // Dropped connection mid-page: the body breaks off.
    e.knobs().set(&KnobSettings {
        drop_after_pages: 1,
        ..Default::default()
    });
    let first = post(&c, &e, "SELECT * FROM synthetic.default.numbers").await;
    let (_, q) = get(&c, first["nextUri"].as_str().expect("next")).await;
    let q: Value = serde_json::from_str(&q).expect("json");
    let (_, p0) = get(&c, q["nextUri"].as_str().expect("exec")).await;
    let p0: Value = serde_json::from_str(&p0).expect("first page is whole");
    let broken = match c.get(p0["nextUri"].as_str().expect("more")).send().await {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(broken, "the connection must break off");

    // Page delay.
    e.knobs().set(&KnobSettings {
        page_delay_ms: 400,
        ..Default::default()
    });
    let first = post(&c, &e, "SELECT 1").await;
    let t = std::time::Instant::now();
    get(&c, first["nextUri"].as_str().expect("next")).await;
    assert!(t.elapsed() >= Duration::from_millis(400));
    e.stop().await;
}

#[tokio::test]
async fn system_runtime_queries_shows_the_running_query() {
    let e = start(|_| {}).await;
    let c = http();
    let pages = drain(&c, post(&c, &e, "SELECT state, user, source, query FROM system.runtime.queries WHERE query LIKE 'SELECT state%'").await).await;
    assert_eq!(
        rows(&pages),
        vec![serde_json::json!([
            "RUNNING",
            "tester",
            "protocol-test",
            "SELECT state, user, source, query FROM system.runtime.queries WHERE query LIKE 'SELECT state%'"
        ])]
    );
    e.stop().await;
}

#[tokio::test]
async fn bearer_auth_and_basic_over_tls() {
    let e = start(|c| {
        c.auth = AuthConfig {
            basic: None,
            bearer_tokens: vec!["tok".into()],
        }
    })
    .await;
    let c = http();
    let r = c
        .post(format!("{}/v1/statement", e.url()))
        .header("X-Trino-User", "u")
        .body("SELECT 1")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"Trino\"")
    );
    let r = c
        .post(format!("{}/v1/statement", e.url()))
        .header("X-Trino-User", "u")
        .bearer_auth("tok")
        .body("SELECT 1")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 200);
    e.stop().await;

    // Basic auth needs TLS, as on Trino.
    let mut cfg = EmulatorConfig::new("dev");
    cfg.auth = AuthConfig {
        basic: Some(("alice".into(), "pw".into())),
        bearer_tokens: vec![],
    };
    assert!(Emulator::start(cfg.clone()).await.is_err());
    let tls = TlsMaterial::self_signed().expect("cert");
    cfg.tls = Some(tls.clone());
    let e = Emulator::start(cfg).await.expect("tls emulator");
    assert!(e.url().starts_with("https://"));
    let mut roots = rustls::RootCertStore::empty();
    let ca =
        <rustls::pki_types::CertificateDer as rustls::pki_types::pem::PemObject>::from_pem_slice(
            tls.ca_pem.as_bytes(),
        )
        .expect("ca");
    roots.add(ca).expect("add ca");
    let rustls_cfg = rustls::ClientConfig::builder()
        .with_root_certificates(Arc::new(roots))
        .with_no_client_auth();
    let c = reqwest::Client::builder()
        .tls_backend_preconfigured(rustls_cfg)
        .build()
        .expect("tls client");
    let url = e.url().replace("127.0.0.1", "localhost");
    let ok = c
        .post(format!("{url}/v1/statement"))
        .basic_auth("alice", Some("pw"))
        .body("SELECT 1")
        .send()
        .await
        .expect("post");
    assert_eq!(ok.status().as_u16(), 200);
    let bad = c
        .post(format!("{url}/v1/statement"))
        .basic_auth("alice", Some("nope"))
        .body("SELECT 1")
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status().as_u16(), 401);
    assert_eq!(
        bad.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Basic realm=\"Trino\"")
    );
    e.stop().await;
}

#[tokio::test]
async fn head_heartbeats_do_not_advance_the_query() {
    let e = start(|c| c.page_rows = Some(5)).await;
    let c = http();
    let first = post(&c, &e, "SELECT regionkey FROM tpch.tiny.region ORDER BY 1").await;
    let next = first["nextUri"].as_str().expect("next").to_string();
    for _ in 0..3 {
        assert_eq!(
            c.head(&next).send().await.expect("head").status().as_u16(),
            200
        );
    }
    let r = rows(&drain(&c, first).await);
    assert_eq!(r.len(), 5);
    e.stop().await;
}
