//! The fault model, through a real mount: what survives a cut, what does not.
//!
//! These tests mount FUSE, so they need root and `/dev/fuse`; elsewhere each prints a
//! SKIPPED line and passes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sparkfeed_faultfs::{FaultFs, Options, skip_reason};

/// `EIO`, which every operation answers after a cut.
const EIO: i32 = 5;

/// A backing directory and a mount point in a temporary directory, mounted.
///
/// Fields drop in declaration order: the mount (`fs`) goes before the directory under it
/// (`_dir`), which can only be removed once nothing is mounted there (dropped first, it
/// was left behind in the temp dir by every test).
struct Fixture {
    backing: PathBuf,
    mnt: PathBuf,
    fs: Option<FaultFs>,
    options: Options,
    _dir: tempfile::TempDir,
}

/// The calling test's fixture, or `None` (after a SKIPPED line) where FUSE cannot run.
fn mounted(options: Options) -> Option<Fixture> {
    if let Some(why) = skip_reason() {
        // libtest names each test's thread after the test.
        let name = std::thread::current().name().unwrap_or("?").to_owned();
        // Straight to stderr: libtest captures `eprintln!` of a passing test.
        let _ = writeln!(io::stderr(), "SKIPPED faultfs::{name}: {why}");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("disk");
    let mnt = dir.path().join("mnt");
    fs::create_dir(&backing).unwrap();
    fs::create_dir(&mnt).unwrap();
    let fs = FaultFs::mount(&backing, &mnt, options).unwrap();
    Some(Fixture {
        backing,
        mnt,
        fs: Some(fs),
        options,
        _dir: dir,
    })
}

impl Fixture {
    fn path(&self, name: &str) -> PathBuf {
        self.mnt.join(name)
    }

    fn fs(&self) -> &FaultFs {
        self.fs.as_ref().unwrap()
    }

    /// `fsync` of a directory of the mount ("" for its root).
    fn sync_dir(&self, name: &str) {
        File::open(self.path(name)).unwrap().sync_all().unwrap();
    }

    /// Creates `name` with `content`, synced, its directory synced: durable.
    fn durable_file(&self, name: &str, content: &[u8]) {
        let mut file = File::create(self.path(name)).unwrap();
        file.write_all(content).unwrap();
        file.sync_all().unwrap();
        let parent = Path::new(name).parent().unwrap();
        self.sync_dir(parent.to_str().unwrap());
    }

    /// A power cut, then a new mount over the same disk.
    fn cut_and_remount(&mut self, seed: u64) {
        let fs = self.fs.take().unwrap();
        fs.cut(seed).unwrap();
        fs.unmount().unwrap();
        self.fs = Some(FaultFs::mount(&self.backing, &self.mnt, self.options).unwrap());
    }

    /// A clean unmount, then a new mount.
    fn remount(&mut self) {
        self.fs.take().unwrap().unmount().unwrap();
        self.fs = Some(FaultFs::mount(&self.backing, &self.mnt, self.options).unwrap());
    }

    fn read(&self, name: &str) -> Option<Vec<u8>> {
        match fs::read(self.path(name)) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => panic!("reading {name}: {e}"),
        }
    }
}

fn torn(p: f64) -> Options {
    Options {
        torn_write_probability: p,
        ..Options::default()
    }
}

#[test]
fn unsynced_writes_are_lost_at_a_cut_and_synced_ones_survive() {
    let Some(mut fx) = mounted(Options::default()) else {
        return;
    };
    fx.durable_file("log", b"synced");
    let mut file = OpenOptions::new()
        .append(true)
        .open(fx.path("log"))
        .unwrap();
    file.write_all(b" and not").unwrap();
    // Reads see the unsynced data before the cut; the disk does not have it.
    assert_eq!(fx.read("log").unwrap(), b"synced and not");
    assert_eq!(fs::read(fx.backing.join("log")).unwrap(), b"synced");
    drop(file);
    fx.cut_and_remount(1);
    assert_eq!(fx.read("log").unwrap(), b"synced");
    assert_eq!(fx.fs().stats().cuts, 0, "a fresh mount counts afresh");
}

#[test]
fn a_truncation_is_volatile_like_a_write() {
    let Some(mut fx) = mounted(Options::default()) else {
        return;
    };
    fx.durable_file("f", &[7; 10_000]);
    let file = OpenOptions::new().write(true).open(fx.path("f")).unwrap();
    file.set_len(5).unwrap();
    file.set_len(9000).unwrap();
    let mut expected = vec![7; 5];
    expected.resize(9000, 0);
    assert_eq!(fx.read("f").unwrap(), expected);
    drop(file);
    fx.cut_and_remount(2);
    assert_eq!(fx.read("f").unwrap(), vec![7; 10_000]);
}

#[test]
fn every_operation_fails_with_eio_after_a_cut() {
    let Some(fx) = mounted(Options::default()) else {
        return;
    };
    fx.durable_file("f", b"data");
    let mut open = OpenOptions::new()
        .read(true)
        .write(true)
        .open(fx.path("f"))
        .unwrap();
    fx.fs().cut(3).unwrap();
    let eio = |result: io::Result<()>, what: &str| {
        let e = result.expect_err(what);
        assert_eq!(e.raw_os_error(), Some(EIO), "{what}: {e}");
    };
    eio(open.write_all(b"more"), "write");
    eio(open.read_exact_at(&mut [0; 4], 0), "read");
    eio(open.sync_all(), "fsync");
    eio(fs::metadata(fx.path("f")).map(drop), "stat");
    eio(File::open(fx.path("f")).map(drop), "open");
    eio(File::create(fx.path("new")).map(drop), "create");
    eio(fs::create_dir(fx.path("d")).map(drop), "mkdir");
    eio(fs::rename(fx.path("f"), fx.path("g")), "rename");
    eio(fs::read_dir(&fx.mnt).map(drop), "readdir");
}

#[test]
fn a_created_file_needs_its_directory_synced() {
    let Some(mut fx) = mounted(Options::default()) else {
        return;
    };
    fs::create_dir(fx.path("dir")).unwrap();
    fx.sync_dir("");
    for name in ["dir/kept", "dir/lost"] {
        let mut file = File::create(fx.path(name)).unwrap();
        file.write_all(name.as_bytes()).unwrap();
        // The file's own fsync makes its data durable, not its name.
        file.sync_all().unwrap();
        if name == "dir/kept" {
            fx.sync_dir("dir");
        }
    }
    // Neither the directory nor the files it holds survive if its name was never synced.
    fs::create_dir(fx.path("unsynced")).unwrap();
    File::create(fx.path("unsynced/f"))
        .unwrap()
        .sync_all()
        .unwrap();
    fx.sync_dir("unsynced");
    fx.cut_and_remount(4);
    assert_eq!(fx.read("dir/kept").unwrap(), b"dir/kept");
    assert_eq!(fx.read("dir/lost"), None);
    assert!(!fx.path("unsynced").exists());
}

#[test]
fn an_unsynced_rename_is_undone() {
    let Some(mut fx) = mounted(Options::default()) else {
        return;
    };
    fx.durable_file("a", b"old a");
    fx.durable_file("b", b"old b");
    fx.durable_file("c", b"old c");
    fs::create_dir(fx.path("dir")).unwrap();
    fx.sync_dir("");
    fs::rename(fx.path("a"), fx.path("b")).unwrap();
    // A rename between directories waits for both: here only the target's is synced.
    fs::rename(fx.path("c"), fx.path("dir/c")).unwrap();
    fx.sync_dir("dir");
    assert_eq!(fx.read("b").unwrap(), b"old a");
    assert_eq!(fx.read("a"), None);
    fx.cut_and_remount(5);
    assert_eq!(fx.read("a").unwrap(), b"old a");
    assert_eq!(fx.read("b").unwrap(), b"old b");
    assert_eq!(fx.read("c").unwrap(), b"old c");
    assert_eq!(fx.read("dir/c"), None);
    assert!(
        !fx.backing
            .join(".faultfs-trash")
            .read_dir()
            .unwrap()
            .any(|_| true)
    );
}

#[test]
fn a_synced_rename_survives() {
    let Some(mut fx) = mounted(Options::default()) else {
        return;
    };
    fx.durable_file("a", b"new");
    fx.durable_file("b", b"old");
    fs::rename(fx.path("a"), fx.path("b")).unwrap();
    fx.sync_dir("");
    fx.cut_and_remount(6);
    assert_eq!(fx.read("a"), None);
    assert_eq!(fx.read("b").unwrap(), b"new");
    let names: Vec<_> = fs::read_dir(&fx.mnt)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["b"], "the trash is hidden");
}

#[test]
fn unsynced_removals_are_undone() {
    let Some(mut fx) = mounted(Options::default()) else {
        return;
    };
    fx.durable_file("f", b"content");
    fs::create_dir(fx.path("empty")).unwrap();
    fx.sync_dir("");
    fs::remove_file(fx.path("f")).unwrap();
    fs::remove_dir(fx.path("empty")).unwrap();
    assert_eq!(fx.read("f"), None);
    fx.cut_and_remount(7);
    assert_eq!(fx.read("f").unwrap(), b"content");
    assert!(fx.path("empty").is_dir());
    fs::remove_file(fx.path("f")).unwrap();
    fx.sync_dir("");
    fx.cut_and_remount(8);
    assert_eq!(fx.read("f"), None);
}

/// Writes 64 KiB of `0xbb` unsynced over 64 KiB of durable `0xaa`, cuts, and answers how
/// many 4 KiB blocks landed, after checking that every block is wholly old or new.
fn torn_blocks_of_a_64k_write(fx: &mut Fixture, seed: u64) -> usize {
    fx.durable_file("f", &[0xaa; 65536]);
    let mut file = OpenOptions::new().write(true).open(fx.path("f")).unwrap();
    file.write_all(&[0xbb; 65536]).unwrap();
    drop(file);
    fx.cut_and_remount(seed);
    let disk = fx.read("f").unwrap();
    assert_eq!(disk.len(), 65536);
    let mut new = 0;
    for (i, block) in disk.chunks(4096).enumerate() {
        let old = block.iter().all(|&b| b == 0xaa);
        let landed = block.iter().all(|&b| b == 0xbb);
        assert!(
            old || landed,
            "seed {seed}: block {i} is neither old nor new"
        );
        new += usize::from(landed);
    }
    new
}

#[test]
fn a_torn_write_lands_in_whole_4k_blocks() {
    let Some(mut fx) = mounted(torn(1.0)) else {
        return;
    };
    let landed: Vec<usize> = (0..8)
        .map(|seed| torn_blocks_of_a_64k_write(&mut fx, seed))
        .collect();
    assert!(
        landed.iter().any(|&n| 0 < n && n < 16),
        "8 cuts never tore a 16-block write: {landed:?}"
    );
}

#[test]
fn without_torn_writes_an_unsynced_write_never_lands() {
    let Some(mut fx) = mounted(torn(0.0)) else {
        return;
    };
    for seed in 0..4 {
        assert_eq!(torn_blocks_of_a_64k_write(&mut fx, seed), 0);
    }
}

#[test]
fn a_cut_counts_what_it_dropped() {
    let Some(fx) = mounted(torn(1.0)) else {
        return;
    };
    fx.durable_file("f", b"x");
    let mut file = OpenOptions::new().write(true).open(fx.path("f")).unwrap();
    file.write_all(&[1; 8192]).unwrap();
    File::create(fx.path("g")).unwrap();
    fx.fs().cut(9).unwrap();
    let stats = fx.fs().stats();
    assert_eq!(stats.cuts, 1);
    assert_eq!(stats.fsyncs, 1);
    assert_eq!(stats.fsyncdirs, 1);
    assert_eq!(stats.bytes_synced, 1);
    assert_eq!(stats.writes, 2);
    assert_eq!(stats.bytes_dropped, 8192);
    assert!(stats.torn_blocks <= 2);
    assert_eq!(stats.namespace_ops_undone, 1);
}

#[test]
fn a_clean_unmount_keeps_everything() {
    let Some(mut fx) = mounted(Options::default()) else {
        return;
    };
    fs::create_dir(fx.path("d")).unwrap();
    fs::write(fx.path("d/f"), b"never synced").unwrap();
    fx.remount();
    assert_eq!(fx.read("d/f").unwrap(), b"never synced");
}

#[test]
fn unmount_does_not_hang_on_an_open_file() {
    let Some(fx) = mounted(Options::default()) else {
        return;
    };
    let mut open = File::create(fx.path("f")).unwrap();
    let fs = fx.fs.unwrap();
    fs.cut(10).unwrap();
    fs.unmount().unwrap();
    // The connection was aborted: the open file answers ENOTCONN, and the mount is gone.
    assert!(open.write_all(b"x").is_err());
    assert!(!fx.mnt.join("f").exists());
    assert_eq!(
        fs::read_dir(&fx.backing).unwrap().count(),
        1,
        "only the trash"
    );
}

#[test]
fn sled_runs_on_it() {
    let Some(mut fx) = mounted(Options::default()) else {
        return;
    };
    let started = Instant::now();
    let db = sled::open(fx.path("sled")).unwrap();
    for i in 0u32..2000 {
        db.insert(i.to_be_bytes(), vec![7; 100]).unwrap();
    }
    db.flush().unwrap();
    drop(db);
    fx.remount();
    let db = sled::open(fx.path("sled")).unwrap();
    assert_eq!(db.len(), 2000);
    assert_eq!(
        db.get(1999u32.to_be_bytes()).unwrap().unwrap(),
        vec![7; 100]
    );
    drop(db);
    eprintln!(
        "sled on faultfs: {:?}, {:?}",
        started.elapsed(),
        fx.fs().stats()
    );
}

#[test]
fn a_hundred_cuts_run_quickly() {
    let Some(mut fx) = mounted(torn(0.5)) else {
        return;
    };
    let started = Instant::now();
    fx.durable_file("log", b"");
    for round in 0..100usize {
        let mut file = OpenOptions::new()
            .append(true)
            .open(fx.path("log"))
            .unwrap();
        for _ in 0..20 {
            file.write_all(&[1; 700]).unwrap();
        }
        file.sync_data().unwrap();
        file.write_all(&[2; 5000]).unwrap();
        drop(file);
        fx.cut_and_remount(round as u64);
        let mut bytes = Vec::new();
        File::open(fx.path("log"))
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        assert!(bytes.len() >= (round + 1) * 14_000);
    }
    eprintln!("100 cut/remount cycles: {:?}", started.elapsed());
}
