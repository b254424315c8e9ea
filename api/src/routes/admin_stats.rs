//! Aggregate figures for operators (服务人次, 等待时长, 满意度, 热线拨打): counts and
//! durations only — never a person, a chat text or an answer.

use actix_web::{HttpResponse, get};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::period::DayRange;
use xinli_domain::schedule::china_date;
use xinli_domain::{assessment, survey};

use crate::auth::AdminCaller;
use crate::dto::string_enum;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Query;
use crate::state::State;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(stats).service(satisfaction);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
/// A period of whole days in China time, both ends included; at most 366 days. Used by every
/// figures route.
pub struct StatsQuery {
    /// First day (China time), default 29 days before `to`.
    #[param(example = "2026-11-01")]
    pub from: Option<NaiveDate>,
    /// Last day (China time), default today.
    #[param(example = "2026-11-30")]
    pub to: Option<NaiveDate>,
}

fn status_counts<K: Copy>(
    counts: &[(K, Option<u64>)],
    name: fn(K) -> &'static str,
) -> Vec<StatusCount> {
    counts
        .iter()
        .map(|(k, count)| StatusCount {
            status: name(*k).into(),
            count: *count,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "closed", "count": 120}))]
pub struct StatusCount {
    /// A status, priority or scale code.
    pub status: String,
    /// `null`: hidden, about fewer than 5 people or enough to compute such a cell back
    /// (`domain::disclosure`).
    pub count: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"scale": "phq9", "submitted": 230, "with_crisis_answer": 7}))]
pub struct ScaleCount {
    pub scale: String,
    /// `null` from 1 to 4.
    pub submitted: Option<u64>,
    /// `null` when it, or the results without it, are 1 to 4.
    pub with_crisis_answer: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-11-01", "to": "2026-11-30",
    "consultations": {"total": 130, "by_status": [{"status": "closed", "count": 120}],
        "by_priority": [{"status": "urgent", "count": 4}], "wait_median_seconds": 420, "wait_p90_seconds": 1800,
        "handling_median_seconds": 2400},
    "satisfaction": {"ratings": 92, "satisfaction_rate": 0.978, "flagged_for_review": 1},
    "hotline_dials": 310,
    "assessments": [{"scale": "phq9", "submitted": 230, "with_crisis_answer": 7}]
}))]
pub struct AdminStats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub consultations: ConsultationFigures,
    pub satisfaction: SatisfactionFigures,
    /// Taps on "call" in the hotline directory.
    pub hotline_dials: u64,
    pub assessments: Vec<ScaleCount>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"total": 130, "by_status": [{"status": "closed", "count": 120}], "by_priority": [],
    "wait_median_seconds": 420, "wait_p90_seconds": 1800, "handling_median_seconds": 2400}))]
pub struct ConsultationFigures {
    /// Requests made in the period.
    pub total: u64,
    pub by_status: Vec<StatusCount>,
    pub by_priority: Vec<StatusCount>,
    /// From request to first claim.
    pub wait_median_seconds: Option<i64>,
    pub wait_p90_seconds: Option<i64>,
    /// From claim to close.
    pub handling_median_seconds: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"ratings": 92, "satisfaction_rate": 0.978, "flagged_for_review": 1}))]
pub struct SatisfactionFigures {
    /// `null` from 1 to 4.
    pub ratings: Option<u64>,
    /// Share of ratings that are 4 or 5 (满意度); `null` under 5 ratings.
    pub satisfaction_rate: Option<f64>,
    /// Ratings of 1–2, to be reviewed; `null` when it, or the other ratings, are 1 to 4.
    pub flagged_for_review: Option<u64>,
}

/// Service figures for a period
///
/// Counts and durations only; no personal content. At most 366 days. A count about fewer
/// than 5 people is `null`, and so is any count that would let one be computed back
/// (`domain::disclosure`).
#[utoipa::path(
    operation_id = "admin_get_stats",
    tag = "admin",
    security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, body = AdminStats),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/stats")]
pub async fn stats(
    state: State,
    _admin: AdminCaller,
    query: Query<StatsQuery>,
) -> ApiResult<HttpResponse> {
    let range = DayRange::parse(query.0.from, query.0.to, china_date(state.clock.now()))?;
    let (from, to) = (range.from, range.to);
    let (begin, end) = range.instants();
    let c = state
        .consultation_figures
        .stats(begin, end)
        .await?
        .for_admin();
    let dials = state
        .hotlines
        .dial_counts(from, to)
        .await?
        .iter()
        .map(|d| d.count)
        .sum();
    let assessments = assessment::admin_counts(&state.assessments.counts(begin, end).await?);
    Ok(HttpResponse::Ok().json(AdminStats {
        from,
        to,
        consultations: ConsultationFigures {
            total: c.total,
            by_status: status_counts(&c.by_status, |s| s.as_str()),
            by_priority: status_counts(&c.by_priority, |p| p.as_str()),
            wait_median_seconds: c.wait_median,
            wait_p90_seconds: c.wait_p90,
            handling_median_seconds: c.handling_median,
        },
        satisfaction: SatisfactionFigures {
            ratings: c.ratings,
            satisfaction_rate: c.satisfaction_rate,
            flagged_for_review: c.flagged_ratings,
        },
        hotline_dials: dials,
        assessments: assessments
            .into_iter()
            .map(|(scale, submitted, with_crisis_answer)| ScaleCount {
                scale,
                submitted,
                with_crisis_answer,
            })
            .collect(),
    }))
}

string_enum!(
    /// A service people rate: `consultation` (online), `booking` (a station session),
    /// `lecture` (the content question of the survey).
    ServiceName,
    xinli_domain::survey::Answered::ALL.map(|a| a.as_str())
);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"service": "lecture", "responses": 352, "satisfied_rate": 0.9773, "very_satisfied_rate": 0.7983,
    "survey_responses": 352, "content_very_satisfied_rate": 0.7983, "gain_very_rate": 0.7585}))]
pub struct ServiceSatisfaction {
    #[schema(value_type = ServiceName)]
    pub service: String,
    /// Ratings (consultations, sessions) or survey answers (lectures); `null` from 1 to 4.
    pub responses: Option<u64>,
    /// Share of 4s and 5s (满意度, as the seeds report it: 97.8 %); `null` under 5 responses
    /// (one person's answer would show in it). The same holds for every rate here.
    pub satisfied_rate: Option<f64>,
    /// Share of 5s; `null` where the service does not record it.
    pub very_satisfied_rate: Option<f64>,
    /// The same two-question survey for every service: answers, and the share of 5s per
    /// question.
    /// `null` from 1 to 4.
    pub survey_responses: Option<u64>,
    pub content_very_satisfied_rate: Option<f64>,
    pub gain_very_rate: Option<f64>,
}

/// Satisfaction per service
///
/// One figure per service, as the seeds report them: consultations (ratings), station
/// sessions (ratings after attending), lectures (the survey's content question). Counts only.
#[utoipa::path(
    operation_id = "admin_get_satisfaction",
    tag = "admin",
    security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, body = Vec<ServiceSatisfaction>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/satisfaction")]
pub async fn satisfaction(
    state: State,
    _admin: AdminCaller,
    query: Query<StatsQuery>,
) -> ApiResult<HttpResponse> {
    let range = DayRange::parse(query.0.from, query.0.to, china_date(state.clock.now()))?;
    let (from, to) = range.instants();
    let c = state.consultation_figures.stats(from, to).await?;
    let booking_ratings: Vec<u8> = state
        .bookings
        .facts(from, to, None)
        .await?
        .into_iter()
        .filter_map(|f| f.rating)
        .collect();
    let answers = |service| state.surveys.answers_between(service, from, to);
    let figures = survey::satisfaction(&survey::SatisfactionSources {
        consultation_ratings: c.ratings,
        consultation_satisfied_rate: c.satisfaction_rate,
        consultation_survey: &answers(survey::Service::Consultation).await?,
        booking_ratings: &booking_ratings,
        booking_survey: &answers(survey::Service::Booking).await?,
        lecture_survey: &state.lectures.survey_answers_between(from, to).await?,
    });
    Ok(HttpResponse::Ok().json(
        figures
            .into_iter()
            .map(|f| ServiceSatisfaction {
                service: f.service.as_str().into(),
                responses: f.responses,
                satisfied_rate: f.satisfied_rate,
                very_satisfied_rate: f.very_satisfied_rate,
                survey_responses: f.survey_responses,
                content_very_satisfied_rate: f.content_very_satisfied_rate,
                gain_very_rate: f.gain_very_rate,
            })
            .collect::<Vec<_>>(),
    ))
}
