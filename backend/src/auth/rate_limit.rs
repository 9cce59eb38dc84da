//! Token-bucket rate limiting per key (operation + client address), in memory per replica.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Keyed token buckets.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    refill_per_sec: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Entries kept before idle buckets are pruned.
const PRUNE_AT: usize = 100_000;

impl RateLimiter {
    /// `per_minute` requests a minute per key, with bursts up to `burst`.
    pub fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            capacity: f64::from(burst.max(1)),
            refill_per_sec: f64::from(per_minute) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; false when the bucket is empty.
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, Instant::now())
    }

    /// Whether `key` has a token left, without taking it.
    pub fn has_token(&self, key: &str) -> bool {
        let now = Instant::now();
        let buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        buckets.get(key).is_none_or(|(tokens, at)| {
            *tokens + now.duration_since(*at).as_secs_f64() * self.refill_per_sec >= 1.0
        })
    }

    fn allow_at(&self, key: &str, now: Instant) -> bool {
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= PRUNE_AT {
            let (cap, rate) = (self.capacity, self.refill_per_sec);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < cap
            });
        }
        let (tokens, at) = buckets
            .entry(key.to_owned())
            .or_insert((self.capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.refill_per_sec)
            .min(self.capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills_per_key() {
        let limiter = RateLimiter::new(60, 3);
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.allow_at("a", t0)));
        assert!(!limiter.allow_at("a", t0));
        assert!(limiter.allow_at("b", t0), "keys are independent");
        assert!(
            limiter.allow_at("a", t0 + Duration::from_millis(1100)),
            "one token a second"
        );
        assert!(!limiter.allow_at("a", t0 + Duration::from_millis(1200)));
    }
}
