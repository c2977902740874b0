//! Queries over the moderation projection.

use sparkfeed_domain::ReportId;
use sparkfeed_events::Position;

use super::keys;
use super::rows::ReportRow;
use crate::ProjectionError;
use crate::cache::Source;
use crate::list::{Page, page, row};

/// Which reports a queue lists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Queue {
    /// Undecided, newest report first; the cursor is the report's position.
    Open,
    /// Decided, newest decision first; the cursor is the decision's position.
    Resolved,
}

/// One report.
pub fn report(
    moderation: &impl Source,
    id: &ReportId,
) -> Result<Option<ReportRow>, ProjectionError> {
    row(moderation, &keys::report(id))
}

/// Up to `first` reports of `queue` after cursor `after`.
pub fn reports(
    moderation: &sled::Tree,
    queue: Queue,
    first: usize,
    after: Option<Position>,
) -> Result<Page<ReportRow>, ProjectionError> {
    let prefix = match queue {
        Queue::Open => keys::open_prefix(),
        Queue::Resolved => keys::resolved_prefix(),
    };
    page(moderation, prefix, first, after)
}
