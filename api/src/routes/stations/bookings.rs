//! A person's bookings and waitlist entries: book, wait, cancel, rate, list, export.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use xinli_domain::page::all_pages;
use xinli_domain::station::{self as rules, Booking, BookingDetails, BookingRequest, WaitEntry};

use crate::auth::UserCaller;
use crate::dto::{Paged, cst};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, PageParams, Query, parse_id};
use crate::state::{AppState, State};

use super::{BookingView, WaitStatusName, active_station, booking_view, stations_by_id};

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
