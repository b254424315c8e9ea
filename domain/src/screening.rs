//! 普查: a group screening that comes with an accepted lecture request. Participants join with
//! the request's code and take the chosen scales through the normal submission; each result
//! stays the participant's own. The unit sees only aggregates.
//!
//! What the unit may learn, and when (a liaison who reads the report, asks one colleague to
//! take the scale and reads again must learn nothing of that colleague):
//! - A screening closes ([`OPEN_DAYS`] after the lecture, or earlier when the organiser closes
//!   it). While open, the report shows only how many took each scale, rounded down to a
//!   multiple of [`OPEN_ROUNDING`], and no bands.
//! - At the first read after closing the counts are frozen ([`FrozenCounts`]): a later deletion
//!   removes the person's own result but not a number from the unit's report.
//! - The frozen counts are shown under [`disclose`] (`crate::disclosure` at 10: after CDC
//!   WONDER, which hides counts of 1–9, and the UK ONS, which hides counts under 10), made so
//!   that no hidden cell can be computed back from the total and the cells shown.
//! - The liaison's own result is not counted.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::assessment::Scale;
use crate::lecture::{LectureRequest, Status};

/// Counts below this are hidden.
pub const MIN_CELL: u64 = 10;

/// What a participant reads before taking the scales.
pub const CONSENT: &str = "本次心理普查由单位组织、专业机构实施。你的作答结果只有你本人可以查看，\
单位只能在普查结束后看到不少于 10 人的汇总人数，看不到任何个人的结果。参加与否完全自愿，你可以随时退出，\
也可以在“我的测评”里撤回自己的结果；如结果提示需要关注，你可以自愿申请一对一心理咨询，单位不会知道是谁申请。";

/// Whether a request's screening can be joined: accepted (or done) with a screening, and not
/// closed.
pub fn joinable(r: &LectureRequest, now: DateTime<Utc>) -> bool {
    r.input.screening && matches!(r.status, Status::Accepted | Status::Done) && !is_closed(r, now)
}

/// Whether `scale` may be taken in this screening now.
pub fn offers(r: &LectureRequest, scale: &str, now: DateTime<Utc>) -> bool {
    joinable(r, now) && r.input.screening_scales.iter().any(|s| s == scale)
}

/// Whether a screening result offers one-to-one counseling (seed 000 个案咨询: "为在职工心理
/// 测评中出现异常心理健康状况的职工开展一对一个案咨询"): a moderate or worse band, or a critical
/// item answered.
pub fn referral_offered(a: &crate::assessment::Assessment) -> bool {
    a.level >= 2 || !a.critical_items.is_empty()
}

/// The queue priority of a referral: ahead of the standard queue (at least `elevated`), or the
/// person's own risk when that is higher. The reason says where it came from, for counselors;
/// it names no unit.
pub fn referral_priority(
    own: (crate::consultation::Priority, &'static str),
) -> (crate::consultation::Priority, &'static str) {
    use crate::consultation::Priority;
    if own.0 > Priority::Elevated {
        own
    } else {
        (
            Priority::Elevated,
            "普查结果提示需要关注，本人同意转介一对一咨询",
        )
    }
}

/// Stations a referred participant may book instead of (or besides) the online queue (#15:
/// "a station booking offer where the unit's region has a station"): active and bookable, in
/// the unit's region. Regions are names like 长沙市 or 上海市嘉定区; a station serves the unit
/// when either region holds the other (a unit in 上海市 is offered 上海市嘉定区's station, a
/// unit in 长沙市岳麓区 the city's). No region on the request, no offer.
pub fn referral_stations<'a>(
    unit_region: Option<&str>,
    stations: &'a [crate::station::Station],
) -> Vec<&'a crate::station::Station> {
    let Some(unit) = unit_region.map(str::trim).filter(|r| !r.is_empty()) else {
        return Vec::new();
    };
    stations
        .iter()
        .filter(|s| s.bookable())
        .filter(|s| {
            let station = s.region.trim();
            !station.is_empty() && (station.starts_with(unit) || unit.starts_with(station))
        })
        .collect()
}

/// How long a screening stays open after the lecture, unless the organiser closes it earlier.
pub const OPEN_DAYS: i64 = 14;

/// While a screening is open its report shows participants only, rounded down to a multiple
/// of this: a live count that moves by one when one colleague joins must not show a band.
pub const OPEN_ROUNDING: u64 = 5;

/// The closing time set when a request with a screening is accepted: [`OPEN_DAYS`] after the
/// lecture.
pub fn default_close(scheduled_at: DateTime<Utc>) -> DateTime<Utc> {
    scheduled_at + Duration::days(OPEN_DAYS)
}

/// When the screening closes: the time set on acceptance (or by the organiser's earlier close);
/// for a request accepted before screenings closed, [`OPEN_DAYS`] after the lecture.
pub fn closes_at(r: &LectureRequest) -> Option<DateTime<Utc>> {
    if !r.input.screening {
        return None;
    }
    r.screening_closes_at
        .or_else(|| r.scheduled_at.map(default_close))
}

/// Whether the screening has closed: no one joins any more and the report may show bands.
pub fn is_closed(r: &LectureRequest, now: DateTime<Utc>) -> bool {
    closes_at(r).is_some_and(|t| t <= now)
}

/// The closing time an acceptance sets: for a request with a screening, [`default_close`] of
/// the lecture's time.
pub fn close_on_accept(
    r: &LectureRequest,
    scheduled_at: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    if !r.input.screening {
        return None;
    }
    scheduled_at.or(r.scheduled_at).map(default_close)
}

/// Why the organiser cannot close a screening now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseRefused {
    /// The request has no screening, or it was never accepted.
    NoScreening,
}

/// The organiser closes a screening before its time: the new closing time, or the old one when
/// it has already closed (closing twice changes nothing).
pub fn close_early(r: &LectureRequest, now: DateTime<Utc>) -> Result<DateTime<Utc>, CloseRefused> {
    if !r.input.screening || !matches!(r.status, Status::Accepted | Status::Done) {
        return Err(CloseRefused::NoScreening);
    }
    Ok(match closes_at(r) {
        Some(t) if t <= now => t,
        _ => now,
    })
}

/// The one person whose results do not count in the unit's report: its liaison (the person who
/// reads the report would otherwise be one of its cells).
pub fn not_counted(r: &LectureRequest) -> Option<Uuid> {
    r.user_id
}

/// The counts a closed screening's report is computed from, taken once when it is first read
/// (or closed early) after closing: later deletions leave the unit's report as it was. It holds
/// counts per scale and band level, never anyone's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FrozenCounts {
    pub frozen_at: DateTime<Utc>,
    /// `(scale code, band level, participants)`.
    pub counts: Vec<(String, u8, u64)>,
}

impl FrozenCounts {
    /// One scale's counts per band level.
    pub fn of_scale(&self, scale: &str) -> Vec<(u8, u64)> {
        self.counts
            .iter()
            .filter(|(s, _, _)| s == scale)
            .map(|(_, l, n)| (*l, *n))
            .collect()
    }
}

/// One band of a scale in the unit's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BandCell {
    pub level: u8,
    pub label: String,
    /// `None` when suppressed.
    pub count: Option<u64>,
    pub suppressed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScaleReport {
    pub scale: String,
    pub scale_name: String,
    /// Open: the participants rounded down to [`OPEN_ROUNDING`]. Closed: exact, `None` when
    /// fewer than [`MIN_CELL`] took the scale.
    pub participants: Option<u64>,
    /// Empty while the screening is open.
    pub bands: Vec<BandCell>,
}

pub use crate::disclosure::Disclosure;

/// The disclosure rule of `crate::disclosure` at the unit's threshold, [`MIN_CELL`].
pub fn disclose(counts: &[u64]) -> Disclosure {
    crate::disclosure::disclose(counts, MIN_CELL)
}

/// A scale's cells: bands that share a severity level (PHQ-9's 中度 and 中重度) are one cell
/// under both names.
fn cells_of(scale: &Scale) -> Vec<(u8, String)> {
    let mut levels: Vec<(u8, String)> = vec![];
    for b in &scale.bands {
        match levels.iter_mut().find(|(l, _)| *l == b.level) {
            Some((_, label)) => {
                label.push('、');
                label.push_str(&b.label);
            }
            None => levels.push((b.level, b.label.clone())),
        }
    }
    levels
}

/// The report of one scale of a closed screening from its counts per band level
/// (participants, each counted once), under [`disclose`].
pub fn scale_report(scale: &Scale, counts: &[(u8, u64)]) -> ScaleReport {
    let levels = cells_of(scale);
    let per_cell: Vec<u64> = levels
        .iter()
        .map(|(level, _)| {
            counts
                .iter()
                .filter(|(l, _)| l == level)
                .map(|(_, c)| *c)
                .sum::<u64>()
        })
        .collect();
    let shown = disclose(&per_cell);
    ScaleReport {
        scale: scale.code.clone(),
        scale_name: scale.name.clone(),
        participants: shown.total,
        bands: levels
            .into_iter()
            .zip(shown.cells)
            .map(|((level, label), count)| BandCell {
                level,
                label,
                count,
                suppressed: count.is_none(),
            })
            .collect(),
    }
}

/// The report of one scale while the screening is open: how many took it, rounded down to
/// [`OPEN_ROUNDING`], and no bands.
pub fn open_scale_report(scale: &Scale, counts: &[(u8, u64)]) -> ScaleReport {
    let n: u64 = counts.iter().map(|(_, c)| c).sum();
    ScaleReport {
        scale: scale.code.clone(),
        scale_name: scale.name.clone(),
        participants: Some(n - n % OPEN_ROUNDING),
        bands: vec![],
    }
}

/// The unit's report of a screening at `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitReport {
    pub closed: bool,
    pub closes_at: Option<DateTime<Utc>>,
    /// When the counts were taken; `None` while open.
    pub frozen_at: Option<DateTime<Utc>>,
    pub scales: Vec<ScaleReport>,
}

/// The report the liaison and the organiser read: live participants rounded down while open;
/// after closing, the counts frozen at the first read (taken now if nobody read it yet) under
/// [`disclose`]. `scales` are the request's scales, in its order.
pub async fn unit_report(
    lectures: &dyn crate::lecture::LectureRepository,
    r: &LectureRequest,
    scales: &[Scale],
    now: DateTime<Utc>,
) -> Result<UnitReport, crate::RepoError> {
    if !is_closed(r, now) {
        let counts = lectures.screening_counts(r.id, not_counted(r)).await?;
        let of = |code: &str| -> Vec<(u8, u64)> {
            counts
                .iter()
                .filter(|(s, _, _)| s == code)
                .map(|(_, l, n)| (*l, *n))
                .collect()
        };
        return Ok(UnitReport {
            closed: false,
            closes_at: closes_at(r),
            frozen_at: None,
            scales: scales
                .iter()
                .map(|s| open_scale_report(s, &of(&s.code)))
                .collect(),
        });
    }
    let frozen = freeze(lectures, r, now).await?;
    Ok(UnitReport {
        closed: true,
        closes_at: closes_at(r),
        frozen_at: Some(frozen.frozen_at),
        scales: scales
            .iter()
            .map(|s| scale_report(s, &frozen.of_scale(&s.code)))
            .collect(),
    })
}

/// The frozen counts of a closed screening, taken now when nobody has taken them yet.
pub async fn freeze(
    lectures: &dyn crate::lecture::LectureRepository,
    r: &LectureRequest,
    now: DateTime<Utc>,
) -> Result<FrozenCounts, crate::RepoError> {
    if let Some(f) = lectures.frozen_counts(r.id).await? {
        return Ok(f);
    }
    let counts = lectures.screening_counts(r.id, not_counted(r)).await?;
    lectures
        .freeze_counts(
            r.id,
            FrozenCounts {
                frozen_at: now,
                counts,
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::Band;

    fn scale() -> Scale {
        let band = |level: u8, label: &str| Band {
            min: 0,
            max: 0,
            level,
            label: label.into(),
            interpretation: String::new(),
            recommendation_tags: vec![],
        };
        Scale {
            code: "phq9".into(),
            name: "PHQ-9".into(),
            short_name: "PHQ-9".into(),
            description: String::new(),
            instructions: String::new(),
            source: String::new(),
            licence: String::new(),
            items: vec![],
            transform: Default::default(),
            bands: vec![
                band(0, "无"),
                band(1, "轻度"),
                band(2, "中度"),
                band(3, "重度"),
            ],
            critical_items: vec![],
            minutes: 3,
        }
    }

    fn shown(r: &ScaleReport) -> Vec<Option<u64>> {
        r.bands.iter().map(|b| b.count).collect()
    }

    #[test]
    fn small_cells_are_hidden_and_cannot_be_computed_back() {
        let s = scale();
        // 30 participants: 15, 12, 3, 0. The 3 is hidden and so is the zero beside it; their
        // sum (3) would be a small count, so the smallest shown (12) is hidden too.
        let r = scale_report(&s, &[(0, 15), (1, 12), (2, 3)]);
        assert_eq!(r.participants, Some(30));
        assert_eq!(shown(&r), [Some(15), None, None, None]);
        // Two hidden cells adding up to 9: one more.
        let r = scale_report(&s, &[(0, 20), (1, 5), (2, 4), (3, 11)]);
        assert_eq!(shown(&r), [Some(20), None, None, None]);
        // Two 9s shown as [10, 11, –, –] would each be 9: the smallest shown goes too.
        let r = scale_report(&s, &[(0, 10), (1, 11), (2, 9), (3, 9)]);
        assert_eq!(shown(&r), [None, Some(11), None, None]);
        // Hiding the smallest hides its equals: a tie left shown would bound it.
        let r = scale_report(&s, &[(0, 10), (1, 10), (2, 8)]);
        assert_eq!(shown(&r), [None, None, None, None]);
        // Large counts stay useful.
        let r = scale_report(&s, &[(0, 300), (1, 120), (2, 40), (3, 7)]);
        assert_eq!(shown(&r), [Some(300), Some(120), None, None]);
        // The example: 12 shown as [10, –, –, 0] pinned both hidden cells to 1.
        let r = scale_report(&s, &[(0, 10), (1, 1), (2, 1)]);
        assert_eq!(shown(&r), [None, None, None, None]);
        assert_eq!(r.participants, Some(12));
        // Fewer than 10 participants: nothing.
        let r = scale_report(&s, &[(0, 5), (1, 4)]);
        assert_eq!(r.participants, None);
        assert!(r.bands.iter().all(|b| b.suppressed && b.count.is_none()));
        // Nothing small: everything shown, zeros too.
        let r = scale_report(&s, &[(0, 10), (1, 10), (2, 10)]);
        assert_eq!(shown(&r), [Some(10), Some(10), Some(10), Some(0)]);
        // Bands sharing a level are one cell under both names.
        let mut s = scale();
        s.bands.insert(
            3,
            Band {
                label: "中重度".into(),
                ..s.bands[2].clone()
            },
        );
        let r = scale_report(&s, &[(2, 12)]);
        assert_eq!(r.bands[2].label, "中度、中重度");
        assert_eq!(r.bands.len(), 4);
    }

    #[test]
    fn an_open_screening_shows_participants_rounded_down_and_no_bands() {
        let s = scale();
        for (n, shown) in [(0, 0), (4, 0), (5, 5), (13, 10), (14, 10), (15, 15)] {
            let r = open_scale_report(&s, &[(0, n)]);
            assert_eq!(r.participants, Some(shown), "{n}");
            assert!(r.bands.is_empty());
        }
        // One more person, whatever their band, moves nothing but (sometimes) the rounded count.
        let before = open_scale_report(&s, &[(0, 10), (1, 2)]);
        let after = open_scale_report(&s, &[(0, 10), (1, 2), (3, 1)]);
        assert_eq!(before, after);
    }

    fn station(name: &str, region: &str, weekly: bool) -> crate::station::Station {
        use crate::schedule::{Day, ServiceHours, Window};
        let t = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        crate::station::Station {
            id: uuid::Uuid::nil(),
            name: name.into(),
            unit: "工会".into(),
            address: None,
            region: region.into(),
            phone: None,
            audiences: vec![],
            hours: if weekly {
                ServiceHours::Weekly {
                    windows: vec![Window::parse("w", Day::Mon, "09:00", "12:00").unwrap()],
                }
            } else {
                ServiceHours::Unknown
            },
            note: None,
            rules: Default::default(),
            counselor_ids: vec![],
            active: true,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn a_referral_offers_the_bookable_stations_of_the_units_region() {
        let mut closed = station("已停用", "长沙市", true);
        closed.active = false;
        let all = vec![
            station("省脑科医院", "长沙市", true),
            station("长沙市一中", "长沙市", false),
            closed,
            station("嘉定工业区驿站", "上海市嘉定区", true),
        ];
        let names = |region: Option<&str>| -> Vec<String> {
            referral_stations(region, &all)
                .into_iter()
                .map(|s| s.name.clone())
                .collect()
        };
        assert_eq!(
            names(Some("长沙市")),
            ["省脑科医院"],
            "hours unknown or inactive: no offer"
        );
        assert_eq!(
            names(Some("长沙市岳麓区")),
            ["省脑科医院"],
            "the city's station serves its districts"
        );
        assert_eq!(
            names(Some("上海市")),
            ["嘉定工业区驿站"],
            "a district's station serves a unit in the city"
        );
        assert!(
            names(Some("上海市浦东新区")).is_empty(),
            "a neighbouring district is not the unit's region"
        );
        assert!(
            names(None).is_empty() && names(Some(" ")).is_empty(),
            "no region, no offer"
        );
    }
}
