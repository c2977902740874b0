//! Caps on WebSockets: how many sockets one member holds open, and how many subscriptions
//! one socket runs.
//!
//! Invariant: a slot is held by a guard; dropping the guard (the socket closing, the
//! subscription's stream ending or being replaced) frees it, so a count never drifts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sparkfeed_domain::UserId;

use crate::error::ApiError;

/// The open sockets of every member.
#[derive(Debug)]
pub struct MemberSockets {
    open: Mutex<HashMap<UserId, usize>>,
    max: usize,
}

impl MemberSockets {
    /// At most `max` open sockets per member.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            open: Mutex::default(),
            max: max.max(1),
        })
    }

    /// A slot for one more socket of `user`, or `TOO_MANY_SOCKETS` when they hold the most
    /// already.
    pub fn take(self: &Arc<Self>, user: &UserId) -> Result<MemberSocket, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(user.clone()).or_default();
        if *count >= self.max {
            return Err(ApiError::TooMany {
                code: "TOO_MANY_SOCKETS",
                reason: format!("a member holds at most {} open WebSockets", self.max),
            });
        }
        *count += 1;
        Ok(MemberSocket {
            sockets: Arc::clone(self),
            user: user.clone(),
        })
    }

    /// How many sockets `user` holds open.
    pub fn open(&self, user: &UserId) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(user).copied().unwrap_or(0)
    }
}

/// One open socket of a member; dropping it frees the slot.
#[derive(Debug)]
pub struct MemberSocket {
    sockets: Arc<MemberSockets>,
    user: UserId,
}

impl Drop for MemberSocket {
    fn drop(&mut self) {
        let mut open = self.sockets.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// The subscriptions of one socket (kept in the connection's data).
#[derive(Debug)]
pub struct SubscriptionSlots {
    open: Arc<AtomicUsize>,
    max: usize,
}

impl SubscriptionSlots {
    /// At most `max` subscriptions at once.
    pub fn new(max: usize) -> Self {
        Self {
            open: Arc::default(),
            max: max.max(1),
        }
    }

    /// A slot for one more subscription, or `TOO_MANY_SUBSCRIPTIONS`.
    pub fn take(&self) -> Result<SubscriptionSlot, ApiError> {
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(SubscriptionSlot(Arc::clone(&self.open))),
            Err(_) => Err(ApiError::TooMany {
                code: "TOO_MANY_SUBSCRIPTIONS",
                reason: format!("a WebSocket runs at most {} subscriptions", self.max),
            }),
        }
    }
}

/// One running subscription; dropping it (with its stream) frees the slot.
#[derive(Debug)]
pub struct SubscriptionSlot(Arc<AtomicUsize>);

impl Drop for SubscriptionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_holds_at_most_max_sockets_and_a_closed_one_frees_its_slot() {
        let sockets = MemberSockets::new(2);
        let ana = UserId::parse("uana").unwrap_or_else(|e| panic!("{e}"));
        let bob = UserId::parse("ubob").unwrap_or_else(|e| panic!("{e}"));
        let first = sockets.take(&ana).ok();
        let _second = sockets.take(&ana).ok();
        assert!(first.is_some());
        assert_eq!(
            sockets.take(&ana).err().map(|e| e.code()),
            Some("TOO_MANY_SOCKETS")
        );
        assert!(sockets.take(&bob).is_ok(), "another member is not counted");
        drop(first);
        assert_eq!(sockets.open(&ana), 1);
        assert!(sockets.take(&ana).is_ok());
    }

    #[test]
    fn a_socket_runs_at_most_max_subscriptions_and_an_ended_one_frees_its_slot() {
        let slots = SubscriptionSlots::new(2);
        let a = slots.take().ok();
        let _b = slots.take().ok();
        assert_eq!(
            slots.take().err().map(|e| e.code()),
            Some("TOO_MANY_SUBSCRIPTIONS")
        );
        drop(a);
        assert!(slots.take().is_ok());
    }
}
