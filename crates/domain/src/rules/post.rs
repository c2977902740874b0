//! Posts: published by Prime members (under an active contract when sponsored), shaped by
//! their author, removed by their author or a moderator.

use std::collections::{BTreeMap, BTreeSet};

use sparkfeed_events::Timestamp;

use crate::commands::{Caller, Command, MediaInput, TagInput};
use crate::events::{AccountKind, Disclosure, PostRemoved, ProductTagged, ProductUntagged, Tag};
use crate::limits::{
    MAX_ALT_CHARS, MAX_CAPTION_CHARS, MAX_MEDIA, MAX_POST_INTERESTS, MAX_REASON_CHARS, MAX_TAGS,
};
use crate::state::{ContractState, PostState, ProductState};
use crate::{Asin, ContractId, InterestSlug, PostId, Refusal, Role};

use super::checks::{self, author, chars, is_author, known_interests, live_post, signed_in};
use super::{Actor, Decided, Decision, not_decided_here};

/// What the post rules read.
#[derive(Clone, Debug)]
pub struct Given {
    /// Who issues the command.
    pub actor: Actor,
    /// The post published, edited, tagged or removed.
    pub post: PostState,
    /// Which of the interests named are in the catalog.
    pub known_interests: BTreeSet<InterestSlug>,
    /// The products tagged, by ASIN.
    pub products: BTreeMap<Asin, ProductState>,
    /// The contract a sponsored post is published under.
    pub contract: ContractState,
}

/// The post rules, at `now`.
pub fn decide(given: &Given, command: &Command, now: Timestamp) -> Decision {
    match command {
        Command::PublishPost {
            post,
            caption,
            media,
            interests,
            tags,
            contract,
        } => publish(
            given,
            Publish {
                post,
                caption,
                media,
                interests,
                tags,
                contract: contract.as_ref(),
            },
            now,
        ),
        Command::EditCaption { post, caption } => {
            let (user, _) = signed_in(&given.actor)?;
            chars("caption", caption, 0..=MAX_CAPTION_CHARS)?;
            live_post(post, &given.post)?;
            author(&given.post, user)?;
            Ok(vec![Decided::CaptionEdited {
                post: post.clone(),
                author: user.clone(),
                caption: caption.clone(),
            }])
        }
        Command::TagProduct { post, tag } => {
            let (user, _) = signed_in(&given.actor)?;
            live_post(post, &given.post)?;
            author(&given.post, user)?;
            if given.post.tags.len() >= MAX_TAGS {
                return Err(tags_limit());
            }
            let tag = checks::tag(tag, given.post.media, &given.products)?;
            if checks::tagged(&given.post.tags, &tag.asin, tag.media_index) {
                return Err(Refusal::validation("tag", "already tagged on this medium"));
            }
            Ok(vec![Decided::event(ProductTagged {
                post: post.clone(),
                tag,
            })])
        }
        Command::UntagProduct {
            post,
            asin,
            media_index,
        } => {
            let (user, _) = signed_in(&given.actor)?;
            live_post(post, &given.post)?;
            author(&given.post, user)?;
            if !checks::tagged(&given.post.tags, asin, *media_index) {
                return Err(Refusal::NotTagged(asin.to_string()));
            }
            Ok(vec![Decided::event(ProductUntagged {
                post: post.clone(),
                asin: asin.clone(),
                media_index: *media_index,
            })])
        }
        Command::RemovePost { post, reason } => {
            chars("reason", reason, 0..=MAX_REASON_CHARS)?;
            let written_by = live_post(post, &given.post)?;
            let by = match &given.actor.caller {
                // An operator's removal is recorded as the author's own.
                Caller::System(_) => written_by.clone(),
                _ => {
                    let (user, state) = signed_in(&given.actor)?;
                    if !is_author(&given.post, user) && !state.roles.contains(&Role::Moderator) {
                        return Err(Refusal::Forbidden("moderator"));
                    }
                    user.clone()
                }
            };
            Ok(vec![Decided::event(PostRemoved {
                post: post.clone(),
                by,
                reason: reason.clone(),
            })])
        }
        _ => Err(not_decided_here("post")),
    }
}

/// The fields of `Command::PublishPost`.
struct Publish<'a> {
    post: &'a PostId,
    caption: &'a str,
    media: &'a [MediaInput],
    interests: &'a [InterestSlug],
    tags: &'a [TagInput],
    contract: Option<&'a ContractId>,
}

fn publish(given: &Given, p: Publish<'_>, now: Timestamp) -> Decision {
    let (user, state) = signed_in(&given.actor)?;
    if state.kind == Some(AccountKind::Brand) {
        return Err(Refusal::BrandsCannotPost);
    }
    if !state.prime {
        return Err(Refusal::NotPrime);
    }
    chars("caption", p.caption, 0..=MAX_CAPTION_CHARS)?;
    known_interests(
        "interests",
        p.interests,
        MAX_POST_INTERESTS,
        &given.known_interests,
    )?;
    if p.tags.len() > MAX_TAGS {
        return Err(tags_limit());
    }
    let mut tags: Vec<Tag> = Vec::with_capacity(p.tags.len());
    for tag in p.tags {
        let tag = checks::tag(tag, p.media.len().min(MAX_MEDIA), &given.products)?;
        if checks::tagged(&tags, &tag.asin, tag.media_index) {
            return Err(Refusal::validation(
                "tags",
                "a product is tagged twice on one medium",
            ));
        }
        tags.push(tag);
    }
    let sponsorship = match p.contract {
        None => None,
        Some(id) => Some(disclosure(id, &given.contract, user, now)?),
    };
    media(p.media)?;
    if given.post.author.is_some() {
        return Err(Refusal::PostExists(p.post.to_string()));
    }
    Ok(vec![Decided::PostPublished {
        post: p.post.clone(),
        author: user.clone(),
        caption: p.caption.to_owned(),
        media: p.media.to_vec(),
        interests: p.interests.to_vec(),
        tags,
        sponsorship,
    }])
}

/// The disclosure of a post by `author` under `contract`, which must be theirs and in
/// force at `now`.
fn disclosure(
    id: &ContractId,
    contract: &ContractState,
    author: &crate::UserId,
    now: Timestamp,
) -> Result<Disclosure, Refusal> {
    let Some(opened) = &contract.opened else {
        return Err(Refusal::UnknownContract(id.to_string()));
    };
    if opened.enthusiast != *author {
        return Err(Refusal::NotPartyToContract(id.to_string()));
    }
    if !contract.is_active(now.0) {
        return Err(Refusal::ContractNotActive(id.to_string()));
    }
    Ok(Disclosure {
        contract: id.clone(),
        brand: opened.brand.clone(),
        brand_name: opened.brand_name.clone(),
    })
}

/// 1 to [`MAX_MEDIA`] media, each an http(s) URL with a size and a short alternative text.
fn media(media: &[MediaInput]) -> Result<(), Refusal> {
    if media.is_empty() || media.len() > MAX_MEDIA {
        return Err(Refusal::validation(
            "media",
            format!("expected 1 to {MAX_MEDIA} media"),
        ));
    }
    for m in media {
        checks::url("media.url", &m.url)?;
        chars("media.alt", &m.alt, 0..=MAX_ALT_CHARS)?;
        if m.width == 0 || m.height == 0 {
            return Err(Refusal::validation(
                "media.size",
                "width and height must be at least 1",
            ));
        }
    }
    Ok(())
}

fn tags_limit() -> Refusal {
    Refusal::validation("tags", format!("a post has at most {MAX_TAGS} tags"))
}
