//! The member's own feed controls: following creators, "not interested", and the feed
//! mode (EU DSA Art. 27 and 38: a member sees why, and may turn profiling off).

use crate::commands::Command;
use crate::events::{
    AccountKind, FeedModeSet, FeedTarget, Followed, MarkedNotInterested, NotInterestedUndone,
    Unfollowed,
};
use crate::limits::MAX_HIDDEN;
use crate::state::{FeedPrefsState, FollowState, UserState};
use crate::{Refusal, UserId};

use super::checks::{registered, signed_in};
use super::{Actor, Decided, Decision, not_decided_here};

/// What the controls' rules read.
#[derive(Clone, Debug)]
pub struct Given {
    /// Who issues the command.
    pub actor: Actor,
    /// The creator followed or unfollowed.
    pub creator: UserState,
    /// Whether the caller follows that creator now.
    pub follow: FollowState,
    /// The caller's feed controls.
    pub prefs: FeedPrefsState,
    /// Whether the target of a "not interested" exists (a published post, a registered
    /// member, a listed product, an interest in the catalog).
    pub target_exists: bool,
}

/// The controls' rules.
pub fn decide(given: &Given, command: &Command) -> Decision {
    let (member, _) = signed_in(&given.actor)?;
    let member = member.clone();
    match command {
        Command::Follow { creator } | Command::Unfollow { creator } => {
            let follow = matches!(command, Command::Follow { .. });
            if follow {
                followable(&member, creator, &given.creator)?;
            }
            let creator = creator.clone();
            match (follow, given.follow.following) {
                (true, true) => Err(Refusal::AlreadyFollowing),
                (false, false) => Err(Refusal::NotFollowing),
                (true, false) => Ok(vec![Decided::event(Followed { member, creator })]),
                (false, true) => Ok(vec![Decided::event(Unfollowed { member, creator })]),
            }
        }
        Command::NotInterested { target } => {
            if given.prefs.hidden.contains(target) {
                return Err(Refusal::AlreadyHidden);
            }
            if !given.target_exists {
                return Err(unknown(target));
            }
            if given.prefs.hidden.len() >= MAX_HIDDEN {
                return Err(Refusal::TooManyHidden(MAX_HIDDEN));
            }
            let target = target.clone();
            Ok(vec![Decided::event(MarkedNotInterested { member, target })])
        }
        Command::UndoNotInterested { target } => {
            if !given.prefs.hidden.contains(target) {
                return Err(Refusal::NotHidden);
            }
            let target = target.clone();
            Ok(vec![Decided::event(NotInterestedUndone { member, target })])
        }
        // Setting the mode it has already writes nothing: the command is carried out.
        Command::SetFeedMode { mode } if *mode == given.prefs.mode => Ok(vec![]),
        Command::SetFeedMode { mode } => Ok(vec![Decided::event(FeedModeSet {
            member,
            mode: *mode,
        })]),
        _ => Err(not_decided_here("controls")),
    }
}

/// A creator `member` may follow: a registered, unforgotten member other than themself.
fn followable(member: &UserId, creator: &UserId, state: &UserState) -> Result<(), Refusal> {
    if creator == member {
        return Err(Refusal::CannotFollowSelf);
    }
    registered(creator, state)?;
    if state.forgotten {
        return Err(Refusal::UnknownUser(creator.to_string()));
    }
    if state.kind == Some(AccountKind::Brand) {
        return Err(Refusal::CannotFollowBrand);
    }
    Ok(())
}

/// The refusal for a target that does not exist.
fn unknown(target: &FeedTarget) -> Refusal {
    match target {
        FeedTarget::Post(p) => Refusal::UnknownPost(p.to_string()),
        FeedTarget::Author(u) => Refusal::UnknownUser(u.to_string()),
        FeedTarget::Product(a) => Refusal::UnknownProduct(a.to_string()),
        FeedTarget::Interest(i) => Refusal::UnknownInterest(i.to_string()),
    }
}
