//! `ProductTag`: a product tagged at a point of a post's medium.

use async_graphql::parser::types::SelectionSet;
use async_graphql::{Context, Object, Value};
use sparkfeed_domain::events::Tag;

use super::nodes::{Product, load_product};
use super::product;
use crate::ctx::Gql;
use crate::direct::{Walker, text, value};

/// A product tagged at a point of a post's medium, with its "verified purchaser" badge.
pub(crate) struct ProductTag {
    /// The tag.
    pub tag: Tag,
    /// The author really bought the product here, for themselves.
    pub verified: bool,
}

mod field {
    use super::*;

    pub fn asin(t: &Tag) -> &str {
        t.asin.as_str()
    }
    pub fn media_index(t: &Tag) -> u8 {
        t.media_index
    }
    pub fn x(t: &Tag) -> f32 {
        t.x
    }
    pub fn y(t: &Tag) -> f32 {
        t.y
    }
}

/// A product tagged at a point of a post's medium.
#[Object(serial)]
impl ProductTag {
    /// The product, with its current price.
    async fn product(&self, ctx: &Context<'_>) -> Gql<Option<Product>> {
        Ok(load_product(ctx, &self.tag.asin)?)
    }
    /// The product's ASIN.
    async fn asin(&self) -> &str {
        field::asin(&self.tag)
    }
    /// Which medium of the post (0-based).
    async fn media_index(&self) -> u8 {
        field::media_index(&self.tag)
    }
    /// Horizontal position in [0, 1].
    async fn x(&self) -> f32 {
        field::x(&self.tag)
    }
    /// Vertical position in [0, 1].
    async fn y(&self) -> f32 {
        field::y(&self.tag)
    }
    /// The author really bought this product here, for themselves.
    async fn verified_purchaser(&self) -> bool {
        self.verified
    }
}

/// The tag `tag` (with its badge `verified`) as the selection `set` asks for it.
pub(crate) fn direct(
    w: &Walker<'_>,
    set: &SelectionSet,
    tag: &Tag,
    verified: bool,
) -> Option<Value> {
    w.object(set, "ProductTag", &mut |f| {
        Some(match f.name.node.as_str() {
            "product" => product::direct_by_asin(w, &f.selection_set.node, &tag.asin)?,
            "asin" => text(field::asin(tag)),
            "mediaIndex" => value(field::media_index(tag)),
            "x" => value(field::x(tag)),
            "y" => value(field::y(tag)),
            "verifiedPurchaser" => value(verified),
            _ => return None,
        })
    })
}
