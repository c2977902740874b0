//! Signed tree heads and the offline checks, as an auditor meets them: a proof that checks
//! out, and one changed byte anywhere (record, proof, head, signature) that does not.

use proptest::prelude::*;
use sparkfeed_merkle::{MemoryTree, consistency_proof, inclusion_proof, leaf_hash, root};
use sparkfeed_treehead::{
    CheckError, ConsistencyProofFile, HeadKey, InclusionProofFile, KEY_FILE, KeyError,
    PUBLIC_KEY_FILE, PublicKey, RecordFile, SignedTreeHead, check_consistency, check_inclusion,
};

/// A tree of `n` records whose bytes are `record-<i>`.
fn tree(n: u64) -> MemoryTree {
    let mut tree = MemoryTree::default();
    for i in 0..n {
        tree.push(leaf_hash(&record_bytes(i)));
    }
    tree
}

fn record_bytes(i: u64) -> Vec<u8> {
    format!("record-{i}").into_bytes()
}

fn head(key: &HeadKey, tree: &MemoryTree, size: u64) -> SignedTreeHead {
    key.sign(size, root(tree, size).expect("root"), 1_795_000_000_000_000)
}

fn inclusion(tree: &MemoryTree, position: u64, size: u64) -> (InclusionProofFile, RecordFile) {
    let proof = InclusionProofFile {
        position,
        tree_size: size,
        leaf_hash: leaf_hash(&record_bytes(position)),
        root_hash: root(tree, size).expect("root"),
        hashes: inclusion_proof(tree, position, size).expect("proof"),
    };
    let record = RecordFile {
        position,
        record_bytes: record_bytes(position),
        event: serde_json::json!({"position": position}),
    };
    (proof, record)
}

/// Flips one bit of a file's JSON text at a byte that is a hex digit of `field`, and
/// reads it back (a flipped hex digit stays hex).
fn flip_hex<T: serde::Serialize + serde::de::DeserializeOwned>(
    value: &T,
    field: &str,
    at: usize,
) -> T {
    let mut json = serde_json::to_value(value).expect("to json");
    let text = match &mut json[field] {
        serde_json::Value::String(s) => s,
        serde_json::Value::Array(items) => {
            let n = items.len();
            match &mut items[at % n] {
                serde_json::Value::String(s) => s,
                other => panic!("{field} holds {other}"),
            }
        }
        other => panic!("{field} holds {other}"),
    };
    let mut chars: Vec<char> = text.chars().collect();
    let i = at % chars.len();
    chars[i] = if chars[i] == '0' { '1' } else { '0' };
    *text = chars.into_iter().collect();
    serde_json::from_value(json).expect("still a valid file")
}

#[test]
fn a_signed_head_round_trips_through_its_json_file_and_checks_out() {
    let key = HeadKey::generate().expect("key");
    let tree = tree(11);
    let head = head(&key, &tree, 11);
    let text = serde_json::to_string_pretty(&head).expect("json");
    for field in [
        "treeSize",
        "rootHash",
        "timestampMicros",
        "publicKey",
        "signature",
    ] {
        assert!(text.contains(field), "{field} in {text}");
    }
    let read: SignedTreeHead = serde_json::from_str(&text).expect("read back");
    assert_eq!(read, head);
    assert_eq!(read.verify(&key.public_key()), Ok(()));
}

#[test]
fn a_head_changed_anywhere_or_signed_by_another_key_is_refused() {
    let key = HeadKey::generate().expect("key");
    let tree = tree(7);
    let good = head(&key, &tree, 7);
    let public = key.public_key();

    let mut bigger = good.clone();
    bigger.tree_size = 8;
    assert_eq!(bigger.verify(&public), Err(CheckError::BadSignature));
    let mut later = good.clone();
    later.timestamp_micros += 1;
    assert_eq!(later.verify(&public), Err(CheckError::BadSignature));
    for at in 0..64 {
        let rooted = flip_hex(&good, "rootHash", at);
        assert_eq!(rooted.verify(&public), Err(CheckError::BadSignature));
    }
    for at in 0..128 {
        let signed = flip_hex(&good, "signature", at);
        assert_eq!(
            signed.verify(&public),
            Err(CheckError::BadSignature),
            "digit {at}"
        );
    }
    let other = HeadKey::generate().expect("key").public_key();
    assert_eq!(
        good.verify(&other).map_err(|e| e.code()),
        Err("KEY_MISMATCH")
    );
    // A forger who swaps the key named in the head gets no further.
    let mut swapped = good.clone();
    swapped.public_key = other;
    assert_eq!(swapped.verify(&other), Err(CheckError::BadSignature));
}

#[test]
fn an_inclusion_proof_fails_after_one_changed_digit_of_the_record_proof_head_or_signature() {
    let key = HeadKey::generate().expect("key");
    let public = key.public_key();
    let tree = tree(13);
    let head = head(&key, &tree, 13);
    let (proof, record) = inclusion(&tree, 6, 13);
    assert_eq!(
        check_inclusion(&head, &proof, Some(&record), &public),
        Ok(())
    );

    let mut changed = record.clone();
    changed.record_bytes[3] ^= 1;
    let code = check_inclusion(&head, &proof, Some(&changed), &public).map_err(|e| e.code());
    assert_eq!(code, Err("RECORD_MISMATCH"));
    for at in 0..proof.hashes.len() * 64 {
        let bent = flip_hex(&proof, "hashes", at);
        let code = check_inclusion(&head, &bent, Some(&record), &public).map_err(|e| e.code());
        assert_eq!(code, Err("ROOT_MISMATCH"), "digit {at}");
    }
    let bent = flip_hex(&proof, "leafHash", 5);
    let code = check_inclusion(&head, &bent, None, &public).map_err(|e| e.code());
    assert_eq!(code, Err("ROOT_MISMATCH"));
    let rehead = flip_hex(&head, "rootHash", 9);
    let code = check_inclusion(&rehead, &proof, Some(&record), &public).map_err(|e| e.code());
    assert_eq!(code, Err("BAD_SIGNATURE"));
    let resigned = flip_hex(&head, "signature", 17);
    let code = check_inclusion(&resigned, &proof, Some(&record), &public).map_err(|e| e.code());
    assert_eq!(code, Err("BAD_SIGNATURE"));
}

#[test]
fn a_truncated_proof_a_proof_for_another_tree_and_another_record_are_named() {
    let key = HeadKey::generate().expect("key");
    let public = key.public_key();
    let tree = tree(20);
    let head = head(&key, &tree, 20);
    let (mut proof, record) = inclusion(&tree, 3, 20);
    let (other_proof, _) = inclusion(&tree, 3, 19);
    let code = check_inclusion(&head, &other_proof, None, &public).map_err(|e| e.code());
    assert_eq!(code, Err("WRONG_TREE"));
    let (_, other_record) = inclusion(&tree, 4, 20);
    let code = check_inclusion(&head, &proof, Some(&other_record), &public).map_err(|e| e.code());
    assert_eq!(code, Err("RECORD_MISMATCH"));
    proof.hashes.pop();
    let code = check_inclusion(&head, &proof, Some(&record), &public).map_err(|e| e.code());
    assert_eq!(code, Err("BAD_PROOF_LENGTH"));
    proof.position = 25;
    let code = check_inclusion(&head, &proof, None, &public).map_err(|e| e.code());
    assert_eq!(code, Err("PAST_TREE_SIZE"));
}

#[test]
fn a_consistency_proof_between_two_signed_heads_checks_out_and_fails_when_changed() {
    let key = HeadKey::generate().expect("key");
    let public = key.public_key();
    let tree = tree(30);
    let (old, new) = (head(&key, &tree, 12), head(&key, &tree, 30));
    let proof = ConsistencyProofFile {
        from_size: 12,
        to_size: 30,
        from_root: old.root_hash,
        to_root: new.root_hash,
        hashes: consistency_proof(&tree, 12, 30).expect("proof"),
    };
    assert_eq!(check_consistency(&old, &new, &proof, &public), Ok(()));
    for at in 0..proof.hashes.len() * 64 {
        let bent = flip_hex(&proof, "hashes", at);
        assert!(
            check_consistency(&old, &new, &bent, &public).is_err(),
            "digit {at}"
        );
    }
    // A rewritten history: a tree whose record 5 differs gives a new head that does not
    // extend the old one, whatever proof comes with it.
    let mut forged = MemoryTree::default();
    for i in 0..30 {
        let bytes = if i == 5 {
            b"rewritten".to_vec()
        } else {
            record_bytes(i)
        };
        forged.push(leaf_hash(&bytes));
    }
    let forged_new = head(&key, &forged, 30);
    let forged_proof = ConsistencyProofFile {
        to_root: forged_new.root_hash,
        hashes: consistency_proof(&forged, 12, 30).expect("proof"),
        ..proof.clone()
    };
    let code = check_consistency(&old, &forged_new, &forged_proof, &public).map_err(|e| e.code());
    assert_eq!(code, Err("ROOT_MISMATCH"));
    let code = check_consistency(&new, &old, &proof, &public).map_err(|e| e.code());
    assert_eq!(code, Err("WRONG_TREE"));
}

#[test]
fn the_key_lives_in_the_data_directory_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let key = HeadKey::load_or_create(dir.path()).expect("made");
    let mode = std::fs::metadata(dir.path().join(KEY_FILE))
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = HeadKey::load_or_create(dir.path()).expect("loaded");
    assert_eq!(again.public_key(), key.public_key());
    let published = std::fs::read_to_string(dir.path().join(PUBLIC_KEY_FILE)).expect("pub");
    assert_eq!(
        PublicKey::parse(&published).expect("parses"),
        key.public_key()
    );

    let open = std::fs::Permissions::from_mode(0o644);
    std::fs::set_permissions(dir.path().join(KEY_FILE), open).expect("chmod");
    let refused = HeadKey::load(dir.path()).map_err(|e| e.code());
    assert_eq!(refused.err(), Some("KEY_TOO_OPEN"));
    std::fs::write(dir.path().join(KEY_FILE), "not a key").expect("write");
    let private = std::fs::Permissions::from_mode(0o600);
    std::fs::set_permissions(dir.path().join(KEY_FILE), private).expect("chmod");
    assert!(matches!(
        HeadKey::load(dir.path()),
        Err(KeyError::Malformed { .. })
    ));
}

#[test]
fn malformed_keys_and_files_are_refused_with_a_reason() {
    assert_eq!(
        PublicKey::parse("abc").map_err(|e| e.code()).err(),
        Some("BAD_KEY")
    );
    assert_eq!(
        PublicKey::parse(&"zz".repeat(32))
            .map_err(|e| e.code())
            .err(),
        Some("BAD_KEY")
    );
    let truncated = r#"{"position": 1, "treeSize": 2, "leafHash": "00"#;
    assert!(serde_json::from_str::<InclusionProofFile>(truncated).is_err());
    let short_hash = r#"{"position":1,"treeSize":2,"leafHash":"00","rootHash":"00","hashes":[]}"#;
    let error = serde_json::from_str::<InclusionProofFile>(short_hash).expect_err("refused");
    assert!(error.to_string().contains("expected 32 bytes"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every leaf of every tree up to 40 checks out against a signed head of every size
    /// that holds it.
    #[test]
    fn every_leaf_is_proved_in_every_signed_head_that_holds_it(size in 1u64..40, pick in any::<u64>()) {
        let key = HeadKey::generate().expect("key");
        let tree = tree(size);
        let head = head(&key, &tree, size);
        let position = pick % size;
        let (proof, record) = inclusion(&tree, position, size);
        prop_assert_eq!(check_inclusion(&head, &proof, Some(&record), &key.public_key()), Ok(()));
    }
}
