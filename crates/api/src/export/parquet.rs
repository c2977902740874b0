//! Export lines as Apache Parquet: the envelope in typed columns (UInt64 positions, a UTC
//! microsecond timestamp, dictionary-encoded streams, types and actors), the payload as
//! JSON text, in row groups of [`ROW_GROUP_ROWS`] rows, Snappy-compressed.
//!
//! Invariant: memory stays bounded: at most [`BATCH_ROWS`] rows in the builders and one
//! row group in the writer, whatever the log's size.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    StringBuilder, StringDictionaryBuilder, TimestampMicrosecondBuilder, UInt16Builder,
    UInt64Builder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::Line;

/// Why a Parquet export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    /// An input line is not an export line. Code `BAD_LINE`.
    #[error("not an export line: {0}")]
    Line(#[from] serde_json::Error),
    /// An export line's `recordedAt` is not a time. Code `BAD_LINE`.
    #[error("recordedAt {text:?} of position {position} is not a time")]
    Time {
        /// The line's position.
        position: u64,
        /// What it held.
        text: String,
    },
    /// The input ended inside a line. Code `BAD_LINE`.
    #[error("the export ended inside a line")]
    CutLine,
    /// Arrow or Parquet failed (an I/O error of the output among them). Code `PARQUET`.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A record batch did not match the schema. Code `PARQUET`.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

impl ParquetError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ParquetError::Line(_) | ParquetError::Time { .. } | ParquetError::CutLine => "BAD_LINE",
            ParquetError::Parquet(_) | ParquetError::Arrow(_) => "PARQUET",
        }
    }
}

/// Rows gathered before they are handed to the writer as one record batch.
const BATCH_ROWS: usize = 8192;

/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// The columns of an export file.
pub fn schema() -> Arc<Schema> {
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    Arc::new(Schema::new(vec![
        Field::new("position", DataType::UInt64, false),
        Field::new("id", DataType::Utf8, false),
        Field::new("stream", dictionary.clone(), false),
        Field::new("version", DataType::UInt64, false),
        Field::new("type", dictionary.clone(), false),
        Field::new("schema_version", DataType::UInt16, false),
        Field::new(
            "recorded_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("actor", dictionary, false),
        Field::new("correlation_id", DataType::Utf8, false),
        Field::new("causation_id", DataType::Utf8, true),
        Field::new("hash", DataType::Utf8, false),
        Field::new("data", DataType::Utf8, false),
    ]))
}

/// The rows not yet handed to the writer.
#[derive(Default)]
struct Columns {
    position: UInt64Builder,
    id: StringBuilder,
    stream: StringDictionaryBuilder<Int32Type>,
    version: UInt64Builder,
    event_type: StringDictionaryBuilder<Int32Type>,
    schema_version: UInt16Builder,
    recorded_at: TimestampMicrosecondBuilder,
    actor: StringDictionaryBuilder<Int32Type>,
    correlation_id: StringBuilder,
    causation_id: StringBuilder,
    hash: StringBuilder,
    data: StringBuilder,
    rows: usize,
}

impl Columns {
    fn push(&mut self, line: Line<'_>) -> Result<(), ParquetError> {
        let at = crate::time::parse(&line.recorded_at).ok_or_else(|| ParquetError::Time {
            position: line.position,
            text: line.recorded_at.clone(),
        })?;
        self.position.append_value(line.position);
        self.id.append_value(&line.id);
        self.stream.append_value(&line.stream);
        self.version.append_value(line.version);
        self.event_type.append_value(&line.event_type);
        self.schema_version.append_value(line.schema_version);
        self.recorded_at.append_value(at);
        self.actor.append_value(&line.actor);
        self.correlation_id.append_value(&line.correlation_id);
        self.causation_id
            .append_option(line.causation_id.as_deref());
        self.hash.append_value(&line.hash);
        self.data.append_value(line.data.to_string());
        self.rows += 1;
        Ok(())
    }

    /// The rows as one record batch; the builders start over.
    fn batch(&mut self) -> Result<RecordBatch, ParquetError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.position.finish()),
            Arc::new(self.id.finish()),
            Arc::new(self.stream.finish()),
            Arc::new(self.version.finish()),
            Arc::new(self.event_type.finish()),
            Arc::new(self.schema_version.finish()),
            Arc::new(self.recorded_at.finish().with_timezone("UTC")),
            Arc::new(self.actor.finish()),
            Arc::new(self.correlation_id.finish()),
            Arc::new(self.causation_id.finish()),
            Arc::new(self.hash.finish()),
            Arc::new(self.data.finish()),
        ];
        self.rows = 0;
        Ok(RecordBatch::try_new(schema(), columns)?)
    }
}

/// Export lines in, a Parquet file out.
pub struct ParquetWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    columns: Columns,
    /// The start of a line whose end has not arrived yet.
    carry: Vec<u8>,
}

impl<W: Write + Send> ParquetWriter<W> {
    /// A writer of an export file into `out`.
    pub fn new(out: W) -> Result<Self, ParquetError> {
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_size(ROW_GROUP_ROWS)
            .build();
        Ok(Self {
            writer: ArrowWriter::try_new(out, schema(), Some(properties))?,
            columns: Columns::default(),
            carry: Vec::new(),
        })
    }

    /// Takes bytes of export lines (a line may continue in the next call).
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), ParquetError> {
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(end);
            if self.carry.is_empty() {
                self.columns
                    .push(serde_json::from_slice::<Line<'_>>(head)?)?;
            } else {
                let mut whole = std::mem::take(&mut self.carry);
                whole.extend_from_slice(head);
                self.columns
                    .push(serde_json::from_slice::<Line<'_>>(&whole)?)?;
            }
            if self.columns.rows >= BATCH_ROWS {
                let batch = self.columns.batch()?;
                self.writer.write(&batch)?;
            }
            rest = tail.get(1..).unwrap_or_default();
        }
        self.carry.extend_from_slice(rest);
        Ok(())
    }

    /// Writes what is left and the footer; answers the output.
    pub fn finish(mut self) -> Result<W, ParquetError> {
        if !self.carry.is_empty() {
            return Err(ParquetError::CutLine);
        }
        if self.columns.rows > 0 {
            let batch = self.columns.batch()?;
            self.writer.write(&batch)?;
        }
        Ok(self.writer.into_inner()?)
    }
}
