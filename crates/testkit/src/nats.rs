//! A real NATS JetStream cluster for tests and benches: `nats-server` processes on loopback
//! ports, each with its own config, store directory and log file in one temp dir.
//!
//! The servers are the Debian `nats-server` (2.9); `.ci/run` installs it. Without it,
//! [`NatsCluster::start`] panics saying so: a test that needs a cluster never passes
//! without one. Every server still running is killed when the cluster is dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the Debian package puts the server; `NATS_SERVER` overrides it.
pub const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// The server binary to run.
pub fn nats_server() -> PathBuf {
    let path =
        std::env::var_os("NATS_SERVER").map_or_else(|| PathBuf::from(NATS_SERVER), PathBuf::from);
    assert!(
        path.is_file(),
        "nats-server is not installed at {} (set NATS_SERVER, or `apt-get install -y \
         nats-server`; .ci/run installs it): the JetStream tests need a real cluster",
        path.display()
    );
    path
}

struct Server {
    name: String,
    client_port: u16,
    http_port: u16,
    conf: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

/// A JetStream cluster of `nats-server` processes on 127.0.0.1.
pub struct NatsCluster {
    servers: Vec<Server>,
    dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Starts `n` servers as one JetStream cluster (one server alone when `n` is 1) and
    /// waits until each reports healthy (`/healthz`: JetStream has a meta leader).
    ///
    /// Its ports are picked free, then let go for the servers to take: another test may
    /// take one in between, and then the cluster is started again on fresh ports (at most
    /// 3 times).
    pub fn start(n: usize) -> NatsCluster {
        for _ in 1..3 {
            let cluster = Self::launch(n);
            match (0..n).try_for_each(|i| cluster.poll_healthy(i)) {
                Ok(()) => return cluster,
                Err(_) if cluster.lost_a_port() => continue,
                Err(_) => break,
            }
        }
        let cluster = Self::launch(n);
        for i in 0..n {
            cluster.wait_healthy(i);
        }
        cluster
    }

    /// Whether a server could not bind one of its ports.
    fn lost_a_port(&self) -> bool {
        self.servers.iter().any(|server| {
            std::fs::read_to_string(&server.log)
                .is_ok_and(|log| log.contains("address already in use"))
        })
    }

    /// Starts the `n` servers without waiting for them.
    fn launch(n: usize) -> NatsCluster {
        let binary = nats_server();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let ports = free_ports(3 * n);
        let port = |i: usize| ports.get(i).copied().unwrap_or_else(|| panic!("port {i}"));
        let routes: Vec<u16> = (0..n).map(|i| port(3 * i + 1)).collect();
        let mut servers = Vec::new();
        for i in 0..n {
            let name = format!("n{}", i + 1);
            let (client_port, cluster_port, http_port) =
                (port(3 * i), port(3 * i + 1), port(3 * i + 2));
            let store = dir.path().join(format!("{name}-store"));
            let mut conf = format!(
                "server_name: \"{name}\"\nlisten: \"127.0.0.1:{client_port}\"\n\
                 http: \"127.0.0.1:{http_port}\"\n\
                 jetstream {{\n  store_dir: \"{}\"\n  max_memory_store: 268435456\n  \
                 max_file_store: 4294967296\n}}\n",
                store.display()
            );
            if n > 1 {
                let others: String = routes
                    .iter()
                    .filter(|&&p| p != cluster_port)
                    .map(|p| format!("    \"nats-route://127.0.0.1:{p}\"\n"))
                    .collect();
                conf.push_str(&format!(
                    "cluster {{\n  name: \"sparkfeed-test\"\n  listen: \"127.0.0.1:{cluster_port}\"\n  routes: [\n{others}  ]\n}}\n"
                ));
            }
            let conf_path = dir.path().join(format!("{name}.conf"));
            std::fs::write(&conf_path, conf).unwrap_or_else(|e| panic!("writing {name}.conf: {e}"));
            servers.push(Server {
                log: dir.path().join(format!("{name}.log")),
                name,
                client_port,
                http_port,
                conf: conf_path,
                child: None,
            });
        }
        let mut cluster = NatsCluster { servers, dir };
        for i in 0..n {
            cluster.spawn(i, &binary);
        }
        cluster
    }

    fn spawn(&mut self, i: usize, binary: &PathBuf) {
        let server = self.server(i);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&server.log)
            .unwrap_or_else(|e| panic!("{}: {e}", server.log.display()));
        let err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("log handle: {e}"));
        let child = Command::new(binary)
            .arg("-c")
            .arg(&server.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap_or_else(|e| panic!("starting nats-server: {e}"));
        self.server_mut(i).child = Some(child);
    }

    fn server(&self, i: usize) -> &Server {
        self.servers
            .get(i)
            .unwrap_or_else(|| panic!("no server {i}"))
    }

    fn server_mut(&mut self, i: usize) -> &mut Server {
        self.servers
            .get_mut(i)
            .unwrap_or_else(|| panic!("no server {i}"))
    }

    /// Waits (up to 30 s) until server `i` answers `/healthz` with 200.
    pub fn wait_healthy(&self, i: usize) {
        if let Err(last) = self.poll_healthy(i) {
            let server = self.server(i);
            panic!(
                "nats-server {} was not healthy within 30 s: {last}\n{}",
                server.name,
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
        }
    }

    /// Polls server `i`'s `/healthz` for up to 30 s: the last answer if it never said 200.
    fn poll_healthy(&self, i: usize) -> Result<(), String> {
        let server = self.server(i);
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = String::new();
        // A process of its own gives nothing to wait on: /healthz is polled every 50 ms.
        let (_never, pace) = std::sync::mpsc::channel::<()>();
        while Instant::now() < deadline {
            match http_get(server.http_port, "/healthz") {
                Ok((200, _)) => return Ok(()),
                Ok((status, body)) => last = format!("{status} {body}"),
                Err(e) => last = e,
            }
            if self.lost_a_port() {
                return Err(format!("a port was taken: {last}"));
            }
            let _ = pace.recv_timeout(Duration::from_millis(50));
        }
        Err(last)
    }

    /// The index of the server named `name` (`n1`, `n2`, … as JetStream reports a stream's
    /// leader), for [`kill`](Self::kill) and [`restart`](Self::restart).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.servers.iter().position(|s| s.name == name)
    }

    /// The client URL of each server.
    pub fn urls(&self) -> Vec<String> {
        self.servers
            .iter()
            .map(|s| format!("nats://127.0.0.1:{}", s.client_port))
            .collect()
    }

    /// `nats://HOST:PORT,HOST:PORT,…`: the `--log` flag of `sparkfeed serve`.
    pub fn log_url(&self) -> String {
        let hosts: Vec<String> = self
            .servers
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.client_port))
            .collect();
        format!("nats://{}", hosts.join(","))
    }

    /// Kills server `i` with SIGKILL and reaps it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.server_mut(i).child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts server `i` again on its config and store, and waits until it is healthy.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i, &nats_server());
        self.wait_healthy(i);
    }

    /// The directory holding every server's config, store and log.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for server in &mut self.servers {
            if let Some(mut child) = server.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// `n` distinct free TCP ports on 127.0.0.1 (held until all are chosen).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("binding: {e}")))
        .collect();
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.port())
                .unwrap_or_else(|e| panic!("port: {e}"))
        })
        .collect()
}

/// A bounded HTTP/1.0 GET on a loopback port: (status, body).
fn http_get(port: u16, path: &str) -> Result<(u16, String), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_millis(300)).map_err(|e| e.to_string())?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").map_err(|e| e.to_string())?;
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not HTTP: {text}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}
