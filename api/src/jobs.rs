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
    spawn_claiming(state, "outbox", OUTBOX_BATCH, |s| async move {
        send_due(&s).await
    });
}

/// Runs a claiming `pass` every `XINLI_OUTBOX_POLL_MS` on this instance; a pass that claimed
/// a full `batch` runs again at once (there may be more due).
fn spawn_claiming<F, Fut>(state: web::Data<AppState>, what: &'static str, batch: u64, pass: F)
where
    F: Fn(web::Data<AppState>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<usize, xinli_domain::RepoError>> + Send,
{
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
                match pass(state.clone()).await {
                    Ok(n) if n as u64 == batch => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, job = what, "pass failed; retrying next tick");
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

/// Posts escalated risk alerts to the supervisors' group robot (`XINLI_ALERT_WEBHOOK_URL`)
/// every `XINLI_OUTBOX_POLL_MS`, on every instance (a lease keeps two from sending one
/// notice twice); retried with the outbox's backoff. Without the URL nothing is posted: the
/// console shows escalated alerts to every supervisor either way.
pub fn spawn_alert_notices(state: web::Data<AppState>) {
    if state.config.alert_webhook_url.is_none() {
        return;
    }
    spawn_claiming(state, "alert notices", ALERT_NOTICE_BATCH, |s| async move {
        send_alert_notices(&s).await
    });
}

/// Notices claimed per pass: posted one after another with WeChat's 5 s timeout, a batch
/// ends well within the 60 s lease, so that no other instance takes a row over and posts it
/// again.
const ALERT_NOTICE_BATCH: u64 = 5;

/// One pass: claim the due notices, post each, store the outcome. Logs ids and outcomes only.
pub async fn send_alert_notices(state: &AppState) -> Result<usize, xinli_domain::RepoError> {
    use secrecy::ExposeSecret;
    let Some(url) = &state.config.alert_webhook_url else {
        return Ok(0);
    };
    let now = state.clock.now();
    let claimed = state
        .risk
        .claim_notices(
            now,
            chrono::Duration::seconds(OUTBOX_LEASE_SECONDS),
            ALERT_NOTICE_BATCH,
        )
        .await?;
    let n = claimed.len();
    for (alert, attempts) in claimed {
        let text = xinli_domain::risk::escalation_notice(&alert, state.clock.now());
        let result = state
            .wechat
            .send_group_robot(url.expose_secret(), &text)
            .await;
        let done = xinli_domain::notification::outcome(&result, attempts + 1, state.clock.now());
        match done {
            xinli_domain::notification::Outcome::Sent => {
                tracing::info!(alert_id = %alert.id, "escalated alert posted to the supervisors' group")
            }
            other => {
                tracing::warn!(alert_id = %alert.id, outcome = ?other, "escalated alert not posted")
            }
        }
        state
            .risk
            .finish_notice(alert.id, done, state.clock.now())
            .await?;
    }
    Ok(n)
}
