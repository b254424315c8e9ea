//! 热线一键拨打: the hotline directory and which lines to show first. Service hours (weekly
//! windows in China time, open now, next change) are the shared rules of `crate::schedule`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::AudienceGroup;
use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use crate::schedule::{OpenStatus, ServiceHours};
use crate::validation::{self, Collector, ValidationError};

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
        let description = c.check(validation::multiline(
            "description",
            "简介",
            description,
            0,
            500,
        ));
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
        let audience_ok = self.audience.is_none_or(|a| a.served_by(&h.audiences));
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
    use super::*;

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
}
