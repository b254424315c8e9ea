//! Notifications: WeChat subscribe messages sent from an outbox.
//!
//! The rules: which events exist and what each may say (never a chat text, an assessment
//! result or a description: only a status, a time, a station); how one-time grants are spent
//! (one grant, one message); how a template's fields are filled and cut to WeChat's limits;
//! what a send result means (sent, refused by the person, failed for good, or retried with
//! backoff). The outbox rows are written by the module whose event it is, in the transaction
//! of the event; the worker claims due rows so that no two instances send one row.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::RepoError;
use crate::schedule::CHINA;
use crate::validation::ValidationError;
use crate::wechat::WechatError;

/// What a person can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A counselor claimed the person's consultation request.
    ConsultationReady,
    /// A counselor replied while the person was not in the conversation.
    CounselorReplied,
    /// A station booking was made.
    BookingCreated,
    /// 24 h before a station session.
    BookingReminder,
    /// A booking changed: promoted from the waitlist, or cancelled by the station.
    BookingChanged,
    /// A unit's lecture request was decided.
    LectureRequestDecided,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::ConsultationReady,
        Event::CounselorReplied,
        Event::BookingCreated,
        Event::BookingReminder,
        Event::BookingChanged,
        Event::LectureRequestDecided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::ConsultationReady => "consultation_ready",
            Event::CounselorReplied => "counselor_replied",
            Event::BookingCreated => "booking_created",
            Event::BookingReminder => "booking_reminder",
            Event::BookingChanged => "booking_changed",
            Event::LectureRequestDecided => "lecture_request_decided",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The template keys filled when the deployment names none, and the placeholder each
    /// takes (see [`Payload`]).
    pub fn default_fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Event::ConsultationReady => &[("thing1", "status"), ("time2", "time")],
            Event::CounselorReplied => &[("thing1", "status"), ("time2", "time")],
            Event::BookingCreated | Event::BookingReminder => &[
                ("thing1", "station"),
                ("time2", "time"),
                ("thing3", "address"),
            ],
            Event::BookingChanged => &[
                ("thing1", "station"),
                ("time2", "time"),
                ("thing3", "change"),
            ],
            Event::LectureRequestDecided => &[("thing1", "status"), ("time2", "time")],
        }
    }

    /// The mini-program page a message opens.
    pub fn default_page(self) -> &'static str {
        match self {
            Event::ConsultationReady | Event::CounselorReplied => "pages/consultation/index",
            Event::BookingCreated | Event::BookingReminder | Event::BookingChanged => {
                "pages/bookings/index"
            }
            Event::LectureRequestDecided => "pages/lectures/index",
        }
    }
}

/// The values an event offers its template: `status`, `time`, `station`, `address`,
/// `change`. Nothing else can be put in a message.
pub type Payload = BTreeMap<String, String>;

/// Placeholders a template may use.
pub const PLACEHOLDERS: [&str; 5] = ["status", "time", "station", "address", "change"];

/// `YYYY-MM-DD HH:MM` in China time, WeChat's `time` format.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&CHINA).format("%Y-%m-%d %H:%M").to_string()
}

/// A message a change owes someone, written to the outbox in the change's transaction. The
/// `key` makes it once: a second notice with the same key is not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub event: Event,
    pub user: Uuid,
    /// The booking it is about, so that cancelling the booking withdraws its reminder.
    pub booking: Option<Uuid>,
    pub key: String,
    pub due_at: DateTime<Utc>,
    pub payload: Payload,
}

/// A claim tells the person a counselor is ready, once per request: a transfer's second
/// claim is not news. Nothing for a request whose account is gone.
pub fn of_claim(claimed: &crate::consultation::Consultation, now: DateTime<Utc>) -> Option<Notice> {
    Some(Notice {
        event: Event::ConsultationReady,
        user: claimed.user_id?,
        booking: None,
        key: ready_key(claimed.id),
        due_at: now,
        payload: consultation_ready(now),
    })
}

/// A counselor's message tells the person after [`REPLY_GRACE_SECONDS`], unless they read it
/// before (reading withdraws the pending notice by its key). The person's own messages and
/// the system's tell no one.
pub fn of_message(
    consultation: Uuid,
    user: Option<Uuid>,
    sender: crate::consultation::Sender,
    now: DateTime<Utc>,
) -> Option<Notice> {
    if sender != crate::consultation::Sender::Counselor {
        return None;
    }
    Some(Notice {
        event: Event::CounselorReplied,
        user: user?,
        booking: None,
        key: reply_key(consultation),
        due_at: now + Duration::seconds(REPLY_GRACE_SECONDS),
        payload: counselor_replied(now),
    })
}

/// An organiser's decision on a lecture request tells its liaison: the new state in a word
/// and the lecture's time (or the decision's); never the reason text or anyone's name. Each
/// decision is news, also a second one on the same request.
pub fn of_lecture_decision(
    request: &crate::lecture::LectureRequest,
    to: crate::lecture::Status,
    now: DateTime<Utc>,
) -> Option<Notice> {
    let mut payload = Payload::new();
    payload.insert("status".into(), format!("讲座申请{}", to.label()));
    payload.insert(
        "time".into(),
        format_time(request.scheduled_at.unwrap_or(now)),
    );
    Some(Notice {
        event: Event::LectureRequestDecided,
        user: request.user_id?,
        booking: None,
        key: format!(
            "lecture:{}:{}:{}",
            request.id,
            to.as_str(),
            now.timestamp_micros()
        ),
        due_at: now,
        payload,
    })
}

/// What a "counselor claimed you" message says: a status and the time, never who or why.
pub fn consultation_ready(now: DateTime<Utc>) -> Payload {
    let mut p = Payload::new();
    p.insert("status".into(), "咨询师已接入".into());
    p.insert("time".into(), format_time(now));
    p
}

/// How long a counselor's reply waits before the person is told: someone in the
/// conversation reads it within this time, and reading withdraws the message.
pub const REPLY_GRACE_SECONDS: i64 = 60;

/// What a "counselor replied" message says: never the reply itself.
pub fn counselor_replied(now: DateTime<Utc>) -> Payload {
    let mut p = Payload::new();
    p.insert("status".into(), "咨询师回复了你，请回到对话".into());
    p.insert("time".into(), format_time(now));
    p
}

/// The outbox keys of a consultation's messages: one "ready" per request; one pending
/// "replied" at a time (withdrawn when the person reads), one sent per request.
pub fn ready_key(consultation: Uuid) -> String {
    format!("consultation:{consultation}:ready")
}

pub fn reply_key(consultation: Uuid) -> String {
    format!("consultation:{consultation}:replied")
}

/// A deployment's template for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub template_id: String,
    /// Template key → placeholder; the event's defaults when not configured.
    pub fields: Vec<(String, String)>,
    pub page: String,
}

impl Template {
    /// Validates a configured template: known placeholders, keys WeChat can accept.
    pub fn parse(
        event: Event,
        template_id: &str,
        fields: Option<Vec<(String, String)>>,
        page: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let template_id = template_id.trim();
        if template_id.is_empty() || template_id.len() > 128 {
            return Err(ValidationError::single(
                format!("{}.template_id", event.as_str()),
                "template_id is required",
            ));
        }
        let fields = fields.unwrap_or_else(|| {
            event
                .default_fields()
                .iter()
                .map(|(k, p)| ((*k).to_owned(), (*p).to_owned()))
                .collect()
        });
        for (key, placeholder) in &fields {
            let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
            if kind.is_empty()
                || kind == key
                || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            {
                return Err(ValidationError::single(
                    format!("{}.fields.{key}", event.as_str()),
                    "a key is a WeChat data key such as thing1 or time2",
                ));
            }
            if !PLACEHOLDERS.contains(&placeholder.as_str()) {
                return Err(ValidationError::single(
                    format!("{}.fields.{key}", event.as_str()),
                    format!(
                        "unknown placeholder; use one of {}",
                        PLACEHOLDERS.join(", ")
                    ),
                ));
            }
        }
        Ok(Self {
            template_id: template_id.to_owned(),
            fields,
            page: page
                .map(str::to_owned)
                .unwrap_or_else(|| event.default_page().to_owned()),
        })
    }

    /// The `data` of the message: each key's placeholder value, cut to what WeChat accepts
    /// for the key's kind (`thing` 20 characters, `phrase` 5, `name` 10, `character_string`,
    /// `number` and `letter` 32, `symbol` 5). Keys whose value is missing get `-`.
    pub fn render(&self, payload: &Payload) -> Vec<(String, String)> {
        self.fields
            .iter()
            .map(|(key, placeholder)| {
                let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
                let value = payload
                    .get(placeholder)
                    .map(String::as_str)
                    .filter(|v| !v.trim().is_empty())
                    .unwrap_or("-");
                (key.clone(), cut(kind, value))
            })
            .collect()
    }
}

fn cut(kind: &str, value: &str) -> String {
    let max = match kind {
        "thing" => 20,
        "phrase" | "symbol" => 5,
        "name" => 10,
        "character_string" | "number" | "letter" => 32,
        "phone_number" => 17,
        _ => 40,
    };
    if value.chars().count() <= max {
        return value.to_owned();
    }
    if kind == "thing" {
        let mut s: String = value.chars().take(max - 1).collect();
        s.push('…');
        s
    } else {
        value.chars().take(max).collect()
    }
}

/// A row's state in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Pending,
    /// Claimed by a worker, until its lease ends.
    Sending,
    Sent,
    /// The person refused, or their grant was used (43101): not retried.
    Refused,
    /// WeChat refused the message for good (e.g. 47003, 40003), or retries ran out.
    Failed,
    /// Nothing to send: no template for the event, or no grant from the person.
    Skipped,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Sending,
        Status::Sent,
        Status::Refused,
        Status::Failed,
        Status::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Refused => "refused",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// Attempts before a retried message is given up.
pub const MAX_ATTEMPTS: i32 = 5;

/// What to do with a row after one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Refused(i64),
    Failed(i64),
    /// Try again at this instant.
    Retry {
        at: DateTime<Utc>,
        errcode: i64,
    },
}

/// Backoff after `attempts` failed tries: 30 s, 1 min, 2 min, … at most 30 min.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 6)).unwrap_or(0);
    Duration::seconds((30_i64 * 2_i64.pow(exp)).min(1800))
}

/// Classifies a send result. `attempts` counts this one; `now` is when it began (a retry's
/// backoff counts from there, so it does not depend on how long the send took).
pub fn outcome(result: &Result<(), WechatError>, attempts: i32, now: DateTime<Utc>) -> Outcome {
    let retry = |errcode| {
        if attempts >= MAX_ATTEMPTS {
            Outcome::Failed(errcode)
        } else {
            Outcome::Retry {
                at: now + backoff(attempts),
                errcode,
            }
        }
    };
    match result {
        Ok(()) => Outcome::Sent,
        Err(WechatError::Upstream { code: 43101, .. }) => Outcome::Refused(43101),
        Err(WechatError::Busy) => retry(-1),
        Err(WechatError::Unreachable(_)) => retry(0),
        Err(WechatError::Quota(code)) => retry(*code),
        // 40001/42001 were already retried once with a new token by the client.
        Err(WechatError::Upstream { code, .. }) => Outcome::Failed(*code),
        Err(WechatError::NotConfigured) => Outcome::Failed(0),
        Err(_) => Outcome::Failed(0),
    }
}

/// Unused grants one person may hold per event: the mini-program asks at most a few times
/// per visit; more would be noise.
pub const MAX_UNUSED_GRANTS: u64 = 20;

/// A row claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: Uuid,
    pub event: Event,
    pub openid: String,
    pub payload: Payload,
    pub attempts: i32,
}

/// Outbox figures: rows per event, China date of creation and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    pub event: String,
    pub date: NaiveDate,
    pub status: String,
    pub count: u64,
}

#[async_trait]
pub trait NotificationRepository: Send + Sync {
    /// Records accepted one-time grants; returns the person's unused grants per event.
    async fn record_grants(
        &self,
        user: Uuid,
        accepted: &[Event],
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<Event, u64>, RepoError>;
    /// Claims up to `limit` due rows (pending and due, or sending with an ended lease) for
    /// `lease`, in one transaction no other instance can share (`FOR UPDATE SKIP LOCKED` on
    /// PostgreSQL, `BEGIN IMMEDIATE` on SQLite). A row of an event in `configured` spends one
    /// of the person's grants (or keeps the one it spent before); without a grant, or without
    /// a template, it is `skipped` and not returned.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u64,
        configured: &[Event],
    ) -> Result<Vec<Claimed>, RepoError>;
    /// Stores what a send came to.
    async fn finish(&self, id: Uuid, outcome: Outcome, now: DateTime<Utc>)
    -> Result<(), RepoError>;
    /// Figures by event, day and status for rows created in `[from, to)`; and the errcodes of
    /// failures, per event.
    async fn figures(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<Figure>, Vec<(String, i64, u64)>), RepoError>;
    /// Deletes the row with `key` if it has not been claimed yet (the person read what it
    /// was about). Returns whether one was withdrawn.
    async fn withdraw(&self, key: &str) -> Result<bool, RepoError>;
    /// A person's grants (event, granted, used), for export.
    async fn grants_of(
        &self,
        user: Uuid,
    ) -> Result<Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)>, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_and_a_counselors_message_tell_the_person_and_nothing_else_does() {
        use crate::consultation::{Consultation, NewRequest, Priority, Sender};
        let now = Utc::now();
        let req = NewRequest::parse("压力", "", "text").unwrap();
        let mut c = Consultation::request(Uuid::now_v7(), req, Priority::Normal, "", now);
        let user = c.user_id.unwrap_or_else(Uuid::now_v7);
        c.user_id = Some(user);
        let ready = of_claim(&c, now).unwrap();
        assert_eq!(
            (ready.event, ready.user, ready.due_at),
            (Event::ConsultationReady, user, now)
        );
        assert_eq!(
            ready.key,
            of_claim(&c, now + Duration::hours(1)).unwrap().key,
            "once per request"
        );
        let replied = of_message(c.id, Some(user), Sender::Counselor, now).unwrap();
        assert_eq!(replied.event, Event::CounselorReplied);
        assert_eq!(replied.due_at, now + Duration::seconds(REPLY_GRACE_SECONDS));
        assert!(
            !replied.payload.values().any(|v| v.contains("压力")),
            "never the words"
        );
        assert_eq!(of_message(c.id, Some(user), Sender::User, now), None);
        assert_eq!(of_message(c.id, Some(user), Sender::System, now), None);
        assert_eq!(of_message(c.id, None, Sender::Counselor, now), None);
        c.user_id = None;
        assert_eq!(
            of_claim(&c, now),
            None,
            "an account that is gone is told nothing"
        );
    }

    #[test]
    fn templates_fill_defaults_and_cut_to_wechat_limits() {
        let t = Template::parse(Event::BookingReminder, "tpl-1", None, None).unwrap();
        assert_eq!(t.page, "pages/bookings/index");
        let mut p = Payload::new();
        p.insert(
            "station".into(),
            "湖南省中西医结合医院(湖南省中医药研究院附属医院)".into(),
        );
        p.insert("time".into(), "2026-12-07 09:00".into());
        let data = t.render(&p);
        assert_eq!(data[0].0, "thing1");
        assert_eq!(data[0].1.chars().count(), 20);
        assert!(data[0].1.ends_with('…'));
        assert_eq!(data[1], ("time2".into(), "2026-12-07 09:00".into()));
        assert_eq!(data[2], ("thing3".into(), "-".into()));
        let t = Template::parse(
            Event::ConsultationReady,
            "tpl-2",
            Some(vec![("phrase3".into(), "status".into())]),
            Some("pages/x"),
        )
        .unwrap();
        let mut p = Payload::new();
        p.insert("status".into(), "咨询师已接入你的咨询".into());
        assert_eq!(t.render(&p), [("phrase3".into(), "咨询师已接".into())]);
        assert!(Template::parse(Event::ConsultationReady, "", None, None).is_err());
        assert!(
            Template::parse(
                Event::ConsultationReady,
                "t",
                Some(vec![("thing1".into(), "message".into())]),
                None
            )
            .is_err(),
            "a chat text is not a placeholder"
        );
        assert!(
            Template::parse(
                Event::ConsultationReady,
                "t",
                Some(vec![("1".into(), "status".into())]),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn send_results() {
        let now = Utc::now();
        assert_eq!(outcome(&Ok(()), 1, now), Outcome::Sent);
        let refused = Err(WechatError::Upstream {
            code: 43101,
            message: "user refuse to accept the msg".into(),
        });
        assert_eq!(outcome(&refused, 1, now), Outcome::Refused(43101));
        let bad = Err(WechatError::Upstream {
            code: 47003,
            message: "argument invalid".into(),
        });
        assert_eq!(outcome(&bad, 1, now), Outcome::Failed(47003));
        assert_eq!(
            outcome(&Err(WechatError::Busy), 1, now),
            Outcome::Retry {
                at: now + Duration::seconds(60),
                errcode: -1
            }
        );
        assert_eq!(
            outcome(&Err(WechatError::Busy), MAX_ATTEMPTS, now),
            Outcome::Failed(-1)
        );
        assert_eq!(backoff(20), Duration::seconds(1800));
    }
}
