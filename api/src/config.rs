//! Configuration from the environment. The names are the operator's contract (`../shared/design/API.md`,
//! "Running"); the defaults give the embedded development setup: SQLite file, in-process
//! cache, dev login and demo data.

use std::time::Duration;

use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use xinli_domain::notification::{Event, Template};
use xinli_domain::retention::{Kept, RetentionPolicy};
use xinli_domain::station::BookingPolicy;
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
    /// The URL clients reach this service at, named in the served OpenAPI spec's `servers`
    /// (`XINLI_PUBLIC_URL`, unset).
    pub public_url: Option<String>,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Prefix of every Redis key (`XINLI_REDIS_PREFIX`, default `xinli:`).
    pub redis_prefix: String,
    /// Timeouts and outage behaviour of the Redis link (`XINLI_REDIS_TIMEOUT_MS`, 250;
    /// `XINLI_REDIS_CONNECT_TIMEOUT_MS`, 1000; `XINLI_REDIS_RETRY_MAX_MS`, 1000;
    /// `XINLI_REDIS_OUTAGE_CACHE_SECONDS`, 2).
    pub redis_timeouts: RedisTimeouts,
    /// Bound of the in-process cache in bytes (`XINLI_CACHE_MAX_MB`, 64), used without Redis.
    pub cache_max_bytes: u64,
    pub jwt_secret: SecretString,
    /// True when no secret was configured and one was generated for this run (dev only).
    pub jwt_secret_generated: bool,
    pub dev_mode: bool,
    pub wechat: Option<WechatCredentials>,
    pub wechat_api_base: String,
    /// The mini-program page a station's code opens (`XINLI_WECHAT_STATION_PAGE`,
    /// `pages/station/index`); it receives the station id (32 hex digits) as `scene`.
    pub wechat_station_page: String,
    /// The page a screening's code opens (`XINLI_WECHAT_SCREENING_PAGE`,
    /// `pages/screening/index`); it receives the join code as `scene`.
    pub wechat_screening_page: String,
    pub bootstrap_admin: Option<(String, SecretString)>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Staff refresh tokens live shorter (`XINLI_STAFF_REFRESH_HOURS`, 8): each refresh starts
    /// the period again, so a console in use stays logged in and one left overnight does not.
    pub staff_refresh_token_ttl: Duration,
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
    /// How long finished chats and expired refresh tokens are kept
    /// (`XINLI_RETENTION_CHAT_DAYS`, 365; `XINLI_RETENTION_REFRESH_TOKEN_DAYS`, 7).
    pub retention: RetentionPolicy,
    /// How often the retention job runs (`XINLI_RETENTION_SWEEP_SECONDS`, 3600).
    pub retention_every: Duration,
    /// One person's booking rules (`XINLI_BOOKING_PER_DAY`, 1; `XINLI_BOOKING_MAX_UPCOMING`, 3;
    /// `XINLI_BOOKING_NO_SHOWS`, 3; `XINLI_BOOKING_NO_SHOW_DAYS`, 90; `XINLI_BOOKING_PAUSE_DAYS`,
    /// 30).
    pub booking: BookingPolicy,
    pub notifications: NotificationSettings,
    /// Minutes a risk alert waits for a supervisor on duty before every supervisor sees it
    /// (`XINLI_ALERT_ESCALATE_MINUTES`, 5).
    pub alert_escalate_minutes: u32,
    /// A WeCom (企业微信) group robot that escalated alerts are posted to
    /// (`XINLI_ALERT_WEBHOOK_URL`, the full `…/cgi-bin/webhook/send?key=…`; unset: none). A
    /// secret: it carries the robot's key.
    pub alert_webhook_url: Option<SecretString>,
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

/// Limits on what one client can repeat, counted in the cache (shared across instances
/// through Redis; per instance while Redis is down). Each is `XINLI_LIMIT_<NAME>=max/seconds`,
/// e.g. `XINLI_LIMIT_LOGINS_PER_IP=30/300`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failed staff logins per account before it is locked for the window
    /// (`LOGIN_FAILURES`, 5/900).
    pub login_failures_per_account: Limit,
    /// Password (staff) logins per client address, and dev logins per address in a counter
    /// of their own (`LOGINS_PER_IP`, 30/300).
    pub logins_per_ip: Limit,
    /// WeChat logins per client address (`WECHAT_LOGINS_PER_IP`, 3000/300). A WeChat code
    /// cannot be guessed, and a unit's screening puts hundreds of people behind one address
    /// within minutes: this only stops a flood.
    pub wechat_logins_per_ip: Limit,
    /// WeChat codes refused by WeChat per client address (`WECHAT_FAILURES_PER_IP`, 30/300):
    /// real codes are not refused, made-up ones are.
    pub wechat_failures_per_ip: Limit,
    /// Counted taps on "call" per client (user, or address when anonymous) (`DIALS`, 10/600).
    pub dials_per_client: Limit,
    /// Assessment submissions per user (`ASSESSMENTS`, 30/3600).
    pub assessments_per_user: Limit,
    /// New consultation requests per user (`CONSULTATION_REQUESTS`, 10/3600).
    pub consultation_requests_per_user: Limit,
    /// Chat messages per account, user or counselor (`MESSAGES`, 30/60).
    pub messages_per_account: Limit,
    /// Exports of one's own data per user (`EXPORTS`, 5/3600).
    pub exports_per_user: Limit,
    /// Bookings, cancellations and waitlist entries per user (`BOOKINGS`, 30/3600).
    pub bookings_per_user: Limit,
    /// Lecture requests per user (`LECTURE_REQUESTS`, 10/86400).
    pub lecture_requests_per_user: Limit,
    /// Uses of a join code (opening a screening, answering a lecture survey) per user
    /// (`JOIN_CODES`, 60/3600): enough to reload a page, far too few to guess a code.
    pub join_codes_per_user: Limit,
    /// Token refreshes per login (one chain of refresh tokens) (`REFRESHES`, 60/3600).
    pub refreshes_per_login: Limit,
    /// Likes and favourites set or taken back, per user (`REACTIONS`, 120/3600).
    pub reactions_per_user: Limit,
    /// Profile edits (nickname, audience group) per user (`PROFILE_EDITS`, 30/3600).
    pub profile_edits_per_user: Limit,
    /// Subscribe-message grants recorded, per user (`SUBSCRIPTIONS`, 60/3600).
    pub subscriptions_per_user: Limit,
    /// Long polls one user may hold open at once on one instance (`XINLI_LIMIT_LONG_POLLS`, 2).
    pub long_polls_per_user: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let per = |max, secs| Limit::new(max, Duration::from_secs(secs));
        Self {
            login_failures_per_account: per(5, 15 * 60),
            logins_per_ip: per(30, 5 * 60),
            wechat_logins_per_ip: per(3000, 5 * 60),
            wechat_failures_per_ip: per(30, 5 * 60),
            dials_per_client: per(10, 10 * 60),
            assessments_per_user: per(30, 3600),
            consultation_requests_per_user: per(10, 3600),
            messages_per_account: per(30, 60),
            exports_per_user: per(5, 3600),
            bookings_per_user: per(30, 3600),
            lecture_requests_per_user: per(10, 86_400),
            join_codes_per_user: per(60, 3600),
            refreshes_per_login: per(60, 3600),
            reactions_per_user: per(120, 3600),
            profile_edits_per_user: per(30, 3600),
            subscriptions_per_user: per(60, 3600),
            long_polls_per_user: 2,
        }
    }
}

/// Every number setting is read here, so that 0 and ranges mean the same for each: a whole
/// number within `range` (0 is refused unless the range holds it), or `default` when unset.
fn number<T>(
    var: &impl Fn(&str) -> Option<String>,
    k: &'static str,
    range: std::ops::RangeInclusive<T>,
    default: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match var(k) {
        None => Ok(default),
        Some(v) => v
            .parse::<T>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                ConfigError::BadNumber(k, format!("{} to {}", range.start(), range.end()))
            }),
    }
}

impl Limits {
    /// The defaults, each replaced by its `XINLI_LIMIT_*` variable when set.
    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let limit = |name: &'static str, default: Limit| -> Result<Limit, ConfigError> {
            let Some(v) = var(name) else {
                return Ok(default);
            };
            let parsed = v.split_once('/').and_then(|(max, secs)| {
                let max = max.trim().parse::<u64>().ok().filter(|m| *m > 0)?;
                let secs = secs.trim().parse::<u64>().ok().filter(|s| *s > 0)?;
                Some(Limit::new(max, Duration::from_secs(secs)))
            });
            parsed.ok_or(ConfigError::BadLimit(name))
        };
        Ok(Self {
            login_failures_per_account: limit(
                "XINLI_LIMIT_LOGIN_FAILURES",
                d.login_failures_per_account,
            )?,
            logins_per_ip: limit("XINLI_LIMIT_LOGINS_PER_IP", d.logins_per_ip)?,
            wechat_logins_per_ip: limit(
                "XINLI_LIMIT_WECHAT_LOGINS_PER_IP",
                d.wechat_logins_per_ip,
            )?,
            wechat_failures_per_ip: limit(
                "XINLI_LIMIT_WECHAT_FAILURES_PER_IP",
                d.wechat_failures_per_ip,
            )?,
            dials_per_client: limit("XINLI_LIMIT_DIALS", d.dials_per_client)?,
            assessments_per_user: limit("XINLI_LIMIT_ASSESSMENTS", d.assessments_per_user)?,
            consultation_requests_per_user: limit(
                "XINLI_LIMIT_CONSULTATION_REQUESTS",
                d.consultation_requests_per_user,
            )?,
            messages_per_account: limit("XINLI_LIMIT_MESSAGES", d.messages_per_account)?,
            exports_per_user: limit("XINLI_LIMIT_EXPORTS", d.exports_per_user)?,
            bookings_per_user: limit("XINLI_LIMIT_BOOKINGS", d.bookings_per_user)?,
            lecture_requests_per_user: limit(
                "XINLI_LIMIT_LECTURE_REQUESTS",
                d.lecture_requests_per_user,
            )?,
            join_codes_per_user: limit("XINLI_LIMIT_JOIN_CODES", d.join_codes_per_user)?,
            refreshes_per_login: limit("XINLI_LIMIT_REFRESHES", d.refreshes_per_login)?,
            reactions_per_user: limit("XINLI_LIMIT_REACTIONS", d.reactions_per_user)?,
            profile_edits_per_user: limit("XINLI_LIMIT_PROFILE_EDITS", d.profile_edits_per_user)?,
            subscriptions_per_user: limit("XINLI_LIMIT_SUBSCRIPTIONS", d.subscriptions_per_user)?,
            long_polls_per_user: number(
                &var,
                "XINLI_LIMIT_LONG_POLLS",
                1..=100,
                d.long_polls_per_user,
            )?,
        })
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
    #[error("{0} must be a whole number from {1}")]
    BadNumber(&'static str, String),
    #[error(
        "XINLI_DEV_MODE is not set, but this start looks like production ({0}): set XINLI_DEV_MODE=false (or true, deliberately, for a development setup)"
    )]
    DevModeUnset(String),
    #[error("{0} must be max/seconds, e.g. 30/300")]
    BadLimit(&'static str),
    #[error("XINLI_DATABASE_URL must start with sqlite: or postgres://")]
    BadDatabaseUrl,
    #[error("XINLI_WECHAT_APPID and XINLI_WECHAT_SECRET must be set together")]
    HalfWechat,
    #[error("XINLI_ADMIN_USERNAME and XINLI_ADMIN_PASSWORD must be set together")]
    HalfAdmin,
    #[error("XINLI_WECHAT_TEMPLATES: {0}")]
    BadTemplates(String),
    /// A variable with a value outside what it takes: the variable and what it takes.
    #[error("{0} must be {1}")]
    Invalid(&'static str, &'static str),
}

/// Subscribe messages: which template each event uses, how often the outbox is read.
#[derive(Debug, Clone)]
pub struct NotificationSettings {
    /// `XINLI_WECHAT_TEMPLATES`: `{"<event>": {"template_id": "…", "fields": {"thing1":
    /// "station", …}, "page": "…"}}`; an event without a template sends nothing.
    pub templates: Vec<(Event, Template)>,
    /// How often each instance's worker looks for due messages (`XINLI_OUTBOX_POLL_MS`, 2000).
    pub poll_every: Duration,
    /// `formal`, `trial` or `developer` (`XINLI_WECHAT_MINIPROGRAM_STATE`, `formal`).
    pub miniprogram_state: String,
}

impl NotificationSettings {
    pub fn template(&self, event: Event) -> Option<&Template> {
        self.templates
            .iter()
            .find(|(e, _)| *e == event)
            .map(|(_, t)| t)
    }

    pub fn configured(&self) -> Vec<Event> {
        self.templates.iter().map(|(e, _)| *e).collect()
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateVar {
    template_id: String,
    #[serde(default)]
    fields: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    page: Option<String>,
}

/// Parses `XINLI_WECHAT_TEMPLATES`.
pub fn parse_templates(raw: &str) -> Result<Vec<(Event, Template)>, ConfigError> {
    let map: std::collections::BTreeMap<String, TemplateVar> =
        serde_json::from_str(raw).map_err(|e| ConfigError::BadTemplates(e.to_string()))?;
    map.into_iter()
        .map(|(name, t)| {
            let event = Event::parse(&name).ok_or_else(|| {
                ConfigError::BadTemplates(format!(
                    "unknown event {name:?}; events are {}",
                    Event::ALL.map(|e| e.as_str()).join(", ")
                ))
            })?;
            let template = Template::parse(
                event,
                &t.template_id,
                t.fields.map(|f| f.into_iter().collect()),
                t.page.as_deref(),
            )
            .map_err(|e| {
                ConfigError::BadTemplates(
                    e.0.iter()
                        .map(|f| format!("{}: {}", f.field, f.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
            Ok((event, template))
        })
        .collect()
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
        if var("XINLI_DEV_MODE").is_none() {
            let signs = production_signs(&var);
            if !signs.is_empty() {
                return Err(ConfigError::DevModeUnset(signs.join(", ")));
            }
        }

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
            (Some(appid), Some(secret)) => Some(WechatCredentials {
                appid,
                secret: SecretString::from(secret),
            }),
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
        // A duration setting in `unit`s (seconds, minutes…), from 1 to `max`.
        let duration = |k: &'static str, default: Duration, unit: Duration, max: u64| {
            let d = u64::try_from(default.as_nanos() / unit.as_nanos()).unwrap_or(u64::MAX);
            number(&var, k, 1..=max, d).map(|n| unit * u32::try_from(n).unwrap_or(u32::MAX))
        };
        const MS: Duration = Duration::from_millis(1);
        const SECOND: Duration = Duration::from_secs(1);
        const MINUTE: Duration = Duration::from_secs(60);
        const HOUR: Duration = Duration::from_secs(3600);
        let queue = QueueSettings {
            max_wait: duration(
                "XINLI_QUEUE_MAX_WAIT_MINUTES",
                120 * MINUTE,
                MINUTE,
                24 * 60,
            )?,
            no_reply: duration("XINLI_QUEUE_NO_REPLY_MINUTES", 5 * MINUTE, MINUTE, 24 * 60)?,
            sweep_every: duration("XINLI_QUEUE_SWEEP_SECONDS", 30 * SECOND, SECOND, 3600)?,
            max_poll: Duration::from_secs(25),
        };
        let days = |k: &'static str, default: i64| number(&var, k, 1..=36_500, default);
        let d = RedisTimeouts::default();
        let redis_timeouts = RedisTimeouts {
            command: duration("XINLI_REDIS_TIMEOUT_MS", d.command, MS, 60_000)?,
            connect: duration("XINLI_REDIS_CONNECT_TIMEOUT_MS", d.connect, MS, 60_000)?,
            retry_max: duration("XINLI_REDIS_RETRY_MAX_MS", d.retry_max, MS, 600_000)?,
            outage_cache_ttl: duration(
                "XINLI_REDIS_OUTAGE_CACHE_SECONDS",
                d.outage_cache_ttl,
                SECOND,
                3600,
            )?,
        };
        let workers = match var("XINLI_WORKERS") {
            Some(_) => Some(number(&var, "XINLI_WORKERS", 1..=256, 1)?),
            None => None,
        };

        Ok(Self {
            bind: var("XINLI_BIND").unwrap_or_else(|| DEFAULT_BIND.into()),
            public_url: var("XINLI_PUBLIC_URL"),
            database_url,
            redis_url: var("XINLI_REDIS_URL"),
            redis_prefix: var("XINLI_REDIS_PREFIX").unwrap_or_else(|| "xinli:".into()),
            redis_timeouts,
            cache_max_bytes: number(
                &var,
                "XINLI_CACHE_MAX_MB",
                1..=65_536,
                xinli_infra::cache::DEFAULT_MAX_BYTES / (1024 * 1024),
            )? * 1024
                * 1024,
            jwt_secret,
            jwt_secret_generated,
            dev_mode,
            wechat,
            wechat_api_base: var("XINLI_WECHAT_API_BASE")
                .unwrap_or_else(|| DEFAULT_WECHAT_API_BASE.into()),
            wechat_station_page: var("XINLI_WECHAT_STATION_PAGE")
                .unwrap_or_else(|| "pages/station/index".into()),
            wechat_screening_page: var("XINLI_WECHAT_SCREENING_PAGE")
                .unwrap_or_else(|| "pages/screening/index".into()),
            bootstrap_admin,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            staff_refresh_token_ttl: duration("XINLI_STAFF_REFRESH_HOURS", 8 * HOUR, HOUR, 720)?,
            trust_proxy: bool_var("XINLI_TRUST_PROXY", false)?,
            limits: Limits::from_vars(var)?,
            workers,
            queue,
            retention: Kept::ALL.iter().try_fold(
                RetentionPolicy::default(),
                |p, k| -> Result<RetentionPolicy, ConfigError> {
                    Ok(p.with(*k, days(k.setting(), k.default_days())?))
                },
            )?,
            retention_every: duration("XINLI_RETENTION_SWEEP_SECONDS", HOUR, SECOND, 86_400)?,
            search_refresh_every: duration(
                "XINLI_SEARCH_REFRESH_SECONDS",
                30 * SECOND,
                SECOND,
                3600,
            )?,
            notifications: NotificationSettings {
                templates: match get("XINLI_WECHAT_TEMPLATES").filter(|s| !s.trim().is_empty()) {
                    Some(raw) => parse_templates(&raw)?,
                    None => vec![],
                },
                poll_every: duration("XINLI_OUTBOX_POLL_MS", 2 * SECOND, MS, 600_000)?,
                miniprogram_state: match var("XINLI_WECHAT_MINIPROGRAM_STATE") {
                    None => "formal".into(),
                    Some(v) if matches!(v.as_str(), "formal" | "trial" | "developer") => v,
                    Some(_) => {
                        return Err(ConfigError::Invalid(
                            "XINLI_WECHAT_MINIPROGRAM_STATE",
                            "formal, trial or developer",
                        ));
                    }
                },
            },
            // The URL carries the robot's key: never over plain HTTP (#30).
            alert_webhook_url: match var("XINLI_ALERT_WEBHOOK_URL") {
                Some(url) if url.starts_with("https://") => Some(SecretString::from(url)),
                Some(_) => {
                    return Err(ConfigError::Invalid(
                        "XINLI_ALERT_WEBHOOK_URL",
                        "an https:// URL",
                    ));
                }
                None => None,
            },
            alert_escalate_minutes: number(&var, "XINLI_ALERT_ESCALATE_MINUTES", 1..=1440, 5)?,
            booking: {
                let d = BookingPolicy::default();
                let count = |k: &'static str, default: u32| number(&var, k, 1..=1000, default);
                BookingPolicy {
                    per_day: count("XINLI_BOOKING_PER_DAY", d.per_day)?,
                    max_upcoming: count("XINLI_BOOKING_MAX_UPCOMING", d.max_upcoming)?,
                    max_waiting: count("XINLI_BOOKING_MAX_WAITING", d.max_waiting)?,
                    no_show_limit: count("XINLI_BOOKING_NO_SHOWS", d.no_show_limit)?,
                    no_show_days: days("XINLI_BOOKING_NO_SHOW_DAYS", d.no_show_days)?,
                    pause_days: days("XINLI_BOOKING_PAUSE_DAYS", d.pause_days)?,
                }
            },
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

/// What in the environment says "production": dev mode (demo accounts, login without
/// WeChat) must then be chosen explicitly, never taken by default.
fn production_signs(var: &impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut signs = Vec::new();
    if let Some(bind) = var("XINLI_BIND") {
        let host = bind.rsplit_once(':').map_or(bind.as_str(), |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            signs.push(format!("XINLI_BIND={bind}"));
        }
    }
    if var("XINLI_DATABASE_URL").is_some_and(|u| u.starts_with("postgres")) {
        signs.push("a PostgreSQL XINLI_DATABASE_URL".into());
    }
    if var("XINLI_WECHAT_APPID").is_some() {
        signs.push("WeChat credentials".into());
    }
    signs
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
    fn risk_alert_settings_are_checked() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.alert_escalate_minutes, 5);
        assert!(c.alert_webhook_url.is_none());
        let err = cfg(&[("XINLI_ALERT_WEBHOOK_URL", "qyapi.weixin.qq.com/x")])
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "XINLI_ALERT_WEBHOOK_URL must be an https:// URL"
        );
        let plain = "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k";
        assert!(cfg(&[("XINLI_ALERT_WEBHOOK_URL", plain)]).is_err());
        assert!(cfg(&[("XINLI_ALERT_ESCALATE_MINUTES", "0")]).is_err());
        let c = cfg(&[
            ("XINLI_ALERT_ESCALATE_MINUTES", "10"),
            (
                "XINLI_ALERT_WEBHOOK_URL",
                "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
            ),
        ])
        .unwrap();
        assert_eq!(c.alert_escalate_minutes, 10);
        assert!(c.alert_webhook_url.is_some());
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
            cfg(&[("XINLI_DEV_MODE", "true"), ("XINLI_WECHAT_APPID", "wx1")]).unwrap_err(),
            ConfigError::HalfWechat
        );
        assert_eq!(
            cfg(&[("XINLI_LIMIT_LOGINS_PER_IP", "30")]).unwrap_err(),
            ConfigError::BadLimit("XINLI_LIMIT_LOGINS_PER_IP")
        );
        assert_eq!(
            cfg(&[("XINLI_LIMIT_MESSAGES", "0/60")]).unwrap_err(),
            ConfigError::BadLimit("XINLI_LIMIT_MESSAGES")
        );
    }

    #[test]
    fn every_number_setting_refuses_zero_and_words_and_names_its_range() {
        for k in [
            "XINLI_QUEUE_MAX_WAIT_MINUTES",
            "XINLI_QUEUE_NO_REPLY_MINUTES",
            "XINLI_QUEUE_SWEEP_SECONDS",
            "XINLI_REDIS_TIMEOUT_MS",
            "XINLI_REDIS_CONNECT_TIMEOUT_MS",
            "XINLI_REDIS_RETRY_MAX_MS",
            "XINLI_REDIS_OUTAGE_CACHE_SECONDS",
            "XINLI_WORKERS",
            "XINLI_CACHE_MAX_MB",
            "XINLI_STAFF_REFRESH_HOURS",
            "XINLI_RETENTION_SWEEP_SECONDS",
            "XINLI_SEARCH_REFRESH_SECONDS",
            "XINLI_OUTBOX_POLL_MS",
            "XINLI_ALERT_ESCALATE_MINUTES",
            "XINLI_BOOKING_PER_DAY",
            "XINLI_BOOKING_NO_SHOW_DAYS",
            "XINLI_LIMIT_LONG_POLLS",
        ] {
            for bad in ["0", "-1", "ten", "1.5", "99999999999999999999"] {
                let err = cfg(&[(k, bad)]).unwrap_err();
                assert!(
                    matches!(&err, ConfigError::BadNumber(name, range) if *name == k && range.starts_with("1 to ")),
                    "{k}={bad}: {err}"
                );
            }
            assert!(cfg(&[(k, "1")]).is_ok(), "{k}=1");
        }
        let c = cfg(&[
            ("XINLI_QUEUE_NO_REPLY_MINUTES", "7"),
            ("XINLI_OUTBOX_POLL_MS", "250"),
            ("XINLI_CACHE_MAX_MB", "3"),
        ])
        .unwrap();
        assert_eq!(c.queue.no_reply, Duration::from_secs(7 * 60));
        assert_eq!(c.notifications.poll_every, Duration::from_millis(250));
        assert_eq!(c.cache_max_bytes, 3 * 1024 * 1024);
        let defaults = cfg(&[]).unwrap();
        assert_eq!(defaults.queue.max_wait, Duration::from_secs(120 * 60));
        assert_eq!(
            defaults.staff_refresh_token_ttl,
            Duration::from_secs(8 * 3600)
        );
        assert_eq!(
            defaults.cache_max_bytes,
            xinli_infra::cache::DEFAULT_MAX_BYTES
        );
    }

    #[test]
    fn limits_come_from_the_environment() {
        let c = cfg(&[("XINLI_LIMIT_WECHAT_LOGINS_PER_IP", "500/60")]).unwrap();
        assert_eq!(
            c.limits.wechat_logins_per_ip,
            Limit::new(500, Duration::from_secs(60))
        );
        assert_eq!(c.limits.logins_per_ip, Limits::default().logins_per_ip);
    }

    /// Dev mode is the default only on a developer's machine: a start with any sign of
    /// production and no explicit `XINLI_DEV_MODE` stops with one line saying why.
    #[test]
    fn dev_mode_is_never_taken_by_default_in_production() {
        let secret = ("XINLI_JWT_SECRET", "0123456789abcdef0123456789abcdef");
        for signs in [
            vec![("XINLI_BIND", "0.0.0.0:8080")],
            vec![("XINLI_BIND", "10.0.0.5:80")],
            vec![("XINLI_DATABASE_URL", "postgres://db/xinli")],
            vec![("XINLI_WECHAT_APPID", "wx1"), ("XINLI_WECHAT_SECRET", "s")],
        ] {
            let mut vars = signs.clone();
            vars.push(secret);
            let err = cfg(&vars).unwrap_err();
            assert!(
                matches!(err, ConfigError::DevModeUnset(_)),
                "{signs:?}: {err}"
            );
            assert!(!err.to_string().contains('\n'));
            vars.push(("XINLI_DEV_MODE", "false"));
            assert!(!cfg(&vars).unwrap().dev_mode);
        }
        for local in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080"] {
            assert!(cfg(&[("XINLI_BIND", local)]).unwrap().dev_mode, "{local}");
        }
    }
}
