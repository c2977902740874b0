//! The log's signing key: an Ed25519 key kept in the data directory, readable by its owner
//! only.

use std::fmt;
use std::path::Path;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use sparkfeed_events::Hash;

use crate::check::CheckError;
use crate::head::{SignedTreeHead, signed_message};

/// The key's file in the data directory: the 32-byte seed as hex, mode 0600.
pub const KEY_FILE: &str = "tree-head-key";
/// The public key's file beside it (hex): what to hand to auditors.
pub const PUBLIC_KEY_FILE: &str = "tree-head-key.pub";

/// Why the signing key could not be read or made. Each has a stable code.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read or written. Code `KEY_IO`.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is readable by others than its owner. Code `KEY_TOO_OPEN`.
    #[error("{path} is readable by others (mode {mode:o}); make it 0600")]
    TooOpen {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold 64 hex digits. Code `KEY_MALFORMED`.
    #[error("{path} does not hold an Ed25519 key: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// No randomness to make a key with. Code `KEY_NO_RANDOMNESS`.
    #[error("no randomness for a new key: {0}")]
    NoRandomness(String),
}

impl KeyError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "KEY_IO",
            Self::TooOpen { .. } => "KEY_TOO_OPEN",
            Self::Malformed { .. } => "KEY_MALFORMED",
            Self::NoRandomness(_) => "KEY_NO_RANDOMNESS",
        }
    }
}

/// The log's signing key.
pub struct HeadKey {
    signing: SigningKey,
}

impl fmt::Debug for HeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HeadKey({})", self.public_key())
    }
}

impl HeadKey {
    /// A new random key, held in memory only (tests, and `load_or_create` below).
    ///
    /// # Errors
    /// [`KeyError::NoRandomness`].
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::NoRandomness(e.to_string()))?;
        Ok(Self {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// The data directory's key ([`KEY_FILE`]), made on first use with mode 0600 and its
    /// public half beside it ([`PUBLIC_KEY_FILE`]).
    ///
    /// Invariant: the key file is created with `create_new` and synced (with its
    /// directory) before it is used, so two processes never sign with two keys, and a
    /// power cut never loses a key that signed a head.
    ///
    /// # Errors
    /// A [`KeyError`] when the file cannot be read or made, is open to others, or is not a key.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeyError> {
        match Self::load(data_dir) {
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
            other => return other,
        }
        let key = Self::generate()?;
        match write_new(
            &data_dir.join(KEY_FILE),
            &crate::hex::encode(&key.signing.to_bytes()),
            0o600,
        ) {
            Ok(()) => {}
            // Another process made it first: use theirs.
            Err(KeyError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                return Self::load(data_dir);
            }
            Err(e) => return Err(e),
        }
        let public = data_dir.join(PUBLIC_KEY_FILE);
        std::fs::write(&public, format!("{}\n", key.public_key())).map_err(|e| io(&public, e))?;
        std::fs::File::open(data_dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(data_dir, e))?;
        Ok(key)
    }

    /// The data directory's existing key.
    ///
    /// # Errors
    /// A [`KeyError`]; `KEY_IO` with `NotFound` when there is none.
    pub fn load(data_dir: &Path) -> Result<Self, KeyError> {
        let path = data_dir.join(KEY_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map_err(|e| io(&path, e))?
                .permissions()
                .mode()
                & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::TooOpen {
                    path: path.display().to_string(),
                    mode,
                });
            }
        }
        let seed =
            crate::hex::decode_array::<32>(text.trim()).map_err(|e| KeyError::Malformed {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// The public half, for auditors.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// Signs the head of a tree of `tree_size` records with root `root_hash`, as of
    /// `timestamp_micros`.
    pub fn sign(&self, tree_size: u64, root_hash: Hash, timestamp_micros: i64) -> SignedTreeHead {
        let signature = self
            .signing
            .sign(&signed_message(tree_size, timestamp_micros, &root_hash));
        SignedTreeHead {
            tree_size,
            root_hash,
            timestamp_micros,
            public_key: self.public_key(),
            signature: signature.to_bytes().to_vec(),
        }
    }
}

/// An Ed25519 public key; shown and read as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads 64 hex digits (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`CheckError::BadKey`] when it is not hex or not a point of the curve.
    pub fn parse(text: &str) -> Result<Self, CheckError> {
        let bytes = crate::hex::decode_array::<32>(text.trim())
            .map_err(|e| CheckError::BadKey(e.to_string()))?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|e| CheckError::BadKey(e.to_string()))
    }

    /// Checks `signature` over `message` (strictly: no malleable or small-order forms).
    ///
    /// # Errors
    /// [`CheckError::BadSignature`].
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CheckError> {
        let signature = ed25519_dalek::Signature::from_slice(signature)
            .map_err(|_| CheckError::BadSignature)?;
        self.0
            .verify_strict(message, &signature)
            .map_err(|_| CheckError::BadSignature)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::hex::encode(self.0.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(D::Error::custom)
    }
}

fn io(path: &Path, source: std::io::Error) -> KeyError {
    KeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), KeyError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    let mut file = options.open(path).map_err(|e| io(path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| io(path, e))
}
