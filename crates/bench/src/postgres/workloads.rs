//! The workloads on PostgreSQL, each the peer of one on sparkfeed: durable appends with
//! the expected-version check, feed pages, the full replay, and disk use.

use std::fmt;
use std::time::{Duration, Instant, UNIX_EPOCH};

use anyhow::Context;
use sparkfeed_domain::events::{DomainEvent, upcasters};
use sparkfeed_events::{
    Actor, ActorId, EventId, EventRecord, EventType, Hash, Metadata, Position, RecordedEvent,
    StreamName, StreamVersion, Timestamp,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Row, Statement};
use uuid::Uuid;

use super::server::connect;
use crate::append::PAYLOAD;
use crate::projections::reads::LOG_READ_PAGE;

/// Appends a batch to a stream whose last version is `$2` (-1: no stream) in one
/// statement, so one transaction: no row is written unless the check holds, and the
/// unique (stream, version) turns a racing writer into a unique violation.
const APPEND: &str = "
INSERT INTO events (stream, version, event_id, type, schema_version, payload, actor,
                    correlation_id)
SELECT $1, $2 + e.n - 1, e.id, 'bench.Appended', 1, e.payload, 'system:bench', $5
FROM unnest($3::uuid[], $4::bytea[]) WITH ORDINALITY AS e(id, payload, n)
WHERE coalesce((SELECT max(version) FROM events WHERE stream = $1), -1) = $2 - 1";

/// A feed page as the API serves it, in one round trip: the newest 20 posts of an
/// interest (`$1`) before a position (`$2`), each with its counters, whether the viewing
/// member (`$3`) smiled at it and saved it, and a verified-purchaser badge per tag (did
/// the author buy that product, not as a gift) — the work of sparkfeed's page (card,
/// badges, viewer state). The engagements and purchases primary keys answer the
/// lookups; the posts_feed index the page.
const FEED: &str = "
SELECT p.post_id, p.author, p.caption, p.position, p.created_at,
       p.smiles, p.saves, p.shares, p.comments,
       EXISTS (SELECT 1 FROM engagements e
               WHERE e.post_id = p.post_id AND e.member = $3 AND e.kind = 0) AS smiled,
       EXISTS (SELECT 1 FROM engagements e
               WHERE e.post_id = p.post_id AND e.member = $3 AND e.kind = 1) AS saved,
       ARRAY(SELECT EXISTS (SELECT 1 FROM purchases b
                            WHERE b.buyer = p.author AND b.asin = t.asin)
             FROM post_tags t WHERE t.post_id = p.post_id
             ORDER BY t.media_index, t.asin) AS verified
FROM (SELECT * FROM posts WHERE interest = $1 AND position < $2
      ORDER BY position DESC LIMIT 20) p
ORDER BY p.position DESC";

/// A page of the whole log, in position order.
pub(crate) const REPLAY: &str = "
SELECT position, stream, version, event_id, type, schema_version, payload, actor,
       correlation_id, causation_id, recorded_at
FROM events WHERE position >= $1 ORDER BY position LIMIT $2";

/// Posts a feed page holds.
const PAGE: usize = 20;

/// The stream was not at the version the writer expected: nothing was written (the peer
/// of sparkfeed's `WrongExpectedVersion`).
#[derive(Debug)]
pub(crate) struct WrongExpectedVersion {
    stream: String,
    /// The stream's expected next version (0: no stream).
    next: i64,
}

impl fmt::Display for WrongExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrong expected version on {}: its next version is not {}",
            self.stream, self.next
        )
    }
}

impl std::error::Error for WrongExpectedVersion {}

/// Appends `payloads` to `stream`, whose next version must be `next`; answers the next
/// version after them. Acknowledged once committed (synchronous_commit on: the WAL is
/// flushed).
async fn append(
    client: &Client,
    statement: &Statement,
    stream: &str,
    next: i64,
    payloads: Vec<Vec<u8>>,
) -> anyhow::Result<i64> {
    let ids: Vec<Uuid> = payloads.iter().map(|_| Uuid::now_v7()).collect();
    let count = i64::try_from(payloads.len()).context("batch size")?;
    let correlation = Uuid::now_v7();
    let written = client
        .execute(statement, &[&stream, &next, &ids, &payloads, &correlation])
        .await;
    match written {
        Ok(n) if n == payloads.len() as u64 => Ok(next + count),
        Ok(_) => Err(WrongExpectedVersion {
            stream: stream.to_owned(),
            next,
        }
        .into()),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(WrongExpectedVersion {
            stream: stream.to_owned(),
            next,
        }
        .into()),
        Err(e) => Err(e).context("appending"),
    }
}

/// `writers` concurrent writers, each on its own connection and stream, appending
/// batches of `batch` events for `duration` to an emptied events table; events/s.
pub(crate) async fn appends(
    config: &tokio_postgres::Config,
    duration: Duration,
    writers: usize,
    batch: usize,
) -> anyhow::Result<f64> {
    let admin = connect(config).await?;
    admin
        .batch_execute("TRUNCATE events RESTART IDENTITY; CHECKPOINT")
        .await
        .context("emptying events")?;
    let mut clients = Vec::with_capacity(writers);
    for _ in 0..writers {
        let client = connect(config).await?;
        let statement = client.prepare(APPEND).await.context("preparing append")?;
        clients.push((client, statement));
    }
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(w, (client, statement))| {
            tokio::spawn(async move {
                let stream = format!("bench-{w}");
                let mut next = 0i64;
                let mut written = 0u64;
                while Instant::now() < deadline {
                    let payloads = (0..batch).map(|_| vec![7u8; PAYLOAD]).collect();
                    next = append(&client, &statement, &stream, next, payloads).await?;
                    written += batch as u64;
                }
                anyhow::Ok(written)
            })
        })
        .collect();
    let mut written = 0u64;
    for t in tasks {
        written += t.await.context("writer task")??;
    }
    Ok(written as f64 / start.elapsed().as_secs_f64())
}

/// `reads` feed pages round `interests`, each for a viewer among `members` picked as the
/// sparkfeed side picks them, walking deeper into each feed and starting over every 50
/// pages, as the sparkfeed side does; each page's latency in microseconds.
pub(crate) async fn feed_pages(
    client: &Client,
    interests: &[String],
    members: &[String],
    reads: usize,
) -> anyhow::Result<Vec<f64>> {
    anyhow::ensure!(
        !interests.is_empty() && !members.is_empty(),
        "the world has no interest or no member"
    );
    let statement = client.prepare(FEED).await.context("preparing the feed")?;
    let mut micros = Vec::with_capacity(reads);
    let mut cursors: Vec<i64> = vec![i64::MAX; interests.len()];
    for n in 0..reads {
        let i = n % interests.len();
        let viewer = &members[n.wrapping_mul(7_919) % members.len()];
        let start = Instant::now();
        let rows = client
            .query(&statement, &[&interests[i], &cursors[i], viewer])
            .await
            .context("reading a feed page")?;
        let mut last = None;
        for row in &rows {
            let _post: &str = row.try_get(0)?;
            let _card: (&str, &[u8], std::time::SystemTime) =
                (row.try_get(1)?, row.try_get(2)?, row.try_get(4)?);
            let _counters: [i64; 4] = [
                row.try_get(5)?,
                row.try_get(6)?,
                row.try_get(7)?,
                row.try_get(8)?,
            ];
            let _viewer: (bool, bool) = (row.try_get(9)?, row.try_get(10)?);
            let _badges: Vec<bool> = row.try_get(11)?;
            last = Some(row.try_get::<_, i64>(3)?);
        }
        micros.push(start.elapsed().as_secs_f64() * 1e6);
        cursors[i] = match last {
            Some(position) if rows.len() == PAGE && n % 50 != 0 => position,
            _ => i64::MAX,
        };
    }
    Ok(micros)
}

/// Every event in position order, a page of 8,192 at a time: what a replay walks.
pub(crate) struct EventPages {
    statement: tokio_postgres::Statement,
    page: i64,
    from: i64,
    /// Events handed out so far.
    pub(crate) read: u64,
}

impl EventPages {
    /// A walk from the first event.
    pub(crate) async fn new(client: &Client) -> anyhow::Result<Self> {
        Ok(Self {
            statement: client.prepare(REPLAY).await.context("preparing replay")?,
            page: i64::try_from(LOG_READ_PAGE).context("page size")?,
            from: 0,
            read: 0,
        })
    }

    /// The next page, or `None` past the last event.
    pub(crate) async fn next(&mut self, client: &Client) -> anyhow::Result<Option<Vec<Row>>> {
        let rows = client
            .query(&self.statement, &[&self.from, &self.page])
            .await
            .context("reading events")?;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        self.from = last.try_get::<_, i64>(0)? + 1;
        self.read += rows.len() as u64;
        Ok(Some(rows))
    }
}

/// Reads every event in position order, a page of 8,192 at a time, and decodes each into
/// a domain event; events/s.
pub(crate) async fn replay(client: &Client) -> anyhow::Result<f64> {
    let upcasters = upcasters();
    let mut pages = EventPages::new(client).await?;
    let start = Instant::now();
    while let Some(rows) = pages.next(client).await? {
        for row in &rows {
            DomainEvent::decode(&upcasters, &recorded(row)?)?;
        }
    }
    Ok(pages.read as f64 / start.elapsed().as_secs_f64())
}

/// A row of the events table as the log's reader hands it out (the chain hash aside:
/// this table keeps none).
pub(crate) fn recorded(row: &Row) -> anyhow::Result<RecordedEvent> {
    let unsigned = |i: usize| -> anyhow::Result<u64> {
        u64::try_from(row.try_get::<_, i64>(i)?).context("a negative position or version")
    };
    let id = |i: usize| -> anyhow::Result<EventId> {
        Ok(EventId::from_bytes(*row.try_get::<_, Uuid>(i)?.as_bytes()))
    };
    let actor: &str = row.try_get(7)?;
    let actor = match actor.split_once(':') {
        Some(("user", id)) => Actor::User(ActorId::parse(id)?),
        Some((_, id)) => Actor::System(ActorId::parse(id)?),
        None => Actor::System(ActorId::parse(actor)?),
    };
    let recorded_at: std::time::SystemTime = row.try_get(10)?;
    let micros = match recorded_at.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_micros()).map_or(i64::MIN, |m| -m),
    };
    let causation: Option<Uuid> = row.try_get(9)?;
    Ok(RecordedEvent {
        record: EventRecord {
            position: Position(unsigned(0)?),
            stream: StreamName::parse(row.try_get(1)?)?,
            version: StreamVersion(unsigned(2)?),
            id: id(3)?,
            event_type: EventType::parse(row.try_get(4)?)?,
            schema_version: u16::try_from(row.try_get::<_, i16>(5)?)
                .context("a negative schema version")?,
            recorded_at: Timestamp(micros),
            metadata: Metadata {
                actor,
                correlation_id: id(8)?,
                causation_id: causation.map(|c| EventId::from_bytes(*c.as_bytes())),
            },
            payload: row.try_get(6)?,
        },
        hash: Hash([0; 32]),
    })
}

/// After a checkpoint: the events table's bytes with its indexes and TOAST, and the
/// whole database's.
pub(crate) async fn disk(client: &Client) -> anyhow::Result<(u64, u64)> {
    client
        .batch_execute("CHECKPOINT")
        .await
        .context("checkpoint")?;
    let row = client
        .query_one(
            "SELECT pg_total_relation_size('events'), pg_database_size(current_database())",
            &[],
        )
        .await
        .context("sizes")?;
    let bytes = |i: usize| -> anyhow::Result<u64> {
        u64::try_from(row.try_get::<_, i64>(i)?).context("a negative size")
    };
    Ok((bytes(0)?, bytes(1)?))
}

/// The bytes of the events table's rows themselves (`pg_column_size` of each), without
/// page overhead or indexes.
pub(crate) async fn row_bytes(client: &Client) -> anyhow::Result<u64> {
    let row = client
        .query_one(
            "SELECT coalesce(sum(pg_column_size(e.*)), 0)::bigint FROM events e",
            &[],
        )
        .await
        .context("row sizes")?;
    u64::try_from(row.try_get::<_, i64>(0)?).context("a negative size")
}

/// The server's version and the settings that decide what a commit costs.
pub(crate) async fn settings(client: &Client) -> anyhow::Result<Vec<(String, String)>> {
    let names = [
        "server_version",
        "shared_buffers",
        "fsync",
        "synchronous_commit",
        "full_page_writes",
        "wal_sync_method",
        "wal_level",
        "wal_buffers",
        "max_wal_size",
        "checkpoint_timeout",
        "max_connections",
        "work_mem",
    ];
    let mut settings = Vec::with_capacity(names.len());
    for name in names {
        let row = client
            .query_one(&format!("SHOW {name}"), &[])
            .await
            .with_context(|| format!("SHOW {name}"))?;
        settings.push((name.to_owned(), row.try_get(0)?));
    }
    Ok(settings)
}
