//! The satisfaction survey after a lecture (seed 000): participants answer with the join
//! code; the liaison and admins read its figures under the screening report's rule. Rules:
//! `xinli_domain::lecture`. (One satisfaction figure per service: `routes::admin_stats`.)

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::account::Role;

use crate::auth::{AdminCaller, Caller, UserCaller};
use crate::dto::cst;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, parse_id};
use crate::routes::lectures::load;
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(answer_survey)
        .service(survey_summary)
        .service(close_survey);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "K7M3Q9TXA2", "content": 5, "gain": 5, "comment": "很实用"}))]
pub struct SurveyBody {
    /// The join code given at the lecture.
    #[schema(min_length = 8, max_length = 16)]
    pub code: String,
    /// 对讲座内容的满意度, 1–5 (5 非常满意).
    #[schema(minimum = 1, maximum = 5)]
    pub content: i64,
    /// 学习收获, 1–5 (5 收获很大).
    #[schema(minimum = 1, maximum = 5)]
    pub gain: i64,
    #[schema(max_length = 300)]
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"state": "closed", "closes_at": "2027-01-03T14:30:00+08:00", "responses": 352,
    "content_very_satisfied_rate": 0.7983, "gain_very_rate": 0.7585, "comments": ["很实用，希望多办"]}))]
pub struct SurveySummaryView {
    #[schema(value_type = crate::routes::screenings::ScreeningReportState)]
    pub state: String,
    /// When the survey closes (14 days after the lecture, or when the organiser closed it);
    /// no answer is taken after it.
    pub closes_at: Option<DateTime<FixedOffset>>,
    /// While `open`: rounded down to a multiple of 5. Once `closed`: exact.
    pub responses: u64,
    /// Share of 5s for the content (281 of 352 answers: 0.7983); `null` while open or with
    /// fewer than 10 answers.
    pub content_very_satisfied_rate: Option<f64>,
    /// Share of 5s for the gain (267 of 352: 0.7585); as above.
    pub gain_very_rate: Option<f64>,
    /// Once closed: the comments without names, in no order of time; a comment that hits the
    /// risk lexicon is left out. Empty while open.
    pub comments: Vec<String>,
}

/// Answer the satisfaction survey of a lecture
///
/// Participants, with the join code given at the lecture, once each, after it took place.
#[utoipa::path(
    operation_id = "answer_lecture_survey",
    tag = "lectures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    request_body = SurveyBody,
    responses(
        (status = 204, description = "Thank you"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`: unknown lecture or wrong code", body = ErrorBody),
        (status = 409, description = "`lecture_request_state` (not yet held, or the survey closed 14 days after the lecture), `already_rated`", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
#[post("/lecture-requests/{id}/survey")]
pub async fn answer_survey(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
    body: Json<SurveyBody>,
) -> ApiResult<HttpResponse> {
    crate::limits::hit(
        &state,
        "join_code",
        caller.id,
        state.config.limits.join_codes_per_user,
    )
    .await?;
    let r = state
        .lectures
        .find(parse_id(&id)?)
        .await?
        .filter(|r| {
            r.screening_code
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(body.0.code.trim()))
        })
        .ok_or_else(ApiError::not_found)?;
    let answer = xinli_domain::lecture::SurveyAnswer::parse(
        body.0.content,
        body.0.gain,
        body.0.comment.as_deref(),
    )?;
    let now = state.clock.now();
    if !xinli_domain::lecture::survey_open(&r, now) {
        let message = if xinli_domain::lecture::survey_closes_at(&r).is_some_and(|t| t <= now) {
            "这次讲座的评价已经结束"
        } else {
            "讲座结束后才能填写评价"
        };
        return Err(ApiError::new(ErrorCode::LectureRequestState).with_message(message));
    }
    state
        .lectures
        .answer_survey(r.id, caller.id, &answer, now)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A lecture's survey figures
///
/// For its liaison and admins, under the screening report's rule: while the survey is `open`
/// (until 14 days after the lecture) only the number of answers, rounded down to 5; once
/// `closed` the number, the share of 5s per question from 10 answers on, and the comments
/// without names in no order of time, leaving out any that hits the risk lexicon.
#[utoipa::path(
    operation_id = "get_lecture_survey",
    tag = "lectures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    responses(
        (status = 200, body = SurveySummaryView),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/lecture-requests/{id}/survey")]
pub async fn survey_summary(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (r, _) = load(&state, &id, caller.id, caller.role == Role::Admin).await?;
    Ok(HttpResponse::Ok().json(summary_of(&state, &r).await?))
}

/// The survey as the unit reads it now; comments that hit the risk lexicon left out.
async fn summary_of(
    state: &AppState,
    r: &xinli_domain::lecture::LectureRequest,
) -> ApiResult<SurveySummaryView> {
    let lexicon = crate::crisis::lexicon(state).await?;
    let s = xinli_domain::lecture::unit_survey(
        r,
        &state.lectures.survey_answers(r.id).await?,
        state.clock.now(),
        |comment| lexicon.check(comment).is_some(),
    );
    Ok(SurveySummaryView {
        state: if s.closed { "closed" } else { "open" }.into(),
        closes_at: s.closes_at.map(cst),
        responses: s.responses,
        content_very_satisfied_rate: s.content_very_satisfied_rate,
        gain_very_rate: s.gain_very_rate,
        comments: s.comments,
    })
}

/// Close a lecture's survey now
///
/// The organiser ends a survey before its 14 days (everyone who attended has answered): no
/// answer is taken any more and the unit reads the closed survey's figures. Only an open
/// survey can be closed.
#[utoipa::path(
    operation_id = "admin_close_lecture_survey",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    responses(
        (status = 200, description = "The survey, closed", body = SurveySummaryView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`lecture_request_state`: the survey is not open (the lecture not held yet, or the survey closed)", body = ErrorBody),
    )
)]
#[post("/admin/lecture-requests/{id}/survey/close")]
pub async fn close_survey(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let r = state
        .lectures
        .find(parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let now = state.clock.now();
    let at = xinli_domain::lecture::close_survey_early(&r, now).ok_or_else(|| {
        ApiError::new(ErrorCode::LectureRequestState).with_message("这次讲座的评价没有在进行中")
    })?;
    let r = state
        .lectures
        .close_survey(r.id, at, now)
        .await?
        .ok_or_else(ApiError::not_found)?;
    crate::routes::admin_audit::record_admin_change(
        &state,
        admin.account.id,
        xinli_domain::audit::AuditAction::DecideLectureRequest,
        format!("lecture:{}:close_survey", r.id),
    )
    .await?;
    tracing::info!(admin_id = %admin.account.id, request_id = %r.id, "lecture survey closed");
    Ok(HttpResponse::Ok().json(summary_of(&state, &r).await?))
}
