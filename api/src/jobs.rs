//! Background jobs that are not part of one request. (The queue's sweep still lives with the
//! consultation routes.)

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
