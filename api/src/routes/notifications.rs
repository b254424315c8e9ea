//! Notifications: a person's subscribe-message grants, and the outbox figures for admins.
//! The rules are `xinli_domain::notification`'s; the sender is `crate::jobs::send_due`.

use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::notification::{Event, Status};
use xinli_domain::period::DayRange;
use xinli_domain::schedule::china_date;
use xinli_domain::validation::Collector;

use crate::auth::{AdminCaller, UserCaller};
use crate::dto::{cst, string_enum};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record_subscriptions).service(admin_figures);
}

string_enum!(
    /// What a subscribe message can be about: `consultation_ready` (a counselor claimed your
    /// request), `counselor_replied`, `booking_created`, `booking_reminder` (24 h before),
    /// `booking_changed` (waitlist promotion, station closure), `lecture_request_decided`.
    NotificationEventName,
    Event::ALL.map(|e| e.as_str())
);
string_enum!(
    /// An outbox row's state: `pending`, `sending` (claimed by a worker), `sent`, `refused`
    /// (the person refused or the grant was used, 43101), `failed` (WeChat refused for good,
    /// or retries ran out), `skipped` (no template or no grant).
    NotificationStatusName,
    Status::ALL.map(|s| s.as_str())
);

/// What `wx.requestSubscribeMessage` answered, per event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grants": [{"event": "booking_reminder", "accepted": true}, {"event": "consultation_ready", "accepted": false}]}))]
pub struct SubscriptionsBody {
    /// 1–20 entries.
    #[schema(min_items = 1, max_items = 20)]
    pub grants: Vec<GrantBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event": "booking_reminder", "accepted": true}))]
pub struct GrantBody {
    #[schema(value_type = NotificationEventName)]
    pub event: String,
    /// `accept` in WeChat's answer; a refused or banned one records nothing.
    pub accepted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"unused": [{"event": "booking_reminder", "count": 2}]}))]
pub struct SubscriptionsView {
    /// Grants not spent yet, per event (each allows one message; at most 20 are kept).
    pub unused: Vec<UnusedGrants>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"event": "booking_reminder", "count": 2}))]
pub struct UnusedGrants {
    #[schema(value_type = NotificationEventName)]
    pub event: String,
    pub count: u64,
}

/// Record subscribe-message grants
///
/// Send what `wx.requestSubscribeMessage` returned. Each accepted one-time grant allows one
/// message about that event; without a grant nothing is sent.
#[utoipa::path(
    operation_id = "record_subscriptions",
    tag = "auth",
    security(("bearer" = [])),
    request_body = SubscriptionsBody,
    responses(
        (status = 200, body = SubscriptionsView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`: unknown event, empty or too many entries", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody),
    )
)]
#[post("/me/subscriptions")]
pub async fn record_subscriptions(
    state: State,
    caller: UserCaller,
    body: Json<SubscriptionsBody>,
) -> ApiResult<HttpResponse> {
    let mut c = Collector::new();
    if body.0.grants.is_empty() || body.0.grants.len() > 20 {
        c.push("grants", "请提交 1 到 20 项订阅结果");
    }
    let mut accepted = vec![];
    for (i, g) in body.0.grants.iter().enumerate() {
        match Event::parse(&g.event) {
            Some(e) if g.accepted => accepted.push(e),
            Some(_) => {}
            None => c.push(format!("grants[{i}].event"), "未知的消息类型"),
        }
    }
    c.finish()?;
    crate::limits::hit(
        &state,
        "subscriptions",
        caller.id,
        state.config.limits.subscriptions_per_user,
    )
    .await?;
    let unused = state
        .notifications
        .record_grants(caller.id, &accepted, state.clock.now())
        .await?;
    Ok(HttpResponse::Ok().json(SubscriptionsView {
        unused: unused
            .into_iter()
            .map(|(e, count)| UnusedGrants {
                event: e.as_str().into(),
                count,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationFiguresQuery {
    /// First day the rows were written (China time), default 29 days before `to`.
    #[param(example = "2026-11-01")]
    pub from: Option<NaiveDate>,
    /// Last day (China time), default today.
    #[param(example = "2026-11-30")]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"from": "2026-11-01", "to": "2026-11-30", "configured": ["booking_reminder"],
    "items": [{"event": "booking_reminder", "date": "2026-11-20", "status": "sent", "count": 12}],
    "failures": [{"event": "booking_reminder", "errcode": 43101, "count": 2}],
    "generated_at": "2026-11-30T20:00:00+08:00"}))]
pub struct NotificationFigures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Events with a template (`XINLI_WECHAT_TEMPLATES`); the others send nothing.
    #[schema(value_type = Vec<NotificationEventName>)]
    pub configured: Vec<String>,
    /// Rows per event, day written and state.
    pub items: Vec<NotificationFigure>,
    /// Refused and failed rows per event and WeChat errcode.
    pub failures: Vec<NotificationFailure>,
    pub generated_at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"event": "booking_reminder", "date": "2026-11-20", "status": "sent", "count": 12}))]
pub struct NotificationFigure {
    #[schema(value_type = NotificationEventName)]
    pub event: String,
    pub date: NaiveDate,
    #[schema(value_type = NotificationStatusName)]
    pub status: String,
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"event": "booking_reminder", "errcode": 43101, "count": 2}))]
pub struct NotificationFailure {
    #[schema(value_type = NotificationEventName)]
    pub event: String,
    /// WeChat's errcode (43101 refused, 47003 bad data, 40003 bad openid; 0 network).
    pub errcode: i64,
    pub count: u64,
}

/// Outbox figures
///
/// Per event and day: pending, sent, refused, failed, skipped; and failures by errcode. No
/// message content, no person.
#[utoipa::path(
    operation_id = "admin_get_notification_figures",
    tag = "admin",
    security(("bearer" = [])),
    params(NotificationFiguresQuery),
    responses(
        (status = 200, body = NotificationFigures),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/notifications")]
pub async fn admin_figures(
    state: State,
    _admin: AdminCaller,
    query: Query<NotificationFiguresQuery>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let range = DayRange::parse(query.0.from, query.0.to, china_date(now))?;
    let (from, to) = range.instants();
    let (items, failures) = state.notifications.figures(from, to).await?;
    Ok(HttpResponse::Ok().json(NotificationFigures {
        from: range.from,
        to: range.to,
        configured: state
            .config
            .notifications
            .configured()
            .into_iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
        items: items
            .into_iter()
            .map(|f| NotificationFigure {
                event: f.event,
                date: f.date,
                status: f.status,
                count: f.count,
            })
            .collect(),
        failures: failures
            .into_iter()
            .map(|(event, errcode, count)| NotificationFailure {
                event,
                errcode,
                count,
            })
            .collect(),
        generated_at: cst(now),
    }))
}

/// A person's grants, for `GET /me/export`.
pub async fn export_of_user(state: &AppState, user: uuid::Uuid) -> ApiResult<Vec<ExportedGrant>> {
    Ok(state
        .notifications
        .grants_of(user)
        .await?
        .into_iter()
        .map(|(event, granted_at, used_at)| ExportedGrant {
            event,
            granted_at: cst(granted_at),
            used_at: used_at.map(cst),
        })
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"event": "booking_reminder", "granted_at": "2026-11-30T20:00:00+08:00", "used_at": null}))]
pub struct ExportedGrant {
    #[schema(value_type = NotificationEventName)]
    pub event: String,
    pub granted_at: DateTime<FixedOffset>,
    pub used_at: Option<DateTime<FixedOffset>>,
}
