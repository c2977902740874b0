//! `SponsorshipSales`: the purchases attributed to a contract; `AttributedPurchase`, one of
//! them (auditors only). What a member earned is in [`super::earnings`].

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};
use sparkfeed_domain::ContractId;
use sparkfeed_projections::audit::AUDIT;
use sparkfeed_projections::audit::read as ledger;
use sparkfeed_projections::audit::rows::{LedgerSale, SalesTotals};

use super::ledger::Reader;
use super::money::Money;
use super::nodes::{User, load_user};
use crate::ctx::{Gql, api};
use crate::paging::{Cursor, Fetched, page, page_cost};
use crate::scalars::{DateTime, Int64};

/// The purchases attributed to a contract, for one reader.
pub(crate) struct SponsorshipSales {
    contract: ContractId,
    totals: SalesTotals,
    reader: Arc<Reader>,
}

impl SponsorshipSales {
    /// The sales `totals` of `contract`, as `reader` may see them.
    pub fn new(contract: ContractId, totals: SalesTotals, reader: Arc<Reader>) -> Self {
        Self {
            contract,
            totals,
            reader,
        }
    }
}

/// Amounts as the API shows them.
pub(crate) fn amounts(amounts: &[sparkfeed_domain::Money]) -> Vec<Money> {
    amounts.iter().copied().map(Money).collect()
}

/// The purchases made through a contract's posts. Orders placed after the contract ended
/// count too (the post still shows its disclosure) but earn no commission under it.
#[Object(serial)]
impl SponsorshipSales {
    /// How many orders.
    async fn purchases(&self) -> Int64 {
        Int64(self.totals.purchases)
    }
    /// The orders' totals: one amount per currency (empty without orders).
    async fn totals(&self) -> Vec<Money> {
        amounts(&self.totals.totals)
    }
    /// The commissions the enthusiast earned under the contract: one amount per currency
    /// (empty when none was earned).
    async fn commissions_earned(&self) -> Vec<Money> {
        amounts(&self.totals.commissions)
    }
    /// Each order, oldest first, with its buyer and amount. Auditors and admins only.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Option<Connection<Cursor, AttributedPurchase>>> {
        self.reader.auditor("the orders of a sponsorship")?;
        let connection = page(first, after, api(ctx).limits.max_page, |p| {
            let audit = api(ctx).projections.tree(AUDIT)?;
            let found = ledger::sales_under(&audit, &self.contract, p.first, p.after)?;
            let items = found
                .items
                .into_iter()
                .map(|(at, s)| (at, AttributedPurchase(s)));
            Ok(Fetched::nodes(items, found.has_next))
        })?;
        Ok(Some(connection))
    }
}

/// An order placed through a sponsored post.
pub(crate) struct AttributedPurchase(pub LedgerSale);

/// An order placed through a post published under a contract, with its buyer and amount.
#[Object(serial)]
impl AttributedPurchase {
    /// The order id.
    async fn order_id(&self) -> ID {
        ID(self.0.sale.order.clone())
    }
    /// Who bought: their account id.
    async fn buyer_id(&self) -> ID {
        ID(self.0.sale.buyer.to_string())
    }
    /// Who bought.
    async fn buyer(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        Ok(load_user(ctx, &self.0.sale.buyer)?)
    }
    /// The sponsored post it was bought through.
    async fn post_id(&self) -> ID {
        ID(self.0.sale.post.to_string())
    }
    /// The product's ASIN.
    async fn asin(&self) -> &str {
        self.0.sale.asin.as_str()
    }
    /// How many.
    async fn quantity(&self) -> u8 {
        self.0.sale.quantity
    }
    /// The order's total.
    async fn total(&self) -> Money {
        Money(self.0.sale.total)
    }
    /// The commission it earned under the contract; `null` when the contract was no
    /// longer in force or has no commission rate.
    async fn commission(&self) -> Option<Money> {
        self.0.sale.commission.map(Money)
    }
    /// Its `OrderPlaced`'s log position.
    async fn position(&self) -> Int64 {
        Int64(self.0.mark.position.0)
    }
    /// Its `OrderPlaced`'s chain hash (hex).
    async fn hash(&self) -> &str {
        &self.0.mark.hash
    }
    /// When it was placed.
    async fn placed_at(&self) -> DateTime {
        DateTime::from_micros(self.0.mark.recorded_at)
    }
}
