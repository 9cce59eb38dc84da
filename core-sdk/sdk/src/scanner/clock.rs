//! The device clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Device time in unix milliseconds. A clock set before 1970 reads as negative.
pub fn now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_system_clock_in_milliseconds() {
        // Compared with another reading of the clock (chrono's), not with itself: a reading
        // in seconds or microseconds, or a sign error, is off by orders of magnitude.
        let before = chrono::Utc::now().timestamp_millis();
        let read = now_ms();
        let after = chrono::Utc::now().timestamp_millis();
        assert!(
            (before..=after).contains(&read),
            "{read} not in {before}..={after}"
        );
    }
}
