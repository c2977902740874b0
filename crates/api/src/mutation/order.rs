//! Orders: the one-click buy.

use async_graphql::{Context, ID, InputObject, Object};
use sparkfeed_domain::events::DomainEvent;
use sparkfeed_domain::{Command, Executed};
use sparkfeed_projections::rows::OrderRow;

use super::args;
use super::payloads::{BuyPayload, written};
use super::sender::{Sender, run};
use crate::ctx::{Gql, api};
use crate::error::{ApiError, ApiResult};
use crate::objects::order::Order;

/// Orders: the one-click buy.
#[derive(Default)]
pub(crate) struct OrderMutations;

/// Orders: the one-click buy.
#[Object]
impl OrderMutations {
    /// Buys a product tagged in a post, in one click, at the catalog price of the moment.
    /// Retrying with the same idempotency key answers the same order and writes nothing.
    async fn buy(&self, ctx: &Context<'_>, input: BuyInput) -> Gql<BuyPayload> {
        // The order's own key: the domain finds the order it names (see `order_id`).
        let sender = Sender::prime(ctx, "buy", None)?;
        let command = Command::Buy {
            post: args::post_id(&input.post_id)?,
            asin: args::asin(&input.asin)?,
            quantity: input.quantity,
            idempotency_key: input.idempotency_key,
            gift: input.gift,
        };
        let done = run(ctx, sender, command).await?;
        let order = order_at(ctx, done)?;
        Ok(BuyPayload {
            order,
            deduplicated: done.deduplicated,
            position: written(&done),
        })
    }
}

/// A one-click buy.
#[derive(InputObject)]
struct BuyInput {
    /// The post bought through.
    post_id: ID,
    /// The product, tagged in the post.
    asin: String,
    /// 1 to 10.
    #[graphql(default = 1)]
    quantity: u8,
    /// The client's key: a retried buy with the same key is the same order.
    idempotency_key: String,
    /// A gift does not steer the buyer's own feed.
    #[graphql(default)]
    gift: bool,
}

/// The order written at `done.position` (the `OrderPlaced` event, read from the log).
fn order_at(ctx: &Context<'_>, done: Executed) -> ApiResult<Order> {
    let api = api(ctx);
    let stored = api
        .domain
        .log()
        .read_event(done.position)?
        .ok_or(ApiError::Internal { code: "INTERNAL" })?;
    match api.domain.decode(&stored) {
        Ok(DomainEvent::OrderPlaced(e)) => Ok(Order(OrderRow {
            order: e.order,
            post: e.post,
            asin: e.asin,
            quantity: e.quantity,
            total: e.total,
            gift: e.gift,
            position: done.position,
        })),
        _ => Err(ApiError::Internal { code: "INTERNAL" }),
    }
}
