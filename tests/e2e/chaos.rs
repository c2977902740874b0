//! Chaos (issue 12): the real `sparkfeed serve`, SIGKILLed at random moments while
//! concurrent GraphQL clients register, publish, smile, comment and buy through it. A
//! client retries whatever got no answer (connection refused or reset, 503, rate limited)
//! with the same idempotency key until it is answered, and notes every mutation answered
//! with success.
//!
//! After each kill, the test opens a copy of the data directory as the server would
//! (recovery included; the server then recovers the original by itself) and checks that
//! every acknowledged mutation is at the position it answered, that nothing a retry sent
//! was written twice, that `verify` passes, and that each projection, resumed from where
//! the kill left it, equals a rebuild from zero. After each restart, before the clients
//! come back, the read models served over GraphQL show what was acknowledged since the
//! last check; at the end they show exactly what was acknowledged (sets and counts), and
//! `sparkfeed verify` passes.
//!
//! `cargo test` runs the short form; `SPARKFEED_CHAOS_LONG=1` runs more kills, more
//! clients and longer rounds; `SPARKFEED_CHAOS_SEED=<n>` replays one plan of kills (the
//! moments the kills land at still vary with the machine).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sparkfeed_api::Tokens;
use sparkfeed_domain::{
    Caller, Command as DomainCommand, Context, Domain, KeyStore, Role, UserId, order_id,
};
use sparkfeed_eventlog::{Config, EventLog, RecoveryReport};
use sparkfeed_events::Position;
use sparkfeed_projections::Projections;
use sparkfeed_testkit::client::Client;
use sparkfeed_testkit::ids;
use tokio::sync::watch;

use crate::projector_crash::{XorShift, rows};

pub(crate) const SECRET: &str = "the chaos test's token secret, 32 bytes or more";
const PRODUCTS: [&str; 3] = ["B0CHAOS001", "B0CHAOS002", "B0CHAOS003"];
/// No answer within this long is no answer: the request is sent again.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The most mutations one client sends (the clock stops them long before).
const MAX_OPS_PER_CLIENT: u64 = 100_000;

/// How hard to shake.
struct Plan {
    name: &'static str,
    kills: usize,
    clients: usize,
    /// Bounds of the load between a start and its kill, in ms.
    round_ms: (u64, u64),
    /// The whole run, past which every loop gives up.
    budget: Duration,
}

impl Plan {
    fn from_env() -> Self {
        let long = std::env::var("SPARKFEED_CHAOS_LONG").is_ok_and(|v| !v.is_empty() && v != "0");
        if long {
            Plan {
                name: "long",
                kills: 60,
                clients: 48,
                round_ms: (200, 4_000),
                budget: Duration::from_secs(1_800),
            }
        } else {
            Plan {
                name: "short",
                kills: 10,
                clients: 16,
                round_ms: (150, 1_200),
                budget: Duration::from_secs(240),
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Register,
    Prime,
    Publish,
    Smile,
    Comment,
    Buy,
}

/// Where a mutation's event is counted in the log: its type and its owner (the actor, or
/// the stream where one stream per thing is the rule). A retry that wrote again shows as
/// one event too many under its slot.
pub(crate) type Slot = (&'static str, String);

fn slot(kind: Kind, member: &str) -> Slot {
    match kind {
        Kind::Register => ("UserRegistered", "system:anonymous".to_owned()),
        Kind::Prime => ("PrimeStarted", format!("user-{member}")),
        Kind::Publish => ("PostPublished", format!("user:{member}")),
        Kind::Smile => ("Smiled", format!("user:{member}")),
        Kind::Comment => ("CommentPosted", format!("user:{member}")),
        Kind::Buy => ("OrderPlaced", format!("user:{member}")),
    }
}

/// The slot of a stored event, for the types the clients write.
fn event_slot(event_type: &str, stream: &str, actor: String) -> Option<Slot> {
    let by_actor = |t| Some((t, actor.clone()));
    match event_type {
        "UserRegistered" => by_actor("UserRegistered"),
        "PrimeStarted" => Some(("PrimeStarted", stream.to_owned())),
        "PostPublished" => by_actor("PostPublished"),
        "Smiled" => by_actor("Smiled"),
        "CommentPosted" => by_actor("CommentPosted"),
        "OrderPlaced" => by_actor("OrderPlaced"),
        _ => None,
    }
}

/// One mutation answered with success.
#[derive(Clone, Debug)]
pub(crate) struct Acked {
    /// What kind of mutation it was.
    pub(crate) kind: Kind,
    /// Who it was for (the new member for `Register` and `Prime`).
    member: String,
    /// The key it was answered for.
    key: String,
    position: u64,
    /// What it created or touched: the user, the post (`Publish`, `Smile`), the comment,
    /// the order.
    id: String,
    /// The post it acted on (`Smile`, `Comment`, `Buy`).
    post: Option<String>,
}

impl Acked {
    /// What names it among all the others.
    fn name(&self) -> String {
        format!("{}'s {:?} {}", self.member, self.kind, self.key)
    }

    /// The type and stream of the event at its position.
    fn expected(&self) -> (&'static str, String) {
        match self.kind {
            Kind::Register => ("UserRegistered", format!("user-{}", self.id)),
            Kind::Prime => ("PrimeStarted", format!("user-{}", self.member)),
            Kind::Publish => ("PostPublished", format!("post-{}", self.id)),
            Kind::Smile => ("Smiled", format!("engagement-{}.{}", self.id, self.member)),
            Kind::Comment => ("CommentPosted", format!("comment-{}", self.id)),
            Kind::Buy => {
                let buyer = ids::user(&self.member);
                (
                    "OrderPlaced",
                    format!("order-{}", order_id(&buyer, &self.key)),
                )
            }
        }
    }
}

/// What the clients saw.
#[derive(Default)]
pub(crate) struct Ledger {
    pub(crate) acked: Vec<Acked>,
    /// Per client, the mutation sent and not answered yet.
    pending: HashMap<usize, Slot>,
    tokens: HashMap<String, String>,
    /// Sends that got no answer (and were sent again).
    pub(crate) unanswered: u64,
    /// Answers 503, 429 or `CONFLICT` (sent again too).
    pub(crate) busy: BTreeMap<String, u64>,
    /// Acknowledged mutations that needed more than one send.
    pub(crate) retried: u64,
    /// Buys answered `deduplicated: true`.
    pub(crate) deduplicated: u64,
}

pub(crate) struct World {
    addr: watch::Receiver<Option<SocketAddr>>,
    ledger: Mutex<Ledger>,
    /// Acknowledged posts and the product each one tags.
    posts: Mutex<Vec<(String, &'static str)>>,
    /// Tells the clients to finish what they sent and stop.
    pub(crate) stop: AtomicBool,
    deadline: Instant,
    admin: String,
}

/// A client's connection to whichever server runs now.
struct Conn {
    token: Option<String>,
    client: Option<(SocketAddr, Client)>,
}

impl Conn {
    fn new(token: Option<String>) -> Self {
        Self {
            token,
            client: None,
        }
    }

    fn to(&mut self, addr: SocketAddr) -> &mut Client {
        if self.client.as_ref().is_none_or(|(at, _)| *at != addr) {
            let mut client = Client::new(addr);
            client.set_token(self.token.clone());
            self.client = Some((addr, client));
        }
        &mut self.client.as_mut().unwrap_or_else(|| unreachable!()).1
    }
}

impl World {
    /// The clients' world: they find the server at `addr` (none while it is down), give up
    /// at `deadline`, and get Prime for each new member with the `admin`'s token.
    pub(crate) fn new(
        addr: watch::Receiver<Option<SocketAddr>>,
        deadline: Instant,
        admin: String,
    ) -> Self {
        Self {
            addr,
            ledger: Mutex::default(),
            posts: Mutex::default(),
            stop: AtomicBool::new(false),
            deadline,
            admin,
        }
    }

    /// What was acknowledged, the slots of mutations sent and not answered yet, and each
    /// member's token.
    pub(crate) fn snapshot(&self) -> (Vec<Acked>, Vec<Slot>, HashMap<String, String>) {
        let ledger = self.ledger();
        let pending = ledger.pending.values().cloned().collect();
        (ledger.acked.clone(), pending, ledger.tokens.clone())
    }

    pub(crate) fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The server's address, once one runs.
    async fn server(&self) -> Option<SocketAddr> {
        let mut addr = self.addr.clone();
        let up = tokio::time::timeout_at(self.deadline.into(), addr.wait_for(Option::is_some));
        up.await.ok()?.ok().and_then(|a| *a)
    }

    /// Sends `query` with `variables` (which hold its key) until it is answered; a send
    /// with no answer, or answered 503, 429 or `CONFLICT`, is sent again, unchanged.
    /// Answers the data and whether it took more than one send.
    async fn send(
        &self,
        c: usize,
        conn: &mut Conn,
        slot: Slot,
        query: &str,
        variables: Value,
    ) -> Result<(Value, bool), String> {
        self.ledger().pending.insert(c, slot);
        let mut sends = 0u32;
        let answered = loop {
            if Instant::now() > self.deadline {
                break Err(format!("client {c}: no answer to {query} in time"));
            }
            let Some(addr) = self.server().await else {
                break Err(format!("client {c}: no server came back"));
            };
            sends += 1;
            let sent = tokio::time::timeout(
                REQUEST_TIMEOUT,
                conn.to(addr).graphql(query, variables.clone()),
            )
            .await;
            let answer = match sent {
                Ok(Ok(answer)) => answer,
                Ok(Err(_)) | Err(_) => {
                    // Refused, reset or timed out: a new connection, the same request.
                    conn.client = None;
                    self.ledger().unanswered += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let code = answer.error_code().unwrap_or("");
            if answer.status == 200 && answer.body.get("errors").is_none() {
                break Ok((answer.data().clone(), sends > 1));
            }
            if matches!(answer.status, 429 | 503) || matches!(code, "RATE_LIMITED" | "CONFLICT") {
                *self
                    .ledger()
                    .busy
                    .entry(format!("{} {code}", answer.status))
                    .or_default() += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            break Err(format!("client {c}: {} {}", answer.status, answer.text));
        };
        self.ledger().pending.remove(&c);
        answered
    }

    fn ack(&self, acked: Acked, retried: bool) {
        let mut ledger = self.ledger();
        ledger.retried += u64::from(retried);
        ledger.acked.push(acked);
    }
}

const REGISTER: &str = "mutation($h: String!, $k: String) { registerUser(handle: $h, displayName: \"Chaos\", idempotencyKey: $k) { position token user { id } } }";
const START_PRIME: &str = "mutation($u: ID!, $k: String) { startPrime(userId: $u, idempotencyKey: $k) { position user { prime } } }";
const PUBLISH: &str =
    "mutation($input: PublishPostInput!) { publishPost(input: $input) { position post { id } } }";
const SMILE: &str =
    "mutation($p: ID!, $k: String) { smile(postId: $p, idempotencyKey: $k) { position } }";
const COMMENT: &str = "mutation($p: ID!, $t: String!, $k: String) { comment(postId: $p, text: $t, idempotencyKey: $k) { position comment { id } } }";
const BUY: &str =
    "mutation($input: BuyInput!) { buy(input: $input) { position deduplicated order { id } } }";

fn text(value: &Value, what: &str) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("the answer has no {what}: {value}"))
}

fn position(value: &Value) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("the answer has no position: {value}"))
}

/// One member: registers, gets Prime from the admin, then publishes, smiles, comments and
/// buys until told to stop.
pub(crate) async fn writer(c: usize, seed: u64, world: Arc<World>) -> Result<(), String> {
    let mut rng = XorShift(seed | 1);
    let mut me = Conn::new(None);

    let key = format!("chaos-registration-{c:04}-{seed:016x}");
    let handle = format!("chaos_{c:03}");
    let (data, retried) = world
        .send(
            c,
            &mut me,
            slot(Kind::Register, ""),
            REGISTER,
            json!({ "h": handle, "k": key }),
        )
        .await?;
    let user = text(&data["registerUser"]["user"]["id"], "user id")?;
    let token = text(&data["registerUser"]["token"], "token")?;
    me = Conn::new(Some(token.clone()));
    world.ledger().tokens.insert(user.clone(), token);
    world.ack(
        Acked {
            kind: Kind::Register,
            member: user.clone(),
            key,
            position: position(&data["registerUser"]["position"])?,
            id: user.clone(),
            post: None,
        },
        retried,
    );

    let mut admin = Conn::new(Some(world.admin.clone()));
    let key = format!("prime-{user}");
    let (data, retried) = world
        .send(
            c,
            &mut admin,
            slot(Kind::Prime, &user),
            START_PRIME,
            json!({ "u": user, "k": key }),
        )
        .await?;
    world.ack(
        Acked {
            kind: Kind::Prime,
            member: user.clone(),
            key,
            position: position(&data["startPrime"]["position"])?,
            id: user.clone(),
            post: None,
        },
        retried,
    );

    let mut smiled = BTreeSet::new();
    for n in 1..=MAX_OPS_PER_CLIENT {
        if world.stop.load(Ordering::Relaxed) {
            break;
        }
        let key = format!("op-{n}");
        let pick = {
            let posts = world.posts.lock().unwrap_or_else(|p| p.into_inner());
            let len = u64::try_from(posts.len()).unwrap_or(u64::MAX);
            usize::try_from(rng.below(len))
                .ok()
                .and_then(|i| posts.get(i).cloned())
        };
        let roll = rng.below(100);
        match pick {
            Some((post, _)) if (25..45).contains(&roll) && !smiled.contains(&post) => {
                let (data, retried) = world
                    .send(
                        c,
                        &mut me,
                        slot(Kind::Smile, &user),
                        SMILE,
                        json!({ "p": post, "k": key }),
                    )
                    .await?;
                smiled.insert(post.clone());
                world.ack(
                    Acked {
                        kind: Kind::Smile,
                        member: user.clone(),
                        key,
                        position: position(&data["smile"]["position"])?,
                        id: post.clone(),
                        post: Some(post),
                    },
                    retried,
                );
            }
            Some((post, _)) if (25..70).contains(&roll) => {
                let words = format!("client {c} says {n}");
                let (data, retried) = world
                    .send(
                        c,
                        &mut me,
                        slot(Kind::Comment, &user),
                        COMMENT,
                        json!({ "p": post, "t": words, "k": key }),
                    )
                    .await?;
                world.ack(
                    Acked {
                        kind: Kind::Comment,
                        member: user.clone(),
                        key,
                        position: position(&data["comment"]["position"])?,
                        id: text(&data["comment"]["comment"]["id"], "comment id")?,
                        post: Some(post),
                    },
                    retried,
                );
            }
            Some((post, asin)) if roll >= 70 => {
                let input = json!({
                    "postId": post,
                    "asin": asin,
                    "quantity": 1 + rng.below(3),
                    "idempotencyKey": key,
                });
                let (data, retried) = world
                    .send(
                        c,
                        &mut me,
                        slot(Kind::Buy, &user),
                        BUY,
                        json!({ "input": input }),
                    )
                    .await?;
                let order = text(&data["buy"]["order"]["id"], "order id")?;
                let expected = order_id(&UserId::parse(&user).map_err(|e| e.to_string())?, &key);
                if order != expected {
                    return Err(format!("order {order} of key {key} is not {expected}"));
                }
                if data["buy"]["deduplicated"] == json!(true) {
                    world.ledger().deduplicated += 1;
                }
                world.ack(
                    Acked {
                        kind: Kind::Buy,
                        member: user.clone(),
                        key,
                        position: position(&data["buy"]["position"])?,
                        id: order,
                        post: Some(post),
                    },
                    retried,
                );
            }
            _ => {
                let asin = PRODUCTS[usize::try_from(rng.below(3)).unwrap_or(0)];
                let medium = json!({
                    "url": "https://img.example/chaos.jpg",
                    "width": 1080,
                    "height": 1080,
                    "alt": "a photo",
                });
                let input = json!({
                    "caption": format!("client {c}, post {n}"),
                    "media": [medium],
                    "interests": ["coffee"],
                    "tags": [{ "asin": asin, "x": 0.5, "y": 0.5 }],
                    "idempotencyKey": key,
                });
                let (data, retried) = world
                    .send(
                        c,
                        &mut me,
                        slot(Kind::Publish, &user),
                        PUBLISH,
                        json!({ "input": input }),
                    )
                    .await?;
                let post = text(&data["publishPost"]["post"]["id"], "post id")?;
                world.ack(
                    Acked {
                        kind: Kind::Publish,
                        member: user.clone(),
                        key,
                        position: position(&data["publishPost"]["position"])?,
                        id: post.clone(),
                        post: None,
                    },
                    retried,
                );
                world
                    .posts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((post, asin));
            }
        }
    }
    Ok(())
}

/// `sparkfeed serve` over the data directory, as a child process.
pub(crate) struct Server {
    child: Child,
    addr: SocketAddr,
}

/// Where a starting server will listen: its address once it prints it.
pub(crate) type Listening = std::sync::mpsc::Receiver<Result<SocketAddr, std::net::AddrParseError>>;

impl Server {
    /// Spawns `sparkfeed serve` over `data` on port 0 (signing tokens with `secret`, else
    /// with the data directory's own), its stderr appended to `stderr`; answers at once.
    pub(crate) fn spawn(data: &Path, stderr: &Path, secret: Option<&str>) -> (Child, Listening) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr)
            .expect("the server's stderr file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_sparkfeed-cli"));
        command.args(["serve", "--addr", "127.0.0.1:0"]);
        if let Some(secret) = secret {
            command.args(["--secret", secret]);
        }
        let mut child = command
            .arg("--data-dir")
            .arg(data)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("sparkfeed serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address, then drains stdout until the process is gone.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.trim().strip_prefix("GraphiQL") {
                    let url = url.trim().trim_start_matches("http://");
                    let _ = tx.send(url.trim_end_matches('/').parse::<SocketAddr>());
                }
            }
        });
        (child, rx)
    }

    /// Starts the server and waits until it listens; a start that fails is tried again
    /// twice (each failure is noted in `failures`).
    fn start(data: &Path, stderr: &Path, failures: &mut Vec<String>) -> Server {
        for _ in 0..3 {
            let (mut child, rx) = Self::spawn(data, stderr, Some(SECRET));
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(Ok(addr)) => return Server { child, addr },
                outcome => {
                    let _ = child.kill();
                    let status = child.wait().expect("reaped");
                    failures.push(format!("{outcome:?}, {status}: {}", tail(stderr)));
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
        panic!("sparkfeed serve did not start three times: {failures:#?}");
    }

    /// SIGKILLs the server; answers how it ended if it had ended by itself before.
    fn kill(mut self) -> Option<std::process::ExitStatus> {
        let ended = self.child.try_wait().expect("its status");
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
        ended
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a file.
pub(crate) fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A catalog of one interest and three products, and an admin; answers the admin's token
/// (signed with `secret`) and the number of events written.
pub(crate) async fn bootstrap(data: &Path, secret: &[u8]) -> (String, u64) {
    let log = EventLog::open(Config::new(data)).expect("log");
    let keys = KeyStore::open(&data.join("keys")).expect("key store");
    let domain = Domain::new(log.clone(), Arc::new(keys));
    let admin = ids::user("uadmin");
    let coffee = ids::interest("coffee");
    let mut commands = vec![DomainCommand::AddInterest {
        interest: coffee.clone(),
        name: "Coffee".into(),
        rebuy_window_days: None,
    }];
    for (i, asin) in (1u64..).zip(PRODUCTS) {
        commands.push(DomainCommand::ListProduct {
            asin: ids::asin(asin),
            title: format!("Chaos product {i}"),
            price: ids::usd(1_000 * i),
            image_url: format!("https://img.example/{asin}.jpg"),
            interests: vec![coffee.clone()],
            consumable: false,
        });
    }
    commands.push(DomainCommand::RegisterMember {
        user: admin.clone(),
        handle: ids::handle("chaos_admin"),
        display_name: "Admin".into(),
    });
    commands.push(DomainCommand::GrantRole {
        user: admin.clone(),
        role: Role::Admin,
    });
    for command in commands {
        domain
            .execute(&Context::new(Caller::System("chaos".into())), &command)
            .await
            .unwrap_or_else(|e| panic!("bootstrap {command:?}: {e}"));
    }
    let tokens = Tokens::new(secret).expect("secret");
    (
        tokens.mint(&admin, Duration::from_secs(3_600)),
        log.head().len,
    )
}

/// What the checks found wrong. Lost and duplicated things are named, so that one seen by
/// several checks counts once.
#[derive(Default)]
pub(crate) struct Findings {
    /// Acknowledged mutations missing from the log or the read models, and how.
    pub(crate) lost: BTreeMap<String, String>,
    /// Things written or served more often than acknowledged: how many times more, and how.
    pub(crate) duplicated: BTreeMap<String, (u64, String)>,
    /// Projections that differed from a rebuild from zero, one line per check.
    pub(crate) mismatched: Vec<String>,
    /// Failed verifications of the log.
    pub(crate) unverified: Vec<String>,
    /// Stores (the log, the projections) that did not open, or projections that did not
    /// catch up, and why.
    pub(crate) unopened: Vec<String>,
}

impl Findings {
    pub(crate) fn lose(&mut self, what: String, how: String) {
        self.lost.insert(what, how);
    }

    fn double(&mut self, what: String, excess: u64, how: String) {
        let seen = self.duplicated.entry(what).or_default();
        if excess >= seen.0 {
            *seen = (excess, how);
        }
    }

    /// Takes in what one check (`"log"` or `"served"`) found.
    pub(crate) fn merge(&mut self, check: &str, other: Findings) {
        for (what, how) in other.lost {
            self.lose(format!("{check}: {what}"), how);
        }
        for (what, (excess, how)) in other.duplicated {
            self.double(format!("{check}: {what}"), excess, how);
        }
        self.mismatched.extend(other.mismatched);
        self.unverified.extend(other.unverified);
        self.unopened.extend(other.unopened);
    }

    /// Things lost, by the check that found them.
    pub(crate) fn losses(&self, check: &str) -> usize {
        self.lost.keys().filter(|k| k.starts_with(check)).count()
    }

    /// Writes (or servings) beyond what was acknowledged, by the check that found them.
    pub(crate) fn duplicates(&self, check: &str) -> u64 {
        self.duplicated
            .iter()
            .filter(|(k, _)| k.starts_with(check))
            .map(|(_, (n, _))| n)
            .sum()
    }
}

/// Copies the directory tree `from` to `to` (a killed server's data directory, which
/// nothing writes any more).
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creates the copy");
    for entry in std::fs::read_dir(from).expect("reads the directory") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copies");
        }
    }
}

/// What an audit saw besides its findings.
#[derive(Default)]
pub(crate) struct Audited {
    /// Events in the log.
    pub(crate) events: u64,
    /// What opening the log recovered.
    pub(crate) recovery: RecoveryReport,
}

/// Opens the data directory as a restarting server would, and checks the log against
/// what was acknowledged (`pending`: the slots of mutations sent and not answered yet,
/// which may be in the log once each), and each projection against a rebuild from zero.
pub(crate) async fn audit(
    data: &Path,
    from: u64,
    acked: &[Acked],
    pending: &[Slot],
) -> (Findings, Audited) {
    let mut found = Findings::default();
    let log = match EventLog::open(Config::new(data)) {
        Ok(log) => log,
        Err(e) => {
            found.unopened.push(format!("the log: {e}"));
            return (found, Audited::default());
        }
    };
    let head = log.head().len;
    let report = log.verify(|_| {}).expect("verify runs");
    if !report.is_intact() || report.records != head {
        found.unverified.push(format!("{report:?}"));
    }

    let mut at = HashMap::new();
    let mut counts: HashMap<Slot, u64> = HashMap::new();
    let mut next = from;
    while next < head {
        let page = log.read_all(Position(next), 1_000).expect("reads");
        let Some(last) = page.last() else { break };
        next = last.record.position.0 + 1;
        for event in page {
            let r = event.record;
            if let Some(slot) = event_slot(
                r.event_type.as_str(),
                r.stream.as_str(),
                r.metadata.actor.to_string(),
            ) {
                *counts.entry(slot).or_default() += 1;
            }
            at.insert(
                r.position.0,
                (
                    r.event_type.as_str().to_owned(),
                    r.stream.as_str().to_owned(),
                ),
            );
        }
    }
    let mut wanted: HashMap<Slot, (u64, u64)> = HashMap::new();
    for a in acked {
        wanted.entry(slot(a.kind, &a.member)).or_default().0 += 1;
        let (kind, stream) = a.expected();
        let stored = at.get(&a.position);
        if stored != Some(&(kind.to_owned(), stream.clone())) {
            found.lose(
                a.name(),
                format!("{a:?}: at its position the log has {stored:?}, not {kind} in {stream}"),
            );
        }
    }
    for s in pending {
        wanted.entry(s.clone()).or_default().1 += 1;
    }
    for (s, &n) in &counts {
        let (acked, pending) = wanted.get(s).copied().unwrap_or_default();
        if n > acked + pending {
            found.double(
                format!("{s:?}"),
                n - acked - pending,
                format!("{n} in the log for {acked} acknowledged and {pending} in flight"),
            );
        }
    }
    for (s, &(acked, _)) in &wanted {
        let n = counts.get(s).copied().unwrap_or(0);
        if n < acked {
            found.lose(
                format!("{s:?}"),
                format!("{n} in the log for {acked} acknowledged"),
            );
        }
    }

    let audited = Audited {
        events: head,
        recovery: log.recovery(),
    };
    let resumed = match Projections::open(&data.join("projections"), log.clone()) {
        Ok(resumed) => resumed,
        Err(e) => {
            found.unopened.push(format!("the projections: {e}"));
            return (found, audited);
        }
    };
    if let Err(e) = resumed.catch_up().await {
        found
            .unopened
            .push(format!("the projections' catch-up: {e}"));
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let rebuilt = Projections::open(scratch.path(), log.clone()).expect("scratch projections");
    for name in resumed.names() {
        rebuilt.rebuild(name, |_, _| {}).await.expect("rebuilds");
        let live = rows(&resumed.tree(name).expect("tree"));
        let fresh = rows(&rebuilt.tree(name).expect("tree"));
        if live != fresh {
            found.mismatched.push(format!(
                "{name}: {} rows resumed, {} rebuilt from zero",
                live.len(),
                fresh.len()
            ));
        }
    }
    (found, audited)
}

/// Runs a query that must succeed.
async fn query(client: &mut Client, query: &str, variables: Value) -> Value {
    let answer = tokio::time::timeout(REQUEST_TIMEOUT, client.graphql(query, variables))
        .await
        .expect("the restarted server answers in time")
        .expect("the restarted server answers");
    assert!(
        answer.status == 200 && answer.body.get("errors").is_none(),
        "{query}: {}",
        answer.text
    );
    answer.data().clone()
}

/// Every id of a paged connection (the page after `$a`), `at` picking the connection out
/// of the data.
async fn every_id(
    client: &mut Client,
    q: &str,
    mut variables: Value,
    at: impl Fn(&Value) -> &Value,
) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..10_000 {
        let data = query(client, q, variables.clone()).await;
        let page = at(&data);
        for node in page["nodes"].as_array().into_iter().flatten() {
            ids.push(node["id"].as_str().unwrap_or("").to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return ids;
        }
        variables["a"] = page["pageInfo"]["endCursor"].clone();
    }
    panic!("{q}: more than 10,000 pages");
}

const COMMENTS: &str = "query($p: ID!, $a: String) { post(id: $p) { comments(first: 50, after: $a) { nodes { id } pageInfo { hasNextPage endCursor } } } }";
const ORDERS: &str = "query($a: String) { viewer { orders(first: 50, after: $a) { nodes { id } pageInfo { hasNextPage endCursor } } } }";

/// `found` against `acked`, as sets of ids: what is missing is lost, what is extra or
/// there twice is duplicated (`exact`), or only what is missing (not `exact`).
fn compare(what: &str, found: &[String], acked: &[&str], exact: bool, into: &mut Findings) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for id in found {
        *seen.entry(id).or_default() += 1;
    }
    for id in acked {
        if !seen.contains_key(id) {
            into.lose(format!("{what}: {id}"), "not served".to_owned());
        }
    }
    if exact {
        let acked: BTreeSet<&str> = acked.iter().copied().collect();
        for (id, n) in seen {
            let once = u64::from(acked.contains(id));
            let n = u64::try_from(n).unwrap_or(u64::MAX);
            if n > once {
                into.double(
                    format!("{what}: {id}"),
                    n - once,
                    format!("served {n} times, acknowledged {once}"),
                );
            }
        }
    }
}

/// Checks over GraphQL that the read models show `new` (what was acknowledged since the
/// last check); with `exact`, that they show exactly `all`: every post's smile, comment
/// and purchase counts, every member's posts, comments and orders.
pub(crate) async fn read_models(
    addr: SocketAddr,
    tokens: &HashMap<String, String>,
    all: &[Acked],
    new: &[Acked],
    exact: bool,
) -> Findings {
    let mut found = Findings::default();
    let scope = if exact { all } else { new };
    let mut by_member: BTreeMap<&str, Vec<&Acked>> = BTreeMap::new();
    for a in scope {
        by_member.entry(&a.member).or_default().push(a);
    }
    for (member, acks) in &by_member {
        let mut client = Client::new(addr);
        client.set_token(tokens.get(*member).cloned());
        let viewer = query(
            &mut client,
            "{ viewer { id handle prime postCount } }",
            json!({}),
        )
        .await;
        if viewer["viewer"]["id"] != json!(member) {
            found.lose(
                format!("{member}'s account"),
                format!("the viewer is {}", viewer["viewer"]),
            );
        }
        // Sealed with the member's key: without the key store, the handle is gone.
        if !viewer["viewer"]["handle"].is_string() {
            found.lose(
                format!("{member}'s handle"),
                format!("the viewer is {}", viewer["viewer"]),
            );
        }
        if acks.iter().any(|a| a.kind == Kind::Prime) && viewer["viewer"]["prime"] != json!(true) {
            found.lose(format!("{member}'s Prime"), "not Prime".to_owned());
        }
        if exact {
            let published = acks.iter().filter(|a| a.kind == Kind::Publish).count();
            let published = u64::try_from(published).unwrap_or(u64::MAX);
            let served = viewer["viewer"]["postCount"].as_u64().unwrap_or(0);
            let how = format!("postCount {served} for {published} acknowledged");
            if served > published {
                found.double(format!("{member}'s posts"), served - published, how);
            } else if served < published {
                found.lose(format!("{member}'s posts"), how);
            }
        }
        // Posts they published and posts they smiled at, 25 to a query.
        let looks: Vec<&&Acked> = acks
            .iter()
            .filter(|a| matches!(a.kind, Kind::Publish | Kind::Smile))
            .collect();
        for chunk in looks.chunks(25) {
            let fields: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    format!(
                        "a{i}: post(id: \"{}\") {{ author {{ id }} viewerHasSmiled }}",
                        a.id
                    )
                })
                .collect();
            let data = query(
                &mut client,
                &format!("{{ {} }}", fields.join(" ")),
                json!({}),
            )
            .await;
            for (i, a) in chunk.iter().enumerate() {
                let post = &data[format!("a{i}")];
                let ok = match a.kind {
                    Kind::Publish => post["author"]["id"] == json!(member),
                    _ => post["viewerHasSmiled"] == json!(true),
                };
                if !ok {
                    found.lose(a.name(), format!("{a:?}: served as {post}"));
                }
            }
        }
        let orders: Vec<&str> = acks
            .iter()
            .filter(|a| a.kind == Kind::Buy)
            .map(|a| a.id.as_str())
            .collect();
        if exact || !orders.is_empty() {
            let served = every_id(&mut client, ORDERS, json!({}), |d| &d["viewer"]["orders"]).await;
            compare(
                &format!("{member}'s orders"),
                &served,
                &orders,
                exact,
                &mut found,
            );
        }
    }

    // Comments, post by post; with `exact`, every post's counts too.
    let mut comments: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in scope.iter().filter(|a| a.kind == Kind::Comment) {
        comments
            .entry(a.post.as_deref().unwrap_or(""))
            .or_default()
            .push(&a.id);
    }
    if exact {
        for a in all.iter().filter(|a| a.kind == Kind::Publish) {
            comments.entry(&a.id).or_default();
        }
    }
    let mut client = Client::new(addr);
    for (post, ids) in &comments {
        let served = every_id(&mut client, COMMENTS, json!({ "p": post }), |d| {
            &d["post"]["comments"]
        })
        .await;
        compare(
            &format!("comments on {post}"),
            &served,
            ids,
            exact,
            &mut found,
        );
    }
    if exact {
        let mut want: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
        for a in all {
            match (a.kind, a.post.as_deref()) {
                (Kind::Publish, _) => {
                    want.entry(&a.id).or_default();
                }
                (Kind::Smile, Some(p)) => want.entry(p).or_default()[0] += 1,
                (Kind::Comment, Some(p)) => want.entry(p).or_default()[1] += 1,
                (Kind::Buy, Some(p)) => want.entry(p).or_default()[2] += 1,
                _ => {}
            }
        }
        let want: Vec<(&str, [usize; 3])> = want.into_iter().collect();
        for chunk in want.chunks(25) {
            let fields: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, (p, _))| {
                    format!("a{i}: post(id: \"{p}\") {{ smileCount commentCount purchaseCount }}")
                })
                .collect();
            let data = query(
                &mut client,
                &format!("{{ {} }}", fields.join(" ")),
                json!({}),
            )
            .await;
            for (i, (p, [smiles, comments, buys])) in chunk.iter().enumerate() {
                let post = &data[format!("a{i}")];
                let served = [
                    post["smileCount"].as_u64(),
                    post["commentCount"].as_u64(),
                    post["purchaseCount"].as_u64(),
                ];
                let acked = [smiles, comments, buys].map(|n| u64::try_from(*n).ok());
                let how = format!(
                    "smiles, comments, purchases served {served:?}, acknowledged {acked:?}"
                );
                let excess: u64 = served
                    .iter()
                    .zip(&acked)
                    .map(|(s, a)| s.unwrap_or(0).saturating_sub(a.unwrap_or(0)))
                    .sum();
                if excess > 0 {
                    found.double(format!("post {p}'s counts"), excess, how);
                } else if served != acked {
                    found.lose(format!("post {p}'s counts"), how);
                }
            }
        }
    }
    found
}

/// Counts of what a run saw, printed at its end.
#[derive(Default)]
struct Figures {
    kills: usize,
    findings: Findings,
    start_failures: Vec<String>,
    /// Servers that ended before they were killed.
    exits: Vec<String>,
    events: u64,
    /// Kills after which opening the log removed an unfinished group or wrote index
    /// entries again, and how many records and entries.
    recoveries: (usize, u64, u64),
}

impl Figures {
    fn note(&mut self, audited: &Audited) {
        self.events = audited.events;
        let r = audited.recovery;
        if r.removed_records > 0 || r.reindexed_entries > 0 {
            self.recoveries.0 += 1;
            self.recoveries.1 += r.removed_records;
            self.recoveries.2 += r.reindexed_entries;
        }
    }
}

#[test]
fn sigkilled_under_load_the_server_loses_no_acknowledged_mutation_and_writes_no_retry_twice() {
    let plan = Plan::from_env();
    let started = Instant::now();
    let seed = std::env::var("SPARKFEED_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.subsec_nanos());
            u64::from(nanos) | 1
        });
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let stderr = dir.path().join("server.stderr");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (admin, from) = runtime.block_on(bootstrap(&data, SECRET.as_bytes()));

    let (addr_tx, addr_rx) = watch::channel(None);
    let world = Arc::new(World::new(addr_rx, started + plan.budget, admin));
    let writers: Vec<_> = (0..plan.clients)
        .map(|c| {
            let salt = u64::try_from(c).expect("a few clients");
            runtime.spawn(writer(
                c,
                seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                Arc::clone(&world),
            ))
        })
        .collect();

    let mut rng = XorShift(seed);
    let mut figures = Figures::default();
    // Acknowledged mutations already checked through the API.
    let mut checked = 0;
    while figures.kills < plan.kills {
        assert!(started.elapsed() < plan.budget, "over the time budget");
        let server = Server::start(&data, &stderr, &mut figures.start_failures);
        if figures.kills > 0 {
            let (acked, _, tokens) = world.snapshot();
            let new = &acked[checked..];
            figures.findings.merge(
                "served",
                runtime.block_on(read_models(server.addr, &tokens, &acked, new, false)),
            );
            checked = acked.len();
        }
        addr_tx.send_replace(Some(server.addr));
        // Most kills land in the middle of the load; one in five right after the start,
        // while the clients reconnect and send again what the last kill cut off.
        let (lo, hi) = plan.round_ms;
        let ms = if rng.below(5) == 0 {
            rng.below(60)
        } else {
            lo + rng.below(hi - lo)
        };
        std::thread::sleep(Duration::from_millis(ms));
        if let Some(status) = server.kill() {
            figures.exits.push(format!("{status}: {}", tail(&stderr)));
        }
        addr_tx.send_replace(None);
        figures.kills += 1;

        // The audit reads a copy, so that the next start recovers the log by itself.
        let (acked, pending, _) = world.snapshot();
        let copy = tempfile::tempdir().expect("temp dir");
        copy_tree(&data, copy.path());
        let (found, audited) = runtime.block_on(audit(copy.path(), from, &acked, &pending));
        figures.findings.merge("log", found);
        figures.note(&audited);
    }

    // The last start: the clients finish what they sent, and stop.
    let server = Server::start(&data, &stderr, &mut figures.start_failures);
    addr_tx.send_replace(Some(server.addr));
    world.stop.store(true, Ordering::Relaxed);
    // Answers that were neither a success nor worth a retry (a client stops at its first).
    let mut refused = Vec::new();
    runtime.block_on(async {
        for writer in writers {
            match tokio::time::timeout_at(world.deadline.into(), writer).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => refused.push(e),
                Ok(Err(e)) => refused.push(format!("a client panicked: {e}")),
                Err(_) => refused.push("a client did not finish in time".to_owned()),
            }
        }
    });
    let (acked, pending, tokens) = world.snapshot();
    assert!(pending.is_empty(), "every client finished: {pending:?}");
    figures.findings.merge(
        "served",
        runtime.block_on(read_models(
            server.addr,
            &tokens,
            &acked,
            &acked[checked..],
            true,
        )),
    );
    if let Some(status) = server.kill() {
        figures.exits.push(format!("{status}: {}", tail(&stderr)));
    }
    addr_tx.send_replace(None);
    let (found, audited) = runtime.block_on(audit(&data, from, &acked, &[]));
    figures.findings.merge("log", found);
    figures.note(&audited);
    let cli = Command::new(env!("CARGO_BIN_EXE_sparkfeed-cli"))
        .arg("verify")
        .arg("--data-dir")
        .arg(&data)
        .output()
        .expect("sparkfeed verify runs");
    if !cli.status.success() {
        figures.findings.unverified.push(format!(
            "sparkfeed verify: {} {}",
            cli.status,
            String::from_utf8_lossy(&cli.stdout)
        ));
    }

    let ledger = world.ledger();
    let mut by_kind: BTreeMap<Kind, usize> = BTreeMap::new();
    for a in &ledger.acked {
        *by_kind.entry(a.kind).or_default() += 1;
    }
    let f = &figures.findings;
    let warnings: Vec<String> = std::fs::read_to_string(&stderr)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .map(str::to_owned)
        .collect();
    eprintln!(
        "chaos ({}, seed {seed}): {} kills of sparkfeed serve in {:.1} s, {} clients, {} events",
        plan.name,
        figures.kills,
        started.elapsed().as_secs_f64(),
        plan.clients,
        figures.events,
    );
    eprintln!(
        "  acknowledged {} {by_kind:?}: {} after a retry, {} buys answered deduplicated; \
         {} sends unanswered and sent again; busy answers {:?}",
        ledger.acked.len(),
        ledger.retried,
        ledger.deduplicated,
        ledger.unanswered,
        ledger.busy,
    );
    eprintln!(
        "  lost {} (log) {} (served), duplicated {} (log) {} (served), projection \
         mismatches {}, verify failures {}, failed opens {}, refused {}",
        f.losses("log"),
        f.losses("served"),
        f.duplicates("log"),
        f.duplicates("served"),
        f.mismatched.len(),
        f.unverified.len(),
        f.unopened.len(),
        refused.len(),
    );
    eprintln!(
        "  the server: {} failed starts, {} exits before a kill, {} warnings; {} opens after \
         a kill recovered a tail ({} records removed, {} index entries written again)",
        figures.start_failures.len(),
        figures.exits.len(),
        warnings.len(),
        figures.recoveries.0,
        figures.recoveries.1,
        figures.recoveries.2,
    );
    for line in warnings.iter().take(10) {
        eprintln!("  server: {line}");
    }
    assert!(f.lost.is_empty(), "lost: {:#?}", f.lost);
    assert!(f.duplicated.is_empty(), "duplicated: {:#?}", f.duplicated);
    assert!(
        f.mismatched.is_empty(),
        "projection mismatches: {:#?}",
        f.mismatched
    );
    assert!(
        f.unverified.is_empty(),
        "verify failures: {:#?}",
        f.unverified
    );
    assert!(f.unopened.is_empty(), "failed opens: {:#?}", f.unopened);
    assert!(refused.is_empty(), "refused: {refused:#?}");
    assert!(
        figures.exits.is_empty(),
        "the server ended by itself: {:#?}",
        figures.exits
    );
    assert!(figures.kills >= plan.kills);
    assert!(
        ledger.unanswered > 0,
        "no kill cut a request off: the chaos did not bite"
    );
    assert!(
        by_kind.len() == 6,
        "every kind of mutation was acknowledged: {by_kind:?}"
    );
}
