//! The command side: [`Domain::execute`] loads the states a command reads, asks the rules
//! ([`crate::rules`]) to decide, seals what is personal and appends, retrying a lost race.
//!
//! - `store`: loading a stream's state (through a cache), and the one append path;
//! - `execute`: for each command, which streams to load, which rule decides, and where its
//!   events go.
//!
//! Invariant: every write goes through [`Log::append_when`]; a refusal appends nothing.
//! Invariant: a command's event ids derive from its command id, so a retried command is
//! written once (the log deduplicates the ids).
//! Invariant: where two streams must agree (a buy and the product's price, a sponsored post
//! and its contract), the append is conditioned on the version of the other stream that
//! the rule read ([`sparkfeed_eventlog::Condition`]). The log checks it where the append
//! lands, in every process that shares the log, so the price charged is the catalog price
//! at the order's position and a contract cannot end between the check and the post; the
//! loser of such a race decides again on the new state. No in-process lock is involved,
//! so the rules hold the same with one API node or many.

mod execute;
mod moderation;
mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use sparkfeed_eventlog::{Appended, Direction, SharedLog};
use sparkfeed_events::Upcasters;
use sparkfeed_events::{EventId, Position, StreamName};

use crate::commands::{Caller, Command, Context};
use crate::events::DomainEvent;
use crate::limits::MAX_ATTEMPTS;
use crate::state::UserState;
use crate::streams;
use crate::{CommandError, Failure, KeyStore, Refusal, UserId};

pub use crate::limits::{ASSOCIATE_RATE_BP, MAX_REBUY_WINDOW_DAYS};
pub use crate::rules::order::order_id;

use store::Cached;

/// What a command wrote.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Executed {
    /// The log position of the last event it wrote (or had written, when repeated).
    pub position: Position,
    /// True when the command had already been carried out and nothing new was written.
    pub deduplicated: bool,
}

impl From<Appended> for Executed {
    fn from(a: Appended) -> Self {
        Self {
            position: a.last_position,
            deduplicated: a.deduplicated,
        }
    }
}

/// The write side of sparkfeed.
#[derive(Clone)]
pub struct Domain {
    log: SharedLog,
    keys: Arc<KeyStore>,
    upcasters: Arc<Upcasters>,
    /// Report streams being resolved in this process (`write_lock`).
    locks: Arc<Mutex<HashMap<StreamName, Arc<tokio::sync::Mutex<()>>>>>,
    /// Folded states by stream. Only a cache: a load always reads the stream's events
    /// after the cached version, so it is never stale.
    cache: Arc<Mutex<HashMap<StreamName, Cached>>>,
}

impl Domain {
    /// The write side over `log`, sealing personal data with `keys`.
    pub fn new(log: impl Into<SharedLog>, keys: Arc<KeyStore>) -> Self {
        Self {
            log: log.into(),
            keys,
            upcasters: Arc::new(crate::events::upcasters()),
            locks: Arc::default(),
            cache: Arc::default(),
        }
    }

    /// The log this domain writes.
    pub fn log(&self) -> &SharedLog {
        &self.log
    }

    /// The members' keys.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// Carries out `command` for `ctx.caller`: appends its events, or refuses and appends
    /// nothing. Lost concurrency races are retried; persistent ones end as `CONFLICT`.
    pub async fn execute(
        &self,
        ctx: &Context,
        command: &Command,
    ) -> Result<Executed, CommandError> {
        if ctx.from_client_key {
            // The command's last event exists only once every part of it was written.
            if let Some(done) = self.written(ctx, command)? {
                return Ok(done);
            }
        }
        for _ in 0..MAX_ATTEMPTS {
            match self.attempt(ctx, command).await {
                Ok(Some(done)) => return Ok(done),
                Ok(None) => {}
                // What it creates is taken, or a keyed repeat raced its first run (the rules
                // saw the first run's effect: ALREADY_SMILED, a taken id): when this very
                // command wrote it, it is answered with what it wrote.
                Err(CommandError::Refused(refusal))
                    if ctx.from_client_key || refusal.is_taken() =>
                {
                    return match self.written(ctx, command)? {
                        Some(done) => Ok(done),
                        None => Err(conflict_or(ctx, refusal).into()),
                    };
                }
                Err(e) => return Err(e),
            }
        }
        Err(Refusal::Conflict.into())
    }

    /// What this command wrote, when its last event is in the log.
    fn written(&self, ctx: &Context, command: &Command) -> Result<Option<Executed>, CommandError> {
        let last = event_id(ctx, command.final_part(), 0);
        Ok(self.log.find_event(&last)?.map(|done| Executed {
            position: done.record.position,
            deduplicated: true,
        }))
    }

    /// The context of `command` by `caller` under the client's `key`, now.
    ///
    /// Invariant: the command id is an HMAC, under the key store's pepper, of the key
    /// (scoped to its operation and caller) and of the command (bincode), so the same key
    /// with the same command is the same command however often it is sent, and another
    /// command under the key is another command, whose creations (ids derived from the key
    /// alone) collide with the first's and are refused with `IDEMPOTENCY_CONFLICT`. Keyed
    /// with the pepper because the id is stored unsealed (the correlation id): a plain hash
    /// would let anyone who guesses a short key test guesses of a caption offline.
    pub fn keyed_context(
        &self,
        caller: Caller,
        key: &crate::ClientKey,
        command: &Command,
    ) -> Result<Context, CommandError> {
        let encoded = bincode::serialize(command)
            .map_err(|e| Refusal::validation("command", e.to_string()))?;
        let digest = self
            .keys
            .keyed_digest(&[b"sparkfeed/command/v1", key.digest(), &encoded]);
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        Ok(Context::keyed(caller, EventId::from_bytes(id)))
    }

    /// An account as the log has it now (kind, Prime, roles); `None` when unregistered.
    /// Authorization reads this, never a projection, so a role granted or revoked is in
    /// force from the next request.
    pub fn account(&self, user: &UserId) -> Result<Option<UserState>, CommandError> {
        let loaded = self.load::<UserState>(&streams::user(user))?;
        Ok(loaded.state.kind.is_some().then_some(loaded.state))
    }

    /// The account that reserved `handle`, if any.
    pub fn user_by_handle(&self, handle: &crate::Handle) -> Result<Option<UserId>, CommandError> {
        let page = self.log.read_stream(
            &self.keys.handle_stream(handle),
            sparkfeed_events::StreamVersion::FIRST,
            Direction::Forward,
            1,
        )?;
        for event in &page.events {
            if let DomainEvent::HandleReserved(e) = self.decode(event)? {
                // A forgotten member's handle stays reserved (never reissued, so no one can
                // pass for them) but no longer leads to their account.
                if self.keys.is_forgotten(&e.user)? {
                    return Ok(None);
                }
                return Ok(Some(e.user));
            }
        }
        Ok(None)
    }

    /// The upcasters this domain reads stored events with.
    pub fn upcasters(&self) -> &Upcasters {
        &self.upcasters
    }

    /// Reads any stored event back as a domain event.
    pub fn decode(&self, event: &sparkfeed_events::RecordedEvent) -> Result<DomainEvent, Failure> {
        DomainEvent::decode(&self.upcasters, event).map_err(|e| Failure::Undecodable {
            position: event.record.position.0,
            reason: e.to_string(),
        })
    }
}

/// What a command whose creation is taken (and not by itself) is refused with:
/// `IDEMPOTENCY_CONFLICT` when its id came from the client's key (the key was used for
/// another request), else `refusal`. Only for creations whose id derives from the key
/// (account, post, comment, contract), never for ids the arguments name (an interest's
/// slug, an ASIN).
fn conflict_or(ctx: &Context, refusal: Refusal) -> Refusal {
    if ctx.from_client_key && refusal.is_taken_key_id() {
        Refusal::IdempotencyConflict
    } else {
        refusal
    }
}

/// The id of event `index` of part `part` of the command: derived, so a retry matches.
fn event_id(ctx: &Context, part: u32, index: u32) -> EventId {
    let digest = Sha256::new()
        .chain_update(ctx.command_id.as_bytes())
        .chain_update(part.to_le_bytes())
        .chain_update(index.to_le_bytes())
        .finalize();
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    EventId::from_bytes(id)
}
