//! A creator's storefront: the products they tagged, most bought through their posts.

use super::*;

const STOREFRONT: &str = "query($h: String!, $n: Int, $a: String) { user(handle: $h) { storefront {
  products(first: $n, after: $a) { pageInfo { hasNextPage } edges { cursor node {
    asin purchases units product { title } posts(first: 5) { edges { node { caption } } } } } }
  posts(first: 10) { edges { node { caption } } } } } }";

/// A product on a storefront: its ASIN, purchases, units, and the captions of the
/// creator's posts tagging it.
type Shelf = (String, u64, u64, Vec<String>);

/// The storefront's products, and whether more follow.
fn products(data: &Value) -> (Vec<Shelf>, bool) {
    let products = &data["user"]["storefront"]["products"];
    let rows = products["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            let n = &e["node"];
            let captions = n["posts"]["edges"].as_array().expect("posts");
            let captions = captions
                .iter()
                .map(|p| p["node"]["caption"].as_str().expect("caption").to_owned())
                .collect();
            let count = |f: &str| n[f].as_u64().expect("count");
            let asin = n["asin"].as_str().expect("asin").to_owned();
            (asin, count("purchases"), count("units"), captions)
        })
        .collect();
    let more = products["pageInfo"]["hasNextPage"].as_bool().expect("bool");
    (rows, more)
}

fn row(
    asin: &str,
    purchases: u64,
    units: u64,
    captions: &[&str],
) -> (String, u64, u64, Vec<String>) {
    let captions = captions.iter().map(|c| (*c).to_owned()).collect();
    (asin.to_owned(), purchases, units, captions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storefront_shows_the_creators_products_most_bought_through_their_posts_first() {
    let h = Harness::start().await;
    let (_carol, carol) = creator(&h, "carol_makes").await;
    let (_ana, ana) = h.prime_member("ana_spark").await;
    let (_bob, bob) = h.prime_member("bob_buys").await;

    // Given carol's posts tag the kettle, the grinder and the mat, in that order,
    let (kettle_post, _) = publish(&h, &carol, post_input("Kettle", "coffee", &[KETTLE])).await;
    let (grinder_post, _) = publish(
        &h,
        &carol,
        post_input("Grinder", "coffee", &[COFFEE_GRINDER]),
    )
    .await;
    publish(&h, &carol, post_input("Mat", "fitness", &[YOGA_MAT])).await;
    // and ana's post tags the mat too;
    let (anas_post, _) = publish(&h, &ana, post_input("My mat", "fitness", &[YOGA_MAT])).await;

    // when bob buys two grinders (in two orders) and a kettle through carol's posts, and
    // three mats through ana's,
    buy(&h, &bob, &grinder_post, COFFEE_GRINDER, 1, "g1").await;
    buy(&h, &bob, &grinder_post, COFFEE_GRINDER, 1, "g2").await;
    buy(&h, &bob, &kettle_post, KETTLE, 3, "k1").await;
    buy(&h, &bob, &anas_post, YOGA_MAT, 3, "m1").await;

    // then carol's storefront ranks the grinder, the kettle, then the mat (ana's sales
    // are ana's), for anyone, with the posts tagging each;
    let all = ok(ask(&h, None, STOREFRONT, json!({ "h": "carol_makes", "n": 10 })).await);
    assert_eq!(
        products(&all),
        (
            vec![
                row(COFFEE_GRINDER, 2, 2, &["Grinder"]),
                row(KETTLE, 1, 3, &["Kettle"]),
                row(YOGA_MAT, 0, 0, &["Mat"]),
            ],
            false
        )
    );
    let storefront = &all["user"]["storefront"];
    assert_eq!(
        storefront["products"]["edges"][0]["node"]["product"]["title"],
        "Burr Grinder"
    );
    let captions: Vec<&str> = storefront["posts"]["edges"]
        .as_array()
        .expect("posts")
        .iter()
        .map(|p| p["node"]["caption"].as_str().expect("caption"))
        .collect();
    assert_eq!(captions, ["Mat", "Grinder", "Kettle"], "posts newest first");
    let anas = ok(ask(&h, None, STOREFRONT, json!({ "h": "ana_spark" })).await);
    assert_eq!(products(&anas).0, [row(YOGA_MAT, 1, 3, &["My mat"])]);

    // and pages of two walk it in that order.
    let first = ok(ask(&h, None, STOREFRONT, json!({ "h": "carol_makes", "n": 2 })).await);
    let (page, more) = products(&first);
    assert_eq!((page.len(), more), (2, true));
    let cursor = first["user"]["storefront"]["products"]["edges"][1]["cursor"].clone();
    let variables = json!({ "h": "carol_makes", "n": 2, "a": cursor });
    let second = ok(ask(&h, None, STOREFRONT, variables).await);
    assert_eq!(
        products(&second),
        (vec![row(YOGA_MAT, 0, 0, &["Mat"])], false)
    );

    // A cursor that is not one of a storefront's is bad input.
    let variables = json!({ "h": "carol_makes", "a": "12:not-a-position:B0COFFEE01" });
    refused(
        &ask(&h, None, STOREFRONT, variables).await,
        200,
        "BAD_USER_INPUT",
    );
}
