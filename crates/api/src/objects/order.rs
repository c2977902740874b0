//! `Order`: an order, as its buyer sees it.

use async_graphql::{Context, ID, Object};
use sparkfeed_projections::rows::OrderRow;

use super::money::Money;
use super::nodes::{Post, Product, load_post, load_product};
use crate::ctx::Gql;
use crate::scalars::Int64;

/// An order, as its buyer sees it.
pub(crate) struct Order(pub OrderRow);

/// An order, as its buyer sees it.
#[Object(serial)]
impl Order {
    /// The order id.
    async fn id(&self) -> ID {
        ID(self.0.order.clone())
    }
    /// The post it was bought through.
    async fn post(&self, ctx: &Context<'_>) -> Gql<Option<Post>> {
        Ok(load_post(ctx, &self.0.post)?)
    }
    /// The product.
    async fn product(&self, ctx: &Context<'_>) -> Gql<Option<Product>> {
        Ok(load_product(ctx, &self.0.asin)?)
    }
    /// How many.
    async fn quantity(&self) -> u8 {
        self.0.quantity
    }
    /// Total charged: the catalog price at the order's position times the quantity.
    async fn total(&self) -> Money {
        Money(self.0.total)
    }
    /// A gift (does not steer the buyer's feed).
    async fn gift(&self) -> bool {
        self.0.gift
    }
    /// The log position of the order.
    async fn position(&self) -> Int64 {
        Int64(self.0.position.0)
    }
}
