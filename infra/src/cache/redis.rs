//! Redis cache, shared by every instance. When Redis stops answering, each operation falls
//! back to this instance's in-process cache and a warning is logged (at most every 30 s), so
//! that requests keep being served from the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use xinli_domain::cache::Cache;

use super::MemoryCache;

#[derive(Debug, thiserror::Error)]
#[error("cannot connect to Redis: {0}")]
pub struct RedisConnectError(String);

#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    /// Prepended to every key, so that several deployments (or parallel tests) can share one
    /// Redis without colliding.
    prefix: Arc<str>,
    fallback: MemoryCache,
    last_warning: Arc<AtomicI64>,
}

impl RedisCache {
    /// Connects now, so that a wrong `XINLI_REDIS_URL` stops the server at start rather than
    /// degrading silently.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, RedisConnectError> {
        let client = redis::Client::open(url).map_err(|e| RedisConnectError(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| RedisConnectError(e.to_string()))?;
        Ok(Self {
            conn,
            prefix: Arc::from(prefix),
            fallback: MemoryCache::new(10_000),
            last_warning: Arc::new(AtomicI64::new(0)),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    fn warn(&self, op: &str, err: &redis::RedisError) {
        let now = chrono::Utc::now().timestamp();
        let last = self.last_warning.load(Ordering::Relaxed);
        if now - last >= 30
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(op, error = %err, "Redis unavailable; using the in-process cache and the database");
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut conn = self.conn.clone();
        match redis::cmd("GET")
            .arg(self.key(key))
            .query_async::<Option<Vec<u8>>>(&mut conn)
            .await
        {
            Ok(v) => v,
            Err(e) => {
                self.warn("get", &e);
                self.fallback.get(key).await
            }
        }
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let mut conn = self.conn.clone();
        if let Err(e) = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut conn)
            .await
        {
            self.warn("set", &e);
            self.fallback.set(key, value, ttl).await;
        }
    }

    async fn delete(&self, key: &str) {
        self.fallback.delete(key).await;
        let mut conn = self.conn.clone();
        if let Err(e) = redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<()>(&mut conn)
            .await
        {
            self.warn("delete", &e);
        }
    }

    async fn incr(&self, key: &str, window: Duration) -> u64 {
        let mut conn = self.conn.clone();
        let k = self.key(key);
        // INCR and PEXPIRE NX in one transaction: the window starts at the first hit and is
        // never extended by later ones.
        let result = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&k)
            .cmd("PEXPIRE")
            .arg(&k)
            .arg(millis(window))
            .arg("NX")
            .ignore()
            .query_async::<(u64,)>(&mut conn)
            .await;
        match result {
            Ok((n,)) => n,
            Err(e) => {
                self.warn("incr", &e);
                self.fallback.incr(key, window).await
            }
        }
    }

    async fn ttl(&self, key: &str) -> Option<Duration> {
        let mut conn = self.conn.clone();
        match redis::cmd("PTTL")
            .arg(self.key(key))
            .query_async::<i64>(&mut conn)
            .await
        {
            Ok(ms) if ms > 0 => Some(Duration::from_millis(ms.unsigned_abs())),
            Ok(_) => None,
            Err(e) => {
                self.warn("ttl", &e);
                self.fallback.ttl(key).await
            }
        }
    }

    async fn ping(&self) -> Result<(), String> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
