//! Point reads of a projection's rows through an in-process cache that the projection's
//! own writes invalidate, so a cached row is never staler than sled itself.
//!
//! A feed page reads about 180 rows (cards, counts, viewer state, badges, authors,
//! products), and sled's point read (tree descent, page cache, LRU bookkeeping) was about a
//! fifth of the page's CPU. Rows change only through [`crate::store::Rows::commit`], which
//! knows every key it wrote, so the cache is exact rather than time-bounded.
//!
//! Invariant (why a reader cannot leave a stale row behind): every shard carries a
//! generation, bumped by each invalidation of a key in it. A reader that misses notes the
//! generation, reads sled, and keeps what it read only if the generation has not moved. A
//! commit applies its batch to sled first and invalidates its keys after, so a reader that
//! read the old value either inserted it before the invalidation (which removes it) or
//! finds the generation moved (and keeps nothing). Between the batch and the invalidation a
//! reader may still be answered the old row; the projection publishes its new checkpoint
//! only after invalidating, so a read-your-writes wait never ends on a stale row.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sled::IVec;
use sparkfeed_events::Position;

use crate::ProjectionError;
use crate::store::{Generation, checkpoint};

/// Shards, so that concurrent readers rarely meet on one lock.
const SHARDS: usize = 32;

/// What a row cache holds when it is given no part of a budget ([`View::new`], tools and
/// tests); a served projection's gets [`crate::CacheBudget::row_cache_share`].
pub const DEFAULT_ROW_CACHE_BYTES: usize = 16 << 20;

/// What one held row costs beside its key and value bytes, as counted: the map's slot, the
/// key's box, the value's handle and their allocations' headers (an estimate).
const ROW_OVERHEAD: usize = 64;

/// The bytes a row counts for: its key, its value and [`ROW_OVERHEAD`].
fn row_cost(key: &[u8], row: Option<&IVec>) -> usize {
    key.len() + row.map_or(0, |r| r.len()) + ROW_OVERHEAD
}

/// FNV-1a: keys are short and chosen by the projection, not by clients' hash floods (a
/// full shard simply starts over).
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

fn fnv(key: &[u8]) -> u64 {
    let mut h = Fnv::default();
    h.write(key);
    h.finish()
}

#[derive(Default)]
struct Shard {
    rows: HashMap<Box<[u8]>, Option<IVec>, BuildHasherDefault<Fnv>>,
    /// The rows' [`row_cost`] summed.
    bytes: usize,
    generation: u64,
    /// Reads answered from `rows`, and reads that went to sled (counted under the lock the
    /// read takes anyway, so counting costs no shared atomic).
    hits: u64,
    misses: u64,
}

/// The rows of one projection tree read so far (present or absent), until written.
///
/// Invariant: each shard holds at most its part of the capacity, counted by [`row_cost`]:
/// a row that would take it past that first clears the shard (a full shard starts over
/// rather than evicting row by row), and a row larger than a shard's part is not kept.
pub struct RowCache {
    shards: [Mutex<Shard>; SHARDS],
    per_shard_bytes: usize,
}

impl Default for RowCache {
    fn default() -> Self {
        Self::with_capacity_bytes(DEFAULT_ROW_CACHE_BYTES)
    }
}

impl RowCache {
    /// A cache holding at most `bytes`, as [`row_cost`] counts them.
    pub fn with_capacity_bytes(bytes: usize) -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::default()),
            per_shard_bytes: bytes / SHARDS,
        }
    }

    fn shard(&self, key: &[u8]) -> &Mutex<Shard> {
        let h = fnv(key);
        &self.shards[usize::try_from(h >> 32).unwrap_or_default() % SHARDS]
    }

    /// The row at `key` in `tree`, from the cache or else from sled.
    pub fn get(&self, tree: &sled::Tree, key: &[u8]) -> Result<Option<IVec>, sled::Error> {
        let shard = self.shard(key);
        let seen = {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(row) = shard.rows.get(key) {
                let row = row.clone();
                shard.hits += 1;
                return Ok(row);
            }
            shard.misses += 1;
            shard.generation
        };
        let row = tree.get(key)?;
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        let cost = row_cost(key, row.as_ref());
        if shard.generation == seen && cost <= self.per_shard_bytes {
            if shard.bytes + cost > self.per_shard_bytes {
                shard.rows.clear();
                shard.bytes = 0;
            }
            // Another reader may have kept the same row meanwhile: count it once.
            if let Some(before) = shard.rows.insert(key.into(), row.clone()) {
                shard.bytes -= row_cost(key, before.as_ref());
            }
            shard.bytes += cost;
        }
        Ok(row)
    }

    /// Forgets `keys`: called after they were written to the tree.
    pub fn invalidate<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) {
        for key in keys {
            let mut shard = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
            if let Some(before) = shard.rows.remove(key) {
                shard.bytes -= row_cost(key, before.as_ref());
            }
            shard.generation = shard.generation.wrapping_add(1);
        }
    }

    /// The bytes held, as [`row_cost`] counts them.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).bytes)
            .sum()
    }

    /// Reads so far: (answered from the cache, read from sled).
    pub fn counts(&self) -> (u64, u64) {
        self.shards.iter().fold((0, 0), |(hits, misses), s| {
            let s = s.lock().unwrap_or_else(|p| p.into_inner());
            (hits + s.hits, misses + s.misses)
        })
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).rows.len())
            .sum()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where reads find rows: a tree read directly, or a projection's [`View`].
pub trait Source {
    /// The tree, for range scans (which are not cached).
    fn tree(&self) -> &sled::Tree;

    /// The row at `key`.
    fn row(&self, key: &[u8]) -> Result<Option<IVec>, sled::Error> {
        self.tree().get(key)
    }

    /// Whether a row exists at `key`.
    fn has(&self, key: &[u8]) -> Result<bool, sled::Error> {
        Ok(self.row(key)?.is_some())
    }
}

impl Source for sled::Tree {
    fn tree(&self) -> &sled::Tree {
        self
    }

    fn has(&self, key: &[u8]) -> Result<bool, sled::Error> {
        self.contains_key(key)
    }
}

/// A projection's active tree with its row cache: what serving reads go through.
#[derive(Clone)]
pub struct View {
    // Dropped before `generation`: the generation's store closes after its last tree.
    tree: sled::Tree,
    cache: Arc<RowCache>,
    generation: Option<Arc<Generation>>,
    /// How far the projection has applied past the checkpoint in `tree` (0: not past it),
    /// shared by every clone of this view and started over by a new one (a rebuild's).
    ///
    /// Invariant: every event between the tree's checkpoint and this position changed no
    /// row, so the tree holds exactly the rows it would hold had the checkpoint been
    /// written ([`View::applied_unwritten`]). Lost at a crash, they are applied again and
    /// change nothing again.
    unwritten: Arc<AtomicU64>,
}

impl View {
    /// A view of `tree` with an empty cache.
    pub fn new(tree: sled::Tree) -> Self {
        Self {
            tree,
            cache: Arc::default(),
            generation: None,
            unwritten: Arc::default(),
        }
    }

    /// A view of a projection generation's rows, with an empty cache; it keeps the
    /// generation's store open (see [`Generation`]).
    pub(crate) fn of(generation: Arc<Generation>) -> Self {
        Self {
            tree: generation.tree(),
            cache: Arc::default(),
            generation: Some(generation),
            unwritten: Arc::default(),
        }
    }

    /// This view with an empty row cache of at most `bytes` (a served projection's share
    /// of the budget): for a view not yet shared, as its old cache is dropped.
    pub(crate) fn with_row_cache_bytes(mut self, bytes: usize) -> Self {
        self.cache = Arc::new(RowCache::with_capacity_bytes(bytes));
        self
    }

    /// The generation behind this view, if it is one.
    pub(crate) fn generation(&self) -> Option<&Generation> {
        self.generation.as_deref()
    }

    /// The cache in front of the tree.
    pub fn cache(&self) -> &RowCache {
        &self.cache
    }

    /// Where the projection has got to in this view: the position of the next event it
    /// applies. That is the checkpoint in the tree, or further on when the batches since
    /// changed no row and so wrote nothing ([`View::applied_unwritten`]).
    pub fn checkpoint(&self) -> Result<Position, ProjectionError> {
        self.checkpoints().map(|(_, reached)| reached)
    }

    /// The checkpoint in the tree, and where the projection has got to
    /// ([`View::checkpoint`]), from one read of the tree.
    pub(crate) fn checkpoints(&self) -> Result<(Position, Position), ProjectionError> {
        let written = checkpoint(&self.tree)?;
        let reached = written.max(Position(self.unwritten.load(Ordering::Acquire)));
        Ok((written, reached))
    }

    /// Notes that the projection has applied every event before `next`, and that those
    /// past the tree's checkpoint changed no row: nothing was written for them.
    pub(crate) fn applied_unwritten(&self, next: Position) {
        self.unwritten.fetch_max(next.0, Ordering::AcqRel);
    }
}

impl Source for View {
    fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    fn row(&self, key: &[u8]) -> Result<Option<IVec>, sled::Error> {
        self.cache.get(&self.tree, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, sled::Tree) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sled::Config::new()
            .path(dir.path())
            .open()
            .expect("sled opens");
        let tree = db.open_tree("t").expect("tree");
        (dir, tree)
    }

    #[test]
    fn a_cached_row_is_served_until_its_key_is_invalidated() {
        let (_dir, tree) = tree();
        let view = View::new(tree.clone());
        tree.insert(b"k", b"one").expect("insert");
        assert_eq!(view.row(b"k").expect("read"), Some(IVec::from(b"one")));
        assert_eq!(view.row(b"missing").expect("read"), None);
        assert_eq!(
            view.cache().len(),
            2,
            "present and absent rows are both kept"
        );

        tree.insert(b"k", b"two").expect("insert");
        tree.insert(b"missing", b"now here").expect("insert");
        assert_eq!(
            view.row(b"k").expect("read"),
            Some(IVec::from(b"one")),
            "served from the cache until invalidated"
        );
        assert_eq!(view.cache().counts(), (1, 2));
        view.cache().invalidate([&b"k"[..], &b"missing"[..]]);
        assert_eq!(view.row(b"k").expect("read"), Some(IVec::from(b"two")));
        assert!(view.has(b"missing").expect("read"));
    }

    #[test]
    fn a_cache_never_holds_more_bytes_than_it_was_given_and_still_answers_every_row() {
        let (_dir, tree) = tree();
        let capacity = 64 * 1024;
        let cache = RowCache::with_capacity_bytes(capacity);
        let value = vec![7u8; 300];
        for n in 0..2_000u32 {
            tree.insert(n.to_be_bytes(), value.as_slice())
                .expect("insert");
        }
        for round in 0..2 {
            for n in 0..2_000u32 {
                let row = cache.get(&tree, &n.to_be_bytes()).expect("read");
                assert_eq!(
                    row.as_deref(),
                    Some(value.as_slice()),
                    "row {n}, round {round}"
                );
                assert!(cache.bytes() <= capacity, "{} bytes held", cache.bytes());
            }
        }
        // 2,000 rows of about 370 bytes: far more than 64 KiB, so the shards started over.
        let held = cache.len();
        assert!(held > 0 && held < 2_000, "{held} rows held");
        assert_eq!(cache.bytes(), held * (4 + 300 + ROW_OVERHEAD));
        // A row larger than a shard's part is answered, never kept.
        let large = vec![1u8; capacity];
        tree.insert(b"large", large.as_slice()).expect("insert");
        let empty = RowCache::with_capacity_bytes(capacity);
        assert_eq!(
            empty.get(&tree, b"large").expect("read").as_deref(),
            Some(large.as_slice())
        );
        assert_eq!((empty.len(), empty.bytes()), (0, 0));
        // Invalidating gives its bytes back.
        let keys: Vec<[u8; 4]> = (0..2_000u32).map(u32::to_be_bytes).collect();
        cache.invalidate(keys.iter().map(|k| &k[..]));
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
    }

    #[test]
    fn readers_racing_commits_never_see_a_row_older_than_the_last_published_commit() {
        let (_dir, tree) = tree();
        let view = View::new(tree.clone());
        tree.insert(b"k", &0u64.to_be_bytes()).expect("insert");
        let published = std::sync::atomic::AtomicU64::new(0);
        let value = |row: Option<IVec>| {
            u64::from_be_bytes(row.expect("present").as_ref().try_into().expect("8 bytes"))
        };
        std::thread::scope(|s| {
            s.spawn(|| {
                // A commit: the batch, then the invalidation, then the checkpoint.
                for n in 1..=5_000u64 {
                    tree.insert(b"k", &n.to_be_bytes()).expect("insert");
                    view.cache().invalidate([&b"k"[..]]);
                    published.store(n, std::sync::atomic::Ordering::SeqCst);
                }
            });
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..20_000 {
                        let floor = published.load(std::sync::atomic::Ordering::SeqCst);
                        let seen = value(view.row(b"k").expect("read"));
                        assert!(seen >= floor, "read {seen} after {floor} was published");
                    }
                });
            }
        });
        assert_eq!(value(view.row(b"k").expect("read")), 5_000);
    }
}
