//! Reading the `foryou` rows.

use sparkfeed_domain::UserId;

use super::keys;
use super::rows::MemberSignals;
use crate::ProjectionError;
use crate::cache::Source;
use crate::list::row;

/// A member's signals (empty for a member who has none yet, and for visitors).
pub fn signals(foryou: &impl Source, member: &UserId) -> Result<MemberSignals, ProjectionError> {
    Ok(row(foryou, &keys::signals(member))?.unwrap_or_default())
}
