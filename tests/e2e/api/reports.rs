//! Issue 13's proof of the architecture: `reportPost`, the moderators' queue `reports` and
//! `resolveReport`, end to end over HTTP.

use serde_json::json;

use super::*;

const REPORT: &str = "mutation($p: ID!, $r: ReportReason!) {
  reportPost(postId: $p, reason: $r) { position report { id status reason post { id } } }
}";

const RESOLVE: &str = "mutation($r: ID!, $d: ReportDecision!) {
  resolveReport(reportId: $r, decision: $d) {
    position
    report { id status resolution { decision moderator { handle } position } }
  }
}";

const QUEUE: &str = "query($s: ReportStatus!) {
  reports(status: $s, first: 10) {
    edges { cursor node { id reason status position reporter { handle } post { id } } }
  }
}";

async fn queue(h: &Harness, token: &str, status: &str) -> Vec<serde_json::Value> {
    let answer = ok(h
        .client_with(token)
        .graphql(QUEUE, json!({ "s": status }))
        .await
        .expect("answer"));
    answer["reports"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn feed_ids(h: &Harness) -> Vec<String> {
    let answer = ok(h
        .client()
        .graphql(
            "{ feed(interest: \"coffee\", first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await
        .expect("answer"));
    answer["feed"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reported_post_reaches_the_moderators_queue_and_an_upheld_report_removes_it() {
    let h = Harness::start().await;
    let (_, ana) = h.prime_member("ana").await;
    let (_, bob) = h.prime_member("bob").await;
    let (_, cy) = h.prime_member("cyd").await;
    let (mod_id, moderator) = h.prime_member("moe").await;
    h.grant(&mod_id, "MODERATOR").await;
    let (post, _) = publish(
        &h,
        &ana,
        post_input("free coffee, click here", "coffee", &[]),
    )
    .await;
    let (kept, _) = publish(&h, &ana, post_input("my grinder", "coffee", &[])).await;

    let filed = ok(h
        .client_with(&bob)
        .graphql(REPORT, json!({ "p": post, "r": "SPAM" }))
        .await
        .expect("answer"));
    let report = &filed["reportPost"]["report"];
    assert_eq!(report["status"], "OPEN");
    assert_eq!(report["post"]["id"], post.as_str());
    let report_id = report["id"].as_str().expect("id").to_owned();
    let other = ok(h
        .client_with(&cy)
        .graphql(REPORT, json!({ "p": kept, "r": "MISLEADING" }))
        .await
        .expect("answer"));
    let other_id = other["reportPost"]["report"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // The queue: newest report first, with who reported what and why.
    let open = queue(&h, &moderator, "OPEN").await;
    let ids: Vec<_> = open.iter().map(|r| r["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [other_id.as_str(), report_id.as_str()]);
    assert_eq!(open[1]["reporter"]["handle"], "bob");
    assert_eq!(open[1]["reason"], "SPAM");

    // Upheld: the post leaves the feed; the report leaves the open queue for the resolved.
    let decided = ok(h
        .client_with(&moderator)
        .graphql(RESOLVE, json!({ "r": report_id, "d": "UPHELD" }))
        .await
        .expect("answer"));
    let resolution = &decided["resolveReport"]["report"]["resolution"];
    assert_eq!(resolution["decision"], "UPHELD");
    assert_eq!(resolution["moderator"]["handle"], "moe");
    assert!(
        !feed_ids(&h).await.contains(&post),
        "the removed post left the feed"
    );
    assert!(feed_ids(&h).await.contains(&kept));
    let open = queue(&h, &moderator, "OPEN").await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["id"], other_id.as_str());
    let resolved = queue(&h, &moderator, "RESOLVED").await;
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["status"], "RESOLVED");

    // Dismissed: the post stays.
    ok(h.client_with(&moderator)
        .graphql(RESOLVE, json!({ "r": other_id, "d": "DISMISSED" }))
        .await
        .expect("answer"));
    assert!(feed_ids(&h).await.contains(&kept));
    assert!(queue(&h, &moderator, "OPEN").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_refused_with_their_codes_and_write_nothing() {
    let h = Harness::start().await;
    let (_, ana) = h.prime_member("ana").await;
    let (_, bob) = h.prime_member("bob").await;
    let (mod_id, moderator) = h.prime_member("moe").await;
    h.grant(&mod_id, "MODERATOR").await;
    let (post, _) = publish(&h, &ana, post_input("hello", "coffee", &[])).await;
    let filed = ok(h
        .client_with(&bob)
        .graphql(REPORT, json!({ "p": post, "r": "OTHER" }))
        .await
        .expect("answer"));
    let report_id = filed["reportPost"]["report"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(h.client_with(&moderator)
        .graphql(RESOLVE, json!({ "r": report_id, "d": "DISMISSED" }))
        .await
        .expect("answer"));

    let cases: Vec<(&str, Option<&str>, &str, serde_json::Value, &str)> = vec![
        (
            "signed out",
            None,
            REPORT,
            json!({ "p": post, "r": "SPAM" }),
            "UNAUTHENTICATED",
        ),
        (
            "own post",
            Some(&ana),
            REPORT,
            json!({ "p": post, "r": "SPAM" }),
            "CANNOT_REPORT_OWN_POST",
        ),
        (
            "twice",
            Some(&bob),
            REPORT,
            json!({ "p": post, "r": "SPAM" }),
            "ALREADY_REPORTED",
        ),
        (
            "no such post",
            Some(&bob),
            REPORT,
            json!({ "p": "pnope", "r": "SPAM" }),
            "UNKNOWN_POST",
        ),
        (
            "bad post id",
            Some(&bob),
            REPORT,
            json!({ "p": "P!", "r": "SPAM" }),
            "BAD_USER_INPUT",
        ),
        (
            "a member resolves",
            Some(&bob),
            RESOLVE,
            json!({ "r": report_id, "d": "UPHELD" }),
            "FORBIDDEN",
        ),
        (
            "resolved twice",
            Some(&moderator),
            RESOLVE,
            json!({ "r": report_id, "d": "UPHELD" }),
            "REPORT_ALREADY_RESOLVED",
        ),
        (
            "no such report",
            Some(&moderator),
            RESOLVE,
            json!({ "r": "r0000000000000000", "d": "UPHELD" }),
            "UNKNOWN_REPORT",
        ),
        (
            "bad report id",
            Some(&moderator),
            RESOLVE,
            json!({ "r": "R!", "d": "UPHELD" }),
            "BAD_USER_INPUT",
        ),
        (
            "a member reads the queue",
            Some(&bob),
            QUEUE,
            json!({ "s": "OPEN" }),
            "FORBIDDEN",
        ),
    ];
    for (what, token, query, variables, code) in cases {
        let before = h.head();
        let mut client = match token {
            Some(t) => h.client_with(t),
            None => h.client(),
        };
        let answer = client.graphql(query, variables).await.expect("answer");
        assert_eq!(answer.status, 200, "{what}: {}", answer.text);
        assert_eq!(answer.error_code(), Some(code), "{what}: {}", answer.text);
        assert_eq!(h.head(), before, "{what} appends nothing");
    }
}
