//! Redis cache, shared by every instance, over the instance's [`RedisLink`]. While the link's
//! breaker is open (Redis down), each operation uses this instance's in-process cache at
//! once: entries live at most `outage_cache_ttl` there, counters count per instance, and
//! invalidations are replayed in Redis when it answers again.
//!
//! Versioned entries (a namespace version in the key: the value under such a key never
//! changes) are also kept in process for a short while, so that a hot cached answer costs
//! one small read of its namespace's version in Redis, not a transfer of the whole answer.
//! Only what was read from or written to Redis goes there, and a version raised while Redis
//! is down is a random number, never one Redis will count to, so that nothing kept from
//! before an outage is taken for what was written during it, or the other way round.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use xinli_domain::cache::Cache;

use super::MemoryCache;
use crate::redis_link::{RedisLink, millis};

#[derive(Clone)]
pub struct RedisCache {
    link: RedisLink,
    fallback: MemoryCache,
    /// Versioned entries read from or written to Redis.
    versioned: MemoryCache,
}

/// How long a versioned entry is kept in process (it cannot go stale: this bounds memory).
const VERSIONED_TTL: Duration = Duration::from_secs(30);

impl RedisCache {
    pub fn new(link: RedisLink) -> Self {
        Self {
            link,
            fallback: MemoryCache::new(16 * 1024 * 1024),
            versioned: MemoryCache::new(8 * 1024 * 1024),
        }
    }

    fn outage_ttl(&self, ttl: Duration) -> Duration {
        ttl.min(self.link.settings().outage_cache_ttl)
    }

    /// INCR and PEXPIRE NX in one transaction: the window starts at the first hit and is
    /// never extended by later ones.
    async fn incr_in_redis(&self, op: &'static str, key: &str, window: Duration) -> Option<u64> {
        let k = self.link.key(key);
        self.link
            .query(op, async |c| {
                redis::pipe()
                    .atomic()
                    .cmd("INCR")
                    .arg(&k)
                    .cmd("PEXPIRE")
                    .arg(&k)
                    .arg(millis(window))
                    .arg("NX")
                    .ignore()
                    .query_async::<(u64,)>(c)
                    .await
            })
            .await
            .map(|(n,)| n)
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let k = self.link.key(key);
        match self
            .link
            .query("get", async |c| {
                redis::cmd("GET")
                    .arg(&k)
                    .query_async::<Option<Vec<u8>>>(c)
                    .await
            })
            .await
        {
            Some(v) => v,
            None => self.fallback.get(key).await,
        }
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let k = self.link.key(key);
        let stored = self
            .link
            .query("set", async |c| {
                redis::cmd("SET")
                    .arg(&k)
                    .arg(value)
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async::<()>(c)
                    .await
            })
            .await;
        if stored.is_none() {
            self.fallback.set(key, value, self.outage_ttl(ttl)).await;
        }
    }

    async fn delete(&self, key: &str) {
        self.fallback.delete(key).await;
        let k = self.link.key(key);
        let deleted = self
            .link
            .query("delete", async |c| {
                redis::cmd("DEL").arg(&k).query_async::<()>(c).await
            })
            .await;
        if deleted.is_none() {
            self.link.replay_delete(key);
        }
    }

    async fn incr(&self, key: &str, window: Duration) -> u64 {
        match self.incr_in_redis("incr", key, window).await {
            Some(n) => n,
            // A per-instance count: limits hold per instance until Redis is back.
            None => self.fallback.incr(key, window).await,
        }
    }

    async fn bump(&self, key: &str, ttl: Duration) -> u64 {
        match self.incr_in_redis("bump", key, ttl).await {
            Some(n) => n,
            None => {
                self.link.replay_bump(key, ttl);
                // Not a count from 1: a version Redis itself could reach would name entries
                // kept from before the outage.
                let n = rand::random_range(1u64 << 62..1u64 << 63);
                self.fallback
                    .set(key, n.to_string().as_bytes(), self.outage_ttl(ttl))
                    .await;
                n
            }
        }
    }

    async fn get_versioned(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        let up = self.link.is_up();
        // While Redis is down, versions come from the fallback: only its entries answer.
        if up && let Some(hit) = self.versioned.get_shared(key).await {
            return Some(hit);
        }
        let found = Arc::new(self.get(key).await?);
        if up && self.link.is_up() {
            self.versioned.set(key, &found, VERSIONED_TTL).await;
        }
        Some(found)
    }

    async fn set_versioned(&self, key: &str, value: &[u8], ttl: Duration) {
        let up = self.link.is_up();
        self.set(key, value, ttl).await;
        if up && self.link.is_up() {
            self.versioned.set(key, value, ttl.min(VERSIONED_TTL)).await;
        }
    }

    async fn ttl(&self, key: &str) -> Option<Duration> {
        let k = self.link.key(key);
        match self
            .link
            .query("ttl", async |c| {
                redis::cmd("PTTL").arg(&k).query_async::<i64>(c).await
            })
            .await
        {
            Some(ms) if ms > 0 => Some(Duration::from_millis(ms.unsigned_abs())),
            Some(_) => None,
            None => self.fallback.ttl(key).await,
        }
    }

    async fn ping(&self) -> Result<(), String> {
        self.link.ping().await
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
