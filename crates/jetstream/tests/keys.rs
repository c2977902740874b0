//! The members' keys of a cluster (`JetStreamKeys`) on a real 3-server cluster: what one
//! node seals another opens, and a member forgotten through one node is forgotten on the
//! other, its key purged from the bucket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sparkfeed_domain::{KeyStore, SharedKeys};
use sparkfeed_jetstream::JetStreamKeys;
use sparkfeed_testkit::ids::user;
use sparkfeed_testkit::nats::NatsCluster;

/// A node's key store: its own directory, cached from the cluster's bucket.
fn node(cluster: &NatsCluster, dir: &std::path::Path) -> (Arc<KeyStore>, Arc<JetStreamKeys>) {
    let shared = Arc::new(
        JetStreamKeys::open(cluster.urls(), 3, Duration::from_secs(30)).expect("the bucket opens"),
    );
    let cluster_keys: Arc<dyn SharedKeys> = shared.clone();
    let keys = Arc::new(
        KeyStore::open(dir)
            .expect("key store")
            .shared_with(cluster_keys)
            .expect("shared"),
    );
    shared.follow_forgets(Arc::clone(&keys));
    (keys, shared)
}

#[test]
fn what_one_node_seals_another_opens_until_the_member_is_forgotten_anywhere() {
    let cluster = NatsCluster::start(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, _a_bucket) = node(&cluster, &dir.path().join("a"));
    let (b, b_bucket) = node(&cluster, &dir.path().join("b"));
    let ana = user("uana");
    let sealed = a.seal(&ana, "Ana López").expect("seals on A");
    assert_eq!(
        b.unseal(&sealed).expect("opens").as_deref(),
        Some("Ana López")
    );
    let handle = sparkfeed_testkit::ids::handle("ana");
    assert_eq!(
        a.handle_stream(&handle),
        b.handle_stream(&handle),
        "one pepper for the cluster: a handle is reserved under one stream"
    );
    // Two nodes sealing for a new member at once end with one key between them.
    let bob = user("ubob");
    let (on_a, on_b) = std::thread::scope(|s| {
        let first = s.spawn(|| a.seal(&bob, "from a").expect("seals"));
        let second = s.spawn(|| b.seal(&bob, "from b").expect("seals"));
        (first.join().expect("a"), second.join().expect("b"))
    });
    assert_eq!(b.unseal(&on_a).expect("opens").as_deref(), Some("from a"));
    assert_eq!(a.unseal(&on_b).expect("opens").as_deref(), Some("from b"));

    a.forget(&ana).expect("forgets on A");
    assert_eq!(a.unseal(&sealed).expect("no error"), None);
    assert_eq!(
        b_bucket.get("key.uana").expect("reads the bucket"),
        None,
        "the key is gone from the cluster"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.unseal(&sealed).expect("no error").is_some() {
        assert!(Instant::now() < deadline, "node B forgot ana within 30 s");
        std::thread::yield_now();
    }
    assert!(b.is_forgotten(&ana).expect("reads"));
    assert!(
        b.seal(&ana, "again").is_err(),
        "nothing new is sealed for her on B"
    );
    assert_eq!(b.unseal(&on_b).expect("opens").as_deref(), Some("from b"));
}
