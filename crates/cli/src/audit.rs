//! The auditors' commands: signed heads and proofs written as JSON files
//! (`sparkfeed head --signed`, `sparkfeed prove`), checked offline with nothing but the
//! files and the log's public key (`sparkfeed check-proof`, `sparkfeed check-consistency`),
//! and `sparkfeed verify --against` a head saved earlier.
//!
//! Invariant: no command here writes the log. A directory no process holds is read from a
//! copy taken under its lock, with no recovery (`sparkfeed_eventlog::offline`); one a server
//! holds is asked through that server's public GraphQL fields.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use sparkfeed_eventlog::offline::{OfflineLog, OfflineVerify, open_dir};
use sparkfeed_events::{Hash, Position, RecordedEvent, codec};
use sparkfeed_treehead::{
    CheckError, ConsistencyProofFile, HeadKey, InclusionProofFile, PUBLIC_KEY_FILE, PublicKey,
    RecordFile, SignedTreeHead, now_micros,
};

/// Opens `dir`'s log from a copy in a scratch directory beside it; the scratch directory
/// lives as long as the answer.
fn offline(dir: &Path) -> anyhow::Result<(OfflineLog, tempfile::TempDir)> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let scratch = tempfile::tempdir_in(parent).context("a scratch directory beside the data")?;
    let log = open_dir(dir, &scratch.path().join("copy"))
        .with_context(|| format!("reading the log in {}", dir.display()))?;
    Ok((log, scratch))
}

/// The signed head of the log in `data_dir`: read from a copy and signed with the
/// directory's key when no process holds it, else the running server's `treeHead`.
pub fn signed_head(data_dir: &Path) -> anyhow::Result<SignedTreeHead> {
    match offline(data_dir) {
        Ok((log, _scratch)) => {
            let key = HeadKey::load_or_create(data_dir).context("the tree heads' signing key")?;
            let size = log.head().len;
            let root = log.tree_root(size)?;
            Ok(key.sign(size, root, now_micros()))
        }
        Err(e) if crate::remote::is_locked(&e) => on_server(data_dir, remote_head),
        Err(e) => Err(e),
    }
}

/// What `sparkfeed prove` asks for.
pub enum ProofRequest {
    /// That the record at a position is in the tree of a size (the head's by default).
    Inclusion {
        /// The record's position.
        position: u64,
        /// The tree's size.
        size: Option<u64>,
    },
    /// That the tree of `from` records is a prefix of the tree of a size.
    Consistency {
        /// The older size.
        from: u64,
        /// The newer size.
        size: Option<u64>,
    },
}

/// A proof, as `sparkfeed prove` writes it.
pub enum Proof {
    /// An inclusion proof, and the record it is about (when read from the directory).
    Inclusion(InclusionProofFile, Option<RecordFile>),
    /// A consistency proof.
    Consistency(ConsistencyProofFile),
}

/// Computes a proof from a copy of `data_dir`'s log, or, when a server holds it, asks that
/// server (`inclusionProof`, `consistencyProof`: public). The record an inclusion proof is
/// about comes only from the directory itself (`None` through a server).
pub fn prove(data_dir: &Path, request: &ProofRequest) -> anyhow::Result<Proof> {
    let (log, _scratch) = match offline(data_dir) {
        Ok(opened) => opened,
        Err(e) if crate::remote::is_locked(&e) => {
            return on_server(data_dir, async |server| remote_proof(server, request).await);
        }
        Err(e) => return Err(e),
    };
    let head = log.head().len;
    match *request {
        ProofRequest::Inclusion { position, size } => {
            let size = size.unwrap_or(head);
            let hashes = log.inclusion_proof(Position(position), size)?;
            let bytes = log.leaf_bytes(Position(position))?;
            let event = log.read(Position(position))?;
            let proof = InclusionProofFile {
                position,
                tree_size: size,
                leaf_hash: sparkfeed_merkle::leaf_hash(&bytes),
                root_hash: log.tree_root(size)?,
                hashes,
            };
            let record = RecordFile {
                position,
                record_bytes: bytes,
                event: export_line(&event)?,
            };
            Ok(Proof::Inclusion(proof, Some(record)))
        }
        ProofRequest::Consistency { from, size } => {
            let to = size.unwrap_or(head);
            let hashes = log.consistency_proof(from, to)?;
            Ok(Proof::Consistency(ConsistencyProofFile {
                from_size: from,
                to_size: to,
                from_root: log.tree_root(from)?,
                to_root: log.tree_root(to)?,
                hashes,
            }))
        }
    }
}

/// The event as one line of `sparkfeed export` shows it, as JSON.
fn export_line(event: &RecordedEvent) -> anyhow::Result<serde_json::Value> {
    let upcasters = sparkfeed_domain::events::upcasters();
    let data = sparkfeed_api::export::decode(&upcasters, event)
        .map_err(|e| anyhow::anyhow!("decoding the event at {}: {e}", event.record.position))?;
    let mut line = Vec::new();
    sparkfeed_api::export::write_line(&mut line, event, &data)
        .map_err(|e| anyhow::anyhow!("encoding the event at {}: {e}", event.record.position))?;
    serde_json::from_slice(&line).context("the export line")
}

/// Writes `value` as pretty JSON to `path` (stdout for `-` or none), through a temporary
/// file renamed at the end.
pub fn write_json(value: &impl Serialize, path: Option<&Path>) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("JSON")?;
    text.push('\n');
    match path.filter(|p| *p != Path::new("-")) {
        None => crate::say_raw(&text),
        Some(path) => {
            let partial = PathBuf::from(format!("{}.partial", path.display()));
            std::fs::write(&partial, text)
                .with_context(|| format!("writing {}", partial.display()))?;
            std::fs::rename(&partial, path)
                .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))
        }
    }
}

/// Reads a JSON file of type `T`, naming the file in any error.
pub fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a {what} file", path.display()))
}

/// A public key: 64 hex digits given as they are, or a file holding them (such as a data
/// directory's `tree-head-key.pub`).
pub fn public_key(given: &str) -> anyhow::Result<PublicKey> {
    let text = match PublicKey::parse(given) {
        Ok(key) => return Ok(key),
        Err(_) => std::fs::read_to_string(given)
            .with_context(|| format!("{given:?} is neither 64 hex digits nor a readable file"))?,
    };
    PublicKey::parse(&text).map_err(|e| anyhow::anyhow!("{given}: {e}"))
}

/// The public key of `data_dir` (its `tree-head-key.pub`).
pub fn directory_key(data_dir: &Path) -> anyhow::Result<PublicKey> {
    public_key(&data_dir.join(PUBLIC_KEY_FILE).display().to_string())
}

/// Checks an inclusion proof offline: the head's signature, the path, and, with a record,
/// that its bytes are the proof's leaf and hold the event it shows.
pub fn check_proof(
    head: &SignedTreeHead,
    proof: &InclusionProofFile,
    record: Option<&RecordFile>,
    key: &PublicKey,
) -> Result<(), CheckError> {
    sparkfeed_treehead::check_inclusion(head, proof, record, key)?;
    if let Some(record) = record {
        check_event(record)?;
    }
    Ok(())
}

/// That a record file's `event` is what its bytes hold (not an edited copy).
fn check_event(record: &RecordFile) -> Result<(), CheckError> {
    let mismatch = |why: String| CheckError::RecordMismatch(why);
    let decoded = codec::decode_record(&record.record_bytes)
        .map_err(|e| mismatch(format!("the record's bytes do not decode: {e}")))?;
    let hash = record
        .event
        .get("hash")
        .and_then(|h| h.as_str())
        .and_then(|h| sparkfeed_treehead::hex::decode_hash(h).ok())
        .unwrap_or(Hash::GENESIS);
    let shown = export_line(&RecordedEvent {
        record: decoded,
        hash,
    })
    .map_err(|e| mismatch(format!("{e:#}")))?;
    if shown != record.event {
        return Err(mismatch(
            "its `event` is not what its bytes hold: the event was edited".to_string(),
        ));
    }
    Ok(())
}

/// What `verify --against` found for one saved head.
pub struct AgainstHead {
    /// The saved head.
    pub head: SignedTreeHead,
    /// Whether the log still extends it.
    pub extends: bool,
    /// Why not, in words.
    pub problem: Option<String>,
}

/// Verifies `data_dir`'s log from a copy (chain, indexes, Merkle tree) and checks that it
/// still extends each saved head: the head's signature under `key`, the root of its first
/// `treeSize` records recomputed from the records, and a consistency proof from the stored
/// tree to today's head.
pub fn verify_against(
    data_dir: &Path,
    heads: &[SignedTreeHead],
    key: &PublicKey,
) -> anyhow::Result<(OfflineVerify, Vec<AgainstHead>)> {
    let (log, _scratch) = offline(data_dir)?;
    let now = log.head().len;
    let current_root = log.tree_root(now).ok();
    // The stored tree's answers, taken before `verify` consumes the copy.
    let stored: Vec<Option<Result<(), CheckError>>> = heads
        .iter()
        .map(|h| {
            if h.tree_size == 0 || h.tree_size > now {
                return None;
            }
            let hashes = log.consistency_proof(h.tree_size, now).ok()?;
            let root = current_root?;
            Some(
                sparkfeed_merkle::verify_consistency(
                    h.tree_size,
                    now,
                    &h.root_hash,
                    &root,
                    &hashes,
                )
                .map_err(CheckError::from),
            )
        })
        .collect();
    let sizes: Vec<u64> = heads.iter().map(|h| h.tree_size).collect();
    let found = log
        .verify(&sizes, |_| {})
        .with_context(|| format!("verifying the log in {}", data_dir.display()))?;
    let mut verdicts: Vec<AgainstHead> = heads
        .iter()
        .zip(stored)
        .map(|(head, stored)| {
            let problem = judge(head, key, now, &found, stored);
            AgainstHead {
                head: head.clone(),
                extends: problem.is_none(),
                problem,
            }
        })
        .collect();
    locate(&mut verdicts, &found);
    Ok((found, verdicts))
}

/// Why the log does not extend `head`, if it does not.
fn judge(
    head: &SignedTreeHead,
    key: &PublicKey,
    now: u64,
    found: &OfflineVerify,
    stored: Option<Result<(), CheckError>>,
) -> Option<String> {
    if let Err(e) = head.verify(key) {
        return Some(format!(
            "the saved head does not check out ({}): {e}",
            e.code()
        ));
    }
    if head.tree_size > now {
        return Some(format!(
            "the log holds {now} records, fewer than the head's {}: records were removed",
            head.tree_size
        ));
    }
    let recomputed = found
        .report
        .roots
        .iter()
        .find(|(size, _)| *size == head.tree_size)
        .map(|(_, root)| *root);
    match recomputed {
        Some(root) if root != head.root_hash => {
            return Some(format!(
                "the first {} records hash to root {root}, the head signed {}: a record below \
                 position {} was changed",
                head.tree_size, head.root_hash, head.tree_size
            ));
        }
        Some(_) => {}
        None if head.tree_size == 0 => {}
        None => {
            let at = found
                .report
                .tamper
                .as_ref()
                .map_or("?".to_string(), |t| t.position.to_string());
            return Some(format!(
                "the records below {} could not all be read back (the log is damaged at \
                 position {at})",
                head.tree_size
            ));
        }
    }
    match stored {
        Some(Err(e)) => Some(format!(
            "the stored tree has no consistency proof from the head to today's ({}): {e}",
            e.code()
        )),
        _ => None,
    }
}

/// Narrows where a failed head's change is: the damaged position verify named, when it is
/// below the head, else between the largest saved head the log still extends and it.
fn locate(verdicts: &mut [AgainstHead], found: &OfflineVerify) {
    let damaged = found.report.tamper.as_ref().map(|t| t.position.0);
    let held = verdicts
        .iter()
        .filter(|v| v.extends)
        .map(|v| v.head.tree_size)
        .max()
        .unwrap_or(0);
    for verdict in verdicts.iter_mut().filter(|v| !v.extends) {
        let size = verdict.head.tree_size;
        let Some(problem) = verdict.problem.as_mut() else {
            continue;
        };
        match damaged {
            Some(at) if at < size => problem.push_str(&format!("; the change is at position {at}")),
            _ if held < size && size > 0 => problem.push_str(&format!(
                "; the change is at a position in {held}..={} (the largest saved head the log \
                 still extends has {held} records)",
                size - 1
            )),
            _ => {}
        }
    }
}

/// Runs `ask` against the server holding `data_dir`.
fn on_server<T>(
    data_dir: &Path,
    ask: impl AsyncFnOnce(&str) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let address = crate::remote::address_file(data_dir);
    let server = std::fs::read_to_string(&address)
        .with_context(|| format!("a process holds {} and left no address", data_dir.display()))?
        .trim()
        .to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(ask(&server))
}

/// A proof from the server (public: no token).
async fn remote_proof(server: &str, request: &ProofRequest) -> anyhow::Result<Proof> {
    match *request {
        ProofRequest::Inclusion { position, size } => {
            let query = "query($p: Int64!, $n: Int64) { inclusionProof(position: $p, treeSize: $n) \
                         { position treeSize leafHash rootHash hashes } }";
            let vars = json!({ "p": position, "n": size });
            let data = crate::http::graphql(server, "", query, vars).await?;
            let proof = serde_json::from_value(data["inclusionProof"].clone())
                .context("the server's inclusionProof")?;
            Ok(Proof::Inclusion(proof, None))
        }
        ProofRequest::Consistency { from, size } => {
            let query = "query($m: Int64!, $n: Int64) { consistencyProof(fromSize: $m, toSize: $n) \
                         { fromSize toSize fromRoot toRoot hashes } }";
            let vars = json!({ "m": from, "n": size });
            let data = crate::http::graphql(server, "", query, vars).await?;
            let proof = serde_json::from_value(data["consistencyProof"].clone())
                .context("the server's consistencyProof")?;
            Ok(Proof::Consistency(proof))
        }
    }
}

/// The server's signed head (public: no token).
async fn remote_head(server: &str) -> anyhow::Result<SignedTreeHead> {
    let query = "{ treeHead { treeSize rootHash timestampMicros publicKey signature } }";
    let data = crate::http::graphql(server, "", query, json!({})).await?;
    serde_json::from_value(data["treeHead"].clone()).context("the server's treeHead")
}
