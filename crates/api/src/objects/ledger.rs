//! The sponsorship ledger's reads and who may see what of them ([`Reader`]).
//!
//! Public, with no token (what an EU ad repository publishes, DSA Art. 39): the contract,
//! the brand (who paid, and on whose behalf the posts were presented), the enthusiast
//! (who was paid), the period, the posts with their disclosures, and every entry's log
//! position and hash. The terms and the sales (fee, commission rate, purchase count,
//! totals, commissions earned): the contract's brand and enthusiast, auditors and admins.
//! The individual orders (buyer and amount): auditors and admins.
//!
//! A field the caller may not see answers `null` with an error on that field:
//! `UNAUTHENTICATED` without a token, `FORBIDDEN` with one.

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{Context, ID};
use sparkfeed_domain::{ContractId, Role as DomainRole, UserId};
use sparkfeed_projections::audit::read::{self as ledger, ContractFilter};
use sparkfeed_projections::audit::rows::Terms;
use sparkfeed_projections::audit::{AUDIT, rows::ContractRow};

use super::sponsorship::Sponsorship;
use crate::ctx::{Gql, api, reads, viewer};
use crate::error::{ApiError, ApiResult};
use crate::paging::{Cursor, Fetched, page};

/// Who asks, as far as the ledger cares: read once per list, shared by its items.
pub(crate) struct Reader {
    user: Option<UserId>,
    /// Holds the auditor or the admin role.
    auditor: bool,
}

impl Reader {
    /// The caller of `ctx`.
    pub fn of(ctx: &Context<'_>) -> ApiResult<Arc<Self>> {
        let user = viewer(ctx).cloned();
        let auditor = match &user {
            Some(user) => api(ctx).domain.account(user)?.is_some_and(|a| {
                a.roles.contains(&DomainRole::Auditor) || a.roles.contains(&DomainRole::Admin)
            }),
            None => false,
        };
        Ok(Arc::new(Self { user, auditor }))
    }

    /// `Ok` for the contract's brand and enthusiast, auditors and admins; `what` names
    /// what the others are refused.
    pub fn party(&self, terms: &Terms, what: &str) -> ApiResult<()> {
        match &self.user {
            _ if self.auditor => Ok(()),
            None => Err(ApiError::Unauthenticated),
            Some(u) if *u == terms.brand || *u == terms.enthusiast => Ok(()),
            Some(_) => Err(ApiError::Forbidden(format!(
                "only the contract's brand and enthusiast, auditors and admins see its {what}"
            ))),
        }
    }

    /// `Ok` for auditors and admins; `what` names what the others are refused.
    pub fn auditor(&self, what: &str) -> ApiResult<()> {
        match &self.user {
            _ if self.auditor => Ok(()),
            None => Err(ApiError::Unauthenticated),
            Some(_) => Err(ApiError::Forbidden(format!(
                "{what}: this needs the auditor or admin role"
            ))),
        }
    }
}

/// A contract id argument, or `BAD_USER_INPUT` on `contractId`.
pub(crate) fn contract_id(id: &ID) -> ApiResult<ContractId> {
    ContractId::parse(id).map_err(|e| ApiError::input("contractId", e.to_string()))
}

/// The account named by argument `field`: `BAD_USER_INPUT` when malformed, `NOT_FOUND`
/// when no account has that id.
pub(crate) fn account_id(ctx: &Context<'_>, field: &'static str, id: &ID) -> ApiResult<UserId> {
    let user = UserId::parse(id).map_err(|e| ApiError::input(field, e.to_string()))?;
    if reads(ctx).member(&user)?.is_none() {
        return Err(ApiError::NotFound(format!("account {user}")));
    }
    Ok(user)
}

/// The contract `id` in the ledger: `BAD_USER_INPUT` when malformed, `NOT_FOUND` when no
/// contract has that id.
pub(crate) fn sponsorship(ctx: &Context<'_>, id: &ID) -> ApiResult<Sponsorship> {
    let contract = contract_id(id)?;
    let row = ledger::contract(&api(ctx).projections.tree(AUDIT)?, &contract)?
        .ok_or_else(|| ApiError::NotFound(format!("contract {contract}")))?;
    Ok(Sponsorship::new(row, Reader::of(ctx)?))
}

/// A page of the contracts `filter` admits, in the order they were opened.
pub(crate) fn sponsorship_page(
    ctx: &Context<'_>,
    filter: &ContractFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Gql<Connection<Cursor, Sponsorship>> {
    page(first, after, api(ctx).limits.max_page, |p| {
        let reader = Reader::of(ctx)?;
        let found =
            ledger::contracts(&api(ctx).projections.tree(AUDIT)?, filter, p.first, p.after)?;
        let items = found
            .items
            .into_iter()
            .map(|(at, row): (_, ContractRow)| (at, Sponsorship::new(row, Arc::clone(&reader))));
        Ok(Fetched::nodes(items, found.has_next))
    })
}
