//! `Sponsorship`: a contract of the sponsorship ledger, in the shape of an EU ad
//! repository (DSA Art. 39); `SponsoredPost`, a post published under it; `LedgerMark`,
//! where an entry of it is in the log. Who sees which field: [`super::ledger`].

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};
use sparkfeed_projections::audit::AUDIT;
use sparkfeed_projections::audit::read as ledger;
use sparkfeed_projections::audit::rows::{ContractRow, LedgerPost, Mark};

use super::disclosure::Disclosure;
use super::ledger::Reader;
use super::money::Money;
use super::nodes::{Post, User, load_user};
use super::sales::SponsorshipSales;
use crate::ctx::{Gql, api, may_see_removed, reads};
use crate::paging::{Cursor, Fetched, page, page_cost};
use crate::scalars::{DateTime, Int64};

/// A sponsorship contract, as the ledger holds it, for one reader.
pub(crate) struct Sponsorship {
    row: ContractRow,
    reader: Arc<Reader>,
}

impl Sponsorship {
    /// The contract `row` as `reader` may see it.
    pub fn new(row: ContractRow, reader: Arc<Reader>) -> Self {
        Self { row, reader }
    }
}

/// A sponsorship contract between a brand and an enthusiast: who paid, for whom, when,
/// and every post published under it. Public, as an EU ad repository publishes it (DSA
/// Art. 39); the terms (`flatFee`, `commissionBp`, `commissionPercent`) and `sales` only
/// for the contract's brand and enthusiast, auditors and admins.
#[Object(serial)]
impl Sponsorship {
    /// The contract: what a sponsored post is published under (`PublishPostInput.contractId`).
    async fn contract_id(&self) -> ID {
        ID(self.row.contract.to_string())
    }
    /// The payer, on whose behalf the posts are presented: the brand's account id.
    async fn brand_id(&self) -> ID {
        ID(self.row.terms.brand.to_string())
    }
    /// The brand's public name when the contract was opened (what disclosures show).
    async fn brand_name(&self) -> &str {
        &self.row.terms.brand_name
    }
    /// The brand's account.
    async fn brand(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        Ok(load_user(ctx, &self.row.terms.brand)?)
    }
    /// The beneficiary, who is paid and publishes the posts: the enthusiast's account id.
    async fn enthusiast_id(&self) -> ID {
        ID(self.row.terms.enthusiast.to_string())
    }
    /// The enthusiast's account (its handle is `null` once they were forgotten).
    async fn enthusiast(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        Ok(load_user(ctx, &self.row.terms.enthusiast)?)
    }
    /// The start of the period.
    async fn starts_at(&self) -> DateTime {
        DateTime::from_micros(self.row.terms.starts_at)
    }
    /// The end of the period as agreed (exclusive).
    async fn ends_at(&self) -> DateTime {
        DateTime::from_micros(self.row.terms.ends_at)
    }
    /// When the contract was ended before `endsAt`; `null` unless it was.
    async fn ended_early_at(&self) -> Option<DateTime> {
        let ended = self.row.ended.as_ref()?;
        Some(DateTime::from_micros(ended.mark.recorded_at))
    }
    /// Why it was ended early, as its brand or an admin said; `null` unless it was.
    async fn ended_reason(&self) -> Option<&str> {
        self.row.ended.as_ref().map(|e| e.reason.as_str())
    }
    /// Who ended it early: `user:<id>` (its brand or an admin) or `system:<name>`.
    async fn ended_by(&self) -> Option<&str> {
        self.row.ended.as_ref().map(|e| e.by.as_str())
    }
    /// Whether it is in force at `at` (by default, now): started, not past `endsAt`, not
    /// ended early by then. Sponsored posts are published only under a contract in force.
    async fn active(&self, at: Option<DateTime>) -> Gql<bool> {
        let at = match at {
            Some(at) => at.micros("at")?,
            None => sparkfeed_events::Timestamp::now().0,
        };
        Ok(self.row.is_active_at(at))
    }
    /// Its `ContractOpened` in the log.
    async fn opened(&self) -> LedgerMark {
        LedgerMark(self.row.opened.clone())
    }
    /// Its `ContractEnded` in the log; `null` unless it was ended early.
    async fn ended(&self) -> Option<LedgerMark> {
        self.row.ended.as_ref().map(|e| LedgerMark(e.mark.clone()))
    }
    /// Every post published under it, in the order they were published, removed ones
    /// included (the content an ad repository shows, with the disclosure exactly as shown).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, SponsoredPost>> {
        page(first, after, api(ctx).limits.max_page, |p| {
            let audit = api(ctx).projections.tree(AUDIT)?;
            let found = ledger::posts_under(&audit, &self.row.contract, p.first, p.after)?;
            let items = found
                .items
                .into_iter()
                .map(|(at, p)| (at, SponsoredPost(p)));
            Ok(Fetched::nodes(items, found.has_next))
        })
    }
    /// The flat fee, `null` when the terms have none. The contract's brand and
    /// enthusiast, auditors and admins only.
    async fn flat_fee(&self) -> Gql<Option<Money>> {
        self.reader.party(&self.row.terms, "fee")?;
        Ok(self.row.terms.flat_fee.map(Money))
    }
    /// The commission rate in basis points of each order's total (1,000 is 10%), `null`
    /// when the terms have none. The contract's brand and enthusiast, auditors and admins
    /// only.
    async fn commission_bp(&self) -> Gql<Option<u32>> {
        self.reader.party(&self.row.terms, "commission rate")?;
        Ok(self.row.terms.commission_bp)
    }
    /// The commission rate in percent (`commissionBp` / 100). The contract's brand and
    /// enthusiast, auditors and admins only.
    async fn commission_percent(&self) -> Gql<Option<f64>> {
        self.reader.party(&self.row.terms, "commission rate")?;
        Ok(self.row.terms.commission_bp.map(|bp| f64::from(bp) / 100.0))
    }
    /// The purchases attributed to it: count, totals, commissions earned (and, for
    /// auditors, each order). The contract's brand and enthusiast, auditors and admins only.
    async fn sales(&self) -> Gql<Option<SponsorshipSales>> {
        self.reader.party(&self.row.terms, "sales")?;
        Ok(Some(SponsorshipSales::new(
            self.row.contract.clone(),
            self.row.sales.clone(),
            Arc::clone(&self.reader),
        )))
    }
}

/// Where an entry of the ledger is in the log.
pub(crate) struct LedgerMark(pub Mark);

/// Where an entry of the ledger is in the log: check `hash` against `verifyLog` or an
/// `inclusionProof`.
#[Object(serial)]
impl LedgerMark {
    /// The event's log position.
    async fn position(&self) -> Int64 {
        Int64(self.0.position.0)
    }
    /// The record's chain hash (hex).
    async fn hash(&self) -> &str {
        &self.0.hash
    }
    /// When it was recorded.
    async fn recorded_at(&self) -> DateTime {
        DateTime::from_micros(self.0.recorded_at)
    }
}

/// A post published under a contract.
pub(crate) struct SponsoredPost(pub LedgerPost);

/// A post published under a sponsorship contract, with its disclosure. Public.
#[Object(serial)]
impl SponsoredPost {
    /// The post id.
    async fn post_id(&self) -> ID {
        ID(self.0.post.to_string())
    }
    /// The post; `null` once removed, except to its author, moderators and auditors.
    async fn post(&self, ctx: &Context<'_>) -> Gql<Option<Post>> {
        let card = reads(ctx).card(&self.0.post)?;
        Ok(card
            .filter(|c| !c.body.removed || may_see_removed(ctx, c))
            .map(Post))
    }
    /// The disclosure it shows, exactly as members see it (`label`).
    async fn disclosure(&self) -> Disclosure {
        Disclosure(self.0.disclosure.clone())
    }
    /// Its `PostPublished`'s log position.
    async fn position(&self) -> Int64 {
        Int64(self.0.published.position.0)
    }
    /// Its `PostPublished`'s chain hash (hex).
    async fn hash(&self) -> &str {
        &self.0.published.hash
    }
    /// When it was published.
    async fn published_at(&self) -> DateTime {
        DateTime::from_micros(self.0.published.recorded_at)
    }
    /// Its `PostRemoved` in the log; `null` unless it was removed.
    async fn removed(&self) -> Option<LedgerMark> {
        self.0.removed.clone().map(LedgerMark)
    }
}
