//! The keys of the `foryou` rows: the only place one is spelled.

use sparkfeed_domain::{PostId, UserId};

/// A member's signals.
pub fn signals(member: &UserId) -> Vec<u8> {
    let mut key = b"sig|".to_vec();
    key.extend_from_slice(member.as_str().as_bytes());
    key
}

/// A post's author, interests and products.
pub fn facts(post: &PostId) -> Vec<u8> {
    let mut key = b"post|".to_vec();
    key.extend_from_slice(post.as_str().as_bytes());
    key
}

/// A member's engagements not folded into their signals yet.
pub fn unfolded(member: &UserId) -> Vec<u8> {
    let mut key = b"unfolded|".to_vec();
    key.extend_from_slice(member.as_str().as_bytes());
    key
}
