//! Trino's `memory` connector: schemas and tables held in process memory.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{CatalogProvider, MemTable, SchemaProvider, Session, TableProvider};
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;

#[derive(Debug, Default)]
pub struct MemoryCatalog {
    schemas: RwLock<BTreeMap<String, Arc<MemorySchema>>>,
}

impl MemoryCatalog {
    pub fn new() -> Self {
        let catalog = MemoryCatalog::default();
        catalog.create_schema("default");
        catalog
    }

    /// Creates a schema; false when it already exists.
    pub fn create_schema(&self, name: &str) -> bool {
        let Ok(mut schemas) = self.schemas.write() else {
            return false;
        };
        if schemas.contains_key(name) {
            return false;
        }
        schemas.insert(name.to_string(), Arc::new(MemorySchema::default()));
        true
    }

    pub fn memory_schema(&self, name: &str) -> Option<Arc<MemorySchema>> {
        self.schemas.read().ok()?.get(name).cloned()
    }

    pub fn drop_schema(&self, name: &str) -> bool {
        self.schemas
            .write()
            .map(|mut s| s.remove(name).is_some())
            .unwrap_or(false)
    }
}

impl CatalogProvider for MemoryCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.schemas
            .read()
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.memory_schema(name)
            .map(|s| s as Arc<dyn SchemaProvider>)
    }
}

#[derive(Debug, Default)]
pub struct MemorySchema {
    tables: RwLock<BTreeMap<String, Arc<MemoryTable>>>,
}

impl MemorySchema {
    pub fn memory_table(&self, name: &str) -> Option<Arc<MemoryTable>> {
        self.tables.read().ok()?.get(name).cloned()
    }

    /// Adds a table; false when the name is taken.
    pub fn add_table(&self, name: &str, table: Arc<MemoryTable>) -> bool {
        let Ok(mut tables) = self.tables.write() else {
            return false;
        };
        if tables.contains_key(name) {
            return false;
        }
        tables.insert(name.to_string(), table);
        true
    }

    pub fn drop_table(&self, name: &str) -> bool {
        self.tables
            .write()
            .map(|mut t| t.remove(name).is_some())
            .unwrap_or(false)
    }

    pub fn is_empty(&self) -> bool {
        self.tables.read().map(|t| t.is_empty()).unwrap_or(true)
    }
}

#[async_trait]
impl SchemaProvider for MemorySchema {
    fn table_names(&self) -> Vec<String> {
        self.tables
            .read()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        Ok(self.memory_table(name).map(|t| t as Arc<dyn TableProvider>))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.memory_table(name).is_some()
    }
}

/// A table whose batches all use exactly `schema` (so field metadata survives).
#[derive(Debug)]
pub struct MemoryTable {
    schema: SchemaRef,
    batches: RwLock<Vec<RecordBatch>>,
}

impl MemoryTable {
    pub fn new(schema: SchemaRef) -> Self {
        MemoryTable {
            schema,
            batches: RwLock::new(Vec::new()),
        }
    }

    pub fn append(&self, batch: RecordBatch) -> DfResult<()> {
        let mut batches = self
            .batches
            .write()
            .map_err(|_| DataFusionError::Internal("memory table lock poisoned".into()))?;
        batches.push(batch);
        Ok(())
    }

    pub fn row_count(&self) -> usize {
        self.batches
            .read()
            .map(|b| b.iter().map(|x| x.num_rows()).sum())
            .unwrap_or(0)
    }
}

#[async_trait]
impl TableProvider for MemoryTable {
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
        let snapshot = self
            .batches
            .read()
            .map_err(|_| DataFusionError::Internal("memory table lock poisoned".into()))?
            .clone();
        let table = MemTable::try_new(self.schema.clone(), vec![snapshot])?;
        table.scan(state, projection, filters, limit).await
    }
}
