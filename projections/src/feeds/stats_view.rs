//! A post's [`StatsRow`] read in place, for the reads that only look at it: a card's
//! counts, and whether a viewer smiled at or saved the post.

use sparkfeed_domain::{PostId, UserId};
use sparkfeed_events::Position;

use super::keys;
#[cfg(doc)]
use super::rows::{Engaged, Engagement, StatsRow};
use super::rows::{EngagementKind, PostStats};
use crate::ProjectionError;
use crate::cache::Source;

/// A [`StatsRow`] read in place: laid out the same, its member ids borrowed from the
/// stored bytes, so reading a card's counts or answering a viewer allocates a list per
/// kind, not a string per member.
#[derive(serde::Deserialize)]
pub(super) struct StatsRowView<'a> {
    pub(super) counts: PostStats,
    #[serde(borrow)]
    smiles: EngagedView<'a>,
    #[serde(borrow)]
    saves: EngagedView<'a>,
}

impl StatsRowView<'_> {
    /// Whether `viewer` did `kind` to `post`, the post this row is of: in its list, or in
    /// a row of their own once the list spilled.
    pub(super) fn did(
        &self,
        feeds: &impl Source,
        post: &PostId,
        viewer: &UserId,
        kind: EngagementKind,
    ) -> Result<bool, ProjectionError> {
        let engaged = match kind {
            EngagementKind::Smile => &self.smiles,
            EngagementKind::Save => &self.saves,
        };
        match engaged {
            EngagedView::Listed(list) => Ok(list
                .binary_search_by(|e| e.member.cmp(viewer.as_str()))
                .is_ok()),
            EngagedView::Spilled => Ok(feeds.has(&keys::own_engagement(kind, post, viewer))?),
        }
    }
}

/// An [`Engaged`] read in place.
#[derive(serde::Deserialize)]
enum EngagedView<'a> {
    Listed(#[serde(borrow)] Vec<EngagementView<'a>>),
    Spilled,
}

/// An [`Engagement`] read in place.
#[derive(serde::Deserialize)]
struct EngagementView<'a> {
    member: &'a str,
    /// Decoded only to step over it to the next member.
    _at: Position,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::rows::{Engaged, Engagement, StatsRow};
    use crate::store::{decode, encode};

    fn member(id: &str) -> UserId {
        UserId::parse(id).expect("valid id")
    }

    #[test]
    fn the_in_place_view_of_a_stats_row_reads_what_the_row_wrote() {
        let row = StatsRow {
            counts: PostStats {
                smiles: 2,
                saves: 9,
                shares: 1,
                comments: 0,
                purchases: 4,
            },
            smiles: Engaged::Listed(vec![
                Engagement {
                    member: member("uana"),
                    at: Position(7),
                },
                Engagement {
                    member: member("ubob"),
                    at: Position(9),
                },
            ]),
            saves: Engaged::Spilled,
        };
        let bytes = encode(&row).expect("encodes");
        let view: StatsRowView<'_> = decode(&bytes).expect("the view decodes the row");
        assert_eq!(view.counts, row.counts);
        let EngagedView::Listed(smiles) = view.smiles else {
            panic!("smiles are listed");
        };
        let members: Vec<&str> = smiles.iter().map(|e| e.member).collect();
        assert_eq!(members, ["uana", "ubob"]);
        assert_eq!(
            smiles.iter().map(|e| e._at).collect::<Vec<_>>(),
            [Position(7), Position(9)]
        );
        assert!(matches!(view.saves, EngagedView::Spilled));
        let empty = encode(&StatsRow::default()).expect("encodes");
        let view: StatsRowView<'_> = decode(&empty).expect("decodes");
        assert!(matches!(view.smiles, EngagedView::Listed(ref l) if l.is_empty()));
    }
}
