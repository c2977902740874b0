//! The syncer: one flush and one fdatasync for every group waiting, then the answers, in
//! order (see [`super`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};

use tokio::sync::watch;

use super::{Counters, Staged, Stop};
use crate::durable::DataFiles;
use crate::{LogError, LogHead};

/// The syncer: owns the durability barrier and the committed head.
pub(crate) struct Syncer {
    pub(crate) db: sled::Db,
    pub(crate) files: DataFiles,
    pub(crate) head_tx: watch::Sender<LogHead>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) stop: Arc<Stop>,
}

/// The syncer's state, shared by the syncer thread and the stager's inline commits.
pub(super) struct SharedSyncer {
    pub(super) core: Mutex<Syncer>,
    /// Groups handed to the syncer thread and not yet answered. The stager commits a
    /// group itself only when this is zero, so groups are always answered in order.
    pub(super) in_flight: AtomicUsize,
}

impl SharedSyncer {
    /// Commits staged groups as they come, every group waiting at the time in one sync,
    /// until the stager hangs up.
    pub(super) fn run(&self, staged: std_mpsc::Receiver<Staged>) {
        while let Ok(first) = staged.recv() {
            let mut groups = vec![first];
            groups.extend(staged.try_iter());
            let taken = groups.len();
            self.commit(groups);
            self.in_flight.fetch_sub(taken, Ordering::AcqRel);
        }
    }

    /// Makes `groups` durable with one flush and one fdatasync, then answers them in order.
    pub(super) fn commit(&self, groups: Vec<Staged>) {
        self.core().commit(groups);
    }

    /// The durability barrier over everything written so far.
    pub(super) fn sync(&self) -> Result<(), LogError> {
        self.core().sync()
    }

    fn core(&self) -> std::sync::MutexGuard<'_, Syncer> {
        self.core.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Syncer {
    fn commit(&mut self, groups: Vec<Staged>) {
        let events: u64 = groups.iter().map(|g| g.events).sum();
        if events > 0
            && self.stop.get().is_none()
            && let Err(e) = self.sync()
        {
            self.stop.set(e.to_string());
        }
        let stopped = self.stop.get();
        if stopped.is_none()
            && events > 0
            && let Some(last) = groups.iter().rev().find(|g| g.events > 0)
        {
            self.head_tx.send_replace(last.head);
            self.counters.syncs.fetch_add(1, Ordering::Relaxed);
            let written = groups.iter().filter(|g| g.events > 0).count();
            self.counters.groups.fetch_add(
                u64::try_from(written).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            self.counters.events.fetch_add(events, Ordering::Relaxed);
        }
        for (reply, mut answer) in groups.into_iter().flat_map(|g| g.answers) {
            if let (Some(why), Ok(_)) = (&stopped, &answer) {
                // The caller cannot know what reached the disk: not acknowledged.
                answer = Err(LogError::Stopped(why.clone()).into());
            }
            // The caller may have stopped waiting; the append stands either way.
            let _ = reply.send(answer);
        }
    }

    /// The durability barrier: sled's flush, then fdatasync of its files.
    fn sync(&mut self) -> Result<(), LogError> {
        self.db.flush()?;
        self.files.sync()
    }
}
