//! Station management for admins: stations, closures, monthly figures, the printed code.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use xinli_domain::audit::AuditAction;
use xinli_domain::period::DayRange;
use xinli_domain::schedule::china_date;
use xinli_domain::station::{self as rules, BookingRules, Closure, StationFields, StationInput};

use crate::auth::AdminCaller;
use crate::dto::{Audience, ReadOnly};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Query, parse_id};
use crate::schedule::HoursBody;
use crate::state::{AppState, State};

use super::{StationView, stations_by_id};
use crate::wechat_code::{Png, mini_program_code};

/// What an admin sends to create or replace a station.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "湖南省脑科医院(湖南省第二人民医院)", "unit": "湖南省直机关工会",
    "address": "长沙市芙蓉中路三段 427 号 湖南省脑科医院(湖南省第二人民医院) 门诊楼 222 室",
    "region": "长沙市", "phone": null, "audiences": ["worker"],
    "hours": {"kind": "weekly", "windows": [{"day": "mon", "start": "09:00", "end": "12:00"},
        {"day": "wed", "start": "14:30", "end": "17:30"}, {"day": "thu", "start": "14:30", "end": "17:30"}]},
    "note": "提前一周网上预约", "slot_minutes": 50, "break_minutes": 10, "seats": 1,
    "booking_window_days": 7, "min_notice_hours": 2, "cancel_hours": 2, "counselor_ids": [], "active": true
}))]
pub struct StationRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// The organisation that runs the station, 1–64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub unit: String,
    /// Up to 200 characters; `null` when not published.
    #[schema(max_length = 200)]
    pub address: Option<String>,
    #[schema(min_length = 1, max_length = 32)]
    pub region: String,
    #[schema(max_length = 20, pattern = "^[0-9]+(-[0-9]+)*$")]
    pub phone: Option<String>,
    #[schema(min_items = 1)]
    pub audiences: Vec<Audience>,
    /// `weekly` (windows within one day) or `unknown` (listed, not bookable).
    pub hours: HoursBody,
    #[schema(max_length = 300)]
    pub note: Option<String>,
    /// Minutes per session, 15–240.
    #[schema(minimum = 15, maximum = 240)]
    pub slot_minutes: u16,
    /// Minutes between sessions, 0–120.
    #[schema(minimum = 0, maximum = 120)]
    pub break_minutes: u16,
    /// People per session (counselors on duty), 1–50; set explicitly.
    #[schema(minimum = 1, maximum = 50)]
    pub seats: u16,
    /// Days ahead that open for booking, 1–60 (default 7).
    #[serde(default = "default_window")]
    #[schema(minimum = 1, maximum = 60)]
    pub booking_window_days: u16,
    /// Hours of notice, 0–168 (default 2).
    #[serde(default = "default_hours")]
    #[schema(minimum = 0, maximum = 168)]
    pub min_notice_hours: u16,
    /// Cancel until this many hours before the start, 0–168 (default 2).
    #[serde(default = "default_hours")]
    #[schema(minimum = 0, maximum = 168)]
    pub cancel_hours: u16,
    /// Counselor accounts on duty here (they see the day sheet and mark attendance).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub counselor_ids: Vec<String>,
    #[serde(default = "default_true")]
    pub active: bool,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub id: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<bool>, read_only)]
    pub bookable: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub next_open_at: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub status_text: ReadOnly,
}

fn default_window() -> u16 {
    7
}

fn default_hours() -> u16 {
    2
}

fn default_true() -> bool {
    true
}

impl StationRequest {
    /// Validates the fields, and that every `counselor_ids` entry is an enabled counselor.
    pub async fn parse_input(&self, state: &AppState) -> ApiResult<StationInput> {
        let mut ids = vec![];
        let mut c = xinli_domain::validation::Collector::new();
        for (i, raw) in self.counselor_ids.iter().enumerate() {
            let field = format!("counselor_ids[{i}]");
            match Uuid::parse_str(raw) {
                Ok(id) => match state.staff.find_by_id(id).await? {
                    Some(s) if s.is_enabled_counselor() => ids.push(id),
                    _ => c.push(field, "不是有效的咨询师账号"),
                },
                Err(_) => c.push(field, "不是有效的咨询师账号"),
            }
        }
        let input = StationInput::parse(StationFields {
            name: &self.name,
            unit: &self.unit,
            address: self.address.as_deref(),
            region: &self.region,
            phone: self.phone.as_deref(),
            audiences: self.audiences.iter().map(|a| (*a).into()).collect(),
            hours: self.hours.parse(),
            note: self.note.as_deref().or(self.hours.note.as_deref()),
            rules: BookingRules {
                slot_minutes: self.slot_minutes,
                break_minutes: self.break_minutes,
                seats: self.seats,
                booking_window_days: self.booking_window_days,
                min_notice_hours: self.min_notice_hours,
                cancel_hours: self.cancel_hours,
            },
            counselor_ids: ids,
            active: self.active,
        });
        match (input, c.finish()) {
            (Ok(input), Ok(())) => Ok(input),
            (Err(mut e), Err(more)) => {
                e.0.extend(more.0);
                Err(e.into())
            }
            (Err(e), Ok(())) | (Ok(_), Err(e)) => Err(e.into()),
        }
    }
}

/// Records an admin's change of a station in the audit trail.
async fn station_changed(
    state: &AppState,
    admin: Uuid,
    station: Uuid,
    verb: &str,
) -> ApiResult<()> {
    crate::routes::admin_audit::record_admin_change(
        state,
        admin,
        AuditAction::ChangeStation,
        format!("station:{station}:{verb}"),
    )
    .await
}

/// All stations, including inactive ones
#[utoipa::path(
    operation_id = "admin_list_stations",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<StationView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
#[get("/admin/stations")]
pub async fn admin_list(state: State, _admin: AdminCaller) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let all = state.stations.list(false).await?;
    Ok(HttpResponse::Ok().json(
        all.iter()
            .map(|s| StationView::new(s, now, true))
            .collect::<Vec<_>>(),
    ))
}

/// Add a station
#[utoipa::path(
    operation_id = "admin_create_station",
    tag = "admin",
    security(("bearer" = [])),
    request_body = StationRequest,
    responses(
        (status = 201, body = StationView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`, with a detail per field", body = ErrorBody),
    )
)]
#[post("/admin/stations")]
pub async fn admin_create(
    state: State,
    admin: AdminCaller,
    body: Json<StationRequest>,
) -> ApiResult<HttpResponse> {
    let input = body.0.parse_input(&state).await?;
    let created = state.stations.create(input, state.clock.now()).await?;
    station_changed(&state, admin.account.id, created.id, "create").await?;
    tracing::info!(admin_id = %admin.account.id, station_id = %created.id, "station created");
    Ok(HttpResponse::Created().json(StationView::new(&created, state.clock.now(), true)))
}

/// Replace a station
///
/// Existing bookings stay. Seats added go at once to the people waiting for future sessions.
#[utoipa::path(
    operation_id = "admin_update_station",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Station id")),
    request_body = StationRequest,
    responses(
        (status = 200, body = StationView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[put("/admin/stations/{id}")]
pub async fn admin_update(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
    body: Json<StationRequest>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let input = body.0.parse_input(&state).await?;
    let updated = state
        .stations
        .update(id, input, state.clock.now(), &state.config.booking)
        .await?
        .ok_or_else(ApiError::not_found)?;
    station_changed(&state, admin.account.id, id, "update").await?;
    tracing::info!(admin_id = %admin.account.id, station_id = %id, "station updated");
    Ok(HttpResponse::Ok().json(StationView::new(&updated, state.clock.now(), true)))
}

/// Delete a station
///
/// Hidden everywhere; its future bookings are cancelled (each person gets a
/// `booking_changed` notification); past bookings stay in the figures.
#[utoipa::path(
    operation_id = "admin_delete_station",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Station id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[delete("/admin/stations/{id}")]
pub async fn admin_delete(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    if !state.stations.delete(id, state.clock.now()).await? {
        return Err(ApiError::not_found());
    }
    station_changed(&state, admin.account.id, id, "delete").await?;
    tracing::info!(admin_id = %admin.account.id, station_id = %id, "station deleted");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"date": "2026-12-09", "reason": "院内培训，暂停一次"}))]
pub struct ClosureBody {
    /// China date.
    pub date: NaiveDate,
    /// 1–100 characters, shown to people whose booking is cancelled.
    #[schema(min_length = 1, max_length = 100)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"date": "2026-12-09", "reason": "院内培训，暂停一次", "cancelled_bookings": 2}))]
pub struct ClosureView {
    pub date: NaiveDate,
    pub reason: String,
    /// Bookings of that day cancelled by this closure (on creation only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_bookings: Option<u64>,
}

/// Closure dates of a station
///
/// From today on.
#[utoipa::path(
    operation_id = "admin_list_station_closures",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Station id")),
    responses(
        (status = 200, body = Vec<ClosureView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/admin/stations/{id}/closures")]
pub async fn admin_list_closures(
    state: State,
    _admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    state
        .stations
        .find(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let today = china_date(state.clock.now());
    let closures = state
        .stations
        .closures(id, today, today + Duration::days(3660))
        .await?;
    Ok(HttpResponse::Ok().json(
        closures
            .into_iter()
            .map(|c| ClosureView {
                date: c.date,
                reason: c.reason,
                cancelled_bookings: None,
            })
            .collect::<Vec<_>>(),
    ))
}

/// Close a station for a day
///
/// The day's bookings are cancelled in the same transaction, each person gets a
/// `booking_changed` notification and loses the reminder; the day's waitlist closes. Posting
/// the same date again replaces the reason.
#[utoipa::path(
    operation_id = "admin_add_station_closure",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Station id")),
    request_body = ClosureBody,
    responses(
        (status = 201, body = ClosureView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`validation_failed`: a past date, or no reason", body = ErrorBody),
    )
)]
#[post("/admin/stations/{id}/closures")]
pub async fn admin_add_closure(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
    body: Json<ClosureBody>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let reason = rules::parse_closure_reason(&body.0.reason)?;
    if body.0.date < china_date(now) {
        return Err(ApiError::field("date", "不能为过去的日期设置停诊"));
    }
    let cancelled = state
        .stations
        .add_closure(
            id,
            Closure {
                date: body.0.date,
                reason: reason.clone(),
            },
            now,
        )
        .await?
        .ok_or_else(ApiError::not_found)?;
    crate::routes::admin_audit::record_admin_change(
        &state,
        admin.account.id,
        AuditAction::ChangeStationClosure,
        format!("station:{id}:{}:add", body.0.date),
    )
    .await?;
    tracing::info!(admin_id = %admin.account.id, station_id = %id, cancelled, "station closure added");
    Ok(HttpResponse::Created().json(ClosureView {
        date: body.0.date,
        reason,
        cancelled_bookings: Some(cancelled),
    }))
}

/// Remove a closure
///
/// The day opens for booking again; bookings cancelled by the closure stay cancelled.
#[utoipa::path(
    operation_id = "admin_remove_station_closure",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Station id"),
        ("date" = String, Path, description = "China date, YYYY-MM-DD", example = "2026-12-09"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[delete("/admin/stations/{id}/closures/{date}")]
pub async fn admin_remove_closure(
    state: State,
    admin: AdminCaller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, date) = path.into_inner();
    let id = parse_id(&id)?;
    let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| ApiError::not_found())?;
    if !state.stations.remove_closure(id, date).await? {
        return Err(ApiError::not_found());
    }
    crate::routes::admin_audit::record_admin_change(
        &state,
        admin.account.id,
        AuditAction::ChangeStationClosure,
        format!("station:{id}:{date}:remove"),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StationStatsQuery {
    /// First day of sessions (China time), default 29 days before `to`.
    #[param(example = "2026-11-01")]
    pub from: Option<NaiveDate>,
    /// Last day (China time), default today.
    #[param(example = "2026-11-30")]
    pub to: Option<NaiveDate>,
    /// One station only.
    pub station_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"station_id": "0193a5d2-9e3f-7d8c-9b2a-4f6e3d0c1a23", "station_name": "湖南省脑科医院(湖南省第二人民医院)",
    "month": "2026-11", "bookings": 24, "attended": 19, "no_shows": 2, "cancelled": 3, "unmarked": 0,
    "ratings": 12, "average_rating": 4.75}))]
pub struct StationMonthView {
    pub station_id: String,
    pub station_name: String,
    /// `YYYY-MM`, by the session's date.
    pub month: String,
    /// All bookings for sessions in the period and month, cancelled ones included; `null`
    /// from 1 to 4. The four parts below are `null` where one of them is about fewer than 5
    /// people or could be computed back (`domain::disclosure`).
    pub bookings: Option<u64>,
    pub attended: Option<u64>,
    pub no_shows: Option<u64>,
    pub cancelled: Option<u64>,
    /// Booked, attendance not marked.
    pub unmarked: Option<u64>,
    /// `null` from 1 to 4.
    pub ratings: Option<u64>,
    /// Mean rating (1–5), two decimals; `null` under 5 ratings.
    pub average_rating: Option<f64>,
}

/// Bookings per station and month
///
/// Counts only: who booked is never shown. Counts about fewer than 5 people are `null`.
#[utoipa::path(
    operation_id = "admin_get_station_stats",
    tag = "admin",
    security(("bearer" = [])),
    params(StationStatsQuery),
    responses(
        (status = 200, body = Vec<StationMonthView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/station-stats")]
pub async fn admin_stats(
    state: State,
    _admin: AdminCaller,
    query: Query<StationStatsQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let range = DayRange::parse(q.from, q.to, china_date(state.clock.now()))?;
    let station = match q.station_id.as_deref() {
        Some(raw) => {
            Some(Uuid::parse_str(raw).map_err(|_| ApiError::field("station_id", "站点不存在"))?)
        }
        None => None,
    };
    let (from, to) = range.instants();
    let facts = state.bookings.facts(from, to, station).await?;
    let stations = stations_by_id(&state).await?;
    let items: Vec<StationMonthView> = rules::month_figures(&facts)
        .into_iter()
        .map(|m| m.for_admin())
        .map(|m| StationMonthView {
            station_name: stations
                .get(&m.station_id)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            station_id: m.station_id.to_string(),
            month: m.month,
            bookings: m.bookings,
            attended: m.attended,
            no_shows: m.no_shows,
            cancelled: m.cancelled,
            unmarked: m.unmarked,
            ratings: m.ratings,
            average_rating: m.average_rating,
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// The station's mini-program code
///
/// A PNG of a mini-program code (WeChat `wxa/getwxacodeunlimit`) that opens the station's
/// booking page (`XINLI_WECHAT_STATION_PAGE`) with the station id as `scene` (32 hex
/// digits), to print and hang at the station ("扫描二维码预约"). Kept for a
/// day. The access token comes from the one holder all instances share.
#[utoipa::path(
    operation_id = "admin_get_station_qrcode",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Station id")),
    responses(
        (status = 200, description = "The code", content_type = "image/png", body = Png),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 502, description = "`wechat_failed`: WeChat refused (logged with its errcode)", body = ErrorBody),
        (status = 503, description = "`wechat_not_configured`, `wechat_busy`, `wechat_unavailable`", body = ErrorBody),
    )
)]
#[get("/admin/stations/{id}/qrcode")]
pub async fn admin_qrcode(
    state: State,
    _admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let station = state
        .stations
        .find(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let scene = station.id.simple().to_string();
    mini_program_code(&state, &scene, &state.config.wechat_station_page, "station").await
}
