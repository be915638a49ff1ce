//! A token bucket per provider, which an HTTP 429 response can also pause.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Requests allowed per period, with a burst of up to `burst` requests at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub requests: u32,
    pub per: Duration,
    pub burst: u32,
}

impl RateLimit {
    pub fn per_minute(requests: u32) -> RateLimit {
        RateLimit {
            requests,
            per: Duration::from_secs(60),
            burst: requests.max(1),
        }
    }
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    refilled_at: Instant,
    paused_until: Option<Instant>,
}

/// A token bucket. [`TokenBucket::acquire`] waits until a token is free and takes it.
#[derive(Debug)]
pub struct TokenBucket {
    capacity: f64,
    tokens_per_second: f64,
    state: Mutex<BucketState>,
}

impl TokenBucket {
    pub fn new(limit: RateLimit) -> TokenBucket {
        let capacity = f64::from(limit.burst.max(1));
        let seconds = limit.per.as_secs_f64().max(f64::EPSILON);
        TokenBucket {
            capacity,
            tokens_per_second: f64::from(limit.requests.max(1)) / seconds,
            state: Mutex::new(BucketState {
                tokens: capacity,
                refilled_at: Instant::now(),
                paused_until: None,
            }),
        }
    }

    /// Waits for a token and takes it. While a pause longer than `max_pause` is in force, it
    /// returns the remaining pause at once instead of waiting.
    pub async fn acquire(&self, max_pause: Duration) -> Result<(), Duration> {
        loop {
            let wait = {
                let mut state = self.state.lock().expect("rate limiter lock");
                let now = Instant::now();
                let elapsed = now.duration_since(state.refilled_at).as_secs_f64();
                state.tokens = (state.tokens + elapsed * self.tokens_per_second).min(self.capacity);
                state.refilled_at = now;
                match state.paused_until {
                    Some(until) if until > now && until - now > max_pause => {
                        return Err(until - now);
                    }
                    Some(until) if until > now => until - now,
                    _ if state.tokens >= 1.0 => {
                        state.tokens -= 1.0;
                        return Ok(());
                    }
                    _ => Duration::from_secs_f64((1.0 - state.tokens) / self.tokens_per_second),
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Stops handing out tokens for `duration`, as a provider's `Retry-After` requests.
    pub fn pause_for(&self, duration: Duration) {
        let mut state = self.state.lock().expect("rate limiter lock");
        let until = Instant::now() + duration;
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_spaces_requests_after_burst() {
        let bucket = TokenBucket::new(RateLimit {
            requests: 2,
            per: Duration::from_secs(1),
            burst: 2,
        });
        let start = Instant::now();
        for _ in 0..4 {
            bucket.acquire(Duration::MAX).await.unwrap();
        }
        // Two tokens at once, then one every 500 ms.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(1000), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(1100), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn pause_delays_next_token() {
        let bucket = TokenBucket::new(RateLimit::per_minute(60));
        bucket.pause_for(Duration::from_secs(3));
        let start = Instant::now();
        bucket.acquire(Duration::from_secs(5)).await.unwrap();
        assert!(start.elapsed() >= Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn long_pause_fails_fast() {
        let bucket = TokenBucket::new(RateLimit::per_minute(60));
        bucket.pause_for(Duration::from_secs(3600));
        let remaining = bucket.acquire(Duration::from_secs(30)).await.unwrap_err();
        assert!(remaining > Duration::from_secs(3590));
    }
}
