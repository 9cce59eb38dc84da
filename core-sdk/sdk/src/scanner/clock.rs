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
    fn reads_a_plausible_time() {
        // 2020-01-01 and 2200-01-01: the device clock is somewhere in between.
        assert!((1_577_836_800_000..7_258_118_400_000).contains(&now_ms()));
    }
}
