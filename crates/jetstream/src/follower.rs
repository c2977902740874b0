//! The follower: copies the shared log into the node's local copy, in stream order.
//!
//! Invariant: the local copy is always a prefix of the shared log. Each message's records
//! are copied only when they continue the copy exactly (its first position at the copy's
//! head, or below it for a message partly copied before a restart), and the copy's chain
//! must end at the hash of the message's last record; anything else stops the follower,
//! and the node then refuses appends (`LOG_FAILED`) rather than serve a diverged log.
//! Invariant: the follower is the only code that writes the local copy.
//! Invariant: the follower never waits on a consumer for longer than [`STALL`] while the
//! shared log holds messages past its copy: it then drops the consumer and follows again
//! from the last message it applied. The client library's ordered consumer (async-nats
//! 0.51) recreates a lost server-side consumer on its own, but retries that forever without
//! a word (a node stalled 90 s in CI after a NATS server was killed), and when it had
//! delivered nothing yet it starts the new one at the stream's first message.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::stream::Stream;
use futures_util::{FutureExt, StreamExt};
use sparkfeed_eventlog::{EventLog, LogError};
use sparkfeed_events::RecordedEvent;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::message;
use crate::{Counters, JetStreamError};

/// The most messages copied together (one local group commit for all of them).
const MESSAGES_PER_COPY: usize = 256;

/// How long the follower waits with nothing applied before it asks the shared log whether
/// it is behind (and then follows again on a new consumer). Above the library's own
/// recovery (two missed heartbeats of a 2 s pull), below an append's timeout (20-30 s).
pub(crate) const STALL: Duration = Duration::from_secs(5);

/// How far the local copy has applied the shared log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The stream sequence of the last message applied (0: none).
    pub(crate) sequence: u64,
    /// The local copy's event count after it.
    pub(crate) len: u64,
    /// Why the follower stopped, if it did.
    pub(crate) failure: Option<String>,
}

/// Where to follow from: the first message holding a record the local copy does not have
/// (found by binary search over the messages' headers, as positions only grow with the
/// sequence), and the shared log's last sequence now. Checks that the copy's last record
/// is the shared log's.
pub(crate) async fn start_sequence(
    shared: &Stream,
    local: &EventLog,
) -> Result<(u64, u64), JetStreamError> {
    let have = local.head();
    let info = shared
        .get_info()
        .await
        .map_err(|e| JetStreamError::Stream(e.to_string()))?;
    let (first, last) = (info.state.first_sequence.max(1), info.state.last_sequence);
    if have.len == 0 {
        return Ok((first, last));
    }
    if last == 0 {
        return Err(diverged(format!(
            "the local copy holds {} events and the shared log none: it belongs to another log",
            have.len
        )));
    }
    // The first sequence whose message ends past what the copy has.
    let (mut low, mut high) = (first, last + 1);
    while low < high {
        let mid = low + (high - low) / 2;
        let span = message::span(&raw(shared, mid).await?, mid)?;
        if span.end() > have.len {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    // The copy's last record must be the shared log's record at that position.
    let holder = if low <= last {
        let span = message::span(&raw(shared, low).await?, low)?;
        if span.first_position < have.len {
            low
        } else {
            low - 1
        }
    } else {
        last
    };
    let records = message::decode(&raw(shared, holder).await?, holder)?;
    let theirs = records
        .into_iter()
        .flatten()
        .find(|e| e.record.position.0 + 1 == have.len)
        .ok_or_else(|| {
            diverged(format!(
                "the local copy ends at {} events, inside no message of the shared log",
                have.len
            ))
        })?;
    if theirs.hash != have.hash {
        return Err(diverged(format!(
            "the local copy's chain hash at {} events is not the shared log's",
            have.len
        )));
    }
    Ok((low, last))
}

async fn raw(shared: &Stream, sequence: u64) -> Result<Vec<u8>, JetStreamError> {
    let message = shared
        .get_raw_message(sequence)
        .await
        .map_err(|e| JetStreamError::Stream(format!("reading message {sequence}: {e}")))?;
    Ok(message.payload.to_vec())
}

fn diverged(reason: String) -> JetStreamError {
    JetStreamError::Log(LogError::Corrupt {
        position: None,
        reason,
    })
}

/// Follows the shared log from `start` into `local` until the task is dropped or the copy
/// fails; every message applied is published on `applied`.
pub(crate) async fn follow(
    shared: Stream,
    local: EventLog,
    start: u64,
    applied: watch::Sender<Applied>,
    counters: Arc<Counters>,
) {
    let mut retry = tokio::time::interval(Duration::from_millis(200));
    loop {
        // The first pass starts at `start`; `applied` says `start - 1` until then.
        let next = (applied.borrow().sequence + 1).max(start);
        let failure = match copy_from(&shared, &local, next, &applied, &counters).await {
            Ok(()) => continue,
            Err(Stop::Retry(why)) => {
                tracing::warn!(error = %why, "following the shared log: retrying");
                if let Ok(mut last) = counters.last_retry.lock() {
                    *last = Some((std::time::Instant::now(), why));
                }
                retry.tick().await;
                continue;
            }
            Err(Stop::Fail(why)) => why,
        };
        tracing::error!(error = %failure, "the local copy stopped following the shared log");
        applied.send_modify(|a| a.failure = Some(failure));
        return;
    }
}

enum Stop {
    /// The consumer broke (a server went away): follow again from the last applied.
    Retry(String),
    /// The local copy failed or the shared log does not continue it: stop for good.
    Fail(String),
}

/// Copies from sequence `next` on through one ordered consumer, until it breaks.
async fn copy_from(
    shared: &Stream,
    local: &EventLog,
    next: u64,
    applied: &watch::Sender<Applied>,
    counters: &Counters,
) -> Result<(), Stop> {
    let created = shared.create_consumer(pull::OrderedConfig {
        deliver_policy: DeliverPolicy::ByStartSequence {
            start_sequence: next,
        },
        // Pulls expire (and heartbeats come) within seconds: the consumer lives on one
        // server, and with the defaults (30 s, 15 s) a node whose connection survived
        // that server's death noticed it only 30 to 65 s later (the fault test).
        max_expires: Duration::from_secs(2),
        ..Default::default()
    });
    let consumer = match tokio::time::timeout(STALL, created).await {
        Ok(created) => {
            created.map_err(|e| Stop::Retry(format!("creating the ordered consumer: {e}")))?
        }
        Err(_) => {
            return Err(Stop::Retry(
                "creating the ordered consumer timed out".into(),
            ));
        }
    };
    let mut messages = match tokio::time::timeout(STALL, consumer.messages()).await {
        Ok(read) => read.map_err(|e| Stop::Retry(format!("reading the ordered consumer: {e}")))?,
        Err(_) => return Err(Stop::Retry("reading the ordered consumer timed out".into())),
    };
    // When the copy last moved (or the shared log was last found no further than it).
    let mut moved = Instant::now();
    loop {
        let first = match tokio::time::timeout_at(moved + STALL, messages.next()).await {
            Ok(Some(first)) => first,
            Ok(None) => return Err(Stop::Retry("the ordered consumer ended".into())),
            Err(_) => {
                let have = applied.borrow().sequence;
                let last = last_sequence(shared).await.map_err(Stop::Retry)?;
                if last <= have {
                    moved = Instant::now();
                    continue;
                }
                counters.lag.store(last - have, Ordering::Relaxed);
                counters.stalls.fetch_add(1, Ordering::Relaxed);
                return Err(Stop::Retry(format!(
                    "the consumer applied nothing for {STALL:?} while the shared log is at \
                     message {last} and the copy at {have}: following again on a new consumer"
                )));
            }
        };
        let mut batch = vec![first.map_err(|e| Stop::Retry(e.to_string()))?];
        while batch.len() < MESSAGES_PER_COPY {
            match messages.next().now_or_never() {
                Some(Some(Ok(more))) => batch.push(more),
                Some(Some(Err(e))) => return Err(Stop::Retry(e.to_string())),
                _ => break,
            }
        }
        let mut records: Vec<RecordedEvent> = Vec::new();
        let mut last_sequence = applied.borrow().sequence;
        let mut pending = 0;
        let have = local.head().len;
        for m in &batch {
            let info = m.info().map_err(|e| Stop::Retry(e.to_string()))?;
            if info.stream_sequence <= last_sequence {
                continue; // delivered again after a consumer reset
            }
            last_sequence = info.stream_sequence;
            pending = info.pending;
            let appends = message::decode(&m.payload, info.stream_sequence)
                .map_err(|e| Stop::Fail(e.to_string()))?;
            for event in appends.into_iter().flatten() {
                let position = event.record.position.0;
                let next_position = have + records.len() as u64;
                if position < next_position {
                    continue; // copied before a restart
                }
                if position != next_position {
                    return Err(Stop::Fail(format!(
                        "message {} puts a record at position {position}, the local copy is at \
                         {next_position}",
                        info.stream_sequence
                    )));
                }
                records.push(event);
            }
        }
        let head = if records.is_empty() {
            local.head()
        } else {
            local
                .copy_records(records)
                .await
                .map_err(|e| Stop::Fail(format!("copying into the local copy: {e}")))?
        };
        counters.lag.store(pending, Ordering::Relaxed);
        let before = applied.borrow().sequence;
        applied.send_modify(|a| {
            a.sequence = last_sequence;
            a.len = head.len;
        });
        if last_sequence > before {
            moved = Instant::now();
        }
    }
}

/// The shared log's last message sequence, asked with a bound of [`STALL`].
async fn last_sequence(shared: &Stream) -> Result<u64, String> {
    match tokio::time::timeout(STALL, shared.get_info()).await {
        Ok(Ok(info)) => Ok(info.state.last_sequence),
        Ok(Err(e)) => Err(format!("asking the shared log how far it is: {e}")),
        Err(_) => Err(format!(
            "the shared log did not say how far it is within {STALL:?}"
        )),
    }
}
