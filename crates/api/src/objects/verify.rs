//! `VerifyReport`: the outcome of recomputing the log's hash chain.

use async_graphql::SimpleObject;

use crate::scalars::Int64;

/// The outcome of recomputing the log's hash chain.
#[derive(SimpleObject)]
#[graphql(serial)]
pub(crate) struct VerifyReport {
    /// Every record and index entry matched.
    pub intact: bool,
    /// Records checked.
    pub records: Int64,
    /// The head's hash (hex) the check ran up to.
    pub head_hash: String,
    /// The first position that does not match, if any.
    pub first_bad_position: Option<Int64>,
    /// How it does not match.
    pub problem: Option<String>,
}
