//! Retrying with bounds.

/// How hard a client tries again: bounded in attempts, each attempt's wait and the total, with
/// exponential backoff and jitter. One policy type for every retry loop: the Worker's REST
/// calls ([`RetryPolicy::DEFAULT`], which keeps a webhook within Twilio's timeout) and the
/// widget's token renewals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// An attempt that has no answer after this long is abandoned (and counts as retryable).
    pub attempt_timeout_ms: u64,
    /// No attempt starts after this long since the first one started.
    pub budget_ms: u64,
}

impl RetryPolicy {
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        base_delay_ms: 200,
        max_delay_ms: 1_000,
        attempt_timeout_ms: 2_500,
        budget_ms: 4_000,
    };

    /// The wait before attempt number `next_attempt` (2 for the first retry), or `None` to give
    /// up. Exponential backoff with "full jitter" (`jitter` in 0..1 scales the wait), never less
    /// than a `Retry-After` the server asked for, and never past the budget.
    pub fn delay_before(
        &self,
        next_attempt: u32,
        jitter: f64,
        retry_after_ms: Option<u64>,
        elapsed_ms: u64,
    ) -> Option<u64> {
        if next_attempt > self.max_attempts || next_attempt < 2 {
            return None;
        }
        let exponential = self
            .base_delay_ms
            .saturating_mul(1 << (next_attempt - 2).min(16))
            .min(self.max_delay_ms);
        let jittered = (exponential as f64 * jitter.clamp(0.0, 1.0)) as u64;
        let delay = jittered
            .max(exponential / 2)
            .max(retry_after_ms.unwrap_or(0));
        (elapsed_ms + delay < self.budget_ms).then_some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policy_backs_off_with_jitter_within_bounds() {
        let p = RetryPolicy::DEFAULT;
        assert_eq!(
            p.delay_before(1, 0.5, None, 0),
            None,
            "the first attempt is not a retry"
        );
        assert_eq!(p.delay_before(2, 1.0, None, 0), Some(200));
        assert_eq!(
            p.delay_before(2, 0.0, None, 0),
            Some(100),
            "at least half the backoff"
        );
        assert_eq!(p.delay_before(3, 1.0, None, 0), Some(400));
        assert_eq!(
            p.delay_before(4, 1.0, None, 0),
            None,
            "at most three attempts"
        );
        assert_eq!(
            p.delay_before(2, 0.0, Some(900), 0),
            Some(900),
            "Retry-After is honoured"
        );
        assert_eq!(
            p.delay_before(2, 1.0, None, 3_900),
            None,
            "never past the budget"
        );
        assert_eq!(p.delay_before(2, 1.0, Some(10_000), 0), None);
        let many = RetryPolicy {
            max_attempts: 40,
            ..p
        };
        assert_eq!(many.delay_before(39, 1.0, None, 0), Some(1_000), "capped");
        for jitter in [0.0, 0.3, 0.99, 1.0, 7.0, -1.0] {
            let d = p.delay_before(3, jitter, None, 0).unwrap();
            assert!((200..=400).contains(&d), "{jitter}: {d}");
        }
    }
}
