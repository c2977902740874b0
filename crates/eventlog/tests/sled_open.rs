//! Opening a sled store costs memory in proportion to its pages, at the size of what each
//! page's list of fragments holds: the vendored sled (`vendor/sled`, see its SPARKFEED.md)
//! sizes those lists exactly when it loads them.
//!
//! sled 0.34.7 as published pushed each loaded page's fragments into an empty `Vec`, which
//! takes room for 4 at the first push: 192 bytes for the one or two most pages hold, held
//! for as long as the store is open. A server opening a log and six projection stores of
//! 10^6 events held about 85 MB of them. This test fails there and passes with the
//! vendored copy.
//!
//! Its own test binary: the allocator below counts every live byte of the process, so no
//! other test may run beside it.

use cap::Cap;

/// The system allocator, counting the bytes live now.
#[global_allocator]
static ALLOCATOR: Cap<std::alloc::System> = Cap::new(std::alloc::System, usize::MAX);

/// Small keys and values, as the projections' rows and the log's index entries are: many
/// leaves, each written once and flushed.
const KEYS: u64 = 400_000;

#[test]
fn opening_a_store_again_holds_little_per_key_until_it_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = || {
        sled::Config::new()
            .path(dir.path())
            .cache_capacity(4 << 20)
            .flush_every_ms(None)
    };
    {
        let db = config().open().expect("opens");
        let tree = db.open_tree("t").expect("tree");
        for i in 0..KEYS {
            tree.insert(i.to_be_bytes(), &i.to_le_bytes())
                .expect("insert");
        }
        db.flush().expect("flush");
    }
    let before = ALLOCATOR.allocated();
    let db = config().open().expect("opens again");
    let tree = db.open_tree("t").expect("tree");
    let held = ALLOCATOR.allocated().saturating_sub(before);
    assert_eq!(
        u64::try_from(tree.len()).ok(),
        Some(KEYS),
        "every key is there"
    );
    let per_key = held as f64 / KEYS as f64;
    // Measured: 28.3 bytes a key (each page's fragments, its entry in the page table, the
    // segments' accounting); 44.4 with the lists as published, which at 144 bytes more a
    // page makes about 45,000 pages of about 9 keys.
    assert!(
        per_key < 36.0,
        "opening {KEYS} keys held {held} bytes: {per_key:.1} per key"
    );
}
