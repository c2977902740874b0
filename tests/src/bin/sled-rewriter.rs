//! Rewrites rows of a sled store in `argv[1]` until killed, in batches as a live projection
//! commits them; with `argv[2] == "fdatasync"`, each batch is followed by sled's flush and an
//! `fdatasync` of its data file. Prints `BATCH <n>` after each. Exits by itself after 60 s.

use std::io::Write;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: sled-rewriter DIR [fdatasync]"));
    let fdatasync = args.next().as_deref() == Some("fdatasync");
    let db = sled::Config::new()
        .path(&dir)
        .cache_capacity(1 << 20)
        .mode(sled::Mode::HighThroughput)
        .open()
        .expect("opens");
    for d in [dir.as_path(), dir.parent().expect("a parent")] {
        std::fs::File::open(d)
            .and_then(|f| f.sync_all())
            .expect("dir fsync");
    }
    let data = std::fs::File::open(dir.join("db")).expect("data file");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut x = 0x2545_f491_4f6c_dd1d_u64 ^ u64::from(std::process::id());
    let mut out = std::io::stdout();
    for n in 0u64.. {
        if Instant::now() > deadline {
            break;
        }
        let mut batch = sled::Batch::default();
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = (x % 2_000).to_be_bytes();
            let len = usize::try_from(50 + x % 250).expect("small");
            batch.insert(&key, vec![u8::try_from(n % 251).expect("small"); len]);
        }
        db.apply_batch(batch).expect("batch");
        if fdatasync {
            db.flush().expect("flush");
            data.sync_data().expect("fdatasync");
        }
        let _ = writeln!(out, "BATCH {n}");
    }
}
