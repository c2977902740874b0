//! The operations on the state: each answers what the FUSE reply needs, or the errno.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use fuser::{Errno, FileAttr, FileType, INodeNo, RenameFlags};

use super::State;
use crate::journal::{Loc, Op};
use crate::pages::Volatile;
use crate::tree::TRASH;

impl State {
    /// The attributes of `ino`, with the volatile size of a regular file.
    pub(super) fn attr(&self, ino: u64) -> Result<FileAttr, Errno> {
        let (meta, size) = match self.files.get(&ino) {
            Some(file) => (file.backing().metadata()?, file.len()),
            None => {
                let meta = fs::symlink_metadata(self.tree.path(ino)?)?;
                let size = meta.len();
                (meta, size)
            }
        };
        let kind = FileType::from_std(meta.file_type()).ok_or(Errno::EIO)?;
        let time = |secs: i64, nanos: i64| {
            let (Ok(secs), Ok(nanos)) = (u64::try_from(secs), u32::try_from(nanos)) else {
                return UNIX_EPOCH;
            };
            UNIX_EPOCH + Duration::new(secs, nanos)
        };
        Ok(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: time(meta.atime(), meta.atime_nsec()),
            mtime: time(meta.mtime(), meta.mtime_nsec()),
            ctime: time(meta.ctime(), meta.ctime_nsec()),
            crtime: UNIX_EPOCH,
            kind,
            perm: u16::try_from(meta.mode() & 0o7777).expect("masked to 12 bits"),
            nlink: u32::try_from(meta.nlink()).unwrap_or(u32::MAX),
            uid: meta.uid(),
            gid: meta.gid(),
            rdev: u32::try_from(meta.rdev()).unwrap_or(0),
            blksize: 4096,
            flags: 0,
        })
    }

    /// The volatile state of regular file `ino`, opening its backing file the first time.
    pub(super) fn file(&mut self, ino: u64) -> Result<&mut Volatile<File>, Errno> {
        if !self.files.contains_key(&ino) {
            if self.tree.kind(ino)? != FileType::RegularFile {
                return Err(Errno::EINVAL);
            }
            let backing = OpenOptions::new()
                .read(true)
                .write(true)
                .open(self.tree.path(ino)?)?;
            let len = backing.metadata()?.len();
            self.files.insert(ino, Volatile::new(backing, len));
        }
        Ok(self.files.get_mut(&ino).expect("inserted above"))
    }

    pub(super) fn lookup(&mut self, parent: u64, name: &OsStr) -> Result<FileAttr, Errno> {
        let ino = self.tree.child(parent, name)?.ok_or(Errno::ENOENT)?;
        self.attr(ino)
    }

    /// Records a new entry at `parent`/`name` that now exists in the backing directory.
    fn created(&mut self, parent: u64, name: &OsStr, kind: FileType) -> u64 {
        let ino = self.tree.insert(parent, name, kind);
        self.journal.push(Op::Created {
            ino,
            at: Loc {
                parent,
                name: name.to_owned(),
            },
        });
        ino
    }

    /// Creates a regular file or a directory (`kind`) at `parent`/`name`, with `mode` less
    /// `umask`.
    pub(super) fn create(
        &mut self,
        parent: u64,
        name: &OsStr,
        kind: FileType,
        mode: u32,
        umask: u32,
    ) -> Result<FileAttr, Errno> {
        if self.tree.child(parent, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        let mode = mode & !umask & 0o7777;
        let backing = if kind == FileType::Directory {
            fs::DirBuilder::new()
                .mode(mode)
                .create(self.tree.child_path(parent, name)?)?;
            None
        } else {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(self.tree.child_path(parent, name)?)?;
            Some(file)
        };
        let ino = self.created(parent, name, kind);
        if let Some(backing) = backing {
            self.files.insert(ino, Volatile::new(backing, 0));
        }
        self.attr(ino)
    }

    pub(super) fn remove(&mut self, parent: u64, name: &OsStr, dir: bool) -> Result<(), Errno> {
        let ino = self.tree.child(parent, name)?.ok_or(Errno::ENOENT)?;
        self.may_go(ino, dir)?;
        let trash = self.tree.trash(ino)?;
        self.journal.push(Op::Removed {
            ino,
            at: Loc {
                parent,
                name: name.to_owned(),
            },
            trash,
        });
        Ok(())
    }

    pub(super) fn rename(&mut self, from: Loc, to: Loc, flags: RenameFlags) -> Result<(), Errno> {
        if !(flags - RenameFlags::RENAME_NOREPLACE).is_empty() {
            return Err(Errno::EINVAL);
        }
        let ino = self
            .tree
            .child(from.parent, &from.name)?
            .ok_or(Errno::ENOENT)?;
        let is_dir = self.tree.kind(ino)? == FileType::Directory;
        let mut victim = None;
        if let Some(old) = self.tree.child(to.parent, &to.name)? {
            if old == ino {
                return Ok(());
            }
            if flags.contains(RenameFlags::RENAME_NOREPLACE) {
                return Err(Errno::EEXIST);
            }
            self.may_go(old, is_dir)?;
            victim = Some((old, self.tree.trash(old)?));
        }
        if let Err(e) = self.tree.rename(ino, &to) {
            if let Some((old, _)) = victim {
                // Best effort: the victim goes back where it was.
                let _ = self.tree.rename(old, &to);
            }
            return Err(e);
        }
        self.journal.push(Op::Renamed {
            ino,
            from,
            to,
            victim,
        });
        Ok(())
    }

    /// Whether `ino` may be removed, or replaced by a rename, as a directory (`dir`) or
    /// as anything else: a directory only as a directory and only when empty.
    fn may_go(&self, ino: u64, dir: bool) -> Result<(), Errno> {
        match (dir, self.tree.kind(ino)? == FileType::Directory) {
            (true, false) => Err(Errno::ENOTDIR),
            (false, true) => Err(Errno::EISDIR),
            (true, true) if !dir_is_empty(&self.tree.path(ino)?)? => Err(Errno::ENOTEMPTY),
            _ => Ok(()),
        }
    }

    /// An operation became durable: what it removed leaves the trash for good.
    pub(super) fn finish(&mut self, op: Op) -> Result<(), Errno> {
        let (ino, trash) = match op {
            Op::Created { .. } | Op::Renamed { victim: None, .. } => return Ok(()),
            Op::Removed { ino, trash, .. }
            | Op::Renamed {
                victim: Some((ino, trash)),
                ..
            } => (ino, trash),
        };
        if self.tree.is_at(ino, &in_trash(trash)) {
            self.tree.delete(ino)?;
        }
        Ok(())
    }

    /// Undoes a non-durable operation at a cut; answers whether it was undone. An
    /// operation whose undo would overwrite a durable later one stays done.
    pub(super) fn undo(&mut self, op: Op) -> Result<bool, Errno> {
        match op {
            Op::Created { ino, at } => {
                if !self.tree.is_at(ino, &at) {
                    return Ok(false);
                }
                self.tree.delete(ino)?;
                Ok(true)
            }
            Op::Removed { ino, at, trash } => {
                Ok(self.tree.is_at(ino, &in_trash(trash)) && self.put_back(ino, &at)?)
            }
            Op::Renamed {
                ino,
                from,
                to,
                victim,
            } => {
                let moved = self.tree.is_at(ino, &to) && self.put_back(ino, &from)?;
                if let Some((old, trash)) = victim
                    && self.tree.is_at(old, &in_trash(trash))
                {
                    self.put_back(old, &to)?;
                }
                Ok(moved)
            }
        }
    }

    /// Moves `ino` to `to` if that name is free and its directory still exists.
    fn put_back(&mut self, ino: u64, to: &Loc) -> Result<bool, Errno> {
        let Ok(path) = self.tree.child_path(to.parent, &to.name) else {
            return Ok(false);
        };
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
            Ok(_) => return Ok(false),
        }
        match self.tree.rename(ino, to) {
            Ok(()) => Ok(true),
            Err(e) if e == Errno::ENOENT => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub(super) fn listing(&mut self, ino: u64) -> Result<Vec<(u64, FileType, OsString)>, Errno> {
        let mut listing = vec![
            (ino, FileType::Directory, OsString::from(".")),
            (ino, FileType::Directory, OsString::from("..")),
        ];
        let mut names = Vec::new();
        for entry in fs::read_dir(self.tree.path(ino)?)? {
            names.push(entry?.file_name());
        }
        names.sort();
        for name in names {
            if let Some(child) = self.tree.child(ino, &name)? {
                listing.push((child, self.tree.kind(child)?, name));
            }
        }
        Ok(listing)
    }
}

fn in_trash(name: OsString) -> Loc {
    Loc {
        parent: TRASH,
        name,
    }
}

fn dir_is_empty(path: &Path) -> Result<bool, Errno> {
    Ok(fs::read_dir(path)?.next().is_none())
}
