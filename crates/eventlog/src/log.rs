//! The handle applications hold: open, append, read, subscribe, verify.

use std::collections::HashSet;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

use sparkfeed_events::{
    EventId, NewEvent, Position, RecordedEvent, StreamName, StreamVersion, codec,
};
use tokio::sync::{mpsc, oneshot, watch};

use crate::durable::{DataFiles, sync_log_dir};
use crate::layout::{self, Layout};
use crate::merkle;
use crate::records::{read_range, read_stored};
use crate::recovery::{Recovered, RecoveryReport, recover};
use crate::space::Space;
use crate::subscription::Subscription;
use crate::verify::{self, VerifyReport};
use crate::writer::{Counters, Request, Stop, Syncer, Writer, stored_stream_state};
use crate::{
    AppendError, AppendRefused, Appended, Condition, Config, ExpectedVersion, LogError, LogHead,
    MAX_EVENTS_PER_APPEND, StreamState, keys,
};

/// An append checked and bound for the writer: its request, the writer's queue, and where
/// the writer's answer comes back.
struct Submission<'a> {
    queue: &'a mpsc::Sender<Request>,
    request: Request,
    answer: oneshot::Receiver<Result<Appended, AppendError>>,
}

impl Submission<'_> {
    /// Queues the request and waits for the writer's answer.
    async fn send(self) -> Result<Appended, AppendError> {
        self.queue
            .send(self.request)
            .await
            .map_err(|_| LogError::Closed)?;
        self.answer.await.map_err(|_| LogError::Closed)?
    }

    /// [`Submission::send`], blocking this thread (it panics inside an async runtime).
    fn send_blocking(self) -> Result<Appended, AppendError> {
        self.queue
            .blocking_send(self.request)
            .map_err(|_| LogError::Closed)?;
        self.answer.blocking_recv().map_err(|_| LogError::Closed)?
    }
}

/// Which way a stream is read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    /// Oldest first, from the given version up.
    Forward,
    /// Newest first, from the given version down (`StreamVersion(u64::MAX)` = from the end).
    Backward,
}

/// One page of a stream.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StreamSlice {
    /// The events, in the direction read.
    pub events: Vec<RecordedEvent>,
    /// Where the next page starts, or `None` when this page reached the end.
    pub next: Option<StreamVersion>,
}

/// What the writer has done since the log was opened.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LogStats {
    /// Group commits (each one flush and one fdatasync).
    pub group_commits: u64,
    /// Groups written: one stager pass over the queue each, at most `max_group_events`
    /// events. One group commit covers every group waiting when it starts.
    pub groups: u64,
    /// Events written by them.
    pub events_committed: u64,
}

/// An open event log. Clones share the same log; it closes when the last clone is dropped,
/// after the writer has finished the group in hand.
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    /// Some until the log is dropped; shared with the subscriptions.
    tree: Option<Arc<sled::Tree>>,
    head: watch::Receiver<LogHead>,
    counters: Arc<Counters>,
    recovery: RecoveryReport,
    requests: Option<mpsc::Sender<Request>>,
    writer: Option<JoinHandle<()>>,
    _lock: File,
}

impl Drop for Inner {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(writer) = self.writer.take() {
            // The writer ends once its queue is closed; waiting (here and below) makes the
            // directory free to reopen as soon as this returns.
            let _ = writer.join();
        }
        let tree = self.tree.take();
        // A subscription still reading keeps sled open: then there is nothing to wait for.
        let subscribed = tree.as_ref().is_some_and(|t| Arc::strong_count(t) > 1);
        drop(tree);
        if !subscribed {
            crate::sled_lock::wait_for_sled_to_let_go(&self.dir.join("sled"));
        }
    }
}

impl EventLog {
    /// Opens (or creates) the log in `config.dir`, recovering to the last committed group.
    ///
    /// Fails with [`LogError::Locked`] when another process or handle has it open.
    pub fn open(config: Config) -> Result<Self, LogError> {
        Self::open_with(config, |_| {})
    }

    /// [`EventLog::open`], with `prepare` given the durability barrier's files once the log
    /// is recovered and before the writer starts (tests make the barrier fail with it).
    pub(crate) fn open_with(
        config: Config,
        prepare: impl FnOnce(&mut DataFiles),
    ) -> Result<Self, LogError> {
        let dir = config.dir.clone();
        crate::durable::create_dir_all_durably(&dir)
            .map_err(|e| LogError::io(format!("creating {}", dir.display()), e))?;
        let lock = take_lock(&dir)?;

        let sled_dir = dir.join("sled");
        let created = !sled_dir.exists();
        let marker = dir.join(INITIALIZED_MARKER);
        if created && marker.exists() {
            return Err(vanished(&marker));
        }
        let db = open_sled(&config, &sled_dir)?;
        // When the log grew since its last snapshot, sled's open wrote a new recovery
        // snapshot (a file renamed into place, the one before unlinked), and sled never
        // syncs the directory. Unsynced, a power cut undoes both and sled recovers from an
        // older snapshot than the one it wrote, or from none: a path its own crash tests
        // never take (a killed process keeps the rename). This open's snapshot is made
        // durable before anything is written; for a new store, its files' names too.
        sync_log_dir(&sled_dir)?;
        if created {
            // The store's name is durable before the marker can be ([`check_layout`]).
            sync_log_dir(&dir)?;
        }
        let tree = db.open_tree("log")?;
        let mut files = DataFiles::open(&sled_dir, config.durability)?;
        check_layout(&db, &tree, &mut files, &marker)?;
        let space = Space::open(&sled_dir, config.storage_reserve_bytes)?;

        let Recovered {
            head,
            last_recorded_at,
            report: recovery,
        } = recover(&db, &tree, &mut files)?;
        let trimmed = merkle::trim(&tree, head.len)?;
        let (frontier, rebuilt) = merkle::restore(&tree, head.len)?;
        let tails = merkle::Tails::load(&tree, head.len)?;
        if trimmed > 0 || rebuilt > 0 {
            db.flush()?;
            files.sync()?;
            tracing::warn!(
                trimmed,
                rebuilt,
                head = head.len,
                "put right the log's Merkle tree (a crash mid-group, or a log written before the tree existed)"
            );
        }
        prepare(&mut files);
        tracing::info!(dir = %dir.display(), events = head.len, head = %head.hash, "event log open");
        let (head_tx, head_rx) = watch::channel(head);
        let (requests, queue) = mpsc::channel(config.queue_depth.max(1));
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(Stop::default());
        let writer = Writer {
            tree: tree.clone(),
            head,
            last_recorded_at,
            max_group_events: config.max_group_events.max(1),
            heads: Default::default(),
            max_id: largest_event_id(&tree)?,
            durable: head_rx.clone(),
            stop: stop.clone(),
            space,
            frontier,
            tails,
        };
        let syncer = Syncer {
            db,
            files,
            head_tx,
            counters: counters.clone(),
            stop,
        };
        let writer = std::thread::Builder::new()
            .name("sparkfeed-log-stage".into())
            .spawn(move || writer.run(queue, syncer))
            .map_err(|e| LogError::io("starting the log writer thread", e))?;
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                tree: Some(Arc::new(tree)),
                head: head_rx,
                counters,
                recovery,
                requests: Some(requests),
                writer: Some(writer),
                _lock: lock,
            }),
        })
    }

    /// The log's tree, shareable (there until the last handle is dropped).
    fn shared_tree(&self) -> &Arc<sled::Tree> {
        self.inner
            .tree
            .as_ref()
            .expect("the tree is taken only when the log is dropped")
    }

    /// The log's tree.
    fn tree(&self) -> &sled::Tree {
        self.shared_tree()
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Appends `events` to `stream` if it is at `expected`; answers once they are durable.
    ///
    /// If every event id is already in the log as exactly this append, nothing is written
    /// and the original placement is answered with `deduplicated: true`.
    pub async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Appended, AppendError> {
        self.request(stream, expected, events, Vec::new())?
            .send()
            .await
    }

    /// [`EventLog::append`], also refused unless every stream in `conditions` is still
    /// where the caller saw it ([`Condition`]); checked by the writer like the stream's own
    /// expected version, against the heads it holds, where the append lands.
    pub async fn append_when(
        &self,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        conditions: Vec<Condition>,
    ) -> Result<Appended, AppendError> {
        self.request(stream, expected, events, conditions)?
            .send()
            .await
    }

    /// [`EventLog::append`] for threads outside an async runtime (it panics inside one).
    pub fn append_blocking(
        &self,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Appended, AppendError> {
        self.request(stream, expected, events, Vec::new())?
            .send_blocking()
    }

    /// Checks what can be checked without the log, and wraps the append for the writer's
    /// queue (unless the log is closed).
    fn request(
        &self,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        conditions: Vec<Condition>,
    ) -> Result<Submission<'_>, AppendError> {
        check_append(&events)?;
        let queue = self.queue()?;
        let (reply, answer) = oneshot::channel();
        Ok(Submission {
            queue,
            request: Request {
                stream: stream.clone(),
                expected,
                events,
                conditions,
                recorded_at: None,
                reply,
            },
            answer,
        })
    }

    /// The writer's queue, unless the log is closed.
    pub(crate) fn queue(&self) -> Result<&mpsc::Sender<Request>, LogError> {
        self.inner.requests.as_ref().ok_or(LogError::Closed)
    }

    /// The durable head: event count and the chain hash of the last event.
    pub fn head(&self) -> LogHead {
        *self.inner.head.borrow()
    }

    /// What opening the log had to put right after a crash.
    pub fn recovery(&self) -> RecoveryReport {
        self.inner.recovery
    }

    /// What the writer has done since opening.
    pub fn stats(&self) -> LogStats {
        LogStats {
            group_commits: self.inner.counters.syncs.load(Ordering::Relaxed),
            groups: self.inner.counters.groups.load(Ordering::Relaxed),
            events_committed: self.inner.counters.events.load(Ordering::Relaxed),
        }
    }

    /// Up to `max` events of the whole log (`$all`), from position `from` on.
    pub fn read_all(&self, from: Position, max: usize) -> Result<Vec<RecordedEvent>, LogError> {
        read_range(self.tree(), from, max, self.head().len)
    }

    /// The durable event at `position`, if there is one.
    pub fn read_event(&self, position: Position) -> Result<Option<RecordedEvent>, LogError> {
        Ok(self.read_all(position, 1)?.pop())
    }

    /// The durable event with id `id`, if there is one.
    pub fn find_event(&self, id: &EventId) -> Result<Option<RecordedEvent>, LogError> {
        match self.tree().get(keys::event_key(id))? {
            Some(value) => {
                let position = keys::position_from_value(&value).ok_or(LogError::Corrupt {
                    position: None,
                    reason: format!("event index entry of {id} is not a position"),
                })?;
                self.read_event(position)
            }
            None => Ok(None),
        }
    }

    /// Up to `max` events of `stream` from version `from`, in `direction`.
    pub fn read_stream(
        &self,
        stream: &StreamName,
        from: StreamVersion,
        direction: Direction,
        max: usize,
    ) -> Result<StreamSlice, LogError> {
        let len = self.head().len;
        let tree = self.tree();
        let entries = match direction {
            Direction::Forward => Box::new(tree.range(
                keys::stream_key(stream, from)..=keys::stream_key(stream, StreamVersion(u64::MAX)),
            ))
                as Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>>,
            Direction::Backward => Box::new(
                tree.range(
                    keys::stream_key(stream, StreamVersion::FIRST)..=keys::stream_key(stream, from),
                )
                .rev(),
            ),
        };
        let mut events = Vec::new();
        let mut next = None;
        for entry in entries {
            let (key, value) = entry?;
            let (Some(version), Some(position)) = (
                keys::version_of_stream_key(&key),
                keys::position_from_value(&value),
            ) else {
                return Err(LogError::Corrupt {
                    position: None,
                    reason: format!("malformed stream index entry for {stream}"),
                });
            };
            if position.0 >= len {
                // Not durable yet: invisible, and so is everything after it going forward.
                if direction == Direction::Forward {
                    break;
                }
                continue;
            }
            if events.len() == max {
                next = Some(version);
                break;
            }
            let event = read_stored(tree, position)?;
            if event.record.stream != *stream || event.record.version != version {
                return Err(LogError::Corrupt {
                    position: Some(position),
                    reason: format!("stream index says {stream}@{version}, record disagrees"),
                });
            }
            events.push(event);
        }
        Ok(StreamSlice { events, next })
    }

    /// Where `stream` is now.
    pub fn stream_state(&self, stream: &StreamName) -> Result<StreamState, LogError> {
        stored_stream_state(self.tree(), stream, self.head().len)
    }

    /// Every event from `from` on, caught up from the store and then followed live.
    pub fn subscribe(&self, from: Position) -> Subscription {
        Subscription::new(
            Arc::clone(self.shared_tree()),
            self.inner.head.clone(),
            from,
        )
    }

    /// The Merkle root (RFC 9162) of the first `size` durable records; `PAST_HEAD` past
    /// the durable head. Reads only stored subtree hashes.
    pub fn tree_root(&self, size: u64) -> Result<sparkfeed_events::Hash, LogError> {
        self.within_head(size)?;
        Ok(sparkfeed_merkle::root(&merkle::Stored(self.tree()), size)?)
    }

    /// The inclusion proof of the record at `position` in the tree of the first `size`
    /// durable records, nearest sibling first.
    pub fn inclusion_proof(
        &self,
        position: Position,
        size: u64,
    ) -> Result<Vec<sparkfeed_events::Hash>, LogError> {
        self.within_head(size)?;
        let nodes = merkle::Stored(self.tree());
        Ok(sparkfeed_merkle::inclusion_proof(&nodes, position.0, size)?)
    }

    /// The consistency proof that the tree of the first `from` records is a prefix of the
    /// tree of the first `to`.
    pub fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<sparkfeed_events::Hash>, LogError> {
        self.within_head(to)?;
        let nodes = merkle::Stored(self.tree());
        Ok(sparkfeed_merkle::consistency_proof(&nodes, from, to)?)
    }

    /// The bytes a durable record's Merkle leaf hashes (its stored bytes before the chain
    /// hash): what an offline check of an inclusion proof needs besides the proof.
    pub fn leaf_bytes(&self, position: Position) -> Result<Vec<u8>, LogError> {
        self.within_head(position.0.saturating_add(1))?;
        let stored = merkle::stored_record(self.tree(), position)?;
        let split = codec::split(stored.bytes()).map_err(|e| LogError::corrupt(position, e))?;
        Ok(split.record_bytes.to_vec())
    }

    fn within_head(&self, size: u64) -> Result<(), LogError> {
        let head = self.head().len;
        if size > head {
            return Err(LogError::PastHead { size, head });
        }
        Ok(())
    }

    /// Walks the chain and the indexes of every durable event; `progress` is told how many
    /// records have been checked, now and then.
    pub fn verify(&self, progress: impl FnMut(u64)) -> Result<VerifyReport, LogError> {
        verify::verify(self.tree(), self.head(), &[], progress)
    }
}

/// Checks what can be checked of an append without the log: at least one event, at most
/// [`MAX_EVENTS_PER_APPEND`], no id twice, no payload over the record limit. Every backend
/// refuses such an append this way before it reaches the log.
pub fn check_append(events: &[NewEvent]) -> Result<(), AppendError> {
    let invalid = |reason: String| -> AppendError {
        AppendRefused::Invalid {
            reason,
            code: "VALIDATION",
        }
        .into()
    };
    if events.is_empty() {
        return Err(invalid("an append needs at least one event".into()));
    }
    if events.len() > MAX_EVENTS_PER_APPEND {
        return Err(invalid(format!(
            "{} events in one append; the most is {MAX_EVENTS_PER_APPEND}",
            events.len()
        )));
    }
    let mut seen = HashSet::with_capacity(events.len());
    if let Some(dup) = events.iter().find(|e| !seen.insert(e.id)) {
        return Err(invalid(format!(
            "event id {} appears twice in one append",
            dup.id
        )));
    }
    if let Some(big) = events
        .iter()
        .find(|e| e.payload.len() > codec::MAX_RECORD_BYTES)
    {
        return Err(AppendRefused::TooLarge {
            reason: format!(
                "event {} has a {} byte payload; records are at most {} bytes",
                big.id,
                big.payload.len(),
                codec::MAX_RECORD_BYTES
            ),
        }
        .into());
    }
    Ok(())
}

pub(crate) fn take_lock(dir: &Path) -> Result<File, LogError> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| LogError::io(format!("opening {}", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(LogError::Locked {
            dir: dir.to_path_buf(),
            lock: path,
        }),
        Err(TryLockError::Error(e)) => Err(LogError::io(format!("locking {}", path.display()), e)),
    }
}

/// Opens sled, waiting out a previous handle of this process.
///
/// Our `LOCK` is already held, so no other sparkfeed process has the directory. sled's own
/// lock can still be held for a moment after an earlier handle in this process was dropped,
/// while sled's background threads let go of their file handles; that is waited out
/// ([`crate::sled_lock::open`]) before the directory is reported as locked.
fn open_sled(config: &Config, sled_dir: &Path) -> Result<sled::Db, LogError> {
    let sled_config = sled::Config::new()
        .path(sled_dir)
        .cache_capacity(config.cache_capacity_bytes)
        .flush_every_ms(None);
    crate::sled_lock::open(&sled_config, sled_dir).map_err(|e| {
        if crate::sled_lock::is_locked(&e) {
            LogError::Locked {
                dir: config.dir.clone(),
                lock: sled_dir.join("db"),
            }
        } else {
            LogError::Store(e)
        }
    })
}

/// The file beside the store that says the store was set up: its layout key is durable.
///
/// Invariant: a directory holding it has a store with a layout key. A store found empty
/// beside it lost its contents (sled recovered to before the log began), and is refused as
/// [`LogError::Corrupt`] rather than set up again as a new, empty log over the loss.
pub const INITIALIZED_MARKER: &str = "INITIALIZED";

/// The refusal of a store that lost its contents ([`INITIALIZED_MARKER`]).
pub(crate) fn vanished(marker: &Path) -> LogError {
    LogError::Corrupt {
        position: None,
        reason: format!(
            "the log's store is empty or missing, but {} says it was set up: the store lost \
             its events; refusing to start a new log over them. Restore the data directory \
             from a backup; to accept the loss, remove that file and the store's `sled` \
             directory (not the data directory: it holds the members' keys and the \
             tree-head key)",
            marker.display()
        ),
    }
}

/// Brings a store of an older layout to this one ([`crate::layout`]), gives a new store
/// its layout key, and writes [`INITIALIZED_MARKER`] once that key is durable.
fn check_layout(
    db: &sled::Db,
    tree: &sled::Tree,
    files: &mut DataFiles,
    marker: &Path,
) -> Result<(), LogError> {
    let (found, _) = layout::upgrade(tree, || {
        db.flush()?;
        files.sync()
    })?;
    if found == Layout::Empty {
        if marker.exists() {
            return Err(vanished(marker));
        }
        // A new store gets its tail marker now, before any group (and before the
        // layout, so a store with a layout has one): a store without a marker is read
        // as written before markers existed, and a first group cut short (a crash, a
        // full disk) was then taken as whole on open, its index entries missing.
        tree.insert(keys::TAIL_KEY, &keys::tail_value(0, 0))?;
        tree.insert(keys::LAYOUT_KEY, &[keys::LAYOUT_VERSION])?;
        db.flush()?;
        files.sync()?;
    }
    if !marker.exists() && files.survives_power_cut() {
        // A directory written before the marker existed gets it on its first open. A log
        // under `FlushOnly` gets none: its layout key may not outlive a power cut.
        File::create(marker)
            .and_then(|f| f.sync_all())
            .map_err(|e| LogError::io(format!("creating {}", marker.display()), e))?;
        if let Some(dir) = marker.parent() {
            sync_log_dir(dir)?;
        }
    }
    Ok(())
}

/// The largest event id in the event-id index (its last key).
fn largest_event_id(tree: &sled::Tree) -> Result<Option<EventId>, LogError> {
    match tree.scan_prefix(keys::event_index_prefix()).next_back() {
        None => Ok(None),
        Some(entry) => {
            let (key, _) = entry?;
            let bytes: [u8; 16] =
                key.get(1..17)
                    .and_then(|b| b.try_into().ok())
                    .ok_or(LogError::Corrupt {
                        position: None,
                        reason: "malformed event-id index key".into(),
                    })?;
            Ok(Some(EventId::from_bytes(bytes)))
        }
    }
}
