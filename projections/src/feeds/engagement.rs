//! Smiles and saves as the feeds projection records them: listed in the post's
//! [`StatsRow`] while they are few, each in a row of its own once the list spilled (see
//! [`Engaged`]).

use sparkfeed_domain::{PostId, UserId};
use sparkfeed_events::Position;

use super::keys;
use super::rows::{Engaged, Engagement, EngagementKind, LISTED_MEMBERS, StatsRow};
use crate::ProjectionError;
use crate::store::Rows;

/// Records in `stats` (the post's row, written back by the caller) that `member` did
/// `kind` to `post` at `at`, or in a row of their own once the list spilled; answers
/// whether they had not already.
pub(super) fn engage(
    rows: &mut Rows<'_>,
    stats: &mut StatsRow,
    kind: EngagementKind,
    post: &PostId,
    member: &UserId,
    at: Position,
) -> Result<bool, ProjectionError> {
    let engaged = stats.of(kind);
    let Engaged::Listed(list) = engaged else {
        let own = keys::own_engagement(kind, post, member);
        if rows.contains(&own)? {
            return Ok(false);
        }
        rows.put(own, &at)?;
        return Ok(true);
    };
    let Err(slot) = list.binary_search_by(|e| e.member.cmp(member)) else {
        return Ok(false);
    };
    let engagement = Engagement {
        member: member.clone(),
        at,
    };
    if list.len() < LISTED_MEMBERS {
        list.insert(slot, engagement);
    } else {
        for e in list.drain(..).chain([engagement]) {
            rows.put(keys::own_engagement(kind, post, &e.member), &e.at)?;
        }
        *engaged = Engaged::Spilled;
    }
    Ok(true)
}

/// Undoes `member`'s `kind` of `post` in `stats` (written back by the caller); answers
/// where it had been recorded (`None` if they had not).
pub(super) fn disengage(
    rows: &mut Rows<'_>,
    stats: &mut StatsRow,
    kind: EngagementKind,
    post: &PostId,
    member: &UserId,
) -> Result<Option<Position>, ProjectionError> {
    match stats.of(kind) {
        Engaged::Listed(list) => Ok(list
            .binary_search_by(|e| e.member.cmp(member))
            .ok()
            .map(|i| list.remove(i).at)),
        Engaged::Spilled => {
            let own = keys::own_engagement(kind, post, member);
            let at = rows.get::<Position>(&own)?;
            rows.delete(own);
            Ok(at)
        }
    }
}

/// Changes a post's [`StatsRow`] (and any spilled member rows, through `rows`) and writes
/// it back; answers what `change` answered, or `None` when the post has no stats (it is
/// not in this projection), which is left as it is.
pub(super) fn change_stats<T>(
    rows: &mut Rows<'_>,
    post: &PostId,
    change: impl FnOnce(&mut Rows<'_>, &mut StatsRow) -> Result<T, ProjectionError>,
) -> Result<Option<T>, ProjectionError> {
    let row_key = keys::stats(post);
    // Taken out of the decoded row while `change` writes other rows through `rows`.
    let Some(mut stats) = rows.change(row_key.clone(), |s: &mut Option<StatsRow>| s.take())? else {
        return Ok(None);
    };
    let answer = change(rows, &mut stats);
    rows.change(row_key, |s: &mut Option<StatsRow>| *s = Some(stats))?;
    answer.map(Some)
}
