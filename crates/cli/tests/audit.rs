//! The auditors' commands as an auditor runs them: a signed head saved, a proof written,
//! both checked offline with nothing but the files and the public key; and a history
//! rewritten behind the log's back, caught against the head saved before.

mod common;

use std::path::{Path, PathBuf};

use common::sparkfeed;
use serde_json::Value;
use sparkfeed_eventlog::{Config, EventLog, keys, records};
use sparkfeed_events::{Hash, Position, codec};
use sparkfeed_testkit::log::files_of;
use sparkfeed_treehead::{HeadKey, SignedTreeHead};

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A small world seeded through the domain into `root/data`: a few hundred real events.
fn seeded(root: &Path) -> PathBuf {
    let size = sparkfeed_seed::Size {
        products: 12,
        members: 6,
        visitors: 2,
        enthusiasts: 2,
        posts: 20,
        activity: 120,
    };
    let world = root.join("world");
    sparkfeed_seed::generate(7, size)
        .write(&world)
        .expect("world written");
    let data = root.join("data");
    let (code, out, err) = sparkfeed(&["seed", s(&world), "--data-dir", s(&data)]);
    assert_eq!(code, 0, "{out}{err}");
    data
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("reads")).expect("json")
}

fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).expect("json")).expect("writes");
}

/// `value` with one hex digit of the string at `pointer` changed.
fn flipped(value: &Value, pointer: &str, at: usize) -> Value {
    let mut value = value.clone();
    let text = value
        .pointer(pointer)
        .and_then(Value::as_str)
        .expect("a string")
        .to_owned();
    let mut chars: Vec<char> = text.chars().collect();
    chars[at] = if chars[at] == '0' { '1' } else { '0' };
    *value.pointer_mut(pointer).expect("present") = Value::String(chars.into_iter().collect());
    value
}

fn check_proof(
    root: &Path,
    head: &Value,
    proof: &Value,
    record: &Value,
    key: &str,
) -> (i32, String) {
    let (h, p, r) = (
        root.join("h.json"),
        root.join("p.json"),
        root.join("r.json"),
    );
    write(&h, head);
    write(&p, proof);
    write(&r, record);
    let args = [
        "check-proof",
        "--head",
        s(&h),
        "--proof",
        s(&p),
        "--record",
        s(&r),
    ];
    let (code, out, err) = sparkfeed(&[args.as_slice(), &["--public-key", key]].concat());
    (code, format!("{out}{err}"))
}

#[test]
fn an_inclusion_proof_checks_out_offline_and_fails_after_one_changed_byte_anywhere() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = seeded(root.path());
    let key_file = data.join("tree-head-key.pub");
    let (head_file, proof_file, record_file) = (
        root.path().join("head.json"),
        root.path().join("proof.json"),
        root.path().join("record.json"),
    );
    let (code, _, err) = sparkfeed(&[
        "head",
        "--signed",
        "--data-dir",
        s(&data),
        "-o",
        s(&head_file),
    ]);
    assert_eq!(code, 0, "{err}");
    let head = read(&head_file);
    let size = head["treeSize"].as_u64().expect("size");
    let position = (size * 2 / 3).to_string();
    let (code, _, err) = sparkfeed(&[
        "prove",
        &position,
        "--data-dir",
        s(&data),
        "-o",
        s(&proof_file),
        "--record-out",
        s(&record_file),
    ]);
    assert_eq!(code, 0, "{err}");
    let (proof, record) = (read(&proof_file), read(&record_file));
    assert_eq!(record["event"]["position"].to_string(), position);
    let key = std::fs::read_to_string(&key_file).expect("public key");
    let key = key.trim();

    // As saved: it holds, with the key as a file or as hex.
    let (code, said) = check_proof(root.path(), &head, &proof, &record, s(&key_file));
    assert_eq!(code, 0, "{said}");
    assert!(
        said.starts_with(&format!(
            "ok: the record at position {position} is in the tree of {size} records"
        )),
        "{said}"
    );
    assert_eq!(check_proof(root.path(), &head, &proof, &record, key).0, 0);

    // One changed digit anywhere fails, with the reason's code.
    let cases = [
        (
            head.clone(),
            proof.clone(),
            flipped(&record, "/recordBytes", 40),
            "RECORD_MISMATCH",
        ),
        (
            head.clone(),
            flipped(&proof, "/hashes/0", 7),
            record.clone(),
            "ROOT_MISMATCH",
        ),
        (
            head.clone(),
            flipped(&proof, "/leafHash", 0),
            record.clone(),
            "RECORD_MISMATCH",
        ),
        (
            flipped(&head, "/rootHash", 3),
            proof.clone(),
            record.clone(),
            "BAD_SIGNATURE",
        ),
        (
            flipped(&head, "/signature", 11),
            proof.clone(),
            record.clone(),
            "BAD_SIGNATURE",
        ),
    ];
    for (head, proof, record, code_wanted) in cases {
        let (code, said) = check_proof(root.path(), &head, &proof, &record, key);
        assert_eq!(code, 2, "{said}");
        assert!(
            said.contains(&format!("FAILED ({code_wanted})")),
            "{code_wanted}: {said}"
        );
    }
    // The event shown beside the bytes edited: the bytes are the leaf, the event is not theirs.
    let mut edited = record.clone();
    edited["event"]["actor"] = Value::String("someone-else".into());
    let (code, said) = check_proof(root.path(), &head, &proof, &edited, key);
    assert_eq!(code, 2);
    assert!(
        said.contains("FAILED (RECORD_MISMATCH)") && said.contains("edited"),
        "{said}"
    );
    // A size changed in the head, a truncated proof, a truncated file.
    let mut resized = head.clone();
    resized["treeSize"] = Value::from(size + 1);
    let (code, said) = check_proof(root.path(), &resized, &proof, &record, key);
    assert_eq!(
        (code, said.contains("FAILED (BAD_SIGNATURE)")),
        (2, true),
        "{said}"
    );
    let mut truncated = proof.clone();
    truncated["hashes"].as_array_mut().expect("hashes").pop();
    let (code, said) = check_proof(root.path(), &head, &truncated, &record, key);
    assert_eq!(
        (code, said.contains("FAILED (BAD_PROOF_LENGTH)")),
        (2, true),
        "{said}"
    );
    let text = std::fs::read_to_string(&proof_file).expect("reads");
    std::fs::write(&proof_file, text.get(..text.len() / 2).expect("half")).expect("writes");
    let (code, _, err) = sparkfeed(&[
        "check-proof",
        "--head",
        s(&head_file),
        "--proof",
        s(&proof_file),
        "--public-key",
        key,
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("FAILED (UNREADABLE)") && err.contains("is not a inclusion proof file"),
        "{err}"
    );
    // A head naming another key (a changed digit may not even be a key: another key's hex).
    let mut renamed = head.clone();
    renamed["publicKey"] =
        Value::String(HeadKey::generate().expect("key").public_key().to_string());
    let (code, said) = check_proof(root.path(), &renamed, &proof, &record, key);
    assert_eq!(
        (code, said.contains("FAILED (KEY_MISMATCH)")),
        (2, true),
        "{said}"
    );
    // Another log's key.
    let other = HeadKey::generate().expect("key").public_key().to_string();
    let (code, said) = check_proof(root.path(), &head, &proof, &record, &other);
    assert_eq!(
        (code, said.contains("FAILED (KEY_MISMATCH)")),
        (2, true),
        "{said}"
    );
}

#[test]
fn proofs_past_the_head_or_of_an_empty_tree_are_refused_and_nothing_is_written() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = seeded(root.path());
    let before = files_of(&data);
    for args in [
        vec!["prove", "999999"],
        vec!["prove", "3", "--size", "0"],
        vec!["prove", "--from-size", "0"],
        vec!["prove", "--from-size", "999999"],
    ] {
        let (code, out, err) = sparkfeed(&[args.as_slice(), &["--data-dir", s(&data)]].concat());
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(out.is_empty(), "{out}");
        assert!(
            err.contains("past the head")
                || err.contains("is not in a tree of size")
                || err.contains("nothing to prove")
                || err.contains("cannot grow into"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(files_of(&data), before, "a refused proof wrote nothing");
}

#[test]
fn a_newer_head_extends_an_older_one_checked_offline() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = seeded(root.path());
    let (old, new) = (root.path().join("old.json"), root.path().join("new.json"));
    // A head of the log when it held 100 events, as the server would have signed it then.
    write_head(&data, 100, &old);
    let (code, _, err) = sparkfeed(&["head", "--signed", "--data-dir", s(&data), "-o", s(&new)]);
    assert_eq!(code, 0, "{err}");
    let proof = root.path().join("consistency.json");
    let (code, _, err) = sparkfeed(&[
        "prove",
        "--from-size",
        "100",
        "--to-head",
        s(&new),
        "--data-dir",
        s(&data),
        "-o",
        s(&proof),
    ]);
    assert_eq!(code, 0, "{err}");
    let key = data.join("tree-head-key.pub");
    let (code, out, err) = check_consistency(&old, &new, &proof, &key);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing below position 100 changed"), "{out}");
    // Swapped heads, and one changed hash of the proof.
    let (code, _, err) = check_consistency(&new, &old, &proof, &key);
    assert_eq!(
        (code, err.contains("FAILED (WRONG_TREE)")),
        (2, true),
        "{err}"
    );
    write(&proof, &flipped(&read(&proof), "/hashes/0", 9));
    let (code, _, err) = check_consistency(&old, &new, &proof, &key);
    assert_eq!(
        (code, err.contains("FAILED (ROOT_MISMATCH)")),
        (2, true),
        "{err}"
    );
}

/// Runs `sparkfeed check-consistency OLD NEW PROOF --public-key KEY`.
fn check_consistency(old: &Path, new: &Path, proof: &Path, key: &Path) -> (i32, String, String) {
    sparkfeed(&[
        "check-consistency",
        s(old),
        s(new),
        s(proof),
        "--public-key",
        s(key),
    ])
}

/// Signs the head of the first `size` records of the closed log in `data` with its key.
fn write_head(data: &Path, size: u64, path: &Path) -> SignedTreeHead {
    let log = EventLog::open(Config::new(data)).expect("opens");
    let root = log.tree_root(size).expect("root");
    let head = HeadKey::load_or_create(data)
        .expect("key")
        .sign(size, root, 1_795_000_000_000_000);
    std::fs::write(path, serde_json::to_string(&head).expect("json")).expect("writes");
    head
}

/// Rewrites the payload of the record at `position` and reseals the chain from there to
/// the end, as someone holding the files would: today's chain check passes.
fn rewrite_history(data: &Path, position: u64) {
    let db = sled::open(data.join("sled")).expect("raw sled");
    let tree = db.open_tree("log").expect("tree");
    let stored = |p: u64| {
        records::stored(&tree, Position(p))
            .expect("reads")
            .map(|s| s.bytes().to_vec())
    };
    let mut prev = match position {
        0 => Hash::GENESIS,
        p => {
            codec::open(&stored(p - 1).expect("present"))
                .expect("opens")
                .hash
        }
    };
    let mut p = position;
    while let Some(bytes) = stored(p) {
        let mut event = codec::open(&bytes).expect("opens");
        if p == position {
            let last = event.record.payload.len() - 1;
            event.record.payload[last] ^= 1;
        }
        let (resealed, hash) = codec::seal(&event.record, &prev).expect("seals");
        records::rewrite_stored(&tree, Position(p), &resealed).expect("writes");
        prev = hash;
        p += 1;
    }
    db.flush().expect("flushes");
}

#[test]
fn a_rewritten_history_is_caught_against_a_head_saved_before_and_named() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = seeded(root.path());
    let saved = root.path().join("saved.json");
    let (code, _, err) = sparkfeed(&["head", "--signed", "--data-dir", s(&data), "-o", s(&saved)]);
    assert_eq!(code, 0, "{err}");
    let size = read(&saved)["treeSize"].as_u64().expect("size");
    let rewritten = size / 2;
    rewrite_history(&data, rewritten);

    // The chain was resealed; the stored Merkle leaf was not: verify names the record, and
    // the saved head is not extended.
    let (code, out, _) = sparkfeed(&["verify", "--data-dir", s(&data), "--against", s(&saved)]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!("TAMPERED at position {rewritten}")),
        "{out}"
    );
    assert!(out.contains("THE LOG DOES NOT EXTEND THIS HEAD"), "{out}");
    assert!(
        out.contains(&format!("the change is at position {rewritten}")),
        "{out}"
    );

    // Now the whole Merkle tree is rebuilt from the rewritten records too (opening a log
    // with no tree builds one): the log is consistent with itself, and plain verify is
    // fooled. Heads signed before still catch it.
    let below = root.path().join("below.json");
    let at = root.path().join("at.json");
    write_head_before_rewrite(&data, rewritten, &below, &at);
    {
        let db = sled::open(data.join("sled")).expect("raw sled");
        let tree = db.open_tree("log").expect("tree");
        for key in tree.scan_prefix(keys::tree_prefix()).keys() {
            tree.remove(key.expect("key")).expect("removes");
        }
        db.flush().expect("flushes");
    }
    drop(EventLog::open(Config::new(&data)).expect("opens, building the tree again"));
    let (code, out, err) = sparkfeed(&["verify", "--data-dir", s(&data)]);
    assert_eq!(code, 0, "plain verify is fooled: {out}{err}");

    let before = files_of(&data);
    let (code, out, err) = sparkfeed(&[
        "verify",
        "--data-dir",
        s(&data),
        "--against",
        s(&below),
        "--against",
        s(&at),
        "--against",
        s(&saved),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains(&format!(
            "below.json: the log extends this head ({rewritten} records"
        )),
        "{out}"
    );
    assert!(
        out.contains("at.json: THE LOG DOES NOT EXTEND THIS HEAD"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "the change is at a position in {rewritten}..={rewritten}"
        )),
        "the heads either side name the position: {out}"
    );
    assert!(
        out.contains("saved.json: THE LOG DOES NOT EXTEND THIS HEAD"),
        "{out}"
    );
    assert_eq!(files_of(&data), before, "verify --against wrote nothing");
}

/// Heads of the first `position` and `position + 1` records as they were before the
/// rewrite: signed from the leaves the stored tree still holds at level 0.
fn write_head_before_rewrite(data: &Path, position: u64, below: &Path, at: &Path) {
    // The stored tree still has the original leaves (only records were rewritten), so the
    // log's own roots at those sizes are the roots the server signed back then.
    write_head(data, position, below);
    write_head(data, position + 1, at);
}

#[test]
fn sparkfeed_forget_forgets_once_refuses_twice_and_unknown_and_the_log_still_verifies() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = seeded(root.path());
    let (code, before, _) = sparkfeed(&["head", "--data-dir", s(&data)]);
    assert_eq!(code, 0);
    let (code, out, err) = sparkfeed(&["forget", "u0003", "--data-dir", s(&data)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("forgot u0003: MemberForgotten at position"),
        "{out}"
    );
    let (_, after, _) = sparkfeed(&["head", "--data-dir", s(&data)]);
    assert_ne!(before, after, "one event appended");
    for (user, code_wanted) in [("u0003", "ALREADY_FORGOTTEN"), ("u9999", "UNKNOWN_USER")] {
        let (code, _, err) = sparkfeed(&["forget", user, "--data-dir", s(&data)]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(&format!("refused ({code_wanted})")), "{err}");
    }
    let (code, _, err) = sparkfeed(&["forget", "not an id", "--data-dir", s(&data)]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not an id"), "{err}");
    let (_, unchanged, _) = sparkfeed(&["head", "--data-dir", s(&data)]);
    assert_eq!(unchanged, after, "refusals wrote nothing");
    let (code, out, err) = sparkfeed(&["verify", "--data-dir", s(&data)]);
    assert_eq!(code, 0, "{out}{err}");
}
