//! The rows of the audit projection: the trail's [`AuditEntry`], each with its typed
//! [`Fact`], and the ledger's rows: a [`ContractRow`] per contract, with the
//! [`LedgerPost`]s and [`LedgerSale`]s under it, and each member's [`Earnings`].
//!
//! Rows hold no personal data: opaque ids, amounts, times, hashes, a brand's public name
//! and the free-text reasons brands, admins and moderators give.

use serde::{Deserialize, Serialize};
use sparkfeed_domain::events::Disclosure;
use sparkfeed_domain::{Asin, ContractId, Money, PostId, UserId};
use sparkfeed_events::Position;

/// One event of a sponsorship's history.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Log position.
    pub position: Position,
    /// When (microseconds since the epoch).
    pub recorded_at: i64,
    /// Who acted.
    pub actor: String,
    /// Event type.
    pub event_type: String,
    /// The record's chain hash (hex).
    pub hash: String,
    /// The contract.
    pub contract: ContractId,
    /// The post concerned, if any.
    pub post: Option<PostId>,
    /// What happened, in words (no personal data). Kept for old clients: [`Self::fact`]
    /// says the same, typed.
    pub summary: String,
    /// What happened, typed.
    pub fact: Fact,
}

impl AuditEntry {
    /// Where the entry's event is in the log.
    pub fn mark(&self) -> Mark {
        Mark {
            position: self.position,
            recorded_at: self.recorded_at,
            hash: self.hash.clone(),
        }
    }
}

/// What an event of a sponsorship's history did, with the facts it carries.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum Fact {
    /// A brand opened the contract on these terms.
    ContractOpened(Terms),
    /// A post was published under the contract, showing this disclosure.
    SponsoredPostPublished {
        /// Its author, the contract's enthusiast.
        author: UserId,
        /// The disclosure it shows.
        disclosure: Disclosure,
    },
    /// The author edited a sponsored post's caption.
    CaptionEdited,
    /// The author tagged a product in a sponsored post.
    ProductTagged {
        /// The product.
        asin: Asin,
    },
    /// The author untagged a product from a sponsored post.
    ProductUntagged {
        /// The product.
        asin: Asin,
    },
    /// The author or a moderator removed a sponsored post.
    SponsoredPostRemoved {
        /// Who removed it.
        by: UserId,
        /// Why, as they said.
        reason: String,
    },
    /// A purchase through a sponsored post.
    PurchaseAttributed(Sale),
    /// The contract ended before its end date.
    ContractEnded {
        /// Who ended it: `user:<id>` (its brand, or an admin) or `system:<name>`.
        by: String,
        /// Why, as they said.
        reason: String,
    },
}

/// A contract's parties, terms and period, as it was opened.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Terms {
    /// The brand: who pays, and on whose behalf the posts are presented.
    pub brand: UserId,
    /// The brand's public name when the contract was opened.
    pub brand_name: String,
    /// The enthusiast: who is paid, and publishes the posts.
    pub enthusiast: UserId,
    /// The flat fee, if any.
    pub flat_fee: Option<Money>,
    /// The commission rate in basis points of each order's total, if any.
    pub commission_bp: Option<u32>,
    /// Start (microseconds since the epoch).
    pub starts_at: i64,
    /// End, exclusive (microseconds since the epoch).
    pub ends_at: i64,
}

/// A purchase through a sponsored post.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Sale {
    /// The order id.
    pub order: String,
    /// Who bought.
    pub buyer: UserId,
    /// The sponsored post bought through.
    pub post: PostId,
    /// The product.
    pub asin: Asin,
    /// How many.
    pub quantity: u8,
    /// The order's total.
    pub total: Money,
    /// The commission it earned under the contract: `None` once the contract was no
    /// longer in force, or when its terms have no commission rate.
    pub commission: Option<Money>,
}

/// Where an event is in the log: its position, time and chain hash.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Mark {
    /// Log position.
    pub position: Position,
    /// When (microseconds since the epoch).
    pub recorded_at: i64,
    /// The record's chain hash (hex).
    pub hash: String,
}

/// A sponsorship contract in the ledger: `ledger|contract`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ContractRow {
    /// The contract.
    pub contract: ContractId,
    /// Its parties, terms and period.
    pub terms: Terms,
    /// Its `ContractOpened`.
    pub opened: Mark,
    /// Its `ContractEnded`, when it ended early.
    pub ended: Option<Ending>,
    /// The purchases through its posts.
    pub sales: SalesTotals,
}

impl ContractRow {
    /// Whether the contract is in force at `at` (microseconds since the epoch): started,
    /// not past its end date, and not ended early by then. The domain's rule
    /// (`ContractState::is_active`), as of any instant rather than now.
    pub fn is_active_at(&self, at: i64) -> bool {
        self.terms.starts_at <= at
            && at < self.terms.ends_at
            && self.ended.as_ref().is_none_or(|e| at < e.mark.recorded_at)
    }
}

/// How a contract ended early.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Ending {
    /// Its `ContractEnded`.
    pub mark: Mark,
    /// Who ended it: `user:<id>` or `system:<name>`.
    pub by: String,
    /// Why, as they said.
    pub reason: String,
}

/// The purchases attributed to a contract, summed.
#[derive(Clone, Default, PartialEq, Debug, Serialize, Deserialize)]
pub struct SalesTotals {
    /// How many orders.
    pub purchases: u64,
    /// The orders' totals, one amount per currency, in the order currencies first appeared.
    pub totals: Vec<Money>,
    /// The commissions earned under the contract, one amount per currency.
    pub commissions: Vec<Money>,
}

/// A post published under a contract: `lpost|contract|position`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct LedgerPost {
    /// The post.
    pub post: PostId,
    /// The disclosure it shows.
    pub disclosure: Disclosure,
    /// Its `PostPublished`.
    pub published: Mark,
    /// Its `PostRemoved`, once removed.
    pub removed: Option<Mark>,
}

/// A purchase attributed to a contract: `lsale|contract|position`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct LedgerSale {
    /// The purchase.
    pub sale: Sale,
    /// Its `OrderPlaced`.
    pub mark: Mark,
}

/// Where a sponsored post's ledger row is: `postcontract|post`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct SponsoredPostRef {
    /// The contract it was published under.
    pub contract: ContractId,
    /// The position of its `PostPublished`.
    pub published: Position,
}

/// The commissions a member earned: `earnings|user`.
#[derive(Clone, Default, PartialEq, Debug, Serialize, Deserialize)]
pub struct Earnings {
    /// How many orders earned them a commission.
    pub orders: u64,
    /// Under sponsorship contracts, one amount per currency.
    pub under_contracts: Vec<Money>,
    /// As an associate (their own, unsponsored posts), one amount per currency.
    pub as_associate: Vec<Money>,
}

/// Adds `amount` to the amounts of its currency in `amounts` (saturating; a currency not
/// seen yet is appended).
pub(crate) fn add_amount(amounts: &mut Vec<Money>, amount: Money) {
    match amounts.iter_mut().find(|m| m.currency == amount.currency) {
        Some(m) => m.cents = m.cents.saturating_add(amount.cents),
        None => amounts.push(amount),
    }
}
