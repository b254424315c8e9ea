//! The crisis answer and the risk check: what a person in distress is shown (a warm word and
//! the crisis lines open now), and the check run on what they write — in a consultation, in an
//! assessment's critical item — that moves their request up and alerts a supervisor. Route
//! modules call it; the rules are `xinli_domain::risk` and `xinli_domain::assessment`.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use xinli_domain::assessment::CrisisReason;
use xinli_domain::consultation::{Consultation, Status};
use xinli_domain::page::PageRequest;
use xinli_domain::risk::{self, Alert, Level, Lexicon, Source};

use crate::dto::CrisisReasonCode;
use crate::error::{ApiError, ApiResult};
use crate::routes::hotlines::{HotlineView, crisis_views};
use crate::state::AppState;

/// Why and whom to call, shown before anything else when present.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"reason_code": "critical_item",
    "reason": "你的回答提示你最近可能有伤害自己或不想活下去的念头。你并不孤单……",
    "hotlines": [{"id": "0193a5d2-9e3f-7d8c-9b2a-4f6e3d0c1a23", "name": "上海市心理援助热线", "number": "962525",
        "dial_number": "962525", "region": "上海市", "audiences": ["general"], "description": "…", "crisis": true,
        "hours": {"kind": "always", "windows": [], "note": null}, "open_now": true, "next_change_at": null,
        "status_text": "24 小时服务", "sort_order": 10, "active": true}]}))]
pub struct CrisisView {
    /// `critical_item` (thoughts of self-harm), `severe_band` (top severity level) or
    /// `risk_words` (in a consultation: what the person wrote hit the risk lexicon).
    #[schema(value_type = CrisisReasonCode)]
    pub reason_code: String,
    /// Warm, direct text for the person.
    pub reason: String,
    /// Crisis hotlines, open ones first.
    pub hotlines: Vec<HotlineView>,
}

/// The crisis block: why, warmly, and the crisis hotlines (open ones first).
pub(crate) async fn crisis_view(state: &AppState, reason: CrisisReason) -> ApiResult<CrisisView> {
    Ok(CrisisView {
        reason_code: reason.as_str().into(),
        reason: reason.message().into(),
        hotlines: crisis_views(state).await?,
    })
}

/// The lexicon in force: what admins saved, or the built-in list (also when the stored one
/// cannot be read: a safety net must not fail with its storage).
pub(crate) async fn lexicon(state: &AppState) -> ApiResult<Lexicon> {
    match state.risk.lexicon().await {
        Ok(Some(stored)) => return Ok(stored.lexicon),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "risk lexicon unreadable; using the built-in list"),
    }
    crate::seed::builtin_lexicon()
        .map_err(|e| ApiError::internal(format!("built-in risk lexicon: {e}")))
}

/// Checks a person's own words in consultation `c` (its description, or the message `seq`).
/// On a hit: the request moves up (while waiting), an alert is raised, and the crisis block
/// for the person's answer is returned. The words are already stored: a failure to move the
/// request or raise the alert is logged (ids only) and the person still gets the crisis block.
pub(crate) async fn check_words(
    state: &AppState,
    c: &Consultation,
    text: &str,
    source: Source,
    seq: Option<i64>,
) -> ApiResult<Option<CrisisView>> {
    let Some(hit) = lexicon(state).await?.check(text) else {
        return Ok(None);
    };
    if let Err(e) = raise(state, c, hit.level, source, &hit.phrase, seq).await {
        tracing::error!(consultation_id = %c.id, level = hit.level.as_str(), error = %e, "risk alert could not be raised");
    }
    Ok(Some(crisis_view(state, CrisisReason::RiskWords).await?))
}

/// A critical assessment item by a person who is waiting or in a session raises an alert.
pub(crate) async fn check_assessment(
    state: &AppState,
    user: Uuid,
    scale_name: &str,
) -> ApiResult<()> {
    let open = state
        .consultations
        .list_of_user(
            user,
            PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .await?
        .items
        .into_iter()
        .find(|c| matches!(c.status, Status::Waiting | Status::Active));
    if let Some(c) = open {
        let matched = format!("{scale_name} 自伤相关题目");
        raise(
            state,
            &c,
            risk::ASSESSMENT_LEVEL,
            Source::Assessment,
            &matched,
            None,
        )
        .await?;
    }
    Ok(())
}

async fn raise(
    state: &AppState,
    c: &Consultation,
    level: Level,
    source: Source,
    matched: &str,
    seq: Option<i64>,
) -> ApiResult<risk::Effects> {
    let open = state.risk.open_of_consultation(c.id).await?;
    let effects = risk::on_hit(
        level,
        source,
        c.status == Status::Waiting,
        c.priority,
        &open,
    );
    if let Some((priority, reason)) = effects.priority
        && state
            .consultations
            .raise_priority(c.id, priority, reason)
            .await?
    {
        state.chat_signal.notify(c.id).await;
    }
    if let Some(level) = effects.alert {
        let now = state.clock.now();
        let on_duty = state.risk.on_duty_count().await?;
        let alert = Alert {
            id: Uuid::now_v7(),
            consultation_id: c.id,
            user_id: c.user_id,
            level,
            source,
            matched: matched.to_owned(),
            message_seq: seq,
            created_at: now,
            escalate_at: risk::escalate_at(now, state.config.alert_escalate_minutes, on_duty),
            acknowledged_at: None,
            acknowledged_by: None,
            note: None,
        };
        match state.risk.raise(&alert).await {
            Ok(()) => {}
            // Raised at the same instant by another request: one alert is enough.
            Err(xinli_domain::RepoError::Conflict(xinli_domain::Conflict::OpenAlert)) => {
                return Ok(effects);
            }
            Err(e) => return Err(e.into()),
        }
        // Never the text, nor the phrase: ids and the level only.
        tracing::warn!(
            alert_id = %alert.id,
            consultation_id = %c.id,
            level = level.as_str(),
            source = source.as_str(),
            supervisors_on_duty = on_duty,
            "risk alert raised"
        );
    }
    Ok(effects)
}
