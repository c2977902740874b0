//! The I/O of the command side: a stream's state loaded through the cache, and the one
//! append path.

use sparkfeed_eventlog::{
    AppendError, AppendRefused, Appended, Condition, Direction, ExpectedVersion, StreamState,
};
use sparkfeed_events::{Actor, ActorId, EventType, Metadata, NewEvent, Position, StreamName};
use std::sync::Arc;
use tokio::sync::OwnedMutexGuard;

use crate::commands::{Caller, Context};
use crate::events::DomainEvent;
use crate::limits::MAX_CACHED;
use crate::state::Aggregate;
use crate::{CommandError, Failure, Refusal};

use super::{Domain, Executed, event_id};

/// One try of a command: what it wrote, `None` when it lost a race (decide again), or why
/// not.
pub(super) type Attempt = Result<Option<Executed>, CommandError>;

/// A stream's state and where it ends.
pub(super) struct Loaded<S> {
    pub(super) state: S,
    pub(super) at: StreamState,
    pub(super) last_position: Option<Position>,
}

impl<S> Loaded<S> {
    /// The version an append decided on this state expects.
    pub(super) fn expected(&self) -> ExpectedVersion {
        match self.at {
            StreamState::NoStream => ExpectedVersion::NoStream,
            StreamState::At(v) => ExpectedVersion::Exact(v),
        }
    }
}

/// A cached aggregate: its state and where its stream was when it was folded.
pub(super) struct Cached {
    state: Box<dyn std::any::Any + Send + Sync>,
    at: StreamState,
    last_position: Option<Position>,
}

impl Domain {
    /// The state of `stream`: the cached fold, brought up to date with the events after it.
    pub(super) fn load<S: Aggregate>(
        &self,
        stream: &StreamName,
    ) -> Result<Loaded<S>, CommandError> {
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            cache.get(stream).and_then(|c| {
                c.state.downcast_ref::<S>().map(|s| Loaded {
                    state: s.clone(),
                    at: c.at,
                    last_position: c.last_position,
                })
            })
        };
        let mut loaded = cached.unwrap_or(Loaded {
            state: S::default(),
            at: StreamState::NoStream,
            last_position: None,
        });
        let mut from = loaded.at.next_version();
        let before = loaded.at;
        loop {
            let page = self
                .log
                .read_stream(stream, from, Direction::Forward, 512)?;
            for event in &page.events {
                loaded.state.apply(&self.decode(event)?);
                loaded.at = StreamState::At(event.record.version);
                loaded.last_position = Some(event.record.position);
            }
            match page.next {
                Some(next) => from = next,
                None => break,
            }
        }
        if loaded.at != before {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(
                stream.clone(),
                Cached {
                    state: Box::new(loaded.state.clone()),
                    at: loaded.at,
                    last_position: loaded.last_position,
                },
            );
        }
        Ok(loaded)
    }

    /// Just the state of `stream`.
    pub(super) fn state<S: Aggregate>(&self, stream: &StreamName) -> Result<S, CommandError> {
        Ok(self.load::<S>(stream)?.state)
    }

    /// Holds `stream` alone in this process until the guard is dropped. Only a report's
    /// resolution takes it (see `moderation.rs`); the rules that span streams hold through
    /// append conditions instead, across processes.
    pub(super) async fn write_lock(&self, stream: &StreamName) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            if locks.len() >= MAX_CACHED {
                locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            Arc::clone(locks.entry(stream.clone()).or_default())
        };
        lock.lock_owned().await
    }

    /// Appends `events` as part `part` of the command; a lost race is `Ok(None)`.
    pub(super) async fn write(
        &self,
        ctx: &Context,
        part: u32,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<DomainEvent>,
        conditions: Vec<Condition>,
    ) -> Result<Option<Appended>, CommandError> {
        let actor = match &ctx.caller {
            Caller::User(id) => Actor::User(actor_id(id.as_str())),
            Caller::System(name) => Actor::System(actor_id(name)),
            Caller::Anonymous => Actor::System(actor_id("anonymous")),
        };
        let mut batch = Vec::with_capacity(events.len());
        for (i, event) in (0u32..).zip(events) {
            batch.push(NewEvent {
                id: event_id(ctx, part, i),
                event_type: EventType::parse(event.event_type())
                    .unwrap_or_else(|_| unreachable!("domain event names are valid types")),
                schema_version: event.schema_version(),
                payload: event
                    .encode()
                    .map_err(|e| Refusal::validation("event", e.to_string()))?,
                metadata: Metadata {
                    actor: actor.clone(),
                    correlation_id: ctx.command_id,
                    causation_id: None,
                },
            });
        }
        match self
            .log
            .append_when(stream, expected, batch, conditions)
            .await
        {
            Ok(done) => Ok(Some(done)),
            Err(AppendError::Refused(AppendRefused::WrongExpectedVersion { .. })) => Ok(None),
            Err(AppendError::Refused(AppendRefused::TooLarge { reason })) => {
                Err(Refusal::validation("event", reason).into())
            }
            Err(e) => Err(Failure::from(e).into()),
        }
    }
}

fn actor_id(text: &str) -> ActorId {
    ActorId::parse(text)
        .unwrap_or_else(|_| ActorId::parse("system").unwrap_or_else(|_| unreachable!("literal")))
}
