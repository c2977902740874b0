//! The catalog: interests and products, run by admins.

use std::collections::BTreeSet;

use crate::commands::Command;
use crate::events::{InterestAdded, ProductDelisted, ProductListed, ProductRepriced};
use crate::limits::{
    MAX_INTEREST_NAME_CHARS, MAX_PRODUCT_INTERESTS, MAX_REBUY_WINDOW_DAYS, MAX_TITLE_CHARS,
};
use crate::state::{InterestState, ProductState};
use crate::{InterestSlug, Refusal};

use super::checks::{admin, chars, known_interests, positive_price, url};
use super::{Actor, Decided, Decision, not_decided_here};

/// What the catalog rules read.
#[derive(Clone, Debug)]
pub struct Given {
    /// Who issues the command.
    pub actor: Actor,
    /// The interest added.
    pub interest: InterestState,
    /// The product listed, repriced or delisted.
    pub product: ProductState,
    /// Which of the interests named are in the catalog.
    pub known_interests: BTreeSet<InterestSlug>,
}

/// The catalog rules.
pub fn decide(given: &Given, command: &Command) -> Decision {
    match command {
        Command::AddInterest {
            interest,
            name,
            rebuy_window_days,
        } => {
            admin(&given.actor)?;
            chars("name", name, 1..=MAX_INTEREST_NAME_CHARS)?;
            if rebuy_window_days.is_some_and(|d| !(1..=MAX_REBUY_WINDOW_DAYS).contains(&d)) {
                return Err(Refusal::validation(
                    "rebuyWindowDays",
                    format!("expected 1 to {MAX_REBUY_WINDOW_DAYS} days"),
                ));
            }
            if given.interest.exists {
                return Err(Refusal::InterestExists(interest.to_string()));
            }
            Ok(vec![Decided::event(InterestAdded {
                interest: interest.clone(),
                name: name.clone(),
                rebuy_window_days: *rebuy_window_days,
            })])
        }
        Command::ListProduct {
            asin,
            title,
            price,
            image_url,
            interests,
            consumable,
        } => {
            admin(&given.actor)?;
            chars("title", title, 1..=MAX_TITLE_CHARS)?;
            url("imageUrl", image_url)?;
            positive_price("price", *price)?;
            known_interests(
                "interests",
                interests,
                MAX_PRODUCT_INTERESTS,
                &given.known_interests,
            )?;
            // Listed once: a delisted product stays in its stream, and is not listed again.
            if given.product.price.is_some() {
                return Err(Refusal::ProductExists(asin.to_string()));
            }
            Ok(vec![Decided::event(ProductListed {
                asin: asin.clone(),
                title: title.clone(),
                price: *price,
                image_url: image_url.clone(),
                interests: interests.clone(),
                consumable: *consumable,
            })])
        }
        Command::RepriceProduct { asin, price } => {
            admin(&given.actor)?;
            if given.product.available_price().is_none() {
                return Err(Refusal::UnknownProduct(asin.to_string()));
            }
            positive_price("price", *price)?;
            Ok(vec![Decided::event(ProductRepriced {
                asin: asin.clone(),
                price: *price,
            })])
        }
        Command::DelistProduct { asin } => {
            admin(&given.actor)?;
            if given.product.available_price().is_none() {
                return Err(Refusal::UnknownProduct(asin.to_string()));
            }
            Ok(vec![Decided::event(ProductDelisted { asin: asin.clone() })])
        }
        _ => Err(not_decided_here("catalog")),
    }
}
