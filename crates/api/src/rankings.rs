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
use sparkfeed_domain::events::FeedMode;
use sparkfeed_projections::foryou::rank::Ranked;

use crate::error::{ApiError, ApiResult};

/// How long a ranking can be paged through.
pub const RANKING_TTL: Duration = Duration::from_secs(15 * 60);
/// The most rankings kept (the oldest goes first). A ranking of 200 items is about 30 KiB,
/// so this bounds them near 120 MiB. (A member's older rankings stay usable until then: a
/// cached first page may still hand out their cursors.)
pub const MAX_RANKINGS: usize = 4_096;

struct Kept {
    viewer: Option<UserId>,
    mode: FeedMode,
    items: Arc<Vec<Ranked>>,
    made: Instant,
}

/// The rankings handed out and not yet expired.
pub struct Rankings {
    next: AtomicU64,
    kept: Mutex<(HashMap<u64, Kept>, VecDeque<u64>)>,
}

impl Default for Rankings {
    /// Ids count up from a random start, so a cursor handed out before a restart, or by
    /// another server, names no ranking made here and is refused (ids from 0 would let an
    /// old cursor page through a new ranking of the same viewer, repeating or skipping
    /// items).
    fn default() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Self {
            // Half the range left to count up through.
            next: AtomicU64::new(random >> 1),
            kept: Mutex::default(),
        }
    }
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
    pub fn keep(&self, viewer: Option<&UserId>, mode: FeedMode, items: Vec<Ranked>) -> u64 {
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
                mode,
                items: Arc::new(items),
                made: now,
            },
        );
        order.push_back(id);
        id
    }

    /// The ranking `cursor` walks, if it is `viewer`'s, not expired, and made in `mode`
    /// (the viewer's mode now: a ranking made before they changed it is not served).
    pub fn get(
        &self,
        cursor: RankingCursor,
        viewer: Option<&UserId>,
        mode: FeedMode,
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
        if kept.mode != mode {
            return Err(ApiError::input(
                "after",
                "the feed mode changed since this forYou ranking was made: start again without `after`"
                    .to_string(),
            ));
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
    fn a_cursor_from_an_earlier_process_names_no_ranking_made_in_this_one() {
        let ana = UserId::parse("uana").expect("valid");
        let before_restart = Rankings::default();
        let after_restart = Rankings::default();
        let id = before_restart.keep(Some(&ana), FeedMode::Personalized, vec![]);
        let fresh = after_restart.keep(Some(&ana), FeedMode::Personalized, vec![]);
        assert_ne!(id, fresh);
        assert!(
            after_restart
                .get(
                    RankingCursor { id, offset: 0 },
                    Some(&ana),
                    FeedMode::Personalized
                )
                .is_err(),
            "refused, not read in the new ranking"
        );
    }

    #[test]
    fn a_ranking_is_served_only_to_its_viewer_and_within_its_length() {
        use FeedMode::{Chronological, Personalized};
        let rankings = Rankings::default();
        let ana = UserId::parse("uana").expect("valid");
        let bob = UserId::parse("ubob").expect("valid");
        let served = |id, offset, viewer, mode| {
            rankings
                .get(RankingCursor { id, offset }, viewer, mode)
                .is_ok()
        };
        let id = rankings.keep(Some(&ana), Personalized, vec![]);
        assert!(served(id, 0, Some(&ana), Personalized));
        assert!(!served(id, 0, Some(&bob), Personalized));
        assert!(!served(id, 0, None, Personalized));
        assert!(!served(id, 1, Some(&ana), Personalized));
        assert!(!served(id + 1, 0, Some(&ana), Personalized));
        // A member's older ranking stays usable beside a newer one; a mode change retires it.
        let bobs = rankings.keep(Some(&bob), Personalized, vec![]);
        let newer = rankings.keep(Some(&ana), Personalized, vec![]);
        assert!(served(id, 0, Some(&ana), Personalized));
        assert!(!served(id, 0, Some(&ana), Chronological));
        assert!(served(newer, 0, Some(&ana), Personalized));
        assert!(served(bobs, 0, Some(&bob), Personalized));
    }
}
