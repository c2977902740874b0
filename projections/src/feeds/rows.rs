//! The rows of the feeds projection, as the API reads them.

use serde::{Deserialize, Serialize};
use sparkfeed_domain::events::{AccountKind, Disclosure, Media, Tag};
use sparkfeed_domain::{Asin, CommentId, InterestSlug, Money, PostId, Role, Sealed, UserId};
use sparkfeed_events::Position;

use crate::heap::HeapSize;

/// What a post's engagement adds up to; kept apart from the post (in its [`StatsRow`]) so
/// that a smile rewrites a few bytes, not the whole card.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct PostStats {
    /// Live smiles.
    pub smiles: u64,
    /// Live saves.
    pub saves: u64,
    /// Shares.
    pub shares: u64,
    /// Live comments.
    pub comments: u64,
    /// Orders placed through it.
    pub purchases: u64,
}

/// A post's engagement as stored (`stats|post`): its counts, and who smiles at it and who
/// saved it while they are few. One row, so a smile or a save rewrites one small row and
/// a card's counts and its viewer's state are one read.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
pub struct StatsRow {
    /// The counts.
    pub counts: PostStats,
    /// Members smiling at it.
    pub smiles: Engaged,
    /// Members who saved it.
    pub saves: Engaged,
}

impl StatsRow {
    /// The members who did `kind`.
    pub fn of(&mut self, kind: EngagementKind) -> &mut Engaged {
        match kind {
            EngagementKind::Smile => &mut self.smiles,
            EngagementKind::Save => &mut self.saves,
        }
    }
}

/// At most this many members of one kind are listed in a post's [`StatsRow`].
pub const LISTED_MEMBERS: usize = 16;

/// The members who did one thing to a post.
///
/// Invariant: while [`Engaged::Listed`], every one of them is in the list (sorted by
/// member, each once) and none has a row of their own; once a post has more than
/// [`LISTED_MEMBERS`], the list is spilled for good, each member is in a row of their own
/// (`smile|post|user`, `save|post|user`, holding when), and the post's [`StatsRow`] says
/// only [`Engaged::Spilled`]. So a viewer's "have I smiled" is one read of the post's row for
/// nearly every post, and a popular post's row never grows past the limit. Most posts
/// stay listed, which is what keeps a rebuild's row count (and its sled inserts) down: a
/// smile or a save adds no row of its own.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum Engaged {
    /// Every member, sorted by member.
    Listed(Vec<Engagement>),
    /// Each member is in a row of their own.
    Spilled,
}

impl Default for Engaged {
    fn default() -> Self {
        Engaged::Listed(Vec::new())
    }
}

/// One member's smile or save, and where it was recorded.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Engagement {
    /// The member.
    pub member: UserId,
    /// The log position of the smile or save.
    pub at: Position,
}

/// What a member can do to a post and undo: smile at it, save it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EngagementKind {
    /// A smile.
    Smile,
    /// A save.
    Save,
}

impl EngagementKind {
    /// The first part of a spilled member's own row key (spelled in [`super::keys`]).
    pub fn key_part(self) -> &'static str {
        super::keys::engagement_part(self)
    }
}

/// A post as stored: everything but its engagement counts.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct PostBody {
    /// The post.
    pub post: PostId,
    /// Its author.
    pub author: UserId,
    /// Caption (sealed by the author's key).
    pub caption: Sealed,
    /// Media (URLs and alt texts sealed).
    pub media: Vec<Media>,
    /// Interests.
    pub interests: Vec<InterestSlug>,
    /// Current product tags.
    pub tags: Vec<Tag>,
    /// "Paid partnership with `<brand>`", when sponsored.
    pub disclosure: Option<Disclosure>,
    /// Where it was published.
    pub published_at: Position,
    /// When (microseconds since the epoch).
    pub recorded_at: i64,
    /// Removed by a moderator or its author.
    pub removed: bool,
}

/// A post as a card shows it (viewer-independent part): its body and its counts. Not
/// stored as one row: the body and the counts are two keys.
#[derive(Clone, PartialEq, Debug)]
pub struct PostCardRow {
    /// Everything but the counts (shared with the decoded-row cache).
    pub body: std::sync::Arc<PostBody>,
    /// The counts.
    pub stats: PostStats,
}

/// A member or brand account.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct MemberRow {
    /// The account.
    pub user: UserId,
    /// Member or brand.
    pub kind: AccountKind,
    /// Handle (sealed).
    pub handle: Sealed,
    /// Display name (sealed).
    pub display_name: Sealed,
    /// A brand's public name.
    pub brand_name: Option<String>,
    /// Prime active.
    pub prime: bool,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Chosen interests.
    pub interests: Vec<InterestSlug>,
    /// Posts published (removed ones included).
    pub posts: u64,
}

/// An interest of the catalog.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct InterestRow {
    /// Slug.
    pub interest: InterestSlug,
    /// Display name.
    pub name: String,
    /// Re-buy window for consumables, in days.
    pub rebuy_window_days: Option<u32>,
}

/// A product of the catalog.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ProductRow {
    /// ASIN.
    pub asin: Asin,
    /// Title.
    pub title: String,
    /// Current price.
    pub price: Money,
    /// Image.
    pub image_url: String,
    /// Interests.
    pub interests: Vec<InterestSlug>,
    /// Used up and bought again.
    pub consumable: bool,
    /// No longer sold.
    pub delisted: bool,
    /// Orders placed for it.
    pub purchases: u64,
}

/// What a member bought of one product, gifts left out.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct BoughtRow {
    /// Orders for themselves.
    pub orders: u64,
    /// When the last one was placed (microseconds since the epoch).
    pub last_at: i64,
}

/// An order, as its buyer sees it.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct OrderRow {
    /// Order id.
    pub order: String,
    /// Bought through this post.
    pub post: PostId,
    /// The product.
    pub asin: Asin,
    /// How many.
    pub quantity: u8,
    /// Total charged.
    pub total: Money,
    /// A gift.
    pub gift: bool,
    /// Where it was placed.
    pub position: Position,
}

/// A comment.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct CommentRow {
    /// Comment id.
    pub comment: CommentId,
    /// On this post.
    pub post: PostId,
    /// By.
    pub author: UserId,
    /// Text (sealed).
    pub text: Sealed,
    /// Where it was posted.
    pub position: Position,
}

impl HeapSize for StatsRow {
    fn heap_size(&self) -> usize {
        self.smiles.heap_size() + self.saves.heap_size()
    }
}

impl HeapSize for Engaged {
    fn heap_size(&self) -> usize {
        match self {
            Engaged::Listed(members) => members.heap_size(),
            Engaged::Spilled => 0,
        }
    }
}

impl HeapSize for Engagement {
    fn heap_size(&self) -> usize {
        self.member.heap_size()
    }
}
