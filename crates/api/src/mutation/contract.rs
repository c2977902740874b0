//! Sponsorship contracts between brands and enthusiasts.

use async_graphql::{Context, ID, InputObject, Object};
use sparkfeed_domain::{Command, ContractId};

use super::args;
use super::payloads::{SponsorshipPayload, written};
use super::sender::{Sender, run};
use crate::ctx::Gql;
use crate::objects::money::MoneyInput;
use crate::scalars::DateTime;

/// Sponsorship contracts between brands and enthusiasts.
#[derive(Default)]
pub(crate) struct ContractMutations;

/// Sponsorship contracts between brands and enthusiasts.
#[Object]
impl ContractMutations {
    /// A brand offers an enthusiast a sponsorship contract (flat fee and/or commission).
    async fn create_sponsorship(
        &self,
        ctx: &Context<'_>,
        input: CreateSponsorshipInput,
    ) -> Gql<SponsorshipPayload> {
        let sender = Sender::brand(ctx, "createSponsorship", input.idempotency_key.as_deref())?;
        let contract = sender.new_id(ContractId::generate);
        let command = Command::OpenContract {
            contract: contract.clone(),
            enthusiast: args::user_id(&input.enthusiast_id)?,
            flat_fee: input
                .flat_fee
                .as_ref()
                .map(|m| m.parse("flatFee"))
                .transpose()?,
            commission_bp: input.commission_bp,
            starts_at: input.starts_at.micros("startsAt")?,
            ends_at: input.ends_at.micros("endsAt")?,
        };
        let done = run(ctx, sender, command).await?;
        Ok(SponsorshipPayload {
            contract_id: ID(contract.to_string()),
            position: written(&done),
        })
    }

    /// Ends a sponsorship contract early (its brand or an admin). Posts published under
    /// it keep their disclosure.
    async fn end_sponsorship(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        reason: String,
        idempotency_key: Option<String>,
    ) -> Gql<SponsorshipPayload> {
        let sender = Sender::member(ctx, "endSponsorship", idempotency_key.as_deref())?;
        let contract = args::contract_id(&contract_id)?;
        let done = run(
            ctx,
            sender,
            Command::EndContract {
                contract: contract.clone(),
                reason,
            },
        )
        .await?;
        Ok(SponsorshipPayload {
            contract_id: ID(contract.to_string()),
            position: written(&done),
        })
    }
}

/// A sponsorship contract a brand offers an enthusiast.
#[derive(InputObject)]
struct CreateSponsorshipInput {
    /// The enthusiast's user id.
    enthusiast_id: ID,
    /// A flat fee.
    flat_fee: Option<MoneyInput>,
    /// A commission rate in basis points of each order's total (at most 5,000).
    commission_bp: Option<u32>,
    /// Start.
    starts_at: DateTime,
    /// End, exclusive.
    ends_at: DateTime,
    /// The client's key (1 to 100 characters): a retry with the same key and input is
    /// answered with the same contract and writes nothing; the same key with another input
    /// is refused with `IDEMPOTENCY_CONFLICT`.
    idempotency_key: Option<String>,
}
