//! The members' keys of a cluster, in a replicated JetStream key-value bucket: every API
//! node seals and opens personal data with the same keys, and a member forgotten through
//! one node is forgotten on all of them.
//!
//! Keys never enter the log (forgetting a member destroys their key, and the log keeps
//! everything). The bucket keeps one revision per name, so destroying a key purges the
//! only copy the cluster holds, on every replica.
//!
//! Invariant: the domain's calls are synchronous and come from the API's runtime, so the
//! bucket is driven by a runtime of its own: a call waits on a channel for the answer,
//! never blocking the runtime that serves the bucket's connection.
//! Invariant: a forgotten marker seen in the bucket (put by any node) makes this node
//! destroy its cached key and every value it opened with it (`KeyStore::forget_here`).

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use async_nats::jetstream::kv::{self, CreateErrorKind, Operation};
use async_nats::jetstream::stream;
use futures_util::StreamExt;
use sparkfeed_domain::{Failure, KeyStore, SharedKeys, UserId};

use crate::JetStreamError;

/// The bucket's name.
pub const KEYS_BUCKET: &str = "SPARKFEED_KEYS";

/// The members' keys in the cluster's key-value bucket.
pub struct JetStreamKeys {
    bucket: kv::Store,
    /// Some until dropped; shut down without waiting, as the last handle may go inside the
    /// API's runtime, where a blocking shutdown would panic.
    runtime: Option<tokio::runtime::Runtime>,
    timeout: Duration,
}

impl Drop for JetStreamKeys {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn failure(e: impl std::fmt::Display) -> Failure {
    Failure::Keys(format!("the cluster's key bucket: {e}"))
}

impl JetStreamKeys {
    /// Connects to `servers` and opens (or creates) the bucket with `replicas` replicas.
    pub fn open(
        servers: Vec<String>,
        replicas: usize,
        timeout: Duration,
    ) -> Result<Self, JetStreamError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sparkfeed-keys")
            .enable_all()
            .build()
            .map_err(|e| JetStreamError::Connect(format!("a runtime for the key bucket: {e}")))?;
        let opened = std::thread::scope(|scope| {
            scope
                .spawn(|| runtime.block_on(open_bucket(servers, replicas, timeout)))
                .join()
        });
        let bucket = match opened {
            Ok(Ok(bucket)) => bucket,
            Ok(Err(e)) => {
                runtime.shutdown_background();
                return Err(e);
            }
            Err(_) => {
                runtime.shutdown_background();
                return Err(JetStreamError::Connect(
                    "opening the key bucket panicked".into(),
                ));
            }
        };
        Ok(Self {
            bucket,
            runtime: Some(runtime),
            timeout,
        })
    }

    /// Runs `work` on the bucket's runtime and waits for its answer, up to the timeout.
    fn call<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, Failure>> + Send + 'static,
    ) -> Result<T, Failure> {
        let (answer, answered) = std_mpsc::sync_channel(1);
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| failure("the key bucket is closed"))?;
        runtime.spawn(async move {
            let _ = answer.send(work.await);
        });
        answered
            .recv_timeout(self.timeout)
            .map_err(|_| failure(format!("no answer within {:?}", self.timeout)))?
    }

    /// Follows the bucket's forgotten markers for as long as the keys live: each one
    /// destroys this node's copy of that member's key.
    pub fn follow_forgets(&self, keys: Arc<KeyStore>) {
        let Some(runtime) = &self.runtime else {
            return;
        };
        let bucket = self.bucket.clone();
        runtime.spawn(async move {
            let mut retry = tokio::time::interval(Duration::from_secs(1));
            loop {
                retry.tick().await;
                let mut watch = match bucket.watch_with_history("forgotten.>").await {
                    Ok(watch) => watch,
                    Err(e) => {
                        tracing::warn!(error = %e, "watching forgotten members: retrying");
                        continue;
                    }
                };
                while let Some(entry) = watch.next().await {
                    let Ok(entry) = entry else { break };
                    if entry.operation != Operation::Put {
                        continue;
                    }
                    let Some(id) = entry.key.strip_prefix("forgotten.") else {
                        continue;
                    };
                    match UserId::parse(id) {
                        Ok(user) => {
                            if let Err(e) = keys.forget_here(&user) {
                                tracing::error!(error = %e, %user, "forgetting a member here");
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, key = %entry.key, "a bad marker"),
                    }
                }
            }
        });
    }
}

async fn open_bucket(
    servers: Vec<String>,
    replicas: usize,
    timeout: Duration,
) -> Result<kv::Store, JetStreamError> {
    let client = async_nats::ConnectOptions::new()
        .name("sparkfeed-keys")
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(Duration::from_secs(5)))
        .connect(servers)
        .await
        .map_err(|e| JetStreamError::Connect(e.to_string()))?;
    let context = async_nats::jetstream::new(client);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut retry = tokio::time::interval(Duration::from_millis(250));
    loop {
        retry.tick().await;
        // The bucket's stream as async-nats' `create_key_value` makes it; made here because
        // that call first reads the account's limits in a form nats-server 2.9 does not
        // answer ("data did not match any variant of untagged enum Response").
        let made = context
            .get_or_create_stream(stream::Config {
                name: format!("KV_{KEYS_BUCKET}"),
                description: Some("sparkfeed: the members' keys (never in the log)".into()),
                subjects: vec![format!("$KV.{KEYS_BUCKET}.>")],
                max_messages_per_subject: 1,
                storage: stream::StorageType::File,
                allow_rollup: true,
                deny_delete: true,
                deny_purge: false,
                allow_direct: true,
                discard: stream::DiscardPolicy::New,
                num_replicas: replicas,
                ..Default::default()
            })
            .await;
        let bucket = match made {
            Ok(_) => context
                .get_key_value(KEYS_BUCKET)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match bucket {
            Ok(bucket) => return Ok(bucket),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(error = %e, "the key bucket is not ready yet");
            }
            Err(e) => return Err(JetStreamError::Stream(format!("the key bucket: {e}"))),
        }
    }
}

impl SharedKeys for JetStreamKeys {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, Failure> {
        let bucket = self.bucket.clone();
        let name = name.to_owned();
        self.call(async move {
            let value = bucket.get(name).await.map_err(failure)?;
            Ok(value.map(|v| v.to_vec()))
        })
    }

    fn create(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, Failure> {
        let bucket = self.bucket.clone();
        let name = name.to_owned();
        let value = bytes::Bytes::copy_from_slice(value);
        self.call(async move {
            match bucket.create(&name, value.clone()).await {
                Ok(_) => Ok(value.to_vec()),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => bucket
                    .get(name.clone())
                    .await
                    .map_err(failure)?
                    .map(|v| v.to_vec())
                    .ok_or_else(|| failure(format!("{name} exists and cannot be read"))),
                Err(e) => Err(failure(e)),
            }
        })
    }

    fn destroy(&self, key: &str, marker: &str) -> Result<(), Failure> {
        let bucket = self.bucket.clone();
        let (key, marker) = (key.to_owned(), marker.to_owned());
        self.call(async move {
            bucket
                .put(&marker, bytes::Bytes::from_static(b"1"))
                .await
                .map_err(failure)?;
            bucket.purge(&key).await.map_err(failure)?;
            Ok(())
        })
    }
}
