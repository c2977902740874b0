//! Every domain event. Personal data is [`Sealed`] from the first version.
//!
//! Each payload type implements [`EventPayload`] with its stored name and its schema
//! version, written once beside its name in the `domain_events!` list below;
//! [`DomainEvent`] reads any stored record back (upcasting through [`upcasters`]).
//!
//! bincode lays fields out by position, so a changed payload needs the next version and an
//! upcaster, or old logs stop decoding. `fixtures/golden/domain-v1.bin` holds every event
//! as version 1 wrote it, and the `rules` test binary reads it back.

use serde::{Deserialize, Serialize};
use sparkfeed_events::{EventPayload, RecordedEvent, Upcasters};

use crate::{
    Asin, CommentId, ContractId, InterestSlug, Money, PostId, ReportId, Role, Sealed, UserId,
};

/// Whether an account is a member or a brand.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum AccountKind {
    /// A person.
    Member,
    /// A brand: sponsors enthusiasts, never posts.
    Brand,
}

/// An image or a video of a post.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Media {
    /// Image or video.
    pub kind: MediaKind,
    /// Where it is served from (sealed: it may identify the member).
    pub url: Sealed,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Alternative text (sealed).
    pub alt: Sealed,
}

/// The kind of a medium.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum MediaKind {
    /// A photo.
    Image,
    /// A video.
    Video,
}

/// A product tagged at a point of a medium.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Tag {
    /// The product.
    pub asin: Asin,
    /// Which medium of the post.
    pub media_index: u8,
    /// Horizontal position in [0, 1].
    pub x: f32,
    /// Vertical position in [0, 1].
    pub y: f32,
}

/// The disclosure a sponsored post carries in every view.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Disclosure {
    /// The contract it was published under.
    pub contract: ContractId,
    /// The sponsoring brand.
    pub brand: UserId,
    /// The brand's name as shown: "Paid partnership with <brand_name>".
    pub brand_name: String,
}

/// Where a post was shared to.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ShareChannel {
    /// A copied link.
    Link,
    /// A direct message.
    Message,
    /// Email.
    Email,
    /// Another social network.
    Social,
}

/// What a member says they are not interested in. Variant order is frozen (bincode).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum FeedTarget {
    /// One post.
    Post(PostId),
    /// Everything by one author.
    Author(UserId),
    /// Every post tagging one product.
    Product(Asin),
    /// One interest.
    Interest(InterestSlug),
}

/// How a member's `forYou` feed is ordered. Variant order is frozen (bincode).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum FeedMode {
    /// Ranked with the member's own signals (interests, follows, engagement, purchases).
    #[default]
    Personalized,
    /// Newest first, with no profiling signal at all (EU DSA Art. 38).
    Chronological,
}

/// Why a member reports a post.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ReportReason {
    /// Spam or scams.
    Spam,
    /// Harassment or hate.
    Harassment,
    /// False or misleading claims about a product.
    Misleading,
    /// A paid partnership shown without its disclosure.
    UndisclosedAd,
    /// A counterfeit or unsafe product.
    Counterfeit,
    /// Anything else.
    Other,
}

impl ReportReason {
    /// The stable name of the reason (as the API spells it).
    pub fn code(self) -> &'static str {
        match self {
            ReportReason::Spam => "SPAM",
            ReportReason::Harassment => "HARASSMENT",
            ReportReason::Misleading => "MISLEADING",
            ReportReason::UndisclosedAd => "UNDISCLOSED_AD",
            ReportReason::Counterfeit => "COUNTERFEIT",
            ReportReason::Other => "OTHER",
        }
    }
}

/// A moderator's decision on a report.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ReportDecision {
    /// The post breaks no rule: it stays.
    Dismissed,
    /// The report holds: the post is removed (by the same command, unless it already was).
    Upheld,
}

/// Commission owed to a post's author for a purchase through the post.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Commission {
    /// Who earns it: the post's author.
    pub to: UserId,
    /// The rate, in basis points of the order total.
    pub rate_bp: u32,
    /// The amount.
    pub amount: Money,
    /// The sponsorship contract it accrues under, or `None` for the associate programme.
    pub contract: Option<ContractId>,
}

/// Declares each event as `Name version N { fields }`: `N` is the schema version this build
/// writes for `Name`, and the only place it is written.
macro_rules! domain_events {
    ($( $(#[$doc:meta])* $name:ident version $version:literal { $( $(#[$fdoc:meta])* $field:ident : $ty:ty ),* $(,)? } )*) => {
        $(
            $(#[$doc])*
            // Fields are named for what they hold; the event's doc says what it means.
            #[allow(missing_docs)]
            #[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
            pub struct $name { $( $(#[$fdoc])* pub $field: $ty ),* }

            impl EventPayload for $name {
                const EVENT_TYPE: &'static str = stringify!($name);
                const SCHEMA_VERSION: u16 = $version;
            }

            impl From<$name> for DomainEvent {
                fn from(e: $name) -> Self {
                    DomainEvent::$name(e)
                }
            }
        )*

        /// Any domain event. Serialises as its payload alone (for JSON views of the log;
        /// the log itself stores payloads through the codec).
        #[derive(Clone, PartialEq, Debug, Serialize)]
        #[serde(untagged)]
        pub enum DomainEvent {
            $( $(#[$doc])* $name($name), )*
        }

        impl DomainEvent {
            /// The stored type name of every domain event, in declaration order.
            pub const EVENT_TYPES: &'static [&'static str] = &[$( stringify!($name), )*];

            /// Reads a stored record as a domain event.
            pub fn decode(upcasters: &Upcasters, event: &RecordedEvent) -> Result<Self, sparkfeed_events::CodecError> {
                let r = &event.record;
                match r.event_type.as_str() {
                    $( stringify!($name) => Ok(DomainEvent::$name(upcasters.decode_record::<$name>(r)?)), )*
                    other => Err(sparkfeed_events::CodecError::WrongType { expected: "a domain event", found: other.to_owned() }),
                }
            }

            /// The stored type name.
            pub fn event_type(&self) -> &'static str {
                match self { $( DomainEvent::$name(_) => stringify!($name), )* }
            }

            /// The schema version this build writes for this event's type.
            pub fn schema_version(&self) -> u16 {
                match self { $( DomainEvent::$name(_) => <$name as EventPayload>::SCHEMA_VERSION, )* }
            }

            /// The payload in the log's encoding.
            pub fn encode(&self) -> Result<Vec<u8>, sparkfeed_events::CodecError> {
                match self { $( DomainEvent::$name(e) => sparkfeed_events::codec::encode_payload(e), )* }
            }
        }
    };
}

domain_events! {
    /// A handle was reserved for a user (stream `handle-<keyed hash>`).
    HandleReserved version 1 { user: UserId }
    /// An account was registered (stream `user-<id>`).
    UserRegistered version 1 {
        user: UserId,
        kind: AccountKind,
        handle: Sealed,
        display_name: Sealed,
        /// A brand's public name (brands are organisations, not persons); `None` for members.
        brand_name: Option<String>,
    }
    /// The membership service reported Prime started.
    PrimeStarted version 1 { user: UserId }
    /// The membership service reported Prime ended.
    PrimeEnded version 1 { user: UserId }
    /// A member chose 1 to 5 interests (replacing the previous choice).
    InterestsChosen version 1 { user: UserId, interests: Vec<InterestSlug> }
    /// An admin granted a role.
    RoleGranted version 1 { user: UserId, role: Role, by: String }
    /// An admin revoked a role.
    RoleRevoked version 1 { user: UserId, role: Role, by: String }
    /// An admin added an interest to the catalog (stream `interest-<slug>`).
    InterestAdded version 1 {
        interest: InterestSlug,
        name: String,
        /// Days after which a consumable bought in this interest may be shown again.
        rebuy_window_days: Option<u32>,
    }
    /// A product was listed (stream `product-<asin>`).
    ProductListed version 1 {
        asin: Asin,
        title: String,
        price: Money,
        image_url: String,
        interests: Vec<InterestSlug>,
        consumable: bool,
    }
    /// A product got a new price.
    ProductRepriced version 1 { asin: Asin, price: Money }
    /// A product left the catalog.
    ProductDelisted version 1 { asin: Asin }
    /// A post was published (stream `post-<id>`).
    PostPublished version 1 {
        post: PostId,
        author: UserId,
        caption: Sealed,
        media: Vec<Media>,
        interests: Vec<InterestSlug>,
        tags: Vec<Tag>,
        sponsorship: Option<Disclosure>,
    }
    /// The author edited the caption.
    CaptionEdited version 1 { post: PostId, caption: Sealed }
    /// The author tagged a product.
    ProductTagged version 1 { post: PostId, tag: Tag }
    /// The author untagged a product.
    ProductUntagged version 1 { post: PostId, asin: Asin, media_index: u8 }
    /// A moderator or the author removed the post: it leaves every feed, stays in the log.
    PostRemoved version 1 { post: PostId, by: UserId, reason: String }
    /// A member smiled at a post (stream `engagement-<post>.<member>`).
    Smiled version 1 { post: PostId, member: UserId }
    /// A member took their smile back.
    Unsmiled version 1 { post: PostId, member: UserId }
    /// A member saved a post.
    Saved version 1 { post: PostId, member: UserId }
    /// A member unsaved a post.
    Unsaved version 1 { post: PostId, member: UserId }
    /// A member shared a post.
    Shared version 1 { post: PostId, member: UserId, channel: ShareChannel }
    /// A member commented (stream `comment-<id>`).
    CommentPosted version 1 { comment: CommentId, post: PostId, author: UserId, text: Sealed }
    /// A comment was removed by its author, the post's author or a moderator.
    CommentRemoved version 1 { comment: CommentId, post: PostId, by: UserId }
    /// A member bought a tagged product in one click (stream `order-<id>`).
    OrderPlaced version 1 {
        order: String,
        buyer: UserId,
        post: PostId,
        author: UserId,
        asin: Asin,
        quantity: u8,
        unit_price: Money,
        total: Money,
        gift: bool,
        commission: Option<Commission>,
    }
    /// A brand signed a contract with an enthusiast (stream `sponsorship-<id>`).
    ContractOpened version 1 {
        contract: ContractId,
        brand: UserId,
        brand_name: String,
        enthusiast: UserId,
        flat_fee: Option<Money>,
        commission_bp: Option<u32>,
        starts_at: i64,
        ends_at: i64,
    }
    /// The contract ended before its end date.
    ContractEnded version 1 { contract: ContractId, by: String, reason: String }
    /// A Prime member reported a post to the moderators (stream `report-<id>`).
    PostReported version 1 { report: ReportId, post: PostId, reporter: UserId, reason: ReportReason }
    /// A moderator decided a report; an upheld one also removed the post (`PostRemoved`,
    /// appended first, on the post's stream).
    ReportResolved version 1 { report: ReportId, post: PostId, by: UserId, decision: ReportDecision }
    /// A member was forgotten at their request or an admin's (GDPR Art. 17; stream
    /// `user-<id>`). It holds no personal data; right after it is appended the member's key
    /// is destroyed, so every value ever sealed for them (handle, name, captions, comments,
    /// media URLs, alt texts) is unreadable everywhere, while counts, amounts, contracts,
    /// the hash chain and the Merkle tree stay as they were.
    MemberForgotten version 1 { user: UserId, by: String }
    /// A member followed a creator (stream `follow-<member>.<creator>`).
    Followed version 1 { member: UserId, creator: UserId }
    /// A member stopped following a creator.
    Unfollowed version 1 { member: UserId, creator: UserId }
    /// A member said they are not interested in a post, an author, a product or an
    /// interest (stream `feedprefs-<member>`).
    MarkedNotInterested version 1 { member: UserId, target: FeedTarget }
    /// A member took a "not interested" back.
    NotInterestedUndone version 1 { member: UserId, target: FeedTarget }
    /// A member chose how `forYou` is ordered.
    FeedModeSet version 1 { member: UserId, mode: FeedMode }
}

/// The upcasters of every domain event (none yet: everything is at version 1).
pub fn upcasters() -> Upcasters {
    Upcasters::new()
}
