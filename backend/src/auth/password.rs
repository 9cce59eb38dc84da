//! Password hashing with argon2id (OWASP parameters: m=19 MiB, t=2, p=1), off the async
//! workers, at most one hash per core at a time: each takes 19 MiB and a core for tens of
//! milliseconds, so a burst of log-ins waits its turn instead of exhausting memory on the
//! blocking pool.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

/// Shortest accepted password, in characters.
pub const MIN_LEN: usize = 10;
/// Longest accepted password, in bytes (bounds hashing work per request).
pub const MAX_BYTES: usize = 256;

/// Why hashing failed (never the password's fault: inputs are checked before).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashFailure;

/// Hashes running now, and the most seen at once since the process started.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// How many hashes may run at once: the machine's available parallelism.
pub fn max_concurrent() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The most hashes that ran at once since the process started (never above
/// [`max_concurrent`]).
pub fn peak_concurrent() -> usize {
    PEAK.load(Ordering::Relaxed)
}

fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(max_concurrent()))
}

/// Runs `work` on the blocking pool once a hashing permit is free.
async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _permit = permits().acquire().await.ok()?;
    tokio::task::spawn_blocking(move || {
        let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
        let out = work();
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        out
    })
    .await
    .ok()
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string with a fresh random salt.
pub async fn hash(password: String) -> Result<String, HashFailure> {
    bounded(move || {
        let hash: PasswordHash = hasher()
            .hash_password(password.as_bytes())
            .map_err(|_| HashFailure)?;
        Ok(hash.to_string())
    })
    .await
    .ok_or(HashFailure)?
}

/// Checks a password against a stored PHC string. With no stored hash (unknown account), a
/// fixed dummy hash is checked instead so that both paths cost the same time.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    bounded(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let ok = hasher()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok();
        ok && known
    })
    .await
    .unwrap_or(false)
}

/// argon2id hash of a random string nobody knows, with the production parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1nO6ZT2sy/w5AyY8TQ8fM2Y0Ng2qmXQ3mEVgULBhQwI";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let a = hash("correct horse battery".into())
            .await
            .unwrap_or_else(|e| panic!("hash: {e}"));
        let b = hash("correct horse battery".into())
            .await
            .unwrap_or_else(|e| panic!("hash: {e}"));
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b);
        assert!(verify("correct horse battery".into(), Some(a.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(a)).await);
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify("anything at all".into(), None).await);
    }
}
