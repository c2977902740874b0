//! The keys of the `foryou` rows: the only place one is spelled.

use sparkfeed_domain::{PostId, UserId};

/// `kind` then `id`, in one allocation (every engagement makes two of these keys).
fn joined(kind: &[u8], id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(kind.len() + id.len());
    key.extend_from_slice(kind);
    key.extend_from_slice(id.as_bytes());
    key
}

/// A member's signals.
pub fn signals(member: &UserId) -> Vec<u8> {
    joined(b"sig|", member.as_str())
}

/// A post's author, interests and products.
pub fn facts(post: &PostId) -> Vec<u8> {
    joined(b"post|", post.as_str())
}

/// A member's engagements not folded into their signals yet.
pub fn unfolded(member: &UserId) -> Vec<u8> {
    joined(b"unfolded|", member.as_str())
}
