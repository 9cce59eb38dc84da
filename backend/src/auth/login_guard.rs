//! Log-in limits that stop guessing without handing attackers a way to lock people out.
//!
//! Three buckets, in memory per replica:
//! - **by address**: every attempt from one client address (several people may share it
//!   behind a NAT, so it is three times the configured rate);
//! - **by account and address**: every attempt at one account from one address, at the
//!   configured rate: one machine guessing one password;
//! - **by account**: failures only, from anywhere, with a burst of five times the configured
//!   burst refilled at a tenth of the rate: many machines guessing one password. When it is
//!   empty, only addresses this account has logged in from (in the last 30 days, on this
//!   replica) may still try, so an attacker spread over many addresses slows a victim's
//!   account down to a trickle of guesses but does not keep its owner out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::rate_limit::RateLimiter;

/// How long an address stays known after a successful log-in.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// Known addresses kept per account (the oldest is forgotten first).
const KNOWN_PER_ACCOUNT: usize = 8;
/// Accounts with known addresses kept before the stale ones are pruned.
const PRUNE_AT: usize = 100_000;

/// Which limit refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many attempts from this address.
    Address,
    /// Too many attempts at this account from this address.
    AccountAddress,
    /// Too many failures at this account, from an address it never logged in from.
    Account,
}

/// The log-in limiter.
#[derive(Debug)]
pub struct LoginGuard {
    by_address: RateLimiter,
    by_account_address: RateLimiter,
    account_failures: RateLimiter,
    known: Mutex<HashMap<String, Vec<(IpAddr, Instant)>>>,
}

/// An admitted attempt: report its outcome with [`LoginGuard::succeeded`] or
/// [`LoginGuard::failed`].
#[derive(Debug)]
#[must_use = "report the outcome of the attempt"]
pub struct Attempt {
    account: String,
    address: Option<IpAddr>,
}

impl LoginGuard {
    /// Limits from the configured log-in rate (`per_minute`, `burst`).
    pub fn new(per_minute: u32, burst: u32) -> LoginGuard {
        LoginGuard {
            by_address: RateLimiter::new(per_minute.saturating_mul(3), burst.saturating_mul(3)),
            by_account_address: RateLimiter::new(per_minute, burst),
            account_failures: RateLimiter::new(
                per_minute.div_ceil(10).max(1),
                burst.saturating_mul(5),
            ),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// Admits or refuses an attempt at `account` (normalised e-mail) from `client`.
    pub fn begin(&self, account: &str, client: &str) -> Result<Attempt, Refusal> {
        if !self.by_address.allow(&format!("a:{client}")) {
            return Err(Refusal::Address);
        }
        if !self
            .by_account_address
            .allow(&format!("{client} {account}"))
        {
            return Err(Refusal::AccountAddress);
        }
        let address = client.parse::<IpAddr>().ok();
        if !self.account_failures.has_token(account) && !self.is_known(account, address) {
            return Err(Refusal::Account);
        }
        Ok(Attempt {
            account: account.to_owned(),
            address,
        })
    }

    /// The password was right: the address becomes known for the account.
    pub fn succeeded(&self, attempt: Attempt) {
        let Some(address) = attempt.address else {
            return;
        };
        let now = Instant::now();
        let mut known = self.lock();
        if known.len() >= PRUNE_AT {
            known.retain(|_, list| {
                list.iter()
                    .any(|(_, at)| now.duration_since(*at) < KNOWN_FOR)
            });
        }
        let list = known.entry(attempt.account).or_default();
        list.retain(|(a, at)| *a != address && now.duration_since(*at) < KNOWN_FOR);
        if list.len() >= KNOWN_PER_ACCOUNT {
            list.remove(0);
        }
        list.push((address, now));
    }

    /// The password was wrong (or the account unknown): one failure against the account.
    pub fn failed(&self, attempt: Attempt) {
        let _ = self.account_failures.allow(&attempt.account);
    }

    fn is_known(&self, account: &str, address: Option<IpAddr>) -> bool {
        let Some(address) = address else {
            return false;
        };
        self.lock().get(account).is_some_and(|list| {
            list.iter()
                .any(|(a, at)| *a == address && at.elapsed() < KNOWN_FOR)
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<(IpAddr, Instant)>>> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_from_many_addresses_stop_strangers_but_not_the_owner() {
        let guard = LoginGuard::new(10, 2);
        let owner = guard
            .begin("ana@x.org", "192.0.2.1")
            .unwrap_or_else(|r| panic!("{r:?}"));
        guard.succeeded(owner);
        // Ten failures (five times the burst) from ten addresses empty the account's bucket.
        for i in 0..10 {
            let attempt = guard
                .begin("ana@x.org", &format!("198.51.100.{i}"))
                .unwrap_or_else(|r| panic!("{i}: {r:?}"));
            guard.failed(attempt);
        }
        assert_eq!(
            guard.begin("ana@x.org", "198.51.100.77").map(|_| ()),
            Err(Refusal::Account)
        );
        assert!(
            guard.begin("ana@x.org", "192.0.2.1").is_ok(),
            "known address"
        );
        assert!(
            guard.begin("bob@x.org", "198.51.100.77").is_ok(),
            "other accounts"
        );
    }

    #[test]
    fn one_address_is_limited_per_account_then_overall() {
        let guard = LoginGuard::new(1, 2);
        for _ in 0..2 {
            let a = guard
                .begin("a@x.org", "192.0.2.9")
                .unwrap_or_else(|r| panic!("{r:?}"));
            guard.failed(a);
        }
        assert_eq!(
            guard.begin("a@x.org", "192.0.2.9").map(|_| ()),
            Err(Refusal::AccountAddress)
        );
        for account in ["b@x.org", "c@x.org", "d@x.org"] {
            assert!(guard.begin(account, "192.0.2.9").is_ok(), "{account}");
        }
        assert_eq!(
            guard.begin("f@x.org", "192.0.2.9").map(|_| ()),
            Err(Refusal::Address)
        );
    }
}
