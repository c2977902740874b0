//! The log's Merkle tree (RFC 9162): kept as the log appends, put right on open, checked
//! by verify, and its proofs checked with nothing but hashes.

use std::path::Path;

use sparkfeed_eventlog::{Config, EventLog, ExpectedVersion, LogError, TamperKind, keys};
use sparkfeed_events::Position;
use sparkfeed_merkle::{MemoryTree, leaf_hash, verify_consistency, verify_inclusion};

use crate::{append_spread, events, stream};
use sparkfeed_testkit::log::edit_closed_log;

/// The tree of the log's records, built here from their bytes alone.
fn independent_tree(log: &EventLog) -> MemoryTree {
    let mut tree = MemoryTree::default();
    for p in 0..log.head().len {
        tree.push(leaf_hash(&log.leaf_bytes(Position(p)).expect("leaf")));
    }
    tree
}

/// 12 single-event appends and one append of 9 events in one group.
async fn filled(dir: &Path) -> EventLog {
    let log = EventLog::open(Config::new(dir)).expect("opens");
    append_spread(&log, 12, 3).await;
    log.append(&stream("post-9"), ExpectedVersion::NoStream, events(50, 9))
        .await
        .expect("appends");
    log
}

#[tokio::test]
async fn every_root_and_proof_of_the_kept_tree_checks_against_the_records_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = filled(dir.path()).await;
    let head = log.head().len;
    assert_eq!(head, 21);
    let mine = independent_tree(&log);
    for size in 1..=head {
        let root = log.tree_root(size).expect("root");
        assert_eq!(root, sparkfeed_merkle::root(&mine, size).expect("root"));
        for p in 0..size {
            let proof = log.inclusion_proof(Position(p), size).expect("proves");
            let leaf = leaf_hash(&log.leaf_bytes(Position(p)).expect("leaf"));
            verify_inclusion(&leaf, p, size, &proof, &root)
                .unwrap_or_else(|e| panic!("{p} in {size}: {e}"));
        }
        for from in 1..=size {
            let old = log.tree_root(from).expect("root");
            let proof = log.consistency_proof(from, size).expect("proves");
            verify_consistency(from, size, &old, &root, &proof)
                .unwrap_or_else(|e| panic!("{from} to {size}: {e}"));
        }
    }
    let report = log.verify(|_| {}).expect("verifies");
    assert!(report.is_intact() && report.merkle_checked, "{report:?}");
}

#[tokio::test]
async fn proofs_past_the_head_or_of_nothing_are_refused_with_a_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = filled(dir.path()).await;
    let code = |e: LogError| e.code();
    assert_eq!(code(log.tree_root(22).expect_err("past")), "PAST_HEAD");
    assert_eq!(
        code(log.inclusion_proof(Position(3), 0).expect_err("empty")),
        "EMPTY_TREE"
    );
    assert_eq!(
        code(log.inclusion_proof(Position(5), 5).expect_err("outside")),
        "PAST_TREE_SIZE"
    );
    assert_eq!(
        code(log.consistency_proof(9, 4).expect_err("reversed")),
        "SIZES_REVERSED"
    );
    assert_eq!(
        code(log.consistency_proof(0, 4).expect_err("from nothing")),
        "EMPTY_TREE"
    );
    assert_eq!(
        code(log.leaf_bytes(Position(21)).expect_err("past")),
        "PAST_HEAD"
    );
    assert_eq!(
        log.tree_root(0).expect("the empty tree"),
        sparkfeed_merkle::empty_root()
    );
}

#[tokio::test]
async fn subtrees_past_the_head_go_and_missing_ones_come_back_on_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = filled(dir.path()).await;
    let root = log.tree_root(21).expect("root");
    drop(log);
    // A group cut short: subtrees past leaf 21 landed without their records (in the last
    // chunk of three levels, and a chunk of their own); and three chunks below the head
    // lost, each holding a subtree of the right edge (as if a crash took them).
    let chunk = |level, chunk| keys::tree_key(level, chunk);
    edit_closed_log(dir.path(), |tree| {
        for (level, number) in [(0, 1), (1, 0), (2, 0)] {
            let mut bytes = tree
                .get(chunk(level, number))
                .expect("reads")
                .expect("held")
                .to_vec();
            bytes.extend_from_slice(&[7u8; 64]);
            tree.insert(chunk(level, number), bytes).expect("writes");
        }
        tree.insert(chunk(0, 2), &[7u8; 32]).expect("writes");
    });
    let log = EventLog::open(Config::new(dir.path())).expect("reopens: trimmed");
    assert_eq!(log.tree_root(21).expect("root"), root);
    assert!(log.verify(|_| {}).expect("verifies").is_intact());
    drop(log);
    edit_closed_log(dir.path(), |tree| {
        let held = |level, number| {
            tree.get(chunk(level, number))
                .expect("reads")
                .map(|c| c.len())
        };
        assert_eq!(
            (held(0, 1), held(0, 2), held(1, 0), held(2, 0)),
            (Some(5 * 32), None, Some(10 * 32), Some(5 * 32)),
            "opening trimmed every chunk back to the head"
        );
        for (level, number) in [(0, 1), (2, 0), (4, 0)] {
            tree.remove(chunk(level, number)).expect("removes");
        }
    });
    let log = EventLog::open(Config::new(dir.path())).expect("reopens");
    assert_eq!(log.tree_root(21).expect("root"), root);
    assert!(log.verify(|_| {}).expect("verifies").is_intact());
    // And appends go on from the right edge.
    log.append(&stream("post-1"), ExpectedVersion::Any, events(90, 3))
        .await
        .expect("appends");
    let mine = independent_tree(&log);
    assert_eq!(
        log.tree_root(24).expect("root"),
        sparkfeed_merkle::root(&mine, 24).expect("root")
    );
    assert!(log.verify(|_| {}).expect("verifies").is_intact());
}

#[tokio::test]
async fn a_log_written_before_the_tree_existed_gets_it_whole_on_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = filled(dir.path()).await;
    let root = log.tree_root(21).expect("root");
    drop(log);
    edit_closed_log(dir.path(), |tree| {
        let all: Vec<_> = tree
            .scan_prefix(keys::tree_prefix())
            .keys()
            .map(|k| k.expect("key"))
            .collect();
        assert!(
            all.len() >= 6,
            "two chunks of leaves and one per level above them"
        );
        for key in all {
            tree.remove(key).expect("removes");
        }
    });
    let log = EventLog::open(Config::new(dir.path())).expect("reopens");
    assert_eq!(log.tree_root(21).expect("root"), root);
    let report = log.verify(|_| {}).expect("verifies");
    assert!(report.is_intact() && report.merkle_checked, "{report:?}");
}

#[tokio::test]
async fn a_rewritten_subtree_is_named_by_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    drop(filled(dir.path()).await);
    // Subtree 2 of level 1 (leaves 4 and 5) is the third hash of that level's first chunk.
    edit_closed_log(dir.path(), |tree| {
        let key = keys::tree_key(1, 0);
        let mut bytes = tree.get(key).expect("reads").expect("held").to_vec();
        bytes[64..96].copy_from_slice(&[9u8; 32]);
        tree.insert(key, bytes).expect("writes");
    });
    let scratch = tempfile::tempdir().expect("temp dir");
    let found =
        sparkfeed_eventlog::offline::verify_dir(dir.path(), &scratch.path().join("copy"), |_| {})
            .expect("verifies");
    let tamper = found.report.tamper.expect("caught");
    assert_eq!(tamper.kind, TamperKind::MerkleNode { level: 1, index: 2 });
    assert_eq!(tamper.position, Position(5), "the record that completes it");
}
