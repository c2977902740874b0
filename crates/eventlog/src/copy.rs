//! A byte-identical copy of a log's records into another log: the time-travel copy of a
//! prefix (`replay --until --into`) and the golden projection test, which replays a stored
//! world into a fresh log.
//!
//! Invariant: a copy goes through the writer like any append (expected versions, group
//! commit, durability), and it is accepted only as an exact continuation: every record at
//! its own position and version with its own recorded time, so every chain hash equals the
//! source's.

use std::collections::VecDeque;

use sparkfeed_events::{NewEvent, Position, RecordedEvent};
use tokio::sync::oneshot;

use crate::writer::Request;
use crate::{AppendError, Appended, EventLog, ExpectedVersion, LogError, LogHead};

/// Appends sent ahead of the first unanswered one: enough for the writer to fold them into
/// large groups, few enough to bound the memory a copy holds.
const IN_FLIGHT: usize = 4096;

impl EventLog {
    /// Appends a copy of `records`, which must continue this log exactly: the first at its
    /// head, then gap-free, each at its stream's next version. Each keeps the id, type,
    /// schema version, metadata, payload and recorded time of the source, so the copy's
    /// chain hashes equal the source's: the answer is the new head, or `CORRUPT` naming the
    /// first record that did not land as in the source. Records already sent may stay
    /// appended after a failure: copy into a fresh directory and discard it on error.
    pub async fn copy_records(
        &self,
        records: impl IntoIterator<Item = RecordedEvent>,
    ) -> Result<LogHead, AppendError> {
        let mut waiting: VecDeque<(Pending, RecordedEvent)> = VecDeque::new();
        for source in records {
            if waiting.len() >= IN_FLIGHT
                && let Some((answer, sent)) = waiting.pop_front()
            {
                landed(answer.await, &sent)?;
            }
            let answer = self.send_copy(&source).await?;
            waiting.push_back((answer, source));
        }
        let mut last = None;
        while let Some((answer, sent)) = waiting.pop_front() {
            landed(answer.await, &sent)?;
            last = Some(sent);
        }
        let head = self.head();
        match last {
            Some(last) if last.hash != head.hash => Err(mismatch(
                last.record.position,
                "the copy's chain hash differs from the source's",
            )),
            _ => Ok(head),
        }
    }

    async fn send_copy(&self, source: &RecordedEvent) -> Result<Pending, AppendError> {
        let record = &source.record;
        let expected = match record.version.0.checked_sub(1) {
            None => ExpectedVersion::NoStream,
            Some(previous) => ExpectedVersion::Exact(sparkfeed_events::StreamVersion(previous)),
        };
        let (reply, answer) = oneshot::channel();
        let request = Request {
            stream: record.stream.clone(),
            expected,
            events: vec![NewEvent {
                id: record.id,
                event_type: record.event_type.clone(),
                schema_version: record.schema_version,
                payload: record.payload.clone(),
                metadata: record.metadata.clone(),
            }],
            recorded_at: Some(record.recorded_at),
            reply,
        };
        self.queue()?
            .send(request)
            .await
            .map_err(|_| LogError::Closed)?;
        Ok(answer)
    }
}

type Pending = oneshot::Receiver<Result<Appended, AppendError>>;

/// Checks that the copy of `source` landed where the source has it.
fn landed(
    answer: Result<Result<Appended, AppendError>, oneshot::error::RecvError>,
    source: &RecordedEvent,
) -> Result<(), AppendError> {
    let appended = answer.map_err(|_| LogError::Closed)??;
    if appended.deduplicated || appended.first_position != source.record.position {
        return Err(mismatch(
            source.record.position,
            "the copy does not continue the log at this position",
        ));
    }
    Ok(())
}

fn mismatch(position: Position, reason: &str) -> AppendError {
    LogError::Corrupt {
        position: Some(position),
        reason: reason.to_owned(),
    }
    .into()
}
