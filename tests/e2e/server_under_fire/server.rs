//! `sparkfeed serve` as a child process, and the data directory it serves: the bootstrap
//! every run begins with, and copies for the checks.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use sparkfeed_api::Tokens;
use sparkfeed_domain::{Caller, Command as DomainCommand, Context, Domain, KeyStore, Role};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_testkit::ids;

use super::PRODUCTS;

/// The token secret of the servers `Server::start` starts.
pub(crate) const SECRET: &str = "the chaos test's token secret, 32 bytes or more";

/// `sparkfeed serve` over the data directory, as a child process.
pub(crate) struct Server {
    child: Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
}

/// Where a starting server will listen: its address once it prints it.
pub(crate) type Listening = std::sync::mpsc::Receiver<Result<SocketAddr, std::net::AddrParseError>>;

impl Server {
    /// Spawns `sparkfeed serve` over `data` on port 0 (signing tokens with `secret`, else
    /// with the data directory's own), its stderr appended to `stderr`; answers at once.
    pub(crate) fn spawn(data: &Path, stderr: &Path, secret: Option<&str>) -> (Child, Listening) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr)
            .expect("the server's stderr file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_sparkfeed-cli"));
        command.args(["serve", "--addr", "127.0.0.1:0"]);
        if let Some(secret) = secret {
            command.args(["--secret", secret]);
        }
        let mut child = command
            .arg("--data-dir")
            .arg(data)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("sparkfeed serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address, then drains stdout until the process is gone.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.trim().strip_prefix("GraphiQL") {
                    let url = url.trim().trim_start_matches("http://");
                    let _ = tx.send(url.trim_end_matches('/').parse::<SocketAddr>());
                }
            }
        });
        (child, rx)
    }

    /// Starts the server and waits until it listens; a start that fails is tried again
    /// twice (each failure is noted in `failures`).
    pub(crate) fn start(data: &Path, stderr: &Path, failures: &mut Vec<String>) -> Server {
        for _ in 0..3 {
            let (mut child, rx) = Self::spawn(data, stderr, Some(SECRET));
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(Ok(addr)) => return Server { child, addr },
                outcome => {
                    let _ = child.kill();
                    let status = child.wait().expect("reaped");
                    failures.push(format!("{outcome:?}, {status}: {}", tail(stderr)));
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
        panic!("sparkfeed serve did not start three times: {failures:#?}");
    }

    /// SIGKILLs the server; answers how it ended if it had ended by itself before.
    pub(crate) fn kill(mut self) -> Option<std::process::ExitStatus> {
        let ended = self.child.try_wait().expect("its status");
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
        ended
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a file.
pub(crate) fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A catalog of one interest and three products, and an admin; answers the admin's token
/// (signed with `secret`) and the number of events written.
pub(crate) async fn bootstrap(data: &Path, secret: &[u8]) -> (String, u64) {
    let log = EventLog::open(Config::new(data)).expect("log");
    let keys = KeyStore::open(&data.join("keys")).expect("key store");
    let domain = Domain::new(log.clone(), Arc::new(keys));
    let admin = ids::user("uadmin");
    let coffee = ids::interest("coffee");
    let mut commands = vec![DomainCommand::AddInterest {
        interest: coffee.clone(),
        name: "Coffee".into(),
        rebuy_window_days: None,
    }];
    for (i, asin) in (1u64..).zip(PRODUCTS) {
        commands.push(DomainCommand::ListProduct {
            asin: ids::asin(asin),
            title: format!("Chaos product {i}"),
            price: ids::usd(1_000 * i),
            image_url: format!("https://img.example/{asin}.jpg"),
            interests: vec![coffee.clone()],
            consumable: false,
        });
    }
    commands.push(DomainCommand::RegisterMember {
        user: admin.clone(),
        handle: ids::handle("chaos_admin"),
        display_name: "Admin".into(),
    });
    commands.push(DomainCommand::GrantRole {
        user: admin.clone(),
        role: Role::Admin,
    });
    for command in commands {
        domain
            .execute(&Context::new(Caller::System("chaos".into())), &command)
            .await
            .unwrap_or_else(|e| panic!("bootstrap {command:?}: {e}"));
    }
    let tokens = Tokens::new(secret).expect("secret");
    (
        tokens.mint(&admin, Duration::from_secs(3_600)),
        log.head().len,
    )
}

/// Copies the directory tree `from` to `to` (a killed server's data directory, which
/// nothing writes any more).
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creates the copy");
    for entry in std::fs::read_dir(from).expect("reads the directory") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copies");
        }
    }
}
