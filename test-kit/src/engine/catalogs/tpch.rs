//! Trino's `tpch` connector: dbgen-compatible data generated lazily (tpchgen) and streamed,
//! with Trino's column names (no prefixes) and types (money as double).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::common::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow, RegionArrow,
    SupplierArrow,
};

use crate::engine::types::{TrinoType, stored_field};

/// Rows per generated batch: small enough that a LIMIT only pays for a few.
const BATCH_ROWS: usize = 4096;

pub const TABLES: &[&str] = &[
    "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
];

/// Schemas Trino lists for tpch; any other `sfN` name also resolves.
const SCHEMAS: &[&str] = &[
    "sf1", "sf100", "sf1000", "sf10000", "sf100000", "sf300", "sf3000", "sf30000", "tiny",
];

fn columns(table: &str) -> &'static [(&'static str, &'static str)] {
    match table {
        "nation" => &[
            ("nationkey", "bigint"),
            ("name", "varchar(25)"),
            ("regionkey", "bigint"),
            ("comment", "varchar(152)"),
        ],
        "region" => &[
            ("regionkey", "bigint"),
            ("name", "varchar(25)"),
            ("comment", "varchar(152)"),
        ],
        "part" => &[
            ("partkey", "bigint"),
            ("name", "varchar(55)"),
            ("mfgr", "varchar(25)"),
            ("brand", "varchar(10)"),
            ("type", "varchar(25)"),
            ("size", "integer"),
            ("container", "varchar(10)"),
            ("retailprice", "double"),
            ("comment", "varchar(23)"),
        ],
        "supplier" => &[
            ("suppkey", "bigint"),
            ("name", "varchar(25)"),
            ("address", "varchar(40)"),
            ("nationkey", "bigint"),
            ("phone", "varchar(15)"),
            ("acctbal", "double"),
            ("comment", "varchar(101)"),
        ],
        "partsupp" => &[
            ("partkey", "bigint"),
            ("suppkey", "bigint"),
            ("availqty", "integer"),
            ("supplycost", "double"),
            ("comment", "varchar(199)"),
        ],
        "customer" => &[
            ("custkey", "bigint"),
            ("name", "varchar(25)"),
            ("address", "varchar(40)"),
            ("nationkey", "bigint"),
            ("phone", "varchar(15)"),
            ("acctbal", "double"),
            ("mktsegment", "varchar(10)"),
            ("comment", "varchar(117)"),
        ],
        "orders" => &[
            ("orderkey", "bigint"),
            ("custkey", "bigint"),
            ("orderstatus", "varchar(1)"),
            ("totalprice", "double"),
            ("orderdate", "date"),
            ("orderpriority", "varchar(15)"),
            ("clerk", "varchar(15)"),
            ("shippriority", "integer"),
            ("comment", "varchar(79)"),
        ],
        "lineitem" => &[
            ("orderkey", "bigint"),
            ("partkey", "bigint"),
            ("suppkey", "bigint"),
            ("linenumber", "integer"),
            ("quantity", "double"),
            ("extendedprice", "double"),
            ("discount", "double"),
            ("tax", "double"),
            ("returnflag", "varchar(1)"),
            ("linestatus", "varchar(1)"),
            ("shipdate", "date"),
            ("commitdate", "date"),
            ("receiptdate", "date"),
            ("shipinstruct", "varchar(25)"),
            ("shipmode", "varchar(10)"),
            ("comment", "varchar(44)"),
        ],
        _ => &[],
    }
}

/// The Trino schema of a tpch table; strings stay Utf8View as generated.
fn table_schema(table: &str) -> SchemaRef {
    let fields: Vec<_> = columns(table)
        .iter()
        .map(|(name, ty)| {
            let t = TrinoType::parse(ty).unwrap_or(TrinoType::Unknown);
            let f = stored_field(name, &t, false, None);
            match t {
                TrinoType::Varchar(_) => f.with_data_type(DataType::Utf8View),
                _ => f,
            }
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Scale factor of a schema name: `tiny` is 0.01, `sfN` is N.
pub fn scale_factor(schema: &str) -> Option<f64> {
    if schema == "tiny" {
        return Some(0.01);
    }
    let n: f64 = schema.strip_prefix("sf")?.parse().ok()?;
    (n > 0.0 && n.is_finite()).then_some(n)
}

#[derive(Debug)]
pub struct TpchCatalog;

impl CatalogProvider for TpchCatalog {
    fn schema_names(&self) -> Vec<String> {
        SCHEMAS.iter().map(|s| s.to_string()).collect()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let sf = scale_factor(name)?;
        Some(Arc::new(TpchSchema { sf }))
    }
}

#[derive(Debug)]
struct TpchSchema {
    sf: f64,
}

#[async_trait]
impl SchemaProvider for TpchSchema {
    fn table_names(&self) -> Vec<String> {
        TABLES.iter().map(|s| s.to_string()).collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if !TABLES.contains(&name) {
            return Ok(None);
        }
        let schema = table_schema(name);
        let partition = TpchPartition {
            table: name.to_string(),
            sf: self.sf,
            schema: schema.clone(),
        };
        let table = StreamingTable::try_new(schema, vec![Arc::new(partition)])?;
        Ok(Some(Arc::new(table)))
    }

    fn table_exist(&self, name: &str) -> bool {
        TABLES.contains(&name)
    }
}

#[derive(Debug)]
struct TpchPartition {
    table: String,
    sf: f64,
    schema: SchemaRef,
}

type Batches = Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>;

fn generator(table: &str, sf: f64) -> Batches {
    match table {
        "nation" => {
            Box::new(NationArrow::new(NationGenerator::new(sf, 1, 1)).with_batch_size(BATCH_ROWS))
        }
        "region" => {
            Box::new(RegionArrow::new(RegionGenerator::new(sf, 1, 1)).with_batch_size(BATCH_ROWS))
        }
        "part" => {
            Box::new(PartArrow::new(PartGenerator::new(sf, 1, 1)).with_batch_size(BATCH_ROWS))
        }
        "supplier" => Box::new(
            SupplierArrow::new(SupplierGenerator::new(sf, 1, 1)).with_batch_size(BATCH_ROWS),
        ),
        "partsupp" => Box::new(
            PartSuppArrow::new(PartSuppGenerator::new(sf, 1, 1)).with_batch_size(BATCH_ROWS),
        ),
        "customer" => Box::new(
            CustomerArrow::new(CustomerGenerator::new(sf, 1, 1)).with_batch_size(BATCH_ROWS),
        ),
        "orders" => {
            Box::new(OrderArrow::new(OrderGenerator::new(sf, 1, 1)).with_batch_size(BATCH_ROWS))
        }
        "lineitem" => Box::new(
            LineItemArrow::new(LineItemGenerator::new(sf, 1, 1)).with_batch_size(BATCH_ROWS),
        ),
        _ => Box::new(std::iter::empty()),
    }
}

/// Renames the generated columns and casts decimal money to double.
fn convert(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(col, field)| {
            if col.data_type() == field.data_type() {
                Ok(col.clone())
            } else {
                cast(col, field.data_type())
            }
        })
        .collect::<Result<_, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

impl PartitionStream for TpchPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let schema = self.schema.clone();
        let target = schema.clone();
        let batches = generator(&self.table, self.sf)
            .map(move |b| b.and_then(|b| convert(b, &target)).map_err(Into::into));
        Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::iter(batches),
        ))
    }
}
