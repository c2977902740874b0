//! Catch-up-then-live subscriptions that pull from the store.
//!
//! A subscription remembers only the next position it owes its reader. It reads a page of
//! durable events from the store, hands them out, and when it has caught up with the
//! committed head it waits for the head to move. Catch-up and live are the same code path,
//! so there is no hand-over at which an event could be skipped or repeated, and a slow
//! reader holds at most one page in memory however far the writer runs ahead.

use std::collections::VecDeque;

use sparkfeed_events::{Position, RecordedEvent};
use tokio::sync::watch;

use crate::records::read_range;
use crate::{LogError, LogHead};

/// How many events a subscription reads from the store at a time.
pub const SUBSCRIPTION_PAGE: usize = 256;

/// Every durable event from a position on, in order, exactly once.
pub struct Subscription {
    tree: std::sync::Arc<sled::Tree>,
    head: watch::Receiver<LogHead>,
    next: Position,
    page: VecDeque<RecordedEvent>,
}

impl Subscription {
    pub(crate) fn new(
        tree: std::sync::Arc<sled::Tree>,
        head: watch::Receiver<LogHead>,
        from: Position,
    ) -> Self {
        Self {
            tree,
            head,
            next: from,
            page: VecDeque::new(),
        }
    }

    /// The next event; waits for one when caught up. `None` once the log has closed and
    /// every durable event was delivered.
    pub async fn next(&mut self) -> Option<Result<RecordedEvent, LogError>> {
        loop {
            if let Some(event) = self.page.pop_front() {
                return Some(Ok(event));
            }
            let len = self.head.borrow_and_update().len;
            if self.next.0 < len {
                match read_range(&self.tree, self.next, SUBSCRIPTION_PAGE, len) {
                    Ok(events) => {
                        self.next = Position(self.next.0 + events.len() as u64);
                        self.page.extend(events);
                    }
                    Err(e) => return Some(Err(e)),
                }
                continue;
            }
            if self.head.changed().await.is_err() {
                // The writer is gone; deliver anything it committed before leaving.
                if self.next.0 < self.head.borrow().len {
                    continue;
                }
                return None;
            }
        }
    }

    /// The next events, up to `max`: waits for the first, then takes whatever else is
    /// durable already without waiting. `None` once the log has closed and all was delivered.
    pub async fn next_batch(&mut self, max: usize) -> Option<Result<Vec<RecordedEvent>, LogError>> {
        let first = match self.next().await? {
            Ok(event) => event,
            Err(e) => return Some(Err(e)),
        };
        let mut batch = vec![first];
        while batch.len() < max {
            if let Some(event) = self.page.pop_front() {
                batch.push(event);
                continue;
            }
            let len = self.head.borrow().len;
            if self.next.0 >= len {
                break;
            }
            match read_range(&self.tree, self.next, SUBSCRIPTION_PAGE, len) {
                Ok(events) => {
                    self.next = Position(self.next.0 + events.len() as u64);
                    self.page.extend(events);
                }
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(batch))
    }

    /// The position of the next event this subscription will deliver.
    pub fn position(&self) -> Position {
        Position(self.next.0 - self.page.len() as u64)
    }

    /// How many events are read from the store but not yet delivered (at most one page).
    pub fn buffered(&self) -> usize {
        self.page.len()
    }
}
