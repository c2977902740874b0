//! Rate limits on mutations: a token bucket per member and one per client address.
//!
//! Invariant: a bucket holds at most `burst` tokens and gains `per_second` tokens a
//! second; a mutation takes one token or is refused with `RATE_LIMITED` and the wait until
//! the next token (`Retry-After`), writing nothing.
//! Invariant: memory is bounded: past [`MAX_TRACKED`] keys, buckets that have refilled
//! (idle keys) are forgotten, which loses nothing, since a full bucket is a new one.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sparkfeed_domain::UserId;

/// Keys tracked per limiter before idle ones are forgotten.
pub const MAX_TRACKED: usize = 100_000;

/// How fast one key may go: `per_second` sustained, `burst` at once. Zero `per_second`
/// turns the limit off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Tokens gained per second.
    pub per_second: f64,
    /// The most tokens held.
    pub burst: u32,
}

impl RateLimit {
    /// No limit.
    pub const OFF: RateLimit = RateLimit {
        per_second: 0.0,
        burst: 0,
    };

    /// Whether the limit is in force.
    pub fn is_on(&self) -> bool {
        self.per_second > 0.0 && self.per_second.is_finite()
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by key.
#[derive(Debug)]
pub struct Limiter<K> {
    limit: RateLimit,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// Buckets of `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::default(),
        }
    }

    /// Takes a token of `key` at `now`, or answers how long until one is there.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if !self.limit.is_on() {
            return Ok(());
        }
        let burst = f64::from(self.limit.burst.max(1));
        let rate = self.limit.per_second;
        let refilled = |b: &Bucket| {
            let gained = now.saturating_duration_since(b.at).as_secs_f64() * rate;
            (b.tokens + gained).min(burst)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(key) {
            buckets.retain(|_, b| refilled(b) < burst);
            if buckets.len() >= MAX_TRACKED {
                // Every tracked key is busy: forget them all rather than grow.
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let tokens = refilled(bucket);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            Err(Duration::try_from_secs_f64((1.0 - tokens) / rate).unwrap_or(Duration::MAX))
        }
    }

    /// Keys tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// The key of an address: itself for IPv4, its /64 for IPv6 (one host usually holds a
/// whole /64, and could otherwise rotate through it).
fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    }
}

/// The address a request came from (set by the accept loop).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

/// The limits on mutations.
#[derive(Debug)]
pub struct MutationRates {
    /// Per signed-in member.
    pub by_member: Limiter<UserId>,
    /// Per client address (signed in or not; an IPv6 address counts as its /64).
    pub by_address: Limiter<IpAddr>,
}

impl MutationRates {
    /// Limits of `member` and `address`.
    pub fn new(member: RateLimit, address: RateLimit) -> Self {
        Self {
            by_member: Limiter::new(member),
            by_address: Limiter::new(address),
        }
    }

    /// Takes a token for one mutation by `member` from `address`; the error is how long
    /// to wait.
    pub fn take(&self, member: Option<&UserId>, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        if let Some(address) = address {
            self.by_address.take(&network_of(address), now)?;
        }
        if let Some(member) = member {
            self.by_member.take(member, now)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_one_token_per_interval() {
        let limiter = Limiter::new(RateLimit {
            per_second: 10.0,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(&"ana", t0), Ok(()));
        }
        let wait = limiter.take(&"ana", t0).expect_err("over the burst");
        assert!(
            wait <= Duration::from_millis(100) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert_eq!(limiter.take(&"bob", t0), Ok(()), "keys are apart");
        assert_eq!(
            limiter.take(&"ana", t0 + Duration::from_millis(100)),
            Ok(())
        );
        assert!(
            limiter
                .take(&"ana", t0 + Duration::from_millis(100))
                .is_err()
        );
    }

    #[test]
    fn an_off_limit_never_refuses_and_tracks_nothing() {
        let limiter = Limiter::new(RateLimit::OFF);
        let now = Instant::now();
        for _ in 0..1_000 {
            assert_eq!(limiter.take(&1u32, now), Ok(()));
        }
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn idle_keys_are_forgotten_past_the_cap() {
        let limiter = Limiter::new(RateLimit {
            per_second: 1.0,
            burst: 1,
        });
        let t0 = Instant::now();
        for key in 0..MAX_TRACKED {
            let _ = limiter.take(&key, t0);
        }
        assert_eq!(limiter.tracked(), MAX_TRACKED);
        // A second later every bucket has refilled: they are forgotten for a new key.
        let later = t0 + Duration::from_secs(2);
        assert_eq!(limiter.take(&usize::MAX, later), Ok(()));
        assert_eq!(limiter.tracked(), 1);
    }
}
