//! Reports: Prime members report others' posts once; moderators decide each report once,
//! and an upheld report removes the post in the same command.

use sparkfeed_domain::events::{
    PostRemoved, PostReported, ReportDecision, ReportReason, ReportResolved,
};
use sparkfeed_domain::rules::Decided;
use sparkfeed_domain::{Caller, Command, ReportId};

use crate::memory::Given;
use crate::*;

fn report(by: &str) -> ReportId {
    ReportId::of(&post("pana1"), &user(by))
}

fn report_pana1(reason: ReportReason) -> Command {
    Command::ReportPost {
        post: post("pana1"),
        reason,
    }
}

fn resolve(by: &str, decision: ReportDecision) -> Command {
    Command::ResolveReport {
        report: report(by),
        decision,
    }
}

#[test]
fn a_prime_member_reports_someone_elses_post() {
    let given = Given::standard();
    let decided = given
        .when(as_user("ubob"), &report_pana1(ReportReason::UndisclosedAd))
        .expect("accepted");
    assert_eq!(
        decided,
        vec![Decided::event(PostReported {
            report: report("ubob"),
            post: post("pana1"),
            reporter: user("ubob"),
            reason: ReportReason::UndisclosedAd,
        })]
    );
}

#[test]
fn a_report_id_names_the_post_and_reporter_pair_and_not_the_reporter() {
    assert_eq!(report("ubob"), report("ubob"));
    assert_ne!(report("ubob"), report("umod"));
    assert!(!report("ubob").as_str().contains("bob"));
}

#[test]
fn a_dismissed_report_leaves_the_post() {
    let mut given = Given::standard();
    given.accept(as_user("ubob"), report_pana1(ReportReason::Spam));
    let decided = given
        .when(as_user("umod"), &resolve("ubob", ReportDecision::Dismissed))
        .expect("accepted");
    assert_eq!(
        decided,
        vec![Decided::event(ReportResolved {
            report: report("ubob"),
            post: post("pana1"),
            by: user("umod"),
            decision: ReportDecision::Dismissed,
        })]
    );
}

#[test]
fn an_upheld_report_removes_the_post_then_records_the_decision() {
    let mut given = Given::standard();
    given.accept(as_user("ubob"), report_pana1(ReportReason::Counterfeit));
    let decided = given
        .when(as_user("umod"), &resolve("ubob", ReportDecision::Upheld))
        .expect("accepted");
    assert_eq!(
        decided,
        vec![
            Decided::event(PostRemoved {
                post: post("pana1"),
                by: user("umod"),
                reason: "report upheld: COUNTERFEIT".into(),
            }),
            Decided::event(ReportResolved {
                report: report("ubob"),
                post: post("pana1"),
                by: user("umod"),
                decision: ReportDecision::Upheld,
            }),
        ]
    );
}

#[test]
fn a_second_report_upheld_after_the_post_is_gone_only_records_the_decision() {
    let mut given = Given::standard();
    given.accept(as_user("ubob"), report_pana1(ReportReason::Spam));
    given.accept(as_user("umod"), report_pana1(ReportReason::Spam));
    given.accept(as_user("umod"), resolve("ubob", ReportDecision::Upheld));
    let decided = given
        .when(as_user("umod"), &resolve("umod", ReportDecision::Upheld))
        .expect("accepted");
    assert_eq!(decided.len(), 1, "no second removal: {decided:?}");
}

#[test]
fn moderation_rules_refuse_with_their_codes() {
    let mut given = Given::standard();
    given.accept(as_user("ubob"), report_pana1(ReportReason::Spam));
    given.accept(as_user("umod"), report_pana1(ReportReason::Other));
    given.accept(as_user("umod"), resolve("umod", ReportDecision::Dismissed));
    let cases: Vec<(Caller, Command, &str)> = vec![
        (
            Caller::Anonymous,
            report_pana1(ReportReason::Spam),
            "FORBIDDEN",
        ),
        (
            as_user("ucarl"),
            report_pana1(ReportReason::Spam),
            "NOT_PRIME",
        ),
        (
            as_user("uacme"),
            report_pana1(ReportReason::Spam),
            "NOT_PRIME",
        ),
        (
            as_user("uana"),
            report_pana1(ReportReason::Spam),
            "CANNOT_REPORT_OWN_POST",
        ),
        (
            as_user("ubob"),
            report_pana1(ReportReason::Misleading),
            "ALREADY_REPORTED",
        ),
        (
            as_user("ubob"),
            Command::ReportPost {
                post: post("pnope"),
                reason: ReportReason::Spam,
            },
            "UNKNOWN_POST",
        ),
        (
            as_user("ubob"),
            resolve("ubob", ReportDecision::Upheld),
            "FORBIDDEN",
        ),
        (
            Caller::Anonymous,
            resolve("ubob", ReportDecision::Upheld),
            "FORBIDDEN",
        ),
        (
            as_user("umod"),
            resolve("ucarl", ReportDecision::Upheld),
            "UNKNOWN_REPORT",
        ),
        (
            as_user("umod"),
            resolve("umod", ReportDecision::Upheld),
            "REPORT_ALREADY_RESOLVED",
        ),
    ];
    for (caller, command, code) in cases {
        given.then_refused(caller, command, code);
    }
    given.accept(as_user("umod"), resolve("ubob", ReportDecision::Upheld));
    given.then_refused(
        as_user("umod"),
        report_pana1(ReportReason::Spam),
        "POST_REMOVED",
    );
}
