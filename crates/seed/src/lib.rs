//! The demo world: `fixtures/demo` is generated deterministically by [`generate`] (the
//! `sparkfeed fixtures` command) as JSON Lines a person can read and edit, and [`load`]
//! (the `sparkfeed seed` command) runs it through the domain's command handlers;
//! [`load_concurrently`] does the same with many commands in flight, for the benchmarks'
//! big worlds.

mod concurrent;
mod generate;
mod load;
pub mod media;
pub mod model;

use std::path::Path;

pub use concurrent::load_concurrently;
pub use generate::{DemoWorld, Size, generate};
pub use load::{SeedReport, load};

/// The files of a world, in the order they load (a later file refers to an earlier one's
/// ids).
pub const FILES: [&str; 6] = [
    "interests.jsonl",
    "products.jsonl",
    "users.jsonl",
    "contracts.jsonl",
    "posts.jsonl",
    "activity.jsonl",
];

/// The seed the committed demo world was generated from.
pub const DEMO_SEED: u64 = 0x5EED_C4FE_ED00_0001;

/// Why a world could not be written or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A line is not valid.
    #[error("{file}:{line}: {reason}")]
    Line {
        /// The file.
        file: &'static str,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A command of the world was refused by the rules.
    #[error("{file}:{line}: refused with {code}: {reason}")]
    Refused {
        /// The file.
        file: &'static str,
        /// The 1-based line.
        line: usize,
        /// The refusal's code.
        code: &'static str,
        /// Its message.
        reason: String,
    },
    /// Seeding needs an empty log.
    #[error("the log already holds {0} events; seed into an empty data directory")]
    NotEmpty(u64),
    /// Serialisation failed.
    #[error("format: {0}")]
    Format(String),
}

impl SeedError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        SeedError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
