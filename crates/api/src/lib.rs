//! The GraphQL API of sparkfeed: what frontends, analysts and auditors talk to.
//!
//! Writes go to the domain ([`sparkfeed_domain::Domain::execute`]); reads come from the
//! projections. A mutation answers once every projection has applied what it wrote, so a
//! read that follows it sees it (read-your-writes without sleeping).
//!
//! - [`schema`]: the async-graphql schema (queries, mutations, subscriptions) and its limits.
//! - [`http`]: the axum router: `POST /graphql`, WebSocket subscriptions on the same path
//!   (graphql-transport-ws), GraphiQL at `/`, `/healthz`, `/readyz`, `/metrics`.
//! - [`auth`]: HS256 bearer tokens carrying the user id.
//!
//! Invariant: only this crate knows GraphQL and HTTP; below it are plain Rust calls.

pub mod auth;
pub mod cache;
mod ctx;
mod direct;
pub mod documents;
pub mod error;
pub mod export;
pub mod heads;
pub mod http;
mod listener;
mod live;
mod loaders;
pub mod metrics;
mod mutation;
mod objects;
mod paging;
mod protocol;
mod query;
pub mod rankings;
pub mod rate;
pub mod rebuilds;
mod scalars;
pub mod schema;
pub mod sockets;
mod subscription;
pub mod time;

use std::sync::Arc;
use std::time::Duration;

use sparkfeed_domain::Domain;
use sparkfeed_projections::Projections;
use sparkfeed_projections::decoded::DecodedRows;
use sparkfeed_projections::rows::{MemberRow, PostBody, ProductRow};

pub use auth::{Identity, Tokens};
pub use error::{ApiError, ApiResult};
pub use http::{RunningServer, router, serve};
pub use paging::{check_paging, cursor_of};
pub use schema::{
    Coded, Resolution, SparkSchema, build_schema, build_schema_with, request_as, sdl,
};

/// The limits a public API needs; every one is a refusal with a code, never a silent clamp.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest `first` of a feed, post, comment or order connection.
    pub max_page: usize,
    /// The largest `first` of the analysts' `events` connection.
    pub max_events_page: usize,
    /// The deepest selection set accepted (GraphiQL's introspection query needs 13).
    pub max_depth: usize,
    /// The most expensive query accepted; a connection costs `first` times its selection.
    pub max_complexity: usize,
    /// The largest request body, in bytes.
    pub max_body_bytes: usize,
    /// How long one request may take, from the end of its head to its answer (reading the
    /// body, then running), before it is answered with `TIMEOUT`.
    pub request_timeout: Duration,
    /// How long a mutation waits for the projections to apply what it wrote.
    pub read_your_writes: Duration,
    /// `/readyz` answers ready while every projection is at most this many events behind.
    pub ready_max_lag: u64,
    /// A request's head (request line and headers) must arrive within this long.
    pub header_read_timeout: Duration,
    /// At most this many HTTP connections are open at once; beyond it a new connection is
    /// answered 503 `OVERLOADED` and closed. (An upgraded WebSocket counts below instead.)
    pub max_connections: usize,
    /// At most this many WebSocket subscription connections are open at once; beyond it an
    /// upgrade is answered 503 `OVERLOADED`.
    pub max_subscriptions: usize,
    /// The largest WebSocket message (and frame), in bytes.
    pub max_ws_message_bytes: usize,
    /// At most this many subscriptions run at once on one WebSocket; one more is answered
    /// with a `next` carrying the error `TOO_MANY_SUBSCRIPTIONS`, then `complete`.
    pub max_subscriptions_per_socket: usize,
    /// At most this many WebSockets of one member are open at once: one more is answered
    /// 429 `TOO_MANY_SOCKETS` (token in the header) or closed at `connection_init` with code
    /// 1002 and reason `TOO_MANY_SOCKETS: ...` (token in the payload).
    pub max_sockets_per_member: usize,
    /// How long a WebSocket may stay open without `connection_init` (then closed, 4408).
    pub ws_init_timeout: Duration,
    /// Mutations per signed-in member: sustained rate and burst (`RATE_LIMITED` beyond).
    pub member_mutations: rate::RateLimit,
    /// Mutations per client address, signed in or not (`RATE_LIMITED` beyond).
    pub address_mutations: rate::RateLimit,
    /// How long a query's answer may be served again to the same reader (zero: never).
    /// A reader always sees their own writes; others' writes show within this interval.
    pub response_cache: Duration,
    /// Refuse every mutation with `READ_ONLY` (a replayed directory served as it stood).
    pub read_only: bool,
    /// Demo mode (`serve --demo`): `/app/demo.json` hands out tokens of the demo world's
    /// members, and `/demo/media` draws placeholder pictures for its media URLs. Never on a
    /// deployment with real members: anyone may sign in as them.
    pub demo: bool,
    /// A signed tree head is published at least this often (and whenever `treeHead` is
    /// asked after the log grew).
    pub tree_head_every: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_page: 50,
            max_events_page: 500,
            max_depth: 15,
            max_complexity: 5_000,
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            read_your_writes: Duration::from_secs(5),
            ready_max_lag: 1_000,
            read_only: false,
            demo: false,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            max_subscriptions: 10_000,
            max_ws_message_bytes: 64 * 1024,
            max_subscriptions_per_socket: 100,
            max_sockets_per_member: 16,
            ws_init_timeout: Duration::from_secs(10),
            member_mutations: rate::RateLimit {
                per_second: 20.0,
                burst: 200,
            },
            address_mutations: rate::RateLimit {
                per_second: 1_000.0,
                burst: 5_000,
            },
            response_cache: Duration::ZERO,
            tree_head_every: Duration::from_secs(60),
        }
    }
}

/// Everything a request needs: the write side, the read side, the token keys, the limits
/// and the metrics.
pub struct Api {
    /// The write side.
    pub domain: Domain,
    /// The read side.
    pub projections: Projections,
    /// Token minting and checking.
    pub tokens: Tokens,
    /// The limits.
    pub limits: Limits,
    /// Request counters and latencies.
    pub metrics: metrics::Metrics,
    /// Recent answers to queries.
    pub responses: cache::ResponseCache,
    /// Parsed query documents.
    pub documents: documents::DocumentCache,
    /// Decoded rows kept across requests (checked against the stored bytes on every read).
    pub rows: RowCaches,
    /// The rate limits on mutations, per member and per address.
    pub rates: rate::MutationRates,
    /// Projection rebuilds started on this server.
    pub rebuilds: rebuilds::Rebuilds,
    /// The log's signed tree heads.
    pub heads: Arc<heads::TreeHeads>,
    /// The "For you" rankings being paged through.
    pub rankings: rankings::Rankings,
}

/// The read side's most read rows, decoded once per stored version.
pub struct RowCaches {
    /// Post bodies (caption, media, tags, disclosure).
    pub post_bodies: DecodedRows<PostBody>,
    /// Products.
    pub products: DecodedRows<ProductRow>,
    /// Members and brands.
    pub members: DecodedRows<MemberRow>,
}

impl RowCaches {
    /// Caches holding `bytes` together (the projections' budget's
    /// [`CacheBudget::decoded_rows_share`]): half for post bodies, which every feed page
    /// reads, a quarter each for members and products.
    ///
    /// [`CacheBudget::decoded_rows_share`]: sparkfeed_projections::CacheBudget::decoded_rows_share
    pub fn with_capacity_bytes(bytes: u64) -> Self {
        let part = |n: u64| usize::try_from(bytes / n).unwrap_or(usize::MAX);
        Self {
            post_bodies: DecodedRows::with_capacity_bytes(part(2)),
            products: DecodedRows::with_capacity_bytes(part(4)),
            members: DecodedRows::with_capacity_bytes(part(4)),
        }
    }
}

impl Api {
    /// The API over `domain` and `projections` (which must follow the same log).
    pub fn new(
        domain: Domain,
        projections: Projections,
        tokens: Tokens,
        head_key: sparkfeed_treehead::HeadKey,
        limits: Limits,
    ) -> Arc<Self> {
        let rows = RowCaches::with_capacity_bytes(projections.cache_budget().decoded_rows_share());
        Arc::new(Self {
            heads: Arc::new(heads::TreeHeads::new(head_key, limits.tree_head_every)),
            domain,
            projections,
            tokens,
            responses: cache::ResponseCache::new(limits.response_cache),
            rates: rate::MutationRates::new(limits.member_mutations, limits.address_mutations),
            limits,
            metrics: metrics::Metrics::default(),
            documents: documents::DocumentCache::default(),
            rows,
            rebuilds: rebuilds::Rebuilds::default(),
            rankings: rankings::Rankings::default(),
        })
    }
}
