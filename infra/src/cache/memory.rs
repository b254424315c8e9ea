//! In-process cache on moka, with a deadline per entry.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache as Moka;
use xinli_domain::cache::Cache;

#[derive(Clone)]
struct Entry {
    /// Shared: reading an entry does not copy it.
    bytes: Arc<Vec<u8>>,
    deadline: Instant,
}

struct UntilDeadline;

impl Expiry<String, Entry> for UntilDeadline {
    fn expire_after_create(&self, _: &String, value: &Entry, now: Instant) -> Option<Duration> {
        Some(value.deadline.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _: &String,
        value: &Entry,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.deadline.saturating_duration_since(now))
    }
}

/// An in-process cache bounded in bytes (keys and values, plus a fixed cost per entry), so
/// that many small entries and a few large ones are held to the same memory. Each instance
/// has its own: fine for one server, and the fallback when Redis cannot be reached.
#[derive(Clone)]
pub struct MemoryCache {
    inner: Moka<String, Entry>,
}

/// What an entry costs beyond its key and value (the map's and moka's bookkeeping).
const ENTRY_OVERHEAD_BYTES: usize = 96;

impl MemoryCache {
    pub fn new(max_bytes: u64) -> Self {
        Self {
            inner: Moka::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &String, v: &Entry| {
                    u32::try_from(k.len() + v.bytes.len() + ENTRY_OVERHEAD_BYTES)
                        .unwrap_or(u32::MAX)
                })
                .expire_after(UntilDeadline)
                .build(),
        }
    }

    async fn live(&self, key: &str) -> Option<Entry> {
        self.inner
            .get(key)
            .await
            .filter(|e| e.deadline > Instant::now())
    }
}

/// 64 MiB (`XINLI_CACHE_MAX_MB`).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

impl Default for MemoryCache {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BYTES)
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.live(key).await.map(|e| e.bytes.to_vec())
    }

    async fn get_shared(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.live(key).await.map(|e| e.bytes)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let entry = Entry {
            bytes: Arc::new(value.to_vec()),
            deadline: Instant::now() + ttl,
        };
        self.inner.insert(key.to_owned(), entry).await;
    }

    async fn delete(&self, key: &str) {
        self.inner.invalidate(key).await;
    }

    async fn incr(&self, key: &str, window: Duration) -> u64 {
        // `and_upsert_with` runs the closure under a per-key lock: concurrent increments of
        // one counter are serialised.
        let entry = self
            .inner
            .entry(key.to_owned())
            .and_upsert_with(|existing| {
                let now = Instant::now();
                let next = match existing.map(|e| e.into_value()) {
                    Some(e) if e.deadline > now => Entry {
                        bytes: Arc::new((parse_count(&e.bytes) + 1).to_string().into_bytes()),
                        deadline: e.deadline,
                    },
                    _ => Entry {
                        bytes: Arc::new(b"1".to_vec()),
                        deadline: now + window,
                    },
                };
                std::future::ready(next)
            })
            .await;
        parse_count(&entry.into_value().bytes)
    }

    async fn bump(&self, key: &str, ttl: Duration) -> u64 {
        self.incr(key, ttl).await
    }

    async fn ttl(&self, key: &str) -> Option<Duration> {
        self.live(key)
            .await
            .map(|e| e.deadline.saturating_duration_since(Instant::now()))
    }

    async fn ping(&self) -> Result<(), String> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

fn parse_count(bytes: &[u8]) -> u64 {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_bound_is_in_bytes() {
        let c = MemoryCache::new(1024 * 1024);
        let big = vec![b'x'; 100 * 1024];
        for i in 0..50 {
            c.set(&format!("big{i}"), &big, Duration::from_secs(60))
                .await;
        }
        c.inner.run_pending_tasks().await;
        assert!(
            c.inner.weighted_size() <= 1024 * 1024,
            "{}",
            c.inner.weighted_size()
        );
        assert!(c.inner.entry_count() <= 10);
    }

    #[tokio::test]
    async fn counters_and_expiry() {
        let c = MemoryCache::new(100_000);
        assert_eq!(c.incr("k", Duration::from_millis(80)).await, 1);
        assert_eq!(c.incr("k", Duration::from_millis(80)).await, 2);
        assert_eq!(c.get("k").await.as_deref(), Some(&b"2"[..]));
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(c.get("k").await, None);
        assert_eq!(c.incr("k", Duration::from_secs(5)).await, 1);
        c.set("s", b"v", Duration::from_secs(5)).await;
        assert!(c.ttl("s").await.is_some());
        c.delete("s").await;
        assert_eq!(c.get("s").await, None);
    }
}
