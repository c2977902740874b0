//! How the moderation projection folds reports and decisions into its queue.

use sparkfeed_domain::events::DomainEvent;
use sparkfeed_events::RecordedEvent;

use super::keys;
use super::rows::{ReportRow, Resolution};
use super::{MODERATION, Moderation};
use crate::store::Rows;
use crate::{Applied, Projection, ProjectionError};

impl Projection for Moderation {
    fn name(&self) -> &'static str {
        MODERATION
    }

    fn version(&self) -> u32 {
        1
    }

    fn apply(&self, rows: &mut Rows<'_>, stored: &RecordedEvent, event: &DomainEvent) -> Applied {
        let at = stored.record.position;
        let when = stored.record.recorded_at.0;
        match event {
            DomainEvent::PostReported(e) => {
                let row = ReportRow {
                    report: e.report.clone(),
                    post: e.post.clone(),
                    reporter: e.reporter.clone(),
                    reason: e.reason,
                    position: at,
                    reported_at: when,
                    resolution: None,
                };
                rows.put(keys::open_entry(at), &row)?;
                rows.put(keys::report(&e.report), &row)
            }
            DomainEvent::ReportResolved(e) => {
                let Some(mut row) = rows.get::<ReportRow>(&keys::report(&e.report))? else {
                    return Err(ProjectionError::Corrupt(format!(
                        "report {} decided at {at} was never filed",
                        e.report
                    )));
                };
                rows.delete(keys::open_entry(row.position));
                row.resolution = Some(Resolution {
                    by: e.by.clone(),
                    decision: e.decision,
                    position: at,
                    decided_at: when,
                });
                rows.put(keys::resolved_entry(at), &row)?;
                rows.put(keys::report(&e.report), &row)
            }
            _ => Ok(()),
        }
    }
}
