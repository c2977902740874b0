//! `Event`: one event of the log as analysts replay it, and the `events` page that scans
//! the log for them.

use async_graphql::connection::{ConnectionNameType, EdgeNameType, EmptyFields};
use async_graphql::{ID, Json, Object, OutputType, SimpleObject};
use sparkfeed_domain::events::DomainEvent;
use sparkfeed_eventlog::Direction;
use sparkfeed_events::{Position, RecordedEvent, StreamName, StreamVersion, Upcasters};

use crate::Api;
use crate::error::{ApiError, ApiResult};
use crate::paging::{Fetched, Paging};
use crate::scalars::{DateTime, Int64};

/// How many events one `events` page may examine while looking for matching ones; past
/// it the page ends early with `continueAfter` set.
const EVENT_SCAN_BUDGET: usize = 20_000;

/// One event of the log, as analysts replay it. Personal data stays sealed.
pub(crate) struct Event {
    event: RecordedEvent,
    data: serde_json::Value,
}

impl Event {
    /// The event with its payload decoded to JSON, sealed values shown as `{"sealed": owner}`.
    pub fn decode(api: &Api, event: RecordedEvent) -> ApiResult<Self> {
        let data = event_data(api.domain.upcasters(), &event)?;
        Ok(Self { event, data })
    }
}

/// An event's payload, upcast to its current version: what the `events` query and the
/// export show (as JSON, a sealed value is `{"sealed": owner}`: see
/// [`sparkfeed_domain::seal::Sealed`]).
pub fn decode_data(upcasters: &Upcasters, event: &RecordedEvent) -> ApiResult<DomainEvent> {
    DomainEvent::decode(upcasters, event).map_err(|_| ApiError::Internal { code: "CORRUPT" })
}

/// An event's payload as a JSON value ([`decode_data`]).
pub(crate) fn event_data(
    upcasters: &Upcasters,
    event: &RecordedEvent,
) -> ApiResult<serde_json::Value> {
    serde_json::to_value(decode_data(upcasters, event)?)
        .map_err(|_| ApiError::Internal { code: "INTERNAL" })
}

/// One event of the log.
#[Object(serial)]
impl Event {
    /// Its global position.
    async fn position(&self) -> Int64 {
        Int64(self.event.record.position.0)
    }
    /// Its id.
    async fn id(&self) -> ID {
        ID(self.event.record.id.to_string())
    }
    /// Its type (`PostPublished`, `Smiled`, ...).
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        self.event.record.event_type.as_str()
    }
    /// Its payload's schema version as stored (payloads are upcast on read).
    async fn schema_version(&self) -> u16 {
        self.event.record.schema_version
    }
    /// Its stream.
    async fn stream(&self) -> &str {
        self.event.record.stream.as_str()
    }
    /// Its version within the stream (0-based).
    async fn version(&self) -> Int64 {
        Int64(self.event.record.version.0)
    }
    /// When the log recorded it.
    async fn recorded_at(&self) -> DateTime {
        DateTime::from_micros(self.event.record.recorded_at.0)
    }
    /// Who acted: `user:<id>` or `system:<name>`.
    async fn actor(&self) -> String {
        self.event.record.metadata.actor.to_string()
    }
    /// Shared by every event of one command.
    async fn correlation_id(&self) -> ID {
        ID(self.event.record.metadata.correlation_id.to_string())
    }
    /// The event that caused it, if any.
    async fn causation_id(&self) -> Option<ID> {
        self.event
            .record
            .metadata
            .causation_id
            .map(|c| ID(c.to_string()))
    }
    /// Its chain hash: SHA-256(previous hash || record bytes), hex.
    async fn hash(&self) -> String {
        self.event.hash.to_hex()
    }
    /// Its payload (personal data sealed: `{"sealed": "<owner>"}`).
    async fn data(&self) -> Json<&serde_json::Value> {
        Json(&self.data)
    }
}

/// Where an `events` page stopped looking.
#[derive(SimpleObject)]
#[graphql(serial)]
pub(crate) struct EventScan {
    /// The last position examined: pass it as `after` to continue, even when a filtered
    /// page came back with fewer edges than asked for (or none).
    pub continue_after: Option<String>,
}

/// The names of the analysts' event connection types.
pub(crate) struct Events;

impl ConnectionNameType for Events {
    fn type_name<T: OutputType>() -> String {
        "EventConnection".into()
    }
}

impl EdgeNameType for Events {
    fn type_name<T: OutputType>() -> String {
        "EventEdge".into()
    }
}

/// A page of `events`: the events after `p.after` of one stream (`stream`) or of the whole
/// log, only of `types` when some are given.
pub(crate) type EventPage = Fetched<Event, EmptyFields, EventScan>;

/// Reads one `events` page: a stream is read whole from `after`; the log is scanned at most
/// [`EVENT_SCAN_BUDGET`] events deep, and `continueAfter` says where the scan stopped.
/// `types`, each the type of some event, or `BAD_USER_INPUT` on `types`.
pub(crate) fn known_types(types: Vec<String>) -> ApiResult<Vec<String>> {
    match types
        .iter()
        .find(|t| !DomainEvent::EVENT_TYPES.contains(&t.as_str()))
    {
        Some(unknown) => Err(ApiError::input(
            "types",
            format!("no event has the type {unknown:?}"),
        )),
        None => Ok(types),
    }
}

/// Which events an analyst asks for: only some types, only one stream, or every event.
pub(crate) struct EventFilter {
    types: Vec<String>,
    stream: Option<StreamName>,
}

impl EventFilter {
    /// The filter of the `types` and `stream` arguments: `BAD_USER_INPUT` for a type no
    /// event has or a malformed stream name.
    pub fn parse(types: Option<Vec<String>>, stream: Option<String>) -> ApiResult<Self> {
        let types = known_types(types.unwrap_or_default())?;
        let stream = stream
            .map(|name| StreamName::parse(&name))
            .transpose()
            .map_err(|e| ApiError::input("stream", e.to_string()))?;
        Ok(Self { types, stream })
    }

    /// Whether `event` is one asked for.
    pub fn wants(&self, event: &RecordedEvent) -> bool {
        (self.types.is_empty()
            || self
                .types
                .iter()
                .any(|t| t == event.record.event_type.as_str()))
            && self
                .stream
                .as_ref()
                .is_none_or(|s| *s == event.record.stream)
    }
}

pub(crate) fn events_page(api: &Api, p: &Paging, filter: &EventFilter) -> ApiResult<EventPage> {
    // Saturating: `after` is the client's; past the end the page is empty.
    let from = p
        .after
        .map_or(Position(0), |a| Position(a.0.saturating_add(1)));
    let scan = Scan {
        api,
        from,
        first: p.first,
        wanted: |e: &RecordedEvent| filter.wants(e),
    };
    let (items, has_next, examined) = match &filter.stream {
        Some(name) => scan.stream(name)?,
        None => scan.log()?,
    };
    Ok(Fetched {
        items: items
            .into_iter()
            .map(|(p, e)| (crate::paging::Cursor::at(p), e, EmptyFields))
            .collect(),
        has_next,
        fields: EventScan {
            continue_after: examined.map(|p| p.0.to_string()),
        },
    })
}

type Scanned = (Vec<(Position, Event)>, bool, Option<Position>);

/// What one `events` page looks for: at most `first` events `wanted`, from `from` on.
struct Scan<'a, W> {
    api: &'a Api,
    from: Position,
    first: usize,
    wanted: W,
}

impl<W: Fn(&RecordedEvent) -> bool> Scan<'_, W> {
    /// The stream `name`, read whole from `from`.
    fn stream(&self, name: &StreamName) -> ApiResult<Scanned> {
        let log = self.api.domain.log();
        let mut items = Vec::new();
        let mut examined = None;
        let mut version = StreamVersion::FIRST;
        loop {
            let slice = log.read_stream(name, version, Direction::Forward, 512)?;
            for e in slice.events {
                if e.record.position < self.from || !(self.wanted)(&e) {
                    continue;
                }
                if items.len() == self.first {
                    return Ok((items, true, examined));
                }
                examined = Some(e.record.position);
                items.push((e.record.position, Event::decode(self.api, e)?));
            }
            match slice.next {
                Some(next) => version = next,
                None => return Ok((items, false, examined)),
            }
        }
    }

    /// The whole log from `from`, at most [`EVENT_SCAN_BUDGET`] events deep.
    fn log(&self) -> ApiResult<Scanned> {
        let log = self.api.domain.log();
        let mut items = Vec::new();
        let mut has_next = false;
        // `at` is the next position to examine.
        let mut at = self.from;
        let mut scanned = 0usize;
        'scan: while scanned < EVENT_SCAN_BUDGET {
            let batch = log.read_all(at, 1024.min(EVENT_SCAN_BUDGET - scanned))?;
            if batch.is_empty() {
                break;
            }
            for e in batch {
                let position = e.record.position;
                if (self.wanted)(&e) {
                    if items.len() == self.first {
                        has_next = true;
                        break 'scan;
                    }
                    items.push((position, Event::decode(self.api, e)?));
                }
                at = position.next();
                scanned += 1;
            }
        }
        if !has_next && at.0 < log.head().len {
            has_next = true;
        }
        let examined = (at > self.from).then(|| Position(at.0 - 1));
        Ok((items, has_next, examined))
    }
}
