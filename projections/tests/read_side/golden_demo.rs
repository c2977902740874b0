//! The demo world's projections are byte-identical to what they were when the fixture was
//! written: `fixtures/golden/demo-world.bin` (the seeded demo log) replayed into every
//! projection gives, row for row, the digest in `fixtures/golden/demo-projections.txt`.
//!
//! A refactoring of the read side must pass this unchanged. A change that means to change
//! rows (a new row, a layout version) rewrites the digest with
//! `cargo run -p sparkfeed-projections --example write_demo_golden -- fixtures/golden --digest-only`
//! and says so in its commit.

use crate::demo_world::{frame, project, read_world};

const WORLD: &[u8] = include_bytes!("../../../fixtures/golden/demo-world.bin");
const DIGEST: &str = include_str!("../../../fixtures/golden/demo-projections.txt");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_worlds_projections_are_byte_identical_to_the_golden_digest() {
    let records = read_world(WORLD);
    assert!(
        records.len() > 7000,
        "the demo world: {} events",
        records.len()
    );
    assert!(
        frame(&records) == WORLD,
        "the records re-encode to the stored bytes"
    );
    assert_eq!(
        project(&records).await,
        DIGEST,
        "every projection's rows, replayed from the demo world, hash as the fixture says"
    );
}
