//! The log's signed tree heads, as the server publishes them: at least every
//! `Limits::tree_head_every`, and whenever one is asked for (`treeHead`) after the log grew.

use std::sync::Arc;
use std::time::Duration;

use sparkfeed_eventlog::{Log, LogError, SharedLog};
use sparkfeed_treehead::{HeadKey, PublicKey, SignedTreeHead, now_micros};
use tokio::sync::watch;

/// The signing key and the last head published with it.
///
/// Invariant: a published head's tree is a prefix of every later one's (heads are signed
/// over durable sizes only, and the log only grows), so any two of them have a consistency
/// proof.
pub struct TreeHeads {
    key: HeadKey,
    every: Duration,
    published: watch::Sender<Option<Arc<SignedTreeHead>>>,
}

impl TreeHeads {
    /// Heads signed with `key`, published at least every `every`.
    pub fn new(key: HeadKey, every: Duration) -> Self {
        Self {
            key,
            every,
            published: watch::Sender::new(None),
        }
    }

    /// The key auditors check heads with.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The durable log's head: the last published one while the log has not grown since
    /// and it is younger than the publishing interval, else a new one, signed and published.
    ///
    /// # Errors
    /// A [`LogError`] when the tree's root cannot be read.
    pub fn current(&self, log: &dyn Log) -> Result<Arc<SignedTreeHead>, LogError> {
        let size = log.head().len;
        if let Some(last) = self.published.borrow().as_ref()
            && last.tree_size == size
            && now_micros().saturating_sub(last.timestamp_micros) < micros(self.every)
        {
            return Ok(Arc::clone(last));
        }
        self.publish(log)
    }

    /// Signs the durable log's head now and publishes it.
    ///
    /// # Errors
    /// A [`LogError`] when the tree's root cannot be read.
    pub fn publish(&self, log: &dyn Log) -> Result<Arc<SignedTreeHead>, LogError> {
        let size = log.head().len;
        let root = log.tree_root(size)?;
        let head = Arc::new(self.key.sign(size, root, now_micros()));
        // A head signed meanwhile over a bigger tree stays the published one.
        self.published.send_if_modified(|last| match last {
            Some(l) if l.tree_size > head.tree_size => false,
            _ => {
                *last = Some(Arc::clone(&head));
                true
            }
        });
        tracing::info!(tree_size = head.tree_size, root = %head.root_hash, "published a signed tree head");
        Ok(head)
    }

    /// Every head published from now on (the last one first, if any).
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<SignedTreeHead>>> {
        self.published.subscribe()
    }

    /// Publishes a head at least every interval, for as long as the task runs.
    pub async fn run(self: Arc<Self>, log: SharedLog) {
        let mut ticks = tokio::time::interval(self.every.max(Duration::from_millis(10)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let heads = Arc::clone(&self);
            let log = log.clone();
            let signed = tokio::task::spawn_blocking(move || heads.current(log.as_ref())).await;
            if let Ok(Err(e)) = signed {
                tracing::warn!(error = %e, "could not publish a signed tree head");
            }
        }
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}
