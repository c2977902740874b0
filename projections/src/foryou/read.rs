//! Reading the `foryou` rows.

use sparkfeed_domain::UserId;

use super::keys;
use super::rows::{MemberSignals, Unfolded};
use crate::ProjectionError;
use crate::cache::Source;
use crate::list::row;

/// A member's signals (empty for a member who has none yet, and for visitors), with their
/// engagements not folded in yet added.
///
/// The unfolded engagements are read first: a batch that folds them in between the two
/// reads leaves signals that already hold them, and [`MemberSignals::fold`] skips those.
pub fn signals(foryou: &impl Source, member: &UserId) -> Result<MemberSignals, ProjectionError> {
    let unfolded: Option<Unfolded> = row(foryou, &keys::unfolded(member))?;
    let mut signals: MemberSignals = row(foryou, &keys::signals(member))?.unwrap_or_default();
    if let Some(unfolded) = unfolded {
        signals.fold(&unfolded);
    }
    Ok(signals)
}
