//! 讲座点单: the lecture menu, a unit's request (seed 002 附件 6) and the organiser's review.
//! Rules: `xinli_domain::lecture`.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::account::Role;
use xinli_domain::lecture::{
    Action, Actor, Contact, Decision, LectureRequest, RequestFields, RequestInput, Status, Step,
    TopicInput, transition,
};
use xinli_domain::schedule::china_date;

use crate::auth::{AdminCaller, Caller, UserCaller};
use crate::dto::{Paged, cst, string_enum};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, PageParams, Query, parse_id};
use crate::routes::admin_stats::StatsQuery;
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_topics)
        .service(create_request)
        .service(my_requests)
        .service(get_request)
        .service(respond)
        .service(withdraw)
        .service(admin_list)
        .service(admin_decide)
        .service(admin_done)
        .service(admin_series)
        .service(admin_create_series)
        .service(admin_create_topic)
        .service(answer_survey)
        .service(survey_summary)
        .service(admin_satisfaction)
        .service(admin_code)
        .service(admin_stats);
}

string_enum!(
    /// A lecture request's state: `submitted` → `accepted` | `proposed` (another date offered:
    /// the liaison takes it → `accepted`, or refuses it → `submitted`) | `declined`;
    /// `accepted` → `done`; the liaison may withdraw until it is done (`withdrawn`).
    LectureStatusName,
    Status::ALL.map(|s| s.as_str())
);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d2-1111-7abc-8def-0123456789ab", "series": "省直单位心理健康讲座主题",
    "number": 3, "title": "压力与情绪管理", "points": "认识压力，探寻压力源，情绪管理理论和方法。", "hours": 2.0}))]
pub struct TopicView {
    pub id: String,
    pub series: String,
    /// 序号 in the series' list; `null` when the source gives none.
    pub number: Option<u32>,
    pub title: String,
    /// 内容要点; empty when the source names only the title.
    pub points: String,
    /// 课时; `null` when the source gives none.
    pub hours: Option<f64>,
}

impl From<&xinli_domain::lecture::Topic> for TopicView {
    fn from(t: &xinli_domain::lecture::Topic) -> Self {
        Self {
            id: t.id.to_string(),
            series: t.series.clone(),
            number: t.number,
            title: t.title.clone(),
            points: t.points.clone(),
            hours: t.minutes.map(|m| f64::from(m) / 60.0),
        }
    }
}

/// The lecture menu
///
/// Series in the organiser's order, topics by number. Seed 002 附件 4 (19 topics) verbatim in
/// dev mode.
#[utoipa::path(
    operation_id = "list_lecture_topics",
    tag = "lectures",
    responses((status = 200, body = Vec<TopicView>))
)]
#[get("/lecture-topics")]
pub async fn list_topics(state: State) -> ApiResult<HttpResponse> {
    let menu = state.lectures.menu(true).await?;
    Ok(HttpResponse::Ok().json(menu.iter().map(TopicView::from).collect::<Vec<_>>()))
}

/// 联络人 or 单位负责人.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "王芳", "title": "办公室主任", "office_phone": "0731-88888888", "mobile": "13800000000"}))]
pub struct ContactBody {
    #[schema(min_length = 1, max_length = 32)]
    pub name: String,
    /// 职务, up to 32 characters.
    #[serde(default)]
    #[schema(max_length = 32)]
    pub title: String,
    /// 办公电话.
    #[schema(min_length = 5, max_length = 20, pattern = "^[0-9][0-9-]*[0-9]$")]
    pub office_phone: Option<String>,
    /// 手机.
    #[schema(min_length = 5, max_length = 20, pattern = "^[0-9][0-9-]*[0-9]$")]
    pub mobile: String,
}

impl From<&Contact> for ContactBody {
    fn from(c: &Contact) -> Self {
        Self {
            name: c.name.clone(),
            title: c.title.clone(),
            office_phone: c.office_phone.clone(),
            mobile: c.mobile.clone(),
        }
    }
}

/// The form of seed 002 附件 6 (心理健康讲座和普查申报表).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "unit_name": "湖南省某厅", "unit_address": "长沙市某路 1 号", "region": "长沙市", "preferred_dates": ["2026-12-20", "2026-12-22"],
    "topic_id": "0193a5d2-1111-7abc-8def-0123456789ab", "content_note": "近期加班多，希望讲压力管理",
    "staff_total": 120, "attendees": 80, "joint_ok": true,
    "liaison": {"name": "王芳", "title": "办公室主任", "office_phone": "0731-88888888", "mobile": "13800000000"},
    "head": {"name": "李强", "title": "处长", "office_phone": null, "mobile": "13900000000"},
    "screening": true, "screening_scales": ["phq9", "gad7"]
}))]
pub struct LectureRequestBody {
    /// 单位名称.
    #[schema(min_length = 1, max_length = 64)]
    pub unit_name: String,
    /// 单位地址 (the unit provides the room).
    #[schema(min_length = 1, max_length = 200)]
    pub unit_address: String,
    /// The region the unit is in, named as stations name theirs (`GET /stations`: 长沙市,
    /// 上海市嘉定区). Optional; with it, a screening referral also offers the region's stations.
    #[schema(max_length = 32, example = "长沙市")]
    pub region: Option<String>,
    /// 讲座时间: 1–3 dates after today, within a year.
    #[schema(min_items = 1, max_items = 3)]
    pub preferred_dates: Vec<NaiveDate>,
    /// A topic of the menu; or describe the need in `content_note`.
    pub topic_id: Option<String>,
    /// 讲座内容 in the unit's words, up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub content_note: String,
    /// 单位总人数, 1–100000.
    #[schema(minimum = 1, maximum = 100000)]
    pub staff_total: i64,
    /// 参加人数, at most `staff_total`.
    #[schema(minimum = 1)]
    pub attendees: i64,
    /// 是否愿意接受与其它单位一起培训.
    pub joint_ok: bool,
    pub liaison: ContactBody,
    pub head: ContactBody,
    /// A group screening (普查) at the same visit.
    #[serde(default)]
    pub screening: bool,
    /// Scale codes for the screening (required with `screening`).
    #[serde(default)]
    #[schema(max_items = 5)]
    pub screening_scales: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d6-6666-7abc-8def-0123456789ab", "status": "accepted", "unit_name": "湖南省某厅",
    "unit_address": "长沙市某路 1 号", "region": "长沙市", "preferred_dates": ["2026-12-20"], "topic_id": "0193a5d2-1111-7abc-8def-0123456789ab",
    "topic_title": "压力与情绪管理", "content_note": "", "staff_total": 120, "attendees": 80, "joint_ok": true,
    "liaison": {"name": "王芳", "title": "办公室主任", "office_phone": "0731-88888888", "mobile": "13800000000"},
    "head": {"name": "李强", "title": "处长", "office_phone": null, "mobile": "13900000000"}, "from_deleted_account": false,
    "screening": true, "screening_scales": ["phq9"], "lecturer": "张老师",
    "scheduled_at": "2026-12-20T14:30:00+08:00", "location": "三楼会议室", "reason": null,
    "screening_code": "K7M3Q9TXA2", "screening_closes_at": "2027-01-03T14:30:00+08:00", "created_at": "2026-12-01T10:00:00+08:00", "updated_at": "2026-12-02T09:00:00+08:00"
}))]
pub struct LectureRequestView {
    pub id: String,
    #[schema(value_type = LectureStatusName)]
    pub status: String,
    pub unit_name: String,
    pub unit_address: String,
    pub region: Option<String>,
    pub preferred_dates: Vec<NaiveDate>,
    pub topic_id: Option<String>,
    pub topic_title: Option<String>,
    pub content_note: String,
    pub staff_total: u32,
    pub attendees: u32,
    pub joint_ok: bool,
    /// `（联络人已注销）` with no mobile once the liaison deleted their account.
    pub liaison: ContactBody,
    pub head: ContactBody,
    /// The liaison deleted their account: the unit's form stays with the organiser.
    pub from_deleted_account: bool,
    pub screening: bool,
    pub screening_scales: Vec<String>,
    /// Set by the organiser when accepting (and `scheduled_at` when proposing).
    pub lecturer: Option<String>,
    pub scheduled_at: Option<DateTime<FixedOffset>>,
    pub location: Option<String>,
    /// Why it was declined.
    pub reason: Option<String>,
    /// The join code participants use, once accepted: for the screening (when there is one)
    /// and the survey afterwards.
    pub screening_code: Option<String>,
    /// When the screening closes (14 days after the lecture unless the organiser closes it
    /// earlier); until then the unit's report shows participants only.
    pub screening_closes_at: Option<DateTime<FixedOffset>>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

async fn view(state: &AppState, r: &LectureRequest) -> ApiResult<LectureRequestView> {
    let topic = match r.input.topic_id {
        Some(id) => state.lectures.topic(id).await?,
        None => None,
    };
    Ok(LectureRequestView {
        id: r.id.to_string(),
        status: r.status.as_str().into(),
        unit_name: r.input.unit_name.clone(),
        unit_address: r.input.unit_address.clone(),
        region: r.input.region.clone(),
        preferred_dates: r.input.preferred_dates.clone(),
        topic_id: r.input.topic_id.map(|t| t.to_string()),
        topic_title: topic.map(|t| t.title),
        content_note: r.input.content_note.clone(),
        staff_total: r.input.staff_total,
        attendees: r.input.attendees,
        joint_ok: r.input.joint_ok,
        liaison: (&r.input.liaison).into(),
        head: (&r.input.head).into(),
        from_deleted_account: r.user_id.is_none(),
        screening: r.input.screening,
        screening_scales: r.input.screening_scales.clone(),
        lecturer: r.lecturer.clone(),
        scheduled_at: r.scheduled_at.map(cst),
        location: r.location.clone(),
        reason: r.reason.clone(),
        screening_code: r.screening_code.clone(),
        screening_closes_at: xinli_domain::screening::closes_at(r).map(cst),
        created_at: cst(r.created_at),
        updated_at: cst(r.updated_at),
    })
}

async fn page_view(
    state: &AppState,
    page: xinli_domain::page::Page<LectureRequest>,
) -> ApiResult<Paged<LectureRequestView>> {
    let mut items = Vec::with_capacity(page.items.len());
    for r in &page.items {
        items.push(view(state, r).await?);
    }
    Ok(Paged {
        items,
        total: page.total,
        page: page.request.page,
        page_size: page.request.page_size,
    })
}

/// Apply for a lecture (and a screening)
///
/// The fields of seed 002 附件 6. The organiser reviews it; the liaison follows it under
/// `/me/lecture-requests` and is told of the decision (`lecture_request_decided`).
#[utoipa::path(
    operation_id = "create_lecture_request",
    tag = "lectures",
    security(("bearer" = [])),
    request_body = LectureRequestBody,
    responses(
        (status = 201, body = LectureRequestView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`, a detail per field (attendees over the staff total, phones, dates, unknown topic or scale)", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody),
    )
)]
#[post("/lecture-requests")]
pub async fn create_request(
    state: State,
    caller: UserCaller,
    body: Json<LectureRequestBody>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let now = state.clock.now();
    let topic_id = match b.topic_id.as_deref() {
        Some(raw) => {
            let found = match Uuid::parse_str(raw) {
                Ok(id) => state.lectures.topic(id).await?.filter(|t| t.active),
                Err(_) => None,
            };
            Some(
                found
                    .ok_or_else(|| ApiError::field("topic_id", "讲座主题不存在"))?
                    .id,
            )
        }
        None => None,
    };
    let scales: Vec<String> = state
        .scales
        .list()
        .await?
        .into_iter()
        .map(|s| s.code)
        .collect();
    let input = RequestInput::parse(
        RequestFields {
            unit_name: &b.unit_name,
            unit_address: &b.unit_address,
            region: b.region.as_deref(),
            preferred_dates: b.preferred_dates.clone(),
            topic_id,
            content_note: &b.content_note,
            staff_total: b.staff_total,
            attendees: b.attendees,
            joint_ok: b.joint_ok,
            liaison: (
                &b.liaison.name,
                &b.liaison.title,
                b.liaison.office_phone.as_deref(),
                &b.liaison.mobile,
            ),
            head: (
                &b.head.name,
                &b.head.title,
                b.head.office_phone.as_deref(),
                &b.head.mobile,
            ),
            screening: b.screening,
            screening_scales: b.screening_scales.clone(),
        },
        china_date(now),
        &scales,
    )?;
    crate::limits::hit(
        &state,
        "lecture_request",
        caller.id,
        state.config.limits.lecture_requests_per_user,
    )
    .await?;
    let created = state.lectures.create_request(caller.id, input, now).await?;
    tracing::info!(request_id = %created.id, "lecture request submitted");
    Ok(HttpResponse::Created().json(view(&state, &created).await?))
}

/// My lecture requests
#[utoipa::path(
    operation_id = "list_my_lecture_requests",
    tag = "lectures",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Paged<LectureRequestView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/me/lecture-requests")]
pub async fn my_requests(
    state: State,
    caller: UserCaller,
    query: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = state.lectures.of_user(caller.id, query.0.parse()?).await?;
    Ok(HttpResponse::Ok().json(page_view(&state, page).await?))
}

/// The request and who the caller is to it; someone else's request is not found.
async fn load(
    state: &AppState,
    id: &str,
    caller: Uuid,
    admin: bool,
) -> ApiResult<(LectureRequest, Actor)> {
    let r = state
        .lectures
        .find(parse_id(id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let actor = r.actor(caller, admin).ok_or_else(ApiError::not_found)?;
    Ok((r, actor))
}

/// One lecture request
///
/// Its liaison and admins.
#[utoipa::path(
    operation_id = "get_lecture_request",
    tag = "lectures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    responses(
        (status = 200, body = LectureRequestView),
        (status = 401, body = ErrorBody),
        (status = 404, description = "`not_found`: unknown, or not yours", body = ErrorBody),
    )
)]
#[get("/lecture-requests/{id}")]
pub async fn get_request(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (r, _) = load(&state, &id, caller.id, caller.role == Role::Admin).await?;
    Ok(HttpResponse::Ok().json(view(&state, &r).await?))
}

/// Runs one step of the transition table.
async fn step(
    state: &AppState,
    r: LectureRequest,
    actor: Actor,
    action: Action,
    decision: Option<Decision>,
) -> ApiResult<LectureRequest> {
    let to = transition(r.status, actor, action).ok_or_else(|| {
        ApiError::new(ErrorCode::LectureRequestState).with_message(format!(
            "该申请当前为“{}”，不能进行此操作",
            r.status.label()
        ))
    })?;
    // Every accepted lecture gets a join code: participants use it for the screening (when
    // there is one) and for the survey afterwards.
    let screening_code = (to == Status::Accepted && r.screening_code.is_none()).then(|| {
        let mut bytes = [0u8; xinli_domain::lecture::CODE_LENGTH];
        rand::rng().fill_bytes(&mut bytes);
        xinli_domain::lecture::screening_code(&bytes)
    });
    let screening_closes_at = if to == Status::Accepted {
        xinli_domain::screening::close_on_accept(&r, decision.as_ref().and_then(|d| d.scheduled_at))
    } else {
        None
    };
    state
        .lectures
        .apply(
            r.id,
            r.status,
            to,
            Step {
                actor,
                action,
                decision,
                screening_code,
                screening_closes_at,
            },
            state.clock.now(),
        )
        .await?
        .ok_or_else(|| {
            ApiError::new(ErrorCode::LectureRequestState)
                .with_message("该申请刚刚被更新，请刷新后再试")
        })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"accept": true}))]
pub struct RespondBody {
    /// `true`: take the proposed date; `false`: ask the organiser for another.
    pub accept: bool,
}

/// Answer a proposed date
#[utoipa::path(
    operation_id = "respond_to_lecture_proposal",
    tag = "lectures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    request_body = RespondBody,
    responses(
        (status = 200, body = LectureRequestView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`lecture_request_state`: nothing is proposed", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/lecture-requests/{id}/respond")]
pub async fn respond(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
    body: Json<RespondBody>,
) -> ApiResult<HttpResponse> {
    let (r, actor) = load(&state, &id, caller.id, false).await?;
    let action = if body.0.accept {
        Action::TakeProposal
    } else {
        Action::RefuseProposal
    };
    let done = step(&state, r, actor, action, None).await?;
    Ok(HttpResponse::Ok().json(view(&state, &done).await?))
}

/// Withdraw a request
///
/// Until the lecture has taken place.
#[utoipa::path(
    operation_id = "withdraw_lecture_request",
    tag = "lectures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    responses(
        (status = 200, body = LectureRequestView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`lecture_request_state`", body = ErrorBody),
    )
)]
#[post("/lecture-requests/{id}/withdraw")]
pub async fn withdraw(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (r, actor) = load(&state, &id, caller.id, false).await?;
    let done = step(&state, r, actor, Action::Withdraw, None).await?;
    Ok(HttpResponse::Ok().json(view(&state, &done).await?))
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
    let (r, actor) = load(&state, &id, admin.0.id, true).await?;
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
    tracing::info!(admin_id = %admin.0.id, request_id = %done.id, status = done.status.as_str(), "lecture request decided");
    Ok(HttpResponse::Ok().json(view(&state, &done).await?))
}

/// Mark a lecture as delivered
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
        (status = 409, description = "`lecture_request_state`: not accepted", body = ErrorBody),
    )
)]
#[post("/admin/lecture-requests/{id}/done")]
pub async fn admin_done(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (r, actor) = load(&state, &id, admin.0.id, true).await?;
    let done = step(&state, r, actor, Action::MarkDone, None).await?;
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

/// A person's lecture requests, for `GET /me/export`.
pub async fn export_of_user(state: &AppState, user: Uuid) -> ApiResult<Vec<LectureRequestView>> {
    let page = xinli_domain::page::PageRequest::parse(Some(1), Some(100))?;
    let found = state.lectures.of_user(user, page).await?;
    Ok(page_view(state, found).await?.items)
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
    /// When the survey closes (14 days after the lecture); no answer is taken after it.
    pub closes_at: Option<DateTime<FixedOffset>>,
    /// While `open`: rounded down to a multiple of 5. Once `closed`: exact.
    pub responses: u64,
    /// Share of 5s for the content (seed 000: 281 / 352 = 0.7983); `null` while open or with
    /// fewer than 10 answers.
    pub content_very_satisfied_rate: Option<f64>,
    /// Share of 5s for the gain (seed 000: 267 / 352 = 0.7585); as above.
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
    let lexicon = crate::routes::risk::lexicon(&state).await?;
    let s = xinli_domain::lecture::unit_survey(
        &r,
        &state.lectures.survey_answers(r.id).await?,
        state.clock.now(),
        |comment| lexicon.check(comment).is_some(),
    );
    Ok(HttpResponse::Ok().json(SurveySummaryView {
        state: if s.closed { "closed" } else { "open" }.into(),
        closes_at: s.closes_at.map(cst),
        responses: s.responses,
        content_very_satisfied_rate: s.content_very_satisfied_rate,
        gain_very_rate: s.gain_very_rate,
        comments: s.comments,
    }))
}

string_enum!(
    /// A service people rate: `consultation` (online), `booking` (a station session),
    /// `lecture` (the content question of the survey).
    ServiceName,
    ["consultation", "booking", "lecture"]
);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"service": "lecture", "responses": 352, "satisfied_rate": 0.9773, "very_satisfied_rate": 0.7983,
    "survey_responses": 352, "content_very_satisfied_rate": 0.7983, "gain_very_rate": 0.7585}))]
pub struct ServiceSatisfaction {
    #[schema(value_type = ServiceName)]
    pub service: String,
    /// Ratings (consultations, sessions) or survey answers (lectures).
    pub responses: u64,
    /// Share of 4s and 5s (满意度, as the seeds report it: 97.8 %); `null` without responses.
    pub satisfied_rate: Option<f64>,
    /// Share of 5s; `null` where the service does not record it.
    pub very_satisfied_rate: Option<f64>,
    /// The same two-question survey for every service: answers, and the share of 5s per
    /// question.
    pub survey_responses: u64,
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
pub async fn admin_satisfaction(
    state: State,
    _admin: AdminCaller,
    query: Query<StatsQuery>,
) -> ApiResult<HttpResponse> {
    use xinli_domain::lecture::rate;
    let range = xinli_domain::period::DayRange::parse(
        query.0.from,
        query.0.to,
        china_date(state.clock.now()),
    )?;
    let (from, to) = range.instants();
    let c = state.consultation_figures.stats(from, to).await?;
    let bookings: Vec<u8> = state
        .bookings
        .facts(from, to, None)
        .await?
        .into_iter()
        .filter_map(|f| f.rating)
        .collect();
    let lecture_answers = state.lectures.survey_answers_between(from, to).await?;
    let lectures: Vec<u8> = lecture_answers.iter().map(|a| a.content).collect();
    let survey =
        |answers: &[xinli_domain::lecture::SurveyAnswer]| xinli_domain::lecture::summarise(answers);
    let consultation_survey = survey(
        &state
            .surveys
            .answers_between(xinli_domain::survey::Service::Consultation, from, to)
            .await?,
    );
    let booking_survey = survey(
        &state
            .surveys
            .answers_between(xinli_domain::survey::Service::Booking, from, to)
            .await?,
    );
    let lecture_survey = survey(&lecture_answers);
    let figure = |service: &str, scores: &[u8], s: &xinli_domain::lecture::SurveySummary| {
        let n = scores.len() as u64;
        ServiceSatisfaction {
            service: service.into(),
            responses: n,
            satisfied_rate: rate(
                scores
                    .iter()
                    .filter(|s| xinli_domain::consultation::is_satisfied(**s))
                    .count() as u64,
                n,
            ),
            very_satisfied_rate: rate(scores.iter().filter(|s| **s == 5).count() as u64, n),
            survey_responses: s.responses,
            content_very_satisfied_rate: s.content_very_satisfied_rate,
            gain_very_rate: s.gain_very_rate,
        }
    };
    Ok(HttpResponse::Ok().json(vec![
        ServiceSatisfaction {
            service: "consultation".into(),
            responses: c.ratings,
            satisfied_rate: c.satisfaction_rate,
            very_satisfied_rate: None,
            survey_responses: consultation_survey.responses,
            content_very_satisfied_rate: consultation_survey.content_very_satisfied_rate,
            gain_very_rate: consultation_survey.gain_very_rate,
        },
        figure("booking", &bookings, &booking_survey),
        figure("lecture", &lectures, &lecture_survey),
    ]))
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
        (status = 200, description = "The code", content_type = "image/png", body = crate::routes::stations::Png),
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
    let (r, _) = load(&state, &id, admin.0.id, true).await?;
    let code = r.screening_code.ok_or_else(ApiError::not_found)?;
    crate::routes::stations::mini_program_code(
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
    /// Screening results counted (one per scale and participant).
    pub screening_results: u64,
    /// Participants who accepted one-to-one counseling (organiser only; never shown to units).
    pub referrals_accepted: u64,
    pub survey_responses: u64,
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
