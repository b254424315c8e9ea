//! 站点预约: the public station list and slots, a person's bookings and waitlist entries, the
//! day sheet and attendance for staff, and station management for admins. Every rule is in
//! `xinli_domain::station`; these handlers authenticate, call it and shape the answers.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::account::StaffRole;
use xinli_domain::audit::{AuditAction, AuditEntry};
use xinli_domain::page::{PageRequest, all_pages};
use xinli_domain::period::DayRange;
use xinli_domain::schedule::{self, china_date};
use xinli_domain::station::{
    self as rules, Booking, BookingDetails, BookingRequest, BookingRules, Closure, Station,
    StationFields, StationInput, WaitEntry,
};

use crate::auth::{AdminCaller, StaffCaller, UserCaller};
use crate::dto::{Audience, Paged, ReadOnly, cst, string_enum};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, PageParams, Query, parse_id};
use crate::schedule::{HoursBody, HoursView};
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_stations)
        .service(get_station)
        .service(list_slots)
        .service(create_booking)
        .service(join_waitlist)
        .service(leave_waitlist)
        .service(my_bookings)
        .service(my_waitlist)
        .service(cancel_booking)
        .service(rate_booking)
        .service(day_sheet)
        .service(mark_attendance)
        .service(admin_list)
        .service(admin_create)
        .service(admin_update)
        .service(admin_delete)
        .service(admin_list_closures)
        .service(admin_add_closure)
        .service(admin_remove_closure)
        .service(admin_stats)
        .service(admin_qrcode);
}

string_enum!(
    /// A booking's state: `booked` → `attended` | `no_show` (marked by staff from the session's
    /// start, correctable), or `cancelled`.
    BookingStatusName,
    rules::BookingStatus::ALL.map(|s| s.as_str())
);
string_enum!(
    /// Why a booking was cancelled: by its person (`user`), by the station (`closure`), or
    /// because the person deleted their account (`account_deleted`).
    CancelReasonName,
    [
        rules::CancelReason::User,
        rules::CancelReason::Closure,
        rules::CancelReason::AccountDeleted
    ]
    .map(|r| r.as_str())
);
string_enum!(
    /// A waitlist entry's state: `waiting`, `promoted` (a seat freed and was booked for you),
    /// `left`.
    WaitStatusName,
    [
        rules::WaitStatus::Waiting,
        rules::WaitStatus::Promoted,
        rules::WaitStatus::Left
    ]
    .map(|w| w.as_str())
);

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
                    Some(s) if s.role == StaffRole::Counselor && !s.disabled => ids.push(id),
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

/// A station as the mini-program shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d2-9e3f-7d8c-9b2a-4f6e3d0c1a23", "name": "湖南省脑科医院(湖南省第二人民医院)",
    "unit": "湖南省直机关工会", "address": "长沙市芙蓉中路三段 427 号 湖南省脑科医院(湖南省第二人民医院) 门诊楼 222 室",
    "region": "长沙市", "phone": null, "audiences": ["worker"],
    "hours": {"kind": "weekly", "windows": [{"day": "mon", "start": "09:00", "end": "12:00"}], "note": null},
    "bookable": true, "note": "提前一周网上预约", "next_open_at": "2026-12-07T09:00:00+08:00",
    "status_text": "暂未开放，周一 09:00 开始服务", "slot_minutes": 50, "break_minutes": 10, "seats": 1,
    "booking_window_days": 7, "min_notice_hours": 2, "cancel_hours": 2, "active": true
}))]
pub struct StationView {
    pub id: String,
    pub name: String,
    pub unit: String,
    /// `null` when not published.
    pub address: Option<String>,
    pub region: String,
    pub phone: Option<String>,
    pub audiences: Vec<Audience>,
    pub hours: HoursView,
    /// Active with published weekly hours: slots can be booked online.
    pub bookable: bool,
    pub note: Option<String>,
    /// The next opening (China time); `null` when open now or the hours are unknown.
    pub next_open_at: Option<DateTime<FixedOffset>>,
    /// One sentence for the screen.
    pub status_text: String,
    pub slot_minutes: u16,
    pub break_minutes: u16,
    pub seats: u16,
    pub booking_window_days: u16,
    pub min_notice_hours: u16,
    pub cancel_hours: u16,
    pub active: bool,
    /// Admin views only: the counselors on duty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counselor_ids: Option<Vec<String>>,
}

impl StationView {
    pub(crate) fn new(s: &Station, now: DateTime<Utc>, admin: bool) -> Self {
        let status = s.hours.status_at(now);
        Self {
            id: s.id.to_string(),
            name: s.name.clone(),
            unit: s.unit.clone(),
            address: s.address.clone(),
            region: s.region.clone(),
            phone: s.phone.clone(),
            audiences: s.audiences.iter().map(|a| (*a).into()).collect(),
            hours: HoursView::new(&s.hours, None),
            bookable: s.bookable(),
            note: s.note.clone(),
            next_open_at: match status.open {
                Some(false) => status.next_change.map(cst),
                _ => None,
            },
            status_text: schedule::describe(status, now),
            slot_minutes: s.rules.slot_minutes,
            break_minutes: s.rules.break_minutes,
            seats: s.rules.seats,
            booking_window_days: s.rules.booking_window_days,
            min_notice_hours: s.rules.min_notice_hours,
            cancel_hours: s.rules.cancel_hours,
            active: s.active,
            counselor_ids: admin.then(|| s.counselor_ids.iter().map(Uuid::to_string).collect()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StationListQuery {
    /// Stations of this region.
    #[param(example = "长沙市")]
    pub region: Option<String>,
    /// Stations serving this group (stations for everyone, `general`, included).
    pub audience: Option<Audience>,
    #[param(minimum = 1, maximum = 10000, example = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub page_size: Option<u64>,
}

/// Counseling stations
///
/// Active stations in the order the organiser published them. A station whose hours are not
/// published (seed 002: 长沙市一中 "开放时间待定") is listed with `bookable: false`.
#[utoipa::path(
    operation_id = "list_stations",
    tag = "stations",
    params(StationListQuery),
    responses(
        (status = 200, body = Paged<StationView>),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/stations")]
pub async fn list_stations(
    state: State,
    query: Query<StationListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = PageRequest::parse(q.page, q.page_size)?;
    let region = q
        .region
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let audience = q.audience.map(xinli_domain::account::AudienceGroup::from);
    let now = state.clock.now();
    let all: Vec<Station> = state
        .stations
        .list(true)
        .await?
        .into_iter()
        .filter(|s| region.as_deref().is_none_or(|r| s.region == r))
        .filter(|s| {
            audience.is_none_or(|a| {
                s.audiences.contains(&a)
                    || s.audiences
                        .contains(&xinli_domain::account::AudienceGroup::General)
            })
        })
        .collect();
    let total = all.len() as u64;
    let items = all
        .iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(page.page_size).unwrap_or(usize::MAX))
        .map(|s| StationView::new(s, now, false))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache"))
        .json(Paged {
            items,
            total,
            page: page.page,
            page_size: page.page_size,
        }))
}

async fn active_station(state: &AppState, id: &str) -> ApiResult<Station> {
    let id = parse_id(id)?;
    state
        .stations
        .find(id)
        .await?
        .filter(|s| s.active)
        .ok_or_else(ApiError::not_found)
}

/// One station
#[utoipa::path(
    operation_id = "get_station",
    tag = "stations",
    params(("id" = String, Path, description = "Station id")),
    responses(
        (status = 200, body = StationView),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
#[get("/stations/{id}")]
pub async fn get_station(state: State, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let station = active_station(&state, &id).await?;
    Ok(HttpResponse::Ok().json(StationView::new(&station, state.clock.now(), false)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SlotsQuery {
    /// First date (China time), default today.
    #[param(example = "2026-12-07")]
    pub from: Option<NaiveDate>,
    /// Last date (China time), default the end of the booking window; at most 62 days after
    /// `from`.
    #[param(example = "2026-12-13")]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"start_at": "2026-12-07T09:00:00+08:00", "end_at": "2026-12-07T09:50:00+08:00",
    "seats": 1, "remaining": 0, "bookable": false}))]
pub struct SlotView {
    /// Send this back to book.
    pub start_at: DateTime<FixedOffset>,
    pub end_at: DateTime<FixedOffset>,
    pub seats: u16,
    pub remaining: u16,
    /// A seat is free: book it. Otherwise the waitlist is open.
    pub bookable: bool,
}

/// Bookable sessions of a station
///
/// Sessions from the station's weekly windows, session length and break, without closure
/// dates, inside the booking window (by default a week ahead) and after the minimum notice.
/// Empty for a station that is not bookable.
#[utoipa::path(
    operation_id = "list_station_slots",
    tag = "stations",
    params(("id" = String, Path, description = "Station id"), SlotsQuery),
    responses(
        (status = 200, body = Vec<SlotView>),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `from` after `to`, or too long a range", body = ErrorBody),
    )
)]
#[get("/stations/{id}/slots")]
pub async fn list_slots(
    state: State,
    id: web::Path<String>,
    query: Query<SlotsQuery>,
) -> ApiResult<HttpResponse> {
    let station = active_station(&state, &id).await?;
    let now = state.clock.now();
    let today = china_date(now);
    let from = query.0.from.unwrap_or(today);
    let to = query
        .0
        .to
        .unwrap_or_else(|| rules::booking_window(&station.rules, now).1.max(from));
    if from > to {
        return Err(ApiError::field("from", "开始日期不能晚于结束日期"));
    }
    if (to - from).num_days() > rules::MAX_SLOT_DAYS {
        return Err(ApiError::field(
            "to",
            format!("一次最多查询 {} 天", rules::MAX_SLOT_DAYS),
        ));
    }
    let closed: HashSet<NaiveDate> = state
        .stations
        .closures(station.id, from, to)
        .await?
        .into_iter()
        .map(|c| c.date)
        .collect();
    let slots = rules::offered_slots(&station, &closed, from, to, now);
    let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
        return Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-cache"))
            .json(Vec::<SlotView>::new()));
    };
    let taken: HashMap<DateTime<Utc>, u16> = state
        .bookings
        .taken(station.id, first.start, last.end)
        .await?
        .into_iter()
        .collect();
    let seats = station.rules.seats;
    let items: Vec<SlotView> = slots
        .iter()
        .map(|s| {
            let remaining = rules::remaining(
                seats,
                usize::from(taken.get(&s.start).copied().unwrap_or(0)),
            );
            SlotView {
                start_at: cst(s.start),
                end_at: cst(s.end),
                seats,
                remaining,
                bookable: remaining > 0,
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache"))
        .json(items))
}

/// A person's booking.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"start_at": "2026-12-07T09:00:00+08:00", "name": "林女士", "phone": "13800000000", "note": "第一次咨询"}))]
pub struct BookingBody {
    /// A `start_at` from the slots list.
    pub start_at: DateTime<FixedOffset>,
    /// How you want to be called at the station, up to 32 characters.
    #[schema(max_length = 32)]
    pub name: Option<String>,
    /// For the station to reach you, 5–20 digits (hyphens allowed).
    #[schema(min_length = 5, max_length = 20, pattern = "^[0-9][0-9-]*$")]
    pub phone: Option<String>,
    /// Up to 200 characters; the counselor on duty reads it.
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d6-4444-7abc-8def-0123456789ab", "station_id": "0193a5d2-9e3f-7d8c-9b2a-4f6e3d0c1a23",
    "station_name": "湖南省脑科医院(湖南省第二人民医院)", "station_address": "长沙市芙蓉中路三段 427 号 门诊楼 222 室",
    "start_at": "2026-12-07T09:00:00+08:00", "end_at": "2026-12-07T09:50:00+08:00", "status": "booked",
    "cancel_until": "2026-12-07T07:00:00+08:00", "cancel_reason": null, "promoted": false,
    "name": "林女士", "phone": "13800000000", "note": "第一次咨询", "rating": null, "rating_comment": null,
    "created_at": "2026-11-30T20:00:00+08:00"
}))]
pub struct BookingView {
    pub id: String,
    pub station_id: String,
    pub station_name: String,
    pub station_address: Option<String>,
    pub start_at: DateTime<FixedOffset>,
    pub end_at: DateTime<FixedOffset>,
    #[schema(value_type = BookingStatusName)]
    pub status: String,
    /// Until when the booking can be cancelled online.
    pub cancel_until: DateTime<FixedOffset>,
    #[schema(value_type = Option<CancelReasonName>)]
    pub cancel_reason: Option<String>,
    /// Booked from the waitlist when a seat freed.
    pub promoted: bool,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub note: Option<String>,
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
    pub created_at: DateTime<FixedOffset>,
}

fn booking_view(b: &Booking, station: Option<&Station>) -> BookingView {
    let cancel_hours = station.map(|s| s.rules.cancel_hours).unwrap_or_default();
    BookingView {
        id: b.id.to_string(),
        station_id: b.station_id.to_string(),
        station_name: station.map(|s| s.name.clone()).unwrap_or_default(),
        station_address: station.and_then(|s| s.address.clone()),
        start_at: cst(b.start_at),
        end_at: cst(b.end_at),
        status: b.status.as_str().into(),
        cancel_until: cst(b.start_at - Duration::hours(i64::from(cancel_hours))),
        cancel_reason: b.cancel_reason.map(|r| r.as_str().into()),
        promoted: b.promoted_at.is_some(),
        name: b.name.clone(),
        phone: b.phone.clone(),
        note: b.note.clone(),
        rating: b.rating,
        rating_comment: b.rating_comment.clone(),
        created_at: cst(b.created_at),
    }
}

/// Stations by id, deleted ones included as unknown (their bookings still show).
async fn stations_by_id(state: &AppState) -> ApiResult<HashMap<Uuid, Station>> {
    Ok(state
        .stations
        .list(false)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect())
}

async fn booking_limit(state: &AppState, user: Uuid) -> ApiResult<()> {
    crate::limits::hit(
        state,
        "booking",
        user,
        state.config.limits.bookings_per_user,
    )
    .await
}

/// Book a session
///
/// One transaction decides: the session must exist and be inside the booking window; you may
/// hold one booking a day and 3 upcoming ones; after 3 no-shows in 90 days booking pauses for
/// 30 days (`until`). Concurrent requests for the last seat give exactly one booking; the
/// others get `slot_full` and may join the waitlist.
#[utoipa::path(
    operation_id = "create_booking",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Station id")),
    request_body = BookingBody,
    responses(
        (status = 201, body = BookingView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`: unknown station", body = ErrorBody),
        (status = 409, description = "`slot_full`, `booking_limit`, `booking_paused` (with `until`), `station_closed`, `station_not_bookable`", body = ErrorBody),
        (status = 422, description = "`slot_not_found`, `outside_booking_window`, `validation_failed`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody),
    )
)]
#[post("/stations/{id}/bookings")]
pub async fn create_booking(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
    body: Json<BookingBody>,
) -> ApiResult<HttpResponse> {
    let station = active_station(&state, &id).await?;
    let details = BookingDetails::parse(
        body.0.name.as_deref(),
        body.0.phone.as_deref(),
        body.0.note.as_deref(),
    )?;
    booking_limit(&state, caller.id).await?;
    let booking = state
        .bookings
        .book(
            BookingRequest {
                station_id: station.id,
                user_id: caller.id,
                start_at: body.0.start_at.with_timezone(&Utc),
                details,
            },
            state.clock.now(),
            &state.config.booking,
        )
        .await?;
    tracing::info!(booking_id = %booking.id, station_id = %station.id, "booking created");
    Ok(HttpResponse::Created().json(booking_view(&booking, Some(&station))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"start_at": "2026-12-07T09:00:00+08:00"}))]
pub struct WaitlistBody {
    /// A full session's `start_at`.
    pub start_at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d6-5555-7abc-8def-0123456789ab", "station_id": "0193a5d2-9e3f-7d8c-9b2a-4f6e3d0c1a23",
    "start_at": "2026-12-07T09:00:00+08:00", "status": "waiting", "position": 1, "booking_id": null,
    "created_at": "2026-11-30T20:00:00+08:00"}))]
pub struct WaitEntryView {
    pub id: String,
    pub station_id: String,
    pub start_at: DateTime<FixedOffset>,
    #[schema(value_type = WaitStatusName)]
    pub status: String,
    /// 1 = next in line; `null` unless waiting.
    pub position: Option<u32>,
    /// The booking made for you when `promoted`.
    pub booking_id: Option<String>,
    pub created_at: DateTime<FixedOffset>,
}

impl From<&WaitEntry> for WaitEntryView {
    fn from(w: &WaitEntry) -> Self {
        Self {
            id: w.id.to_string(),
            station_id: w.station_id.to_string(),
            start_at: cst(w.start_at),
            status: w.status.as_str().into(),
            position: w.position,
            booking_id: w.booking_id.map(|b| b.to_string()),
            created_at: cst(w.created_at),
        }
    }
}

/// Join the waitlist of a full session
///
/// When a seat frees (a cancellation, an added seat), the first person in line whom the
/// booking rules allow gets the booking automatically, in the same transaction
/// (`status: "promoted"`, with `booking_id`), and a `booking_changed` notification.
#[utoipa::path(
    operation_id = "join_station_waitlist",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Station id")),
    request_body = WaitlistBody,
    responses(
        (status = 201, body = WaitEntryView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`slot_available` (book instead), `already_waiting`, `waitlist_limit` (waiting for 3 future sessions already), `booking_paused`, `station_closed`, `station_not_bookable`", body = ErrorBody),
        (status = 422, description = "`slot_not_found`, `outside_booking_window`", body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
#[post("/stations/{id}/waitlist")]
pub async fn join_waitlist(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
    body: Json<WaitlistBody>,
) -> ApiResult<HttpResponse> {
    let station = active_station(&state, &id).await?;
    booking_limit(&state, caller.id).await?;
    let entry = state
        .bookings
        .join_waitlist(
            station.id,
            caller.id,
            body.0.start_at.with_timezone(&Utc),
            state.clock.now(),
            &state.config.booking,
        )
        .await?;
    Ok(HttpResponse::Created().json(WaitEntryView::from(&entry)))
}

/// Leave a waitlist
#[utoipa::path(
    operation_id = "leave_station_waitlist",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Waitlist entry id")),
    responses(
        (status = 204, description = "Left the line"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`: not yours, or not waiting any more", body = ErrorBody),
    )
)]
#[delete("/waitlist/{id}")]
pub async fn leave_waitlist(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    if !state.bookings.leave_waitlist(id, caller.id).await? {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}

/// My bookings
///
/// Newest session first, every state.
#[utoipa::path(
    operation_id = "list_my_bookings",
    tag = "stations",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Paged<BookingView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/me/bookings")]
pub async fn my_bookings(
    state: State,
    caller: UserCaller,
    query: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = state.bookings.of_user(caller.id, query.0.parse()?).await?;
    let stations = stations_by_id(&state).await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |b| {
        booking_view(&b, stations.get(&b.station_id))
    })))
}

/// My waitlist entries
///
/// Newest first, every state; a waiting entry with its position in the line.
#[utoipa::path(
    operation_id = "list_my_waitlist",
    tag = "stations",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Paged<WaitEntryView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/me/waitlist")]
pub async fn my_waitlist(
    state: State,
    caller: UserCaller,
    query: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = state
        .bookings
        .waitlist_of_user(caller.id, query.0.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |w| WaitEntryView::from(&w))))
}

async fn own_booking(state: &AppState, id: &str, user: Uuid) -> ApiResult<Booking> {
    let id = parse_id(id)?;
    state
        .bookings
        .find(id)
        .await?
        .filter(|b| b.user_id == Some(user))
        .ok_or_else(ApiError::not_found)
}

/// Cancel my booking
///
/// Until the station's cancel deadline (by default 2 h before the start); afterwards
/// `too_late_to_cancel`. The seat goes to the first person waiting, and the booking's
/// reminder is withdrawn.
#[utoipa::path(
    operation_id = "cancel_booking",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Booking id")),
    responses(
        (status = 200, body = BookingView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`too_late_to_cancel`, `booking_not_active`", body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
#[post("/bookings/{id}/cancel")]
pub async fn cancel_booking(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let booking = own_booking(&state, &id, caller.id).await?;
    booking_limit(&state, caller.id).await?;
    let cancelled = state
        .bookings
        .cancel(
            booking.id,
            caller.id,
            state.clock.now(),
            &state.config.booking,
        )
        .await?;
    let station = state.stations.find(cancelled.station_id).await?;
    Ok(HttpResponse::Ok().json(booking_view(&cancelled, station.as_ref())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"score": 5, "comment": "老师很耐心"}))]
pub struct BookingRatingBody {
    #[schema(minimum = 1, maximum = 5)]
    pub score: i64,
    #[schema(max_length = 300)]
    pub comment: Option<String>,
}

/// Rate an attended session
///
/// Once, by its person, after the station marked it attended.
#[utoipa::path(
    operation_id = "rate_booking",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Booking id")),
    request_body = BookingRatingBody,
    responses(
        (status = 200, body = BookingView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_attended`, `already_rated`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/bookings/{id}/rating")]
pub async fn rate_booking(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
    body: Json<BookingRatingBody>,
) -> ApiResult<HttpResponse> {
    let booking = own_booking(&state, &id, caller.id).await?;
    let (score, comment) = rules::parse_rating(body.0.score, body.0.comment.as_deref())?;
    let rated = state
        .bookings
        .rate(booking.id, caller.id, score, comment, state.clock.now())
        .await?;
    let station = state.stations.find(rated.station_id).await?;
    Ok(HttpResponse::Ok().json(booking_view(&rated, station.as_ref())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DaySheetQuery {
    /// China date, default today; from 30 days ago to 7 days ahead (names and phones of older
    /// sessions are not shown, and go 90 days after the session).
    #[param(example = "2026-12-07")]
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"station_id": "0193a5d2-9e3f-7d8c-9b2a-4f6e3d0c1a23", "station_name": "湖南省脑科医院(湖南省第二人民医院)",
    "date": "2026-12-07", "closed": null, "sessions": [{"start_at": "2026-12-07T09:00:00+08:00", "end_at": "2026-12-07T09:50:00+08:00",
    "seats": 1, "bookings": [{"id": "0193a5d6-4444-7abc-8def-0123456789ab", "seat": 1, "status": "booked",
    "name": "林女士", "phone": "13800000000", "note": "第一次咨询"}]}]}))]
pub struct DaySheet {
    pub station_id: String,
    pub station_name: String,
    pub date: NaiveDate,
    /// The closure reason when the station is closed that day.
    pub closed: Option<String>,
    /// Every session of the day, with its bookings (cancelled ones left out).
    pub sessions: Vec<DaySheetSession>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"start_at": "2026-12-07T09:00:00+08:00", "end_at": "2026-12-07T09:50:00+08:00", "seats": 1,
    "bookings": [{"id": "0193a5d6-4444-7abc-8def-0123456789ab", "seat": 1, "status": "booked",
    "name": "林女士", "phone": "13800000000", "note": "第一次咨询"}]}))]
pub struct DaySheetSession {
    pub start_at: DateTime<FixedOffset>,
    pub end_at: DateTime<FixedOffset>,
    pub seats: u16,
    pub bookings: Vec<DaySheetEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d6-4444-7abc-8def-0123456789ab", "seat": 1, "status": "booked",
    "name": "林女士", "phone": "13800000000", "note": "第一次咨询"}))]
pub struct DaySheetEntry {
    /// The booking id, for marking attendance.
    pub id: String,
    pub seat: u16,
    #[schema(value_type = BookingStatusName)]
    pub status: String,
    /// What the person gave when booking.
    pub name: Option<String>,
    pub phone: Option<String>,
    pub note: Option<String>,
}

async fn kept_station(state: &AppState, staff: &StaffCaller, id: Uuid) -> ApiResult<Station> {
    let station = state
        .stations
        .find(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !rules::keeps_day_sheet(&station, staff.0.id, staff.0.role) {
        return Err(ApiError::forbidden());
    }
    Ok(station)
}

/// A station's day sheet
///
/// For the counselors on duty at the station and admins: each session of the day with the
/// bookings, the name and phone people gave. Every read is recorded in the audit log.
#[utoipa::path(
    operation_id = "get_station_day_sheet",
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Station id"), DaySheetQuery),
    responses(
        (status = 200, body = DaySheet),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden`: not on duty at this station", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`validation_failed`: `date` outside the last 30 days and the coming 7", body = ErrorBody),
    )
)]
#[get("/staff/stations/{id}/day-sheet")]
pub async fn day_sheet(
    state: State,
    staff: StaffCaller,
    id: web::Path<String>,
    query: Query<DaySheetQuery>,
) -> ApiResult<HttpResponse> {
    let station = kept_station(&state, &staff, parse_id(&id)?).await?;
    let now = state.clock.now();
    let date = query.0.date.unwrap_or_else(|| china_date(now));
    rules::day_sheet_date(date, china_date(now))?;
    let closed = state
        .stations
        .closures(station.id, date, date)
        .await?
        .into_iter()
        .next()
        .map(|c| c.reason);
    let bookings = state.bookings.day_sheet(station.id, date).await?;
    let role = staff.0.role.role();
    state
        .audit
        .record(
            &AuditEntry::new(now, staff.0.id, role, AuditAction::ReadStationDaySheet)
                .target(format!("station:{}:{date}", station.id)),
        )
        .await?;
    let mut sessions: Vec<DaySheetSession> = rules::slots_on(&station.hours, &station.rules, date)
        .into_iter()
        .map(|s| DaySheetSession {
            start_at: cst(s.start),
            end_at: cst(s.end),
            seats: station.rules.seats,
            bookings: vec![],
        })
        .collect();
    for b in bookings {
        let entry = DaySheetEntry {
            id: b.id.to_string(),
            seat: b.seat,
            status: b.status.as_str().into(),
            name: b.name.clone(),
            phone: b.phone.clone(),
            note: b.note.clone(),
        };
        match sessions.iter_mut().find(|s| s.start_at == cst(b.start_at)) {
            Some(s) => s.bookings.push(entry),
            // A session that no longer exists after an hours change keeps its bookings.
            None => sessions.push(DaySheetSession {
                start_at: cst(b.start_at),
                end_at: cst(b.end_at),
                seats: station.rules.seats,
                bookings: vec![entry],
            }),
        }
    }
    sessions.sort_by_key(|s| s.start_at);
    Ok(HttpResponse::Ok().json(DaySheet {
        station_id: station.id.to_string(),
        station_name: station.name.clone(),
        date,
        closed,
        sessions,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"attended": true}))]
pub struct AttendanceBody {
    /// `true`: attended; `false`: no-show.
    pub attended: bool,
}

/// Mark attendance
///
/// By the counselors on duty at the booking's station and admins, from the session's start;
/// a mark can be corrected. Three no-shows in 90 days pause the person's booking for 30 days.
#[utoipa::path(
    operation_id = "mark_booking_attendance",
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Booking id")),
    request_body = AttendanceBody,
    responses(
        (status = 200, body = BookingView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden`: not on duty at this station", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`attendance_too_early`, `booking_not_active`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/bookings/{id}/attendance")]
pub async fn mark_attendance(
    state: State,
    staff: StaffCaller,
    id: web::Path<String>,
    body: Json<AttendanceBody>,
) -> ApiResult<HttpResponse> {
    let booking = state
        .bookings
        .find(parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let station = kept_station(&state, &staff, booking.station_id).await?;
    let marked = state
        .bookings
        .mark_attendance(booking.id, body.0.attended, staff.0.id, state.clock.now())
        .await?;
    state
        .audit
        .record(
            &AuditEntry::new(
                state.clock.now(),
                staff.0.id,
                staff.0.role.role(),
                AuditAction::MarkAttendance,
            )
            .target(format!("booking:{}", marked.id)),
        )
        .await?;
    Ok(HttpResponse::Ok().json(booking_view(&marked, Some(&station))))
}

/// Records an admin's change of a station in the audit trail.
async fn station_changed(
    state: &AppState,
    admin: Uuid,
    station: Uuid,
    verb: &str,
) -> ApiResult<()> {
    super::admin_audit::record_admin_change(
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
    station_changed(&state, admin.0.id, created.id, "create").await?;
    tracing::info!(admin_id = %admin.0.id, station_id = %created.id, "station created");
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
    station_changed(&state, admin.0.id, id, "update").await?;
    tracing::info!(admin_id = %admin.0.id, station_id = %id, "station updated");
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
    station_changed(&state, admin.0.id, id, "delete").await?;
    tracing::info!(admin_id = %admin.0.id, station_id = %id, "station deleted");
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
    super::admin_audit::record_admin_change(
        &state,
        admin.0.id,
        AuditAction::ChangeStationClosure,
        format!("station:{id}:{}:add", body.0.date),
    )
    .await?;
    tracing::info!(admin_id = %admin.0.id, station_id = %id, cancelled, "station closure added");
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
    super::admin_audit::record_admin_change(
        &state,
        admin.0.id,
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
        .map(|m| {
            let parts = xinli_domain::disclosure::admin_cells(&[
                ((), m.attended),
                ((), m.no_shows),
                ((), m.cancelled),
                ((), m.unmarked),
            ]);
            StationMonthView {
                station_name: stations
                    .get(&m.station_id)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                station_id: m.station_id.to_string(),
                month: m.month,
                bookings: xinli_domain::disclosure::admin_count(m.bookings),
                attended: parts[0].1,
                no_shows: parts[1].1,
                cancelled: parts[2].1,
                unmarked: parts[3].1,
                ratings: xinli_domain::disclosure::admin_count(m.ratings),
                average_rating: m
                    .average_rating
                    .filter(|_| m.ratings >= xinli_domain::disclosure::ADMIN_MIN),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// A person's bookings and waitlist entries, for `GET /me/export`.
pub async fn export_of_user(
    state: &AppState,
    user: Uuid,
) -> ApiResult<(Vec<BookingView>, Vec<WaitEntryView>)> {
    let stations = stations_by_id(state).await?;
    let bookings = all_pages(|page| state.bookings.of_user(user, page))
        .await?
        .iter()
        .map(|b| booking_view(b, stations.get(&b.station_id)))
        .collect();
    let waitlist = all_pages(|page| state.bookings.waitlist_of_user(user, page))
        .await?
        .iter()
        .map(WaitEntryView::from)
        .collect();
    Ok((bookings, waitlist))
}

/// A PNG image.
pub struct Png;

impl utoipa::PartialSchema for Png {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("PNG image"))
            .into()
    }
}

impl ToSchema for Png {}

/// How long a station's code is kept: the code never changes, WeChat's calls are limited.
const QRCODE_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The station's mini-program code
///
/// A PNG of a mini-program code (WeChat `wxa/getwxacodeunlimit`) that opens the station's
/// booking page (`XINLI_WECHAT_STATION_PAGE`) with the station id as `scene` (32 hex
/// digits), to print and hang at the station (seed 002 附件 1: "扫描二维码预约"). Kept for a
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

/// A mini-program code (PNG) opening `page` with `scene`, kept a day in the cache (the code
/// never changes and WeChat's calls are limited). WeChat's refusals become clear errors.
pub(crate) async fn mini_program_code(
    state: &AppState,
    scene: &str,
    page: &str,
    file: &str,
) -> ApiResult<HttpResponse> {
    let key = format!("mini_program_code:{page}:{scene}");
    let png = match state.cache.get(&key).await {
        Some(png) => png,
        None => {
            let png = state
                .wechat
                .unlimited_code(scene, page)
                .await
                .map_err(|e| {
                    let err = ApiError::from(e);
                    if err.code == crate::error::ErrorCode::WechatFailed {
                        err.with_message("暂时无法生成小程序码，请稍后再试")
                    } else {
                        err
                    }
                })?;
            state.cache.set(&key, &png, QRCODE_TTL).await;
            png
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{file}-{scene}.png\""),
        ))
        .body(png))
}
