//! The read side against real logs in temp dirs: rebuilds, paging, read-your-writes, the
//! home feed's rules, post cards, the audit trail, earnings, follows and storefronts.

mod analytics;
mod creators;
mod demo_world;
mod earnings;
mod foryou;
mod golden_demo;
mod ledger;
mod live;
mod props;
mod reads;
mod rebuild;

use std::ops::Deref;

use sparkfeed_domain::events::MediaKind;
use sparkfeed_domain::{Caller, Command, MediaInput, Money, Role, TagInput, UserId};
use sparkfeed_events::Position;
use sparkfeed_projections::feeds::rows::LISTED_MEMBERS;
use sparkfeed_projections::{ProjectionError, Projections, Source};
pub(crate) use sparkfeed_testkit::ids::{asin, contract, handle, interest, post, usd, user};
pub(crate) use sparkfeed_testkit::log::rows;
pub(crate) use sparkfeed_testkit::world::{as_user, system};

pub(crate) const DAY: i64 = 86_400_000_000;

/// The test kit's world (a log, a domain over it and the projections following it, in one
/// temp dir), with the read side's own worlds and checks.
pub(crate) struct World(sparkfeed_testkit::world::World);

impl Deref for World {
    type Target = sparkfeed_testkit::world::World;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Members in the tests of a post's engagement: more than a post's row lists.
pub(crate) const FANS: usize = LISTED_MEMBERS + 4;

/// The `n`th fan (`ufan00`, `ufan01`, ...).
pub(crate) fn fan(n: usize) -> UserId {
    user(&format!("ufan{n:02}"))
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
        contract: contract.map(self::contract),
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

/// Contract `k1`, between uacme's brand and enthusiast uana, for `fee` and `commission_bp`,
/// from `starts_at` to `ends_at`.
pub(crate) fn contract_k1(
    fee: Option<Money>,
    commission_bp: Option<u32>,
    starts_at: i64,
    ends_at: i64,
) -> Command {
    Command::OpenContract {
        contract: contract("k1"),
        enthusiast: user("uana"),
        flat_fee: fee,
        commission_bp,
        starts_at,
        ends_at,
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

    /// [`World::small`], its projections following the log live until the `Live` is
    /// dropped.
    pub(crate) async fn small_live() -> (World, Live) {
        let w = World::small().await;
        let live = w.follow_live();
        (w, live)
    }

    /// A world with nothing in its log.
    pub(crate) fn empty() -> World {
        World(sparkfeed_testkit::world::World::empty())
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
                    price: usd(1000),
                    image_url: "https://img.example/p.jpg".into(),
                    interests: vec![interest("fitness")],
                    consumable,
                },
            )
            .await;
        }
        for (id, name) in [("uana", "ana"), ("ubob", "bob")] {
            w.run(
                Caller::Anonymous,
                Command::RegisterMember {
                    user: user(id),
                    handle: self::handle(name),
                    display_name: name.into(),
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
                handle: handle("acme"),
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
                    handle: handle(&format!("fan{n:02}")),
                    display_name: format!("Fan {n}"),
                },
            )
            .await;
            w.run(system(), Command::StartPrime { user: fan(n) }).await;
        }
        w
    }

    /// Rebuilds projection `name` from zero and checks it equals the live one row for row,
    /// and stands where it stood.
    pub(crate) async fn assert_rebuild_equals_live(&self, name: &str) {
        let before = rows_at(&self.projections, name);
        self.projections
            .rebuild(name, |_, _| {})
            .await
            .expect("rebuilds");
        assert!(
            before == rows_at(&self.projections, name),
            "the rebuilt {name} equals the live one row for row"
        );
    }
}

/// A tree's rows, keys and values, in key order.
pub(crate) type TreeRows = Vec<(Vec<u8>, Vec<u8>)>;

/// Projection `name`'s rows, its checkpoint key left out, and where it has got to. A live
/// projection writes no checkpoint for a batch that changed no row (`View::checkpoint`),
/// so the key may stand behind while the position does not.
pub(crate) fn rows_at(projections: &Projections, name: &str) -> (TreeRows, Position) {
    let view = projections.view(name).expect("view");
    let mut rows = rows(view.tree());
    rows.retain(|(key, _)| key != sparkfeed_projections::store::CHECKPOINT);
    (rows, view.checkpoint().expect("checkpoint"))
}
