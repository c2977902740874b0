//! Which key layout a store has ([`keys::LAYOUT_VERSION`]), and the migration of a
//! layout version 1 store (one record per `p` key) to chunks.
//!
//! The migration runs on open, before recovery, in three steps, each made durable before
//! the next:
//! 1. remove any chunk a migration cut short left, then write the records as chunks;
//! 2. flip the layout key to 2;
//! 3. remove the `p` keys.
//!
//! A crash before step 2 is durable leaves a version 1 store, which the next open migrates
//! from the start; a crash after it leaves a version 2 store whose chunks are all durable
//! (written and flushed before the flip), with `p` keys that nothing reads and the next
//! open removes. The stored record bytes are copied unchanged, gaps and records past the
//! tail marker included: recovery and verify then judge them exactly as before.
//!
//! Invariant: only [`upgrade`] writes, and only through a handle with write access;
//! [`layout`] only reads.

use sparkfeed_events::Position;

use crate::chunk::Chunker;
use crate::{LogError, keys};

/// What a store's layout key and records say about it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Layout {
    /// A new store: no layout key and no records.
    Empty,
    /// Records in chunks ([`keys::LAYOUT_VERSION`]).
    Chunks,
    /// One record per key ([`keys::LEGACY_LAYOUT_VERSION`]), or records under `p` keys
    /// with no layout key at all (written before it existed).
    Legacy,
}

/// The layout of the store in `tree`, or why it cannot be read. Reads only.
pub(crate) fn layout(tree: &sled::Tree) -> Result<Layout, LogError> {
    let any = |prefix: &[u8]| -> Result<bool, LogError> {
        Ok(tree.scan_prefix(prefix).next().transpose()?.is_some())
    };
    match tree.get(keys::LAYOUT_KEY)?.as_deref() {
        Some([keys::LAYOUT_VERSION]) => Ok(Layout::Chunks),
        Some([keys::LEGACY_LAYOUT_VERSION]) => Ok(Layout::Legacy),
        Some(other) => Err(LogError::UnknownLayout {
            found: other.first().copied().unwrap_or(0),
            known: keys::LAYOUT_VERSION,
        }),
        None if any(keys::legacy_record_prefix())? => Ok(Layout::Legacy),
        None if any(keys::chunk_prefix())? => Err(LogError::Corrupt {
            position: None,
            reason: "record chunks present but no layout marker".into(),
        }),
        None => Ok(Layout::Empty),
    }
}

/// What [`upgrade`] did.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Upgraded {
    /// Records moved from `p` keys into chunks.
    pub(crate) records: u64,
    /// Chunks written for them.
    pub(crate) chunks: u64,
    /// `p` keys removed (after a migration, or left by one a crash cut short).
    pub(crate) removed: u64,
}

/// Brings the store in `tree` to the chunk layout (see the module doc); `sync` is the
/// durability barrier (sled's flush, then fdatasync). An empty store is left as it is.
pub(crate) fn upgrade(
    tree: &sled::Tree,
    mut sync: impl FnMut() -> Result<(), LogError>,
) -> Result<(Layout, Upgraded), LogError> {
    let found = layout(tree)?;
    let mut done = Upgraded::default();
    match found {
        Layout::Empty => return Ok((found, done)),
        Layout::Chunks => {}
        Layout::Legacy => {
            // Step 1: chunks of a migration cut short go first (their runs may differ).
            remove_all(tree, keys::chunk_prefix())?;
            let mut chunker = Chunker::default();
            for entry in tree.scan_prefix(keys::legacy_record_prefix()) {
                let (key, stored) = entry?;
                let position = legacy_position(&key)?;
                if let Some((key, value)) = chunker.push(position, &stored) {
                    tree.insert(key, value)?;
                    done.chunks += 1;
                }
                done.records += 1;
            }
            if let Some((key, value)) = chunker.take() {
                tree.insert(key, value)?;
                done.chunks += 1;
            }
            sync()?;
            // Step 2: from here on the store is read in chunks.
            tree.insert(keys::LAYOUT_KEY, &[keys::LAYOUT_VERSION])?;
            sync()?;
        }
    }
    // Step 3, or what a crash in it left.
    done.removed = remove_all(tree, keys::legacy_record_prefix())?;
    if done.removed > 0 {
        sync()?;
    }
    if done.records > 0 || done.removed > 0 {
        tracing::warn!(
            records = done.records,
            chunks = done.chunks,
            removed = done.removed,
            "migrated the log's records to chunks (layout version 2)"
        );
    }
    Ok((Layout::Chunks, done))
}

fn legacy_position(key: &[u8]) -> Result<Position, LogError> {
    keys::position_of_legacy_record_key(key).ok_or(LogError::Corrupt {
        position: None,
        reason: "malformed record key in a layout version 1 store".into(),
    })
}

/// Removes every key under `prefix`; answers how many.
fn remove_all(tree: &sled::Tree, prefix: &[u8]) -> Result<u64, LogError> {
    let mut removed = 0;
    for key in tree.scan_prefix(prefix).keys() {
        tree.remove(key?)?;
        removed += 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests;
