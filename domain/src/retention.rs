//! How long what is no longer needed is kept (PIPL: stored no longer than the purpose needs).
//!
//! - The words of a finished consultation (its messages, the person's description and
//!   rating comment) go `chat` after it ended; the consultation stays as an anonymous record
//!   for the statistics and the counselor's note.
//! - Refresh tokens go `refresh_tokens` after they expired (used or revoked ones included:
//!   past its expiry a token proves nothing, not even a replay).

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub chat: Duration,
    pub refresh_tokens: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            chat: Duration::days(365),
            refresh_tokens: Duration::days(7),
        }
    }
}

impl RetentionPolicy {
    /// Consultations that ended before this lose their words.
    pub fn chats_ended_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.chat
    }

    /// Refresh tokens that expired before this are deleted.
    pub fn tokens_expired_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.refresh_tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_count_back_from_now() {
        let p = RetentionPolicy::default();
        let now = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(
            p.chats_ended_before(now).to_rfc3339(),
            "2025-12-01T00:00:00+00:00"
        );
        assert_eq!(
            p.tokens_expired_before(now).to_rfc3339(),
            "2026-11-24T00:00:00+00:00"
        );
    }
}
