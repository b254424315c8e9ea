//! The one connection to Redis that every Redis user of an instance shares (the cache, the
//! attempt limits that count through it, the chat signal), behind a circuit breaker.
//!
//! Redis is an accelerator here, never the source of truth, so an outage must not cost a
//! request more than a few milliseconds:
//! - every command has a short timeout (`XINLI_REDIS_TIMEOUT_MS`); an actix worker's first
//!   command, which opens the worker's connection, has the connect timeout on top;
//! - the first failure opens the breaker: from then on callers skip Redis at once and use
//!   their in-process fallback (one warning in the log for the transition, not one per
//!   request);
//! - one background probe per instance pings Redis with a growing pause (up to
//!   `XINLI_REDIS_RETRY_MAX_MS`) and closes the breaker when it answers;
//! - invalidations made while Redis could not hear them (a cache version bumped, a key
//!   deleted) are remembered and replayed before the breaker closes, so that nothing cached
//!   before the outage is served after it.
//!
//! Why not a breaker crate: the ones on crates.io (`failsafe`, `recloser`) let requests
//! through to test a half-open breaker; here no request should ever wait for Redis while it
//! is down, so the probe is a task of its own and the breaker is one atomic flag.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, RedisError};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::Notify;

/// At most this many invalidations are remembered during an outage; beyond it the whole
/// key space of the prefix is dropped on recovery instead.
const MAX_PENDING: usize = 10_000;

#[derive(Debug, thiserror::Error)]
#[error("cannot connect to Redis: {0}")]
pub struct RedisConnectError(String);

/// How this instance talks to Redis (`XINLI_REDIS_*`).
#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: String,
    /// Prepended to every key, so that several deployments (or parallel tests) can share one
    /// Redis without colliding.
    pub prefix: String,
    /// Longest wait for one command before Redis is taken as down.
    pub command_timeout: Duration,
    /// Longest wait for a new connection.
    pub connect_timeout: Duration,
    /// Longest pause between two probes while Redis is down (they start at 50 ms and double).
    pub retry_max: Duration,
    /// While Redis is down, entries of the in-process fallback live at most this long, so
    /// that instances, which no longer share a cache, differ by a few seconds at most.
    pub outage_cache_ttl: Duration,
}

impl RedisSettings {
    pub fn new(url: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: prefix.into(),
            command_timeout: Duration::from_millis(250),
            connect_timeout: Duration::from_secs(1),
            retry_max: Duration::from_secs(1),
            outage_cache_ttl: Duration::from_secs(2),
        }
    }
}

/// An invalidation to repeat in Redis when it answers again (keys with the prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Replay {
    Delete,
    /// Raise the counter, created with this lifetime if missing.
    Bump(Duration),
}

#[derive(Default)]
struct Pending {
    writes: HashMap<String, Replay>,
    /// More than [`MAX_PENDING`] were dropped: clear every key of the prefix on recovery.
    overflowed: bool,
}

struct Inner {
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// Shared by the threads of a multi-threaded runtime (and the probe); a single-threaded
    /// runtime (each actix worker runs one) gets a connection of its own, see [`local`].
    conn: ConnectionManager,
    settings: RedisSettings,
    /// The breaker: true while Redis is taken as down.
    open: AtomicBool,
    /// Raised each time the breaker closes: the workers' own connections, which sat unused
    /// (and possibly broken) during the outage, are then opened afresh.
    generation: AtomicU64,
    wake_probe: Notify,
    pending: Mutex<Pending>,
}

/// A cheap handle (clone it freely) on this instance's Redis connection and breaker.
#[derive(Clone)]
pub struct RedisLink {
    inner: Arc<Inner>,
}

impl RedisLink {
    /// Connects now, so that a wrong `XINLI_REDIS_URL` stops the server at start rather than
    /// degrading silently, and starts the probe that closes the breaker after an outage.
    pub async fn connect(settings: RedisSettings) -> Result<Self, RedisConnectError> {
        let client = redis::Client::open(settings.url.as_str())
            .map_err(|e| RedisConnectError(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.command_timeout))
            .set_number_of_retries(1)
            .set_max_delay(settings.retry_max);
        let conn = tokio::time::timeout(
            settings.connect_timeout * 3,
            ConnectionManager::new_with_config(client.clone(), config.clone()),
        )
        .await
        .map_err(|_| RedisConnectError("timed out".into()))?
        .map_err(|e| RedisConnectError(e.to_string()))?;
        let link = Self {
            inner: Arc::new(Inner {
                client,
                config,
                conn,
                settings,
                open: AtomicBool::new(false),
                generation: AtomicU64::new(0),
                wake_probe: Notify::new(),
                pending: Mutex::new(Pending::default()),
            }),
        };
        tokio::spawn(probe(Arc::downgrade(&link.inner)));
        Ok(link)
    }

    pub fn settings(&self) -> &RedisSettings {
        &self.inner.settings
    }

    /// The key `key` under this deployment's prefix.
    pub fn key(&self, key: &str) -> String {
        format!("{}{}", self.inner.settings.prefix, key)
    }

    /// False while the breaker is open: callers use their fallback without trying Redis.
    pub fn is_up(&self) -> bool {
        !self.inner.open.load(Ordering::Acquire)
    }

    /// For the pub/sub listener, which needs a connection of its own.
    pub fn client(&self) -> &redis::Client {
        &self.inner.client
    }

    /// Runs one command (or pipeline); `None` when the breaker is open, or when Redis fails
    /// or does not answer in time (which opens the breaker).
    pub async fn query<T: FromRedisValue>(
        &self,
        op: &'static str,
        run: impl AsyncFnOnce(&mut ConnectionManager) -> Result<T, RedisError>,
    ) -> Option<T> {
        if !self.is_up() {
            return None;
        }
        let settings = &self.inner.settings;
        let (mut conn, limit, opened) = match local(&self.inner) {
            // Until a command has gone through, the worker's lazy connection first connects:
            // that part has the connect limit. Within the command limit alone, a connect
            // slowed by a loaded machine opened the breaker of a healthy Redis.
            Some((conn, opened)) if !opened.load(Ordering::Acquire) => (
                conn,
                settings.connect_timeout + settings.command_timeout,
                Some(opened),
            ),
            Some((conn, _)) => (conn, settings.command_timeout, None),
            None => (self.inner.conn.clone(), settings.command_timeout, None),
        };
        match with_timeout(limit, run(&mut conn)).await {
            Ok(v) => {
                if let Some(opened) = opened {
                    opened.store(true, Ordering::Release);
                }
                Some(v)
            }
            Err(error) => {
                self.trip(op, &error);
                None
            }
        }
    }

    /// Reachability for the readiness probe: an open breaker answers at once.
    pub async fn ping(&self) -> Result<(), String> {
        if !self.is_up() {
            return Err("Redis does not answer (breaker open; a probe retries)".into());
        }
        self.query("ping", async |c| {
            redis::cmd("PING").query_async::<String>(c).await
        })
        .await
        .map(|_| ())
        .ok_or_else(|| "Redis does not answer".into())
    }

    /// Opens the breaker (once per outage: one warning, one probe).
    pub fn trip(&self, op: &'static str, error: &dyn std::fmt::Display) {
        if !self.inner.open.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                op,
                error = %error,
                "Redis unavailable: serving from the database and in-process fallbacks until it answers again"
            );
            self.inner.wake_probe.notify_one();
        }
    }

    /// Remembers that `key` (without prefix) was deleted while Redis could not hear it.
    pub fn replay_delete(&self, key: &str) {
        self.remember(key, Replay::Delete);
    }

    /// Remembers that the counter `key` (without prefix) was raised while Redis could not
    /// hear it; `ttl` is its lifetime if Redis no longer has it.
    pub fn replay_bump(&self, key: &str, ttl: Duration) {
        self.remember(key, Replay::Bump(ttl));
    }

    fn remember(&self, key: &str, replay: Replay) {
        let key = self.key(key);
        let closed_meanwhile = {
            let Ok(mut pending) = self.inner.pending.lock() else {
                return;
            };
            if pending.writes.len() >= MAX_PENDING && !pending.writes.contains_key(&key) {
                pending.overflowed = true;
            } else {
                pending.writes.insert(key, replay);
            }
            self.is_up()
        };
        if closed_meanwhile {
            // The probe closed the breaker between our failed write and now: replay at once.
            let inner = self.inner.clone();
            tokio::spawn(async move {
                let _ = replay_pending(&inner).await;
            });
        }
    }
}

/// A connection owned by one single-threaded runtime (each actix worker runs one): its driver
/// task runs on that runtime's thread, so that a command is written, answered and handed
/// back without waking another thread. With one shared connection, whose driver ran on the
/// multi-threaded runtime, a fifth of the server's time went to those hand-overs: the cached
/// article list with Redis serves 18 % more requests per second this way (`tests/bench/ab.sh`,
/// both builds alternately in one run). Commands of concurrent requests on one worker still
/// go out together, pipelined by the connection.
struct Local {
    link: Weak<Inner>,
    /// Held by a task spawned on the runtime, so gone with it (and with it the connection's
    /// driver task): the entry is then rebuilt by the next runtime on this thread.
    runtime_alive: Weak<()>,
    /// [`Inner::generation`] when `conn` was made.
    generation: u64,
    conn: ConnectionManager,
    /// Whether a command has gone through `conn` (so that it is connected).
    opened: Arc<AtomicBool>,
}

thread_local! {
    static LOCAL: RefCell<Vec<Local>> = const { RefCell::new(Vec::new()) };
}

/// This thread's own connection for `inner`, and whether a command has gone through it, when
/// the current runtime is single-threaded; `None` on a multi-threaded runtime (whose threads
/// share [`Inner::conn`]). The connection is lazy: it connects within the first command, and
/// concurrent first commands share that one attempt. Until one succeeds, commands on it may
/// take the connect timeout plus the command timeout: a Redis that hangs costs the requests
/// waiting on a worker's new connection that long (at start, and again after each outage,
/// when the workers open their connections afresh), and then opens the breaker as any other
/// failure.
fn local(inner: &Arc<Inner>) -> Option<(ConnectionManager, Arc<AtomicBool>)> {
    let handle = Handle::try_current().ok()?;
    if handle.runtime_flavor() != RuntimeFlavor::CurrentThread {
        return None;
    }
    let generation = inner.generation.load(Ordering::Acquire);
    LOCAL.with_borrow_mut(|locals| {
        locals.retain(|l| l.link.strong_count() > 0 && l.runtime_alive.strong_count() > 0);
        let found = locals
            .iter_mut()
            .find(|l| std::ptr::eq(l.link.as_ptr(), Arc::as_ptr(inner)));
        if let Some(l) = &found
            && l.generation == generation
        {
            return Some((l.conn.clone(), l.opened.clone()));
        }
        let conn =
            ConnectionManager::new_lazy_with_config(inner.client.clone(), inner.config.clone())
                .ok()?;
        let opened = Arc::new(AtomicBool::new(false));
        if let Some(l) = found {
            // Opened before the last outage: its connection may have broken meanwhile.
            l.generation = generation;
            l.conn = conn.clone();
            l.opened = opened.clone();
            return Some((conn, opened));
        }
        let alive = Arc::new(());
        let runtime_alive = Arc::downgrade(&alive);
        let link = Arc::downgrade(inner);
        // Ends with the link (checked every minute) or with the runtime.
        handle.spawn(async move {
            let _alive = alive;
            while link.strong_count() > 0 {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        });
        locals.push(Local {
            link: Arc::downgrade(inner),
            runtime_alive,
            generation,
            conn: conn.clone(),
            opened: opened.clone(),
        });
        Some((conn, opened))
    })
}

async fn with_timeout<T>(
    limit: Duration,
    fut: impl Future<Output = Result<T, RedisError>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", limit.as_millis())),
    }
}

/// The instance's one probe: sleeps until the breaker opens, then pings with a growing pause
/// until Redis answers, replays what it missed and closes the breaker. Ends with the link.
async fn probe(link: std::sync::Weak<Inner>) {
    loop {
        let Some(inner) = link.upgrade() else { return };
        if !inner.open.load(Ordering::Acquire) {
            // Re-checked every minute so that a dropped link ends this task.
            let _ =
                tokio::time::timeout(Duration::from_secs(60), inner.wake_probe.notified()).await;
            continue;
        }
        let mut pause = Duration::from_millis(50);
        let started = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(pause).await;
            let mut conn = inner.conn.clone();
            let answered = with_timeout(
                inner.settings.command_timeout,
                redis::cmd("PING").query_async::<String>(&mut conn),
            )
            .await
            .is_ok();
            if answered && replay_pending(&inner).await.is_ok() && close_if_settled(&inner) {
                tracing::info!(
                    down_for_ms = started.elapsed().as_millis() as u64,
                    "Redis answers again: the shared cache, limits and chat signal are back"
                );
                break;
            }
            pause = (pause * 2).min(inner.settings.retry_max);
        }
    }
}

/// Closes the breaker if nothing new was remembered since the last replay (the check and
/// the close happen under the lock that [`RedisLink::remember`] takes).
fn close_if_settled(inner: &Inner) -> bool {
    let Ok(pending) = inner.pending.lock() else {
        return false;
    };
    if pending.writes.is_empty() && !pending.overflowed {
        inner.generation.fetch_add(1, Ordering::AcqRel);
        inner.open.store(false, Ordering::Release);
        true
    } else {
        false
    }
}

/// Sends the remembered invalidations to Redis; on failure they stay remembered.
async fn replay_pending(inner: &Inner) -> Result<(), String> {
    let (writes, overflowed) = {
        let mut pending = inner.pending.lock().map_err(|e| e.to_string())?;
        (
            std::mem::take(&mut pending.writes),
            std::mem::take(&mut pending.overflowed),
        )
    };
    if writes.is_empty() && !overflowed {
        return Ok(());
    }
    let result = send_replays(inner, &writes, overflowed).await;
    if result.is_err()
        && let Ok(mut pending) = inner.pending.lock()
    {
        for (k, v) in writes {
            pending.writes.entry(k).or_insert(v);
        }
        pending.overflowed |= overflowed;
    }
    result
}

async fn send_replays(
    inner: &Inner,
    writes: &HashMap<String, Replay>,
    overflowed: bool,
) -> Result<(), String> {
    let mut conn = inner.conn.clone();
    let limit = inner.settings.command_timeout * 4;
    if overflowed {
        // Too much was missed to replay it key by key: drop every key of this deployment.
        let pattern = format!("{}*", inner.settings.prefix);
        let keys: Vec<String> = with_timeout(
            limit,
            redis::cmd("KEYS").arg(&pattern).query_async(&mut conn),
        )
        .await?;
        for chunk in keys.chunks(500) {
            with_timeout(
                limit,
                redis::cmd("DEL").arg(chunk).query_async::<()>(&mut conn),
            )
            .await?;
        }
        tracing::warn!(
            keys = keys.len(),
            "Redis back after a long outage: its keys were cleared"
        );
        return Ok(());
    }
    let mut pipe = redis::pipe();
    for (key, replay) in writes {
        match replay {
            Replay::Delete => {
                pipe.cmd("DEL").arg(key).ignore();
            }
            Replay::Bump(ttl) => {
                pipe.cmd("INCR").arg(key).ignore();
                pipe.cmd("PEXPIRE")
                    .arg(key)
                    .arg(millis(*ttl))
                    .arg("NX")
                    .ignore();
            }
        }
    }
    with_timeout(limit, pipe.query_async::<()>(&mut conn)).await
}

/// A duration in whole milliseconds for Redis (at least 1).
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}
