//! 热线一键拨打: the hotline directory, service hours and whether a line is open now.
//!
//! Hours are in China Standard Time (Asia/Shanghai: UTC+8 all year, no daylight saving since
//! 1991), computed from the instant given, never from the server's local time zone.

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::AudienceGroup;
use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use crate::validation::{self, Collector, ValidationError};

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// Asia/Shanghai's offset. A fixed offset is exact for every date this service will see.
pub const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("+08:00 is a valid offset"),
};

pub fn china_offset() -> FixedOffset {
    CHINA
}

/// The local (China) calendar date of an instant.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&china_offset()).date_naive()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    pub fn index(self) -> i64 {
        match self {
            Day::Mon => 0,
            Day::Tue => 1,
            Day::Wed => 2,
            Day::Thu => 3,
            Day::Fri => 4,
            Day::Sat => 5,
            Day::Sun => 6,
        }
    }

    pub fn label(self) -> &'static str {
        ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][self.index() as usize]
    }
}

/// A weekly opening window: on `day`, from `start` to `end` minutes after midnight. An `end`
/// not after `start` means the window crosses midnight into the next day (22:00–02:00);
/// `end` may be 1440 (24:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub day: Day,
    pub start: u16,
    pub end: u16,
}

impl Window {
    /// Parses `HH:MM` times; as an end, `24:00` and `00:00` both mean midnight.
    pub fn parse(field: &str, day: Day, start: &str, end: &str) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let s = parse_hhmm(start, false);
        let e = parse_hhmm(end, true);
        if s.is_none() {
            c.push(
                format!("{field}.start"),
                "开始时间格式须为 HH:MM（00:00–23:59）",
            );
        }
        if e.is_none() {
            c.push(
                format!("{field}.end"),
                "结束时间格式须为 HH:MM（00:01–24:00）",
            );
        }
        c.finish()?;
        let (Some(start), Some(end)) = (s, e) else {
            return Err(ValidationError::single(field, "时间格式有误"));
        };
        if start == end {
            return Err(ValidationError::single(
                format!("{field}.end"),
                "结束时间不能与开始时间相同",
            ));
        }
        Ok(Self { day, start, end })
    }

    /// Seconds from Monday 00:00 to the start and end of this window.
    fn span(self) -> (i64, i64) {
        let base = self.day.index() * DAY;
        let s = base + i64::from(self.start) * 60;
        let mut e = base + i64::from(self.end) * 60;
        if self.end <= self.start {
            e += DAY;
        }
        (s, e)
    }
}

pub fn format_hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn parse_hhmm(s: &str, allow_24: bool) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m > 59 {
        return None;
    }
    match (h, m) {
        (24, 0) if allow_24 => Some(1440),
        (h, m) if h < 24 => Some(h * 60 + m),
        _ => None,
    }
}

/// When a line answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServiceHours {
    /// 7×24.
    Always,
    /// Open during these weekly windows.
    Weekly { windows: Vec<Window> },
    /// Not published by an authoritative source; we do not guess.
    Unknown,
}

/// Whether a line is open at an instant, and when that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenStatus {
    /// `None` when the hours are unknown.
    pub open: Option<bool>,
    /// The next opening (when closed) or closing (when open); `None` for 7×24 or unknown.
    pub next_change: Option<DateTime<Utc>>,
}

impl ServiceHours {
    pub fn status_at(&self, now: DateTime<Utc>) -> OpenStatus {
        let windows = match self {
            ServiceHours::Always => {
                return OpenStatus {
                    open: Some(true),
                    next_change: None,
                };
            }
            ServiceHours::Unknown => {
                return OpenStatus {
                    open: None,
                    next_change: None,
                };
            }
            ServiceHours::Weekly { windows } => windows,
        };
        if windows.is_empty() {
            return OpenStatus {
                open: Some(false),
                next_change: None,
            };
        }
        let local = now.with_timezone(&CHINA);
        let t = i64::from(local.weekday().num_days_from_monday()) * DAY
            + i64::from(local.num_seconds_from_midnight());
        let week_start = now
            - Duration::seconds(t)
            - Duration::nanoseconds(i64::from(local.nanosecond() % 1_000_000_000));
        // Unroll the weekly windows over three weeks and merge touching ones, so that
        // "Mon 20:00–24:00" followed by "Tue 00:00–08:00" is one opening, and a window that
        // crosses Sunday midnight is seen from Monday morning.
        let mut spans: Vec<(i64, i64)> = windows
            .iter()
            .flat_map(|w| {
                let (s, e) = w.span();
                [-1, 0, 1].map(|k| (s + k * WEEK, e + k * WEEK))
            })
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let at = |secs: i64| week_start + Duration::seconds(secs);
        if let Some(&(s, e)) = merged.iter().find(|(s, e)| *s <= t && t < *e) {
            if e - s >= WEEK {
                return OpenStatus {
                    open: Some(true),
                    next_change: None,
                };
            }
            return OpenStatus {
                open: Some(true),
                next_change: Some(at(e)),
            };
        }
        let next = merged.iter().map(|(s, _)| *s).find(|s| *s > t);
        OpenStatus {
            open: Some(false),
            next_change: next.map(at),
        }
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        if let ServiceHours::Weekly { windows } = self
            && windows.is_empty()
        {
            return Err(ValidationError::single(
                "hours.windows",
                "按周开放时须至少填写一个时段",
            ));
        }
        Ok(())
    }
}

/// A short Chinese sentence for the mini-program: "24 小时服务", "服务中，今天 20:00 结束", …
pub fn describe(status: OpenStatus, now: DateTime<Utc>) -> String {
    let today = now.with_timezone(&CHINA).date_naive();
    // `closing`: a close at midnight reads as 24:00 of the day before.
    let when = |t: DateTime<Utc>, closing: bool| {
        let local = t.with_timezone(&CHINA);
        let (date, time) = if closing && local.hour() == 0 && local.minute() == 0 {
            (local.date_naive() - Duration::days(1), "24:00".to_owned())
        } else {
            (
                local.date_naive(),
                format!("{:02}:{:02}", local.hour(), local.minute()),
            )
        };
        let day = match (date - today).num_days() {
            0 => "今天",
            1 => "明天",
            _ => Day::ALL[date.weekday().num_days_from_monday() as usize].label(),
        };
        format!("{day} {time}")
    };
    match (status.open, status.next_change) {
        (None, _) => "服务时间未公布，请以实际接通为准".into(),
        (Some(true), None) => "24 小时服务".into(),
        (Some(true), Some(t)) => format!("服务中，{} 结束", when(t, true)),
        (Some(false), Some(t)) => format!("暂未开放，{} 开始服务", when(t, false)),
        (Some(false), None) => "暂停服务".into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hotline {
    pub id: Uuid,
    pub name: String,
    pub number: String,
    pub region: String,
    pub audiences: Vec<AudienceGroup>,
    pub description: String,
    /// Shown in crisis answers (assessments, consultation queue).
    pub crisis: bool,
    /// Smaller first among lines in the same open state.
    pub sort_order: i32,
    pub active: bool,
    pub hours: ServiceHours,
    /// Where the hours come from, or why they are unknown.
    pub hours_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an admin submits to create or replace a hotline, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotlineInput {
    pub name: String,
    pub number: String,
    pub region: String,
    pub audiences: Vec<AudienceGroup>,
    pub description: String,
    pub crisis: bool,
    pub sort_order: i32,
    pub active: bool,
    pub hours: ServiceHours,
    pub hours_note: Option<String>,
}

/// A phone number as dialled: digits with optional single hyphens between groups
/// (`962525`, `021-12345678`, `400-161-9995`), 3–20 characters.
pub fn parse_number(raw: &str) -> Result<String, ValidationError> {
    let n = raw.trim();
    let ok = (3..=20).contains(&n.len())
        && n.chars().all(|c| c.is_ascii_digit() || c == '-')
        && n.starts_with(|c: char| c.is_ascii_digit())
        && n.ends_with(|c: char| c.is_ascii_digit())
        && !n.contains("--");
    if ok {
        Ok(n.to_owned())
    } else {
        Err(ValidationError::single(
            "number",
            "电话号码只能包含数字和连字符（如 962525、021-12345678），3 到 20 位",
        ))
    }
}

impl HotlineInput {
    /// Checks texts, number, audiences and hours; every problem is reported at once.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        name: &str,
        number: &str,
        region: &str,
        audiences: Vec<AudienceGroup>,
        description: &str,
        crisis: bool,
        sort_order: i32,
        active: bool,
        hours: Result<ServiceHours, ValidationError>,
        hours_note: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let name = c.check(validation::text("name", "热线名称", name, 1, 64));
        let number = c.check(parse_number(number));
        let region = c.check(validation::text("region", "服务地区", region, 1, 32));
        let description = c.check(validation::text("description", "简介", description, 0, 500));
        let hours_note = match hours_note {
            Some(n) if !n.trim().is_empty() => c
                .check(validation::text("hours_note", "时间说明", n, 1, 200))
                .map(Some),
            _ => Some(None),
        };
        if audiences.is_empty() {
            c.push("audiences", "请至少选择一个服务人群");
        }
        if !(0..=10_000).contains(&sort_order) {
            c.push("sort_order", "排序值须在 0 到 10000 之间");
        }
        let hours = c.check(hours.and_then(|h| h.validate().map(|()| h)));
        c.finish()?;
        match (name, number, region, description, hours_note, hours) {
            (
                Some(name),
                Some(number),
                Some(region),
                Some(description),
                Some(hours_note),
                Some(hours),
            ) => {
                let mut seen = std::collections::HashSet::new();
                let mut audiences = audiences;
                audiences.retain(|a| seen.insert(*a));
                Ok(Self {
                    name,
                    number,
                    region,
                    audiences,
                    description,
                    crisis,
                    sort_order,
                    active,
                    hours,
                    hours_note,
                })
            }
            _ => Err(ValidationError::single("body", "内容有误")),
        }
    }
}

/// A hotline with its state at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotlineNow {
    pub hotline: Hotline,
    pub status: OpenStatus,
}

fn open_rank(s: OpenStatus) -> u8 {
    match s.open {
        Some(true) => 0,
        None => 1,
        Some(false) => 2,
    }
}

/// Orders lines for display: open first, then unknown hours, then closed; within each by
/// `sort_order`, then name.
pub fn order_for_display(lines: Vec<Hotline>, now: DateTime<Utc>) -> Vec<HotlineNow> {
    let mut out: Vec<HotlineNow> = lines
        .into_iter()
        .map(|h| HotlineNow {
            status: h.hours.status_at(now),
            hotline: h,
        })
        .collect();
    out.sort_by(|a, b| {
        (open_rank(a.status), a.hotline.sort_order, &a.hotline.name).cmp(&(
            open_rank(b.status),
            b.hotline.sort_order,
            &b.hotline.name,
        ))
    });
    out
}

/// Directory filters: a line matches an audience when it serves that group or everyone
/// (全人群); it matches a region when it is that region's or nationwide (全国).
#[derive(Debug, Clone, Default)]
pub struct DirectoryFilter {
    pub audience: Option<AudienceGroup>,
    pub region: Option<String>,
}

pub const NATIONWIDE: &str = "全国";

impl DirectoryFilter {
    pub fn matches(&self, h: &Hotline) -> bool {
        let audience_ok = self.audience.is_none_or(|a| {
            h.audiences.contains(&a) || h.audiences.contains(&AudienceGroup::General)
        });
        let region_ok = self
            .region
            .as_deref()
            .is_none_or(|r| h.region == r || h.region == NATIONWIDE);
        audience_ok && region_ok
    }
}

/// The hotlines to show someone in crisis now: active crisis lines, open ones first.
/// Other modules (assessment results, the consultation queue) call this.
pub async fn crisis_hotlines_now(
    repo: &dyn HotlineRepository,
    now: DateTime<Utc>,
) -> Result<Vec<HotlineNow>, RepoError> {
    let lines = repo
        .list_visible()
        .await?
        .into_iter()
        .filter(|h| h.crisis)
        .collect();
    Ok(order_for_display(lines, now))
}

/// A tap on "call".
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// Stored without any link to who tapped: the statistics need only the count, and a list of
/// the hotlines someone called is sensitive. (Per-person limits on taps are counted in the
/// cache, not here.)
pub struct NewDial {
    pub id: Uuid,
    pub hotline_id: Uuid,
    pub at: DateTime<Utc>,
}

/// Dials of one line on one China calendar day. Name and number are the line's current ones,
/// also for deleted lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialCount {
    pub hotline_id: Uuid,
    pub hotline_name: String,
    pub number: String,
    pub date: NaiveDate,
    pub count: u64,
}

#[async_trait]
pub trait HotlineRepository: Send + Sync {
    /// Active, not deleted lines: the public directory.
    async fn list_visible(&self) -> Result<Vec<Hotline>, RepoError>;
    /// Not deleted lines, active or not: the admin view.
    async fn list_all(&self, page: PageRequest) -> Result<Page<Hotline>, RepoError>;
    /// A line that is not deleted.
    async fn find(&self, id: Uuid) -> Result<Option<Hotline>, RepoError>;
    async fn create(&self, input: HotlineInput, now: DateTime<Utc>) -> Result<Hotline, RepoError>;
    async fn update(
        &self,
        id: Uuid,
        input: HotlineInput,
        now: DateTime<Utc>,
    ) -> Result<Option<Hotline>, RepoError>;
    /// Soft delete: the line disappears everywhere, its dial statistics stay.
    async fn delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError>;
    async fn record_dial(&self, dial: NewDial) -> Result<(), RepoError>;
    /// Dials per line per China calendar day, `from..=to`.
    async fn dial_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DialCount>, RepoError>;
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// An instant given in China local time.
    fn cst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        china_offset()
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn weekly(ws: &[(Day, &str, &str)]) -> ServiceHours {
        ServiceHours::Weekly {
            windows: ws
                .iter()
                .map(|(d, s, e)| Window::parse("w", *d, s, e).unwrap())
                .collect(),
        }
    }

    // 2026-11-23 is a Monday.
    #[test]
    fn edges_of_a_window_one_minute_either_side() {
        let h = weekly(&[(Day::Mon, "08:00", "20:00")]);
        assert_eq!(h.status_at(cst(2026, 11, 23, 7, 59)).open, Some(false));
        assert_eq!(
            h.status_at(cst(2026, 11, 23, 7, 59)).next_change,
            Some(cst(2026, 11, 23, 8, 0))
        );
        assert_eq!(h.status_at(cst(2026, 11, 23, 8, 0)).open, Some(true));
        assert_eq!(h.status_at(cst(2026, 11, 23, 19, 59)).open, Some(true));
        assert_eq!(
            h.status_at(cst(2026, 11, 23, 19, 59)).next_change,
            Some(cst(2026, 11, 23, 20, 0))
        );
        assert_eq!(h.status_at(cst(2026, 11, 23, 20, 0)).open, Some(false));
        // Next opening is a week later.
        assert_eq!(
            h.status_at(cst(2026, 11, 23, 20, 1)).next_change,
            Some(cst(2026, 11, 30, 8, 0))
        );
    }

    #[test]
    fn windows_across_midnight_and_across_sunday() {
        let h = weekly(&[(Day::Sun, "22:00", "02:00")]);
        assert_eq!(h.status_at(cst(2026, 11, 29, 21, 59)).open, Some(false)); // Sunday
        assert_eq!(h.status_at(cst(2026, 11, 29, 22, 0)).open, Some(true));
        assert_eq!(h.status_at(cst(2026, 11, 30, 1, 59)).open, Some(true)); // Monday
        assert_eq!(
            h.status_at(cst(2026, 11, 30, 1, 59)).next_change,
            Some(cst(2026, 11, 30, 2, 0))
        );
        assert_eq!(h.status_at(cst(2026, 11, 30, 2, 0)).open, Some(false));
        // Seen from Monday morning of the *first* week too (window started the Sunday before).
        assert_eq!(h.status_at(cst(2026, 11, 23, 1, 0)).open, Some(true));
    }

    #[test]
    fn several_windows_a_day_and_touching_windows_merge() {
        let h = weekly(&[(Day::Tue, "09:00", "12:00"), (Day::Tue, "14:30", "17:30")]);
        assert_eq!(h.status_at(cst(2026, 11, 24, 13, 0)).open, Some(false));
        assert_eq!(
            h.status_at(cst(2026, 11, 24, 13, 0)).next_change,
            Some(cst(2026, 11, 24, 14, 30))
        );
        let h = weekly(&[(Day::Mon, "20:00", "24:00"), (Day::Tue, "00:00", "08:00")]);
        let s = h.status_at(cst(2026, 11, 23, 23, 0));
        assert_eq!(s.open, Some(true));
        assert_eq!(
            s.next_change,
            Some(cst(2026, 11, 24, 8, 0)),
            "no false close at midnight"
        );
    }

    #[test]
    fn every_day_around_the_clock_is_always_open() {
        let h = ServiceHours::Weekly {
            windows: Day::ALL
                .iter()
                .map(|d| Window::parse("w", *d, "00:00", "24:00").unwrap())
                .collect(),
        };
        assert_eq!(
            h.status_at(cst(2026, 11, 25, 3, 0)),
            OpenStatus {
                open: Some(true),
                next_change: None
            }
        );
        assert_eq!(
            ServiceHours::Unknown
                .status_at(cst(2026, 11, 25, 3, 0))
                .open,
            None
        );
    }

    #[test]
    fn time_parsing() {
        assert!(Window::parse("w", Day::Mon, "8:00", "20:00").is_err());
        assert!(Window::parse("w", Day::Mon, "08:60", "20:00").is_err());
        assert!(Window::parse("w", Day::Mon, "24:00", "02:00").is_err());
        assert!(Window::parse("w", Day::Mon, "08:00", "08:00").is_err());
        assert!(Window::parse("w", Day::Mon, "00:00", "24:00").is_ok());
        // 22:00–00:00 is "until midnight".
        let w = Window::parse("w", Day::Mon, "22:00", "00:00").unwrap();
        let h = ServiceHours::Weekly { windows: vec![w] };
        let s = h.status_at(cst(2026, 11, 23, 23, 0));
        assert_eq!(s.next_change, Some(cst(2026, 11, 24, 0, 0)));
        assert_eq!(
            describe(s, cst(2026, 11, 23, 23, 0)),
            "服务中，今天 24:00 结束"
        );
        let e = Window::parse("hours.windows[1]", Day::Mon, "x", "y").unwrap_err();
        assert_eq!(e.0[0].field, "hours.windows[1].start");
        assert_eq!(e.0[1].field, "hours.windows[1].end");
    }

    #[test]
    fn numbers() {
        for ok in ["962525", "021-39590800", "400-161-9995", "110", "12356"] {
            assert!(parse_number(ok).is_ok(), "{ok}");
        }
        for bad in [
            "12",
            "96 25 25",
            "+8612356",
            "-110",
            "110-",
            "1--1",
            "abc",
            "1234567890123456789012",
        ] {
            assert!(parse_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn descriptions() {
        let h = weekly(&[(Day::Mon, "08:00", "20:00")]);
        let now = cst(2026, 11, 23, 9, 0);
        assert_eq!(describe(h.status_at(now), now), "服务中，今天 20:00 结束");
        let now = cst(2026, 11, 22, 21, 0); // Sunday evening
        assert_eq!(
            describe(h.status_at(now), now),
            "暂未开放，明天 08:00 开始服务"
        );
        assert_eq!(
            describe(ServiceHours::Always.status_at(now), now),
            "24 小时服务"
        );
    }
}
