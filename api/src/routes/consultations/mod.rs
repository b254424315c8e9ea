//! 在线咨询: requests, the counselors' queue and atomic claims, chat with long polling, close,
//! transfer, rating, the audited read of a client's assessments. (The sweep that expires old
//! requests and takes people back from silent counselors is a job: `crate::jobs`.)
//!
//! The rules (transitions and their effects, priority, order, position, wait, transfer
//! targets) live in `domain::consultation`; this module checks who is calling and turns
//! results into answers.
//!
//! Parts: `user` (requests, cancel, rating), `chat` (messages, long polling), `counselor`
//! (status, queue, claims, close, transfer, a client's assessments). This file holds the views and
//! steps they share.

mod chat;
mod counselor;
mod user;

pub use chat::ChatMessage;
pub(crate) use user::open_request;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::account::Role;
use xinli_domain::audit::{AuditAction, AuditEntry};
use xinli_domain::consultation::{
    self as domain, Action, Change, Consultation, Party, Priority, Status, estimate_wait,
    transition, user_priority,
};

use crate::auth::Caller;
use crate::dto::{ConsultationPriority, ConsultationStatus, ConsultationTopic, UserPriority, cst};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::parse_id;
use crate::routes::hotlines::{HotlineView, crisis_views};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(user::create)
        .service(user::my_consultations)
        .service(user::get_one)
        .service(user::cancel)
        .service(chat::read_messages)
        .service(chat::write_message)
        .service(user::rate)
        .service(counselor::put_status)
        .service(counselor::get_status)
        .service(counselor::queue)
        .service(counselor::claim)
        .service(counselor::my_active)
        .service(counselor::close)
        .service(counselor::transfer)
        .service(counselor::client_assessments);
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
    pub crisis: Option<crate::crisis::CrisisView>,
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

// ---------------------------------------------------------------- audit

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
