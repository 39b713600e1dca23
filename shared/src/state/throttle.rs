//! Reads honour the API server's "try again later" (429 from API Priority and Fairness) a few
//! times, as kubectl does, instead of failing a read-only diagnosis on a busy cluster.

use std::{future::Future, time::Duration};

/// How many times a throttled read is sent again before its 429 is reported.
const RETRIES: u32 = 3;
/// The longest wait honoured, whatever the server asks.
const LONGEST_WAIT: Duration = Duration::from_secs(10);

/// Sends `read` until it is not answered 429, at most [`RETRIES`] more times, waiting what the
/// answer's `retryAfterSeconds` asks (1 s when it does not say).
pub async fn retry_throttled<T, F, Fut>(mut read: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut retries = 0;
    loop {
        match read().await {
            Err(kube::Error::Api(status)) if status.code == 429 && retries < RETRIES => {
                retries += 1;
                tokio::time::sleep(wait_asked(&status)).await;
            }
            answer => return answer,
        }
    }
}

fn wait_asked(status: &kube::core::Status) -> Duration {
    let seconds = status
        .details
        .as_ref()
        .map_or(0, |d| d.retry_after_seconds)
        .max(1);
    Duration::from_secs(u64::from(seconds)).min(LONGEST_WAIT)
}
