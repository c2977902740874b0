//! The vocabulary of the sparkfeed log: what an event is, how it is stored, how it is chained.
//!
//! This crate knows nothing about sled, GraphQL or the product's rules. It defines
//! - the names and numbers every layer shares ([`EventId`], [`StreamName`], [`Position`],
//!   [`StreamVersion`], [`EventType`], [`Actor`]),
//! - the envelope ([`NewEvent`] going in, [`RecordedEvent`] coming out),
//! - the one codec that turns a record into stored bytes and back ([`codec`]),
//! - the hash chain that makes the log tamper-evident ([`chain`]),
//! - the upcasting hook that reads old schema versions of an event as the current one
//!   ([`upcast`]).

mod envelope;
mod error;
mod names;

pub mod chain;
pub mod codec;
pub mod upcast;

pub use chain::Hash;
pub use envelope::{EventRecord, Metadata, NewEvent, RecordedEvent, Timestamp};
pub use error::{CodecError, NameError};
pub use names::{Actor, ActorId, EventId, EventType, Position, StreamName, StreamVersion};
pub use upcast::{EventPayload, Upcasters};
