//! The command side: load the state a command needs from its streams, apply the rules,
//! append the events with the right expected version.
//!
//! Invariant: every write goes through `EventLog::append`; a refusal appends nothing.
//! Invariant: a command's event ids derive from its command id, so a retried command is
//! written once (the log deduplicates the ids).
//! Invariant: where two streams must agree (a buy and the product's price, a sponsored post
//! and its contract), the command holds the other stream's lock in this process while it
//! reads and appends, so the price charged is the catalog price at the order's position,
//! and a contract cannot end between the check and the post.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use sparkfeed_eventlog::events::{
    Actor, ActorId, EventId, EventType, Metadata, NewEvent, Position, StreamName,
};
use sparkfeed_eventlog::{
    AppendError, AppendRefused, Appended, Direction, EventLog, ExpectedVersion, StreamState,
};
use sparkfeed_events::Upcasters;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

use crate::commands::{Caller, Command, Context, MediaInput, TagInput};
use crate::events::*;
use crate::state::*;
use crate::streams;
use crate::{
    CommandError, ContractId, Failure, InterestSlug, KeyStore, Money, PostId, Refusal, Role, UserId,
};

/// How often a command is retried after losing an optimistic-concurrency race.
const MAX_ATTEMPTS: usize = 8;
/// The longest re-buy window of an interest: ten years.
pub const MAX_REBUY_WINDOW_DAYS: u32 = 3_650;
/// The associate commission of enthusiasts on purchases through unsponsored posts.
pub const ASSOCIATE_RATE_BP: u32 = 300;

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

/// A stream's state and where it ends.
struct Loaded<S> {
    state: S,
    at: StreamState,
    last_position: Option<Position>,
}

impl<S> Loaded<S> {
    fn expected(&self) -> ExpectedVersion {
        match self.at {
            StreamState::NoStream => ExpectedVersion::NoStream,
            StreamState::At(v) => ExpectedVersion::Exact(v),
        }
    }
}

/// The race was lost: reload and decide again.
struct Retry;

type Step = Result<Result<Executed, Retry>, CommandError>;

/// Beyond this many cached aggregates the cache is dropped and refilled from the log.
const MAX_CACHED: usize = 100_000;

/// A cached aggregate: its state and where its stream was when it was folded.
struct Cached {
    state: Box<dyn std::any::Any + Send + Sync>,
    at: StreamState,
    last_position: Option<Position>,
}

/// The write side of sparkfeed.
#[derive(Clone)]
pub struct Domain {
    log: EventLog,
    keys: Arc<KeyStore>,
    upcasters: Arc<Upcasters>,
    locks: Arc<Mutex<HashMap<StreamName, Arc<RwLock<()>>>>>,
    /// Folded states by stream. Only a cache: a load always reads the stream's events
    /// after the cached version, so it is never stale.
    cache: Arc<Mutex<HashMap<StreamName, Cached>>>,
}

/// The order id of a buyer's idempotency key: a hash, so the key itself is not stored.
pub fn order_id(buyer: &UserId, idempotency_key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(buyer.as_str())
        .chain_update([0u8])
        .chain_update(idempotency_key)
        .finalize();
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

fn chars(field: &'static str, text: &str, min: usize, max: usize) -> Result<(), Refusal> {
    let n = text.chars().count();
    if n < min || n > max {
        return Err(Refusal::validation(
            field,
            format!("expected {min} to {max} characters, got {n}"),
        ));
    }
    Ok(())
}

fn url(field: &'static str, text: &str) -> Result<(), Refusal> {
    let ok = (text.starts_with("https://") || text.starts_with("http://"))
        && text.len() <= 2048
        && !text.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(Refusal::validation(
            field,
            "expected an http(s) URL of at most 2048 bytes",
        ))
    }
}

fn unique<T: PartialEq>(field: &'static str, items: &[T]) -> Result<(), Refusal> {
    for (i, a) in items.iter().enumerate() {
        if items[..i].contains(a) {
            return Err(Refusal::validation(field, "listed twice"));
        }
    }
    Ok(())
}

/// `rate_bp` basis points of `total`, rounded down (in `u128`: no overflow whatever the
/// inputs; the result is at most `total` for rates up to 10,000).
fn percent_of(total: Money, rate_bp: u32) -> Money {
    let cents = u128::from(total.cents) * u128::from(rate_bp) / 10_000;
    Money::new(u64::try_from(cents).unwrap_or(u64::MAX), total.currency)
}

/// A price or fee: more than zero and at most [`Money::MAX_PRICE_CENTS`].
fn positive_price(field: &'static str, money: Money) -> Result<(), Refusal> {
    if money.cents == 0 || money.cents > Money::MAX_PRICE_CENTS {
        return Err(Refusal::validation(
            field,
            format!(
                "expected more than zero and at most {} minor units",
                Money::MAX_PRICE_CENTS
            ),
        ));
    }
    Ok(())
}

impl Domain {
    /// The write side over `log`, sealing personal data with `keys`.
    pub fn new(log: EventLog, keys: Arc<KeyStore>) -> Self {
        Self {
            log,
            keys,
            upcasters: Arc::new(crate::events::upcasters()),
            locks: Arc::default(),
            cache: Arc::default(),
        }
    }

    /// The log this domain writes.
    pub fn log(&self) -> &EventLog {
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
            let last = event_id(ctx, command.final_part(), 0);
            if let Some(done) = self.log.find_event(&last)? {
                return Ok(Executed {
                    position: done.record.position,
                    deduplicated: true,
                });
            }
        }
        for _ in 0..MAX_ATTEMPTS {
            match self.attempt(ctx, command).await {
                Ok(Ok(done)) => return Ok(done),
                Ok(Err(Retry)) => {}
                // A keyed repeat that raced its first run: the rules saw the first run's
                // effect (ALREADY_SMILED, a taken id), which is this command's own.
                Err(CommandError::Refused(refusal)) if ctx.from_client_key => {
                    let last = event_id(ctx, command.final_part(), 0);
                    return match self.log.find_event(&last)? {
                        Some(done) => Ok(Executed {
                            position: done.record.position,
                            deduplicated: true,
                        }),
                        None => Err(refusal.into()),
                    };
                }
                Err(e) => return Err(e),
            }
        }
        Err(Refusal::Conflict.into())
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
            sparkfeed_eventlog::events::StreamVersion::FIRST,
            Direction::Forward,
            1,
        )?;
        for event in &page.events {
            if let DomainEvent::HandleReserved(e) = self.decode(event)? {
                return Ok(Some(e.user));
            }
        }
        Ok(None)
    }

    /// Reads any stored event back as a domain event.
    pub fn decode(
        &self,
        event: &sparkfeed_eventlog::events::RecordedEvent,
    ) -> Result<DomainEvent, Failure> {
        DomainEvent::decode(&self.upcasters, event).map_err(|e| Failure::Undecodable {
            position: event.record.position.0,
            reason: e.to_string(),
        })
    }

    /// The state of `stream`: the cached fold, brought up to date with the events after it.
    fn load<S: Aggregate>(&self, stream: &StreamName) -> Result<Loaded<S>, CommandError> {
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

    fn lock(&self, stream: &StreamName) -> Arc<RwLock<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(stream.clone()).or_default().clone()
    }

    async fn read_lock(&self, stream: &StreamName) -> OwnedRwLockReadGuard<()> {
        self.lock(stream).read_owned().await
    }

    async fn write_lock(&self, stream: &StreamName) -> OwnedRwLockWriteGuard<()> {
        self.lock(stream).write_owned().await
    }

    /// Appends `events` as part `part` of the command; a lost race is `Err(Retry)`.
    async fn write(
        &self,
        ctx: &Context,
        part: u32,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<DomainEvent>,
    ) -> Result<Result<Appended, Retry>, CommandError> {
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
        match self.log.append(stream, expected, batch).await {
            Ok(done) => Ok(Ok(done)),
            Err(AppendError::Refused(AppendRefused::WrongExpectedVersion { .. })) => Ok(Err(Retry)),
            Err(AppendError::Refused(AppendRefused::Invalid {
                code: "RECORD_TOO_LARGE",
                reason,
            })) => Err(Refusal::validation("event", reason).into()),
            Err(e) => Err(Failure::from(e).into()),
        }
    }

    /// Appends one event to an existing stream at `expected`; a lost race is a retry.
    async fn update(
        &self,
        ctx: &Context,
        stream: &StreamName,
        expected: ExpectedVersion,
        event: DomainEvent,
    ) -> Step {
        Ok(self
            .write(ctx, 0, stream, expected, vec![event])
            .await?
            .map(Executed::from))
    }

    /// Creates `stream` with one event; if it exists already, the command is refused with
    /// `exists` (a repeat of the same command is answered by the log's deduplication).
    async fn create(
        &self,
        ctx: &Context,
        stream: &StreamName,
        event: DomainEvent,
        exists: Refusal,
    ) -> Step {
        match self
            .write(ctx, 0, stream, ExpectedVersion::NoStream, vec![event])
            .await?
        {
            Ok(done) => Ok(Ok(done.into())),
            Err(Retry) => Err(exists.into()),
        }
    }

    /// The signed-in account and its state.
    fn caller(&self, ctx: &Context) -> Result<(UserId, UserState), CommandError> {
        let Caller::User(user) = &ctx.caller else {
            return Err(Refusal::Forbidden("member").into());
        };
        let loaded = self.load::<UserState>(&streams::user(user))?;
        if loaded.state.kind.is_none() {
            return Err(Refusal::UnknownUser(user.to_string()).into());
        }
        Ok((user.clone(), loaded.state))
    }

    /// A signed-in Prime member (not a brand).
    fn prime_member(&self, ctx: &Context) -> Result<(UserId, UserState), CommandError> {
        let (user, state) = self.caller(ctx)?;
        if state.kind != Some(AccountKind::Member) || !state.prime {
            return Err(Refusal::NotPrime.into());
        }
        Ok((user, state))
    }

    /// The name of an admin caller: a system component or a member with the admin role.
    fn admin(&self, ctx: &Context) -> Result<String, CommandError> {
        match &ctx.caller {
            Caller::System(name) => Ok(format!("system:{name}")),
            Caller::User(_) => {
                let (user, state) = self.caller(ctx)?;
                if state.roles.contains(&Role::Admin) {
                    Ok(format!("user:{user}"))
                } else {
                    Err(Refusal::Forbidden("admin").into())
                }
            }
            Caller::Anonymous => Err(Refusal::Forbidden("admin").into()),
        }
    }

    fn registered(&self, user: &UserId) -> Result<Loaded<UserState>, CommandError> {
        let loaded = self.load::<UserState>(&streams::user(user))?;
        if loaded.state.kind.is_none() {
            return Err(Refusal::UnknownUser(user.to_string()).into());
        }
        Ok(loaded)
    }

    fn known_interests(
        &self,
        field: &'static str,
        interests: &[InterestSlug],
        max: usize,
    ) -> Result<(), CommandError> {
        if interests.is_empty() || interests.len() > max {
            return Err(
                Refusal::validation(field, format!("expected 1 to {max} interests")).into(),
            );
        }
        unique(field, interests)?;
        for interest in interests {
            if !self
                .load::<InterestState>(&streams::interest(interest))?
                .state
                .exists
            {
                return Err(Refusal::UnknownInterest(interest.to_string()).into());
            }
        }
        Ok(())
    }

    fn live_post(&self, post: &PostId) -> Result<Loaded<PostState>, CommandError> {
        let loaded = self.load::<PostState>(&streams::post(post))?;
        if loaded.state.author.is_none() {
            return Err(Refusal::UnknownPost(post.to_string()).into());
        }
        if loaded.state.removed {
            return Err(Refusal::PostRemoved(post.to_string()).into());
        }
        Ok(loaded)
    }

    fn check_tag(&self, tag: &TagInput, media: usize) -> Result<Tag, CommandError> {
        if usize::from(tag.media_index) >= media {
            return Err(Refusal::validation(
                "tag.mediaIndex",
                format!("the post has {media} media"),
            )
            .into());
        }
        for (field, v) in [("tag.x", tag.x), ("tag.y", tag.y)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Refusal::validation(field, "expected a number in [0, 1]").into());
            }
        }
        let product = self.load::<ProductState>(&streams::product(&tag.asin))?;
        if product.state.available_price().is_none() {
            return Err(Refusal::UnknownProduct(tag.asin.to_string()).into());
        }
        Ok(Tag {
            asin: tag.asin.clone(),
            media_index: tag.media_index,
            x: tag.x,
            y: tag.y,
        })
    }

    fn seal_media(
        &self,
        author: &UserId,
        media: &[MediaInput],
    ) -> Result<Vec<Media>, CommandError> {
        if media.is_empty() || media.len() > 10 {
            return Err(Refusal::validation("media", "expected 1 to 10 media").into());
        }
        let mut sealed = Vec::with_capacity(media.len());
        for m in media {
            url("media.url", &m.url)?;
            chars("media.alt", &m.alt, 0, 500)?;
            if m.width == 0 || m.height == 0 {
                return Err(Refusal::validation(
                    "media.size",
                    "width and height must be at least 1",
                )
                .into());
            }
            sealed.push(Media {
                kind: m.kind,
                url: self.keys.seal(author, &m.url)?,
                width: m.width,
                height: m.height,
                alt: self.keys.seal(author, &m.alt)?,
            });
        }
        Ok(sealed)
    }

    async fn attempt(&self, ctx: &Context, command: &Command) -> Step {
        match command {
            Command::RegisterMember {
                user,
                handle,
                display_name,
            } => {
                chars("displayName", display_name, 1, 80)?;
                self.register(ctx, user, handle, AccountKind::Member, display_name, None)
                    .await
            }
            Command::RegisterBrand {
                user,
                handle,
                brand_name,
            } => {
                self.admin(ctx)?;
                chars("brandName", brand_name, 1, 80)?;
                self.register(
                    ctx,
                    user,
                    handle,
                    AccountKind::Brand,
                    brand_name,
                    Some(brand_name.clone()),
                )
                .await
            }
            Command::StartPrime { user } | Command::EndPrime { user } => {
                self.admin(ctx)?;
                let start = matches!(command, Command::StartPrime { .. });
                let loaded = self.registered(user)?;
                if loaded.state.kind != Some(AccountKind::Member) {
                    return Err(
                        Refusal::validation("user", "brands have no Prime membership").into(),
                    );
                }
                if loaded.state.prime == start {
                    return Err(Refusal::validation(
                        "prime",
                        if start {
                            "already a Prime member"
                        } else {
                            "not a Prime member"
                        },
                    )
                    .into());
                }
                let event: DomainEvent = if start {
                    PrimeStarted { user: user.clone() }.into()
                } else {
                    PrimeEnded { user: user.clone() }.into()
                };
                self.update(ctx, &streams::user(user), loaded.expected(), event)
                    .await
            }
            Command::ChooseInterests { interests } => {
                let (user, state) = self.caller(ctx)?;
                if state.kind != Some(AccountKind::Member) {
                    return Err(
                        Refusal::validation("interests", "brands do not choose interests").into(),
                    );
                }
                if interests.len() > 5 {
                    return Err(Refusal::TooManyInterests(interests.len()).into());
                }
                self.known_interests("interests", interests, 5)?;
                let loaded = self.registered(&user)?;
                let event = InterestsChosen {
                    user: user.clone(),
                    interests: interests.clone(),
                };
                self.update(ctx, &streams::user(&user), loaded.expected(), event.into())
                    .await
            }
            Command::GrantRole { user, role } | Command::RevokeRole { user, role } => {
                let by = self.admin(ctx)?;
                let grant = matches!(command, Command::GrantRole { .. });
                let loaded = self.registered(user)?;
                if loaded.state.kind != Some(AccountKind::Member) {
                    return Err(Refusal::validation("user", "roles are for members").into());
                }
                let held = loaded.state.roles.contains(role);
                let event: DomainEvent = match (grant, held) {
                    (true, true) => return Err(Refusal::AlreadyHasRole.into()),
                    (false, false) => return Err(Refusal::RoleNotHeld.into()),
                    (true, false) => RoleGranted {
                        user: user.clone(),
                        role: *role,
                        by,
                    }
                    .into(),
                    (false, true) => RoleRevoked {
                        user: user.clone(),
                        role: *role,
                        by,
                    }
                    .into(),
                };
                self.update(ctx, &streams::user(user), loaded.expected(), event)
                    .await
            }
            Command::AddInterest {
                interest,
                name,
                rebuy_window_days,
            } => {
                self.admin(ctx)?;
                chars("name", name, 1, 60)?;
                if rebuy_window_days.is_some_and(|d| !(1..=MAX_REBUY_WINDOW_DAYS).contains(&d)) {
                    return Err(Refusal::validation(
                        "rebuyWindowDays",
                        format!("expected 1 to {MAX_REBUY_WINDOW_DAYS} days"),
                    )
                    .into());
                }
                let event = InterestAdded {
                    interest: interest.clone(),
                    name: name.clone(),
                    rebuy_window_days: *rebuy_window_days,
                };
                self.create(
                    ctx,
                    &streams::interest(interest),
                    event.into(),
                    Refusal::InterestExists(interest.to_string()),
                )
                .await
            }
            Command::ListProduct {
                asin,
                title,
                price,
                image_url,
                interests,
                consumable,
            } => {
                self.admin(ctx)?;
                chars("title", title, 1, 200)?;
                url("imageUrl", image_url)?;
                positive_price("price", *price)?;
                self.known_interests("interests", interests, 3)?;
                let _guard = self.write_lock(&streams::product(asin)).await;
                let event = ProductListed {
                    asin: asin.clone(),
                    title: title.clone(),
                    price: *price,
                    image_url: image_url.clone(),
                    interests: interests.clone(),
                    consumable: *consumable,
                };
                self.create(
                    ctx,
                    &streams::product(asin),
                    event.into(),
                    Refusal::ProductExists(asin.to_string()),
                )
                .await
            }
            Command::RepriceProduct { asin, .. } | Command::DelistProduct { asin } => {
                self.admin(ctx)?;
                let stream = streams::product(asin);
                let _guard = self.write_lock(&stream).await;
                let loaded = self.load::<ProductState>(&stream)?;
                if loaded.state.available_price().is_none() {
                    return Err(Refusal::UnknownProduct(asin.to_string()).into());
                }
                let event: DomainEvent = match command {
                    Command::RepriceProduct { price, .. } => {
                        positive_price("price", *price)?;
                        ProductRepriced {
                            asin: asin.clone(),
                            price: *price,
                        }
                        .into()
                    }
                    _ => ProductDelisted { asin: asin.clone() }.into(),
                };
                self.update(ctx, &stream, loaded.expected(), event).await
            }
            Command::PublishPost {
                post,
                caption,
                media,
                interests,
                tags,
                contract,
            } => {
                self.publish(
                    ctx,
                    post,
                    caption,
                    media,
                    interests,
                    tags,
                    contract.as_ref(),
                )
                .await
            }
            Command::EditCaption { post, caption } => {
                let (author, _) = self.caller(ctx)?;
                chars("caption", caption, 0, 2200)?;
                let loaded = self.live_post(post)?;
                if loaded.state.author.as_ref() != Some(&author) {
                    return Err(Refusal::NotAuthor.into());
                }
                let event = CaptionEdited {
                    post: post.clone(),
                    caption: self.keys.seal(&author, caption)?,
                };
                self.update(ctx, &streams::post(post), loaded.expected(), event.into())
                    .await
            }
            Command::TagProduct { post, tag } => {
                let (author, _) = self.caller(ctx)?;
                let loaded = self.live_post(post)?;
                if loaded.state.author.as_ref() != Some(&author) {
                    return Err(Refusal::NotAuthor.into());
                }
                if loaded.state.tags.len() >= 20 {
                    return Err(Refusal::validation("tags", "a post has at most 20 tags").into());
                }
                let tag = self.check_tag(tag, loaded.state.media)?;
                if loaded
                    .state
                    .tags
                    .iter()
                    .any(|t| t.asin == tag.asin && t.media_index == tag.media_index)
                {
                    return Err(Refusal::validation("tag", "already tagged on this medium").into());
                }
                let event = ProductTagged {
                    post: post.clone(),
                    tag,
                };
                self.update(ctx, &streams::post(post), loaded.expected(), event.into())
                    .await
            }
            Command::UntagProduct {
                post,
                asin,
                media_index,
            } => {
                let (author, _) = self.caller(ctx)?;
                let loaded = self.live_post(post)?;
                if loaded.state.author.as_ref() != Some(&author) {
                    return Err(Refusal::NotAuthor.into());
                }
                if !loaded
                    .state
                    .tags
                    .iter()
                    .any(|t| t.asin == *asin && t.media_index == *media_index)
                {
                    return Err(Refusal::NotTagged(asin.to_string()).into());
                }
                let event = ProductUntagged {
                    post: post.clone(),
                    asin: asin.clone(),
                    media_index: *media_index,
                };
                self.update(ctx, &streams::post(post), loaded.expected(), event.into())
                    .await
            }
            Command::RemovePost { post, reason } => {
                chars("reason", reason, 0, 500)?;
                let loaded = self.live_post(post)?;
                let by = match &ctx.caller {
                    Caller::System(_) => None,
                    _ => {
                        let (user, state) = self.caller(ctx)?;
                        let allowed = loaded.state.author.as_ref() == Some(&user)
                            || state.roles.contains(&Role::Moderator);
                        if !allowed {
                            return Err(Refusal::Forbidden("moderator").into());
                        }
                        Some(user)
                    }
                };
                let by = by
                    .or_else(|| loaded.state.author.clone())
                    .unwrap_or_else(|| unreachable!("live posts have authors"));
                let event = PostRemoved {
                    post: post.clone(),
                    by,
                    reason: reason.clone(),
                };
                self.update(ctx, &streams::post(post), loaded.expected(), event.into())
                    .await
            }
            Command::Smile { post }
            | Command::Unsmile { post }
            | Command::SavePost { post }
            | Command::UnsavePost { post } => {
                let (member, _) = self.prime_member(ctx)?;
                self.live_post(post)?;
                let stream = streams::engagement(post, &member);
                let loaded = self.load::<EngagementState>(&stream)?;
                let (p, m) = (post.clone(), member.clone());
                let event: DomainEvent = match (command, loaded.state.smiling, loaded.state.saved) {
                    (Command::Smile { .. }, true, _) => return Err(Refusal::AlreadySmiled.into()),
                    (Command::Smile { .. }, false, _) => Smiled { post: p, member: m }.into(),
                    (Command::Unsmile { .. }, false, _) => return Err(Refusal::NotSmiled.into()),
                    (Command::Unsmile { .. }, true, _) => Unsmiled { post: p, member: m }.into(),
                    (Command::SavePost { .. }, _, true) => return Err(Refusal::AlreadySaved.into()),
                    (Command::SavePost { .. }, _, false) => Saved { post: p, member: m }.into(),
                    (_, _, false) => return Err(Refusal::NotSaved.into()),
                    (_, _, true) => Unsaved { post: p, member: m }.into(),
                };
                self.update(ctx, &stream, loaded.expected(), event).await
            }
            Command::SharePost { post, channel } => {
                let (member, _) = self.prime_member(ctx)?;
                self.live_post(post)?;
                let event = Shared {
                    post: post.clone(),
                    member: member.clone(),
                    channel: *channel,
                };
                let stream = streams::share(post, &member);
                self.update(ctx, &stream, ExpectedVersion::Any, event.into())
                    .await
            }
            Command::Comment {
                comment,
                post,
                text,
            } => {
                let (author, _) = self.prime_member(ctx)?;
                chars("text", text, 1, 1000)?;
                self.live_post(post)?;
                let event = CommentPosted {
                    comment: comment.clone(),
                    post: post.clone(),
                    author: author.clone(),
                    text: self.keys.seal(&author, text)?,
                };
                match self
                    .write(
                        ctx,
                        0,
                        &streams::comment(comment),
                        ExpectedVersion::NoStream,
                        vec![event.into()],
                    )
                    .await?
                {
                    Ok(done) => Ok(Ok(done.into())),
                    Err(Retry) => Err(conflict_or(
                        ctx,
                        Refusal::validation("comment", "a comment with this id exists"),
                    )
                    .into()),
                }
            }
            Command::RemoveComment { comment } => {
                let stream = streams::comment(comment);
                let loaded = self.load::<CommentState>(&stream)?;
                let Some(posted) = loaded
                    .state
                    .posted
                    .as_ref()
                    .filter(|_| !loaded.state.removed)
                else {
                    return Err(Refusal::UnknownComment(comment.to_string()).into());
                };
                let by = match &ctx.caller {
                    Caller::System(_) => posted.author.clone(),
                    _ => {
                        let (user, state) = self.caller(ctx)?;
                        let post = self.load::<PostState>(&streams::post(&posted.post))?;
                        let allowed = posted.author == user
                            || post.state.author.as_ref() == Some(&user)
                            || state.roles.contains(&Role::Moderator);
                        if !allowed {
                            return Err(Refusal::Forbidden("moderator").into());
                        }
                        user
                    }
                };
                let event = CommentRemoved {
                    comment: comment.clone(),
                    post: posted.post.clone(),
                    by,
                };
                self.update(ctx, &stream, loaded.expected(), event.into())
                    .await
            }
            Command::Buy {
                post,
                asin,
                quantity,
                idempotency_key,
                gift,
            } => {
                self.buy(ctx, post, asin, *quantity, idempotency_key, *gift)
                    .await
            }
            Command::OpenContract {
                contract,
                enthusiast,
                flat_fee,
                commission_bp,
                starts_at,
                ends_at,
            } => {
                let (brand, state) = self.caller(ctx)?;
                if state.kind != Some(AccountKind::Brand) {
                    return Err(Refusal::Forbidden("brand").into());
                }
                let partner = self.registered(enthusiast)?;
                if !partner.state.roles.contains(&Role::Enthusiast) {
                    return Err(Refusal::validation(
                        "enthusiast",
                        "brands sponsor members with the enthusiast role",
                    )
                    .into());
                }
                if flat_fee.is_none() && commission_bp.is_none() {
                    return Err(Refusal::validation(
                        "terms",
                        "a flat fee, a commission rate, or both",
                    )
                    .into());
                }
                if commission_bp.is_some_and(|bp| bp == 0 || bp > 5_000) {
                    return Err(Refusal::validation(
                        "commissionBp",
                        "expected 1 to 5000 basis points",
                    )
                    .into());
                }
                if let Some(fee) = flat_fee {
                    positive_price("flatFee", *fee)?;
                }
                if ends_at <= starts_at {
                    return Err(Refusal::validation("endsAt", "must be after startsAt").into());
                }
                let event = ContractOpened {
                    contract: contract.clone(),
                    brand,
                    brand_name: state.brand_name.unwrap_or_default(),
                    enthusiast: enthusiast.clone(),
                    flat_fee: *flat_fee,
                    commission_bp: *commission_bp,
                    starts_at: *starts_at,
                    ends_at: *ends_at,
                };
                self.create(
                    ctx,
                    &streams::contract(contract),
                    event.into(),
                    // The id came from the client's key, if any: taken means reused.
                    conflict_or(
                        ctx,
                        Refusal::validation("contract", "a contract with this id exists"),
                    ),
                )
                .await
            }
            Command::EndContract { contract, reason } => {
                chars("reason", reason, 0, 500)?;
                let stream = streams::contract(contract);
                let _guard = self.write_lock(&stream).await;
                let loaded = self.load::<ContractState>(&stream)?;
                let Some(opened) = &loaded.state.opened else {
                    return Err(Refusal::UnknownContract(contract.to_string()).into());
                };
                let by = match &ctx.caller {
                    Caller::User(user) if *user == opened.brand => format!("user:{user}"),
                    _ => self
                        .admin(ctx)
                        .map_err(|_| Refusal::NotPartyToContract(contract.to_string()))?,
                };
                if !loaded.state.is_active(ctx.now.0) {
                    return Err(Refusal::ContractNotActive(contract.to_string()).into());
                }
                let event = ContractEnded {
                    contract: contract.clone(),
                    by,
                    reason: reason.clone(),
                };
                self.update(ctx, &stream, loaded.expected(), event.into())
                    .await
            }
        }
    }

    async fn register(
        &self,
        ctx: &Context,
        user: &UserId,
        handle: &crate::Handle,
        kind: AccountKind,
        display_name: &str,
        brand_name: Option<String>,
    ) -> Step {
        // A member account is opened by the newcomer (signed out); a brand account by an
        // admin, who may be a signed-in member (checked by the caller of this).
        if kind == AccountKind::Member && matches!(ctx.caller, Caller::User(_)) {
            return Err(Refusal::Forbidden("anonymous or admin").into());
        }
        let account = self.load::<UserState>(&streams::user(user))?;
        if account.state.kind.is_some() {
            // A repeat of this very command is answered with what it wrote.
            return match self.log.find_event(&event_id(ctx, 1, 0))? {
                Some(done) => Ok(Ok(Executed {
                    position: done.record.position,
                    deduplicated: true,
                })),
                None => Err(conflict_or(ctx, Refusal::AlreadyRegistered).into()),
            };
        }
        let handle_stream = self.keys.handle_stream(handle);
        let reservation = HandleReserved { user: user.clone() };
        if let Err(Retry) = self
            .write(
                ctx,
                0,
                &handle_stream,
                ExpectedVersion::NoStream,
                vec![reservation.into()],
            )
            .await?
        {
            let holder = self.load::<HandleState>(&handle_stream)?.state.owner;
            if holder.as_ref() != Some(user) {
                return Err(Refusal::HandleTaken.into());
            }
        }
        let event = UserRegistered {
            user: user.clone(),
            kind,
            handle: self.keys.seal(user, handle.as_str())?,
            display_name: self.keys.seal(user, display_name)?,
            brand_name,
        };
        match self
            .write(
                ctx,
                1,
                &streams::user(user),
                ExpectedVersion::NoStream,
                vec![event.into()],
            )
            .await?
        {
            Ok(done) => Ok(Ok(done.into())),
            Err(Retry) => Err(conflict_or(ctx, Refusal::AlreadyRegistered).into()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn publish(
        &self,
        ctx: &Context,
        post: &PostId,
        caption: &str,
        media: &[MediaInput],
        interests: &[InterestSlug],
        tags: &[TagInput],
        contract: Option<&ContractId>,
    ) -> Step {
        let (author, state) = self.caller(ctx)?;
        if state.kind == Some(AccountKind::Brand) {
            return Err(Refusal::BrandsCannotPost.into());
        }
        if !state.prime {
            return Err(Refusal::NotPrime.into());
        }
        chars("caption", caption, 0, 2200)?;
        self.known_interests("interests", interests, 3)?;
        if tags.len() > 20 {
            return Err(Refusal::validation("tags", "a post has at most 20 tags").into());
        }
        let mut checked = Vec::with_capacity(tags.len());
        for tag in tags {
            let tag = self.check_tag(tag, media.len().min(10))?;
            if checked
                .iter()
                .any(|t: &Tag| t.asin == tag.asin && t.media_index == tag.media_index)
            {
                return Err(
                    Refusal::validation("tags", "a product is tagged twice on one medium").into(),
                );
            }
            checked.push(tag);
        }
        // Held until the post is appended: the contract cannot end in between.
        let mut _contract_guard = None;
        let sponsorship = match contract {
            None => None,
            Some(id) => {
                let stream = streams::contract(id);
                _contract_guard = Some(self.read_lock(&stream).await);
                let loaded = self.load::<ContractState>(&stream)?;
                let Some(opened) = &loaded.state.opened else {
                    return Err(Refusal::UnknownContract(id.to_string()).into());
                };
                if opened.enthusiast != author {
                    return Err(Refusal::NotPartyToContract(id.to_string()).into());
                }
                if !loaded.state.is_active(ctx.now.0) {
                    return Err(Refusal::ContractNotActive(id.to_string()).into());
                }
                Some(Disclosure {
                    contract: id.clone(),
                    brand: opened.brand.clone(),
                    brand_name: opened.brand_name.clone(),
                })
            }
        };
        let event = PostPublished {
            post: post.clone(),
            author: author.clone(),
            caption: self.keys.seal(&author, caption)?,
            media: self.seal_media(&author, media)?,
            interests: interests.to_vec(),
            tags: checked,
            sponsorship,
        };
        self.create(
            ctx,
            &streams::post(post),
            event.into(),
            // The id came from the client's key, if any: taken means reused.
            conflict_or(
                ctx,
                Refusal::validation("post", "a post with this id exists"),
            ),
        )
        .await
    }

    async fn buy(
        &self,
        ctx: &Context,
        post: &PostId,
        asin: &crate::Asin,
        quantity: u8,
        idempotency_key: &str,
        gift: bool,
    ) -> Step {
        let (buyer, _) = self.prime_member(ctx)?;
        if !(1..=10).contains(&quantity) {
            return Err(Refusal::validation("quantity", "expected 1 to 10").into());
        }
        chars("idempotencyKey", idempotency_key, 1, 100)?;
        let order = order_id(&buyer, idempotency_key);
        let order_stream = streams::order(&order);
        let existing = self.load::<OrderState>(&order_stream)?;
        if let Some(placed) = &existing.state.placed {
            let same = placed.post == *post
                && placed.asin == *asin
                && placed.quantity == quantity
                && placed.gift == gift;
            if !same {
                return Err(Refusal::IdempotencyConflict.into());
            }
            let position = existing
                .last_position
                .unwrap_or_else(|| unreachable!("a placed order has a position"));
            return Ok(Ok(Executed {
                position,
                deduplicated: true,
            }));
        }
        let target = self.live_post(post)?;
        if !target.state.tags.iter().any(|t| t.asin == *asin) {
            return Err(Refusal::NotTagged(asin.to_string()).into());
        }
        let author = target
            .state
            .author
            .clone()
            .unwrap_or_else(|| unreachable!("live posts have authors"));

        // Held until the order is appended: the price cannot change in between.
        let product_stream = streams::product(asin);
        let _price_guard = self.read_lock(&product_stream).await;
        let Some(unit_price) = self
            .load::<ProductState>(&product_stream)?
            .state
            .available_price()
        else {
            return Err(Refusal::UnknownProduct(asin.to_string()).into());
        };
        // Prices are capped (`Money::MAX_PRICE_CENTS`), but a price listed before the cap
        // is in the log too: saturate rather than overflow.
        let total = Money::new(
            unit_price.cents.saturating_mul(u64::from(quantity)),
            unit_price.currency,
        );

        let mut _contract_guard = None;
        let commission = match &target.state.sponsorship {
            Some(disclosure) => {
                let stream = streams::contract(&disclosure.contract);
                _contract_guard = Some(self.read_lock(&stream).await);
                let contract = self.load::<ContractState>(&stream)?.state;
                match (&contract.opened, contract.is_active(ctx.now.0)) {
                    (Some(opened), true) => opened.commission_bp.map(|rate_bp| Commission {
                        to: author.clone(),
                        rate_bp,
                        amount: percent_of(total, rate_bp),
                        contract: Some(disclosure.contract.clone()),
                    }),
                    _ => None,
                }
            }
            None => {
                let author_state = self.load::<UserState>(&streams::user(&author))?.state;
                author_state
                    .roles
                    .contains(&Role::Enthusiast)
                    .then(|| Commission {
                        to: author.clone(),
                        rate_bp: ASSOCIATE_RATE_BP,
                        amount: percent_of(total, ASSOCIATE_RATE_BP),
                        contract: None,
                    })
            }
        };
        let event = OrderPlaced {
            order,
            buyer,
            post: post.clone(),
            author,
            asin: asin.clone(),
            quantity,
            unit_price,
            total,
            gift,
            commission,
        };
        // A concurrent buy with the same key lost the race: the retry finds it placed.
        self.update(ctx, &order_stream, ExpectedVersion::NoStream, event.into())
            .await
    }
}

/// What a command that finds its creation taken is refused with: `IDEMPOTENCY_CONFLICT`
/// when its id came from the client's key (the key was used for another request), else
/// `otherwise`. Only for creations whose id derives from the key (post, comment,
/// contract, account), never for ids the arguments name (an interest's slug, an ASIN).
fn conflict_or(ctx: &Context, otherwise: Refusal) -> Refusal {
    if ctx.from_client_key {
        Refusal::IdempotencyConflict
    } else {
        otherwise
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

fn actor_id(text: &str) -> ActorId {
    ActorId::parse(text)
        .unwrap_or_else(|_| ActorId::parse("system").unwrap_or_else(|_| unreachable!("literal")))
}
