//! `forYou`: the ranked feed, each item with why it is shown (EU DSA Art. 27), and the
//! member's feed controls (`FeedControls`: what they hid, their feed mode).

use async_graphql::connection::PageInfo;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use sparkfeed_domain::events::{FeedMode as DomainMode, FeedTarget};
use sparkfeed_events::Timestamp;
use sparkfeed_projections::foryou::rank::{self, Ranked, Reason, Viewer};
use sparkfeed_projections::foryou::rows::Engagement;
use sparkfeed_projections::foryou::score::Profile;
use sparkfeed_projections::foryou::{FOR_YOU, read as foryou_read};

use crate::ctx::{Gql, api, feeds_tree, may_see_removed, reads, viewer};
use crate::error::{ApiError, ApiResult};
use crate::objects::nodes::{Post, Product, User, load_product, load_user};
use crate::paging::first_of;
use crate::rankings::RankingCursor;

/// How `forYou` is ordered.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum FeedMode {
    /// Ranked with the member's own signals: interests, follows, engagement, purchases.
    Personalized,
    /// Newest first, with no profiling signal at all (EU DSA Art. 38); only what the
    /// member explicitly hid stays out.
    Chronological,
}

impl From<DomainMode> for FeedMode {
    fn from(m: DomainMode) -> Self {
        match m {
            DomainMode::Personalized => FeedMode::Personalized,
            DomainMode::Chronological => FeedMode::Chronological,
        }
    }
}

impl From<FeedMode> for DomainMode {
    fn from(m: FeedMode) -> Self {
        match m {
            FeedMode::Personalized => DomainMode::Personalized,
            FeedMode::Chronological => DomainMode::Chronological,
        }
    }
}

/// The kind of a reason an item is in `forYou`.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum FeedReasonKind {
    /// A creator you follow posted it (`creator`).
    FollowedCreator,
    /// It is like a post you smiled at, commented on, shared, saved or bought through
    /// (`similarTo`, `engagement`).
    SimilarToEngaged,
    /// It is in an interest you chose (`interest`).
    Interest,
    /// It is popular now in an interest (`interest`).
    PopularInInterest,
    /// Newest first: the chronological mode.
    Newest,
    /// A brand paid for it (`brandName`, `contractId`).
    Sponsored,
}

/// How a member engaged with a post.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum EngagementKind {
    /// Smiled at it.
    Smiled,
    /// Commented on it.
    Commented,
    /// Shared it.
    Shared,
    /// Saved it.
    Saved,
    /// Bought through it.
    Bought,
}

impl From<Engagement> for EngagementKind {
    fn from(e: Engagement) -> Self {
        match e {
            Engagement::Smiled => EngagementKind::Smiled,
            Engagement::Commented => EngagementKind::Commented,
            Engagement::Shared => EngagementKind::Shared,
            Engagement::Saved => EngagementKind::Saved,
            Engagement::Bought => EngagementKind::Bought,
        }
    }
}

/// Why an item is in `forYou`: a kind and its details.
pub(crate) struct FeedReason(pub Reason);

/// Why an item is in `forYou`.
#[Object]
impl FeedReason {
    /// The kind.
    async fn kind(&self) -> FeedReasonKind {
        match &self.0 {
            Reason::FollowedCreator(_) => FeedReasonKind::FollowedCreator,
            Reason::LikeOneYou { .. } => FeedReasonKind::SimilarToEngaged,
            Reason::Interest(_) => FeedReasonKind::Interest,
            Reason::PopularIn(_) => FeedReasonKind::PopularInInterest,
            Reason::Newest => FeedReasonKind::Newest,
            Reason::Sponsored { .. } => FeedReasonKind::Sponsored,
        }
    }
    /// The reason in words, as a page may show it.
    async fn text(&self) -> String {
        match &self.0 {
            Reason::FollowedCreator(_) => "From a creator you follow".into(),
            Reason::LikeOneYou { via, .. } => format!(
                "Like a post you {}",
                match via {
                    Engagement::Smiled => "smiled at",
                    Engagement::Commented => "commented on",
                    Engagement::Shared => "shared",
                    Engagement::Saved => "saved",
                    Engagement::Bought => "bought through",
                }
            ),
            Reason::Interest(i) => format!("In {i}, one of your interests"),
            Reason::PopularIn(i) => format!("Popular now in {i}"),
            Reason::Newest => "Newest first".into(),
            Reason::Sponsored { brand_name, .. } => format!("Paid partnership with {brand_name}"),
        }
    }
    /// `INTEREST`, `POPULAR_IN_INTEREST`: the interest.
    async fn interest(&self) -> Option<String> {
        match &self.0 {
            Reason::Interest(i) | Reason::PopularIn(i) => Some(i.to_string()),
            _ => None,
        }
    }
    /// `FOLLOWED_CREATOR`: the creator.
    async fn creator(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        match &self.0 {
            Reason::FollowedCreator(u) => Ok(load_user(ctx, u)?),
            _ => Ok(None),
        }
    }
    /// `SIMILAR_TO_ENGAGED`: the post it is like (`null` if that post is gone).
    async fn similar_to(&self, ctx: &Context<'_>) -> Gql<Option<Post>> {
        match &self.0 {
            Reason::LikeOneYou { post, .. } => {
                Ok(reads(ctx).card(post)?.filter(|c| !c.body.removed).map(Post))
            }
            _ => Ok(None),
        }
    }
    /// `SIMILAR_TO_ENGAGED`: how you engaged with that post.
    async fn engagement(&self) -> Option<EngagementKind> {
        match &self.0 {
            Reason::LikeOneYou { via, .. } => Some((*via).into()),
            _ => None,
        }
    }
    /// `SPONSORED`: the brand's name, as the disclosure shows it.
    async fn brand_name(&self) -> Option<&str> {
        match &self.0 {
            Reason::Sponsored { brand_name, .. } => Some(brand_name),
            _ => None,
        }
    }
    /// `SPONSORED`: the contract (see `sponsorship(contractId)`).
    async fn contract_id(&self) -> Option<ID> {
        match &self.0 {
            Reason::Sponsored { contract, .. } => Some(ID(contract.to_string())),
            _ => None,
        }
    }
}

/// One item of `forYou`.
#[derive(SimpleObject)]
pub(crate) struct ForYouEdge {
    /// Where the next page starts.
    pub cursor: String,
    /// The post.
    pub node: Post,
    /// Why it is shown, strongest first.
    pub reasons: Vec<FeedReason>,
}

/// A post arriving in a member's live `forYouUpdates`.
#[derive(SimpleObject)]
pub(crate) struct ForYouUpdate {
    /// The post.
    pub node: Post,
    /// Why it is shown, strongest first.
    pub reasons: Vec<FeedReason>,
}

/// A page of `forYou`.
#[derive(SimpleObject)]
pub(crate) struct ForYouConnection {
    /// The items.
    pub edges: Vec<ForYouEdge>,
    /// Paging.
    pub page_info: PageInfo,
    /// The mode the ranking was made in.
    pub mode: FeedMode,
}

/// A page of `forYou` for the caller (a visitor when signed out): a new ranking without
/// `after`, else the next page of the ranking the cursor walks.
pub(crate) fn for_you(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<ForYouConnection> {
    let api = api(ctx);
    let max = api.limits.max_page;
    let first = first_of(first, max)?;
    let member = viewer(ctx);
    let foryou = api.projections.tree(FOR_YOU)?;
    let signals = match member {
        Some(m) => foryou_read::signals(&foryou, m)?,
        None => Default::default(),
    };
    let mode = signals.mode.into();
    let (id, items, offset) = match after {
        Some(text) => {
            let cursor = RankingCursor::parse(&text)?;
            let items = api.rankings.get(cursor, member, signals.mode)?;
            (cursor.id, items, cursor.offset)
        }
        None => {
            let feeds = feeds_tree(ctx)?;
            let reads = reads(ctx);
            let who = Viewer {
                member,
                signals: signals.clone(),
            };
            let ranked = rank::for_you(&feeds, &who, Timestamp::now().0, |post| {
                Ok::<_, ApiError>(reads.card(post)?.map(|c| (*c).clone()))
            })?;
            let id = api.rankings.keep(member, signals.mode, ranked);
            let start = RankingCursor { id, offset: 0 };
            let items = api.rankings.get(start, member, signals.mode)?;
            (id, items, 0)
        }
    };
    // What the member hid since the ranking was made goes at once.
    let hidden = Profile::new(&signals, &[], &[]);
    let mut edges = Vec::with_capacity(first);
    let mut at = offset;
    while edges.len() < first && at < items.len() {
        let item: &Ranked = &items[at];
        at += 1;
        let Some(card) = reads(ctx).card(&item.post)? else {
            continue;
        };
        if card.body.removed || hidden.hides(&card.body) {
            continue;
        }
        edges.push(ForYouEdge {
            cursor: RankingCursor { id, offset: at }.encode(),
            node: Post(card),
            reasons: item.reasons.iter().cloned().map(FeedReason).collect(),
        });
    }
    Ok(ForYouConnection {
        page_info: PageInfo {
            has_previous_page: offset > 0,
            has_next_page: at < items.len(),
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
        mode,
    })
}

/// What a member said they are not interested in.
pub(crate) struct HiddenTarget(pub FeedTarget);

/// The kind of a hidden target.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum HiddenKind {
    /// One post.
    Post,
    /// Everything by one author.
    Author,
    /// Every post tagging one product.
    Product,
    /// One interest.
    Interest,
}

/// What a member said they are not interested in.
#[Object]
impl HiddenTarget {
    /// Its kind.
    async fn kind(&self) -> HiddenKind {
        match &self.0 {
            FeedTarget::Post(_) => HiddenKind::Post,
            FeedTarget::Author(_) => HiddenKind::Author,
            FeedTarget::Product(_) => HiddenKind::Product,
            FeedTarget::Interest(_) => HiddenKind::Interest,
        }
    }
    /// Its id: the post id, the author's user id, the ASIN or the interest slug (what
    /// `undoNotInterested` takes).
    async fn id(&self) -> String {
        match &self.0 {
            FeedTarget::Post(p) => p.to_string(),
            FeedTarget::Author(u) => u.to_string(),
            FeedTarget::Product(a) => a.to_string(),
            FeedTarget::Interest(i) => i.to_string(),
        }
    }
    /// `POST`: the post.
    async fn post(&self, ctx: &Context<'_>) -> Gql<Option<Post>> {
        match &self.0 {
            FeedTarget::Post(p) => Ok(reads(ctx)
                .card(p)?
                .filter(|c| !c.body.removed || may_see_removed(ctx, c))
                .map(Post)),
            _ => Ok(None),
        }
    }
    /// `AUTHOR`: the author.
    async fn author(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        match &self.0 {
            FeedTarget::Author(u) => Ok(load_user(ctx, u)?),
            _ => Ok(None),
        }
    }
    /// `PRODUCT`: the product.
    async fn product(&self, ctx: &Context<'_>) -> Gql<Option<Product>> {
        match &self.0 {
            FeedTarget::Product(a) => Ok(load_product(ctx, a)?),
            _ => Ok(None),
        }
    }
}

/// The signed-in member's feed controls.
#[derive(SimpleObject)]
pub(crate) struct FeedControls {
    /// How `forYou` is ordered.
    pub mode: FeedMode,
    /// What they said they are not interested in, oldest first.
    pub not_interested: Vec<HiddenTarget>,
}

/// The feed controls of `member`, as the projection has them.
pub(crate) fn feed_controls(
    ctx: &Context<'_>,
    member: &sparkfeed_domain::UserId,
) -> ApiResult<FeedControls> {
    let foryou = api(ctx).projections.tree(FOR_YOU)?;
    let signals = foryou_read::signals(&foryou, member)?;
    Ok(FeedControls {
        mode: signals.mode.into(),
        not_interested: signals.hidden.into_iter().map(HiddenTarget).collect(),
    })
}
