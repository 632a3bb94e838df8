//! The retry budget and back-off schedule (§6.5).

use super::RetryPlan;

/// The queue-wide retry budget and back-off (§6.5). Defaults: 4 attempts in
/// total; waits of 5 s, 10 s, 20 s, ... doubling, capped at 1 h; no jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, >= 1; 1 disables retries.
    pub max_attempts: i32,
    /// The wait before the first retry, in ms.
    pub backoff_base_ms: i64,
    /// The longest wait, in ms.
    pub backoff_cap_ms: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            backoff_base_ms: 5_000,
            backoff_cap_ms: 3_600_000,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry_count` (1 for the first retry):
    /// min(cap, base × 2^(retry_count − 1)).
    pub fn backoff_ms(&self, retry_count: i32) -> i64 {
        let doublings = u32::try_from(retry_count.saturating_sub(1))
            .unwrap_or(0)
            .min(62);
        let wait = self.backoff_base_ms.saturating_mul(1i64 << doublings);
        wait.min(self.backoff_cap_ms)
    }

    /// What the budget says about an attempt that ends now as Retry or as a
    /// lease expiry, for an operation whose `retry_count` is `retry_count` before
    /// it. A retry time asked for by the handler wins, but never earlier than now.
    pub fn plan(&self, retry_count: i32, now: i64, requested_at: Option<i64>) -> RetryPlan {
        let after = retry_count.saturating_add(1);
        let at = match requested_at {
            Some(t) => t.max(now),
            None => now.saturating_add(self.backoff_ms(after)),
        };
        RetryPlan {
            exhausted: after >= self.max_attempts,
            at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_base_and_stops_at_cap() {
        let p = RetryPolicy::default();
        let waits: Vec<i64> = (1..=12).map(|n| p.backoff_ms(n)).collect();
        assert_eq!(
            waits,
            [
                5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000,
                2_560_000, 3_600_000, 3_600_000
            ]
        );
        // Huge retry counts and bases saturate instead of overflowing.
        assert_eq!(p.backoff_ms(i32::MAX), 3_600_000);
        let big = RetryPolicy {
            max_attempts: 100,
            backoff_base_ms: i64::MAX / 2,
            backoff_cap_ms: i64::MAX,
        };
        assert_eq!(big.backoff_ms(50), i64::MAX);
    }

    #[test]
    fn plan_counts_this_attempt_and_honours_requested_time() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.plan(0, 1_000, None),
            RetryPlan {
                exhausted: false,
                at: 6_000
            }
        );
        assert_eq!(
            p.plan(2, 1_000, None),
            RetryPlan {
                exhausted: false,
                at: 21_000
            }
        );
        assert_eq!(
            p.plan(3, 1_000, None),
            RetryPlan {
                exhausted: true,
                at: 41_000
            }
        );
        assert_eq!(p.plan(0, 1_000, Some(50_000)).at, 50_000);
        assert_eq!(
            p.plan(0, 1_000, Some(10)).at,
            1_000,
            "never earlier than now"
        );
        let once = RetryPolicy {
            max_attempts: 1,
            ..p
        };
        assert!(
            once.plan(0, 0, None).exhausted,
            "max_attempts 1 disables retries"
        );
    }
}
