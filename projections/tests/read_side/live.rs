//! Live projections write only what changed: a batch of events that changes none of a
//! projection's rows writes nothing to its store, not even the checkpoint.

use sparkfeed_domain::Command;
use sparkfeed_domain::events::ReportReason;
use sparkfeed_events::Position;
use sparkfeed_projections::Source;
use sparkfeed_projections::store::checkpoint;

use crate::{World, as_user, post, publish};

/// Projection `name`'s checkpoint as its tree holds it, and where it has got to.
fn written_and_reached(w: &World, name: &str) -> (Position, Position) {
    let view = w.projections.view(name).expect("view");
    (
        checkpoint(view.tree()).expect("reads"),
        view.checkpoint().expect("reads"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_batch_that_changes_no_row_writes_nothing_and_the_next_change_writes_the_checkpoint()
{
    let (w, _live) = World::small_live().await;
    let published = w
        .run_and_read(as_user("uana"), publish("p1", &["fitness"], &[], None))
        .await;
    let head = published.position.next();

    // Nothing so far concerns the moderation queue: its store holds no checkpoint, and
    // yet the projection is at the head, and says so.
    assert_eq!(
        written_and_reached(&w, "moderation"),
        (Position::START, head)
    );
    // The feeds show the post: their last batch wrote its rows with its checkpoint.
    assert_eq!(written_and_reached(&w, "feeds"), (head, head));
    for (name, lag) in w.projections.lag().expect("lag") {
        assert_eq!(lag, 0, "{name} is caught up");
    }

    let reported = w
        .run_and_read(
            as_user("ubob"),
            Command::ReportPost {
                post: post("p1"),
                reason: ReportReason::Spam,
            },
        )
        .await;
    let head = reported.position.next();
    assert_eq!(
        written_and_reached(&w, "moderation"),
        (head, head),
        "a report goes in the queue: its batch writes the rows with the checkpoint"
    );
    assert_eq!(w.projections.applied(), head);
}
