//! The mutations: each one domain command, executed for the token's user, answered once
//! the projections have applied it.
//!
//! Invariant: a command runs to its end even if the client goes away (it is spawned), so a
//! command that writes to several streams is never cut in half by a dropped connection.
//! Invariant: who the caller is (and, where the rules need one, their role) is settled
//! before any argument is parsed: an anonymous caller reaches no parser of a signed-in
//! operation.
//! Invariant: every mutation takes an optional `idempotencyKey` (`buy` a required one): a
//! retry with the same key and arguments answers the first result and writes nothing, and
//! what it creates (post, comment, contract, account) has an id derived from the key.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use sparkfeed_domain::events::{
    AccountKind, DomainEvent, MediaKind as DomainMediaKind, ShareChannel as DomainChannel,
};
use sparkfeed_domain::{
    Asin, Caller, ClientKey, Command, CommentId, ContractId, Currency, DerivedId, Executed, Handle,
    MediaInput as DomainMedia, Money as DomainMoney, PostId, Refusal, Role as DomainRole,
    TagInput as DomainTag, UserId,
};
use sparkfeed_projections::read;
use sparkfeed_projections::rows::OrderRow;

use crate::auth::DEFAULT_TOKEN_TTL;
use crate::error::{ApiError, ApiResult};
use crate::query::{interest_slug, post_id};
use crate::rate::ClientAddr;
use crate::types::*;

/// Who sends a mutation, settled before its arguments are read, and the client's key.
struct Sender {
    caller: Caller,
    key: Option<ClientKey>,
}

impl Sender {
    /// Anyone (registration), with an optional key.
    fn anyone(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        throttle(ctx, None)?;
        Self::keyed(Caller::Anonymous, operation, key)
    }

    /// The signed-in member, or `UNAUTHENTICATED`.
    fn member(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let user = signed_in(ctx)?.clone();
        throttle(ctx, Some(&user))?;
        Self::keyed(Caller::User(user), operation, key)
    }

    /// A signed-in Prime member, or `UNAUTHENTICATED` / `NOT_PRIME` (`BRANDS_CANNOT_POST`
    /// for a brand that publishes). The rules check it again; this only spares the parsers.
    fn prime(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let user = signed_in(ctx)?;
        throttle(ctx, Some(user))?;
        let account = api(ctx).domain.account(user)?;
        match account {
            Some(a) if a.kind == Some(AccountKind::Member) && a.prime => {}
            Some(a) if a.kind == Some(AccountKind::Brand) && operation == "publishPost" => {
                return Err(Refusal::BrandsCannotPost.into());
            }
            _ => return Err(Refusal::NotPrime.into()),
        }
        Self::keyed(Caller::User(user.clone()), operation, key)
    }

    /// A signed-in admin, or `UNAUTHENTICATED` / `FORBIDDEN`.
    fn admin(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let user = signed_in(ctx)?.clone();
        throttle(ctx, Some(&user))?;
        with_role(ctx, &[DomainRole::Admin])?;
        Self::keyed(Caller::User(user), operation, key)
    }

    /// A signed-in brand account, or `UNAUTHENTICATED` / `FORBIDDEN`.
    fn brand(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let user = signed_in(ctx)?;
        throttle(ctx, Some(user))?;
        let account = api(ctx).domain.account(user)?;
        if account.and_then(|a| a.kind) != Some(AccountKind::Brand) {
            return Err(ApiError::Forbidden("this needs a brand account".into()));
        }
        Self::keyed(Caller::User(user.clone()), operation, key)
    }

    fn keyed(caller: Caller, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let key = key
            .map(|k| ClientKey::new(operation, &caller, k))
            .transpose()?;
        Ok(Self { caller, key })
    }

    /// The id of what this mutation creates: derived from the key, or fresh.
    fn new_id<T: DerivedId>(&self, generate: fn() -> T) -> T {
        self.key.as_ref().map_or_else(generate, ClientKey::derive)
    }

    /// The signed-in user (for mutations that answer with the viewer).
    fn user(&self) -> Option<&UserId> {
        match &self.caller {
            Caller::User(user) => Some(user),
            _ => None,
        }
    }
}

/// Takes one mutation's token from the caller's address and member buckets, or refuses with
/// `RATE_LIMITED` and sets `Retry-After` (whole seconds, at least 1) on the answer.
fn throttle(ctx: &Context<'_>, member: Option<&UserId>) -> ApiResult<()> {
    let address = ctx.data_opt::<ClientAddr>().map(|a| a.0);
    let Err(wait) = api(ctx).rates.take(member, address) else {
        return Ok(());
    };
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    ctx.insert_http_header(axum::http::header::RETRY_AFTER, seconds.to_string());
    Err(ApiError::TooMany {
        code: "RATE_LIMITED",
        reason: format!("too many mutations; retry after {seconds} s"),
    })
}

/// Carries out `command` for the sender and waits until every projection has applied it.
async fn run(ctx: &Context<'_>, sender: Sender, command: Command) -> ApiResult<Executed> {
    let api = Arc::clone(api(ctx));
    let domain = api.domain.clone();
    let writer = sender.user().cloned();
    let done = tokio::spawn(async move {
        let context = match &sender.key {
            Some(key) => domain.keyed_context(sender.caller, key, &command)?,
            None => sparkfeed_domain::Context::new(sender.caller),
        };
        domain.execute(&context, &command).await
    })
    .await
    .map_err(|_| ApiError::Internal { code: "INTERNAL" })??;
    if let Some(user) = &writer {
        api.responses.wrote(user, done.position);
    }
    // A written mutation keeps its answer a 200 even if a later field is rate-limited.
    ctx.insert_http_header(crate::http::WROTE_HEADER, "1");
    if let Err(e) = api
        .projections
        .wait_for(done.position, api.limits.read_your_writes)
        .await
    {
        // The write is durable; only the read-back may be stale. Say so in the log, and
        // answer: a retry would be wrong.
        tracing::warn!(position = done.position.0, error = %e, "projections lag behind a write");
    }
    Ok(done)
}

fn user_id(id: &ID) -> ApiResult<UserId> {
    UserId::parse(id).map_err(|e| ApiError::input("userId", e.to_string()))
}

fn asin(text: &str) -> ApiResult<Asin> {
    Asin::parse(text).map_err(|e| ApiError::input("asin", e.to_string()))
}

fn contract_id(id: &ID) -> ApiResult<ContractId> {
    ContractId::parse(id).map_err(|e| ApiError::input("contractId", e.to_string()))
}

fn interests(list: &[String]) -> ApiResult<Vec<sparkfeed_domain::InterestSlug>> {
    list.iter().map(|i| interest_slug(i)).collect()
}

/// The card of `post` as it is now, bypassing the request's loader cache (a mutation
/// changes what an earlier field of the same request may have loaded).
fn fresh_post(ctx: &Context<'_>, post: &PostId) -> ApiResult<Option<Post>> {
    Ok(read::post_card(&feeds_tree(ctx)?, post)?.map(|c| Post(Arc::new(c))))
}

fn fresh_user(ctx: &Context<'_>, user: &UserId) -> ApiResult<Option<User>> {
    Ok(read::member(&feeds_tree(ctx)?, user)?.map(|m| User(Arc::new(m))))
}

fn fresh_product(ctx: &Context<'_>, asin: &Asin) -> ApiResult<Option<Product>> {
    Ok(read::product(&feeds_tree(ctx)?, asin)?.map(|p| Product(Arc::new(p))))
}

/// An amount of money as submitted.
#[derive(InputObject)]
struct MoneyInput {
    /// In the currency's minor unit (cents).
    cents: u64,
    /// ISO 4217 code.
    #[graphql(default = "USD")]
    currency: String,
}

impl MoneyInput {
    fn parse(&self, field: &'static str) -> ApiResult<DomainMoney> {
        let currency =
            Currency::parse(&self.currency).map_err(|e| ApiError::input(field, e.to_string()))?;
        Ok(DomainMoney::new(self.cents, currency))
    }
}

/// Image or video.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "MediaKindInput")]
enum MediaKindInput {
    /// A photo.
    Image,
    /// A video.
    Video,
}

/// A medium of a new post.
#[derive(InputObject)]
struct MediaInput {
    /// Image or video.
    #[graphql(default_with = "MediaKindInput::Image")]
    kind: MediaKindInput,
    /// An http(s) URL.
    url: String,
    /// Pixels, at least 1.
    width: u32,
    /// Pixels, at least 1.
    height: u32,
    /// Alternative text, up to 500 characters.
    #[graphql(default)]
    alt: String,
}

/// A product tag at a point of a medium.
#[derive(InputObject)]
struct TagInput {
    /// The product's ASIN.
    asin: String,
    /// Which medium (0-based).
    #[graphql(default)]
    media_index: u8,
    /// Horizontal position in [0, 1].
    x: f32,
    /// Vertical position in [0, 1].
    y: f32,
}

impl TagInput {
    fn parse(&self) -> ApiResult<DomainTag> {
        Ok(DomainTag {
            asin: asin(&self.asin)?,
            media_index: self.media_index,
            x: self.x,
            y: self.y,
        })
    }
}

/// A new post.
#[derive(InputObject)]
struct PublishPostInput {
    /// Up to 2,200 characters.
    #[graphql(default)]
    caption: String,
    /// 1 to 10 media.
    media: Vec<MediaInput>,
    /// 1 to 3 interest slugs.
    interests: Vec<String>,
    /// Up to 20 product tags.
    #[graphql(default)]
    tags: Vec<TagInput>,
    /// The active sponsorship contract of a sponsored post: it will carry "Paid
    /// partnership with <brand>" in every view.
    contract_id: Option<ID>,
    /// The client's key (1 to 100 characters): a retry with the same key and input is
    /// answered with the same post and writes nothing; the same key with another input is
    /// refused with `IDEMPOTENCY_CONFLICT`.
    idempotency_key: Option<String>,
}

/// A one-click buy.
#[derive(InputObject)]
struct BuyInput {
    /// The post bought through.
    post_id: ID,
    /// The product, tagged in the post.
    asin: String,
    /// 1 to 10.
    #[graphql(default = 1)]
    quantity: u8,
    /// The client's key: a retried buy with the same key is the same order.
    idempotency_key: String,
    /// A gift does not steer the buyer's own feed.
    #[graphql(default)]
    gift: bool,
}

/// A sponsorship contract a brand offers an enthusiast.
#[derive(InputObject)]
struct CreateSponsorshipInput {
    /// The enthusiast's user id.
    enthusiast_id: ID,
    /// A flat fee.
    flat_fee: Option<MoneyInput>,
    /// A commission rate in basis points of each order's total (at most 5,000).
    commission_bp: Option<u32>,
    /// Start (RFC 3339).
    starts_at: String,
    /// End, exclusive (RFC 3339).
    ends_at: String,
    /// The client's key (1 to 100 characters): a retry with the same key and input is
    /// answered with the same contract and writes nothing; the same key with another input
    /// is refused with `IDEMPOTENCY_CONFLICT`.
    idempotency_key: Option<String>,
}

/// A product to list.
#[derive(InputObject)]
struct ListProductInput {
    /// Its ASIN (10 uppercase letters or digits).
    asin: String,
    /// Its title (1 to 200 characters).
    title: String,
    /// Its price.
    price: MoneyInput,
    /// Its image (http(s) URL).
    image_url: String,
    /// 1 to 3 interest slugs.
    interests: Vec<String>,
    /// Used up and bought again (coffee, vitamins).
    #[graphql(default)]
    consumable: bool,
    /// The client's key (1 to 100 characters): a retry with the same key and input writes
    /// nothing and answers the first result.
    idempotency_key: Option<String>,
}

/// Where a post is shared to.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
enum ShareChannel {
    /// A copied link.
    Link,
    /// A direct message.
    Message,
    /// Email.
    Email,
    /// Another social network.
    Social,
}

/// What `registerUser` did.
#[derive(SimpleObject)]
struct RegisterPayload {
    /// The new account.
    user: Option<User>,
    /// A bearer token for it: send `Authorization: Bearer <token>`.
    token: String,
    /// The log position written.
    position: u64,
}

/// A mutation on an account.
#[derive(SimpleObject)]
struct UserPayload {
    /// The account as it is now.
    user: Option<User>,
    /// The log position written.
    position: u64,
}

/// A mutation on a post.
#[derive(SimpleObject)]
struct PostPayload {
    /// The post as it is now (`null` once removed, except to its author and moderators).
    post: Option<Post>,
    /// The log position written.
    position: u64,
}

/// A new comment.
#[derive(SimpleObject)]
struct CommentPayload {
    /// The comment.
    comment: Option<Comment>,
    /// The log position written.
    position: u64,
}

/// A mutation that answers with its position only.
#[derive(SimpleObject)]
struct PositionPayload {
    /// The log position written.
    position: u64,
}

/// A one-click order.
#[derive(SimpleObject)]
struct BuyPayload {
    /// The order (the original one when the idempotency key was used before).
    order: Order,
    /// True when this key was used before and nothing new was written.
    deduplicated: bool,
    /// The log position of the order.
    position: u64,
}

/// A sponsorship contract.
#[derive(SimpleObject)]
struct SponsorshipPayload {
    /// The contract's id: the `contractId` of sponsored posts.
    contract_id: ID,
    /// The log position written.
    position: u64,
}

/// A catalog change of an interest.
#[derive(SimpleObject)]
struct InterestPayload {
    /// The interest's slug.
    slug: String,
    /// The log position written.
    position: u64,
}

/// A catalog change of a product.
#[derive(SimpleObject)]
struct ProductPayload {
    /// The product as it is now.
    product: Option<Product>,
    /// The log position written.
    position: u64,
}

fn post_payload(ctx: &Context<'_>, post: &PostId, done: Executed) -> ApiResult<PostPayload> {
    let post = fresh_post(ctx, post)?.filter(|p| !p.0.body.removed || may_see_removed(ctx, &p.0));
    Ok(PostPayload {
        post,
        position: done.position.0,
    })
}

fn user_payload(ctx: &Context<'_>, user: &UserId, done: Executed) -> ApiResult<UserPayload> {
    Ok(UserPayload {
        user: fresh_user(ctx, user)?,
        position: done.position.0,
    })
}

/// A Prime member's smile, unsmile, save or unsave of `post_id`: one shape, four commands.
async fn engage(
    ctx: &Context<'_>,
    operation: &str,
    idempotency_key: Option<String>,
    post_id: &ID,
    command: fn(PostId) -> Command,
) -> Gql<PostPayload> {
    let sender = Sender::prime(ctx, operation, idempotency_key.as_deref())?;
    let post = self::post_id(post_id)?;
    let done = run(ctx, sender, command(post.clone())).await?;
    Ok(post_payload(ctx, &post, done)?)
}

/// Every action sparkfeed accepts.
pub struct Mutation;

/// Every action sparkfeed accepts.
///
/// Retries: every mutation takes an optional `idempotencyKey` (`buy` a required one), 1 to
/// 100 characters, at least 16 when signed out (`registerUser`: use a fresh UUID). A retry
/// with the same key and arguments, by the same caller, is answered with the first result
/// and writes nothing, even after a `503` or a dropped connection. The same key with other
/// arguments is refused with `IDEMPOTENCY_CONFLICT` where it would create something else
/// (a post, comment, contract, account or order) and is otherwise a new request.
#[Object]
impl Mutation {
    /// Registers a member account under a unique handle; answers with a token for it.
    async fn register_user(
        &self,
        ctx: &Context<'_>,
        handle: String,
        display_name: String,
        idempotency_key: Option<String>,
    ) -> Gql<RegisterPayload> {
        let sender = Sender::anyone(ctx, "registerUser", idempotency_key.as_deref())?;
        let handle =
            Handle::parse(&handle).map_err(|e| ApiError::input("handle", e.to_string()))?;
        let user = sender.new_id(UserId::generate);
        let done = run(
            ctx,
            sender,
            Command::RegisterMember {
                user: user.clone(),
                handle,
                display_name,
            },
        )
        .await?;
        Ok(RegisterPayload {
            token: api(ctx).tokens.mint(&user, DEFAULT_TOKEN_TTL),
            user: fresh_user(ctx, &user)?,
            position: done.position.0,
        })
    }

    /// Registers a brand account (admins). Brands sponsor enthusiasts; they never post.
    async fn register_brand(
        &self,
        ctx: &Context<'_>,
        handle: String,
        brand_name: String,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let sender = Sender::admin(ctx, "registerBrand", idempotency_key.as_deref())?;
        let handle =
            Handle::parse(&handle).map_err(|e| ApiError::input("handle", e.to_string()))?;
        let user = sender.new_id(UserId::generate);
        let done = run(
            ctx,
            sender,
            Command::RegisterBrand {
                user: user.clone(),
                handle,
                brand_name,
            },
        )
        .await?;
        Ok(user_payload(ctx, &user, done)?)
    }

    /// Chooses 1 to 5 interests for the signed-in member (replacing the previous choice).
    async fn choose_interests(
        &self,
        ctx: &Context<'_>,
        interests: Vec<String>,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let sender = Sender::member(ctx, "chooseInterests", idempotency_key.as_deref())?;
        let interests = self::interests(&interests)?;
        let done = run(ctx, sender, Command::ChooseInterests { interests }).await?;
        Ok(user_payload(ctx, signed_in(ctx)?, done)?)
    }

    /// Records that a member's Prime membership started (admins).
    async fn start_prime(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let sender = Sender::admin(ctx, "startPrime", idempotency_key.as_deref())?;
        let user = self::user_id(&user_id)?;
        let done = run(ctx, sender, Command::StartPrime { user: user.clone() }).await?;
        Ok(user_payload(ctx, &user, done)?)
    }

    /// Records that a member's Prime membership ended (admins).
    async fn end_prime(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let sender = Sender::admin(ctx, "endPrime", idempotency_key.as_deref())?;
        let user = self::user_id(&user_id)?;
        let done = run(ctx, sender, Command::EndPrime { user: user.clone() }).await?;
        Ok(user_payload(ctx, &user, done)?)
    }

    /// Grants a role (admins).
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let sender = Sender::admin(ctx, "grantRole", idempotency_key.as_deref())?;
        let user = self::user_id(&user_id)?;
        let role = role.into();
        let done = run(
            ctx,
            sender,
            Command::GrantRole {
                user: user.clone(),
                role,
            },
        )
        .await?;
        Ok(user_payload(ctx, &user, done)?)
    }

    /// Revokes a role (admins).
    async fn revoke_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let sender = Sender::admin(ctx, "revokeRole", idempotency_key.as_deref())?;
        let user = self::user_id(&user_id)?;
        let role = role.into();
        let done = run(
            ctx,
            sender,
            Command::RevokeRole {
                user: user.clone(),
                role,
            },
        )
        .await?;
        Ok(user_payload(ctx, &user, done)?)
    }

    /// Adds an interest to the catalog (admins).
    async fn add_interest(
        &self,
        ctx: &Context<'_>,
        slug: String,
        name: String,
        rebuy_window_days: Option<u32>,
        idempotency_key: Option<String>,
    ) -> Gql<InterestPayload> {
        let sender = Sender::admin(ctx, "addInterest", idempotency_key.as_deref())?;
        let interest = interest_slug(&slug)?;
        let done = run(
            ctx,
            sender,
            Command::AddInterest {
                interest: interest.clone(),
                name,
                rebuy_window_days,
            },
        )
        .await?;
        Ok(InterestPayload {
            slug: interest.to_string(),
            position: done.position.0,
        })
    }

    /// Lists a product (admins).
    async fn list_product(
        &self,
        ctx: &Context<'_>,
        input: ListProductInput,
    ) -> Gql<ProductPayload> {
        let sender = Sender::admin(ctx, "listProduct", input.idempotency_key.as_deref())?;
        let asin = self::asin(&input.asin)?;
        let command = Command::ListProduct {
            asin: asin.clone(),
            title: input.title,
            price: input.price.parse("price")?,
            image_url: input.image_url,
            interests: interests(&input.interests)?,
            consumable: input.consumable,
        };
        let done = run(ctx, sender, command).await?;
        Ok(ProductPayload {
            product: fresh_product(ctx, &asin)?,
            position: done.position.0,
        })
    }

    /// Changes a product's price (admins). Buys after it pay the new price.
    async fn reprice_product(
        &self,
        ctx: &Context<'_>,
        asin: String,
        price: MoneyInput,
        idempotency_key: Option<String>,
    ) -> Gql<ProductPayload> {
        let sender = Sender::admin(ctx, "repriceProduct", idempotency_key.as_deref())?;
        let asin = self::asin(&asin)?;
        let price = price.parse("price")?;
        let done = run(
            ctx,
            sender,
            Command::RepriceProduct {
                asin: asin.clone(),
                price,
            },
        )
        .await?;
        Ok(ProductPayload {
            product: fresh_product(ctx, &asin)?,
            position: done.position.0,
        })
    }

    /// Takes a product out of the catalog (admins).
    async fn delist_product(
        &self,
        ctx: &Context<'_>,
        asin: String,
        idempotency_key: Option<String>,
    ) -> Gql<ProductPayload> {
        let sender = Sender::admin(ctx, "delistProduct", idempotency_key.as_deref())?;
        let asin = self::asin(&asin)?;
        let done = run(ctx, sender, Command::DelistProduct { asin: asin.clone() }).await?;
        Ok(ProductPayload {
            product: fresh_product(ctx, &asin)?,
            position: done.position.0,
        })
    }

    /// Publishes a post (Prime members; brands cannot post).
    async fn publish_post(&self, ctx: &Context<'_>, input: PublishPostInput) -> Gql<PostPayload> {
        let sender = Sender::prime(ctx, "publishPost", input.idempotency_key.as_deref())?;
        let post = sender.new_id(PostId::generate);
        let media = input
            .media
            .into_iter()
            .map(|m| DomainMedia {
                kind: match m.kind {
                    MediaKindInput::Image => DomainMediaKind::Image,
                    MediaKindInput::Video => DomainMediaKind::Video,
                },
                url: m.url,
                width: m.width,
                height: m.height,
                alt: m.alt,
            })
            .collect();
        let tags = input
            .tags
            .iter()
            .map(TagInput::parse)
            .collect::<ApiResult<Vec<_>>>()?;
        let contract = input.contract_id.as_ref().map(contract_id).transpose()?;
        let command = Command::PublishPost {
            post: post.clone(),
            caption: input.caption,
            media,
            interests: interests(&input.interests)?,
            tags,
            contract,
        };
        let done = run(ctx, sender, command).await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Edits a post's caption (its author).
    async fn edit_caption(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        caption: String,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        let sender = Sender::member(ctx, "editCaption", idempotency_key.as_deref())?;
        let post = self::post_id(&post_id)?;
        let done = run(
            ctx,
            sender,
            Command::EditCaption {
                post: post.clone(),
                caption,
            },
        )
        .await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Tags a product in a post (its author).
    async fn tag_product(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        tag: TagInput,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        let sender = Sender::member(ctx, "tagProduct", idempotency_key.as_deref())?;
        let post = self::post_id(&post_id)?;
        let tag = tag.parse()?;
        let done = run(
            ctx,
            sender,
            Command::TagProduct {
                post: post.clone(),
                tag,
            },
        )
        .await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Untags a product from a medium of a post (its author).
    async fn untag_product(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        asin: String,
        #[graphql(default)] media_index: u8,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        let sender = Sender::member(ctx, "untagProduct", idempotency_key.as_deref())?;
        let post = self::post_id(&post_id)?;
        let asin = self::asin(&asin)?;
        let done = run(
            ctx,
            sender,
            Command::UntagProduct {
                post: post.clone(),
                asin,
                media_index,
            },
        )
        .await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Removes a post (its author or a moderator): it leaves every feed and stays in the
    /// log and the audit trail.
    async fn remove_post(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        reason: String,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        let sender = Sender::member(ctx, "removePost", idempotency_key.as_deref())?;
        let post = self::post_id(&post_id)?;
        let done = run(
            ctx,
            sender,
            Command::RemovePost {
                post: post.clone(),
                reason,
            },
        )
        .await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Smiles at a post (once per member).
    async fn smile(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        engage(ctx, "smile", idempotency_key, &post_id, |post| {
            Command::Smile { post }
        })
        .await
    }

    /// Takes a smile back.
    async fn unsmile(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        engage(ctx, "unsmile", idempotency_key, &post_id, |post| {
            Command::Unsmile { post }
        })
        .await
    }

    /// Saves a post (once per member).
    async fn save_post(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        engage(ctx, "savePost", idempotency_key, &post_id, |post| {
            Command::SavePost { post }
        })
        .await
    }

    /// Unsaves a post.
    async fn unsave_post(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        engage(ctx, "unsavePost", idempotency_key, &post_id, |post| {
            Command::UnsavePost { post }
        })
        .await
    }

    /// Shares a post.
    async fn share_post(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        #[graphql(default_with = "ShareChannel::Link")] channel: ShareChannel,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        let sender = Sender::prime(ctx, "sharePost", idempotency_key.as_deref())?;
        let post = self::post_id(&post_id)?;
        let channel = match channel {
            ShareChannel::Link => DomainChannel::Link,
            ShareChannel::Message => DomainChannel::Message,
            ShareChannel::Email => DomainChannel::Email,
            ShareChannel::Social => DomainChannel::Social,
        };
        let done = run(
            ctx,
            sender,
            Command::SharePost {
                post: post.clone(),
                channel,
            },
        )
        .await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Comments on a post (Prime members, up to 1,000 characters).
    async fn comment(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        text: String,
        idempotency_key: Option<String>,
    ) -> Gql<CommentPayload> {
        let sender = Sender::prime(ctx, "comment", idempotency_key.as_deref())?;
        let post = self::post_id(&post_id)?;
        let comment = sender.new_id(CommentId::generate);
        let done = run(
            ctx,
            sender,
            Command::Comment {
                comment: comment.clone(),
                post,
                text,
            },
        )
        .await?;
        Ok(CommentPayload {
            comment: read::comment(&feeds_tree(ctx)?, &comment)?.map(Comment),
            position: done.position.0,
        })
    }

    /// Removes a comment (its author, the post's author or a moderator).
    async fn remove_comment(
        &self,
        ctx: &Context<'_>,
        comment_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<PositionPayload> {
        let sender = Sender::member(ctx, "removeComment", idempotency_key.as_deref())?;
        let comment = CommentId::parse(&comment_id)
            .map_err(|e| ApiError::input("commentId", e.to_string()))?;
        let done = run(ctx, sender, Command::RemoveComment { comment }).await?;
        Ok(PositionPayload {
            position: done.position.0,
        })
    }

    /// Buys a product tagged in a post, in one click, at the catalog price of the moment.
    /// Retrying with the same idempotency key answers the same order and writes nothing.
    async fn buy(&self, ctx: &Context<'_>, input: BuyInput) -> Gql<BuyPayload> {
        // The order's own key: the domain finds the order it names (see `order_id`).
        let sender = Sender::prime(ctx, "buy", None)?;
        let command = Command::Buy {
            post: post_id(&input.post_id)?,
            asin: asin(&input.asin)?,
            quantity: input.quantity,
            idempotency_key: input.idempotency_key,
            gift: input.gift,
        };
        let done = run(ctx, sender, command).await?;
        let order = order_at(ctx, done)?;
        Ok(BuyPayload {
            order,
            deduplicated: done.deduplicated,
            position: done.position.0,
        })
    }

    /// A brand offers an enthusiast a sponsorship contract (flat fee and/or commission).
    async fn create_sponsorship(
        &self,
        ctx: &Context<'_>,
        input: CreateSponsorshipInput,
    ) -> Gql<SponsorshipPayload> {
        let sender = Sender::brand(ctx, "createSponsorship", input.idempotency_key.as_deref())?;
        let when = |field: &'static str, text: &str| {
            crate::time::parse(text)
                .ok_or_else(|| ApiError::input(field, "expected an RFC 3339 timestamp"))
        };
        let contract = sender.new_id(ContractId::generate);
        let command = Command::OpenContract {
            contract: contract.clone(),
            enthusiast: user_id(&input.enthusiast_id)?,
            flat_fee: input
                .flat_fee
                .as_ref()
                .map(|m| m.parse("flatFee"))
                .transpose()?,
            commission_bp: input.commission_bp,
            starts_at: when("startsAt", &input.starts_at)?,
            ends_at: when("endsAt", &input.ends_at)?,
        };
        let done = run(ctx, sender, command).await?;
        Ok(SponsorshipPayload {
            contract_id: ID(contract.to_string()),
            position: done.position.0,
        })
    }

    /// Ends a sponsorship contract early (its brand or an admin). Posts published under
    /// it keep their disclosure.
    async fn end_sponsorship(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        reason: String,
        idempotency_key: Option<String>,
    ) -> Gql<SponsorshipPayload> {
        let sender = Sender::member(ctx, "endSponsorship", idempotency_key.as_deref())?;
        let contract = self::contract_id(&contract_id)?;
        let done = run(
            ctx,
            sender,
            Command::EndContract {
                contract: contract.clone(),
                reason,
            },
        )
        .await?;
        Ok(SponsorshipPayload {
            contract_id: ID(contract.to_string()),
            position: done.position.0,
        })
    }
}

/// The order written at `done.position` (the `OrderPlaced` event, read from the log).
fn order_at(ctx: &Context<'_>, done: Executed) -> ApiResult<Order> {
    let api = api(ctx);
    let stored = api
        .domain
        .log()
        .read_event(done.position)?
        .ok_or(ApiError::Internal { code: "INTERNAL" })?;
    match api.domain.decode(&stored) {
        Ok(DomainEvent::OrderPlaced(e)) => Ok(Order(OrderRow {
            order: e.order,
            post: e.post,
            asin: e.asin,
            quantity: e.quantity,
            total: e.total,
            gift: e.gift,
            position: done.position,
        })),
        _ => Err(ApiError::Internal { code: "INTERNAL" }),
    }
}
