//! Who reads which field of the ledger, and the refusals of unknown and malformed ids.

use serde_json::{Value, json};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anyone_reads_who_paid_for_whom_when_and_what_with_no_token() {
    let h = Harness::start().await;
    let l = ledger(&h).await;
    let k = json!({ "k": l.contract });

    let public = ok(ask(&h, None, PUBLIC, k.clone()).await)["sponsorship"].clone();
    assert_eq!(public["contractId"], json!(l.contract));
    assert_eq!(public["brandId"], json!(l.brand.0), "who paid");
    assert_eq!(public["brandName"], "Acme Coffee");
    assert_eq!(public["enthusiastId"], json!(l.carol.0), "who was paid");
    assert_eq!(public["enthusiast"]["id"], json!(l.carol.0));
    assert!(public["startsAt"].is_string() && public["endsAt"].is_string());
    assert_eq!(public["endedEarlyAt"], Value::Null);
    assert_eq!(public["active"], true);
    assert_eq!(
        public["opened"]["hash"],
        json!(log_hash(&h, &public["opened"]["position"]))
    );
    let posts = public["posts"]["edges"].as_array().expect("posts");
    assert_eq!(posts.len(), 1);
    let post = &posts[0]["node"];
    assert_eq!(post["postId"], json!(l.post));
    assert_eq!(post["hash"], json!(log_hash(&h, &post["position"])));
    // The label exactly as members see it on the post.
    let shown = ok(ask(
        &h,
        None,
        "query($p: ID!) { post(id: $p) { disclosure { label } } }",
        json!({ "p": l.post }),
    )
    .await);
    assert_eq!(
        post["disclosure"]["label"],
        "Paid partnership with Acme Coffee"
    );
    assert_eq!(
        post["disclosure"]["label"],
        shown["post"]["disclosure"]["label"]
    );

    // Terms and sales: refused without a token and to a member who is no party, each on
    // its own field, while the public fields still answer.
    for (token, code) in [
        (None, "UNAUTHENTICATED"),
        (Some(l.stranger.as_str()), "FORBIDDEN"),
    ] {
        let (data, errors) = partial(&ask(&h, token, TERMS, k.clone()).await);
        assert_eq!(data["sponsorship"]["contractId"], json!(l.contract));
        for field in ["flatFee", "commissionBp", "commissionPercent", "sales"] {
            assert_eq!(data["sponsorship"][field], Value::Null, "{field}");
            let path = format!("sponsorship.{field}");
            assert!(
                errors.contains(&(path, code.to_owned())),
                "{field}: {errors:?}"
            );
        }
    }

    // The contract's brand and enthusiast and the auditor see them.
    for token in [&l.brand.1, &l.carol.1, &l.auditor, &h.admin] {
        let terms = ok(signed(&h, token, TERMS, k.clone()).await)["sponsorship"].clone();
        assert_eq!(terms["flatFee"]["cents"], 25_000);
        assert_eq!(terms["commissionBp"], 1_000);
        assert_eq!(terms["commissionPercent"], 10.0);
        assert_eq!(
            terms["sales"],
            json!({ "purchases": 1, "totals": [{ "cents": 9_000, "currency": "USD" }],
                    "commissionsEarned": [{ "cents": 900 }] })
        );
    }

    // Buyers and order amounts: the auditor and the admin only, not even the parties.
    for (token, code) in [
        (None, "UNAUTHENTICATED"),
        (Some(&l.brand.1), "FORBIDDEN"),
        (Some(&l.carol.1), "FORBIDDEN"),
    ] {
        let (data, errors) = partial(&ask(&h, token.map(String::as_str), ORDERS, k.clone()).await);
        let path = if token.is_none() {
            "sponsorship.sales"
        } else {
            "sponsorship.sales.orders"
        };
        assert!(
            errors.contains(&(path.to_owned(), code.to_owned())),
            "{errors:?}"
        );
        assert_eq!(data["sponsorship"]["sales"]["orders"], Value::Null);
    }
    for token in [&l.auditor, &h.admin] {
        let data = ok(signed(&h, token, ORDERS, k.clone()).await);
        let orders = data["sponsorship"]["sales"]["orders"]["edges"]
            .as_array()
            .expect("orders")
            .clone();
        assert_eq!(orders.len(), 1);
        let order = &orders[0]["node"];
        assert_eq!(order["buyerId"], json!(l.buyer));
        assert_eq!(order["postId"], json!(l.post));
        assert_eq!(
            (&order["total"]["cents"], &order["commission"]["cents"]),
            (&json!(9_000), &json!(900))
        );
        assert_eq!(order["hash"], json!(log_hash(&h, &order["position"])));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_or_malformed_contract_or_party_is_a_typed_refusal() {
    let h = Harness::start().await;
    let one = "query($k: ID!) { sponsorship(contractId: $k) { contractId } }";
    let refusals = [
        (one, json!({ "k": "knothere" }), "NOT_FOUND"),
        (one, json!({ "k": "K-1!" }), "BAD_USER_INPUT"),
        (one, json!({ "k": "" }), "BAD_USER_INPUT"),
        (
            "query($b: ID) { sponsorships(brand: $b) { edges { cursor } } }",
            json!({ "b": "unobody" }),
            "NOT_FOUND",
        ),
        (
            "query($e: ID) { sponsorships(enthusiast: $e) { edges { cursor } } }",
            json!({ "e": "NOT AN ID" }),
            "BAD_USER_INPUT",
        ),
        (
            "{ sponsorships(activeAt: \"yesterday\") { edges { cursor } } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ sponsorships(after: \"x\") { edges { cursor } } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ sponsorships(first: 51) { edges { cursor } } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
    ];
    for (query, variables, code) in refusals {
        let answer = ask(&h, None, query, variables.clone()).await;
        refused(&answer, 200, code);
        assert!(
            answer.body["data"].is_object() || answer.body["data"].is_null(),
            "{variables}"
        );
    }
    let malformed = ask(&h, None, one, json!({ "k": "K-1!" })).await;
    assert_eq!(
        malformed.body["errors"][0]["extensions"]["field"],
        "contractId"
    );
}
