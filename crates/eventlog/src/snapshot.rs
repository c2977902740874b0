//! A copy of a data directory that nothing is writing: what a tool that only reads (a
//! replay into another directory) opens instead of the directory itself.
//!
//! Invariant: the source is never written. sled 0.34 has no read-only open: opening a
//! store may run its recovery and ours (which trims a group past the tail marker), so a
//! reading tool opens a copy. The copy is taken under the source's `LOCK`, so no sparkfeed
//! process writes the source while it is copied (a held directory is `LOG_LOCKED`).

use std::path::Path;

use crate::LogError;
use crate::log::take_lock;

/// Copies the log store of the data directory `src` (and its subdirectories `also`, such
/// as the key store) into `dst`, which must not exist, while holding `src`'s lock. Open
/// the copy with [`crate::EventLog::open`]: its recovery then writes only the copy.
pub fn copy_quiescent(src: &Path, dst: &Path, also: &[&str]) -> Result<(), LogError> {
    if !src.join("sled").is_dir() || !src.join("LOCK").is_file() {
        return Err(LogError::io(
            format!("{} holds no sparkfeed log", src.display()),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let _lock = take_lock(src)?;
    if dst.exists() {
        return Err(LogError::io(
            format!("copying the data directory to {}", dst.display()),
            std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        ));
    }
    for name in std::iter::once("sled").chain(also.iter().copied()) {
        let from = src.join(name);
        if from.exists() {
            copy_tree(&from, &dst.join(name))?;
        }
    }
    // The copy is refused as the source would be if its store lost its events.
    let marker = src.join(crate::INITIALIZED_MARKER);
    if marker.is_file() {
        std::fs::copy(&marker, dst.join(crate::INITIALIZED_MARKER))
            .map_err(|e| LogError::io(format!("copying {}", marker.display()), e))?;
    }
    Ok(())
}

/// Copies the directory `from` to `to`, recursively (regular files and directories).
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), LogError> {
    let io = |what: &str, path: &Path, e| LogError::io(format!("{what} {}", path.display()), e);
    std::fs::create_dir_all(to).map_err(|e| io("creating", to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| io("listing", from, e))? {
        let entry = entry.map_err(|e| io("listing", from, e))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(|e| io("reading", &source, e))?;
        if kind.is_dir() {
            copy_tree(&source, &target)?;
        } else if kind.is_file() {
            std::fs::copy(&source, &target).map_err(|e| io("copying", &source, e))?;
        }
    }
    Ok(())
}
