//! The feed tables a PostgreSQL projection keeps, the peer of sparkfeed's `feeds`: posts
//! with their counters, who smiled at or saved what, the products tagged on each post and
//! who bought what (the verified-purchaser badges); how a page of events changes them;
//! and their rebuild from the events table.

use std::collections::{HashMap, HashSet};
use std::time::{Instant, SystemTime};

use anyhow::Context;
use sparkfeed_domain::events::{DomainEvent, upcasters};
use sparkfeed_events::RecordedEvent;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Transaction};

use super::schema::{big, system_time};
use super::workloads::{EventPages, recorded};

/// The feed tables: a row per post and interest with its counters (the index serves the
/// newest posts of an interest); engagements (kind 0: smile, 1: save), keyed to answer
/// "did this member do that to this post"; a post's tags; a buyer's own (not gift)
/// purchases per product.
pub(crate) const TABLES: &str = "
CREATE TABLE posts (
    post_id text NOT NULL,
    interest text NOT NULL,
    position bigint NOT NULL,
    author text NOT NULL,
    caption bytea NOT NULL,
    created_at timestamptz NOT NULL,
    smiles bigint NOT NULL DEFAULT 0,
    saves bigint NOT NULL DEFAULT 0,
    shares bigint NOT NULL DEFAULT 0,
    comments bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (post_id, interest)
);
CREATE INDEX posts_feed ON posts (interest, position DESC);
CREATE TABLE engagements (
    post_id text NOT NULL,
    member text NOT NULL,
    kind smallint NOT NULL,
    PRIMARY KEY (post_id, member, kind)
);
CREATE TABLE post_tags (
    post_id text NOT NULL,
    asin text NOT NULL,
    media_index smallint NOT NULL,
    PRIMARY KEY (post_id, asin, media_index)
);
CREATE TABLE purchases (
    buyer text NOT NULL,
    asin text NOT NULL,
    orders bigint NOT NULL,
    PRIMARY KEY (buyer, asin)
)";

/// The feed tables, for TRUNCATE and ANALYZE.
const NAMES: [&str; 4] = ["posts", "engagements", "post_tags", "purchases"];

const INSERT_POSTS: &str = "
INSERT INTO posts (post_id, interest, position, author, caption, created_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bytea[],
                     $6::timestamptz[])";

const UPDATE_COUNTERS: &str = "
UPDATE posts SET smiles = posts.smiles + d.smiles, saves = posts.saves + d.saves,
                 shares = posts.shares + d.shares, comments = posts.comments + d.comments
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
     AS d(post_id, smiles, saves, shares, comments)
WHERE posts.post_id = d.post_id";

const DELETE_POSTS: &str = "DELETE FROM posts WHERE post_id = ANY($1::text[])";

const INSERT_ENGAGEMENTS: &str = "
INSERT INTO engagements (post_id, member, kind)
SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[]) ON CONFLICT DO NOTHING";

const DELETE_ENGAGEMENTS: &str = "
DELETE FROM engagements e USING unnest($1::text[], $2::text[], $3::smallint[])
    AS d(post_id, member, kind)
WHERE e.post_id = d.post_id AND e.member = d.member AND e.kind = d.kind";

const INSERT_TAGS: &str = "
INSERT INTO post_tags (post_id, asin, media_index)
SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[]) ON CONFLICT DO NOTHING";

const DELETE_TAGS: &str = "
DELETE FROM post_tags t USING unnest($1::text[], $2::text[], $3::smallint[])
    AS d(post_id, asin, media_index)
WHERE t.post_id = d.post_id AND t.asin = d.asin AND t.media_index = d.media_index";

const ADD_PURCHASES: &str = "
INSERT INTO purchases (buyer, asin, orders)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
ON CONFLICT (buyer, asin) DO UPDATE SET orders = purchases.orders + excluded.orders";

/// A (text, text, smallint) key: an engagement (post, member, kind) or a tag (post, asin,
/// media index).
type Triple = (String, String, i16);

/// One page of events' changes to the feed tables, applied in one transaction. Keyed
/// rows keep their last state in the page, so the order of the page's events holds.
#[derive(Default)]
pub(crate) struct FeedRows {
    published: Published,
    /// Per post: smiles, saves, shares, comments.
    counters: HashMap<String, [i64; 4]>,
    removed: HashSet<String>,
    /// Per engagement: whether it stands at the end of the page.
    engaged: HashMap<Triple, bool>,
    /// Per tag: whether it stands at the end of the page.
    tagged: HashMap<Triple, bool>,
    /// Per (buyer, product): own orders placed in the page.
    bought: HashMap<(String, String), i64>,
}

impl FeedRows {
    /// What `event` (at `recorded`) does to the feed tables.
    pub(crate) fn apply(
        &mut self,
        event: &DomainEvent,
        recorded: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let mut count = |post: &sparkfeed_domain::PostId, i: usize, by: i64| {
            self.counters.entry(post.as_str().to_owned()).or_default()[i] += by;
        };
        match event {
            DomainEvent::Smiled(e) => count(&e.post, 0, 1),
            DomainEvent::Unsmiled(e) => count(&e.post, 0, -1),
            DomainEvent::Saved(e) => count(&e.post, 1, 1),
            DomainEvent::Unsaved(e) => count(&e.post, 1, -1),
            DomainEvent::Shared(e) => count(&e.post, 2, 1),
            DomainEvent::CommentPosted(e) => count(&e.post, 3, 1),
            DomainEvent::CommentRemoved(e) => count(&e.post, 3, -1),
            _ => {}
        }
        let mut engage =
            |post: &sparkfeed_domain::PostId, member: &sparkfeed_domain::UserId, kind, on| {
                let key = (post.as_str().to_owned(), member.as_str().to_owned(), kind);
                self.engaged.insert(key, on);
            };
        match event {
            DomainEvent::Smiled(e) => engage(&e.post, &e.member, 0, true),
            DomainEvent::Unsmiled(e) => engage(&e.post, &e.member, 0, false),
            DomainEvent::Saved(e) => engage(&e.post, &e.member, 1, true),
            DomainEvent::Unsaved(e) => engage(&e.post, &e.member, 1, false),
            DomainEvent::ProductTagged(e) => {
                let key = (
                    e.post.as_str().into(),
                    e.tag.asin.as_str().into(),
                    e.tag.media_index.into(),
                );
                self.tagged.insert(key, true);
            }
            DomainEvent::ProductUntagged(e) => {
                let key = (
                    e.post.as_str().into(),
                    e.asin.as_str().into(),
                    e.media_index.into(),
                );
                self.tagged.insert(key, false);
            }
            DomainEvent::OrderPlaced(e) if !e.gift => {
                let key = (e.buyer.as_str().to_owned(), e.asin.as_str().to_owned());
                *self.bought.entry(key).or_default() += 1;
            }
            DomainEvent::PostRemoved(e) => {
                self.removed.insert(e.post.as_str().to_owned());
            }
            DomainEvent::PostPublished(e) => {
                let caption = sparkfeed_events::codec::encode_payload(&e.caption)?;
                let p = &mut self.published;
                for interest in &e.interests {
                    p.posts.push(e.post.as_str().to_owned());
                    p.interests.push(interest.as_str().to_owned());
                    p.positions.push(big(recorded.record.position.0)?);
                    p.authors.push(e.author.as_str().to_owned());
                    p.captions.push(caption.clone());
                    p.created.push(system_time(recorded.record.recorded_at.0));
                }
                for t in &e.tags {
                    let key = (
                        e.post.as_str().into(),
                        t.asin.as_str().into(),
                        t.media_index.into(),
                    );
                    self.tagged.insert(key, true);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Writes the page's rows: new posts first, then counters, removals, engagements,
    /// tags and purchases.
    pub(crate) async fn write(self, tx: &Transaction<'_>) -> anyhow::Result<()> {
        let p = &self.published;
        if !p.posts.is_empty() {
            let columns: [&(dyn ToSql + Sync); 6] = [
                &p.posts,
                &p.interests,
                &p.positions,
                &p.authors,
                &p.captions,
                &p.created,
            ];
            tx.execute(INSERT_POSTS, &columns)
                .await
                .context("inserting posts")?;
        }
        if !self.counters.is_empty() {
            let mut cols: (Vec<String>, [Vec<i64>; 4]) = Default::default();
            for (post, c) in self.counters {
                cols.0.push(post);
                for (col, by) in cols.1.iter_mut().zip(c) {
                    col.push(by);
                }
            }
            let [s, v, h, c] = &cols.1;
            tx.execute(UPDATE_COUNTERS, &[&cols.0, s, v, h, c])
                .await
                .context("updating counters")?;
        }
        if !self.removed.is_empty() {
            let removed: Vec<String> = self.removed.into_iter().collect();
            tx.execute(DELETE_POSTS, &[&removed])
                .await
                .context("removing posts")?;
        }
        write_keyed(tx, self.engaged, INSERT_ENGAGEMENTS, DELETE_ENGAGEMENTS).await?;
        write_keyed(tx, self.tagged, INSERT_TAGS, DELETE_TAGS).await?;
        if !self.bought.is_empty() {
            let mut cols: (Vec<String>, Vec<String>, Vec<i64>) = Default::default();
            for ((buyer, asin), orders) in self.bought {
                cols.0.push(buyer);
                cols.1.push(asin);
                cols.2.push(orders);
            }
            tx.execute(ADD_PURCHASES, &[&cols.0, &cols.1, &cols.2])
                .await
                .context("adding purchases")?;
        }
        Ok(())
    }
}

/// Inserts the keys that stand and deletes those that do not.
async fn write_keyed(
    tx: &Transaction<'_>,
    rows: HashMap<Triple, bool>,
    insert: &str,
    delete: &str,
) -> anyhow::Result<()> {
    let mut on: (Vec<String>, Vec<String>, Vec<i16>) = Default::default();
    let mut off: (Vec<String>, Vec<String>, Vec<i16>) = Default::default();
    for ((a, b, c), stands) in rows {
        let cols = if stands { &mut on } else { &mut off };
        cols.0.push(a);
        cols.1.push(b);
        cols.2.push(c);
    }
    for (statement, cols) in [(insert, on), (delete, off)] {
        if !cols.0.is_empty() {
            tx.execute(statement, &[&cols.0, &cols.1, &cols.2])
                .await
                .with_context(|| format!("writing feed rows: {statement}"))?;
        }
    }
    Ok(())
}

/// New rows of the posts table, a vector per column in `INSERT_POSTS` order.
#[derive(Default)]
struct Published {
    posts: Vec<String>,
    interests: Vec<String>,
    positions: Vec<i64>,
    authors: Vec<String>,
    captions: Vec<Vec<u8>>,
    created: Vec<SystemTime>,
}

/// Refreshes the planner's statistics of the feed tables (after a bulk load).
pub(crate) async fn analyze(client: &Client) -> anyhow::Result<()> {
    for table in NAMES {
        client
            .batch_execute(&format!("ANALYZE {table}"))
            .await
            .with_context(|| format!("analyzing {table}"))?;
    }
    Ok(())
}

/// The peer of sparkfeed's `feeds` rebuild: empties the feed tables, then reads every
/// event in position order a page of 8,192 at a time, decodes it and applies it, a page
/// per (durable) transaction, and analyzes the tables; events/s.
pub(crate) async fn rebuild(client: &mut Client) -> anyhow::Result<f64> {
    let upcasters = upcasters();
    let mut pages = EventPages::new(client).await?;
    let start = Instant::now();
    client
        .batch_execute(&format!("TRUNCATE {}", NAMES.join(", ")))
        .await
        .context("emptying the feed tables")?;
    while let Some(rows) = pages.next(client).await? {
        let mut feed = FeedRows::default();
        for row in &rows {
            let event = recorded(row)?;
            feed.apply(&DomainEvent::decode(&upcasters, &event)?, &event)?;
        }
        let tx = client.transaction().await.context("begin")?;
        feed.write(&tx).await?;
        tx.commit().await.context("commit")?;
    }
    analyze(client).await?;
    Ok(pages.read as f64 / start.elapsed().as_secs_f64())
}
