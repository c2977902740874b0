//! The rules in memory: given the events earlier decisions yielded, when a command, then
//! the events its rule decides, or its refusal. No log, no key store, no disk.
//!
//! [`Given::when`] reads the states a command's rule needs from the history, as
//! `Domain::execute` reads them from the log, and calls the family's pure `decide`.

use std::collections::{BTreeMap, BTreeSet};

use sparkfeed_domain::events::DomainEvent;
use sparkfeed_domain::rules::{
    Actor, Decided, Decision, account, catalog, contract, engagement, moderation, order, post,
};
use sparkfeed_domain::state::*;
use sparkfeed_domain::{
    Asin, Caller, Command, Handle, InterestSlug, ReportId, Role, Sealed, UserId, order_id, streams,
};
use sparkfeed_events::{StreamName, Timestamp};

use crate::{as_user, asin, interest, publish, system, usd, user};

/// The clock of every in-memory test.
pub(crate) const NOW: Timestamp = Timestamp(1_800_000_000_000_000);

/// What happened so far: the events decided, in order.
pub(crate) struct Given {
    history: Vec<Decided>,
    /// The time the rules decide at.
    pub(crate) now: Timestamp,
}

impl Given {
    /// A history of `events`.
    pub(crate) fn events(events: Vec<Decided>) -> Given {
        Given {
            history: events,
            now: NOW,
        }
    }

    /// The world of the rule tests, built by the rules themselves: interests fitness, diy,
    /// fashion; products B000000001 ($19.99), B000000002 ($5.00, consumable), B000000003
    /// (delisted); admin `uadmin`, Prime members `uana` (enthusiast) and `ubob`, non-Prime
    /// `ucarl`, moderator `umod` (Prime), brand `uacme` ("Acme"); ana's post `pana1`
    /// tagging B000000001 and B000000002.
    pub(crate) fn standard() -> Given {
        let mut g = Given::events(vec![]);
        for (slug, name) in [
            ("fitness", "Fitness"),
            ("diy", "DIY"),
            ("fashion", "Fashion"),
        ] {
            g.accept(
                system(),
                Command::AddInterest {
                    interest: interest(slug),
                    name: name.into(),
                    rebuy_window_days: Some(30),
                },
            );
        }
        for (a, price, consumable) in [
            ("B000000001", 1999, false),
            ("B000000002", 500, true),
            ("B000000003", 700, false),
        ] {
            g.accept(
                system(),
                Command::ListProduct {
                    asin: asin(a),
                    title: format!("Product {a}"),
                    price: usd(price),
                    image_url: format!("https://img.example/{a}.jpg"),
                    interests: vec![interest("fitness")],
                    consumable,
                },
            );
        }
        g.accept(
            system(),
            Command::DelistProduct {
                asin: asin("B000000003"),
            },
        );
        for (id, handle, prime) in [
            ("uadmin", "admin", false),
            ("uana", "ana", true),
            ("ubob", "bob", true),
            ("ucarl", "carl", false),
            ("umod", "mod", true),
        ] {
            g.accept(
                Caller::Anonymous,
                Command::RegisterMember {
                    user: user(id),
                    handle: Handle::parse(handle).expect("valid"),
                    display_name: format!("{handle} display"),
                },
            );
            if prime {
                g.accept(system(), Command::StartPrime { user: user(id) });
            }
        }
        for (id, role) in [
            ("uadmin", Role::Admin),
            ("uana", Role::Enthusiast),
            ("umod", Role::Moderator),
        ] {
            g.accept(
                system(),
                Command::GrantRole {
                    user: user(id),
                    role,
                },
            );
        }
        g.accept(
            system(),
            Command::RegisterBrand {
                user: user("uacme"),
                handle: Handle::parse("acme").expect("valid"),
                brand_name: "Acme".into(),
            },
        );
        g.accept(
            as_user("uana"),
            publish("pana1", &["B000000001", "B000000002"]),
        );
        g
    }

    /// Adds `event` to the history.
    pub(crate) fn push(&mut self, event: Decided) {
        self.history.push(event);
    }

    /// Runs `command`, which must be accepted, and adds its events to the history.
    pub(crate) fn accept(&mut self, caller: Caller, command: Command) -> Vec<Decided> {
        let decided = self
            .when(caller, &command)
            .unwrap_or_else(|r| panic!("given {command:?} was refused: {r}"));
        self.history.extend(decided.clone());
        decided
    }

    /// Asserts that `command` is refused with `code`.
    pub(crate) fn then_refused(&self, caller: Caller, command: Command, code: &str) {
        match self.when(caller, &command) {
            Err(refusal) => assert_eq!(refusal.code(), code, "{command:?}: {refusal}"),
            Ok(events) => panic!("{command:?} was accepted ({events:?}), expected {code}"),
        }
    }

    /// What the rules decide for `command` by `caller`, now.
    pub(crate) fn when(&self, caller: Caller, command: &Command) -> Decision {
        let actor = self.actor(caller);
        let now = self.now;
        match command {
            Command::RegisterMember { user, handle, .. }
            | Command::RegisterBrand { user, handle, .. } => {
                let given = self.account(actor, Some(user), Some(handle), &[]);
                account::decide(&given, command)
            }
            Command::StartPrime { user }
            | Command::EndPrime { user }
            | Command::GrantRole { user, .. }
            | Command::RevokeRole { user, .. } => {
                account::decide(&self.account(actor, Some(user), None, &[]), command)
            }
            Command::ChooseInterests { interests } => {
                account::decide(&self.account(actor, None, None, interests), command)
            }
            Command::AddInterest { interest, .. } => {
                let given = catalog::Given {
                    actor,
                    interest: self.state(&streams::interest(interest)),
                    product: ProductState::default(),
                    known_interests: BTreeSet::new(),
                };
                catalog::decide(&given, command)
            }
            Command::ListProduct {
                asin, interests, ..
            } => catalog::decide(&self.catalog(actor, asin, interests), command),
            Command::RepriceProduct { asin, .. } | Command::DelistProduct { asin } => {
                catalog::decide(&self.catalog(actor, asin, &[]), command)
            }
            Command::PublishPost {
                post,
                interests,
                tags,
                contract,
                ..
            } => {
                let given = post::Given {
                    actor,
                    post: self.state(&streams::post(post)),
                    known_interests: self.known(interests),
                    products: self.products(tags.iter().map(|t| &t.asin)),
                    contract: contract
                        .as_ref()
                        .map(|k| self.state(&streams::contract(k)))
                        .unwrap_or_default(),
                };
                post::decide(&given, command, now)
            }
            Command::TagProduct { post, tag } => {
                let given = self.post(actor, post, [&tag.asin]);
                post::decide(&given, command, now)
            }
            Command::EditCaption { post, .. }
            | Command::UntagProduct { post, .. }
            | Command::RemovePost { post, .. } => {
                post::decide(&self.post(actor, post, []), command, now)
            }
            Command::Smile { .. }
            | Command::Unsmile { .. }
            | Command::SavePost { .. }
            | Command::UnsavePost { .. }
            | Command::SharePost { .. }
            | Command::Comment { .. }
            | Command::RemoveComment { .. } => {
                engagement::decide(&self.engagement(actor, command), command)
            }
            Command::Buy { .. } => order::decide(&self.order(actor, command), command, now),
            Command::OpenContract {
                contract,
                enthusiast,
                ..
            } => {
                let given = contract::Given {
                    actor,
                    contract: self.state(&streams::contract(contract)),
                    enthusiast: self.state(&streams::user(enthusiast)),
                };
                contract::decide(&given, command, now)
            }
            Command::EndContract { contract, .. } => {
                let given = contract::Given {
                    actor,
                    contract: self.state(&streams::contract(contract)),
                    enthusiast: UserState::default(),
                };
                contract::decide(&given, command, now)
            }
            Command::ReportPost { .. } | Command::ResolveReport { .. } => {
                moderation::decide(&self.moderation(actor, command), command)
            }
        }
    }

    /// The state of `stream`, folded from the history.
    pub(crate) fn state<S: Aggregate>(&self, stream: &StreamName) -> S {
        let mut state = S::default();
        for decided in &self.history {
            let event = stored(decided);
            if stream_of(&event).as_ref() == Some(stream) {
                state.apply(&event);
            }
        }
        state
    }

    fn actor(&self, caller: Caller) -> Actor {
        let account = match &caller {
            Caller::User(user) => self.state(&streams::user(user)),
            _ => UserState::default(),
        };
        Actor { caller, account }
    }

    fn account(
        &self,
        actor: Actor,
        user: Option<&UserId>,
        handle: Option<&Handle>,
        interests: &[InterestSlug],
    ) -> account::Given {
        account::Given {
            account: match user {
                Some(user) => self.state(&streams::user(user)),
                None => actor.account.clone(),
            },
            handle_owner: handle.and_then(|h| self.handle_owner(h)),
            known_interests: self.known(interests),
            actor,
        }
    }

    fn catalog(&self, actor: Actor, asin: &Asin, interests: &[InterestSlug]) -> catalog::Given {
        catalog::Given {
            actor,
            interest: InterestState::default(),
            product: self.state(&streams::product(asin)),
            known_interests: self.known(interests),
        }
    }

    fn post<'a>(
        &self,
        actor: Actor,
        post: &sparkfeed_domain::PostId,
        asins: impl IntoIterator<Item = &'a Asin>,
    ) -> post::Given {
        post::Given {
            actor,
            post: self.state(&streams::post(post)),
            known_interests: BTreeSet::new(),
            products: self.products(asins),
            contract: ContractState::default(),
        }
    }

    fn moderation(&self, actor: Actor, command: &Command) -> moderation::Given {
        let report: ReportState = match (command, &actor.caller) {
            (Command::ReportPost { post, .. }, Caller::User(reporter)) => {
                self.state(&streams::report(&ReportId::of(post, reporter)))
            }
            (Command::ResolveReport { report, .. }, _) => self.state(&streams::report(report)),
            _ => ReportState::default(),
        };
        let post = match command {
            Command::ReportPost { post, .. } => Some(post.clone()),
            _ => report.filed.as_ref().map(|f| f.post.clone()),
        };
        moderation::Given {
            post: post.map_or_else(PostState::default, |p| self.state(&streams::post(&p))),
            report,
            actor,
        }
    }

    fn engagement(&self, actor: Actor, command: &Command) -> engagement::Given {
        let (post, comment) = match command {
            Command::Comment { post, comment, .. } => {
                (Some(post.clone()), self.state(&streams::comment(comment)))
            }
            Command::RemoveComment { comment } => {
                let state: CommentState = self.state(&streams::comment(comment));
                (state.posted.as_ref().map(|p| p.post.clone()), state)
            }
            Command::Smile { post }
            | Command::Unsmile { post }
            | Command::SavePost { post }
            | Command::UnsavePost { post }
            | Command::SharePost { post, .. } => (Some(post.clone()), CommentState::default()),
            _ => unreachable!("not an engagement command"),
        };
        let engagement = match (&actor.caller, &post) {
            (Caller::User(member), Some(post)) => self.state(&streams::engagement(post, member)),
            _ => EngagementState::default(),
        };
        engagement::Given {
            post: post
                .map(|p| self.state(&streams::post(&p)))
                .unwrap_or_default(),
            engagement,
            comment,
            actor,
        }
    }

    fn order(&self, actor: Actor, command: &Command) -> order::Given {
        let Command::Buy {
            post,
            asin,
            idempotency_key,
            ..
        } = command
        else {
            unreachable!("not a buy")
        };
        let post: PostState = self.state(&streams::post(post));
        order::Given {
            order: match &actor.caller {
                Caller::User(buyer) => {
                    self.state(&streams::order(&order_id(buyer, idempotency_key)))
                }
                _ => OrderState::default(),
            },
            product: self.state(&streams::product(asin)),
            contract: post
                .sponsorship
                .as_ref()
                .map(|d| self.state(&streams::contract(&d.contract)))
                .unwrap_or_default(),
            author: match (&post.sponsorship, &post.author) {
                (None, Some(author)) => self.state(&streams::user(author)),
                _ => UserState::default(),
            },
            post,
            actor,
        }
    }

    fn handle_owner(&self, handle: &Handle) -> Option<UserId> {
        self.history.iter().find_map(|d| match d {
            Decided::UserRegistered {
                user, handle: h, ..
            } if h == handle => Some(user.clone()),
            _ => None,
        })
    }

    fn known(&self, interests: &[InterestSlug]) -> BTreeSet<InterestSlug> {
        interests
            .iter()
            .filter(|i| self.state::<InterestState>(&streams::interest(i)).exists)
            .cloned()
            .collect()
    }

    fn products<'a>(
        &self,
        asins: impl IntoIterator<Item = &'a Asin>,
    ) -> BTreeMap<Asin, ProductState> {
        asins
            .into_iter()
            .map(|a| (a.clone(), self.state(&streams::product(a))))
            .collect()
    }
}

/// `decided` as the log would store it, its personal text "sealed" in the clear: only for
/// folding states, which never read it.
fn stored(decided: &Decided) -> DomainEvent {
    use sparkfeed_domain::events::*;
    let clear = |owner: &UserId, text: &str| Sealed {
        owner: owner.clone(),
        nonce: [0; 12],
        ciphertext: text.as_bytes().to_vec(),
    };
    match decided.clone() {
        Decided::Event(event) => event,
        Decided::UserRegistered {
            user,
            kind,
            handle,
            display_name,
            brand_name,
        } => UserRegistered {
            handle: clear(&user, handle.as_str()),
            display_name: clear(&user, &display_name),
            user,
            kind,
            brand_name,
        }
        .into(),
        Decided::PostPublished {
            post,
            author,
            caption,
            media,
            interests,
            tags,
            sponsorship,
        } => PostPublished {
            caption: clear(&author, &caption),
            media: media
                .iter()
                .map(|m| Media {
                    kind: m.kind,
                    url: clear(&author, &m.url),
                    width: m.width,
                    height: m.height,
                    alt: clear(&author, &m.alt),
                })
                .collect(),
            post,
            author,
            interests,
            tags,
            sponsorship,
        }
        .into(),
        Decided::CaptionEdited {
            post,
            author,
            caption,
        } => CaptionEdited {
            caption: clear(&author, &caption),
            post,
        }
        .into(),
        Decided::CommentPosted {
            comment,
            post,
            author,
            text,
        } => CommentPosted {
            text: clear(&author, &text),
            comment,
            post,
            author,
        }
        .into(),
    }
}

/// The stream `event` is appended to (`None` for a handle reservation, whose stream is a
/// keyed hash of the handle).
fn stream_of(event: &DomainEvent) -> Option<StreamName> {
    use DomainEvent as E;
    Some(match event {
        E::HandleReserved(_) => return None,
        E::UserRegistered(e) => streams::user(&e.user),
        E::PrimeStarted(e) => streams::user(&e.user),
        E::PrimeEnded(e) => streams::user(&e.user),
        E::InterestsChosen(e) => streams::user(&e.user),
        E::RoleGranted(e) => streams::user(&e.user),
        E::RoleRevoked(e) => streams::user(&e.user),
        E::InterestAdded(e) => streams::interest(&e.interest),
        E::ProductListed(e) => streams::product(&e.asin),
        E::ProductRepriced(e) => streams::product(&e.asin),
        E::ProductDelisted(e) => streams::product(&e.asin),
        E::PostPublished(e) => streams::post(&e.post),
        E::CaptionEdited(e) => streams::post(&e.post),
        E::ProductTagged(e) => streams::post(&e.post),
        E::ProductUntagged(e) => streams::post(&e.post),
        E::PostRemoved(e) => streams::post(&e.post),
        E::Smiled(e) => streams::engagement(&e.post, &e.member),
        E::Unsmiled(e) => streams::engagement(&e.post, &e.member),
        E::Saved(e) => streams::engagement(&e.post, &e.member),
        E::Unsaved(e) => streams::engagement(&e.post, &e.member),
        E::Shared(e) => streams::share(&e.post, &e.member),
        E::CommentPosted(e) => streams::comment(&e.comment),
        E::CommentRemoved(e) => streams::comment(&e.comment),
        E::OrderPlaced(e) => streams::order(&e.order),
        E::ContractOpened(e) => streams::contract(&e.contract),
        E::ContractEnded(e) => streams::contract(&e.contract),
        E::PostReported(e) => streams::report(&e.report),
        E::ReportResolved(e) => streams::report(&e.report),
    })
}
