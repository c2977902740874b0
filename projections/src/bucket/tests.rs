//! Bucketed lists read like a list of a row an entry: a model (a sorted map) against the
//! real rows in a sled store, through live commits and a rebuild's write-outs alike.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;

use super::*;

use crate::cache::View;
use crate::store::tests::generation;

/// Small buckets, so that a few dozen entries seal and split many.
const CAPACITY: usize = 3;

#[derive(Clone, Debug)]
enum Op {
    /// An entry at the next position of the log.
    Append,
    /// An entry at a position at or below the newest (an older post tagged).
    Insert(u64),
    /// The entry at a position, if there is one.
    Remove(u64),
    /// The batch committed, as a live projection does.
    Commit,
    /// The rows written out, as a rebuild does at its end.
    WriteOut,
    /// Room made in a rebuild's full buffer: rows written whole go out, buckets stay.
    MakeRoom,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Append),
        2 => (0u64..64).prop_map(Op::Insert),
        3 => (0u64..64).prop_map(Op::Remove),
        1 => Just(Op::Commit),
        1 => Just(Op::WriteOut),
        1 => Just(Op::MakeRoom),
    ]
}

const PREFIX: &[u8] = b"list\0a\0";

/// Every bucket of the list, in key order, checked against the partition invariant.
fn buckets_hold_the_partition(tree: &sled::Tree) -> Vec<(u64, u64)> {
    let mut all: Vec<(u64, u64)> = Vec::new();
    for (i, row) in tree.scan_prefix(PREFIX).enumerate() {
        let (key, value) = row.expect("reads");
        let entries: Entries<u64> = decode(&value).expect("a bucket");
        assert!(!entries.is_empty(), "no empty bucket is kept");
        assert!(entries.len() <= CAPACITY, "no bucket over capacity");
        assert!(entries.windows(2).all(|w| w[0].0 > w[1].0), "newest first");
        if i > 0 || key.as_ref() != head_key(PREFIX).as_slice() {
            let tail: [u8; 8] = key
                .get(PREFIX.len()..)
                .and_then(|t| t.try_into().ok())
                .expect("8 bytes");
            let up_to = u64::MAX - u64::from_be_bytes(tail);
            assert!(entries[0].0 <= up_to, "nothing above its key");
            if let Some((newer_oldest, _)) = all.last() {
                assert!(*newer_oldest > up_to, "every newer entry above its key");
            }
        }
        all.extend(entries);
    }
    // Sibling lists are not touched.
    assert_eq!(
        tree.get(b"list\0b\0x").expect("reads").as_deref(),
        Some(b"other".as_slice())
    );
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn a_bucketed_list_reads_as_the_list_of_its_entries(
        ops in prop::collection::vec(op(), 1..120),
        reads in prop::collection::vec((0u64..70, 1usize..8), 6),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = generation(dir.path(), 1);
        store.tree().insert(b"list\0b\0x", b"other").expect("insert");
        let view = View::of(Arc::clone(&store));
        let mut model: BTreeMap<u64, u64> = BTreeMap::new();
        let mut next = 0u64;
        let mut rows = Rows::new(&view);
        for op in ops {
            match op {
                Op::Append => {
                    append_within(&mut rows, PREFIX, Position(next), next, CAPACITY)
                        .expect("appends");
                    model.insert(next, next);
                    next += 1;
                }
                Op::Insert(at) => {
                    let at = at.min(next);
                    insert_within(&mut rows, PREFIX, Position(at), 1000 + at, CAPACITY)
                        .expect("inserts");
                    model.insert(at, 1000 + at);
                    next = next.max(at + 1);
                }
                Op::Remove(at) => {
                    remove::<u64>(&mut rows, PREFIX, Position(at)).expect("removes");
                    model.remove(&at);
                }
                Op::Commit => {
                    rows.commit(Position(next)).expect("commits");
                    rows = Rows::new(&view);
                }
                Op::WriteOut => rows.write_unserved(Position(next)).expect("writes"),
                Op::MakeRoom => rows.make_room_unserved(1 << 20).expect("writes"),
            }
        }
        rows.commit(Position(next)).expect("commits");

        let tree = store.tree();
        let newest_first: Vec<(u64, u64)> = model.iter().rev().map(|(a, v)| (*a, *v)).collect();
        prop_assert_eq!(buckets_hold_the_partition(&tree), newest_first.clone());
        let all: Vec<(u64, u64)> = scan::<u64>(&tree, PREFIX.to_vec(), None)
            .map(|e| e.map(|(at, v)| (at.0, v)))
            .collect::<Result<_, _>>()
            .expect("scans");
        prop_assert_eq!(&all, &newest_first);
        for (cursor, first) in reads {
            let below: Vec<(u64, u64)> =
                newest_first.iter().filter(|(at, _)| *at < cursor).copied().collect();
            let got = page::<u64>(&tree, PREFIX.to_vec(), first, Some(Position(cursor)))
                .expect("pages");
            let items: Vec<(u64, u64)> = got.items.iter().map(|(at, v)| (at.0, *v)).collect();
            prop_assert_eq!(items, below.iter().take(first).copied().collect::<Vec<_>>());
            prop_assert_eq!(got.has_next, below.len() > first);

            let above: Vec<(u64, u64)> = model.range(cursor + 1..).take(first)
                .map(|(a, v)| (*a, *v)).collect();
            let newer: Vec<(u64, u64)> =
                newer_than::<u64>(&tree, PREFIX.to_vec(), Some(Position(cursor)), first)
                    .expect("reads")
                    .into_iter()
                    .map(|(at, v)| (at.0, v))
                    .collect();
            prop_assert_eq!(newer, above);
        }
        let oldest: Vec<(u64, u64)> = model.iter().take(5).map(|(a, v)| (*a, *v)).collect();
        let newer: Vec<(u64, u64)> = newer_than::<u64>(&tree, PREFIX.to_vec(), None, 5)
            .expect("reads")
            .into_iter()
            .map(|(at, v)| (at.0, v))
            .collect();
        prop_assert_eq!(newer, oldest);
    }
}

#[test]
fn a_cursor_at_the_last_position_of_all_reads_the_whole_list() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = generation(dir.path(), 1);
    let view = View::of(Arc::clone(&store));
    let mut rows = Rows::new(&view);
    for at in 0..10 {
        append_within(&mut rows, PREFIX, Position(at), at, CAPACITY).expect("appends");
    }
    rows.commit(Position(10)).expect("commits");
    let page =
        page::<u64>(&store.tree(), PREFIX.to_vec(), 20, Some(Position(u64::MAX))).expect("pages");
    assert_eq!(page.items.len(), 10);
    assert!(
        newer_than::<u64>(&store.tree(), PREFIX.to_vec(), Some(Position(u64::MAX)), 5)
            .expect("reads")
            .is_empty()
    );
}

#[test]
fn appends_to_a_long_list_write_a_row_a_bucket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = generation(dir.path(), 1);
    let view = View::of(Arc::clone(&store));
    let mut rows = Rows::new(&view);
    for at in 0..(10 * BUCKET_ENTRIES as u64) {
        append(&mut rows, PREFIX, Position(at), at).expect("appends");
    }
    rows.commit(Position(0)).expect("commits");
    assert_eq!(store.tree().scan_prefix(PREFIX).count(), 10);
}
