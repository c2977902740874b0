//! Forgetting a member (issue 15, GDPR Art. 17) over the real server: before, their handle,
//! name, caption, comment, media URL and alt text show up in what the API answers; after
//! `forgetMember`, no output shows any of them (GraphQL answers, a live subscription, the
//! export, every file of the data directory, the CLI's output), while counts, order
//! totals, the hash chain and the Merkle proofs stay as they were.

use serde_json::{Value, json};
use sparkfeed_testkit::client::Subscriber;
use sparkfeed_testkit::log::files_of;
use sparkfeed_treehead::{ConsistencyProofFile, InclusionProofFile, SignedTreeHead};

use super::*;

const HANDLE: &str = "zelda_qq7";
const CAPTION: &str = "Zelda secret caption qq7";
const MEDIA_URL: &str = "https://img.example/zelda-qq7.jpg";
const ALT: &str = "Zelda alt text qq7";
const COMMENT: &str = "Zelda comment qq7";
const PERSONAL: [&str; 5] = [HANDLE, CAPTION, MEDIA_URL, ALT, COMMENT];

const POST: &str = "query($p: ID!) { post(id: $p) {
  caption media { url alt } author { id handle displayName }
  smileCount commentCount purchaseCount
  comments(first: 10) { edges { node { text author { handle displayName } } } }
} }";
const USER: &str = "query($h: String!) { user(handle: $h) { id handle displayName } }";
const FEED: &str = "{ feed(interest: \"coffee\", first: 20) { edges { node { caption author { handle } media { url alt } } } } }";
const HEAD: &str = "{ treeHead { treeSize rootHash timestampMicros publicKey signature } }";
const TOTALS: &str = "query($from: DateTime!, $to: DateTime!) { analytics(from: $from, to: $to) {
  interestDays(interest: \"coffee\") { purchases revenueCents }
} }";

/// Which personal values `text` shows.
fn shows(text: &str) -> Vec<&'static str> {
    PERSONAL.into_iter().filter(|p| text.contains(p)).collect()
}

/// Everything the system outputs about the world now, as one text per source.
async fn outputs(h: &Harness, post: &str, analyst: &str, bob: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (who, token) in [
        ("visitor", None),
        ("bob", Some(bob)),
        ("admin", Some(h.admin.as_str())),
    ] {
        let mut client = match token {
            Some(t) => h.client_with(t),
            None => h.client(),
        };
        for (name, query, vars) in [
            ("post", POST, json!({ "p": post })),
            ("user", USER, json!({ "h": HANDLE })),
            ("feed", FEED, json!({})),
        ] {
            let answer = client.graphql(query, vars).await.expect("answer");
            out.push((format!("{name} as {who}"), answer.text));
        }
    }
    let events = h
        .client_with(analyst)
        .graphql(
            "{ events(first: 500) { edges { node { type data } } } }",
            json!({}),
        )
        .await
        .expect("events");
    out.push(("events query".into(), events.text));
    let export = h.client_with(analyst).get("/export").await.expect("export");
    assert_eq!(export.status, 200, "{}", export.text);
    out.push(("GET /export".into(), export.text));
    // The CLI, its stdout and its stderr (`sparkfeed export` through the server).
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_sparkfeed-cli"))
        .args([
            "export",
            "--server",
            &format!("http://{}", h.addr()),
            "--token",
            analyst,
        ])
        .output()
        .expect("runs");
    out.push((
        "sparkfeed export".into(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&cli.stdout),
            String::from_utf8_lossy(&cli.stderr)
        ),
    ));
    // Every file of the data directory: the log, the projections' rows, the key store.
    for (path, bytes) in files_of(h.data_dir()) {
        out.push((
            path.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    out
}

fn head_of(answer: Value) -> SignedTreeHead {
    serde_json::from_value(answer["treeHead"].clone()).expect("signed head")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_member_shows_nowhere_while_counts_totals_chain_and_proofs_stay() {
    let h = Harness::start().await;
    let (zelda, zelda_t) = h.prime_member(HANDLE).await;
    let (_, bob) = h.prime_member("bob_stays").await;
    let (analyst_id, analyst) = h.prime_member("ada_counts").await;
    h.grant(&analyst_id, "ANALYST").await;
    // A post before hers: a live subscriber resuming after it is sent hers.
    publish(&h, &bob, post_input("bob's beans", "coffee", &[])).await;
    let cursor = ok(h
        .client()
        .graphql(
            "{ feed(interest: \"coffee\", first: 1) { edges { cursor } } }",
            json!({}),
        )
        .await
        .expect("feed"));
    let before_post = cursor["feed"]["edges"][0]["cursor"].clone();
    let mut input = post_input(CAPTION, "coffee", &[KETTLE]);
    input["media"] = json!([{ "url": MEDIA_URL, "width": 1080, "height": 1350, "alt": ALT }]);
    let (post, post_at) = publish(&h, &zelda_t, input).await;
    let mut bob_c = h.client_with(&bob);
    ok(bob_c
        .graphql(
            "mutation($p: ID!) { smile(postId: $p) { position } }",
            json!({ "p": post }),
        )
        .await
        .expect("smile"));
    let mut zelda_c = h.client_with(&zelda_t);
    ok(zelda_c
        .graphql(
            "mutation($p: ID!, $t: String!) { comment(postId: $p, text: $t) { position } }",
            json!({ "p": post, "t": COMMENT }),
        )
        .await
        .expect("comment"));
    ok(zelda_c
        .graphql(
            "mutation($p: ID!) { buy(input: { postId: $p, asin: \"B0COFFEE02\", quantity: 2, idempotencyKey: \"zelda-kettle\" }) { position } }",
            json!({ "p": post }),
        )
        .await
        .expect("buy"));
    let now = sparkfeed_events::Timestamp::now().0;
    let window = json!({
        "from": sparkfeed_api::time::format(now - 86_400_000_000),
        "to": sparkfeed_api::time::format(now + 86_400_000_000),
    });
    let mut analyst_c = h.client_with(&analyst);
    let totals = ok(analyst_c
        .graphql(TOTALS, window.clone())
        .await
        .expect("totals"));

    // Before: what the API answers shows every personal value.
    let before = outputs(&h, &post, &analyst, &bob).await;
    let seen: std::collections::BTreeSet<&str> =
        before.iter().flat_map(|(_, text)| shows(text)).collect();
    assert_eq!(
        seen.len(),
        PERSONAL.len(),
        "before the forget every value shows somewhere: {seen:?}"
    );
    let old_head = head_of(ok(h.client().graphql(HEAD, json!({})).await.expect("head")));

    // The member forgets themself.
    let done = ok(zelda_c
        .graphql("mutation($u: ID!) { forgetMember(userId: $u) { position user { handle displayName } } }", json!({ "u": zelda }))
        .await
        .expect("forget"));
    assert_eq!(
        done["forgetMember"]["user"],
        json!({ "handle": null, "displayName": null })
    );

    // After: no output shows any of them.
    for (source, text) in outputs(&h, &post, &analyst, &bob).await {
        assert!(
            shows(&text).is_empty(),
            "{source} still shows {:?}",
            shows(&text)
        );
    }
    let answer = ok(h
        .client()
        .graphql(POST, json!({ "p": post }))
        .await
        .expect("post"));
    let shown = &answer["post"];
    assert_eq!(shown["caption"], Value::Null);
    assert_eq!(shown["media"], json!([{ "url": null, "alt": null }]));
    assert_eq!(
        shown["author"]["id"],
        json!(zelda),
        "the pseudonymous id stays"
    );
    assert_eq!(
        (
            &shown["smileCount"],
            &shown["commentCount"],
            &shown["purchaseCount"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "counts stay"
    );
    assert_eq!(shown["comments"]["edges"][0]["node"]["text"], Value::Null);
    let found = ok(h
        .client()
        .graphql(USER, json!({ "h": HANDLE }))
        .await
        .expect("user"));
    assert_eq!(
        found["user"],
        Value::Null,
        "the handle no longer leads to the account"
    );
    assert_eq!(
        ok(analyst_c.graphql(TOTALS, window).await.expect("totals")),
        totals,
        "order totals unchanged"
    );

    // A live subscription replaying the feed from before the post shows it anonymous.
    let mut subscriber = Subscriber::connect(h.addr(), None).await.expect("connect");
    subscriber
        .subscribe(
            "feed",
            "subscription($after: String) { feedUpdates(interest: \"coffee\", after: $after) { id caption author { handle } media { url alt } } }",
            json!({ "after": before_post }),
        )
        .await
        .expect("subscribe");
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), subscriber.receive())
        .await
        .expect("in time")
        .expect("receives")
        .expect("open");
    assert_eq!(
        message["payload"]["data"]["feedUpdates"]["id"],
        json!(post),
        "{message}"
    );
    assert!(shows(&message.to_string()).is_empty(), "{message}");
    subscriber.complete("feed").await.expect("complete");

    // The chain verifies, and proofs still check out: old head to new, and the post's event.
    let verified = ok(h
        .client_with(&h.admin)
        .graphql("{ verifyLog { intact } }", json!({}))
        .await
        .expect("verify"));
    assert_eq!(verified["verifyLog"]["intact"], true);
    let key = sparkfeed_treehead::PublicKey::parse(
        &std::fs::read_to_string(h.data_dir().join(sparkfeed_treehead::PUBLIC_KEY_FILE))
            .expect("key"),
    )
    .expect("a key");
    let new_head = head_of(ok(h.client().graphql(HEAD, json!({})).await.expect("head")));
    let consistency = ok(h
        .client()
        .graphql(
            "query($m: Int64!, $n: Int64) { consistencyProof(fromSize: $m, toSize: $n) { fromSize toSize fromRoot toRoot hashes } }",
            json!({ "m": old_head.tree_size, "n": new_head.tree_size }),
        )
        .await
        .expect("consistency"));
    let consistency: ConsistencyProofFile =
        serde_json::from_value(consistency["consistencyProof"].clone()).expect("proof");
    assert_eq!(
        sparkfeed_treehead::check_consistency(&old_head, &new_head, &consistency, &key),
        Ok(())
    );
    let inclusion = ok(h
        .client()
        .graphql(
            "query($p: Int64!, $n: Int64) { inclusionProof(position: $p, treeSize: $n) { position treeSize leafHash rootHash hashes } }",
            json!({ "p": post_at, "n": new_head.tree_size }),
        )
        .await
        .expect("inclusion"));
    let inclusion: InclusionProofFile =
        serde_json::from_value(inclusion["inclusionProof"].clone()).expect("proof");
    assert_eq!(
        sparkfeed_treehead::check_inclusion(&new_head, &inclusion, None, &key),
        Ok(())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgetting_twice_an_unknown_member_or_someone_else_is_refused_and_writes_nothing() {
    let h = Harness::start().await;
    let (zelda, zelda_t) = h.prime_member(HANDLE).await;
    let (_, bob) = h.prime_member("bob_stays").await;
    const FORGET: &str = "mutation($u: ID!) { forgetMember(userId: $u) { position } }";
    let head = h.head();
    let answer = h
        .client_with(&bob)
        .graphql(FORGET, json!({ "u": zelda }))
        .await
        .expect("answer");
    refused(&answer, 200, "FORBIDDEN");
    let answer = h
        .client()
        .graphql(FORGET, json!({ "u": zelda }))
        .await
        .expect("answer");
    refused(&answer, 200, "UNAUTHENTICATED");
    let answer = h
        .client_with(&h.admin)
        .graphql(FORGET, json!({ "u": "unobody" }))
        .await
        .expect("answer");
    refused(&answer, 200, "UNKNOWN_USER");
    assert_eq!(h.head(), head, "nothing written");

    // Through the CLI, on the directory the server holds: an admin's token.
    std::fs::write(
        h.data_dir().join("serve.addr"),
        format!("http://{}\n", h.addr()),
    )
    .expect("writes");
    let out = cli_on(&h, &["forget", &zelda], &["--token", &h.admin]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with(&format!("forgot {zelda} through the server"))
    );
    let head = h.head();
    let out = cli_on(&h, &["forget", &zelda], &["--token", &h.admin]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("ALREADY_FORGOTTEN"),
        "{err}"
    );
    // The forgotten member's own token does nothing more.
    let answer = h
        .client_with(&zelda_t)
        .graphql(FORGET, json!({ "u": zelda }))
        .await
        .expect("answer");
    refused(&answer, 200, "MEMBER_FORGOTTEN");
    let smile = h
        .client_with(&zelda_t)
        .graphql("{ viewer { handle } }", json!({}))
        .await
        .expect("answer");
    assert!(shows(&smile.text).is_empty(), "{}", smile.text);
    assert_eq!(h.head(), head, "refusals wrote nothing");
}
