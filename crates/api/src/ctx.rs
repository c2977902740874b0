//! What every resolver reads from its context: the server, the caller, the request's
//! reads (projections and their caches), and the key store that opens sealed text.

use std::sync::Arc;

use async_graphql::Context;
use async_graphql::context::ContextBase;
use sparkfeed_domain::{Role as DomainRole, Sealed, UserId};
use sparkfeed_projections::View;
use sparkfeed_projections::rows::PostCardRow;

use crate::Api;
use crate::auth::Identity;
use crate::error::{ApiError, ApiResult};
use crate::loaders::Reads;

/// The result type of resolvers.
pub(crate) type Gql<T> = async_graphql::Result<T>;

/// The shared state of the server.
pub(crate) fn api<'a>(ctx: &Context<'a>) -> &'a Arc<Api> {
    ctx.data_unchecked::<Arc<Api>>()
}

/// The signed-in user, if any.
pub(crate) fn viewer<'a>(ctx: &Context<'a>) -> Option<&'a UserId> {
    ctx.data_opt::<Identity>().and_then(|i| i.user.as_ref())
}

/// The signed-in user, or `UNAUTHENTICATED`.
pub(crate) fn signed_in<'a>(ctx: &Context<'a>) -> ApiResult<&'a UserId> {
    viewer(ctx).ok_or(ApiError::Unauthenticated)
}

/// The signed-in user holding one of `roles` (as the log has it now), or `FORBIDDEN`.
pub(crate) fn with_role<'a>(ctx: &Context<'a>, roles: &[DomainRole]) -> ApiResult<&'a UserId> {
    let user = signed_in(ctx)?;
    let account = api(ctx).domain.account(user)?;
    if account.is_some_and(|a| roles.iter().any(|r| a.roles.contains(r))) {
        Ok(user)
    } else {
        let names: Vec<String> = roles
            .iter()
            .map(|r| format!("{r:?}").to_lowercase())
            .collect();
        Err(ApiError::Forbidden(format!(
            "this needs the {} role",
            names.join(" or ")
        )))
    }
}

/// The request's reads of cards, members and products, each row read once.
pub(crate) fn reads<'a>(ctx: &Context<'a>) -> &'a Reads {
    ctx.data_unchecked::<Reads>()
}

/// The feeds projection as the request reads it.
pub(crate) fn feeds_tree(ctx: &Context<'_>) -> ApiResult<View> {
    reads(ctx).tree()
}

/// What a field's value is computed from, whichever path resolves it: the executor's
/// context or a directly resolved card's.
#[derive(Clone, Copy)]
pub(crate) struct Env<'a> {
    /// The server.
    pub api: &'a Api,
    /// The request's reads.
    pub reads: &'a Reads,
    /// The signed-in user, if any.
    pub viewer: Option<&'a UserId>,
}

impl<'a> Env<'a> {
    /// The environment of `ctx`, or `None` outside a request (no API or reads in its data).
    pub fn of<T>(ctx: &ContextBase<'a, T>) -> Option<Self> {
        Some(Self {
            api: ctx.data_opt::<Arc<Api>>()?,
            reads: ctx.data_opt::<Reads>()?,
            viewer: ctx.data_opt::<Identity>().and_then(|i| i.user.as_ref()),
        })
    }

    /// The environment of a resolver's context (which always runs inside a request).
    pub fn from_ctx(ctx: &Context<'a>) -> Self {
        Self {
            api: api(ctx),
            reads: reads(ctx),
            viewer: viewer(ctx),
        }
    }

    /// A sealed text, `None` once its owner was forgotten.
    pub fn unseal(&self, sealed: &Sealed) -> ApiResult<Option<String>> {
        self.api
            .domain
            .keys()
            .unseal(sealed)
            .map_err(|f| ApiError::Internal { code: f.code() })
    }

    /// The feeds projection as the request reads it.
    pub fn feeds(&self) -> ApiResult<View> {
        self.reads.tree()
    }
}

/// Opens a sealed text for the request of `ctx`.
pub(crate) fn unseal(ctx: &Context<'_>, sealed: &Sealed) -> ApiResult<Option<String>> {
    Env::from_ctx(ctx).unseal(sealed)
}

/// Whether `viewer` may see a removed post: its author, moderators and auditors.
pub(crate) fn may_see_removed(ctx: &Context<'_>, card: &PostCardRow) -> bool {
    let Some(user) = viewer(ctx) else {
        return false;
    };
    *user == card.body.author
        || api(ctx)
            .domain
            .account(user)
            .ok()
            .flatten()
            .is_some_and(|a| {
                [
                    DomainRole::Moderator,
                    DomainRole::Auditor,
                    DomainRole::Admin,
                ]
                .iter()
                .any(|r| a.roles.contains(r))
            })
}
