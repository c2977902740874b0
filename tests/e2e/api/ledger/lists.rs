//! `sponsorships` by party and period, paged; each party's own on `viewer`.

use serde_json::{Value, json};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parties_list_their_contracts_by_period_and_page_through_all_of_them() {
    let h = Harness::start().await;
    let l = ledger(&h).await;
    let dave = enthusiast(&h, "dave_reviews").await;
    // Carol: the current contract, an expired one and a future one; Dave: one current.
    let expired = contract(&h, &l.brand.1, &l.carol.0, (-10 * DAY, -DAY)).await;
    let future = contract(&h, &l.brand.1, &l.carol.0, (DAY, 10 * DAY)).await;
    let daves = contract(&h, &l.brand.1, &dave.0, (-HOUR, DAY)).await;
    let now = sparkfeed_api::time::format(sparkfeed_events::Timestamp::now().0);

    const LIST: &str = "query($b: ID, $e: ID, $at: DateTime, $first: Int, $after: String) {
      sponsorships(brand: $b, enthusiast: $e, activeAt: $at, first: $first, after: $after) {
        edges { cursor node { contractId } } pageInfo { hasNextPage endCursor } } }";
    let ids = |data: &Value| -> Vec<String> {
        data["sponsorships"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["contractId"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let list = |vars: Value| ask(&h, None, LIST, vars);
    let all = vec![
        l.contract.clone(),
        expired.clone(),
        future.clone(),
        daves.clone(),
    ];
    assert_eq!(
        ids(&ok(list(json!({ "b": l.brand.0 })).await)),
        all,
        "in opening order"
    );
    assert_eq!(
        ids(&ok(list(json!({ "e": l.carol.0 })).await)),
        vec![l.contract.clone(), expired.clone(), future.clone()]
    );
    assert_eq!(
        ids(&ok(list(json!({ "e": l.carol.0, "at": now })).await)),
        vec![l.contract.clone()],
        "in force now"
    );
    assert_eq!(
        ids(&ok(list(json!({ "at": now })).await)),
        vec![l.contract.clone(), daves.clone()]
    );

    // Pages of one walk every contract once.
    let mut walked = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = ok(list(json!({ "first": 1, "after": after })).await);
        walked.extend(ids(&page));
        let info = &page["sponsorships"]["pageInfo"];
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(walked, all);

    // Each party finds their own contracts and earnings on `viewer`.
    const VIEWER: &str = "{ viewer { sponsorships(first: 10) { edges { node { contractId flatFee { cents }
      sales { purchases commissionsEarned { cents } } } } } earnings { orders underContracts { cents } } } }";
    let carols = ok(signed(&h, &l.carol.1, VIEWER, json!({})).await)["viewer"].clone();
    let first = &carols["sponsorships"]["edges"][0]["node"];
    assert_eq!(first["contractId"], json!(l.contract));
    assert_eq!(
        first["sales"]["commissionsEarned"],
        json!([{ "cents": 900 }])
    );
    assert_eq!(
        carols["earnings"],
        json!({ "orders": 1, "underContracts": [{ "cents": 900 }] })
    );
    let brands = ok(signed(&h, &l.brand.1, VIEWER, json!({})).await)["viewer"].clone();
    assert_eq!(
        brands["sponsorships"]["edges"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(
        brands["sponsorships"]["edges"][0]["node"]["sales"]["purchases"],
        1
    );
    // Another member's earnings are theirs alone.
    let (_, errors) = partial(
        &signed(
            &h,
            &l.stranger,
            "{ user(handle: \"carol_makes\") { earnings { orders } } }",
            json!({}),
        )
        .await,
    );
    assert_eq!(
        errors,
        [("user.earnings".to_owned(), "FORBIDDEN".to_owned())]
    );
}
