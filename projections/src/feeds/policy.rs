//! The feed policy: which of the posts a member's feed could show it does show. A pure
//! decision over the candidates (in feed order) and the member's own purchases; the reads
//! that gather them are the feed's ([`super::home`]).
//!
//! - Removed content stays out.
//! - A product the member bought for themselves (not as a gift) stops being pushed at
//!   them: a post is left out when every product it tags is one they bought, unless it is
//!   a consumable whose re-buy window has passed since their last purchase.
//! - At most one sponsored post in any [`SPONSORED_SPACING`] shown.
//!
//! Every feed that filters for a member goes through [`Policy::judge`]: today the home
//! feed. The per-interest, per-author and per-product lists are not filtered for a reader
//! (removed posts leave them when the projection applies the removal).

use std::collections::HashMap;

use sparkfeed_domain::{Asin, PostId};

/// At most one sponsored post in any this many posts shown in a row.
pub const SPONSORED_SPACING: usize = 5;

/// A post a feed could show, as the policy sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The post.
    pub post: PostId,
    /// Removed by a moderator or its author.
    pub removed: bool,
    /// Carries a paid-partnership disclosure.
    pub sponsored: bool,
    /// The products it tags, in tag order (a product tagged twice is listed twice).
    pub products: Vec<Asin>,
}

/// What a member bought of one product for themselves (gifts left out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Purchase {
    /// When they last bought it (microseconds since the epoch).
    pub last_at: i64,
    /// After how long (microseconds) a consumable may be pushed again: its interests'
    /// shortest re-buy window; `None` for durable goods, which never come back.
    pub rebuy_window: Option<i64>,
}

/// The member's own purchases, by product: every product the candidates tag that the
/// member bought for themselves (others may be left out).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Purchases(HashMap<Asin, Purchase>);

impl Purchases {
    /// Records that the member bought `asin` for themselves.
    pub fn insert(&mut self, asin: Asin, purchase: Purchase) {
        self.0.insert(asin, purchase);
    }

    /// What the member bought of `asin` for themselves, if anything.
    pub fn of(&self, asin: &Asin) -> Option<&Purchase> {
        self.0.get(asin)
    }
}

impl FromIterator<(Asin, Purchase)> for Purchases {
    fn from_iter<I: IntoIterator<Item = (Asin, Purchase)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// The policy's answer for one candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Shown.
    Shown,
    /// Left out: removed.
    Removed,
    /// Left out: the member already bought every product it tags.
    AlreadyBought,
    /// Left out: a sponsored post was shown less than [`SPONSORED_SPACING`] posts ago.
    SponsoredTooSoon,
}

/// The policy over one page of a feed, judging its candidates in feed order.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Posts shown so far.
    shown: usize,
    /// The index among them of the last sponsored one.
    last_sponsored: Option<usize>,
}

impl Policy {
    /// Judges the next candidate at `now` (microseconds since the epoch), counting it as
    /// shown when it is.
    pub fn judge(&mut self, candidate: &Candidate, purchases: &Purchases, now: i64) -> Verdict {
        if candidate.removed {
            return Verdict::Removed;
        }
        if already_bought(candidate, purchases, now) {
            return Verdict::AlreadyBought;
        }
        if candidate.sponsored {
            if self
                .last_sponsored
                .is_some_and(|at| self.shown - at < SPONSORED_SPACING)
            {
                return Verdict::SponsoredTooSoon;
            }
            self.last_sponsored = Some(self.shown);
        }
        self.shown += 1;
        Verdict::Shown
    }
}

/// The verdict on each of `candidates`, in feed order, at `now`.
pub fn judge_all(candidates: &[Candidate], purchases: &Purchases, now: i64) -> Vec<Verdict> {
    let mut policy = Policy::default();
    candidates
        .iter()
        .map(|c| policy.judge(c, purchases, now))
        .collect()
}

/// Arranges `ranked` (best first) under the policy, keeping at most `limit`: never two
/// items by one author in a row, and at most one sponsored item in any
/// [`SPONSORED_SPACING`] in a row. Each slot takes the best item that fits it, so an item
/// that does not fit yet (a second sponsored post too soon, the same author again) moves
/// down to the first slot it fits, never out, while anything else is left to show.
/// `facts` tells an item's author and whether it is sponsored.
pub fn arrange<T, A: PartialEq>(
    ranked: Vec<T>,
    limit: usize,
    facts: impl Fn(&T) -> (&A, bool),
) -> Vec<T> {
    let mut waiting: std::collections::VecDeque<T> = ranked.into();
    let mut out: Vec<T> = Vec::with_capacity(limit.min(waiting.len()));
    let mut last_sponsored: Option<usize> = None;
    while out.len() < limit && !waiting.is_empty() {
        let sponsored_ok = last_sponsored.is_none_or(|at| out.len() - at >= SPONSORED_SPACING);
        let previous = out.last().map(|p| facts(p).0);
        let fits = |item: &T| {
            let (author, sponsored) = facts(item);
            previous.is_none_or(|p| p != author) && (sponsored_ok || !sponsored)
        };
        let Some(at) = waiting.iter().position(fits) else {
            // Only items that cannot follow the last one are left: the feed ends here.
            break;
        };
        let Some(item) = waiting.remove(at) else {
            break;
        };
        if facts(&item).1 {
            last_sponsored = Some(out.len());
        }
        out.push(item);
    }
    out
}

/// Whether every product the post tags is one the member bought for themselves and
/// should not be pushed again yet (a post tagging nothing never is).
pub fn already_bought(candidate: &Candidate, purchases: &Purchases, now: i64) -> bool {
    !candidate.products.is_empty()
        && candidate
            .products
            .iter()
            .all(|asin| purchases.of(asin).is_some_and(|p| p.holds_at(now)))
}

impl Purchase {
    /// Whether the product is still not to be pushed at `now`: a durable good for good, a
    /// consumable until its re-buy window has passed since the last purchase.
    fn holds_at(&self, now: i64) -> bool {
        match self.rebuy_window {
            None => true,
            Some(window) => self.last_at.saturating_add(window) > now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::*;

    const DAY: i64 = 86_400_000_000;
    const NOW: i64 = 100 * DAY;

    /// A candidate from a short spec: `+` removed, `$` sponsored, then the tagged ASINs.
    fn candidate(n: usize, spec: &str) -> Candidate {
        let mut products = Vec::new();
        for word in spec.split_whitespace() {
            if word != "+" && word != "$" {
                products.push(Asin::parse(word).expect("valid"));
            }
        }
        Candidate {
            post: PostId::parse(&format!("p{n}")).expect("valid"),
            removed: spec.split_whitespace().any(|w| w == "+"),
            sponsored: spec.split_whitespace().any(|w| w == "$"),
            products,
        }
    }

    /// Verdicts from a short spec, a letter each: `S` shown, `R` removed, `B` already
    /// bought, `T` sponsored too soon.
    fn verdicts(spec: &str) -> Vec<Verdict> {
        spec.split_whitespace()
            .map(|letter| match letter {
                "S" => Shown,
                "R" => Removed,
                "B" => AlreadyBought,
                "T" => SponsoredTooSoon,
                other => panic!("no verdict {other:?}"),
            })
            .collect()
    }

    /// Given the member's purchases and the candidates in feed order, then the verdicts.
    fn check(purchases: &[(&str, i64, Option<i64>)], candidates: &[&str], then: &[Verdict]) {
        let purchases: Purchases = purchases
            .iter()
            .map(|(a, last_at, rebuy_window)| {
                (
                    Asin::parse(a).expect("valid"),
                    Purchase {
                        last_at: *last_at,
                        rebuy_window: *rebuy_window,
                    },
                )
            })
            .collect();
        let candidates: Vec<Candidate> = candidates
            .iter()
            .enumerate()
            .map(|(n, spec)| candidate(n, spec))
            .collect();
        assert_eq!(
            judge_all(&candidates, &purchases, NOW),
            then,
            "given {purchases:?}, when {candidates:?}"
        );
    }

    const DURABLE: &str = "B000000001";
    const CONSUMABLE: &str = "B000000002";
    const OTHER: &str = "B000000003";

    #[test]
    fn removed_posts_stay_out() {
        check(&[], &["+", "", "+ $"], &[Removed, Shown, Removed]);
    }

    #[test]
    fn a_post_is_left_out_only_when_every_product_it_tags_was_bought() {
        let bought = [(DURABLE, NOW - DAY, None)];
        check(
            &bought,
            &[
                "B000000001",
                "B000000001 B000000003",
                "B000000003",
                "",
                "B000000001 B000000001",
            ],
            &[AlreadyBought, Shown, Shown, Shown, AlreadyBought],
        );
    }

    #[test]
    fn a_consumable_comes_back_once_its_rebuy_window_has_passed() {
        let spec = [CONSUMABLE];
        for (last_at, window, then) in [
            (NOW - 29 * DAY, Some(30 * DAY), AlreadyBought),
            (NOW - 30 * DAY, Some(30 * DAY), Shown),
            (NOW - 31 * DAY, Some(30 * DAY), Shown),
            (NOW - 365 * DAY, None, AlreadyBought),
            // A window too long to count in microseconds never ends.
            (NOW, Some(i64::MAX), AlreadyBought),
        ] {
            check(&[(CONSUMABLE, last_at, window)], &spec, &[then]);
        }
        // Two products bought: the post comes back when either may be pushed again.
        check(
            &[
                (CONSUMABLE, NOW - 31 * DAY, Some(30 * DAY)),
                (OTHER, NOW, None),
            ],
            &["B000000002 B000000003"],
            &[Shown],
        );
    }

    #[test]
    fn at_most_one_sponsored_post_in_any_five() {
        check(
            &[],
            &["$", "$", "", "", "", "", "$", "", "", "", "$", "", "$"],
            &verdicts("S T S S S S S S S S T S S"),
        );
    }

    #[test]
    fn posts_left_out_do_not_count_toward_the_sponsored_spacing() {
        let bought = [(DURABLE, NOW, None)];
        check(
            &bought,
            &["$", "B000000001", "+", "", "", "", "$", "", "$"],
            &verdicts("S B R S S S T S S"),
        );
    }

    #[test]
    fn a_sponsored_post_left_out_for_its_products_does_not_reset_the_spacing() {
        let bought = [(DURABLE, NOW, None)];
        check(
            &bought,
            &["$", "", "", "", "$ B000000001", "", "$"],
            &verdicts("S S S S B S S"),
        );
    }

    /// Items as `author` letter, `$` when sponsored: "a", "b$", ...
    fn arranged(spec: &str, limit: usize) -> String {
        let items: Vec<(char, bool)> = spec
            .split_whitespace()
            .map(|w| (w.chars().next().expect("a letter"), w.ends_with('$')))
            .collect();
        arrange(items, limit, |(a, s)| (a, *s))
            .into_iter()
            .map(|(a, s)| if s { format!("{a}$") } else { a.to_string() })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn no_author_twice_in_a_row_the_next_best_other_author_steps_up() {
        assert_eq!(arranged("a a a b b c", 10), "a b a b a c");
        // Only one author left: the feed ends rather than repeat them.
        assert_eq!(arranged("a a a", 10), "a");
    }

    #[test]
    fn a_sponsored_post_over_the_cap_moves_down_to_the_first_slot_it_fits_never_out() {
        assert_eq!(
            arranged("a$ b$ c d e f g h", 10),
            "a$ c d e f b$ g h",
            "the second sponsored post waits four organic posts"
        );
        assert_eq!(
            arranged("a$ b$ c$ d e f g h i j k l", 20),
            "a$ d e f g b$ h i j k c$ l"
        );
        let all = arranged("a$ b$ c d e f g h i j k l m n", 20);
        let words: Vec<&str> = all.split(' ').collect();
        for window in words.windows(SPONSORED_SPACING) {
            let sponsored = window.iter().filter(|w| w.ends_with('$')).count();
            assert!(sponsored <= 1, "{all}");
        }
        assert_eq!(words.len(), 14, "nothing dropped: {all}");
    }

    #[test]
    fn the_limit_cuts_the_arrangement() {
        assert_eq!(arranged("a b c d e", 3), "a b c");
    }
}
