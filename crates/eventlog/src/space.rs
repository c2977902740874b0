//! The free-space check that keeps sled from ever meeting a full file system.
//!
//! sled 0.34.7 turns its first failed write into a global error that it keeps for as long
//! as the store is open: after one `ENOSPC` every later write of that store fails, and only
//! a reopen (with recovery) clears it. So the log does not wait for `ENOSPC`: before the
//! stager writes a group it asks the file system (`fstatvfs`) how much is free, and refuses
//! the whole group with [`LogError::StorageFull`] when that is less than the group's bytes
//! plus a reserve that covers what sled writes besides them (message headers, rewritten
//! tree pages, a new segment, a snapshot). Nothing is written then, so the store stays
//! healthy, reads go on, and the next group is checked afresh: appends resume as soon as
//! space is freed, without a reopen.
//!
//! The check is one system call per group (not per append). It is a guard, not a
//! guarantee: another process may take the reserve between the check and sled's write;
//! then sled fails, and the log stops as after any failed write (fail-stop).

use std::fs::File;
use std::path::Path;

use crate::LogError;

/// The file system under the log, and the space to keep free on it.
pub(crate) struct Space {
    /// The store's directory, opened once: `fstatvfs` on it resolves no path.
    dir: File,
    reserve: u64,
    /// Whether the last check refused: the log says so once per spell, not per group.
    full: bool,
}

impl Space {
    /// Watches the file system holding `dir`, keeping `reserve` bytes free.
    pub(crate) fn open(dir: &Path, reserve: u64) -> Result<Self, LogError> {
        let handle = File::open(dir).map_err(|e| {
            LogError::io(
                format!("opening {} to watch its free space", dir.display()),
                e,
            )
        })?;
        Ok(Self {
            dir: handle,
            reserve,
            full: false,
        })
    }

    /// Bytes free for an unprivileged writer (`f_bavail`: what is left of root's share on
    /// ext4 is not counted as ours).
    pub(crate) fn available(&self) -> std::io::Result<u64> {
        let stat = rustix::fs::fstatvfs(&self.dir)?;
        Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
    }

    /// `Ok` when `bytes` can be written and the reserve still be left free.
    ///
    /// A file system that cannot be asked (which a directory we hold open should never
    /// be) does not stop appends: the write goes ahead, and a failure of it stops the log.
    /// A reserve of 0 turns the check off.
    pub(crate) fn check(&mut self, bytes: u64) -> Result<(), Full> {
        if self.reserve == 0 {
            return Ok(());
        }
        let needed = self.reserve.saturating_add(bytes);
        let available = match self.available() {
            Ok(available) => available,
            Err(e) => {
                tracing::warn!(error = %e, "fstatvfs of the log's directory failed; appending unchecked");
                return Ok(());
            }
        };
        let full = available < needed;
        if full != self.full {
            self.full = full;
            if full {
                tracing::error!(
                    available,
                    needed,
                    "the disk is full: appends fail with STORAGE_FULL"
                );
            } else {
                tracing::info!(available, "the disk has room again: appends resume");
            }
        }
        if full {
            Err(Full { available, needed })
        } else {
            Ok(())
        }
    }
}

/// Too little space for a group: [`LogError::StorageFull`], copyable to each of its appends.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Full {
    available: u64,
    needed: u64,
}

impl From<Full> for LogError {
    fn from(Full { available, needed }: Full) -> Self {
        LogError::StorageFull { available, needed }
    }
}
