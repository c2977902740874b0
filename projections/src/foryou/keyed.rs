//! [`KeyedList`]: a list in a member's signals that is searched by key at every engagement.

use std::hash::{BuildHasher, Hash};
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sparkfeed_domain::{PostId, UserId};

use super::rows::Affinity;
use crate::heap::HeapSize;

/// An entry of a [`KeyedList`]: what it is found by.
pub trait Keyed {
    /// The key.
    type Key: Hash + PartialEq;
    /// This entry's key.
    fn key(&self) -> &Self::Key;
}

impl<K: Hash + PartialEq> Keyed for Affinity<K> {
    type Key = K;
    fn key(&self) -> &K {
        &self.key
    }
}

impl Keyed for PostId {
    type Key = PostId;
    fn key(&self) -> &PostId {
        self
    }
}

impl Keyed for UserId {
    type Key = UserId;
    fn key(&self) -> &UserId {
        self
    }
}

/// A list searched by its entries' keys, with a fingerprint of each key kept beside it.
///
/// Every engagement searches the member's affinities (up to 64 each of authors, interests
/// and products) and their last 100 posts. Comparing keys one by one follows every
/// entry's text to the heap: one cache miss an entry once the members' rows outgrow the
/// CPU's caches, which was more than half of the `foryou` rebuild's applying thread
/// (BENCHMARKS.md). A search reads the fingerprints instead (8 bytes an entry, side by
/// side) and compares the text only of an entry whose fingerprint matches.
///
/// Stored as the list alone, byte for byte what a `Vec` of the entries is: the fingerprints
/// are made again, on the first search after the row is decoded (reading a row to rank a
/// feed never pays for them).
///
/// Invariant: `prints` is either empty (not made yet) or holds, at every index, the
/// fingerprint of the key of the entry at that index of `entries`. Every change keeps it
/// so: the one change that reaches an entry ([`KeyedList::update`]) makes its fingerprint
/// again.
#[derive(Clone, Debug)]
pub struct KeyedList<T> {
    entries: Vec<T>,
    prints: Vec<u64>,
}

/// The fingerprints' hash: fixed, so one process always makes the same (they are never
/// stored, so it need not be the same across versions).
const PRINTS: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x5ba7_f33d);

fn print<K: Hash>(key: &K) -> u64 {
    PRINTS.hash_one(key)
}

impl<T: HeapSize> HeapSize for KeyedList<T> {
    fn heap_size(&self) -> usize {
        self.entries.heap_size() + self.prints.heap_size()
    }
}

impl<T> Default for KeyedList<T> {
    fn default() -> Self {
        KeyedList {
            entries: Vec::new(),
            prints: Vec::new(),
        }
    }
}

impl<T: Keyed> KeyedList<T> {
    /// Makes the fingerprints if they are not made yet.
    fn make_prints(&mut self) {
        if self.prints.len() != self.entries.len() {
            // Room for the push that usually follows a search.
            let mut prints = Vec::with_capacity(self.entries.len() + 1);
            prints.extend(self.entries.iter().map(|e| print(e.key())));
            self.prints = prints;
        }
    }

    /// The index of the first entry whose key is `key`.
    pub fn position(&mut self, key: &T::Key) -> Option<usize> {
        let wanted = print(key);
        self.make_prints();
        self.prints
            .iter()
            .zip(&self.entries)
            .position(|(p, e)| *p == wanted && e.key() == key)
    }

    /// Changes the first entry whose key is `key` with `change`; answers whether there was
    /// one. Its fingerprint is made again afterwards, so a change that reaches the key
    /// cannot leave it stale.
    pub fn update(&mut self, key: &T::Key, change: impl FnOnce(&mut T)) -> bool {
        let Some(i) = self.position(key) else {
            return false;
        };
        let (Some(entry), Some(print_of)) = (self.entries.get_mut(i), self.prints.get_mut(i))
        else {
            return false;
        };
        change(entry);
        *print_of = print(entry.key());
        true
    }

    /// Adds `entry` at the end.
    pub fn push(&mut self, entry: T) {
        if self.prints.len() == self.entries.len() {
            self.prints.push(print(entry.key()));
        }
        self.entries.push(entry);
    }

    /// Removes every entry whose key is `key`; the others keep their order.
    pub fn remove_key(&mut self, key: &T::Key) {
        let wanted = print(key);
        self.keep_where(|p, e| p != wanted || e.key() != key);
    }

    /// Keeps only the entries for which `keep` is true, in their order.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.keep_where(|_, e| keep(e));
    }

    /// Keeps only the entries for which `keep(fingerprint, entry)` is true, in their order:
    /// from the first entry removed on, each kept entry (and its fingerprint) is swapped
    /// down past the removed ones before it, then the removed ones are cut off the end.
    /// Nothing moves when nothing is removed (a post engaged with for the first time).
    fn keep_where(&mut self, mut keep: impl FnMut(u64, &T) -> bool) {
        self.make_prints();
        let Some(first) = self
            .prints
            .iter()
            .zip(&self.entries)
            .position(|(p, e)| !keep(*p, e))
        else {
            return;
        };
        let mut kept = first;
        for i in first + 1..self.entries.len() {
            if keep(self.prints[i], &self.entries[i]) {
                self.entries.swap(kept, i);
                self.prints.swap(kept, i);
                kept += 1;
            }
        }
        self.entries.truncate(kept);
        self.prints.truncate(kept);
    }

    /// Removes the entry at `index`, if there is one.
    pub fn remove(&mut self, index: usize) {
        if index < self.entries.len() {
            self.entries.remove(index);
            if self.prints.len() > index {
                self.prints.remove(index);
            }
        }
    }

    /// Keeps the last `max` entries.
    pub fn keep_last(&mut self, max: usize) {
        if self.entries.len() > max {
            let excess = self.entries.len() - max;
            self.entries.drain(..excess);
            if self.prints.len() >= excess {
                self.prints.drain(..excess);
            }
        }
    }
}

impl<T> Deref for KeyedList<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.entries
    }
}

impl<'a, T> IntoIterator for &'a KeyedList<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// Equal when the entries are: the fingerprints follow from them.
impl<T: PartialEq> PartialEq for KeyedList<T> {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl<T: Serialize> Serialize for KeyedList<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for KeyedList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(deserializer).map(|entries| KeyedList {
            entries,
            prints: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    //! A keyed list does what a `Vec` searched entry by entry did, and is stored as that
    //! `Vec` was, whether its fingerprints are made or not.

    use proptest::prelude::*;

    use super::*;
    use crate::foryou::rows::Engagement;
    use crate::store::{decode, encode};

    #[derive(Clone, Debug)]
    enum Op {
        /// An entry with key number n at the end.
        Push(u8),
        /// Every entry with key number n gone.
        RemoveKey(u8),
        /// The entry with key number n found and its weight raised.
        Raise(u8),
        /// The entry with key number n given key number m (a change that reaches the key).
        Rekey(u8, u8),
        /// The entries of weight below w gone.
        RetainHeavierThan(u8),
        /// The entry at an index gone.
        Remove(usize),
        /// Only the last n kept.
        KeepLast(usize),
        /// Written and read back, as a row is (the fingerprints are made again).
        RoundTrip,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..12).prop_map(Op::Push),
            2 => (0u8..12).prop_map(Op::RemoveKey),
            4 => (0u8..12).prop_map(Op::Raise),
            1 => (0u8..12, 0u8..12).prop_map(|(n, m)| Op::Rekey(n, m)),
            1 => (0u8..4).prop_map(Op::RetainHeavierThan),
            1 => (0usize..16).prop_map(Op::Remove),
            1 => (0usize..10).prop_map(Op::KeepLast),
            2 => Just(Op::RoundTrip),
        ]
    }

    fn entry(n: u8) -> Affinity<PostId> {
        let id = |text: String| PostId::parse(&text).expect("a valid post id");
        Affinity {
            key: id(format!("p{n:016x}")),
            weight: 1.0,
            via: Engagement::Smiled,
            post: id(format!("p{:016x}", 255 - n)),
        }
    }

    proptest! {
        #[test]
        fn a_keyed_list_changes_and_encodes_as_a_vec_searched_entry_by_entry(
            ops in proptest::collection::vec(op(), 1..80)
        ) {
            let mut model: Vec<Affinity<PostId>> = Vec::new();
            let mut list = KeyedList::default();
            for op in ops {
                match op {
                    Op::Push(n) => {
                        model.push(entry(n));
                        list.push(entry(n));
                    }
                    Op::RemoveKey(n) => {
                        let key = entry(n).key;
                        model.retain(|e| e.key != key);
                        list.remove_key(&key);
                    }
                    Op::Raise(n) => {
                        let key = entry(n).key;
                        let expected = model.iter().position(|e| e.key == key);
                        prop_assert_eq!(list.position(&key), expected);
                        if let Some(e) = model.iter_mut().find(|e| e.key == key) {
                            e.weight += 1.0;
                        }
                        let found = list.update(&key, |e| e.weight += 1.0);
                        prop_assert_eq!(found, expected.is_some());
                    }
                    Op::Rekey(n, m) => {
                        let (key, new_key) = (entry(n).key, entry(m).key);
                        if let Some(e) = model.iter_mut().find(|e| e.key == key) {
                            e.key = new_key.clone();
                        }
                        list.update(&key, |e| e.key = new_key);
                    }
                    Op::RetainHeavierThan(w) => {
                        let w = f32::from(w);
                        model.retain(|e| e.weight > w);
                        list.retain(|e| e.weight > w);
                    }
                    Op::Remove(i) => {
                        if i < model.len() {
                            model.remove(i);
                        }
                        list.remove(i);
                    }
                    Op::KeepLast(max) => {
                        let excess = model.len().saturating_sub(max);
                        model.drain(..excess);
                        list.keep_last(max);
                    }
                    Op::RoundTrip => {
                        let bytes = encode(&list).expect("encodes");
                        prop_assert_eq!(&bytes, &encode(&model).expect("encodes"));
                        list = decode(&bytes).expect("decodes");
                    }
                }
                prop_assert_eq!(&*list, model.as_slice());
                prop_assert!(list.prints.is_empty() || list.prints.len() == list.entries.len());
                for (p, e) in list.prints.iter().zip(list.entries.iter()) {
                    prop_assert_eq!(*p, print(&e.key));
                }
            }
        }
    }
}
