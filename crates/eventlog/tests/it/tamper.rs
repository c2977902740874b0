use std::path::Path;

use sparkfeed_eventlog::{Config, EventLog, LogError, TamperKind, keys, records};
use sparkfeed_events::{Position, StreamVersion};

use crate::{append_spread, stream};
use sparkfeed_testkit::log::edit_closed_log;

/// A log of 40 events over four streams, closed again.
async fn written_log(dir: &Path) {
    let log = EventLog::open(Config::new(dir)).expect("opens");
    append_spread(&log, 40, 4).await;
}

/// The stored bytes of the record at `position`, read from its chunk.
fn stored(tree: &sled::Tree, position: u64) -> Vec<u8> {
    records::stored(tree, Position(position))
        .expect("reads")
        .expect("present")
        .bytes()
        .to_vec()
}

/// Replaces the stored bytes of the record at `position` inside its chunk.
fn rewrite(tree: &sled::Tree, position: u64, bytes: &[u8]) {
    records::rewrite_stored(tree, Position(position), bytes).expect("writes");
}

/// Edits the closed store behind the log's back, the way an attacker with the files would.
fn verify(dir: &Path) -> sparkfeed_eventlog::VerifyReport {
    let log = EventLog::open(Config::new(dir)).expect("opens");
    log.verify(|_| {}).expect("verify runs")
}

#[tokio::test]
async fn a_changed_byte_anywhere_in_a_record_is_reported_at_its_position() {
    for (position, offset) in [(17u64, 40usize), (3, 1), (29, usize::MAX), (0, 0)] {
        let dir = tempfile::tempdir().expect("temp dir");
        written_log(dir.path()).await;
        assert!(verify(dir.path()).is_intact());
        edit_closed_log(dir.path(), |tree| {
            let mut bytes = stored(tree, position);
            // usize::MAX stands for the last byte: inside the stored hash.
            let at = offset.min(bytes.len() - 1);
            bytes[at] ^= 0x20;
            rewrite(tree, position, &bytes);
        });
        let report = verify(dir.path());
        let tamper = report.tamper.expect("tampering is found");
        assert_eq!(
            tamper.position,
            Position(position),
            "byte {offset}: {tamper:?}"
        );
        assert!(
            matches!(
                tamper.kind,
                TamperKind::HashMismatch { .. } | TamperKind::Undecodable(_)
            ),
            "{tamper:?}"
        );
    }
}

#[tokio::test]
async fn a_record_rewritten_with_a_fresh_valid_hash_is_caught_at_its_own_leaf() {
    let dir = tempfile::tempdir().expect("temp dir");
    written_log(dir.path()).await;
    edit_closed_log(dir.path(), |tree| {
        use sparkfeed_events::codec;
        let prev = codec::open(&stored(tree, 9)).expect("opens").hash;
        let mut event = codec::open(&stored(tree, 10)).expect("opens");
        event.record.payload = b"forged".to_vec();
        let (forged, _) = codec::seal(&event.record, &prev).expect("seals");
        rewrite(tree, 10, &forged);
    });
    // Its own link is valid (resealed on the real previous hash); the stored Merkle leaf
    // of position 10 is not its hash any more, and is named before the broken next link.
    let tamper = verify(dir.path()).tamper.expect("found");
    assert_eq!(tamper.position, Position(10));
    assert_eq!(
        tamper.kind,
        TamperKind::MerkleNode {
            level: 0,
            index: 10
        }
    );
}

#[tokio::test]
async fn a_record_naming_another_position_than_its_own_is_corrupt_to_every_read() {
    for named in [u64::MAX, 3, 11] {
        let dir = tempfile::tempdir().expect("temp dir");
        written_log(dir.path()).await;
        edit_closed_log(dir.path(), |tree| {
            use sparkfeed_events::codec;
            let prev = codec::open(&stored(tree, 9)).expect("opens").hash;
            let mut event = codec::open(&stored(tree, 10)).expect("opens");
            event.record.position = Position(named);
            let (forged, _) = codec::seal(&event.record, &prev).expect("seals");
            rewrite(tree, 10, &forged);
        });
        let log = EventLog::open(Config::new(dir.path())).expect("opens");
        // Readers step on from the position a record names: they get an error there,
        // never a jump back, ahead or past u64::MAX.
        for read in [
            log.read_all(Position(0), 100),
            log.read_all(Position(10), 1),
        ] {
            match read {
                Err(LogError::Corrupt { position, .. }) => {
                    assert_eq!(position, Some(Position(10)), "named {named}");
                }
                other => panic!("named {named}: {other:?}"),
            }
        }
        assert!(matches!(
            log.read_event(Position(10)),
            Err(LogError::Corrupt { .. })
        ));
        assert_eq!(
            log.read_all(Position(0), 10)
                .expect("the records before it")
                .len(),
            10
        );
        drop(log);
        assert_eq!(
            verify(dir.path()).tamper.expect("found").position,
            Position(10),
            "named {named}"
        );
    }
}

#[tokio::test]
async fn removed_records_and_edited_indexes_are_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    written_log(dir.path()).await;
    edit_closed_log(dir.path(), |tree| {
        tree.remove(keys::stream_key(&stream("post-2"), StreamVersion(3)))
            .expect("removes");
    });
    let tamper = verify(dir.path()).tamper.expect("found");
    assert_eq!(
        (tamper.position, tamper.kind),
        (Position(14), TamperKind::StreamIndexMismatch)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    written_log(dir.path()).await;
    edit_closed_log(dir.path(), |tree| {
        records::remove_stored(tree, Position(21)).expect("removes");
    });
    let tamper = verify(dir.path()).tamper.expect("found");
    assert_eq!(
        (tamper.position, tamper.kind),
        (Position(21), TamperKind::Missing)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    written_log(dir.path()).await;
    edit_closed_log(dir.path(), |tree| {
        let stray = keys::stream_key(&stream("post-9"), StreamVersion(0));
        tree.insert(stray, &keys::position_value(Position(5)))
            .expect("writes");
    });
    let tamper = verify(dir.path()).tamper.expect("found");
    assert_eq!(
        (tamper.position, tamper.kind),
        (Position(5), TamperKind::StrayIndexEntry)
    );
}

#[tokio::test]
async fn a_corrupt_last_record_fails_open_with_a_typed_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    written_log(dir.path()).await;
    edit_closed_log(dir.path(), |tree| {
        let mut bytes = stored(tree, 39);
        bytes[0] = 0xEE;
        rewrite(tree, 39, &bytes);
    });
    match EventLog::open(Config::new(dir.path())) {
        Err(
            e @ LogError::Corrupt {
                position: Some(Position(39)),
                ..
            },
        ) => assert_eq!(e.code(), "CORRUPT"),
        Err(other) => panic!("expected Corrupt at 39, got {other}"),
        Ok(_) => panic!("a corrupt tail must not open silently"),
    }
}
