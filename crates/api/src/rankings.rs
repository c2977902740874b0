//! The "For you" rankings the server hands out: a page walks one ranking snapshot, so a
//! cursor never repeats or skips an item while scores change underneath.
//!
//! A first page ranks afresh and keeps the ranking here under a new id; its cursors are
//! `<id>.<offset>`. A later page finds the ranking by id and reads on from the offset.
//! Invariant: a ranking is served only to the viewer it was made for (a visitor's to any
//! visitor: it holds only public posts); an unknown, expired or foreign cursor is refused
//! `BAD_USER_INPUT`, never answered with someone else's ranking.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sparkfeed_domain::UserId;
use sparkfeed_projections::foryou::rank::Ranked;

use crate::error::{ApiError, ApiResult};

/// How long a ranking can be paged through.
pub const RANKING_TTL: Duration = Duration::from_secs(15 * 60);
/// The most rankings kept (the oldest goes first). A ranking of 200 items is about 30 KiB,
/// so this bounds them near 120 MiB; a member keeps only their latest one.
pub const MAX_RANKINGS: usize = 4_096;

struct Kept {
    viewer: Option<UserId>,
    items: Arc<Vec<Ranked>>,
    made: Instant,
}

/// The rankings handed out and not yet expired.
#[derive(Default)]
pub struct Rankings {
    next: AtomicU64,
    kept: Mutex<(HashMap<u64, Kept>, VecDeque<u64>)>,
    /// Each member's latest ranking: a new first page retires the one before.
    latest: Mutex<HashMap<UserId, u64>>,
}

/// Where a page of a ranking starts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RankingCursor {
    /// The ranking.
    pub id: u64,
    /// The index after the item the cursor points at.
    pub offset: usize,
}

impl RankingCursor {
    /// Reads `<id>.<offset>`.
    pub fn parse(text: &str) -> ApiResult<Self> {
        let refused = || ApiError::input("after", format!("{text:?} is not a cursor of forYou"));
        let (id, offset) = text.split_once('.').ok_or_else(refused)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(id) || !digits(offset) {
            return Err(refused());
        }
        Ok(Self {
            id: id.parse().map_err(|_| refused())?,
            offset: offset.parse().map_err(|_| refused())?,
        })
    }

    /// Its text.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.id, self.offset)
    }
}

impl Rankings {
    /// Keeps `items` for `viewer`; answers its id.
    pub fn keep(&self, viewer: Option<&UserId>, items: Vec<Ranked>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut guard = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let (kept, order) = &mut *guard;
        while order.len() >= MAX_RANKINGS {
            if let Some(old) = order.pop_front() {
                kept.remove(&old);
            }
        }
        let now = Instant::now();
        while let Some(old) = order.front().copied() {
            match kept.get(&old) {
                Some(k) if now.duration_since(k.made) < RANKING_TTL => break,
                _ => {
                    order.pop_front();
                    kept.remove(&old);
                }
            }
        }
        kept.insert(
            id,
            Kept {
                viewer: viewer.cloned(),
                items: Arc::new(items),
                made: now,
            },
        );
        order.push_back(id);
        if let Some(member) = viewer {
            let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(old) = latest.insert(member.clone(), id) {
                kept.remove(&old);
            }
            // Members whose ranking expired or was evicted are forgotten here too.
            if latest.len() > MAX_RANKINGS * 2 {
                latest.retain(|_, id| kept.contains_key(id));
            }
        }
        id
    }

    /// The ranking `cursor` walks, if it is `viewer`'s and not expired.
    pub fn get(
        &self,
        cursor: RankingCursor,
        viewer: Option<&UserId>,
    ) -> ApiResult<Arc<Vec<Ranked>>> {
        let guard = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let stale = || {
            ApiError::input(
                "after",
                "this forYou cursor's ranking expired or is not yours: start again without `after`"
                    .to_string(),
            )
        };
        let kept = guard.0.get(&cursor.id).ok_or_else(stale)?;
        if kept.viewer.as_ref() != viewer || kept.made.elapsed() >= RANKING_TTL {
            return Err(stale());
        }
        if cursor.offset > kept.items.len() {
            return Err(stale());
        }
        Ok(Arc::clone(&kept.items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_anything_else_is_refused() {
        let c = RankingCursor { id: 7, offset: 20 };
        assert_eq!(RankingCursor::parse(&c.encode()).ok(), Some(c));
        for bad in [
            "",
            "7",
            "7.",
            ".3",
            "a.1",
            "7.-1",
            "7.1.2",
            "18446744073709551616.0",
            " 7.1",
        ] {
            assert!(RankingCursor::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_ranking_is_served_only_to_its_viewer_and_within_its_length() {
        let rankings = Rankings::default();
        let ana = UserId::parse("uana").expect("valid");
        let bob = UserId::parse("ubob").expect("valid");
        let id = rankings.keep(Some(&ana), vec![]);
        let at = |offset| RankingCursor { id, offset };
        assert!(rankings.get(at(0), Some(&ana)).is_ok());
        assert!(rankings.get(at(0), Some(&bob)).is_err());
        assert!(rankings.get(at(0), None).is_err());
        assert!(rankings.get(at(1), Some(&ana)).is_err());
        assert!(
            rankings
                .get(
                    RankingCursor {
                        id: id + 1,
                        offset: 0
                    },
                    Some(&ana)
                )
                .is_err()
        );
        // A member's new ranking retires the one before; others' stay.
        let bobs = rankings.keep(Some(&bob), vec![]);
        let newer = rankings.keep(Some(&ana), vec![]);
        assert!(rankings.get(at(0), Some(&ana)).is_err(), "retired");
        let of = |id| RankingCursor { id, offset: 0 };
        assert!(rankings.get(of(newer), Some(&ana)).is_ok());
        assert!(rankings.get(of(bobs), Some(&bob)).is_ok());
    }
}
