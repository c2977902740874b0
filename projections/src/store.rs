//! Where projections keep their rows: one sled store per projection generation, each in
//! a directory of its own (`NAME-GENERATION`), next to a small `catalog` store.
//!
//! A projection's rows and its checkpoint live in the same tree (the checkpoint under
//! [`CHECKPOINT`]), so one `sled::Batch` commits both: after a crash a projection resumes
//! exactly where its last batch ended, neither skipping nor applying an event twice. A
//! live batch that changed no row writes nothing at all, not even its checkpoint (see
//! [`View::checkpoint`]): after a crash its events are applied again and change nothing.
//!
//! The catalog names the active generation of each projection. A rebuild fills a fresh
//! generation while the active one keeps serving, then swaps the catalog entry and the
//! in-memory [`Slot`] in one step and retires the old generation: its directory is
//! removed once the last reader lets go of it. A generation is a store rather than a tree
//! because sled 0.34.7 frees a dropped tree's pages one by one, each time scanning its
//! whole free list for a double free (`PageCache::free`): quadratic in the tree's size,
//! seconds of CPU after a million-event rebuild and minutes after ten, under the lock
//! every page allocation of the store takes. Removing a directory costs neither.

use std::any::Any;
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sparkfeed_eventlog::sled_lock;
use sparkfeed_events::{Position, codec};

use crate::ProjectionError;
use crate::cache::{RowCache, Source, View};
use crate::heap::{HeapSize, held};
use crate::warm::Warm;

/// The key of a projection's checkpoint: the position of the next event it will apply.
pub const CHECKPOINT: &[u8] = b"\x00checkpoint";

/// Encodes a row value with the log's codec options.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ProjectionError> {
    codec::encode_payload(value).map_err(|e| ProjectionError::Corrupt(e.to_string()))
}

/// Decodes a row value (or a view of it that borrows its strings from `bytes`).
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ProjectionError> {
    codec::decode_payload(bytes).map_err(|e| ProjectionError::Corrupt(e.to_string()))
}

/// Builds a key from parts separated by `0x00` (parts never contain it: ids, slugs and
/// ASINs are ASCII without NUL) followed by an optional big-endian number.
pub fn key(parts: &[&str], number: Option<u64>) -> Vec<u8> {
    let mut key = Vec::with_capacity(64);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            key.push(0);
        }
        key.extend_from_slice(part.as_bytes());
    }
    if let Some(n) = number {
        key.push(0);
        key.extend_from_slice(&n.to_be_bytes());
    }
    key
}

/// The prefix every key under `parts` starts with: their key and one more separator, so
/// that `feed|fit` does not also match `feed|fitness`.
pub fn prefix(parts: &[&str]) -> Vec<u8> {
    let mut prefix = key(parts, None);
    prefix.push(0);
    prefix
}

/// Newest first: positions stored reversed sort the latest event first.
pub fn newest_first(position: Position) -> u64 {
    u64::MAX - position.0
}

/// One generation of one projection: a sled store in a directory of its own.
///
/// Invariant: the directory is removed only after [`Generation::retire`] and only once
/// the last handle ([`View`]s share one `Arc<Generation>`) has been dropped, after the
/// store itself closed; a generation that was never retired is never removed here (the
/// catalog still names it, or [`Generation::remove_unlisted`] removes it at the next open).
pub struct Generation {
    dir: PathBuf,
    db: Option<sled::Db>,
    /// sled's data file, for the `fdatasync` that sled's flush does not do.
    data: File,
    retired: AtomicBool,
}

impl Generation {
    /// The directory of `name`'s generation `generation` under `root`.
    pub(crate) fn dir(root: &Path, name: &str, generation: u64) -> PathBuf {
        root.join(format!("{name}-{generation}"))
    }

    /// Removes the store in `dir`, if there is one (a generation nobody serves).
    pub(crate) fn remove(dir: &Path) -> Result<(), ProjectionError> {
        match std::fs::remove_dir_all(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(ProjectionError::Store(sled::Error::Io(e)))
            }
            _ => Ok(()),
        }
    }

    /// Opens (or creates) the store in `dir` with a page cache of `cache_bytes`. A store
    /// this process held a moment ago may still be locked by sled's IO threads: that is
    /// waited out ([`sled_lock::open`]).
    pub(crate) fn open(dir: PathBuf, cache_bytes: u64) -> Result<Arc<Self>, ProjectionError> {
        let config = sled::Config::new()
            .path(&dir)
            .cache_capacity(cache_bytes)
            .mode(sled::Mode::HighThroughput);
        let db = sled_lock::open(&config, &dir)?;
        sync_names(&dir)?;
        let data = File::open(dir.join("db")).map_err(|e| ProjectionError::Store(e.into()))?;
        Ok(Arc::new(Self {
            dir,
            db: Some(db),
            data,
            retired: AtomicBool::new(false),
        }))
    }

    /// The directory this generation is stored in.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    fn db(&self) -> &sled::Db {
        self.db
            .as_ref()
            .expect("the store is open until the generation drops")
    }

    /// The tree holding the rows (the store's default tree).
    pub(crate) fn tree(&self) -> sled::Tree {
        sled::Tree::clone(self.db())
    }

    /// Makes everything written so far durable: sled's flush, which on Linux ends in
    /// `sync_file_range` and survives a killed process but not a power cut, then an
    /// `fdatasync` of sled's data file.
    ///
    /// sled 0.34.7 needs it after every batch, not only for durability: its recovery
    /// counts on what it wrote before `sync_file_range` being on disk, and reuses
    /// segments on that belief. Left to its own background `fsync` (every 500 ms), a store
    /// rewritten as projections rewrite theirs did not open again after most power cuts
    /// (sled panicked in its recovery: `tests/e2e/sled_power_cut.rs`).
    pub(crate) fn sync(&self) -> Result<(), ProjectionError> {
        self.db().flush()?;
        self.data
            .sync_data()
            .map_err(|e| ProjectionError::Store(e.into()))
    }

    /// Marks the generation for removal once its last handle is dropped.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
    }

    /// Removes every generation directory under `root` that `keep` does not name (left by
    /// a rebuild that crashed or failed, or by a retired generation a crash kept around).
    pub(crate) fn remove_unlisted(
        root: &Path,
        keep: &[(&str, u64)],
    ) -> Result<(), ProjectionError> {
        let io = |e: std::io::Error| ProjectionError::Store(sled::Error::Io(e));
        for entry in std::fs::read_dir(root).map_err(io)? {
            let entry = entry.map_err(io)?;
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str() else {
                continue;
            };
            let Some((projection, generation)) = name.rsplit_once('-') else {
                continue;
            };
            let Ok(generation) = generation.parse::<u64>() else {
                continue;
            };
            let listed = keep.contains(&(projection, generation));
            let known = keep.iter().any(|(p, _)| *p == projection);
            if known && !listed && entry.file_type().map_err(io)?.is_dir() {
                tracing::info!(
                    generation = name,
                    "removing a projection generation no longer listed"
                );
                Self::remove(&entry.path())?;
            }
        }
        Ok(())
    }
}

/// Makes the names of the sled store just opened in `dir` durable: the files sled created
/// in it, and `dir` itself in its parent. sled syncs no directory, and before this a power
/// cut took away every projection store made since the data directory was created: each
/// restart replayed every projection from zero.
pub(crate) fn sync_names(dir: &Path) -> Result<(), ProjectionError> {
    let sync = |dir: &Path| {
        sparkfeed_eventlog::durable::sync_dir(dir)
            .map_err(|e| ProjectionError::Store(sled::Error::Io(e)))
    };
    sync(dir)?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync(parent),
        _ => sync(Path::new(".")),
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        // Close the store first (flushing it), then remove its files if retired.
        drop(self.db.take());
        if self.retired.load(Ordering::SeqCst)
            && let Err(e) = std::fs::remove_dir_all(&self.dir)
        {
            tracing::warn!(dir = %self.dir.display(), error = %e, "a retired projection generation was not removed");
        }
    }
}

/// The active tree of one projection with its row cache, swappable by a rebuild (the
/// fresh tree comes with its own cache, so no row of the old tree is ever served from it).
#[derive(Clone)]
pub struct Slot(Arc<RwLock<View>>);

impl Slot {
    pub(crate) fn new(view: View) -> Self {
        Self(Arc::new(RwLock::new(view)))
    }

    /// The tree serving reads now (a cheap handle).
    pub fn tree(&self) -> sled::Tree {
        self.view().tree().clone()
    }

    /// The tree serving reads now, with its row cache (cheap handles).
    pub fn view(&self) -> View {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn swap(&self, view: View) -> View {
        let mut guard = self.0.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *guard, view)
    }

    /// Where the active tree's projection has got to ([`View::checkpoint`]).
    pub fn checkpoint(&self) -> Result<Position, ProjectionError> {
        self.view().checkpoint()
    }
}

/// The checkpoint stored in `tree` (0 when it has applied nothing).
pub fn checkpoint(tree: &sled::Tree) -> Result<Position, ProjectionError> {
    match tree.get(CHECKPOINT)? {
        None => Ok(Position::START),
        Some(v) => v
            .as_ref()
            .try_into()
            .map(|b| Position(u64::from_be_bytes(b)))
            .map_err(|_| ProjectionError::Corrupt("malformed checkpoint".into())),
    }
}

/// The writes of one batch, readable before they are committed.
///
/// Held in a hash map, not a sorted one: a rebuild reads and rewrites about three rows per
/// event, and a map of a million keys compared byte by byte at every level cost more than
/// sorting the rows once when they are written out.
///
/// A row changed through [`Rows::change`] stays decoded until the rows are written out:
/// a member's signals or a post's stats change at every engagement, and decoding and
/// encoding the whole row each time was most of a rebuild's CPU (the `foryou` rebuild
/// spent about 35 CPU s per million events on it).
pub struct Rows<'a> {
    tree: &'a sled::Tree,
    cache: &'a RowCache,
    /// The store committed to, synced after each commit (none for a bare tree).
    generation: Option<&'a Generation>,
    /// Hashed with a per-process random seed: keys hold client-chosen ids, and a fixed
    /// hash would let someone choose ids that collide and slow every rebuild.
    pending: HashMap<Vec<u8>, Pending, foldhash::fast::RandomState>,
    /// About how much memory `pending` holds.
    bytes: usize,
    /// What the projection keeps in memory beside these rows ([`Rows::take_memo`]).
    memo: Option<Box<dyn Any + Send>>,
    /// The keys of `pending` written through [`Rows::change_ordered`], sorted: what
    /// [`Rows::last_in`] sees of this batch. Emptied with `pending`.
    ordered: BTreeSet<Vec<u8>>,
    /// A replay's rows written whole since its last spill ([`Rows::spill_unserved`]): the
    /// keys `put` or `delete`d, and about how many bytes they came to. `None` for the rows
    /// of a live batch, which are committed together.
    whole: Option<(Vec<Vec<u8>>, usize)>,
    /// Rows being written to an unserved tree in the background, read from there until
    /// written; at most one batch at a time.
    in_flight: Option<InFlight>,
    /// A live projection's rows kept decoded since its last batches ([`Rows::live`]).
    warm: Option<Warm>,
    /// How many times a replay has made room in its buffer ([`Rows::make_room_unserved`]).
    rooms_made: u32,
}

/// Rows written whole, on their way to an unserved tree on a thread of their own
/// ([`Rows::spill_unserved`]).
///
/// Invariant: they hold no row of a range that [`Rows::last_in`] searches: those rows are
/// changed in place ([`Rows::change_ordered`]), never written whole, so the seek needs
/// only the pending rows and the tree.
struct InFlight {
    /// Sorted by key, each key once.
    rows: Arc<Vec<EncodedRow>>,
    /// What they are counted as in [`Rows::buffered_bytes`] until they are written.
    bytes: usize,
    writer: Option<std::thread::JoinHandle<Result<(), ProjectionError>>>,
}

impl InFlight {
    /// Starts writing `rows` (sorted by key, each key once) to `tree`.
    fn start(
        tree: &sled::Tree,
        rows: Vec<EncodedRow>,
        bytes: usize,
    ) -> Result<Self, ProjectionError> {
        let rows = Arc::new(rows);
        let writer = {
            let (tree, rows) = (tree.clone(), Arc::clone(&rows));
            std::thread::Builder::new()
                .name("sparkfeed-spill".into())
                .spawn(move || write_rows(&tree, &rows))
                .map_err(|e| ProjectionError::Store(sled::Error::Io(e)))?
        };
        Ok(Self {
            rows,
            bytes,
            writer: Some(writer),
        })
    }

    /// The row at `key` among these (`Some(None)`: removed), if it is one of them.
    fn find(&self, key: &[u8]) -> Option<&Option<Vec<u8>>> {
        let at = self
            .rows
            .binary_search_by(|(k, _)| k.as_slice().cmp(key))
            .ok()?;
        self.rows.get(at).map(|(_, value)| value)
    }

    /// Whether every row is written (or the writer stopped).
    fn is_done(&self) -> bool {
        self.writer.as_ref().is_none_or(|w| w.is_finished())
    }

    /// Waits until every row is written.
    fn finish(mut self) -> Result<(), ProjectionError> {
        match self.writer.take() {
            Some(writer) => writer
                .join()
                .map_err(|_| ProjectionError::Corrupt("a row writer panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for InFlight {
    /// A replay that failed still waits for its writer: nothing writes to the tree after.
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Writes `rows` to `tree`, one insert or removal each, in their order.
fn write_rows(tree: &sled::Tree, rows: &[EncodedRow]) -> Result<(), ProjectionError> {
    for (key, value) in rows {
        match value {
            Some(v) => tree.insert(key.as_slice(), v.as_slice())?,
            None => tree.remove(key.as_slice())?,
        };
    }
    Ok(())
}

/// A row to write: its key, and its bytes (`None`: removed).
type EncodedRow = (Vec<u8>, Option<Vec<u8>>);

/// A row written in this batch: encoded, or still decoded (see [`Rows::change`]).
enum Pending {
    /// The encoded row, or `None` for a removed one.
    Encoded(Option<Vec<u8>>),
    /// A decoded `Option<T>` (`None`: removed), encoded when the rows are written out;
    /// the bytes it is counted at (what it held after its last change); and how many
    /// times a replay had made room when it last changed ([`Rows::make_room_unserved`]).
    Decoded(Box<dyn DecodedRow>, usize, u32),
}

/// A decoded pending row, whatever its type.
pub(crate) trait DecodedRow: Send {
    /// The row's bytes (`None`: removed).
    fn encode(&self) -> Result<Option<Vec<u8>>, ProjectionError>;
    /// Whether the row is there (not removed).
    fn present(&self) -> bool;
    /// For [`Rows::change`] to find its own type again.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// For [`Rows::change`] to take its own type back from [`Warm`].
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<T: Serialize + Send + 'static> DecodedRow for Option<T> {
    fn encode(&self) -> Result<Option<Vec<u8>>, ProjectionError> {
        self.as_ref().map(encode).transpose()
    }

    fn present(&self) -> bool {
        self.is_some()
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

impl Pending {
    fn encoded(self) -> Result<Option<Vec<u8>>, ProjectionError> {
        match self {
            Pending::Encoded(bytes) => Ok(bytes),
            Pending::Decoded(row, ..) => row.encode(),
        }
    }
}

/// What a row at `key` holding `held` bytes decoded is counted at.
fn decoded_size(key: &[u8], held: usize) -> usize {
    key.len() + held + PENDING_ROW_OVERHEAD
}

/// What the pending row at `key` is counted as in [`Rows::buffered_bytes`].
fn counted(key: &[u8], row: &Pending) -> usize {
    match row {
        Pending::Encoded(v) => key.len() + v.as_ref().map_or(0, Vec::len) + PENDING_ROW_OVERHEAD,
        Pending::Decoded(_, counted, _) => *counted,
    }
}

/// From this many rows on, [`Rows::write_unserved`] writes with two threads.
const PARALLEL_WRITE_ROWS: usize = 4_096;

/// A replay sends its rows written whole to be written in the background once they come
/// to this share of its buffer ([`Rows::spill_unserved`]), at most [`MAX_SPILL_BYTES`].
const SPILL_SHARE: usize = 16;

/// See [`SPILL_SHARE`].
const MAX_SPILL_BYTES: usize = 4 << 20;

/// What one pending row costs beside its key and value bytes (two vectors, the map's
/// share of a node, the allocator's headers), as a round estimate.
const PENDING_ROW_OVERHEAD: usize = 96;

impl<'a> Rows<'a> {
    pub(crate) fn new(view: &'a View) -> Self {
        Self {
            tree: view.tree(),
            cache: view.cache(),
            generation: view.generation(),
            pending: HashMap::default(),
            bytes: 0,
            memo: None,
            ordered: BTreeSet::new(),
            whole: None,
            in_flight: None,
            warm: None,
            rooms_made: 0,
        }
    }

    /// The rows of a live batch into `view`, the tree served: a row changed in place is
    /// taken from `warm` when kept there, not read and decoded again, and [`Rows::commit`]
    /// hands `warm` back with this batch's rows changed in place.
    pub(crate) fn live(view: &'a View, warm: Option<Warm>) -> Self {
        Self {
            warm,
            ..Self::new(view)
        }
    }

    /// The rows of a replay into `view`, an unserved tree: rows written whole are sent to
    /// be written in the background as they come ([`Rows::spill_unserved`]).
    pub(crate) fn unserved(view: &'a View) -> Self {
        Self {
            whole: Some((Vec::new(), 0)),
            ..Self::new(view)
        }
    }

    /// Takes out what the projection keeps in memory beside these rows for as long as
    /// they are being written: one live batch, or a whole replay, across its write-outs.
    /// An `M` of its default when there is none yet (or the one there is another type).
    /// Hand it back with [`Rows::keep_memo`]; in between, the rows can be changed freely.
    ///
    /// Invariant: a memo only caches what the rows hold. Every fact in it was written to
    /// a row too, or read from one, so a memo lost at any point (an error between take
    /// and keep, a new batch) changes no row: the projection reads the row instead. A
    /// replay uses it to skip a row read back through `pending` or sled at every event.
    pub fn take_memo<M: Default + Send + 'static>(&mut self) -> Box<M> {
        self.memo
            .take()
            .and_then(|memo| memo.downcast::<M>().ok())
            .unwrap_or_default()
    }

    /// Hands back the memo taken with [`Rows::take_memo`].
    pub fn keep_memo<M: Send + 'static>(&mut self, memo: Box<M>) {
        self.memo = Some(memo);
    }

    /// The row at `key`, seeing this batch's own writes.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ProjectionError> {
        match self.pending.get(key) {
            Some(Pending::Encoded(Some(v))) => decode(v).map(Some),
            Some(Pending::Encoded(None)) => Ok(None),
            // Rare: a row changed in place is read as a value of its own.
            Some(Pending::Decoded(row, ..)) => row.encode()?.map(|v| decode(&v)).transpose(),
            None => match self.in_flight.as_ref().and_then(|f| f.find(key)) {
                Some(written) => written.as_deref().map(decode).transpose(),
                None => self.tree.get(key)?.map(|v| decode(&v)).transpose(),
            },
        }
    }

    /// Whether a row exists at `key`.
    pub fn contains(&self, key: &[u8]) -> Result<bool, ProjectionError> {
        match self.pending.get(key) {
            Some(Pending::Encoded(v)) => Ok(v.is_some()),
            Some(Pending::Decoded(row, ..)) => Ok(row.present()),
            None => match self.in_flight.as_ref().and_then(|f| f.find(key)) {
                Some(written) => Ok(written.is_some()),
                None => Ok(self.tree.contains_key(key)?),
            },
        }
    }

    /// Sets the row at `key`.
    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), ProjectionError> {
        self.pend(key, Some(encode(value)?));
        Ok(())
    }

    /// Sets the row at `key` to `value`, held decoded as [`Rows::change`] holds a row: for
    /// a row the next events change in place (a new post's stats).
    pub fn put_in_place<T>(&mut self, key: Vec<u8>, value: T)
    where
        T: Serialize + DeserializeOwned + HeapSize + Send + 'static,
    {
        let size = decoded_size(&key, held(&value));
        self.account(&key, size);
        self.pending.insert(
            key,
            Pending::Decoded(Box::new(Some(value)), size, self.rooms_made),
        );
    }

    /// Removes the row at `key`.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.pend(key, None);
    }

    /// Changes the row at `key` in place (`None`: absent; left `None`, it is removed) and
    /// answers what `change` answered. The row is decoded at its first change in this
    /// batch and encoded once when the rows are written out, however often it changes
    /// in between: a row must be read and written through this alone to get that.
    ///
    /// Invariant: the row is counted in [`Rows::buffered_bytes`] at what it holds after
    /// this change ([`HeapSize`]), not at what it held when first decoded: rows held
    /// across a replay grow (a member's signals, from nothing to hundreds of ids).
    pub fn change<T, A>(
        &mut self,
        key: Vec<u8>,
        change: impl FnOnce(&mut Option<T>) -> A,
    ) -> Result<A, ProjectionError>
    where
        T: Serialize + DeserializeOwned + HeapSize + Send + 'static,
    {
        self.change_counted(key, change, |row: &Option<T>| row.as_ref().map_or(0, held))
    }

    /// [`Rows::change`], for a row that [`Rows::last_in`] must find: a bucket of a list
    /// ([`crate::bucket`]). `bytes` answers about how much memory the changed row holds.
    ///
    /// Invariant: a row under a range that `last_in` searches is written through this
    /// alone (never `put` or `delete`), or a seek would miss it in this batch.
    pub(crate) fn change_ordered<T, A>(
        &mut self,
        key: Vec<u8>,
        change: impl FnOnce(&mut Option<T>) -> A,
        bytes: impl FnOnce(&Option<T>) -> usize,
    ) -> Result<A, ProjectionError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        if !self.ordered.contains(&key) {
            self.ordered.insert(key.clone());
        }
        self.change_counted(key, change, bytes)
    }

    /// [`Rows::change`], the row counted at what `bytes` answers it holds once changed.
    fn change_counted<T, A>(
        &mut self,
        key: Vec<u8>,
        change: impl FnOnce(&mut Option<T>) -> A,
        bytes: impl FnOnce(&Option<T>) -> usize,
    ) -> Result<A, ProjectionError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        if let Some(Pending::Decoded(row, counted, changed)) = self.pending.get_mut(&key)
            && let Some(value) = row.as_any_mut().downcast_mut::<Option<T>>()
        {
            let answer = change(value);
            let size = decoded_size(&key, bytes(value));
            self.bytes = self.bytes.saturating_sub(*counted) + size;
            *counted = size;
            *changed = self.rooms_made;
            return Ok(answer);
        }
        let taken_warm = if self.pending.contains_key(&key) {
            None
        } else {
            self.warm.as_mut().and_then(|warm| warm.take(&key))
        };
        let mut value: Box<Option<T>> =
            match taken_warm.map(|(row, _)| row.into_any().downcast::<Option<T>>()) {
                Some(Ok(value)) => value,
                // Not kept, or kept as another type: read from where it is now (this batch's
                // writes, rows in flight, the tree), which holds the same row.
                Some(Err(_)) | None => Box::new(self.get(&key)?),
            };
        let answer = change(&mut value);
        let size = decoded_size(&key, bytes(&value));
        self.account(&key, size);
        self.pending
            .insert(key, Pending::Decoded(value, size, self.rooms_made));
        Ok(answer)
    }

    /// The greatest key in `low..=high` that holds a row, seeing this batch's writes
    /// (those made through [`Rows::change_ordered`]: see its invariant).
    pub(crate) fn last_in(
        &self,
        low: &[u8],
        high: &[u8],
    ) -> Result<Option<Vec<u8>>, ProjectionError> {
        let present = |pending: &Pending| match pending {
            Pending::Encoded(v) => v.is_some(),
            Pending::Decoded(row, ..) => row.present(),
        };
        let mut last = self
            .ordered
            .range::<[u8], _>((Bound::Included(low), Bound::Included(high)))
            .rev()
            .find(|k| self.pending.get(k.as_slice()).is_some_and(present))
            .cloned();
        for stored in self.tree.range(low..=high).rev() {
            let (k, _) = stored?;
            if last.as_deref().is_some_and(|l| l >= k.as_ref()) {
                break;
            }
            // Removed in this batch: look further; changed in it: there all the same.
            if self.pending.get(k.as_ref()).is_none_or(present) {
                last = Some(k.to_vec());
                break;
            }
        }
        Ok(last)
    }

    fn pend(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let size = key.len() + value.as_ref().map_or(0, Vec::len) + PENDING_ROW_OVERHEAD;
        self.account(&key, size);
        if let Some((keys, bytes)) = &mut self.whole {
            keys.push(key.clone());
            *bytes += size;
        }
        self.pending.insert(key, Pending::Encoded(value));
    }

    /// Counts a row of `size` bytes at `key`, replacing what the row there counted.
    fn account(&mut self, key: &[u8], size: usize) {
        let old = self.pending.get(key).map_or(0, |row| counted(key, row));
        self.bytes = self.bytes.saturating_sub(old) + size;
    }

    /// The pending rows, every one encoded.
    fn take_encoded(&mut self) -> Result<Vec<EncodedRow>, ProjectionError> {
        self.take_pending()
            .into_iter()
            .map(|(key, row)| Ok((key, row.encoded()?)))
            .collect()
    }

    /// The pending rows as they are, leaving none (nor their count, order or spill list).
    fn take_pending(&mut self) -> HashMap<Vec<u8>, Pending, foldhash::fast::RandomState> {
        self.bytes = 0;
        self.ordered.clear();
        self.take_whole();
        std::mem::take(&mut self.pending)
    }

    /// About how much memory the rows not yet written hold.
    pub(crate) fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Writes the rows in key order, one insert each, then the checkpoint `next`: for a
    /// tree nobody reads yet (a rebuild's fresh generation), where a half-written batch is
    /// never seen. A rebuild that fails or is killed leaves its tree unswapped, and the
    /// next rebuild starts it over. One sled batch applies its keys in hash order, which
    /// walks the tree at random; in key order consecutive inserts land on the same leaves.
    ///
    /// Many rows are written by two threads, each over its own half of the key range: the
    /// replay's reader stops once it is a few batches ahead (`READ_AHEAD` in
    /// `runner::replay`), so the second core is mostly free meanwhile.
    ///
    /// The tree's row cache is left alone: nobody has read through it (the tree is not
    /// served), so it holds nothing to forget.
    pub(crate) fn write_unserved(&mut self, next: Position) -> Result<(), ProjectionError> {
        self.finish_writes()?;
        let pending = self.take_encoded()?;
        self.write_sorted(pending)?;
        self.tree.insert(CHECKPOINT, &next.0.to_be_bytes())?;
        Ok(())
    }

    /// Makes room in a replay's full buffer, for a tree nobody reads yet: writes out the
    /// rows written whole (`put`, `delete`: a card, a comment, mostly written once) and
    /// keeps the rows changed in place ([`Rows::change`]: a post's stats, a member's
    /// signals, a list's head), which the next events change again, while they hold at
    /// most half of `limit`. Past that, the rows changed in place that did not change since
    /// room was last made go out too (a post's stats once its engagement has moved on to
    /// newer posts), and if that is not enough, every row.
    ///
    /// A row written out and changed again is read back from sled and written again: with
    /// every row written at each write-out, a post's stats were written once per write-out
    /// (three to five times over a million events) and read back as often.
    ///
    /// No checkpoint is written: rows past the tree's checkpoint sit in it meanwhile,
    /// which is fine for a tree that is swapped in only after its last
    /// [`Rows::write_unserved`] and otherwise thrown away (a rebuild starts over).
    pub(crate) fn make_room_unserved(&mut self, limit: usize) -> Result<(), ProjectionError> {
        self.finish_writes()?;
        let last_room = self.rooms_made;
        self.rooms_made = self.rooms_made.wrapping_add(1);
        let whole: Vec<(Vec<u8>, Pending)> = self
            .pending
            .extract_if(|_, row| matches!(row, Pending::Encoded(_)))
            .collect();
        let mut rows = Vec::with_capacity(whole.len());
        for (key, row) in whole {
            self.bytes = self.bytes.saturating_sub(counted(&key, &row));
            rows.push((key, row.encoded()?));
        }
        if self.bytes > limit / 2 {
            let cold: Vec<(Vec<u8>, Pending)> = self
                .pending
                .extract_if(
                    |_, row| matches!(row, Pending::Decoded(.., changed) if *changed != last_room),
                )
                .collect();
            for (key, row) in cold {
                self.bytes = self.bytes.saturating_sub(counted(&key, &row));
                rows.push((key, row.encoded()?));
            }
        }
        self.ordered.retain(|k| self.pending.contains_key(k));
        self.take_whole();
        if self.bytes > limit / 2 {
            rows.extend(self.take_encoded()?);
        }
        self.write_sorted(rows)
    }

    /// Sends a replay's rows written whole since its last spill to be written to its tree
    /// in the background, once they come to a sixteenth of `limit` (the replay buffer; at
    /// most 4 MiB) and the rows sent before are written; otherwise does nothing. Meanwhile
    /// they are read from where they wait.
    ///
    /// A replay's log reader keeps one core busy at most part of the time: the rows written
    /// once and never changed again (a card, a comment, a post's facts) are written by the
    /// other meanwhile, not all by the applying thread at the end or when the buffer fills.
    /// Rows in flight count in [`Rows::buffered_bytes`] until they are written, so the rows
    /// pending and those in flight together stay within the buffer.
    pub(crate) fn spill_unserved(&mut self, limit: usize) -> Result<(), ProjectionError> {
        let due = (limit / SPILL_SHARE).min(MAX_SPILL_BYTES);
        match &self.whole {
            Some((_, bytes)) if *bytes >= due && *bytes > 0 => {}
            _ => return Ok(()),
        }
        if self.in_flight.as_ref().is_some_and(|f| !f.is_done()) {
            return Ok(());
        }
        self.finish_writes()?;
        let keys = self.take_whole();
        let (mut rows, mut bytes) = (Vec::with_capacity(keys.len()), 0);
        for key in keys {
            // Taken once (a key put twice is listed twice), and only if still written
            // whole: a row changed in place since stays.
            if let Some(Pending::Encoded(_)) = self.pending.get(&key)
                && let Some((key, row)) = self.pending.remove_entry(&key)
            {
                bytes += counted(&key, &row);
                rows.push((key, row.encoded()?));
            }
        }
        if rows.is_empty() {
            return Ok(());
        }
        debug_assert!(self.cache.is_empty(), "an unserved tree's cache was read");
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.in_flight = Some(InFlight::start(self.tree, rows, bytes)?);
        Ok(())
    }

    /// The keys listed as written whole since the last spill, the list started over (none
    /// for a live batch's rows).
    fn take_whole(&mut self) -> Vec<Vec<u8>> {
        self.whole
            .as_mut()
            .map(|(keys, bytes)| {
                *bytes = 0;
                std::mem::take(keys)
            })
            .unwrap_or_default()
    }

    /// Waits until the rows sent to be written in the background are written, and stops
    /// counting them.
    pub(crate) fn finish_writes(&mut self) -> Result<(), ProjectionError> {
        match self.in_flight.take() {
            Some(in_flight) => {
                self.bytes = self.bytes.saturating_sub(in_flight.bytes);
                in_flight.finish()
            }
            None => Ok(()),
        }
    }

    /// Writes `pending` in key order (see [`Rows::write_unserved`]).
    fn write_sorted(&self, mut pending: Vec<EncodedRow>) -> Result<(), ProjectionError> {
        debug_assert!(self.cache.is_empty(), "an unserved tree's cache was read");
        pending.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let tree = self.tree;
        let write = |rows: &[EncodedRow]| write_rows(tree, rows);
        if pending.len() >= PARALLEL_WRITE_ROWS {
            let (low, high) = pending.split_at(pending.len() / 2);
            std::thread::scope(|scope| {
                let high = std::thread::Builder::new()
                    .name("sparkfeed-write".into())
                    .spawn_scoped(scope, || write(high))
                    .map_err(|e| ProjectionError::Store(sled::Error::Io(e)))?;
                let low = write(low);
                let high = high
                    .join()
                    .map_err(|_| ProjectionError::Corrupt("a row writer panicked".into()))?;
                low.and(high)
            })?;
        } else {
            write(&pending)?;
        }
        Ok(())
    }

    /// Whether these rows hold no change at all: committing them would write the
    /// checkpoint alone.
    pub(crate) fn unchanged(&self) -> bool {
        self.pending.is_empty() && self.in_flight.is_none()
    }

    /// Ends a batch that changed no row ([`Rows::unchanged`]) without writing anything;
    /// answers the warm rows of [`Rows::live`], as they were.
    pub(crate) fn into_warm(mut self) -> Option<Warm> {
        debug_assert!(self.unchanged(), "rows dropped unwritten");
        self.warm.take()
    }

    /// Commits the rows and the checkpoint `next` in one atomic batch, then makes the row
    /// cache forget the rows written (see [`crate::cache`] for why in this order), then
    /// makes the store durable ([`Generation::sync`]).
    ///
    /// Answers the warm rows of [`Rows::live`], which now hold this batch's rows changed
    /// in place, decoded, and no longer any row it wrote whole; an error drops them.
    pub(crate) fn commit(mut self, next: Position) -> Result<Option<Warm>, ProjectionError> {
        self.finish_writes()?;
        let mut warm = self.warm.take();
        let pending = self.take_pending();
        let mut batch = sled::Batch::default();
        let mut written = Vec::with_capacity(pending.len());
        let mut kept = Vec::new();
        for (key, row) in pending {
            let value = match row {
                Pending::Encoded(value) => {
                    if let Some(warm) = &mut warm {
                        warm.forget(&key);
                    }
                    value
                }
                Pending::Decoded(row, size, _) => {
                    let value = row.encode()?;
                    if warm.is_some() {
                        kept.push((key.clone(), row, size));
                    }
                    value
                }
            };
            match &value {
                Some(v) => batch.insert(key.as_slice(), v.as_slice()),
                None => batch.remove(key.as_slice()),
            }
            written.push(key);
        }
        batch.insert(CHECKPOINT, &next.0.to_be_bytes());
        let applied = self.tree.apply_batch(batch);
        // Forgotten even if the batch failed: sled may have applied part of it in memory.
        self.cache.invalidate(written.iter().map(Vec::as_slice));
        applied?;
        if let Some(generation) = self.generation {
            generation.sync()?;
        }
        if let Some(warm) = &mut warm {
            for (key, row, size) in kept {
                warm.keep(key, row, size);
            }
        }
        Ok(warm)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The `layout` projection's generation `generation` under `root`, opened.
    pub(crate) fn generation(root: &Path, generation: u64) -> Arc<Generation> {
        Generation::open(Generation::dir(root, "layout", generation), 1 << 20).expect("opens")
    }

    #[test]
    fn a_retired_generation_is_removed_once_its_last_reader_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let old = generation(dir.path(), 4);
        old.tree().insert("row", "served").expect("insert");
        let reader = View::of(Arc::clone(&old));
        old.retire();
        drop(old);
        let path = Generation::dir(dir.path(), "layout", 4);
        assert!(path.exists(), "a reader still holds it");
        assert_eq!(
            reader.row(b"row").expect("reads"),
            Some(sled::IVec::from("served"))
        );
        drop(reader);
        assert!(!path.exists(), "gone with its last reader");

        let kept = generation(dir.path(), 5);
        drop(kept);
        assert!(
            Generation::dir(dir.path(), "layout", 5).exists(),
            "a generation never retired stays"
        );
    }

    /// Whether a thread of this process is named `name` (as the kernel shows it: at most
    /// 15 bytes).
    fn thread_named(name: &str) -> bool {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return false;
        };
        tasks.flatten().any(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim_end() == name.get(..15).unwrap_or(name))
        })
    }

    #[test]
    fn a_store_still_locked_by_a_handle_just_dropped_opens_once_it_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = Generation::dir(dir.path(), "layout", 1);
        drop(Generation::open(path.clone(), 1 << 20).expect("creates"));
        // What sled's IO thread does for a moment after the last handle is dropped.
        let held = File::open(path.join("db")).expect("opens the data file");
        held.lock().expect("locks");
        let opener = std::thread::spawn(move || Generation::open(path, 1 << 20).map(drop));
        // Let go once the open waits for the lock (bounded: a slow machine, not a hang).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !thread_named("sparkfeed-sled-close") && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert!(
            thread_named("sparkfeed-sled-close"),
            "the open waits for the lock"
        );
        held.unlock().expect("unlocks");
        opener
            .join()
            .expect("the opener ran")
            .expect("opened once the lock was let go");
    }

    #[test]
    fn a_row_changed_in_place_reads_and_commits_like_one_put_and_got() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = generation(dir.path(), 1);
        store
            .tree()
            .insert("kept", encode(&7u32).expect("encodes"))
            .expect("insert");
        let view = View::of(Arc::clone(&store));
        let mut rows = Rows::new(&view);

        let bump = |n: &mut Option<u32>| {
            *n = Some(n.unwrap_or(0) + 1);
            n.unwrap_or(0)
        };
        assert_eq!(rows.change(b"kept".to_vec(), bump).expect("changes"), 8);
        assert_eq!(rows.change(b"kept".to_vec(), bump).expect("changes"), 9);
        assert_eq!(rows.get::<u32>(b"kept").expect("reads"), Some(9));
        assert_eq!(rows.change(b"new".to_vec(), bump).expect("changes"), 1);
        rows.change(b"gone".to_vec(), |n: &mut Option<u32>| *n = None)
            .expect("changes");
        assert!(!rows.contains(b"gone").expect("reads"));

        // A put or a delete after a change wins, and a change after a put starts from it.
        rows.put(b"new".to_vec(), &40u32).expect("puts");
        assert_eq!(rows.change(b"new".to_vec(), bump).expect("changes"), 41);
        rows.change(b"put-then-deleted".to_vec(), bump)
            .expect("changes");
        rows.delete(b"put-then-deleted".to_vec());
        // Read as another type, the row is decoded from its bytes.
        assert_eq!(rows.get::<u32>(b"new").expect("reads"), Some(41));
        assert!(rows.buffered_bytes() > 0);

        rows.commit(Position(5)).expect("commits");
        let read = |key: &[u8]| -> Option<u32> {
            store
                .tree()
                .get(key)
                .expect("reads")
                .map(|v| decode(&v).expect("decodes"))
        };
        assert_eq!(read(b"kept"), Some(9));
        assert_eq!(read(b"new"), Some(41));
        assert_eq!(read(b"gone"), None);
        assert_eq!(read(b"put-then-deleted"), None);
        assert_eq!(checkpoint(&store.tree()).expect("reads"), Position(5));
    }

    #[test]
    fn a_row_changed_in_place_is_counted_at_what_it_holds_now_not_when_first_decoded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = generation(dir.path(), 1);
        let view = View::of(Arc::clone(&store));
        let mut rows = Rows::unserved(&view);
        let grow = |by: u64| {
            move |row: &mut Option<Vec<u64>>| row.get_or_insert_with(Vec::new).extend(0..by)
        };
        let key = b"signals".to_vec();
        rows.change(key.clone(), grow(1)).expect("changes");
        let first = rows.buffered_bytes();
        for _ in 0..100 {
            rows.change(key.clone(), grow(100)).expect("changes");
        }
        let grown = rows.buffered_bytes();
        assert!(
            grown >= first + 100 * 100 * 8,
            "10,001 u64s counted at {grown} bytes (first {first})"
        );
        rows.change(key.clone(), |row: &mut Option<Vec<u64>>| {
            *row = Some(Vec::new());
        })
        .expect("changes");
        assert!(rows.buffered_bytes() <= first, "shrunk: counted down");

        // A row put to be changed in place is counted the same way from the start.
        rows.put_in_place(b"stats".to_vec(), vec![7u64; 1000]);
        assert!(rows.buffered_bytes() >= first + 1000 * 8);

        // Grown past half the buffer, rows changed in place go out when it is full.
        rows.change(key.clone(), grow(5_000)).expect("changes");
        rows.make_room_unserved(64 << 10).expect("makes room");
        rows.finish_writes().expect("written");
        assert!(
            store.tree().contains_key(&key).expect("reads"),
            "written out"
        );
        assert_eq!(rows.buffered_bytes(), 0);
        assert_eq!(
            rows.get::<Vec<u64>>(&key).expect("reads").map(|v| v.len()),
            Some(5_000)
        );
    }

    #[test]
    fn making_room_writes_the_rows_written_whole_and_keeps_those_changed_in_place_while_they_fit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = generation(dir.path(), 1);
        let view = View::of(Arc::clone(&store));
        let mut rows = Rows::new(&view);
        let bump = |n: &mut Option<u32>| *n = Some(n.unwrap_or(0) + 1);
        rows.put(b"card".to_vec(), &1u32).expect("puts");
        rows.change(b"stats".to_vec(), bump).expect("changes");
        let in_tree = |key: &[u8]| store.tree().contains_key(key).expect("reads");

        rows.make_room_unserved(1 << 20).expect("makes room");
        rows.finish_writes().expect("written");
        assert!(in_tree(b"card"), "written whole: out");
        assert!(!in_tree(b"stats"), "changed in place: kept");
        assert!(!in_tree(CHECKPOINT), "no checkpoint before the end");
        rows.change(b"stats".to_vec(), bump).expect("changes");
        assert_eq!(rows.get::<u32>(b"card").expect("reads"), Some(1));
        assert_eq!(rows.get::<u32>(b"stats").expect("reads"), Some(2));

        // Rows changed in place holding more than half the buffer go out too.
        rows.make_room_unserved(0).expect("makes room");
        assert!(in_tree(b"stats"));
        assert_eq!(rows.buffered_bytes(), 0);
        rows.change(b"stats".to_vec(), bump).expect("changes");
        rows.write_unserved(Position(9)).expect("writes");
        let stats: u32 =
            decode(&store.tree().get(b"stats").expect("reads").expect("row")).expect("decodes");
        assert_eq!(stats, 3);
        assert_eq!(checkpoint(&store.tree()).expect("reads"), Position(9));
    }

    #[test]
    fn past_half_the_buffer_the_rows_changed_in_place_that_went_cold_go_out_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = generation(dir.path(), 1);
        let view = View::of(Arc::clone(&store));
        let mut rows = Rows::unserved(&view);
        let fill = |row: &mut Option<Vec<u64>>| *row = Some(vec![1; 1000]);
        let in_tree = |key: &[u8]| store.tree().contains_key(key).expect("reads");
        rows.change(b"cold".to_vec(), fill).expect("changes");
        rows.change(b"hot".to_vec(), fill).expect("changes");
        rows.make_room_unserved(64 << 10).expect("makes room");
        assert!(
            !in_tree(b"cold") && !in_tree(b"hot"),
            "within half: both kept"
        );

        // Only `hot` changes before room is made again, past half the buffer.
        rows.change(b"hot".to_vec(), |row: &mut Option<Vec<u64>>| {
            row.get_or_insert_with(Vec::new).push(2);
        })
        .expect("changes");
        rows.make_room_unserved(40 << 10).expect("makes room");
        rows.finish_writes().expect("written");
        assert!(
            in_tree(b"cold"),
            "not changed since room was last made: out"
        );
        assert!(!in_tree(b"hot"), "changed since: kept, now within half");
        assert_eq!(
            rows.get::<Vec<u64>>(b"hot")
                .expect("reads")
                .map(|v| v.len()),
            Some(1001)
        );

        // Still past half with the cold ones gone: every row goes out.
        rows.make_room_unserved(4 << 10).expect("makes room");
        assert!(in_tree(b"hot"));
        assert_eq!(rows.buffered_bytes(), 0);
    }

    #[test]
    fn a_replay_sends_its_rows_written_whole_to_be_written_once_they_come_to_a_share_of_its_buffer()
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = generation(dir.path(), 1);
        store
            .tree()
            .insert("removed", encode(&5u32).expect("encodes"))
            .expect("insert");
        let view = View::of(Arc::clone(&store));
        let mut rows = Rows::unserved(&view);
        let bump = |n: &mut Option<u32>| *n = Some(n.unwrap_or(0) + 1);
        rows.put(b"card".to_vec(), &1u32).expect("puts");
        rows.delete(b"removed".to_vec());
        rows.put(b"then-changed".to_vec(), &10u32).expect("puts");
        rows.change(b"then-changed".to_vec(), bump)
            .expect("changes");
        let in_tree = |key: &[u8]| store.tree().contains_key(key).expect("reads");

        rows.spill_unserved(64 << 20).expect("spills");
        rows.finish_writes().expect("written");
        assert!(
            !in_tree(b"card"),
            "a sixteenth of the buffer not reached: kept"
        );

        rows.spill_unserved(1 << 10).expect("spills");
        rows.finish_writes().expect("written");
        assert!(in_tree(b"card"), "written whole: out");
        assert!(!in_tree(b"removed"), "removed: out");
        assert!(!in_tree(b"then-changed"), "changed in place since: kept");
        assert_eq!(rows.get::<u32>(b"card").expect("reads"), Some(1));
        assert_eq!(rows.get::<u32>(b"then-changed").expect("reads"), Some(11));

        rows.write_unserved(Position(4)).expect("writes");
        let changed: u32 = decode(
            &store
                .tree()
                .get(b"then-changed")
                .expect("reads")
                .expect("row"),
        )
        .expect("decodes");
        assert_eq!(changed, 11);
    }

    #[test]
    fn rows_on_their_way_to_the_tree_are_read_from_where_they_wait() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = generation(dir.path(), 1);
        for (key, n) in [("card", 1u32), ("removed", 5), ("other", 7)] {
            store
                .tree()
                .insert(key, encode(&n).expect("encodes"))
                .expect("insert");
        }
        let view = View::of(Arc::clone(&store));
        let mut rows = Rows::unserved(&view);
        // Held as if its writer had not got to them yet.
        rows.in_flight = Some(InFlight {
            rows: Arc::new(vec![
                (b"card".to_vec(), Some(encode(&2u32).expect("encodes"))),
                (b"new".to_vec(), Some(encode(&3u32).expect("encodes"))),
                (b"removed".to_vec(), None),
            ]),
            bytes: 0,
            writer: None,
        });
        assert_eq!(rows.get::<u32>(b"card").expect("reads"), Some(2));
        assert_eq!(rows.get::<u32>(b"new").expect("reads"), Some(3));
        assert_eq!(rows.get::<u32>(b"removed").expect("reads"), None);
        assert!(!rows.contains(b"removed").expect("reads"));
        assert!(rows.contains(b"new").expect("reads"));
        assert_eq!(
            rows.get::<u32>(b"other").expect("reads"),
            Some(7),
            "from the tree"
        );
        rows.change(b"card".to_vec(), |n: &mut Option<u32>| {
            *n = n.map(|n| n * 10);
        })
        .expect("changes");
        assert_eq!(rows.get::<u32>(b"card").expect("reads"), Some(20));
    }

    #[test]
    fn generations_the_catalog_does_not_name_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        for g in [1, 2, 3] {
            drop(generation(dir.path(), g));
        }
        std::fs::create_dir(dir.path().join("catalog")).expect("mkdir");
        std::fs::create_dir(dir.path().join("notes-1")).expect("mkdir");
        Generation::remove_unlisted(dir.path(), &[("layout", 2)]).expect("removes");
        let left: Vec<bool> = [1, 2, 3]
            .iter()
            .map(|g| Generation::dir(dir.path(), "layout", *g).exists())
            .collect();
        assert_eq!(left, [false, true, false]);
        assert!(dir.path().join("catalog").exists());
        assert!(
            dir.path().join("notes-1").exists(),
            "not a projection we know"
        );
    }
}
