//! The member's feed controls, in memory: follows, "not interested", the feed mode.

use sparkfeed_domain::events::{
    DomainEvent, FeedMode, FeedModeSet, FeedTarget, Followed, MarkedNotInterested,
    NotInterestedUndone, Unfollowed,
};
use sparkfeed_domain::rules::Decided;
use sparkfeed_domain::{Asin, Caller, Command};

use crate::memory::Given;
use crate::*;

fn follow(creator: &str) -> Command {
    Command::Follow {
        creator: user(creator),
    }
}

fn hide(target: FeedTarget) -> Command {
    Command::NotInterested { target }
}

#[test]
fn a_member_follows_and_unfollows_a_creator() {
    let mut w = Given::standard();
    let decided = w.accept(as_user("ubob"), follow("uana"));
    let followed = Followed {
        member: user("ubob"),
        creator: user("uana"),
    };
    assert_eq!(
        decided,
        vec![Decided::Event(DomainEvent::Followed(followed))]
    );
    let decided = w.accept(
        as_user("ubob"),
        Command::Unfollow {
            creator: user("uana"),
        },
    );
    let unfollowed = Unfollowed {
        member: user("ubob"),
        creator: user("uana"),
    };
    assert_eq!(
        decided,
        vec![Decided::Event(DomainEvent::Unfollowed(unfollowed))]
    );
}

#[test]
fn follows_are_refused_with_a_code_for_self_brands_twice_strangers_and_visitors() {
    let mut w = Given::standard();
    w.then_refused(as_user("ubob"), follow("ubob"), "CANNOT_FOLLOW_SELF");
    w.then_refused(as_user("ubob"), follow("uacme"), "CANNOT_FOLLOW_BRAND");
    w.then_refused(as_user("ubob"), follow("unobody"), "UNKNOWN_USER");
    w.then_refused(Caller::Anonymous, follow("uana"), "FORBIDDEN");
    let unfollow = Command::Unfollow {
        creator: user("uana"),
    };
    w.then_refused(as_user("ubob"), unfollow, "NOT_FOLLOWING");
    w.accept(as_user("ubob"), follow("uana"));
    w.then_refused(as_user("ubob"), follow("uana"), "ALREADY_FOLLOWING");
    // A forgotten creator is no one to follow.
    w.accept(
        as_user("uadmin"),
        Command::ForgetMember {
            user: user("ucarl"),
        },
    );
    w.then_refused(as_user("ubob"), follow("ucarl"), "UNKNOWN_USER");
}

#[test]
fn not_interested_on_each_kind_of_target_and_undo() {
    let mut w = Given::standard();
    let targets = [
        FeedTarget::Post(post("pana1")),
        FeedTarget::Author(user("uana")),
        FeedTarget::Product(Asin::parse("B000000001").expect("valid")),
        FeedTarget::Interest(interest("fitness")),
    ];
    for target in &targets {
        let decided = w.accept(as_user("ubob"), hide(target.clone()));
        let marked = MarkedNotInterested {
            member: user("ubob"),
            target: target.clone(),
        };
        assert_eq!(
            decided,
            vec![Decided::Event(DomainEvent::MarkedNotInterested(marked))]
        );
        w.then_refused(as_user("ubob"), hide(target.clone()), "ALREADY_HIDDEN");
    }
    let undo = Command::UndoNotInterested {
        target: targets[1].clone(),
    };
    let decided = w.accept(as_user("ubob"), undo.clone());
    let undone = NotInterestedUndone {
        member: user("ubob"),
        target: targets[1].clone(),
    };
    assert_eq!(
        decided,
        vec![Decided::Event(DomainEvent::NotInterestedUndone(undone))]
    );
    w.then_refused(as_user("ubob"), undo, "NOT_HIDDEN");
}

#[test]
fn not_interested_in_what_does_not_exist_is_refused_with_its_kind() {
    let w = Given::standard();
    for (target, code) in [
        (FeedTarget::Post(post("pnone")), "UNKNOWN_POST"),
        (FeedTarget::Author(user("unobody")), "UNKNOWN_USER"),
        (
            FeedTarget::Product(Asin::parse("B000000099").expect("valid")),
            "UNKNOWN_PRODUCT",
        ),
        (
            FeedTarget::Interest(interest("knitting")),
            "UNKNOWN_INTEREST",
        ),
    ] {
        w.then_refused(as_user("ubob"), hide(target), code);
    }
    w.then_refused(
        Caller::Anonymous,
        hide(FeedTarget::Post(post("pana1"))),
        "FORBIDDEN",
    );
}

#[test]
fn the_feed_mode_changes_once_and_setting_it_again_decides_nothing() {
    let mut w = Given::standard();
    let set = |mode| Command::SetFeedMode { mode };
    assert_eq!(
        w.accept(as_user("ubob"), set(FeedMode::Personalized)),
        vec![]
    );
    let decided = w.accept(as_user("ubob"), set(FeedMode::Chronological));
    let changed = FeedModeSet {
        member: user("ubob"),
        mode: FeedMode::Chronological,
    };
    assert_eq!(
        decided,
        vec![Decided::Event(DomainEvent::FeedModeSet(changed))]
    );
    assert_eq!(
        w.accept(as_user("ubob"), set(FeedMode::Chronological)),
        vec![]
    );
}
