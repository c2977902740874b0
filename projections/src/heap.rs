//! [`HeapSize`]: what a row held decoded owns on the heap, counted again at every change.
//!
//! A replay holds the rows it changes in place ([`crate::store::Rows::change`]) decoded
//! across many events, in a buffer bounded by what those rows are counted at. A row
//! counted once, when first decoded, is under-counted from then on if it grows: a
//! member's signals start empty and come to hundreds of ids, a post's stats list up to
//! 32 members, a member's unfolded engagements up to 16 posts.

use std::mem::size_of;

use sparkfeed_domain::events::{FeedMode, FeedTarget};
use sparkfeed_domain::{Asin, CommentId, InterestSlug, PostId, UserId};

/// A value that may own memory on the heap.
pub trait HeapSize {
    /// About how many bytes it owns on the heap, beside its own `size_of`. Called after
    /// every change of a row held decoded, so it reads lengths and walks at most the
    /// row's own bounded lists.
    fn heap_size(&self) -> usize;
}

/// What a row held decoded takes: itself and what it owns.
pub fn held<T: HeapSize>(row: &T) -> usize {
    size_of::<T>() + row.heap_size()
}

/// What the allocator takes for a heap block of `bytes`: rounded up to its size classes
/// (16 bytes apart for the small blocks rows own); nothing for an empty one, which is
/// never allocated.
pub fn heap_block(bytes: usize) -> usize {
    bytes.next_multiple_of(16)
}

/// What a text (an id, a slug) owns.
pub fn heap_text(text: &str) -> usize {
    heap_block(text.len())
}

impl<T: HeapSize> HeapSize for Vec<T> {
    /// The block of its capacity, and what each element owns.
    fn heap_size(&self) -> usize {
        heap_block(self.capacity() * size_of::<T>()) + self.iter().map(T::heap_size).sum::<usize>()
    }
}

/// Types that own nothing on the heap.
macro_rules! heap_free {
    ($($t:ty),+ $(,)?) => {
        $(impl $crate::heap::HeapSize for $t {
            fn heap_size(&self) -> usize {
                0
            }
        })+
    };
}
pub(crate) use heap_free;

heap_free!(
    bool,
    u32,
    u64,
    i64,
    f32,
    FeedMode,
    sparkfeed_events::Position
);

/// Ids and slugs: their text.
macro_rules! text {
    ($($t:ty),+ $(,)?) => {
        $(impl HeapSize for $t {
            fn heap_size(&self) -> usize {
                heap_text(self.as_str())
            }
        })+
    };
}

text!(UserId, PostId, CommentId, Asin, InterestSlug);

impl HeapSize for FeedTarget {
    fn heap_size(&self) -> usize {
        match self {
            FeedTarget::Post(post) => post.heap_size(),
            FeedTarget::Author(author) => author.heap_size(),
            FeedTarget::Product(asin) => asin.heap_size(),
            FeedTarget::Interest(interest) => interest.heap_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heap_block_is_rounded_to_a_size_class_and_an_empty_one_is_nothing() {
        assert_eq!(heap_block(0), 0);
        assert_eq!(heap_block(1), 16);
        assert_eq!(heap_block(36), 48);
        assert_eq!(heap_text(""), 0);
        assert_eq!(Vec::<u64>::with_capacity(4).heap_size(), 32);
    }

    #[test]
    fn a_list_of_ids_counts_its_block_and_every_id_text() {
        let posts: Vec<PostId> = (0..3).map(|_| PostId::generate()).collect();
        let texts: usize = posts.iter().map(|p| heap_block(p.as_str().len())).sum();
        assert!(texts >= 3 * 16, "every id owns a block");
        assert_eq!(
            posts.heap_size(),
            heap_block(posts.capacity() * size_of::<PostId>()) + texts
        );
        assert_eq!(held(&posts), size_of::<Vec<PostId>>() + posts.heap_size());
    }
}
