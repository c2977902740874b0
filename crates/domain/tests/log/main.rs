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
use sparkfeed_domain::{
    Caller, Command, CommandError, Context, Domain, Executed, Handle, KeyStore, Role,
};
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

    /// Interests fitness, diy, fashion; products B000000001 ($19.99, fitness), B000000002
    /// ($5.00, consumable), B000000003 (delisted); accounts: admin `uadmin`, Prime members
    /// `uana` (enthusiast) and `ubob`, non-Prime `ucarl`, moderator `umod` (Prime), brand
    /// `uacme` ("Acme"); ana's post `pana1` tagging B000000001 and B000000002.
    pub(crate) async fn standard() -> World {
        let w = World::empty();
        for (slug, name) in [
            ("fitness", "Fitness"),
            ("diy", "DIY"),
            ("fashion", "Fashion"),
        ] {
            w.given(
                system(),
                Command::AddInterest {
                    interest: interest(slug),
                    name: name.into(),
                    rebuy_window_days: Some(30),
                },
            )
            .await;
        }
        for (a, price, consumable) in [
            ("B000000001", 1999, false),
            ("B000000002", 500, true),
            ("B000000003", 700, false),
        ] {
            w.given(
                system(),
                Command::ListProduct {
                    asin: asin(a),
                    title: format!("Product {a}"),
                    price: usd(price),
                    image_url: format!("https://img.example/{a}.jpg"),
                    interests: vec![interest("fitness")],
                    consumable,
                },
            )
            .await;
        }
        w.given(
            system(),
            Command::DelistProduct {
                asin: asin("B000000003"),
            },
        )
        .await;
        for (id, handle, prime) in [
            ("uadmin", "admin", false),
            ("uana", "ana", true),
            ("ubob", "bob", true),
            ("ucarl", "carl", false),
            ("umod", "mod", true),
        ] {
            w.given(
                Caller::Anonymous,
                Command::RegisterMember {
                    user: user(id),
                    handle: Handle::parse(handle).expect("valid"),
                    display_name: format!("{handle} display"),
                },
            )
            .await;
            if prime {
                w.given(system(), Command::StartPrime { user: user(id) })
                    .await;
            }
        }
        w.given(
            system(),
            Command::GrantRole {
                user: user("uadmin"),
                role: Role::Admin,
            },
        )
        .await;
        w.given(
            system(),
            Command::GrantRole {
                user: user("uana"),
                role: Role::Enthusiast,
            },
        )
        .await;
        w.given(
            system(),
            Command::GrantRole {
                user: user("umod"),
                role: Role::Moderator,
            },
        )
        .await;
        w.given(
            system(),
            Command::RegisterBrand {
                user: user("uacme"),
                handle: Handle::parse("acme").expect("valid"),
                brand_name: "Acme".into(),
            },
        )
        .await;
        w.given(
            as_user("uana"),
            publish("pana1", &["B000000001", "B000000002"]),
        )
        .await;
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
