//! The events of `fixtures/golden/domain-v2.bin`: the events released after version 1
//! (reports and their decisions), with every arm of every enum they hold.
//!
//! Shared by the writer (`examples/write_golden_events.rs -- DIR 2`, run once) and the
//! golden test. The log itself is never rewritten.

use sparkfeed_domain::events::{
    DomainEvent, PostReported, ReportDecision, ReportReason, ReportResolved,
};
use sparkfeed_domain::{PostId, ReportId, UserId};
use sparkfeed_events::StreamName;

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}
fn post(id: &str) -> PostId {
    PostId::parse(id).expect("valid post id")
}

/// Every event of the golden log, in log order, with the stream the service writes it to.
pub fn events() -> Vec<(StreamName, DomainEvent)> {
    let reasons = [
        ReportReason::Spam,
        ReportReason::Harassment,
        ReportReason::Misleading,
        ReportReason::UndisclosedAd,
        ReportReason::Counterfeit,
        ReportReason::Other,
    ];
    let mut out: Vec<(StreamName, DomainEvent)> = Vec::new();
    let reporters = ["ubob", "ucid", "udee", "ueve", "ufay", "ugus"];
    for (reporter, reason) in reporters.into_iter().zip(reasons) {
        let report = ReportId::of(&post("p1"), &user(reporter));
        let stream = StreamName::of("report", report.as_str()).expect("valid stream name");
        out.push((
            stream,
            PostReported {
                report,
                post: post("p1"),
                reporter: user(reporter),
                reason,
            }
            .into(),
        ));
    }
    for (reporter, decision) in [
        ("ubob", ReportDecision::Dismissed),
        ("ucid", ReportDecision::Upheld),
    ] {
        let report = ReportId::of(&post("p1"), &user(reporter));
        let stream = StreamName::of("report", report.as_str()).expect("valid stream name");
        out.push((
            stream,
            ReportResolved {
                report,
                post: post("p1"),
                by: user("umod"),
                decision,
            }
            .into(),
        ));
    }
    out
}
