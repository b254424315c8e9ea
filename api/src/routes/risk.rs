//! Risk supervision (#17): the supervisors' alerts and duty, the admins' figures. The check run
//! on what a person writes: `crate::crisis`; the lexicon admins edit: `routes::risk_lexicon`.
//! Rules: `xinli_domain::risk`.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::account::Role;
use xinli_domain::audit::{AuditAction, AuditEntry};
use xinli_domain::page::PageRequest;
use xinli_domain::period::DayRange;
use xinli_domain::risk::{self, Alert, Level, Source, StatusFilter};
use xinli_domain::schedule::china_date;

use crate::auth::{AdminCaller, SupervisorCaller};
use crate::dto::{ConsultationPriority, ConsultationStatus, ConsultationTopic, Paged, cst};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, Query, parse_id};
use crate::routes::admin_stats::StatsQuery;

use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_duty)
        .service(set_duty)
        .service(list_alerts)
        .service(get_alert)
        .service(acknowledge)
        .service(alert_stats);
}

/// A risk alert in the person's own export.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"consultation_id": "0193a5d5-2222-7abc-8def-0123456789ab", "level": "passive",
    "source": "message", "created_at": "2026-12-01T21:40:00+08:00", "acknowledged_at": "2026-12-01T21:42:00+08:00"}))]
pub struct ExportedAlert {
    pub consultation_id: String,
    #[schema(value_type = RiskLevelName)]
    pub level: String,
    #[schema(value_type = AlertSourceName)]
    pub source: String,
    pub created_at: DateTime<FixedOffset>,
    pub acknowledged_at: Option<DateTime<FixedOffset>>,
}

pub(crate) async fn export_of_user(state: &AppState, user: Uuid) -> ApiResult<Vec<ExportedAlert>> {
    Ok(state
        .risk
        .of_user(user)
        .await?
        .into_iter()
        .map(|a| ExportedAlert {
            consultation_id: a.consultation_id.to_string(),
            level: a.level.as_str().into(),
            source: a.source.as_str().into(),
            created_at: cst(a.created_at),
            acknowledged_at: a.acknowledged_at.map(cst),
        })
        .collect())
}

// ---------------------------------------------------------------- supervisors

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"on_duty": true}))]
pub struct DutyBody {
    /// On duty: every new alert is yours to see at once. Off duty: only escalated ones.
    pub on_duty: bool,
}

/// My duty
#[utoipa::path(
    operation_id = "supervisor_get_duty",
    tag = "supervision",
    security(("bearer" = [])),
    responses(
        (status = 200, body = DutyBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/supervisor/status")]
pub async fn get_duty(state: State, me: SupervisorCaller) -> ApiResult<HttpResponse> {
    let on_duty = state.risk.on_duty(me.account.id).await?;
    Ok(HttpResponse::Ok().json(DutyBody { on_duty }))
}

/// Go on or off duty
///
/// Alerts raised while no supervisor is on duty are escalated at once (every supervisor sees
/// them); so are the open ones when the last supervisor on duty leaves.
#[utoipa::path(
    operation_id = "supervisor_set_duty",
    tag = "supervision",
    security(("bearer" = [])),
    request_body = DutyBody,
    responses(
        (status = 200, body = DutyBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[put("/supervisor/status")]
pub async fn set_duty(
    state: State,
    me: SupervisorCaller,
    body: Json<DutyBody>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    state
        .risk
        .set_on_duty(me.account.id, body.0.on_duty, now)
        .await?;
    if !body.0.on_duty && risk::escalate_when_off_duty(state.risk.on_duty_count().await?) {
        let n = state.risk.escalate_open(now).await?;
        if n > 0 {
            tracing::warn!(
                alerts = n,
                "last supervisor off duty: open alerts escalated"
            );
        }
    }
    Ok(HttpResponse::Ok().json(DutyBody {
        on_duty: body.0.on_duty,
    }))
}

crate::dto::string_enum!(
    /// How serious a hit is: `intent` (explicit intent, a method or a plan), `passive` (a wish
    /// to be dead or to disappear), `distress` (cannot go on).
    RiskLevelName,
    Level::ALL.map(|l| l.as_str())
);
crate::dto::string_enum!(
    /// Where the words were: a request's `description`, a chat `message`, or an `assessment`
    /// with a critical item by a person in the queue or in a session.
    AlertSourceName,
    Source::ALL.map(|s| s.as_str())
);

/// The consultation an alert is about: metadata only.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "waiting", "priority": "urgent", "topic": "情绪困扰",
    "counselor_name": null, "created_at": "2026-12-01T21:40:00+08:00"}))]
pub struct AlertConsultation {
    #[schema(value_type = ConsultationStatus)]
    pub status: String,
    #[schema(value_type = ConsultationPriority)]
    pub priority: String,
    #[schema(value_type = ConsultationTopic)]
    pub topic: String,
    /// The counselor serving it, if any.
    pub counselor_name: Option<String>,
    pub created_at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d9-0000-7abc-8def-0123456789ab", "consultation_id": "0193a5d5-2222-7abc-8def-0123456789ab",
    "level": "intent", "level_label": "明确意图", "source": "description", "matched": "不想活了",
    "created_at": "2026-12-01T21:40:00+08:00", "escalate_at": "2026-12-01T21:45:00+08:00", "escalated": false,
    "acknowledged_at": null, "acknowledged_by": null, "note": null,
    "consultation": {"status": "waiting", "priority": "urgent", "topic": "情绪困扰", "counselor_name": null,
        "created_at": "2026-12-01T21:40:00+08:00"}
}))]
pub struct AlertView {
    pub id: String,
    pub consultation_id: String,
    #[schema(value_type = RiskLevelName)]
    pub level: String,
    pub level_label: String,
    #[schema(value_type = AlertSourceName)]
    pub source: String,
    /// The lexicon's phrase that matched (or the scale, for an assessment), never the
    /// person's wording: that is in the audited detail.
    pub matched: String,
    pub created_at: DateTime<FixedOffset>,
    /// When every supervisor sees it, unless acknowledged before.
    pub escalate_at: DateTime<FixedOffset>,
    pub escalated: bool,
    pub acknowledged_at: Option<DateTime<FixedOffset>>,
    /// The supervisor who acknowledged it (display name).
    pub acknowledged_by: Option<String>,
    pub note: Option<String>,
    /// `null` when the consultation no longer exists.
    pub consultation: Option<AlertConsultation>,
}

pub(crate) async fn staff_name(state: &AppState, id: Option<Uuid>) -> ApiResult<Option<String>> {
    Ok(match id {
        Some(id) => state.staff.find_by_id(id).await?.map(|s| s.display_name),
        None => None,
    })
}

async fn alert_view(state: &AppState, a: &Alert) -> ApiResult<AlertView> {
    let now = state.clock.now();
    let consultation = match state.consultations.find(a.consultation_id).await? {
        Some(c) => Some(AlertConsultation {
            status: c.status.as_str().into(),
            priority: c.priority.as_str().into(),
            topic: c.topic.clone(),
            counselor_name: staff_name(state, c.counselor_id).await?,
            created_at: cst(c.created_at),
        }),
        None => None,
    };
    Ok(AlertView {
        id: a.id.to_string(),
        consultation_id: a.consultation_id.to_string(),
        level: a.level.as_str().into(),
        level_label: a.level.label().into(),
        source: a.source.as_str().into(),
        matched: a.matched.clone(),
        created_at: cst(a.created_at),
        escalate_at: cst(a.escalate_at),
        escalated: a.escalated(now),
        acknowledged_at: a.acknowledged_at.map(cst),
        acknowledged_by: staff_name(state, a.acknowledged_by).await?,
        note: a.note.clone(),
        consultation,
    })
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatusFilter {
    Open,
    Acknowledged,
    All,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// Default `open`.
    #[param(inline)]
    pub status: Option<AlertStatusFilter>,
    #[param(minimum = 1, maximum = 10000, example = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub page_size: Option<u64>,
}

/// Risk alerts
///
/// Most serious first, then newest. On duty: every alert. Off duty: the escalated ones (not
/// acknowledged within `XINLI_ALERT_ESCALATE_MINUTES`, or raised while nobody was on duty) and
/// the acknowledged history. Each shows the lexicon's phrase, never the person's words.
/// Reading the list is audited once per supervisor and day.
#[utoipa::path(
    operation_id = "supervisor_list_alerts",
    tag = "supervision",
    security(("bearer" = [])),
    params(AlertQuery),
    responses(
        (status = 200, body = Paged<AlertView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/supervisor/alerts")]
pub async fn list_alerts(
    state: State,
    me: SupervisorCaller,
    query: Query<AlertQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = PageRequest::parse(q.page, q.page_size)?;
    let status = match q.status.unwrap_or(AlertStatusFilter::Open) {
        AlertStatusFilter::Open => StatusFilter::Open,
        AlertStatusFilter::Acknowledged => StatusFilter::Acknowledged,
        AlertStatusFilter::All => StatusFilter::All,
    };
    let on_duty = state.risk.on_duty(me.account.id).await?;
    let now = state.clock.now();
    let found = state
        .risk
        .list(status, (!on_duty).then_some(now), page)
        .await?;
    let mut items = Vec::with_capacity(found.items.len());
    for a in &found.items {
        items.push(alert_view(&state, a).await?);
    }
    state
        .audit
        .record(&AuditEntry::new(
            now,
            me.account.id,
            Role::Supervisor,
            AuditAction::ListRiskAlerts,
        ))
        .await?;
    Ok(HttpResponse::Ok().json(Paged {
        items,
        total: found.total,
        page: page.page,
        page_size: page.page_size,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"alert": {
    "id": "0193a5d9-0000-7abc-8def-0123456789ab", "consultation_id": "0193a5d5-2222-7abc-8def-0123456789ab",
    "level": "intent", "level_label": "明确意图", "source": "message", "matched": "不想活了",
    "created_at": "2026-12-01T21:40:00+08:00", "escalate_at": "2026-12-01T21:45:00+08:00", "escalated": false,
    "acknowledged_at": null, "acknowledged_by": null, "note": null, "consultation": null},
    "text": "……"}))]
pub struct AlertDetail {
    pub alert: AlertView,
    /// The words that raised it: the request's description or the message. `null` for an
    /// assessment, or when the words are gone (deleted account, retention).
    pub text: Option<String>,
}

async fn visible_alert(state: &AppState, me: &SupervisorCaller, id: &str) -> ApiResult<Alert> {
    let id = parse_id(id)?;
    let alert = state.risk.find(id).await?.ok_or_else(ApiError::not_found)?;
    let on_duty = state.risk.on_duty(me.account.id).await?;
    if !risk::visible(&alert, on_duty, state.clock.now()) {
        return Err(ApiError::not_found());
    }
    Ok(alert)
}

/// One alert, with the words that raised it
///
/// The read is audited (who, when, which consultation). Nothing else of the conversation is
/// shown: a supervisor reads more only when assigned to it.
#[utoipa::path(
    operation_id = "supervisor_get_alert",
    tag = "supervision",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Alert id")),
    responses(
        (status = 200, body = AlertDetail),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`; also an alert not escalated yet, for a supervisor off duty", body = ErrorBody),
    )
)]
#[get("/supervisor/alerts/{id}")]
pub async fn get_alert(
    state: State,
    me: SupervisorCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let alert = visible_alert(&state, &me, &id).await?;
    let c = state.consultations.find(alert.consultation_id).await?;
    let text = match (alert.source, &c) {
        (Source::Description, Some(c)) => Some(c.description.clone()).filter(|d| !d.is_empty()),
        (Source::Message, Some(c)) => match alert.message_seq {
            Some(seq) => state
                .chats
                .messages_after(c.id, seq - 1, 1)
                .await?
                .into_iter()
                .find(|m| m.seq == seq)
                .map(|m| m.text),
            None => None,
        },
        _ => None,
    };
    let mut entry = AuditEntry::new(
        state.clock.now(),
        me.account.id,
        Role::Supervisor,
        AuditAction::ReadRiskAlert,
    )
    .target(format!("alert:{}", alert.id));
    if let Some(c) = &c {
        entry = entry.consultation(c.id, c.user_id);
    }
    state.audit.record(&entry).await?;
    Ok(HttpResponse::Ok().json(AlertDetail {
        alert: alert_view(&state, &alert).await?,
        text,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "已电话联系，本人安全，咨询师已接入"}))]
pub struct AckBody {
    /// What was done, up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Acknowledge an alert
///
/// Once: a second supervisor gets `409 alert_acknowledged`; reading the alert again shows who
/// acknowledged it, when, and their note.
#[utoipa::path(
    operation_id = "supervisor_acknowledge_alert",
    tag = "supervision",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Alert id")),
    request_body = AckBody,
    responses(
        (status = 200, body = AlertView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`alert_acknowledged`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/supervisor/alerts/{id}/ack")]
pub async fn acknowledge(
    state: State,
    me: SupervisorCaller,
    id: web::Path<String>,
    body: Json<AckBody>,
) -> ApiResult<HttpResponse> {
    let note = risk::parse_note(body.0.note.as_deref())?;
    let alert = visible_alert(&state, &me, &id).await?;
    let done = state
        .risk
        .acknowledge(alert.id, me.account.id, note, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::AlertAcknowledged))?;
    tracing::info!(alert_id = %done.id, "risk alert acknowledged");
    Ok(HttpResponse::Ok().json(alert_view(&state, &done).await?))
}

// ---------------------------------------------------------------- admins

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"from": "2026-11-01", "to": "2026-11-30", "raised": 12,
    "by_level": {"intent": 3, "passive": 5, "distress": 4},
    "by_source": {"description": 4, "message": 7, "assessment": 1},
    "acknowledged": 11, "escalated": 2, "open": 1, "ack_minutes_median": 2.5, "ack_minutes_p90": 6.0}))]
pub struct AlertStats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub raised: u64,
    /// Alerts per level: `intent`, `passive`, `distress`.
    pub by_level: std::collections::BTreeMap<String, u64>,
    /// Alerts per source: `description`, `message`, `assessment`.
    pub by_source: std::collections::BTreeMap<String, u64>,
    pub acknowledged: u64,
    /// Not acknowledged within `XINLI_ALERT_ESCALATE_MINUTES` (or raised with nobody on duty).
    pub escalated: u64,
    pub open: u64,
    /// Minutes from an alert to its acknowledgement: median and 90th percentile.
    pub ack_minutes_median: Option<f64>,
    pub ack_minutes_p90: Option<f64>,
}

/// Risk alert figures
///
/// Counts and acknowledgement times of the alerts raised in the period: never a phrase, a
/// text or a person.
#[utoipa::path(
    operation_id = "admin_get_alert_stats",
    tag = "supervision",
    security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, body = AlertStats),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/alert-stats")]
pub async fn alert_stats(
    state: State,
    _admin: AdminCaller,
    query: Query<StatsQuery>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let range = DayRange::parse(query.0.from, query.0.to, china_date(now))?;
    let (begin, end) = range.instants();
    let alerts = state.risk.between(begin, end).await?;
    let f = risk::figures(&alerts, now);
    Ok(HttpResponse::Ok().json(AlertStats {
        from: range.from,
        to: range.to,
        raised: f.raised,
        by_level: f
            .by_level
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        by_source: f
            .by_source
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        acknowledged: f.acknowledged,
        escalated: f.escalated,
        open: f.open,
        ack_minutes_median: f.ack_minutes_median,
        ack_minutes_p90: f.ack_minutes_p90,
    }))
}
