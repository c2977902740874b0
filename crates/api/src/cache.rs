//! A short-lived cache of query answers, so a popular feed page is rendered once per
//! interval rather than once per reader.
//!
//! An answer is kept for `ttl` under the exact request body and the reader's identity, with
//! the position the projections had applied when it was rendered. It is served only while
//! it is younger than `ttl` and, for a signed-in reader, only if it was rendered after
//! everything that reader wrote: a member always reads their own writes; what others
//! wrote shows up within `ttl` (the read side is eventually consistent anyway).
//!
//! Invariants: only answers of documents holding nothing but queries, and without errors,
//! are kept; mutations and subscriptions are never served from here.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use sparkfeed_domain::UserId;
use sparkfeed_events::Position;

/// Request bodies above this size are not cached (they are rare and would bloat the map).
const MAX_KEY_BYTES: usize = 4 * 1024;
/// Answers above this size are not cached.
const MAX_ANSWER_BYTES: usize = 512 * 1024;
/// Beyond this many answers the cache starts over.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    answer: Bytes,
    rendered: Instant,
    applied: Position,
}

type Key = (Bytes, Option<UserId>);

/// Cached answers, and each member's last write.
pub struct ResponseCache {
    ttl: Duration,
    entries: RwLock<HashMap<Key, Entry>>,
    /// The position after each member's last write through this server.
    writes: RwLock<HashMap<UserId, Position>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ResponseCache {
    /// A cache keeping answers for `ttl` (zero: keeps nothing).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::default(),
            writes: RwLock::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Drops every kept answer: after a member is forgotten, no answer rendered while their
    /// key still opened their handle or captions may be served again.
    pub fn forget_all(&self) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The cached answer to `body` for `viewer`, if fresh and not older than their writes.
    pub fn get(&self, body: &Bytes, viewer: Option<&UserId>) -> Option<Bytes> {
        if !self.enabled() || body.len() > MAX_KEY_BYTES {
            return None;
        }
        let key = (body.clone(), viewer.cloned());
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let found = entries.get(&key).filter(|e| {
            e.rendered.elapsed() < self.ttl
                && viewer.is_none_or(|v| {
                    self.writes
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(v)
                        .is_none_or(|wrote| e.applied >= *wrote)
                })
        });
        match found {
            Some(e) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(e.answer.clone())
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Keeps `answer` to the query-only document `body` for `viewer`, rendered from
    /// projections that had applied everything before `applied`.
    pub fn put(&self, body: Bytes, viewer: Option<UserId>, applied: Position, answer: Bytes) {
        if !self.enabled() || body.len() > MAX_KEY_BYTES || answer.len() > MAX_ANSWER_BYTES {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, e| e.rendered.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            (body, viewer),
            Entry {
                answer,
                rendered: Instant::now(),
                applied,
            },
        );
    }

    /// Records that `user` wrote the event at `position`: their reads must reflect it.
    pub fn wrote(&self, user: &UserId, position: Position) {
        if !self.enabled() {
            return;
        }
        let next = position.next();
        let mut writes = self.writes.write().unwrap_or_else(|p| p.into_inner());
        let at = writes.entry(user.clone()).or_insert(next);
        *at = (*at).max(next);
    }

    /// (hits, misses) so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

/// Whether `query` holds only query operations (no mutation, no subscription).
pub fn only_queries(query: &str) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    match &document.operations {
        DocumentOperations::Single(op) => op.node.ty == OperationType::Query,
        DocumentOperations::Multiple(ops) => {
            ops.values().all(|op| op.node.ty == OperationType::Query)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> UserId {
        UserId::parse(id).expect("id")
    }

    #[test]
    fn a_member_never_reads_an_answer_older_than_their_own_write() {
        let cache = ResponseCache::new(Duration::from_secs(60));
        let body = Bytes::from_static(b"{\"query\":\"{ viewer { id } }\"}");
        cache.put(
            body.clone(),
            Some(user("u1")),
            Position(10),
            Bytes::from_static(b"old"),
        );
        cache.put(
            body.clone(),
            None,
            Position(10),
            Bytes::from_static(b"public"),
        );
        assert_eq!(
            cache.get(&body, Some(&user("u1"))).as_deref(),
            Some(&b"old"[..])
        );
        cache.wrote(&user("u1"), Position(10));
        assert_eq!(
            cache.get(&body, Some(&user("u1"))),
            None,
            "rendered before the write"
        );
        assert_eq!(cache.get(&body, None).as_deref(), Some(&b"public"[..]));
        cache.put(
            body.clone(),
            Some(user("u1")),
            Position(11),
            Bytes::from_static(b"new"),
        );
        assert_eq!(
            cache.get(&body, Some(&user("u1"))).as_deref(),
            Some(&b"new"[..])
        );
        assert_eq!(
            cache.get(&body, Some(&user("u2"))),
            None,
            "answers are per reader"
        );
    }

    #[test]
    fn nothing_is_kept_with_a_zero_ttl_and_nothing_outlives_the_ttl() {
        let off = ResponseCache::new(Duration::ZERO);
        let body = Bytes::from_static(b"{}");
        off.put(body.clone(), None, Position(1), Bytes::from_static(b"x"));
        assert_eq!(off.get(&body, None), None);
        let short = ResponseCache::new(Duration::from_nanos(1));
        short.put(body.clone(), None, Position(1), Bytes::from_static(b"x"));
        std::thread::yield_now();
        assert_eq!(short.get(&body, None), None);
    }

    #[test]
    fn only_query_documents_are_cacheable() {
        assert!(only_queries("{ viewer { id } }"));
        assert!(only_queries(
            "query A { viewer { id } } query B { interests { edges { cursor } } }"
        ));
        assert!(!only_queries(
            "mutation { smile(postId: \"p\") { position } }"
        ));
        assert!(!only_queries("query A { viewer { id } } mutation B { x }"));
        assert!(!only_queries(
            "subscription { feedUpdates(interest: \"x\") { id } }"
        ));
        assert!(!only_queries("{ not graphql"));
    }
}
