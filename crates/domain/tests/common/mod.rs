//! Ids, media and commands shared by the domain's test binaries.

#![allow(dead_code)] // each binary uses its own share of them

use sparkfeed_domain::events::MediaKind;
use sparkfeed_domain::{
    Asin, Caller, Command, Currency, InterestSlug, MediaInput, Money, PostId, TagInput, UserId,
};

pub(crate) fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}
pub(crate) fn post(id: &str) -> PostId {
    PostId::parse(id).expect("valid post id")
}
pub(crate) fn asin(text: &str) -> Asin {
    Asin::parse(text).expect("valid asin")
}
pub(crate) fn interest(slug: &str) -> InterestSlug {
    InterestSlug::parse(slug).expect("valid interest")
}
pub(crate) fn usd(cents: u64) -> Money {
    Money::new(cents, Currency::USD)
}
pub(crate) fn as_user(id: &str) -> Caller {
    Caller::User(user(id))
}
pub(crate) fn system() -> Caller {
    Caller::System("test".into())
}

pub(crate) const DAY: i64 = 86_400_000_000;

pub(crate) fn media(n: usize) -> Vec<MediaInput> {
    (0..n)
        .map(|i| MediaInput {
            kind: MediaKind::Image,
            url: format!("https://img.example/{i}.jpg"),
            width: 1080,
            height: 1350,
            alt: format!("photo {i}"),
        })
        .collect()
}

pub(crate) fn tag(text: &str) -> TagInput {
    TagInput {
        asin: asin(text),
        media_index: 0,
        x: 0.5,
        y: 0.5,
    }
}

/// A post of `author`'s in fitness with the given tags.
pub(crate) fn publish(id: &str, tags: &[&str]) -> Command {
    Command::PublishPost {
        post: post(id),
        caption: "my morning kit".into(),
        media: media(1),
        interests: vec![interest("fitness")],
        tags: tags.iter().map(|t| tag(t)).collect(),
        contract: None,
    }
}
