//! Configuration from the environment. The names are the operator's contract (`../shared/design/API.md`,
//! "Running"); the defaults give the embedded development setup: SQLite file, in-process
//! cache, dev login and demo data.

use std::time::Duration;

use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use xinli_domain::throttle::Limit;
use xinli_infra::redis_link::RedisSettings;
use xinli_infra::wechat::WechatCredentials;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://xinli.db?mode=rwc";
pub const DEFAULT_WECHAT_API_BASE: &str = "https://api.weixin.qq.com";
/// HS256 keys shorter than the hash output weaken the signature.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Prefix of every Redis key (`XINLI_REDIS_PREFIX`, default `xinli:`).
    pub redis_prefix: String,
    /// Timeouts and outage behaviour of the Redis link (`XINLI_REDIS_TIMEOUT_MS`, 250;
    /// `XINLI_REDIS_CONNECT_TIMEOUT_MS`, 1000; `XINLI_REDIS_RETRY_MAX_MS`, 1000;
    /// `XINLI_REDIS_OUTAGE_CACHE_SECONDS`, 2).
    pub redis_timeouts: RedisTimeouts,
    pub jwt_secret: SecretString,
    /// True when no secret was configured and one was generated for this run (dev only).
    pub jwt_secret_generated: bool,
    pub dev_mode: bool,
    pub wechat: Option<WechatCredentials>,
    pub wechat_api_base: String,
    pub bootstrap_admin: Option<(String, SecretString)>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Take the client address from `X-Forwarded-For` (`XINLI_TRUST_PROXY=true`); only
    /// behind a reverse proxy that sets it, otherwise clients could choose their address.
    pub trust_proxy: bool,
    pub limits: Limits,
    /// HTTP worker threads (`XINLI_WORKERS`; default: one per core).
    pub workers: Option<usize>,
    pub queue: QueueSettings,
    /// How often each instance re-checks its article search index against the database, a
    /// safety net for a cache outage (`XINLI_SEARCH_REFRESH_SECONDS`, 30).
    pub search_refresh_every: Duration,
}

/// How the service treats a slow or absent Redis (see `xinli_infra::redis_link`).
#[derive(Debug, Clone, Copy)]
pub struct RedisTimeouts {
    pub command: Duration,
    pub connect: Duration,
    pub retry_max: Duration,
    pub outage_cache_ttl: Duration,
}

impl Default for RedisTimeouts {
    fn default() -> Self {
        let d = RedisSettings::new("", "");
        Self {
            command: d.command_timeout,
            connect: d.connect_timeout,
            retry_max: d.retry_max,
            outage_cache_ttl: d.outage_cache_ttl,
        }
    }
}

/// Timings of the consultation queue.
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// A waiting request older than this expires (`XINLI_QUEUE_MAX_WAIT_MINUTES`, 120).
    pub max_wait: Duration,
    /// A counselor who has not written this long after claiming loses the person back to the
    /// head of the queue (`XINLI_QUEUE_NO_REPLY_MINUTES`, 5).
    pub no_reply: Duration,
    /// How often the background task looks for both (`XINLI_QUEUE_SWEEP_SECONDS`, 30).
    pub sweep_every: Duration,
    /// Longest long poll on messages.
    pub max_poll: Duration,
}

/// Attempt limits, shared across instances through the cache.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failed staff logins per account before it is locked for the window.
    pub login_failures_per_account: Limit,
    /// Login attempts (all kinds) per client address.
    pub logins_per_ip: Limit,
    /// Counted taps on "call" per client (user, or address when anonymous).
    pub dials_per_client: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            login_failures_per_account: Limit::new(5, Duration::from_secs(15 * 60)),
            logins_per_ip: Limit::new(30, Duration::from_secs(5 * 60)),
            dials_per_client: Limit::new(10, Duration::from_secs(10 * 60)),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "XINLI_JWT_SECRET must be set (at least {MIN_JWT_SECRET_BYTES} bytes) when XINLI_DEV_MODE=false"
    )]
    MissingJwtSecret,
    #[error("XINLI_JWT_SECRET is too short: at least {MIN_JWT_SECRET_BYTES} bytes are needed")]
    ShortJwtSecret,
    #[error("{0} is not a valid boolean: use true or false")]
    BadBool(&'static str),
    #[error("{0} is not a valid number")]
    BadNumber(&'static str),
    #[error("XINLI_DATABASE_URL must start with sqlite: or postgres://")]
    BadDatabaseUrl,
    #[error("XINLI_WECHAT_APPID and XINLI_WECHAT_SECRET must be set together")]
    HalfWechat,
    #[error("XINLI_ADMIN_USERNAME and XINLI_ADMIN_PASSWORD must be set together")]
    HalfAdmin,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Builds the configuration from any variable lookup (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let bool_var = |k: &'static str, default: bool| -> Result<bool, ConfigError> {
            match var(k).map(|v| v.to_ascii_lowercase()) {
                None => Ok(default),
                Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => Ok(true),
                Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => Ok(false),
                Some(_) => Err(ConfigError::BadBool(k)),
            }
        };
        let dev_mode = bool_var("XINLI_DEV_MODE", true)?;

        let (jwt_secret, jwt_secret_generated) = match get("XINLI_JWT_SECRET") {
            Some(s) if s.len() >= MIN_JWT_SECRET_BYTES => (SecretString::from(s), false),
            Some(s) if !s.is_empty() => return Err(ConfigError::ShortJwtSecret),
            _ if dev_mode => (random_secret(), true),
            _ => return Err(ConfigError::MissingJwtSecret),
        };

        let database_url = var("XINLI_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::BadDatabaseUrl);
        }

        let wechat = match (
            var("XINLI_WECHAT_APPID"),
            get("XINLI_WECHAT_SECRET").filter(|s| !s.is_empty()),
        ) {
            (Some(appid), Some(secret)) => Some(WechatCredentials { appid, secret }),
            (None, None) => None,
            _ => return Err(ConfigError::HalfWechat),
        };
        let bootstrap_admin = match (
            var("XINLI_ADMIN_USERNAME"),
            get("XINLI_ADMIN_PASSWORD").filter(|s| !s.is_empty()),
        ) {
            (Some(u), Some(p)) => Some((u, SecretString::from(p))),
            (None, None) => None,
            _ => return Err(ConfigError::HalfAdmin),
        };
        let minutes = |k: &'static str, default: u64| -> Result<Duration, ConfigError> {
            match var(k) {
                Some(v) => v
                    .parse::<u64>()
                    .map(|m| Duration::from_secs(m * 60))
                    .map_err(|_| ConfigError::BadNumber(k)),
                None => Ok(Duration::from_secs(default * 60)),
            }
        };
        let queue = QueueSettings {
            max_wait: minutes("XINLI_QUEUE_MAX_WAIT_MINUTES", 120)?,
            no_reply: minutes("XINLI_QUEUE_NO_REPLY_MINUTES", 5)?,
            sweep_every: match var("XINLI_QUEUE_SWEEP_SECONDS") {
                Some(v) => Duration::from_secs(
                    v.parse()
                        .map_err(|_| ConfigError::BadNumber("XINLI_QUEUE_SWEEP_SECONDS"))?,
                ),
                None => Duration::from_secs(30),
            },
            max_poll: Duration::from_secs(25),
        };
        let positive = |k: &'static str, default: Duration, unit: fn(u64) -> Duration| match var(k)
        {
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(unit)
                .ok_or(ConfigError::BadNumber(k)),
            None => Ok(default),
        };
        let d = RedisTimeouts::default();
        let redis_timeouts = RedisTimeouts {
            command: positive("XINLI_REDIS_TIMEOUT_MS", d.command, Duration::from_millis)?,
            connect: positive(
                "XINLI_REDIS_CONNECT_TIMEOUT_MS",
                d.connect,
                Duration::from_millis,
            )?,
            retry_max: positive(
                "XINLI_REDIS_RETRY_MAX_MS",
                d.retry_max,
                Duration::from_millis,
            )?,
            outage_cache_ttl: positive(
                "XINLI_REDIS_OUTAGE_CACHE_SECONDS",
                d.outage_cache_ttl,
                Duration::from_secs,
            )?,
        };
        let workers = match var("XINLI_WORKERS") {
            Some(w) => Some(
                w.parse()
                    .map_err(|_| ConfigError::BadNumber("XINLI_WORKERS"))?,
            ),
            None => None,
        };

        Ok(Self {
            bind: var("XINLI_BIND").unwrap_or_else(|| DEFAULT_BIND.into()),
            database_url,
            redis_url: var("XINLI_REDIS_URL"),
            redis_prefix: var("XINLI_REDIS_PREFIX").unwrap_or_else(|| "xinli:".into()),
            redis_timeouts,
            jwt_secret,
            jwt_secret_generated,
            dev_mode,
            wechat,
            wechat_api_base: var("XINLI_WECHAT_API_BASE")
                .unwrap_or_else(|| DEFAULT_WECHAT_API_BASE.into()),
            bootstrap_admin,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            trust_proxy: bool_var("XINLI_TRUST_PROXY", false)?,
            limits: Limits::default(),
            workers,
            queue,
            search_refresh_every: positive(
                "XINLI_SEARCH_REFRESH_SECONDS",
                Duration::from_secs(30),
                Duration::from_secs,
            )?,
        })
    }

    /// The Redis link's settings, when Redis is configured.
    pub fn redis_settings(&self) -> Option<RedisSettings> {
        let url = self.redis_url.as_ref()?;
        let t = self.redis_timeouts;
        Some(RedisSettings {
            command_timeout: t.command,
            connect_timeout: t.connect,
            retry_max: t.retry_max,
            outage_cache_ttl: t.outage_cache_ttl,
            ..RedisSettings::new(url.clone(), self.redis_prefix.clone())
        })
    }

    pub fn jwt_secret_bytes(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

fn random_secret() -> SecretString {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn embedded_default_needs_nothing() {
        let c = cfg(&[]).unwrap();
        assert!(c.dev_mode);
        assert!(c.jwt_secret_generated);
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.bind, DEFAULT_BIND);
        assert!(c.redis_url.is_none());
    }

    #[test]
    fn production_mode_refuses_to_start_without_a_real_secret() {
        assert_eq!(
            cfg(&[("XINLI_DEV_MODE", "false")]).unwrap_err(),
            ConfigError::MissingJwtSecret
        );
        assert_eq!(
            cfg(&[("XINLI_DEV_MODE", "false"), ("XINLI_JWT_SECRET", "short")]).unwrap_err(),
            ConfigError::ShortJwtSecret
        );
        let secret = "0123456789abcdef0123456789abcdef";
        let c = cfg(&[("XINLI_DEV_MODE", "false"), ("XINLI_JWT_SECRET", secret)]).unwrap();
        assert!(!c.dev_mode && !c.jwt_secret_generated);
    }

    #[test]
    fn rejects_nonsense() {
        assert_eq!(
            cfg(&[("XINLI_DEV_MODE", "maybe")]).unwrap_err(),
            ConfigError::BadBool("XINLI_DEV_MODE")
        );
        assert_eq!(
            cfg(&[("XINLI_DATABASE_URL", "mysql://x")]).unwrap_err(),
            ConfigError::BadDatabaseUrl
        );
        assert_eq!(
            cfg(&[("XINLI_WECHAT_APPID", "wx1")]).unwrap_err(),
            ConfigError::HalfWechat
        );
    }
}
