//! The clients: members who register, get Prime, publish, smile, comment and buy through
//! whichever server runs, each retrying what got no answer with the same idempotency key,
//! and the ledger of what was acknowledged.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sparkfeed_domain::{UserId, order_id};
use sparkfeed_testkit::client::Client;
use sparkfeed_testkit::ids;
use tokio::sync::watch;

use super::{PRODUCTS, REQUEST_TIMEOUT};
use crate::projector_crash::XorShift;

/// The most mutations one client sends (the clock stops them long before).
const MAX_OPS_PER_CLIENT: u64 = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Register,
    Prime,
    Publish,
    Smile,
    Comment,
    Buy,
}

impl Kind {
    /// The mutation that does it, and the field of the data that answers it.
    fn mutation(self) -> (&'static str, &'static str) {
        match self {
            Kind::Register => (REGISTER, "registerUser"),
            Kind::Prime => (START_PRIME, "startPrime"),
            Kind::Publish => (PUBLISH, "publishPost"),
            Kind::Smile => (SMILE, "smile"),
            Kind::Comment => (COMMENT, "comment"),
            Kind::Buy => (BUY, "buy"),
        }
    }
}

/// Where a mutation's event is counted in the log: its type and its owner (the actor, or
/// the stream where one stream per thing is the rule). A retry that wrote again shows as
/// one event too many under its slot.
pub(crate) type Slot = (&'static str, String);

pub(crate) fn slot(kind: Kind, member: &str) -> Slot {
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
pub(crate) fn event_slot(event_type: &str, stream: &str, actor: String) -> Option<Slot> {
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
    pub(crate) member: String,
    /// The key it was answered for.
    pub(crate) key: String,
    pub(crate) position: u64,
    /// What it created or touched: the user, the post (`Publish`, `Smile`), the comment,
    /// the order.
    pub(crate) id: String,
    /// The post it acted on (`Smile`, `Comment`, `Buy`).
    pub(crate) post: Option<String>,
}

impl Acked {
    /// A mutation of `kind` by `member` under `key` (on `post`), not answered yet.
    fn new(kind: Kind, member: &str, key: String, post: Option<String>) -> Self {
        Self {
            kind,
            member: member.to_owned(),
            key,
            position: 0,
            id: String::new(),
            post,
        }
    }

    /// What names it among all the others.
    pub(crate) fn name(&self) -> String {
        format!("{}'s {:?} {}", self.member, self.kind, self.key)
    }

    /// The type and stream of the event at its position.
    pub(crate) fn expected(&self) -> (&'static str, String) {
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
    /// When every loop gives up.
    pub(crate) deadline: Instant,
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
        // Answered, the slot stays in flight until `settle` takes it out: a snapshot taken
        // between an answer and its acknowledgement must see the write as one or the other.
        if answered.is_err() {
            self.ledger().pending.remove(&c);
        }
        answered
    }

    /// Takes client `c`'s slot out of flight and, when it was answered, notes it
    /// acknowledged, under one lock.
    fn settle(&self, c: usize, acked: Option<Acked>, retried: bool) {
        let mut ledger = self.ledger();
        ledger.pending.remove(&c);
        ledger.retried += u64::from(retried);
        ledger.acked.extend(acked);
    }

    /// Sends the mutation `acked` stands for, with `variables`, until it is answered (see
    /// [`World::send`]), and notes it acknowledged: at the answer's position, with the id
    /// `id` reads from the answer. Answers the answer.
    async fn mutate(
        &self,
        c: usize,
        conn: &mut Conn,
        mut acked: Acked,
        variables: Value,
        id: impl FnOnce(&Value) -> Result<String, String>,
    ) -> Result<Value, String> {
        let (query, field) = acked.kind.mutation();
        let slot = slot(acked.kind, &acked.member);
        let (data, retried) = self.send(c, conn, slot, query, variables).await?;
        let answer = &data[field];
        acked.id = match id(answer) {
            Ok(id) => id,
            Err(e) => {
                self.settle(c, None, false);
                return Err(e);
            }
        };
        if acked.kind == Kind::Register {
            // The new member, known from the answer.
            acked.member.clone_from(&acked.id);
        }
        acked.position = match position(&answer["position"]) {
            Ok(at) => at,
            Err(e) => {
                self.settle(c, None, false);
                return Err(e);
            }
        };
        self.settle(c, Some(acked), retried);
        Ok(answer.clone())
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

    let key = format!("chaos-registration-{c:04}-{seed:016x}");
    let handle = format!("chaos_{c:03}");
    let variables = json!({ "h": handle, "k": key });
    let register = Acked::new(Kind::Register, "", key, None);
    let answer = world
        .mutate(c, &mut Conn::new(None), register, variables, |a| {
            let user = text(&a["user"]["id"], "user id")?;
            let token = text(&a["token"], "token")?;
            // Before the acknowledgement: a check that sees the member has its token.
            world.ledger().tokens.insert(user.clone(), token);
            Ok(user)
        })
        .await?;
    let user = text(&answer["user"]["id"], "user id")?;
    let mut me = Conn::new(Some(text(&answer["token"], "token")?));

    let mut admin = Conn::new(Some(world.admin.clone()));
    let key = format!("prime-{user}");
    let variables = json!({ "u": user, "k": key });
    let prime = Acked::new(Kind::Prime, &user, key, None);
    world
        .mutate(c, &mut admin, prime, variables, |_| Ok(user.clone()))
        .await?;

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
                let variables = json!({ "p": post, "k": key });
                let smile = Acked::new(Kind::Smile, &user, key, Some(post.clone()));
                world
                    .mutate(c, &mut me, smile, variables, |_| Ok(post.clone()))
                    .await?;
                smiled.insert(post);
            }
            Some((post, _)) if (25..70).contains(&roll) => {
                let words = format!("client {c} says {n}");
                let variables = json!({ "p": post, "t": words, "k": key });
                let comment = Acked::new(Kind::Comment, &user, key, Some(post));
                world
                    .mutate(c, &mut me, comment, variables, |a| {
                        text(&a["comment"]["id"], "comment id")
                    })
                    .await?;
            }
            Some((post, asin)) if roll >= 70 => {
                let input = json!({
                    "postId": post,
                    "asin": asin,
                    "quantity": 1 + rng.below(3),
                    "idempotencyKey": key,
                });
                let buy = Acked::new(Kind::Buy, &user, key.clone(), Some(post));
                let answer = world
                    .mutate(c, &mut me, buy, json!({ "input": input }), |a| {
                        let order = text(&a["order"]["id"], "order id")?;
                        let buyer = UserId::parse(&user).map_err(|e| e.to_string())?;
                        let expected = order_id(&buyer, &key);
                        if order != expected {
                            return Err(format!("order {order} of key {key} is not {expected}"));
                        }
                        Ok(order)
                    })
                    .await?;
                if answer["deduplicated"] == json!(true) {
                    world.ledger().deduplicated += 1;
                }
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
                let publish = Acked::new(Kind::Publish, &user, key, None);
                let answer = world
                    .mutate(c, &mut me, publish, json!({ "input": input }), |a| {
                        text(&a["post"]["id"], "post id")
                    })
                    .await?;
                let post = text(&answer["post"]["id"], "post id")?;
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
