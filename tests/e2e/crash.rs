//! SIGKILL a real appending process at random moments; every acknowledged append survives.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use sparkfeed_e2e::Ack;
use sparkfeed_eventlog::{Config, EventLog, LogError};
use sparkfeed_events::{EventId, Position};

const KILLS: u64 = 24;

/// A small deterministic generator, so a failing run can be replayed exactly.
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn every_acknowledged_append_survives_sigkill_at_random_moments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = XorShift(0x5eed_5a1e_u64);
    let mut acked: Vec<Ack> = Vec::new();

    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-appender"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("crash appender starts");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let ready = lines.next().expect("child speaks").expect("utf-8");
        assert!(ready.starts_with("READY "), "round {round}: {ready}");

        // Kill after a random number of acknowledgements: the child is mid-append then,
        // with several appends in flight from its 8 writers.
        let kill_after = 1 + rng.below(300);
        let mut seen = 0;
        for line in lines.by_ref() {
            let line = line.expect("utf-8");
            assert!(
                !line.starts_with("ERR"),
                "round {round}: child failed: {line}"
            );
            if let Some(ack) = Ack::parse(&line) {
                acked.push(ack);
                seen += 1;
            }
            if seen == kill_after {
                break;
            }
        }
        child.kill().expect("SIGKILL");
        // Lines the child printed before it died were acknowledged too; a torn last line
        // does not parse and is not counted.
        for line in lines.map_while(Result::ok) {
            assert!(
                !line.starts_with("ERR"),
                "round {round}: child failed: {line}"
            );
            acked.extend(Ack::parse(&line));
        }
        child.wait().expect("child reaped");

        check_reopened_log(dir.path(), &acked, round);
    }
    assert!(
        acked.len() as u64 >= KILLS,
        "the child made progress: {}",
        acked.len()
    );
}

/// Opens the log in `dir`, waiting out a lock that only this test process's own fork
/// holds: a child forked by a test running beside this one inherits the lock file's
/// descriptor until its exec closes it, so a reopen right after a close can meet it.
pub(crate) fn open_again(dir: &std::path::Path) -> Result<EventLog, LogError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match EventLog::open(Config::new(dir)) {
            Err(LogError::Locked { .. }) if std::time::Instant::now() < deadline => {
                std::thread::yield_now();
            }
            opened => return opened,
        }
    }
}

pub(crate) fn check_reopened_log(dir: &std::path::Path, acked: &[Ack], round: u64) {
    let log = open_again(dir).expect("reopens after SIGKILL");
    let recovery = log.recovery();
    if recovery != Default::default() {
        eprintln!("round {round}: recovery put right {recovery:?}");
    }
    let report = log.verify(|_| {}).expect("verify runs");
    assert!(report.is_intact(), "round {round}: {report:?}");

    let all = log.read_all(Position(0), usize::MAX).expect("reads");
    assert_eq!(all.len() as u64, log.head().len);
    for ack in acked {
        for (offset, id) in (0u64..).zip(&ack.ids) {
            let event = &all
                .get(usize::try_from(ack.first_position.0 + offset).expect("fits"))
                .unwrap_or_else(|| panic!("round {round}: acknowledged {ack:?} is missing"))
                .record;
            assert_eq!(event.id, *id, "round {round}: acknowledged event moved");
            assert_eq!(event.stream, ack.stream);
            assert_eq!(event.version.0, ack.first_version.0 + offset);
        }
    }

    // Nothing half-written: every append is whole (all its events, in order, together).
    let mut appends: HashMap<EventId, Vec<&[u8]>> = HashMap::new();
    for event in &all {
        appends
            .entry(event.record.metadata.correlation_id)
            .or_default()
            .push(&event.record.payload);
    }
    for (correlation, payloads) in appends {
        let len = payloads[0][0];
        let expected: Vec<Vec<u8>> = (0..len).map(|i| vec![len, i]).collect();
        let got: Vec<Vec<u8>> = payloads.iter().map(|p| p.to_vec()).collect();
        assert_eq!(got, expected, "round {round}: append {correlation} is torn");
    }
}
