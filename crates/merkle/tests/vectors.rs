//! The published RFC 6962 / 9162 known-answer tests: the eight leaves of the Certificate
//! Transparency test suite, their roots for every size, and the inclusion and consistency
//! proofs published for them. Copied (not computed) from
//! github.com/google/certificate-transparency `cpp/merkletree/merkle_tree_test.cc`
//! (0fe5116f) and github.com/transparency-dev/merkle `testonly/constants.go`,
//! `testonly/reference_test.go` and `testdata/{inclusion,consistency}/*/happy-path.json`
//! (417fb0c3). Leaf indexes here are 0-based (the C++ suite numbers leaves from 1).

use sparkfeed_events::Hash;
use sparkfeed_merkle::{
    MemoryTree, ProofError, consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash,
    root, verify_consistency, verify_inclusion,
};

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A small table index.
fn at(n: u64) -> usize {
    usize::try_from(n).expect("small")
}

fn h(text: &str) -> Hash {
    Hash(hex(text).try_into().expect("32 bytes"))
}

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots by tree size, 0..=8.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, proof).
const INCLUSION: [(u64, u64, &[&str]); 7] = [
    (0, 1, &[]),
    (
        0,
        2,
        &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
    ),
    (
        1,
        2,
        &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// (older size, newer size, proof).
const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn test_tree() -> MemoryTree {
    let mut tree = MemoryTree::default();
    for leaf in LEAVES {
        tree.push(leaf_hash(&hex(leaf)));
    }
    tree
}

fn hashes(proof: &[&str]) -> Vec<Hash> {
    proof.iter().map(|p| h(p)).collect()
}

#[test]
fn the_hash_functions_give_the_published_values() {
    assert_eq!(empty_root(), h(ROOTS[0]));
    assert_eq!(leaf_hash(b""), h(ROOTS[1]));
    assert_eq!(
        leaf_hash(b"L123456"),
        h("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    );
    // HashChildren("N123", "N456") of the published test: our node_hash takes 32-byte
    // hashes, so the same bytes are hashed by hand with the 0x01 prefix.
    use sha2::Digest;
    let mut by_hand = sha2::Sha256::new();
    by_hand.update([1u8]);
    by_hand.update(b"N123");
    by_hand.update(b"N456");
    assert_eq!(
        Hash(by_hand.finalize().into()),
        h("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")
    );
}

#[test]
fn the_root_of_every_prefix_of_the_eight_leaves_is_the_published_one() {
    let tree = test_tree();
    for (size, expected) in ROOTS.iter().enumerate() {
        assert_eq!(
            root(&tree, size as u64).expect("root"),
            h(expected),
            "size {size}"
        );
    }
}

#[test]
fn inclusion_proofs_are_the_published_ones_and_verify() {
    let tree = test_tree();
    for (index, size, proof) in INCLUSION {
        let proof = hashes(proof);
        assert_eq!(
            inclusion_proof(&tree, index, size).expect("proves"),
            proof,
            "leaf {index} of {size}"
        );
        let leaf = leaf_hash(&hex(LEAVES[at(index)]));
        let root = h(ROOTS[at(size)]);
        verify_inclusion(&leaf, index, size, &proof, &root).expect("verifies");
    }
}

#[test]
fn consistency_proofs_are_the_published_ones_and_verify() {
    let tree = test_tree();
    for (from, to, proof) in CONSISTENCY {
        let proof = hashes(proof);
        assert_eq!(
            consistency_proof(&tree, from, to).expect("proves"),
            proof,
            "{from} to {to}"
        );
        let (old, new) = (h(ROOTS[at(from)]), h(ROOTS[at(to)]));
        verify_consistency(from, to, &old, &new, &proof).expect("verifies");
    }
}

#[test]
fn the_published_error_cases_fail_with_a_reason() {
    let tree = test_tree();
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let empty = h(ROOTS[0]);
    for (index, size) in [(0, 0), (1, 0), (2, 1)] {
        assert!(verify_inclusion(&some, index, size, &[], &empty).is_err());
    }
    assert!(matches!(
        verify_inclusion(&some, 0, 1, &[], &empty),
        Err(ProofError::RootMismatch { .. })
    ));
    assert_eq!(inclusion_proof(&tree, 0, 0), Err(ProofError::EmptyTree));
    assert_eq!(
        inclusion_proof(&tree, 8, 8),
        Err(ProofError::PastTreeSize { index: 8, size: 8 })
    );
    assert!(
        matches!(
            inclusion_proof(&tree, 0, 9),
            Err(ProofError::MissingNode { level: 0, index: 8 })
        ),
        "a tree larger than the store names the node it lacks"
    );
    // Consistency: from 0 never, sizes reversed never, equal sizes only with no proof and
    // equal roots, 1 to 2 never with an empty proof.
    let (r1, r2) = (h(ROOTS[1]), h(ROOTS[2]));
    assert_eq!(
        verify_consistency(0, 0, &empty, &empty, &[]),
        Err(ProofError::EmptyTree)
    );
    assert_eq!(
        verify_consistency(0, 1, &empty, &r1, &[]),
        Err(ProofError::EmptyTree)
    );
    assert!(matches!(
        verify_consistency(2, 1, &r2, &r1, &[]),
        Err(ProofError::SizesReversed { from: 2, to: 1 })
    ));
    assert!(verify_consistency(1, 1, &r1, &r2, &[]).is_err());
    assert!(verify_consistency(1, 1, &r1, &r1, &[empty]).is_err());
    assert!(verify_consistency(1, 2, &r1, &r2, &[]).is_err());
    assert_eq!(consistency_proof(&tree, 0, 3), Err(ProofError::EmptyTree));
    assert_eq!(
        consistency_proof(&tree, 4, 3),
        Err(ProofError::SizesReversed { from: 4, to: 3 })
    );
}

#[test]
fn two_leaves_make_the_published_size_two_root() {
    let (a, b) = (leaf_hash(&hex(LEAVES[0])), leaf_hash(&hex(LEAVES[1])));
    assert_eq!(node_hash(&a, &b), h(ROOTS[2]));
}
