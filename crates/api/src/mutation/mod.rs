//! The mutations: each one domain command, executed for the token's user, answered once
//! the projections have applied it. One file per family of commands, merged into one
//! `Mutation` type in this order.
//!
//! Invariant: a command runs to its end even if the client goes away (it is spawned), so a
//! command that writes to several streams is never cut in half by a dropped connection.
//! Invariant: who the caller is (and, where the rules need one, their role) is settled
//! before any argument is parsed ([`sender::Sender`]): an anonymous caller reaches no
//! parser of a signed-in operation.
//! Invariant: every mutation takes an optional `idempotencyKey` (`buy` a required one): a
//! retry with the same key and arguments answers the first result and writes nothing, and
//! what it creates (post, comment, contract, account) has an id derived from the key.

use async_graphql::MergedObject;

mod account;
mod args;
mod catalog;
mod contract;
mod controls;
mod engagement;
mod follow;
mod moderation;
mod operations;
mod order;
mod payloads;
mod post;
mod sender;

/// Every action sparkfeed accepts.
///
/// Retries: every mutation takes an optional `idempotencyKey` (`buy` a required one), 1 to
/// 100 characters, at least 16 when signed out (`registerUser`: use a fresh UUID). A retry
/// with the same key and arguments, by the same caller, is answered with the first result
/// and writes nothing, even after a `503` or a dropped connection. The same key with other
/// arguments is refused with `IDEMPOTENCY_CONFLICT` where it would create something else
/// (a post, comment, contract, account or order) and is otherwise a new request.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    account::AccountMutations,
    catalog::CatalogMutations,
    post::PostMutations,
    engagement::EngagementMutations,
    order::OrderMutations,
    contract::ContractMutations,
    controls::ControlsMutations,
    moderation::ModerationMutations,
    operations::OperationsMutations,
    follow::FollowMutations,
);
