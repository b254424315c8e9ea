//! Weekly hours in China time: the days and windows a service is open (a hotline, a
//! counseling station), whether it is open at an instant, and when that next changes.
//!
//! Hours are in China Standard Time (Asia/Shanghai: UTC+8 all year, no daylight saving since
//! 1991), computed from the instant given, never from the server's local time zone.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::validation::{Collector, ValidationError};

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

    /// The code the API uses (`mon` … `sun`).
    pub fn as_str(self) -> &'static str {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][self.index() as usize]
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

/// Weekly windows may touch (20:00–24:00 then 00:00–08:00 the next day is one opening) but
/// not overlap: two windows covering the same minutes are a typing mistake, and which one
/// the staff meant cannot be guessed. The later window of each overlapping pair is named
/// (`{field}[j]`), with the earlier one it overlaps.
pub fn check_no_overlap(field: &str, windows: &[Window]) -> Result<(), ValidationError> {
    const WEEK: i64 = 7 * DAY;
    let mut c = Collector::new();
    for (j, later) in windows.iter().enumerate() {
        let (ls, le) = later.span();
        let overlapping = windows[..j].iter().position(|earlier| {
            let (es, ee) = earlier.span();
            // A window may run past Sunday midnight into Monday: compare a week apart too.
            [-WEEK, 0, WEEK]
                .iter()
                .any(|shift| ls < ee + shift && es + shift < le)
        });
        if let Some(i) = overlapping {
            let e = windows[i];
            c.push(
                format!("{field}[{j}]"),
                format!(
                    "与第 {} 个时段（{} {}–{}）重叠",
                    i + 1,
                    e.day.label(),
                    format_hhmm(e.start),
                    format_hhmm(e.end)
                ),
            );
        }
    }
    c.finish()
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

impl ServiceHours {
    /// The three kinds of hours, as `kind` names them, with their labels.
    pub const KINDS: [(&'static str, &'static str); 3] = [
        ("always", "全天 24 小时"),
        ("weekly", "每周固定时段"),
        ("unknown", "未公布"),
    ];
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

/// The same sentence for a place people walk into (a station): hours that are not published
/// are asked before going, not "checked by getting through" as for a phone line.
pub fn describe_place(status: OpenStatus, now: DateTime<Utc>) -> String {
    match status.open {
        None => "开放时间待定，前往前请先联系站点".into(),
        Some(_) => describe(status, now),
    }
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
    fn overlapping_windows_are_refused_touching_ones_are_not() {
        let w = |d, s, e| Window::parse("w", d, s, e).unwrap();
        let touching = [
            w(Day::Mon, "20:00", "24:00"),
            w(Day::Tue, "00:00", "08:00"),
            w(Day::Tue, "08:00", "12:00"),
        ];
        assert!(check_no_overlap("hours.windows", &touching).is_ok());
        let e = check_no_overlap(
            "hours.windows",
            &[
                w(Day::Mon, "09:00", "12:00"),
                w(Day::Wed, "09:00", "12:00"),
                w(Day::Mon, "11:30", "13:00"),
            ],
        )
        .unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].field, "hours.windows[2]");
        assert!(
            e.0[0].message.contains("第 1 个时段（周一 09:00–12:00）"),
            "{}",
            e.0[0].message
        );
        // Across midnight, and across Sunday night into Monday.
        assert!(
            check_no_overlap(
                "w",
                &[w(Day::Mon, "22:00", "02:00"), w(Day::Tue, "01:00", "03:00")]
            )
            .is_err()
        );
        assert!(
            check_no_overlap(
                "w",
                &[w(Day::Sun, "22:00", "02:00"), w(Day::Mon, "01:00", "03:00")]
            )
            .is_err()
        );
        assert!(
            check_no_overlap(
                "w",
                &[w(Day::Sun, "22:00", "02:00"), w(Day::Mon, "02:00", "03:00")]
            )
            .is_ok()
        );
    }

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
        let unknown = ServiceHours::Unknown.status_at(now);
        assert_eq!(describe(unknown, now), "服务时间未公布，请以实际接通为准");
        assert_eq!(
            describe_place(unknown, now),
            "开放时间待定，前往前请先联系站点"
        );
        assert_eq!(
            describe_place(h.status_at(now), now),
            describe(h.status_at(now), now)
        );
    }
}
