//! A cached health probe of one cluster (`GET /v1/info`), for health endpoints and start-up.
//! It reports fixed reasons only: never an internal error text or a secret.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::client::TrinoClient;

const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub available: bool,
    /// Why the cluster is unavailable, in fixed words.
    pub reason: Option<String>,
    pub version: Option<String>,
    pub checked_at: Instant,
}

#[derive(Default)]
pub(crate) struct HealthCache {
    last: tokio::sync::Mutex<Option<Health>>,
}

#[derive(Deserialize)]
struct ServerInfo {
    #[serde(default, rename = "nodeVersion")]
    node_version: Option<NodeVersion>,
    #[serde(default)]
    starting: bool,
}

#[derive(Deserialize)]
struct NodeVersion {
    #[serde(default)]
    version: serde_json::Value,
}

impl TrinoClient {
    /// The cached state if younger than `max_age`, else a fresh probe. Concurrent callers
    /// share one probe.
    pub async fn health(&self, max_age: Duration) -> Health {
        let mut last = self.health.last.lock().await;
        if let Some(h) = last.as_ref()
            && h.checked_at.elapsed() < max_age
        {
            return h.clone();
        }
        let h = self.probe().await;
        *last = Some(h.clone());
        h
    }

    /// The last known state without probing (`None` before the first probe).
    pub fn cached_health(&self) -> Option<Health> {
        self.health.last.try_lock().ok().and_then(|h| h.clone())
    }

    async fn probe(&self) -> Health {
        let down = |reason: &str| Health {
            available: false,
            reason: Some(reason.to_string()),
            version: None,
            checked_at: Instant::now(),
        };
        let Ok(url) = self.base().join("/v1/info") else {
            return down("bad coordinator URL");
        };
        let resp = match tokio::time::timeout(PROBE_TIMEOUT, self.http().get(url).send()).await {
            Err(_) => return down("the coordinator did not answer in time"),
            Ok(Err(e)) => return down(&super::client::connection_error(&e).to_string()),
            Ok(Ok(r)) => r,
        };
        if !resp.status().is_success() {
            return down(&format!(
                "the coordinator answered HTTP {}",
                resp.status().as_u16()
            ));
        }
        let info = match tokio::time::timeout(PROBE_TIMEOUT, resp.json::<ServerInfo>()).await {
            Ok(Ok(i)) => i,
            _ => return down("the coordinator's /v1/info was not valid"),
        };
        if info.starting {
            return down("the coordinator is starting up");
        }
        let version = info.node_version.map(|v| match v.version {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
        Health {
            available: true,
            reason: None,
            version,
            checked_at: Instant::now(),
        }
    }
}
