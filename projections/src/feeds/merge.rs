//! The k-way merge of newest-first lists: a member's interest feeds merged into one,
//! newest first, each post once with every list it came from. It knows nothing of what
//! a feed should show ([`super::policy`] decides that).

use std::iter::Peekable;

use sparkfeed_domain::{InterestSlug, PostId};
use sparkfeed_events::Position;

use crate::ProjectionError;

/// Entries of one list: each post id with its cursor, newest first.
pub(super) type Entries = dyn Iterator<Item = Result<(Position, PostId), ProjectionError>>;

/// Interest feeds being merged.
pub(super) struct Merge {
    sources: Vec<(InterestSlug, Peekable<Box<Entries>>)>,
}

impl Merge {
    /// Merges `sources`, each an interest's feed from where the page starts.
    pub(super) fn new(sources: Vec<(InterestSlug, Box<Entries>)>) -> Self {
        Self {
            sources: sources
                .into_iter()
                .map(|(interest, entries)| (interest, entries.peekable()))
                .collect(),
        }
    }

    /// The cursor of the newest entry left in any source (the largest position), without
    /// taking it; `None` once every source is done.
    pub(super) fn newest(&mut self) -> Result<Option<Position>, ProjectionError> {
        let mut newest: Option<Position> = None;
        for (_, source) in &mut self.sources {
            match source.peek() {
                Some(Ok((cursor, _))) => newest = Some(newest.map_or(*cursor, |n| n.max(*cursor))),
                Some(Err(_)) => {
                    if let Some(Err(e)) = source.next() {
                        return Err(e);
                    }
                }
                None => {}
            }
        }
        Ok(newest)
    }

    /// Takes the entries at `cursor` (one post, in one or more sources): the post, and
    /// the interests whose feeds held it.
    pub(super) fn take(
        &mut self,
        cursor: Position,
    ) -> Result<Option<(PostId, Vec<InterestSlug>)>, ProjectionError> {
        let mut post: Option<PostId> = None;
        let mut because = Vec::new();
        for (interest, source) in &mut self.sources {
            if matches!(source.peek(), Some(Ok((c, _))) if *c == cursor)
                && let Some(Ok((_, value))) = source.next()
            {
                post = Some(value);
                because.push(interest.clone());
            }
        }
        Ok(post.map(|post| (post, because)))
    }
}
