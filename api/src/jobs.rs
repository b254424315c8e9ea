//! Background jobs that are not part of one request: retention, the notifications outbox.
//! (The queue's sweep still lives with the consultation routes.)

use std::time::Duration;

use actix_web::web;

use crate::state::AppState;

/// Enforces the retention policy (`xinli_domain::retention`) at start and then every
/// `XINLI_RETENTION_SWEEP_SECONDS`: every instance runs it; the deletes are idempotent.
pub fn spawn_retention(state: web::Data<AppState>) {
    tokio::spawn(async move {
        let mut tick =
            tokio::time::interval(state.config.retention_every.max(Duration::from_millis(50)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = retention(&state).await {
                tracing::warn!(error = %e, "retention sweep failed; retrying next tick");
            }
        }
    });
}

/// One pass of the retention policy.
pub async fn retention(state: &AppState) -> Result<(), xinli_domain::RepoError> {
    let now = state.clock.now();
    let policy = state.config.retention;
    let chats = state
        .consultations
        .purge_chats_ended_before(policy.chats_ended_before(now))
        .await?;
    let tokens = state
        .refresh_tokens
        .purge_expired_before(policy.tokens_expired_before(now))
        .await?;
    if chats > 0 || tokens > 0 {
        tracing::info!(
            chats,
            tokens,
            "retention: removed what is past its keeping time"
        );
    }
    Ok(())
}

/// How long a claimed outbox row is this worker's before another instance may take it over.
const OUTBOX_LEASE_SECONDS: i64 = 60;
/// Rows claimed per pass.
const OUTBOX_BATCH: u64 = 20;

/// Sends due subscribe messages every `XINLI_OUTBOX_POLL_MS`, on every instance (the claim
/// keeps instances from sending one row twice). Without WeChat credentials nothing is sent
/// and rows wait.
pub fn spawn_outbox(state: web::Data<AppState>) {
    if state.config.wechat.is_none() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(
            state
                .config
                .notifications
                .poll_every
                .max(Duration::from_millis(20)),
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            loop {
                match send_due(&state).await {
                    // A full batch: there may be more due now.
                    Ok(n) if n as u64 == OUTBOX_BATCH => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox pass failed; retrying next tick");
                        break;
                    }
                }
            }
        }
    });
}

/// One pass: claim due rows, send each, store the outcome. Logs the event and the outcome,
/// never the message's values.
pub async fn send_due(state: &AppState) -> Result<usize, xinli_domain::RepoError> {
    use xinli_domain::notification::{Outcome, outcome};
    use xinli_domain::wechat::SubscribeMessage;
    let settings = &state.config.notifications;
    let now = state.clock.now();
    let claimed = state
        .notifications
        .claim_due(
            now,
            chrono::Duration::seconds(OUTBOX_LEASE_SECONDS),
            OUTBOX_BATCH,
            &settings.configured(),
        )
        .await?;
    let n = claimed.len();
    for row in claimed {
        let Some(template) = settings.template(row.event) else {
            continue;
        };
        let message = SubscribeMessage {
            touser: row.openid.clone(),
            template_id: template.template_id.clone(),
            page: template.page.clone(),
            data: template.render(&row.payload),
            miniprogram_state: settings.miniprogram_state.clone(),
        };
        let result = state.wechat.send_subscribe(&message).await;
        let done = outcome(&result, row.attempts, state.clock.now());
        match done {
            Outcome::Sent => tracing::info!(event = row.event.as_str(), "notification sent"),
            other => {
                tracing::warn!(event = row.event.as_str(), outcome = ?other, "notification not sent")
            }
        }
        state
            .notifications
            .finish(row.id, done, state.clock.now())
            .await?;
    }
    Ok(n)
}
