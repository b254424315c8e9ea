//! The two implementations of [`xinli_domain::cache::Cache`]: in-process (moka) by default,
//! Redis when `XINLI_REDIS_URL` is set (shared by every instance).

mod memory;
mod redis;

pub use memory::{DEFAULT_MAX_BYTES, MemoryCache};
pub use redis::RedisCache;

use std::time::Duration;

use xinli_domain::cache::Cache;

/// A group of cache entries invalidated together by bumping a version number.
///
/// Deleting a key on write is not enough under concurrency: a reader that loaded the old
/// rows just before the write can store them again just after it. With a version in every
/// key, such a late write lands under the old version, which nobody reads any more.
#[derive(Debug, Clone, Copy)]
pub struct Namespace(pub &'static str);

/// How long a version number lives; far longer than any entry's TTL.
const VERSION_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

impl Namespace {
    fn version_key(self) -> String {
        format!("{}:version", self.0)
    }

    /// The current version; it changes with every [`Self::invalidate`].
    pub async fn version(self, cache: &dyn Cache) -> String {
        cache
            .get(&self.version_key())
            .await
            .and_then(|b| String::from_utf8(b).ok())
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "0".into())
    }

    /// The key of `suffix` under `version`.
    pub fn key_at(self, version: &str, suffix: &str) -> String {
        self.key_with(version, format_args!("{suffix}"))
    }

    /// [`Self::key_at`] with the suffix written straight into the key: one allocation on a
    /// path where every request builds a key.
    pub fn key_with(self, version: &str, suffix: std::fmt::Arguments<'_>) -> String {
        use std::fmt::Write;
        let mut key = String::with_capacity(self.0.len() + version.len() + 96);
        let _ = write!(key, "{}:v{}:{}", self.0, version, suffix);
        key
    }

    /// The key of `suffix` under the current version.
    pub async fn key(self, cache: &dyn Cache, suffix: &str) -> String {
        self.key_at(&self.version(cache).await, suffix)
    }

    /// Makes every entry of the namespace unreachable at once.
    pub async fn invalidate(self, cache: &dyn Cache) {
        cache.bump(&self.version_key(), VERSION_TTL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_late_write_under_an_old_version_is_never_read() {
        let cache = MemoryCache::default();
        let ns = Namespace("things");
        let stale_key = ns.key(&cache, "list").await;
        ns.invalidate(&cache).await;
        cache.set(&stale_key, b"old", Duration::from_secs(60)).await;
        let key = ns.key(&cache, "list").await;
        assert_ne!(key, stale_key);
        assert_eq!(cache.get(&key).await, None);
    }
}
