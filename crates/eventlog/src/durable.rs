//! The durability barrier sled 0.34 does not give by itself.
//!
//! On Linux `sled::Db::flush` ends in `sync_file_range`, which writes the pages out but
//! neither flushes the drive's cache nor persists the file's metadata: it survives a killed
//! process, not a power cut. [`DataFiles::sync`] follows every flush with `fdatasync` on
//! sled's data file, and `fsync` on any blob file (and the blob directory) sled created
//! since the last commit. Records are capped far below sled's blob threshold, so the blob
//! branch exists for safety, not for speed.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::LogError;

/// Handles on the files whose contents an acknowledged append depends on.
pub(crate) struct DataFiles {
    data: File,
    /// False only under [`crate::Durability::FlushOnly`] (the power-cut tests' control).
    fdatasync: bool,
    blobs: PathBuf,
    synced_blobs: HashSet<OsString>,
}

impl DataFiles {
    /// Opens sled's data file inside `sled_dir` (after sled has created it).
    pub(crate) fn open(sled_dir: &Path, durability: crate::Durability) -> Result<Self, LogError> {
        let path = sled_dir.join("db");
        let data = File::open(&path)
            .map_err(|e| LogError::io(format!("opening {} for fdatasync", path.display()), e))?;
        let mut files = Self {
            data,
            fdatasync: durability == crate::Durability::Fdatasync,
            blobs: sled_dir.join("blobs"),
            synced_blobs: HashSet::new(),
        };
        files.sync()?;
        Ok(files)
    }

    /// False under [`crate::Durability::FlushOnly`]: nothing this log writes survives a
    /// power cut for certain.
    pub(crate) fn survives_power_cut(&self) -> bool {
        self.fdatasync
    }

    /// `fdatasync` the data file, then `fsync` new blob files and their directory.
    pub(crate) fn sync(&mut self) -> Result<(), LogError> {
        if self.fdatasync {
            self.data
                .sync_data()
                .map_err(|e| LogError::io("fdatasync of sled's data file", e))?;
        }
        let entries = match std::fs::read_dir(&self.blobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(LogError::io("listing sled's blob directory", e)),
        };
        let mut present = HashSet::new();
        let mut any_new = false;
        for entry in entries {
            let entry = entry.map_err(|e| LogError::io("listing sled's blob directory", e))?;
            let name = entry.file_name();
            if !self.synced_blobs.contains(&name) {
                File::open(entry.path())
                    .and_then(|f| f.sync_all())
                    .map_err(|e| LogError::io(format!("fsync of blob {:?}", name), e))?;
                any_new = true;
            }
            present.insert(name);
        }
        if any_new {
            sync_log_dir(&self.blobs)?;
        }
        self.synced_blobs = present;
        Ok(())
    }
}

#[cfg(test)]
impl DataFiles {
    /// Puts `file` where sled's data file was: the barrier then syncs that instead.
    pub(crate) fn replace_data_file(&mut self, file: File) {
        self.data = file;
    }
}

/// Creates `dir` and whichever of its parents are missing so that they survive a power
/// cut: after `create_dir_all`, the parent of each new directory is fsynced (deepest
/// first), since a directory's entry is durable only once its parent is synced. Without
/// it a power cut can take a freshly created data directory away whole, every
/// acknowledged event in it included (the power-cut test `power_cut` showed it).
pub fn create_dir_all_durably(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut at = dir;
    while !at.as_os_str().is_empty() && !at.exists() {
        missing.push(at);
        match at.parent() {
            Some(parent) => at = parent,
            None => break,
        }
    }
    std::fs::create_dir_all(dir)?;
    for created in missing {
        let parent = match created.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// `fsync` a directory, so the entries created, renamed or removed in it survive a power
/// cut (a file's own `fsync` makes its data durable, not its name).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// [`sync_dir`], failing the log.
pub(crate) fn sync_log_dir(dir: &Path) -> Result<(), LogError> {
    sync_dir(dir).map_err(|e| LogError::io(format!("fsync of directory {}", dir.display()), e))
}
