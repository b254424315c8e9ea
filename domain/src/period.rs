//! Reporting periods: a range of whole days in China time, as admins ask for figures.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use crate::schedule::CHINA;
use crate::validation::{Collector, ValidationError};

/// Longest period one report covers.
pub const MAX_DAYS: u64 = 366;
/// Default period when none is given: the last 30 days up to today.
const DEFAULT_DAYS: u64 = 30;

/// `from..=to`, whole days in China time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DayRange {
    /// Defaults: `to` today, `from` 29 days before `to`. Field errors for a reversed range,
    /// one longer than [`MAX_DAYS`], or dates outside what can be computed with.
    pub fn parse(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<Self, ValidationError> {
        let to = to.unwrap_or(today);
        let from = match from {
            Some(f) => Some(f),
            None => to.checked_sub_days(Days::new(DEFAULT_DAYS - 1)),
        };
        let mut c = Collector::new();
        match from {
            None => c.push("to", "日期超出范围"),
            Some(from) if from > to => c.push("from", "开始日期不能晚于结束日期"),
            Some(from) if (to - from).num_days() >= MAX_DAYS as i64 => {
                c.push("from", format!("统计区间不能超过 {MAX_DAYS} 天"))
            }
            Some(_) if to.checked_add_days(Days::new(1)).is_none() => c.push("to", "日期超出范围"),
            Some(_) => {}
        }
        c.finish()?;
        match from {
            Some(from) => Ok(Self { from, to }),
            None => Err(ValidationError::single("to", "日期超出范围")),
        }
    }

    /// The instants the range covers: `[start of from, start of the day after to)`.
    pub fn instants(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = |d: NaiveDate| {
            d.and_time(NaiveTime::MIN)
                .and_local_timezone(CHINA)
                .single()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
        };
        let after = self.to.checked_add_days(Days::new(1)).unwrap_or(self.to);
        (start(self.from), start(after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_limits_and_extremes() {
        let today = d("2026-11-23");
        let r = DayRange::parse(None, None, today).unwrap();
        assert_eq!((r.from, r.to), (d("2026-10-25"), today));
        let (a, b) = r.instants();
        assert_eq!(a.to_rfc3339(), "2026-10-24T16:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2026-11-23T16:00:00+00:00");
        assert!(DayRange::parse(Some(d("2026-11-24")), Some(today), today).is_err());
        assert!(DayRange::parse(Some(d("2025-11-22")), Some(today), today).is_err());
        assert!(DayRange::parse(Some(d("2025-11-23")), Some(today), today).is_ok());
        assert_eq!(
            DayRange::parse(None, Some(NaiveDate::MIN), today)
                .unwrap_err()
                .0[0]
                .field,
            "to"
        );
        assert!(DayRange::parse(Some(NaiveDate::MAX), Some(NaiveDate::MAX), today).is_err());
        // What the HTTP test sends: these parse, so the range rules (not the parser) refuse.
        assert_eq!(
            "+262142-12-31".parse::<NaiveDate>().ok(),
            Some(NaiveDate::MAX)
        );
        assert_eq!(
            "-262143-01-01".parse::<NaiveDate>().ok(),
            Some(NaiveDate::MIN)
        );
    }
}
