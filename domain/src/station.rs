//! 站点预约: counseling stations open on fixed days of the week, and one-to-one sessions
//! booked online up to a week ahead (seed 002 附件 1–2: "每周固定 1-2 天 … 实行提前一周网上预约制").
//!
//! Every rule of the module is here: which slots a station offers (weekly windows in China
//! time, slot length and break, seats, closures, booking window, minimum notice); who may book
//! (one booking a day, a few upcoming, a pause after repeated no-shows); the life of a booking
//! (cancel until the deadline, attendance from the slot's start, one rating after attending);
//! the waitlist (the first eligible person in line gets a freed seat); who keeps a station's
//! day sheet; the reminder events a booking owes its person; and the monthly figures. The
//! repositories load what these functions need inside one transaction, call them, and store
//! what they decided.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::{AudienceGroup, StaffRole};
use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use crate::schedule::{CHINA, ServiceHours, china_date};
use crate::validation::{self, Collector, ValidationError};

/// How a station's days are cut into bookable sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRules {
    /// Length of one session, 15–240 minutes.
    pub slot_minutes: u16,
    /// Pause between sessions, 0–120 minutes.
    pub break_minutes: u16,
    /// People one slot takes (counselors on duty), 1–50.
    pub seats: u16,
    /// How many days ahead slots open (seed 002: "提前一周", 7), 1–60.
    pub booking_window_days: u16,
    /// Hours between booking and the session's start, 0–168.
    pub min_notice_hours: u16,
    /// A booking can be cancelled until this many hours before its start, 0–168.
    pub cancel_hours: u16,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            slot_minutes: 50,
            break_minutes: 10,
            seats: 1,
            booking_window_days: 7,
            min_notice_hours: 2,
            cancel_hours: 2,
        }
    }
}

impl BookingRules {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut c = Collector::new();
        let mut range = |field: &str, v: u16, lo: u16, hi: u16, label: &str| {
            if !(lo..=hi).contains(&v) {
                c.push(field, format!("{label}须在 {lo} 到 {hi} 之间"));
            }
        };
        range(
            "slot_minutes",
            self.slot_minutes,
            15,
            240,
            "每次咨询时长（分钟）",
        );
        range("break_minutes", self.break_minutes, 0, 120, "间隔（分钟）");
        range("seats", self.seats, 1, 50, "每个时段名额");
        range(
            "booking_window_days",
            self.booking_window_days,
            1,
            60,
            "可预约天数",
        );
        range(
            "min_notice_hours",
            self.min_notice_hours,
            0,
            168,
            "最少提前小时数",
        );
        range(
            "cancel_hours",
            self.cancel_hours,
            0,
            168,
            "取消截止（开始前小时数）",
        );
        c.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Station {
    pub id: Uuid,
    pub name: String,
    /// The organisation that runs it.
    pub unit: String,
    /// `None` when no source gives one (the Jiading 驿站 of seed 001).
    pub address: Option<String>,
    pub region: String,
    pub phone: Option<String>,
    pub audiences: Vec<AudienceGroup>,
    /// Weekly windows, or unknown (then listed, not bookable).
    pub hours: ServiceHours,
    /// Where the facts come from, or what is not known yet.
    pub note: Option<String>,
    pub rules: BookingRules,
    /// Counselors on duty here: they keep the day sheet. May be empty (then admins only).
    pub counselor_ids: Vec<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Station {
    /// Open for bookings: active, with published weekly hours.
    pub fn bookable(&self) -> bool {
        self.active && matches!(self.hours, ServiceHours::Weekly { .. })
    }
}

/// What an admin submits to create or replace a station, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationInput {
    pub name: String,
    pub unit: String,
    pub address: Option<String>,
    pub region: String,
    pub phone: Option<String>,
    pub audiences: Vec<AudienceGroup>,
    pub hours: ServiceHours,
    pub note: Option<String>,
    pub rules: BookingRules,
    pub counselor_ids: Vec<Uuid>,
    pub active: bool,
}

fn optional_text(
    c: &mut Collector,
    field: &str,
    label: &str,
    raw: Option<&str>,
    max: usize,
) -> Option<Option<String>> {
    match raw {
        Some(v) if !v.trim().is_empty() => {
            c.check(validation::text(field, label, v, 1, max)).map(Some)
        }
        _ => Some(None),
    }
}

/// The raw fields of a station as an admin sent them.
#[derive(Debug, Clone)]
pub struct StationFields<'a> {
    pub name: &'a str,
    pub unit: &'a str,
    pub address: Option<&'a str>,
    pub region: &'a str,
    pub phone: Option<&'a str>,
    pub audiences: Vec<AudienceGroup>,
    pub hours: Result<ServiceHours, ValidationError>,
    pub note: Option<&'a str>,
    pub rules: BookingRules,
    pub counselor_ids: Vec<Uuid>,
    pub active: bool,
}

impl StationInput {
    /// Checks every field; all problems are reported at once. A station's hours are weekly
    /// windows or unknown: "always open" is not a counseling station.
    pub fn parse(f: StationFields<'_>) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let name = c.check(validation::text("name", "站点名称", f.name, 1, 64));
        let unit = c.check(validation::text("unit", "所属单位", f.unit, 1, 64));
        let address = optional_text(&mut c, "address", "地址", f.address, 200);
        let region = c.check(validation::text("region", "地区", f.region, 1, 32));
        let phone = match f.phone {
            Some(p) if !p.trim().is_empty() => c
                .check(crate::hotline::parse_number(p).map_err(|_| {
                    ValidationError::single("phone", "电话只能包含数字和连字符，3 到 20 位")
                }))
                .map(Some),
            _ => Some(None),
        };
        let note = optional_text(&mut c, "note", "说明", f.note, 300);
        if f.audiences.is_empty() {
            c.push("audiences", "请至少选择一个服务人群");
        }
        let hours = c.check(f.hours.and_then(|h| match h {
            ServiceHours::Always => Err(ValidationError::single(
                "hours.kind",
                "站点须按周设置开放时段（weekly），或标记为待定（unknown）",
            )),
            h => h.validate().map(|()| h),
        }));
        c.check(f.rules.validate());
        if f.counselor_ids.len() > 100 {
            c.push("counselor_ids", "值班咨询师不能超过 100 人");
        }
        if let Some(ServiceHours::Weekly { windows }) = &hours {
            for (i, w) in windows.iter().enumerate() {
                if w.end != 1440 && w.end <= w.start {
                    c.push(format!("hours.windows[{i}].end"), "站点时段不能跨过午夜");
                } else if u32::from(w.end - w.start) < u32::from(f.rules.slot_minutes) {
                    c.push(
                        format!("hours.windows[{i}]"),
                        "时段短于一次咨询的时长，无法预约",
                    );
                }
            }
        }
        c.finish()?;
        let (
            Some(name),
            Some(unit),
            Some(address),
            Some(region),
            Some(phone),
            Some(note),
            Some(hours),
        ) = (name, unit, address, region, phone, note, hours)
        else {
            return Err(ValidationError::single("body", "内容有误"));
        };
        let mut seen = HashSet::new();
        let mut audiences = f.audiences;
        audiences.retain(|a| seen.insert(*a));
        let mut seen = HashSet::new();
        let mut counselor_ids = f.counselor_ids;
        counselor_ids.retain(|a| seen.insert(*a));
        Ok(Self {
            name,
            unit,
            address,
            region,
            phone,
            audiences,
            hours,
            note,
            rules: f.rules,
            counselor_ids,
            active: f.active,
        })
    }
}

/// A date on which a station does not open (holiday, training), with the reason shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub date: NaiveDate,
    pub reason: String,
}

pub fn parse_closure_reason(raw: &str) -> Result<String, ValidationError> {
    validation::text("reason", "停诊原因", raw, 1, 100)
}

/// One bookable session: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotTime {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

fn china_instant(date: NaiveDate, minutes: u16) -> Option<DateTime<Utc>> {
    let midnight = date
        .and_time(NaiveTime::MIN)
        .and_local_timezone(CHINA)
        .single()?
        .with_timezone(&Utc);
    Some(midnight + Duration::minutes(i64::from(minutes)))
}

/// The sessions of one China calendar date: each weekly window of that weekday cut into
/// `slot_minutes` sessions separated by `break_minutes`, the last one ending inside the window.
pub fn slots_on(hours: &ServiceHours, rules: &BookingRules, date: NaiveDate) -> Vec<SlotTime> {
    let ServiceHours::Weekly { windows } = hours else {
        return vec![];
    };
    let weekday = date.weekday().num_days_from_monday() as i64;
    let mut out: Vec<SlotTime> = windows
        .iter()
        .filter(|w| w.day.index() == weekday && (w.end > w.start || w.end == 1440))
        .flat_map(|w| {
            let step = rules.slot_minutes + rules.break_minutes;
            let mut starts = vec![];
            let mut s = w.start;
            while s + rules.slot_minutes <= w.end {
                starts.push(s);
                s += step.max(1);
            }
            starts.into_iter().filter_map(move |s| {
                Some(SlotTime {
                    start: china_instant(date, s)?,
                    end: china_instant(date, s + rules.slot_minutes)?,
                })
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The earliest start and the last date someone may book at `now`.
pub fn booking_window(rules: &BookingRules, now: DateTime<Utc>) -> (DateTime<Utc>, NaiveDate) {
    (
        now + Duration::hours(i64::from(rules.min_notice_hours)),
        china_date(now) + Duration::days(i64::from(rules.booking_window_days)),
    )
}

/// The sessions of `from..=to` that can be booked at `now`: inside the booking window, after
/// the minimum notice, not on a closure date. Empty for a station that is not bookable.
pub fn offered_slots(
    station: &Station,
    closed: &HashSet<NaiveDate>,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<SlotTime> {
    if !station.bookable() {
        return vec![];
    }
    let (earliest, last) = booking_window(&station.rules, now);
    let first = from.max(china_date(now));
    let last = to.min(last);
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter(|d| !closed.contains(d))
        .flat_map(|d| slots_on(&station.hours, &station.rules, d))
        .filter(|s| s.start >= earliest)
        .collect()
}

/// Longest range of dates one slots request may ask for.
pub const MAX_SLOT_DAYS: i64 = 62;

/// Why a booking, cancellation, waitlist entry, attendance mark or rating is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The station is inactive or its hours are not published.
    NotBookable,
    /// No session of this station starts at that instant.
    SlotNotFound,
    /// Before the minimum notice or beyond the booking window.
    OutsideWindow,
    /// The station is closed that day.
    Closed {
        reason: String,
    },
    /// Every seat of the session is taken.
    SlotFull,
    /// One booking per day, or the upcoming limit, reached.
    BookingLimit {
        per_day: bool,
    },
    /// Repeated no-shows: booking is paused until then.
    Paused {
        until: DateTime<Utc>,
    },
    /// Joining the waitlist of a session with a free seat (book it instead).
    SlotAvailable,
    /// Already in line (or booked) for this session.
    AlreadyWaiting,
    /// Already waiting for as many future sessions as the policy allows.
    WaitlistLimit {
        max: u32,
    },
    /// Cancelling after the deadline.
    TooLateToCancel {
        deadline: DateTime<Utc>,
    },
    /// The booking is not in a state that allows this.
    InvalidState(BookingStatus),
    /// Attendance can be marked from the session's start.
    TooEarly {
        from: DateTime<Utc>,
    },
    /// Rating a session one did not attend.
    NotAttended,
    AlreadyRated,
}

/// Finds the session starting at `start` that can be booked at `now`.
pub fn find_slot(
    station: &Station,
    closures: &[Closure],
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<SlotTime, Refusal> {
    if !station.bookable() {
        return Err(Refusal::NotBookable);
    }
    let date = china_date(start);
    let slot = slots_on(&station.hours, &station.rules, date)
        .into_iter()
        .find(|s| s.start == start)
        .ok_or(Refusal::SlotNotFound)?;
    if let Some(c) = closures.iter().find(|c| c.date == date) {
        return Err(Refusal::Closed {
            reason: c.reason.clone(),
        });
    }
    let (earliest, last) = booking_window(&station.rules, now);
    if slot.start < earliest || date > last {
        return Err(Refusal::OutsideWindow);
    }
    Ok(slot)
}

/// Per-deployment rules about one person's bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingPolicy {
    /// Bookings one person may hold on one day (`XINLI_BOOKING_PER_DAY`, 1).
    pub per_day: u32,
    /// Upcoming bookings one person may hold (`XINLI_BOOKING_MAX_UPCOMING`, 3).
    pub max_upcoming: u32,
    /// No-shows within `no_show_days` that pause booking (`XINLI_BOOKING_NO_SHOWS`, 3).
    pub no_show_limit: u32,
    /// (`XINLI_BOOKING_NO_SHOW_DAYS`, 90).
    pub no_show_days: i64,
    /// How long booking is paused (`XINLI_BOOKING_PAUSE_DAYS`, 30).
    pub pause_days: i64,
    /// Sessions one person may wait for at once (`XINLI_BOOKING_MAX_WAITING`, 3): a line
    /// held by one person in every session keeps the others' positions meaningless.
    pub max_waiting: u32,
}

impl Default for BookingPolicy {
    fn default() -> Self {
        Self {
            per_day: 1,
            max_upcoming: 3,
            no_show_limit: 3,
            no_show_days: 90,
            pause_days: 30,
            max_waiting: 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Booked,
    Cancelled,
    Attended,
    NoShow,
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 4] = [
        BookingStatus::Booked,
        BookingStatus::Cancelled,
        BookingStatus::Attended,
        BookingStatus::NoShow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Booked => "booked",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Attended => "attended",
            BookingStatus::NoShow => "no_show",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BookingStatus::Booked => "已预约",
            BookingStatus::Cancelled => "已取消",
            BookingStatus::Attended => "已到场",
            BookingStatus::NoShow => "未到场",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the booking holds its seat (everything but a cancellation).
    pub fn holds_seat(self) -> bool {
        self != BookingStatus::Cancelled
    }
}

/// What can happen to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingAction {
    Cancel,
    MarkAttended,
    MarkNoShow,
}

/// The transition table. Attendance may be corrected (attended ⇄ no-show) by staff; a
/// cancelled booking is final.
pub fn transition(from: BookingStatus, action: BookingAction) -> Option<BookingStatus> {
    use BookingAction as A;
    use BookingStatus as S;
    match (from, action) {
        (S::Booked, A::Cancel) => Some(S::Cancelled),
        (S::Booked | S::Attended | S::NoShow, A::MarkAttended) => Some(S::Attended),
        (S::Booked | S::Attended | S::NoShow, A::MarkNoShow) => Some(S::NoShow),
        _ => None,
    }
}

/// Why a booking was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// By its person.
    User,
    /// The station closed that day.
    Closure,
    /// The person deleted their account.
    AccountDeleted,
}

impl CancelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::User => "user",
            CancelReason::Closure => "closure",
            CancelReason::AccountDeleted => "account_deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::User, Self::Closure, Self::AccountDeleted]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: Uuid,
    pub station_id: Uuid,
    /// `None` once the person deleted their account (the row stays for the figures).
    pub user_id: Option<Uuid>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    /// 1..=seats: which seat of the session this booking holds.
    pub seat: u16,
    pub status: BookingStatus,
    /// How the person wants to be called, and a phone, for the day sheet.
    pub name: Option<String>,
    pub phone: Option<String>,
    pub note: Option<String>,
    pub cancel_reason: Option<CancelReason>,
    /// Set when the booking came from the waitlist.
    pub promoted_at: Option<DateTime<Utc>>,
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a person tells the station when booking, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BookingDetails {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub note: Option<String>,
}

impl BookingDetails {
    pub fn parse(
        name: Option<&str>,
        phone: Option<&str>,
        note: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let name = optional_text(&mut c, "name", "称呼", name, 32);
        let note = optional_text(&mut c, "note", "备注", note, 200);
        let phone = match phone {
            Some(p) if !p.trim().is_empty() => {
                let p = p.trim();
                let ok = (5..=20).contains(&p.len())
                    && p.chars().all(|c| c.is_ascii_digit() || c == '-')
                    && p.starts_with(|c: char| c.is_ascii_digit());
                if ok {
                    Some(Some(p.to_owned()))
                } else {
                    c.push("phone", "请填写有效的联系电话（数字，可含连字符）");
                    None
                }
            }
            _ => Some(None),
        };
        c.finish()?;
        Ok(Self {
            name: name.flatten(),
            phone: phone.flatten(),
            note: note.flatten(),
        })
    }
}

/// One person's bookings that the booking rules look at: those holding a seat from the start
/// of yesterday on, and the no-shows of the last `no_show_days`.
#[derive(Debug, Clone, Default)]
pub struct BookerRecord {
    /// (start, status) of seat-holding bookings.
    pub bookings: Vec<(DateTime<Utc>, BookingStatus)>,
    /// Starts of sessions marked no-show.
    pub no_shows: Vec<DateTime<Utc>>,
}

/// Until when a person may not book, after `no_show_limit` no-shows within `no_show_days`:
/// the pause runs `pause_days` from the session of the last of them.
pub fn paused_until(
    no_shows: &[DateTime<Utc>],
    now: DateTime<Utc>,
    policy: &BookingPolicy,
) -> Option<DateTime<Utc>> {
    let limit = usize::try_from(policy.no_show_limit).ok()?.max(1);
    let mut times: Vec<_> = no_shows.to_vec();
    times.sort();
    // The latest run of `limit` no-shows that fits within `no_show_days`.
    times
        .windows(limit)
        .filter(|w| w[limit - 1] - w[0] <= Duration::days(policy.no_show_days))
        .map(|w| w[limit - 1] + Duration::days(policy.pause_days))
        .max()
        .filter(|until| *until > now)
}

/// Whether this person may take `slot` now.
pub fn check_booker(
    record: &BookerRecord,
    slot: &SlotTime,
    now: DateTime<Utc>,
    policy: &BookingPolicy,
) -> Result<(), Refusal> {
    if let Some(until) = paused_until(&record.no_shows, now, policy) {
        return Err(Refusal::Paused { until });
    }
    let day = china_date(slot.start);
    let same_day = record
        .bookings
        .iter()
        .filter(|(start, st)| st.holds_seat() && china_date(*start) == day)
        .count();
    if same_day >= policy.per_day as usize {
        return Err(Refusal::BookingLimit { per_day: true });
    }
    let upcoming = record
        .bookings
        .iter()
        .filter(|(start, st)| *st == BookingStatus::Booked && *start > now)
        .count();
    if upcoming >= policy.max_upcoming as usize {
        return Err(Refusal::BookingLimit { per_day: false });
    }
    Ok(())
}

/// The lowest free seat of a session, given the seats its bookings hold.
pub fn free_seat(seats: u16, taken: &[u16]) -> Option<u16> {
    (1..=seats).find(|s| !taken.contains(s))
}

/// Seats left: never negative, also when an admin lowered the seats below the bookings.
pub fn remaining(seats: u16, taken: usize) -> u16 {
    u16::try_from(usize::from(seats).saturating_sub(taken)).unwrap_or(0)
}

/// Which stations a person asks to see: those of a region, those serving a group (stations for
/// everyone included).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub region: Option<String>,
    pub audience: Option<crate::account::AudienceGroup>,
}

impl ListFilter {
    pub fn matches(&self, s: &Station) -> bool {
        self.region.as_deref().is_none_or(|r| s.region == r)
            && self.audience.is_none_or(|a| a.served_by(&s.audiences))
    }
}

/// Until when a booking of the session starting at `start_at` can be cancelled online.
pub fn cancel_deadline(start_at: DateTime<Utc>, rules: &BookingRules) -> DateTime<Utc> {
    start_at - Duration::hours(i64::from(rules.cancel_hours))
}

/// Whether its person may cancel the booking now.
pub fn check_cancel(
    booking: &Booking,
    rules: &BookingRules,
    now: DateTime<Utc>,
) -> Result<BookingStatus, Refusal> {
    let next = transition(booking.status, BookingAction::Cancel)
        .ok_or(Refusal::InvalidState(booking.status))?;
    let deadline = cancel_deadline(booking.start_at, rules);
    if now > deadline {
        return Err(Refusal::TooLateToCancel { deadline });
    }
    Ok(next)
}

/// Attendance is marked from the session's start, on a booking that was not cancelled.
pub fn check_attendance(
    booking: &Booking,
    attended: bool,
    now: DateTime<Utc>,
) -> Result<BookingStatus, Refusal> {
    let action = if attended {
        BookingAction::MarkAttended
    } else {
        BookingAction::MarkNoShow
    };
    let next = transition(booking.status, action).ok_or(Refusal::InvalidState(booking.status))?;
    if now < booking.start_at {
        return Err(Refusal::TooEarly {
            from: booking.start_at,
        });
    }
    Ok(next)
}

/// A rating: its person, once, after attending.
pub fn check_rating(booking: &Booking) -> Result<(), Refusal> {
    if booking.status != BookingStatus::Attended {
        return Err(Refusal::NotAttended);
    }
    if booking.rating.is_some() {
        return Err(Refusal::AlreadyRated);
    }
    Ok(())
}

pub fn parse_rating(
    score: i64,
    comment: Option<&str>,
) -> Result<(u8, Option<String>), ValidationError> {
    let mut c = Collector::new();
    let score = match u8::try_from(score) {
        Ok(s) if (1..=5).contains(&s) => Some(s),
        _ => {
            c.push("score", "评分须为 1 到 5 分");
            None
        }
    };
    let comment = optional_text(&mut c, "comment", "评价", comment, 300);
    c.finish()?;
    match (score, comment) {
        (Some(s), Some(comment)) => Ok((s, comment)),
        _ => Err(ValidationError::single("score", "评分有误")),
    }
}

/// Who may read a station's day sheet and mark attendance: admins, and the counselors on
/// duty there (a counselor who became a supervisor or admin is on no roster any more; the
/// role is checked too, so that a roster row left behind gives nothing).
pub fn keeps_day_sheet(station: &Station, staff_id: Uuid, role: StaffRole) -> bool {
    role == StaffRole::Admin
        || (role == StaffRole::Counselor && station.counselor_ids.contains(&staff_id))
}

/// How far back a day sheet reaches (names and phones of past sessions are needed for a
/// call back, not for browsing); see also `retention::Kept::BookingContacts`.
pub const DAY_SHEET_PAST_DAYS: i64 = 30;
/// How far ahead a day sheet reaches.
pub const DAY_SHEET_AHEAD_DAYS: i64 = 7;

/// A day sheet is read only for the last 30 days and the coming 7 (China time).
pub fn day_sheet_date(date: NaiveDate, today: NaiveDate) -> Result<(), ValidationError> {
    let from = today - chrono::Days::new(DAY_SHEET_PAST_DAYS as u64);
    let to = today + chrono::Days::new(DAY_SHEET_AHEAD_DAYS as u64);
    if date < from || date > to {
        return Err(ValidationError::single(
            "date",
            format!("只能查看过去 {DAY_SHEET_PAST_DAYS} 天到未来 {DAY_SHEET_AHEAD_DAYS} 天的名单"),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitStatus {
    Waiting,
    /// A seat freed and the booking was made for them.
    Promoted,
    /// They left the line, or the session passed without a seat.
    Left,
}

impl WaitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitStatus::Waiting => "waiting",
            WaitStatus::Promoted => "promoted",
            WaitStatus::Left => "left",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Waiting, Self::Promoted, Self::Left]
            .into_iter()
            .find(|w| w.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitEntry {
    pub id: Uuid,
    pub station_id: Uuid,
    pub user_id: Option<Uuid>,
    pub start_at: DateTime<Utc>,
    pub status: WaitStatus,
    /// 1 = next in line; `None` unless waiting.
    pub position: Option<u32>,
    pub booking_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Joining the line of a session: only when it is full, not twice, not while holding a seat
/// in it, not while waiting for [`BookingPolicy::max_waiting`] other future sessions, and not
/// while paused.
pub fn check_join(
    remaining: u16,
    holds_seat_in_slot: bool,
    already_waiting: bool,
    waiting_elsewhere: u32,
    record: &BookerRecord,
    now: DateTime<Utc>,
    policy: &BookingPolicy,
) -> Result<(), Refusal> {
    if holds_seat_in_slot || already_waiting {
        return Err(Refusal::AlreadyWaiting);
    }
    if remaining > 0 {
        return Err(Refusal::SlotAvailable);
    }
    if waiting_elsewhere >= policy.max_waiting {
        return Err(Refusal::WaitlistLimit {
            max: policy.max_waiting,
        });
    }
    if let Some(until) = paused_until(&record.no_shows, now, policy) {
        return Err(Refusal::Paused { until });
    }
    Ok(())
}

/// A waiting entry's place in its session's line: the line goes by when each joined (the
/// entry's id breaks ties), 1 = next. `line` holds every waiting entry of the session.
pub fn position_in_line(entry: (DateTime<Utc>, Uuid), line: &[(DateTime<Utc>, Uuid)]) -> u32 {
    let ahead = line.iter().filter(|other| **other <= entry).count();
    u32::try_from(ahead).unwrap_or(u32::MAX)
}

/// Whom a freed seat goes to first: the waiting line in the order [`position_in_line`] counts
/// (when each joined, the entry's id breaking ties). Going down the line, a seat goes to the
/// first person whose account still exists and whom [`check_booker`] allows; the others keep
/// their place, and the line stops when no seat is left.
pub fn promotion_order<T>(line: &mut [T], key: impl Fn(&T) -> (DateTime<Utc>, Uuid)) {
    line.sort_by_key(key);
}

/// Events a booking owes its person, written to the outbox in the transaction that caused
/// them, so that the notifications module sends them and a cancelled booking never gets a
/// reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingEvent {
    /// Booked by the person.
    Created,
    /// Cancelled by the station (a closure), not by the person.
    Cancelled,
    /// A seat freed and the person's waitlist entry became a booking.
    Promoted,
    /// 24 h before the session.
    Reminder,
}

/// How long before a session its reminder is due.
pub const REMINDER_BEFORE_HOURS: i64 = 24;

impl BookingEvent {
    /// The notification this event becomes.
    pub fn event(self) -> crate::notification::Event {
        use crate::notification::Event;
        match self {
            BookingEvent::Created => Event::BookingCreated,
            BookingEvent::Cancelled | BookingEvent::Promoted => Event::BookingChanged,
            BookingEvent::Reminder => Event::BookingReminder,
        }
    }

    /// The outbox event name (`booking_reminder`, `booking_changed`, …).
    pub fn name(self) -> &'static str {
        self.event().as_str()
    }

    /// What the message may say: the station, the session's time and address, and for a
    /// change what changed. Nothing the person wrote.
    pub fn payload(self, station: &Station, start: DateTime<Utc>) -> crate::notification::Payload {
        let mut p = crate::notification::Payload::new();
        p.insert("station".into(), station.name.clone());
        p.insert("time".into(), crate::notification::format_time(start));
        if let Some(a) = &station.address {
            p.insert("address".into(), a.clone());
        }
        let (status, change) = match self {
            BookingEvent::Created => ("预约成功", None),
            BookingEvent::Reminder => ("明天咨询", None),
            BookingEvent::Promoted => ("候补成功", Some("候补成功，已为你预约")),
            BookingEvent::Cancelled => ("预约取消", Some("站点停诊，预约已取消")),
        };
        p.insert("status".into(), status.into());
        if let Some(c) = change {
            p.insert("change".into(), c.into());
        }
        p
    }

    /// The notice of this event about `booking` (at `start`) for its person, due at `due`.
    pub fn notice(
        self,
        station: &Station,
        booking: Uuid,
        start: DateTime<Utc>,
        user: Uuid,
        due: DateTime<Utc>,
    ) -> crate::notification::Notice {
        crate::notification::Notice {
            event: self.event(),
            user,
            booking: Some(booking),
            key: self.idempotency_key(booking),
            due_at: due,
            payload: self.payload(station, start),
        }
    }

    /// One event per booking and kind: the outbox refuses a second one.
    pub fn idempotency_key(self, booking: Uuid) -> String {
        let kind = match self {
            BookingEvent::Created => "created",
            BookingEvent::Cancelled => "cancelled",
            BookingEvent::Promoted => "promoted",
            BookingEvent::Reminder => "reminder",
        };
        format!("booking:{booking}:{kind}")
    }
}

/// The events a new booking (made by its person, or `promoted` from the waitlist) writes:
/// the confirmation now, and the reminder 24 h before when that is still ahead.
pub fn events_of_new_booking(
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    promoted: bool,
) -> Vec<(BookingEvent, DateTime<Utc>)> {
    let mut out = vec![(
        if promoted {
            BookingEvent::Promoted
        } else {
            BookingEvent::Created
        },
        now,
    )];
    let due = start - Duration::hours(REMINDER_BEFORE_HOURS);
    if due > now {
        out.push((BookingEvent::Reminder, due));
    }
    out
}

/// A row of the outbox, for the notifications module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub event: String,
    pub user_id: Uuid,
    pub booking_id: Option<Uuid>,
    pub key: String,
    pub due_at: DateTime<Utc>,
    pub status: String,
}

/// A station's figures for one month (China time), by the month of the session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthFigures {
    pub station_id: Uuid,
    /// `YYYY-MM`.
    pub month: String,
    /// Every booking made for a session of the month, cancelled ones included.
    pub bookings: u64,
    pub attended: u64,
    pub no_shows: u64,
    pub cancelled: u64,
    /// Booked, session not marked yet.
    pub unmarked: u64,
    pub ratings: u64,
    /// Mean of the ratings, 2 decimals; `None` without ratings.
    pub average_rating: Option<f64>,
}

/// One booking as the figures see it.
#[derive(Debug, Clone, Copy)]
pub struct BookingFact {
    pub station_id: Uuid,
    pub start_at: DateTime<Utc>,
    pub status: BookingStatus,
    pub rating: Option<u8>,
}

/// Figures per station and month, ordered by month then station.
pub fn month_figures(facts: &[BookingFact]) -> Vec<MonthFigures> {
    let mut map: std::collections::BTreeMap<(String, Uuid), (MonthFigures, u64)> =
        Default::default();
    for f in facts {
        let local = f.start_at.with_timezone(&CHINA);
        let month = format!("{:04}-{:02}", local.year(), local.month());
        let (m, sum) = map.entry((month.clone(), f.station_id)).or_insert_with(|| {
            (
                MonthFigures {
                    station_id: f.station_id,
                    month,
                    ..Default::default()
                },
                0,
            )
        });
        m.bookings += 1;
        match f.status {
            BookingStatus::Attended => m.attended += 1,
            BookingStatus::NoShow => m.no_shows += 1,
            BookingStatus::Cancelled => m.cancelled += 1,
            BookingStatus::Booked => m.unmarked += 1,
        }
        if let Some(r) = f.rating {
            m.ratings += 1;
            *sum += u64::from(r);
        }
    }
    map.into_values()
        .map(|(mut m, sum)| {
            if m.ratings > 0 {
                m.average_rating = Some((sum as f64 / m.ratings as f64 * 100.0).round() / 100.0);
            }
            m
        })
        .collect()
}

/// A station's month as an admin sees it (`crate::disclosure`): `None` where hidden.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminMonthFigures {
    pub station_id: Uuid,
    pub month: String,
    /// Standing alone: hidden from 1 to 4.
    pub bookings: Option<u64>,
    /// The four parts of `bookings`, hidden together by the small-cell rule.
    pub attended: Option<u64>,
    pub no_shows: Option<u64>,
    pub cancelled: Option<u64>,
    pub unmarked: Option<u64>,
    pub ratings: Option<u64>,
    /// Over at least `ADMIN_MIN` ratings.
    pub average_rating: Option<f64>,
}

impl MonthFigures {
    pub fn for_admin(&self) -> AdminMonthFigures {
        use crate::disclosure::{ADMIN_MIN, admin_cells, admin_count};
        let parts = admin_cells(&[
            ((), self.attended),
            ((), self.no_shows),
            ((), self.cancelled),
            ((), self.unmarked),
        ]);
        AdminMonthFigures {
            station_id: self.station_id,
            month: self.month.clone(),
            bookings: admin_count(self.bookings),
            attended: parts[0].1,
            no_shows: parts[1].1,
            cancelled: parts[2].1,
            unmarked: parts[3].1,
            ratings: admin_count(self.ratings),
            average_rating: self.average_rating.filter(|_| self.ratings >= ADMIN_MIN),
        }
    }
}

/// Stations and their closures and duty rosters.
#[async_trait]
pub trait StationRepository: Send + Sync {
    /// Stations that are not deleted; `active_only` for the public list.
    async fn list(&self, active_only: bool) -> Result<Vec<Station>, RepoError>;
    async fn find(&self, id: Uuid) -> Result<Option<Station>, RepoError>;
    async fn create(&self, input: StationInput, now: DateTime<Utc>) -> Result<Station, RepoError>;
    /// Replaces a station; when seats were added, people waiting for future sessions get
    /// them (in the same transaction).
    async fn update(
        &self,
        id: Uuid,
        input: StationInput,
        now: DateTime<Utc>,
        policy: &BookingPolicy,
    ) -> Result<Option<Station>, RepoError>;
    /// Soft delete: hidden everywhere; future bookings are cancelled as by a closure.
    async fn delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError>;
    async fn closures(
        &self,
        station: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Closure>, RepoError>;
    /// Adds (or replaces the reason of) a closure; the day's bookings are cancelled with
    /// reason `closure` and an outbox event, the day's waitlist cleared. Returns how many
    /// bookings were cancelled; `None` when the station does not exist.
    async fn add_closure(
        &self,
        station: Uuid,
        closure: Closure,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, RepoError>;
    async fn remove_closure(&self, station: Uuid, date: NaiveDate) -> Result<bool, RepoError>;
    /// Takes a staff member off every station's duty roster (they are no longer a
    /// counselor); returns on how many stations they were.
    async fn remove_from_duty(&self, staff: Uuid) -> Result<u64, RepoError>;
}

/// A failed booking operation: a rule said no, or the storage failed.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The station, booking or waitlist entry does not exist or is not the caller's.
    #[error("not found")]
    NotFound,
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl From<Refusal> for BookingError {
    fn from(r: Refusal) -> Self {
        BookingError::Refused(r)
    }
}

/// A person's request for a session.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub station_id: Uuid,
    pub user_id: Uuid,
    pub start_at: DateTime<Utc>,
    pub details: BookingDetails,
}

/// Bookings, the waitlist, attendance and ratings.
#[async_trait]
pub trait BookingRepository: Send + Sync {
    /// Seats held per session start of a station in `[from, to)`.
    async fn taken(
        &self,
        station: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u16)>, RepoError>;
    /// Books a seat in one transaction that serialises bookings of the station and of the
    /// person: [`find_slot`], [`check_booker`], [`free_seat`] decide.
    async fn book(
        &self,
        req: BookingRequest,
        now: DateTime<Utc>,
        policy: &BookingPolicy,
    ) -> Result<Booking, BookingError>;
    async fn join_waitlist(
        &self,
        station: Uuid,
        user: Uuid,
        start_at: DateTime<Utc>,
        now: DateTime<Utc>,
        policy: &BookingPolicy,
    ) -> Result<WaitEntry, BookingError>;
    /// Leaves the line; `false` when there was no waiting entry of this person.
    async fn leave_waitlist(&self, entry: Uuid, user: Uuid) -> Result<bool, RepoError>;
    async fn find(&self, id: Uuid) -> Result<Option<Booking>, RepoError>;
    /// Cancels the person's booking ([`check_cancel`]); the freed seat goes to the first
    /// eligible person in line, the pending reminder is deleted, all in one transaction.
    async fn cancel(
        &self,
        id: Uuid,
        user: Uuid,
        now: DateTime<Utc>,
        policy: &BookingPolicy,
    ) -> Result<Booking, BookingError>;
    async fn mark_attendance(
        &self,
        id: Uuid,
        attended: bool,
        staff: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Booking, BookingError>;
    async fn rate(
        &self,
        id: Uuid,
        user: Uuid,
        score: u8,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Booking, BookingError>;
    async fn of_user(&self, user: Uuid, page: PageRequest) -> Result<Page<Booking>, RepoError>;
    /// Waiting (with positions) and past entries of a person, newest first.
    /// The person's waitlist entries, newest first, with their positions.
    async fn waitlist_of_user(
        &self,
        user: Uuid,
        page: PageRequest,
    ) -> Result<Page<WaitEntry>, RepoError>;
    /// Seat-holding bookings of a station on one China date, by start then seat.
    async fn day_sheet(&self, station: Uuid, date: NaiveDate) -> Result<Vec<Booking>, RepoError>;
    async fn facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        station: Option<Uuid>,
    ) -> Result<Vec<BookingFact>, RepoError>;
    /// Outbox rows of a person's bookings (for export and tests of the reminder rules).
    async fn outbox_of_user(&self, user: Uuid) -> Result<Vec<OutboxEvent>, RepoError>;
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::schedule::{Day, Window};

    fn cst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        CHINA
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// 湖南省脑科医院 (seed 002 附件 2): Monday morning, Wednesday and Thursday afternoon.
    fn brain_hospital() -> Station {
        let w = |d, s, e| Window::parse("w", d, s, e).unwrap();
        Station {
            id: Uuid::nil(),
            name: "湖南省脑科医院".into(),
            unit: "湖南省直机关工会".into(),
            address: Some("长沙市芙蓉中路三段 427 号".into()),
            region: "长沙市".into(),
            phone: None,
            audiences: vec![AudienceGroup::Worker],
            hours: ServiceHours::Weekly {
                windows: vec![
                    w(Day::Mon, "09:00", "12:00"),
                    w(Day::Wed, "14:30", "17:30"),
                    w(Day::Thu, "14:30", "17:30"),
                ],
            },
            note: None,
            rules: BookingRules::default(),
            counselor_ids: vec![],
            active: true,
            created_at: cst(2026, 11, 1, 0, 0),
            updated_at: cst(2026, 11, 1, 0, 0),
        }
    }

    // 2026-11-30 is a Monday.
    #[test]
    fn a_morning_window_is_cut_into_sessions_with_breaks() {
        let s = brain_hospital();
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let slots = slots_on(&s.hours, &s.rules, monday);
        let starts: Vec<_> = slots.iter().map(|s| s.start).collect();
        assert_eq!(
            starts,
            [
                cst(2026, 11, 30, 9, 0),
                cst(2026, 11, 30, 10, 0),
                cst(2026, 11, 30, 11, 0)
            ]
        );
        assert_eq!(slots[2].end, cst(2026, 11, 30, 11, 50));
        // Tuesday: closed.
        assert!(slots_on(&s.hours, &s.rules, monday.succ_opt().unwrap()).is_empty());
        // An afternoon window 14:30–17:30 with 60-minute sessions and no break: 3 sessions.
        let rules = BookingRules {
            slot_minutes: 60,
            break_minutes: 0,
            ..BookingRules::default()
        };
        let wed = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(slots_on(&s.hours, &rules, wed).len(), 3);
    }

    #[test]
    fn the_window_opens_a_week_ahead_after_the_notice_and_skips_closures() {
        let s = brain_hospital();
        // Monday 08:00: today 09:00 is inside the 2 h notice? No: 1 h ahead, so not offered.
        let now = cst(2026, 11, 30, 8, 0);
        let from = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let to = from + Duration::days(30);
        let slots = offered_slots(&s, &HashSet::new(), from, to, now);
        assert_eq!(slots[0].start, cst(2026, 11, 30, 10, 0));
        // Last offered date: today + 7 = next Monday; nothing after it.
        assert_eq!(slots.last().unwrap().start, cst(2026, 12, 7, 11, 0));
        let closed: HashSet<_> = [NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()].into();
        let with_closure = offered_slots(&s, &closed, from, to, now);
        assert_eq!(slots.len() - with_closure.len(), 3);
        // find_slot names each refusal.
        let closures = [Closure {
            date: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            reason: "院内培训".into(),
        }];
        assert_eq!(
            find_slot(&s, &closures, cst(2026, 12, 2, 14, 30), now),
            Err(Refusal::Closed {
                reason: "院内培训".into()
            })
        );
        assert_eq!(
            find_slot(&s, &[], cst(2026, 12, 2, 14, 35), now),
            Err(Refusal::SlotNotFound)
        );
        assert_eq!(
            find_slot(&s, &[], cst(2026, 11, 30, 9, 0), now),
            Err(Refusal::OutsideWindow)
        );
        assert_eq!(
            find_slot(&s, &[], cst(2026, 12, 14, 9, 0), now),
            Err(Refusal::OutsideWindow)
        );
        assert!(find_slot(&s, &[], cst(2026, 12, 7, 9, 0), now).is_ok());
        let unknown = Station {
            hours: ServiceHours::Unknown,
            ..brain_hospital()
        };
        assert_eq!(
            find_slot(&unknown, &[], cst(2026, 12, 7, 9, 0), now),
            Err(Refusal::NotBookable)
        );
        assert!(offered_slots(&unknown, &HashSet::new(), from, to, now).is_empty());
    }

    #[test]
    fn one_a_day_three_upcoming_and_a_pause_after_three_no_shows() {
        let policy = BookingPolicy::default();
        let now = cst(2026, 11, 30, 8, 0);
        let slot = SlotTime {
            start: cst(2026, 12, 2, 14, 30),
            end: cst(2026, 12, 2, 15, 20),
        };
        let mut record = BookerRecord::default();
        assert!(check_booker(&record, &slot, now, &policy).is_ok());
        record
            .bookings
            .push((cst(2026, 12, 2, 9, 0), BookingStatus::Booked));
        assert_eq!(
            check_booker(&record, &slot, now, &policy),
            Err(Refusal::BookingLimit { per_day: true })
        );
        // A cancelled booking that day does not count.
        record.bookings[0].1 = BookingStatus::Cancelled;
        assert!(check_booker(&record, &slot, now, &policy).is_ok());
        record.bookings = vec![
            (cst(2026, 12, 1, 9, 0), BookingStatus::Booked),
            (cst(2026, 12, 3, 9, 0), BookingStatus::Booked),
            (cst(2026, 12, 4, 9, 0), BookingStatus::Booked),
        ];
        assert_eq!(
            check_booker(&record, &slot, now, &policy),
            Err(Refusal::BookingLimit { per_day: false })
        );
        record.bookings.clear();
        record.no_shows = vec![
            cst(2026, 9, 1, 9, 0),
            cst(2026, 10, 1, 9, 0),
            cst(2026, 11, 20, 9, 0),
        ];
        // 2026-09-01 to 2026-11-20 is 80 days: paused 30 days from the last one.
        assert_eq!(
            check_booker(&record, &slot, now, &policy),
            Err(Refusal::Paused {
                until: cst(2026, 12, 20, 9, 0)
            })
        );
        // Spread over more than 90 days: no pause.
        record.no_shows[0] = cst(2026, 8, 1, 9, 0);
        assert!(check_booker(&record, &slot, now, &policy).is_ok());
        // The pause ends.
        record.no_shows[0] = cst(2026, 9, 1, 9, 0);
        assert!(check_booker(&record, &slot, cst(2026, 12, 21, 0, 0), &policy).is_ok());
    }

    #[test]
    fn seats_cancel_deadline_attendance_and_rating() {
        assert_eq!(free_seat(2, &[1]), Some(2));
        assert_eq!(free_seat(2, &[2]), Some(1));
        assert_eq!(free_seat(2, &[1, 2]), None);
        assert_eq!(remaining(1, 3), 0);
        let start = cst(2026, 12, 2, 14, 30);
        let mut b = Booking {
            id: Uuid::nil(),
            station_id: Uuid::nil(),
            user_id: Some(Uuid::nil()),
            start_at: start,
            end_at: start + Duration::minutes(50),
            seat: 1,
            status: BookingStatus::Booked,
            name: None,
            phone: None,
            note: None,
            cancel_reason: None,
            promoted_at: None,
            rating: None,
            rating_comment: None,
            created_at: start,
            updated_at: start,
        };
        let rules = BookingRules::default();
        assert_eq!(
            check_cancel(&b, &rules, cst(2026, 12, 2, 12, 30)),
            Ok(BookingStatus::Cancelled)
        );
        assert_eq!(
            check_cancel(&b, &rules, cst(2026, 12, 2, 12, 31)),
            Err(Refusal::TooLateToCancel {
                deadline: cst(2026, 12, 2, 12, 30)
            })
        );
        assert_eq!(
            check_attendance(&b, true, cst(2026, 12, 2, 14, 29)),
            Err(Refusal::TooEarly { from: start })
        );
        assert_eq!(check_rating(&b), Err(Refusal::NotAttended));
        assert_eq!(
            check_attendance(&b, false, start),
            Ok(BookingStatus::NoShow)
        );
        b.status = BookingStatus::NoShow;
        // A correction is allowed.
        assert_eq!(
            check_attendance(&b, true, start),
            Ok(BookingStatus::Attended)
        );
        b.status = BookingStatus::Attended;
        assert_eq!(check_rating(&b), Ok(()));
        b.rating = Some(5);
        assert_eq!(check_rating(&b), Err(Refusal::AlreadyRated));
        b.status = BookingStatus::Cancelled;
        assert_eq!(
            check_attendance(&b, true, start),
            Err(Refusal::InvalidState(BookingStatus::Cancelled))
        );
        assert_eq!(
            check_cancel(&b, &rules, cst(2026, 12, 1, 0, 0)),
            Err(Refusal::InvalidState(BookingStatus::Cancelled))
        );
        assert!(parse_rating(0, None).is_err());
        assert!(parse_rating(6, None).is_err());
        assert_eq!(parse_rating(4, Some("  ")).unwrap(), (4, None));
    }

    #[test]
    fn reminders_only_when_still_ahead_and_figures_per_month() {
        let now = cst(2026, 11, 30, 8, 0);
        let ev = events_of_new_booking(cst(2026, 12, 2, 14, 30), now, false);
        assert_eq!(
            ev,
            [
                (BookingEvent::Created, now),
                (BookingEvent::Reminder, cst(2026, 12, 1, 14, 30))
            ]
        );
        let ev = events_of_new_booking(cst(2026, 11, 30, 14, 30), now, true);
        assert_eq!(ev, [(BookingEvent::Promoted, now)]);
        let id = Uuid::nil();
        let fact = |d, status, rating| BookingFact {
            station_id: id,
            start_at: cst(2026, 11, d, 9, 0),
            status,
            rating,
        };
        let figures = month_figures(&[
            fact(2, BookingStatus::Attended, Some(5)),
            fact(3, BookingStatus::Attended, Some(4)),
            fact(4, BookingStatus::NoShow, None),
            fact(5, BookingStatus::Cancelled, None),
            fact(30, BookingStatus::Attended, Some(4)),
        ]);
        assert_eq!(figures.len(), 1);
        let m = &figures[0];
        assert_eq!(
            (m.bookings, m.attended, m.no_shows, m.cancelled),
            (5, 3, 1, 1)
        );
        assert_eq!(m.average_rating, Some(4.33));
        // The first of December 00:30 China time is still 2026-11-30 in UTC: counted in December.
        let dec = month_figures(&[BookingFact {
            station_id: id,
            start_at: cst(2026, 12, 1, 0, 30),
            status: BookingStatus::Booked,
            rating: None,
        }]);
        assert_eq!(dec[0].month, "2026-12");
    }

    #[test]
    fn station_validation_names_fields() {
        let fields = |hours, rules| StationFields {
            name: "",
            unit: "湖南省直机关工会",
            address: None,
            region: "长沙市",
            phone: Some("abc"),
            audiences: vec![],
            hours: Ok(hours),
            note: None,
            rules,
            counselor_ids: vec![],
            active: true,
        };
        let e = StationInput::parse(fields(
            ServiceHours::Always,
            BookingRules {
                seats: 0,
                ..BookingRules::default()
            },
        ))
        .unwrap_err();
        let names: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["name", "phone", "audiences", "hours.kind", "seats"]);
        let short = ServiceHours::Weekly {
            windows: vec![Window::parse("w", Day::Mon, "09:00", "09:30").unwrap()],
        };
        let e = StationInput::parse(fields(short, BookingRules::default())).unwrap_err();
        assert!(e.0.iter().any(|f| f.field == "hours.windows[0]"));
    }
}
