//! 站点预约: the public station list and slots, a person's bookings and waitlist entries, the
//! day sheet and attendance for staff, and station management for admins. Every rule is in
//! `xinli_domain::station`; these handlers authenticate, call it and shape the answers. This
//! file holds the views the parts share.

mod admin;
mod bookings;
mod public;
mod staff;

pub use admin::StationRequest;
pub use bookings::{WaitEntryView, export_of_user};

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::schedule::{self};
use xinli_domain::station::{self as rules, Booking, Station};

use crate::dto::{Audience, cst, string_enum};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;
use crate::schedule::HoursView;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(public::list_stations)
        .service(public::get_station)
        .service(public::list_slots)
        .service(bookings::create_booking)
        .service(bookings::join_waitlist)
        .service(bookings::leave_waitlist)
        .service(bookings::my_bookings)
        .service(bookings::my_waitlist)
        .service(bookings::cancel_booking)
        .service(bookings::rate_booking)
        .service(staff::day_sheet)
        .service(staff::mark_attendance)
        .service(admin::admin_list)
        .service(admin::admin_create)
        .service(admin::admin_update)
        .service(admin::admin_delete)
        .service(admin::admin_list_closures)
        .service(admin::admin_add_closure)
        .service(admin::admin_remove_closure)
        .service(admin::admin_stats)
        .service(admin::admin_qrcode);
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
            status_text: schedule::describe_place(status, now),
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

async fn active_station(state: &AppState, id: &str) -> ApiResult<Station> {
    let id = parse_id(id)?;
    state
        .stations
        .find(id)
        .await?
        .filter(|s| s.active)
        .ok_or_else(ApiError::not_found)
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
    BookingView {
        id: b.id.to_string(),
        station_id: b.station_id.to_string(),
        station_name: station.map(|s| s.name.clone()).unwrap_or_default(),
        station_address: station.and_then(|s| s.address.clone()),
        start_at: cst(b.start_at),
        end_at: cst(b.end_at),
        status: b.status.as_str().into(),
        // A deleted station's bookings: their start.
        cancel_until: cst(
            station.map_or(b.start_at, |s| rules::cancel_deadline(b.start_at, &s.rules))
        ),
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
