//! What a live projection keeps in memory from one batch to the next: the rows it changed
//! in place, still decoded.
//!
//! A live batch reads a row it changes in place (a member's signals, a post's stats),
//! decodes it, changes it and writes it out encoded. The next batch that changes the same
//! row read and decoded it again: a member's `foryou` signals hold a few hundred ids, and
//! decoding them was the largest part of the live projections' work while members shared
//! posts (`bench lag`, BENCHMARKS.md). Kept decoded, a row is only encoded again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::store::DecodedRow;

/// Rows a live projection changed in place, decoded, as its committed batches left them,
/// within a byte budget.
///
/// Invariant: only what the tree of one generation holds as committed. It is handed to a
/// batch's rows, which take out what they change, and taken back only once the batch is
/// committed: a batch that fails drops it, and so does a rebuild's swap (a warm set is
/// for the generation it was made from, [`Warm::is_for`]).
pub(crate) struct Warm {
    generation: PathBuf,
    /// The newest rows, and the bytes they are counted at.
    rows: HashMap<Vec<u8>, (Box<dyn DecodedRow>, usize), foldhash::fast::RandomState>,
    bytes: usize,
    /// The rows kept before `rows` last came to half the budget: found as well, and
    /// dropped the next time. The least recently kept go first, without a list to keep.
    older: HashMap<Vec<u8>, (Box<dyn DecodedRow>, usize), foldhash::fast::RandomState>,
    limit: usize,
}

impl Warm {
    /// An empty set for the generation stored in `generation`, holding rows counted at up
    /// to about `limit` bytes.
    pub(crate) fn new(generation: &Path, limit: usize) -> Self {
        Self {
            generation: generation.to_owned(),
            rows: HashMap::default(),
            bytes: 0,
            older: HashMap::default(),
            limit,
        }
    }

    /// Whether these rows are of the generation stored in `generation`.
    pub(crate) fn is_for(&self, generation: &Path) -> bool {
        self.generation == generation
    }

    /// Takes out the row at `key`, if it is kept, with the bytes it is counted at.
    pub(crate) fn take(&mut self, key: &[u8]) -> Option<(Box<dyn DecodedRow>, usize)> {
        match self.rows.remove(key) {
            Some((row, size)) => {
                self.bytes = self.bytes.saturating_sub(size);
                Some((row, size))
            }
            None => self.older.remove(key),
        }
    }

    /// Keeps `row`, as committed at `key`, counted at `size` bytes.
    pub(crate) fn keep(&mut self, key: Vec<u8>, row: Box<dyn DecodedRow>, size: usize) {
        if size > self.limit / 2 {
            self.forget(&key);
            return;
        }
        if self.bytes + size > self.limit / 2 {
            self.older = std::mem::take(&mut self.rows);
            self.bytes = 0;
        }
        self.older.remove(&key);
        self.bytes += size;
        if let Some((_, replaced)) = self.rows.insert(key, (row, size)) {
            self.bytes = self.bytes.saturating_sub(replaced);
        }
    }

    /// Forgets the row at `key` (written whole or removed since it was kept).
    pub(crate) fn forget(&mut self, key: &[u8]) {
        if let Some((_, size)) = self.rows.remove(key) {
            self.bytes = self.bytes.saturating_sub(size);
        }
        self.older.remove(key);
    }

    /// How many rows are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.rows.len() + self.older.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(value: u64) -> Box<dyn DecodedRow> {
        Box::new(Some(value))
    }

    #[test]
    fn a_kept_row_is_taken_out_once_and_a_forgotten_one_never() {
        let mut warm = Warm::new(Path::new("stats-1"), 1 << 20);
        warm.keep(b"a".to_vec(), row(1), 100);
        warm.keep(b"b".to_vec(), row(2), 100);
        warm.forget(b"b");
        assert!(warm.take(b"a").is_some());
        assert!(warm.take(b"a").is_none(), "taken out, it is the batch's");
        assert!(warm.take(b"b").is_none());
        assert!(warm.is_for(Path::new("stats-1")));
        assert!(!warm.is_for(Path::new("stats-2")));
    }

    #[test]
    fn rows_past_the_budget_go_oldest_first_and_the_budget_holds() {
        let mut warm = Warm::new(Path::new("stats-1"), 1_000);
        for i in 0..100u64 {
            warm.keep(i.to_be_bytes().to_vec(), row(i), 100);
            assert!(
                warm.len() <= 10,
                "{} rows of 100 bytes in a budget of 1,000",
                warm.len()
            );
        }
        assert!(
            warm.take(&99u64.to_be_bytes()).is_some(),
            "the newest stays"
        );
        assert!(warm.take(&0u64.to_be_bytes()).is_none(), "the oldest went");
        warm.keep(b"huge".to_vec(), row(7), 600);
        assert!(
            warm.take(b"huge").is_none(),
            "a row over half the budget is not kept"
        );
    }
}
