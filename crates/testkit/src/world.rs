//! A world to test in: a log, a key store, the domain over them and the projections
//! following the log, all in one temp dir that goes when the world does.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sparkfeed_domain::{Caller, Command, Context, Domain, Executed, KeyStore};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_events::Timestamp;
use sparkfeed_projections::{Projections, View};

use crate::ids;

/// A log, a domain over it and the projections following it, in one temp dir.
pub struct World {
    /// The write side.
    pub domain: Domain,
    /// The read side, following the domain's log live.
    pub projections: Projections,
    // Last: the stores above close before their directory is removed.
    dir: tempfile::TempDir,
}

/// The system caller (the seeder, an operator's CLI): may do what an admin may.
pub fn system() -> Caller {
    Caller::System("test".into())
}

/// The signed-in member `id`.
pub fn as_user(id: &str) -> Caller {
    Caller::User(ids::user(id))
}

impl World {
    /// A world with nothing in its log.
    pub fn empty() -> World {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let log = EventLog::open(Config::new(dir.path().join("log")))
            .unwrap_or_else(|e| panic!("opening the log: {e}"));
        let keys = KeyStore::open(&dir.path().join("keys"))
            .unwrap_or_else(|e| panic!("opening the key store: {e}"));
        let projections = Projections::open(&dir.path().join("projections"), log.clone())
            .unwrap_or_else(|e| panic!("opening the projections: {e}"));
        World {
            domain: Domain::new(log, Arc::new(keys)),
            projections,
            dir,
        }
    }

    /// Runs `command` as `caller`, now; panics when it is refused.
    pub async fn run(&self, caller: Caller, command: Command) -> Executed {
        self.domain
            .execute(&Context::new(caller), &command)
            .await
            .unwrap_or_else(|e| panic!("{command:?}: {e}"))
    }

    /// Runs a command and waits until every projection has applied it.
    pub async fn run_and_read(&self, caller: Caller, command: Command) -> Executed {
        let done = self.run(caller, command).await;
        self.projections
            .wait_for(done.position, Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("the projections did not reach the write: {e}"));
        done
    }

    /// The feeds projection as the API reads it: through its row cache, so a read-side test
    /// also shows that a write is never hidden behind a cached row.
    pub fn feeds(&self) -> View {
        self.projections
            .view("feeds")
            .unwrap_or_else(|e| panic!("the feeds projection: {e}"))
    }

    /// The world's directory: the log in `log/`, the key store in `keys/`, the projections
    /// in `projections/`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Now, in microseconds since the epoch.
    pub fn now(&self) -> i64 {
        Timestamp::now().0
    }
}
