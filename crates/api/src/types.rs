//! The GraphQL object types, each over a read-model row, and the helpers every resolver
//! uses: the caller, paging arguments, cursors.
//!
//! Every object type here is `serial`: its fields are synchronous reads from the request's
//! snapshot, so resolving them one after another gives the same answer as resolving them
//! concurrently, without a `FuturesUnordered` (and a task allocation per field) per object,
//! which cost about a tenth of a feed page's CPU.

use std::sync::Arc;

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{ComplexObject, Context, Enum, ID, Json, Object, OutputType, SimpleObject};
use sparkfeed_domain::events::{AccountKind as DomainAccountKind, MediaKind as DomainMediaKind};
use sparkfeed_domain::{Asin, Money as DomainMoney, PostId, Role as DomainRole, Sealed, UserId};
use sparkfeed_events::{Position, RecordedEvent};
use sparkfeed_projections::read;
use sparkfeed_projections::rows::{
    AuditEntry as AuditRow, CommentRow, InterestRow, MemberRow, OrderRow, PostCardRow, ProductRow,
};

use crate::Api;
use crate::auth::Identity;
use crate::error::{ApiError, ApiResult};
use crate::loaders::Reads;

/// The result type of resolvers.
pub(crate) type Gql<T> = async_graphql::Result<T>;

/// The shared state of the server.
pub(crate) fn api<'a>(ctx: &Context<'a>) -> &'a Arc<Api> {
    ctx.data_unchecked::<Arc<Api>>()
}

/// The signed-in user, if any.
pub(crate) fn viewer<'a>(ctx: &Context<'a>) -> Option<&'a UserId> {
    ctx.data_opt::<Identity>().and_then(|i| i.user.as_ref())
}

/// The signed-in user, or `UNAUTHENTICATED`.
pub(crate) fn signed_in<'a>(ctx: &Context<'a>) -> ApiResult<&'a UserId> {
    viewer(ctx).ok_or(ApiError::Unauthenticated)
}

/// The signed-in user holding one of `roles` (as the log has it now), or `FORBIDDEN`.
pub(crate) fn with_role<'a>(ctx: &Context<'a>, roles: &[DomainRole]) -> ApiResult<&'a UserId> {
    let user = signed_in(ctx)?;
    let account = api(ctx).domain.account(user)?;
    if account.is_some_and(|a| roles.iter().any(|r| a.roles.contains(r))) {
        Ok(user)
    } else {
        let names: Vec<String> = roles
            .iter()
            .map(|r| format!("{r:?}").to_lowercase())
            .collect();
        Err(ApiError::Forbidden(format!(
            "this needs the {} role",
            names.join(" or ")
        )))
    }
}

/// The request's reads of cards, members and products, each row read once.
pub(crate) fn reads<'a>(ctx: &Context<'a>) -> &'a Reads {
    ctx.data_unchecked::<Reads>()
}

pub(crate) fn feeds_tree(ctx: &Context<'_>) -> ApiResult<sparkfeed_projections::View> {
    reads(ctx).tree()
}

pub(crate) fn unseal(ctx: &Context<'_>, sealed: &Sealed) -> ApiResult<Option<String>> {
    api(ctx)
        .domain
        .keys()
        .unseal(sealed)
        .map_err(|f| ApiError::Internal { code: f.code() })
}

/// A cursor: the log position of the item it points at. Opaque to clients.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Cursor(pub Position);

impl CursorType for Cursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, String> {
        s.parse::<u64>()
            .map(|p| Cursor(Position(p)))
            .map_err(|_| format!("{s:?} is not a cursor of this list"))
    }

    fn encode_cursor(&self) -> String {
        self.0.0.to_string()
    }
}

/// Checked paging arguments.
pub(crate) struct Paging {
    pub first: usize,
    pub after: Option<Position>,
}

/// The default page size when `first` is not given.
pub(crate) const DEFAULT_PAGE: usize = 20;

/// Parses `first` (0 to `max`, refused above) and `after` (a cursor of this list).
pub(crate) fn paging(first: Option<i32>, after: Option<String>, max: usize) -> ApiResult<Paging> {
    let first = match first {
        None => DEFAULT_PAGE.min(max),
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| {
                ApiError::input(
                    "first",
                    format!("expected 0 to {max} items per page, got {n}"),
                )
            })?,
    };
    Ok(Paging {
        first,
        after: cursor(after)?,
    })
}

/// Parses an `after` cursor.
pub(crate) fn cursor(after: Option<String>) -> ApiResult<Option<Position>> {
    Ok(after
        .map(|a| Cursor::decode_cursor(&a).map_err(|e| ApiError::input("after", e)))
        .transpose()?
        .map(|c| c.0))
}

/// Checks a connection's `first` and `after` as every list does: the page size and the
/// position to page after, or a `BAD_USER_INPUT` refusal. Public for the fuzzers (`fuzz/`).
pub fn check_paging(
    first: Option<i32>,
    after: Option<String>,
    max: usize,
) -> ApiResult<(usize, Option<Position>)> {
    let p = paging(first, after, max)?;
    Ok((p.first, p.after))
}

/// The cursor a connection gives the item at `position`. Public for the fuzzers (`fuzz/`).
pub fn cursor_of(position: Position) -> String {
    Cursor(position).encode_cursor()
}

/// What a connection field costs: its page size times what each item selects.
pub(crate) fn page_cost(first: Option<i32>, child: usize) -> usize {
    let first = first
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_PAGE);
    first.max(1).saturating_mul(child).saturating_add(1)
}

/// A Relay connection of `items`, each with its cursor.
pub(crate) fn connection<T: OutputType>(
    items: Vec<(Position, T)>,
    has_previous: bool,
    has_next: bool,
) -> Connection<Cursor, T> {
    let mut c = Connection::new(has_previous, has_next);
    c.edges.extend(
        items
            .into_iter()
            .map(|(p, node)| Edge::new(Cursor(p), node)),
    );
    c
}

/// Loads the cards of `ids` in one batch, keeping the page's order and cursors.
pub(crate) async fn posts(
    ctx: &Context<'_>,
    ids: Vec<(Position, PostId)>,
) -> ApiResult<Vec<(Position, Post)>> {
    let reads = reads(ctx);
    let mut posts = Vec::with_capacity(ids.len());
    for (cursor, id) in ids {
        if let Some(card) = reads.card(&id)? {
            posts.push((cursor, Post(card)));
        }
    }
    Ok(posts)
}

/// Whether `viewer` may see a removed post: its author, moderators and auditors.
pub(crate) fn may_see_removed(ctx: &Context<'_>, card: &PostCardRow) -> bool {
    let Some(user) = viewer(ctx) else {
        return false;
    };
    *user == card.body.author
        || api(ctx)
            .domain
            .account(user)
            .ok()
            .flatten()
            .is_some_and(|a| {
                [
                    DomainRole::Moderator,
                    DomainRole::Auditor,
                    DomainRole::Admin,
                ]
                .iter()
                .any(|r| a.roles.contains(r))
            })
}

/// An amount of money.
#[derive(SimpleObject, Clone)]
#[graphql(serial)]
pub(crate) struct Money {
    /// The amount in the currency's minor unit (cents).
    pub cents: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// As shown to people: `19.99 USD`.
    pub formatted: String,
}

impl From<DomainMoney> for Money {
    fn from(m: DomainMoney) -> Self {
        Self {
            cents: m.cents,
            currency: m.currency.to_string(),
            formatted: m.to_string(),
        }
    }
}

/// Member or brand.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum AccountKind {
    /// A person.
    Member,
    /// A brand: sponsors enthusiasts, never posts.
    Brand,
}

/// What a member may do beyond the basics.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum Role {
    /// Posts as a product enthusiast; may be sponsored.
    Enthusiast,
    /// Removes posts and comments.
    Moderator,
    /// Reads the whole log.
    Analyst,
    /// Traces sponsorships and verifies the log.
    Auditor,
    /// Manages the catalog and roles.
    Admin,
}

impl From<DomainRole> for Role {
    fn from(r: DomainRole) -> Self {
        match r {
            DomainRole::Enthusiast => Role::Enthusiast,
            DomainRole::Moderator => Role::Moderator,
            DomainRole::Analyst => Role::Analyst,
            DomainRole::Auditor => Role::Auditor,
            DomainRole::Admin => Role::Admin,
        }
    }
}

impl From<Role> for DomainRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Enthusiast => DomainRole::Enthusiast,
            Role::Moderator => DomainRole::Moderator,
            Role::Analyst => DomainRole::Analyst,
            Role::Auditor => DomainRole::Auditor,
            Role::Admin => DomainRole::Admin,
        }
    }
}

/// An interest of the catalog.
#[derive(Clone)]
pub(crate) struct Interest(pub InterestRow);

/// An interest of the catalog (Fitness, Fashion, DIY, ...).
#[Object(serial)]
impl Interest {
    /// Its slug, the argument of `feed`.
    async fn slug(&self) -> &str {
        self.0.interest.as_str()
    }
    /// Its display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Days after which a consumable bought in it is shown again.
    async fn rebuy_window_days(&self) -> Option<u32> {
        self.0.rebuy_window_days
    }
}

/// A member or brand account.
#[derive(Clone)]
pub(crate) struct User(pub Arc<MemberRow>);

impl User {
    fn is_viewer(&self, ctx: &Context<'_>) -> bool {
        viewer(ctx) == Some(&self.0.user)
    }

    fn own(&self, ctx: &Context<'_>, what: &str) -> ApiResult<()> {
        if self.is_viewer(ctx) {
            Ok(())
        } else if viewer(ctx).is_none() {
            Err(ApiError::Unauthenticated)
        } else {
            Err(ApiError::Forbidden(format!(
                "only {} may see their {what}",
                self.0.user
            )))
        }
    }
}

/// A member or brand account.
#[Object(serial)]
impl User {
    /// The account id.
    async fn id(&self) -> ID {
        ID(self.0.user.to_string())
    }
    /// The handle; `null` once the member was forgotten.
    async fn handle(&self, ctx: &Context<'_>) -> Gql<Option<String>> {
        Ok(unseal(ctx, &self.0.handle)?)
    }
    /// The name shown; `null` once the member was forgotten.
    async fn display_name(&self, ctx: &Context<'_>) -> Gql<Option<String>> {
        Ok(unseal(ctx, &self.0.display_name)?)
    }
    /// Member or brand.
    async fn kind(&self) -> AccountKind {
        match self.0.kind {
            DomainAccountKind::Member => AccountKind::Member,
            DomainAccountKind::Brand => AccountKind::Brand,
        }
    }
    /// A brand's public name.
    async fn brand_name(&self) -> Option<&str> {
        self.0.brand_name.as_deref()
    }
    /// Whether Prime is active (only Prime members post, smile, save, share or buy).
    async fn prime(&self) -> bool {
        self.0.prime
    }
    /// Roles held.
    async fn roles(&self) -> Vec<Role> {
        self.0.roles.iter().copied().map(Role::from).collect()
    }
    /// Chosen interests (slugs).
    async fn interests(&self) -> Vec<&str> {
        self.0.interests.iter().map(|i| i.as_str()).collect()
    }
    /// Posts published, removed ones included.
    async fn post_count(&self) -> u64 {
        self.0.posts
    }
    /// Their posts, newest first.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Post>> {
        let p = paging(first, after, api(ctx).limits.max_page)?;
        let page = read::posts_by(&feeds_tree(ctx)?, &self.0.user, p.first, p.after)?;
        let items = posts(ctx, page.items).await?;
        Ok(connection(items, p.after.is_some(), page.has_next))
    }
    /// Their saved posts, most recently saved first. Only they may see these.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn saved(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Post>> {
        self.own(ctx, "saved posts")?;
        let p = paging(first, after, api(ctx).limits.max_page)?;
        let page = read::saved_by(&feeds_tree(ctx)?, &self.0.user, p.first, p.after)?;
        let items = posts(ctx, page.items).await?;
        Ok(connection(items, p.after.is_some(), page.has_next))
    }
    /// Their orders, newest first. Only they may see these.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Order>> {
        self.own(ctx, "orders")?;
        let p = paging(first, after, api(ctx).limits.max_page)?;
        let page = read::orders_of(&feeds_tree(ctx)?, &self.0.user, p.first, p.after)?;
        let items = page.items.into_iter().map(|(c, o)| (c, Order(o))).collect();
        Ok(connection(items, p.after.is_some(), page.has_next))
    }
}

/// Image or video.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum MediaKind {
    /// A photo.
    Image,
    /// A video.
    Video,
}

/// An image or a video of a post.
#[derive(SimpleObject)]
#[graphql(serial)]
pub(crate) struct Media {
    /// Image or video.
    pub kind: MediaKind,
    /// Where it is served from; `null` once the author was forgotten.
    pub url: Option<String>,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Alternative text; `null` once the author was forgotten.
    pub alt: Option<String>,
}

/// "Paid partnership with <brand>": shown with a sponsored post in every view.
#[derive(SimpleObject)]
#[graphql(complex, serial)]
pub(crate) struct Disclosure {
    /// The label to show, exactly.
    pub label: String,
    /// The sponsoring brand's name.
    pub brand_name: String,
    /// The sponsorship contract.
    pub contract_id: ID,
    #[graphql(skip)]
    pub brand: UserId,
}

#[ComplexObject]
impl Disclosure {
    /// The sponsoring brand's account.
    async fn brand(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        load_user(ctx, &self.brand).await
    }
}

pub(crate) async fn load_user(ctx: &Context<'_>, user: &UserId) -> Gql<Option<User>> {
    Ok(reads(ctx).member(user)?.map(User))
}

pub(crate) async fn load_product(ctx: &Context<'_>, asin: &Asin) -> Gql<Option<Product>> {
    Ok(reads(ctx).product(asin)?.map(Product))
}

/// A product tagged at a point of a post's medium.
pub(crate) struct ProductTag {
    tag: sparkfeed_domain::events::Tag,
    verified: bool,
}

/// A product tagged at a point of a post's medium.
#[Object(serial)]
impl ProductTag {
    /// The product, with its current price.
    async fn product(&self, ctx: &Context<'_>) -> Gql<Option<Product>> {
        load_product(ctx, &self.tag.asin).await
    }
    /// The product's ASIN.
    async fn asin(&self) -> &str {
        self.tag.asin.as_str()
    }
    /// Which medium of the post (0-based).
    async fn media_index(&self) -> u8 {
        self.tag.media_index
    }
    /// Horizontal position in [0, 1].
    async fn x(&self) -> f32 {
        self.tag.x
    }
    /// Vertical position in [0, 1].
    async fn y(&self) -> f32 {
        self.tag.y
    }
    /// The author really bought this product here, for themselves.
    async fn verified_purchaser(&self) -> bool {
        self.verified
    }
}

/// A post: photos or videos of products, tagged, as a card shows it.
///
/// Resolved directly ([`crate::direct`]) where the selection allows it, and otherwise
/// field by field as [`PostObject`], which also defines the GraphQL type.
#[derive(Clone)]
pub(crate) struct Post(pub Arc<PostCardRow>);

impl OutputType for Post {
    fn type_name() -> std::borrow::Cow<'static, str> {
        <PostObject as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        <PostObject as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &async_graphql::ContextSelectionSet<'_>,
        field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> async_graphql::ServerResult<async_graphql::Value> {
        let direct = crate::direct::post(ctx, &self.0);
        if let Some(api) = ctx.data_opt::<Arc<Api>>() {
            api.metrics.card_resolved(direct.is_some());
        }
        match direct {
            Some(value) => Ok(value),
            None => OutputType::resolve(&PostObject(Arc::clone(&self.0)), ctx, field).await,
        }
    }
}

/// The `Post` type resolved field by field by async-graphql's executor.
pub(crate) struct PostObject(Arc<PostCardRow>);

/// A post: photos or videos of products, tagged, as a card shows it.
#[Object(serial, name = "Post")]
impl PostObject {
    /// The post id.
    async fn id(&self) -> ID {
        ID(self.0.body.post.to_string())
    }
    /// Its author.
    async fn author(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        load_user(ctx, &self.0.body.author).await
    }
    /// The caption; `null` once the author was forgotten.
    async fn caption(&self, ctx: &Context<'_>) -> Gql<Option<String>> {
        Ok(unseal(ctx, &self.0.body.caption)?)
    }
    /// Its media, in order.
    async fn media(&self, ctx: &Context<'_>) -> Gql<Vec<Media>> {
        let mut out = Vec::with_capacity(self.0.body.media.len());
        for m in &self.0.body.media {
            out.push(Media {
                kind: match m.kind {
                    DomainMediaKind::Image => MediaKind::Image,
                    DomainMediaKind::Video => MediaKind::Video,
                },
                url: unseal(ctx, &m.url)?,
                width: m.width,
                height: m.height,
                alt: unseal(ctx, &m.alt)?,
            });
        }
        Ok(out)
    }
    /// Its interests (slugs).
    async fn interests(&self) -> Vec<&str> {
        self.0.body.interests.iter().map(|i| i.as_str()).collect()
    }
    /// Its product tags, each with a "verified purchaser" badge.
    async fn tags(&self, ctx: &Context<'_>) -> Gql<Vec<ProductTag>> {
        let verified = read::verified_purchaser(&feeds_tree(ctx)?, &self.0)?;
        Ok(self
            .0
            .body
            .tags
            .iter()
            .zip(verified)
            .map(|(tag, verified)| ProductTag {
                tag: tag.clone(),
                verified,
            })
            .collect())
    }
    /// Whether a brand sponsors it.
    async fn sponsored(&self) -> bool {
        self.0.body.disclosure.is_some()
    }
    /// "Paid partnership with <brand>", on every sponsored post.
    async fn disclosure(&self) -> Option<Disclosure> {
        self.0.body.disclosure.as_ref().map(|d| Disclosure {
            label: format!("Paid partnership with {}", d.brand_name),
            brand_name: d.brand_name.clone(),
            contract_id: ID(d.contract.to_string()),
            brand: d.brand.clone(),
        })
    }
    /// Smiles.
    async fn smile_count(&self) -> u64 {
        self.0.stats.smiles
    }
    /// Saves.
    async fn save_count(&self) -> u64 {
        self.0.stats.saves
    }
    /// Shares.
    async fn share_count(&self) -> u64 {
        self.0.stats.shares
    }
    /// Comments.
    async fn comment_count(&self) -> u64 {
        self.0.stats.comments
    }
    /// Orders placed through it.
    async fn purchase_count(&self) -> u64 {
        self.0.stats.purchases
    }
    /// Whether the signed-in member smiles at it (`false` when signed out).
    async fn viewer_has_smiled(&self, ctx: &Context<'_>) -> Gql<bool> {
        let Some(user) = viewer(ctx) else {
            return Ok(false);
        };
        Ok(read::smiles(&feeds_tree(ctx)?, &self.0.body.post, user)?)
    }
    /// Whether the signed-in member saved it (`false` when signed out).
    async fn viewer_has_saved(&self, ctx: &Context<'_>) -> Gql<bool> {
        let Some(user) = viewer(ctx) else {
            return Ok(false);
        };
        Ok(read::saved(&feeds_tree(ctx)?, &self.0.body.post, user)?)
    }
    /// When it was published (RFC 3339).
    async fn published_at(&self) -> String {
        crate::time::format(self.0.body.recorded_at)
    }
    /// The log position of its publication.
    async fn position(&self) -> u64 {
        self.0.body.published_at.0
    }
    /// Removed by its author or a moderator (only they and auditors still see it).
    async fn removed(&self) -> bool {
        self.0.body.removed
    }
    /// Its comments, newest first.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Comment>> {
        let p = paging(first, after, api(ctx).limits.max_page)?;
        let page = read::comments(&feeds_tree(ctx)?, &self.0.body.post, p.first, p.after)?;
        let items = page
            .items
            .into_iter()
            .map(|(c, row)| (c, Comment(row)))
            .collect();
        Ok(connection(items, p.after.is_some(), page.has_next))
    }
}

/// A product of the catalog.
#[derive(Clone)]
pub(crate) struct Product(pub Arc<ProductRow>);

/// A product of the catalog.
#[Object(serial)]
impl Product {
    /// Its ASIN.
    async fn asin(&self) -> &str {
        self.0.asin.as_str()
    }
    /// Its title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Its current price (what a buy charges now).
    async fn price(&self) -> Money {
        self.0.price.into()
    }
    /// Its image.
    async fn image_url(&self) -> &str {
        &self.0.image_url
    }
    /// Its interests (slugs).
    async fn interests(&self) -> Vec<&str> {
        self.0.interests.iter().map(|i| i.as_str()).collect()
    }
    /// Used up and bought again (coffee, vitamins).
    async fn consumable(&self) -> bool {
        self.0.consumable
    }
    /// No longer sold.
    async fn delisted(&self) -> bool {
        self.0.delisted
    }
    /// Orders placed for it.
    async fn purchase_count(&self) -> u64 {
        self.0.purchases
    }
    /// Posts that tag it, newest first.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Post>> {
        let p = paging(first, after, api(ctx).limits.max_page)?;
        let page = read::product_posts(&feeds_tree(ctx)?, &self.0.asin, p.first, p.after)?;
        let items = posts(ctx, page.items).await?;
        Ok(connection(items, p.after.is_some(), page.has_next))
    }
}

/// An order, as its buyer sees it.
pub(crate) struct Order(pub OrderRow);

/// An order, as its buyer sees it.
#[Object(serial)]
impl Order {
    /// The order id.
    async fn id(&self) -> ID {
        ID(self.0.order.clone())
    }
    /// The post it was bought through.
    async fn post(&self, ctx: &Context<'_>) -> Gql<Option<Post>> {
        Ok(reads(ctx).card(&self.0.post)?.map(Post))
    }
    /// The product.
    async fn product(&self, ctx: &Context<'_>) -> Gql<Option<Product>> {
        load_product(ctx, &self.0.asin).await
    }
    /// How many.
    async fn quantity(&self) -> u8 {
        self.0.quantity
    }
    /// Total charged: the catalog price at the order's position times the quantity.
    async fn total(&self) -> Money {
        self.0.total.into()
    }
    /// A gift (does not steer the buyer's feed).
    async fn gift(&self) -> bool {
        self.0.gift
    }
    /// The log position of the order.
    async fn position(&self) -> u64 {
        self.0.position.0
    }
}

/// A comment on a post.
pub(crate) struct Comment(pub CommentRow);

/// A comment on a post.
#[Object(serial)]
impl Comment {
    /// The comment id.
    async fn id(&self) -> ID {
        ID(self.0.comment.to_string())
    }
    /// Its author.
    async fn author(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        load_user(ctx, &self.0.author).await
    }
    /// The text; `null` once the author was forgotten.
    async fn text(&self, ctx: &Context<'_>) -> Gql<Option<String>> {
        Ok(unseal(ctx, &self.0.text)?)
    }
    /// The log position of the comment.
    async fn position(&self) -> u64 {
        self.0.position.0
    }
}

/// One event of the log, as analysts replay it. Personal data stays sealed.
pub(crate) struct Event {
    pub event: RecordedEvent,
    pub data: serde_json::Value,
}

impl Event {
    /// The event with its payload decoded to JSON, sealed values shown as `{"sealed": owner}`.
    pub fn decode(api: &Api, event: RecordedEvent) -> ApiResult<Self> {
        let decoded = api
            .domain
            .decode(&event)
            .map_err(|f| ApiError::Internal { code: f.code() })?;
        let mut data =
            serde_json::to_value(&decoded).map_err(|_| ApiError::Internal { code: "INTERNAL" })?;
        hide_sealed(&mut data);
        Ok(Self { event, data })
    }
}

/// Replaces every sealed value (`{owner, nonce, ciphertext}`) by `{"sealed": owner}`: the
/// ciphertext means nothing to a reader and only bloats the answer.
fn hide_sealed(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.len() == 3 && map.contains_key("ciphertext") && map.contains_key("nonce") {
                let owner = map.remove("owner").unwrap_or_default();
                map.clear();
                map.insert("sealed".into(), owner);
            } else {
                map.values_mut().for_each(hide_sealed);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(hide_sealed),
        _ => {}
    }
}

/// One event of the log.
#[Object(serial)]
impl Event {
    /// Its global position.
    async fn position(&self) -> u64 {
        self.event.record.position.0
    }
    /// Its id.
    async fn id(&self) -> ID {
        ID(self.event.record.id.to_string())
    }
    /// Its type (`PostPublished`, `Smiled`, ...).
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        self.event.record.event_type.as_str()
    }
    /// Its payload's schema version as stored (payloads are upcast on read).
    async fn schema_version(&self) -> u16 {
        self.event.record.schema_version
    }
    /// Its stream.
    async fn stream(&self) -> &str {
        self.event.record.stream.as_str()
    }
    /// Its version within the stream (0-based).
    async fn version(&self) -> u64 {
        self.event.record.version.0
    }
    /// When the log recorded it (RFC 3339).
    async fn recorded_at(&self) -> String {
        crate::time::format(self.event.record.recorded_at.0)
    }
    /// Who acted: `user:<id>` or `system:<name>`.
    async fn actor(&self) -> String {
        self.event.record.metadata.actor.to_string()
    }
    /// Shared by every event of one command.
    async fn correlation_id(&self) -> ID {
        ID(self.event.record.metadata.correlation_id.to_string())
    }
    /// The event that caused it, if any.
    async fn causation_id(&self) -> Option<ID> {
        self.event
            .record
            .metadata
            .causation_id
            .map(|c| ID(c.to_string()))
    }
    /// Its chain hash: SHA-256(previous hash || record bytes), hex.
    async fn hash(&self) -> String {
        self.event.hash.to_hex()
    }
    /// Its payload (personal data sealed: `{"sealed": "<owner>"}`).
    async fn data(&self) -> Json<&serde_json::Value> {
        Json(&self.data)
    }
}

/// One event of a sponsorship's history, as auditors trace it.
pub(crate) struct AuditEntry(pub AuditRow);

/// One event of a sponsorship's history.
#[Object(serial)]
impl AuditEntry {
    /// Its log position.
    async fn position(&self) -> u64 {
        self.0.position.0
    }
    /// When (RFC 3339).
    async fn recorded_at(&self) -> String {
        crate::time::format(self.0.recorded_at)
    }
    /// Who acted.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The event type.
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    /// The record's chain hash (hex): check it against `verifyLog`.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
    /// The contract.
    async fn contract_id(&self) -> ID {
        ID(self.0.contract.to_string())
    }
    /// The post concerned, if any.
    async fn post_id(&self) -> Option<ID> {
        self.0.post.as_ref().map(|p| ID(p.to_string()))
    }
    /// What happened, in words.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
}

/// The outcome of recomputing the log's hash chain.
#[derive(SimpleObject)]
#[graphql(serial)]
pub(crate) struct VerifyReport {
    /// Every record and index entry matched.
    pub intact: bool,
    /// Records checked.
    pub records: u64,
    /// The head's hash (hex) the check ran up to.
    pub head_hash: String,
    /// The first position that does not match, if any.
    pub first_bad_position: Option<u64>,
    /// How it does not match.
    pub problem: Option<String>,
}
