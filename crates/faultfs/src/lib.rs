//! A FUSE file system for power-cut tests: it forgets every write that was not synced.
//!
//! [`FaultFs::mount`] serves a real *backing* directory at a mount point. The backing
//! directory is the disk: it holds exactly what would survive a power cut. What a client
//! does through the mount goes there only as far as it asked for durability.
//!
//! # The fault model
//!
//! - **File data.** A `write` or a truncation stays in this file system's memory (dirty
//!   4 KiB pages and a volatile size per file) until `fsync` or `fdatasync` of that file,
//!   which writes the file's dirty pages and size to the backing file. `close` persists
//!   nothing. Reads see the volatile content. `sync_file_range` never reaches a FUSE file
//!   system, so it persists nothing here either (nor does it on a real power cut).
//! - **Names.** `create`, `mknod`, `mkdir`, `unlink`, `rmdir` and `rename` are visible at
//!   once and durable only after an `fsync` of their parent directory; a rename between
//!   two directories waits for both. The model is strict on purpose: a file's own `fsync`
//!   makes its data durable, *not* its name, so a new file that was fsynced but whose
//!   directory never was is gone after a cut (ext4 would usually keep it; POSIX does not
//!   promise it). Syncing a directory does not make the directory's own name durable
//!   either. Modes, owners and times are written through at once and never rolled back.
//! - **A cut** ([`FaultFs::cut`]): from that instant every operation fails with `EIO`.
//!   Each unsynced write is torn with probability [`Options::torn_write_probability`]: a
//!   torn write lands each 4 KiB block it touched with probability 1/2, with the block's
//!   content at the cut. Truncations are never torn. Then every namespace operation that
//!   is not durable is undone, newest first. An undo that would overwrite the effect of a
//!   durable later operation (possible only for renames between two directories, one of
//!   them synced) is skipped: that operation counts as durable.
//! - **A clean unmount** ([`FaultFs::unmount`] without a cut) is a clean shutdown:
//!   everything volatile is written to the backing directory, as `umount` would sync.
//!
//! # Invariants
//!
//! - The backing directory is only written by `fsync`, `fsyncdir`, namespace operations
//!   (which keep an undo record until their directory is synced), a cut and a clean unmount.
//! - Nothing is served from the kernel's caches: files are opened with direct I/O and
//!   attributes and names are not cached, so after a cut nothing succeeds.
//! - A namespace operation's victims (an unlinked file, a replaced rename target) wait in
//!   the hidden `.faultfs-trash` directory of the backing root until the operation is
//!   durable; clients never see that directory, and mounting empties it.
//!
//! # Not supported
//!
//! Hard links, symbolic links, special files, extended attributes, `fallocate`, and shared
//! `mmap` of files (direct I/O); `O_DIRECT` clients are served like any other. sled 0.34
//! and the event log need none of these: they use `pread`/`pwrite`, `fsync`/`fdatasync`,
//! `flock`, `statvfs`, `rename`, `unlink`, `mkdir` and `readdir`.
//!
//! # Requirements
//!
//! Root and `/dev/fuse` (see [`skip_reason`]): the mount is a plain `mount(2)`, so no
//! `fusermount3` and no libfuse are needed.

mod fs;
mod journal;
mod pages;
mod rng;
mod tree;

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use fuser::{BackgroundSession, Config, Session, SessionACL};
use rustix::mount::{MountFlags, UnmountFlags};

use crate::fs::{FaultFilesystem, Shared};

/// How long [`FaultFs::unmount`] waits for the FUSE threads to end.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How a [`FaultFs`] behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// The probability that a cut tears an unsynced write (lands some of its 4 KiB
    /// blocks) instead of dropping it whole; 0 (the default) never tears, 1 always does.
    pub torn_write_probability: f64,
    /// FUSE threads serving requests (they share one lock; 2 overlaps the kernel's copies).
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            torn_write_probability: 0.0,
            threads: 2,
        }
    }
}

/// What a [`FaultFs`] has done since it was mounted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// `write` requests.
    pub writes: u64,
    /// Bytes those requests wrote.
    pub bytes_written: u64,
    /// `fsync` and `fdatasync` of files.
    pub fsyncs: u64,
    /// `fsync` of directories.
    pub fsyncdirs: u64,
    /// Bytes written to the backing directory by syncs and a clean unmount.
    pub bytes_synced: u64,
    /// Power cuts (0 or 1).
    pub cuts: u64,
    /// Bytes of dirty pages a cut threw away, counted before torn writes landed some.
    pub bytes_dropped: u64,
    /// 4 KiB blocks that torn writes landed at a cut.
    pub torn_blocks: u64,
    /// Namespace operations a cut undid.
    pub namespace_ops_undone: u64,
}

/// Why fault file system tests cannot run here, if they cannot: they need root (to call
/// `mount(2)`) and `/dev/fuse`. Tests print it as a SKIPPED line and return.
pub fn skip_reason() -> Option<&'static str> {
    if !rustix::process::geteuid().is_root() {
        return Some("needs root to mount a FUSE file system");
    }
    if !Path::new("/dev/fuse").exists() {
        return Some("needs /dev/fuse");
    }
    None
}

/// A mounted fault-injecting file system. Dropping it unmounts it (as
/// [`FaultFs::unmount`], ignoring errors).
pub struct FaultFs {
    shared: Arc<Shared>,
    session: Option<BackgroundSession>,
    mountpoint: PathBuf,
    /// The FUSE connection's number in `/sys/fs/fuse/connections`.
    connection: u32,
}

impl FaultFs {
    /// Serves `backing` at `mountpoint` (both existing directories) from background
    /// threads, and returns once the mount answers requests.
    pub fn mount(backing: &Path, mountpoint: &Path, options: Options) -> io::Result<FaultFs> {
        let backing = backing.canonicalize()?;
        let mountpoint = mountpoint.canonicalize()?;
        tree::empty_trash(&backing)?;
        let root_mode = std::fs::metadata(&backing)?.mode();
        let shared = Arc::new(Shared::new(backing, options));

        let device = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/fuse")?;
        let uid = rustix::process::geteuid().as_raw();
        let gid = rustix::process::getegid().as_raw();
        let data = CString::new(format!(
            "fd={},rootmode={root_mode:o},user_id={uid},group_id={gid}",
            device.as_raw_fd()
        ))?;
        rustix::mount::mount(
            "faultfs",
            &mountpoint,
            "fuse.faultfs",
            MountFlags::NOSUID | MountFlags::NODEV,
            data.as_c_str(),
        )?;

        let mut config = Config::default();
        config.n_threads = Some(options.threads.max(1));
        let filesystem = FaultFilesystem(Arc::clone(&shared));
        // The kernel sent INIT at mount(2); the handshake answers it, so the mount is live
        // when this returns.
        let session =
            Session::from_fd(filesystem, OwnedFd::from(device), SessionACL::Owner, config)
                .and_then(Session::spawn);
        let session = match session {
            Ok(session) => session,
            Err(e) => {
                let _ = rustix::mount::unmount(&mountpoint, UnmountFlags::DETACH);
                return Err(e);
            }
        };
        let connection = match std::fs::metadata(&mountpoint) {
            Ok(meta) => rustix::fs::minor(meta.dev()),
            Err(e) => {
                let _ = rustix::mount::unmount(&mountpoint, UnmountFlags::DETACH);
                return Err(e);
            }
        };
        Ok(FaultFs {
            shared,
            session: Some(session),
            mountpoint,
            connection,
        })
    }

    /// The mount point, canonical.
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// A power cut (see the crate documentation): every operation fails with `EIO` from
    /// now on, torn writes drawn from `seed` land, and every namespace operation that is
    /// not durable is undone. The same operations and seed give the same backing state.
    /// A second cut does nothing. Errors are the backing directory's own.
    pub fn cut(&self, seed: u64) -> io::Result<()> {
        self.shared.cut(seed)
    }

    /// What this file system has done so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Unmounts; without a cut first, everything volatile is then written to the backing
    /// directory (a clean shutdown).
    ///
    /// The caller kills or stops every process writing through the mount first. If files
    /// are still open, the FUSE connection is aborted through fusectl (mounted at
    /// `/sys/fs/fuse/connections` if it is not) so their users get `ENOTCONN`, and the
    /// mount is detached lazily: this does not hang.
    pub fn unmount(mut self) -> io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> io::Result<()> {
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        // A session that ended before the unmount was not ended by it.
        let served_until_now = !session.guard.is_finished();
        // A process that just closed its files (sled's I/O threads let go a little after
        // the handle drops) keeps the mount busy for a moment: retry before aborting.
        let busy_until = Instant::now() + BUSY_GRACE;
        loop {
            match rustix::mount::unmount(&self.mountpoint, UnmountFlags::empty()) {
                Ok(()) => break,
                Err(rustix::io::Errno::BUSY) if Instant::now() < busy_until => {
                    thread::sleep(Duration::from_millis(10));
                }
                Err(rustix::io::Errno::BUSY) => {
                    // Abort first: a lazily detached mount lives on while a file is open,
                    // and so would the session.
                    let abort = abort_connection(self.connection);
                    rustix::mount::unmount(&self.mountpoint, UnmountFlags::DETACH)?;
                    abort?;
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let deadline = Instant::now() + JOIN_TIMEOUT;
        while !session.guard.is_finished() {
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the FUSE session did not end after the unmount",
                ));
            }
            thread::sleep(Duration::from_millis(2));
        }
        match session.join() {
            Ok(()) => {}
            // The unmount ended the connection, and "connection aborted" says only how: a
            // FUSE thread that took a request off the kernel's queue just as the
            // connection was torn down gets `ECONNABORTED` from its read
            // (`fuse_dev_do_read`, "must not put request on fpq->io queue after having
            // been shut down"). That happens when we aborted it ourselves, and also at a
            // plain unmount: the unmount aborts the connection too, and a `RELEASE` the
            // kernel queued for a file just closed can still be in flight. No client is
            // left to answer, and the file system's state does not depend on that request.
            // A session that had ended before the unmount reports its error.
            Err(e) if served_until_now && e.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(e) => return Err(e),
        }
        self.shared.write_back()
    }
}

impl Drop for FaultFs {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// How long an unmount waits for a busy mount to be let go before aborting it.
const BUSY_GRACE: Duration = Duration::from_secs(2);

/// Aborts FUSE connection `connection` through the fusectl file system, mounting fusectl
/// at its usual place first if nothing is there.
fn abort_connection(connection: u32) -> io::Result<()> {
    let connections = Path::new("/sys/fs/fuse/connections");
    let abort = connections.join(connection.to_string()).join("abort");
    if !abort.exists() {
        rustix::mount::mount("fusectl", connections, "fusectl", MountFlags::empty(), None)?;
    }
    let mut file = File::options().write(true).open(abort)?;
    io::Write::write_all(&mut file, b"1")
}
