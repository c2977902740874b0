//! The sponsorship ledger (issue 15, part 1) over the real server: `sponsorship`,
//! `sponsorships`, `viewer { sponsorships earnings }` and the typed `sponsorshipHistory`.
//!
//! Who sees what: the fields an EU ad repository publishes (DSA Art. 39) need no token;
//! the terms and the sales are for the contract's brand and enthusiast, auditors and
//! admins; the individual orders for auditors and admins.
//!
//! - `access`: who reads which field, and the refusals of bad ids;
//! - `history`: an early end, in the period and in the typed history;
//! - `lists`: `sponsorships` by party and period, paged, and `viewer`'s own.

mod access;
mod history;
mod lists;

use serde_json::{Value, json};
use sparkfeed_events::Position;
use sparkfeed_testkit::client::Answer;

use super::*;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

const CREATE: &str = "mutation($input: CreateSponsorshipInput!) {
  createSponsorship(input: $input) { contractId } }";
const END: &str = "mutation($k: ID!, $r: String!) {
  endSponsorship(contractId: $k, reason: $r) { position } }";
const BUY: &str = "mutation($p: ID!, $k: String!) {
  buy(input: { postId: $p, asin: \"B0COFFEE02\", quantity: 2, idempotencyKey: $k }) { position } }";

/// What an EU ad repository publishes about a contract.
const PUBLIC: &str = "query($k: ID!) { sponsorship(contractId: $k) {
  contractId brandId brandName enthusiastId enthusiast { id } startsAt endsAt
  endedEarlyAt endedReason endedBy active opened { position hash } ended { position hash }
  posts(first: 10) { edges { node { postId disclosure { label brandName }
    position hash removed { position } } } } } }";
/// The terms and sales of a contract.
const TERMS: &str = "query($k: ID!) { sponsorship(contractId: $k) { contractId
  flatFee { cents } commissionBp commissionPercent
  sales { purchases totals { cents currency } commissionsEarned { cents } } } }";
/// The individual orders of a contract.
const ORDERS: &str = "query($k: ID!) { sponsorship(contractId: $k) { sales {
  orders(first: 10) { edges { node { orderId buyerId total { cents } commission { cents }
    postId position hash } } } } } }";

/// A brand (Acme Coffee), an enthusiast (Carol) under contract with it, her sponsored
/// post, a purchase through it, an auditor, and a member who is none of these.
struct Ledger {
    brand: (String, String),
    carol: (String, String),
    buyer: String,
    auditor: String,
    stranger: String,
    contract: String,
    post: String,
}

async fn enthusiast(h: &Harness, handle: &str) -> (String, String) {
    let (id, token) = h.prime_member(handle).await;
    h.grant(&id, "ENTHUSIAST").await;
    (id, token)
}

/// A contract of the brand `token` with `enthusiast` over `[starts, ends)` (from now).
async fn contract(
    h: &Harness,
    token: &str,
    enthusiast: &str,
    (starts, ends): (i64, i64),
) -> String {
    let now = sparkfeed_events::Timestamp::now().0;
    let input = json!({ "input": {
        "enthusiastId": enthusiast, "flatFee": { "cents": 25_000 }, "commissionBp": 1_000,
        "startsAt": sparkfeed_api::time::format(now + starts),
        "endsAt": sparkfeed_api::time::format(now + ends),
    } });
    let done = ok(h
        .client_with(token)
        .graphql(CREATE, input)
        .await
        .expect("create"));
    done["createSponsorship"]["contractId"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn ledger(h: &Harness) -> Ledger {
    let carol = enthusiast(h, "carol_makes").await;
    let brand = ok(h
        .client_with(&h.admin)
        .graphql("mutation { registerBrand(handle: \"acme_coffee\", brandName: \"Acme Coffee\") { user { id } } }", json!({}))
        .await
        .expect("brand"));
    let brand_id = brand["registerBrand"]["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let brand = (brand_id.clone(), h.token_for(&brand_id));
    let contract = contract(h, &brand.1, &carol.0, (-HOUR, 30 * DAY)).await;
    let mut input = post_input("Thanks Acme for the kettle", "coffee", &[KETTLE]);
    input["contractId"] = json!(contract);
    let (post, _) = publish(h, &carol.1, input).await;
    let (buyer, buyer_token) = h.prime_member("bob_buys").await;
    let bought = json!({ "p": post, "k": "bob-1" });
    ok(h.client_with(&buyer_token)
        .graphql(BUY, bought)
        .await
        .expect("buy"));
    let (auditor_id, auditor) = h.prime_member("dana_audits").await;
    h.grant(&auditor_id, "AUDITOR").await;
    let (_, stranger) = h.prime_member("eve_looks").await;
    Ledger {
        brand,
        carol,
        buyer,
        auditor,
        stranger,
        contract,
        post,
    }
}

/// Asks `query` with `variables` as `token` (signed out when `None`).
async fn ask(h: &Harness, token: Option<&str>, query: &str, variables: Value) -> Answer {
    let mut client = h.client();
    client.set_token(token.map(str::to_owned));
    client.graphql(query, variables).await.expect("answer")
}

/// Asks `query` as the holder of `token`.
async fn signed(h: &Harness, token: &str, query: &str, variables: Value) -> Answer {
    ask(h, Some(token), query, variables).await
}

/// The answer's `data` and its errors as (path, code), for answers with refused fields.
fn partial(answer: &Answer) -> (Value, Vec<(String, String)>) {
    assert_eq!(answer.status, 200, "{}", answer.text);
    let errors = answer.body["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let errors = errors
        .iter()
        .map(|e| {
            let path: Vec<String> = e["path"]
                .as_array()
                .map(|p| p.iter().map(|s| s.to_string().replace('"', "")).collect())
                .unwrap_or_default();
            let code = e["extensions"]["code"].as_str().unwrap_or("no code");
            (path.join("."), code.to_owned())
        })
        .collect();
    (answer.body["data"].clone(), errors)
}

/// The chain hash of the event at `position`, as the log holds it.
fn log_hash(h: &Harness, position: &Value) -> String {
    let at = Position(position.as_u64().expect("position"));
    let stored = h
        .api
        .domain
        .log()
        .read_event(at)
        .expect("reads")
        .expect("exists");
    stored.hash.to_hex()
}
