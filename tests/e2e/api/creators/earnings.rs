//! What a creator earned, by month and by contract, shown to them alone.

use sparkfeed_api::time;
use sparkfeed_events::Timestamp;

use super::*;

const EARNINGS: &str = "{ viewer { earnings {
  orders commissions { cents } flatFees { cents } total { cents currency }
  byMonth(first: 24) { edges { node { month orders commissions { cents } flatFees { cents } } } }
  byContract(first: 10) { edges { node { contractId brandName flatFee { cents } feeMonth
    commissionBp commissions { cents } orders sponsorship { contractId } } } } } } }";

/// The `YYYY-MM` of an RFC 3339 time.
fn month_of(rfc3339: &str) -> String {
    rfc3339.chars().take(7).collect()
}

/// The sum of the `cents` of the first amount of `field` over `rows`.
fn total(rows: &[Value], field: &str) -> u64 {
    rows.iter()
        .filter_map(|r| r["node"][field][0]["cents"].as_u64())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creator_sees_commissions_at_both_rates_and_flat_fees_by_month_and_contract() {
    let h = Harness::start().await;
    let (carol, carol_token) = creator(&h, "carol_makes").await;
    let (_acme, acme) = brand(&h, "acme_coffee", "Acme Coffee").await;
    let (_bob, bob) = h.prime_member("bob_buys").await;

    // Given acme sponsors carol for a 250.00 fee and 10% from a minute ago,
    let starts = time::format(Timestamp::now().0 - 60_000_000);
    let ends = time::format(Timestamp::now().0 + 30 * 86_400_000_000);
    let input = json!({ "input": { "enthusiastId": carol, "flatFee": { "cents": 25_000 },
        "commissionBp": 1_000, "startsAt": starts, "endsAt": ends } });
    let created = ok(ask(
        &h,
        Some(&acme),
        "mutation($input: CreateSponsorshipInput!) { createSponsorship(input: $input) { contractId } }",
        input,
    )
    .await);
    let contract = created["createSponsorship"]["contractId"].clone();
    // when bob buys two 45.00 kettles through her sponsored post (10%: 9.00) and a 129.99
    // grinder through her own (the associate rate, 3%: 3.89, rounded down),
    let mut sponsored = post_input("Thanks Acme", "coffee", &[KETTLE]);
    sponsored["contractId"] = contract.clone();
    let (sponsored, _) = publish(&h, &carol_token, sponsored).await;
    let (own, _) = publish(
        &h,
        &carol_token,
        post_input("Mine", "coffee", &[COFFEE_GRINDER]),
    )
    .await;
    buy(&h, &bob, &sponsored, KETTLE, 2, "k1").await;
    buy(&h, &bob, &own, COFFEE_GRINDER, 1, "g1").await;

    // then carol sees both commissions and the fee, in all,
    let earned =
        ok(ask(&h, Some(&carol_token), EARNINGS, json!({})).await)["viewer"]["earnings"].clone();
    assert_eq!(earned["orders"], 2);
    assert_eq!(earned["commissions"], json!([{ "cents": 1_289 }]));
    assert_eq!(earned["flatFees"], json!([{ "cents": 25_000 }]));
    assert_eq!(
        earned["total"],
        json!([{ "cents": 26_289, "currency": "USD" }])
    );
    // by month (the fee in the month the contract starts),
    let months = earned["byMonth"]["edges"].as_array().expect("months");
    let fee_month = months
        .iter()
        .find(|m| m["node"]["flatFees"] == json!([{ "cents": 25_000 }]))
        .expect("a month with the fee");
    assert_eq!(fee_month["node"]["month"], month_of(&starts));
    assert_eq!(total(months, "commissions"), 1_289);
    let orders: u64 = months
        .iter()
        .filter_map(|m| m["node"]["orders"].as_u64())
        .sum();
    assert_eq!(orders, 2);
    // and by contract.
    assert_eq!(
        earned["byContract"]["edges"],
        json!([{ "node": {
            "contractId": contract, "brandName": "Acme Coffee", "flatFee": { "cents": 25_000 },
            "feeMonth": month_of(&starts), "commissionBp": 1_000,
            "commissions": [{ "cents": 900 }], "orders": 1,
            "sponsorship": { "contractId": contract } } }])
    );

    // Nobody else sees them: the brand and bob are forbidden, a visitor unauthenticated.
    const HERS: &str = "{ user(handle: \"carol_makes\") { handle earnings { orders } } }";
    for (token, code) in [
        (Some(&acme), "FORBIDDEN"),
        (Some(&bob), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let answer = ask(&h, token.map(String::as_str), HERS, json!({})).await;
        assert_eq!(answer.error_code(), Some(code), "{}", answer.text);
        assert_eq!(answer.body["data"]["user"]["handle"], "carol_makes");
        assert_eq!(answer.body["data"]["user"]["earnings"], Value::Null);
    }
    let signed_out = ok(ask(&h, None, "{ viewer { earnings { orders } } }", json!({})).await);
    assert_eq!(signed_out["viewer"], Value::Null);
}
