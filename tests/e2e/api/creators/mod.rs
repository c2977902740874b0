//! Creators (issue 16, part 4, and `postUpdates` of part 5) over the real server: follows
//! and their counts, every refusal typed with nothing written, the storefront's order,
//! earnings shown to the creator alone, and a post card's counts live over a WebSocket.
//!
//! - `follows`: follow, unfollow, the counts and lists, and the refusals;
//! - `storefront`: products ranked by purchases through the creator's posts;
//! - `earnings`: the breakdown by month and contract, for the creator only;
//! - `live`: `postUpdates`.

mod earnings;
mod follows;
mod live;
mod storefront;

use serde_json::{Value, json};
use sparkfeed_testkit::client::Answer;

use super::*;

const FOLLOW: &str = "mutation($c: ID!) { follow(creatorId: $c) {
  position creator { id followerCount viewerFollows } } }";
const UNFOLLOW: &str = "mutation($c: ID!) { unfollow(creatorId: $c) {
  position creator { id followerCount viewerFollows } } }";
const BUY: &str = "mutation($p: ID!, $a: String!, $q: Int!, $k: String!) {
  buy(input: { postId: $p, asin: $a, quantity: $q, idempotencyKey: $k }) { position } }";

/// A Prime member with the enthusiast role (earns commissions, may be sponsored).
async fn creator(h: &Harness, handle: &str) -> (String, String) {
    let (id, token) = h.prime_member(handle).await;
    h.grant(&id, "ENTHUSIAST").await;
    (id, token)
}

/// A brand account, opened by the admin: its id and a token.
async fn brand(h: &Harness, handle: &str, name: &str) -> (String, String) {
    let done = ok(h
        .client_with(&h.admin)
        .graphql(
            "mutation($h: String!, $n: String!) { registerBrand(handle: $h, brandName: $n) { user { id } } }",
            json!({ "h": handle, "n": name }),
        )
        .await
        .expect("brand"));
    let id = done["registerBrand"]["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let token = h.token_for(&id);
    (id, token)
}

/// Asks `query` with `variables`, signed in with `token` or signed out.
async fn ask(h: &Harness, token: Option<&str>, query: &str, variables: Value) -> Answer {
    let mut client = h.client();
    client.set_token(token.map(str::to_owned));
    client.graphql(query, variables).await.expect("answer")
}

/// `buyer` buys `quantity` of `asin` through `post` in one click.
async fn buy(h: &Harness, buyer: &str, post: &str, asin: &str, quantity: u8, key: &str) {
    let variables = json!({ "p": post, "a": asin, "q": quantity, "k": key });
    ok(ask(h, Some(buyer), BUY, variables).await);
}
