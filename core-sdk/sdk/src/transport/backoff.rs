//! Exponential back-off with full jitter (each delay drawn uniformly in `[0, cap]`, the cap
//! doubling per attempt), so clients that failed together do not retry together.

use std::time::Duration;

use rand::Rng;

use super::RetryPolicy;

/// Delays between the attempts of one call.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    attempt: u32,
}

impl Backoff {
    /// A fresh schedule.
    pub fn new(policy: RetryPolicy) -> Backoff {
        Backoff { policy, attempt: 0 }
    }

    /// The ceiling of the delay before retry number `attempt` (0-based).
    pub fn cap(policy: &RetryPolicy, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        policy
            .base_delay
            .saturating_mul(factor)
            .min(policy.max_delay)
    }

    /// The delay before the next attempt, or `None` when attempts are used up.
    pub fn next_delay(&mut self) -> Option<Duration> {
        // Attempt n+1 follows n retries; the first attempt is not counted here.
        if self.attempt + 1 >= self.policy.max_attempts {
            return None;
        }
        let cap = Backoff::cap(&self.policy, self.attempt);
        self.attempt += 1;
        let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Some(Duration::from_millis(rand::rng().random_range(0..=millis)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_jittered_under_a_doubling_capped_ceiling_and_run_out() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        assert_eq!(Backoff::cap(&policy, 0), Duration::from_millis(100));
        assert_eq!(Backoff::cap(&policy, 1), Duration::from_millis(200));
        assert_eq!(Backoff::cap(&policy, 2), Duration::from_millis(300));
        assert_eq!(Backoff::cap(&policy, 40), Duration::from_millis(300));
        let mut backoff = Backoff::new(policy);
        let delays: Vec<Duration> = std::iter::from_fn(|| backoff.next_delay()).collect();
        assert_eq!(delays.len(), 4, "five attempts, four waits");
        for (i, d) in delays.iter().enumerate() {
            assert!(*d <= Backoff::cap(&policy, i as u32));
        }
    }

    #[test]
    fn one_attempt_means_no_retry() {
        let mut backoff = Backoff::new(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
        assert_eq!(backoff.next_delay(), None);
    }
}
