//! The demo world's files: one JSON object per line, meant to be read and edited by people.

use serde::{Deserialize, Serialize};

/// `interests.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InterestLine {
    /// Slug, such as `home-diy`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Days before a consumable bought here is shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuy_window_days: Option<u32>,
}

/// `products.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProductLine {
    /// ASIN.
    pub asin: String,
    /// Title.
    pub title: String,
    /// Price in cents.
    pub price_cents: u64,
    /// ISO currency.
    pub currency: String,
    /// Image URL.
    pub image_url: String,
    /// Interest slugs.
    pub interests: Vec<String>,
    /// Used up and bought again.
    pub consumable: bool,
}

/// `users.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserLine {
    /// Account id.
    pub id: String,
    /// Handle.
    pub handle: String,
    /// Display name (for brands, the brand's name).
    pub display_name: String,
    /// `member` or `brand`.
    pub kind: String,
    /// Prime membership active.
    #[serde(default)]
    pub prime: bool,
    /// Roles: enthusiast, moderator, analyst, auditor, admin.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Chosen interests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interests: Vec<String>,
}

/// `contracts.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContractLine {
    /// Contract id.
    pub id: String,
    /// The brand's account id.
    pub brand: String,
    /// The enthusiast's account id.
    pub enthusiast: String,
    /// Flat fee in cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flat_fee_cents: Option<u64>,
    /// Commission in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_bp: Option<u32>,
    /// Start, in days from the moment of seeding (negative: in the past).
    pub starts_in_days: i64,
    /// End, in days from the moment of seeding.
    pub ends_in_days: i64,
}

/// A medium of a post line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MediaLine {
    /// `image` or `video`.
    pub kind: String,
    /// URL.
    pub url: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Alternative text.
    pub alt: String,
}

/// A tag of a post line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TagLine {
    /// ASIN.
    pub asin: String,
    /// Medium index.
    pub media_index: u8,
    /// X in [0, 1].
    pub x: f32,
    /// Y in [0, 1].
    pub y: f32,
}

/// `posts.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PostLine {
    /// Post id.
    pub id: String,
    /// Author's account id.
    pub author: String,
    /// Caption.
    pub caption: String,
    /// Media.
    pub media: Vec<MediaLine>,
    /// Interest slugs.
    pub interests: Vec<String>,
    /// Product tags.
    #[serde(default)]
    pub tags: Vec<TagLine>,
    /// The sponsorship contract, for sponsored posts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
}

/// `activity.jsonl`: what members did, in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActivityLine {
    /// A smile.
    Smile {
        /// Member id.
        member: String,
        /// Post id.
        post: String,
    },
    /// A smile taken back.
    Unsmile {
        /// Member id.
        member: String,
        /// Post id.
        post: String,
    },
    /// A save.
    Save {
        /// Member id.
        member: String,
        /// Post id.
        post: String,
    },
    /// A share.
    Share {
        /// Member id.
        member: String,
        /// Post id.
        post: String,
        /// link, message, email or social.
        channel: String,
    },
    /// A comment.
    Comment {
        /// Comment id.
        id: String,
        /// Member id.
        member: String,
        /// Post id.
        post: String,
        /// Text.
        text: String,
    },
    /// A one-click buy.
    Buy {
        /// Member id.
        member: String,
        /// Post id.
        post: String,
        /// ASIN.
        asin: String,
        /// 1 to 10.
        quantity: u8,
        /// Idempotency key (a repeated key is a retried click).
        key: String,
        /// Bought as a gift.
        #[serde(default)]
        gift: bool,
    },
    /// A new price.
    Reprice {
        /// ASIN.
        asin: String,
        /// New price in cents.
        price_cents: u64,
    },
    /// A post removed by a moderator.
    RemovePost {
        /// Moderator id.
        by: String,
        /// Post id.
        post: String,
        /// Why.
        reason: String,
    },
    /// A contract ended early by its brand.
    EndContract {
        /// Brand id.
        brand: String,
        /// Contract id.
        contract: String,
    },
}
