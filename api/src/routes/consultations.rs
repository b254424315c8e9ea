//! 在线咨询: requests, the counselors' queue and atomic claims, chat with long polling, close,
//! transfer, rating, the audited read of a client's assessments. (The sweep that expires old
//! requests and takes people back from silent counselors is a job: `crate::jobs`.)
//!
//! The rules (transitions and their effects, priority, order, position, wait, transfer
//! targets) live in `domain::consultation`; this module checks who is calling and turns
//! results into answers.

use std::time::Duration as StdDuration;

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::account::Role;
use xinli_domain::assessment::current_risk;
use xinli_domain::audit::{AuditAction, AuditEntry};
use xinli_domain::consultation::{
    self as domain, Access, Action, Change, ClaimRefusal, Consultation, Message, NewRequest, Party,
    Priority, Requeue, Sender, Status, estimate_wait, transition, user_priority,
};

use crate::auth::{Caller, CounselorCaller, UserCaller};
use crate::dto::{
    ChatSender, ConsultationChannel, ConsultationPriority, ConsultationStatus, ConsultationTopic,
    Paged, UserPriority, cst,
};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, PageParams, Query, parse_id};
use crate::routes::hotlines::{HotlineView, crisis_views};
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(my_consultations)
        .service(get_one)
        .service(cancel)
        .service(read_messages)
        .service(write_message)
        .service(rate)
        .service(put_status)
        .service(get_status)
        .service(queue)
        .service(claim)
        .service(my_active)
        .service(close)
        .service(transfer)
        .service(client_assessments);
}

// ---------------------------------------------------------------- views

/// A consultation as the person who asked sees it. No risk wording: only their place.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d5-2222-7abc-8def-0123456789ab", "topic": "压力", "description": "最近工作压力很大，晚上睡不好。",
    "status": "waiting", "status_label": "排队中", "priority": "standard", "position": 2,
    "estimated_wait_seconds": 1200, "wait_basis": "根据最近 12 次咨询的平均时长和当前 3 位在线咨询师估算",
    "counselors_online": 3, "counselor_name": null, "notice": null, "hotlines": [], "crisis": null,
    "created_at": "2026-11-22T21:40:00+08:00", "claimed_at": null, "ended_at": null, "rating": null, "can_rate": false
}))]
pub struct UserConsultation {
    pub id: String,
    #[schema(value_type = ConsultationTopic)]
    pub topic: String,
    pub description: String,
    #[schema(value_type = ConsultationStatus)]
    pub status: Status,
    pub status_label: String,
    /// `prioritized` when recent self-assessments moved the request ahead, else `standard`.
    #[schema(value_type = UserPriority)]
    pub priority: String,
    /// While waiting: how many people will be served first (0 = next).
    pub position: Option<u64>,
    /// While waiting: the estimate, or `null` when no honest number can be given (then
    /// `wait_basis` says why and `hotlines` lists lines open now).
    pub estimated_wait_seconds: Option<u64>,
    pub wait_basis: Option<String>,
    pub counselors_online: Option<u32>,
    /// The serving counselor's display name while active or after close.
    pub counselor_name: Option<String>,
    /// What to do now, for expired or cancelled requests.
    pub notice: Option<String>,
    /// Crisis hotlines (open ones first) when no counselor is online or the request expired.
    pub hotlines: Vec<HotlineView>,
    /// In the answer to a request whose description shows risk (`domain::risk`): a warm word
    /// and the crisis hotlines, open ones first. Otherwise `null`.
    pub crisis: Option<crate::routes::assessments::CrisisView>,
    pub created_at: DateTime<FixedOffset>,
    pub claimed_at: Option<DateTime<FixedOffset>>,
    pub ended_at: Option<DateTime<FixedOffset>>,
    pub rating: Option<u8>,
    /// Whether `POST …/rating` is possible now.
    pub can_rate: bool,
}

/// A consultation as a counselor sees it: with the priority and its reason.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d5-2222-7abc-8def-0123456789ab", "topic": "情绪困扰", "description": "……",
    "status": "waiting", "priority": "urgent", "priority_reason": "近 14 天的测评中，自伤相关题目作答为阳性",
    "assigned_to_me": false, "client_nickname": "小林", "created_at": "2026-11-22T21:40:00+08:00",
    "queued_at": "2026-11-22T21:40:00+08:00", "claimed_at": null, "waited_seconds": 300, "note": null,
    "callback_phone": null
}))]
pub struct CounselorConsultation {
    pub id: String,
    #[schema(value_type = ConsultationTopic)]
    pub topic: String,
    pub description: String,
    #[schema(value_type = ConsultationStatus)]
    pub status: Status,
    #[schema(value_type = ConsultationPriority)]
    pub priority: Priority,
    pub priority_reason: String,
    /// Transferred to this counselor by name.
    pub assigned_to_me: bool,
    pub client_nickname: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub queued_at: DateTime<FixedOffset>,
    pub claimed_at: Option<DateTime<FixedOffset>>,
    /// Seconds since the request was made.
    pub waited_seconds: i64,
    /// The number the person agreed to be called back on (a screening referral): only for
    /// the counselor serving it, never in the queue.
    pub callback_phone: Option<String>,
    /// This counselor's private note (closed consultations they served).
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"seq": 3, "sender": "counselor", "text": "你好，我是王老师。今天想聊些什么？", "created_at": "2026-11-22T21:45:00+08:00"}))]
pub struct ChatMessage {
    /// The cursor: pass the last one seen as `after`.
    pub seq: i64,
    #[schema(value_type = ChatSender)]
    pub sender: Sender,
    pub text: String,
    pub created_at: DateTime<FixedOffset>,
}

impl From<&Message> for ChatMessage {
    fn from(m: &Message) -> Self {
        Self {
            seq: m.seq,
            sender: m.sender,
            text: m.text.clone(),
            created_at: cst(m.created_at),
        }
    }
}

/// A message just written; with `crisis` when the person's words show risk.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"seq": 4, "sender": "user", "text": "谢谢你。", "created_at": "2026-11-22T21:46:00+08:00", "crisis": null}))]
pub struct WrittenMessage {
    #[serde(flatten)]
    pub message: ChatMessage,
    /// A warm word and the crisis hotlines open now, when the person's words hit the risk
    /// lexicon (a supervisor is alerted too); otherwise `null`.
    pub crisis: Option<crate::routes::assessments::CrisisView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"seq": 3, "sender": "counselor", "text": "你好", "created_at": "2026-11-22T21:45:00+08:00"}],
    "next_after": 3, "status": "active"}))]
pub struct ChatMessagePage {
    pub items: Vec<ChatMessage>,
    /// Pass as `after` next time.
    pub next_after: i64,
    /// The consultation's status now (a long poll also returns when it changes).
    #[schema(value_type = ConsultationStatus)]
    pub status: Status,
}

async fn counselor_name(state: &AppState, c: &Consultation) -> ApiResult<Option<String>> {
    Ok(match c.counselor_id {
        Some(id) if matches!(c.status, Status::Active | Status::Closed) => {
            state.staff.find_by_id(id).await?.map(|s| s.display_name)
        }
        _ => None,
    })
}

pub(crate) async fn user_view(state: &AppState, c: &Consultation) -> ApiResult<UserConsultation> {
    let mut view = UserConsultation {
        crisis: None,
        id: c.id.to_string(),
        topic: c.topic.clone(),
        description: c.description.clone(),
        status: c.status,
        status_label: c.status.label().into(),
        priority: user_priority(c.priority).into(),
        position: None,
        estimated_wait_seconds: None,
        wait_basis: None,
        counselors_online: None,
        counselor_name: counselor_name(state, c).await?,
        notice: None,
        hotlines: vec![],
        created_at: cst(c.created_at),
        claimed_at: c.claimed_at.map(cst),
        ended_at: c.ended_at.map(cst),
        rating: c.rating,
        can_rate: c.status == Status::Closed && c.rating.is_none(),
    };
    match c.status {
        Status::Waiting => {
            let position = state.consultations.position(c).await?;
            let mut counselors = state.consultations.counselor_states().await?;
            if let Some(assigned) = c.assigned_to {
                counselors.retain(|s| s.staff_id == assigned);
            }
            let handling = state
                .consultation_figures
                .recent_handling(domain::HANDLING_SAMPLE)
                .await?;
            let estimate = estimate_wait(position, &counselors, handling);
            if estimate.seconds.is_none() {
                view.hotlines = open_hotlines(state).await?;
            }
            view.position = Some(position);
            view.estimated_wait_seconds = estimate.seconds;
            view.wait_basis = Some(estimate.basis);
            view.counselors_online = Some(estimate.counselors_online);
        }
        Status::Expired => {
            view.notice = Some(
                "很抱歉，这次排队等待时间过长，请求已自动结束。如果你现在需要倾诉或帮助，请拨打下方正在服务的热线，也可以稍后重新发起咨询。"
                    .into(),
            );
            view.hotlines = open_hotlines(state).await?;
        }
        Status::Cancelled => {
            view.notice = Some("你已取消这次咨询请求。需要时可以随时重新发起。".into())
        }
        _ => {}
    }
    Ok(view)
}

/// Crisis lines, keeping only those open now (or of unknown hours) — what someone can call
/// this minute.
async fn open_hotlines(state: &AppState) -> ApiResult<Vec<HotlineView>> {
    Ok(crisis_views(state)
        .await?
        .into_iter()
        .filter(|h| h.open_now != Some(false))
        .collect())
}

async fn counselor_view(
    state: &AppState,
    c: &Consultation,
    me: Uuid,
) -> ApiResult<CounselorConsultation> {
    let nickname = match c.user_id {
        Some(u) => state.users.find_by_id(u).await?.and_then(|u| u.nickname),
        None => None,
    };
    let note = if c.allows(Party::Counselor(me), Action::ReadNote) {
        c.note.clone()
    } else {
        None
    };
    let callback_phone = if c.allows(Party::Counselor(me), Action::ReadCallbackPhone) {
        c.callback_phone.clone()
    } else {
        None
    };
    Ok(CounselorConsultation {
        id: c.id.to_string(),
        topic: c.topic.clone(),
        description: c.description.clone(),
        status: c.status,
        priority: c.priority,
        priority_reason: c.priority_reason.clone(),
        assigned_to_me: c.assigned_to == Some(me),
        client_nickname: nickname,
        created_at: cst(c.created_at),
        queued_at: cst(c.queued_at),
        claimed_at: c.claimed_at.map(cst),
        waited_seconds: (state.clock.now() - c.created_at).num_seconds().max(0),
        note,
        callback_phone,
    })
}

async fn counselor_views(
    state: &AppState,
    list: &[Consultation],
    me: Uuid,
) -> ApiResult<Vec<CounselorConsultation>> {
    let mut out = Vec::with_capacity(list.len());
    for c in list {
        out.push(counselor_view(state, c, me).await?);
    }
    Ok(out)
}

async fn load(state: &AppState, id: &str) -> ApiResult<Consultation> {
    let id = parse_id(id)?;
    state
        .consultations
        .find(id)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn illegal(from: Status, event: domain::Event) -> ApiError {
    match transition(from, event) {
        Err(e) => ApiError::new(ErrorCode::InvalidTransition).with_message(e.message()),
        Ok(_) => ApiError::new(ErrorCode::InvalidTransition),
    }
}

/// Applies a change through the state machine; a concurrent change in between is reported
/// like an illegal transition from the new state.
async fn apply(state: &AppState, c: &Consultation, change: Change) -> ApiResult<Consultation> {
    let event = change.event();
    let effect = change
        .effect(c.status)
        .map_err(|_| illegal(c.status, event))?;
    match state
        .consultations
        .apply(c.id, c.status, effect, state.clock.now())
        .await?
    {
        Some(updated) => {
            state.chat_signal.notify(c.id).await;
            Ok(updated)
        }
        None => {
            let now = state
                .consultations
                .find(c.id)
                .await?
                .ok_or_else(ApiError::not_found)?;
            Err(illegal(now.status, event))
        }
    }
}

// ---------------------------------------------------------------- user side

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
    let crisis = crate::routes::risk::check_words(
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

// ---------------------------------------------------------------- chat

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Return messages with `seq` greater than this (default 0: from the start).
    #[param(minimum = 0, example = 0)]
    pub after: Option<i64>,
    /// Seconds to wait for a new message when there is none yet (0–25, default 0).
    #[param(minimum = 0, maximum = 25, example = 25)]
    pub wait: Option<u64>,
}

/// Who the caller is to a consultation: a user or a counselor; `None` for a supervisor (who
/// reads only the words that raised an alert, through the alert); admins are refused (they see
/// aggregates, never a person's consultation).
fn party(caller: &Caller) -> ApiResult<Option<Party>> {
    match caller.role {
        Role::User => Ok(Some(Party::User(caller.id))),
        Role::Counselor => Ok(Some(Party::Counselor(caller.id))),
        Role::Supervisor => Ok(None),
        Role::Admin => Err(ApiError::forbidden()),
    }
}

/// `domain`'s answer to whether `who` may do `action`; no means "as if it did not exist".
fn allowed(c: &Consultation, who: Party, action: Action) -> ApiResult<()> {
    if c.allows(who, action) {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// Whether the caller may read (and write) this consultation's chat.
fn chat_access(c: &Consultation, caller: &Caller) -> ApiResult<Access> {
    let access = match caller.role {
        // Supervisors read only the flagged words, through their alerts.
        Role::Supervisor => return Err(ApiError::forbidden()),
        _ => party(caller)?.map_or(Access::None, |who| c.access(who)),
    };
    if access == Access::None {
        // Another user, a counselor not serving it (yet, or any more): as if it did not exist.
        return Err(ApiError::not_found());
    }
    Ok(access)
}

/// Read messages (long poll)
///
/// Returns messages after the cursor `after`. With `wait`, an empty answer is held up to that
/// many seconds (25 at most) and returned as soon as a message arrives — also one written
/// through another instance — or the consultation's status changes. Its user can read at
/// any time; its counselor while serving.
#[utoipa::path(
    operation_id = "list_messages",
    tag = "consultations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Consultation id"), MessagesQuery),
    responses(
        (status = 200, body = ChatMessagePage),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "`too_many_requests`: this user already holds the most long polls allowed at once (2)", body = ErrorBody),
    )
)]
#[get("/consultations/{id}/messages")]
pub async fn read_messages(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    query: Query<MessagesQuery>,
) -> ApiResult<HttpResponse> {
    let after = query.0.after.unwrap_or(0);
    let wait = query.0.wait.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::field("after", "after 不能为负数"));
    }
    if wait > state.config.queue.max_poll.as_secs() {
        return Err(ApiError::field("wait", "wait 最长 25 秒"));
    }
    let c = load(&state, &id).await?;
    chat_access(&c, &caller)?;
    let _slot = if wait > 0 {
        Some(
            state
                .open_polls
                .enter(caller.id, state.config.limits.long_polls_per_user)?,
        )
    } else {
        None
    };
    // Subscribe first, then read: a message committed in between still wakes us.
    let mut signal = state.chat_signal.subscribe();
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(wait);
    loop {
        let items = state.chats.messages_after(c.id, after, 200).await?;
        let current = state
            .consultations
            .find(c.id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        // Access can end while waiting (transfer, close for the counselor).
        chat_access(&current, &caller)?;
        if !items.is_empty()
            || current.status != c.status
            || tokio::time::Instant::now() >= deadline
        {
            if !items.is_empty() && caller.role == Role::User {
                // The person reads: a pending "counselor replied" message is not needed.
                state
                    .notifications
                    .withdraw(&xinli_domain::notification::reply_key(c.id))
                    .await?;
            }
            if !items.is_empty() && caller.role == Role::Counselor {
                audit(
                    &state,
                    caller.id,
                    AuditAction::ReadClientMessages,
                    &current,
                    None::<String>,
                )
                .await?;
            }
            let next_after = items.last().map(|m| m.seq).unwrap_or(after);
            return Ok(HttpResponse::Ok().json(ChatMessagePage {
                items: items.iter().map(ChatMessage::from).collect(),
                next_after,
                status: current.status,
            }));
        }
        // Wake on a signal for this consultation, or when the time is up; while signals
        // from other instances can be lost (Redis down), re-read every second.
        let wake_at = match state.chat_signal.poll_every() {
            Some(pause) => deadline.min(tokio::time::Instant::now() + pause),
            None => deadline,
        };
        loop {
            match tokio::time::timeout_at(wake_at, signal.recv()).await {
                Ok(Ok(cid)) if cid != c.id => continue,
                _ => break,
            }
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "你好，我最近总是睡不着。"}))]
pub struct ChatMessageRequest {
    /// 1–2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
}

/// Write a message
///
/// Its user while waiting or active (the counselor reads earlier messages on claiming); its
/// counselor while serving. After the end nobody writes.
#[utoipa::path(
    operation_id = "write_message",
    tag = "consultations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Consultation id")),
    request_body = ChatMessageRequest,
    responses(
        (status = 201, body = WrittenMessage),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`: the consultation has ended", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "`too_many_requests`, with `Retry-After`", body = ErrorBody),
    )
)]
#[post("/consultations/{id}/messages")]
pub async fn write_message(
    state: State,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ChatMessageRequest>,
) -> ApiResult<HttpResponse> {
    let text = domain::parse_message(&body.0.text)?;
    crate::limits::hit(
        &state,
        "message",
        caller.id,
        state.config.limits.messages_per_account,
    )
    .await?;
    let c = load(&state, &id).await?;
    let access = chat_access(&c, &caller)?;
    if !c.can_write(access) {
        return Err(ApiError::new(ErrorCode::InvalidTransition)
            .with_message(format!("该咨询{}，不能再发送消息", c.status.label())));
    }
    let sender = if access == Access::Serving {
        Sender::Counselor
    } else {
        Sender::User
    };
    let m = state
        .chats
        .add_message(c.id, sender, Some(caller.id), &text, state.clock.now())
        .await?;
    state.chat_signal.notify(c.id).await;
    // Only the person's own words are checked, never a counselor's.
    let crisis = if sender == Sender::User {
        crate::routes::risk::check_words(
            &state,
            &c,
            &m.text,
            xinli_domain::risk::Source::Message,
            Some(m.seq),
        )
        .await?
    } else {
        None
    };
    Ok(HttpResponse::Created().json(WrittenMessage {
        message: ChatMessage::from(&m),
        crisis,
    }))
}

// ---------------------------------------------------------------- counselor side

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
        .set_counselor_state(me.0.id, body.0.online, capacity, state.clock.now())
        .await?;
    Ok(HttpResponse::Ok().json(status_view(&state, me.0.id).await?))
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
    Ok(HttpResponse::Ok().json(status_view(&state, me.0.id).await?))
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
        .queue_for(me.0.id, query.0.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(Paged {
        items: counselor_views(&state, &found.items, me.0.id).await?,
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
        .claim_next(me.0.id, state.clock.now())
        .await?
    {
        Err(ClaimRefusal::Offline) => Err(ApiError::new(ErrorCode::CounselorOffline)),
        Err(ClaimRefusal::AtCapacity) => Err(ApiError::new(ErrorCode::AtCapacity)),
        Ok(None) => Ok(HttpResponse::NoContent().finish()),
        Ok(Some(c)) => {
            state.chat_signal.notify(c.id).await;
            tracing::info!(consultation_id = %c.id, counselor_id = %me.0.id, "consultation claimed");
            Ok(HttpResponse::Ok().json(counselor_view(&state, &c, me.0.id).await?))
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
    let active = state.consultations.active_of_counselor(me.0.id).await?;
    let out = counselor_views(&state, &active, me.0.id).await?;
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
    allowed(&c, Party::Counselor(me.0.id), Action::Handle)?;
    let c = apply(&state, &c, Change::Close { note }).await?;
    Ok(HttpResponse::Ok().json(counselor_view(&state, &c, me.0.id).await?))
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
    allowed(&c, Party::Counselor(me.0.id), Action::Handle)?;
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
            let usable = staff.is_some_and(|s| {
                domain::can_receive_transfer(s.role, s.disabled, online, tid == me.0.id)
            });
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
        me.0.id,
        AuditAction::TransferConsultation,
        &c,
        Some(to),
    )
    .await?;
    tracing::info!(consultation_id = %c.id, from = %me.0.id, to = ?target, "consultation transferred");
    Ok(HttpResponse::Ok().json(counselor_view(&state, &c, me.0.id).await?))
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
    allowed(&c, Party::Counselor(me.0.id), Action::ReadAssessments)?;
    let user = c.user_id.ok_or_else(ApiError::not_found)?;
    audit(
        &state,
        me.0.id,
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

// ---------------------------------------------------------------- background sweep

/// Writes an audit entry of a counselor's act on a consultation (its client's data, a
/// transfer): who, what, when, never the content.
async fn audit(
    state: &AppState,
    counselor: Uuid,
    action: AuditAction,
    c: &Consultation,
    target: Option<impl Into<String>>,
) -> ApiResult<()> {
    let mut entry = AuditEntry::new(state.clock.now(), counselor, Role::Counselor, action)
        .consultation(c.id, c.user_id);
    if let Some(t) = target {
        entry = entry.target(t);
    }
    state.audit.record(&entry).await?;
    Ok(())
}
