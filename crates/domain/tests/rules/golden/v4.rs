//! The events of `fixtures/golden/domain-v4.bin`: the feed controls released after
//! release 3 (follows, "not interested" on every kind of target, both feed modes).
//!
//! Shared by the writer (`examples/write_golden_events.rs -- DIR 4`, run once) and the
//! golden test. The log itself is never rewritten.

use sparkfeed_domain::events::{
    DomainEvent, FeedMode, FeedModeSet, FeedTarget, Followed, MarkedNotInterested,
    NotInterestedUndone, Unfollowed,
};
use sparkfeed_domain::{Asin, InterestSlug, PostId, UserId};
use sparkfeed_events::StreamName;

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}

fn stream(kind: &str, id: &str) -> StreamName {
    StreamName::of(kind, id).expect("valid stream name")
}

/// Every event of the golden log, in log order, with the stream the service writes it to.
pub fn events() -> Vec<(StreamName, DomainEvent)> {
    let (ana, bob) = (user("uana"), user("ubob"));
    let follow = stream("follow", "uana.ubob");
    let prefs = stream("feedprefs", "uana");
    let targets = [
        FeedTarget::Post(PostId::parse("p1").expect("valid post id")),
        FeedTarget::Author(bob.clone()),
        FeedTarget::Product(Asin::parse("B000000001").expect("valid asin")),
        FeedTarget::Interest(InterestSlug::parse("fitness").expect("valid slug")),
    ];
    let mut out: Vec<(StreamName, DomainEvent)> = vec![
        (
            follow.clone(),
            Followed {
                member: ana.clone(),
                creator: bob.clone(),
            }
            .into(),
        ),
        (
            follow,
            Unfollowed {
                member: ana.clone(),
                creator: bob,
            }
            .into(),
        ),
    ];
    for target in &targets {
        let event = MarkedNotInterested {
            member: ana.clone(),
            target: target.clone(),
        };
        out.push((prefs.clone(), event.into()));
    }
    let undone = NotInterestedUndone {
        member: ana.clone(),
        target: targets[0].clone(),
    };
    out.push((prefs.clone(), undone.into()));
    for mode in [FeedMode::Chronological, FeedMode::Personalized] {
        let event = FeedModeSet {
            member: ana.clone(),
            mode,
        };
        out.push((prefs.clone(), event.into()));
    }
    out
}
