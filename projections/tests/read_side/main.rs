//! The read side against real logs in temp dirs: rebuilds, paging, read-your-writes, the
//! home feed's rules, post cards and the audit trail.

mod demo_world;
mod golden_demo;
mod props;
mod reads;
mod rebuild;

use std::sync::Arc;
use std::time::Duration;

use sparkfeed_domain::events::MediaKind;
use sparkfeed_domain::{
    Asin, Caller, Command, Context, ContractId, Currency, Domain, Executed, Handle, InterestSlug,
    KeyStore, MediaInput, Money, PostId, Role, TagInput, UserId,
};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_events::Timestamp;
use sparkfeed_projections::feeds::rows::LISTED_MEMBERS;
use sparkfeed_projections::{ProjectionError, Projections};

pub(crate) const DAY: i64 = 86_400_000_000;

/// A log, a domain over it and the projections following it, in one temp dir.
pub(crate) struct World {
    _dir: tempfile::TempDir,
    pub(crate) domain: Domain,
    pub(crate) projections: Projections,
}

pub(crate) fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid")
}
pub(crate) fn post(id: &str) -> PostId {
    PostId::parse(id).expect("valid")
}
pub(crate) fn asin(a: &str) -> Asin {
    Asin::parse(a).expect("valid")
}
pub(crate) fn interest(s: &str) -> InterestSlug {
    InterestSlug::parse(s).expect("valid")
}
/// Members in the tests of a post's engagement: more than a post's row lists.
pub(crate) const FANS: usize = LISTED_MEMBERS + 4;

/// The `n`th fan (`ufan00`, `ufan01`, ...).
pub(crate) fn fan(n: usize) -> UserId {
    user(&format!("ufan{n:02}"))
}

/// Every row of a tree, in key order.
pub(crate) fn rows(tree: &sled::Tree) -> Vec<(Vec<u8>, Vec<u8>)> {
    tree.iter()
        .map(|e| {
            let (k, v) = e.expect("reads");
            (k.to_vec(), v.to_vec())
        })
        .collect()
}

pub(crate) fn system() -> Caller {
    Caller::System("test".into())
}

pub(crate) fn publish(
    id: &str,
    interests: &[&str],
    tags: &[&str],
    contract: Option<&str>,
) -> Command {
    Command::PublishPost {
        post: post(id),
        caption: format!("post {id}"),
        media: vec![MediaInput {
            kind: MediaKind::Image,
            url: "https://img.example/1.jpg".into(),
            width: 10,
            height: 10,
            alt: String::new(),
        }],
        interests: interests.iter().map(|i| interest(i)).collect(),
        tags: tags
            .iter()
            .map(|a| TagInput {
                asin: asin(a),
                media_index: 0,
                x: 0.1,
                y: 0.2,
            })
            .collect(),
        contract: contract.map(|k| ContractId::parse(k).expect("valid")),
    }
}

/// A member's one-click buy of `quantity` of product `asin` through post `id`.
pub(crate) fn buy(id: &str, a: &str, quantity: u8, idempotency_key: &str, gift: bool) -> Command {
    Command::Buy {
        post: post(id),
        asin: asin(a),
        quantity,
        idempotency_key: idempotency_key.into(),
        gift,
    }
}

/// The projections following the log live; they stop when this is dropped.
pub(crate) struct Live(Vec<tokio::task::JoinHandle<Result<(), ProjectionError>>>);

impl Drop for Live {
    fn drop(&mut self) {
        for runner in &self.0 {
            runner.abort();
        }
    }
}

impl World {
    /// Starts the projections following the log live, until the answer is dropped.
    pub(crate) fn follow_live(&self) -> Live {
        Live(self.projections.spawn())
    }

    pub(crate) fn empty() -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = EventLog::open(Config::new(dir.path().join("log"))).expect("log");
        let keys = Arc::new(KeyStore::open(&dir.path().join("keys")).expect("keys"));
        let projections =
            Projections::open(&dir.path().join("projections"), log.clone()).expect("projections");
        World {
            _dir: dir,
            domain: Domain::new(log, keys),
            projections,
        }
    }

    /// Interests fitness (re-buy window 30 days) and diy; products B000000001 (durable),
    /// B000000002 (consumable); Prime members uana (enthusiast) and ubob; brand uacme.
    pub(crate) async fn small() -> World {
        let w = World::empty();
        for (slug, window) in [("fitness", Some(30)), ("diy", None)] {
            w.run(
                system(),
                Command::AddInterest {
                    interest: interest(slug),
                    name: slug.into(),
                    rebuy_window_days: window,
                },
            )
            .await;
        }
        for (a, consumable) in [("B000000001", false), ("B000000002", true)] {
            w.run(
                system(),
                Command::ListProduct {
                    asin: asin(a),
                    title: format!("Product {a}"),
                    price: Money::new(1000, Currency::USD),
                    image_url: "https://img.example/p.jpg".into(),
                    interests: vec![interest("fitness")],
                    consumable,
                },
            )
            .await;
        }
        for (id, handle) in [("uana", "ana"), ("ubob", "bob")] {
            w.run(
                Caller::Anonymous,
                Command::RegisterMember {
                    user: user(id),
                    handle: Handle::parse(handle).expect("valid"),
                    display_name: handle.into(),
                },
            )
            .await;
            w.run(system(), Command::StartPrime { user: user(id) })
                .await;
        }
        w.run(
            system(),
            Command::GrantRole {
                user: user("uana"),
                role: Role::Enthusiast,
            },
        )
        .await;
        w.run(
            system(),
            Command::RegisterBrand {
                user: user("uacme"),
                handle: Handle::parse("acme").expect("valid"),
                brand_name: "Acme".into(),
            },
        )
        .await;
        w
    }

    /// [`World::small`] with post p1 (fitness, by uana) and [`FANS`] Prime members
    /// ([`fan`]).
    pub(crate) async fn with_fans() -> World {
        let w = World::small().await;
        w.run(
            Caller::User(user("uana")),
            publish("p1", &["fitness"], &[], None),
        )
        .await;
        for n in 0..FANS {
            w.run(
                Caller::Anonymous,
                Command::RegisterMember {
                    user: fan(n),
                    handle: Handle::parse(&format!("fan{n:02}")).expect("valid"),
                    display_name: format!("Fan {n}"),
                },
            )
            .await;
            w.run(system(), Command::StartPrime { user: fan(n) }).await;
        }
        w
    }

    /// Rebuilds projection `name` from zero and checks it equals the live one row for row.
    pub(crate) async fn assert_rebuild_equals_live(&self, name: &str) {
        let before = rows(&self.projections.tree(name).expect("tree"));
        self.projections
            .rebuild(name, |_, _| {})
            .await
            .expect("rebuilds");
        assert!(
            before == rows(&self.projections.tree(name).expect("tree")),
            "the rebuilt {name} equals the live one row for row"
        );
    }

    pub(crate) async fn run(&self, caller: Caller, command: Command) -> Executed {
        self.domain
            .execute(&Context::new(caller), &command)
            .await
            .unwrap_or_else(|e| panic!("{command:?}: {e}"))
    }

    /// Runs a command and waits until every projection has applied it.
    pub(crate) async fn run_and_read(&self, caller: Caller, command: Command) -> Executed {
        let done = self.run(caller, command).await;
        self.projections
            .wait_for(done.position, Duration::from_secs(30))
            .await
            .expect("projections reach the write");
        done
    }

    /// The feeds projection as the API reads it: through its row cache, so every read-side
    /// test also shows that a write is never hidden behind a cached row.
    pub(crate) fn feeds(&self) -> sparkfeed_projections::View {
        self.projections.view("feeds").expect("feeds")
    }

    pub(crate) fn now(&self) -> i64 {
        Timestamp::now().0
    }
}
