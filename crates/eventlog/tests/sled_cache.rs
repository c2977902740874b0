//! sled's page cache is a bound while a tree is scanned from end to end, as a rebuild reads
//! the log: the vendored sled (`vendor/sled`, see its SPARKFEED.md) counts every page it
//! reads at most a few accesses late.
//!
//! sled 0.34.7 as published counted a page only once 64 accesses had queued up in its
//! shard of the LRU, one of 256: a scan that meets each leaf a few times never filled a
//! queue, and every leaf it read stayed in memory, whatever the cache's capacity. This test
//! fails there (about all of the scanned bytes stay live) and passes with the vendored copy.
//!
//! Its own test binary: the allocator below counts every live byte of the process, so no
//! other test may run beside it. The peak is sampled between two entries of the scan, which
//! is where pages that were read and never counted pile up.

use cap::Cap;

/// The system allocator, counting the bytes live now.
#[global_allocator]
static ALLOCATOR: Cap<std::alloc::System> = Cap::new(std::alloc::System, usize::MAX);

const MIB: usize = 1 << 20;

/// Values about the size of the log's record chunks (a few KiB), at most 16 to a leaf:
/// leaves of tens of KiB, as the log's chunk family has.
const VALUE_BYTES: usize = 2 * 1024;

/// 96 MiB of values: thousands of leaves, about a dozen per LRU shard, each met a few times
/// by a scan, never the 64 times that made a shard count them before.
const VALUES: usize = 48 * 1024;

/// The cache the scan reads through, in MiB.
const CACHE_MIB: u64 = 4;

#[test]
fn scanning_a_tree_larger_than_the_cache_holds_a_bounded_part_of_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = || {
        sled::Config::new()
            .path(dir.path())
            .cache_capacity(CACHE_MIB << 20)
            .flush_every_ms(None)
    };
    {
        let db = config().open().expect("opens");
        let tree = db.open_tree("t").expect("tree");
        let mut value = vec![0u8; VALUE_BYTES];
        for i in 0..VALUES {
            value[..8].copy_from_slice(&(i as u64).to_le_bytes());
            tree.insert((i as u64).to_be_bytes(), value.as_slice())
                .expect("insert");
        }
        db.flush().expect("flush");
    }
    // Opened again: nothing of the tree is in memory until the scan reads it.
    let db = config().open().expect("opens again");
    let tree = db.open_tree("t").expect("tree");
    let before = ALLOCATOR.allocated();
    let (mut read, mut peak) = (0usize, before);
    for entry in tree.iter() {
        let (_, value) = entry.expect("reads");
        read += value.len();
        drop(value);
        peak = peak.max(ALLOCATOR.allocated());
    }
    let held = peak.saturating_sub(before);
    assert_eq!(read, VALUES * VALUE_BYTES, "the scan read every value");
    // A 4 MiB cache, its pages in memory at a few times their size on disk, plus the pages
    // each shard has not counted yet (at most 3 in each of 256 shards): 22-23 MiB measured.
    // Without the vendored change it held 94 MiB, about all it read.
    assert!(
        held < 48 * MIB,
        "scanning {} MiB through a {} MiB cache held {} MiB at its peak",
        read / MIB,
        CACHE_MIB,
        held / MIB
    );
}
