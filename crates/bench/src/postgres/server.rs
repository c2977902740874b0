//! A throwaway PostgreSQL server: `initdb` into a temp dir, `postgres` on 127.0.0.1 and a
//! unix socket in that dir, stopped (fast shutdown) when dropped, error or not.
//!
//! PostgreSQL refuses to run as root; when this process is root (CI), `initdb` and
//! `pg_ctl` run as the Debian `postgres` user through `runuser`, and the temp dir is
//! handed to that user.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use anyhow::Context;

/// Where Debian's `postgresql-15` package puts the server's binaries.
pub const DEFAULT_BIN: &str = "/usr/lib/postgresql/15/bin";

/// The settings the bench gives the server (besides the address, port and socket dir):
/// durable commits as shipped, and a page cache about sparkfeed's.
pub const SETTINGS: [(&str, &str); 6] = [
    ("shared_buffers", "128MB"),
    ("fsync", "on"),
    ("synchronous_commit", "on"),
    ("full_page_writes", "on"),
    // 64 writers, each with its connection, plus the loader and the readers.
    ("max_connections", "100"),
    ("log_min_messages", "warning"),
];

/// The account PostgreSQL runs as when this process is root.
const SERVICE_USER: &str = "postgres";

/// A running throwaway server; dropping it stops the server and removes its files.
pub struct Server {
    bin: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    /// Set when this process is root: the user the server's commands run as.
    run_as: Option<&'static str>,
    // Last: removed after `drop` has stopped the server.
    _dir: tempfile::TempDir,
}

impl Server {
    /// Creates a cluster in a temp dir inside `parent` with the binaries of `bin` and
    /// starts it; answers once it accepts connections.
    pub fn start(bin: &Path, parent: &Path) -> anyhow::Result<Self> {
        for tool in ["initdb", "pg_ctl", "postgres"] {
            anyhow::ensure!(
                bin.join(tool).is_file(),
                "PostgreSQL's {tool} is not in {}: install the Debian package postgresql-15 \
                 (apt-get install -y --no-install-recommends postgresql-15) or pass --pg-bin DIR",
                bin.display()
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("sparkfeed-pg-")
            .tempdir_in(parent)
            .with_context(|| format!("temp dir in {}", parent.display()))?;
        let run_as = rustix::process::geteuid().is_root().then_some(SERVICE_USER);
        if let Some(user) = run_as {
            let (uid, gid) = account(user)?;
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .with_context(|| format!("handing {} to {user}", dir.path().display()))?;
        }
        let data = dir.path().join("data");
        let socket_dir = dir.path().to_path_buf();
        let port = free_port()?;
        let server = Self {
            bin: bin.to_path_buf(),
            data,
            socket_dir,
            port,
            run_as,
            _dir: dir,
        };
        let data_arg = server.data.display().to_string();
        server.run(
            "initdb",
            &[
                "-D",
                &data_arg,
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        let mut conf = String::from("\n# sparkfeed bench\n");
        conf += "listen_addresses = '127.0.0.1'\n";
        conf += &format!("port = {port}\n");
        conf += &format!(
            "unix_socket_directories = '{}'\n",
            server.socket_dir.display()
        );
        for (name, value) in SETTINGS {
            conf += &format!("{name} = '{value}'\n");
        }
        let conf_path = server.data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).context("reading postgresql.conf")?;
        text += &conf;
        std::fs::write(&conf_path, text).context("writing postgresql.conf")?;
        let log = server.socket_dir.join("server.log").display().to_string();
        server
            .run(
                "pg_ctl",
                &["-D", &data_arg, "-l", &log, "-w", "-t", "60", "start"],
            )
            .with_context(|| {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                format!("starting postgres (its log: {tail})")
            })?;
        Ok(server)
    }

    /// The connection settings of database `db` (over the unix socket).
    pub fn config(&self, db: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(&self.socket_dir)
            .port(self.port)
            .user("postgres")
            .dbname(db)
            .connect_timeout(Duration::from_secs(10));
        config
    }

    /// The TCP port it listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// Runs `tool` of the server's binaries (as the service user when root).
    fn run(&self, tool: &str, args: &[&str]) -> anyhow::Result<Output> {
        let program = self.bin.join(tool);
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        command.args(args).current_dir(&self.socket_dir);
        let output = command
            .output()
            .with_context(|| format!("running {}", program.display()))?;
        anyhow::ensure!(
            output.status.success(),
            "{tool} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(output)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.data.join("postmaster.pid").exists() {
            return;
        }
        let data = self.data.display().to_string();
        if let Err(e) = self.run(
            "pg_ctl",
            &["-D", &data, "-m", "fast", "-w", "-t", "60", "stop"],
        ) {
            tell!("stopping the bench's postgres: {e:#}");
        }
    }
}

/// Connects to `config`. The server is ready: `pg_ctl start -w` returned only once it
/// accepted connections.
pub async fn connect(config: &tokio_postgres::Config) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .context("connecting to the bench's postgres")?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tell!("postgres connection: {e}");
        }
    });
    Ok(client)
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr().context("finding a free port")?.port())
}

/// The uid and gid of `user`, from /etc/passwd.
fn account(user: &str) -> anyhow::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    let line = passwd
        .lines()
        .find(|l| l.split(':').next() == Some(user))
        .with_context(|| {
            format!(
                "no {user} account: running as root, PostgreSQL needs it \
                 (install the Debian package postgresql-15, which creates it)"
            )
        })?;
    let fields: Vec<&str> = line.split(':').collect();
    let id = |i: usize| -> anyhow::Result<u32> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("a malformed /etc/passwd line for {user}"))
    };
    Ok((id(2)?, id(3)?))
}
