//! Every limit the rules enforce, in one place. Each is inclusive: "at most".
//!
//! The API's own limits (page sizes, body size, depth) live in `crates/api`; these are
//! the rules of the domain, and a refusal for breaking one is `VALIDATION` (except
//! [`MAX_INTERESTS_CHOSEN`], which has its own code, `TOO_MANY_INTERESTS`).

/// Interests a member follows.
pub const MAX_INTERESTS_CHOSEN: usize = 5;
/// Interests a post is filed under (at least one).
pub const MAX_POST_INTERESTS: usize = 3;
/// Interests a product is listed under (at least one).
pub const MAX_PRODUCT_INTERESTS: usize = 3;
/// A post's caption, in characters (it may be empty).
pub const MAX_CAPTION_CHARS: usize = 2_200;
/// Media of a post (at least one).
pub const MAX_MEDIA: usize = 10;
/// A medium's alternative text, in characters (it may be empty).
pub const MAX_ALT_CHARS: usize = 500;
/// Product tags of a post, at publication and after.
pub const MAX_TAGS: usize = 20;
/// A comment's text, in characters (at least one).
pub const MAX_COMMENT_CHARS: usize = 1_000;
/// The reason given for removing a post or ending a contract, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// A member's display name or a brand's name, in characters (at least one).
pub const MAX_NAME_CHARS: usize = 80;
/// An interest's display name, in characters (at least one).
pub const MAX_INTEREST_NAME_CHARS: usize = 60;
/// A product's title, in characters (at least one).
pub const MAX_TITLE_CHARS: usize = 200;
/// A URL (media, product image), in bytes.
pub const MAX_URL_BYTES: usize = 2_048;
/// Items of one order (at least one).
pub const MAX_QUANTITY: u8 = 10;
/// A buy's idempotency key, in characters (at least one); also the longest client key.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 100;
/// The shortest client key an anonymous caller may send, in characters: with no account
/// to scope it, the key is the only secret of the retry (a registration's answer carries
/// a token).
pub const MIN_ANONYMOUS_KEY_CHARS: usize = 16;
/// The largest price or fee, in minor units (a hundred million in the major unit).
/// Invariant: [`MAX_QUANTITY`] times it, times [`MAX_COMMISSION_BP`], fits in a `u64`, so
/// an order's total and commission never overflow.
pub const MAX_PRICE_CENTS: u64 = 10_000_000_000;
/// A contract's commission rate, in basis points (at least one).
pub const MAX_COMMISSION_BP: u32 = 5_000;
/// The longest re-buy window of an interest, in days (ten years; at least one).
pub const MAX_REBUY_WINDOW_DAYS: u32 = 3_650;
/// The associate commission of enthusiasts on purchases through unsponsored posts, in
/// basis points.
pub const ASSOCIATE_RATE_BP: u32 = 300;

/// How often a command is decided again after losing an optimistic-concurrency race
/// before it is refused `CONFLICT`.
pub(crate) const MAX_ATTEMPTS: usize = 8;
/// Beyond this many cached aggregates the cache is dropped and refilled from the log.
pub(crate) const MAX_CACHED: usize = 100_000;

const _: () = assert!(
    (MAX_PRICE_CENTS as u128) * (MAX_QUANTITY as u128) * (MAX_COMMISSION_BP as u128)
        <= u64::MAX as u128
);

/// The most "not interested" marks a member holds at once (`TOO_MANY_HIDDEN` beyond).
pub const MAX_HIDDEN: usize = 1_000;
