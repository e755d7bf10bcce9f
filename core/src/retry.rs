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
    /// The widget's token renewal: the first retry after about a second, doubling, five attempts
    /// within a minute, each abandoned after 10 s without an answer (a 429's `Retry-After` is
    /// waited whole on top of this: [`Retried`]).
    pub const RENEWAL: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        base_delay_ms: 1_000,
        max_delay_ms: 16_000,
        attempt_timeout_ms: 10_000,
        budget_ms: 60_000,
    };

    /// The widget's sends: a message whose send failed for a reason that can pass (no answer, a
    /// 5xx, a 429, the realtime link down) goes again by itself, after about a second, doubling
    /// to at most 30 s, for at least two minutes (the budget governs: no retry starts past
    /// 150 s, and the last one starts after 120 s), before it shows "Not sent." with Retry.
    pub const SEND: RetryPolicy = RetryPolicy {
        max_attempts: 40,
        base_delay_ms: 1_000,
        max_delay_ms: 30_000,
        attempt_timeout_ms: 20_000,
        budget_ms: 150_000,
    };

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

/// After this long going again, a message shows "Waiting for the network…", not "Sending…".
pub const SEND_PATIENT_MS: u64 = 10_000;

/// A retry loop that a server may ask to wait (429 with `Retry-After`): the widget's token
/// renewal. A wait the server asked for is taken whole, however long (up to
/// [`Retried::MAX_ASKED_WAIT_MS`]), and the policy starts afresh after it, since the server said
/// when to come back; at most [`Retried::MAX_ASKED_WAITS`] such waits in a row. Other failures
/// back off by the policy, within its attempts and budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retried {
    policy: RetryPolicy,
    attempt: u32,
    started_ms: u64,
    asked_waits: u32,
}

/// How an attempt of a [`Retried`] loop failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptFailure {
    /// The server refused for now and asked to come back after this long (`None`: it did not
    /// say; the caller's default applies).
    Busy { retry_after_ms: u64 },
    /// No answer within the attempt's timeout, a network error, or an answer that can change.
    Failed,
}

impl Retried {
    /// The longest wait a server may ask for (10 minutes).
    pub const MAX_ASKED_WAIT_MS: u64 = 600_000;
    /// The most asked waits in a row before giving up.
    pub const MAX_ASKED_WAITS: u32 = 3;

    /// A loop whose first attempt starts at `now_ms`.
    pub fn new(policy: RetryPolicy, now_ms: u64) -> Retried {
        Retried {
            policy,
            attempt: 1,
            started_ms: now_ms,
            asked_waits: 0,
        }
    }

    /// The attempt that just ran failed at `now_ms`: the wait before the next one, or `None`
    /// to give up (`jitter` in 0..1).
    pub fn after(&mut self, failure: AttemptFailure, now_ms: u64, jitter: f64) -> Option<u64> {
        match failure {
            AttemptFailure::Busy { retry_after_ms } => {
                if self.asked_waits >= Self::MAX_ASKED_WAITS {
                    return None;
                }
                self.asked_waits += 1;
                let wait = retry_after_ms.clamp(1_000, Self::MAX_ASKED_WAIT_MS);
                self.attempt = 1;
                self.started_ms = now_ms + wait;
                Some(wait)
            }
            AttemptFailure::Failed => {
                self.asked_waits = 0;
                self.attempt += 1;
                let elapsed = now_ms.saturating_sub(self.started_ms);
                self.policy
                    .delay_before(self.attempt, jitter, None, elapsed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENEWAL: RetryPolicy = RetryPolicy::RENEWAL;

    #[test]
    fn a_wait_the_server_asks_for_is_taken_whole_even_past_the_budget_then_the_policy_starts_again()
    {
        let mut r = Retried::new(RENEWAL, 0);
        // The Worker's renewal limit answers 429 with Retry-After: 60, the whole budget: the
        // plain policy would give up here (never past the budget).
        assert_eq!(RENEWAL.delay_before(2, 1.0, Some(60_000), 0), None);
        let busy = AttemptFailure::Busy {
            retry_after_ms: 60_000,
        };
        assert_eq!(r.after(busy, 100, 0.5), Some(60_000));
        // After the wait, failures back off by the policy from the first retry again.
        assert_eq!(r.after(AttemptFailure::Failed, 60_200, 1.0), Some(1_000));
        assert_eq!(r.after(AttemptFailure::Failed, 61_300, 1.0), Some(2_000));
    }

    #[test]
    fn asked_waits_are_bounded_in_length_and_in_number() {
        let mut r = Retried::new(RENEWAL, 0);
        let asked = |ms| AttemptFailure::Busy { retry_after_ms: ms };
        assert_eq!(
            r.after(asked(3_600_000), 0, 0.5),
            Some(600_000),
            "at most 10 minutes"
        );
        assert_eq!(
            r.after(asked(0), 600_000, 0.5),
            Some(1_000),
            "at least a second"
        );
        assert_eq!(r.after(asked(5_000), 601_000, 0.5), Some(5_000));
        assert_eq!(
            r.after(asked(5_000), 606_000, 0.5),
            None,
            "three in a row, then give up"
        );
    }

    #[test]
    fn plain_failures_stay_within_the_policy() {
        let mut r = Retried::new(RENEWAL, 0);
        let mut now = 0;
        let mut waits = Vec::new();
        while let Some(wait) = r.after(AttemptFailure::Failed, now, 1.0) {
            waits.push(wait);
            now += wait + 10_000; // each attempt timed out
        }
        assert_eq!(waits, [1_000, 2_000, 4_000, 8_000], "five attempts in all");
        let mut slow = Retried::new(RENEWAL, 0);
        assert_eq!(
            slow.after(AttemptFailure::Failed, 59_500, 1.0),
            None,
            "none past the budget"
        );
    }

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

    #[test]
    fn a_failing_send_goes_again_for_at_least_two_minutes() {
        for jitter in [0.0, 0.5, 1.0] {
            let mut retried = Retried::new(RetryPolicy::SEND, 0);
            let mut now = 0;
            let mut waits = Vec::new();
            while let Some(wait) = retried.after(AttemptFailure::Failed, now, jitter) {
                waits.push(wait);
                now += wait;
            }
            assert!(
                (120_000..150_000).contains(&now),
                "gave up at {now} ms ({jitter})"
            );
            assert!(
                waits[0] <= 1_000 && waits.iter().all(|&w| w <= 30_000),
                "{waits:?}"
            );
        }
    }
}
