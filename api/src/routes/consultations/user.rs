//! The person's side: ask for a consultation, see it and their list, cancel, rate.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use xinli_domain::assessment::current_risk;
use xinli_domain::consultation::{
    self as domain, Action, Change, Consultation, NewRequest, Party, Priority, Status,
};

use crate::auth::{Caller, UserCaller};
use crate::dto::{ConsultationChannel, ConsultationTopic, Paged};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, PageParams, Query};
use crate::state::{AppState, State};

use super::{UserConsultation, allowed, apply, counselor_view, load, party, user_view};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"topic": "压力", "description": "最近工作压力很大，晚上睡不好。", "channel": "text"}))]
pub struct ConsultationCreateRequest {
    #[schema(value_type = ConsultationTopic)]
    pub topic: String,
    /// Up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: String,
    /// Default `text`.
    #[serde(default = "text_channel")]
    #[schema(value_type = ConsultationChannel)]
    pub channel: String,
}

fn text_channel() -> String {
    "text".into()
}

/// Ask for a consultation
///
/// Joins the queue. Priority comes from the person's self-assessments of the last 14 days;
/// the answer shows their position and an honest wait estimate (or, with no counselor
/// online, no number and the hotlines open now). One open request per person.
#[utoipa::path(
    operation_id = "create_consultation",
    tag = "consultations",
    security(("bearer" = [])),
    request_body = ConsultationCreateRequest,
    responses(
        (status = 201, body = UserConsultation),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`consultation_open`", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "`too_many_requests`, with `Retry-After`", body = ErrorBody),
    )
)]
#[post("/consultations")]
pub async fn create(
    state: State,
    caller: UserCaller,
    body: Json<ConsultationCreateRequest>,
) -> ApiResult<HttpResponse> {
    let req = NewRequest::parse(&body.0.topic, &body.0.description, &body.0.channel)?;
    crate::limits::hit(
        &state,
        "consultation",
        caller.id,
        state.config.limits.consultation_requests_per_user,
    )
    .await?;
    if state.users.find_by_id(caller.id).await?.is_none() {
        return Err(ApiError::not_found());
    }
    let now = state.clock.now();
    let risk = current_risk(state.assessments.as_ref(), caller.id, now).await?;
    let c = open_request(&state, caller.id, req, Priority::from_risk(risk)).await?;
    let crisis = crate::crisis::check_words(
        &state,
        &c,
        &c.description,
        xinli_domain::risk::Source::Description,
        None,
    )
    .await?;
    // A hit may have moved the request up: then answer with what is stored.
    let c = match crisis {
        Some(_) => state.consultations.find(c.id).await?.unwrap_or(c),
        None => c,
    };
    let mut view = user_view(&state, &c).await?;
    view.crisis = crisis;
    Ok(HttpResponse::Created().json(view))
}

/// Puts a person's request in the queue with `priority` (and its reason for counselors).
pub(crate) async fn open_request(
    state: &AppState,
    user: Uuid,
    req: NewRequest,
    (priority, reason): (Priority, &str),
) -> ApiResult<Consultation> {
    let c = Consultation::request(user, req, priority, reason, state.clock.now());
    state.consultations.create(&c).await?;
    tracing::info!(consultation_id = %c.id, priority = priority.as_str(), "consultation requested");
    Ok(c)
}

/// My consultations, newest first
#[utoipa::path(
    operation_id = "list_my_consultations",
    tag = "consultations",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Paged<UserConsultation>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/me/consultations")]
pub async fn my_consultations(
    state: State,
    caller: UserCaller,
    query: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = state
        .consultations
        .list_of_user(caller.id, query.0.parse()?)
        .await?;
    let mut items = Vec::with_capacity(page.items.len());
    for c in &page.items {
        items.push(user_view(&state, c).await?);
    }
    Ok(HttpResponse::Ok().json(Paged {
        items,
        total: page.total,
        page: page.request.page,
        page_size: page.request.page_size,
    }))
}

/// One consultation
///
/// Its user gets the user view (position and wait while waiting); its counselor the
/// counselor view. Anyone else: 404 (admins: 403 — they see statistics, never a case).
#[utoipa::path(
    operation_id = "get_consultation",
    tag = "consultations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Consultation id")),
    responses(
        (status = 200, description = "`UserConsultation` for its user, `CounselorConsultation` for its counselor", body = UserConsultation),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/consultations/{id}")]
pub async fn get_one(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let c = load(&state, &id).await?;
    let Some(who) = party(&caller)? else {
        return Err(ApiError::not_found());
    };
    allowed(&c, who, Action::View)?;
    Ok(match who {
        Party::User(_) => HttpResponse::Ok().json(user_view(&state, &c).await?),
        Party::Counselor(me) => HttpResponse::Ok().json(counselor_view(&state, &c, me).await?),
    })
}

/// Withdraw a waiting request
#[utoipa::path(
    operation_id = "cancel_consultation",
    tag = "consultations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Consultation id")),
    responses(
        (status = 200, body = UserConsultation),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`: not waiting", body = ErrorBody),
    )
)]
#[post("/consultations/{id}/cancel")]
pub async fn cancel(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let c = load(&state, &id).await?;
    allowed(&c, Party::User(caller.id), Action::Own)?;
    let c = apply(&state, &c, Change::Cancel).await?;
    Ok(HttpResponse::Ok().json(user_view(&state, &c).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"score": 5, "comment": "王老师很耐心，谢谢。"}))]
pub struct ConsultationRatingRequest {
    /// 1–5.
    #[schema(minimum = 1, maximum = 5)]
    pub score: i64,
    /// Up to 500 characters.
    #[schema(max_length = 500)]
    pub comment: Option<String>,
}

/// Rate a closed consultation, once
#[utoipa::path(
    operation_id = "rate_consultation",
    tag = "consultations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Consultation id")),
    request_body = ConsultationRatingRequest,
    responses(
        (status = 200, body = UserConsultation),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`already_rated`, or `invalid_transition` before close", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/consultations/{id}/rating")]
pub async fn rate(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
    body: Json<ConsultationRatingRequest>,
) -> ApiResult<HttpResponse> {
    let (score, comment) = domain::parse_rating(body.0.score, body.0.comment.as_deref())?;
    let c = load(&state, &id).await?;
    allowed(&c, Party::User(caller.id), Action::Own)?;
    if c.status != Status::Closed {
        return Err(ApiError::new(ErrorCode::InvalidTransition).with_message("咨询结束后才能评价"));
    }
    if !state
        .consultation_figures
        .rate(c.id, score, comment, domain::rating_needs_review(score))
        .await?
    {
        return Err(ApiError::new(ErrorCode::AlreadyRated));
    }
    let c = state
        .consultations
        .find(c.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(user_view(&state, &c).await?))
}
