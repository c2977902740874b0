//! Folding engagements into a member's signals: the one place an engagement changes them,
//! when a batch folds [`Unfolded`] engagements in and when a read adds the ones waiting.

use std::hash::Hash;

use sparkfeed_domain::PostId;

use super::keyed::KeyedList;
use super::rows::{
    Affinity, EngagedWith, Engagement, MAX_AFFINITIES, MAX_ENGAGED, MemberSignals, Unfolded,
};

impl Unfolded {
    /// Takes every engagement out, to be folded: this row then starts at the one after.
    pub fn take(&mut self) -> Unfolded {
        let next = self.next();
        let taken = Unfolded {
            first: self.first,
            engagements: std::mem::take(&mut self.engagements),
        };
        self.first = next;
        taken
    }

    /// The sequence number of the engagement after the last one here.
    fn next(&self) -> u64 {
        let count = u64::try_from(self.engagements.len()).unwrap_or(u64::MAX);
        self.first.saturating_add(count)
    }
}

impl MemberSignals {
    /// Folds in each of `unfolded`'s engagements these signals do not hold yet, in order,
    /// and counts them as folded: what crediting each at once gives (the specification,
    /// `credit_at_once` in the tests), with the posts engaged with lately moved once per
    /// fold rather than once per engagement.
    pub fn fold(&mut self, unfolded: &Unfolded) {
        let skip = self.folded.saturating_sub(unfolded.first);
        let waiting = usize::try_from(skip)
            .ok()
            .and_then(|skip| unfolded.engagements.get(skip..))
            .unwrap_or_default();
        for engagement in waiting {
            self.credit(engagement);
        }
        self.remember_given(waiting.iter().filter(|e| !e.taken_back).map(|e| &e.post));
        self.folded = self.folded.max(unfolded.next());
    }

    /// Credits (or, taken back, takes back) one engagement to the post's author, interests
    /// and products.
    fn credit(&mut self, engaged: &EngagedWith) {
        let sign = if engaged.taken_back { -1.0 } else { 1.0 };
        let weight = sign * engaged.how.weight();
        let (how, post, facts) = (engaged.how, &engaged.post, &engaged.facts);
        credit(&mut self.authors, &facts.author, weight, how, post);
        for interest in &facts.interests {
            credit(&mut self.interests, interest, weight, how, post);
        }
        for product in &facts.products {
            credit(&mut self.products, product, weight, how, post);
        }
    }

    /// Remembers `given`, posts engaged with in this order, among the last
    /// [`MAX_ENGAGED`] engaged with: each moves to the end as it comes, and the oldest are
    /// cut once at the end, which cuts the same ones as cutting after every move (the list
    /// is the distinct posts by their last engagement).
    fn remember_given<'a>(&mut self, given: impl Iterator<Item = &'a PostId>) {
        for post in given {
            self.engaged.remove_key(post);
            self.engaged.push(post.clone());
        }
        self.engaged.keep_last(MAX_ENGAGED);
    }
}

/// Adds `weight` to `key`'s affinity; one that falls to nothing is dropped, and past
/// [`MAX_AFFINITIES`] the weakest goes.
fn credit<K: Clone + PartialEq + Hash>(
    affinities: &mut KeyedList<Affinity<K>>,
    key: &K,
    weight: f32,
    how: Engagement,
    post: &PostId,
) {
    let credited = affinities.update(key, |a| {
        a.weight += weight;
        if weight > 0.0 {
            a.via = a.via.max(how);
            a.post.clone_from(post);
        }
    });
    if !credited && weight > 0.0 {
        affinities.push(Affinity {
            key: key.clone(),
            weight,
            via: how,
            post: post.clone(),
        });
    }
    // Only a taken-back engagement lowers a weight: a credit adds at least 1.
    if weight < 0.0 {
        affinities.retain(|a| a.weight > 0.01);
    }
    if affinities.len() > MAX_AFFINITIES
        && let Some(weakest) = weakest(affinities)
    {
        affinities.remove(weakest);
    }
}

/// The index of the weakest affinity, the first of equals (deterministic).
///
/// A plain scan with `<`: the same answer as a `min_by` with `f32::total_cmp`, because
/// every weight here is finite and above 0.01 (engagement weights are constants of at
/// least 1, and a take-back that leaves one at 0.01 or below removes it first), so neither
/// NaN nor the sign of a zero can tell the two orders apart. Replacing that `min_by` took
/// 16% off the foryou replay's instructions (BENCHMARKS.md).
fn weakest<K>(affinities: &[Affinity<K>]) -> Option<usize> {
    let (first, rest) = affinities.split_first()?;
    let (mut at, mut least) = (0, first.weight);
    for (i, affinity) in rest.iter().enumerate() {
        if affinity.weight < least {
            (at, least) = (i + 1, affinity.weight);
        }
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use sparkfeed_domain::{Asin, InterestSlug, PostId, UserId};

    use super::*;
    use crate::foryou::rows::{FOLD_AT, PostFacts};

    /// An engagement with post `post` by author `author` (more authors and products than a
    /// member keeps affinities for, so the weakest go), in interest `interest` and tagging
    /// product `product`.
    fn engagement(
        post: u8,
        author: u8,
        interest: u8,
        product: u8,
        how: u8,
        taken_back: bool,
    ) -> EngagedWith {
        let how = [
            Engagement::Smiled,
            Engagement::Commented,
            Engagement::Shared,
            Engagement::Saved,
            Engagement::Bought,
        ][usize::from(how % 5)];
        EngagedWith {
            post: PostId::parse(&format!("p{post:03}")).expect("a post id"),
            how,
            taken_back,
            facts: std::sync::Arc::new(PostFacts {
                author: UserId::parse(&format!("u{author:03}")).expect("a user id"),
                interests: vec![InterestSlug::parse(&format!("i{interest}")).expect("a slug")],
                products: vec![Asin::parse(&format!("B{product:09}")).expect("an ASIN")],
            }),
        }
    }

    /// Engagements with more posts than a member remembers (so the oldest are cut), and
    /// runs among a few posts (so a fold moves one post more than once).
    fn engagements() -> impl Strategy<Value = Vec<EngagedWith>> {
        proptest::collection::vec(
            (
                prop_oneof![3 => any::<u8>(), 1 => 0u8..4],
                0u8..90,
                0u8..8,
                0u8..90,
                0u8..5,
                proptest::bool::weighted(0.2),
            )
                .prop_map(|(post, author, interest, product, how, back)| {
                    engagement(post, author, interest, product, how, back)
                }),
            0..(16 * FOLD_AT),
        )
    }

    /// The specification of a fold: `engaged` credited at once, as every engagement was
    /// before folds, and, given, moved to the end of the posts engaged with lately.
    fn credit_at_once(signals: &mut MemberSignals, engaged: &EngagedWith) {
        signals.credit(engaged);
        if !engaged.taken_back {
            signals.engaged.remove_key(&engaged.post);
            signals.engaged.push(engaged.post.clone());
            signals.engaged.keep_last(MAX_ENGAGED);
        }
    }

    /// The signals without their fold count, which only says how they were stored.
    fn held(mut signals: MemberSignals) -> MemberSignals {
        signals.folded = 0;
        signals
    }

    proptest! {
        /// The weakest affinity is the first of the least weights, as `min_by` with
        /// `total_cmp` finds it, for weights as credits make them (finite, above 0.01;
        /// equal ones common).
        #[test]
        fn the_weakest_is_the_first_least_weight(
            weights in proptest::collection::vec(prop_oneof![0.02f32..100.0, (1u8..6).prop_map(f32::from)], 0..80)
        ) {
            let affinities: Vec<Affinity<u8>> = weights
                .iter()
                .map(|&weight| Affinity {
                    key: 0,
                    weight,
                    via: Engagement::Smiled,
                    post: PostId::parse("p1").expect("a post id"),
                })
                .collect();
            let by_total_cmp = affinities
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| a.weight.total_cmp(&b.weight))
                .map(|(i, _)| i);
            prop_assert_eq!(weakest(&affinities), by_total_cmp);
        }

        /// Engagements folded [`FOLD_AT`] at a time, as the projection stores them, read
        /// as crediting each at once does: after every engagement, and from a row of
        /// unfolded engagements read before a fold wrote the signals read after it.
        #[test]
        fn signals_folded_by_the_batch_read_as_each_engagement_credited_at_once(
            engagements in engagements()
        ) {
            let mut each_at_once = MemberSignals::default();
            let (mut stored, mut unfolded) = (MemberSignals::default(), Unfolded::default());
            for engagement in engagements {
                credit_at_once(&mut each_at_once, &engagement);
                unfolded.engagements.push(engagement);
                let read_before = unfolded.clone();
                if unfolded.engagements.len() >= FOLD_AT {
                    stored.fold(&unfolded.take());
                    prop_assert_eq!(stored.folded, unfolded.first);
                }
                let mut read = stored.clone();
                read.fold(&unfolded);
                prop_assert_eq!(held(read), held(each_at_once.clone()));
                let mut read_across_a_fold = stored.clone();
                read_across_a_fold.fold(&read_before);
                prop_assert_eq!(held(read_across_a_fold), held(each_at_once.clone()));
            }
        }
    }
}
