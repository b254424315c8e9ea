//! Wakes long-polling readers when a consultation gets a new message or changes state — in
//! this instance through a broadcast channel, and in every instance through Redis pub/sub
//! when Redis is configured.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;
use uuid::Uuid;

#[derive(Clone)]
pub struct ChatSignal {
    local: broadcast::Sender<Uuid>,
    redis: Option<(redis::aio::ConnectionManager, String)>,
}

impl ChatSignal {
    /// In-process only (one instance).
    pub fn local() -> Self {
        let (local, _) = broadcast::channel(1024);
        Self { local, redis: None }
    }

    /// Shared through Redis: publishes on `{prefix}chat`, and a background task forwards what
    /// any instance publishes to this instance's waiters, reconnecting if Redis goes away.
    pub async fn redis(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let conn = redis::aio::ConnectionManager::new(client.clone())
            .await
            .map_err(|e| e.to_string())?;
        let channel = format!("{prefix}chat");
        let (local, _) = broadcast::channel(1024);
        let forward = local.clone();
        let listen_on = channel.clone();
        tokio::spawn(async move {
            loop {
                match client.get_async_pubsub().await {
                    Ok(mut pubsub) => {
                        if let Err(e) = pubsub.subscribe(&listen_on).await {
                            tracing::warn!(error = %e, "chat signal: cannot subscribe");
                        } else {
                            let mut stream = pubsub.on_message();
                            while let Some(msg) = stream.next().await {
                                if let Ok(id) =
                                    msg.get_payload::<String>().map(|p| Uuid::parse_str(&p))
                                    && let Ok(id) = id
                                {
                                    let _ = forward.send(id);
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "chat signal: Redis unavailable; long polls fall back to their timeout")
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Ok(Self {
            local,
            redis: Some((conn, channel)),
        })
    }

    /// Announces a change of `consultation`.
    pub async fn notify(&self, consultation: Uuid) {
        match &self.redis {
            Some((conn, channel)) => {
                let mut conn = conn.clone();
                let published = redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(consultation.to_string())
                    .query_async::<i64>(&mut conn)
                    .await;
                if published.is_err() {
                    // Redis down: at least wake this instance's readers.
                    let _ = self.local.send(consultation);
                }
            }
            None => {
                let _ = self.local.send(consultation);
            }
        }
    }

    /// Subscribe before reading the database, then wait: nothing published in between is lost.
    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.local.subscribe()
    }
}
