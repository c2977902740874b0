//! A real `sparkfeed serve` process on 127.0.0.1 port 0, and plain HTTP/1.1 to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `sparkfeed serve` and what it printed.
pub struct Served {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Its stdout, line by line, from after the address.
    pub lines: mpsc::Receiver<String>,
    /// What it printed before, the address included.
    pub printed: Vec<String>,
}

impl Served {
    /// Starts `sparkfeed serve --addr 127.0.0.1:0` with `args` and waits (at most 300 s)
    /// until it prints where it serves GraphQL.
    pub fn start(args: &[&std::ffi::OsStr]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sparkfeed"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(300);
        let mut printed = Vec::new();
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the server did not serve within 300 s: {printed:?}"));
            printed.push(line);
            if let Some(rest) = printed
                .last()
                .and_then(|line| line.trim().strip_prefix("GraphQL    http://"))
            {
                break rest.split('/').next().expect("an address").to_owned();
            }
        };
        Served {
            child,
            addr,
            lines,
            printed,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs one GraphQL request; its JSON answer.
    pub fn graphql(&self, token: Option<&str>, query: &str) -> serde_json::Value {
        let body = serde_json::json!({ "query": query }).to_string();
        let answer = self.post("/graphql", token, &body);
        let json = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {answer}"))
    }

    /// The raw answer (head and body) to a POST of `body`.
    pub fn post(&self, path: &str, token: Option<&str>, body: &str) -> String {
        let auth = token.map_or(String::new(), |t| format!("\r\nauthorization: Bearer {t}"));
        self.request(
            &format!("POST {path} HTTP/1.1\r\ncontent-type: application/json{auth}"),
            body,
        )
    }

    /// The raw answer (head and body) to a GET.
    pub fn get(&self, path: &str) -> String {
        self.request(&format!("GET {path} HTTP/1.1"), "")
    }

    fn request(&self, head: &str, body: &str) -> String {
        let mut stream = std::net::TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let request = format!(
            "{head}\r\nhost: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        answer
    }

    /// Stops it with SIGKILL.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
