//! How a ticket type's stock is split into counter buckets.
//!
//! Each bucket is one database row. A hold decrements one bucket chosen at random, so
//! concurrent buyers of a hot ticket type contend on different rows instead of queueing on
//! one (PostgreSQL tops out near 900 decrements a second on a single hot row on a 2-core
//! machine, about 4,000 across 16). Small ticket types keep one bucket: splitting them would
//! only fragment the last few tickets.

/// Most buckets per ticket type.
pub const MAX_BUCKETS: i64 = 16;
/// Fewest tickets per bucket before a ticket type is split further.
pub const MIN_PER_BUCKET: i64 = 64;

/// How many buckets a ticket type of `capacity` gets.
pub fn bucket_count(capacity: i64) -> i64 {
    (capacity / MIN_PER_BUCKET).clamp(1, MAX_BUCKETS)
}

/// The stock of each bucket: `capacity` spread evenly, the remainder on the first buckets.
pub fn split(capacity: i64) -> Vec<i64> {
    let n = bucket_count(capacity);
    let capacity = capacity.max(0);
    (0..n)
        .map(|i| capacity / n + i64::from(i < capacity % n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_types_keep_one_bucket_and_large_ones_cap_at_sixteen() {
        assert_eq!(split(10), vec![10]);
        assert_eq!(split(127), vec![127]);
        assert_eq!(split(130), vec![65, 65]);
        assert_eq!(split(1_000_000).len(), 16);
    }

    #[test]
    fn split_conserves_capacity_and_is_even() {
        for capacity in [1, 63, 64, 100, 999, 1_001, 12_345, 10_000_000] {
            let parts = split(capacity);
            assert_eq!(parts.iter().sum::<i64>(), capacity);
            let (min, max) = (parts.iter().min(), parts.iter().max());
            assert!(
                max.zip(min).is_some_and(|(a, b)| a - b <= 1),
                "{capacity}: {parts:?}"
            );
        }
    }
}
