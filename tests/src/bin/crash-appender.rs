//! Appends to the log in `argv[1]` from 8 concurrent writers until killed, printing one
//! ack line per acknowledged append (see `sparkfeed_e2e::Ack`). Exits by itself after 60
//! seconds so that a lost parent never leaves it running. Any refusal or failure is a bug
//! in the log: it prints `ERR ...` and exits with status 3.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sparkfeed_e2e::{Ack, crash_payload, fail};
use sparkfeed_eventlog::{Config, Durability, EventLog, ExpectedVersion, StreamState};
use sparkfeed_events::{Actor, ActorId, EventId, EventType, Metadata, NewEvent, StreamName};

const WRITERS: u64 = 8;
const LIFETIME: Duration = Duration::from_secs(60);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| fail("usage: crash-appender DIR")),
    );
    let mut config = Config::new(dir);
    // The power-cut tests' control: a log without its fdatasync, which they must catch.
    if std::env::var_os("CRASH_APPENDER_FLUSH_ONLY").is_some() {
        config.durability = Durability::FlushOnly;
    }
    let log = EventLog::open(config).unwrap_or_else(|e| fail(e));
    println!("READY {}", log.head().len);
    let deadline = Instant::now() + LIFETIME;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move {
                let stream = StreamName::of("crash", &w.to_string()).unwrap_or_else(|e| fail(e));
                let mut expected = match log.stream_state(&stream).unwrap_or_else(|e| fail(e)) {
                    StreamState::NoStream => ExpectedVersion::NoStream,
                    StreamState::At(v) => ExpectedVersion::Exact(v),
                };
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let len = u8::try_from(1 + (n + w) % 3).unwrap_or(1);
                    let correlation_id = EventId::random();
                    let events: Vec<NewEvent> = (0..len)
                        .map(|i| NewEvent {
                            id: EventId::random(),
                            event_type: EventType::parse("crash.Appended")
                                .unwrap_or_else(|e| fail(e)),
                            schema_version: 1,
                            payload: crash_payload(len, i),
                            metadata: Metadata {
                                actor: Actor::System(
                                    ActorId::parse("crash").unwrap_or_else(|e| fail(e)),
                                ),
                                correlation_id,
                                causation_id: None,
                            },
                        })
                        .collect();
                    let ids = events.iter().map(|e| e.id).collect();
                    let done = log
                        .append(&stream, expected, events)
                        .await
                        .unwrap_or_else(|e| fail(format!("{stream}: {e}")));
                    expected = ExpectedVersion::Exact(done.last_version);
                    let line = Ack {
                        stream: stream.clone(),
                        first_position: done.first_position,
                        first_version: done.first_version,
                        ids,
                    }
                    .line();
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
            })
        })
        .collect();
    for w in writers {
        let _ = w.await;
    }
}
