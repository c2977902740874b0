//! `sparkfeed serve`, `sparkfeed token` and `sparkfeed schema`: the API over a data
//! directory.

/// Writes a line to stdout, ignoring a stdout nobody reads any more: a server whose
/// output pipe was closed (`serve | head -1`) goes on serving (it panicked in `println!`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sparkfeed_api::rate::RateLimit;
use sparkfeed_api::{Api, Limits, Tokens};
use sparkfeed_domain::{Domain, KeyStore, Role, UserId};
use sparkfeed_eventlog::{SharedLog, durable};
use sparkfeed_jetstream::{JetStreamKeys, JetStreamLog};
use sparkfeed_projections::Projections;

/// Where the generated token secret is kept when none is configured.
const SECRET_FILE: &str = "token-secret";

/// The token secret: the configured one, else the data directory's own (created on first
/// use, readable by its owner only).
pub fn secret(data_dir: &Path, configured: Option<&str>) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => return Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    // Durably: `serve` creates the data directory here, before the log opens it, and a
    // power cut took a directory whose parent was never synced away whole, log included.
    durable::create_dir_all_durably(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, hex.as_bytes())?;
    // The file's name survives a power cut only once its directory is synced; without it
    // a cut took the secret away, and with it every token signed so far.
    durable::sync_dir(data_dir).with_context(|| format!("fsync of {}", data_dir.display()))?;
    Ok(hex.into_bytes())
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// How `sparkfeed serve` runs.
pub struct ServeOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The token secret, if configured.
    pub secret: Option<String>,
    /// Seed the demo world first when the log is empty.
    pub demo: bool,
    /// The page-cache budget of every projection store together, in MiB.
    pub cache_mb: u64,
    /// How long a query's answer may be served again to the same reader.
    pub response_cache: Duration,
    /// Mutations per signed-in member.
    pub member_mutations: RateLimit,
    /// Mutations per client address.
    pub address_mutations: RateLimit,
    /// Refuse every mutation (`READ_ONLY`).
    pub read_only: bool,
    /// Publish a signed tree head at least this often.
    pub tree_head_every: Duration,
    /// Where the log is.
    pub log: LogBackend,
    /// From how many events in the log a projection that has applied none is rebuilt
    /// rather than caught up batch by batch ([`Projections::with_rebuild_from`]).
    pub rebuild_from: u64,
    /// Replicas of the JetStream stream and key bucket, when this node creates them.
    pub log_replicas: usize,
}

/// Where `serve` keeps the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogBackend {
    /// The embedded sled log in the data directory (the default).
    Embedded,
    /// A NATS JetStream cluster: these servers; the data directory keeps this node's local
    /// copy of the shared log, its projections and its keys.
    JetStream(Vec<String>),
}

impl LogBackend {
    /// Parses `--log`: `sled`, or `nats://HOST:PORT[,HOST:PORT…]`.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        if text == "sled" {
            return Ok(LogBackend::Embedded);
        }
        let servers = sparkfeed_jetstream::Config::parse_servers(text)
            .map_err(|e| anyhow::anyhow!("--log: {e} (or `sled`, the embedded log)"))?;
        Ok(LogBackend::JetStream(servers))
    }
}

/// Opens the API over a data directory.
pub fn open_api(
    data_dir: &Path,
    secret: &[u8],
    cache_mb: u64,
    limits: Limits,
) -> anyhow::Result<Arc<Api>> {
    let domain = crate::demo::open_domain(data_dir)?;
    open_api_on(
        domain,
        data_dir,
        secret,
        cache_mb,
        sparkfeed_projections::DEFAULT_REBUILD_FROM_EVENTS,
        limits,
    )
}

/// Opens the log and the key store the options name for the data directory: the embedded
/// log and the directory's keys, or this node's copy of a JetStream cluster's log (caught
/// up with it) and the cluster's keys, cached in the directory.
async fn open_domain(options: &ServeOptions) -> anyhow::Result<Domain> {
    let data_dir = &options.data_dir;
    let (log, shared_keys): (SharedLog, _) = match &options.log {
        LogBackend::Embedded => (crate::inspect::open(data_dir)?.into(), None),
        LogBackend::JetStream(servers) => {
            durable::create_dir_all_durably(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let joining = || format!("joining the JetStream log at {}", servers.join(","));
            let mut config = sparkfeed_jetstream::Config::new(servers.clone(), data_dir);
            config.replicas = options.log_replicas;
            let log = JetStreamLog::open(config).await.with_context(joining)?;
            let keys = JetStreamKeys::open(
                servers.clone(),
                options.log_replicas,
                Duration::from_secs(30),
            )
            .with_context(joining)?;
            (log.into(), Some(Arc::new(keys)))
        }
    };
    let keys = KeyStore::open(&data_dir.join("keys"))
        .with_context(|| format!("opening the key store in {}", data_dir.display()))?;
    let keys = match shared_keys {
        None => Arc::new(keys),
        Some(shared) => {
            let cluster: Arc<dyn sparkfeed_domain::SharedKeys> = shared.clone();
            let keys = Arc::new(keys.shared_with(cluster).context("the cluster's keys")?);
            shared.follow_forgets(Arc::clone(&keys));
            keys
        }
    };
    Ok(Domain::new(log, keys))
}

/// Opens the API over `domain`, its projections and keys in the data directory.
fn open_api_on(
    domain: Domain,
    data_dir: &Path,
    secret: &[u8],
    cache_mb: u64,
    rebuild_from: u64,
    limits: Limits,
) -> anyhow::Result<Arc<Api>> {
    let projections = Projections::open_with_cache(
        &data_dir.join("projections"),
        domain.log().clone(),
        cache_mb.saturating_mul(1024 * 1024),
    )
    .with_context(|| format!("opening the projections in {}", data_dir.display()))?
    .with_rebuild_from(rebuild_from);
    let tokens = Tokens::new(secret).context("the token secret")?;
    let head_key = sparkfeed_treehead::HeadKey::load_or_create(data_dir)
        .with_context(|| format!("the tree heads' signing key in {}", data_dir.display()))?;
    Ok(Api::new(domain, projections, tokens, head_key, limits))
}

/// Serves until Ctrl-C.
pub fn serve(options: &ServeOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let secret = secret(&options.data_dir, options.secret.as_deref())?;
    let limits = Limits {
        response_cache: options.response_cache,
        member_mutations: options.member_mutations,
        address_mutations: options.address_mutations,
        read_only: options.read_only,
        demo: options.demo,
        tree_head_every: options.tree_head_every,
        ..Limits::default()
    };
    runtime.block_on(async {
        let api = open_caught_up(options, &secret, &limits).await?;
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .with_context(|| format!("listening on {}", options.addr))?;
        let server = sparkfeed_api::serve(Arc::clone(&api), listener)
            .await
            .context("starting the server")?;
        let addr = server.addr;
        // Commands that find the directory held (`rebuild`) go through this server.
        let address_file = crate::remote::address_file(&options.data_dir);
        std::fs::write(&address_file, format!("http://{addr}\n"))
            .with_context(|| format!("writing {}", address_file.display()))?;
        say!(
            "sparkfeed is serving {} events from {}{}{}",
            api.domain.log().head().len,
            options.data_dir.display(),
            match &options.log {
                LogBackend::Embedded => String::new(),
                LogBackend::JetStream(servers) => {
                    format!(" (a copy of the JetStream log at {})", servers.join(","))
                }
            },
            if options.read_only {
                " (read-only: mutations are refused)"
            } else {
                ""
            }
        );
        say!("  storefront http://{addr}/app");
        say!("  GraphiQL   http://{addr}/");
        say!("  GraphQL    http://{addr}/graphql (POST; WebSocket graphql-transport-ws)");
        say!("  health     http://{addr}/healthz  http://{addr}/readyz  http://{addr}/metrics");
        if options.demo {
            print_demo_tokens(&api)?;
        }
        let served = server
            .run_until(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving");
        let _ = std::fs::remove_file(&address_file);
        served
    })
}

/// Opens the log, the projections and the API `options` name, seeds the demo world when
/// asked, and brings every projection up to the log.
///
/// Rebuilding a projection here (a new one, or a new version of one, over a log of at
/// least `--rebuild-from` events) leaves the process holding about twice the memory it
/// serves in afterwards: at 10^6 events about 600 MiB, against 250-300 after a restart
/// (BENCHMARKS.md, fifteenth session). Not live rows: allocator pages that the replays'
/// short-lived rows filled and freed around the long-lived nodes of the caches they
/// filled at the same time, which then cannot go back to the system. So after a rebuild
/// everything opened here is closed and opened again, as a restart would, before anything
/// is served: the caches start empty, in fresh pages. On a JetStream log only the
/// projections are: the local copy of the log stays open under its follower, which
/// keeps it until its task ends.
async fn open_caught_up(
    options: &ServeOptions,
    secret: &[u8],
    limits: &Limits,
) -> anyhow::Result<Arc<Api>> {
    let open_api = |domain| {
        open_api_on(
            domain,
            &options.data_dir,
            secret,
            options.cache_mb,
            options.rebuild_from,
            limits.clone(),
        )
    };
    let api = open_api(open_domain(options).await?)?;
    if options.demo {
        seed_demo(&api).await?;
    }
    let rebuilt = api
        .projections
        .catch_up()
        .await
        .context("bringing the projections up to the log")?;
    if rebuilt.is_empty() {
        return Ok(api);
    }
    say!(
        "rebuilt {}: opening the directory again to serve from fresh memory",
        rebuilt.join(", ")
    );
    // Nothing else holds the API yet: dropping it closes the stores (and the log waits
    // for sled to let its files go), so they open again here at once.
    let api = Arc::into_inner(api)
        .context("the API is still held after catching up: cannot open it again")?;
    let domain = match options.log {
        LogBackend::Embedded => {
            drop(api);
            open_domain(options).await?
        }
        LogBackend::JetStream(_) => {
            let domain = api.domain.clone();
            drop(api);
            domain
        }
    };
    let api = open_api(domain)?;
    api.projections
        .catch_up()
        .await
        .context("bringing the projections up to the log")?;
    Ok(api)
}

/// Seeds the demo world when the log is empty.
async fn seed_demo(api: &Api) -> anyhow::Result<()> {
    if api.domain.log().head().len > 0 {
        say!("the log is not empty: serving it as it is (--demo seeds only an empty one)");
        return Ok(());
    }
    let world = tempfile::tempdir().context("a scratch directory for the demo world")?;
    sparkfeed_seed::generate(sparkfeed_seed::DEMO_SEED, sparkfeed_seed::Size::DEMO)
        .write(world.path())
        .context("writing the demo world")?;
    let report = sparkfeed_seed::load(world.path(), &api.domain, |_, _| {})
        .await
        .context("seeding the demo world")?;
    say!(
        "seeded the demo world: {} commands, {} events",
        report.commands,
        report.events
    );
    Ok(())
}

/// Prints ready-made tokens for the demo's admin, moderator, analyst, auditor and a Prime
/// member, so a new user can paste one into GraphiQL's headers.
fn print_demo_tokens(api: &Api) -> anyhow::Result<()> {
    let wanted = [
        ("admin", Some(Role::Admin)),
        ("moderator", Some(Role::Moderator)),
        ("analyst", Some(Role::Analyst)),
        ("auditor", Some(Role::Auditor)),
        ("member", None),
    ];
    say!("demo tokens (send as `Authorization: Bearer <token>`):");
    for (label, role) in wanted {
        for n in 1..=50u32 {
            let user = UserId::parse(&format!("u{n:04}"))?;
            let Some(account) = api.domain.account(&user)? else {
                continue;
            };
            let fits = match role {
                Some(r) => account.roles.contains(&r),
                None => account.prime && account.roles.is_empty() && !account.interests.is_empty(),
            };
            if fits {
                let token = api
                    .tokens
                    .mint(&user, sparkfeed_api::auth::DEFAULT_TOKEN_TTL);
                say!("  {label:<9} {user}  {token}");
                break;
            }
        }
    }
    Ok(())
}

/// A token for `user`, valid `ttl`.
pub fn token(
    data_dir: &Path,
    configured: Option<&str>,
    user: &str,
    ttl: Duration,
) -> anyhow::Result<String> {
    let user = UserId::parse(user).map_err(|e| anyhow::anyhow!("{user:?}: {e}"))?;
    let tokens = Tokens::new(&secret(data_dir, configured)?).context("the token secret")?;
    Ok(tokens.mint(&user, ttl))
}
