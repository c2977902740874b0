//! Privacy by construction: personal data is sealed with a per-member key kept outside
//! the log.
//!
//! Events carry [`Sealed`] values (ChaCha20-Poly1305, the owner's id as associated data),
//! never the plain text of a handle, a name, a caption, a comment or a media URL. The keys
//! live in the [`KeyStore`], a separate sled store beside the log. Forgetting a member
//! destroys their key: every sealed value of theirs becomes unreadable everywhere, while
//! the log, its hash chain (computed over the sealed bytes) and everything not personal
//! (counts, amounts, contracts) stay intact.
//!
//! Handles must be unique without appearing in a stream name: the reservation stream is
//! `handle-<HMAC-SHA256(pepper, handle)>`, keyed by a secret pepper kept in the key store.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, RwLock};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use sparkfeed_events::StreamName;

use crate::{Failure, Handle, UserId};

/// A value only its owner's key opens.
///
/// Invariant: a human-readable serializer (JSON: the `events` query, the export) gets
/// `{"sealed": owner}` and never the ciphertext, which means nothing to a reader; a binary
/// one (bincode: the log) gets every field, in the order of the derived form it replaced.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
pub struct Sealed {
    /// Whose key sealed it.
    pub owner: UserId,
    /// The AEAD nonce, random per value.
    pub nonce: [u8; 12],
    /// The ciphertext with its tag.
    pub ciphertext: Vec<u8>,
}

impl Serialize for Sealed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        if serializer.is_human_readable() {
            let mut shown = serializer.serialize_struct("Sealed", 1)?;
            shown.serialize_field("sealed", &self.owner)?;
            shown.end()
        } else {
            let mut stored = serializer.serialize_struct("Sealed", 3)?;
            stored.serialize_field("owner", &self.owner)?;
            stored.serialize_field("nonce", &self.nonce)?;
            stored.serialize_field("ciphertext", &self.ciphertext)?;
            stored.end()
        }
    }
}

const PEPPER_KEY: &[u8] = b"!pepper";

/// Where the keys of a cluster live when several API nodes share one log: every node's
/// [`KeyStore`] keeps its own store as a cache of it. `sparkfeed-jetstream` keeps them in
/// a replicated JetStream key-value bucket.
///
/// Names are `pepper`, `key.<user>` and `forgotten.<user>`.
pub trait SharedKeys: Send + Sync {
    /// The value under `name`, if the cluster has one.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, Failure>;
    /// Stores `value` under `name` unless the cluster has a value there already; answers the
    /// value the cluster keeps (ours, or the one another node stored first).
    fn create(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, Failure>;
    /// Destroys the value under `key` for good, on every replica, and stores a marker under
    /// `marker`.
    fn destroy(&self, key: &str, marker: &str) -> Result<(), Failure>;
}

/// The members' keys, kept outside the log.
///
/// Invariant: with [`SharedKeys`], a key is in the cluster before anything sealed with it
/// is appended (created there first, or found there), so any node that reads the value can
/// find its key; a forgotten member's key is destroyed in the cluster before here.
pub struct KeyStore {
    db: sled::Db,
    data: Option<File>,
    pepper: [u8; 32],
    shared: Option<Arc<dyn SharedKeys>>,
    /// Values opened recently, by owner and nonce: a feed page opens the same captions and
    /// handles over and over, and a decryption with its key schedule costs more than the
    /// rest of a card. Invariant: `forget` empties an owner's entries before it returns.
    opened: [RwLock<OpenedValues>; OPENED_SHARDS],
}

/// Plaintexts by nonce, with their owner. Nonces are random, so their own bytes are the
/// hash; a hit counts only when the owner matches too.
type OpenedValues = HashMap<[u8; 12], (UserId, Arc<str>), BuildNonceHasher>;

/// Hashes a nonce by folding its (already random) bytes: no SipHash rounds on the read path
/// of every caption and handle of a feed page.
#[derive(Clone, Copy, Default)]
struct BuildNonceHasher;

#[derive(Default)]
struct NonceHasher(u64);

impl std::hash::BuildHasher for BuildNonceHasher {
    type Hasher = NonceHasher;

    fn build_hasher(&self) -> NonceHasher {
        NonceHasher::default()
    }
}

impl std::hash::Hasher for NonceHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// The opened values are split by nonce over this many locks, so the two cores reading one
/// feed page do not bounce one lock's cache line between them.
const OPENED_SHARDS: usize = 16;

/// Beyond this many opened values (per shard) the shard starts over.
const MAX_OPENED: usize = 200_000 / OPENED_SHARDS;

fn keys_err(e: impl std::fmt::Display) -> Failure {
    Failure::Keys(e.to_string())
}

fn random<const N: usize>() -> Result<[u8; N], Failure> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(keys_err)?;
    Ok(bytes)
}

impl KeyStore {
    /// Opens (or creates) the key store in `dir`.
    ///
    /// The directory and sled's files in it are made durable before any key is written:
    /// syncing the data file alone left their names to chance, and a power cut took the
    /// whole store away (every member's sealed data with it; the power-cut test of the
    /// server showed it).
    pub fn open(dir: &Path) -> Result<Self, Failure> {
        sparkfeed_eventlog::durable::create_dir_all_durably(dir).map_err(keys_err)?;
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(8 * 1024 * 1024);
        let db = sparkfeed_eventlog::sled_lock::open(&config, dir).map_err(keys_err)?;
        sparkfeed_eventlog::durable::sync_dir(dir).map_err(keys_err)?;
        let data = File::open(dir.join("db")).map_err(keys_err)?;
        Self::with_db(db, Some(data))
    }

    /// A key store that lives only as long as this value (for tests and benchmarks).
    pub fn temporary() -> Result<Self, Failure> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(keys_err)?;
        Self::with_db(db, None)
    }

    fn with_db(db: sled::Db, data: Option<File>) -> Result<Self, Failure> {
        let mut store = Self {
            db,
            data,
            pepper: [0; 32],
            shared: None,
            opened: std::array::from_fn(|_| RwLock::default()),
        };
        store.pepper = match store.db.get(PEPPER_KEY).map_err(keys_err)? {
            Some(p) => p
                .as_ref()
                .try_into()
                .map_err(|_| Failure::Keys("malformed pepper".into()))?,
            None => {
                let pepper = random::<32>()?;
                store.db.insert(PEPPER_KEY, &pepper).map_err(keys_err)?;
                store.sync()?;
                pepper
            }
        };
        Ok(store)
    }

    /// This store as a node's cache of the cluster's keys: the cluster's pepper replaces a
    /// local one (a node's own pepper would name handles differently from the others'), and
    /// keys missing here are looked up there.
    pub fn shared_with(mut self, shared: Arc<dyn SharedKeys>) -> Result<Self, Failure> {
        let pepper = shared.create("pepper", &self.pepper)?;
        self.pepper = pepper
            .as_slice()
            .try_into()
            .map_err(|_| Failure::Keys("the cluster's pepper is malformed".into()))?;
        self.db.insert(PEPPER_KEY, &self.pepper).map_err(keys_err)?;
        self.sync()?;
        self.shared = Some(shared);
        Ok(self)
    }

    /// Keys must be on stable storage before anything sealed with them is acknowledged.
    fn sync(&self) -> Result<(), Failure> {
        self.db.flush().map_err(keys_err)?;
        if let Some(data) = &self.data {
            data.sync_data().map_err(keys_err)?;
        }
        Ok(())
    }

    fn key(&self, owner: &UserId, create: bool) -> Result<Option<[u8; 32]>, Failure> {
        let id = owner.as_str().as_bytes();
        if let Some(key) = self.db.get(id).map_err(keys_err)? {
            return key
                .as_ref()
                .try_into()
                .map(Some)
                .map_err(|_| Failure::Keys(format!("malformed key of {owner}")));
        }
        if self.is_forgotten(owner)? {
            return Ok(None);
        }
        let key = match &self.shared {
            Some(shared) => {
                let name = format!("key.{owner}");
                let found = match shared.get(&name)? {
                    Some(found) => found,
                    None if create => shared.create(&name, &random::<32>()?)?,
                    None => return Ok(None),
                };
                <[u8; 32]>::try_from(found.as_slice())
                    .map_err(|_| Failure::Keys(format!("malformed key of {owner}")))?
            }
            None if create => random::<32>()?,
            None => return Ok(None),
        };
        self.db.insert(id, &key).map_err(keys_err)?;
        self.sync()?;
        Ok(Some(key))
    }

    /// Seals `text` with `owner`'s key (created on first use).
    pub fn seal(&self, owner: &UserId, text: &str) -> Result<Sealed, Failure> {
        let key = self.key(owner, true)?.ok_or_else(|| {
            Failure::Keys(format!(
                "{owner} was forgotten; nothing new is sealed for them"
            ))
        })?;
        let nonce = random::<12>()?;
        let ciphertext = ChaCha20Poly1305::new(Key::from_slice(&key))
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: text.as_bytes(),
                    aad: owner.as_str().as_bytes(),
                },
            )
            .map_err(|_| Failure::Keys("sealing failed".into()))?;
        Ok(Sealed {
            owner: owner.clone(),
            nonce,
            ciphertext,
        })
    }

    /// Opens a sealed value; `None` when its owner was forgotten.
    pub fn unseal(&self, sealed: &Sealed) -> Result<Option<String>, Failure> {
        // Copied under the shard's read lock: cloning the shared text first would bounce
        // its reference count between the cores on every read of a popular post.
        if let Some(text) = self.cached(sealed, |text| text.to_string()) {
            return Ok(Some(text));
        }
        Ok(self.open_shared(sealed)?.map(|text| text.to_string()))
    }

    /// `read` of the opened text of `sealed`, under its shard's read lock, if it is held.
    fn cached<R>(&self, sealed: &Sealed, read: impl FnOnce(&Arc<str>) -> R) -> Option<R> {
        let shard = self.opened[usize::from(sealed.nonce[0]) % OPENED_SHARDS]
            .read()
            .unwrap_or_else(|p| p.into_inner());
        match shard.get(&sealed.nonce) {
            Some((owner, text)) if *owner == sealed.owner => Some(read(text)),
            _ => None,
        }
    }

    /// Opens a sealed value, shared; `None` when its owner was forgotten.
    pub fn open_shared(&self, sealed: &Sealed) -> Result<Option<Arc<str>>, Failure> {
        if let Some(text) = self.cached(sealed, Arc::clone) {
            return Ok(Some(text));
        }
        let shard = &self.opened[usize::from(sealed.nonce[0]) % OPENED_SHARDS];
        let Some(key) = self.key(&sealed.owner, false)? else {
            return Ok(None);
        };
        let plain = ChaCha20Poly1305::new(Key::from_slice(&key))
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: sealed.owner.as_str().as_bytes(),
                },
            )
            .map_err(|_| Failure::Keys(format!("a value of {} does not open", sealed.owner)))?;
        let text: Arc<str> = String::from_utf8(plain)
            .map_err(|_| Failure::Keys("sealed text is not UTF-8".into()))?
            .into();
        let mut opened = shard.write().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock `forget` takes: a key destroyed meanwhile leaves no entry.
        if self.key(&sealed.owner, false)?.is_some() {
            if opened.len() >= MAX_OPENED {
                opened.clear();
            }
            opened.insert(sealed.nonce, (sealed.owner.clone(), Arc::clone(&text)));
        }
        Ok(Some(text))
    }

    /// Whether `owner`'s key was destroyed (here, or in the cluster).
    pub fn is_forgotten(&self, owner: &UserId) -> Result<bool, Failure> {
        if self
            .db
            .contains_key(forgotten_key(owner))
            .map_err(keys_err)?
        {
            return Ok(true);
        }
        // A key held here is not forgotten as far as this node knows: the cluster's watch
        // (`forget_here`) tells it otherwise. Without one, the cluster is asked.
        let Some(shared) = &self.shared else {
            return Ok(false);
        };
        if self
            .db
            .contains_key(owner.as_str().as_bytes())
            .map_err(keys_err)?
        {
            return Ok(false);
        }
        if shared.get(&format!("forgotten.{owner}"))?.is_some() {
            self.forget_here(owner)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Destroys `owner`'s key: everything sealed for them becomes unreadable, in the
    /// cluster first when the keys are shared.
    pub fn forget(&self, owner: &UserId) -> Result<(), Failure> {
        if let Some(shared) = &self.shared {
            shared.destroy(&format!("key.{owner}"), &format!("forgotten.{owner}"))?;
        }
        self.forget_here(owner)
    }

    /// Destroys this node's copy of `owner`'s key, and what it opened with it: what a node
    /// does when the cluster tells it another node forgot them.
    pub fn forget_here(&self, owner: &UserId) -> Result<(), Failure> {
        // Every shard stays locked until the key is gone: an open racing this cannot add
        // an entry after the purge.
        let mut shards: Vec<_> = self
            .opened
            .iter()
            .map(|shard| shard.write().unwrap_or_else(|p| p.into_inner()))
            .collect();
        for opened in &mut shards {
            opened.retain(|_, (o, _)| o != owner);
        }
        self.db
            .remove(owner.as_str().as_bytes())
            .map_err(keys_err)?;
        self.db
            .insert(forgotten_key(owner), &[])
            .map_err(keys_err)?;
        self.sync()
    }

    /// HMAC-SHA256 under the server's pepper of `parts`, each length-prefixed: a digest
    /// no one without the key store can recompute from guesses of what went in.
    pub fn keyed_digest(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.pepper)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        for part in parts {
            mac.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_le_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The stream that reserves `handle`: a keyed hash of it, never the handle itself.
    pub fn handle_stream(&self, handle: &Handle) -> StreamName {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.pepper)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(handle.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        StreamName::of("handle", &hex).unwrap_or_else(|_| unreachable!("hex is a valid id"))
    }
}

fn forgotten_key(owner: &UserId) -> Vec<u8> {
    let mut key = b"!forgotten:".to_vec();
    key.extend_from_slice(owner.as_str().as_bytes());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_is_stored_whole_and_shown_as_its_owner_only() {
        /// The derived form `Sealed` had: the log's bytes must not change.
        #[derive(Serialize)]
        struct Derived {
            owner: UserId,
            nonce: [u8; 12],
            ciphertext: Vec<u8>,
        }
        let sealed = Sealed {
            owner: UserId::parse("uana").expect("valid"),
            nonce: [7; 12],
            ciphertext: vec![1, 2, 3, 250],
        };
        let derived = Derived {
            owner: sealed.owner.clone(),
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext.clone(),
        };
        let stored = bincode::serialize(&sealed).expect("encodes");
        assert_eq!(stored, bincode::serialize(&derived).expect("encodes"));
        assert_eq!(
            bincode::deserialize::<Sealed>(&stored).expect("decodes"),
            sealed
        );
        assert_eq!(
            serde_json::to_string(&sealed).expect("json"),
            r#"{"sealed":"uana"}"#
        );
    }

    #[test]
    fn sealed_text_opens_for_its_owner_until_they_are_forgotten() {
        let keys = KeyStore::temporary().expect("key store");
        let ana = UserId::parse("uana").expect("valid");
        let sealed = keys.seal(&ana, "Ana López").expect("seals");
        assert!(!sealed.ciphertext.windows(3).any(|w| w == b"Ana"));
        assert_eq!(
            keys.unseal(&sealed).expect("opens").as_deref(),
            Some("Ana López")
        );

        let mut moved = sealed.clone();
        moved.owner = UserId::parse("ubob").expect("valid");
        keys.seal(&moved.owner, "bob").expect("bob has a key");
        assert!(
            keys.unseal(&moved).is_err(),
            "a value does not open under another owner"
        );

        keys.forget(&ana).expect("forgets");
        assert_eq!(keys.unseal(&sealed).expect("no error"), None);
        assert!(
            keys.seal(&ana, "again").is_err(),
            "nothing new is sealed for a forgotten member"
        );
    }

    #[test]
    fn handle_streams_hide_the_handle_and_are_stable() {
        let keys = KeyStore::temporary().expect("key store");
        let handle = Handle::parse("Ana.Lopez").expect("valid");
        let stream = keys.handle_stream(&handle);
        assert_eq!(stream.kind(), "handle");
        assert!(!stream.as_str().contains("ana"));
        assert_eq!(
            stream,
            keys.handle_stream(&Handle::parse("ana.lopez").expect("valid"))
        );
    }
}
