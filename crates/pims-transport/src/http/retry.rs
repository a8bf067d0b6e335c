//! The retry rules: which failures may be retried for which calls, capped exponential backoff
//! with full jitter, a retry budget shared by all calls of one transport, `Retry-After`, and the
//! overall deadline. The loop is generic over one attempt so its timing is tested with tokio's
//! paused clock, without sockets.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pims_types::{Message, Secret};
use rand::Rng;
use tokio::time::Instant;

use crate::error::{Deadline, TransportError};
use crate::token::TokenProvider;

/// How a call is retried.
///
/// Only pure reads ([`Call::may_repeat`](crate::Call::may_repeat), from the one table
/// [`pims_types::Repeat`]) are retried, on connect errors, resets, timeouts, 429 and 5xx. Any
/// other call (a secret, a side effect, or not known to be a pure read) is resent only when the
/// request provably never left (a connect failure). Nothing else is retried. All attempts and
/// waits fit in the overall deadline.
///
/// Waits are capped exponential backoff with full jitter: before retry `n` (1-based) the
/// transport waits a random time in `0..=min(max_backoff, initial_backoff * 2^(n-1))`, or the
/// backend's `Retry-After` if that is longer. A wait that would end past the overall deadline
/// is not started: the call fails at once with the last error.
///
/// The budget keeps an outage from multiplying traffic: each call adds
/// `budget_ratio` of a token (up to `budget_max` tokens, the starting balance), each retry
/// spends one, and a retry with no token left is not made.
///
/// ```
/// use std::time::Duration;
/// use pims_transport::RetryPolicy;
/// let policy = RetryPolicy::new()
///     .max_attempts(3)
///     .initial_backoff(Duration::from_millis(100))
///     .max_backoff(Duration::from_secs(2));
/// assert_eq!(policy.backoff_ceiling(1), Duration::from_millis(100));
/// assert_eq!(policy.backoff_ceiling(3), Duration::from_millis(400));
/// assert_eq!(policy.backoff_ceiling(10), Duration::from_secs(2));
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    budget_max: u32,
    budget_ratio: f64,
}

/// The most attempts a policy allows (values above are clamped).
pub const MAX_ATTEMPTS_LIMIT: u32 = 10;

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            budget_max: 10,
            budget_ratio: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The default policy: 3 attempts, backoff 100 ms doubling up to 2 s, a budget of 10
    /// retries refilled by a fifth of a retry per call.
    ///
    /// ```
    /// assert_eq!(pims_transport::RetryPolicy::new().attempts(), 3);
    /// ```
    pub fn new() -> Self {
        RetryPolicy::default()
    }

    /// No retries at all (one attempt).
    ///
    /// ```
    /// assert_eq!(pims_transport::RetryPolicy::none().attempts(), 1);
    /// ```
    pub fn none() -> Self {
        RetryPolicy::default().max_attempts(1)
    }

    /// The number of attempts, first one included (clamped to `1..=`[`MAX_ATTEMPTS_LIMIT`]).
    ///
    /// ```
    /// assert_eq!(pims_transport::RetryPolicy::new().max_attempts(0).attempts(), 1);
    /// ```
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.clamp(1, MAX_ATTEMPTS_LIMIT);
        self
    }

    /// The ceiling of the first wait.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = pims_transport::RetryPolicy::new().initial_backoff(Duration::from_millis(10));
    /// assert_eq!(p.backoff_ceiling(2), Duration::from_millis(20));
    /// ```
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The cap of every wait (a longer `Retry-After` is still honoured, within the deadline).
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = pims_transport::RetryPolicy::new().max_backoff(Duration::from_millis(150));
    /// assert_eq!(p.backoff_ceiling(5), Duration::from_millis(150));
    /// ```
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The retry budget: at most `max` retries in reserve (the starting balance), refilled by
    /// `ratio` of a retry per call (clamped to `0.0..=1.0`).
    ///
    /// ```
    /// // A transport that retries at most 5 times in a row, and then one call in ten.
    /// let p = pims_transport::RetryPolicy::new().budget(5, 0.1);
    /// # let _ = p;
    /// ```
    pub fn budget(mut self, max: u32, ratio: f64) -> Self {
        self.budget_max = max;
        self.budget_ratio = if ratio.is_finite() {
            ratio.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// The number of attempts this policy allows.
    ///
    /// ```
    /// assert_eq!(pims_transport::RetryPolicy::new().max_attempts(5).attempts(), 5);
    /// ```
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest wait before retry `retry` (1-based): `min(max_backoff, initial * 2^(retry-1))`.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(pims_transport::RetryPolicy::new().backoff_ceiling(2), Duration::from_millis(200));
    /// ```
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(20);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// A random wait in `0..=backoff_ceiling(retry)` (full jitter).
    fn jittered_backoff(&self, retry: u32) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

/// The retry budget of one transport (shared by its clones).
#[derive(Debug, Clone)]
pub(crate) struct RetryBudget {
    /// Balance in thousandths of a retry.
    balance: Arc<Mutex<u64>>,
    max: u64,
    deposit: u64,
}

impl RetryBudget {
    pub(crate) fn new(policy: &RetryPolicy) -> Self {
        let max = u64::from(policy.budget_max) * 1000;
        RetryBudget {
            balance: Arc::new(Mutex::new(max)),
            max,
            // ratio is clamped to 0..=1, so this is 0..=1000.
            deposit: (policy.budget_ratio * 1000.0).round() as u64,
        }
    }

    fn deposit(&self) {
        let mut b = self.balance.lock().unwrap_or_else(|p| p.into_inner());
        *b = (*b + self.deposit).min(self.max);
    }

    fn withdraw(&self) -> bool {
        let mut b = self.balance.lock().unwrap_or_else(|p| p.into_inner());
        if *b >= 1000 {
            *b -= 1000;
            true
        } else {
            false
        }
    }
}

/// The three timeouts of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) attempt: Duration,
    pub(crate) overall: Duration,
}

/// Which resends a call allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resend {
    /// After a failure that may have reached the backend (a pure read).
    pub(crate) after_failure: bool,
    /// After a 401 once the token provider renewed the token (the backend refused before doing
    /// anything; never for a call carrying a secret).
    pub(crate) after_refusal: bool,
}

/// When a failed attempt may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryWhen {
    /// Never (an unusable answer, a local error).
    Never,
    /// Whatever the call: the request provably never left.
    NotSent,
    /// Only if the call may be repeated (a pure read).
    Repeatable,
}

/// What one attempt gave.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// An envelope to hand on.
    Answer(Message),
    /// A 401 envelope, answered to `token`: maybe refresh and send once more.
    Unauthorized {
        message: Message,
        token: Option<Secret>,
    },
    /// No usable answer.
    Failed {
        error: TransportError,
        when: RetryWhen,
        retry_after: Option<Duration>,
    },
}

/// Runs `attempt` until it answers, the rules forbid another try, or the deadline passes.
///
/// `attempt(n)` is one attempt (1-based), bounded here by the per-attempt timeout and the
/// overall deadline.
pub(crate) async fn run<F, Fut>(
    policy: &RetryPolicy,
    budget: &RetryBudget,
    timeouts: Timeouts,
    resend: Resend,
    tokens: Option<&dyn TokenProvider>,
    mut attempt: F,
) -> Result<Message, TransportError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let deadline = Instant::now() + timeouts.overall;
    budget.deposit();
    let mut refreshed = false;
    let mut sent_attempts = 0u32;
    let mut number = 0u32;
    loop {
        number += 1;
        let now = Instant::now();
        let remaining = deadline.saturating_duration_since(now);
        if remaining.is_zero() {
            return Err(TransportError::timed_out(Deadline::Overall, number > 1));
        }
        let limit = timeouts.attempt.min(remaining);
        tracing::Span::current().record("attempt", number);
        tracing::debug!(attempt = number, "sending");
        let outcome = match tokio::time::timeout(limit, attempt(number)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Failed {
                error: TransportError::timed_out(
                    if limit < timeouts.attempt {
                        Deadline::Overall
                    } else {
                        Deadline::Attempt
                    },
                    true,
                ),
                when: RetryWhen::Repeatable,
                retry_after: None,
            },
        };
        let (error, when, retry_after) = match outcome {
            Outcome::Answer(message) => return Ok(message),
            Outcome::Unauthorized { message, token } => {
                let provider = match (tokens, token) {
                    (Some(provider), Some(token)) => Some((provider, token)),
                    _ => None,
                };
                let Some((provider, token)) = provider else {
                    return Ok(message);
                };
                // Invalidate even when the call is not re-sent: the next call gets a fresh token.
                let renewed = provider.invalidate(&token).await;
                if renewed && resend.after_refusal && !refreshed {
                    tracing::debug!(attempt = number, "token refused; sending once more");
                    refreshed = true;
                    continue;
                }
                return Ok(message);
            }
            Outcome::Failed {
                error,
                when,
                retry_after,
            } => (error, when, retry_after),
        };
        sent_attempts += 1;
        let allowed = match when {
            RetryWhen::Never => false,
            RetryWhen::NotSent => true,
            RetryWhen::Repeatable => resend.after_failure,
        };
        if !allowed || sent_attempts >= policy.max_attempts {
            tracing::debug!(attempt = number, error = %error, "giving up");
            return Err(error);
        }
        let wait = policy
            .jittered_backoff(sent_attempts)
            .max(retry_after.unwrap_or(Duration::ZERO));
        if Instant::now() + wait >= deadline {
            tracing::debug!(attempt = number, error = %error, ?wait, "no time left to retry");
            return Err(error);
        }
        if !budget.withdraw() {
            tracing::debug!(attempt = number, error = %error, "retry budget spent");
            return Err(error);
        }
        tracing::debug!(attempt = number, error = %error, ?wait, "retrying");
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use pims_types::TransactionId;
    use std::sync::atomic::{AtomicU32, Ordering};

    const TIMEOUTS: Timeouts = Timeouts {
        connect: Duration::from_secs(5),
        attempt: Duration::from_secs(10),
        overall: Duration::from_secs(30),
    };

    fn ok() -> Outcome {
        Outcome::Answer(Message::succeeded_empty(TransactionId::from_u64(1)))
    }

    fn server_error(retry_after: Option<Duration>) -> Outcome {
        Outcome::Failed {
            error: TransportError::server_error(503, None),
            when: RetryWhen::Repeatable,
            retry_after,
        }
    }

    fn refused() -> Outcome {
        Outcome::Failed {
            error: TransportError::not_sent("refused"),
            when: RetryWhen::NotSent,
            retry_after: None,
        }
    }

    /// Runs the loop with a script of outcomes; gives the result, attempts made, virtual time.
    async fn script(
        policy: &RetryPolicy,
        budget: &RetryBudget,
        may_repeat: bool,
        outcomes: Vec<Outcome>,
    ) -> (Result<Message, TransportError>, u32, Duration) {
        let start = Instant::now();
        let count = AtomicU32::new(0);
        let mut outcomes = outcomes.into_iter();
        let resend = Resend {
            after_failure: may_repeat,
            after_refusal: may_repeat,
        };
        let result = run(policy, budget, TIMEOUTS, resend, None, |_| {
            count.fetch_add(1, Ordering::SeqCst);
            let next = outcomes.next();
            async move {
                match next {
                    Some(o) => o,
                    None => std::future::pending().await,
                }
            }
        })
        .await;
        (result, count.load(Ordering::SeqCst), start.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_get_succeeds_on_the_third_attempt_with_bounded_waits() {
        let policy = RetryPolicy::new();
        let budget = RetryBudget::new(&policy);
        let (result, attempts, elapsed) = script(
            &policy,
            &budget,
            true,
            vec![server_error(None), server_error(None), ok()],
        )
        .await;
        assert!(result.is_ok());
        assert_eq!(attempts, 3);
        // Full jitter: at most 100 ms + 200 ms of waiting.
        assert!(elapsed <= Duration::from_millis(300), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_is_not_a_pure_read_is_not_retried_after_it_may_have_been_sent() {
        let policy = RetryPolicy::new();
        let budget = RetryBudget::new(&policy);
        let (result, attempts, _) =
            script(&policy, &budget, false, vec![server_error(None), ok()]).await;
        assert!(matches!(
            result,
            Err(TransportError::ServerError { status: 503, .. })
        ));
        assert_eq!(attempts, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_is_not_a_pure_read_is_resent_when_it_never_left() {
        let policy = RetryPolicy::new();
        let budget = RetryBudget::new(&policy);
        let (result, attempts, _) = script(&policy, &budget, false, vec![refused(), ok()]).await;
        assert!(result.is_ok());
        assert_eq!(attempts, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_are_capped() {
        let policy = RetryPolicy::new();
        let budget = RetryBudget::new(&policy);
        let (result, attempts, _) =
            script(&policy, &budget, true, (0..10).map(|_| refused()).collect()).await;
        assert!(matches!(result, Err(TransportError::NotSent { .. })));
        assert_eq!(attempts, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_inside_the_deadline() {
        let policy = RetryPolicy::new();
        let budget = RetryBudget::new(&policy);
        let (result, attempts, elapsed) = script(
            &policy,
            &budget,
            true,
            vec![server_error(Some(Duration::from_secs(7))), ok()],
        )
        .await;
        assert!(result.is_ok());
        assert_eq!(attempts, 2);
        assert!(elapsed >= Duration::from_secs(7), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_past_the_deadline_fails_at_once() {
        let policy = RetryPolicy::new();
        let budget = RetryBudget::new(&policy);
        let (result, attempts, elapsed) = script(
            &policy,
            &budget,
            true,
            vec![server_error(Some(Duration::from_secs(3600))), ok()],
        )
        .await;
        assert!(matches!(
            result,
            Err(TransportError::ServerError { status: 503, .. })
        ));
        assert_eq!(attempts, 1);
        assert_eq!(elapsed, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_attempt_ends_at_the_attempt_deadline_and_the_call_at_the_overall_one() {
        let policy = RetryPolicy::new();
        let budget = RetryBudget::new(&policy);
        let (result, attempts, elapsed) = script(&policy, &budget, true, vec![]).await;
        assert_eq!(
            result.err(),
            Some(TransportError::timed_out(Deadline::Overall, true))
        );
        assert_eq!(attempts, 3);
        assert!(elapsed <= TIMEOUTS.overall, "{elapsed:?}");
        assert!(
            elapsed >= TIMEOUTS.overall - Duration::from_millis(1),
            "{elapsed:?}"
        );

        // Without retries, the attempt deadline ends the call.
        let none = RetryPolicy::none();
        let (result, attempts, elapsed) = script(&none, &budget, true, vec![]).await;
        assert_eq!(
            result.err(),
            Some(TransportError::timed_out(Deadline::Attempt, true))
        );
        assert_eq!((attempts, elapsed), (1, TIMEOUTS.attempt));
    }

    #[tokio::test(start_paused = true)]
    async fn answers_and_unusable_answers_are_never_retried() {
        let policy = RetryPolicy::new();
        let budget = RetryBudget::new(&policy);
        let unusable = Outcome::Failed {
            error: TransportError::invalid_answer(crate::AnswerProblem::Truncated),
            when: RetryWhen::Never,
            retry_after: None,
        };
        let (result, attempts, _) = script(&policy, &budget, true, vec![unusable, ok()]).await;
        assert!(matches!(result, Err(TransportError::InvalidAnswer { .. })));
        assert_eq!(attempts, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_stops_retries_during_an_outage() {
        let policy = RetryPolicy::new().budget(4, 0.5);
        let budget = RetryBudget::new(&policy);
        let mut total = 0;
        for _ in 0..10 {
            let (result, attempts, _) =
                script(&policy, &budget, true, (0..3).map(|_| refused()).collect()).await;
            assert!(result.is_err());
            total += attempts;
        }
        // 10 first attempts; retries: the starting 4 plus half a retry per call, spent as
        // whole retries (~4 + 5 = 9, not the 20 an unbudgeted policy makes).
        assert!(total <= 10 + 4 + 5, "{total}");
        assert!(total >= 10 + 4, "{total}");
    }

    #[derive(Debug)]
    struct Renewing(AtomicU32);

    #[async_trait]
    impl TokenProvider for Renewing {
        async fn token(&self) -> Result<Secret, TransportError> {
            Ok(Secret::new("t"))
        }
        async fn invalidate(&self, _rejected: &Secret) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst);
            true
        }
    }

    fn unauthorized() -> Outcome {
        Outcome::Unauthorized {
            message: Message::failed(
                TransactionId::from_u64(1),
                pims_types::ApiError::from_code(pims_types::ErrorCode::NEED_BASIC_AUTHENTICATION),
            ),
            token: Some(Secret::new("t")),
        }
    }

    async fn with_provider(may_repeat: bool, outcomes: Vec<Outcome>) -> (Message, u32, u32) {
        let policy = RetryPolicy::new();
        let budget = RetryBudget::new(&policy);
        let provider = Renewing(AtomicU32::new(0));
        let count = AtomicU32::new(0);
        let mut outcomes = outcomes.into_iter();
        let resend = Resend {
            after_failure: may_repeat,
            after_refusal: may_repeat,
        };
        let result = run(&policy, &budget, TIMEOUTS, resend, Some(&provider), |_| {
            count.fetch_add(1, Ordering::SeqCst);
            let next = outcomes.next();
            async move { next.unwrap_or_else(ok) }
        })
        .await;
        let message = result.unwrap();
        (
            message,
            count.load(Ordering::SeqCst),
            provider.0.load(Ordering::SeqCst),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_401_refreshes_the_token_once() {
        let (message, attempts, invalidations) =
            with_provider(true, vec![unauthorized(), ok()]).await;
        assert!(message.is_success());
        assert_eq!((attempts, invalidations), (2, 1));

        let (message, attempts, invalidations) =
            with_provider(true, vec![unauthorized(), unauthorized(), ok()]).await;
        assert_eq!(message.error().map(|e| e.code.as_u32()), Some(2301));
        assert_eq!((attempts, invalidations), (2, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_401_on_a_call_carrying_a_secret_is_handed_on_after_invalidating() {
        let (message, attempts, invalidations) =
            with_provider(false, vec![unauthorized(), ok()]).await;
        assert_eq!(message.error().map(|e| e.code.as_u32()), Some(2301));
        assert_eq!((attempts, invalidations), (1, 1));
    }

    #[test]
    fn backoff_ceilings_double_and_cap() {
        let p = RetryPolicy::new();
        assert_eq!(p.backoff_ceiling(0), Duration::from_millis(100));
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_secs(2));
        for retry in 1..6 {
            for _ in 0..50 {
                assert!(p.jittered_backoff(retry) <= p.backoff_ceiling(retry));
            }
        }
        assert_eq!(
            RetryPolicy::new()
                .initial_backoff(Duration::ZERO)
                .jittered_backoff(1),
            Duration::ZERO
        );
    }
}
