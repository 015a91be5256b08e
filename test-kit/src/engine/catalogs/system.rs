//! The read-only `system` catalog: `runtime.queries`, `runtime.nodes`, `metadata.catalogs`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{CatalogProvider, SchemaProvider, Session, TableProvider};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;

use super::scan_batch;
use crate::engine::types::{TrinoType, stored_field};
use crate::model::QueryCatalog;

/// Server version reported by the emulator (matches `/v1/info`).
pub const VERSION: &str = "476";

#[derive(Clone)]
pub struct SystemCatalog {
    pub queries: Arc<dyn QueryCatalog>,
    pub cluster: String,
    /// (catalog_name, connector_name) of every catalog.
    pub catalogs: Vec<(String, String)>,
}

impl std::fmt::Debug for SystemCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemCatalog")
            .field("cluster", &self.cluster)
            .finish()
    }
}

impl CatalogProvider for SystemCatalog {
    fn schema_names(&self) -> Vec<String> {
        vec!["metadata".into(), "runtime".into()]
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let tables: &[&str] = match name {
            "runtime" => &["nodes", "queries"],
            "metadata" => &["catalogs"],
            _ => return None,
        };
        Some(Arc::new(SystemSchema {
            system: self.clone(),
            tables,
        }))
    }
}

#[derive(Debug)]
struct SystemSchema {
    system: SystemCatalog,
    tables: &'static [&'static str],
}

#[async_trait]
impl SchemaProvider for SystemSchema {
    fn table_names(&self) -> Vec<String> {
        self.tables.iter().map(|s| s.to_string()).collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let Some(table) = self.tables.iter().find(|t| **t == name) else {
            return Ok(None);
        };
        Ok(Some(Arc::new(SystemTable {
            system: self.system.clone(),
            name: table,
            schema: schema_of(table),
        })))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.contains(&name)
    }
}

fn varchar(name: &str) -> datafusion::arrow::datatypes::Field {
    stored_field(name, &TrinoType::Varchar(None), true, None)
}

fn schema_of(table: &str) -> SchemaRef {
    let tstz = |n: &str| stored_field(n, &TrinoType::TimestampTz(3), true, None);
    let bigint = |n: &str| stored_field(n, &TrinoType::BigInt, true, None);
    let fields = match table {
        "queries" => vec![
            varchar("query_id"),
            varchar("state"),
            varchar("user"),
            varchar("source"),
            varchar("query"),
            bigint("queued_time_ms"),
            bigint("analysis_time_ms"),
            bigint("planning_time_ms"),
            tstz("created"),
            tstz("started"),
            tstz("last_heartbeat"),
            tstz("end"),
            varchar("error_type"),
            varchar("error_code"),
        ],
        "nodes" => vec![
            varchar("node_id"),
            varchar("http_uri"),
            varchar("node_version"),
            stored_field("coordinator", &TrinoType::Boolean, true, None),
            varchar("state"),
        ],
        _ => vec![
            varchar("catalog_name"),
            varchar("connector_id"),
            varchar("connector_name"),
        ],
    };
    Arc::new(Schema::new(fields))
}

#[derive(Debug)]
struct SystemTable {
    system: SystemCatalog,
    name: &'static str,
    schema: SchemaRef,
}

fn strings<I: IntoIterator<Item = Option<String>>>(values: I) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

impl SystemTable {
    fn rows(&self) -> DfResult<RecordBatch> {
        let columns: Vec<ArrayRef> = match self.name {
            "queries" => {
                let qs = self.system.queries.queries();
                let ts = |f: &dyn Fn(&crate::model::QueryInfo) -> Option<i64>| -> ArrayRef {
                    Arc::new(
                        TimestampMillisecondArray::from_iter(qs.iter().map(f)).with_timezone("UTC"),
                    )
                };
                let zero: ArrayRef = Arc::new(Int64Array::from(vec![0i64; qs.len()]));
                vec![
                    strings(qs.iter().map(|q| Some(q.query_id.clone()))),
                    strings(qs.iter().map(|q| Some(q.state.clone()))),
                    strings(qs.iter().map(|q| Some(q.user.clone()))),
                    strings(qs.iter().map(|q| q.source.clone())),
                    strings(qs.iter().map(|q| Some(q.query.clone()))),
                    zero.clone(),
                    zero.clone(),
                    zero,
                    ts(&|q| Some(q.created_ms)),
                    ts(&|q| Some(q.created_ms)),
                    ts(&|q| Some(q.end_ms.unwrap_or(q.created_ms))),
                    ts(&|q| q.end_ms),
                    strings(qs.iter().map(|q| q.error_type.clone())),
                    strings(qs.iter().map(|q| q.error_code.clone())),
                ]
            }
            "nodes" => vec![
                strings([Some(format!("trino-emulator-{}", self.system.cluster))]),
                strings([Some("http://localhost:8080".to_string())]),
                strings([Some(VERSION.to_string())]),
                Arc::new(BooleanArray::from(vec![true])),
                strings([Some("active".to_string())]),
            ],
            _ => {
                let cs = &self.system.catalogs;
                vec![
                    strings(cs.iter().map(|(n, _)| Some(n.clone()))),
                    strings(cs.iter().map(|(n, _)| Some(n.clone()))),
                    strings(cs.iter().map(|(_, c)| Some(c.clone()))),
                ]
            }
        };
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

#[async_trait]
impl TableProvider for SystemTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        scan_batch(
            self.schema.clone(),
            self.rows()?,
            state,
            projection,
            filters,
            limit,
        )
        .await
    }
}
