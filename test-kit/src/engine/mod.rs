//! The SQL engine behind the emulator: Trino statements and catalogs on DataFusion.
//!
//! Catalogs: `tpch` (tpchgen, streamed; `tiny` and any `sfN`), `memory` (CREATE/CTAS/INSERT/DROP,
//! with the cluster's datasets), `system` (`runtime.queries`, `runtime.nodes`,
//! `metadata.catalogs`), `synthetic` (`default.numbers`, generated lazily), each with a
//! Trino-shaped `information_schema`. SHOW/DESCRIBE/USE/SET SESSION/EXPLAIN are answered here.
//!
//! Known differences from real Trino:
//! - SQL goes through sqlparser's generic dialect and DataFusion: some Trino-only syntax
//!   (e.g. `ROW(...)` casts, lambdas, `TRY`, `AT TIME ZONE`) and functions are missing, and
//!   some non-Trino syntax (e.g. `x::int`) is accepted. Function results follow DataFusion's
//!   semantics and types (e.g. integer division, decimal precision rules).
//! - Expression types come from Arrow: a string expression is `varchar` (no length), integer
//!   literals are `bigint` except bare integer-literal select items (`integer`), `real`/
//!   `tinyint` arise only from stored columns or casts.
//! - Syntax errors use Trino's `mismatched input '...'. Expecting: ...` form, but the expected
//!   token lists come from sqlparser and are shorter than Trino's (except for an unknown
//!   first keyword, where Trino's statement list is reproduced).
//! - TYPE_MISMATCH is detected only for number/string/boolean operator mixes; other errors
//!   DataFusion reports are mapped by message and may name a different standard error.
//! - `timestamp with time zone` keeps one zone per column (Arrow), not per value;
//!   `time with time zone` is stored as text. Precision above 9 is not supported.
//! - EXPLAIN text is derived from DataFusion's plan: Trino-shaped but not Trino's plan.
//!   Estimates are unknown (`?`). EXPLAIN ANALYZE reports wall time and output rows only.
//! - SET SESSION accepts any property name; SHOW SESSION lists only properties the client set.
//! - Access control is fixed: only `admin` may read `memory.restricted` (everyone may see the
//!   columns of and insert into `memory.restricted.inbox`).
//! - Views, DELETE/UPDATE/MERGE, ALTER, prepared statements and transactions are not supported.

pub mod catalogs;
mod datasets;
mod ddl;
pub mod encode;
pub mod errmap;
mod explain;
mod output;
mod query;
pub mod resolve;
mod show;
pub mod sql;
mod statements;
pub mod types;

use std::sync::Arc;

use datafusion::catalog::{CatalogProvider, CatalogProviderList, MemoryCatalogProviderList};
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionConfig;

use crate::errors::TrinoError;
use crate::model::{ClientSession, Execution, QueryCatalog};

use catalogs::WithInfoSchema;
use catalogs::memory::MemoryCatalog;
use catalogs::synthetic::SyntheticCatalog;
use catalogs::system::SystemCatalog;
use catalogs::tpch::TpchCatalog;

/// Trino's default `query.max-length`.
const MAX_QUERY_LENGTH: usize = 1_000_000;
/// Analysis runs on its own thread with a large stack so deep expressions cannot overflow.
const ANALYSIS_STACK: usize = 256 << 20;

/// Which cluster's datasets to load and how big the synthetic table is.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `prod`, `staging` or `dev`.
    pub cluster: String,
    /// Row count of `synthetic.default.numbers` (streams; never held in memory).
    pub synthetic_rows: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            cluster: "prod".into(),
            synthetic_rows: 10_000_000,
        }
    }
}

pub struct Engine {
    inner: Arc<Inner>,
}

/// Shared state of the engine.
pub struct Inner {
    pub config: EngineConfig,
    catalogs: Arc<MemoryCatalogProviderList>,
    memory: Arc<MemoryCatalog>,
    state: SessionState,
}

impl Inner {
    pub fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        self.catalogs.catalog(name)
    }

    /// Catalog names, sorted.
    pub fn catalog_names(&self) -> Vec<String> {
        let mut names = self.catalogs.catalog_names();
        names.sort();
        names
    }

    /// A DataFusion session for one statement (the catalogs are shared).
    pub fn session_state(&self, _session: &ClientSession) -> SessionState {
        self.state.clone()
    }
}

impl Engine {
    pub async fn new(config: EngineConfig, queries: Arc<dyn QueryCatalog>) -> anyhow::Result<Self> {
        let catalogs = Arc::new(MemoryCatalogProviderList::new());
        let memory = Arc::new(MemoryCatalog::new());
        let connectors = [
            ("memory", "memory"),
            ("synthetic", "memory"),
            ("system", "system"),
            ("tpch", "tpch"),
        ];
        let system = SystemCatalog {
            queries,
            cluster: config.cluster.clone(),
            catalogs: connectors
                .iter()
                .map(|(n, c)| (n.to_string(), c.to_string()))
                .collect(),
        };
        let providers: Vec<(&str, Arc<dyn CatalogProvider>)> = vec![
            ("memory", memory.clone()),
            (
                "synthetic",
                Arc::new(SyntheticCatalog {
                    rows: config.synthetic_rows,
                }),
            ),
            ("system", Arc::new(system)),
            ("tpch", Arc::new(TpchCatalog)),
        ];
        for (name, provider) in providers {
            catalogs.register_catalog(
                name.to_string(),
                Arc::new(WithInfoSchema {
                    name: name.to_string(),
                    inner: provider,
                }),
            );
        }
        let mut df_config = SessionConfig::new()
            .with_create_default_catalog_and_schema(false)
            .with_default_catalog_and_schema("memory", "default")
            .with_information_schema(false)
            .with_target_partitions(1);
        let options = df_config.options_mut();
        options.sql_parser.parse_float_as_decimal = true;
        options.sql_parser.enable_ident_normalization = true;
        let state = SessionStateBuilder::new()
            .with_config(df_config)
            .with_catalog_list(catalogs.clone())
            .with_default_features()
            .build();
        let engine = Engine {
            inner: Arc::new(Inner {
                config,
                catalogs,
                memory,
                state,
            }),
        };
        datasets::load(&engine).await?;
        Ok(engine)
    }

    /// Parses and analyses `sql`; rows are produced lazily by the returned stream.
    pub async fn execute(
        &self,
        sql: &str,
        session: &ClientSession,
    ) -> Result<Execution, TrinoError> {
        if sql.len() > MAX_QUERY_LENGTH {
            return Err(TrinoError::new(
                "QUERY_TEXT_TOO_LARGE",
                format!(
                    "Query text length ({}) exceeds the maximum length ({MAX_QUERY_LENGTH})",
                    sql.len()
                ),
            ));
        }
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            TrinoError::new(
                "GENERIC_INTERNAL_ERROR",
                "engine used outside a tokio runtime",
            )
        })?;
        let (tx, rx) = futures::channel::oneshot::channel();
        let (inner, sql, session) = (self.inner.clone(), sql.to_string(), session.clone());
        std::thread::Builder::new()
            .name("trino-analysis".into())
            .stack_size(ANALYSIS_STACK)
            .spawn(move || {
                let result = handle.block_on(statements::run(&inner, &sql, &session));
                let _ = tx.send(result);
            })
            .map_err(|e| {
                TrinoError::new(
                    "GENERIC_INTERNAL_ERROR",
                    format!("cannot start analysis: {e}"),
                )
            })?;
        match rx.await {
            Ok(result) => result,
            Err(_) => Err(TrinoError::new(
                "GENERIC_INTERNAL_ERROR",
                "statement analysis failed unexpectedly",
            )),
        }
    }
}

#[cfg(test)]
mod tests;
