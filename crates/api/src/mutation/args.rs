//! Mutation arguments parsed into domain values, each refusal `BAD_USER_INPUT` on its
//! argument.

use async_graphql::ID;
use sparkfeed_domain::{Asin, ContractId, InterestSlug, ReportId, UserId};

use crate::error::{ApiError, ApiResult};
use crate::query::interest_slug;
pub(super) use crate::query::post_id;

pub(super) fn user_id(id: &ID) -> ApiResult<UserId> {
    UserId::parse(id).map_err(|e| ApiError::input("userId", e.to_string()))
}

pub(super) fn asin(text: &str) -> ApiResult<Asin> {
    Asin::parse(text).map_err(|e| ApiError::input("asin", e.to_string()))
}

pub(super) fn contract_id(id: &ID) -> ApiResult<ContractId> {
    ContractId::parse(id).map_err(|e| ApiError::input("contractId", e.to_string()))
}

pub(super) fn report_id(id: &ID) -> ApiResult<ReportId> {
    ReportId::parse(id).map_err(|e| ApiError::input("reportId", e.to_string()))
}

pub(super) fn interests(list: &[String]) -> ApiResult<Vec<InterestSlug>> {
    list.iter().map(|i| interest_slug(i)).collect()
}
