//! A full file system, made for real: a small tmpfs is mounted over a temp dir (this needs
//! root, as CI has) and a filler file takes what the log does not use. Without root, or
//! where mounting is not allowed, each test says so on stderr (past the test harness's
//! capture) and passes.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sparkfeed_eventlog::{
    AppendError, Appended, Config, EventLog, ExpectedVersion, LogError, LogHead,
};
use sparkfeed_events::{EventId, NewEvent, Position};

use crate::{event, stream};

/// A tmpfs mounted over a temp dir, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`mount -o size=`), or says why it could not.
    fn mount(size: &str) -> Result<Self, String> {
        let uid = Command::new("id").arg("-u").output();
        if let Ok(uid) = uid
            && String::from_utf8_lossy(&uid.stdout).trim() != "0"
        {
            return Err("not running as root: mounting a tmpfs needs root".into());
        }
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("running mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Something still holds a file in it: detach it now, it goes when let go.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// Mounts a tmpfs, or reports the skip where it cannot be missed (stderr itself, not the
/// captured `eprintln!`) and answers `None`.
fn tmpfs_or_skip(test: &str, size: &str) -> Option<Tmpfs> {
    match Tmpfs::mount(size) {
        Ok(fs) => Some(fs),
        Err(why) => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED disk_full::{test}: {why}; the disk-full behaviour was NOT tested"
            );
            None
        }
    }
}

/// Bytes free on the file system of `dir`, as an unprivileged writer sees it.
fn available(dir: &Path) -> u64 {
    let stat = rustix::fs::statvfs(dir).expect("statvfs");
    stat.f_bavail * stat.f_frsize
}

/// A file that takes all the free space of its file system but `leave` bytes.
struct Filler {
    path: PathBuf,
}

impl Filler {
    /// Grows the filler of `dir` (creating it) until `leave` bytes are free.
    fn leaving(dir: &Path, leave: u64) -> Self {
        let path = dir.join("filler");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("opens the filler");
        let chunk = vec![0xA5u8; 64 * 1024];
        loop {
            let free = available(dir);
            if free <= leave {
                break;
            }
            let step = usize::try_from(free - leave)
                .unwrap_or(usize::MAX)
                .min(chunk.len());
            if step < 4096 || file.write_all(&chunk[..step]).is_err() {
                break;
            }
        }
        Self { path }
    }

    fn remove(self) {
        std::fs::remove_file(&self.path).expect("removes the filler");
    }
}

/// `n` events of `bytes`-byte payloads.
fn sized_events(n: u64, bytes: usize) -> Vec<NewEvent> {
    (0..n)
        .map(|i| {
            let mut e = event(i);
            e.payload = vec![u8::try_from(i % 251).unwrap_or(0); bytes];
            e
        })
        .collect()
}

/// What a run of appends came to: the acknowledged ones and the ids of the failed ones.
#[derive(Default)]
struct Outcome {
    acked: Vec<(Appended, Vec<EventId>)>,
    failed: Vec<(String, String, Vec<EventId>)>,
}

/// `rounds` rounds of 8 concurrent appends of 20 events of 1,000 bytes each, to 4 streams.
async fn append_rounds(log: &EventLog, rounds: usize, until_failed: bool) -> Outcome {
    let mut outcome = Outcome::default();
    for round in 0..rounds {
        let tasks: Vec<_> = (0..8)
            .map(|n| {
                let log = log.clone();
                let events = sized_events(20, 1000);
                let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
                tokio::spawn(async move {
                    let s = stream(&format!("post-{}", (round * 8 + n) % 4));
                    (log.append(&s, ExpectedVersion::Any, events).await, ids)
                })
            })
            .collect();
        for task in tasks {
            match task.await.expect("task") {
                (Ok(done), ids) => outcome.acked.push((done, ids)),
                (Err(e), ids) => outcome
                    .failed
                    .push((e.code().to_owned(), e.to_string(), ids)),
            }
        }
        if until_failed && !outcome.failed.is_empty() {
            break;
        }
    }
    outcome
}

/// Every acknowledged event is in the log where its append said; no failed one is.
fn assert_acked_readable_and_failed_absent(log: &EventLog, outcome: &Outcome) {
    for (done, ids) in &outcome.acked {
        for (position, id) in done.positions().zip(ids) {
            let found = log
                .find_event(id)
                .expect("reads")
                .unwrap_or_else(|| panic!("acknowledged event {id} is not in the log"));
            assert_eq!(found.record.position, position);
            assert_eq!(found.record.stream, done.stream);
        }
    }
    for (_, _, ids) in &outcome.failed {
        for id in ids {
            assert_eq!(
                log.find_event(id).expect("reads"),
                None,
                "an append answered with an error is readable"
            );
        }
    }
}

/// The log's head, after asserting that it counts the acknowledged events and no others.
fn head_counting_only_acked(log: &EventLog, outcome: &Outcome) -> LogHead {
    let head = log.head();
    let acked_events: u64 = outcome
        .acked
        .iter()
        .map(|(d, _)| d.positions().count() as u64)
        .sum();
    assert_eq!(head.len, acked_events, "only acknowledged events count");
    head
}

fn assert_verifies(log: &EventLog) {
    let report = log.verify(|_| {}).expect("verifies");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, log.head().len);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_appends_with_storage_full_and_they_resume_once_space_returns() {
    let Some(fs) = tmpfs_or_skip(
        "a_full_disk_refuses_appends_with_storage_full_and_they_resume_once_space_returns",
        "16m",
    ) else {
        return;
    };
    let reserve = 1024 * 1024;
    let mut config = Config::new(fs.path().join("log"));
    config.cache_capacity_bytes = 1024 * 1024;
    config.storage_reserve_bytes = reserve;
    let log = EventLog::open(config.clone()).expect("opens");
    let mut outcome = append_rounds(&log, 2, false).await;
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);

    // Room for a few more rounds beyond the reserve, then none.
    Filler::leaving(fs.path(), reserve + 400 * 1024);
    let mut rounds = 0;
    while outcome.failed.is_empty() {
        assert!(rounds < 100, "the disk never filled");
        let round = append_rounds(&log, 1, true).await;
        outcome.acked.extend(round.acked);
        outcome.failed.extend(round.failed);
        rounds += 1;
    }
    println!(
        "{rounds} rounds after the filler; {} appends acknowledged, {} failed; {} bytes free",
        outcome.acked.len(),
        outcome.failed.len(),
        available(fs.path())
    );
    for (code, message, _) in &outcome.failed {
        assert_eq!(code, "STORAGE_FULL", "{message}");
        assert!(
            message.contains("file system of the log is full"),
            "{message}"
        );
    }
    // A smaller append may still fit above the reserve; below it, none does.
    let filler = Filler::leaving(fs.path(), reserve / 2);

    // Full: appends keep failing, write nothing, burn no position; reads go on.
    let head = head_counting_only_acked(&log, &outcome);
    let more = append_rounds(&log, 2, false).await;
    assert!(more.acked.is_empty(), "acknowledged while full");
    for (code, message, _) in &more.failed {
        assert_eq!(code, "STORAGE_FULL", "{message}");
    }
    outcome.failed.extend(more.failed);
    match log
        .append(&stream("post-x"), ExpectedVersion::Any, sized_events(1, 10))
        .await
    {
        Err(AppendError::Failed(e @ LogError::StorageFull { .. })) => {
            assert_eq!(e.code(), "STORAGE_FULL");
        }
        other => panic!("expected STORAGE_FULL, got {other:?}"),
    }
    assert_eq!(log.head(), head, "failed appends moved the head");
    let all = log
        .read_all(Position(0), 100_000)
        .expect("reads while full");
    assert_eq!(all.len() as u64, head.len);
    assert_eq!(all.last().map(|e| e.hash), Some(head.hash));
    assert_acked_readable_and_failed_absent(&log, &outcome);
    assert_verifies(&log);

    // Space returns: the same handle appends again, right at the head.
    filler.remove();
    let resumed = append_rounds(&log, 2, false).await;
    assert!(resumed.failed.is_empty(), "{:?}", resumed.failed);
    let first = resumed
        .acked
        .iter()
        .map(|(d, _)| d.first_position)
        .min()
        .expect("appended");
    assert_eq!(first, Position(head.len), "positions stay gap-free");
    outcome.acked.extend(resumed.acked);
    assert_acked_readable_and_failed_absent(&log, &outcome);
    assert_verifies(&log);
    let head = log.head();
    drop(log);

    // Reopened: the same log, nothing to recover, intact.
    let log = EventLog::open(config).expect("reopens");
    assert_eq!(log.head(), head);
    assert_eq!(log.recovery().removed_records, 0);
    assert_acked_readable_and_failed_absent(&log, &outcome);
    assert_verifies(&log);
    drop(log);
}

/// With the check off (no reserve) sled meets `ENOSPC` itself: the log stops, for sled
/// keeps the error (even a read may fail then, with `STORAGE_FULL`: sled restructures
/// pages as it reads), acknowledges nothing it did not sync, and once space is back a
/// reopen recovers a whole log, however little of the group sled wrote. (Before new stores
/// got their tail marker at creation, a first group cut short was taken as whole.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enospc_inside_sled_stops_the_log_and_a_reopen_recovers_it_whole() {
    let Some(fs) = tmpfs_or_skip(
        "enospc_inside_sled_stops_the_log_and_a_reopen_recovers_it_whole",
        "8m",
    ) else {
        return;
    };
    let mut config = Config::new(fs.path().join("log"));
    config.cache_capacity_bytes = 1024 * 1024;
    config.storage_reserve_bytes = 0;
    let log = EventLog::open(config.clone()).expect("opens");
    let filler = Filler::leaving(fs.path(), 64 * 1024);
    let mut outcome = append_rounds(&log, 50, true).await;
    println!(
        "{} appends acknowledged, then {:?}",
        outcome.acked.len(),
        outcome.failed.first().map(|(c, m, _)| (c, m))
    );
    assert!(!outcome.failed.is_empty(), "the disk never filled");
    let head = head_counting_only_acked(&log, &outcome);
    filler.remove();
    let later = append_rounds(&log, 1, false).await;
    assert!(
        later.acked.is_empty(),
        "a stopped log acknowledged an append"
    );
    outcome.failed.extend(later.failed);
    for (code, message, _) in &outcome.failed {
        assert_eq!(code, "LOG_FAILED", "{message}");
    }
    match log.read_all(Position(0), 100_000) {
        Ok(all) => assert_eq!(all.len() as u64, head.len),
        Err(e) => assert_eq!(e.code(), "STORAGE_FULL", "{e}"),
    }
    assert_eq!(log.head(), head);
    drop(log);

    let log = EventLog::open(config).expect("reopens");
    assert!(log.head().len >= head.len);
    assert_verifies(&log);
    // What was answered as failed may or may not be there, but only as whole appends.
    let present: HashSet<EventId> = log
        .read_all(Position(0), 100_000)
        .expect("reads")
        .into_iter()
        .map(|e| e.record.id)
        .collect();
    for (done, ids) in &outcome.acked {
        assert!(ids.iter().all(|id| present.contains(id)), "{done:?} lost");
    }
    for (_, _, ids) in &outcome.failed {
        let there = ids.iter().filter(|id| present.contains(id)).count();
        assert!(there == 0 || there == ids.len(), "half an append survived");
    }
    log.append(&stream("post-x"), ExpectedVersion::Any, sized_events(1, 10))
        .await
        .expect("appends after the reopen");
    assert_verifies(&log);
    drop(log);
}
