//! The log as JSON Lines or Parquet: which events an export takes ([`ExportFilter`], from
//! the query string [`ExportParams`] that `GET /export` and `sparkfeed export` share), how
//! one event is written ([`write_line`]: one self-describing object per event, its payload
//! upcast and personal data sealed as the `events` query shows it), and the loop that
//! exports a log into an [`ExportSink`] ([`export_log`]).
//!
//! Invariant: a line depends on the stored record alone (not on the server, its keys or
//! its clock), so an export from a running server and one from a copy of its directory
//! are the same bytes.

pub mod parquet;

use std::fmt::Display;
use std::io::Write;

use serde::{Deserialize, Serialize};
use sparkfeed_domain::events::DomainEvent;
use sparkfeed_events::{Hash, RecordedEvent};

use crate::error::{ApiError, ApiResult};
pub use crate::objects::event::decode_data as decode;
use crate::objects::event::known_types;
use crate::time::Rfc3339;

/// The export's query string, as sent.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct ExportParams {
    /// First position (inclusive).
    pub from: Option<u64>,
    /// Last position (exclusive).
    pub until: Option<u64>,
    /// Recorded at or after (RFC 3339).
    pub since: Option<String>,
    /// Recorded before (RFC 3339).
    pub before: Option<String>,
    /// Event types, comma-separated.
    pub types: Option<String>,
    /// Only streams whose name starts with this.
    pub stream_prefix: Option<String>,
    /// Keep going as events are appended.
    #[serde(default)]
    pub follow: bool,
}

/// Which events an export writes, checked.
#[derive(Clone, Debug)]
pub struct ExportFilter {
    from: u64,
    until: Option<u64>,
    since: Option<i64>,
    before: Option<i64>,
    types: Vec<String>,
    stream_prefix: Option<String>,
    follow: bool,
}

impl ExportFilter {
    /// The filter of `p`, or `BAD_USER_INPUT` naming the parameter that is wrong.
    pub fn parse(p: ExportParams) -> ApiResult<Self> {
        let from = p.from.unwrap_or(0);
        if let Some(until) = p.until
            && until < from
        {
            return Err(ApiError::input("until", "is before from"));
        }
        let time = |field: &'static str, text: Option<String>| {
            text.map(|t| {
                crate::time::parse(&t)
                    .ok_or_else(|| ApiError::input(field, "expected an RFC 3339 timestamp"))
            })
            .transpose()
        };
        let (since, before) = (time("since", p.since)?, time("before", p.before)?);
        if let (Some(since), Some(before)) = (since, before)
            && before < since
        {
            return Err(ApiError::input("before", "is before since"));
        }
        let types = known_types(
            p.types
                .iter()
                .flat_map(|t| t.split(','))
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        )?;
        Ok(Self {
            from,
            until: p.until,
            since,
            before,
            types,
            stream_prefix: p.stream_prefix.filter(|s| !s.is_empty()),
            follow: p.follow,
        })
    }

    /// The first position the export takes.
    pub fn from(&self) -> u64 {
        self.from
    }

    /// Whether the export keeps going as events are appended.
    pub fn follows(&self) -> bool {
        self.follow
    }

    /// The position the export stops before, for a log whose head is `head` now.
    pub fn end(&self, head: u64) -> u64 {
        match (self.until, self.follow) {
            (Some(until), _) => until,
            (None, true) => u64::MAX,
            (None, false) => head,
        }
    }

    /// Whether `e` is one the export takes (positions aside: see [`ExportFilter::end`]).
    pub fn wants(&self, e: &RecordedEvent) -> bool {
        let r = &e.record;
        self.since.is_none_or(|s| r.recorded_at.0 >= s)
            && self.before.is_none_or(|b| r.recorded_at.0 < b)
            && (self.types.is_empty() || self.types.iter().any(|t| t == r.event_type.as_str()))
            && self
                .stream_prefix
                .as_ref()
                .is_none_or(|p| r.stream.as_str().starts_with(p.as_str()))
    }
}

/// One event as an export line holds it, in this order (the Parquet writer reads lines
/// back into its columns: [`parquet::ParquetWriter::write`]).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    position: u64,
    id: Shown<&'a sparkfeed_events::EventId>,
    stream: &'a str,
    version: u64,
    #[serde(rename = "type")]
    event_type: &'a str,
    schema_version: u16,
    recorded_at: Shown<Rfc3339>,
    actor: Shown<&'a sparkfeed_events::Actor>,
    correlation_id: Shown<&'a sparkfeed_events::EventId>,
    causation_id: Option<Shown<&'a sparkfeed_events::EventId>>,
    hash: Shown<&'a Hash>,
    data: &'a DomainEvent,
}

/// A value written as the JSON string of its `Display` form, with no allocation.
struct Shown<T>(T);

impl<T: Display> Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Appends `event` as one line of JSON, ending in a newline, to `out`; `data` is its
/// payload ([`decode`]).
pub fn write_line(out: &mut Vec<u8>, event: &RecordedEvent, data: &DomainEvent) -> ApiResult<()> {
    let r = &event.record;
    let line = Line {
        position: r.position.0,
        id: Shown(&r.id),
        stream: r.stream.as_str(),
        version: r.version.0,
        event_type: r.event_type.as_str(),
        schema_version: r.schema_version,
        recorded_at: Shown(Rfc3339(r.recorded_at.0)),
        actor: Shown(&r.metadata.actor),
        correlation_id: Shown(&r.metadata.correlation_id),
        causation_id: r.metadata.causation_id.as_ref().map(Shown),
        hash: Shown(&event.hash),
        data,
    };
    serde_json::to_writer(&mut *out, &line).map_err(|_| ApiError::Internal { code: "INTERNAL" })?;
    out.push(b'\n');
    Ok(())
}

/// Where an export's events go: JSON Lines ([`JsonLines`]) or Parquet
/// ([`parquet::ParquetWriter`]).
pub trait ExportSink {
    /// Takes one event the export writes; `data` is its payload ([`decode`]).
    fn event(&mut self, event: &RecordedEvent, data: &DomainEvent) -> Result<(), ExportError>;
    /// The end of one batch of the log: what is buffered may go out now.
    fn end_batch(&mut self) -> Result<(), ExportError>;
}

/// Lines into `W`, written a batch at a time.
pub struct JsonLines<W: Write> {
    out: W,
    buffer: Vec<u8>,
    /// Flush `out` after every batch, so lines reach a pipe as they come.
    eager: bool,
}

/// Bytes of lines buffered before they are written even inside a batch.
const LINES_BUFFER: usize = 256 * 1024;

impl<W: Write> JsonLines<W> {
    /// Lines into `out`; with `eager`, flushed after every batch (for stdout).
    pub fn new(out: W, eager: bool) -> Self {
        Self {
            out,
            buffer: Vec::with_capacity(LINES_BUFFER),
            eager,
        }
    }

    /// Writes lines already encoded (from `GET /export`) through.
    pub fn write_encoded(&mut self, lines: &[u8]) -> std::io::Result<()> {
        self.drain()?;
        self.out.write_all(lines)?;
        if self.eager {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Writes what is buffered, flushes, and answers the output.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.drain()?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn drain(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            self.out.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }
}

impl<W: Write> ExportSink for JsonLines<W> {
    fn event(&mut self, event: &RecordedEvent, data: &DomainEvent) -> Result<(), ExportError> {
        write_line(&mut self.buffer, event, data).map_err(ExportError::Line)?;
        if self.buffer.len() >= LINES_BUFFER {
            self.drain()?;
        }
        Ok(())
    }

    fn end_batch(&mut self) -> Result<(), ExportError> {
        self.drain()?;
        if self.eager {
            self.out.flush()?;
        }
        Ok(())
    }
}

/// sled's page cache of a log opened only to be exported: one pass over the log gains
/// nothing from a larger one, and the export's memory stays small.
pub const EXPORT_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// Opens the log in `dir` to be exported, with a page cache of [`EXPORT_CACHE_BYTES`].
/// Opening runs recovery, which may write: `dir` must be a copy, never a directory a
/// server may use.
pub fn open_for_export(
    dir: &std::path::Path,
) -> Result<sparkfeed_eventlog::EventLog, sparkfeed_eventlog::LogError> {
    sparkfeed_eventlog::EventLog::open(sparkfeed_eventlog::Config {
        cache_capacity_bytes: EXPORT_CACHE_BYTES,
        ..sparkfeed_eventlog::Config::new(dir)
    })
}

/// Records read per batch of [`export_log`]: bounds its memory.
const READ_BATCH: usize = 1024;

/// Why [`export_log`] stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The log failed. Code: the log's.
    #[error("reading the log: {0}")]
    Log(#[from] sparkfeed_eventlog::LogError),
    /// An event did not decode or encode. Code: its.
    #[error("encoding an event: {0}")]
    Line(ApiError),
    /// The Parquet writer failed. Code: its.
    #[error("writing Parquet: {0}")]
    Parquet(#[from] parquet::ParquetError),
    /// The output refused the bytes. Code `IO`.
    #[error("writing the export: {0}")]
    Write(#[from] std::io::Error),
}

impl ExportError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::Log(e) => e.code(),
            ExportError::Line(e) => e.code(),
            ExportError::Parquet(e) => e.code(),
            ExportError::Write(_) => "IO",
        }
    }
}

/// Batches the reader may hold ahead of the sink.
const BATCHES_AHEAD: usize = 2;

/// One batch of the log as the reader hands it over: the events the filter took, decoded,
/// and the position after the last one examined.
struct Decoded {
    events: Vec<(RecordedEvent, DomainEvent)>,
    next: u64,
}

/// Exports the events of `log` that `filter` takes, up to its end now (a log that is not
/// growing: `follow` does not apply), into `sink`; `progress` is told how many positions
/// were examined after each batch. Answers the number of events written.
///
/// Two stages, one thread each: a reader reads, filters and decodes batches of the log
/// while the calling thread encodes the one before into `sink`. At most
/// [`BATCHES_AHEAD`] batches of [`READ_BATCH`] events wait between them, which bounds the
/// memory; a failing sink stops the reader.
pub fn export_log(
    log: &sparkfeed_eventlog::EventLog,
    filter: &ExportFilter,
    sink: &mut dyn ExportSink,
    mut progress: impl FnMut(u64),
) -> Result<u64, ExportError> {
    let (from, end) = (filter.from(), filter.end(log.head().len));
    let (batches, decoded) =
        std::sync::mpsc::sync_channel::<Result<Decoded, ExportError>>(BATCHES_AHEAD);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let upcasters = sparkfeed_domain::events::upcasters();
            let mut at = from;
            while at < end {
                let batch = read_batch(log, filter, &upcasters, at, end);
                let next = batch.as_ref().map_or(end, |b| b.next);
                if batches.send(batch).is_err() || next <= at {
                    return; // the sink failed, the read failed, or the log ended
                }
                at = next;
            }
        });
        let mut written = 0u64;
        for batch in decoded {
            let batch = batch?;
            for (event, data) in &batch.events {
                sink.event(event, data)?;
            }
            written += batch.events.len() as u64;
            sink.end_batch()?;
            progress(batch.next - from);
        }
        Ok(written)
    })
}

/// The events from `at` (up to [`READ_BATCH`], before `end`) that `filter` takes, decoded;
/// `next` is `at` itself once the log has nothing there.
fn read_batch(
    log: &sparkfeed_eventlog::EventLog,
    filter: &ExportFilter,
    upcasters: &sparkfeed_events::Upcasters,
    at: u64,
    end: u64,
) -> Result<Decoded, ExportError> {
    let max = usize::try_from(end - at)
        .unwrap_or(READ_BATCH)
        .min(READ_BATCH);
    let read = log.read_all(sparkfeed_events::Position(at), max)?;
    let next = read.last().map_or(at, |last| last.record.position.0 + 1);
    let events = read
        .into_iter()
        .filter(|e| filter.wants(e))
        .map(|e| {
            let data = decode(upcasters, &e).map_err(ExportError::Line)?;
            Ok((e, data))
        })
        .collect::<Result<_, ExportError>>()?;
    Ok(Decoded { events, next })
}
