//! Accounts: registration, interests, Prime and roles.

use async_graphql::{Context, ID, Object};
use sparkfeed_domain::{Command, Executed, Handle, UserId};

use super::args;
use super::payloads::{RegisterPayload, UserPayload, fresh_user, user_payload, written};
use super::sender::{Sender, run};
use crate::auth::DEFAULT_TOKEN_TTL;
use crate::ctx::{Gql, api, signed_in};
use crate::error::{ApiError, ApiResult};
use crate::objects::user::Role;

/// Accounts: registration, interests, Prime and roles.
#[derive(Default)]
pub(crate) struct AccountMutations;

/// Accounts: registration, interests, Prime and roles.
#[Object]
impl AccountMutations {
    /// Registers a member account under a unique handle; answers with a token for it.
    async fn register_user(
        &self,
        ctx: &Context<'_>,
        handle: String,
        display_name: String,
        idempotency_key: Option<String>,
    ) -> Gql<RegisterPayload> {
        let sender = Sender::anyone(ctx, "registerUser", idempotency_key.as_deref())?;
        let (user, done) = register(ctx, sender, &handle, |user, handle| {
            Command::RegisterMember {
                user,
                handle,
                display_name,
            }
        })
        .await?;
        Ok(RegisterPayload {
            token: api(ctx).tokens.mint(&user, DEFAULT_TOKEN_TTL),
            user: fresh_user(ctx, &user)?,
            position: written(&done),
        })
    }

    /// Registers a brand account (admins). Brands sponsor enthusiasts; they never post.
    async fn register_brand(
        &self,
        ctx: &Context<'_>,
        handle: String,
        brand_name: String,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let sender = Sender::admin(ctx, "registerBrand", idempotency_key.as_deref())?;
        let (user, done) = register(ctx, sender, &handle, |user, handle| {
            Command::RegisterBrand {
                user,
                handle,
                brand_name,
            }
        })
        .await?;
        Ok(user_payload(ctx, &user, done)?)
    }

    /// Chooses 1 to 5 interests for the signed-in member (replacing the previous choice).
    async fn choose_interests(
        &self,
        ctx: &Context<'_>,
        interests: Vec<String>,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let sender = Sender::member(ctx, "chooseInterests", idempotency_key.as_deref())?;
        let interests = args::interests(&interests)?;
        let done = run(ctx, sender, Command::ChooseInterests { interests }).await?;
        Ok(user_payload(ctx, signed_in(ctx)?, done)?)
    }

    /// Records that a member's Prime membership started (admins).
    async fn start_prime(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        on_user(ctx, "startPrime", idempotency_key, &user_id, |user| {
            Command::StartPrime { user }
        })
        .await
    }

    /// Records that a member's Prime membership ended (admins).
    async fn end_prime(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        on_user(ctx, "endPrime", idempotency_key, &user_id, |user| {
            Command::EndPrime { user }
        })
        .await
    }

    /// Grants a role (admins).
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let role = role.into();
        on_user(ctx, "grantRole", idempotency_key, &user_id, |user| {
            Command::GrantRole { user, role }
        })
        .await
    }

    /// Forgets a member (GDPR Art. 17): the member themself, or an admin. Appends
    /// `MemberForgotten` (which holds no personal data), then destroys the member's key:
    /// from then on no query, subscription, export or log line shows their handle, name,
    /// captions, comment texts, media URLs or alt texts (those fields answer `null`), while
    /// counts, order amounts, contracts, the hash chain and every Merkle proof stay as they
    /// were. The handle stays reserved, never given to anyone else, and `user(handle)` no
    /// longer finds the account; the member's tokens can do nothing more
    /// (`MEMBER_FORGOTTEN`). Twice: `ALREADY_FORGOTTEN`; an unknown id: `UNKNOWN_USER`.
    async fn forget_member(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let sender = Sender::member(ctx, "forgetMember", idempotency_key.as_deref())?;
        let user = args::user_id(&user_id)?;
        let done = run(ctx, sender, Command::ForgetMember { user: user.clone() }).await?;
        api(ctx).responses.forget_all();
        Ok(user_payload(ctx, &user, done)?)
    }

    /// Revokes a role (admins).
    async fn revoke_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
        idempotency_key: Option<String>,
    ) -> Gql<UserPayload> {
        let role = role.into();
        on_user(ctx, "revokeRole", idempotency_key, &user_id, |user| {
            Command::RevokeRole { user, role }
        })
        .await
    }
}

/// An admin's command on one account: the admin is checked (identity, rate token, role)
/// before `user_id` is parsed; answers with the account as it is now.
async fn on_user(
    ctx: &Context<'_>,
    operation: &str,
    idempotency_key: Option<String>,
    user_id: &ID,
    command: impl FnOnce(UserId) -> Command,
) -> Gql<UserPayload> {
    let sender = Sender::admin(ctx, operation, idempotency_key.as_deref())?;
    let user = args::user_id(user_id)?;
    let done = run(ctx, sender, command(user.clone())).await?;
    Ok(user_payload(ctx, &user, done)?)
}

/// Registers an account for a settled `sender`: parses `handle`, then runs `command` for
/// the account's id (derived from the idempotency key, or fresh).
async fn register(
    ctx: &Context<'_>,
    sender: Sender,
    handle: &str,
    command: impl FnOnce(UserId, Handle) -> Command,
) -> ApiResult<(UserId, Executed)> {
    let handle = Handle::parse(handle).map_err(|e| ApiError::input("handle", e.to_string()))?;
    let user = sender.new_id(UserId::generate);
    let done = run(ctx, sender, command(user.clone(), handle)).await?;
    Ok((user, done))
}
