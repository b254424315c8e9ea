//! Chat: read (long poll) and write messages, for the person and the counselor serving them.

use std::time::Duration as StdDuration;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinli_domain::account::Role;
use xinli_domain::audit::AuditAction;
use xinli_domain::consultation::{self as domain, Access, Consultation, Message, Sender, Status};

use crate::auth::Caller;
use crate::dto::{ChatSender, ConsultationStatus, cst};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, Query};
use crate::state::State;

use super::{audit, load, party};

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
    pub crisis: Option<crate::crisis::CrisisView>,
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
        crate::crisis::check_words(
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
