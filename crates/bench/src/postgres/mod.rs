//! The PostgreSQL peer of `sparkfeed bench all --vs-postgres` (issue 17): a throwaway
//! server ([`server`]), the tables PostgreSQL event stores use (`schema`) and the feed
//! tables a projection keeps (`feed`), and the
//! workloads that mirror sparkfeed's (`workloads`).
//!
//! Invariant: the peer gets the settings a careful operator ships (fsync and
//! synchronous commit on, a page cache the size of sparkfeed's) and the same concurrency
//! as the sparkfeed side; nothing here weakens durability to win a row.

pub(crate) mod feed;
pub(crate) mod schema;
pub mod server;
pub(crate) mod workloads;

use std::path::Path;

use anyhow::Context;
use sparkfeed_eventlog::EventLog;
use tokio_postgres::Client;

pub use server::{DEFAULT_BIN, SETTINGS, Server};

/// The database the append workloads write to.
const APPENDS_DB: &str = "appends";

/// A running peer: its server, the version and settings it reports.
pub(crate) struct Peer {
    server: Server,
    /// `SHOW` of the settings that decide what a commit costs, version first.
    pub(crate) settings: Vec<(String, String)>,
}

impl Peer {
    /// Starts a server with the binaries of `bin` in a temp dir inside `dir`, and creates
    /// the appends database.
    pub(crate) fn start(
        runtime: &tokio::runtime::Runtime,
        bin: &Path,
        dir: &Path,
    ) -> anyhow::Result<Self> {
        let server = Server::start(bin, dir)?;
        let settings = runtime.block_on(async {
            let admin = server::connect(&server.config("postgres")).await?;
            admin
                .batch_execute(&format!("CREATE DATABASE {APPENDS_DB}"))
                .await
                .context("creating the appends database")?;
            let appends = server::connect(&server.config(APPENDS_DB)).await?;
            schema::create(&appends).await?;
            workloads::settings(&admin).await
        })?;
        Ok(Self { server, settings })
    }

    /// The connection settings of the appends database.
    pub(crate) fn appends(&self) -> tokio_postgres::Config {
        self.server.config(APPENDS_DB)
    }

    /// Creates database `name`, copies `log` into it (events, and the feed tables the
    /// events make) and answers a connection to it. Run inside `runtime`.
    pub(crate) async fn world(&self, name: &str, log: &EventLog) -> anyhow::Result<Client> {
        let admin = server::connect(&self.server.config("postgres")).await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("creating database {name}"))?;
        let mut client = server::connect(&self.server.config(name)).await?;
        schema::create(&client).await?;
        schema::load(&mut client, log).await?;
        Ok(client)
    }

    /// Drops database `name` (a world measured and done with).
    pub(crate) async fn drop_world(&self, name: &str) -> anyhow::Result<()> {
        let admin = server::connect(&self.server.config("postgres")).await?;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .with_context(|| format!("dropping database {name}"))
    }

    /// The server's version, as it reports it.
    pub(crate) fn version(&self) -> &str {
        self.settings
            .iter()
            .find(|(name, _)| name == "server_version")
            .map_or("unknown", |(_, v)| v.as_str())
    }
}
