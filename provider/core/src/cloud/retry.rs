//! Retrying AWS calls through IAM's eventual consistency: exponential backoff
//! with jitter inside a time budget, cancellable, reporting each wait. Never a
//! fixed sleep: a call that can succeed is retried as soon as backoff allows.

use std::future::Future;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::error::{CloudError, ErrorClass};

#[derive(Debug, Clone)]
pub struct Budget {
    pub deadline: Instant,
    pub cancel: CancellationToken,
    /// What set the limit, named in the error when it runs out.
    pub set_by: &'static str,
}

pub const SET_BY_PROPAGATION_TIMEOUT: &str = "the provider's propagationTimeout";

impl Budget {
    pub fn new(limit: Duration, cancel: CancellationToken) -> Self {
        Budget {
            deadline: Instant::now() + limit,
            cancel,
            set_by: SET_BY_PROPAGATION_TIMEOUT,
        }
    }

    pub fn set_by(self, set_by: &'static str) -> Self {
        Budget { set_by, ..self }
    }
}

const FIRST_DELAY: Duration = Duration::from_millis(200);
// Short enough that a wait ends within about a second of IAM becoming
// consistent; IAM answers these retries cheaply.
const MAX_DELAY: Duration = Duration::from_millis(1500);

/// Error classes every mutating call may retry: nothing changed on the AWS side.
pub fn always_retryable(class: ErrorClass) -> bool {
    matches!(
        class,
        ErrorClass::Throttled | ErrorClass::Transient | ErrorClass::ConcurrentModification
    )
}

/// Runs `op` until it succeeds, fails with a class `retry_on` rejects, or the
/// budget runs out. `on_wait` hears about each retry (for progress messages).
pub async fn with_retry<T, F, Fut>(
    budget: &Budget,
    retry_on: impl Fn(ErrorClass) -> bool,
    mut on_wait: impl FnMut(&CloudError, u32, Duration),
    mut op: F,
) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let started = Instant::now();
    let mut delay = FIRST_DELAY;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let err = match op().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let class = err.class();
        if !(retry_on(class) || always_retryable(class)) {
            return Err(err);
        }
        let jittered = delay.mul_f64(rand::rng().random_range(0.5..1.0));
        if Instant::now() + jittered > budget.deadline {
            return Err(CloudError {
                message: format!(
                    "{} (still failing after {attempt} attempts over {:.1}s; raise {} if IAM is slow in this account)",
                    err.message,
                    started.elapsed().as_secs_f64(),
                    budget.set_by
                ),
                ..err
            });
        }
        on_wait(&err, attempt, started.elapsed());
        tokio::select! {
            _ = tokio::time::sleep(jittered) => {}
            _ = budget.cancel.cancelled() => {
                return Err(CloudError::new(err.operation, "Cancelled", "the operation was cancelled while waiting to retry"));
            }
        }
        delay = (delay.mul_f64(1.6)).min(MAX_DELAY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn invalid_principal() -> CloudError {
        CloudError::new(
            "UpdateAssumeRolePolicy",
            "MalformedPolicyDocument",
            "Invalid principal in policy",
        )
    }

    #[tokio::test]
    async fn retries_until_success() {
        let calls = AtomicU32::new(0);
        let budget = Budget::new(Duration::from_secs(10), CancellationToken::new());
        let r = with_retry(
            &budget,
            |c| c == ErrorClass::PrincipalNotVisible,
            |_, _, _| {},
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(invalid_principal())
                } else {
                    Ok(7)
                }
            },
        )
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn non_retryable_fails_at_once() {
        let calls = AtomicU32::new(0);
        let budget = Budget::new(Duration::from_secs(10), CancellationToken::new());
        let r: Result<(), _> = with_retry(
            &budget,
            |_| false,
            |_, _, _| {},
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(CloudError::new(
                    "PutRolePolicy",
                    "MalformedPolicyDocument",
                    "Syntax errors",
                ))
            },
        )
        .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn budget_bounds_the_wait() {
        let budget = Budget::new(Duration::from_millis(300), CancellationToken::new());
        let start = Instant::now();
        let r: Result<(), _> = with_retry(
            &budget,
            |_| true,
            |_, _, _| {},
            || async { Err(invalid_principal()) },
        )
        .await;
        assert!(r.unwrap_err().message.contains("propagationTimeout"));
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn the_error_names_what_set_the_limit() {
        let budget = Budget::new(Duration::from_millis(50), CancellationToken::new())
            .set_by("this resource's customTimeouts");
        let r: Result<(), _> = with_retry(
            &budget,
            |_| true,
            |_, _, _| {},
            || async { Err(invalid_principal()) },
        )
        .await;
        let message = r.unwrap_err().message;
        assert!(
            message.contains("raise this resource's customTimeouts"),
            "{message}"
        );
        assert!(!message.contains("propagationTimeout"), "{message}");
    }

    #[tokio::test]
    async fn cancel_interrupts_the_wait() {
        let cancel = CancellationToken::new();
        let budget = Budget::new(Duration::from_secs(60), cancel.clone());
        cancel.cancel();
        let r: Result<(), _> = with_retry(
            &budget,
            |_| true,
            |_, _, _| {},
            || async { Err(invalid_principal()) },
        )
        .await;
        assert_eq!(r.unwrap_err().code, "Cancelled");
    }
}
