//! Support for sparkfeed's end-to-end tests: the line protocol of the crash appender, and
//! the projector's batch size.
//!
//! The crash appender (`src/bin/crash-appender.rs`) appends to a real log until it is
//! killed, and prints one [`Ack`] line per acknowledged append; the crash test reads them
//! back after a SIGKILL and checks the reopened log against them.

use sparkfeed_events::{EventId, Position, StreamName, StreamVersion};

/// One acknowledged append, as the crash appender reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// The stream appended to.
    pub stream: StreamName,
    /// Position of the first event.
    pub first_position: Position,
    /// Version of the first event.
    pub first_version: StreamVersion,
    /// The event ids, in order.
    pub ids: Vec<EventId>,
}

impl Ack {
    /// The line for this ack: `ACK <stream> <position> <version> <id>,<id>... END`.
    ///
    /// The trailing `END` marks a complete line: a process killed while writing leaves a
    /// torn last line, which [`Ack::parse`] refuses.
    pub fn line(&self) -> String {
        let ids: Vec<String> = self.ids.iter().map(ToString::to_string).collect();
        format!(
            "ACK {} {} {} {} END",
            self.stream,
            self.first_position,
            self.first_version,
            ids.join(",")
        )
    }

    /// Parses a complete ack line; `None` for anything else (including a torn line).
    pub fn parse(line: &str) -> Option<Ack> {
        let mut parts = line.split(' ');
        if parts.next()? != "ACK" {
            return None;
        }
        let stream = StreamName::parse(parts.next()?).ok()?;
        let first_position = Position(parts.next()?.parse().ok()?);
        let first_version = StreamVersion(parts.next()?.parse().ok()?);
        let ids = parts
            .next()?
            .split(',')
            .map(|id| EventId::parse(id).ok())
            .collect::<Option<Vec<_>>>()?;
        (parts.next()? == "END" && parts.next().is_none()).then_some(Ack {
            stream,
            first_position,
            first_version,
            ids,
        })
    }
}

/// Events per batch of the projector (`src/bin/projector.rs`): each batch is one commit of
/// a projection's rows with its checkpoint.
pub const PROJECTOR_BATCH: usize = 32;

/// How a child process of the e2e tests reports a failure: an `ERR` line on stdout (which
/// the parent reads) and exit status 3.
pub fn fail(what: impl std::fmt::Display) -> ! {
    println!("ERR {what}");
    std::process::exit(3);
}

/// The payload the crash appender writes: the append's size and the event's index in it,
/// so a reader can tell a whole append from a torn one.
pub fn crash_payload(batch_len: u8, index: u8) -> Vec<u8> {
    vec![batch_len, index]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_lines_round_trip_and_torn_lines_are_refused() {
        let ack = Ack {
            stream: StreamName::parse("crash-3").expect("valid"),
            first_position: Position(41),
            first_version: StreamVersion(7),
            ids: vec![EventId::random(), EventId::random()],
        };
        let line = ack.line();
        assert_eq!(Ack::parse(&line), Some(ack));
        for cut in 1..line.len() {
            assert_eq!(Ack::parse(&line[..cut]), None, "torn at {cut}");
        }
    }
}
