//! Domain ids from literals. Each panics on a literal its type refuses: in a test that is
//! a bug in the test, and the panic names the literal.

use sparkfeed_domain::{
    Asin, CommentId, ContractId, Currency, Handle, InterestSlug, Money, PostId, UserId,
};

/// A user id (`u0001`).
pub fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap_or_else(|e| panic!("user id {id:?}: {e}"))
}

/// A post id (`p00001`).
pub fn post(id: &str) -> PostId {
    PostId::parse(id).unwrap_or_else(|e| panic!("post id {id:?}: {e}"))
}

/// An ASIN (`B000000001`).
pub fn asin(text: &str) -> Asin {
    Asin::parse(text).unwrap_or_else(|e| panic!("ASIN {text:?}: {e}"))
}

/// An interest slug (`fitness`).
pub fn interest(slug: &str) -> InterestSlug {
    InterestSlug::parse(slug).unwrap_or_else(|e| panic!("interest {slug:?}: {e}"))
}

/// A handle (`ana`).
pub fn handle(text: &str) -> Handle {
    Handle::parse(text).unwrap_or_else(|e| panic!("handle {text:?}: {e}"))
}

/// A sponsorship contract id (`k0001`).
pub fn contract(id: &str) -> ContractId {
    ContractId::parse(id).unwrap_or_else(|e| panic!("contract id {id:?}: {e}"))
}

/// A comment id (`c00001`).
pub fn comment(id: &str) -> CommentId {
    CommentId::parse(id).unwrap_or_else(|e| panic!("comment id {id:?}: {e}"))
}

/// `cents` US cents.
pub fn usd(cents: u64) -> Money {
    Money::new(cents, Currency::USD)
}
