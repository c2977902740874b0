//! The old paths of every projection's queries; callers move to the per-projection
//! modules: [`crate::feeds::read`], [`crate::feeds::home`], [`crate::audit::read`],
//! [`crate::analytics::read`], and [`crate::list::Page`].

pub use crate::analytics::read::analytics;
pub use crate::audit::read::{sponsorship_history, sponsorship_history_of};
pub use crate::feeds::home::home_feed;
pub use crate::feeds::read::{
    comment, comments, feed, feed_head, feed_since, interest, interests, member, member_with,
    orders_of, post_body, post_card, post_card_with, posts_by, posts_by_since, product,
    product_posts, product_with, saved, saved_by, smiles, verified_purchaser, viewer_state,
};
pub use crate::feeds::walk::{FeedCursor, LivePolicy, Shown, WalkPage, interest_feed};
pub use crate::list::Page;
