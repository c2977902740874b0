//! Forgetting a member (GDPR Art. 17), in memory: who may, what it decides, and what a
//! forgotten account can no longer do.

use sparkfeed_domain::events::{DomainEvent, MemberForgotten};
use sparkfeed_domain::rules::Decided;
use sparkfeed_domain::{Caller, Command};

use crate::memory::Given;
use crate::*;

fn forget(id: &str) -> Command {
    Command::ForgetMember { user: user(id) }
}

#[test]
fn a_member_forgets_themself_or_an_admin_forgets_them_with_no_personal_data_in_the_event() {
    let mut w = Given::standard();
    let decided = w.accept(as_user("ubob"), forget("ubob"));
    assert_eq!(
        decided,
        vec![Decided::Event(DomainEvent::MemberForgotten(
            MemberForgotten {
                user: user("ubob"),
                by: "user:ubob".into(),
            }
        ))]
    );
    let decided = w.accept(as_user("uadmin"), forget("ucarl"));
    assert_eq!(
        decided,
        vec![Decided::Event(DomainEvent::MemberForgotten(
            MemberForgotten {
                user: user("ucarl"),
                by: "user:uadmin".into(),
            }
        ))]
    );
}

#[test]
fn forgetting_is_refused_with_a_code_for_others_twice_unknown_members_and_brands() {
    let mut w = Given::standard();
    w.then_refused(as_user("ubob"), forget("uana"), "FORBIDDEN");
    w.then_refused(Caller::Anonymous, forget("uana"), "FORBIDDEN");
    w.then_refused(as_user("uadmin"), forget("unobody"), "UNKNOWN_USER");
    w.then_refused(as_user("uadmin"), forget("uacme"), "VALIDATION");
    w.accept(as_user("uadmin"), forget("ubob"));
    w.then_refused(as_user("uadmin"), forget("ubob"), "ALREADY_FORGOTTEN");
    w.then_refused(as_user("ubob"), forget("ubob"), "MEMBER_FORGOTTEN");
}

#[test]
fn a_forgotten_account_does_nothing_more_in_its_own_name() {
    let mut w = Given::standard();
    w.accept(as_user("ubob"), forget("ubob"));
    w.then_refused(
        as_user("ubob"),
        Command::Smile {
            post: post("pana1"),
        },
        "MEMBER_FORGOTTEN",
    );
    w.then_refused(
        as_user("ubob"),
        Command::ChooseInterests {
            interests: vec![interest("diy")],
        },
        "MEMBER_FORGOTTEN",
    );
    // Others go on: the post it smiled at, the catalog, everyone else's account.
    w.accept(
        as_user("ucarl"),
        Command::ChooseInterests {
            interests: vec![interest("diy")],
        },
    );
}
