//! The FUSE operations over the backing directory, the volatile pages and the journal.
//!
//! One mutex guards the whole state: most operations are short memory updates; only
//! `fsync`, `fsyncdir` and namespace operations write to the backing directory.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    KernelConfig, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
    WriteFlags,
};

use crate::journal::{Journal, Loc, Op};
use crate::pages::Volatile;
use crate::rng::Rng;
use crate::tree::{ROOT, TRASH, Tree};
use crate::{Options, Stats};

/// Nothing is cached in the kernel: after a cut, every stat and lookup must reach us
/// and fail, and the files use direct I/O for the same reason.
const TTL: Duration = Duration::ZERO;

/// The state every FUSE thread and the test's handle share.
pub(crate) struct Shared {
    backing: PathBuf,
    state: Mutex<State>,
    options: Options,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    writes: AtomicU64,
    bytes_written: AtomicU64,
    fsyncs: AtomicU64,
    fsyncdirs: AtomicU64,
    bytes_synced: AtomicU64,
    cuts: AtomicU64,
    bytes_dropped: AtomicU64,
    torn_blocks: AtomicU64,
    namespace_ops_undone: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

struct State {
    tree: Tree,
    /// Regular files opened since the mount, by inode: their volatile content.
    files: HashMap<u64, Volatile<File>>,
    journal: Journal,
    /// Open directory handles: the listing taken at offset 0.
    listings: HashMap<u64, Vec<(u64, FileType, OsString)>>,
    next_handle: u64,
    /// Set by a cut or a clean unmount: every operation fails with `EIO` from then on.
    stopped: bool,
}

impl Shared {
    /// State over `backing`, a canonical directory path whose trash directory is empty.
    pub(crate) fn new(backing: PathBuf, options: Options) -> Self {
        Self {
            backing: backing.clone(),
            state: Mutex::new(State {
                tree: Tree::new(backing),
                files: HashMap::new(),
                journal: Journal::default(),
                listings: HashMap::new(),
                next_handle: 1,
                stopped: false,
            }),
            options,
            counters: Counters::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in one operation must not hide the state from the cut that follows.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state, unless a cut stopped the file system.
    fn live(&self) -> Result<MutexGuard<'_, State>, Errno> {
        let state = self.lock();
        if state.stopped {
            return Err(Errno::EIO);
        }
        Ok(state)
    }

    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            writes: get(&c.writes),
            bytes_written: get(&c.bytes_written),
            fsyncs: get(&c.fsyncs),
            fsyncdirs: get(&c.fsyncdirs),
            bytes_synced: get(&c.bytes_synced),
            cuts: get(&c.cuts),
            bytes_dropped: get(&c.bytes_dropped),
            torn_blocks: get(&c.torn_blocks),
            namespace_ops_undone: get(&c.namespace_ops_undone),
        }
    }

    /// The power cut; see [`crate::FaultFs::cut`].
    pub(crate) fn cut(&self, seed: u64) -> io::Result<()> {
        let mut state = self.lock();
        if state.stopped {
            return Ok(());
        }
        state.stopped = true;
        add(&self.counters.cuts, 1);
        let mut rng = Rng::new(seed);
        let mut inos: Vec<u64> = state.files.keys().copied().collect();
        inos.sort_unstable();
        let mut first_error = None;
        for ino in inos {
            let Some(mut file) = state.files.remove(&ino) else {
                continue;
            };
            match file.cut(&mut rng, self.options.torn_write_probability) {
                Ok(outcome) => {
                    add(&self.counters.bytes_dropped, outcome.dropped_bytes);
                    add(&self.counters.torn_blocks, outcome.torn_blocks);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let ops = state.journal.take();
        for op in ops.into_iter().rev() {
            match state.undo(op) {
                Ok(true) => add(&self.counters.namespace_ops_undone, 1),
                Ok(false) => {}
                Err(e) => {
                    first_error.get_or_insert(io::Error::from_raw_os_error(e.code()));
                }
            }
        }
        state.listings.clear();
        // What is left in the trash belongs to operations that stay done.
        let emptied = crate::tree::empty_trash(&self.backing);
        match first_error {
            Some(e) => Err(e),
            None => emptied,
        }
    }

    /// A clean shutdown, once no request can arrive: what was volatile becomes durable.
    pub(crate) fn write_back(&self) -> io::Result<()> {
        let mut state = self.lock();
        if state.stopped {
            return Ok(());
        }
        state.stopped = true;
        for file in state.files.values_mut() {
            add(&self.counters.bytes_synced, file.sync()?);
        }
        state.files.clear();
        for op in state.journal.take() {
            state
                .finish(op)
                .map_err(|e| io::Error::from_raw_os_error(e.code()))?;
        }
        Ok(())
    }
}

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

impl State {
    /// The attributes of `ino`, with the volatile size of a regular file.
    fn attr(&self, ino: u64) -> Result<FileAttr, Errno> {
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
    fn file(&mut self, ino: u64) -> Result<&mut Volatile<File>, Errno> {
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

    fn lookup(&mut self, parent: u64, name: &OsStr) -> Result<FileAttr, Errno> {
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

    fn create_file(
        &mut self,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
    ) -> Result<u64, Errno> {
        if self.tree.child(parent, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        let backing = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(mode & !umask & 0o7777)
            .open(self.tree.child_path(parent, name)?)?;
        let ino = self.created(parent, name, FileType::RegularFile);
        self.files.insert(ino, Volatile::new(backing, 0));
        Ok(ino)
    }

    fn mkdir(&mut self, parent: u64, name: &OsStr, mode: u32, umask: u32) -> Result<u64, Errno> {
        if self.tree.child(parent, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        fs::DirBuilder::new()
            .mode(mode & !umask & 0o7777)
            .create(self.tree.child_path(parent, name)?)?;
        Ok(self.created(parent, name, FileType::Directory))
    }

    fn remove(&mut self, parent: u64, name: &OsStr, dir: bool) -> Result<(), Errno> {
        let ino = self.tree.child(parent, name)?.ok_or(Errno::ENOENT)?;
        let is_dir = self.tree.kind(ino)? == FileType::Directory;
        match (dir, is_dir) {
            (true, false) => return Err(Errno::ENOTDIR),
            (false, true) => return Err(Errno::EISDIR),
            (true, true) if !dir_is_empty(&self.tree.path(ino)?)? => {
                return Err(Errno::ENOTEMPTY);
            }
            _ => {}
        }
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

    fn rename(&mut self, from: Loc, to: Loc, flags: RenameFlags) -> Result<(), Errno> {
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
            match (is_dir, self.tree.kind(old)? == FileType::Directory) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !dir_is_empty(&self.tree.path(old)?)? => {
                    return Err(Errno::ENOTEMPTY);
                }
                _ => {}
            }
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

    /// An operation became durable: what it removed leaves the trash for good.
    fn finish(&mut self, op: Op) -> Result<(), Errno> {
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
    fn undo(&mut self, op: Op) -> Result<bool, Errno> {
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

    fn listing(&mut self, ino: u64) -> Result<Vec<(u64, FileType, OsString)>, Errno> {
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

/// The file system fuser serves.
pub(crate) struct FaultFilesystem(pub(crate) std::sync::Arc<Shared>);

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
        let result = self.0.live().and_then(|mut s| {
            if mode & S_IFMT != S_IFREG {
                return Err(Errno::EPERM);
            }
            let ino = s.create_file(parent.0, name, mode, umask)?;
            s.attr(ino)
        });
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
        let result = self.0.live().and_then(|mut s| {
            let ino = s.mkdir(parent.0, name, mode, umask)?;
            s.attr(ino)
        });
        entry_reply(result, reply);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        empty_reply(
            self.0
                .live()
                .and_then(|mut s| s.remove(parent.0, name, false)),
            reply,
        );
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        empty_reply(
            self.0
                .live()
                .and_then(|mut s| s.remove(parent.0, name, true)),
            reply,
        );
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
        let result = self.0.live().and_then(|mut s| {
            let ino = s.create_file(parent.0, name, mode, umask)?;
            s.attr(ino)
        });
        match result {
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
