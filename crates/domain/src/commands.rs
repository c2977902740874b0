//! One command per user action. Fields are already-parsed domain types; lengths and ranges
//! are checked by the rules.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sparkfeed_events::{EventId, Timestamp};

use crate::events::{MediaKind, ReportDecision, ReportReason, ShareChannel};
use crate::{
    Asin, CommentId, ContractId, Handle, InterestSlug, Money, PostId, ReportId, Role, UserId,
};

/// Who issues a command.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Caller {
    /// A signed-in account.
    User(UserId),
    /// A trusted system component (the seeder, the membership service, an operator's CLI);
    /// it may do what an admin may.
    System(String),
    /// Nobody signed in: may only register.
    Anonymous,
}

/// The circumstances of one command.
#[derive(Clone, Debug)]
pub struct Context {
    /// Who issues it.
    pub caller: Caller,
    /// The command's id: its events' ids derive from it, so a retried command (same id)
    /// is written once.
    pub command_id: EventId,
    /// The time the rules use (contract windows).
    pub now: Timestamp,
    /// True when `command_id` derives from a client's [`ClientKey`]: the domain then answers
    /// a repeat with what the first run wrote, before applying any rule (a retried smile is
    /// the first smile, not `ALREADY_SMILED`).
    pub from_client_key: bool,
}

impl Context {
    /// A fresh command by `caller`, now.
    pub fn new(caller: Caller) -> Self {
        Self {
            caller,
            command_id: EventId::random(),
            now: Timestamp::now(),
            from_client_key: false,
        }
    }

    /// A command by `caller` whose id `command_id` came from a client's key (see
    /// [`crate::Domain::keyed_context`], which makes it), now.
    pub fn keyed(caller: Caller, command_id: EventId) -> Self {
        Self {
            caller,
            command_id,
            now: Timestamp::now(),
            from_client_key: true,
        }
    }
}

/// A client's idempotency key, scoped to one operation and one caller: a retry that sends
/// the same key is answered with the first result and writes nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ClientKey([u8; 32]);

impl ClientKey {
    /// The longest key accepted, in characters.
    pub const MAX_CHARS: usize = crate::limits::MAX_IDEMPOTENCY_KEY_CHARS;
    /// The shortest key an anonymous caller may send: with no account to scope it, the key
    /// is the only secret of the retry (a registration's answer carries a token).
    pub const MIN_ANONYMOUS_CHARS: usize = crate::limits::MIN_ANONYMOUS_KEY_CHARS;

    /// The key `key` of operation `operation` sent by `caller`; refused with `VALIDATION`
    /// (field `idempotencyKey`) when it is empty, longer than [`Self::MAX_CHARS`] or, for
    /// an anonymous caller, shorter than [`Self::MIN_ANONYMOUS_CHARS`].
    pub fn new(operation: &str, caller: &Caller, key: &str) -> Result<Self, crate::Refusal> {
        let min = match caller {
            Caller::Anonymous => Self::MIN_ANONYMOUS_CHARS,
            _ => 1,
        };
        let n = key.chars().count();
        if n < min || n > Self::MAX_CHARS {
            return Err(crate::Refusal::validation(
                "idempotencyKey",
                format!("expected {min} to {} characters, got {n}", Self::MAX_CHARS),
            ));
        }
        let who = match caller {
            Caller::User(user) => format!("user:{user}"),
            Caller::System(name) => format!("system:{name}"),
            Caller::Anonymous => "anonymous".to_owned(),
        };
        let digest = Sha256::new()
            .chain_update(b"sparkfeed/client-key/v1\0")
            .chain_update(operation)
            .chain_update([0u8])
            .chain_update(who)
            .chain_update([0u8])
            .chain_update(key)
            .finalize();
        Ok(Self(digest.into()))
    }

    /// The id of what the keyed command creates (a post, a comment, a contract, an
    /// account): the same for every retry, so a repeat finds the first one.
    pub fn derive<T: crate::ids::DerivedId>(&self) -> T {
        T::derived(&self.0)
    }

    /// The key's digest (operation, caller and key hashed).
    pub(crate) fn digest(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A medium as submitted.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct MediaInput {
    /// Image or video.
    pub kind: MediaKind,
    /// An http(s) URL.
    pub url: String,
    /// Pixels, at least 1.
    pub width: u32,
    /// Pixels, at least 1.
    pub height: u32,
    /// Alternative text, up to 500 characters.
    pub alt: String,
}

/// A product tag as submitted.
#[derive(Clone, Debug, Serialize)]
pub struct TagInput {
    /// The product.
    pub asin: Asin,
    /// Which medium (0-based).
    pub media_index: u8,
    /// Horizontal position in [0, 1].
    pub x: f32,
    /// Vertical position in [0, 1].
    pub y: f32,
}

/// Every action sparkfeed accepts.
///
/// Serialised only into a keyed command's fingerprint (bincode, hashed with the server's
/// pepper: see [`crate::Domain::keyed_context`]); a retry across a release that changes a
/// variant's fields is a new command.
#[derive(Clone, Debug, Serialize)]
pub enum Command {
    /// Register a member account under a unique handle (anyone may).
    RegisterMember {
        /// The new account's id.
        user: UserId,
        /// The handle to reserve.
        handle: Handle,
        /// The name shown (1 to 80 characters).
        display_name: String,
    },
    /// Register a brand account (admins).
    RegisterBrand {
        /// The new account's id.
        user: UserId,
        /// The handle to reserve.
        handle: Handle,
        /// The brand's public name (1 to 80 characters).
        brand_name: String,
    },
    /// Prime membership started, as the membership service reports it (admins, system).
    StartPrime {
        /// The member.
        user: UserId,
    },
    /// Prime membership ended (admins, system).
    EndPrime {
        /// The member.
        user: UserId,
    },
    /// The caller picks 1 to 5 interests from the catalog.
    ChooseInterests {
        /// The interests.
        interests: Vec<InterestSlug>,
    },
    /// Grant a role (admins).
    GrantRole {
        /// The member.
        user: UserId,
        /// The role.
        role: Role,
    },
    /// Revoke a role (admins).
    RevokeRole {
        /// The member.
        user: UserId,
        /// The role.
        role: Role,
    },
    /// Follow a creator (a member who is not the caller).
    Follow {
        /// The creator.
        creator: UserId,
    },
    /// Stop following a creator.
    Unfollow {
        /// The creator.
        creator: UserId,
    },
    /// Say "not interested" in a post, an author, a product or an interest.
    NotInterested {
        /// What.
        target: crate::events::FeedTarget,
    },
    /// Take a "not interested" back.
    UndoNotInterested {
        /// What.
        target: crate::events::FeedTarget,
    },
    /// Choose how `forYou` is ordered.
    SetFeedMode {
        /// The mode.
        mode: crate::events::FeedMode,
    },
    /// Forget a member (GDPR Art. 17): the member themself, or an admin. `MemberForgotten`
    /// is appended, then the member's key is destroyed.
    ForgetMember {
        /// The member.
        user: UserId,
    },
    /// Add an interest to the catalog (admins).
    AddInterest {
        /// Its slug.
        interest: InterestSlug,
        /// Its display name (1 to 60 characters).
        name: String,
        /// Re-buy window for consumables, in days.
        rebuy_window_days: Option<u32>,
    },
    /// List a product (admins).
    ListProduct {
        /// Its ASIN.
        asin: Asin,
        /// Its title (1 to 200 characters).
        title: String,
        /// Its price.
        price: Money,
        /// Its image (http(s) URL).
        image_url: String,
        /// 1 to 3 interests from the catalog.
        interests: Vec<InterestSlug>,
        /// Whether it is used up and bought again (coffee, vitamins).
        consumable: bool,
    },
    /// Change a product's price (admins).
    RepriceProduct {
        /// The product.
        asin: Asin,
        /// The new price.
        price: Money,
    },
    /// Take a product out of the catalog (admins).
    DelistProduct {
        /// The product.
        asin: Asin,
    },
    /// Publish a post (Prime members; under a contract for sponsored posts).
    PublishPost {
        /// The new post's id.
        post: PostId,
        /// Up to 2,200 characters.
        caption: String,
        /// 1 to 10 media.
        media: Vec<MediaInput>,
        /// 1 to 3 interests from the catalog.
        interests: Vec<InterestSlug>,
        /// Up to 20 product tags.
        tags: Vec<TagInput>,
        /// The contract a sponsored post is published under.
        contract: Option<ContractId>,
    },
    /// Edit a post's caption (its author).
    EditCaption {
        /// The post.
        post: PostId,
        /// Up to 2,200 characters.
        caption: String,
    },
    /// Tag a product in a post (its author).
    TagProduct {
        /// The post.
        post: PostId,
        /// The tag.
        tag: TagInput,
    },
    /// Untag a product (its author).
    UntagProduct {
        /// The post.
        post: PostId,
        /// The product.
        asin: Asin,
        /// On which medium.
        media_index: u8,
    },
    /// Remove a post (its author or a moderator).
    RemovePost {
        /// The post.
        post: PostId,
        /// Why (up to 500 characters).
        reason: String,
    },
    /// Smile at a post.
    Smile {
        /// The post.
        post: PostId,
    },
    /// Take a smile back.
    Unsmile {
        /// The post.
        post: PostId,
    },
    /// Save a post.
    SavePost {
        /// The post.
        post: PostId,
    },
    /// Unsave a post.
    UnsavePost {
        /// The post.
        post: PostId,
    },
    /// Share a post.
    SharePost {
        /// The post.
        post: PostId,
        /// Where to.
        channel: ShareChannel,
    },
    /// Comment on a post (up to 1,000 characters).
    Comment {
        /// The new comment's id.
        comment: CommentId,
        /// The post.
        post: PostId,
        /// The text.
        text: String,
    },
    /// Remove a comment (its author, the post's author or a moderator).
    RemoveComment {
        /// The comment.
        comment: CommentId,
    },
    /// Buy a product tagged in a post, in one click.
    Buy {
        /// The post bought through.
        post: PostId,
        /// The product, tagged in the post.
        asin: Asin,
        /// 1 to 10.
        quantity: u8,
        /// The client's key: a retried buy with the same key is the same order.
        idempotency_key: String,
        /// A gift says nothing about the buyer's own taste.
        gift: bool,
    },
    /// A brand signs a contract with an enthusiast.
    OpenContract {
        /// The new contract's id.
        contract: ContractId,
        /// The enthusiast.
        enthusiast: UserId,
        /// A flat fee.
        flat_fee: Option<Money>,
        /// A commission rate in basis points (at most 5,000).
        commission_bp: Option<u32>,
        /// Start, microseconds since the epoch.
        starts_at: i64,
        /// End (exclusive).
        ends_at: i64,
    },
    /// End a contract early (its brand or an admin).
    EndContract {
        /// The contract.
        contract: ContractId,
        /// Why (up to 500 characters).
        reason: String,
    },
    /// Report a post to the moderators (Prime members; once per member and post, never
    /// one's own).
    ReportPost {
        /// The post.
        post: PostId,
        /// Why.
        reason: ReportReason,
    },
    /// Decide a report (moderators): an upheld report removes the post.
    ResolveReport {
        /// The report.
        report: ReportId,
        /// Dismissed or upheld.
        decision: ReportDecision,
    },
}

impl Command {
    /// The part of the command that writes last (parts are numbered from 0; each writes
    /// one stream). Registration reserves the handle (part 0), then opens the account
    /// (part 1); an upheld report removes the post (part 0), then records the decision
    /// (part 1); every other command writes one stream.
    pub fn final_part(&self) -> u32 {
        match self {
            Command::RegisterMember { .. }
            | Command::RegisterBrand { .. }
            | Command::ResolveReport { .. } => 1,
            _ => 0,
        }
    }
}
