//! Parsed query documents by query text: a frontend sends the same few documents over and
//! over, and parsing one (pest) cost about a fourteenth of a feed page's CPU.
//!
//! Only documents that parsed are kept; a document that does not parse is left to the
//! executor, which answers `GRAPHQL_PARSE_FAILED` as before. Validation still runs on
//! every request (it depends on the variables and the schema's limits, not only the text).
//!
//! Each thread has its own copy of a document: a document's names are reference-counted,
//! and one copy shared by both cores made every field resolution bounce its counter
//! between them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::parser::types::ExecutableDocument;

/// At most this many documents are kept per thread slot; beyond it the slot starts over,
/// so hostile clients sending ever new documents cost parsing, never memory.
const MAX_DOCUMENTS: usize = 128;

/// Thread slots: threads beyond this many share slots (still correct, only slower).
const SLOTS: usize = 8;

static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SLOT: usize = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS;
}

type Documents = Mutex<HashMap<Box<str>, ExecutableDocument>>;

/// Parsed documents by their exact text, one copy per thread slot.
#[derive(Default)]
pub struct DocumentCache {
    slots: [Documents; SLOTS],
}

impl DocumentCache {
    /// The parsed document of `query`, parsing (and keeping) it the first time; `None`
    /// when it does not parse.
    pub fn parse(&self, query: &str) -> Option<ExecutableDocument> {
        let slot = &self.slots[SLOT.with(|slot| *slot)];
        if let Some(document) = slot.lock().unwrap_or_else(|p| p.into_inner()).get(query) {
            return Some(document.clone());
        }
        let document = async_graphql::parser::parse_query(query).ok()?;
        let mut parsed = slot.lock().unwrap_or_else(|p| p.into_inner());
        if parsed.len() >= MAX_DOCUMENTS {
            parsed.clear();
        }
        parsed.insert(query.into(), document.clone());
        Some(document)
    }

    /// Documents held.
    pub fn len(&self) -> usize {
        self.slots
            .iter()
            .map(|slot| slot.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_parsed_once_and_answered_again_equal() {
        let cache = DocumentCache::default();
        let query = "query($i: String!) { feed(interest: $i) { edges { cursor } } }";
        let first = cache.parse(query).expect("parses");
        let again = cache.parse(query).expect("cached");
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_document_that_does_not_parse_is_not_kept() {
        let cache = DocumentCache::default();
        assert!(cache.parse("{ feed(").is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = DocumentCache::default();
        for n in 0..MAX_DOCUMENTS + 10 {
            cache.parse(&format!("{{ f{n} }}")).expect("parses");
        }
        assert!(cache.len() <= MAX_DOCUMENTS, "one thread uses one slot");
    }
}
