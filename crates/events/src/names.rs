//! Identifiers and numbers, parsed once at the edge and trusted inside.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::NameError;

/// Serializes a newtype over `String` as its text: the bytes serde's `into = "String"`
/// wrote, without the copy it made of the name each time a record was encoded.
macro_rules! text_serialized {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

/// The identity of one event, unique across the whole log (a UUID).
///
/// Clients may choose it so that a retried append is recognised and written only once.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventId([u8; 16]);

impl EventId {
    /// A fresh id: a UUIDv7, so ids generated here sort by time and land at the end of the
    /// log's event-id index instead of at random places in it.
    pub fn random() -> Self {
        Self(*uuid::Uuid::now_v7().as_bytes())
    }

    /// The id with these 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes of the id, as stored.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the hyphenated (or simple) UUID text form.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        uuid::Uuid::try_parse(text)
            .map(|u| Self(*u.as_bytes()))
            .map_err(|e| NameError::new("event id", text, e.to_string()))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        uuid::Uuid::from_bytes(self.0).hyphenated().fmt(f)
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({self})")
    }
}

/// An event's place in the whole log: 0 for the first event, gap-free after that.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct Position(pub u64);

impl Position {
    /// The first position of every log.
    pub const START: Position = Position(0);

    /// The position after this one.
    pub const fn next(self) -> Position {
        Position(self.0 + 1)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An event's place in its stream: 0 for the stream's first event, contiguous after that.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct StreamVersion(pub u64);

impl StreamVersion {
    /// The version of a stream's first event.
    pub const FIRST: StreamVersion = StreamVersion(0);

    /// The version after this one.
    pub const fn next(self) -> StreamVersion {
        StreamVersion(self.0 + 1)
    }
}

impl fmt::Display for StreamVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

const MAX_STREAM_NAME: usize = 128;
const MAX_KIND: usize = 32;

/// The name of a stream: `<kind>-<id>`, such as `post-01hx7` or `handle-3f2a`.
///
/// Invariant (checked by [`StreamName::parse`]): the kind is 1 to 32 lowercase ASCII
/// letters or digits starting with a letter, the id is non-empty and made of ASCII letters,
/// digits and `_ . : -`, and the whole name is at most 128 bytes. Names therefore never
/// contain a NUL byte, which the log relies on to separate a name from a version in keys.
/// Names must not carry personal data: ids are opaque.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct StreamName(String);

impl StreamName {
    /// Parses `<kind>-<id>`.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        Self::check(text)?;
        Ok(Self(text.to_owned()))
    }

    fn check(text: &str) -> Result<(), NameError> {
        let fail = |reason: &str| Err(NameError::new("stream name", text, reason));
        if text.len() > MAX_STREAM_NAME {
            return fail("longer than 128 bytes");
        }
        let Some((kind, id)) = text.split_once('-') else {
            return fail("expected <kind>-<id>");
        };
        let kind_ok = !kind.is_empty()
            && kind.len() <= MAX_KIND
            && kind.starts_with(|c: char| c.is_ascii_lowercase())
            && kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !kind_ok {
            return fail(
                "kind must be 1 to 32 lowercase letters or digits, starting with a letter",
            );
        }
        if id.is_empty() || !id.bytes().all(is_id_byte) {
            return fail("id must be non-empty ASCII letters, digits or _ . : -");
        }
        Ok(())
    }

    /// The stream for `kind` and `id`, as in `StreamName::of("post", "42")` = `post-42`.
    pub fn of(kind: &str, id: &str) -> Result<Self, NameError> {
        Self::parse(&format!("{kind}-{id}"))
    }

    /// The kind, the part before the first `-`.
    pub fn kind(&self) -> &str {
        self.0.split_once('-').map_or("", |(kind, _)| kind)
    }

    /// The id, the part after the first `-`.
    pub fn id(&self) -> &str {
        self.0.split_once('-').map_or("", |(_, id)| id)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-')
}

/// Checked and kept, not copied: how a decoded name is made.
impl TryFrom<String> for StreamName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::check(&value)?;
        Ok(Self(value))
    }
}

text_serialized!(StreamName);

impl From<StreamName> for String {
    fn from(value: StreamName) -> Self {
        value.0
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamName({})", self.0)
    }
}

/// The type of an event, such as `PostPublished`: an ASCII letter then up to 63 letters,
/// digits, `_` or `.`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct EventType(String);

impl EventType {
    /// Parses an event type name.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        Self::check(text)?;
        Ok(Self(text.to_owned()))
    }

    fn check(text: &str) -> Result<(), NameError> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text.starts_with(|c: char| c.is_ascii_alphabetic())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'));
        if ok {
            Ok(())
        } else {
            Err(NameError::new(
                "event type",
                text,
                "expected a letter then up to 63 letters, digits, _ or .",
            ))
        }
    }

    /// The type name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checked and kept, not copied: how a decoded name is made.
impl TryFrom<String> for EventType {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::check(&value)?;
        Ok(Self(value))
    }
}

text_serialized!(EventType);

impl From<EventType> for String {
    fn from(value: EventType) -> Self {
        value.0
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An opaque id of whoever acted: a user id or the name of a system component.
/// 1 to 64 ASCII letters, digits or `_ . : -`; never personal data.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct ActorId(String);

impl ActorId {
    /// Parses an actor id.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        Self::check(text)?;
        Ok(Self(text.to_owned()))
    }

    fn check(text: &str) -> Result<(), NameError> {
        if !text.is_empty() && text.len() <= 64 && text.bytes().all(is_id_byte) {
            Ok(())
        } else {
            Err(NameError::new(
                "actor id",
                text,
                "expected 1 to 64 ASCII letters, digits or _ . : -",
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checked and kept, not copied: how a decoded name is made.
impl TryFrom<String> for ActorId {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::check(&value)?;
        Ok(Self(value))
    }
}

text_serialized!(ActorId);

impl From<ActorId> for String {
    fn from(value: ActorId) -> Self {
        value.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who caused an event.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Actor {
    /// A part of the system (the seeder, an operator's CLI, a scheduled job).
    System(ActorId),
    /// A member or brand account, by user id.
    User(ActorId),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::System(id) => write!(f, "system:{id}"),
            Actor::User(id) => write!(f, "user:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_payload, encode_payload};

    #[test]
    fn names_are_written_as_their_text_and_checked_again_when_read() {
        let text = |t: &str| encode_payload(&t.to_owned()).expect("encodes");
        let written = |bytes: Result<Vec<u8>, _>| bytes.expect("encodes");
        let stream = StreamName::parse("post-42").expect("valid");
        assert_eq!(written(encode_payload(&stream)), text("post-42"));
        let event_type = EventType::parse("PostPublished").expect("valid");
        assert_eq!(written(encode_payload(&event_type)), text("PostPublished"));
        let actor = ActorId::parse("u_1").expect("valid");
        assert_eq!(written(encode_payload(&actor)), text("u_1"));
        assert_eq!(
            decode_payload::<StreamName>(&text("post-42")).ok(),
            Some(stream)
        );
        assert!(decode_payload::<StreamName>(&text("post")).is_err());
        assert!(decode_payload::<EventType>(&text("1Published")).is_err());
        assert!(decode_payload::<ActorId>(&text("u 1")).is_err());
    }

    #[test]
    fn stream_names_are_kind_dash_id() {
        let name = StreamName::parse("post-01HX:7.a_b-c").expect("valid");
        assert_eq!(name.kind(), "post");
        assert_eq!(name.id(), "01HX:7.a_b-c");
        for bad in [
            "",
            "post",
            "-1",
            "Post-1",
            "post-",
            "1post-1",
            "post-a b",
            "post-é",
            "post-a\0b",
        ] {
            assert!(StreamName::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(StreamName::parse(&format!("p-{}", "x".repeat(126))).is_ok());
        assert!(StreamName::parse(&format!("p-{}", "x".repeat(127))).is_err());
    }

    #[test]
    fn event_ids_round_trip_through_text() {
        let id = EventId::random();
        assert_eq!(EventId::parse(&id.to_string()).expect("parses"), id);
        assert!(EventId::parse("not-a-uuid").is_err());
    }

    #[test]
    fn event_types_and_actor_ids_are_checked() {
        assert!(EventType::parse("PostPublished").is_ok());
        assert!(EventType::parse("fixture.Note").is_ok());
        assert!(EventType::parse("1Post").is_err());
        assert!(EventType::parse("").is_err());
        assert!(ActorId::parse("u_42").is_ok());
        assert!(ActorId::parse("a b").is_err());
    }
}
