//! Wakes long-polling readers when a consultation gets a new message or changes state — in
//! this instance through a broadcast channel, and in every instance through Redis pub/sub
//! when Redis is configured.
//!
//! While Redis is down (the link's breaker is open, or this instance's subscription is not
//! established), signals from other instances cannot arrive: [`ChatSignal::poll_every`] then
//! tells long polls to re-read the database every second instead of waiting for a signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::redis_link::RedisLink;

/// How often a long poll re-reads the database while signals from other instances are lost.
pub const DEGRADED_POLL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct ChatSignal {
    local: broadcast::Sender<Uuid>,
    redis: Option<Shared>,
}

#[derive(Clone)]
struct Shared {
    link: RedisLink,
    channel: String,
    /// True while this instance's subscription listens.
    subscribed: Arc<AtomicBool>,
}

impl ChatSignal {
    /// In-process only (one instance).
    pub fn local() -> Self {
        let (local, _) = broadcast::channel(1024);
        Self { local, redis: None }
    }

    /// Shared through Redis: publishes on `{prefix}chat`, and a background task forwards what
    /// any instance publishes to this instance's waiters, reconnecting if Redis goes away.
    pub fn redis(link: RedisLink) -> Self {
        let channel = link.key("chat");
        let (local, _) = broadcast::channel(1024);
        let subscribed = Arc::new(AtomicBool::new(false));
        tokio::spawn(listen(
            link.clone(),
            channel.clone(),
            local.clone(),
            subscribed.clone(),
        ));
        Self {
            local,
            redis: Some(Shared {
                link,
                channel,
                subscribed,
            }),
        }
    }

    /// Announces a change of `consultation`.
    pub async fn notify(&self, consultation: Uuid) {
        if let Some(shared) = &self.redis {
            let id = consultation.to_string();
            let published = shared
                .link
                .query("publish", async |c| {
                    redis::cmd("PUBLISH")
                        .arg(&shared.channel)
                        .arg(&id)
                        .query_async::<i64>(c)
                        .await
                })
                .await;
            if published.is_some() && shared.subscribed.load(Ordering::Acquire) {
                // Our own subscription delivers it to this instance's readers.
                return;
            }
        }
        let _ = self.local.send(consultation);
    }

    /// Subscribe before reading the database, then wait: nothing published in between is lost.
    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.local.subscribe()
    }

    /// `Some(pause)` while signals from other instances may be lost: a long poll should then
    /// re-read the database after at most `pause` instead of waiting for a signal.
    pub fn poll_every(&self) -> Option<Duration> {
        match &self.redis {
            Some(s) if !s.link.is_up() || !s.subscribed.load(Ordering::Acquire) => {
                Some(DEGRADED_POLL)
            }
            _ => None,
        }
    }
}

/// Forwards what any instance publishes to this instance's waiters, for as long as the
/// process runs; reconnects (every second at most) when the subscription drops.
async fn listen(
    link: RedisLink,
    channel: String,
    forward: broadcast::Sender<Uuid>,
    subscribed: Arc<AtomicBool>,
) {
    let connect_timeout = link.settings().connect_timeout;
    let mut pause = Duration::from_millis(50);
    loop {
        let connected =
            tokio::time::timeout(connect_timeout, link.client().get_async_pubsub()).await;
        match connected {
            Ok(Ok(mut pubsub)) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    subscribed.store(true, Ordering::Release);
                    pause = Duration::from_millis(50);
                    let mut stream = pubsub.on_message();
                    while let Some(msg) = stream.next().await {
                        if let Ok(Ok(id)) = msg.get_payload::<String>().map(|p| Uuid::parse_str(&p))
                        {
                            let _ = forward.send(id);
                        }
                    }
                    subscribed.store(false, Ordering::Release);
                    link.trip("subscribe", &"the chat signal subscription ended");
                }
                Err(e) => link.trip("subscribe", &e),
            },
            Ok(Err(e)) => link.trip("subscribe", &e),
            Err(_) => link.trip("subscribe", &"no connection within the timeout"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}
