//! The rows one request reads, each read once: a page of post cards reads each author and
//! each product once, however many cards share them (no N+1).
//!
//! This does what a DataLoader does without its machinery: the projection store is in
//! process and answers a point read in microseconds, so there is nothing to gain from
//! batching reads across an await, and the per-key futures, channels and spawned task a
//! DataLoader adds cost more than the reads themselves (measured with `bench api`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use sparkfeed_domain::{Asin, PostId, UserId};
use sparkfeed_projections::rows::{MemberRow, PostCardRow, ProductRow};
use sparkfeed_projections::{ProjectionError, View, read};

use crate::Api;
use crate::error::{ApiError, ApiResult};

type Memo<K, V> = Mutex<HashMap<K, Option<Arc<V>>>>;

/// The reads of one request (or, unmemoised, of one WebSocket connection).
pub struct Reads {
    api: Arc<Api>,
    /// The feeds tree (with its row cache) as of the request's start; `None` when
    /// unmemoised.
    tree: Option<View>,
    cards: Memo<PostId, PostCardRow>,
    members: Memo<UserId, MemberRow>,
    products: Memo<Asin, ProductRow>,
}

impl Reads {
    /// Reads for one request: each row is read at most once.
    pub fn for_request(api: Arc<Api>) -> ApiResult<Self> {
        let tree = Some(api.projections.view("feeds")?);
        Ok(Self::new(api, tree))
    }

    /// Reads for a long-lived connection: nothing is remembered, every read is fresh.
    pub fn for_connection(api: Arc<Api>) -> Self {
        Self::new(api, None)
    }

    fn new(api: Arc<Api>, tree: Option<View>) -> Self {
        Self {
            api,
            tree,
            cards: Mutex::default(),
            members: Mutex::default(),
            products: Mutex::default(),
        }
    }

    /// The feeds projection's tree, with its row cache.
    pub fn tree(&self) -> ApiResult<View> {
        match &self.tree {
            Some(tree) => Ok(tree.clone()),
            None => Ok(self.api.projections.view("feeds")?),
        }
    }

    fn memoised<K, V>(
        &self,
        memo: &Memo<K, V>,
        key: &K,
        read: impl Fn(&View, &K) -> Result<Option<Arc<V>>, ProjectionError>,
    ) -> ApiResult<Option<Arc<V>>>
    where
        K: Clone + Eq + Hash,
    {
        let Some(tree) = &self.tree else {
            return Ok(read(&self.api.projections.view("feeds")?, key)?);
        };
        if let Some(found) = memo.lock().unwrap_or_else(|p| p.into_inner()).get(key) {
            return Ok(found.clone());
        }
        let row = read(tree, key).map_err(ApiError::from)?;
        memo.lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone(), row.clone());
        Ok(row)
    }

    /// A post's card.
    pub fn card(&self, post: &PostId) -> ApiResult<Option<Arc<PostCardRow>>> {
        let bodies = &self.api.rows.post_bodies;
        self.memoised(&self.cards, post, |tree, post| {
            Ok(read::post_card_with(tree, post, bodies)?.map(Arc::new))
        })
    }

    /// A member or brand.
    pub fn member(&self, user: &UserId) -> ApiResult<Option<Arc<MemberRow>>> {
        let members = &self.api.rows.members;
        self.memoised(&self.members, user, |tree, user| {
            read::member_with(tree, user, members)
        })
    }

    /// A product.
    pub fn product(&self, asin: &Asin) -> ApiResult<Option<Arc<ProductRow>>> {
        let products = &self.api.rows.products;
        self.memoised(&self.products, asin, |tree, asin| {
            read::product_with(tree, asin, products)
        })
    }
}
