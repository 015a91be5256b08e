//! The configured clusters, ready to use: per connection its Trino client and its SQL policy.
//! Built once from `Config` (and again on reload); shared by every transport.

use std::sync::Arc;

use crate::config::{Config, Connection};
use crate::limits::Limiter;
use crate::policy::{Policy, Scope};
use crate::trino::TrinoClient;

pub struct Cluster {
    pub client: TrinoClient,
    pub policy: Policy,
    /// Rate and concurrency limits of calls that reach this cluster.
    pub limiter: Arc<Limiter>,
}

impl Cluster {
    pub fn connection(&self) -> &Connection {
        self.client.connection()
    }

    pub fn name(&self) -> &str {
        &self.connection().name
    }
}

pub struct Clusters {
    list: Vec<Arc<Cluster>>,
    default: String,
}

impl Clusters {
    /// `server_tags` are sent as Trino client tags with every query (e.g. the endpoint).
    pub fn from_config(cfg: &Config) -> Result<Self, String> {
        let mut list = Vec::with_capacity(cfg.connections.len());
        for conn in &cfg.connections {
            let client = TrinoClient::new(conn, Vec::new())?;
            let policy = Policy::new(
                conn.access_mode,
                Scope::new(conn.catalog.as_deref(), conn.schema.as_deref()),
            );
            let limiter = Arc::new(Limiter::new(&conn.name, &conn.limits));
            list.push(Arc::new(Cluster {
                client,
                policy,
                limiter,
            }));
        }
        Ok(Clusters {
            list,
            default: cfg.default_connection.clone(),
        })
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Cluster>> {
        self.list.iter().find(|c| c.name() == name)
    }

    /// In configuration order.
    pub fn all(&self) -> &[Arc<Cluster>] {
        &self.list
    }

    pub fn default_name(&self) -> &str {
        &self.default
    }
}
