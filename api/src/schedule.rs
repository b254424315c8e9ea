//! The DTOs of weekly hours in China time (`xinli_domain::schedule`), shared by every module
//! that publishes opening hours (hotlines, counseling stations).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use xinli_domain::schedule::{Day, ServiceHours, Window, format_hhmm};
use xinli_domain::validation::Collector;

/// Day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayName {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl From<DayName> for Day {
    fn from(d: DayName) -> Self {
        match d {
            DayName::Mon => Day::Mon,
            DayName::Tue => Day::Tue,
            DayName::Wed => Day::Wed,
            DayName::Thu => Day::Thu,
            DayName::Fri => Day::Fri,
            DayName::Sat => Day::Sat,
            DayName::Sun => Day::Sun,
        }
    }
}

impl From<Day> for DayName {
    fn from(d: Day) -> Self {
        match d {
            Day::Mon => DayName::Mon,
            Day::Tue => DayName::Tue,
            Day::Wed => DayName::Wed,
            Day::Thu => DayName::Thu,
            Day::Fri => DayName::Fri,
            Day::Sat => DayName::Sat,
            Day::Sun => DayName::Sun,
        }
    }
}

/// `always` (7×24), `weekly` (the listed windows), or `unknown` (not published; the app then
/// says so rather than guess).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoursKind {
    Always,
    Weekly,
    Unknown,
}

/// A weekly window in China time. An `end` not after `start` crosses midnight
/// (`22:00`–`02:00`); `24:00` ends at midnight.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"day": "mon", "start": "08:00", "end": "20:00"}))]
pub struct WindowBody {
    pub day: DayName,
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub start: String,
    #[schema(pattern = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
    pub end: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "weekly", "windows": [
    {"day": "mon", "start": "09:00", "end": "12:00"}, {"day": "mon", "start": "14:30", "end": "17:30"}
]}))]
pub struct HoursBody {
    pub kind: HoursKind,
    /// Required, and only allowed, for `weekly`.
    #[serde(default)]
    pub windows: Vec<WindowBody>,
    /// As `HoursView` shows it; used when the request has no `hours_note`.
    #[serde(default)]
    pub note: Option<String>,
}

impl HoursBody {
    /// The hours as the domain holds them; field errors are named under `hours`.
    pub fn parse(&self) -> Result<ServiceHours, xinli_domain::ValidationError> {
        let mut c = Collector::new();
        let hours = match self.kind {
            HoursKind::Always | HoursKind::Unknown if !self.windows.is_empty() => {
                c.push("hours.windows", "只有按周开放（weekly）时才填写时段");
                None
            }
            HoursKind::Always => Some(ServiceHours::Always),
            HoursKind::Unknown => Some(ServiceHours::Unknown),
            HoursKind::Weekly => {
                let windows: Vec<Option<Window>> = self
                    .windows
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        c.check(Window::parse(
                            &format!("hours.windows[{i}]"),
                            w.day.into(),
                            &w.start,
                            &w.end,
                        ))
                    })
                    .collect();
                windows
                    .into_iter()
                    .collect::<Option<Vec<_>>>()
                    .and_then(|windows| {
                        c.check(xinli_domain::schedule::check_no_overlap(
                            "hours.windows",
                            &windows,
                        ))?;
                        Some(ServiceHours::Weekly { windows })
                    })
            }
        };
        c.finish()?;
        hours.ok_or_else(|| xinli_domain::ValidationError::single("hours", "服务时间有误"))
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kind": "weekly", "windows": [{"day": "mon", "start": "08:00", "end": "20:00"}], "note": null}))]
pub struct HoursView {
    pub kind: HoursKind,
    pub windows: Vec<WindowBody>,
    /// Where the hours come from, or why they are unknown.
    pub note: Option<String>,
}

impl HoursView {
    pub fn new(hours: &ServiceHours, note: Option<String>) -> Self {
        let (kind, windows) = match hours {
            ServiceHours::Always => (HoursKind::Always, vec![]),
            ServiceHours::Unknown => (HoursKind::Unknown, vec![]),
            ServiceHours::Weekly { windows } => (
                HoursKind::Weekly,
                windows
                    .iter()
                    .map(|w| WindowBody {
                        day: w.day.into(),
                        start: format_hhmm(w.start),
                        end: format_hhmm(w.end),
                    })
                    .collect(),
            ),
        };
        Self {
            kind,
            windows,
            note,
        }
    }
}
