//! `Storefront`: a creator's page of recommended products and posts; `StorefrontProduct`,
//! one product on it. Public.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Context, Object};
use sparkfeed_domain::{Asin, UserId};
use sparkfeed_events::Position;
use sparkfeed_projections::creators::read::{self as creators, ShelfCursor};
use sparkfeed_projections::creators::rows::ShelfRow;
use sparkfeed_projections::read;

use super::follows::creators_view;
use super::nodes::{Post, Product, load_product, post_page};
use crate::ctx::{Gql, api};
use crate::error::ApiError;
use crate::paging::{Cursor, check_paging, page_cost};
use crate::scalars::{DateTime, Int64};

/// A creator's storefront.
pub(crate) struct Storefront(pub UserId);

/// What a creator recommends: the products they tagged in their posts, most bought
/// through those posts first, and their posts. Public.
#[Object(serial)]
impl Storefront {
    /// The products a live post of theirs tags, most purchases through their posts first
    /// (a removed post's purchases count; ties: the most recently tagged first). A cursor
    /// resumes after its product's rank as the ranking stands when the next page is read.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<ShelfToken, StorefrontProduct>> {
        let (first, _) = check_paging(first, None, api(ctx).limits.max_page)?;
        let after = after
            .map(|a| ShelfToken::decode_cursor(&a).map_err(|e| ApiError::input("after", e)))
            .transpose()?;
        let found = creators::storefront(
            &creators_view(ctx)?,
            &self.0,
            first,
            after.as_ref().map(|t| &t.0),
        )
        .map_err(ApiError::from)?;
        let mut connection = Connection::new(after.is_some(), found.has_next);
        connection.edges.extend(found.items.into_iter().map(|row| {
            let product = StorefrontProduct {
                creator: self.0.clone(),
                row,
            };
            Edge::new(ShelfToken(product.row.cursor()), product)
        }));
        Ok(connection)
    }

    /// Their posts, newest first (removed ones left out).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Post>> {
        post_page(ctx, first, after, |feeds, first, after| {
            read::posts_by(feeds, &self.0, first, after)
        })
    }
}

/// A product on a storefront, with what the creator's posts sold of it.
pub(crate) struct StorefrontProduct {
    creator: UserId,
    row: ShelfRow,
}

/// A product a creator recommends: tagged in a live post of theirs.
#[Object(serial)]
impl StorefrontProduct {
    /// Its ASIN.
    async fn asin(&self) -> &str {
        self.row.asin.as_str()
    }
    /// The product as the catalog has it now.
    async fn product(&self, ctx: &Context<'_>) -> Gql<Option<Product>> {
        Ok(load_product(ctx, &self.row.asin)?)
    }
    /// Orders placed for it through the creator's posts (removed posts included).
    async fn purchases(&self) -> Int64 {
        Int64(self.row.purchases)
    }
    /// Units those orders bought.
    async fn units(&self) -> Int64 {
        Int64(self.row.units)
    }
    /// When the creator last tagged it in a post.
    async fn last_tagged_at(&self) -> DateTime {
        DateTime::from_micros(self.row.last_tagged_at)
    }
    /// The creator's live posts tagging it, the most recently tagged first.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Gql<Connection<Cursor, Post>> {
        let view = creators_view(ctx)?;
        post_page(ctx, first, after, |_, first, after| {
            creators::shelf_posts(&view, &self.creator, &self.row.asin, first, after)
        })
    }
}

/// A storefront cursor: the rank of the product it follows, `purchases:position:asin`.
/// Opaque to clients; a malformed one is `BAD_USER_INPUT`.
pub(crate) struct ShelfToken(ShelfCursor);

impl CursorType for ShelfToken {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a cursor of this storefront");
        let mut parts = s.splitn(3, ':');
        let mut number = || -> Result<u64, String> {
            parts
                .next()
                .and_then(|p| p.parse::<u64>().ok())
                .ok_or_else(bad)
        };
        let purchases = number()?;
        let last_tagged = Position(number()?);
        let asin = parts
            .next()
            .and_then(|a| Asin::parse(a).ok())
            .ok_or_else(bad)?;
        Ok(ShelfToken(ShelfCursor {
            purchases,
            last_tagged,
            asin,
        }))
    }

    fn encode_cursor(&self) -> String {
        let c = &self.0;
        format!("{}:{}:{}", c.purchases, c.last_tagged.0, c.asin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storefront_cursor_reads_back_what_it_wrote_and_refuses_anything_else() {
        let cursor = ShelfToken(ShelfCursor {
            purchases: 12,
            last_tagged: Position(7_001),
            asin: Asin::parse("B000000001").expect("valid"),
        });
        let text = cursor.encode_cursor();
        assert_eq!(text, "12:7001:B000000001");
        let back = ShelfToken::decode_cursor(&text).expect("decodes");
        assert_eq!(back.0, cursor.0);
        for bad in [
            "",
            "12",
            "12:x:B000000001",
            "12:7001:",
            "-1:0:B000000001",
            "1:2:not an asin",
        ] {
            assert!(ShelfToken::decode_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
