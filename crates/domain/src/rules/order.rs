//! Buying in one click: a product tagged in a live post, at the catalog's price now, with
//! commission to the post's author (under the post's contract, or as an associate).

use sha2::{Digest, Sha256};
use sparkfeed_events::Timestamp;

use crate::commands::Command;
use crate::events::{Commission, OrderPlaced};
use crate::limits::{ASSOCIATE_RATE_BP, MAX_IDEMPOTENCY_KEY_CHARS, MAX_QUANTITY};
use crate::state::{ContractState, OrderState, PostState, ProductState, UserState};
use crate::{Money, Refusal, Role, UserId};

use super::checks::{chars, live_post, prime_member};
use super::{Actor, Decided, Decision, not_decided_here};

/// What the order rules read.
#[derive(Clone, Debug)]
pub struct Given {
    /// Who buys.
    pub actor: Actor,
    /// The order of the buyer's key ([`order_id`]), placed already when this is a retry.
    pub order: OrderState,
    /// The post bought through.
    pub post: PostState,
    /// The product bought.
    pub product: ProductState,
    /// The post's contract, when it is sponsored.
    pub contract: ContractState,
    /// The post's author (associate commission needs the enthusiast role).
    pub author: UserState,
}

/// The order rules, at `now`. A repeat of a placed order (same key, same arguments)
/// decides nothing: it was carried out already.
pub fn decide(given: &Given, command: &Command, now: Timestamp) -> Decision {
    let Command::Buy {
        post,
        asin,
        quantity,
        idempotency_key,
        gift,
    } = command
    else {
        return Err(not_decided_here("order"));
    };
    let buyer = prime_member(&given.actor)?;
    if !(1..=MAX_QUANTITY).contains(quantity) {
        return Err(Refusal::validation(
            "quantity",
            format!("expected 1 to {MAX_QUANTITY}"),
        ));
    }
    chars(
        "idempotencyKey",
        idempotency_key,
        1..=MAX_IDEMPOTENCY_KEY_CHARS,
    )?;
    if let Some(placed) = &given.order.placed {
        let same = placed.post == *post
            && placed.asin == *asin
            && placed.quantity == *quantity
            && placed.gift == *gift;
        return if same {
            Ok(vec![])
        } else {
            Err(Refusal::IdempotencyConflict)
        };
    }
    let author = live_post(post, &given.post)?;
    if !given.post.tags.iter().any(|t| t.asin == *asin) {
        return Err(Refusal::NotTagged(asin.to_string()));
    }
    let Some(unit_price) = given.product.available_price() else {
        return Err(Refusal::UnknownProduct(asin.to_string()));
    };
    // Prices are capped (`limits::MAX_PRICE_CENTS`), but a price listed before the cap is
    // in the log too: saturate rather than overflow.
    let total = Money::new(
        unit_price.cents.saturating_mul(u64::from(*quantity)),
        unit_price.currency,
    );
    let commission = match &given.post.sponsorship {
        Some(disclosure) => match (&given.contract.opened, given.contract.is_active(now.0)) {
            (Some(opened), true) => opened.commission_bp.map(|rate_bp| Commission {
                to: author.clone(),
                rate_bp,
                amount: percent_of(total, rate_bp),
                contract: Some(disclosure.contract.clone()),
            }),
            _ => None,
        },
        None => given
            .author
            .roles
            .contains(&Role::Enthusiast)
            .then(|| Commission {
                to: author.clone(),
                rate_bp: ASSOCIATE_RATE_BP,
                amount: percent_of(total, ASSOCIATE_RATE_BP),
                contract: None,
            }),
    };
    Ok(vec![Decided::event(OrderPlaced {
        order: order_id(buyer, idempotency_key),
        buyer: buyer.clone(),
        post: post.clone(),
        author: author.clone(),
        asin: asin.clone(),
        quantity: *quantity,
        unit_price,
        total,
        gift: *gift,
        commission,
    })])
}

/// The order id of a buyer's idempotency key: a hash, so the key itself is not stored.
pub fn order_id(buyer: &UserId, idempotency_key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(buyer.as_str())
        .chain_update([0u8])
        .chain_update(idempotency_key)
        .finalize();
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// `rate_bp` basis points of `total`, rounded down (in `u128`: no overflow whatever the
/// inputs; the result is at most `total` for rates up to 10,000).
fn percent_of(total: Money, rate_bp: u32) -> Money {
    let cents = u128::from(total.cents) * u128::from(rate_bp) / 10_000;
    Money::new(u64::try_from(cents).unwrap_or(u64::MAX), total.currency)
}
