//! The FUSE requests: each takes the state's lock, runs one operation on it and replies.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::time::SystemTime;

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    KernelConfig, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
    WriteFlags,
};

use super::{Shared, TTL, add};
use crate::journal::Loc;
use crate::tree::ROOT;

fn attr_reply(result: Result<FileAttr, Errno>, reply: ReplyAttr) {
    match result {
        Ok(attr) => reply.attr(&TTL, &attr),
        Err(e) => reply.error(e),
    }
}

fn entry_reply(result: Result<FileAttr, Errno>, reply: ReplyEntry) {
    match result {
        Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
        Err(e) => reply.error(e),
    }
}

fn empty_reply(result: Result<(), Errno>, reply: ReplyEmpty) {
    match result {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

/// The file system fuser serves.
pub(crate) struct FaultFilesystem(pub(crate) std::sync::Arc<Shared>);

impl FaultFilesystem {
    /// `mknod`, `mkdir` and `create`: a new entry of `kind`.
    fn create(
        &self,
        parent: INodeNo,
        name: &OsStr,
        kind: FileType,
        mode: u32,
        umask: u32,
    ) -> Result<FileAttr, Errno> {
        let mut s = self.0.live()?;
        s.create(parent.0, name, kind, mode, umask)
    }

    /// `unlink` (a file) or `rmdir` (`dir`).
    fn remove(&self, parent: INodeNo, name: &OsStr, dir: bool, reply: ReplyEmpty) {
        let result = self
            .0
            .live()
            .and_then(|mut s| s.remove(parent.0, name, dir));
        empty_reply(result, reply);
    }
}

impl Filesystem for FaultFilesystem {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> io::Result<()> {
        // Fewer, larger writes where the kernel allows (it caps at its max_pages).
        let _ = config.set_max_write(1 << 20);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let result = self.0.live().and_then(|mut s| s.lookup(parent.0, name));
        entry_reply(result, reply);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let result = self.0.live().and_then(|s| s.attr(ino.0));
        attr_reply(result, reply);
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let result = self.0.live().and_then(|mut s| {
            let ino = ino.0;
            if let Some(size) = size {
                s.file(ino)?.truncate(size);
            }
            if let Some(mode) = mode {
                fs::set_permissions(s.tree.path(ino)?, fs::Permissions::from_mode(mode & 0o7777))?;
            }
            if uid.is_some() || gid.is_some() {
                std::os::unix::fs::lchown(s.tree.path(ino)?, uid, gid)?;
            }
            s.attr(ino)
        });
        attr_reply(result, reply);
    }

    fn mknod(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        // Regular files only: sled and the log need nothing else.
        const S_IFMT: u32 = 0o170_000;
        const S_IFREG: u32 = 0o100_000;
        let result = match mode & S_IFMT {
            S_IFREG => self.create(parent, name, FileType::RegularFile, mode, umask),
            // A stopped file system answers `EIO` first, as to every request.
            _ => self.0.live().and(Err(Errno::EPERM)),
        };
        entry_reply(result, reply);
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        entry_reply(
            self.create(parent, name, FileType::Directory, mode, umask),
            reply,
        );
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.remove(parent, name, false, reply);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.remove(parent, name, true, reply);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let from = Loc {
            parent: parent.0,
            name: name.to_owned(),
        };
        let to = Loc {
            parent: newparent.0,
            name: newname.to_owned(),
        };
        empty_reply(
            self.0.live().and_then(|mut s| s.rename(from, to, flags)),
            reply,
        );
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.0.live().and_then(|mut s| s.file(ino.0).map(drop)) {
            // Direct I/O: every read and write reaches us, none is served from the
            // kernel's page cache (which would outlive a cut).
            Ok(()) => reply.opened(FileHandle(0), FopenFlags::FOPEN_DIRECT_IO),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self
            .0
            .live()
            .and_then(|mut s| Ok(s.file(ino.0)?.read(offset, u64::from(size))?))
        {
            Ok(data) => reply.data(&data),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let result = self.0.live().and_then(|mut s| {
            let written = u32::try_from(data.len()).map_err(|_| Errno::EINVAL)?;
            s.file(ino.0)?.write(offset, data)?;
            Ok(written)
        });
        match result {
            Ok(written) => {
                add(&self.0.counters.writes, 1);
                add(&self.0.counters.bytes_written, u64::from(written));
                reply.written(written);
            }
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // close(2) persists nothing.
        empty_reply(self.0.live().map(drop), reply);
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        // fdatasync and fsync alike persist the data and the size; never the file's name.
        let result = self.0.live().and_then(|mut s| Ok(s.file(ino.0)?.sync()?));
        empty_reply(
            result.map(|bytes| {
                add(&self.0.counters.fsyncs, 1);
                add(&self.0.counters.bytes_synced, bytes);
            }),
            reply,
        );
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let result = self.0.live().and_then(|mut s| {
            if s.tree.kind(ino.0)? != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
            let handle = s.next_handle;
            s.next_handle += 1;
            Ok(handle)
        });
        match result {
            Ok(handle) => reply.opened(FileHandle(handle), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let result = self.0.live().and_then(|mut s| {
            if offset == 0 || !s.listings.contains_key(&fh.0) {
                let listing = s.listing(ino.0)?;
                s.listings.insert(fh.0, listing);
            }
            let listing = &s.listings[&fh.0];
            let skip = usize::try_from(offset).unwrap_or(usize::MAX);
            for (next, (child, kind, name)) in (offset + 1..).zip(listing.iter().skip(skip)) {
                if reply.add(INodeNo(*child), next, *kind, name) {
                    break;
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        let result = self.0.live().map(|mut s| {
            s.listings.remove(&fh.0);
        });
        empty_reply(result, reply);
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let result = self.0.live().and_then(|mut s| {
            for op in s.journal.sync_dir(ino.0) {
                s.finish(op)?;
            }
            Ok(())
        });
        if result.is_ok() {
            add(&self.0.counters.fsyncdirs, 1);
        }
        empty_reply(result, reply);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // The backing file system's figures: the log checks free space before each group.
        let result = self.0.live().and_then(|s| {
            rustix::fs::statvfs(s.tree.path(ROOT)?).map_err(|e| Errno::from_i32(e.raw_os_error()))
        });
        match result {
            Ok(v) => reply.statfs(
                v.f_blocks,
                v.f_bfree,
                v.f_bavail,
                v.f_files,
                v.f_ffree,
                u32::try_from(v.f_bsize).unwrap_or(4096),
                u32::try_from(v.f_namemax).unwrap_or(255),
                u32::try_from(v.f_frsize).unwrap_or(4096),
            ),
            Err(e) => reply.error(e),
        }
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        empty_reply(self.0.live().map(drop), reply);
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        match self.create(parent, name, FileType::RegularFile, mode, umask) {
            Ok(attr) => reply.created(
                &TTL,
                &attr,
                Generation(0),
                FileHandle(0),
                FopenFlags::FOPEN_DIRECT_IO,
            ),
            Err(e) => reply.error(e),
        }
    }
}
