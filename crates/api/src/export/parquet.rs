//! The export as Apache Parquet: the envelope in typed columns (UInt64 positions, a UTC
//! microsecond timestamp, dictionary-encoded streams, types and actors), the payload as
//! JSON text (exactly the `data` of its JSON line), in row groups of at most
//! [`ROW_GROUP_ROWS`] rows and [`ROW_GROUP_BYTES`] buffered bytes, Snappy-compressed.
//!
//! Rows come from the log's records ([`ExportSink`], `sparkfeed export --data-dir`) or
//! from JSON lines ([`ParquetWriter::write`], what `GET /export` streams): both give the
//! same file, byte for byte.
//!
//! Invariant: memory stays bounded: at most [`BATCH_ROWS`] rows in the builders and one
//! row group of at most [`ROW_GROUP_BYTES`] in the writer, whatever the log's size.

use std::borrow::Cow;
use std::fmt::Write as _;
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
use parquet::schema::types::ColumnPath;

use serde::Deserialize;
use serde_json::value::RawValue;
use sparkfeed_domain::events::DomainEvent;
use sparkfeed_events::RecordedEvent;

use super::{ExportError, ExportSink};

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

/// The most rows in one Parquet row group.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// A row group ends early once the writer buffers this many bytes of it.
pub const ROW_GROUP_BYTES: usize = 16 * 1024 * 1024;

/// The columns whose values are (nearly) all different.
const UNIQUE_COLUMNS: [&str; 5] = ["id", "correlation_id", "causation_id", "hash", "data"];

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

/// One row, as its columns take it.
struct Row<'a> {
    position: u64,
    id: &'a str,
    stream: &'a str,
    version: u64,
    event_type: &'a str,
    schema_version: u16,
    recorded_at: i64,
    actor: &'a str,
    correlation_id: &'a str,
    causation_id: Option<&'a str>,
    hash: &'a str,
    data: &'a str,
}

/// An export line as [`super::write_line`] writes it, read back: the payload stays the
/// exact JSON text of the line.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineIn<'a> {
    position: u64,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    stream: Cow<'a, str>,
    version: u64,
    #[serde(rename = "type", borrow)]
    event_type: Cow<'a, str>,
    schema_version: u16,
    #[serde(borrow)]
    recorded_at: Cow<'a, str>,
    #[serde(borrow)]
    actor: Cow<'a, str>,
    #[serde(borrow)]
    correlation_id: Cow<'a, str>,
    #[serde(borrow)]
    causation_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    hash: Cow<'a, str>,
    #[serde(borrow)]
    data: &'a RawValue,
}

/// The texts of a record's row, kept between rows so that none allocates.
#[derive(Default)]
struct Texts {
    id: String,
    actor: String,
    correlation_id: String,
    causation_id: String,
    hash: String,
    data: Vec<u8>,
}

/// `text` emptied, then holding `shown`.
fn show(text: &mut String, shown: impl std::fmt::Display) -> &str {
    text.clear();
    // Writing into a String fails only if `Display` does, which these never do.
    let _ = write!(text, "{shown}");
    text
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
    fn push(&mut self, row: Row<'_>) {
        self.position.append_value(row.position);
        self.id.append_value(row.id);
        self.stream.append_value(row.stream);
        self.version.append_value(row.version);
        self.event_type.append_value(row.event_type);
        self.schema_version.append_value(row.schema_version);
        self.recorded_at.append_value(row.recorded_at);
        self.actor.append_value(row.actor);
        self.correlation_id.append_value(row.correlation_id);
        self.causation_id.append_option(row.causation_id);
        self.hash.append_value(row.hash);
        self.data.append_value(row.data);
        self.rows += 1;
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

/// Export events (or export lines) in, a Parquet file out.
pub struct ParquetWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    columns: Columns,
    texts: Texts,
    /// The start of a line whose end has not arrived yet.
    carry: Vec<u8>,
}

impl<W: Write + Send> ParquetWriter<W> {
    /// A writer of an export file into `out`.
    pub fn new(out: W) -> Result<Self, ParquetError> {
        let mut properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_size(ROW_GROUP_ROWS);
        // Every value of these differs: a dictionary would only cost time and memory.
        for unique in UNIQUE_COLUMNS {
            properties = properties.set_column_dictionary_enabled(ColumnPath::from(unique), false);
        }
        Ok(Self {
            writer: ArrowWriter::try_new(out, schema(), Some(properties.build()))?,
            columns: Columns::default(),
            texts: Texts::default(),
            carry: Vec::new(),
        })
    }

    /// Takes bytes of export lines (a line may continue in the next call).
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), ParquetError> {
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(end);
            if self.carry.is_empty() {
                self.push_line(head)?;
            } else {
                let mut whole = std::mem::take(&mut self.carry);
                whole.extend_from_slice(head);
                self.push_line(&whole)?;
            }
            rest = tail.get(1..).unwrap_or_default();
        }
        self.carry.extend_from_slice(rest);
        Ok(())
    }

    fn push_line(&mut self, bytes: &[u8]) -> Result<(), ParquetError> {
        let line: LineIn<'_> = serde_json::from_slice(bytes)?;
        let recorded_at =
            crate::time::parse(&line.recorded_at).ok_or_else(|| ParquetError::Time {
                position: line.position,
                text: line.recorded_at.to_string(),
            })?;
        self.columns.push(Row {
            position: line.position,
            id: &line.id,
            stream: &line.stream,
            version: line.version,
            event_type: &line.event_type,
            schema_version: line.schema_version,
            recorded_at,
            actor: &line.actor,
            correlation_id: &line.correlation_id,
            causation_id: line.causation_id.as_deref(),
            hash: &line.hash,
            data: line.data.get(),
        });
        self.write_full_batch()
    }

    /// Hands the builders' rows to the writer once there are [`BATCH_ROWS`]; ends the row
    /// group early once it buffers [`ROW_GROUP_BYTES`].
    fn write_full_batch(&mut self) -> Result<(), ParquetError> {
        if self.columns.rows >= BATCH_ROWS {
            let batch = self.columns.batch()?;
            self.writer.write(&batch)?;
            if self.writer.in_progress_size() >= ROW_GROUP_BYTES {
                self.writer.flush()?;
            }
        }
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

impl<W: Write + Send> ExportSink for ParquetWriter<W> {
    fn event(&mut self, event: &RecordedEvent, data: &DomainEvent) -> Result<(), ExportError> {
        let (r, texts) = (&event.record, &mut self.texts);
        texts.data.clear();
        serde_json::to_writer(&mut texts.data, data).map_err(|_| {
            ExportError::Line(crate::error::ApiError::Internal { code: "INTERNAL" })
        })?;
        let data = std::str::from_utf8(&texts.data).map_err(|_| {
            ExportError::Line(crate::error::ApiError::Internal { code: "INTERNAL" })
        })?;
        let causation_id = match &r.metadata.causation_id {
            Some(id) => Some(show(&mut texts.causation_id, id) as &str),
            None => None,
        };
        self.columns.push(Row {
            position: r.position.0,
            id: show(&mut texts.id, r.id),
            stream: r.stream.as_str(),
            version: r.version.0,
            event_type: r.event_type.as_str(),
            schema_version: r.schema_version,
            recorded_at: r.recorded_at.0,
            actor: show(&mut texts.actor, &r.metadata.actor),
            correlation_id: show(&mut texts.correlation_id, r.metadata.correlation_id),
            causation_id,
            hash: show(&mut texts.hash, event.hash),
            data,
        });
        Ok(self.write_full_batch()?)
    }

    fn end_batch(&mut self) -> Result<(), ExportError> {
        Ok(())
    }
}
