//! The Trino catalogs as DataFusion providers: tpch, memory, system, synthetic, each with its
//! own `information_schema` in Trino's shape.

pub mod info_schema;
pub mod memory;
pub mod synthetic;
pub mod system;
pub mod tpch;

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{CatalogProvider, Session};
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

/// Adds Trino's per-catalog `information_schema` schema to a catalog.
#[derive(Debug)]
pub struct WithInfoSchema {
    pub name: String,
    pub inner: Arc<dyn CatalogProvider>,
}

impl CatalogProvider for WithInfoSchema {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.inner.schema_names();
        names.push(info_schema::SCHEMA.to_string());
        names.sort();
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name == info_schema::SCHEMA {
            return Some(Arc::new(info_schema::InfoSchema::new(
                &self.name,
                self.inner.clone(),
            )));
        }
        self.inner.schema(name)
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        self.inner.register_schema(name, schema)
    }

    fn deregister_schema(
        &self,
        name: &str,
        cascade: bool,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        self.inner.deregister_schema(name, cascade)
    }
}

/// Scans a batch computed at query time (system and information_schema tables).
pub async fn scan_batch(
    schema: SchemaRef,
    batch: RecordBatch,
    state: &dyn Session,
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    let table = MemTable::try_new(schema, vec![vec![batch]])?;
    table.scan(state, projection, filters, limit).await
}
