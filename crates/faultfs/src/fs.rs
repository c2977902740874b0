//! The FUSE operations over the backing directory, the volatile pages and the journal:
//! the shared state and the power cut here, the operations on the state in `state`, the
//! FUSE requests that run them in `ops`.
//!
//! One mutex guards the whole state: most operations are short memory updates; only
//! `fsync`, `fsyncdir` and namespace operations write to the backing directory.

mod ops;
mod state;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use fuser::{Errno, FileType};

pub(crate) use self::ops::FaultFilesystem;
use crate::journal::Journal;
use crate::pages::Volatile;
use crate::rng::Rng;
use crate::tree::Tree;
use crate::{Options, Stats};

/// Nothing is cached in the kernel: after a cut, every stat and lookup must reach us
/// and fail, and the files use direct I/O for the same reason.
const TTL: Duration = Duration::ZERO;

/// The state every FUSE thread and the test's handle share.
pub(crate) struct Shared {
    backing: PathBuf,
    state: Mutex<State>,
    options: Options,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    writes: AtomicU64,
    bytes_written: AtomicU64,
    fsyncs: AtomicU64,
    fsyncdirs: AtomicU64,
    bytes_synced: AtomicU64,
    cuts: AtomicU64,
    bytes_dropped: AtomicU64,
    torn_blocks: AtomicU64,
    namespace_ops_undone: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

struct State {
    tree: Tree,
    /// Regular files opened since the mount, by inode: their volatile content.
    files: HashMap<u64, Volatile<File>>,
    journal: Journal,
    /// Open directory handles: the listing taken at offset 0.
    listings: HashMap<u64, Vec<(u64, FileType, OsString)>>,
    next_handle: u64,
    /// Set by a cut or a clean unmount: every operation fails with `EIO` from then on.
    stopped: bool,
}

impl Shared {
    /// State over `backing`, a canonical directory path whose trash directory is empty.
    pub(crate) fn new(backing: PathBuf, options: Options) -> Self {
        Self {
            backing: backing.clone(),
            state: Mutex::new(State {
                tree: Tree::new(backing),
                files: HashMap::new(),
                journal: Journal::default(),
                listings: HashMap::new(),
                next_handle: 1,
                stopped: false,
            }),
            options,
            counters: Counters::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in one operation must not hide the state from the cut that follows.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state, unless a cut stopped the file system.
    fn live(&self) -> Result<MutexGuard<'_, State>, Errno> {
        let state = self.lock();
        if state.stopped {
            return Err(Errno::EIO);
        }
        Ok(state)
    }

    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            writes: get(&c.writes),
            bytes_written: get(&c.bytes_written),
            fsyncs: get(&c.fsyncs),
            fsyncdirs: get(&c.fsyncdirs),
            bytes_synced: get(&c.bytes_synced),
            cuts: get(&c.cuts),
            bytes_dropped: get(&c.bytes_dropped),
            torn_blocks: get(&c.torn_blocks),
            namespace_ops_undone: get(&c.namespace_ops_undone),
        }
    }

    /// The power cut; see [`crate::FaultFs::cut`].
    pub(crate) fn cut(&self, seed: u64) -> io::Result<()> {
        let mut state = self.lock();
        if state.stopped {
            return Ok(());
        }
        state.stopped = true;
        add(&self.counters.cuts, 1);
        let mut rng = Rng::new(seed);
        let mut inos: Vec<u64> = state.files.keys().copied().collect();
        inos.sort_unstable();
        let mut first_error = None;
        for ino in inos {
            let Some(mut file) = state.files.remove(&ino) else {
                continue;
            };
            match file.cut(&mut rng, self.options.torn_write_probability) {
                Ok(outcome) => {
                    add(&self.counters.bytes_dropped, outcome.dropped_bytes);
                    add(&self.counters.torn_blocks, outcome.torn_blocks);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let ops = state.journal.take();
        for op in ops.into_iter().rev() {
            match state.undo(op) {
                Ok(true) => add(&self.counters.namespace_ops_undone, 1),
                Ok(false) => {}
                Err(e) => {
                    first_error.get_or_insert(io::Error::from_raw_os_error(e.code()));
                }
            }
        }
        state.listings.clear();
        // What is left in the trash belongs to operations that stay done.
        let emptied = crate::tree::empty_trash(&self.backing);
        match first_error {
            Some(e) => Err(e),
            None => emptied,
        }
    }

    /// A clean shutdown, once no request can arrive: what was volatile becomes durable.
    pub(crate) fn write_back(&self) -> io::Result<()> {
        let mut state = self.lock();
        if state.stopped {
            return Ok(());
        }
        state.stopped = true;
        for file in state.files.values_mut() {
            add(&self.counters.bytes_synced, file.sync()?);
        }
        state.files.clear();
        for op in state.journal.take() {
            state
                .finish(op)
                .map_err(|e| io::Error::from_raw_os_error(e.code()))?;
        }
        Ok(())
    }
}
