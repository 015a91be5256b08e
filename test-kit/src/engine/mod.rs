//! The SQL engine behind the emulator. Placeholder until the DataFusion engine lands.

use std::sync::Arc;

use crate::errors::TrinoError;
use crate::model::{ClientSession, Execution, QueryCatalog};

/// Which cluster's datasets to load and how big the synthetic table is.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `prod`, `staging` or `dev`.
    pub cluster: String,
    /// Row count of `synthetic.default.numbers` (streams; never held in memory).
    pub synthetic_rows: u64,
}

pub struct Engine {
    _config: EngineConfig,
    _queries: Arc<dyn QueryCatalog>,
}

impl Engine {
    pub async fn new(config: EngineConfig, queries: Arc<dyn QueryCatalog>) -> anyhow::Result<Self> {
        Ok(Engine { _config: config, _queries: queries })
    }

    pub async fn execute(&self, _sql: &str, _session: &ClientSession) -> Result<Execution, TrinoError> {
        Err(TrinoError::new("NOT_SUPPORTED", "engine not implemented"))
    }
}
