//! Issue 12: old logs stay readable when a domain event changes.
//!
//! `fixtures/golden/domain-v1.bin` holds every domain event as schema version 1 stored it.
//! Today's code must read each record back, through the path the service reads with
//! (`codec::open`, then `DomainEvent::decode` with `events::upcasters()`), as the value
//! `golden/v1.rs` says. A failure here means a change would make old data directories
//! unreadable: give the changed event the next version and an upcaster; never touch the log.

mod v1;
mod v2;
mod v3;
mod v4;

use std::collections::BTreeSet;
use std::fmt::{self, Debug};

use serde::{Deserialize, Serialize};
use sparkfeed_domain::events::{self, Disclosure, DomainEvent, Media, PostPublished, Tag};
use sparkfeed_domain::{InterestSlug, PostId, Sealed, UserId};
use sparkfeed_events::{CodecError, EventPayload, RecordedEvent, Upcasters, codec};

/// Every golden log of domain events, oldest first; a new one is added beside the others
/// when an event's schema version or a new event is released.
const GOLDEN: &[(&str, &[u8])] = &[
    (
        "domain-v1",
        include_bytes!("../../../../fixtures/golden/domain-v1.bin"),
    ),
    (
        "domain-v2",
        include_bytes!("../../../../fixtures/golden/domain-v2.bin"),
    ),
    (
        "domain-v3",
        include_bytes!("../../../../fixtures/golden/domain-v3.bin"),
    ),
    (
        "domain-v4",
        include_bytes!("../../../../fixtures/golden/domain-v4.bin"),
    ),
];

const DOMAIN_V1: &[u8] = GOLDEN[0].1;
const DOMAIN_V2: &[u8] = GOLDEN[1].1;
const DOMAIN_V3: &[u8] = GOLDEN[2].1;
const DOMAIN_V4: &[u8] = GOLDEN[3].1;

/// The stored records of a golden log: each is a u32 little-endian length, then the bytes.
fn records(log: &[u8]) -> Vec<RecordedEvent> {
    let mut out = Vec::new();
    let mut rest = log;
    while !rest.is_empty() {
        let (len, tail) = rest.split_at(4);
        let len = u32::from_le_bytes(len.try_into().expect("4 bytes"));
        let (stored, tail) = tail.split_at(usize::try_from(len).expect("fits"));
        out.push(codec::open(stored).expect("every golden record is a format 1 record"));
        rest = tail;
    }
    out
}

/// How a golden log fails to read as expected.
#[derive(Debug)]
enum Unreadable<E> {
    /// The record at `position` does not decode.
    Fails {
        position: u64,
        event_type: String,
        error: CodecError,
    },
    /// It decodes, to something else.
    Differs {
        position: u64,
        found: E,
        expected: E,
    },
    /// The log holds a different number of events.
    Count { found: usize, expected: usize },
}

impl<E: Debug> fmt::Display for Unreadable<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::Fails {
                position,
                event_type,
                error,
            } => write!(f, "{event_type} at {position} does not decode: {error}"),
            Unreadable::Differs {
                position,
                found,
                expected,
            } => write!(f, "at {position}: read {found:?}, expected {expected:?}"),
            Unreadable::Count { found, expected } => {
                write!(f, "{found} events, expected {expected}")
            }
        }
    }
}

/// The golden check: reads every record of `log` with `decode` and compares it with
/// `expected`, in order.
fn check<E: PartialEq + Debug>(
    log: &[u8],
    decode: impl Fn(&RecordedEvent) -> Result<E, CodecError>,
    expected: Vec<E>,
) -> Result<(), Unreadable<E>> {
    let records = records(log);
    if records.len() != expected.len() {
        return Err(Unreadable::Count {
            found: records.len(),
            expected: expected.len(),
        });
    }
    for (record, expected) in records.iter().zip(expected) {
        let position = record.record.position.0;
        let found = decode(record).map_err(|error| Unreadable::Fails {
            position,
            event_type: record.record.event_type.as_str().to_owned(),
            error,
        })?;
        if found != expected {
            return Err(Unreadable::Differs {
                position,
                found,
                expected,
            });
        }
    }
    Ok(())
}

/// How the service reads a stored event.
fn read_today(event: &RecordedEvent) -> Result<DomainEvent, CodecError> {
    DomainEvent::decode(&events::upcasters(), event)
}

fn expected_v1() -> Vec<DomainEvent> {
    v1::events().into_iter().map(|(_, event)| event).collect()
}

fn expected_v2() -> Vec<DomainEvent> {
    v2::events().into_iter().map(|(_, event)| event).collect()
}

fn expected_v3() -> Vec<DomainEvent> {
    v3::events().into_iter().map(|(_, event)| event).collect()
}

fn expected_v4() -> Vec<DomainEvent> {
    v4::events().into_iter().map(|(_, event)| event).collect()
}

#[test]
fn golden_domain_log_v1_reads_as_version_1_wrote_it() {
    if let Err(e) = check(DOMAIN_V1, read_today, expected_v1()) {
        panic!("fixtures/golden/domain-v1.bin no longer reads as written: {e}");
    }
}

#[test]
fn golden_domain_log_v2_reads_as_release_2_wrote_it() {
    if let Err(e) = check(DOMAIN_V2, read_today, expected_v2()) {
        panic!("fixtures/golden/domain-v2.bin no longer reads as written: {e}");
    }
}

#[test]
fn golden_domain_log_v3_reads_as_release_3_wrote_it() {
    if let Err(e) = check(DOMAIN_V3, read_today, expected_v3()) {
        panic!("fixtures/golden/domain-v3.bin no longer reads as written: {e}");
    }
}

#[test]
fn golden_domain_log_v4_reads_as_release_4_wrote_it() {
    if let Err(e) = check(DOMAIN_V4, read_today, expected_v4()) {
        panic!("fixtures/golden/domain-v4.bin no longer reads as written: {e}");
    }
}

#[test]
fn every_domain_event_has_a_golden_entry() {
    let golden: BTreeSet<String> = GOLDEN
        .iter()
        .flat_map(|(_, log)| records(log))
        .map(|e| e.record.event_type.as_str().to_owned())
        .collect();
    let missing: Vec<_> = DomainEvent::EVENT_TYPES
        .iter()
        .filter(|t| !golden.contains(**t))
        .collect();
    assert!(
        missing.is_empty(),
        "no golden log holds {missing:?}: write a new one (fixtures/README.md)"
    );
}

#[test]
fn golden_events_at_their_current_version_encode_to_the_stored_bytes() {
    let golden = [
        (DOMAIN_V1, expected_v1()),
        (DOMAIN_V2, expected_v2()),
        (DOMAIN_V3, expected_v3()),
        (DOMAIN_V4, expected_v4()),
    ];
    for (record, expected) in golden
        .into_iter()
        .flat_map(|(log, expected)| records(log).into_iter().zip(expected))
    {
        let r = &record.record;
        assert_eq!(r.event_type.as_str(), expected.event_type());
        if r.schema_version == expected.schema_version() {
            assert!(
                expected.encode().expect("encodes") == r.payload,
                "{} at {} encodes differently from what version 1 stored",
                r.event_type,
                r.position
            );
        }
    }
}

/// `PostPublished` as a later release might change it: a field added at the end, stored
/// as schema version `V`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
struct PostPublishedNext<const V: u16> {
    post: PostId,
    author: UserId,
    caption: Sealed,
    media: Vec<Media>,
    interests: Vec<InterestSlug>,
    tags: Vec<Tag>,
    sponsorship: Option<Disclosure>,
    location: Option<String>,
}

impl<const V: u16> EventPayload for PostPublishedNext<V> {
    const EVENT_TYPE: &'static str = "PostPublished";
    const SCHEMA_VERSION: u16 = V;
}

impl<const V: u16> From<PostPublished> for PostPublishedNext<V> {
    fn from(p: PostPublished) -> Self {
        Self {
            post: p.post,
            author: p.author,
            caption: p.caption,
            media: p.media,
            interests: p.interests,
            tags: p.tags,
            sponsorship: p.sponsorship,
            location: None,
        }
    }
}

/// A reading of the golden log in a build where `PostPublished` is `PostPublishedNext<V>`.
#[derive(PartialEq, Debug)]
enum ReadNext<const V: u16> {
    PostPublished(PostPublishedNext<V>),
    Unchanged(DomainEvent),
}

fn read_next<const V: u16>(
    upcasters: &Upcasters,
) -> impl Fn(&RecordedEvent) -> Result<ReadNext<V>, CodecError> + '_ {
    move |event| {
        if event.record.event_type.as_str() == "PostPublished" {
            upcasters
                .decode_record::<PostPublishedNext<V>>(&event.record)
                .map(ReadNext::PostPublished)
        } else {
            DomainEvent::decode(upcasters, event).map(ReadNext::Unchanged)
        }
    }
}

fn expected_next<const V: u16>() -> Vec<ReadNext<V>> {
    expected_v1()
        .into_iter()
        .map(|e| match e {
            DomainEvent::PostPublished(p) => ReadNext::PostPublished(p.into()),
            other => ReadNext::Unchanged(other),
        })
        .collect()
}

#[test]
fn a_changed_event_fails_the_golden_check_until_it_has_an_upcaster() {
    let first_post = u64::try_from(
        expected_v1()
            .iter()
            .position(|e| matches!(e, DomainEvent::PostPublished(_)))
            .expect("the golden log holds a post"),
    )
    .expect("fits");

    // The field added, the version left at 1: the old bytes end before the new field.
    let unbumped = check(
        DOMAIN_V1,
        read_next::<1>(&events::upcasters()),
        expected_next(),
    );
    assert!(
        matches!(
            &unbumped,
            Err(Unreadable::Fails { position, event_type, error: CodecError::Malformed(_) })
                if *position == first_post && event_type == "PostPublished"
        ),
        "{unbumped:?}"
    );

    // Version 2, but no upcaster from 1.
    let no_upcaster = check(
        DOMAIN_V1,
        read_next::<2>(&events::upcasters()),
        expected_next(),
    );
    assert!(
        matches!(
            &no_upcaster,
            Err(Unreadable::Fails {
                position,
                error: CodecError::MissingUpcaster { from: 1, .. },
                ..
            }) if *position == first_post
        ),
        "{no_upcaster:?}"
    );

    // Version 2 with the step from 1 registered: every old post reads, without a location.
    let mut upcasters = events::upcasters();
    upcasters.register::<PostPublishedNext<2>, PostPublished, PostPublishedNext<2>>(
        1,
        PostPublishedNext::from,
    );
    let upcast = check(DOMAIN_V1, read_next::<2>(&upcasters), expected_next());
    assert!(upcast.is_ok(), "{upcast:?}");
}
