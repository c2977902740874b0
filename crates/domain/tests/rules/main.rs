//! The rules of the domain, in memory: no log, no key store, no disk.
//!
//! - `accepted` and `refused`: every rule as given/when/then (`memory::Given`: the events
//!   earlier decisions yielded; a command; the events or the refusal decided);
//! - `golden`: old logs stay readable.
//!
//! `Domain::execute` on a real log (loading, sealing, idempotency, races) is the `log`
//! test binary.

#[path = "../common/mod.rs"]
mod common;

mod accepted;
mod controls;
mod forget;
mod golden;
mod memory;
mod moderation;
mod refused;

pub(crate) use common::*;
pub(crate) use sparkfeed_domain::{InterestSlug, MediaInput, TagInput};
