//! The cache the service shares between requests (and, with Redis, between instances).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

/// A byte-oriented key/value cache with expiry and counters.
///
/// Implementations degrade instead of failing: a cache that cannot be reached behaves like an
/// empty one (reads miss, writes are dropped, counters fall back to a local count) and logs
/// a warning, so that every request can still be answered from the database. Only
/// [`Cache::ping`] reports reachability, for the readiness probe.
#[async_trait]
pub trait Cache: Send + Sync {
    async fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Like [`Cache::get`], without copying what an in-process cache holds: a hot answer
    /// served from memory is shared, not copied, on every request.
    async fn get_shared(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.get(key).await.map(Arc::new)
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration);
    /// [`Cache::get_shared`] for a key that names one version of a value (a key under a
    /// namespace version): what is stored under it never changes, so a shared store may keep
    /// a copy in process and answer without a round trip.
    async fn get_versioned(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.get_shared(key).await
    }
    /// [`Cache::set`] for a key read with [`Cache::get_versioned`].
    async fn set_versioned(&self, key: &str, value: &[u8], ttl: Duration) {
        self.set(key, value, ttl).await
    }
    async fn delete(&self, key: &str);
    /// Adds one to the counter `key` and returns the new value. The counter is created with
    /// value 1 and lives for `window` from its creation (a fixed window).
    async fn incr(&self, key: &str, window: Duration) -> u64;
    /// Raises a version counter, as [`Cache::incr`] does, created to live `ttl`. Unlike a
    /// count, a bump is an invalidation: one made while a shared store cannot be reached is
    /// repeated there when it answers again, so that nothing cached under the old version is
    /// read after the outage.
    async fn bump(&self, key: &str, ttl: Duration) -> u64;
    /// Time left before `key` expires, if it exists.
    async fn ttl(&self, key: &str) -> Option<Duration>;
    /// Whether the backing store answers; used by `/readyz`.
    async fn ping(&self) -> Result<(), String>;
    /// `"redis"` or `"memory"`, for logs and the readiness answer.
    fn backend(&self) -> &'static str;
}
