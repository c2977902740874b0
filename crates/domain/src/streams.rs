//! The stream every aggregate lives in: `<kind>-<id>`, named from ids only, so no stream
//! name carries personal data. The only place a stream name is spelled; every other crate
//! (projections, benches, tests) asks here.
//!
//! The handle reservation streams are keyed hashes and live with the key store
//! ([`crate::KeyStore::handle_stream`]).

use sparkfeed_events::StreamName;

use crate::{Asin, CommentId, ContractId, InterestSlug, PostId, ReportId, UserId};

fn stream(kind: &str, id: &str) -> StreamName {
    StreamName::of(kind, id).unwrap_or_else(|_| unreachable!("domain ids are valid stream ids"))
}

/// A member's account: registration, interests, roles.
pub fn user(user: &UserId) -> StreamName {
    stream("user", user.as_str())
}

/// A post: published, tagged, edited, removed.
pub fn post(post: &PostId) -> StreamName {
    stream("post", post.as_str())
}

/// A catalog product and its prices (the ASIN in lower case).
pub fn product(asin: &Asin) -> StreamName {
    stream("product", &asin.as_str().to_ascii_lowercase())
}

/// A catalog interest.
pub fn interest(interest: &InterestSlug) -> StreamName {
    stream("interest", interest.as_str())
}

/// A sponsorship contract.
pub fn contract(contract: &ContractId) -> StreamName {
    stream("sponsorship", contract.as_str())
}

/// A comment.
pub fn comment(comment: &CommentId) -> StreamName {
    stream("comment", comment.as_str())
}

/// One member's smiles and saves of one post: a stream per pair, so a viral post's
/// engagement never contends on one stream.
pub fn engagement(post: &PostId, member: &UserId) -> StreamName {
    stream("engagement", &format!("{post}.{member}"))
}

/// One member's shares of one post.
pub fn share(post: &PostId, member: &UserId) -> StreamName {
    stream("share", &format!("{post}.{member}"))
}

/// One member's follow of one creator: a stream per pair, like engagement.
pub fn follow(member: &UserId, creator: &UserId) -> StreamName {
    stream("follow", &format!("{member}.{creator}"))
}

/// A member's feed controls: what they hid, and the feed mode.
pub fn feed_prefs(member: &UserId) -> StreamName {
    stream("feedprefs", member.as_str())
}

/// An order, by its id ([`crate::order_id`]: a hash of the buyer and their key).
pub fn order(order_id: &str) -> StreamName {
    stream("order", order_id)
}

/// A member's report of a post, and its resolution.
pub fn report(report: &ReportId) -> StreamName {
    stream("report", report.as_str())
}
