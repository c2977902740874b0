//! Sponsorship contracts: a brand signs with an enthusiast; the brand or an admin ends it.

use sparkfeed_events::Timestamp;

use crate::commands::{Caller, Command};
use crate::events::{AccountKind, ContractEnded, ContractOpened};
use crate::limits::{MAX_COMMISSION_BP, MAX_REASON_CHARS};
use crate::state::{ContractState, UserState};
use crate::{Refusal, Role};

use super::checks::{admin, chars, positive_price, registered, signed_in};
use super::{Actor, Decided, Decision, not_decided_here};

/// What the contract rules read.
#[derive(Clone, Debug)]
pub struct Given {
    /// Who issues the command.
    pub actor: Actor,
    /// The contract opened or ended.
    pub contract: ContractState,
    /// The enthusiast a contract is opened with.
    pub enthusiast: UserState,
}

/// The contract rules, at `now`.
pub fn decide(given: &Given, command: &Command, now: Timestamp) -> Decision {
    match command {
        Command::OpenContract {
            contract,
            enthusiast,
            flat_fee,
            commission_bp,
            starts_at,
            ends_at,
        } => {
            let (brand, state) = signed_in(&given.actor)?;
            if state.kind != Some(AccountKind::Brand) {
                return Err(Refusal::Forbidden("brand"));
            }
            registered(enthusiast, &given.enthusiast)?;
            if !given.enthusiast.roles.contains(&Role::Enthusiast) {
                return Err(Refusal::validation(
                    "enthusiast",
                    "brands sponsor members with the enthusiast role",
                ));
            }
            if flat_fee.is_none() && commission_bp.is_none() {
                return Err(Refusal::validation(
                    "terms",
                    "a flat fee, a commission rate, or both",
                ));
            }
            if commission_bp.is_some_and(|bp| !(1..=MAX_COMMISSION_BP).contains(&bp)) {
                return Err(Refusal::validation(
                    "commissionBp",
                    format!("expected 1 to {MAX_COMMISSION_BP} basis points"),
                ));
            }
            if let Some(fee) = flat_fee {
                positive_price("flatFee", *fee)?;
            }
            if ends_at <= starts_at {
                return Err(Refusal::validation("endsAt", "must be after startsAt"));
            }
            if given.contract.opened.is_some() {
                return Err(Refusal::ContractExists(contract.to_string()));
            }
            Ok(vec![Decided::event(ContractOpened {
                contract: contract.clone(),
                brand: brand.clone(),
                brand_name: state.brand_name.clone().unwrap_or_default(),
                enthusiast: enthusiast.clone(),
                flat_fee: *flat_fee,
                commission_bp: *commission_bp,
                starts_at: *starts_at,
                ends_at: *ends_at,
            })])
        }
        Command::EndContract { contract, reason } => {
            chars("reason", reason, 0..=MAX_REASON_CHARS)?;
            let Some(opened) = &given.contract.opened else {
                return Err(Refusal::UnknownContract(contract.to_string()));
            };
            let by = match &given.actor.caller {
                Caller::User(user) if *user == opened.brand => format!("user:{user}"),
                _ => admin(&given.actor)
                    .map_err(|_| Refusal::NotPartyToContract(contract.to_string()))?,
            };
            if !given.contract.is_active(now.0) {
                return Err(Refusal::ContractNotActive(contract.to_string()));
            }
            Ok(vec![Decided::event(ContractEnded {
                contract: contract.clone(),
                by,
                reason: reason.clone(),
            })])
        }
        _ => Err(not_decided_here("contract")),
    }
}
