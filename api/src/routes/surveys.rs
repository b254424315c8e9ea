//! The two-question survey for a closed consultation and an attended station session (the
//! same questions as after a lecture). Rules: `xinli_domain::survey`.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::lecture::SurveyAnswer;
use xinli_domain::survey::{Refusal, Service, check_booking, check_consultation};

use crate::auth::UserCaller;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, parse_id};
use crate::state::{AppState, State};

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

/// Stores the answer once the domain's check passed (`check`: not yours → 404, too early →
/// `survey_not_open` with `not_yet`).
async fn store(
    state: &AppState,
    service: Service,
    subject: Uuid,
    caller: Uuid,
    check: Result<(), Refusal>,
    not_yet: &str,
    body: ServiceSurveyBody,
) -> ApiResult<HttpResponse> {
    check.map_err(|r| match r {
        Refusal::NotYours => ApiError::not_found(),
        Refusal::NotYet => ApiError::new(ErrorCode::SurveyNotOpen).with_message(not_yet),
    })?;
    let answer = SurveyAnswer::parse(body.content, body.gain, body.comment.as_deref())?;
    state
        .surveys
        .answer(service, subject, caller, &answer, state.clock.now())
        .await?;
    Ok(HttpResponse::NoContent().finish())
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
    let check = check_consultation(&c, caller.id);
    let not_yet = "咨询结束后才能填写评价";
    store(
        &state,
        Service::Consultation,
        c.id,
        caller.id,
        check,
        not_yet,
        body.0,
    )
    .await
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
    let check = check_booking(&b, caller.id);
    let not_yet = "到场咨询后才能填写评价";
    store(
        &state,
        Service::Booking,
        b.id,
        caller.id,
        check,
        not_yet,
        body.0,
    )
    .await
}
