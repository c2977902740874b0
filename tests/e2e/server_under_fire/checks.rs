//! The checks: the log against what was acknowledged, each projection against a rebuild
//! from zero, and the read models served over GraphQL against what was acknowledged.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::Path;

use serde_json::{Value, json};
use sparkfeed_eventlog::{Config, EventLog, RecoveryReport};
use sparkfeed_events::Position;
use sparkfeed_projections::Projections;
use sparkfeed_testkit::client::Client;
use sparkfeed_testkit::log::rows;

use super::REQUEST_TIMEOUT;
use super::clients::{Acked, Kind, Slot, event_slot, slot};

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

    pub(crate) fn double(&mut self, what: String, excess: u64, how: String) {
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

    /// Asserts that nothing was lost, duplicated, mismatched or unverified.
    pub(crate) fn assert_whole(&self) {
        assert!(self.lost.is_empty(), "lost: {:#?}", self.lost);
        assert!(
            self.duplicated.is_empty(),
            "duplicated: {:#?}",
            self.duplicated
        );
        assert!(
            self.mismatched.is_empty(),
            "projection mismatches: {:#?}",
            self.mismatched
        );
        assert!(
            self.unverified.is_empty(),
            "verify failures: {:#?}",
            self.unverified
        );
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

/// The posts `ids`, each with the fields `selection`, in one query.
async fn posts(client: &mut Client, ids: &[&str], selection: &str) -> Vec<Value> {
    let fields: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| format!("a{i}: post(id: \"{id}\") {{ {selection} }}"))
        .collect();
    let data = query(client, &format!("{{ {} }}", fields.join(" ")), json!({})).await;
    (0..ids.len())
        .map(|i| data[format!("a{i}")].clone())
        .collect()
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
        member_models(&mut client, member, acks, exact, &mut found).await;
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
        post_counts(&mut client, all, &mut found).await;
    }
    found
}

/// Checks what the member `member` (signed in on `client`) is served against what it had
/// acknowledged (`acks`): its account, handle and Prime, its posts and smiles and its
/// orders; with `exact`, its post count and no order more.
async fn member_models(
    client: &mut Client,
    member: &str,
    acks: &[&Acked],
    exact: bool,
    found: &mut Findings,
) {
    let viewer = query(
        client,
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
        let ids: Vec<&str> = chunk.iter().map(|a| a.id.as_str()).collect();
        let served = posts(client, &ids, "author { id } viewerHasSmiled").await;
        for (a, post) in chunk.iter().zip(&served) {
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
        let served = every_id(client, ORDERS, json!({}), |d| &d["viewer"]["orders"]).await;
        compare(
            &format!("{member}'s orders"),
            &served,
            &orders,
            exact,
            found,
        );
    }
}

/// Checks every post's smile, comment and purchase counts against `all` that was
/// acknowledged.
async fn post_counts(client: &mut Client, all: &[Acked], found: &mut Findings) {
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
        let ids: Vec<&str> = chunk.iter().map(|(p, _)| *p).collect();
        let counts = "smileCount commentCount purchaseCount";
        let cards = posts(client, &ids, counts).await;
        for ((p, [smiles, comments, buys]), post) in chunk.iter().zip(&cards) {
            let served = [
                post["smileCount"].as_u64(),
                post["commentCount"].as_u64(),
                post["purchaseCount"].as_u64(),
            ];
            let acked = [smiles, comments, buys].map(|n| u64::try_from(*n).ok());
            let how =
                format!("smiles, comments, purchases served {served:?}, acknowledged {acked:?}");
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
