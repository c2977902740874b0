//! What `User` answers about follows: the counts, the follower and following lists, and
//! whether the viewer follows them. Public, like the rest of a profile.

use async_graphql::Context;
use async_graphql::connection::Connection;
use sparkfeed_domain::UserId;
use sparkfeed_projections::View;
use sparkfeed_projections::creators::CREATORS;
use sparkfeed_projections::creators::read as creators;
use sparkfeed_projections::creators::rows::FollowCounts;

use super::nodes::{User, load_user};
use crate::ctx::{Gql, api, viewer};
use crate::error::ApiResult;
use crate::paging::{Cursor, Fetched, page};

/// The creators projection as it serves reads now.
pub(crate) fn creators_view(ctx: &Context<'_>) -> ApiResult<View> {
    Ok(api(ctx).projections.view(CREATORS)?)
}

/// How many follow `user`, and how many `user` follows.
pub(crate) fn counts(ctx: &Context<'_>, user: &UserId) -> ApiResult<FollowCounts> {
    Ok(creators::follow_counts(&creators_view(ctx)?, user)?)
}

/// Whether the signed-in member follows `creator` (false when signed out).
pub(crate) fn viewer_follows(ctx: &Context<'_>, creator: &UserId) -> ApiResult<bool> {
    match viewer(ctx) {
        Some(member) => Ok(creators::follows(&creators_view(ctx)?, member, creator)?),
        None => Ok(false),
    }
}

/// Which of a member's follow lists.
#[derive(Clone, Copy)]
pub(crate) enum List {
    /// Who follows them.
    Followers,
    /// Whom they follow.
    Following,
}

/// A page of `user`'s `list`, the latest follow first; the cursor is the follow's
/// position.
pub(crate) fn list(
    ctx: &Context<'_>,
    user: &UserId,
    which: List,
    first: Option<i32>,
    after: Option<String>,
) -> Gql<Connection<Cursor, User>> {
    page(first, after, api(ctx).limits.max_page, |p| {
        let view = creators_view(ctx)?;
        let found = match which {
            List::Followers => creators::followers(&view, user, p.first, p.after)?,
            List::Following => creators::following(&view, user, p.first, p.after)?,
        };
        let mut users = Vec::with_capacity(found.items.len());
        for (at, id) in found.items {
            if let Some(user) = load_user(ctx, &id)? {
                users.push((at, user));
            }
        }
        Ok(Fetched::nodes(users, found.has_next))
    })
}
