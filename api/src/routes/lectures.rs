//! 讲座点单 for units: the lecture menu, a unit's request (seed 002 附件 6), the liaison's
//! answers, and the views and steps the organiser's routes (`routes::lectures_admin`) share.
//! The survey: `routes::lecture_surveys`; the screening: `routes::screenings`. Rules:
//! `xinli_domain::lecture`.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::account::Role;
use xinli_domain::lecture::{
    Action, Actor, Contact, Decision, LectureRequest, RequestFields, RequestInput, Status, Step,
    StepRefusal,
};
use xinli_domain::schedule::china_date;

use crate::auth::{Caller, UserCaller};
use crate::dto::{Paged, cst, string_enum};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, PageParams, Query, parse_id};
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_topics)
        .service(create_request)
        .service(my_requests)
        .service(get_request)
        .service(respond)
        .service(withdraw);
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
/// Series in the organiser's order, topics by number. The demo data holds a provincial trade
/// union's menu of 19 topics.
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

/// The application form (心理健康讲座和普查申报表).
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

pub(crate) async fn view(state: &AppState, r: &LectureRequest) -> ApiResult<LectureRequestView> {
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

pub(crate) async fn page_view(
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
/// The fields of 心理健康讲座和普查申报表. The organiser reviews it; the liaison follows it under
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
pub(crate) async fn load(
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
pub(crate) async fn step(
    state: &AppState,
    r: LectureRequest,
    actor: Actor,
    action: Action,
    decision: Option<Decision>,
) -> ApiResult<LectureRequest> {
    let to = xinli_domain::lecture::check_step(&r, actor, action, state.clock.now()).map_err(
        |refusal| {
            let message = match refusal {
                StepRefusal::State(status) => {
                    format!("该申请当前为“{}”，不能进行此操作", status.label())
                }
                StepRefusal::NotHeldYet(at) => format!(
                    "讲座安排在 {}，举办之后才能标记为已完成",
                    xinli_domain::notification::format_time(at)
                ),
            };
            ApiError::new(ErrorCode::LectureRequestState).with_message(message)
        },
    )?;
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

/// A person's lecture requests, for `GET /me/export`.
pub async fn export_of_user(state: &AppState, user: Uuid) -> ApiResult<Vec<LectureRequestView>> {
    let all = xinli_domain::page::all_pages(|page| state.lectures.of_user(user, page)).await?;
    let mut views = Vec::with_capacity(all.len());
    for r in &all {
        views.push(view(state, r).await?);
    }
    Ok(views)
}
