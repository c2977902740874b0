//! One try of a command: lock and load what its rule reads, decide, seal, append.
//!
//! Each family's function names the streams a command reads and the one it writes; the
//! rule itself is in [`crate::rules`]. Locks are taken before the states they guard are
//! loaded, always in one order (product, then contract), and held until the append is done.

use std::collections::{BTreeMap, BTreeSet};

use sparkfeed_eventlog::{Condition, ExpectedVersion};
use sparkfeed_events::StreamName;

use crate::commands::{Caller, Command, Context};
use crate::events::DomainEvent;
use crate::events::FeedTarget;
use crate::limits::{MAX_INTERESTS_CHOSEN, MAX_POST_INTERESTS, MAX_PRODUCT_INTERESTS, MAX_TAGS};
use crate::rules::{Actor, Decided, account, catalog, contract, controls, engagement, order, post};
use crate::state::*;
use crate::{Asin, CommandError, Failure, InterestSlug, streams};

use super::store::{Attempt, Loaded};
use super::{Domain, Executed};
use crate::rules::order::order_id;

/// The caller's own account stream and its state, when the caller is a user.
type Own = Option<(StreamName, Loaded<UserState>)>;

impl Domain {
    /// One try of `command`: `Ok(None)` when it lost a race and must be decided again.
    pub(super) async fn attempt(&self, ctx: &Context, command: &Command) -> Attempt {
        let own = match &ctx.caller {
            Caller::User(user) => {
                let stream = streams::user(user);
                let loaded = self.load::<UserState>(&stream)?;
                Some((stream, loaded))
            }
            _ => None,
        };
        let actor = Actor {
            caller: ctx.caller.clone(),
            account: own
                .as_ref()
                .map(|(_, loaded)| loaded.state.clone())
                .unwrap_or_default(),
        };
        match command {
            Command::RegisterMember { .. }
            | Command::RegisterBrand { .. }
            | Command::StartPrime { .. }
            | Command::EndPrime { .. }
            | Command::ChooseInterests { .. }
            | Command::GrantRole { .. }
            | Command::RevokeRole { .. }
            | Command::ForgetMember { .. } => self.run_account(ctx, command, actor, own).await,
            Command::AddInterest { .. }
            | Command::ListProduct { .. }
            | Command::RepriceProduct { .. }
            | Command::DelistProduct { .. } => self.run_catalog(ctx, command, actor).await,
            Command::PublishPost { .. }
            | Command::EditCaption { .. }
            | Command::TagProduct { .. }
            | Command::UntagProduct { .. }
            | Command::RemovePost { .. } => self.run_post(ctx, command, actor).await,
            Command::Smile { .. }
            | Command::Unsmile { .. }
            | Command::SavePost { .. }
            | Command::UnsavePost { .. }
            | Command::SharePost { .. }
            | Command::Comment { .. }
            | Command::RemoveComment { .. } => self.run_engagement(ctx, command, actor).await,
            Command::Buy { .. } => self.run_order(ctx, command, actor).await,
            Command::OpenContract { .. } | Command::EndContract { .. } => {
                self.run_contract(ctx, command, actor).await
            }
            Command::Follow { .. }
            | Command::Unfollow { .. }
            | Command::NotInterested { .. }
            | Command::UndoNotInterested { .. }
            | Command::SetFeedMode { .. } => self.run_controls(ctx, command, actor).await,
            Command::ReportPost { .. } | Command::ResolveReport { .. } => {
                self.run_moderation(ctx, command, actor).await
            }
        }
    }

    /// Registration (the handle stream, then the account), Prime, interests, roles: the
    /// account stream of the user named, or the caller's own.
    async fn run_account(
        &self,
        ctx: &Context,
        command: &Command,
        actor: Actor,
        own: Own,
    ) -> Attempt {
        let (user, handle, named) = match command {
            Command::RegisterMember { user, handle, .. }
            | Command::RegisterBrand { user, handle, .. } => (Some(user), Some(handle), &[][..]),
            Command::StartPrime { user }
            | Command::EndPrime { user }
            | Command::GrantRole { user, .. }
            | Command::RevokeRole { user, .. }
            | Command::ForgetMember { user } => (Some(user), None, [].as_slice()),
            Command::ChooseInterests { interests } => (None, None, interests.as_slice()),
            _ => (None, None, &[][..]),
        };
        // The account the command is about: the one named, or the caller's own.
        let target = match user {
            Some(user) => {
                let stream = streams::user(user);
                let loaded = self.load::<UserState>(&stream)?;
                Some((stream, loaded))
            }
            None => own,
        };
        let handle_stream = handle.map(|h| self.keys.handle_stream(h));
        let handle_owner = match &handle_stream {
            Some(stream) => self.load::<HandleState>(stream)?.state.owner,
            None => None,
        };
        let given = account::Given {
            actor,
            account: target
                .as_ref()
                .map(|(_, loaded)| loaded.state.clone())
                .unwrap_or_default(),
            handle_owner,
            known_interests: self.known_interests(named, MAX_INTERESTS_CHOSEN)?,
        };
        if let Command::ForgetMember { user } = command
            && given.account.forgotten
            && !self.keys.is_forgotten(user)?
        {
            // `MemberForgotten` was appended but the key outlived it (a crash between the
            // two): this retry finishes the forgetting and writes nothing to the log.
            self.keys.forget(user)?;
            let done = target.as_ref().and_then(|(_, loaded)| loaded.last_position);
            return Ok(done.map(|position| Executed {
                position,
                deduplicated: true,
            }));
        }
        let mut decided = account::decide(&given, command)?;
        let Some((stream, target)) = target else {
            return Err(accepted_without("an account")); // the rules refuse first
        };
        // Part 0 reserves the handle (unless this account holds it already), part 1 opens
        // the account: a registration cut between the two is finished by its retry.
        if let Some(handle_stream) = &handle_stream {
            let reserved = decided
                .iter()
                .position(|d| matches!(d, Decided::Event(DomainEvent::HandleReserved(_))));
            if let Some(i) = reserved {
                let reservation = vec![decided.remove(i)];
                let expected = ExpectedVersion::NoStream;
                if self
                    .append(ctx, 0, handle_stream, expected, reservation)
                    .await?
                    .is_none()
                {
                    return Ok(None);
                }
            }
            return self
                .append(ctx, 1, &stream, target.expected(), decided)
                .await;
        }
        let done = self.commit(ctx, &stream, &target, decided).await?;
        // Invariant: the key is destroyed only once `MemberForgotten` is in the log, so a
        // crash between the two leaves a member whose retry finishes (above), never a key
        // gone with no event saying why.
        if let (Some(_), Command::ForgetMember { user }) = (&done, command) {
            self.keys.forget(user)?;
        }
        Ok(done)
    }

    /// Feed controls: a follow in the pair's stream, the rest in the member's
    /// `feedprefs` stream.
    async fn run_controls(&self, ctx: &Context, command: &Command, actor: Actor) -> Attempt {
        let Caller::User(member) = &ctx.caller else {
            // The rules refuse anyone but a signed-in member.
            let given = controls::Given {
                actor,
                creator: UserState::default(),
                follow: FollowState::default(),
                prefs: FeedPrefsState::default(),
                target_exists: false,
            };
            controls::decide(&given, command)?;
            return Err(accepted_without("a member"));
        };
        match command {
            Command::Follow { creator } | Command::Unfollow { creator } => {
                let stream = streams::follow(member, creator);
                let loaded = self.load::<FollowState>(&stream)?;
                let given = controls::Given {
                    actor,
                    creator: self.state::<UserState>(&streams::user(creator))?,
                    follow: loaded.state.clone(),
                    prefs: FeedPrefsState::default(),
                    target_exists: false,
                };
                let decided = controls::decide(&given, command)?;
                self.commit(ctx, &stream, &loaded, decided).await
            }
            Command::NotInterested { .. }
            | Command::UndoNotInterested { .. }
            | Command::SetFeedMode { .. } => {
                let stream = streams::feed_prefs(member);
                let loaded = self.load::<FeedPrefsState>(&stream)?;
                let target_exists = match command {
                    Command::NotInterested { target } | Command::UndoNotInterested { target } => {
                        self.target_exists(target)?
                    }
                    _ => false,
                };
                let given = controls::Given {
                    actor,
                    creator: UserState::default(),
                    follow: FollowState::default(),
                    prefs: loaded.state.clone(),
                    target_exists,
                };
                let decided = controls::decide(&given, command)?;
                if decided.is_empty() && matches!(command, Command::SetFeedMode { .. }) {
                    // The mode it has: nothing to write, answered at the stream's last event
                    // (or the log's head for a member who never set one).
                    let position = loaded.last_position.unwrap_or_else(|| {
                        sparkfeed_events::Position(self.log.head().len.saturating_sub(1))
                    });
                    return Ok(Some(Executed {
                        position,
                        deduplicated: true,
                    }));
                }
                self.commit(ctx, &stream, &loaded, decided).await
            }
            _ => Err(misrouted("controls")),
        }
    }

    /// Whether a "not interested" target exists in the log.
    fn target_exists(&self, target: &FeedTarget) -> Result<bool, CommandError> {
        Ok(match target {
            FeedTarget::Post(p) => self.state::<PostState>(&streams::post(p))?.author.is_some(),
            FeedTarget::Author(u) => self.state::<UserState>(&streams::user(u))?.kind.is_some(),
            FeedTarget::Product(a) => self
                .state::<ProductState>(&streams::product(a))?
                .price
                .is_some(),
            FeedTarget::Interest(i) => self.state::<InterestState>(&streams::interest(i))?.exists,
        })
    }

    /// Interests and products: their own streams. A reprice needs no lock: a buy is
    /// conditioned on the product's version it priced, so one of the two loses the race.
    async fn run_catalog(&self, ctx: &Context, command: &Command, actor: Actor) -> Attempt {
        if let Command::AddInterest { interest, .. } = command {
            let stream = streams::interest(interest);
            let loaded = self.load::<InterestState>(&stream)?;
            let given = catalog::Given {
                actor,
                interest: loaded.state.clone(),
                product: ProductState::default(),
                known_interests: BTreeSet::new(),
            };
            let decided = catalog::decide(&given, command)?;
            return self.commit(ctx, &stream, &loaded, decided).await;
        }
        let (asin, named) = match command {
            Command::ListProduct {
                asin, interests, ..
            } => (asin, interests.as_slice()),
            Command::RepriceProduct { asin, .. } | Command::DelistProduct { asin } => {
                (asin, &[][..])
            }
            _ => return Err(misrouted("catalog")),
        };
        let stream = streams::product(asin);
        let loaded = self.load::<ProductState>(&stream)?;
        let given = catalog::Given {
            actor,
            interest: InterestState::default(),
            product: loaded.state.clone(),
            known_interests: self.known_interests(named, MAX_PRODUCT_INTERESTS)?,
        };
        let decided = catalog::decide(&given, command)?;
        self.commit(ctx, &stream, &loaded, decided).await
    }

    /// Posts: the post stream; the catalog for interests and tags; a sponsored post
    /// conditioned on its contract's version, so a contract ended meanwhile refuses it.
    async fn run_post(&self, ctx: &Context, command: &Command, actor: Actor) -> Attempt {
        let (id, named, tagged, contract_id) = match command {
            Command::PublishPost {
                post,
                interests,
                tags,
                contract,
                ..
            } => (
                post,
                interests.as_slice(),
                tags.iter().take(MAX_TAGS).map(|t| &t.asin).collect(),
                contract.as_ref(),
            ),
            Command::TagProduct { post, tag } => (post, &[][..], vec![&tag.asin], None),
            Command::EditCaption { post, .. }
            | Command::UntagProduct { post, .. }
            | Command::RemovePost { post, .. } => (post, &[][..], vec![], None),
            _ => return Err(misrouted("post")),
        };
        let mut conditions = Vec::new();
        let contract = match contract_id {
            Some(id) => self.condition::<ContractState>(&streams::contract(id), &mut conditions)?,
            None => ContractState::default(),
        };
        let stream = streams::post(id);
        let loaded = self.load::<PostState>(&stream)?;
        let given = post::Given {
            actor,
            post: loaded.state.clone(),
            known_interests: self.known_interests(named, MAX_POST_INTERESTS)?,
            products: self.products(tagged)?,
            contract,
        };
        let decided = post::decide(&given, command, ctx.now)?;
        self.commit_when(ctx, &stream, &loaded, decided, conditions)
            .await
    }

    /// Smiles and saves (the member's engagement stream of the post), shares (the member's
    /// share stream, any version), comments (the comment stream).
    async fn run_engagement(&self, ctx: &Context, command: &Command, actor: Actor) -> Attempt {
        let member = match &ctx.caller {
            Caller::User(user) => Some(user),
            _ => None,
        };
        let (post_id, comment) = match command {
            Command::Comment { post, comment, .. } => {
                let loaded = self.load::<CommentState>(&streams::comment(comment))?;
                (
                    Some(post.clone()),
                    Some((streams::comment(comment), loaded)),
                )
            }
            Command::RemoveComment { comment } => {
                let loaded = self.load::<CommentState>(&streams::comment(comment))?;
                let post = loaded.state.posted.as_ref().map(|p| p.post.clone());
                (post, Some((streams::comment(comment), loaded)))
            }
            Command::Smile { post }
            | Command::Unsmile { post }
            | Command::SavePost { post }
            | Command::UnsavePost { post }
            | Command::SharePost { post, .. } => (Some(post.clone()), None),
            _ => return Err(misrouted("engagement")),
        };
        let post_state = match &post_id {
            Some(id) => self.state::<PostState>(&streams::post(id))?,
            None => PostState::default(),
        };
        let switch = match (engagement::Switch::of(command), member) {
            (Some((_, post)), Some(member)) => {
                let stream = streams::engagement(post, member);
                let loaded = self.load::<EngagementState>(&stream)?;
                Some((stream, loaded))
            }
            _ => None,
        };
        let given = engagement::Given {
            actor,
            post: post_state,
            engagement: switch
                .as_ref()
                .map(|(_, loaded)| loaded.state.clone())
                .unwrap_or_default(),
            comment: comment
                .as_ref()
                .map(|(_, loaded)| loaded.state.clone())
                .unwrap_or_default(),
        };
        let decided = engagement::decide(&given, command)?;
        if let Some((stream, loaded)) = switch {
            return self.commit(ctx, &stream, &loaded, decided).await;
        }
        if let Some((stream, loaded)) = comment {
            return self.commit(ctx, &stream, &loaded, decided).await;
        }
        match (command, member) {
            // Shares are not unique: any number per member and post.
            (Command::SharePost { post, .. }, Some(member)) => {
                let stream = streams::share(post, member);
                self.append(ctx, 0, &stream, ExpectedVersion::Any, decided)
                    .await
            }
            _ => Err(accepted_without("a member")),
        }
    }

    /// A buy: the order stream of the buyer's key, conditioned on the versions of the
    /// product (and of a sponsored post's contract) it read, so the price charged is the
    /// catalog's at the order's position and no contract ended in between.
    async fn run_order(&self, ctx: &Context, command: &Command, actor: Actor) -> Attempt {
        let Command::Buy {
            post,
            asin,
            idempotency_key,
            ..
        } = command
        else {
            return Err(misrouted("order"));
        };
        let order = match &ctx.caller {
            Caller::User(buyer) => {
                let stream = streams::order(&order_id(buyer, idempotency_key));
                let loaded = self.load::<OrderState>(&stream)?;
                Some((stream, loaded))
            }
            _ => None,
        };
        let post_state = self.state::<PostState>(&streams::post(post))?;
        let mut conditions = Vec::new();
        let product = self.condition::<ProductState>(&streams::product(asin), &mut conditions)?;
        let contract = match &post_state.sponsorship {
            Some(disclosure) => self.condition::<ContractState>(
                &streams::contract(&disclosure.contract),
                &mut conditions,
            )?,
            None => ContractState::default(),
        };
        let author = match (&post_state.sponsorship, &post_state.author) {
            (None, Some(author)) => self.state::<UserState>(&streams::user(author))?,
            _ => UserState::default(),
        };
        let given = order::Given {
            actor,
            order: order
                .as_ref()
                .map(|(_, loaded)| loaded.state.clone())
                .unwrap_or_default(),
            post: post_state,
            product,
            contract,
            author,
        };
        let decided = order::decide(&given, command, ctx.now)?;
        let Some((stream, loaded)) = order else {
            return Err(accepted_without("a buyer"));
        };
        self.commit_when(ctx, &stream, &loaded, decided, conditions)
            .await
    }

    /// Contracts: the contract stream. Ending one needs no lock: a sponsored post or buy is
    /// conditioned on the contract's version it read.
    async fn run_contract(&self, ctx: &Context, command: &Command, actor: Actor) -> Attempt {
        let (id, enthusiast) = match command {
            Command::OpenContract {
                contract,
                enthusiast,
                ..
            } => (contract, Some(enthusiast)),
            Command::EndContract { contract, .. } => (contract, None),
            _ => return Err(misrouted("contract")),
        };
        let stream = streams::contract(id);
        let loaded = self.load::<ContractState>(&stream)?;
        let given = contract::Given {
            actor,
            contract: loaded.state.clone(),
            enthusiast: match enthusiast {
                Some(user) => self.state::<UserState>(&streams::user(user))?,
                None => UserState::default(),
            },
        };
        let decided = contract::decide(&given, command, ctx.now)?;
        self.commit(ctx, &stream, &loaded, decided).await
    }

    /// Which of `interests` are in the catalog; only the first `max` are looked up, as the
    /// rules refuse more before they look.
    fn known_interests(
        &self,
        interests: &[InterestSlug],
        max: usize,
    ) -> Result<BTreeSet<InterestSlug>, CommandError> {
        let mut known = BTreeSet::new();
        for interest in interests.iter().take(max) {
            if self
                .state::<InterestState>(&streams::interest(interest))?
                .exists
            {
                known.insert(interest.clone());
            }
        }
        Ok(known)
    }

    /// The products `asins` name, by ASIN.
    fn products(&self, asins: Vec<&Asin>) -> Result<BTreeMap<Asin, ProductState>, CommandError> {
        let mut products = BTreeMap::new();
        for asin in asins {
            if !products.contains_key(asin) {
                let state = self.state::<ProductState>(&streams::product(asin))?;
                products.insert(asin.clone(), state);
            }
        }
        Ok(products)
    }

    /// The state of `stream`, which the command reads but does not write, and the condition
    /// that it is still there when the command's append lands.
    fn condition<S: Aggregate>(
        &self,
        stream: &StreamName,
        conditions: &mut Vec<Condition>,
    ) -> Result<S, CommandError> {
        let loaded = self.load::<S>(stream)?;
        conditions.push(Condition {
            stream: stream.clone(),
            expected: loaded.expected(),
        });
        Ok(loaded.state)
    }

    /// Appends what was decided to `stream`, where `loaded` was read, as the command's only
    /// part. Nothing decided means the command was carried out already: its stream's last
    /// event answers.
    pub(super) async fn commit<S>(
        &self,
        ctx: &Context,
        stream: &StreamName,
        loaded: &Loaded<S>,
        decided: Vec<Decided>,
    ) -> Attempt {
        self.commit_when(ctx, stream, loaded, decided, Vec::new())
            .await
    }

    /// [`Domain::commit`], refused unless every stream in `conditions` is still where the
    /// command read it.
    pub(super) async fn commit_when<S>(
        &self,
        ctx: &Context,
        stream: &StreamName,
        loaded: &Loaded<S>,
        decided: Vec<Decided>,
        conditions: Vec<Condition>,
    ) -> Attempt {
        if decided.is_empty() {
            let Some(position) = loaded.last_position else {
                return Err(accepted_without("anything to do"));
            };
            return Ok(Some(Executed {
                position,
                deduplicated: true,
            }));
        }
        self.append_when(ctx, 0, stream, loaded.expected(), decided, conditions)
            .await
    }

    /// Seals and appends `decided` as part `part` of the command.
    pub(super) async fn append(
        &self,
        ctx: &Context,
        part: u32,
        stream: &StreamName,
        expected: ExpectedVersion,
        decided: Vec<Decided>,
    ) -> Attempt {
        self.append_when(ctx, part, stream, expected, decided, Vec::new())
            .await
    }

    /// [`Domain::append`] under `conditions`.
    async fn append_when(
        &self,
        ctx: &Context,
        part: u32,
        stream: &StreamName,
        expected: ExpectedVersion,
        decided: Vec<Decided>,
        conditions: Vec<Condition>,
    ) -> Attempt {
        let mut events = Vec::with_capacity(decided.len());
        for d in decided {
            events.push(self.seal(d)?);
        }
        Ok(self
            .write(ctx, part, stream, expected, events, conditions)
            .await?
            .map(Executed::from))
    }

    /// The event to store: personal data sealed with its owner's key.
    fn seal(&self, decided: Decided) -> Result<DomainEvent, Failure> {
        decided.into_event(|owner, text| self.keys.seal(owner, text))
    }
}

/// A command routed to a family that does not run it: a bug, reported.
pub(super) fn misrouted(family: &str) -> CommandError {
    Failure::Unexpected(format!("a command was routed to the {family} family")).into()
}

/// The rules accepted a command whose stream could not be named: a bug, reported.
pub(super) fn accepted_without(what: &str) -> CommandError {
    Failure::Unexpected(format!("the rules accepted a command without {what}")).into()
}
