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

    pub fn label(self) -> &'static str {
        match self {
            Answered::Consultation => "在线咨询",
            Answered::Booking => "站点咨询",
            Answered::Lecture => "心理讲座",
        }
    }
}

/// One service's satisfaction in a period as an admin sees it, as the seeds report it
/// (满意度 97.8 %, 非常满意 79.83 %): `None` where hidden (`crate::disclosure`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSatisfaction {
    pub service: Answered,
    /// Ratings (consultations, sessions) or survey answers (lectures).
    pub responses: Option<u64>,
    /// Share of 4s and 5s.
    pub satisfied_rate: Option<f64>,
    /// Share of 5s; `None` where the service does not record it.
    pub very_satisfied_rate: Option<f64>,
    /// The two-question survey, the same for every service.
    pub survey_responses: Option<u64>,
    pub content_very_satisfied_rate: Option<f64>,
    pub gain_very_rate: Option<f64>,
}

/// What a period's satisfaction figures are made of.
pub struct SatisfactionSources<'a> {
    /// Consultation ratings, counted in the database with their share satisfied.
    pub consultation_ratings: u64,
    pub consultation_satisfied_rate: Option<f64>,
    pub consultation_survey: &'a [SurveyAnswer],
    /// The ratings of attended station sessions.
    pub booking_ratings: &'a [u8],
    pub booking_survey: &'a [SurveyAnswer],
    /// Lectures are rated by the survey's content question.
    pub lecture_survey: &'a [SurveyAnswer],
}

/// One figure per service: consultations, station sessions, lectures.
pub fn satisfaction(s: &SatisfactionSources<'_>) -> [ServiceSatisfaction; 3] {
    use crate::disclosure::{ADMIN_MIN, admin_count, admin_rate};
    let survey = |service: Answered, responses: Option<u64>, satisfied, very, answers| {
        let summary = crate::lecture::summarise(answers);
        let enough = |rate: Option<f64>| rate.filter(|_| summary.responses >= ADMIN_MIN);
        ServiceSatisfaction {
            service,
            responses,
            satisfied_rate: satisfied,
            very_satisfied_rate: very,
            survey_responses: admin_count(summary.responses),
            content_very_satisfied_rate: enough(summary.content_very_satisfied_rate),
            gain_very_rate: enough(summary.gain_very_rate),
        }
    };
    let scored = |service: Answered, scores: &[u8], answers| {
        let n = scores.len() as u64;
        let share =
            |f: &dyn Fn(u8) -> bool| admin_rate(scores.iter().filter(|s| f(**s)).count() as u64, n);
        survey(
            service,
            admin_count(n),
            share(&crate::consultation::is_satisfied),
            share(&|s| s == 5),
            answers,
        )
    };
    let lecture_scores: Vec<u8> = s.lecture_survey.iter().map(|a| a.content).collect();
    [
        survey(
            Answered::Consultation,
            admin_count(s.consultation_ratings),
            s.consultation_satisfied_rate
                .filter(|_| s.consultation_ratings >= ADMIN_MIN),
            None,
            s.consultation_survey,
        ),
        scored(Answered::Booking, s.booking_ratings, s.booking_survey),
        scored(Answered::Lecture, &lecture_scores, s.lecture_survey),
    ]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(scores: &[(u8, u8)]) -> Vec<SurveyAnswer> {
        scores
            .iter()
            .map(|(content, gain)| SurveyAnswer {
                content: *content,
                gain: *gain,
                comment: None,
            })
            .collect()
    }

    #[test]
    fn each_service_shows_its_rates_only_over_five_answers() {
        let lectures = answers(&[(5, 5), (5, 4), (4, 4), (3, 5), (5, 1)]);
        let few = answers(&[(5, 5), (1, 1)]);
        let [consultation, booking, lecture] = satisfaction(&SatisfactionSources {
            consultation_ratings: 4,
            consultation_satisfied_rate: Some(1.0),
            consultation_survey: &few,
            booking_ratings: &[5, 5, 4, 2, 5, 3],
            booking_survey: &[],
            lecture_survey: &lectures,
        });
        assert_eq!(consultation.service, Answered::Consultation);
        assert_eq!(consultation.responses, None, "4 ratings: hidden");
        assert_eq!(consultation.satisfied_rate, None);
        assert_eq!(consultation.survey_responses, None);
        assert_eq!(consultation.content_very_satisfied_rate, None);
        assert_eq!(booking.responses, Some(6));
        assert_eq!(booking.satisfied_rate, Some(0.6667));
        assert_eq!(booking.very_satisfied_rate, Some(0.5));
        assert_eq!(booking.survey_responses, Some(0));
        assert_eq!(booking.gain_very_rate, None);
        assert_eq!(lecture.responses, Some(5));
        assert_eq!(lecture.satisfied_rate, Some(0.8));
        assert_eq!(lecture.very_satisfied_rate, Some(0.6));
        assert_eq!(lecture.content_very_satisfied_rate, Some(0.6));
        assert_eq!(lecture.gain_very_rate, Some(0.4));
    }
}
