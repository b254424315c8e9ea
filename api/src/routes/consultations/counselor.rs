//! The counselor's side: online status, the queue, claims, close, transfer, and the audited
//! read of a client's assessments.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use xinli_domain::audit::AuditAction;
use xinli_domain::consultation::{self as domain, Action, Change, ClaimRefusal, Party, Requeue};

use crate::auth::CounselorCaller;
use crate::dto::{Paged, cst};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, PageParams, Query};
use crate::state::{AppState, State};

use super::{CounselorConsultation, allowed, apply, audit, counselor_view, counselor_views, load};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"online": true, "capacity": 3}))]
pub struct CounselorStatusRequest {
    pub online: bool,
    /// Concurrent consultations, 1–10.
    #[schema(minimum = 1, maximum = 10)]
    pub capacity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"online": true, "capacity": 3, "active": 1}))]
pub struct CounselorStatusView {
    pub online: bool,
    pub capacity: u8,
    /// Consultations this counselor serves now.
    pub active: u32,
}

async fn status_view(state: &AppState, me: Uuid) -> ApiResult<CounselorStatusView> {
    let states = state.consultations.counselor_states().await?;
    Ok(match states.iter().find(|s| s.staff_id == me) {
        Some(s) => CounselorStatusView {
            online: s.online,
            capacity: s.capacity,
            active: s.active,
        },
        None => CounselorStatusView {
            online: false,
            capacity: 1,
            active: 0,
        },
    })
}

/// Go online or offline and set capacity
#[utoipa::path(
    operation_id = "counselor_set_status",
    tag = "counselor",
    security(("bearer" = [])),
    request_body = CounselorStatusRequest,
    responses((status = 200, body = CounselorStatusView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[put("/counselor/status")]
pub async fn put_status(
    state: State,
    me: CounselorCaller,
    body: Json<CounselorStatusRequest>,
) -> ApiResult<HttpResponse> {
    let capacity = domain::parse_capacity(body.0.capacity)?;
    state
        .consultations
        .set_counselor_state(me.account.id, body.0.online, capacity, state.clock.now())
        .await?;
    Ok(HttpResponse::Ok().json(status_view(&state, me.account.id).await?))
}

/// My status
#[utoipa::path(
    operation_id = "counselor_get_status",
    tag = "counselor",
    security(("bearer" = [])),
    responses((status = 200, body = CounselorStatusView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/counselor/status")]
pub async fn get_status(state: State, me: CounselorCaller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(status_view(&state, me.account.id).await?))
}

/// The people I may take, in the order claiming will give them
///
/// Those transferred to me by name first, then the shared pool by priority (urgent, high,
/// elevated, normal), then arrival. Paged (20 by default, at most 100), with the total.
#[utoipa::path(
    operation_id = "counselor_get_queue",
    tag = "counselor",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Paged<CounselorConsultation>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/counselor/queue")]
pub async fn queue(
    state: State,
    me: CounselorCaller,
    query: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let found = state
        .consultations
        .queue_for(me.account.id, query.0.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(Paged {
        items: counselor_views(&state, &found.items, me.account.id).await?,
        total: found.total,
        page: found.request.page,
        page_size: found.request.page_size,
    }))
}

/// Take the next person
///
/// Atomic: two counselors never get the same person, also across instances. 204 when nobody
/// waits; 409 `counselor_offline` or `at_capacity`.
#[utoipa::path(
    operation_id = "counselor_claim_next",
    tag = "counselor",
    security(("bearer" = [])),
    responses(
        (status = 200, body = CounselorConsultation),
        (status = 204, description = "Nobody is waiting"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`counselor_offline`, `at_capacity`", body = ErrorBody),
    )
)]
#[post("/counselor/queue/claim")]
pub async fn claim(state: State, me: CounselorCaller) -> ApiResult<HttpResponse> {
    match state
        .consultations
        .claim_next(me.account.id, state.clock.now())
        .await?
    {
        Err(ClaimRefusal::Offline) => Err(ApiError::new(ErrorCode::CounselorOffline)),
        Err(ClaimRefusal::AtCapacity) => Err(ApiError::new(ErrorCode::AtCapacity)),
        Ok(None) => Ok(HttpResponse::NoContent().finish()),
        Ok(Some(c)) => {
            state.chat_signal.notify(c.id).await;
            tracing::info!(consultation_id = %c.id, counselor_id = %me.account.id, "consultation claimed");
            Ok(HttpResponse::Ok().json(counselor_view(&state, &c, me.account.id).await?))
        }
    }
}

/// The consultations I am serving
#[utoipa::path(
    operation_id = "counselor_list_consultations",
    tag = "counselor",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<CounselorConsultation>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/counselor/consultations")]
pub async fn my_active(state: State, me: CounselorCaller) -> ApiResult<HttpResponse> {
    let active = state
        .consultations
        .active_of_counselor(me.account.id)
        .await?;
    let out = counselor_views(&state, &active, me.account.id).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "来访者工作压力大伴睡眠问题，已讨论放松训练，建议两周后复谈。"}))]
pub struct ConsultationCloseRequest {
    /// Private: only the counselor sees it, never the user or an admin. Up to 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

/// End the consultation with a private note
#[utoipa::path(
    operation_id = "close_consultation",
    tag = "counselor",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Consultation id")),
    request_body = ConsultationCloseRequest,
    responses(
        (status = 200, body = CounselorConsultation),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/consultations/{id}/close")]
pub async fn close(
    state: State,
    me: CounselorCaller,
    id: web::Path<String>,
    body: Json<ConsultationCloseRequest>,
) -> ApiResult<HttpResponse> {
    let note = xinli_domain::validation::multiline("note", "咨询记录", &body.0.note, 0, 2000)?;
    let c = load(&state, &id).await?;
    allowed(&c, Party::Counselor(me.account.id), Action::Handle)?;
    let c = apply(&state, &c, Change::Close { note }).await?;
    Ok(HttpResponse::Ok().json(counselor_view(&state, &c, me.account.id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"counselor_id": "0193a5d2-8d2f-7c7b-8a1f-3e5d2c9b0f12"}))]
pub struct ConsultationTransferRequest {
    /// An online counselor to hand over to; `null` or absent: back to the shared pool,
    /// keeping the person's place by arrival time.
    #[schema(format = Uuid)]
    pub counselor_id: Option<String>,
}

/// Hand over to another counselor or back to the pool
#[utoipa::path(
    operation_id = "transfer_consultation",
    tag = "counselor",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Consultation id")),
    request_body = ConsultationTransferRequest,
    responses(
        (status = 200, body = CounselorConsultation),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`, `transfer_target_unavailable`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/consultations/{id}/transfer")]
pub async fn transfer(
    state: State,
    me: CounselorCaller,
    id: web::Path<String>,
    body: Json<ConsultationTransferRequest>,
) -> ApiResult<HttpResponse> {
    let c = load(&state, &id).await?;
    allowed(&c, Party::Counselor(me.account.id), Action::Handle)?;
    let target = match body.0.counselor_id.as_deref() {
        None => None,
        Some(raw) => {
            let tid = Uuid::parse_str(raw)
                .map_err(|_| ApiError::field("counselor_id", "咨询师编号格式不正确"))?;
            let staff = state.staff.find_by_id(tid).await?;
            let online = state
                .consultations
                .counselor_states()
                .await?
                .iter()
                .any(|s| s.staff_id == tid && s.online);
            let usable = staff
                .is_some_and(|s| domain::can_receive_transfer(&s, online, tid == me.account.id));
            if !usable {
                return Err(ApiError::new(ErrorCode::TransferTargetUnavailable));
            }
            Some(tid)
        }
    };
    let c = apply(
        &state,
        &c,
        Change::Requeue(Requeue::Transfer { to: target }),
    )
    .await?;
    let to = target.map_or_else(|| "pool".to_owned(), |t| t.to_string());
    audit(
        &state,
        me.account.id,
        AuditAction::TransferConsultation,
        &c,
        Some(to),
    )
    .await?;
    tracing::info!(consultation_id = %c.id, from = %me.account.id, to = ?target, "consultation transferred");
    Ok(HttpResponse::Ok().json(counselor_view(&state, &c, me.account.id).await?))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d4-1111-7abc-8def-0123456789ab", "scale": "phq9", "score": 11, "level": 2,
    "band_label": "中度", "critical_items": [], "created_at": "2026-11-20T21:40:00+08:00"}))]
pub struct ClientAssessment {
    pub id: String,
    pub scale: String,
    pub score: i32,
    pub level: u8,
    pub band_label: String,
    pub critical_items: Vec<usize>,
    pub created_at: DateTime<FixedOffset>,
}

/// The client's self-assessments, while serving them
///
/// Only the counselor serving the consultation, only while it is active. Every read is
/// recorded in an audit log (who, whose, when).
#[utoipa::path(
    operation_id = "get_client_assessments",
    tag = "counselor",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Consultation id")),
    responses(
        (status = 200, body = Vec<ClientAssessment>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/consultations/{id}/client-assessments")]
pub async fn client_assessments(
    state: State,
    me: CounselorCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let c = load(&state, &id).await?;
    allowed(&c, Party::Counselor(me.account.id), Action::ReadAssessments)?;
    let user = c.user_id.ok_or_else(ApiError::not_found)?;
    audit(
        &state,
        me.account.id,
        AuditAction::ReadClientAssessments,
        &c,
        None::<String>,
    )
    .await?;
    let all = state.assessments.all_of(user).await?;
    let out: Vec<ClientAssessment> = all
        .into_iter()
        .rev()
        .map(|a| ClientAssessment {
            id: a.id.to_string(),
            scale: a.scale_code,
            score: a.score,
            level: a.level,
            band_label: a.band_label,
            critical_items: a.critical_items,
            created_at: cst(a.created_at),
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
