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
use crate::{
    AppendError, Appended, EventLog, ExpectedVersion, LogError, LogHead, MAX_EVENTS_PER_APPEND,
};

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
    ///
    /// Consecutive records of one stream recorded at one time are copied as one append, so
    /// the events of a source append (which share their stream and time) appear together or
    /// not at all to the copy's readers.
    pub async fn copy_records(
        &self,
        records: impl IntoIterator<Item = RecordedEvent>,
    ) -> Result<LogHead, AppendError> {
        let mut waiting: VecDeque<(Pending, Run)> = VecDeque::new();
        let mut in_flight = 0usize;
        let mut run = Run::default();
        let mut last_hash = None;
        for source in records {
            last_hash = Some(source.hash);
            if run.continues_with(&source) {
                run.records.push(source);
                continue;
            }
            let full = std::mem::replace(&mut run, Run::starting(source));
            if full.records.is_empty() {
                continue;
            }
            while in_flight >= IN_FLIGHT
                && let Some((answer, sent)) = waiting.pop_front()
            {
                in_flight -= sent.records.len();
                landed(answer.await, &sent)?;
            }
            in_flight += full.records.len();
            let answer = self.send_copy(&full).await?;
            waiting.push_back((answer, full));
        }
        if !run.records.is_empty() {
            let answer = self.send_copy(&run).await?;
            waiting.push_back((answer, run));
        }
        while let Some((answer, sent)) = waiting.pop_front() {
            landed(answer.await, &sent)?;
        }
        let head = self.head();
        match last_hash {
            Some(hash) if hash != head.hash => Err(mismatch(
                Position(head.len.saturating_sub(1)),
                "the copy's chain hash differs from the source's",
            )),
            _ => Ok(head),
        }
    }

    async fn send_copy(&self, run: &Run) -> Result<Pending, AppendError> {
        let Some(first) = run.records.first() else {
            return Err(mismatch(
                Position(self.head().len),
                "an empty run was copied",
            ));
        };
        let record = &first.record;
        let expected = match record.version.0.checked_sub(1) {
            None => ExpectedVersion::NoStream,
            Some(previous) => ExpectedVersion::Exact(sparkfeed_events::StreamVersion(previous)),
        };
        let (reply, answer) = oneshot::channel();
        let request = Request {
            stream: record.stream.clone(),
            expected,
            events: run
                .records
                .iter()
                .map(|source| NewEvent {
                    id: source.record.id,
                    event_type: source.record.event_type.clone(),
                    schema_version: source.record.schema_version,
                    payload: source.record.payload.clone(),
                    metadata: source.record.metadata.clone(),
                })
                .collect(),
            conditions: Vec::new(),
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

/// Consecutive source records copied as one append: one stream, consecutive positions and
/// versions, one recorded time, at most [`MAX_EVENTS_PER_APPEND`].
#[derive(Default)]
struct Run {
    records: Vec<RecordedEvent>,
}

impl Run {
    fn starting(first: RecordedEvent) -> Self {
        Self {
            records: vec![first],
        }
    }

    fn continues_with(&self, next: &RecordedEvent) -> bool {
        let Some(last) = self.records.last() else {
            return false;
        };
        self.records.len() < MAX_EVENTS_PER_APPEND
            && last.record.stream == next.record.stream
            && last.record.recorded_at == next.record.recorded_at
            && last.record.position.0 + 1 == next.record.position.0
            && last.record.version.0 + 1 == next.record.version.0
    }
}

type Pending = oneshot::Receiver<Result<Appended, AppendError>>;

/// Checks that the copy of `run` landed where the source has it.
fn landed(
    answer: Result<Result<Appended, AppendError>, oneshot::error::RecvError>,
    run: &Run,
) -> Result<(), AppendError> {
    let appended = answer.map_err(|_| LogError::Closed)??;
    let first = run.records.first().map(|r| r.record.position);
    if appended.deduplicated || Some(appended.first_position) != first {
        return Err(mismatch(
            first.unwrap_or(appended.first_position),
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
