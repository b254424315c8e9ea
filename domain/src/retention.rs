//! How long what is no longer needed is kept (PIPL art. 19: no longer than the purpose needs).
//!
//! One row per kind of data ([`Kept`]): what goes, counted from when, why that long, and the
//! setting that changes it. README's retention table is this list (a test holds them equal);
//! the retention job (`api/src/jobs.rs`) asks [`RetentionPolicy::cutoffs`] and the stores
//! remove or blank what is older. What stays behind is anonymous: counts, scores and times
//! for the figures, never a name, a phone number or a person's words.

use chrono::{DateTime, Duration, Utc};

use crate::error::RepoError;

/// A kind of data with a keeping time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kept {
    /// The words of a finished consultation: messages, description, rating comment.
    Chat,
    /// Refresh tokens, counted from their expiry.
    RefreshTokens,
    /// Name, phone, note and cancel reason given with a station booking.
    BookingContacts,
    /// Waitlist rows of a station session.
    Waitlist,
    /// Subscribe-message rows once sent, refused, failed or skipped.
    Outbox,
    /// Free-text comments of lecture, service and booking surveys.
    Comments,
    /// The lexicon phrase and the supervisor's note on a risk alert.
    AlertWords,
    /// Audit rows; afterwards only monthly counts per action remain.
    Audit,
    /// Liaison and head contacts on a finished lecture request.
    LectureContacts,
}

impl Kept {
    pub const ALL: [Kept; 9] = [
        Kept::Chat,
        Kept::RefreshTokens,
        Kept::BookingContacts,
        Kept::Waitlist,
        Kept::Outbox,
        Kept::Comments,
        Kept::AlertWords,
        Kept::Audit,
        Kept::LectureContacts,
    ];

    /// The setting (in days) that changes the keeping time.
    pub fn setting(self) -> &'static str {
        match self {
            Kept::Chat => "XINLI_RETENTION_CHAT_DAYS",
            Kept::RefreshTokens => "XINLI_RETENTION_REFRESH_TOKEN_DAYS",
            Kept::BookingContacts => "XINLI_RETENTION_BOOKING_DAYS",
            Kept::Waitlist => "XINLI_RETENTION_WAITLIST_DAYS",
            Kept::Outbox => "XINLI_RETENTION_OUTBOX_DAYS",
            Kept::Comments => "XINLI_RETENTION_COMMENT_DAYS",
            Kept::AlertWords => "XINLI_RETENTION_ALERT_DAYS",
            Kept::Audit => "XINLI_RETENTION_AUDIT_DAYS",
            Kept::LectureContacts => "XINLI_RETENTION_LECTURE_CONTACT_DAYS",
        }
    }

    pub fn default_days(self) -> i64 {
        match self {
            Kept::Chat | Kept::Comments | Kept::AlertWords | Kept::LectureContacts => 365,
            Kept::RefreshTokens => 7,
            Kept::BookingContacts | Kept::Waitlist => 90,
            Kept::Outbox => 30,
            Kept::Audit => 3 * 365,
        }
    }

    /// README's row: what goes, from when, and why it is kept that long.
    pub fn row(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kept::Chat => (
                "a finished consultation's messages, description and rating comment",
                "after it ended",
                "a returning person and a complaint can refer to it; the anonymous record and the counselor's note stay",
            ),
            Kept::RefreshTokens => (
                "refresh tokens (spent and revoked ones too)",
                "after they expired",
                "long enough to recognise a replayed token; past that it proves nothing",
            ),
            Kept::BookingContacts => (
                "the name, phone, note and cancel reason of a station booking",
                "after the session",
                "a station calls back about a session and counts no-shows; the booking stays without them",
            ),
            Kept::Waitlist => (
                "waitlist rows",
                "after the session",
                "the person sees where they waited and whether a seat came; later nobody needs it",
            ),
            Kept::Outbox => (
                "subscribe messages sent, refused, failed or skipped",
                "after they were sent (or due, when not sent)",
                "enough to answer 'why did I not get a reminder'; pending ones are never removed",
            ),
            Kept::Comments => (
                "survey comments (lectures, services, bookings)",
                "after they were written",
                "a year of comments improves next year's programme; the scores stay unlinked",
            ),
            Kept::AlertWords => (
                "the phrase matched by a risk alert and the supervisor's note",
                "after it was acknowledged",
                "a review of a year's alerts; level, source and times stay for the figures",
            ),
            Kept::Audit => (
                "audit rows (who read or changed what, and when)",
                "after the event",
                "complaints and inspections reach back three years; then monthly counts per action stay",
            ),
            Kept::LectureContacts => (
                "the liaison's and head's names and phones on a lecture request",
                "after it was done, declined or withdrawn",
                "the organiser plans the next visit to the unit; the unit's form stays",
            ),
        }
    }
}

/// Keeping time per kind, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    days: [i64; Kept::ALL.len()],
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            days: Kept::ALL.map(Kept::default_days),
        }
    }
}

fn index(kept: Kept) -> usize {
    Kept::ALL.iter().position(|k| *k == kept).unwrap_or(0)
}

impl RetentionPolicy {
    pub fn with(mut self, kept: Kept, days: i64) -> Self {
        self.days[index(kept)] = days;
        self
    }

    pub fn days(&self, kept: Kept) -> i64 {
        self.days[index(kept)]
    }

    /// What is older than this (counted from the kind's own moment) goes.
    pub fn cutoff(&self, kept: Kept, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(self.days(kept))
    }

    pub fn cutoffs(&self, now: DateTime<Utc>) -> Cutoffs {
        let c = |k| self.cutoff(k, now);
        Cutoffs {
            sessions_before: c(Kept::BookingContacts),
            waitlist_sessions_before: c(Kept::Waitlist),
            outbox_settled_before: c(Kept::Outbox),
            comments_written_before: c(Kept::Comments),
            alerts_acknowledged_before: c(Kept::AlertWords),
            audit_before: c(Kept::Audit),
            lectures_finished_before: c(Kept::LectureContacts),
        }
    }

    /// Consultations that ended before this lose their words.
    pub fn chats_ended_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.cutoff(Kept::Chat, now)
    }

    /// Refresh tokens that expired before this are deleted.
    pub fn tokens_expired_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.cutoff(Kept::RefreshTokens, now)
    }
}

/// The moments before which each kind goes, for one sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Bookings whose session ended before this lose name, phone, note and cancel reason.
    pub sessions_before: DateTime<Utc>,
    /// Waitlist rows of sessions that started before this are deleted.
    pub waitlist_sessions_before: DateTime<Utc>,
    /// Outbox rows settled (not pending or sending) before this are deleted.
    pub outbox_settled_before: DateTime<Utc>,
    /// Survey and booking comments written before this are removed.
    pub comments_written_before: DateTime<Utc>,
    /// Alerts acknowledged before this lose the phrase and the note.
    pub alerts_acknowledged_before: DateTime<Utc>,
    /// Audit rows older than this become monthly counts.
    pub audit_before: DateTime<Utc>,
    /// Lecture requests done, declined or withdrawn before this lose their contacts.
    pub lectures_finished_before: DateTime<Utc>,
}

/// How many rows one sweep removed or blanked, per kind (for the log line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub booking_contacts: u64,
    pub waitlist: u64,
    pub outbox: u64,
    pub comments: u64,
    pub alert_words: u64,
    pub audit: u64,
    pub lecture_contacts: u64,
}

impl Swept {
    pub fn total(&self) -> u64 {
        self.booking_contacts
            + self.waitlist
            + self.outbox
            + self.comments
            + self.alert_words
            + self.audit
            + self.lecture_contacts
    }
}

/// The month (China time, `YYYY-MM`) an audit row is counted in once it is past its keeping
/// time.
pub fn audit_month(at: DateTime<Utc>) -> String {
    at.with_timezone(&crate::schedule::CHINA)
        .format("%Y-%m")
        .to_string()
}

/// Removes or blanks what the cutoffs say is past its keeping time. Idempotent: every
/// instance runs it, and a second sweep finds nothing.
#[async_trait::async_trait]
pub trait RetentionStore: Send + Sync {
    async fn sweep(&self, cutoffs: &Cutoffs) -> Result<Swept, RepoError>;
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
        let c = p.cutoffs(now);
        assert_eq!(c.sessions_before.to_rfc3339(), "2026-09-02T00:00:00+00:00");
        assert_eq!(
            c.outbox_settled_before.to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        assert_eq!(c.audit_before.to_rfc3339(), "2023-12-02T00:00:00+00:00");
        let short = p.with(Kept::Audit, 10);
        assert_eq!(short.days(Kept::Audit), 10);
        assert_eq!(short.days(Kept::Chat), 365);
    }

    /// README's retention table lists every kind with its setting and default, in this order.
    #[test]
    fn readme_table_is_this_list() {
        let readme = include_str!("../../README.md");
        let rows: Vec<&str> = readme
            .lines()
            .filter(|l| l.starts_with("| ") && l.contains("XINLI_RETENTION_"))
            .collect();
        assert_eq!(rows.len(), Kept::ALL.len(), "one README row per kind");
        for (row, kept) in rows.iter().zip(Kept::ALL) {
            let (what, from, why) = kept.row();
            let want = format!(
                "| {what} | {} days {from} | `{}` | {why} |",
                kept.default_days(),
                kept.setting()
            );
            assert_eq!(*row, want);
        }
    }
}
