//! The two-question survey for a closed consultation and an attended station session (the
//! same questions as after a lecture). Rules: `xinli_domain::survey`.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::lecture::SurveyAnswer;
use xinli_domain::survey::{Refusal, Service, check_booking, check_consultation};

use crate::auth::UserCaller;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, parse_id};
use crate::state::State;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(consultation_survey).service(booking_survey);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"content": 5, "gain": 4, "comment": "老师很耐心"}))]
pub struct ServiceSurveyBody {
    /// 满意度, 1–5 (5 非常满意).
    #[schema(minimum = 1, maximum = 5)]
    pub content: i64,
    /// 收获, 1–5 (5 收获很大).
    #[schema(minimum = 1, maximum = 5)]
    pub gain: i64,
    #[schema(max_length = 300)]
    pub comment: Option<String>,
}

fn refused(r: Refusal, not_yet: &str) -> ApiError {
    match r {
        Refusal::NotYours => ApiError::not_found(),
        Refusal::NotYet => ApiError::new(ErrorCode::SurveyNotOpen).with_message(not_yet),
    }
}

/// Answer the survey of a consultation
///
/// Its person, once, after it closed. Counted in `GET /admin/satisfaction`.
#[utoipa::path(
    operation_id = "answer_consultation_survey",
    tag = "consultations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Consultation id")),
    request_body = ServiceSurveyBody,
    responses(
        (status = 204, description = "Thank you"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`survey_not_open`, `already_rated`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/consultations/{id}/survey")]
pub async fn consultation_survey(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
    body: Json<ServiceSurveyBody>,
) -> ApiResult<HttpResponse> {
    let c = state
        .consultations
        .find(parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    check_consultation(&c, caller.id).map_err(|r| refused(r, "咨询结束后才能填写评价"))?;
    let answer = SurveyAnswer::parse(body.0.content, body.0.gain, body.0.comment.as_deref())?;
    state
        .surveys
        .answer(
            Service::Consultation,
            c.id,
            caller.id,
            &answer,
            state.clock.now(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Answer the survey of a station session
///
/// Its person, once, after the station marked it attended.
#[utoipa::path(
    operation_id = "answer_booking_survey",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Booking id")),
    request_body = ServiceSurveyBody,
    responses(
        (status = 204, description = "Thank you"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`survey_not_open`, `already_rated`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/bookings/{id}/survey")]
pub async fn booking_survey(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
    body: Json<ServiceSurveyBody>,
) -> ApiResult<HttpResponse> {
    let b = state
        .bookings
        .find(parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    check_booking(&b, caller.id).map_err(|r| refused(r, "到场咨询后才能填写评价"))?;
    let answer = SurveyAnswer::parse(body.0.content, body.0.gain, body.0.comment.as_deref())?;
    state
        .surveys
        .answer(
            Service::Booking,
            b.id,
            caller.id,
            &answer,
            state.clock.now(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
