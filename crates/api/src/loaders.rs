//! Batch loading of cards, members and products: a page of post cards reads each author
//! and each product once, not once per card (no N+1).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sparkfeed_domain::{Asin, PostId, UserId};
use sparkfeed_projections::read;
use sparkfeed_projections::rows::{MemberRow, PostCardRow, ProductRow};

use crate::Api;

/// Loads rows of the `feeds` projection by key, a batch at a time.
pub struct Loaders(pub Arc<Api>);

impl Loaders {
    fn load_rows<K, V>(
        &self,
        keys: &[K],
        one: impl Fn(&sled::Tree, &K) -> Result<Option<V>, sparkfeed_projections::ProjectionError>,
    ) -> Result<HashMap<K, Arc<V>>, &'static str>
    where
        K: Clone + Eq + std::hash::Hash,
    {
        let tree = self.0.projections.tree("feeds").map_err(|e| e.code())?;
        let mut out = HashMap::with_capacity(keys.len());
        for key in keys {
            if let Some(row) = one(&tree, key).map_err(|e| e.code())? {
                out.insert(key.clone(), Arc::new(row));
            }
        }
        Ok(out)
    }
}

impl Loader<PostId> for Loaders {
    type Value = Arc<PostCardRow>;
    type Error = &'static str;

    async fn load(&self, keys: &[PostId]) -> Result<HashMap<PostId, Self::Value>, Self::Error> {
        self.load_rows(keys, read::post_card)
    }
}

impl Loader<UserId> for Loaders {
    type Value = Arc<MemberRow>;
    type Error = &'static str;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, Self::Value>, Self::Error> {
        self.load_rows(keys, read::member)
    }
}

impl Loader<Asin> for Loaders {
    type Value = Arc<ProductRow>;
    type Error = &'static str;

    async fn load(&self, keys: &[Asin]) -> Result<HashMap<Asin, Self::Value>, Self::Error> {
        self.load_rows(keys, read::product)
    }
}
