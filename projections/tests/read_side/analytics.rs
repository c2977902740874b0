//! Issue 14: the analysts' figures equal what the log says, counted here from the demo
//! world's events directly rather than through the projection.

use std::collections::HashMap;

use sparkfeed_domain::events::{DomainEvent, upcasters};
use sparkfeed_events::RecordedEvent;
use sparkfeed_projections::analytics::day_of;
use sparkfeed_projections::analytics::read::{sponsored_and_organic, top_posts, top_products};
use sparkfeed_projections::analytics::rows::Sales;

use crate::demo_world::{read_world, replayed};

const WORLD: &[u8] = include_bytes!("../../../fixtures/golden/demo-world.bin");

/// What the log says, counted event by event.
#[derive(Default)]
struct Counted {
    products: HashMap<String, Sales>,
    posts: HashMap<String, Sales>,
    sponsored_posts: HashMap<String, bool>,
    days: (u64, u64),
}

fn count(records: &[RecordedEvent]) -> Counted {
    let upcasters = upcasters();
    let mut c = Counted {
        days: (u64::MAX, 0),
        ..Counted::default()
    };
    for r in records {
        let day = day_of(r.record.recorded_at.0);
        c.days = (c.days.0.min(day), c.days.1.max(day));
        match DomainEvent::decode(&upcasters, r).expect("decodes") {
            DomainEvent::PostPublished(e) => {
                c.sponsored_posts
                    .insert(e.post.to_string(), e.sponsorship.is_some());
            }
            DomainEvent::OrderPlaced(e) => {
                let units = u64::from(e.quantity);
                c.products
                    .entry(e.asin.to_string())
                    .or_default()
                    .add_order(units, e.total.cents);
                c.posts
                    .entry(e.post.to_string())
                    .or_default()
                    .add_order(units, e.total.cents);
            }
            _ => {}
        }
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_products_posts_and_the_sponsored_split_equal_the_logs_own_counts() {
    let records = read_world(WORLD);
    let counted = count(&records);
    let (_dir, projections) = replayed(&records).await;
    let tree = projections.tree("analytics").expect("tree");
    let (from, to) = counted.days;

    let products = top_products(&tree, from, to, usize::MAX).expect("reads");
    assert_eq!(products.len(), counted.products.len(), "every product sold");
    for (asin, sales) in &products {
        assert_eq!(Some(sales), counted.products.get(asin.as_str()), "{asin}");
    }
    assert!(
        products
            .windows(2)
            .all(|w| w[0].1.purchases >= w[1].1.purchases),
        "most orders first"
    );
    let top3 = top_products(&tree, from, to, 3).expect("reads");
    assert_eq!(
        top3,
        products[..3].to_vec(),
        "the first three of the ranking"
    );

    let posts = top_posts(&tree, from, to, usize::MAX).expect("reads");
    assert_eq!(
        posts.len(),
        counted.posts.len(),
        "every post bought through"
    );
    for (post, sales) in &posts {
        assert_eq!(Some(sales), counted.posts.get(post.as_str()), "{post}");
    }

    let (sponsored, organic) = sponsored_and_organic(&tree, from, to).expect("reads");
    let kind_of = |post: &str| counted.sponsored_posts.get(post).copied().unwrap_or(false);
    let (mut want_sponsored, mut want_organic) = (Sales::default(), Sales::default());
    for (post, sales) in &counted.posts {
        if kind_of(post) {
            want_sponsored = want_sponsored.plus(*sales);
        } else {
            want_organic = want_organic.plus(*sales);
        }
    }
    let sponsored_count = counted.sponsored_posts.values().filter(|s| **s).count();
    assert!(sponsored_count > 0, "the demo world has sponsored posts");
    assert_eq!(sponsored.posts, sponsored_count as u64);
    assert_eq!(
        organic.posts,
        (counted.sponsored_posts.len() - sponsored_count) as u64
    );
    assert_eq!(
        (sponsored.sales, organic.sales),
        (want_sponsored, want_organic)
    );

    // A range after the last day holds no sales, yet every post published so far.
    let (later, _) = sponsored_and_organic(&tree, to + 1, to + 30).expect("reads");
    assert_eq!(later.sales, Sales::default());
    assert_eq!(later.posts, sponsored.posts);
    assert!(
        top_posts(&tree, to + 1, to + 30, 10)
            .expect("reads")
            .is_empty()
    );
}
