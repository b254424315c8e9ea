//! Limits on what one client can repeat (the numbers: [`crate::config::Limits`]). Counted in
//! the shared cache, so that several instances behind one Redis enforce one limit; beyond it
//! the answer is `429 too_many_requests` with `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;
use xinli_domain::throttle::{self, Exceeded, Limit};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// The 429 answer for an exceeded limit.
pub fn too_many(e: Exceeded) -> ApiError {
    ApiError::new(ErrorCode::TooManyRequests).retry_after(e.retry_after)
}

/// Counts one `action` by `who` (an account, a login, an address) against `limit`.
pub async fn hit(
    state: &AppState,
    action: &str,
    who: impl std::fmt::Display,
    limit: Limit,
) -> ApiResult<()> {
    throttle::hit(
        state.cache.as_ref(),
        &format!("limit:{action}:{who}"),
        limit,
    )
    .await
    .map_err(too_many)
}

/// Long polls held open per user on this instance: each holds a database connection's worth
/// of attention for up to 25 s, so one person (or a script with their token) may hold only a
/// few at a time.
#[derive(Clone, Default)]
pub struct OpenPolls {
    open: Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// One open long poll; the place is given back when dropped (also when the client leaves).
pub struct PollSlot {
    polls: OpenPolls,
    who: Uuid,
}

impl OpenPolls {
    /// A place for one more long poll of `who`, or `429` when `max` are open.
    pub fn enter(&self, who: Uuid, max: usize) -> ApiResult<PollSlot> {
        let mut open = self
            .open
            .lock()
            .map_err(|_| ApiError::internal("open polls lock poisoned"))?;
        let n = open.entry(who).or_default();
        if *n >= max {
            return Err(ApiError::new(ErrorCode::TooManyRequests)
                .with_message(format!(
                    "同时等待新消息的请求最多 {max} 个，请关闭多余的页面"
                ))
                .retry_after(std::time::Duration::from_secs(1)));
        }
        *n += 1;
        Ok(PollSlot {
            polls: self.clone(),
            who,
        })
    }
}

impl Drop for PollSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.polls.open.lock()
            && let Some(n) = open.get_mut(&self.who)
        {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.who);
            }
        }
    }
}
