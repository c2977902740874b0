//! `AuditEntry`: one event of a sponsorship's history, as auditors trace it: its `kind`
//! and, typed, the facts that kind carries (every other typed field is `null`).

use async_graphql::{Enum, ID, Object};
use sparkfeed_projections::audit::rows::{Fact, Sale, Terms};
use sparkfeed_projections::rows::AuditEntry as AuditRow;

use super::disclosure::Disclosure;
use super::money::Money;
use crate::scalars::{DateTime, Int64};

/// One event of a sponsorship's history, as auditors trace it.
pub(crate) struct AuditEntry(pub AuditRow);

/// What an event of a sponsorship's history did.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum AuditEntryKind {
    /// A brand opened the contract: `brandId`, `brandName`, `enthusiastId`, `flatFee`,
    /// `commissionBp`, `startsAt`, `endsAt`.
    ContractOpened,
    /// A post was published under the contract: `authorId`, `disclosure`.
    SponsoredPostPublished,
    /// The author edited the caption of a sponsored post (the disclosure cannot change).
    SponsoredPostEdited,
    /// The author tagged a product in a sponsored post: `asin`.
    ProductTagged,
    /// The author untagged a product from a sponsored post: `asin`.
    ProductUntagged,
    /// The author or a moderator removed a sponsored post: `removedBy`, `reason`.
    SponsoredPostRemoved,
    /// A purchase through a sponsored post: `orderId`, `buyerId`, `asin`, `quantity`,
    /// `orderTotal`, `commission`.
    PurchaseAttributed,
    /// The contract ended before its end date: `endedBy`, `reason`.
    ContractEnded,
}

impl AuditEntry {
    fn terms(&self) -> Option<&Terms> {
        match &self.0.fact {
            Fact::ContractOpened(terms) => Some(terms),
            _ => None,
        }
    }

    fn sale(&self) -> Option<&Sale> {
        match &self.0.fact {
            Fact::PurchaseAttributed(sale) => Some(sale),
            _ => None,
        }
    }
}

/// One event of a sponsorship's history.
#[Object(serial)]
impl AuditEntry {
    /// Its log position.
    async fn position(&self) -> Int64 {
        Int64(self.0.position.0)
    }
    /// When.
    async fn recorded_at(&self) -> DateTime {
        DateTime::from_micros(self.0.recorded_at)
    }
    /// Who acted.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The event type.
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    /// The record's chain hash (hex): check it against `verifyLog`.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
    /// The contract.
    async fn contract_id(&self) -> ID {
        ID(self.0.contract.to_string())
    }
    /// The post concerned, if any.
    async fn post_id(&self) -> Option<ID> {
        self.0.post.as_ref().map(|p| ID(p.to_string()))
    }
    /// What happened, in words.
    #[graphql(
        deprecation = "read `kind` and the typed fields it names (brandId, flatFee, orderTotal, ...)"
    )]
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// What happened: it says which of the typed fields below are set.
    async fn kind(&self) -> AuditEntryKind {
        match &self.0.fact {
            Fact::ContractOpened(_) => AuditEntryKind::ContractOpened,
            Fact::SponsoredPostPublished { .. } => AuditEntryKind::SponsoredPostPublished,
            Fact::CaptionEdited => AuditEntryKind::SponsoredPostEdited,
            Fact::ProductTagged { .. } => AuditEntryKind::ProductTagged,
            Fact::ProductUntagged { .. } => AuditEntryKind::ProductUntagged,
            Fact::SponsoredPostRemoved { .. } => AuditEntryKind::SponsoredPostRemoved,
            Fact::PurchaseAttributed(_) => AuditEntryKind::PurchaseAttributed,
            Fact::ContractEnded { .. } => AuditEntryKind::ContractEnded,
        }
    }
    /// `CONTRACT_OPENED`: the brand, who pays.
    async fn brand_id(&self) -> Option<ID> {
        self.terms().map(|t| ID(t.brand.to_string()))
    }
    /// `CONTRACT_OPENED`: the brand's public name.
    async fn brand_name(&self) -> Option<&str> {
        self.terms().map(|t| t.brand_name.as_str())
    }
    /// `CONTRACT_OPENED`: the enthusiast, who is paid.
    async fn enthusiast_id(&self) -> Option<ID> {
        self.terms().map(|t| ID(t.enthusiast.to_string()))
    }
    /// `CONTRACT_OPENED`: the flat fee, if the terms have one.
    async fn flat_fee(&self) -> Option<Money> {
        self.terms().and_then(|t| t.flat_fee).map(Money)
    }
    /// `CONTRACT_OPENED`: the commission rate in basis points, if the terms have one.
    async fn commission_bp(&self) -> Option<u32> {
        self.terms().and_then(|t| t.commission_bp)
    }
    /// `CONTRACT_OPENED`: the start of the period.
    async fn starts_at(&self) -> Option<DateTime> {
        self.terms().map(|t| DateTime::from_micros(t.starts_at))
    }
    /// `CONTRACT_OPENED`: the end of the period (exclusive).
    async fn ends_at(&self) -> Option<DateTime> {
        self.terms().map(|t| DateTime::from_micros(t.ends_at))
    }
    /// `SPONSORED_POST_PUBLISHED`: the post's author.
    async fn author_id(&self) -> Option<ID> {
        match &self.0.fact {
            Fact::SponsoredPostPublished { author, .. } => Some(ID(author.to_string())),
            _ => None,
        }
    }
    /// `SPONSORED_POST_PUBLISHED`: the disclosure the post shows, its label exactly.
    async fn disclosure(&self) -> Option<Disclosure> {
        match &self.0.fact {
            Fact::SponsoredPostPublished { disclosure, .. } => Some(Disclosure(disclosure.clone())),
            _ => None,
        }
    }
    /// `PRODUCT_TAGGED`, `PRODUCT_UNTAGGED`, `PURCHASE_ATTRIBUTED`: the product's ASIN.
    async fn asin(&self) -> Option<&str> {
        match &self.0.fact {
            Fact::ProductTagged { asin } | Fact::ProductUntagged { asin } => Some(asin.as_str()),
            Fact::PurchaseAttributed(sale) => Some(sale.asin.as_str()),
            _ => None,
        }
    }
    /// `PURCHASE_ATTRIBUTED`: the order.
    async fn order_id(&self) -> Option<ID> {
        self.sale().map(|s| ID(s.order.clone()))
    }
    /// `PURCHASE_ATTRIBUTED`: who bought.
    async fn buyer_id(&self) -> Option<ID> {
        self.sale().map(|s| ID(s.buyer.to_string()))
    }
    /// `PURCHASE_ATTRIBUTED`: how many.
    async fn quantity(&self) -> Option<u8> {
        self.sale().map(|s| s.quantity)
    }
    /// `PURCHASE_ATTRIBUTED`: the order's total.
    async fn order_total(&self) -> Option<Money> {
        self.sale().map(|s| Money(s.total))
    }
    /// `PURCHASE_ATTRIBUTED`: the commission earned under the contract; `null` when the
    /// contract was no longer in force or has no commission rate.
    async fn commission(&self) -> Option<Money> {
        self.sale().and_then(|s| s.commission).map(Money)
    }
    /// `SPONSORED_POST_REMOVED`: who removed the post.
    async fn removed_by(&self) -> Option<ID> {
        match &self.0.fact {
            Fact::SponsoredPostRemoved { by, .. } => Some(ID(by.to_string())),
            _ => None,
        }
    }
    /// `CONTRACT_ENDED`: who ended it, `user:<id>` (its brand or an admin) or
    /// `system:<name>`.
    async fn ended_by(&self) -> Option<&str> {
        match &self.0.fact {
            Fact::ContractEnded { by, .. } => Some(by.as_str()),
            _ => None,
        }
    }
    /// `CONTRACT_ENDED`, `SPONSORED_POST_REMOVED`: the reason given.
    async fn reason(&self) -> Option<&str> {
        match &self.0.fact {
            Fact::ContractEnded { reason, .. } | Fact::SponsoredPostRemoved { reason, .. } => {
                Some(reason.as_str())
            }
            _ => None,
        }
    }
}
