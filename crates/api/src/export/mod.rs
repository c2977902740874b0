//! The log as JSON Lines: which events an export takes ([`ExportFilter`], from the
//! query string [`ExportParams`] that `GET /export` and `sparkfeed export` share) and how
//! one event is written ([`line`]): one self-describing object per event, its payload
//! upcast and personal data sealed as the `events` query shows it.
//!
//! Invariant: a line depends on the stored record alone (not on the server, its keys or
//! its clock), so an export from a running server and one from a copy of its directory
//! are the same bytes.

pub mod parquet;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use sparkfeed_events::{RecordedEvent, Upcasters};

use crate::error::{ApiError, ApiResult};
use crate::objects::event::{event_data, known_types};

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

/// One event as an export line holds it: written by [`line`], read back by the Parquet
/// writer ([`parquet::ParquetWriter`]), so the two never disagree on a field.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Line<'a> {
    pub position: u64,
    pub id: String,
    #[serde(borrow)]
    pub stream: Cow<'a, str>,
    pub version: u64,
    #[serde(rename = "type", borrow)]
    pub event_type: Cow<'a, str>,
    pub schema_version: u16,
    pub recorded_at: String,
    pub actor: String,
    pub correlation_id: String,
    pub causation_id: Option<String>,
    pub hash: String,
    pub data: serde_json::Value,
}

/// `event` as one line of JSON, ending in a newline.
pub fn line(upcasters: &Upcasters, event: &RecordedEvent) -> ApiResult<Vec<u8>> {
    let r = &event.record;
    let line = Line {
        position: r.position.0,
        id: r.id.to_string(),
        stream: Cow::Borrowed(r.stream.as_str()),
        version: r.version.0,
        event_type: Cow::Borrowed(r.event_type.as_str()),
        schema_version: r.schema_version,
        recorded_at: crate::time::format(r.recorded_at.0),
        actor: r.metadata.actor.to_string(),
        correlation_id: r.metadata.correlation_id.to_string(),
        causation_id: r.metadata.causation_id.map(|c| c.to_string()),
        hash: event.hash.to_hex(),
        data: event_data(upcasters, event)?,
    };
    let mut bytes =
        serde_json::to_vec(&line).map_err(|_| ApiError::Internal { code: "INTERNAL" })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Records read per batch of [`export_log`]: bounds its memory.
const READ_BATCH: usize = 4096;

/// Why [`export_log`] stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The log failed. Code: the log's.
    #[error("reading the log: {0}")]
    Log(#[from] sparkfeed_eventlog::LogError),
    /// An event did not encode. Code: its.
    #[error("encoding an event: {0}")]
    Line(ApiError),
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
            ExportError::Write(_) => "IO",
        }
    }
}

/// Writes the lines of the events of `log` that `filter` takes, up to its end now (a log
/// that is not growing: `follow` does not apply), to `write`; `progress` is told how many
/// positions were examined after each batch. Answers the number of lines written.
pub fn export_log(
    log: &sparkfeed_eventlog::EventLog,
    filter: &ExportFilter,
    mut write: impl FnMut(&[u8]) -> std::io::Result<()>,
    mut progress: impl FnMut(u64),
) -> Result<u64, ExportError> {
    let upcasters = sparkfeed_domain::events::upcasters();
    let (from, end) = (filter.from(), filter.end(log.head().len));
    let (mut at, mut lines) = (from, 0u64);
    while at < end {
        let max = usize::try_from(end - at)
            .unwrap_or(READ_BATCH)
            .min(READ_BATCH);
        let batch = log.read_all(sparkfeed_events::Position(at), max)?;
        let Some(last) = batch.last() else { break };
        at = last.record.position.0 + 1;
        for event in batch.iter().filter(|e| filter.wants(e)) {
            write(&line(&upcasters, event).map_err(ExportError::Line)?)?;
            lines += 1;
        }
        progress(at - from);
    }
    Ok(lines)
}
