//! Errors of this crate, each with a stable code.

/// A name or id that does not have the required form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {reason}")]
pub struct NameError {
    /// Which kind of name was refused ("stream name", "event type", ...).
    pub what: &'static str,
    /// The refused text (cut to 80 characters).
    pub value: String,
    /// Why it was refused.
    pub reason: String,
}

impl NameError {
    pub(crate) fn new(what: &'static str, value: &str, reason: impl Into<String>) -> Self {
        Self {
            what,
            value: value.chars().take(80).collect(),
            reason: reason.into(),
        }
    }

    /// The stable error code: `VALIDATION`.
    pub fn code(&self) -> &'static str {
        "VALIDATION"
    }
}

/// Bytes that are not a record this codec can read, or a record it cannot write.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The first byte names a record format this build does not know.
    #[error("unknown record format version {0}")]
    UnknownFormat(u8),
    /// The stored bytes are too short to hold a record and its hash.
    #[error("stored record truncated: {len} bytes")]
    Truncated {
        /// How many bytes there were.
        len: usize,
    },
    /// The body does not decode.
    #[error("malformed record body: {0}")]
    Malformed(String),
    /// A decoded field does not satisfy its type's invariant.
    #[error("record field refused: {0}")]
    InvalidField(#[from] NameError),
    /// The encoded record is larger than the log accepts.
    #[error("record is {len} bytes, more than the maximum of {max}")]
    TooLarge {
        /// Encoded size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The payload's schema version is newer than the reader's.
    #[error("{event_type} v{found} is newer than this build reads (v{known})")]
    VersionAhead {
        /// The event type.
        event_type: String,
        /// The stored schema version.
        found: u16,
        /// The newest version this build knows.
        known: u16,
    },
    /// No upcaster is registered to lift an old schema version.
    #[error("no upcaster for {event_type} v{from}")]
    MissingUpcaster {
        /// The event type.
        event_type: String,
        /// The version that could not be lifted.
        from: u16,
    },
    /// The payload was asked for as a different event type.
    #[error("payload is {found}, not {expected}")]
    WrongType {
        /// The type asked for.
        expected: &'static str,
        /// The type stored.
        found: String,
    },
}

impl CodecError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            CodecError::TooLarge { .. } => "RECORD_TOO_LARGE",
            CodecError::WrongType { .. } => "WRONG_EVENT_TYPE",
            CodecError::VersionAhead { .. } | CodecError::MissingUpcaster { .. } => {
                "UNSUPPORTED_SCHEMA_VERSION"
            }
            CodecError::UnknownFormat(_)
            | CodecError::Truncated { .. }
            | CodecError::Malformed(_)
            | CodecError::InvalidField(_) => "CORRUPT_RECORD",
        }
    }
}

impl From<bincode::Error> for CodecError {
    fn from(e: bincode::Error) -> Self {
        CodecError::Malformed(e.to_string())
    }
}
