//! The rows of the audit projection: the trail's [`AuditEntry`], each with its typed
//! [`Fact`], and the ledger's rows: a [`ContractRow`] per contract, with the
//! [`LedgerPost`]s and [`LedgerSale`]s under it, and each member's [`Earnings`], in all and
//! by [`Month`].
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

/// What a member earned, all months together: `earnings|user`.
#[derive(Clone, Default, PartialEq, Debug, Serialize, Deserialize)]
pub struct Earnings {
    /// How many orders earned them a commission.
    pub orders: u64,
    /// Under sponsorship contracts, one amount per currency.
    pub under_contracts: Vec<Money>,
    /// As an associate (their own, unsponsored posts), one amount per currency.
    pub as_associate: Vec<Money>,
    /// The flat fees of their contracts, one amount per currency (when one counts:
    /// [`super::earnings`]).
    pub flat_fees: Vec<Money>,
}

/// Adds `amount` to the amounts of its currency in `amounts` (saturating; a currency not
/// seen yet is appended).
pub(crate) fn add_amount(amounts: &mut Vec<Money>, amount: Money) {
    match amounts.iter_mut().find(|m| m.currency == amount.currency) {
        Some(m) => m.cents = m.cents.saturating_add(amount.cents),
        None => amounts.push(amount),
    }
}

/// A UTC calendar month, counted from January of year 0, so that months sort in order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Month(pub u32);

impl Month {
    /// The UTC month of `micros` (microseconds since the epoch); instants before year 0
    /// or after 9999 count in its first or last month.
    pub fn of(micros: i64) -> Self {
        let days = micros.div_euclid(86_400_000_000);
        match year_month(days) {
            (year, _) if year < 0 => Month(0),
            (year, month) => match u32::try_from(year) {
                Ok(year) if year <= 9999 => Month(year * 12 + (month - 1)),
                _ => Month(9999 * 12 + 11),
            },
        }
    }

    /// Its year.
    pub fn year(self) -> u32 {
        self.0 / 12
    }

    /// Its number in the year, 1 to 12.
    pub fn number(self) -> u32 {
        self.0 % 12 + 1
    }
}

impl std::fmt::Display for Month {
    /// `2026-11`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.number())
    }
}

/// Days since 1970-01-01 to (year, month 1 to 12), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`, as the API's `time` module has it).
fn year_month(days: i64) -> (i64, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1))
}

/// What a member earned in one UTC month: `emonth|user|rev month`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct MonthEarnings {
    /// The month.
    pub month: Month,
    /// How many orders placed that month earned them a commission.
    pub orders: u64,
    /// Commissions under sponsorship contracts, one amount per currency.
    pub under_contracts: Vec<Money>,
    /// Commissions as an associate, one amount per currency.
    pub as_associate: Vec<Money>,
    /// Flat fees of the contracts that start that month, one amount per currency.
    pub flat_fees: Vec<Money>,
}

impl MonthEarnings {
    /// Nothing earned in `month` yet.
    pub fn new(month: Month) -> Self {
        Self {
            month,
            orders: 0,
            under_contracts: vec![],
            as_associate: vec![],
            flat_fees: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Month;

    #[test]
    fn months_are_utc_calendar_months_in_order() {
        let day = 86_400_000_000;
        // 2026-11-30T23:59:59.999999Z, and a microsecond later.
        let last = 20_788 * day - 1;
        assert_eq!(Month::of(last).to_string(), "2026-11");
        assert_eq!(Month::of(last + 1).to_string(), "2026-12");
        assert!(Month::of(last) < Month::of(last + 1));
        assert_eq!(Month::of(0).to_string(), "1970-01");
        assert_eq!(Month::of(-1).to_string(), "1969-12");
        assert_eq!(Month::of(i64::MIN).to_string(), "0000-01");
        assert_eq!(Month::of(i64::MAX).to_string(), "9999-12");
    }
}
