//! Engagement with a post: smiles and saves (at most one live of each per member and
//! post), shares, comments.

use crate::commands::{Caller, Command};
use crate::events::{CommentRemoved, Saved, Shared, Smiled, Unsaved, Unsmiled};
use crate::limits::MAX_COMMENT_CHARS;
use crate::state::{CommentState, EngagementState, PostState};
use crate::{PostId, Refusal, Role, UserId};

use super::checks::{chars, is_author, live_post, prime_member, signed_in};
use super::{Actor, Decided, Decision, not_decided_here};

/// What the engagement rules read.
#[derive(Clone, Debug)]
pub struct Given {
    /// Who issues the command.
    pub actor: Actor,
    /// The post engaged with (for `RemoveComment`, the comment's post).
    pub post: PostState,
    /// The caller's smile and save of the post.
    pub engagement: EngagementState,
    /// The comment posted or removed.
    pub comment: CommentState,
}

/// Smile or save, on or off: the four engagement switches as one table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Switch {
    /// `Smile`.
    Smile,
    /// `Unsmile`.
    Unsmile,
    /// `SavePost`.
    Save,
    /// `UnsavePost`.
    Unsave,
}

impl Switch {
    /// The switch `command` flips, with its post.
    pub fn of(command: &Command) -> Option<(Switch, &PostId)> {
        match command {
            Command::Smile { post } => Some((Switch::Smile, post)),
            Command::Unsmile { post } => Some((Switch::Unsmile, post)),
            Command::SavePost { post } => Some((Switch::Save, post)),
            Command::UnsavePost { post } => Some((Switch::Unsave, post)),
            _ => None,
        }
    }

    /// Whether the member smiles at (for `Smile`, `Unsmile`) or has saved (for `Save`,
    /// `Unsave`) the post now.
    fn is_on(self, now: &EngagementState) -> bool {
        match self {
            Switch::Smile | Switch::Unsmile => now.smiling,
            Switch::Save | Switch::Unsave => now.saved,
        }
    }

    /// The event that flips it, or the refusal when it is already in that position. Every
    /// row names its switch and its position: no row depends on the order of the rows.
    fn flip(self, now: &EngagementState, post: &PostId, member: &UserId) -> Decision {
        let (post, member) = (post.clone(), member.clone());
        let event = match (self, self.is_on(now)) {
            (Switch::Smile, true) => return Err(Refusal::AlreadySmiled),
            (Switch::Smile, false) => Decided::event(Smiled { post, member }),
            (Switch::Unsmile, false) => return Err(Refusal::NotSmiled),
            (Switch::Unsmile, true) => Decided::event(Unsmiled { post, member }),
            (Switch::Save, true) => return Err(Refusal::AlreadySaved),
            (Switch::Save, false) => Decided::event(Saved { post, member }),
            (Switch::Unsave, false) => return Err(Refusal::NotSaved),
            (Switch::Unsave, true) => Decided::event(Unsaved { post, member }),
        };
        Ok(vec![event])
    }
}

/// The engagement rules.
pub fn decide(given: &Given, command: &Command) -> Decision {
    if let Some((switch, post)) = Switch::of(command) {
        let member = prime_member(&given.actor)?;
        live_post(post, &given.post)?;
        return switch.flip(&given.engagement, post, member);
    }
    match command {
        Command::SharePost { post, channel } => {
            let member = prime_member(&given.actor)?;
            live_post(post, &given.post)?;
            Ok(vec![Decided::event(Shared {
                post: post.clone(),
                member: member.clone(),
                channel: *channel,
            })])
        }
        Command::Comment {
            comment,
            post,
            text,
        } => {
            let author = prime_member(&given.actor)?;
            chars("text", text, 1..=MAX_COMMENT_CHARS)?;
            live_post(post, &given.post)?;
            if given.comment.posted.is_some() {
                return Err(Refusal::CommentExists(comment.to_string()));
            }
            Ok(vec![Decided::CommentPosted {
                comment: comment.clone(),
                post: post.clone(),
                author: author.clone(),
                text: text.clone(),
            }])
        }
        Command::RemoveComment { comment } => {
            let Some(posted) = given
                .comment
                .posted
                .as_ref()
                .filter(|_| !given.comment.removed)
            else {
                return Err(Refusal::UnknownComment(comment.to_string()));
            };
            let by = match &given.actor.caller {
                // An operator's removal is recorded as the commenter's own.
                Caller::System(_) => posted.author.clone(),
                _ => {
                    let (user, state) = signed_in(&given.actor)?;
                    let allowed = posted.author == *user
                        || is_author(&given.post, user)
                        || state.roles.contains(&Role::Moderator);
                    if !allowed {
                        return Err(Refusal::Forbidden("moderator"));
                    }
                    user.clone()
                }
            };
            Ok(vec![Decided::event(CommentRemoved {
                comment: comment.clone(),
                post: posted.post.clone(),
                by,
            })])
        }
        _ => Err(not_decided_here("engagement")),
    }
}
