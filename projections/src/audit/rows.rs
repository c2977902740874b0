//! The rows of the audit projection.

use serde::{Deserialize, Serialize};
use sparkfeed_domain::{ContractId, PostId};
use sparkfeed_events::Position;

/// One event of a sponsorship's history.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Log position.
    pub position: Position,
    /// When (microseconds since the epoch).
    pub recorded_at: i64,
    /// Who acted.
    pub actor: String,
    /// Event type.
    pub event_type: String,
    /// The record's chain hash (hex).
    pub hash: String,
    /// The contract.
    pub contract: ContractId,
    /// The post concerned, if any.
    pub post: Option<PostId>,
    /// What happened, in words (no personal data).
    pub summary: String,
}
