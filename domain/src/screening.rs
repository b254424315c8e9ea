//! 普查: a group screening that comes with an accepted lecture request. Participants join with
//! the request's code and take the chosen scales through the normal submission; each result
//! stays the participant's own. The unit sees only aggregates.
//!
//! The disclosure rule of the unit's report (after CDC WONDER, which hides counts of 1–9, and
//! the UK ONS, which hides counts under 10): per scale, a band's count from 1 to 9 is hidden
//! (`null`, `suppressed`). When exactly one count of a scale is hidden while the number of
//! participants is shown, it could be computed back from the others, so the smallest other
//! non-zero count is hidden too. A scale with fewer than 10 participants shows no count at all.
//! Zeros are shown: they say nothing about any one person.

use serde::Serialize;

use crate::assessment::Scale;
use crate::lecture::{LectureRequest, Status};

/// Counts below this are hidden.
pub const MIN_CELL: u64 = 10;

/// What a participant reads before taking the scales.
pub const CONSENT: &str = "本次心理普查由单位组织、专业机构实施。你的作答结果只有你本人可以查看，\
单位只能看到不少于 10 人的汇总人数，看不到任何个人的结果。参加与否完全自愿，你可以随时退出；\
如结果提示需要关注，你可以自愿申请一对一心理咨询，单位不会知道是谁申请。";

/// Whether a request's screening can be joined: accepted (or done) with a screening.
pub fn joinable(r: &LectureRequest) -> bool {
    r.input.screening && matches!(r.status, Status::Accepted | Status::Done)
}

/// Whether `scale` may be taken in this screening.
pub fn offers(r: &LectureRequest, scale: &str) -> bool {
    joinable(r) && r.input.screening_scales.iter().any(|s| s == scale)
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
    /// `None` when fewer than [`MIN_CELL`] took the scale.
    pub participants: Option<u64>,
    pub bands: Vec<BandCell>,
}

/// The report of one scale from its counts per band level (participants, each counted once).
pub fn scale_report(scale: &Scale, counts: &[(u8, u64)]) -> ScaleReport {
    let count_of = |level: u8| {
        counts
            .iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, c)| *c)
            .sum::<u64>()
    };
    // Results are counted by severity level; bands that share a level (PHQ-9's 中度 and 中重度)
    // are reported together under both names.
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
    let participants: u64 = counts.iter().map(|(_, c)| *c).sum();
    let mut bands: Vec<BandCell> = levels
        .into_iter()
        .map(|(level, label)| {
            let n = count_of(level);
            let hide = participants < MIN_CELL || (1..MIN_CELL).contains(&n);
            BandCell {
                level,
                label,
                count: (!hide).then_some(n),
                suppressed: hide,
            }
        })
        .collect();
    if participants >= MIN_CELL && bands.iter().filter(|b| b.suppressed).count() == 1 {
        // The hidden one is the total minus the others: hide the smallest shown non-zero too.
        if let Some(next) = bands
            .iter_mut()
            .filter(|b| !b.suppressed && b.count.is_some_and(|c| c > 0))
            .min_by_key(|b| b.count)
        {
            next.count = None;
            next.suppressed = true;
        }
    }
    ScaleReport {
        scale: scale.code.clone(),
        scale_name: scale.name.clone(),
        participants: (participants >= MIN_CELL).then_some(participants),
        bands,
    }
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
        // 30 participants: 15, 12, 3, 0. The 3 is hidden; alone it could be computed from
        // the total, so the smallest other non-zero (12) is hidden too. The zero stays.
        let r = scale_report(&s, &[(0, 15), (1, 12), (2, 3)]);
        assert_eq!(r.participants, Some(30));
        assert_eq!(shown(&r), [Some(15), None, None, Some(0)]);
        // Two hidden cells already protect each other.
        let r = scale_report(&s, &[(0, 20), (1, 5), (2, 4), (3, 11)]);
        assert_eq!(shown(&r), [Some(20), None, None, Some(11)]);
        // Fewer than 10 participants: nothing.
        let r = scale_report(&s, &[(0, 5), (1, 4)]);
        assert_eq!(r.participants, None);
        assert!(r.bands.iter().all(|b| b.suppressed && b.count.is_none()));
        // Everything large: everything shown.
        let r = scale_report(&s, &[(0, 10), (1, 10), (2, 10), (3, 10)]);
        assert_eq!(shown(&r), [Some(10), Some(10), Some(10), Some(10)]);
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
