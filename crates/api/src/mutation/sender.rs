//! Who sends a mutation ([`Sender`]: identity, then the rate token, then the role, all
//! before any argument is parsed) and how its command is run ([`run`]).

use std::sync::Arc;

use async_graphql::Context;
use sparkfeed_domain::events::AccountKind;
use sparkfeed_domain::{
    Caller, ClientKey, Command, DerivedId, Executed, Refusal, Role as DomainRole, UserId,
};

use crate::ctx::{api, signed_in, with_role};
use crate::error::{ApiError, ApiResult};
use crate::rate::ClientAddr;

/// Who sends a mutation, settled before its arguments are read, and the client's key.
pub(super) struct Sender {
    caller: Caller,
    key: Option<ClientKey>,
}

impl Sender {
    /// Anyone (registration), with an optional key.
    pub fn anyone(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        admit(ctx, None)?;
        Self::keyed(Caller::Anonymous, operation, key)
    }

    /// The signed-in member, or `UNAUTHENTICATED`.
    pub fn member(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let user = signed_in(ctx)?.clone();
        admit(ctx, Some(&user))?;
        Self::keyed(Caller::User(user), operation, key)
    }

    /// A signed-in Prime member, or `UNAUTHENTICATED` / `NOT_PRIME` (`BRANDS_CANNOT_POST`
    /// for a brand that publishes). The rules check it again; this only spares the parsers.
    pub fn prime(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let user = signed_in(ctx)?;
        admit(ctx, Some(user))?;
        let account = api(ctx).domain.account(user)?;
        match account {
            Some(a) if a.kind == Some(AccountKind::Member) && a.prime => {}
            Some(a) if a.kind == Some(AccountKind::Brand) && operation == "publishPost" => {
                return Err(Refusal::BrandsCannotPost.into());
            }
            _ => return Err(Refusal::NotPrime.into()),
        }
        Self::keyed(Caller::User(user.clone()), operation, key)
    }

    /// A signed-in moderator, or `UNAUTHENTICATED` / `FORBIDDEN`.
    pub fn moderator(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let user = signed_in(ctx)?.clone();
        admit(ctx, Some(&user))?;
        with_role(ctx, &[DomainRole::Moderator])?;
        Self::keyed(Caller::User(user), operation, key)
    }

    /// A signed-in admin, or `UNAUTHENTICATED` / `FORBIDDEN`.
    pub fn admin(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let user = signed_in(ctx)?.clone();
        admit(ctx, Some(&user))?;
        with_role(ctx, &[DomainRole::Admin])?;
        Self::keyed(Caller::User(user), operation, key)
    }

    /// A signed-in brand account, or `UNAUTHENTICATED` / `FORBIDDEN`.
    pub fn brand(ctx: &Context<'_>, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let user = signed_in(ctx)?;
        admit(ctx, Some(user))?;
        let account = api(ctx).domain.account(user)?;
        if account.and_then(|a| a.kind) != Some(AccountKind::Brand) {
            return Err(ApiError::Forbidden("this needs a brand account".into()));
        }
        Self::keyed(Caller::User(user.clone()), operation, key)
    }

    fn keyed(caller: Caller, operation: &str, key: Option<&str>) -> ApiResult<Self> {
        let key = key
            .map(|k| ClientKey::new(operation, &caller, k))
            .transpose()?;
        Ok(Self { caller, key })
    }

    /// The id of what this mutation creates: derived from the key, or fresh.
    pub fn new_id<T: DerivedId>(&self, generate: fn() -> T) -> T {
        self.key.as_ref().map_or_else(generate, ClientKey::derive)
    }

    /// The signed-in user (for mutations that answer with the viewer).
    pub fn user(&self) -> Option<&UserId> {
        match &self.caller {
            Caller::User(user) => Some(user),
            _ => None,
        }
    }
}

/// Lets one mutation in, or refuses it: `READ_ONLY` on a read-only server, else takes one
/// token from the caller's address and member buckets, or refuses with `RATE_LIMITED` and
/// sets `Retry-After` (whole seconds, at least 1) on the answer.
fn admit(ctx: &Context<'_>, member: Option<&UserId>) -> ApiResult<()> {
    if api(ctx).limits.read_only {
        return Err(ApiError::ReadOnly);
    }
    let address = ctx.data_opt::<ClientAddr>().map(|a| a.0);
    let Err(wait) = api(ctx).rates.take(member, address) else {
        return Ok(());
    };
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    ctx.insert_http_header(axum::http::header::RETRY_AFTER, seconds.to_string());
    Err(ApiError::TooMany {
        code: "RATE_LIMITED",
        reason: format!("too many mutations; retry after {seconds} s"),
    })
}

/// Carries out `command` for the sender and waits until every projection has applied it.
pub(super) async fn run(
    ctx: &Context<'_>,
    sender: Sender,
    command: Command,
) -> ApiResult<Executed> {
    let api = Arc::clone(api(ctx));
    let domain = api.domain.clone();
    let writer = sender.user().cloned();
    let done = tokio::spawn(async move {
        let context = match &sender.key {
            Some(key) => domain.keyed_context(sender.caller, key, &command)?,
            None => sparkfeed_domain::Context::new(sender.caller),
        };
        domain.execute(&context, &command).await
    })
    .await
    .map_err(|_| ApiError::Internal { code: "INTERNAL" })??;
    if let Some(user) = &writer {
        api.responses.wrote(user, done.position);
    }
    // A written mutation keeps its answer a 200 even if a later field is rate-limited.
    ctx.insert_http_header(crate::http::WROTE_HEADER, "1");
    if let Err(e) = api
        .projections
        .wait_for(done.position, api.limits.read_your_writes)
        .await
    {
        // The write is durable; only the read-back may be stale. Say so in the log, and
        // answer: a retry would be wrong.
        tracing::warn!(position = done.position.0, error = %e, "projections lag behind a write");
    }
    Ok(done)
}
