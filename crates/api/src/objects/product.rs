//! `Product`: a product of the catalog.

use async_graphql::connection::Connection;
use async_graphql::parser::types::SelectionSet;
use async_graphql::{Context, Object, Value};
use sparkfeed_domain::Asin;
use sparkfeed_projections::read;
use sparkfeed_projections::rows::ProductRow;

use super::money::{self, Money};
use super::nodes::{Post, Product, post_page};
use crate::ctx::Gql;
use crate::direct::{Walker, nullable, strings, text, value};
use crate::paging::{Cursor, page_cost};
use crate::scalars::Int64;

mod field {
    use super::*;

    pub fn asin(p: &ProductRow) -> &str {
        p.asin.as_str()
    }
    pub fn title(p: &ProductRow) -> &str {
        &p.title
    }
    pub fn price(p: &ProductRow) -> Money {
        Money(p.price)
    }
    pub fn image_url(p: &ProductRow) -> &str {
        &p.image_url
    }
    pub fn interests(p: &ProductRow) -> Vec<&str> {
        p.interests.iter().map(|i| i.as_str()).collect()
    }
    pub fn consumable(p: &ProductRow) -> bool {
        p.consumable
    }
    pub fn delisted(p: &ProductRow) -> bool {
        p.delisted
    }
    pub fn purchase_count(p: &ProductRow) -> Int64 {
        Int64(p.purchases)
    }
}

/// A product of the catalog.
#[Object(serial)]
impl Product {
    /// Its ASIN.
    async fn asin(&self) -> &str {
        field::asin(&self.0)
    }
    /// Its title.
    async fn title(&self) -> &str {
        field::title(&self.0)
    }
    /// Its current price (what a buy charges now).
    async fn price(&self) -> Money {
        field::price(&self.0)
    }
    /// Its image.
    async fn image_url(&self) -> &str {
        field::image_url(&self.0)
    }
    /// Its interests (slugs).
    async fn interests(&self) -> Vec<&str> {
        field::interests(&self.0)
    }
    /// Used up and bought again (coffee, vitamins).
    async fn consumable(&self) -> bool {
        field::consumable(&self.0)
    }
    /// No longer sold.
    async fn delisted(&self) -> bool {
        field::delisted(&self.0)
    }
    /// Orders placed for it.
    async fn purchase_count(&self) -> Int64 {
        field::purchase_count(&self.0)
    }
    /// Posts that tag it, newest first.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Post>> {
        post_page(ctx, first, after, |feeds, first, after| {
            read::product_posts(feeds, &self.0.asin, first, after)
        })
    }
}

/// The product `row` as the selection `set` asks for it.
pub(crate) fn direct(w: &Walker<'_>, set: &SelectionSet, row: &ProductRow) -> Option<Value> {
    w.object(set, "Product", &mut |f| {
        Some(match f.name.node.as_str() {
            "asin" => text(field::asin(row)),
            "title" => text(field::title(row)),
            "price" => money::direct(w, &f.selection_set.node, &field::price(row).0)?,
            "imageUrl" => text(field::image_url(row)),
            "interests" => strings(field::interests(row).into_iter()),
            "consumable" => value(field::consumable(row)),
            "delisted" => value(field::delisted(row)),
            "purchaseCount" => value(field::purchase_count(row)),
            _ => return None,
        })
    })
}

/// The product `asin` as the selection `set` asks for it (`null` when there is none).
pub(crate) fn direct_by_asin(w: &Walker<'_>, set: &SelectionSet, asin: &Asin) -> Option<Value> {
    nullable(w.env.reads.product(asin).ok()?, |row| direct(w, set, &row))
}
