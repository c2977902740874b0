//! `Money` (an amount in cents and its currency) and `MoneyInput`.

use async_graphql::parser::types::SelectionSet;
use async_graphql::{InputObject, Object, Value};
use sparkfeed_domain::{Currency, Money as DomainMoney};

use crate::direct::{Walker, value};
use crate::error::{ApiError, ApiResult};
use crate::scalars::Int64;

/// An amount of money.
#[derive(Clone, Copy)]
pub(crate) struct Money(pub DomainMoney);

mod field {
    use super::*;

    pub fn cents(m: &DomainMoney) -> Int64 {
        Int64(m.cents)
    }
    pub fn currency(m: &DomainMoney) -> String {
        m.currency.to_string()
    }
    pub fn formatted(m: &DomainMoney) -> String {
        m.to_string()
    }
}

/// An amount of money.
#[Object(serial)]
impl Money {
    /// The amount in the currency's minor unit (cents).
    async fn cents(&self) -> Int64 {
        field::cents(&self.0)
    }
    /// ISO 4217 code.
    async fn currency(&self) -> String {
        field::currency(&self.0)
    }
    /// As shown to people: `19.99 USD`.
    async fn formatted(&self) -> String {
        field::formatted(&self.0)
    }
}

/// `money` as the selection `set` asks for it.
pub(crate) fn direct(w: &Walker<'_>, set: &SelectionSet, money: &DomainMoney) -> Option<Value> {
    w.object(set, "Money", &mut |f| {
        Some(match f.name.node.as_str() {
            "cents" => value(field::cents(money)),
            "currency" => Value::String(field::currency(money)),
            "formatted" => Value::String(field::formatted(money)),
            _ => return None,
        })
    })
}

/// An amount of money as submitted.
#[derive(InputObject)]
pub(crate) struct MoneyInput {
    /// In the currency's minor unit (cents).
    pub cents: Int64,
    /// ISO 4217 code.
    #[graphql(default = "USD")]
    pub currency: String,
}

impl MoneyInput {
    /// The amount, or `BAD_USER_INPUT` on `field` for an unknown currency.
    pub fn parse(&self, field: &'static str) -> ApiResult<DomainMoney> {
        let currency =
            Currency::parse(&self.currency).map_err(|e| ApiError::input(field, e.to_string()))?;
        Ok(DomainMoney::new(self.cents.0, currency))
    }
}
