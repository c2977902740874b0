//! The events of `fixtures/golden/domain-v3.bin`: the events released after release 2
//! (forgetting a member: by the member themself and by an admin).
//!
//! Shared by the writer (`examples/write_golden_events.rs -- DIR 3`, run once) and the
//! golden test. The log itself is never rewritten.

use sparkfeed_domain::UserId;
use sparkfeed_domain::events::{DomainEvent, MemberForgotten};
use sparkfeed_events::StreamName;

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}

/// Every event of the golden log, in log order, with the stream the service writes it to.
pub fn events() -> Vec<(StreamName, DomainEvent)> {
    [("ubob", "user:ubob"), ("ucid", "user:uadmin")]
        .into_iter()
        .map(|(member, by)| {
            let stream = StreamName::of("user", member).expect("valid stream name");
            let event = MemberForgotten {
                user: user(member),
                by: by.to_owned(),
            };
            (stream, event.into())
        })
        .collect()
}
