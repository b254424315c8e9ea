//! The public station list, one station and its bookable sessions.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinli_domain::page::PageRequest;
use xinli_domain::schedule::china_date;
use xinli_domain::station::{self as rules, Station};

use crate::dto::{Audience, Paged, cst};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::state::State;

use super::{StationView, active_station};

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
/// published ("开放时间待定") is listed with `bookable: false`.
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
    let filter = rules::ListFilter {
        region: q
            .region
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty()),
        audience: q.audience.map(Into::into),
    };
    let now = state.clock.now();
    let all: Vec<Station> = state
        .stations
        .list(true)
        .await?
        .into_iter()
        .filter(|s| filter.matches(s))
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
