//! Every proof of every tree up to a size verifies, and no altered one does.

use proptest::prelude::*;
use sparkfeed_events::Hash;
use sparkfeed_merkle::{
    MemoryTree, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion,
};

fn tree_of(n: u64) -> MemoryTree {
    let mut tree = MemoryTree::default();
    for i in 0..n {
        tree.push(leaf_hash(&i.to_be_bytes()));
    }
    tree
}

#[test]
fn every_inclusion_and_consistency_proof_up_to_size_40_verifies() {
    let tree = tree_of(40);
    for size in 1..=40u64 {
        let head = root(&tree, size).expect("root");
        for index in 0..size {
            let proof = inclusion_proof(&tree, index, size).expect("proves");
            let leaf = leaf_hash(&index.to_be_bytes());
            verify_inclusion(&leaf, index, size, &proof, &head)
                .unwrap_or_else(|e| panic!("leaf {index} of {size}: {e}"));
        }
        for from in 1..=size {
            let old = root(&tree, from).expect("root");
            let proof = consistency_proof(&tree, from, size).expect("proves");
            verify_consistency(from, size, &old, &head, &proof)
                .unwrap_or_else(|e| panic!("{from} to {size}: {e}"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// One flipped bit anywhere (the leaf, a proof hash, the root), one hash dropped or
    /// added, or the wrong index: the inclusion check fails.
    #[test]
    fn an_altered_inclusion_proof_fails(size in 1u64..300, pick in any::<u64>(), bit in 0usize..256, what in 0u8..5) {
        let tree = tree_of(size);
        let index = pick % size;
        let head = root(&tree, size).expect("root");
        let mut leaf = leaf_hash(&index.to_be_bytes());
        let mut proof = inclusion_proof(&tree, index, size).expect("proves");
        let mut head_seen = head;
        let mut at = index;
        let flip = |h: &mut Hash| h.0[bit / 8] ^= 1 << (bit % 8);
        match what {
            0 => flip(&mut leaf),
            1 if !proof.is_empty() => { let i = bit % proof.len(); flip(&mut proof[i]) }
            2 => flip(&mut head_seen),
            3 => proof.push(head),
            _ if size > 1 => at = (index + 1) % size,
            _ => flip(&mut leaf),
        }
        prop_assert!(verify_inclusion(&leaf, at, size, &proof, &head_seen).is_err());
    }

    /// A rewritten leaf below the old size makes every consistency proof from that size fail.
    #[test]
    fn a_rewritten_past_is_caught_by_consistency(size in 2u64..200, pick in any::<u64>(), changed in any::<u64>()) {
        let from = 1 + pick % (size - 1);
        let old = root(&tree_of(size), from).expect("root");
        let mut rewritten = MemoryTree::default();
        let victim = changed % from;
        for i in 0..size {
            let data = if i == victim { u64::MAX - i } else { i };
            rewritten.push(leaf_hash(&data.to_be_bytes()));
        }
        let new = root(&rewritten, size).expect("root");
        let proof = consistency_proof(&rewritten, from, size).expect("proves");
        prop_assert!(verify_consistency(from, size, &old, &new, &proof).is_err());
    }
}
