//! The catalog: interests and products (admins).

use async_graphql::{Context, InputObject, Object};
use sparkfeed_domain::Command;

use super::args;
use super::payloads::{InterestPayload, ProductPayload, product_payload, written};
use super::sender::{Sender, run};
use crate::ctx::Gql;
use crate::objects::money::MoneyInput;
use crate::query::interest_slug;

/// The catalog: interests and products (admins).
#[derive(Default)]
pub(crate) struct CatalogMutations;

/// The catalog: interests and products (admins).
#[Object]
impl CatalogMutations {
    /// Adds an interest to the catalog (admins).
    async fn add_interest(
        &self,
        ctx: &Context<'_>,
        slug: String,
        name: String,
        rebuy_window_days: Option<u32>,
        idempotency_key: Option<String>,
    ) -> Gql<InterestPayload> {
        let sender = Sender::admin(ctx, "addInterest", idempotency_key.as_deref())?;
        let interest = interest_slug(&slug)?;
        let done = run(
            ctx,
            sender,
            Command::AddInterest {
                interest: interest.clone(),
                name,
                rebuy_window_days,
            },
        )
        .await?;
        Ok(InterestPayload {
            slug: interest.to_string(),
            position: written(&done),
        })
    }

    /// Lists a product (admins).
    async fn list_product(
        &self,
        ctx: &Context<'_>,
        input: ListProductInput,
    ) -> Gql<ProductPayload> {
        let sender = Sender::admin(ctx, "listProduct", input.idempotency_key.as_deref())?;
        let asin = args::asin(&input.asin)?;
        let command = Command::ListProduct {
            asin: asin.clone(),
            title: input.title,
            price: input.price.parse("price")?,
            image_url: input.image_url,
            interests: args::interests(&input.interests)?,
            consumable: input.consumable,
        };
        let done = run(ctx, sender, command).await?;
        Ok(product_payload(ctx, &asin, done)?)
    }

    /// Changes a product's price (admins). Buys after it pay the new price.
    async fn reprice_product(
        &self,
        ctx: &Context<'_>,
        asin: String,
        price: MoneyInput,
        idempotency_key: Option<String>,
    ) -> Gql<ProductPayload> {
        let sender = Sender::admin(ctx, "repriceProduct", idempotency_key.as_deref())?;
        let asin = args::asin(&asin)?;
        let price = price.parse("price")?;
        let done = run(
            ctx,
            sender,
            Command::RepriceProduct {
                asin: asin.clone(),
                price,
            },
        )
        .await?;
        Ok(product_payload(ctx, &asin, done)?)
    }

    /// Takes a product out of the catalog (admins).
    async fn delist_product(
        &self,
        ctx: &Context<'_>,
        asin: String,
        idempotency_key: Option<String>,
    ) -> Gql<ProductPayload> {
        let sender = Sender::admin(ctx, "delistProduct", idempotency_key.as_deref())?;
        let asin = args::asin(&asin)?;
        let done = run(ctx, sender, Command::DelistProduct { asin: asin.clone() }).await?;
        Ok(product_payload(ctx, &asin, done)?)
    }
}

/// A product to list.
#[derive(InputObject)]
struct ListProductInput {
    /// Its ASIN (10 uppercase letters or digits).
    asin: String,
    /// Its title (1 to 200 characters).
    title: String,
    /// Its price.
    price: MoneyInput,
    /// Its image (http(s) URL).
    image_url: String,
    /// 1 to 3 interest slugs.
    interests: Vec<String>,
    /// Used up and bought again (coffee, vitamins).
    #[graphql(default)]
    consumable: bool,
    /// The client's key (1 to 100 characters): a retry with the same key and input writes
    /// nothing and answers the first result.
    idempotency_key: Option<String>,
}
