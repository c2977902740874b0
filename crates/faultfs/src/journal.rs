//! The namespace undo journal: which creates, removals and renames are not yet durable.
//!
//! Every namespace operation is applied to the backing directory at once and recorded
//! here with the directories whose `fsync` it waits for. `fsyncdir(d)` strikes `d` from
//! every entry; an entry with no directory left is durable and leaves the journal. A cut
//! undoes what is left, newest first.

use std::ffi::OsString;

/// Where a name lives: its parent directory's inode and the name in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loc {
    pub(crate) parent: u64,
    pub(crate) name: OsString,
}

/// A namespace operation and what undoing it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// `ino` was created at `at` (create, mknod, mkdir). Undo: remove it, with its subtree.
    Created { ino: u64, at: Loc },
    /// `ino` was removed from `at` (unlink, rmdir) and now sits in the trash under `trash`.
    /// Undo: move it back.
    Removed { ino: u64, at: Loc, trash: OsString },
    /// `ino` moved from `from` to `to`, replacing `victim` (now in the trash under the
    /// given name). Undo: move it back, then the victim.
    Renamed {
        ino: u64,
        from: Loc,
        to: Loc,
        victim: Option<(u64, OsString)>,
    },
}

impl Op {
    /// The directories whose `fsync` makes this operation durable.
    fn dirs(&self) -> Vec<u64> {
        match self {
            Op::Created { at, .. } | Op::Removed { at, .. } => vec![at.parent],
            Op::Renamed { from, to, .. } if from.parent == to.parent => vec![from.parent],
            Op::Renamed { from, to, .. } => vec![from.parent, to.parent],
        }
    }
}

struct Entry {
    op: Op,
    /// Directories not yet synced since the operation.
    waiting: Vec<u64>,
}

/// Operations not yet durable, oldest first.
#[derive(Default)]
pub(crate) struct Journal {
    entries: Vec<Entry>,
}

impl Journal {
    pub(crate) fn push(&mut self, op: Op) {
        let waiting = op.dirs();
        self.entries.push(Entry { op, waiting });
    }

    /// `fsync` of directory `dir`: answers the operations that became durable, oldest first.
    pub(crate) fn sync_dir(&mut self, dir: u64) -> Vec<Op> {
        for entry in &mut self.entries {
            entry.waiting.retain(|&d| d != dir);
        }
        self.entries
            .extract_if(.., |entry| entry.waiting.is_empty())
            .map(|entry| entry.op)
            .collect()
    }

    /// Empties the journal: answers every operation not yet durable, oldest first.
    pub(crate) fn take(&mut self) -> Vec<Op> {
        self.entries.drain(..).map(|entry| entry.op).collect()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(parent: u64, name: &str) -> Loc {
        Loc {
            parent,
            name: name.into(),
        }
    }

    #[test]
    fn a_rename_between_two_directories_waits_for_both() {
        let mut journal = Journal::default();
        journal.push(Op::Created {
            ino: 10,
            at: at(1, "a"),
        });
        let rename = Op::Renamed {
            ino: 10,
            from: at(1, "a"),
            to: at(5, "b"),
            victim: None,
        };
        journal.push(rename.clone());
        assert_eq!(journal.sync_dir(5), vec![]);
        assert_eq!(
            journal.sync_dir(1),
            vec![
                Op::Created {
                    ino: 10,
                    at: at(1, "a")
                },
                rename
            ]
        );
        assert_eq!(journal.len(), 0);
    }

    #[test]
    fn syncing_one_directory_leaves_the_others_pending() {
        let mut journal = Journal::default();
        journal.push(Op::Created {
            ino: 10,
            at: at(1, "a"),
        });
        journal.push(Op::Created {
            ino: 11,
            at: at(5, "b"),
        });
        assert_eq!(journal.sync_dir(5).len(), 1);
        assert_eq!(
            journal.take(),
            vec![Op::Created {
                ino: 10,
                at: at(1, "a")
            }]
        );
    }
}
