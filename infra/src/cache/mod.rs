//! The two implementations of [`xinli_domain::cache::Cache`]: in-process (moka) by default,
//! Redis when `XINLI_REDIS_URL` is set (shared by every instance).

mod memory;
mod redis;

pub use memory::MemoryCache;
pub use redis::{RedisCache, RedisConnectError};
