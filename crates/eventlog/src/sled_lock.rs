//! sled's lock on its data file, which outlives the store's last handle for a moment.
//!
//! sled 0.34.7 hands each full log buffer to an IO thread of its own pool with a reference
//! to the store's files, so for a moment after its last handle is dropped the store can
//! still be locked: a reopen right then fails with `WouldBlock` ("could not acquire
//! lock"). The log waits this out when it is dropped, and the projections' stores when
//! one of this process's own stores is opened again.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::time::Duration;

/// How long a wait for sled to release its files lasts at most.
pub const SLED_CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Whether opening a sled store failed because its data file is locked.
pub fn is_locked(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Waits (at most [`SLED_CLOSE_WAIT`]) until nothing holds sled's lock on the data file of
/// the store in `sled_dir`. The IO thread holding it cannot be joined from here, so a
/// helper thread takes the lock as soon as it is free (a blocking `flock`), and the wait
/// ends then or at the deadline; past the deadline the helper gives the lock back whenever
/// it gets it.
pub fn wait_for_sled_to_let_go(sled_dir: &Path) {
    let Ok(file) = File::open(sled_dir.join("db")) else {
        return;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            return;
        }
        Err(TryLockError::WouldBlock) => {}
        Err(_) => return,
    }
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let waiter = std::thread::Builder::new()
        .name("sparkfeed-sled-close".into())
        .spawn(move || {
            if file.lock().is_ok() {
                let _ = file.unlock();
            }
            // Closed before the wait ends: nothing of ours holds the directory then.
            drop(file);
            let _ = locked_tx.send(());
        });
    if waiter.is_ok() {
        let _ = locked.recv_timeout(SLED_CLOSE_WAIT);
    }
}

/// Opens the sled store `config` names, in `sled_dir`. When this process held the store a
/// moment ago and sled's IO threads still lock it, waits for them to let go
/// ([`wait_for_sled_to_let_go`]) and tries once more; a store another process holds still
/// fails, with the lock error ([`is_locked`]), once the wait is over.
pub fn open(config: &sled::Config, sled_dir: &Path) -> sled::Result<sled::Db> {
    match config.open() {
        Err(e) if is_locked(&e) => {
            wait_for_sled_to_let_go(sled_dir);
            config.open()
        }
        opened => opened,
    }
}
