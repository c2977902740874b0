//! `Domain::execute` on a real log in a temp dir (sled): loading, sealing, refusals that
//! append nothing, idempotency and lost races.
//!
//! `World::standard()` is the *given*: a catalog and a cast of accounts built through the
//! same commands the API uses. `when` runs one command and answers what it appended;
//! `then_refused` asserts the code and that the log head did not move.

#[path = "../common/mod.rs"]
mod common;

mod execute;
mod props;

use std::sync::Arc;

use sparkfeed_domain::events::DomainEvent;
use sparkfeed_domain::{Caller, Command, CommandError, Context, Domain, Executed, KeyStore};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_events::{Position, Timestamp};

pub(crate) use common::*;

pub(crate) struct World {
    _dir: tempfile::TempDir,
    pub(crate) domain: Domain,
    pub(crate) now: Timestamp,
}

impl World {
    /// An empty log.
    pub(crate) fn empty() -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = EventLog::open(Config::new(dir.path().join("log"))).expect("log opens");
        let keys = Arc::new(KeyStore::open(&dir.path().join("keys")).expect("keys open"));
        World {
            _dir: dir,
            domain: Domain::new(log, keys),
            now: Timestamp::now(),
        }
    }

    /// The standard world ([`standard_world`]) on a real log.
    pub(crate) async fn standard() -> World {
        let w = World::empty();
        for (caller, command) in standard_world() {
            w.given(caller, command).await;
        }
        w
    }

    pub(crate) fn ctx(&self, caller: Caller) -> Context {
        let mut ctx = Context::new(caller);
        ctx.now = self.now;
        ctx
    }

    /// A command that must succeed to set the scene.
    pub(crate) async fn given(&self, caller: Caller, command: Command) -> Executed {
        let ctx = self.ctx(caller);
        self.domain
            .execute(&ctx, &command)
            .await
            .unwrap_or_else(|e| panic!("given {command:?} failed: {e}"))
    }

    /// Runs a command and answers what it appended.
    pub(crate) async fn when(&self, caller: Caller, command: Command) -> Vec<DomainEvent> {
        let before = self.head();
        self.given(caller, command).await;
        self.events_since(before)
    }

    /// Runs a command that must be refused with `code`, and checks it appended nothing.
    pub(crate) async fn then_refused(&self, caller: Caller, command: Command, code: &str) {
        let before = self.domain.log().head();
        let ctx = self.ctx(caller);
        match self.domain.execute(&ctx, &command).await {
            Err(e @ CommandError::Refused(_)) => assert_eq!(e.code(), code, "{command:?}: {e}"),
            Err(other) => panic!("{command:?} failed instead of refused: {other}"),
            Ok(done) => panic!("{command:?} was accepted ({done:?}), expected {code}"),
        }
        assert_eq!(
            self.domain.log().head(),
            before,
            "a refusal appends nothing: {command:?}"
        );
    }

    pub(crate) fn head(&self) -> Position {
        Position(self.domain.log().head().len)
    }

    pub(crate) fn events_since(&self, from: Position) -> Vec<DomainEvent> {
        self.domain
            .log()
            .read_all(from, usize::MAX)
            .expect("reads")
            .iter()
            .map(|e| self.domain.decode(e).expect("decodes"))
            .collect()
    }

    /// Opens a sealed value.
    pub(crate) fn open(&self, sealed: &sparkfeed_domain::Sealed) -> Option<String> {
        self.domain.keys().unseal(sealed).expect("key store works")
    }
}
