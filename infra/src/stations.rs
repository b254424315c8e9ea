//! Stations and bookings on SeaORM. The rules are `xinli_domain::station`'s: each write loads
//! what a rule needs inside one transaction, asks the rule, and stores the answer.
//!
//! Concurrency: a booking, a cancellation, a waitlist entry and a closure lock the station's
//! row first (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises every writer),
//! then the person's row, always in that order, so that concurrent requests for the last
//! seat — from any number of instances — are decided one after the other. A partial unique
//! index on (station, start, seat) backs this at the storage level.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;
use xinli_domain::RepoError;
use xinli_domain::account::AudienceGroup;
use xinli_domain::page::{Page, PageRequest};
use xinli_domain::schedule::{ServiceHours, china_date};
use xinli_domain::station::{
    self as rules, BookerRecord, Booking, BookingError, BookingEvent, BookingFact, BookingPolicy,
    BookingRepository, BookingRequest, BookingRules, BookingStatus, CancelReason, Closure,
    OutboxEvent, Refusal, Station, StationInput, StationRepository, WaitEntry, WaitStatus,
};

use crate::db::{begin_write, fetch_page, parse_id, storage};
use crate::entities::{
    booking_waitlist as wl, bookings as b, outbox, station_closures, station_counselors, stations,
    users,
};

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(s: &str) -> Result<NaiveDate, RepoError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| RepoError::Storage(format!("corrupt date {s:?}: {e}")))
}

fn small(v: i16) -> u16 {
    u16::try_from(v).unwrap_or(0)
}

fn station_from_row(m: stations::Model, counselors: Vec<Uuid>) -> Result<Station, RepoError> {
    let hours: ServiceHours = serde_json::from_str(&m.hours)
        .map_err(|e| RepoError::Storage(format!("corrupt hours of station {}: {e}", m.id)))?;
    Ok(Station {
        id: parse_id(&m.id)?,
        name: m.name,
        unit: m.unit,
        address: m.address,
        region: m.region,
        phone: m.phone,
        audiences: m
            .audiences
            .split(',')
            .filter_map(AudienceGroup::parse)
            .collect(),
        hours,
        note: m.note,
        rules: BookingRules {
            slot_minutes: small(m.slot_minutes),
            break_minutes: small(m.break_minutes),
            seats: small(m.seats),
            booking_window_days: small(m.booking_window_days),
            min_notice_hours: small(m.min_notice_hours),
            cancel_hours: small(m.cancel_hours),
        },
        counselor_ids: counselors,
        active: m.active,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn apply(a: &mut stations::ActiveModel, input: &StationInput) -> Result<(), RepoError> {
    let n = |v: u16| i16::try_from(v).unwrap_or(i16::MAX);
    a.name = Set(input.name.clone());
    a.unit = Set(input.unit.clone());
    a.address = Set(input.address.clone());
    a.region = Set(input.region.clone());
    a.phone = Set(input.phone.clone());
    a.audiences = Set(input
        .audiences
        .iter()
        .map(|g| g.code())
        .collect::<Vec<_>>()
        .join(","));
    a.hours =
        Set(serde_json::to_string(&input.hours).map_err(|e| RepoError::Storage(e.to_string()))?);
    a.note = Set(input.note.clone());
    a.slot_minutes = Set(n(input.rules.slot_minutes));
    a.break_minutes = Set(n(input.rules.break_minutes));
    a.seats = Set(n(input.rules.seats));
    a.booking_window_days = Set(n(input.rules.booking_window_days));
    a.min_notice_hours = Set(n(input.rules.min_notice_hours));
    a.cancel_hours = Set(n(input.rules.cancel_hours));
    a.active = Set(input.active);
    Ok(())
}

async fn counselors_of(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<HashMap<String, Vec<Uuid>>, RepoError> {
    let mut out: HashMap<String, Vec<Uuid>> = HashMap::new();
    for row in station_counselors::Entity::find()
        .filter(station_counselors::Column::StationId.is_in(ids))
        .order_by_asc(station_counselors::Column::StaffId)
        .all(db)
        .await
        .map_err(storage)?
    {
        out.entry(row.station_id)
            .or_default()
            .push(parse_id(&row.staff_id)?);
    }
    Ok(out)
}

async fn load_station(db: &impl ConnectionTrait, m: stations::Model) -> Result<Station, RepoError> {
    let mut c = counselors_of(db, vec![m.id.clone()]).await?;
    let ids = c.remove(&m.id).unwrap_or_default();
    station_from_row(m, ids)
}

async fn set_counselors(
    txn: &DatabaseTransaction,
    station: &str,
    ids: &[Uuid],
) -> Result<(), RepoError> {
    station_counselors::Entity::delete_many()
        .filter(station_counselors::Column::StationId.eq(station))
        .exec(txn)
        .await
        .map_err(storage)?;
    for id in ids {
        station_counselors::ActiveModel {
            station_id: Set(station.to_owned()),
            staff_id: Set(id.to_string()),
        }
        .insert(txn)
        .await
        .map_err(storage)?;
    }
    Ok(())
}

/// The station's row, locked until the transaction ends (PostgreSQL; SQLite's write
/// transaction already excludes every other writer).
async fn lock_station(txn: &DatabaseTransaction, id: Uuid) -> Result<Option<Station>, RepoError> {
    let Some(row) = stations::Entity::find_by_id(id.to_string())
        .filter(stations::Column::DeletedAt.is_null())
        .lock(LockType::Update)
        .one(txn)
        .await
        .map_err(storage)?
    else {
        return Ok(None);
    };
    load_station(txn, row).await.map(Some)
}

/// The person's row, locked: their concurrent bookings at different stations are decided
/// one after the other. `false` when the account is gone.
async fn lock_user(txn: &DatabaseTransaction, user: Uuid) -> Result<bool, RepoError> {
    Ok(users::Entity::find_by_id(user.to_string())
        .lock(LockType::Update)
        .one(txn)
        .await
        .map_err(storage)?
        .is_some())
}

async fn closures_on(
    db: &impl ConnectionTrait,
    station: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Closure>, RepoError> {
    station_closures::Entity::find()
        .filter(station_closures::Column::StationId.eq(station.to_string()))
        .filter(station_closures::Column::Date.gte(day(from)))
        .filter(station_closures::Column::Date.lte(day(to)))
        .order_by_asc(station_closures::Column::Date)
        .all(db)
        .await
        .map_err(storage)?
        .into_iter()
        .map(|c| {
            Ok(Closure {
                date: parse_day(&c.date)?,
                reason: c.reason,
            })
        })
        .collect()
}

/// What the booking rules look at for one person.
async fn booker_record(
    db: &impl ConnectionTrait,
    user: Uuid,
    now: DateTime<Utc>,
    policy: &BookingPolicy,
) -> Result<BookerRecord, RepoError> {
    let since = now - Duration::days(Ord::max(policy.no_show_days + policy.pause_days, 2));
    let rows: Vec<(DateTime<Utc>, String)> = b::Entity::find()
        .select_only()
        .column(b::Column::StartAt)
        .column(b::Column::Status)
        .filter(b::Column::UserId.eq(user.to_string()))
        .filter(b::Column::Status.ne(BookingStatus::Cancelled.as_str()))
        .filter(b::Column::StartAt.gte(since))
        .into_tuple()
        .all(db)
        .await
        .map_err(storage)?;
    let mut record = BookerRecord::default();
    for (start, status) in rows {
        let status = BookingStatus::parse(&status)
            .ok_or_else(|| RepoError::Storage(format!("corrupt booking status {status:?}")))?;
        if status == BookingStatus::NoShow {
            record.no_shows.push(start);
        }
        if start >= now - Duration::days(2) {
            record.bookings.push((start, status));
        }
    }
    Ok(record)
}

/// Seat numbers held in one session.
async fn seats_taken(
    db: &impl ConnectionTrait,
    station: Uuid,
    start: DateTime<Utc>,
) -> Result<Vec<u16>, RepoError> {
    let seats: Vec<i16> = b::Entity::find()
        .select_only()
        .column(b::Column::Seat)
        .filter(b::Column::StationId.eq(station.to_string()))
        .filter(b::Column::StartAt.eq(start))
        .filter(b::Column::Status.ne(BookingStatus::Cancelled.as_str()))
        .into_tuple()
        .all(db)
        .await
        .map_err(storage)?;
    Ok(seats.into_iter().map(small).collect())
}

fn booking_from_row(m: b::Model) -> Result<Booking, RepoError> {
    Ok(Booking {
        id: parse_id(&m.id)?,
        station_id: parse_id(&m.station_id)?,
        user_id: m.user_id.as_deref().map(parse_id).transpose()?,
        start_at: m.start_at,
        end_at: m.end_at,
        seat: small(m.seat),
        status: BookingStatus::parse(&m.status)
            .ok_or_else(|| RepoError::Storage(format!("corrupt booking status {:?}", m.status)))?,
        name: m.name,
        phone: m.phone,
        note: m.note,
        cancel_reason: m.cancel_reason.as_deref().and_then(CancelReason::parse),
        promoted_at: m.promoted_at,
        rating: m.rating.and_then(|r| u8::try_from(r).ok()),
        rating_comment: m.rating_comment,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn wait_from_row(m: wl::Model, position: Option<u32>) -> Result<WaitEntry, RepoError> {
    Ok(WaitEntry {
        id: parse_id(&m.id)?,
        station_id: parse_id(&m.station_id)?,
        user_id: m.user_id.as_deref().map(parse_id).transpose()?,
        start_at: m.start_at,
        status: WaitStatus::parse(&m.status)
            .ok_or_else(|| RepoError::Storage(format!("corrupt waitlist status {:?}", m.status)))?,
        position,
        booking_id: m.booking_id.as_deref().map(parse_id).transpose()?,
        created_at: m.created_at,
    })
}

async fn write_events(
    txn: &DatabaseTransaction,
    station: &Station,
    booking: Uuid,
    start: DateTime<Utc>,
    user: Uuid,
    events: &[(BookingEvent, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    for (event, due) in events {
        let notice = event.notice(station, booking, start, user, *due);
        crate::notifications::enqueue(txn, &notice, now).await?;
    }
    Ok(())
}

/// Removes a booking's reminder that has not been sent: a cancelled booking is never reminded.
async fn drop_pending_reminder(txn: &DatabaseTransaction, booking: &str) -> Result<(), RepoError> {
    outbox::Entity::delete_many()
        .filter(outbox::Column::BookingId.eq(booking))
        .filter(outbox::Column::Event.eq(BookingEvent::Reminder.name()))
        .filter(outbox::Column::Status.eq("pending"))
        .exec(txn)
        .await
        .map_err(storage)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_booking(
    txn: &DatabaseTransaction,
    station: &Station,
    user: Uuid,
    slot: rules::SlotTime,
    seat: u16,
    details: &rules::BookingDetails,
    promoted: bool,
    now: DateTime<Utc>,
) -> Result<Booking, BookingError> {
    let id = Uuid::now_v7();
    let row = b::ActiveModel {
        id: Set(id.to_string()),
        station_id: Set(station.id.to_string()),
        user_id: Set(Some(user.to_string())),
        start_at: Set(slot.start),
        end_at: Set(slot.end),
        local_date: Set(day(china_date(slot.start))),
        seat: Set(i16::try_from(seat).unwrap_or(i16::MAX)),
        status: Set(BookingStatus::Booked.as_str().into()),
        name: Set(details.name.clone()),
        phone: Set(details.phone.clone()),
        note: Set(details.note.clone()),
        cancel_reason: Set(None),
        promoted_at: Set(promoted.then_some(now)),
        attendance_by: Set(None),
        rating: Set(None),
        rating_comment: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await
    .map_err(|e| match e.sql_err() {
        // Only reachable if two writers raced past the station lock.
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            BookingError::Refused(Refusal::SlotFull)
        }
        _ => BookingError::Repo(storage(e)),
    })?;
    write_events(
        txn,
        station,
        id,
        slot.start,
        user,
        &rules::events_of_new_booking(slot.start, now, promoted),
        now,
    )
    .await?;
    Ok(booking_from_row(row)?)
}

/// Gives the free seats of one session to the people waiting for it, in the domain's order
/// (`station::promotion_order`, which says who is skipped). Runs inside the transaction that
/// freed the seat, with the station locked.
async fn promote_waiting(
    txn: &DatabaseTransaction,
    station: &Station,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: &BookingPolicy,
) -> Result<u32, RepoError> {
    let date = china_date(start);
    let closures = closures_on(txn, station.id, date, date).await?;
    let Ok(slot) = rules::find_slot(station, &closures, start, now) else {
        return Ok(0);
    };
    let mut waiting = wl::Entity::find()
        .filter(wl::Column::StationId.eq(station.id.to_string()))
        .filter(wl::Column::StartAt.eq(start))
        .filter(wl::Column::Status.eq(WaitStatus::Waiting.as_str()))
        .all(txn)
        .await
        .map_err(storage)?
        .into_iter()
        .map(|m| Ok((line_key(&m)?, m)))
        .collect::<Result<Vec<_>, RepoError>>()?;
    rules::promotion_order(&mut waiting, |(key, _)| *key);
    let mut promoted = 0;
    for (_, entry) in waiting {
        let taken = seats_taken(txn, station.id, start).await?;
        let Some(seat) = rules::free_seat(station.rules.seats, &taken) else {
            break;
        };
        let Some(user) = entry.user_id.as_deref().map(parse_id).transpose()? else {
            continue;
        };
        if !lock_user(txn, user).await? {
            continue;
        }
        let record = booker_record(txn, user, now, policy).await?;
        if rules::check_booker(&record, &slot, now, policy).is_err() {
            continue;
        }
        let booking = match insert_booking(
            txn,
            station,
            user,
            slot,
            seat,
            &rules::BookingDetails::default(),
            true,
            now,
        )
        .await
        {
            Ok(b) => b,
            Err(BookingError::Repo(e)) => return Err(e),
            Err(_) => break,
        };
        wl::Entity::update_many()
            .col_expr(
                wl::Column::Status,
                Expr::value(WaitStatus::Promoted.as_str()),
            )
            .col_expr(wl::Column::BookingId, Expr::value(booking.id.to_string()))
            .filter(wl::Column::Id.eq(entry.id))
            .exec(txn)
            .await
            .map_err(storage)?;
        promoted += 1;
    }
    Ok(promoted)
}

/// Cancels the seat-holding, not yet attended bookings `filter` selects, as the station's
/// doing (closure, station deleted): each gets a `booking_changed` event, loses its reminder;
/// the waitlist of those sessions is closed.
async fn cancel_by_station(
    txn: &DatabaseTransaction,
    station: &Station,
    filter: sea_orm::Condition,
    reason: CancelReason,
    now: DateTime<Utc>,
) -> Result<u64, RepoError> {
    let affected = b::Entity::find()
        .filter(b::Column::StationId.eq(station.id.to_string()))
        .filter(b::Column::Status.eq(BookingStatus::Booked.as_str()))
        .filter(filter.clone())
        .all(txn)
        .await
        .map_err(storage)?;
    for row in &affected {
        b::Entity::update_many()
            .col_expr(
                b::Column::Status,
                Expr::value(BookingStatus::Cancelled.as_str()),
            )
            .col_expr(b::Column::CancelReason, Expr::value(reason.as_str()))
            .col_expr(b::Column::UpdatedAt, Expr::value(now))
            .filter(b::Column::Id.eq(row.id.clone()))
            .exec(txn)
            .await
            .map_err(storage)?;
        drop_pending_reminder(txn, &row.id).await?;
        if let Some(user) = row.user_id.as_deref().map(parse_id).transpose()? {
            write_events(
                txn,
                station,
                parse_id(&row.id)?,
                row.start_at,
                user,
                &[(BookingEvent::Cancelled, now)],
                now,
            )
            .await?;
        }
    }
    wl::Entity::update_many()
        .col_expr(wl::Column::Status, Expr::value(WaitStatus::Left.as_str()))
        .filter(wl::Column::StationId.eq(station.id.to_string()))
        .filter(wl::Column::Status.eq(WaitStatus::Waiting.as_str()))
        .filter(filter)
        .exec(txn)
        .await
        .map_err(storage)?;
    Ok(affected.len() as u64)
}

/// The instants of a China date: `[00:00, next 00:00)`.
fn day_bounds(date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    xinli_domain::period::DayRange {
        from: date,
        to: date,
    }
    .instants()
}

#[derive(Clone)]
pub struct StationStore {
    db: DatabaseConnection,
}

impl StationStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl StationRepository for StationStore {
    async fn remove_from_duty(&self, staff: Uuid) -> Result<u64, RepoError> {
        let done = station_counselors::Entity::delete_many()
            .filter(station_counselors::Column::StaffId.eq(staff.to_string()))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(done.rows_affected)
    }

    async fn list(&self, active_only: bool) -> Result<Vec<Station>, RepoError> {
        let mut q = stations::Entity::find().filter(stations::Column::DeletedAt.is_null());
        if active_only {
            q = q.filter(stations::Column::Active.eq(true));
        }
        let rows = q
            .order_by_asc(stations::Column::CreatedAt)
            .order_by_asc(stations::Column::Id)
            .all(&self.db)
            .await
            .map_err(storage)?;
        let mut counselors =
            counselors_of(&self.db, rows.iter().map(|r| r.id.clone()).collect()).await?;
        rows.into_iter()
            .map(|r| {
                let c = counselors.remove(&r.id).unwrap_or_default();
                station_from_row(r, c)
            })
            .collect()
    }

    async fn find(&self, id: Uuid) -> Result<Option<Station>, RepoError> {
        match stations::Entity::find_by_id(id.to_string())
            .filter(stations::Column::DeletedAt.is_null())
            .one(&self.db)
            .await
            .map_err(storage)?
        {
            Some(row) => load_station(&self.db, row).await.map(Some),
            None => Ok(None),
        }
    }

    async fn create(&self, input: StationInput, now: DateTime<Utc>) -> Result<Station, RepoError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let id = Uuid::now_v7().to_string();
        let mut active = stations::ActiveModel {
            id: Set(id.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        };
        apply(&mut active, &input)?;
        let row = active.insert(&txn).await.map_err(storage)?;
        set_counselors(&txn, &id, &input.counselor_ids).await?;
        txn.commit().await.map_err(storage)?;
        station_from_row(row, input.counselor_ids)
    }

    async fn update(
        &self,
        id: Uuid,
        input: StationInput,
        now: DateTime<Utc>,
        policy: &BookingPolicy,
    ) -> Result<Option<Station>, RepoError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let Some(before) = lock_station(&txn, id).await? else {
            return Ok(None);
        };
        let Some(row) = stations::Entity::find_by_id(id.to_string())
            .one(&txn)
            .await
            .map_err(storage)?
        else {
            return Ok(None);
        };
        let mut active: stations::ActiveModel = row.into();
        apply(&mut active, &input)?;
        active.updated_at = Set(now);
        let row = active.update(&txn).await.map_err(storage)?;
        set_counselors(&txn, &row.id, &input.counselor_ids).await?;
        let station = station_from_row(row, input.counselor_ids.clone())?;
        if station.rules.seats > before.rules.seats {
            // Added seats go to the people waiting for future sessions.
            let starts: Vec<DateTime<Utc>> = wl::Entity::find()
                .select_only()
                .column(wl::Column::StartAt)
                .distinct()
                .filter(wl::Column::StationId.eq(id.to_string()))
                .filter(wl::Column::Status.eq(WaitStatus::Waiting.as_str()))
                .filter(wl::Column::StartAt.gt(now))
                .into_tuple()
                .all(&txn)
                .await
                .map_err(storage)?;
            for start in starts {
                promote_waiting(&txn, &station, start, now, policy).await?;
            }
        }
        txn.commit().await.map_err(storage)?;
        Ok(Some(station))
    }

    async fn delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let Some(station) = lock_station(&txn, id).await? else {
            return Ok(false);
        };
        stations::Entity::update_many()
            .col_expr(stations::Column::DeletedAt, Expr::value(now))
            .col_expr(stations::Column::Active, Expr::value(false))
            .filter(stations::Column::Id.eq(id.to_string()))
            .exec(&txn)
            .await
            .map_err(storage)?;
        cancel_by_station(
            &txn,
            &station,
            sea_orm::Condition::all().add(Expr::col(b::Column::StartAt).gt(now)),
            CancelReason::Closure,
            now,
        )
        .await?;
        txn.commit().await.map_err(storage)?;
        Ok(true)
    }

    async fn closures(
        &self,
        station: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Closure>, RepoError> {
        closures_on(&self.db, station, from, to).await
    }

    async fn add_closure(
        &self,
        station: Uuid,
        closure: Closure,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, RepoError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let Some(locked) = lock_station(&txn, station).await? else {
            return Ok(None);
        };
        let date = day(closure.date);
        station_closures::Entity::delete_many()
            .filter(station_closures::Column::StationId.eq(station.to_string()))
            .filter(station_closures::Column::Date.eq(date.clone()))
            .exec(&txn)
            .await
            .map_err(storage)?;
        station_closures::ActiveModel {
            station_id: Set(station.to_string()),
            date: Set(date),
            reason: Set(closure.reason),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(storage)?;
        let (from, to) = day_bounds(closure.date);
        let cancelled = cancel_by_station(
            &txn,
            &locked,
            sea_orm::Condition::all()
                .add(Expr::col(b::Column::StartAt).gte(from))
                .add(Expr::col(b::Column::StartAt).lt(to))
                .add(Expr::col(b::Column::StartAt).gt(now)),
            CancelReason::Closure,
            now,
        )
        .await?;
        txn.commit().await.map_err(storage)?;
        Ok(Some(cancelled))
    }

    async fn remove_closure(&self, station: Uuid, date: NaiveDate) -> Result<bool, RepoError> {
        let res = station_closures::Entity::delete_many()
            .filter(station_closures::Column::StationId.eq(station.to_string()))
            .filter(station_closures::Column::Date.eq(day(date)))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(res.rows_affected > 0)
    }
}

#[derive(Clone)]
pub struct BookingStore {
    db: DatabaseConnection,
}

impl BookingStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn owned(&self, id: Uuid, user: Uuid) -> Result<b::Model, BookingError> {
        b::Entity::find_by_id(id.to_string())
            .filter(b::Column::UserId.eq(user.to_string()))
            .one(&self.db)
            .await
            .map_err(storage)?
            .ok_or(BookingError::NotFound)
    }
}

/// The (joined, id) keys of the entries waiting for one session.
fn line_key(m: &wl::Model) -> Result<(DateTime<Utc>, Uuid), RepoError> {
    Ok((m.created_at, parse_id(&m.id)?))
}

async fn position_of(db: &impl ConnectionTrait, entry: &wl::Model) -> Result<u32, RepoError> {
    let line = wl::Entity::find()
        .filter(wl::Column::StationId.eq(entry.station_id.clone()))
        .filter(wl::Column::StartAt.eq(entry.start_at))
        .filter(wl::Column::Status.eq(WaitStatus::Waiting.as_str()))
        .all(db)
        .await
        .map_err(storage)?
        .iter()
        .map(line_key)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rules::position_in_line(line_key(entry)?, &line))
}

#[async_trait]
impl BookingRepository for BookingStore {
    async fn taken(
        &self,
        station: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u16)>, RepoError> {
        let starts: Vec<DateTime<Utc>> = b::Entity::find()
            .select_only()
            .column(b::Column::StartAt)
            .filter(b::Column::StationId.eq(station.to_string()))
            .filter(b::Column::Status.ne(BookingStatus::Cancelled.as_str()))
            .filter(b::Column::StartAt.gte(from))
            .filter(b::Column::StartAt.lt(to))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(storage)?;
        let mut counts: HashMap<DateTime<Utc>, u16> = HashMap::new();
        for s in starts {
            *counts.entry(s).or_default() += 1;
        }
        let mut out: Vec<_> = counts.into_iter().collect();
        out.sort();
        Ok(out)
    }

    async fn book(
        &self,
        req: BookingRequest,
        now: DateTime<Utc>,
        policy: &BookingPolicy,
    ) -> Result<Booking, BookingError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let station = lock_station(&txn, req.station_id)
            .await?
            .ok_or(BookingError::NotFound)?;
        let date = china_date(req.start_at);
        let closures = closures_on(&txn, station.id, date, date).await?;
        let slot = rules::find_slot(&station, &closures, req.start_at, now)?;
        if !lock_user(&txn, req.user_id).await? {
            return Err(BookingError::NotFound);
        }
        let record = booker_record(&txn, req.user_id, now, policy).await?;
        rules::check_booker(&record, &slot, now, policy)?;
        let taken = seats_taken(&txn, station.id, slot.start).await?;
        let seat = rules::free_seat(station.rules.seats, &taken).ok_or(Refusal::SlotFull)?;
        let booking = insert_booking(
            &txn,
            &station,
            req.user_id,
            slot,
            seat,
            &req.details,
            false,
            now,
        )
        .await?;
        txn.commit().await.map_err(storage)?;
        Ok(booking)
    }

    async fn join_waitlist(
        &self,
        station: Uuid,
        user: Uuid,
        start_at: DateTime<Utc>,
        now: DateTime<Utc>,
        policy: &BookingPolicy,
    ) -> Result<WaitEntry, BookingError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let station = lock_station(&txn, station)
            .await?
            .ok_or(BookingError::NotFound)?;
        let date = china_date(start_at);
        let closures = closures_on(&txn, station.id, date, date).await?;
        let slot = rules::find_slot(&station, &closures, start_at, now)?;
        if !lock_user(&txn, user).await? {
            return Err(BookingError::NotFound);
        }
        let taken = seats_taken(&txn, station.id, slot.start).await?;
        let holds = b::Entity::find()
            .filter(b::Column::StationId.eq(station.id.to_string()))
            .filter(b::Column::StartAt.eq(slot.start))
            .filter(b::Column::UserId.eq(user.to_string()))
            .filter(b::Column::Status.ne(BookingStatus::Cancelled.as_str()))
            .one(&txn)
            .await
            .map_err(storage)?
            .is_some();
        let waiting = wl::Entity::find()
            .filter(wl::Column::StationId.eq(station.id.to_string()))
            .filter(wl::Column::StartAt.eq(slot.start))
            .filter(wl::Column::UserId.eq(user.to_string()))
            .filter(wl::Column::Status.eq(WaitStatus::Waiting.as_str()))
            .one(&txn)
            .await
            .map_err(storage)?
            .is_some();
        let waiting_elsewhere = sea_orm::PaginatorTrait::count(
            wl::Entity::find()
                .filter(wl::Column::UserId.eq(user.to_string()))
                .filter(wl::Column::Status.eq(WaitStatus::Waiting.as_str()))
                .filter(wl::Column::StartAt.gt(now)),
            &txn,
        )
        .await
        .map_err(storage)?;
        let record = booker_record(&txn, user, now, policy).await?;
        rules::check_join(
            rules::remaining(station.rules.seats, taken.len()),
            holds,
            waiting,
            u32::try_from(waiting_elsewhere).unwrap_or(u32::MAX),
            &record,
            now,
            policy,
        )?;
        let row = wl::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            station_id: Set(station.id.to_string()),
            user_id: Set(Some(user.to_string())),
            start_at: Set(slot.start),
            status: Set(WaitStatus::Waiting.as_str().into()),
            booking_id: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                BookingError::Refused(Refusal::AlreadyWaiting)
            }
            _ => BookingError::Repo(storage(e)),
        })?;
        let position = position_of(&txn, &row).await?;
        txn.commit().await.map_err(storage)?;
        Ok(wait_from_row(row, Some(position))?)
    }

    async fn leave_waitlist(&self, entry: Uuid, user: Uuid) -> Result<bool, RepoError> {
        let res = wl::Entity::update_many()
            .col_expr(wl::Column::Status, Expr::value(WaitStatus::Left.as_str()))
            .filter(wl::Column::Id.eq(entry.to_string()))
            .filter(wl::Column::UserId.eq(user.to_string()))
            .filter(wl::Column::Status.eq(WaitStatus::Waiting.as_str()))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(res.rows_affected > 0)
    }

    async fn find(&self, id: Uuid) -> Result<Option<Booking>, RepoError> {
        b::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(booking_from_row)
            .transpose()
    }

    async fn cancel(
        &self,
        id: Uuid,
        user: Uuid,
        now: DateTime<Utc>,
        policy: &BookingPolicy,
    ) -> Result<Booking, BookingError> {
        let first = self.owned(id, user).await?;
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let station_id = parse_id(&first.station_id)?;
        // Deleted stations cancelled their future bookings already; load it anyway for rules.
        let station = match lock_station(&txn, station_id).await? {
            Some(s) => s,
            None => return Err(Refusal::InvalidState(BookingStatus::Cancelled).into()),
        };
        let row = b::Entity::find_by_id(id.to_string())
            .one(&txn)
            .await
            .map_err(storage)?
            .ok_or(BookingError::NotFound)?;
        let booking = booking_from_row(row.clone())?;
        let next = rules::check_cancel(&booking, &station.rules, now)?;
        let mut active: b::ActiveModel = row.into();
        active.status = Set(next.as_str().into());
        active.cancel_reason = Set(Some(CancelReason::User.as_str().into()));
        active.updated_at = Set(now);
        let row = active.update(&txn).await.map_err(storage)?;
        drop_pending_reminder(&txn, &row.id).await?;
        promote_waiting(&txn, &station, booking.start_at, now, policy).await?;
        txn.commit().await.map_err(storage)?;
        Ok(booking_from_row(row)?)
    }

    async fn mark_attendance(
        &self,
        id: Uuid,
        attended: bool,
        staff: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Booking, BookingError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let row = b::Entity::find_by_id(id.to_string())
            .one(&txn)
            .await
            .map_err(storage)?
            .ok_or(BookingError::NotFound)?;
        let next = rules::check_attendance(&booking_from_row(row.clone())?, attended, now)?;
        let mut active: b::ActiveModel = row.into();
        active.status = Set(next.as_str().into());
        active.attendance_by = Set(Some(staff.to_string()));
        active.updated_at = Set(now);
        let row = active.update(&txn).await.map_err(storage)?;
        txn.commit().await.map_err(storage)?;
        Ok(booking_from_row(row)?)
    }

    async fn rate(
        &self,
        id: Uuid,
        user: Uuid,
        score: u8,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Booking, BookingError> {
        let row = self.owned(id, user).await?;
        rules::check_rating(&booking_from_row(row.clone())?)?;
        // Conditional on "not rated yet", so that two concurrent ratings store one.
        let res = b::Entity::update_many()
            .col_expr(b::Column::Rating, Expr::value(i16::from(score)))
            .col_expr(b::Column::RatingComment, Expr::value(comment))
            .col_expr(b::Column::UpdatedAt, Expr::value(now))
            .filter(b::Column::Id.eq(row.id.clone()))
            .filter(b::Column::Rating.is_null())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        if res.rows_affected == 0 {
            return Err(Refusal::AlreadyRated.into());
        }
        let row = b::Entity::find_by_id(row.id)
            .one(&self.db)
            .await
            .map_err(storage)?
            .ok_or(BookingError::NotFound)?;
        Ok(booking_from_row(row)?)
    }

    async fn of_user(&self, user: Uuid, page: PageRequest) -> Result<Page<Booking>, RepoError> {
        let q = b::Entity::find()
            .filter(b::Column::UserId.eq(user.to_string()))
            .order_by_desc(b::Column::StartAt)
            .order_by_desc(b::Column::Id);
        fetch_page(&self.db, q, page, booking_from_row).await
    }

    async fn waitlist_of_user(
        &self,
        user: Uuid,
        page: PageRequest,
    ) -> Result<Page<WaitEntry>, RepoError> {
        let rows = fetch_page(
            &self.db,
            wl::Entity::find()
                .filter(wl::Column::UserId.eq(user.to_string()))
                .order_by_desc(wl::Column::CreatedAt)
                .order_by_desc(wl::Column::Id),
            page,
            Ok,
        )
        .await?;
        // The lines of the sessions the page's waiting entries are in, in one query.
        let waiting: Vec<&wl::Model> = rows
            .items
            .iter()
            .filter(|r| r.status == WaitStatus::Waiting.as_str())
            .collect();
        let lines = if waiting.is_empty() {
            vec![]
        } else {
            wl::Entity::find()
                .filter(wl::Column::Status.eq(WaitStatus::Waiting.as_str()))
                .filter(wl::Column::StationId.is_in(waiting.iter().map(|r| r.station_id.clone())))
                .filter(wl::Column::StartAt.is_in(waiting.iter().map(|r| r.start_at)))
                .all(&self.db)
                .await
                .map_err(storage)?
        };
        let mut items = Vec::with_capacity(rows.items.len());
        for r in &rows.items {
            let position = if r.status == WaitStatus::Waiting.as_str() {
                let line = lines
                    .iter()
                    .filter(|o| o.station_id == r.station_id && o.start_at == r.start_at)
                    .map(line_key)
                    .collect::<Result<Vec<_>, _>>()?;
                Some(rules::position_in_line(line_key(r)?, &line))
            } else {
                None
            };
            items.push(wait_from_row(r.clone(), position)?);
        }
        Ok(Page {
            items,
            total: rows.total,
            request: rows.request,
        })
    }

    async fn day_sheet(&self, station: Uuid, date: NaiveDate) -> Result<Vec<Booking>, RepoError> {
        b::Entity::find()
            .filter(b::Column::StationId.eq(station.to_string()))
            .filter(b::Column::LocalDate.eq(day(date)))
            .filter(b::Column::Status.ne(BookingStatus::Cancelled.as_str()))
            .order_by_asc(b::Column::StartAt)
            .order_by_asc(b::Column::Seat)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(booking_from_row)
            .collect()
    }

    async fn facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        station: Option<Uuid>,
    ) -> Result<Vec<BookingFact>, RepoError> {
        let mut q = b::Entity::find()
            .select_only()
            .column(b::Column::StationId)
            .column(b::Column::StartAt)
            .column(b::Column::Status)
            .column(b::Column::Rating)
            .filter(b::Column::StartAt.gte(from))
            .filter(b::Column::StartAt.lt(to));
        if let Some(s) = station {
            q = q.filter(b::Column::StationId.eq(s.to_string()));
        }
        let rows: Vec<(String, DateTime<Utc>, String, Option<i16>)> =
            q.into_tuple().all(&self.db).await.map_err(storage)?;
        rows.into_iter()
            .map(|(station, start, status, rating)| {
                Ok(BookingFact {
                    station_id: parse_id(&station)?,
                    start_at: start,
                    status: BookingStatus::parse(&status).ok_or_else(|| {
                        RepoError::Storage(format!("corrupt booking status {status:?}"))
                    })?,
                    rating: rating.and_then(|r| u8::try_from(r).ok()),
                })
            })
            .collect()
    }

    async fn outbox_of_user(&self, user: Uuid) -> Result<Vec<OutboxEvent>, RepoError> {
        outbox::Entity::find()
            .filter(outbox::Column::UserId.eq(user.to_string()))
            .order_by_asc(outbox::Column::DueAt)
            .order_by_asc(outbox::Column::Id)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|r| {
                Ok(OutboxEvent {
                    event: r.event,
                    user_id: parse_id(&r.user_id)?,
                    booking_id: r.booking_id.as_deref().map(parse_id).transpose()?,
                    key: r.idempotency_key,
                    due_at: r.due_at,
                    status: r.status,
                })
            })
            .collect()
    }
}

/// Within a person's account deletion: their future bookings are cancelled (the freed seats
/// go to the people waiting), their waitlist entries and messages-to-be deleted; past
/// bookings stay for the stations' figures without the person's link, name, phone, note or
/// rating comment.
pub(crate) async fn forget_user(
    txn: &DatabaseTransaction,
    user: Uuid,
    now: DateTime<Utc>,
    policy: &BookingPolicy,
) -> Result<(), RepoError> {
    let uid = user.to_string();
    outbox::Entity::delete_many()
        .filter(outbox::Column::UserId.eq(uid.clone()))
        .exec(txn)
        .await
        .map_err(storage)?;
    wl::Entity::delete_many()
        .filter(wl::Column::UserId.eq(uid.clone()))
        .exec(txn)
        .await
        .map_err(storage)?;
    let future = b::Entity::find()
        .filter(b::Column::UserId.eq(uid.clone()))
        .filter(b::Column::Status.eq(BookingStatus::Booked.as_str()))
        .filter(b::Column::StartAt.gt(now))
        .all(txn)
        .await
        .map_err(storage)?;
    b::Entity::update_many()
        .col_expr(
            b::Column::Status,
            Expr::value(BookingStatus::Cancelled.as_str()),
        )
        .col_expr(
            b::Column::CancelReason,
            Expr::value(CancelReason::AccountDeleted.as_str()),
        )
        .filter(b::Column::Id.is_in(future.iter().map(|r| r.id.clone())))
        .exec(txn)
        .await
        .map_err(storage)?;
    b::Entity::update_many()
        .col_expr(b::Column::UserId, Expr::value(Option::<String>::None))
        .col_expr(b::Column::Name, Expr::value(Option::<String>::None))
        .col_expr(b::Column::Phone, Expr::value(Option::<String>::None))
        .col_expr(b::Column::Note, Expr::value(Option::<String>::None))
        .col_expr(
            b::Column::RatingComment,
            Expr::value(Option::<String>::None),
        )
        .filter(b::Column::UserId.eq(uid))
        .exec(txn)
        .await
        .map_err(storage)?;
    let mut sessions: HashSet<(String, DateTime<Utc>)> = HashSet::new();
    for r in future {
        sessions.insert((r.station_id, r.start_at));
    }
    for (station, start) in sessions {
        if let Some(station) = lock_station(txn, parse_id(&station)?).await? {
            promote_waiting(txn, &station, start, now, policy).await?;
        }
    }
    Ok(())
}
