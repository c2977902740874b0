//! An early end, in the contract's period and in the post's typed history.

use serde_json::{Value, json};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_end_shows_in_the_period_and_the_typed_history() {
    let h = Harness::start().await;
    let l = ledger(&h).await;
    let k = json!({ "k": l.contract });
    ok(signed(
        &h,
        &l.brand.1,
        END,
        json!({ "k": l.contract, "r": "budget cut" }),
    )
    .await);

    let public = ok(ask(&h, None, PUBLIC, k.clone()).await)["sponsorship"].clone();
    assert!(public["endedEarlyAt"].is_string());
    assert_eq!(public["endedReason"], "budget cut");
    assert_eq!(public["endedBy"], json!(format!("user:{}", l.brand.0)));
    assert_eq!(public["active"], false);
    assert_eq!(
        public["ended"]["hash"],
        json!(log_hash(&h, &public["ended"]["position"]))
    );

    // Auditors read the post's history as typed entries, not sentences.
    let history = ok(signed(&h, &l.auditor, "query($p: ID!) { sponsorshipHistory(postId: $p, first: 50) { edges { node {
      kind position hash brandId brandName enthusiastId flatFee { cents } commissionBp startsAt endsAt
      authorId disclosure { label } asin orderId buyerId quantity orderTotal { cents } commission { cents }
      endedBy reason } } } }", json!({ "p": l.post })).await);
    let entries: Vec<Value> = history["sponsorshipHistory"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        [
            "CONTRACT_OPENED",
            "SPONSORED_POST_PUBLISHED",
            "PURCHASE_ATTRIBUTED",
            "CONTRACT_ENDED"
        ]
    );
    for e in &entries {
        assert_eq!(e["hash"], json!(log_hash(&h, &e["position"])));
    }
    let (opened, published, purchase, ended) = (&entries[0], &entries[1], &entries[2], &entries[3]);
    assert_eq!(opened["brandId"], json!(l.brand.0));
    assert_eq!(opened["brandName"], "Acme Coffee");
    assert_eq!(opened["enthusiastId"], json!(l.carol.0));
    assert_eq!(
        (&opened["flatFee"]["cents"], &opened["commissionBp"]),
        (&json!(25_000), &json!(1_000))
    );
    assert!(opened["startsAt"].is_string() && opened["endsAt"].is_string());
    assert_eq!(opened["orderTotal"], Value::Null, "a kind's fields only");
    assert_eq!(published["authorId"], json!(l.carol.0));
    assert_eq!(
        published["disclosure"]["label"],
        "Paid partnership with Acme Coffee"
    );
    assert_eq!(purchase["buyerId"], json!(l.buyer));
    assert_eq!(purchase["asin"], KETTLE);
    assert_eq!(purchase["quantity"], 2);
    assert_eq!(
        (
            &purchase["orderTotal"]["cents"],
            &purchase["commission"]["cents"]
        ),
        (&json!(9_000), &json!(900))
    );
    assert_eq!(ended["endedBy"], json!(format!("user:{}", l.brand.0)));
    assert_eq!(ended["reason"], "budget cut");
    assert_eq!(ended["brandId"], Value::Null);
}
