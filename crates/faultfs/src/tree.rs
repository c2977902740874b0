//! The inode table: which FUSE inode is which entry of the backing directory.
//!
//! Invariants:
//! - The table and the backing directory change together: every rename here renames the
//!   backing entry first, and only then moves the node.
//! - Inode numbers are never reused within a mount (so generation 0 is enough), and a node
//!   is never forgotten: a mount lives as long as one test.
//! - The trash (`TRASH`, `.faultfs-trash` in the backing root) holds what a namespace
//!   operation removed while that operation is not durable; clients never see it.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use fuser::{Errno, FileType};

use crate::journal::Loc;

/// The root directory's inode, as FUSE numbers it.
pub(crate) const ROOT: u64 = 1;
/// The trash directory's inode.
pub(crate) const TRASH: u64 = 2;
/// The trash directory's name in the backing root.
pub(crate) const TRASH_NAME: &str = ".faultfs-trash";

/// Empties (or creates) the trash directory of the backing root `backing`.
pub(crate) fn empty_trash(backing: &Path) -> io::Result<()> {
    let trash = backing.join(TRASH_NAME);
    match fs::remove_dir_all(&trash) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    fs::create_dir(&trash)
}

struct Node {
    parent: u64,
    name: OsString,
    kind: FileType,
}

pub(crate) struct Tree {
    root: PathBuf,
    nodes: HashMap<u64, Node>,
    names: HashMap<(u64, OsString), u64>,
    next_ino: u64,
    next_trash: u64,
}

impl Tree {
    /// A table of the backing directory `root`, whose trash directory exists and is empty.
    pub(crate) fn new(root: PathBuf) -> Self {
        let mut tree = Self {
            root,
            nodes: HashMap::new(),
            names: HashMap::new(),
            next_ino: TRASH + 1,
            next_trash: 0,
        };
        tree.nodes.insert(
            ROOT,
            Node {
                parent: ROOT,
                name: OsString::new(),
                kind: FileType::Directory,
            },
        );
        tree.nodes.insert(
            TRASH,
            Node {
                parent: ROOT,
                name: TRASH_NAME.into(),
                kind: FileType::Directory,
            },
        );
        tree.names.insert((ROOT, TRASH_NAME.into()), TRASH);
        tree
    }

    /// The backing path of `ino`.
    pub(crate) fn path(&self, ino: u64) -> Result<PathBuf, Errno> {
        let mut names = Vec::new();
        let mut at = ino;
        while at != ROOT {
            let node = self.nodes.get(&at).ok_or(Errno::ENOENT)?;
            names.push(&node.name);
            at = node.parent;
            if names.len() > 4096 {
                return Err(Errno::ELOOP);
            }
        }
        let mut path = self.root.clone();
        path.extend(names.into_iter().rev());
        Ok(path)
    }

    /// The backing path of the name `name` in directory `parent`.
    pub(crate) fn child_path(&self, parent: u64, name: &OsStr) -> Result<PathBuf, Errno> {
        Ok(self.path(parent)?.join(name))
    }

    pub(crate) fn kind(&self, ino: u64) -> Result<FileType, Errno> {
        self.nodes.get(&ino).map(|n| n.kind).ok_or(Errno::ENOENT)
    }

    /// Whether `ino` is the entry `at`.
    pub(crate) fn is_at(&self, ino: u64, at: &Loc) -> bool {
        self.nodes
            .get(&ino)
            .is_some_and(|n| n.parent == at.parent && n.name == at.name)
    }

    /// The inode of `name` in `parent`, giving it one if the backing entry is new to us.
    pub(crate) fn child(&mut self, parent: u64, name: &OsStr) -> Result<Option<u64>, Errno> {
        if parent == ROOT && name == TRASH_NAME {
            return Ok(None);
        }
        if let Some(&ino) = self.names.get(&(parent, name.to_owned())) {
            return Ok(Some(ino));
        }
        let meta = match fs::symlink_metadata(self.child_path(parent, name)?) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let kind = FileType::from_std(meta.file_type()).ok_or(Errno::EIO)?;
        Ok(Some(self.insert(parent, name, kind)))
    }

    /// Records a new entry that already exists in the backing directory.
    pub(crate) fn insert(&mut self, parent: u64, name: &OsStr, kind: FileType) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(
            ino,
            Node {
                parent,
                name: name.to_owned(),
                kind,
            },
        );
        self.names.insert((parent, name.to_owned()), ino);
        ino
    }

    /// Renames `ino`'s backing entry to `to`, which must be free, and moves the node.
    pub(crate) fn rename(&mut self, ino: u64, to: &Loc) -> Result<(), Errno> {
        fs::rename(self.path(ino)?, self.child_path(to.parent, &to.name)?)?;
        let node = self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)?;
        let old = (
            node.parent,
            std::mem::replace(&mut node.name, to.name.clone()),
        );
        node.parent = to.parent;
        if self.names.get(&old) == Some(&ino) {
            self.names.remove(&old);
        }
        self.names.insert((to.parent, to.name.clone()), ino);
        Ok(())
    }

    /// Moves `ino` into the trash; answers its name there.
    pub(crate) fn trash(&mut self, ino: u64) -> Result<OsString, Errno> {
        let name = OsString::from(self.next_trash.to_string());
        self.next_trash += 1;
        self.rename(
            ino,
            &Loc {
                parent: TRASH,
                name: name.clone(),
            },
        )?;
        Ok(name)
    }

    /// Deletes `ino`'s backing entry (a directory with its subtree) and forgets its name.
    /// Its node stays, so an open file handle still finds its data.
    pub(crate) fn delete(&mut self, ino: u64) -> Result<(), Errno> {
        let path = self.path(ino)?;
        if self.kind(ino)? == FileType::Directory {
            fs::remove_dir_all(path)?;
        } else {
            fs::remove_file(path)?;
        }
        if let Some(node) = self.nodes.get(&ino) {
            let key = (node.parent, node.name.clone());
            if self.names.get(&key) == Some(&ino) {
                self.names.remove(&key);
            }
        }
        Ok(())
    }
}
