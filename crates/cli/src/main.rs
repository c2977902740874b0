//! `sparkfeed`: the one binary. Flags are parsed here; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sparkfeed::{audit, demo, export, inspect, remote, replay, server};
use sparkfeed_api::rate::RateLimit;
use sparkfeed_bench::{api as bench_api, append as bench_append, projections as bench_projections};
use sparkfeed_treehead::{ConsistencyProofFile, InclusionProofFile, RecordFile, SignedTreeHead};

/// sled allocates and frees per key; glibc's malloc spent a third of a projection rebuild
/// in allocation and fragmentation bookkeeping. mimalloc made rebuilds 1.5-2x faster and
/// 64-writer appends about 14% faster (jemalloc did about as well but builds 3x slower).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sparkfeed",
    version,
    about = "Event-sourced backend of a shoppable social feed"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Recompute the hash chain and cross-check the indexes of a data directory.
    ///
    /// Exits 0 when intact, 2 when a record does not match (naming its position).
    Verify {
        /// The data directory.
        #[arg(long, env = "SPARKFEED_DATA_DIR", default_value = "sparkfeed-data")]
        data_dir: PathBuf,
        /// An auditor's token: when a running server holds the directory, the check runs
        /// on that server (`verifyLog`) instead of failing with `LOG_LOCKED`.
        #[arg(long, env = "SPARKFEED_TOKEN", conflicts_with = "against")]
        token: Option<String>,
        /// A signed tree head saved earlier (`head --signed`): also prove that the log
        /// still extends it (repeat for several; the directory must not be held).
        #[arg(long, value_name = "HEAD.json")]
        against: Vec<PathBuf>,
        /// The key the saved heads are checked with (64 hex digits or a file); by default
        /// the directory's own `tree-head-key.pub`.
        #[arg(long, requires = "against")]
        public_key: Option<String>,
    },
    /// Print the log head: event count, last position and its chain hash; with `--signed`,
    /// the signed Merkle tree head as JSON (the server's, when one holds the directory).
    Head {
        /// The data directory.
        #[arg(long, env = "SPARKFEED_DATA_DIR", default_value = "sparkfeed-data")]
        data_dir: PathBuf,
        /// Write the signed tree head (JSON) instead.
        #[arg(long)]
        signed: bool,
        /// The file to write the signed head to (stdout when absent or `-`).
        #[arg(long, short, requires = "signed")]
        output: Option<PathBuf>,
    },
    /// Write a proof as JSON: that the record at POSITION is in the tree of `--size`
    /// records (and the record itself, with `--record-out`), or with `--from-size` that
    /// the tree of that many records is a prefix of it. Reads a copy of a directory no
    /// process holds, or asks the server holding it (the record needs the directory).
    Prove {
        /// The record's position (an inclusion proof).
        #[arg(required_unless_present = "from_size")]
        position: Option<u64>,
        /// A consistency proof from the tree of this many records instead.
        #[arg(long, conflicts_with = "position")]
        from_size: Option<u64>,
        /// The tree's size (by default the log's head).
        #[arg(long)]
        size: Option<u64>,
        /// Or the size of a saved signed head (`head --signed`).
        #[arg(long, conflicts_with = "size", value_name = "HEAD.json")]
        to_head: Option<PathBuf>,
        /// The data directory.
        #[arg(long, env = "SPARKFEED_DATA_DIR", default_value = "sparkfeed-data")]
        data_dir: PathBuf,
        /// The proof's file (stdout when absent or `-`).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Where to write the record an inclusion proof is about.
        #[arg(long, conflicts_with = "from_size")]
        record_out: Option<PathBuf>,
    },
    /// Check an inclusion proof offline, with no data directory: the head's signature
    /// under the key, the proof's path to the head's root, and (with `--record`) that the
    /// record is the proof's leaf. Exits 0 when it holds, 2 when it does not.
    CheckProof {
        /// The signed tree head (`head --signed`, or `treeHead` saved as JSON).
        #[arg(long, value_name = "HEAD.json")]
        head: PathBuf,
        /// The proof (`prove`, or `inclusionProof` saved as JSON).
        #[arg(long, value_name = "PROOF.json")]
        proof: PathBuf,
        /// The record (`prove --record-out`).
        #[arg(long, value_name = "RECORD.json")]
        record: Option<PathBuf>,
        /// The log's public key: 64 hex digits, or a file holding them.
        #[arg(long)]
        public_key: String,
    },
    /// Check offline that a newer signed head extends an older one: both signatures, and
    /// the consistency proof between them. Exits 0 when it holds, 2 when it does not.
    CheckConsistency {
        /// The older signed head.
        old_head: PathBuf,
        /// The newer signed head.
        new_head: PathBuf,
        /// The consistency proof (`prove --from-size`, or `consistencyProof` as JSON).
        proof: PathBuf,
        /// The log's public key: 64 hex digits, or a file holding them.
        #[arg(long)]
        public_key: String,
    },
    /// Write the demo world's JSON Lines files (deterministic: same seed, same files).
    Fixtures {
        /// Where to write them.
        #[arg(default_value = "fixtures/demo")]
        dir: PathBuf,
    },
    /// Load a world of JSON Lines files into an empty data directory, through the same
    /// command handlers the API uses.
    Seed {
        /// The world's directory.
        #[arg(default_value = "fixtures/demo")]
        world: PathBuf,
        /// The data directory.
        #[arg(long, env = "SPARKFEED_DATA_DIR", default_value = "sparkfeed-data")]
        data_dir: PathBuf,
    },
    /// Export the log as JSON Lines: from a running server (`--server`, `GET /export`, the
    /// analyst role), or from a data directory no process holds (`--data-dir`, read from a
    /// copy). One object per event, personal data sealed; both give the same bytes.
    Export {
        /// The server, e.g. `http://127.0.0.1:8080`.
        #[arg(
            long,
            env = "SPARKFEED_SERVER",
            conflicts_with = "data_dir",
            required_unless_present = "data_dir"
        )]
        server: Option<String>,
        /// A bearer token of an analyst (`sparkfeed token USER`), with `--server`.
        #[arg(long, env = "SPARKFEED_TOKEN", requires = "server")]
        token: Option<String>,
        /// A data directory to export from instead of a server.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// JSON Lines, or Apache Parquet (typed columns, the payload as JSON text).
        #[arg(long, value_enum, default_value_t = export::Format::Jsonl)]
        format: export::Format,
        /// What to export.
        #[command(flatten)]
        request: export::ExportRequest,
        /// The file to write (written as FILE.partial, renamed when complete); stdout when
        /// absent or `-`.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Replay projections from zero into fresh stores and swap them in.
    Rebuild {
        /// A projection (feeds, foryou, creators, analytics, audit, moderation) or `all`.
        name: String,
        /// An admin's token: when a running server holds the directory, the rebuild goes
        /// through it (with no downtime) instead of failing with `LOG_LOCKED`.
        #[arg(long, env = "SPARKFEED_TOKEN")]
        token: Option<String>,
        /// The data directory.
        #[arg(long, env = "SPARKFEED_DATA_DIR", default_value = "sparkfeed-data")]
        data_dir: PathBuf,
    },
    /// Serve the GraphQL API (HTTP and WebSocket) over a data directory, with the
    /// projections following the log live. Stops on Ctrl-C.
    Serve {
        /// Where to listen.
        #[arg(long, env = "SPARKFEED_ADDR", default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// The data directory.
        #[arg(long, env = "SPARKFEED_DATA_DIR", default_value = "sparkfeed-data")]
        data_dir: PathBuf,
        /// The token signing secret (at least 32 bytes); by default the data directory's
        /// own `token-secret` file, created on first use.
        #[arg(long, env = "SPARKFEED_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// Seed the demo world first if the log is empty, and print demo tokens.
        #[arg(long)]
        demo: bool,
        /// The cache budget of the read side, in MiB: every projection store's page cache
        /// (split by weight, feeds most, a rebuild's fresh generation included), their row
        /// caches (an eighth of each share) and the rows the API keeps decoded (an eighth of
        /// the whole). The log keeps a page cache of its own (64 MiB).
        #[arg(long, env = "SPARKFEED_CACHE_MB", default_value_t = 192, value_parser = clap::value_parser!(u64).range(16..=1_048_576))]
        cache_mb: u64,
        /// How long (ms) a query's answer may be served again to the same reader; 0
        /// turns the response cache off. Readers always see their own writes.
        #[arg(long, env = "SPARKFEED_RESPONSE_CACHE_MS", default_value_t = 500)]
        response_cache_ms: u64,
        /// Mutations a second each signed-in member may sustain (0: no limit); beyond it
        /// (and the burst) a mutation is refused with `RATE_LIMITED` and `Retry-After`.
        #[arg(long, default_value_t = 20.0, value_parser = rate)]
        member_mutations_per_second: f64,
        /// Mutations a member may send at once before the per-second rate applies.
        #[arg(long, default_value_t = 200)]
        member_mutation_burst: u32,
        /// Mutations a second each client address may sustain (0: no limit).
        #[arg(long, default_value_t = 1000.0, value_parser = rate)]
        address_mutations_per_second: f64,
        /// Mutations an address may send at once before the per-second rate applies.
        #[arg(long, default_value_t = 5000)]
        address_mutation_burst: u32,
        /// Serve the directory as it stands and refuse every mutation with `READ_ONLY`
        /// (for a directory written by `replay`).
        #[arg(long, conflicts_with = "demo")]
        read_only: bool,
        /// Publish a signed tree head at least this often, in seconds (and whenever
        /// `treeHead` is asked after the log grew).
        #[arg(long, default_value_t = 60.0, value_parser = seconds)]
        tree_head_every: f64,
        /// Where the log is: `sled`, the embedded log in the data directory, or
        /// `nats://HOST:PORT[,HOST:PORT…]`, a NATS JetStream cluster shared by any number
        /// of API nodes (the data directory then keeps this node's copy of it, its
        /// projections and keys; README, "Running a cluster").
        #[arg(long, env = "SPARKFEED_LOG_URL", default_value = "sled", value_parser = log_backend)]
        log: server::LogBackend,
        /// Replicas of the JetStream stream and key bucket, when this node is the first to
        /// join (3 on a 3-server cluster; 1 on a lone nats-server).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=5))]
        log_replicas: u64,
        /// A projection that has applied nothing (new, or of a new version) is rebuilt
        /// when the log holds at least this many events, and caught up batch by batch
        /// below it. After rebuilding, the server opens its directory again before it
        /// serves, so it serves in the memory a restart would have.
        #[arg(long, default_value_t = sparkfeed_projections::DEFAULT_REBUILD_FROM_EVENTS)]
        rebuild_from: u64,
    },
    /// Write a new data directory holding the log up to a position or a time, and every
    /// projection as of then (serve it with `serve --read-only`). The source is not
    /// written: the replay reads a copy taken under its lock.
    Replay {
        /// A position (the new log holds the events before it) or an RFC 3339 time (the
        /// events recorded before it).
        #[arg(long)]
        until: String,
        /// The new data directory (absent or empty).
        #[arg(long)]
        into: PathBuf,
        /// The source data directory.
        #[arg(long, env = "SPARKFEED_DATA_DIR", default_value = "sparkfeed-data")]
        data_dir: PathBuf,
    },
    /// Forget a member (GDPR Art. 17): append `MemberForgotten` and destroy their key, so
    /// nothing of theirs (handle, name, captions, comments, media) can be read again while
    /// counts, amounts, contracts, the chain and the Merkle proofs stay. Through the
    /// server when one holds the directory (`--token`: an admin's or the member's).
    Forget {
        /// The member's user id (`u0001`).
        user: String,
        /// The data directory.
        #[arg(long, env = "SPARKFEED_DATA_DIR", default_value = "sparkfeed-data")]
        data_dir: PathBuf,
        /// A token, when a running server holds the directory.
        #[arg(long, env = "SPARKFEED_TOKEN")]
        token: Option<String>,
    },
    /// Mint a bearer token for a user id (for operators).
    Token {
        /// The user id (`u0001`).
        user: String,
        /// The data directory (whose `token-secret` signs, unless --secret is given).
        #[arg(long, env = "SPARKFEED_DATA_DIR", default_value = "sparkfeed-data")]
        data_dir: PathBuf,
        /// The token signing secret.
        #[arg(long, env = "SPARKFEED_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// Days the token is valid.
        #[arg(long, default_value_t = 30)]
        days: u64,
    },
    /// Print the GraphQL schema (SDL) the server serves.
    Schema,
    /// Measure this machine.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

/// A rate limit's per-second figure: 0 (no limit) or at least 0.001 (a token at most every
/// 1,000 s, so a wait is a `Duration`).
fn rate(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if value == 0.0 || (value.is_finite() && value >= 0.001) {
        Ok(value)
    } else {
        Err(format!(
            "expected 0 (no limit) or a rate of at least 0.001 a second, got {text}"
        ))
    }
}

/// A measurement's length: a finite number of seconds above 0 and at most a day (so that
/// it converts to a `Duration` and adds to an `Instant` without panicking).
fn seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if value.is_finite() && value > 0.0 && value <= 86_400.0 {
        Ok(value)
    } else {
        Err(format!(
            "expected seconds above 0 and at most 86400, got {text}"
        ))
    }
}

/// `serve --log`: `sled` or `nats://HOST:PORT[,HOST:PORT…]`.
fn log_backend(text: &str) -> Result<server::LogBackend, String> {
    server::LogBackend::parse(text).map_err(|e| format!("{e:#}"))
}

/// A `bench export-one` scenario, by name.
fn scenario(text: &str) -> Result<sparkfeed_bench::export::Scenario, String> {
    sparkfeed_bench::export::Scenario::parse(text)
        .ok_or_else(|| format!("expected ceiling, jsonl or parquet, got {text}"))
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The analysts' export (JSON Lines, Parquet) of a seed world, beside the log-read
    /// ceiling measured in the same run, with each export's peak memory growth.
    Export(WorldArgs),
    /// What `sparkfeed verify` costs (a copy of the store, then the check with no
    /// recovery) beside the same check on the open log, over a seed world.
    Verify(WorldArgs),
    /// One measurement of `bench export`, in a process of its own (run by `bench export`).
    #[command(hide = true)]
    ExportOne {
        /// ceiling, jsonl or parquet.
        #[arg(long, value_parser = scenario)]
        scenario: sparkfeed_bench::export::Scenario,
        /// The scratch log's directory.
        #[arg(long)]
        log: PathBuf,
    },
    /// Durable appends per second for 1, 8 and 64 writers and batches of 100, next to raw
    /// sled insert+flush measured in the same run.
    Append {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 2.0, value_parser = seconds)]
        seconds: f64,
        /// Measurements per scenario (interleaved); the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Where the scratch stores go (each run gets a fresh temp dir inside).
        #[arg(long, default_value_os_t = std::env::temp_dir())]
        dir: PathBuf,
    },
    /// Feed-page and mutation throughput and latency of the GraphQL API over loopback HTTP,
    /// with N concurrent clients; starts `serve --demo` in a child process unless --addr.
    Api(ApiArgs),
    /// Durable appends and the GraphQL API on a 3-server NATS JetStream cluster it starts
    /// (one API node and two), next to the embedded sled log, in one run (needs
    /// nats-server).
    Cluster {
        /// Concurrent writers of the append measurements, one measurement per count.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64",
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
        writers: Vec<usize>,
        /// Seconds per append measurement and per API phase.
        #[arg(long, default_value_t = 2.0, value_parser = seconds)]
        seconds: f64,
        /// Rounds (interleaved); medians are reported.
        #[arg(long, default_value_t = 3,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000))]
        runs: usize,
        /// Concurrent API clients (on two nodes, half on each).
        #[arg(long, default_value_t = 32,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=10_000))]
        clients: usize,
        /// Where the scratch logs and data directories go.
        #[arg(long, default_value_os_t = std::env::temp_dir())]
        dir: PathBuf,
    },
    /// Where the log's disk goes: the log directory of a seed world beside the bytes of its
    /// keys and values by family, and beside sled's floor for those bytes (imported into a
    /// fresh store); with --vs-postgres, PostgreSQL's events table and its rows too.
    Disk {
        #[command(flatten)]
        world: PeerWorldArgs,
        /// Where the scratch stores go.
        #[arg(long, default_value_os_t = std::env::temp_dir())]
        dir: PathBuf,
    },
    /// Rebuild throughput of every projection over a seed world of about a million events,
    /// and feed-page read latency over its 100,000 posts.
    Projections(ProjectionsArgs),
    /// A feed page as the log grows (in process and over HTTP) and the server's resident
    /// memory while it serves them, at each log size.
    Scale(ScaleArgs),
    /// How far the live projections run behind the log while members share posts at a
    /// steady rate (durable acknowledgement to every projection applied).
    Lag {
        /// Events in the world first (about; a post every ten).
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1_000..=100_000_000))]
        events: u64,
        /// Shares a second.
        #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        rate: u64,
        /// Seconds of writing.
        #[arg(long, default_value_t = 10.0, value_parser = seconds)]
        seconds: f64,
        /// The projections' page-cache budget, in MiB.
        #[arg(long, default_value_t = 192, value_parser = clap::value_parser!(u64).range(16..=1_048_576))]
        cache_mb: u64,
        /// Where the scratch world goes.
        #[arg(long, default_value_os_t = std::env::temp_dir())]
        dir: PathBuf,
    },
    /// Every workload of issue 17 (durable appends by writers, batches, feed pages, replay,
    /// disk use, feed page p99 and rebuild by log size) interleaved round by round, in one
    /// table; with --vs-postgres, beside a throwaway
    /// PostgreSQL 15 the bench starts and stops itself.
    All(AllArgs),
    /// Redraws the SVG plots of a saved `bench all` JSON report (append-by-writers.svg,
    /// feed-p99-by-size.svg, rebuild-by-size.svg).
    Plot {
        /// The JSON report `bench all` wrote.
        #[arg(long)]
        json: PathBuf,
        /// Where the SVG files go (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct ScaleArgs {
    /// Log sizes in events (a post every ten), smallest first.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000u64, 100_000, 1_000_000],
          value_parser = clap::value_parser!(u64).range(100..=100_000_000))]
    sizes: Vec<u64>,
    /// Feed pages read in process at each size.
    #[arg(long, default_value_t = 5_000,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    reads: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 8,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    clients: usize,
    /// Seconds of HTTP reads at each size.
    #[arg(long, default_value_t = 5.0, value_parser = seconds)]
    seconds: f64,
    /// The server's page-cache budget for its projection stores, in MiB.
    #[arg(long, default_value_t = 192, value_parser = clap::value_parser!(u64).range(16..=1_048_576))]
    cache_mb: u64,
    /// Then every feed is walked page by page, at most this many pages of each (0: no
    /// walk), and the server's memory sampled again.
    #[arg(long, default_value_t = 200,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1_000_000))]
    walk_pages: usize,
    /// Where the scratch worlds go.
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    dir: PathBuf,
}

// A seed world measured beside a throwaway PostgreSQL: the flags `bench all` and `bench disk`
// share.
#[derive(clap::Args)]
struct PeerWorldArgs {
    /// Measure the same on a throwaway PostgreSQL 15 too (Debian's postgresql-15).
    #[arg(long)]
    vs_postgres: bool,
    /// Where PostgreSQL's initdb, pg_ctl and postgres are.
    #[arg(long, default_value = sparkfeed_bench::postgres::DEFAULT_BIN)]
    pg_bin: PathBuf,
    /// Events in the seed world (about).
    #[arg(long, default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(100..=100_000_000))]
    events: u64,
    /// Posts among them.
    #[arg(long, default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    posts: u64,
}

// The flags of `bench all`. (Plain comments: a doc comment here would become the
// subcommand's help.)
#[derive(clap::Args)]
struct AllArgs {
    #[command(flatten)]
    world: PeerWorldArgs,
    /// Rounds (every workload once a round, interleaved); medians are reported.
    #[arg(long, default_value_t = 3,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000))]
    runs: usize,
    /// Seconds per append measurement.
    #[arg(long, default_value_t = 2.0, value_parser = seconds)]
    seconds: f64,
    /// Feed pages read per feed measurement.
    #[arg(long, default_value_t = 2_000,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    reads: usize,
    /// World sizes (events) for the feed page's p99 and the feed rebuild by size; posts are a
    /// tenth of each.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000",
          value_parser = clap::value_parser!(u64).range(100..=100_000_000))]
    sizes: Vec<u64>,
    /// Where the JSON report (every sample, the machine, PostgreSQL's settings) goes;
    /// `sparkfeed-bench-all.json` in --dir unless given.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also draw SVG plots into this directory (created if missing): append-by-writers.svg,
    /// feed-p99-by-size.svg and rebuild-by-size.svg, a line per system measured.
    #[arg(long, value_name = "DIR")]
    plot: Option<PathBuf>,
    /// Where the scratch stores and the server's cluster go.
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    dir: PathBuf,
}

// The flags of `bench export`, `bench verify` and `bench projections`: a seed world and
// runs over it.
#[derive(clap::Args)]
struct WorldArgs {
    /// Events in the scratch log (about: the seed world is sized to it).
    #[arg(long, default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(100..=100_000_000))]
    events: u64,
    /// Posts among them.
    #[arg(long, default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    posts: u64,
    /// Runs of each scenario; medians are reported.
    #[arg(long, default_value_t = 3,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000))]
    runs: usize,
    /// Where the scratch log (and any copy of it) goes.
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    dir: PathBuf,
}

// The flags of `bench api` and `bench projections`: the benchmark's own config, field for
// field. (Plain comments: a doc comment here would become the subcommand's help.)
#[derive(clap::Args)]
struct ApiArgs {
    /// A running server to drive instead of starting one.
    #[arg(long)]
    addr: Option<std::net::SocketAddr>,
    /// A Prime member's token for the mutation phase (with --addr).
    #[arg(long)]
    token: Option<String>,
    /// Concurrent clients, one connection each.
    #[arg(long, default_value_t = 32,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    clients: usize,
    /// Seconds per phase per run.
    #[arg(long, default_value_t = 5.0, value_parser = seconds)]
    seconds: f64,
    /// Runs (feed and mutation phases interleaved); medians are reported.
    #[arg(long, default_value_t = 3,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000))]
    runs: usize,
    /// At most this many requests per phase per run.
    #[arg(long, default_value_t = 1_000_000,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000_000))]
    max_requests: usize,
    /// Where the scratch data directory goes.
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    dir: PathBuf,
}

#[derive(clap::Args)]
struct ProjectionsArgs {
    /// The seed world, the rebuilds per projection and where the scratch store goes.
    #[command(flatten)]
    world: WorldArgs,
    /// Feed pages read for the latency figures.
    #[arg(long, default_value_t = 20_000,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    reads: usize,
    /// The page-cache budget of every projection store together, in MiB (as `serve
    /// --cache-mb`).
    #[arg(long, default_value_t = 192, value_parser = clap::value_parser!(u64).range(16..=1_048_576))]
    cache_mb: u64,
    /// The rebuild's in-memory row buffer, in MiB; several (`0,128`) are compared side
    /// by side, each projection's variants in turn first (0 writes after every event).
    #[arg(long, value_delimiter = ',', default_value = "128",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1_048_576))]
    replay_buffer_mb: Vec<usize>,
    /// Rebuild only these projections (`feeds,audit`); feed pages are read only when
    /// `feeds` is among them. All of them unless given.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Also replay each projection with every row held in memory and none written or read
    /// back: what its rebuild would be with a store that cost nothing (it holds the
    /// projection's whole state in memory: about 560 MiB for feeds at 10^6 events).
    #[arg(long)]
    in_memory: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SPARKFEED_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        // A stderr nobody reads (`serve 2>&-`, a dead log collector) loses the lines; the
        // subscriber's own report of that would be an `eprintln!`, which panics there.
        .log_internal_errors(false)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            sparkfeed::tell(format_args!("error: {e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Verify {
            data_dir,
            against,
            public_key,
            ..
        } if !against.is_empty() => verify_against(&data_dir, &against, public_key.as_deref()),
        Command::Verify {
            data_dir, token, ..
        } => {
            let intact = match inspect::verify(&data_dir) {
                Err(e) if remote::is_locked(&e) => {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    let (intact, said) =
                        runtime.block_on(remote::verify(&data_dir, token.as_deref()))?;
                    sparkfeed::say(&said)?;
                    intact
                }
                found => {
                    let found = found?;
                    sparkfeed::say(inspect::describe_offline(&found))?;
                    found.is_intact()
                }
            };
            Ok(if intact {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Head {
            data_dir,
            signed: true,
            output,
        } => {
            let head = audit::signed_head(&data_dir)?;
            audit::write_json(&head, output.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Head { data_dir, .. } => {
            let (head, past_tail) = inspect::head(&data_dir)?;
            if let Some(past) = past_tail {
                sparkfeed::tell(format_args!(
                    "records past the tail marker at positions {}..={} (not part of the log; opening it would remove them)",
                    past.start(),
                    past.end()
                ));
            }
            sparkfeed::say(format_args!(
                "events {}\nlast position {}\nhash {}",
                head.len,
                head.last_position()
                    .map_or("none".to_owned(), |p| p.to_string()),
                head.hash
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Forget {
            user,
            data_dir,
            token,
        } => {
            let forgot = sparkfeed::forget::forget(&data_dir, &user, token.as_deref())?;
            Ok(sparkfeed::report_done(forgot))
        }
        Command::Prove {
            position,
            from_size,
            size,
            to_head,
            data_dir,
            output,
            record_out,
        } => {
            let size = match to_head {
                Some(path) => {
                    Some(audit::read_json::<SignedTreeHead>(&path, "signed head")?.tree_size)
                }
                None => size,
            };
            let request = match (position, from_size) {
                (_, Some(from)) => audit::ProofRequest::Consistency { from, size },
                (Some(position), None) => audit::ProofRequest::Inclusion { position, size },
                (None, None) => anyhow::bail!("give a POSITION or --from-size"),
            };
            match audit::prove(&data_dir, &request)? {
                audit::Proof::Inclusion(proof, record) => {
                    if let Some(path) = &record_out {
                        let record = record.context(
                            "a server holds the directory: the proof comes from it, but the \
                             record's bytes only from the directory itself (stop the server, \
                             or leave out --record-out)",
                        )?;
                        audit::write_json(&record, Some(path))?;
                    }
                    audit::write_json(&proof, output.as_deref())?;
                }
                audit::Proof::Consistency(proof) => audit::write_json(&proof, output.as_deref())?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckProof {
            head,
            proof,
            record,
            public_key,
        } => checked(|| {
            let key = audit::public_key(&public_key)?;
            let head: SignedTreeHead = audit::read_json(&head, "signed head")?;
            let proof: InclusionProofFile = audit::read_json(&proof, "inclusion proof")?;
            let record: Option<RecordFile> =
                record.map(|r| audit::read_json(&r, "record")).transpose()?;
            audit::check_proof(&head, &proof, record.as_ref(), &key)?;
            Ok(format!(
                "ok: the record at position {} is in the tree of {} records whose root {} the key signed{}",
                proof.position,
                head.tree_size,
                head.root_hash,
                if record.is_some() {
                    " (the record's bytes are its leaf)"
                } else {
                    ""
                }
            ))
        }),
        Command::CheckConsistency {
            old_head,
            new_head,
            proof,
            public_key,
        } => checked(|| {
            let key = audit::public_key(&public_key)?;
            let old: SignedTreeHead = audit::read_json(&old_head, "signed head")?;
            let new: SignedTreeHead = audit::read_json(&new_head, "signed head")?;
            let proof: ConsistencyProofFile = audit::read_json(&proof, "consistency proof")?;
            sparkfeed_treehead::check_consistency(&old, &new, &proof, &key)?;
            Ok(format!(
                "ok: the tree of {} records extends the tree of {}: nothing below position {} changed",
                new.tree_size, old.tree_size, old.tree_size
            ))
        }),
        Command::Serve {
            addr,
            data_dir,
            secret,
            demo,
            cache_mb,
            response_cache_ms,
            member_mutations_per_second,
            member_mutation_burst,
            address_mutations_per_second,
            address_mutation_burst,
            read_only,
            tree_head_every,
            log,
            log_replicas,
            rebuild_from,
        } => {
            server::serve(&server::ServeOptions {
                log,
                rebuild_from,
                log_replicas: usize::try_from(log_replicas).unwrap_or(3),
                read_only,
                tree_head_every: std::time::Duration::from_secs_f64(tree_head_every),
                addr,
                data_dir,
                secret,
                demo,
                cache_mb,
                response_cache: std::time::Duration::from_millis(response_cache_ms),
                member_mutations: RateLimit {
                    per_second: member_mutations_per_second,
                    burst: member_mutation_burst,
                },
                address_mutations: RateLimit {
                    per_second: address_mutations_per_second,
                    burst: address_mutation_burst,
                },
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            user,
            data_dir,
            secret,
            days,
        } => {
            let ttl = std::time::Duration::from_secs(days.saturating_mul(86_400));
            sparkfeed::say(format_args!(
                "{}",
                server::token(&data_dir, secret.as_deref(), &user, ttl)?
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            sparkfeed::say_raw(sparkfeed_api::sdl())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Fixtures { dir } => {
            demo::write_fixtures(&dir)?;
            Ok(sparkfeed::report_done(format_args!(
                "wrote the demo world to {}",
                dir.display()
            )))
        }
        Command::Seed { world, data_dir } => {
            let report = demo::seed(&world, &data_dir)?;
            Ok(sparkfeed::report_done(format_args!(
                "seeded {} commands ({} repeats) into {}: {} events in {:.1}s ({:.0} events/s)",
                report.commands,
                report.repeats,
                data_dir.display(),
                report.events,
                report.elapsed.as_secs_f64(),
                report.events as f64 / report.elapsed.as_secs_f64().max(1e-9)
            )))
        }
        Command::Rebuild {
            name,
            data_dir,
            token,
        } => {
            let reports = match demo::rebuild(&data_dir, &name) {
                Err(e) if remote::is_locked(&e) => {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    let done =
                        runtime.block_on(remote::rebuild(&data_dir, &name, token.as_deref()))?;
                    let lines: Vec<String> = done
                        .iter()
                        .map(|r| {
                            format!(
                                "rebuilt {} through the server at {}: {} events in {:.2}s",
                                r.name, r.server, r.events, r.seconds
                            )
                        })
                        .collect();
                    return Ok(sparkfeed::report_done(lines.join("\n")));
                }
                reports => reports?,
            };
            let lines: Vec<String> = reports
                .iter()
                .map(|(name, report)| {
                    format!(
                        "rebuilt {name}: {} events in {:.2}s ({:.0} events/s)",
                        report.events,
                        report.elapsed.as_secs_f64(),
                        report.events_per_sec()
                    )
                })
                .collect();
            Ok(sparkfeed::report_done(lines.join("\n")))
        }
        Command::Bench { what } => bench(what),
        Command::Replay {
            until,
            into,
            data_dir,
        } => {
            let until = replay::Until::parse(&until)?;
            let report = replay::replay(&data_dir, until, &into)?;
            Ok(sparkfeed::report_done(format_args!(
                "replayed {} events into {} (head {}); serve it with `sparkfeed serve --read-only --data-dir {}`",
                report.events,
                into.display(),
                report.head_hash,
                into.display()
            )))
        }
        Command::Export {
            server,
            token,
            data_dir,
            format,
            request,
            output,
        } => {
            let lines = match (server, data_dir) {
                (Some(server), _) => {
                    let token = token.context("--server needs --token (an analyst's)")?;
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(export::export(
                        &server,
                        &token,
                        &request,
                        format,
                        output.as_deref(),
                    ))?
                }
                (None, Some(dir)) => {
                    export::export_offline(&dir, &request, format, output.as_deref())?
                }
                (None, None) => anyhow::bail!("export from --server or from --data-dir"),
            };
            if let Some(path) = output.filter(|p| *p != std::path::Path::new("-")) {
                sparkfeed::tell(format_args!(
                    "exported {lines} events to {}",
                    path.display()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `sparkfeed bench`: the measurement is in `sparkfeed_bench`; its report is printed here.
fn bench(what: BenchCommand) -> anyhow::Result<ExitCode> {
    let report = match what {
        BenchCommand::Projections(args) => {
            let config = bench_projections::ProjectionsBench {
                events: args.world.events,
                posts: args.world.posts,
                runs: args.world.runs,
                reads: args.reads,
                dir: args.world.dir,
                cache_mb: args.cache_mb,
                replay_buffer_mb: args.replay_buffer_mb,
                only: args.only,
                in_memory: args.in_memory,
            };
            let report = bench_projections::projections(&config);
            report.context("projections benchmark")?.to_string()
        }
        BenchCommand::Api(args) => {
            let config = bench_api::ApiBench {
                addr: args.addr,
                token: args.token,
                clients: args.clients,
                seconds: args.seconds,
                runs: args.runs,
                max_requests: args.max_requests,
                dir: args.dir,
            };
            bench_api::api(&config)
                .context("API benchmark")?
                .to_string()
        }
        BenchCommand::Export(args) => {
            let config = sparkfeed_bench::export::ExportBench {
                events: args.events,
                posts: args.posts,
                runs: args.runs,
                dir: args.dir,
                exe: std::env::current_exe().context("finding the sparkfeed binary")?,
            };
            let report = sparkfeed_bench::export::export(&config);
            report.context("export benchmark")?.to_string()
        }
        BenchCommand::Verify(args) => {
            let config = sparkfeed_bench::verify::VerifyBench {
                events: args.events,
                posts: args.posts,
                runs: args.runs,
                dir: args.dir,
            };
            let report = sparkfeed_bench::verify::verify(&config);
            report.context("verify benchmark")?.to_string()
        }
        BenchCommand::ExportOne { scenario, log } => {
            let line = sparkfeed_bench::export::export_one(scenario, &log);
            line.context("export measurement")? + "\n"
        }
        BenchCommand::Scale(args) => {
            let config = sparkfeed_bench::scale::ScaleBench {
                sizes: args.sizes,
                reads: args.reads,
                clients: args.clients,
                seconds: args.seconds,
                cache_mb: args.cache_mb,
                walk_pages: args.walk_pages,
                dir: args.dir,
            };
            let report = sparkfeed_bench::scale::scale(&config);
            report.context("scale benchmark")?.to_string()
        }
        BenchCommand::All(args) => {
            let json = args
                .json
                .unwrap_or_else(|| args.dir.join("sparkfeed-bench-all.json"));
            let config = sparkfeed_bench::all::AllBench {
                vs_postgres: args.world.vs_postgres,
                pg_bin: args.world.pg_bin,
                events: args.world.events,
                posts: args.world.posts,
                runs: args.runs,
                seconds: args.seconds,
                reads: args.reads,
                sizes: args.sizes,
                json,
                plot: args.plot,
                dir: args.dir,
            };
            let report = sparkfeed_bench::all::all(&config);
            report.context("bench all")?.to_string()
        }
        BenchCommand::Plot { json, out } => {
            let written =
                sparkfeed_bench::all::plot::write_from_file(&json, &out).context("bench plot")?;
            written
                .iter()
                .map(|p| format!("wrote {}\n", p.display()))
                .collect::<String>()
        }
        BenchCommand::Lag {
            events,
            rate,
            seconds,
            cache_mb,
            dir,
        } => {
            let config = sparkfeed_bench::lag::LagBench {
                events,
                rate,
                seconds,
                cache_mb,
                dir,
            };
            let report = sparkfeed_bench::lag::lag(&config);
            report.context("lag benchmark")?.to_string()
        }
        BenchCommand::Disk { world, dir } => {
            let config = sparkfeed_bench::disk::DiskBench {
                events: world.events,
                posts: world.posts,
                dir,
                vs_postgres: world.vs_postgres,
                pg_bin: world.pg_bin,
            };
            let report = sparkfeed_bench::disk::disk(&config);
            report.context("disk benchmark")?.to_string()
        }
        BenchCommand::Append { seconds, runs, dir } => {
            let config = bench_append::AppendBench { seconds, runs, dir };
            let report = bench_append::append(&config);
            report.context("append benchmark")?.to_string()
        }
        BenchCommand::Cluster {
            writers,
            seconds,
            runs,
            clients,
            dir,
        } => {
            let config = sparkfeed_bench::cluster::ClusterBench {
                writers,
                seconds,
                runs,
                clients,
                dir,
            };
            let report = sparkfeed_bench::cluster::cluster(&config);
            report.context("cluster benchmark")?.to_string()
        }
    };
    sparkfeed::say_raw(&report)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs an offline check: its verdict on stdout and exit 0, or `FAILED (CODE): why` on
/// stderr and exit 2 (an unreadable file fails the check too). A verdict that cannot be
/// written is an error (exit 1).
fn checked(check: impl FnOnce() -> anyhow::Result<String>) -> anyhow::Result<ExitCode> {
    Ok(match check() {
        Ok(said) => {
            sparkfeed::say(&said)?;
            ExitCode::SUCCESS
        }
        Err(e) => {
            let code = e
                .downcast_ref::<sparkfeed_treehead::CheckError>()
                .map_or("UNREADABLE", sparkfeed_treehead::CheckError::code);
            sparkfeed::tell(format_args!("FAILED ({code}): {e:#}"));
            ExitCode::from(2)
        }
    })
}

/// `verify --against`: the log's own check, then each saved head; exit 2 if anything fails.
fn verify_against(
    data_dir: &std::path::Path,
    against: &[PathBuf],
    public_key: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let key = match public_key {
        Some(given) => audit::public_key(given)?,
        None => audit::directory_key(data_dir)?,
    };
    let heads = against
        .iter()
        .map(|path| audit::read_json::<SignedTreeHead>(path, "signed head"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (found, verdicts) = audit::verify_against(data_dir, &heads, &key)?;
    sparkfeed::say(inspect::describe_offline(&found))?;
    let mut intact = found.is_intact();
    for (path, verdict) in against.iter().zip(&verdicts) {
        match &verdict.problem {
            None => sparkfeed::say(format_args!(
                "{}: the log extends this head ({} records, root {})",
                path.display(),
                verdict.head.tree_size,
                verdict.head.root_hash
            ))?,
            Some(problem) => {
                intact = false;
                sparkfeed::say(format_args!(
                    "{}: THE LOG DOES NOT EXTEND THIS HEAD: {problem}",
                    path.display()
                ))?;
            }
        }
    }
    Ok(if intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
