//! The two-question satisfaction survey (content 1–5, gain 1–5, a comment) for consultations
//! and station sessions, the same as after a lecture (`crate::lecture::SurveyAnswer`), so that
//! the organiser reports one comparable figure per service. Who may answer: the person served,
//! once, after the service took place.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::RepoError;
use crate::lecture::SurveyAnswer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Consultation,
    Booking,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Consultation => "consultation",
            Service::Booking => "booking",
        }
    }
}

/// What a survey the person answered was about (their export lists all three).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    Consultation,
    Booking,
    Lecture,
}

impl Answered {
    pub const ALL: [Answered; 3] = [Answered::Consultation, Answered::Booking, Answered::Lecture];

    pub fn as_str(self) -> &'static str {
        match self {
            Answered::Consultation => "consultation",
            Answered::Booking => "booking",
            Answered::Lecture => "lecture",
        }
    }
}

/// One survey answer of a person, for their export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyAnswer {
    pub about: Answered,
    /// The consultation, booking or lecture request.
    pub subject: Uuid,
    pub answer: SurveyAnswer,
    pub at: DateTime<Utc>,
}

/// Why a survey answer is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not the caller's: reported as not found.
    NotYours,
    /// The consultation is not closed, or the session not attended.
    NotYet,
}

/// A consultation's survey: its person, once it is closed.
pub fn check_consultation(
    c: &crate::consultation::Consultation,
    user: Uuid,
) -> Result<(), Refusal> {
    if c.user_id != Some(user) {
        return Err(Refusal::NotYours);
    }
    if c.status != crate::consultation::Status::Closed {
        return Err(Refusal::NotYet);
    }
    Ok(())
}

/// A station session's survey: its person, once attended.
pub fn check_booking(b: &crate::station::Booking, user: Uuid) -> Result<(), Refusal> {
    if b.user_id != Some(user) {
        return Err(Refusal::NotYours);
    }
    if b.status != crate::station::BookingStatus::Attended {
        return Err(Refusal::NotYet);
    }
    Ok(())
}

#[async_trait]
pub trait SurveyRepository: Send + Sync {
    /// Stores an answer; `Conflict::SurveyAnswered` the second time for the same subject.
    async fn answer(
        &self,
        service: Service,
        subject: Uuid,
        user: Uuid,
        answer: &SurveyAnswer,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;
    /// Answers given in `[from, to)`.
    async fn answers_between(
        &self,
        service: Service,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SurveyAnswer>, RepoError>;
    /// Every survey the person answered (consultations, sessions and lectures), oldest first.
    async fn answers_of_user(&self, user: Uuid) -> Result<Vec<MyAnswer>, RepoError>;
}
