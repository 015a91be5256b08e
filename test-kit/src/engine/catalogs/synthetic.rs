//! `synthetic.default.numbers`: a large deterministic table generated batch by batch, so
//! streaming every row keeps memory flat.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::common::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;

use crate::engine::types::{TrinoType, stored_field};

const BATCH_ROWS: u64 = 8192;
/// 2024-01-01T00:00:00Z in milliseconds; row `id` is created `id` seconds later.
const EPOCH_MS: i64 = 1_704_067_200_000;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        stored_field("id", &TrinoType::BigInt, false, Some("1-based row number")),
        stored_field("label", &TrinoType::Varchar(None), false, None),
        stored_field("value", &TrinoType::Double, false, None),
        stored_field("created", &TrinoType::Timestamp(3), false, None),
    ]))
}

/// Rows `from..to` (1-based ids).
fn batch(schema: &SchemaRef, from: u64, to: u64) -> DfResult<RecordBatch> {
    let ids: Vec<i64> = (from..to).map(|i| i as i64).collect();
    let label = StringArray::from_iter_values(ids.iter().map(|i| format!("item-{i}")));
    let value = Float64Array::from_iter_values(ids.iter().map(|i| (*i % 1000) as f64 * 0.25));
    let created =
        TimestampMillisecondArray::from_iter_values(ids.iter().map(|i| EPOCH_MS + i * 1000));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(label),
        Arc::new(value),
        Arc::new(created),
    ];
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

#[derive(Debug)]
pub struct SyntheticCatalog {
    pub rows: u64,
}

impl CatalogProvider for SyntheticCatalog {
    fn schema_names(&self) -> Vec<String> {
        vec!["default".into()]
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        (name == "default")
            .then(|| Arc::new(SyntheticSchema { rows: self.rows }) as Arc<dyn SchemaProvider>)
    }
}

#[derive(Debug)]
struct SyntheticSchema {
    rows: u64,
}

#[async_trait]
impl SchemaProvider for SyntheticSchema {
    fn table_names(&self) -> Vec<String> {
        vec!["numbers".into()]
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if name != "numbers" {
            return Ok(None);
        }
        let schema = schema();
        let partition = Numbers {
            rows: self.rows,
            schema: schema.clone(),
        };
        Ok(Some(Arc::new(StreamingTable::try_new(
            schema,
            vec![Arc::new(partition)],
        )?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        name == "numbers"
    }
}

#[derive(Debug)]
struct Numbers {
    rows: u64,
    schema: SchemaRef,
}

impl PartitionStream for Numbers {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let schema = self.schema.clone();
        let rows = self.rows;
        let starts = (0..rows.div_ceil(BATCH_ROWS)).map(|b| 1 + b * BATCH_ROWS);
        let batches =
            starts.map(move |from| batch(&schema, from, (from + BATCH_ROWS).min(rows + 1)));
        Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::iter(batches),
        ))
    }
}
