//! The checks several families share: who the caller is, the form of texts, URLs, prices
//! and interests, and whether a post is live and whose it is.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use crate::commands::{Caller, TagInput};
use crate::events::{AccountKind, Tag};
use crate::limits::{MAX_PRICE_CENTS, MAX_URL_BYTES};
use crate::state::{PostState, ProductState, UserState};
use crate::{Asin, InterestSlug, Money, PostId, Refusal, Role, UserId};

use super::Actor;

/// Whether `user` wrote `post`: the one check behind "only the author may".
pub fn is_author(post: &PostState, user: &UserId) -> bool {
    post.author.as_ref() == Some(user)
}

/// Refuses `NOT_AUTHOR` unless `user` wrote `post`.
pub(crate) fn author(post: &PostState, user: &UserId) -> Result<(), Refusal> {
    if is_author(post, user) {
        Ok(())
    } else {
        Err(Refusal::NotAuthor)
    }
}

/// The signed-in, registered account that issues the command.
pub(crate) fn signed_in(actor: &Actor) -> Result<(&UserId, &UserState), Refusal> {
    let Caller::User(user) = &actor.caller else {
        return Err(Refusal::Forbidden("member"));
    };
    registered(user, &actor.account)?;
    if actor.account.forgotten {
        return Err(Refusal::Forgotten);
    }
    Ok((user, &actor.account))
}

/// A signed-in Prime member (not a brand).
pub(crate) fn prime_member(actor: &Actor) -> Result<&UserId, Refusal> {
    let (user, state) = signed_in(actor)?;
    if state.kind != Some(AccountKind::Member) || !state.prime {
        return Err(Refusal::NotPrime);
    }
    Ok(user)
}

/// The name of an admin caller (`system:<name>` or `user:<id>`): a system component or
/// a member with the admin role.
pub(crate) fn admin(actor: &Actor) -> Result<String, Refusal> {
    match &actor.caller {
        Caller::System(name) => Ok(format!("system:{name}")),
        Caller::User(_) => {
            let (user, state) = signed_in(actor)?;
            if state.roles.contains(&Role::Admin) {
                Ok(format!("user:{user}"))
            } else {
                Err(Refusal::Forbidden("admin"))
            }
        }
        Caller::Anonymous => Err(Refusal::Forbidden("admin")),
    }
}

/// Refuses `UNKNOWN_USER` unless `state` is a registered account.
pub(crate) fn registered(user: &UserId, state: &UserState) -> Result<(), Refusal> {
    if state.kind.is_none() {
        return Err(Refusal::UnknownUser(user.to_string()));
    }
    Ok(())
}

/// The author of `post` when it is published and not removed.
pub(crate) fn live_post<'a>(id: &PostId, post: &'a PostState) -> Result<&'a UserId, Refusal> {
    let Some(author) = &post.author else {
        return Err(Refusal::UnknownPost(id.to_string()));
    };
    if post.removed {
        return Err(Refusal::PostRemoved(id.to_string()));
    }
    Ok(author)
}

/// `text` has `chars` characters (not bytes).
pub(crate) fn chars(
    field: &'static str,
    text: &str,
    chars: RangeInclusive<usize>,
) -> Result<(), Refusal> {
    let n = text.chars().count();
    if !chars.contains(&n) {
        return Err(Refusal::validation(
            field,
            format!(
                "expected {} to {} characters, got {n}",
                chars.start(),
                chars.end()
            ),
        ));
    }
    Ok(())
}

/// An http(s) URL of at most [`MAX_URL_BYTES`] bytes, with no white space.
pub(crate) fn url(field: &'static str, text: &str) -> Result<(), Refusal> {
    let ok = (text.starts_with("https://") || text.starts_with("http://"))
        && text.len() <= MAX_URL_BYTES
        && !text.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(Refusal::validation(
            field,
            format!("expected an http(s) URL of at most {MAX_URL_BYTES} bytes"),
        ))
    }
}

/// A price or fee: more than zero and at most [`MAX_PRICE_CENTS`].
pub(crate) fn positive_price(field: &'static str, money: Money) -> Result<(), Refusal> {
    if money.cents == 0 || money.cents > MAX_PRICE_CENTS {
        return Err(Refusal::validation(
            field,
            format!("expected more than zero and at most {MAX_PRICE_CENTS} minor units"),
        ));
    }
    Ok(())
}

/// 1 to `max` distinct interests, each in the catalog (`known`).
pub(crate) fn known_interests(
    field: &'static str,
    interests: &[InterestSlug],
    max: usize,
    known: &BTreeSet<InterestSlug>,
) -> Result<(), Refusal> {
    if interests.is_empty() || interests.len() > max {
        return Err(Refusal::validation(
            field,
            format!("expected 1 to {max} interests"),
        ));
    }
    for (i, interest) in interests.iter().enumerate() {
        if interests.iter().take(i).any(|seen| seen == interest) {
            return Err(Refusal::validation(field, "listed twice"));
        }
    }
    if let Some(unknown) = interests.iter().find(|i| !known.contains(*i)) {
        return Err(Refusal::UnknownInterest(unknown.to_string()));
    }
    Ok(())
}

/// A tag on one of `media` media, inside the picture, of a product in the catalog now.
pub(crate) fn tag(
    tag: &TagInput,
    media: usize,
    products: &BTreeMap<Asin, ProductState>,
) -> Result<Tag, Refusal> {
    if usize::from(tag.media_index) >= media {
        return Err(Refusal::validation(
            "tag.mediaIndex",
            format!("the post has {media} media"),
        ));
    }
    for (field, v) in [("tag.x", tag.x), ("tag.y", tag.y)] {
        if !(0.0..=1.0).contains(&v) {
            return Err(Refusal::validation(field, "expected a number in [0, 1]"));
        }
    }
    let available = products
        .get(&tag.asin)
        .and_then(ProductState::available_price);
    if available.is_none() {
        return Err(Refusal::UnknownProduct(tag.asin.to_string()));
    }
    Ok(Tag {
        asin: tag.asin.clone(),
        media_index: tag.media_index,
        x: tag.x,
        y: tag.y,
    })
}

/// Whether `tags` hold a tag of `asin` on medium `media_index`.
pub(crate) fn tagged(tags: &[Tag], asin: &Asin, media_index: u8) -> bool {
    tags.iter()
        .any(|t| t.asin == *asin && t.media_index == media_index)
}
