//! The creators projection: follows with their counts and lists, and storefronts ranked
//! by the purchases made through the creator's posts; equal after a rebuild.

use sparkfeed_domain::{Asin, Caller, Command, PostId, TagInput, UserId};
use sparkfeed_events::Position;
use sparkfeed_projections::View;
use sparkfeed_projections::creators::read::{self as creators, ShelfCursor};
use sparkfeed_projections::creators::rows::FollowCounts;

use crate::*;

const MAT: &str = "B000000001";
const SOAP: &str = "B000000002";

fn view(w: &World) -> View {
    w.projections.view("creators").expect("creators")
}

fn follow(creator: &str) -> Command {
    Command::Follow {
        creator: user(creator),
    }
}

fn unfollow(creator: &str) -> Command {
    Command::Unfollow {
        creator: user(creator),
    }
}

/// [`World::small`] with a third Prime member, ucat.
async fn with_cat() -> (World, Live) {
    let (w, live) = World::small_live().await;
    w.run(
        Caller::Anonymous,
        Command::RegisterMember {
            user: user("ucat"),
            handle: handle("cat"),
            display_name: "cat".into(),
        },
    )
    .await;
    w.run(system(), Command::StartPrime { user: user("ucat") })
        .await;
    (w, live)
}

fn counts(w: &World, id: &str) -> (u64, u64) {
    let FollowCounts {
        followers,
        following,
    } = creators::follow_counts(&view(w), &user(id)).expect("reads");
    (followers, following)
}

fn ids(page: Vec<(Position, UserId)>) -> Vec<String> {
    page.into_iter().map(|(_, u)| u.to_string()).collect()
}

fn followers(w: &World, id: &str) -> Vec<String> {
    ids(creators::followers(&view(w), &user(id), 10, None)
        .expect("reads")
        .items)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_count_both_ways_and_an_unfollow_takes_them_back() {
    let (w, _live) = with_cat().await;

    // Given bob and cat follow ana, and bob follows cat:
    w.run(as_user("ubob"), follow("uana")).await;
    w.run(as_user("ucat"), follow("uana")).await;
    w.run_and_read(as_user("ubob"), follow("ucat")).await;

    // Then ana has two followers, the latest first; bob follows two creators.
    assert_eq!(counts(&w, "uana"), (2, 0));
    assert_eq!(counts(&w, "ubob"), (0, 2));
    assert_eq!(counts(&w, "ucat"), (1, 1));
    assert_eq!(followers(&w, "uana"), ["ucat", "ubob"]);
    let following = creators::following(&view(&w), &user("ubob"), 10, None).expect("reads");
    assert_eq!(ids(following.items), ["ucat", "uana"]);
    assert!(creators::follows(&view(&w), &user("ubob"), &user("uana")).expect("reads"));
    assert!(!creators::follows(&view(&w), &user("uana"), &user("ubob")).expect("reads"));

    // Pages of one walk the followers once each.
    let first = creators::followers(&view(&w), &user("uana"), 1, None).expect("reads");
    assert!(first.has_next);
    let after = first.items.first().map(|(at, _)| *at);
    let second = creators::followers(&view(&w), &user("uana"), 1, after).expect("reads");
    assert_eq!(ids(second.items), ["ubob"]);
    assert!(!second.has_next);

    // When bob unfollows ana, both counts and both lists lose him.
    w.run_and_read(as_user("ubob"), unfollow("uana")).await;
    assert_eq!(counts(&w, "uana"), (1, 0));
    assert_eq!(counts(&w, "ubob"), (0, 1));
    assert_eq!(followers(&w, "uana"), ["ucat"]);
    assert!(!creators::follows(&view(&w), &user("ubob"), &user("uana")).expect("reads"));

    // Following again puts him back, as the latest follower.
    w.run_and_read(as_user("ubob"), follow("uana")).await;
    assert_eq!(followers(&w, "uana"), ["ubob", "ucat"]);
    assert_eq!(counts(&w, "uana"), (2, 0));
    w.assert_rebuild_equals_live("creators").await;
}

/// A storefront as (product, purchases, units, the creator's live posts tagging it).
fn storefront(w: &World, id: &str) -> Vec<(String, u64, u64, Vec<String>)> {
    let page = creators::storefront(&view(w), &user(id), 50, None).expect("reads");
    assert!(!page.has_next);
    page.items
        .into_iter()
        .map(|row| {
            let posts = creators::shelf_posts(&view(w), &user(id), &row.asin, 50, None)
                .expect("reads")
                .items
                .into_iter()
                .map(|(_, p): (_, PostId)| p.to_string())
                .collect();
            (row.asin.to_string(), row.purchases, row.units, posts)
        })
        .collect()
}

fn shelf(
    asin: &str,
    purchases: u64,
    units: u64,
    posts: &[&str],
) -> (String, u64, u64, Vec<String>) {
    let posts = posts.iter().map(|p| (*p).to_owned()).collect();
    (asin.to_owned(), purchases, units, posts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storefront_ranks_products_by_purchases_through_the_creators_posts() {
    let (w, _live) = with_cat().await;
    let ana = Caller::User(user("uana"));

    // Given ana tags the mat in p1, then the soap in p2: untouched, the latest tag leads.
    w.run(ana.clone(), publish("p1", &["fitness"], &[MAT], None))
        .await;
    w.run_and_read(ana.clone(), publish("p2", &["fitness"], &[SOAP], None))
        .await;
    assert_eq!(
        storefront(&w, "uana"),
        [shelf(SOAP, 0, 0, &["p2"]), shelf(MAT, 0, 0, &["p1"])]
    );

    // When bob buys two mats through p1, and cat buys the soap through bob's own post,
    // the mat leads ana's storefront; cat's purchase counts on bob's, not on ana's.
    w.run(as_user("ubob"), buy("p1", MAT, 2, "b1", false)).await;
    w.run(as_user("ubob"), publish("pb", &["fitness"], &[SOAP], None))
        .await;
    w.run_and_read(as_user("ucat"), buy("pb", SOAP, 1, "c1", true))
        .await;
    assert_eq!(
        storefront(&w, "uana"),
        [shelf(MAT, 1, 2, &["p1"]), shelf(SOAP, 0, 0, &["p2"])]
    );
    assert_eq!(storefront(&w, "ubob"), [shelf(SOAP, 1, 1, &["pb"])]);

    // Two purchases of the soap through p2 put it first.
    w.run(as_user("ubob"), buy("p2", SOAP, 1, "b2", false))
        .await;
    w.run_and_read(as_user("ucat"), buy("p2", SOAP, 3, "c2", false))
        .await;
    assert_eq!(
        storefront(&w, "uana"),
        [shelf(SOAP, 2, 4, &["p2"]), shelf(MAT, 1, 2, &["p1"])]
    );

    // Pages of one walk it in that order.
    let first = creators::storefront(&view(&w), &user("uana"), 1, None).expect("reads");
    let cursor: Option<ShelfCursor> = first.items.last().map(|r| r.cursor());
    let second = creators::storefront(&view(&w), &user("uana"), 1, cursor.as_ref()).expect("reads");
    assert!(first.has_next && !second.has_next);
    let walked: Vec<&Asin> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|r| &r.asin)
        .collect();
    assert_eq!(walked, [&asin(SOAP), &asin(MAT)]);

    // When p2 is removed, the soap leaves the storefront; its purchases stay counted and
    // come back with it when ana tags it in p1.
    w.run_and_read(
        system(),
        Command::RemovePost {
            post: post("p2"),
            reason: "spam".into(),
        },
    )
    .await;
    assert_eq!(storefront(&w, "uana"), [shelf(MAT, 1, 2, &["p1"])]);
    w.run_and_read(
        ana.clone(),
        Command::TagProduct {
            post: post("p1"),
            tag: TagInput {
                asin: asin(SOAP),
                media_index: 0,
                x: 0.5,
                y: 0.5,
            },
        },
    )
    .await;
    assert_eq!(
        storefront(&w, "uana"),
        [shelf(SOAP, 2, 4, &["p1"]), shelf(MAT, 1, 2, &["p1"])]
    );

    // Untagging the mat from p1, its last post tagging it, takes it off.
    w.run_and_read(
        ana,
        Command::UntagProduct {
            post: post("p1"),
            asin: asin(MAT),
            media_index: 0,
        },
    )
    .await;
    assert_eq!(storefront(&w, "uana"), [shelf(SOAP, 2, 4, &["p1"])]);
    let mat = creators::shelf(&view(&w), &user("uana"), &asin(MAT))
        .expect("reads")
        .expect("a row");
    assert_eq!((mat.purchases, mat.posts), (1, 0), "kept, not listed");
    w.assert_rebuild_equals_live("creators").await;
}
