//! The rules in memory: given the events earlier decisions yielded, when a command, then
//! the events its rule decides, or its refusal. No log, no key store, no disk.
//!
//! [`Given::when`] reads the states a command's rule needs from the history, as
//! `Domain::execute` reads them from the log, and calls the family's pure `decide`.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use sparkfeed_domain::events::{DomainEvent, FeedTarget};
use sparkfeed_domain::rules::{
    Actor, Decided, Decision, account, catalog, contract, controls, engagement, moderation, order,
    post,
};
use sparkfeed_domain::state::*;
use sparkfeed_domain::{
    Asin, Caller, Command, Handle, InterestSlug, PostId, ReportId, Sealed, UserId, order_id,
    streams,
};
use sparkfeed_events::{StreamName, Timestamp};

use crate::standard_world;

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

    /// The world of the rule tests ([`standard_world`]), built by the rules themselves.
    pub(crate) fn standard() -> Given {
        let mut g = Given::events(vec![]);
        for (caller, command) in standard_world() {
            g.accept(caller, command);
        }
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

    /// Then each `(caller, command, event)` in turn: the command is accepted with exactly
    /// that event, which joins the history.
    pub(crate) fn then_each(
        &mut self,
        cases: impl IntoIterator<Item = (Caller, Command, Decided)>,
    ) {
        for (caller, command, then) in cases {
            assert_eq!(self.accept(caller, command), vec![then]);
        }
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
            | Command::RevokeRole { user, .. }
            | Command::ForgetMember { user } => {
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
            Command::Smile { post }
            | Command::Unsmile { post }
            | Command::SavePost { post }
            | Command::UnsavePost { post }
            | Command::SharePost { post, .. } => {
                let given = self.engagement(actor, Some(post.clone()), CommentState::default());
                engagement::decide(&given, command)
            }
            Command::Comment { post, comment, .. } => {
                let comment = self.state(&streams::comment(comment));
                let given = self.engagement(actor, Some(post.clone()), comment);
                engagement::decide(&given, command)
            }
            Command::RemoveComment { comment } => {
                let comment: CommentState = self.state(&streams::comment(comment));
                let post = comment.posted.as_ref().map(|p| p.post.clone());
                engagement::decide(&self.engagement(actor, post, comment), command)
            }
            Command::Buy {
                post,
                asin,
                idempotency_key,
                ..
            } => order::decide(
                &self.order(actor, post, asin, idempotency_key),
                command,
                now,
            ),
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
            Command::Follow { .. }
            | Command::Unfollow { .. }
            | Command::NotInterested { .. }
            | Command::UndoNotInterested { .. }
            | Command::SetFeedMode { .. } => {
                controls::decide(&self.controls(actor, command), command)
            }
        }
    }

    /// What the controls' rules read for `command` by `actor`.
    fn controls(&self, actor: Actor, command: &Command) -> controls::Given {
        let member = match &actor.caller {
            Caller::User(u) => Some(u.clone()),
            _ => None,
        };
        let (creator, follow) = match (command, &member) {
            (Command::Follow { creator } | Command::Unfollow { creator }, Some(m)) => (
                self.state(&streams::user(creator)),
                self.state(&streams::follow(m, creator)),
            ),
            _ => (UserState::default(), FollowState::default()),
        };
        let prefs = member
            .as_ref()
            .map(|m| self.state(&streams::feed_prefs(m)))
            .unwrap_or_default();
        let target_exists = match command {
            Command::NotInterested { target } | Command::UndoNotInterested { target } => {
                match target {
                    FeedTarget::Post(p) => {
                        self.state::<PostState>(&streams::post(p)).author.is_some()
                    }
                    FeedTarget::Author(u) => {
                        self.state::<UserState>(&streams::user(u)).kind.is_some()
                    }
                    FeedTarget::Product(a) => self
                        .state::<ProductState>(&streams::product(a))
                        .price
                        .is_some(),
                    FeedTarget::Interest(i) => {
                        self.state::<InterestState>(&streams::interest(i)).exists
                    }
                }
            }
            _ => false,
        };
        controls::Given {
            actor,
            creator,
            follow,
            prefs,
            target_exists,
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
        post: &PostId,
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

    /// What an engagement rule reads: the post (when known), the caller's engagement with
    /// it, and `comment`.
    fn engagement(
        &self,
        actor: Actor,
        post: Option<PostId>,
        comment: CommentState,
    ) -> engagement::Given {
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

    fn order(&self, actor: Actor, post: &PostId, asin: &Asin, key: &str) -> order::Given {
        let post: PostState = self.state(&streams::post(post));
        order::Given {
            order: match &actor.caller {
                Caller::User(buyer) => self.state(&streams::order(&order_id(buyer, key))),
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
    let clear = |owner: &UserId, text: &str| {
        Ok::<_, Infallible>(Sealed {
            owner: owner.clone(),
            nonce: [0; 12],
            ciphertext: text.as_bytes().to_vec(),
        })
    };
    let Ok(event) = decided.clone().into_event(clear);
    event
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
        E::MemberForgotten(e) => streams::user(&e.user),
        E::Followed(e) => streams::follow(&e.member, &e.creator),
        E::Unfollowed(e) => streams::follow(&e.member, &e.creator),
        E::MarkedNotInterested(e) => streams::feed_prefs(&e.member),
        E::NotInterestedUndone(e) => streams::feed_prefs(&e.member),
        E::FeedModeSet(e) => streams::feed_prefs(&e.member),
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
