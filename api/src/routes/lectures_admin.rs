//! 讲座点单 for the organiser: the requests to review and the decisions (through the
//! transition table), the menu's series and topics, the join code as a printable
//! mini-program code, and the figures per month and unit. Rules: `xinli_domain::lecture`.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::lecture::{Action, Decision, Status, TopicInput};
use xinli_domain::schedule::china_date;

use crate::auth::AdminCaller;
use crate::dto::{Paged, string_enum};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::routes::admin_stats::StatsQuery;
use crate::routes::lectures::{
    LectureRequestView, LectureStatusName, TopicView, load, page_view, step, view,
};
use crate::state::State;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(admin_list)
        .service(admin_decide)
        .service(admin_done)
        .service(admin_series)
        .service(admin_create_series)
        .service(admin_create_topic)
        .service(admin_code)
        .service(admin_stats);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AdminLectureQuery {
    #[param(value_type = Option<LectureStatusName>)]
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 10000, example = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub page_size: Option<u64>,
}

/// Lecture requests to review
///
/// Oldest first.
#[utoipa::path(
    operation_id = "admin_list_lecture_requests",
    tag = "admin",
    security(("bearer" = [])),
    params(AdminLectureQuery),
    responses(
        (status = 200, body = Paged<LectureRequestView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/lecture-requests")]
pub async fn admin_list(
    state: State,
    _admin: AdminCaller,
    query: Query<AdminLectureQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let status = match q.status.as_deref() {
        Some(s) => Some(Status::parse(s).ok_or_else(|| ApiError::field("status", "没有这个状态"))?),
        None => None,
    };
    let page = xinli_domain::page::PageRequest::parse(q.page, q.page_size)?;
    let found = state.lectures.list(status, page).await?;
    Ok(HttpResponse::Ok().json(page_view(&state, found).await?))
}

string_enum!(
    /// The organiser's decision: `accept` (with lecturer, time and place), `propose` (another
    /// time), `decline` (with a reason).
    LectureDecisionName,
    ["accept", "propose", "decline"]
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "accept", "lecturer": "张老师", "scheduled_at": "2026-12-20T14:30:00+08:00",
    "location": "三楼会议室", "reason": null}))]
pub struct DecisionBody {
    #[schema(value_type = LectureDecisionName)]
    pub decision: String,
    #[schema(max_length = 64)]
    pub lecturer: Option<String>,
    /// Required for `accept` and `propose`; in the future.
    pub scheduled_at: Option<DateTime<FixedOffset>>,
    #[schema(max_length = 200)]
    pub location: Option<String>,
    /// Required for `decline`, shown to the liaison.
    #[schema(max_length = 300)]
    pub reason: Option<String>,
}

/// Decide a lecture request
///
/// `accept` schedules it (an accepted request with a screening gets its join code); `propose`
/// offers another time for the liaison to answer; `decline` ends it with a reason. The liaison
/// is told (`lecture_request_decided`).
#[utoipa::path(
    operation_id = "admin_decide_lecture_request",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    request_body = DecisionBody,
    responses(
        (status = 200, body = LectureRequestView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`lecture_request_state`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: missing lecturer, time, place or reason", body = ErrorBody),
    )
)]
#[post("/admin/lecture-requests/{id}/decision")]
pub async fn admin_decide(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
    body: Json<DecisionBody>,
) -> ApiResult<HttpResponse> {
    let (r, actor) = load(&state, &id, admin.account.id, true).await?;
    let b = body.0;
    let action = match b.decision.as_str() {
        "accept" => Action::Accept,
        "propose" => Action::Propose,
        "decline" => Action::Decline,
        _ => {
            return Err(ApiError::field(
                "decision",
                "决定须为 accept、propose 或 decline",
            ));
        }
    };
    let decision = Decision::parse(
        action,
        b.lecturer.as_deref(),
        b.scheduled_at.map(|t| t.with_timezone(&Utc)),
        b.location.as_deref(),
        b.reason.as_deref(),
        state.clock.now(),
    )?;
    let done = step(&state, r, actor, action, Some(decision)).await?;
    super::admin_audit::record_admin_change(
        &state,
        admin.account.id,
        xinli_domain::audit::AuditAction::DecideLectureRequest,
        format!("lecture:{}:{}", done.id, b.decision),
    )
    .await?;
    tracing::info!(admin_id = %admin.account.id, request_id = %done.id, status = done.status.as_str(), "lecture request decided");
    Ok(HttpResponse::Ok().json(view(&state, &done).await?))
}

/// Mark a lecture as delivered
///
/// From its scheduled time on: a lecture still ahead cannot be reported as held.
#[utoipa::path(
    operation_id = "admin_mark_lecture_done",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    responses(
        (status = 200, body = LectureRequestView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`lecture_request_state`: not accepted, or its time has not come", body = ErrorBody),
    )
)]
#[post("/admin/lecture-requests/{id}/done")]
pub async fn admin_done(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (r, actor) = load(&state, &id, admin.account.id, true).await?;
    let done = step(&state, r, actor, Action::MarkDone, None).await?;
    super::admin_audit::record_admin_change(
        &state,
        admin.account.id,
        xinli_domain::audit::AuditAction::DecideLectureRequest,
        format!("lecture:{}:done", done.id),
    )
    .await?;
    Ok(HttpResponse::Ok().json(view(&state, &done).await?))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d2-2222-7abc-8def-0123456789ab", "name": "轻生活·趣职场", "note": null}))]
pub struct SeriesView {
    pub id: String,
    pub name: String,
    pub note: Option<String>,
}

/// Lecture series
#[utoipa::path(
    operation_id = "admin_list_lecture_series",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<SeriesView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/admin/lecture-series")]
pub async fn admin_series(state: State, _admin: AdminCaller) -> ApiResult<HttpResponse> {
    let all = state.lectures.series().await?;
    Ok(HttpResponse::Ok().json(
        all.into_iter()
            .map(|s| SeriesView {
                id: s.id.to_string(),
                name: s.name,
                note: s.note,
            })
            .collect::<Vec<_>>(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "轻生活·趣职场", "note": "心理健康精品课程菜单"}))]
pub struct SeriesBody {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

/// Add a lecture series
#[utoipa::path(
    operation_id = "admin_create_lecture_series",
    tag = "admin",
    security(("bearer" = [])),
    request_body = SeriesBody,
    responses(
        (status = 201, body = SeriesView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/admin/lecture-series")]
pub async fn admin_create_series(
    state: State,
    _admin: AdminCaller,
    body: Json<SeriesBody>,
) -> ApiResult<HttpResponse> {
    let name = xinli_domain::lecture::parse_series_name(&body.0.name)?;
    let note = match body
        .0
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) => Some(xinli_domain::validation::text("note", "说明", n, 1, 200)?),
        None => None,
    };
    let s = state
        .lectures
        .create_series(name, note, state.clock.now())
        .await?;
    Ok(HttpResponse::Created().json(SeriesView {
        id: s.id.to_string(),
        name: s.name,
        note: s.note,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"series_id": "0193a5d2-2222-7abc-8def-0123456789ab", "number": 4, "title": "职业规划",
    "points": "", "minutes": 90}))]
pub struct TopicBody {
    pub series_id: String,
    #[schema(minimum = 1, maximum = 999)]
    pub number: Option<u32>,
    #[schema(min_length = 1, max_length = 64)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub points: String,
    /// 课时 in minutes, 15–480.
    #[schema(minimum = 15, maximum = 480)]
    pub minutes: Option<u32>,
}

/// Add a topic to a series
#[utoipa::path(
    operation_id = "admin_create_lecture_topic",
    tag = "admin",
    security(("bearer" = [])),
    request_body = TopicBody,
    responses(
        (status = 201, body = TopicView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`: unknown series, bad fields", body = ErrorBody),
    )
)]
#[post("/admin/lecture-topics")]
pub async fn admin_create_topic(
    state: State,
    _admin: AdminCaller,
    body: Json<TopicBody>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let series =
        Uuid::parse_str(&b.series_id).map_err(|_| ApiError::field("series_id", "系列不存在"))?;
    if !state
        .lectures
        .series()
        .await?
        .iter()
        .any(|s| s.id == series)
    {
        return Err(ApiError::field("series_id", "系列不存在"));
    }
    let input = TopicInput::parse(series, b.number, &b.title, &b.points, b.minutes)?;
    let topic = state
        .lectures
        .create_topic(input, state.clock.now())
        .await?;
    Ok(HttpResponse::Created().json(TopicView::from(&topic)))
}

/// The lecture's join code as a mini-program code
///
/// A PNG (WeChat `wxa/getwxacodeunlimit`) opening the screening page with the join code as
/// `scene`, for the organiser to print; kept a day.
#[utoipa::path(
    operation_id = "admin_get_lecture_qrcode",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    responses(
        (status = 200, description = "The code", content_type = "image/png", body = crate::wechat_code::Png),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`: unknown, or not accepted yet (no join code)", body = ErrorBody),
        (status = 502, description = "`wechat_failed`", body = ErrorBody),
        (status = 503, description = "`wechat_not_configured`, `wechat_busy`, `wechat_unavailable`", body = ErrorBody),
    )
)]
#[get("/admin/lecture-requests/{id}/qrcode")]
pub async fn admin_code(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (r, _) = load(&state, &id, admin.account.id, true).await?;
    let code = r.screening_code.ok_or_else(ApiError::not_found)?;
    crate::wechat_code::mini_program_code(
        &state,
        &code,
        &state.config.wechat_screening_page,
        "lecture",
    )
    .await
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"month": "2026-11", "unit_name": "湖南省某厅", "lectures": 1, "attendees": 80, "screenings": 1,
    "screening_results": 76, "referrals_accepted": 3, "survey_responses": 70, "content_very_satisfied_rate": 0.8}))]
pub struct LectureStatsView {
    /// `YYYY-MM`, by the lecture's date (China time).
    pub month: String,
    pub unit_name: String,
    /// Lectures held (marked done).
    pub lectures: u64,
    /// Attendees as the units declared them.
    pub attendees: u64,
    pub screenings: u64,
    /// Screening results counted (one per scale and participant); `null` from 1 to 4.
    pub screening_results: Option<u64>,
    /// Participants who accepted one-to-one counseling (organiser only; never shown to units);
    /// `null` when it, or the results without a referral, are 1 to 4.
    pub referrals_accepted: Option<u64>,
    /// `null` from 1 to 4.
    pub survey_responses: Option<u64>,
    /// `null` under 5 answers.
    pub content_very_satisfied_rate: Option<f64>,
}

/// Lectures per month and unit
///
/// Lectures held, attendees, screenings, results counted, referrals accepted and the survey,
/// for lectures dated in the period. Counts only.
#[utoipa::path(
    operation_id = "admin_get_lecture_stats",
    tag = "admin",
    security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, body = Vec<LectureStatsView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/lecture-stats")]
pub async fn admin_stats(
    state: State,
    _admin: AdminCaller,
    query: Query<StatsQuery>,
) -> ApiResult<HttpResponse> {
    let range = xinli_domain::period::DayRange::parse(
        query.0.from,
        query.0.to,
        china_date(state.clock.now()),
    )?;
    let (from, to) = range.instants();
    let rows = state.lectures.stats_rows(from, to).await?;
    Ok(HttpResponse::Ok().json(
        xinli_domain::lecture::figures(&rows)
            .into_iter()
            .map(|f| f.for_admin())
            .map(|f| LectureStatsView {
                month: f.month,
                unit_name: f.unit_name,
                lectures: f.lectures,
                attendees: f.attendees,
                screenings: f.screenings,
                screening_results: f.screening_results,
                referrals_accepted: f.referrals_accepted,
                survey_responses: f.survey_responses,
                content_very_satisfied_rate: f.content_very_satisfied_rate,
            })
            .collect::<Vec<_>>(),
    ))
}
