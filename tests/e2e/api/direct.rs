//! Post cards resolved directly answer exactly what async-graphql's executor answers.
//!
//! One seeded world (members, brands, sponsored posts, purchases, comments, smiles), two
//! schemas over the same store: the served one, which resolves cards directly, and one that
//! resolves them field by field. Every query is asked of both, as several viewers, and the
//! whole responses (data and errors) must be equal. The cards counter tells which path
//! answered, so the comparison cannot pass by both sides taking the same road.

use std::sync::Arc;

use async_graphql::{Request, Variables};
use serde_json::{Value, json};
use sparkfeed_api::{
    Api, Coded, Identity, Limits, Resolution, Tokens, build_schema, build_schema_with, request_as,
};
use sparkfeed_domain::{Domain, KeyStore, UserId};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_projections::Projections;
use sparkfeed_seed::Size;
use sparkfeed_testkit::ids;

use super::SECRET;

/// The whole post card a feed shows, as `sparkfeed bench api` asks for it.
const CARD: &str = "
  id caption publishedAt position removed sponsored interests
  smileCount saveCount shareCount commentCount purchaseCount viewerHasSmiled viewerHasSaved
  disclosure { label brandName contractId brand { id handle kind brandName } }
  author { id handle displayName kind brandName prime roles interests postCount }
  media { kind url width height alt }
  tags { asin mediaIndex x y verifiedPurchaser
         product { asin title imageUrl interests consumable delisted purchaseCount
                   price { cents currency formatted } } }";

/// Queries the direct resolver answers by itself.
fn direct_queries() -> Vec<String> {
    vec![
        format!("query($i: String!) {{ feed(interest: $i, first: 5) {{ edges {{ cursor node {{ {CARD} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"),
        // Aliases, __typename, and one response key selected twice (merged).
        "query($i: String!) { feed(interest: $i, first: 10) { edges { node {
            __typename a: id id
            author { handle } author { id displayName __typename }
            tags { product { title } } tags { asin product { price { cents } __typename } }
            who: author { h: handle }
            disclosure { label } disclosure { brand { id } }
        } } } }"
            .into(),
        // Named fragments, nested, and inline fragments with and without a type condition.
        "query($i: String!) { feed(interest: $i, first: 10) { edges { node { ...Card } } } }
         fragment Card on Post { id ... on Post { caption author { ...Who } } ... { smileCount } tags { ...Tag } }
         fragment Who on User { handle ... on User { prime } }
         fragment Tag on ProductTag { asin product { ... on Product { title } price { ...Price } } }
         fragment Price on Money { formatted }"
            .into(),
        // @skip and @include, by variable and by literal.
        "query($i: String!, $yes: Boolean!) { feed(interest: $i, first: 10) { edges { node {
            id caption @include(if: $yes) media @skip(if: $yes) { url }
            author @include(if: true) { handle @skip(if: false) displayName @include(if: false) }
            smileCount @skip(if: $yes)
        } } } }"
            .into(),
        // Nothing of the card selected.
        "query($i: String!) { feed(interest: $i, first: 3) { edges { node { id @skip(if: true) } } } }".into(),
        format!("query {{ homeFeed(first: 20) {{ edges {{ node {{ {CARD} }} }} }} }}"),
        format!("query($i: String!) {{ feed(interest: $i, first: 1) {{ edges {{ node {{ id }} }} }} viewer {{ saved(first: 20) {{ edges {{ node {{ {CARD} }} }} }} }} }}"),
    ]
}

/// Queries that need the executor for the cards (a field with arguments inside the card).
fn executor_queries() -> Vec<String> {
    vec![
        format!("query($i: String!) {{ feed(interest: $i, first: 10) {{ edges {{ node {{ {CARD} comments(first: 2) {{ edges {{ node {{ id text author {{ handle }} }} }} }} }} }} }} }}"),
        "query($i: String!) { feed(interest: $i, first: 5) { edges { node { id author { handle posts(first: 2) { edges { node { id caption tags { asin } } } } } } } } }".into(),
        "query($i: String!) { feed(interest: $i, first: 5) { edges { node { id tags { product { title posts(first: 2) { edges { node { id } } } } } } } } }".into(),
    ]
}

async fn world(dir: &std::path::Path) -> (Arc<Api>, Vec<UserId>, Vec<String>) {
    let log = EventLog::open(Config::new(dir.join("log"))).expect("log");
    let keys = Arc::new(KeyStore::open(&dir.join("keys")).expect("keys"));
    let domain = Domain::new(log.clone(), keys);
    let world = sparkfeed_seed::generate(
        7,
        Size {
            products: 40,
            members: 16,
            visitors: 3,
            enthusiasts: 6,
            posts: 90,
            activity: 1500,
        },
    );
    let files = dir.join("world");
    world.write(&files).expect("world files");
    sparkfeed_seed::load(&files, &domain, |_, _| {})
        .await
        .expect("seeds");
    let users = world.users.iter().map(|u| ids::user(&u.id)).collect();
    let interests = world.interests.iter().map(|i| i.slug.clone()).collect();
    let projections =
        Projections::open_with_cache(&dir.join("projections"), log, 64 << 20).expect("projections");
    let tokens = Tokens::new(SECRET).expect("secret");
    let key = sparkfeed_treehead::HeadKey::generate().expect("signing key");
    let api = Api::new(domain, projections, tokens, key, Limits::default());
    api.projections.catch_up().await.expect("catch up");
    (api, users, interests)
}

async fn answer(
    schema: &Coded,
    api: &Arc<Api>,
    viewer: Option<&UserId>,
    query: &str,
    variables: Value,
) -> String {
    let request = Request::new(query).variables(Variables::from_json(variables));
    let identity = Identity {
        user: viewer.cloned(),
    };
    let request = request_as(api, identity, request).expect("reads");
    let response = async_graphql::Executor::execute(schema, request).await;
    // Serialised as the server sends it, so the order of fields counts too.
    serde_json::to_string(&response).expect("a response is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_cards_answer_exactly_what_the_executor_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (api, users, interests) = world(dir.path()).await;
    let direct = build_schema(Arc::clone(&api));
    let reference = build_schema_with(Arc::clone(&api), Resolution::FieldByField);
    let viewers: Vec<Option<&UserId>> = std::iter::once(None)
        .chain(users.iter().take(12).map(Some))
        .collect();

    let mut compared = 0;
    let mut seen = String::new();
    for (queries, directly) in [(direct_queries(), true), (executor_queries(), false)] {
        for query in &queries {
            for viewer in &viewers {
                for interest in interests.iter().take(6) {
                    let variables = json!({ "i": interest, "yes": true });
                    let before = api.metrics.cards_resolved();
                    let ours = answer(&direct, &api, *viewer, query, variables.clone()).await;
                    let after = api.metrics.cards_resolved();
                    let theirs = answer(&reference, &api, *viewer, query, variables).await;
                    if ours != theirs {
                        let (a, b): (Value, Value) = (parse(&ours), parse(&theirs));
                        let at = first_difference(&a, &b, "")
                            .unwrap_or_else(|| "the order of fields".into());
                        panic!(
                            "the answers differ at {at} for viewer {viewer:?}, interest {interest}:\n{query}"
                        );
                    }
                    let ours = parse(&ours);
                    let needs_sign_in = query.contains("homeFeed") || query.contains("viewer {");
                    if viewer.is_none() && needs_sign_in {
                        // Refused or empty, alike on both sides (compared above).
                        continue;
                    }
                    assert!(ours.get("errors").is_none(), "{query}\nanswered {ours}");
                    let by_executor = after.1 - before.1;
                    if directly {
                        assert_eq!(by_executor, 0, "{query} went to the executor");
                    } else {
                        // The cards with such a field; cards nested under them (an author's
                        // posts) may still be resolved directly.
                        assert!(by_executor > 0, "{query} was resolved directly");
                    }
                    compared += 1;
                    seen.push_str(&ours.to_string());
                }
            }
        }
    }
    assert!(compared > 300, "compared {compared} answers");
    // The world exercises what a card can show, so a difference would have been seen.
    for shown in [
        "\"verifiedPurchaser\":true",
        "\"viewerHasSmiled\":true",
        "\"viewerHasSaved\":true",
        "Paid partnership with",
        "\"kind\":\"VIDEO\"",
        "\"kind\":\"BRAND\"",
        "\"roles\":[\"ENTHUSIAST\"",
        "\"hasNextPage\":true",
    ] {
        assert!(seen.contains(shown), "no answer showed {shown}");
    }
    let (by_direct, by_executor) = api.metrics.cards_resolved();
    assert!(
        by_direct > 1000 && by_executor > 100,
        "{by_direct} direct, {by_executor} by the executor"
    );
}

fn parse(json: &str) -> Value {
    serde_json::from_str(json).expect("JSON")
}

/// Where `a` and `b` first differ (a JSON path and both values), if they do.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys_x: Vec<_> = x.keys().collect();
            let keys_y: Vec<_> = y.keys().collect();
            if keys_x != keys_y {
                return Some(format!("{path}: keys {keys_x:?} vs {keys_y:?}"));
            }
            x.iter()
                .find_map(|(k, v)| first_difference(v, &y[k], &format!("{path}.{k}")))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}
