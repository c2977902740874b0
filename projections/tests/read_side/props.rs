//! Properties of the read models over arbitrary sequences of commands.

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;
use sparkfeed_domain::Command;
use sparkfeed_projections::read;
use sparkfeed_projections::rows::LISTED_MEMBERS;

use crate::*;

/// Members in the property: more than a post's row lists, so some runs spill and some do not.
const FANS: usize = LISTED_MEMBERS + 4;

fn fan(n: usize) -> sparkfeed_domain::UserId {
    user(&format!("ufan{n:02}"))
}

/// A world with post p1 and [`FANS`] Prime members, its projections running live.
async fn fans_world() -> World {
    let w = small_world().await;
    w.run(
        Caller::User(user("uana")),
        publish("p1", &["fitness"], &[], None),
    )
    .await;
    for n in 0..FANS {
        w.run(
            Caller::Anonymous,
            Command::RegisterMember {
                user: fan(n),
                handle: handle(&format!("fan{n:02}")),
                display_name: format!("Fan {n}"),
            },
        )
        .await;
        w.run(system(), Command::StartPrime { user: fan(n) }).await;
    }
    w
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Whatever members smile, save and take either back, in whatever order: each viewer's
    /// state, the counts and the saved lists are what happened, whether the post's row
    /// still lists its members or spilled them; and a rebuild from zero (the replay path)
    /// equals the live projection (the commit path) row for row.
    #[test]
    fn smiles_and_saves_read_back_as_they_happened_listed_or_spilled(
        steps in proptest::collection::vec((0..FANS, any::<bool>(), 0..4u8), 1..90)
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let w = fans_world().await;
            let live = w.projections.spawn();
            let (mut smiling, mut saved) = (BTreeSet::new(), BTreeSet::new());
            let mut last = None;
            // A member who already did it takes it back one time in four, so the lists
            // usually outgrow the post's row, with some undone before and some after.
            for (n, smile, undo) in steps {
                let p1 = post("p1");
                let set = if smile { &mut smiling } else { &mut saved };
                let command = match (smile, set.contains(&n), undo == 0) {
                    (_, true, false) => continue,
                    (true, false, _) => Command::Smile { post: p1 },
                    (true, true, true) => Command::Unsmile { post: p1 },
                    (false, false, _) => Command::SavePost { post: p1 },
                    (false, true, true) => Command::UnsavePost { post: p1 },
                };
                if !set.insert(n) {
                    set.remove(&n);
                }
                last = Some(w.run(Caller::User(fan(n)), command).await.position);
            }
            if let Some(last) = last {
                w.projections
                    .wait_for(last, Duration::from_secs(30))
                    .await
                    .expect("caught up");
            }
            let p1 = post("p1");
            for n in 0..FANS {
                let expected = (smiling.contains(&n), saved.contains(&n));
                assert_eq!(
                    read::viewer_state(&w.feeds(), &p1, &fan(n)).expect("reads"),
                    expected,
                    "fan {n}"
                );
                let listed = read::saved_by(&w.feeds(), &fan(n), 5, None).expect("reads");
                assert_eq!(listed.items.len(), usize::from(expected.1), "fan {n}'s saved list");
            }
            let card = read::post_card(&w.feeds(), &p1).expect("reads").expect("exists");
            assert_eq!(
                (card.stats.smiles, card.stats.saves),
                (smiling.len() as u64, saved.len() as u64)
            );
            let rows = |tree: sled::Tree| -> Vec<(sled::IVec, sled::IVec)> {
                tree.iter().map(|e| e.expect("reads")).collect()
            };
            let before = rows(w.projections.tree("feeds").expect("tree"));
            w.projections.rebuild("feeds", |_, _| {}).await.expect("rebuilds");
            assert!(
                before == rows(w.projections.tree("feeds").expect("tree")),
                "rebuilt equals live"
            );
            for h in live {
                h.abort();
            }
        });
    }
}
