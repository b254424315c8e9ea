//! Rate limits on attempts (logins, dial taps), counted in the shared cache so that several
//! instances behind one Redis enforce one limit.

use std::time::Duration;

use crate::cache::Cache;

/// At most `max` attempts per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u64,
    pub window: Duration,
}

impl Limit {
    pub const fn new(max: u64, window: Duration) -> Self {
        Self { max, window }
    }
}

/// The limit was reached; try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub retry_after: Duration,
}

/// Counts one attempt against `key` and says whether it is still within `limit`.
pub async fn hit(cache: &dyn Cache, key: &str, limit: Limit) -> Result<(), Exceeded> {
    let n = cache.incr(key, limit.window).await;
    if n > limit.max {
        Err(exceeded(cache, key, limit).await)
    } else {
        Ok(())
    }
}

/// Says whether `key` has already used up `limit`, without counting an attempt. Used for
/// failure counters, which are only incremented when an attempt fails.
pub async fn check(cache: &dyn Cache, key: &str, limit: Limit) -> Result<(), Exceeded> {
    let n = cache
        .get(key)
        .await
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if n >= limit.max {
        Err(exceeded(cache, key, limit).await)
    } else {
        Ok(())
    }
}

/// Records one failure against `key`.
pub async fn record_failure(cache: &dyn Cache, key: &str, limit: Limit) {
    cache.incr(key, limit.window).await;
}

async fn exceeded(cache: &dyn Cache, key: &str, limit: Limit) -> Exceeded {
    let retry_after = cache
        .ttl(key)
        .await
        .filter(|d| !d.is_zero())
        .unwrap_or(limit.window);
    Exceeded { retry_after }
}
