//! The log's Merkle tree over GraphQL (issue 15): `treeHead`, `inclusionProof` and
//! `consistencyProof` are public, and what they answer checks offline with nothing but
//! hashes (the RFC 9162 checks of `sparkfeed-merkle`, not the server's code).

use serde_json::{Value, json};
use sparkfeed_events::Hash;
use sparkfeed_merkle::{verify_consistency, verify_inclusion};

use super::*;

const HEAD: &str = "{ treeHead { treeSize rootHash } }";
const INCLUSION: &str = "query($p: Int64!, $n: Int64) {
  inclusionProof(position: $p, treeSize: $n) { position treeSize leafHash rootHash hashes }
}";
const CONSISTENCY: &str = "query($m: Int64!, $n: Int64) {
  consistencyProof(fromSize: $m, toSize: $n) { fromSize toSize fromRoot toRoot hashes }
}";

fn hash(v: &Value) -> Hash {
    let text = v.as_str().expect("hex");
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2).expect("pair"), 16).expect("hex"))
        .collect();
    Hash(bytes.try_into().expect("32 bytes"))
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
