//! The day sheet and attendance, for the counselors on duty at a station and admins.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use xinli_domain::audit::{AuditAction, AuditEntry};
use xinli_domain::schedule::china_date;
use xinli_domain::station::{self as rules, Station};

use crate::auth::StaffCaller;
use crate::dto::cst;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Query, parse_id};
use crate::state::{AppState, State};

use super::{BookingStatusName, BookingView, booking_view};

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
    if !rules::keeps_day_sheet(&station, staff.account.id, staff.account.role) {
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
    let role = staff.account.role.role();
    state
        .audit
        .record(
            &AuditEntry::new(
                now,
                staff.account.id,
                role,
                AuditAction::ReadStationDaySheet,
            )
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
        .mark_attendance(
            booking.id,
            body.0.attended,
            staff.account.id,
            state.clock.now(),
        )
        .await?;
    state
        .audit
        .record(
            &AuditEntry::new(
                state.clock.now(),
                staff.account.id,
                staff.account.role.role(),
                AuditAction::MarkAttendance,
            )
            .target(format!("booking:{}", marked.id)),
        )
        .await?;
    Ok(HttpResponse::Ok().json(booking_view(&marked, Some(&station))))
}
