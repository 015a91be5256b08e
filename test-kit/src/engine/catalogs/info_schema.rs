//! Trino's per-catalog `information_schema` (schemata, tables, columns, views,
//! table_privileges), computed from the catalog at query time.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{CatalogProvider, SchemaProvider, Session, TableProvider};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;

use super::scan_batch;
use crate::engine::types::{COMMENT_KEY, field_type};

pub const SCHEMA: &str = "information_schema";
pub const TABLES: &[&str] = &["columns", "schemata", "table_privileges", "tables", "views"];
/// Columns `SELECT *` shows for `information_schema.columns`; `comment` is hidden.
pub const COLUMNS_VISIBLE: &[&str] = &[
    "table_catalog",
    "table_schema",
    "table_name",
    "column_name",
    "ordinal_position",
    "column_default",
    "is_nullable",
    "data_type",
];

#[derive(Debug)]
pub struct InfoSchema {
    catalog_name: String,
    catalog: Arc<dyn CatalogProvider>,
}

impl InfoSchema {
    pub fn new(catalog_name: &str, catalog: Arc<dyn CatalogProvider>) -> Self {
        InfoSchema {
            catalog_name: catalog_name.to_string(),
            catalog,
        }
    }
}

fn varchar(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

pub fn schema_of(table: &str) -> SchemaRef {
    let fields = match table {
        "schemata" => vec![varchar("catalog_name"), varchar("schema_name")],
        "tables" => vec![
            varchar("table_catalog"),
            varchar("table_schema"),
            varchar("table_name"),
            varchar("table_type"),
        ],
        "views" => vec![
            varchar("table_catalog"),
            varchar("table_schema"),
            varchar("table_name"),
            varchar("view_definition"),
        ],
        "table_privileges" => [
            "grantor",
            "grantor_type",
            "grantee",
            "grantee_type",
            "table_catalog",
            "table_schema",
            "table_name",
            "privilege_type",
            "is_grantable",
            "with_hierarchy",
        ]
        .iter()
        .map(|n| varchar(n))
        .collect(),
        _ => {
            let mut fields: Vec<Field> = COLUMNS_VISIBLE
                .iter()
                .map(|n| {
                    if *n == "ordinal_position" {
                        Field::new(*n, DataType::Int64, true)
                    } else {
                        varchar(n)
                    }
                })
                .collect();
            fields.push(varchar("comment"));
            fields
        }
    };
    Arc::new(Schema::new(fields))
}

#[async_trait]
impl SchemaProvider for InfoSchema {
    fn table_names(&self) -> Vec<String> {
        TABLES.iter().map(|s| s.to_string()).collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let Some(table) = TABLES.iter().find(|t| **t == name) else {
            return Ok(None);
        };
        Ok(Some(Arc::new(InfoTable {
            catalog_name: self.catalog_name.clone(),
            catalog: self.catalog.clone(),
            name: table,
            schema: schema_of(table),
        })))
    }

    fn table_exist(&self, name: &str) -> bool {
        TABLES.contains(&name)
    }
}

#[derive(Debug)]
struct InfoTable {
    catalog_name: String,
    catalog: Arc<dyn CatalogProvider>,
    name: &'static str,
    schema: SchemaRef,
}

/// One table of the catalog as information_schema sees it.
struct TableEntry {
    schema: String,
    name: String,
    kind: TableType,
    fields: SchemaRef,
}

/// Every table of a catalog, information_schema included, sorted by schema then name.
pub async fn list_tables(
    catalog: &dyn CatalogProvider,
) -> DfResult<Vec<(String, String, TableType, SchemaRef)>> {
    let mut out = Vec::new();
    let mut schemas = catalog.schema_names();
    schemas.push(SCHEMA.to_string());
    schemas.sort();
    schemas.dedup();
    for schema in schemas {
        if schema == SCHEMA {
            for t in TABLES {
                out.push((schema.clone(), t.to_string(), TableType::Base, schema_of(t)));
            }
            continue;
        }
        let Some(provider) = catalog.schema(&schema) else {
            continue;
        };
        let mut names = provider.table_names();
        names.sort();
        for name in names {
            if let Some(table) = provider.table(&name).await? {
                // Streaming tables report View; only a provider with a logical plan is a view.
                let kind = if table.get_logical_plan().is_some() {
                    TableType::View
                } else {
                    TableType::Base
                };
                out.push((schema.clone(), name, kind, table.schema()));
            }
        }
    }
    Ok(out)
}

impl InfoTable {
    async fn rows(&self) -> DfResult<RecordBatch> {
        let cat = Some(self.catalog_name.clone());
        let entries: Vec<TableEntry> = list_tables(self.catalog.as_ref())
            .await?
            .into_iter()
            .map(|(schema, name, kind, fields)| TableEntry {
                schema,
                name,
                kind,
                fields,
            })
            .collect();
        let s = |v: Vec<Option<String>>| -> ArrayRef { Arc::new(StringArray::from(v)) };
        let columns: Vec<ArrayRef> = match self.name {
            "schemata" => {
                let mut names = self.catalog.schema_names();
                names.push(SCHEMA.to_string());
                names.sort();
                names.dedup();
                vec![
                    s(vec![cat.clone(); names.len()]),
                    s(names.into_iter().map(Some).collect()),
                ]
            }
            "tables" => vec![
                s(vec![cat.clone(); entries.len()]),
                s(entries.iter().map(|e| Some(e.schema.clone())).collect()),
                s(entries.iter().map(|e| Some(e.name.clone())).collect()),
                s(entries
                    .iter()
                    .map(|e| {
                        Some(
                            if e.kind == TableType::View {
                                "VIEW"
                            } else {
                                "BASE TABLE"
                            }
                            .to_string(),
                        )
                    })
                    .collect()),
            ],
            "views" => (0..4).map(|_| s(vec![])).collect(),
            "table_privileges" => (0..10).map(|_| s(vec![])).collect(),
            _ => {
                let mut cols: Vec<Vec<Option<String>>> = vec![Vec::new(); 9];
                let mut ordinals = Vec::new();
                for e in &entries {
                    for (i, f) in e.fields.fields().iter().enumerate() {
                        cols[0].push(cat.clone());
                        cols[1].push(Some(e.schema.clone()));
                        cols[2].push(Some(e.name.clone()));
                        cols[3].push(Some(f.name().clone()));
                        ordinals.push(i as i64 + 1);
                        cols[5].push(None);
                        cols[6].push(Some(if f.is_nullable() { "YES" } else { "NO" }.to_string()));
                        cols[7].push(Some(field_type(f).compact()));
                        cols[8].push(f.metadata().get(COMMENT_KEY).cloned());
                    }
                }
                let mut arrays: Vec<ArrayRef> = Vec::new();
                for (i, c) in cols.into_iter().enumerate() {
                    if i == 4 {
                        arrays.push(Arc::new(Int64Array::from(ordinals.clone())));
                    } else {
                        arrays.push(s(c));
                    }
                }
                arrays
            }
        };
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

#[async_trait]
impl TableProvider for InfoTable {
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
        let batch = self.rows().await?;
        scan_batch(
            self.schema.clone(),
            batch,
            state,
            projection,
            filters,
            limit,
        )
        .await
    }
}
