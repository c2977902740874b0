//! The golden log written by record format 1 is read, verified and re-encoded byte for byte.

mod golden_support;

use golden_support::{frames, render};
use sparkfeed_events::{Hash, Position, codec};

const LOG: &[u8] = include_bytes!("../../../fixtures/golden/log-v1.bin");
const RENDERED: &str = include_str!("../../../fixtures/golden/log-v1.txt");

#[test]
fn golden_log_v1_decodes_to_its_committed_rendering() {
    let events: Vec<_> = frames(LOG)
        .into_iter()
        .map(|stored| codec::open(stored).expect("every golden record decodes"))
        .collect();
    assert_eq!(events.len(), 300);
    assert_eq!(render(&events), RENDERED);
}

#[test]
fn golden_log_v1_chain_verifies_and_positions_are_gap_free() {
    let mut prev = Hash::GENESIS;
    for (n, stored) in frames(LOG).into_iter().enumerate() {
        let split = codec::split(stored).expect("splits");
        assert_eq!(
            prev.link(split.record_bytes),
            split.hash,
            "chain breaks at {n}"
        );
        let event = codec::open(stored).expect("decodes");
        assert_eq!(event.record.position, Position(n as u64));
        prev = split.hash;
    }
}

#[test]
fn golden_log_v1_reencodes_to_the_same_bytes() {
    let mut prev = Hash::GENESIS;
    for stored in frames(LOG) {
        let event = codec::open(stored).expect("decodes");
        let (again, hash) = codec::seal(&event.record, &prev).expect("seals");
        assert_eq!(again, stored, "the codec must write what old builds wrote");
        prev = hash;
    }
}
