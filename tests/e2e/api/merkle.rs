//! The log's Merkle tree over GraphQL (issue 15): `treeHead`, `inclusionProof` and
//! `consistencyProof` are public, and what they answer checks offline with nothing but
//! hashes (the RFC 9162 checks of `sparkfeed-merkle`, not the server's code).

use serde_json::{Value, json};
use sparkfeed_events::Hash;
use sparkfeed_merkle::{verify_consistency, verify_inclusion};
use sparkfeed_testkit::client::Subscriber;

use super::*;

const HEAD: &str = "{ treeHead { treeSize rootHash } }";
const INCLUSION: &str = "query($p: Int64!, $n: Int64) {
  inclusionProof(position: $p, treeSize: $n) { position treeSize leafHash rootHash hashes }
}";
const CONSISTENCY: &str = "query($m: Int64!, $n: Int64) {
  consistencyProof(fromSize: $m, toSize: $n) { fromSize toSize fromRoot toRoot hashes }
}";

fn hash(v: &Value) -> Hash {
    sparkfeed_treehead::hex::decode_hash(v.as_str().expect("hex")).expect("32 bytes of hex")
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().expect("list").iter().map(hash).collect()
}

fn size(v: &Value) -> u64 {
    v.as_u64().expect("a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anyone_gets_proofs_that_check_offline_against_the_tree_head() {
    let h = Harness::start().await;
    let mut public = h.client();
    let old = ok(public.graphql(HEAD, json!({})).await.expect("answer"))["treeHead"].clone();
    let (_, ana) = h.prime_member("ana").await;
    publish(&h, &ana, post_input("my grinder", "coffee", &[])).await;
    let head = ok(public.graphql(HEAD, json!({})).await.expect("answer"))["treeHead"].clone();
    let (n, root) = (size(&head["treeSize"]), hash(&head["rootHash"]));
    assert!(
        n > size(&old["treeSize"]),
        "the tree grew: {old} then {head}"
    );

    for p in [0, n / 2, n - 1] {
        let proof = ok(public
            .graphql(INCLUSION, json!({ "p": p, "n": n }))
            .await
            .expect("answer"))["inclusionProof"]
            .clone();
        assert_eq!(hash(&proof["rootHash"]), root);
        verify_inclusion(
            &hash(&proof["leafHash"]),
            p,
            n,
            &hashes(&proof["hashes"]),
            &root,
        )
        .unwrap_or_else(|e| panic!("position {p}: {e}"));
        let mut forged = hashes(&proof["hashes"]);
        if let Some(first) = forged.first_mut() {
            first.0[0] ^= 1;
            assert!(
                verify_inclusion(&hash(&proof["leafHash"]), p, n, &forged, &root).is_err(),
                "one flipped bit fails the check"
            );
        }
    }

    // The old head is a prefix of the new one: nothing below it changed.
    let m = size(&old["treeSize"]);
    let proof = ok(public
        .graphql(CONSISTENCY, json!({ "m": m }))
        .await
        .expect("answer"))["consistencyProof"]
        .clone();
    assert_eq!(size(&proof["toSize"]), n);
    assert_eq!(hash(&proof["fromRoot"]), hash(&old["rootHash"]));
    verify_consistency(
        m,
        n,
        &hash(&old["rootHash"]),
        &root,
        &hashes(&proof["hashes"]),
    )
    .expect("consistent");

    // Bad requests: a clear BAD_USER_INPUT, never a panic.
    for (query, vars) in [
        (INCLUSION, json!({ "p": n, "n": n })),
        (INCLUSION, json!({ "p": 0, "n": n + 5 })),
        (INCLUSION, json!({ "p": 0, "n": 0 })),
        (CONSISTENCY, json!({ "m": 0 })),
        (CONSISTENCY, json!({ "m": n, "n": m })),
    ] {
        let answer = public.graphql(query, vars.clone()).await.expect("answer");
        assert_eq!(
            answer.error_code(),
            Some("BAD_USER_INPUT"),
            "{vars}: {}",
            answer.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparkfeed_verify_on_a_directory_a_server_holds_asks_that_server() {
    let h = Harness::start().await;
    let (_, ana) = h.prime_member("ana").await;
    publish(&h, &ana, post_input("my grinder", "coffee", &[])).await;
    // What `sparkfeed serve` writes while it runs.
    std::fs::write(
        h.data_dir().join("serve.addr"),
        format!("http://{}\n", h.addr()),
    )
    .expect("writes");

    let out = cli_on(&h, &["verify"], &[]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--token") && err.contains(&h.addr().to_string()),
        "without a token: a clear message and a non-zero exit: {err}"
    );
    let out = cli_on(&h, &["verify"], &["--token", &ana]).await;
    assert!(!out.status.success(), "a member is not an auditor");

    let out = cli_on(&h, &["verify"], &["--token", &h.admin]).await;
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        printed.starts_with("ok: ")
            && printed.contains(&format!("verified by the server at http://{}", h.addr())),
        "{printed}"
    );
}

const SIGNED_HEAD: &str =
    "{ treeHead { treeSize rootHash timestamp timestampMicros publicKey signature } }";

/// The data directory's public key, as an operator hands it to auditors.
fn directory_key(h: &Harness) -> sparkfeed_treehead::PublicKey {
    let text = std::fs::read_to_string(h.data_dir().join(sparkfeed_treehead::PUBLIC_KEY_FILE))
        .expect("the public key file");
    sparkfeed_treehead::PublicKey::parse(&text).expect("a key")
}

/// `treeHead` as the JSON file auditors keep (the same field names), without `timestamp`.
fn head_file(answer: &Value) -> sparkfeed_treehead::SignedTreeHead {
    let mut head = answer["treeHead"].clone();
    head.as_object_mut().expect("object").remove("timestamp");
    serde_json::from_value(head).expect("a signed head")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tree_head_is_signed_and_checks_offline_with_the_directorys_public_key() {
    let h = Harness::start().await;
    let mut public = h.client();
    let (_, ana) = h.prime_member("ana").await;
    publish(&h, &ana, post_input("my grinder", "coffee", &[])).await;
    let answer = ok(public
        .graphql(SIGNED_HEAD, json!({}))
        .await
        .expect("answer"));
    let head = head_file(&answer);
    let key = directory_key(&h);
    assert_eq!(head.verify(&key), Ok(()));
    assert_eq!(head.tree_size, h.head().len);
    assert!(
        answer["treeHead"]["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{answer}"
    );
    // Asked again with nothing appended: the same head, signature and all.
    let again = head_file(&ok(public
        .graphql(SIGNED_HEAD, json!({}))
        .await
        .expect("answer")));
    assert_eq!(again, head);

    // Saved, with an inclusion proof from the API, it checks out in the CLI offline.
    let dir = tempfile::tempdir().expect("temp dir");
    let (head_path, proof_path) = (dir.path().join("head.json"), dir.path().join("proof.json"));
    std::fs::write(&head_path, serde_json::to_string(&head).expect("json")).expect("writes");
    let proof = ok(public
        .graphql(
            INCLUSION,
            json!({ "p": head.tree_size / 2, "n": head.tree_size }),
        )
        .await
        .expect("answer"))["inclusionProof"]
        .clone();
    std::fs::write(&proof_path, proof.to_string()).expect("writes");
    let key_path = h.data_dir().join(sparkfeed_treehead::PUBLIC_KEY_FILE);
    let check = |head: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sparkfeed-cli"))
            .args(["check-proof", "--head"])
            .arg(head)
            .arg("--proof")
            .arg(&proof_path)
            .arg("--public-key")
            .arg(&key_path)
            .output()
            .expect("runs")
    };
    let out = check(&head_path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // After a write, a new head over the bigger tree, still extending the saved one.
    publish(&h, &ana, post_input("and my kettle", "coffee", &[])).await;
    let newer = head_file(&ok(public
        .graphql(SIGNED_HEAD, json!({}))
        .await
        .expect("answer")));
    assert!(newer.tree_size > head.tree_size);
    assert_eq!(newer.verify(&key), Ok(()));
    let consistency = ok(public
        .graphql(
            CONSISTENCY,
            json!({ "m": head.tree_size, "n": newer.tree_size }),
        )
        .await
        .expect("answer"))["consistencyProof"]
        .clone();
    let proof: sparkfeed_treehead::ConsistencyProofFile =
        serde_json::from_value(consistency).expect("a consistency proof file");
    assert_eq!(
        sparkfeed_treehead::check_consistency(&head, &newer, &proof, &key),
        Ok(())
    );

    // `sparkfeed head --signed` on the directory the server holds answers the server's head.
    std::fs::write(
        h.data_dir().join("serve.addr"),
        format!("http://{}\n", h.addr()),
    )
    .expect("writes");
    let out = cli_on(&h, &["head"], &["--signed"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: sparkfeed_treehead::SignedTreeHead =
        serde_json::from_slice(&out.stdout).expect("a signed head");
    assert_eq!(printed, newer);
    // So does `sparkfeed prove`: the proof the server computes, as the same file.
    let from = head.tree_size.to_string();
    let out = cli_on(&h, &["prove"], &["--from-size", &from]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let proved: sparkfeed_treehead::ConsistencyProofFile =
        serde_json::from_slice(&out.stdout).expect("a consistency proof");
    assert_eq!(
        sparkfeed_treehead::check_consistency(&head, &printed, &proved, &key),
        Ok(())
    );
    let out = cli_on(&h, &["prove", "0"], &["--record-out", "/dev/null"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("only from the directory itself"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_publishes_signed_heads_to_subscribers_as_the_log_grows() {
    let h = Harness::start_with(Limits {
        tree_head_every: std::time::Duration::from_millis(100),
        ..Limits::default()
    })
    .await;
    let key = directory_key(&h);
    let mut subscriber = Subscriber::connect(h.addr(), None).await.expect("connect");
    subscriber
        .subscribe(
            "heads",
            "subscription { treeHeads { treeSize rootHash timestampMicros publicKey signature } }",
            json!({}),
        )
        .await
        .expect("subscribe");
    let next_head = async |subscriber: &mut Subscriber| {
        let message =
            tokio::time::timeout(std::time::Duration::from_secs(10), subscriber.receive())
                .await
                .expect("a head within 10 s")
                .expect("receives")
                .expect("open");
        assert_eq!(message["type"], "next", "{message}");
        let head: sparkfeed_treehead::SignedTreeHead =
            serde_json::from_value(message["payload"]["data"]["treeHeads"].clone())
                .expect("a signed head");
        head
    };
    let first = next_head(&mut subscriber).await;
    assert_eq!(first.verify(&key), Ok(()));
    let (_, ana) = h.prime_member("ana").await;
    publish(&h, &ana, post_input("my grinder", "coffee", &[])).await;
    let grown = h.head().len;
    // Published by the server's own timer (nobody asks `treeHead`): heads keep coming, each
    // signed, none smaller than the one before, until one covers the write.
    let mut last = first;
    for _ in 0..200 {
        let head = next_head(&mut subscriber).await;
        assert_eq!(head.verify(&key), Ok(()));
        assert!(head.tree_size >= last.tree_size);
        last = head;
        if last.tree_size >= grown {
            break;
        }
    }
    assert!(last.tree_size >= grown, "a head covering the write came");
    subscriber.complete("heads").await.expect("complete");
}
