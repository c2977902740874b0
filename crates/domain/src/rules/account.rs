//! Accounts: registration (a handle reserved, then the account opened), Prime membership,
//! the interests a member follows, roles.

use std::collections::BTreeSet;

use crate::commands::{Caller, Command};
use crate::events::{
    AccountKind, HandleReserved, InterestsChosen, MemberForgotten, PrimeEnded, PrimeStarted,
    RoleGranted, RoleRevoked,
};
use crate::limits::{MAX_INTERESTS_CHOSEN, MAX_NAME_CHARS};
use crate::state::UserState;
use crate::{Handle, InterestSlug, Refusal, UserId};

use super::checks::{admin, chars, known_interests, registered, signed_in};
use super::{Actor, Decided, Decision, not_decided_here};

/// What the account rules read.
#[derive(Clone, Debug)]
pub struct Given {
    /// Who issues the command.
    pub actor: Actor,
    /// The account the command is about: the one registered, made Prime, given a role;
    /// the caller's own for `ChooseInterests`.
    pub account: UserState,
    /// Who holds the handle asked for (registration).
    pub handle_owner: Option<UserId>,
    /// Which of the interests named are in the catalog.
    pub known_interests: BTreeSet<InterestSlug>,
}

/// The account rules.
pub fn decide(given: &Given, command: &Command) -> Decision {
    match command {
        Command::RegisterMember {
            user,
            handle,
            display_name,
        } => {
            chars("displayName", display_name, 1..=MAX_NAME_CHARS)?;
            // A member opens their own account, signed out (or an operator does).
            if matches!(given.actor.caller, Caller::User(_)) {
                return Err(Refusal::Forbidden("anonymous or admin"));
            }
            register(given, user, handle, AccountKind::Member, display_name, None)
        }
        Command::RegisterBrand {
            user,
            handle,
            brand_name,
        } => {
            admin(&given.actor)?;
            chars("brandName", brand_name, 1..=MAX_NAME_CHARS)?;
            let name = Some(brand_name.clone());
            register(given, user, handle, AccountKind::Brand, brand_name, name)
        }
        Command::StartPrime { user } | Command::EndPrime { user } => {
            admin(&given.actor)?;
            let start = matches!(command, Command::StartPrime { .. });
            member(user, &given.account, "brands have no Prime membership")?;
            match (start, given.account.prime) {
                (true, true) => Err(Refusal::validation("prime", "already a Prime member")),
                (false, false) => Err(Refusal::validation("prime", "not a Prime member")),
                (true, false) => Ok(vec![Decided::event(PrimeStarted { user: user.clone() })]),
                (false, true) => Ok(vec![Decided::event(PrimeEnded { user: user.clone() })]),
            }
        }
        Command::ChooseInterests { interests } => {
            let (user, state) = signed_in(&given.actor)?;
            if state.kind != Some(AccountKind::Member) {
                return Err(Refusal::validation(
                    "interests",
                    "brands do not choose interests",
                ));
            }
            if interests.len() > MAX_INTERESTS_CHOSEN {
                return Err(Refusal::TooManyInterests(interests.len()));
            }
            known_interests(
                "interests",
                interests,
                MAX_INTERESTS_CHOSEN,
                &given.known_interests,
            )?;
            Ok(vec![Decided::event(InterestsChosen {
                user: user.clone(),
                interests: interests.clone(),
            })])
        }
        Command::GrantRole { user, role } | Command::RevokeRole { user, role } => {
            let by = admin(&given.actor)?;
            let grant = matches!(command, Command::GrantRole { .. });
            member(user, &given.account, "roles are for members")?;
            let (user, role) = (user.clone(), *role);
            match (grant, given.account.roles.contains(&role)) {
                (true, true) => Err(Refusal::AlreadyHasRole),
                (false, false) => Err(Refusal::RoleNotHeld),
                (true, false) => Ok(vec![Decided::event(RoleGranted { user, role, by })]),
                (false, true) => Ok(vec![Decided::event(RoleRevoked { user, role, by })]),
            }
        }
        Command::ForgetMember { user } => {
            // The member themself, or an admin.
            let by = match &given.actor.caller {
                Caller::User(caller) if caller == user => {
                    format!("user:{}", signed_in(&given.actor)?.0)
                }
                _ => admin(&given.actor)?,
            };
            member(
                user,
                &given.account,
                "brands are organisations, not persons: nothing of theirs is personal data",
            )?;
            if given.account.forgotten {
                return Err(Refusal::AlreadyForgotten(user.to_string()));
            }
            Ok(vec![Decided::event(MemberForgotten {
                user: user.clone(),
                by,
            })])
        }
        _ => Err(not_decided_here("account")),
    }
}

/// A registered member account (not a brand); `brand` says why a brand is refused.
fn member(user: &UserId, account: &UserState, brand: &'static str) -> Result<(), Refusal> {
    registered(user, account)?;
    if account.kind != Some(AccountKind::Member) {
        return Err(Refusal::validation("user", brand));
    }
    Ok(())
}

/// The handle reserved (unless this account holds it already: a registration cut in
/// half and finished by its retry), then the account opened.
fn register(
    given: &Given,
    user: &UserId,
    handle: &Handle,
    kind: AccountKind,
    display_name: &str,
    brand_name: Option<String>,
) -> Decision {
    if given.account.kind.is_some() {
        return Err(Refusal::AlreadyRegistered);
    }
    let mut events = Vec::with_capacity(2);
    match &given.handle_owner {
        Some(owner) if owner != user => return Err(Refusal::HandleTaken),
        Some(_) => {}
        None => events.push(Decided::event(HandleReserved { user: user.clone() })),
    }
    events.push(Decided::UserRegistered {
        user: user.clone(),
        kind,
        handle: handle.clone(),
        display_name: display_name.to_owned(),
        brand_name,
    });
    Ok(events)
}
