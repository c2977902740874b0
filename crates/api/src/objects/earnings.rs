//! `Earnings`: what a creator earned, in all, by month and by contract; `EarningsMonth`
//! and `ContractEarnings`, one line of each breakdown. Only for the creator themself
//! (`User.earnings` checks it before any of these is read).

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};
use sparkfeed_domain::{Money as DomainMoney, UserId};
use sparkfeed_events::Position;
use sparkfeed_projections::audit::AUDIT;
use sparkfeed_projections::audit::read::{self as ledger, ContractFilter};
use sparkfeed_projections::audit::rows::{
    ContractRow, Earnings as EarningsRow, Month, MonthEarnings,
};

use super::ledger::Reader;
use super::money::Money;
use super::sales::amounts;
use super::sponsorship::Sponsorship;
use crate::ctx::{Gql, api};
use crate::paging::{Cursor, Fetched, page, page_cost};
use crate::scalars::{DateTime, Int64};

/// What a member earned.
pub(crate) struct Earnings {
    user: UserId,
    row: EarningsRow,
}

impl Earnings {
    /// `user`'s earnings `row`.
    pub fn new(user: UserId, row: EarningsRow) -> Self {
        Self { user, row }
    }
}

/// `lists` added up, one amount per currency, in the order currencies first appear.
fn sum(lists: &[&[DomainMoney]]) -> Vec<Money> {
    let mut total: Vec<DomainMoney> = Vec::new();
    for amount in lists.iter().flat_map(|l| l.iter()) {
        match total.iter_mut().find(|m| m.currency == amount.currency) {
            Some(m) => m.cents = m.cents.saturating_add(amount.cents),
            None => total.push(*amount),
        }
    }
    amounts(&total)
}

/// What a creator earned: commissions on purchases through their posts (the associate
/// rate, 3%, on their unsponsored posts; a contract's own rate on posts under it, while it
/// is in force) and the flat fees of their contracts. A flat fee counts in full from the
/// moment the contract is opened, in the UTC month the contract starts (`startsAt`); an
/// early end does not take it back. Amounts are one per currency.
#[Object(serial)]
impl Earnings {
    /// How many orders earned them a commission.
    async fn orders(&self) -> Int64 {
        Int64(self.row.orders)
    }
    /// Commissions under sponsorship contracts. Per contract: `byContract`.
    async fn under_contracts(&self) -> Vec<Money> {
        amounts(&self.row.under_contracts)
    }
    /// Commissions as an associate, through their unsponsored posts.
    async fn as_associate(&self) -> Vec<Money> {
        amounts(&self.row.as_associate)
    }
    /// All commissions: `underContracts` and `asAssociate` together.
    async fn commissions(&self) -> Vec<Money> {
        sum(&[&self.row.under_contracts, &self.row.as_associate])
    }
    /// The flat fees of their contracts (including contracts that start later).
    async fn flat_fees(&self) -> Vec<Money> {
        amounts(&self.row.flat_fees)
    }
    /// Everything: commissions and flat fees.
    async fn total(&self) -> Vec<Money> {
        let r = &self.row;
        sum(&[&r.under_contracts, &r.as_associate, &r.flat_fees])
    }
    /// By UTC month, the newest first: the commissions of the orders placed that month and
    /// the fees of the contracts starting that month. Months with neither are left out.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn by_month(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, EarningsMonth>> {
        page(first, after, api(ctx).limits.max_page, |p| {
            let audit = api(ctx).projections.tree(AUDIT)?;
            let found = ledger::earnings_by_month(&audit, &self.user, p.first, p.after)?;
            let months = found
                .items
                .into_iter()
                .map(|(at, m)| (at, EarningsMonth(m)));
            Ok(Fetched::nodes(months, found.has_next))
        })
    }
    /// By contract, in the order they were opened: each one's flat fee, the commissions
    /// earned under it and the orders through its posts.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn by_contract(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, ContractEarnings>> {
        let filter = ContractFilter {
            enthusiast: Some(self.user.clone()),
            ..ContractFilter::default()
        };
        page(first, after, api(ctx).limits.max_page, |p| {
            let audit = api(ctx).projections.tree(AUDIT)?;
            let found = ledger::contracts(&audit, &filter, p.first, p.after)?;
            let reader = Reader::of(ctx)?;
            let items = found.items.into_iter().map(|(at, row): (Position, _)| {
                let reader = Arc::clone(&reader);
                (at, ContractEarnings { row, reader })
            });
            Ok(Fetched::nodes(items, found.has_next))
        })
    }
}

/// What a creator earned in one UTC month.
pub(crate) struct EarningsMonth(MonthEarnings);

/// What a creator earned in one UTC month.
#[Object(serial)]
impl EarningsMonth {
    /// The month, UTC: `2026-11`.
    async fn month(&self) -> String {
        self.0.month.to_string()
    }
    /// How many orders placed that month earned them a commission.
    async fn orders(&self) -> Int64 {
        Int64(self.0.orders)
    }
    /// Commissions under contracts on orders placed that month.
    async fn under_contracts(&self) -> Vec<Money> {
        amounts(&self.0.under_contracts)
    }
    /// Commissions as an associate on orders placed that month.
    async fn as_associate(&self) -> Vec<Money> {
        amounts(&self.0.as_associate)
    }
    /// All commissions on orders placed that month.
    async fn commissions(&self) -> Vec<Money> {
        sum(&[&self.0.under_contracts, &self.0.as_associate])
    }
    /// The flat fees of the contracts that start that month.
    async fn flat_fees(&self) -> Vec<Money> {
        amounts(&self.0.flat_fees)
    }
    /// Commissions and flat fees.
    async fn total(&self) -> Vec<Money> {
        let m = &self.0;
        sum(&[&m.under_contracts, &m.as_associate, &m.flat_fees])
    }
}

/// What a creator earned under one contract.
pub(crate) struct ContractEarnings {
    row: ContractRow,
    reader: Arc<Reader>,
}

/// What a creator earned under one contract.
#[Object(serial)]
impl ContractEarnings {
    /// The contract.
    async fn contract_id(&self) -> ID {
        ID(self.row.contract.to_string())
    }
    /// The brand's public name.
    async fn brand_name(&self) -> &str {
        &self.row.terms.brand_name
    }
    /// Its flat fee, if it has one: earned in full in `feeMonth`.
    async fn flat_fee(&self) -> Option<Money> {
        self.row.terms.flat_fee.map(Money)
    }
    /// The UTC month its flat fee counts in: the month it starts (`2026-11`).
    async fn fee_month(&self) -> String {
        Month::of(self.row.terms.starts_at).to_string()
    }
    /// Its commission rate in basis points, if it has one.
    async fn commission_bp(&self) -> Option<u32> {
        self.row.terms.commission_bp
    }
    /// The commissions earned under it (orders placed while it was in force).
    async fn commissions(&self) -> Vec<Money> {
        amounts(&self.row.sales.commissions)
    }
    /// Orders placed through its posts; those placed after it ended earn no commission.
    async fn orders(&self) -> Int64 {
        Int64(self.row.sales.purchases)
    }
    /// When it starts.
    async fn starts_at(&self) -> DateTime {
        DateTime::from_micros(self.row.terms.starts_at)
    }
    /// The contract itself, with its posts.
    async fn sponsorship(&self) -> Sponsorship {
        Sponsorship::new(self.row.clone(), Arc::clone(&self.reader))
    }
}
