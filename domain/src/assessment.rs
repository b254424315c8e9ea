//! 心理测评: screening scales defined as data, one generic scoring engine, crisis detection,
//! and "this user's current risk" for the consultation queue.
//!
//! A scale is a list of items; each item lists its options in the order of the published
//! questionnaire, each option with its points. Reverse-scored items are simply items whose
//! options carry descending points (as EPDS prints them), so the engine has one rule: the
//! raw score is the sum of the chosen options' points. An optional transform maps the raw
//! score to the reported one (WHO-5: ×4). Bands cover the reported range without gaps; each
//! has a `level` with the same meaning on every scale:
//! 0 none/minimal, 1 mild, 2 moderate (screen-positive), 3 severe.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use crate::validation::{self, Collector, ValidationError};

/// The highest severity level; a band at this level triggers the crisis answer.
pub const TOP_LEVEL: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleOption {
    pub label: String,
    pub points: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub text: String,
    /// In the published questionnaire's order.
    pub options: Vec<ScaleOption>,
}

/// How the raw sum becomes the reported score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transform {
    #[default]
    None,
    /// Reported = raw × factor (WHO-5: 4, giving 0–100).
    Multiply { factor: i32 },
}

impl Transform {
    pub fn apply(self, raw: i32) -> i32 {
        match self {
            Transform::None => raw,
            Transform::Multiply { factor } => raw * factor,
        }
    }

    /// What the raw sum is multiplied by (1 when it is reported as it is).
    pub fn multiplier(self) -> i32 {
        match self {
            Transform::None => 1,
            Transform::Multiply { factor } => factor,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    /// Inclusive bounds on the reported score.
    pub min: i32,
    pub max: i32,
    /// 0 none/minimal, 1 mild, 2 moderate, 3 severe — the same meaning on every scale.
    pub level: u8,
    pub label: String,
    /// Plain, kind Chinese that never diagnoses: 筛查结果提示…，建议….
    pub interpretation: String,
    /// Article tags to recommend for this band.
    #[serde(default)]
    pub recommendation_tags: Vec<String>,
}

/// An item whose answer above zero points needs a person's attention at once
/// (PHQ-9 item 9, EPDS item 10: thoughts of self-harm).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriticalItem {
    /// 1-based item number, as printed.
    pub item: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scale {
    /// `phq9`, `gad7`, …
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub description: String,
    /// Shown above the items, including the time frame (在过去两周里…).
    pub instructions: String,
    /// Citation of the published instrument and its scoring.
    pub source: String,
    /// The terms under which it may be used.
    pub licence: String,
    pub items: Vec<Item>,
    #[serde(default)]
    pub transform: Transform,
    pub bands: Vec<Band>,
    #[serde(default)]
    pub critical_items: Vec<CriticalItem>,
    /// Minutes a person typically needs.
    pub minutes: u32,
}

impl Scale {
    pub fn raw_range(&self) -> (i32, i32) {
        self.items.iter().fold((0, 0), |(lo, hi), item| {
            let min = item.options.iter().map(|o| o.points).min().unwrap_or(0);
            let max = item.options.iter().map(|o| o.points).max().unwrap_or(0);
            (lo + min, hi + max)
        })
    }

    pub fn score_range(&self) -> (i32, i32) {
        let (lo, hi) = self.raw_range();
        (self.transform.apply(lo), self.transform.apply(hi))
    }

    /// Checks that the definition can score every possible answer sheet: items with options,
    /// bands covering the score range in order without gaps or overlaps, levels 0–3, critical
    /// items that exist. Run on every definition loaded or edited.
    pub fn check(&self) -> Result<(), ValidationError> {
        let mut c = Collector::new();
        if self.items.is_empty() {
            c.push("items", "量表至少需要一个题目");
        }
        for (i, item) in self.items.iter().enumerate() {
            if item.options.len() < 2 {
                c.push(format!("items[{i}].options"), "每个题目至少需要两个选项");
            }
            if item.text.trim().is_empty() {
                c.push(format!("items[{i}].text"), "题目内容不能为空");
            }
        }
        let (lo, hi) = self.score_range();
        let mut expected = lo;
        for (i, band) in self.bands.iter().enumerate() {
            if band.level > TOP_LEVEL {
                c.push(format!("bands[{i}].level"), "等级须为 0 到 3");
            }
            if band.min != expected || band.max < band.min {
                c.push(
                    format!("bands[{i}].min"),
                    format!("分段须从 {expected} 起连续覆盖 {lo} 到 {hi} 分，不能重叠或留空"),
                );
            }
            if band.label.trim().is_empty() || band.interpretation.trim().is_empty() {
                c.push(format!("bands[{i}].label"), "分段须有名称和解释");
            }
            expected = band.max + 1;
        }
        if self.bands.last().is_none_or(|b| b.max != hi) {
            c.push("bands", format!("分段须覆盖到最高分 {hi}"));
        }
        for (i, crit) in self.critical_items.iter().enumerate() {
            if crit.item == 0 || crit.item > self.items.len() {
                c.push(format!("critical_items[{i}].item"), "关键题目编号超出范围");
            }
        }
        c.finish()
    }

    pub fn band_for(&self, score: i32) -> Option<&Band> {
        self.bands.iter().find(|b| b.min <= score && score <= b.max)
    }

    /// Scores an answer sheet: one 0-based option index per item, in item order.
    pub fn score(&self, answers: &[i64]) -> Result<Outcome, ValidationError> {
        if answers.len() != self.items.len() {
            return Err(ValidationError::single(
                "answers",
                format!(
                    "须回答全部 {} 道题，当前为 {} 个答案",
                    self.items.len(),
                    answers.len()
                ),
            ));
        }
        let mut c = Collector::new();
        let mut chosen = Vec::with_capacity(answers.len());
        for (i, (&answer, item)) in answers.iter().zip(&self.items).enumerate() {
            let n = item.options.len();
            match usize::try_from(answer).ok().filter(|a| *a < n) {
                Some(a) => chosen.push(a),
                None => c.push(
                    format!("answers[{i}]"),
                    format!("第 {} 题的答案须为 0 到 {} 之间的选项序号", i + 1, n - 1),
                ),
            }
        }
        c.finish()?;
        let points: Vec<i32> = chosen
            .iter()
            .zip(&self.items)
            .map(|(&a, item)| item.options[a].points)
            .collect();
        let raw: i32 = points.iter().sum();
        let score = self.transform.apply(raw);
        let band_index = self
            .bands
            .iter()
            .position(|b| b.min <= score && score <= b.max)
            .ok_or_else(|| ValidationError::single("answers", "分数超出量表范围"))?;
        let critical_items = self
            .critical_items
            .iter()
            .filter(|crit| points.get(crit.item - 1).is_some_and(|p| *p > 0))
            .map(|crit| crit.item)
            .collect();
        Ok(Outcome {
            answers: chosen,
            raw_score: raw,
            score,
            band_index,
            critical_items,
        })
    }
}

/// A scored answer sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub answers: Vec<usize>,
    pub raw_score: i32,
    pub score: i32,
    pub band_index: usize,
    /// 1-based numbers of critical items answered above zero points.
    pub critical_items: Vec<usize>,
}

/// Why a result carries the crisis answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrisisReason {
    /// A critical item (thoughts of self-harm) was answered above zero.
    CriticalItem,
    /// The band is at the top level.
    SevereBand,
    /// What the person wrote hit the risk lexicon (`domain::risk`).
    RiskWords,
}

impl CrisisReason {
    pub const ALL: [CrisisReason; 3] = [
        CrisisReason::CriticalItem,
        CrisisReason::SevereBand,
        CrisisReason::RiskWords,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CrisisReason::CriticalItem => "critical_item",
            CrisisReason::SevereBand => "severe_band",
            CrisisReason::RiskWords => "risk_words",
        }
    }

    /// What the person reads above the hotlines: warm, direct, no diagnosis.
    pub fn message(self) -> &'static str {
        match self {
            CrisisReason::CriticalItem => {
                "你的回答提示你最近可能有伤害自己或不想活下去的念头。你并不孤单，这些感受是可以被理解和帮助的。请现在就拨打下面的热线，和专业的人聊一聊；如果你正处于危险之中，请立即拨打 120 或 110。"
            }
            CrisisReason::SevereBand => {
                "你的筛查结果提示你目前正承受着较重的困扰。请不要独自扛着，建议尽快联系专业人员；下面的热线可以为你提供帮助。"
            }
            CrisisReason::RiskWords => {
                "谢谢你愿意说出来。你写下的话让我们很关心你现在的安全，我们已请值班的专业人员尽快关注你。等待的时候，你也可以现在就拨打下面的热线；如果你正处于危险之中，请立即拨打 120 或 110。"
            }
        }
    }
}

/// The one definition of a crisis result: a critical item answered (thoughts of self-harm),
/// or the top severity band.
pub fn is_crisis(level: u8, any_critical_item: bool) -> bool {
    any_critical_item || level >= TOP_LEVEL
}

/// The crisis reason of a result, if any; a critical item outranks a severe band.
pub fn crisis_reason(level: u8, critical_items: &[usize]) -> Option<CrisisReason> {
    let critical = !critical_items.is_empty();
    match (is_crisis(level, critical), critical) {
        (false, _) => None,
        (true, true) => Some(CrisisReason::CriticalItem),
        (true, false) => Some(CrisisReason::SevereBand),
    }
}

/// A stored submission. Band label, level and interpretation are kept as they were shown,
/// so that later edits of a scale's texts do not rewrite anyone's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub id: Uuid,
    pub user_id: Uuid,
    pub scale_code: String,
    pub answers: Vec<usize>,
    pub raw_score: i32,
    pub score: i32,
    pub level: u8,
    pub band_label: String,
    pub interpretation: String,
    pub critical_items: Vec<usize>,
    pub created_at: DateTime<Utc>,
}

impl Assessment {
    pub fn from_outcome(
        user_id: Uuid,
        scale: &Scale,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let band = scale.bands.get(outcome.band_index)?;
        Some(Self {
            id: Uuid::now_v7(),
            user_id,
            scale_code: scale.code.clone(),
            answers: outcome.answers,
            raw_score: outcome.raw_score,
            score: outcome.score,
            level: band.level,
            band_label: band.label.clone(),
            interpretation: band.interpretation.clone(),
            critical_items: outcome.critical_items,
            created_at: now,
        })
    }

    pub fn crisis(&self) -> Option<CrisisReason> {
        crisis_reason(self.level, &self.critical_items)
    }

    /// The band of `scale` this result was given, for its thresholds: matched by the label and
    /// level kept with the result, so a band an admin renamed since is not claimed.
    pub fn band_in<'a>(&self, scale: &'a Scale) -> Option<&'a Band> {
        scale
            .bands
            .iter()
            .find(|b| b.label == self.band_label && b.level == self.level)
    }

    /// The raw sum to show beside the score: only on scales whose reported score is
    /// transformed (WHO-5 ×4). Without the scale, only when the two differ.
    pub fn shown_raw_score(&self, scale: Option<&Scale>) -> Option<i32> {
        scale
            .map_or(self.raw_score != self.score, |s| {
                s.transform != Transform::None
            })
            .then_some(self.raw_score)
    }
}

/// Results submitted per scale in a period, as an admin sees them: `(scale, submitted, with
/// the crisis answer)`, `None` where hidden (`crate::disclosure`; the crisis count is a part
/// of the submitted one).
pub fn admin_counts(counts: &[(String, u64, u64)]) -> Vec<(String, Option<u64>, Option<u64>)> {
    use crate::disclosure::{admin_count, admin_part};
    counts
        .iter()
        .map(|(scale, submitted, crisis)| {
            (
                scale.clone(),
                admin_count(*submitted),
                admin_part(*crisis, *submitted),
            )
        })
        .collect()
}

/// How many published articles a result suggests (carrying one of its band's tags).
pub const RECOMMENDED_ARTICLES: u64 = 3;

/// How many results a trend chart shows: the latest ones.
pub const TREND_POINTS: u64 = 100;

/// A person's recent risk, for the consultation queue's priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Risk {
    /// The highest band level among recent results, if any.
    pub max_level: Option<u8>,
    /// Whether any recent result hit a critical item.
    pub critical: bool,
}

/// How far back "current" risk looks.
pub const RISK_WINDOW_DAYS: i64 = 14;

/// Folds recent results into a risk.
pub fn risk_of(recent: &[Assessment]) -> Risk {
    Risk {
        max_level: recent.iter().map(|a| a.level).max(),
        critical: recent.iter().any(|a| !a.critical_items.is_empty()),
    }
}

/// This user's current risk: highest level and any critical item in the last
/// [`RISK_WINDOW_DAYS`] days.
pub async fn current_risk(
    repo: &dyn AssessmentRepository,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Risk, RepoError> {
    let since = now - chrono::Duration::days(RISK_WINDOW_DAYS);
    Ok(risk_of(&repo.since(user_id, since).await?))
}

/// An admin's edit of a scale: texts and bands. Items' points, their number, the transform
/// and the critical items are the published scoring and cannot be changed here.
#[derive(Debug, Clone)]
pub struct ScaleEdit {
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub instructions: String,
    /// One text per item, same count as the scale's items.
    pub item_texts: Vec<String>,
    pub bands: Vec<Band>,
}

impl ScaleEdit {
    /// Applies the edit to a copy of `scale` and checks the result.
    pub fn apply(&self, scale: &Scale) -> Result<Scale, ValidationError> {
        let mut c = Collector::new();
        let name = c.check(validation::text("name", "量表名称", &self.name, 1, 64));
        let short_name = c.check(validation::text(
            "short_name",
            "简称",
            &self.short_name,
            1,
            32,
        ));
        let description = c.check(validation::text(
            "description",
            "简介",
            &self.description,
            0,
            1000,
        ));
        let instructions = c.check(validation::text(
            "instructions",
            "指导语",
            &self.instructions,
            1,
            1000,
        ));
        if self.item_texts.len() != scale.items.len() {
            c.push(
                "item_texts",
                format!("须提供全部 {} 道题的题目内容", scale.items.len()),
            );
        }
        let texts: Vec<Option<String>> = self
            .item_texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                c.check(validation::text(
                    &format!("item_texts[{i}]"),
                    "题目内容",
                    t,
                    1,
                    300,
                ))
            })
            .collect();
        for (i, b) in self.bands.iter().enumerate() {
            c.check(validation::text(
                &format!("bands[{i}].label"),
                "分段名称",
                &b.label,
                1,
                32,
            ));
            c.check(validation::text(
                &format!("bands[{i}].interpretation"),
                "分段解释",
                &b.interpretation,
                1,
                1000,
            ));
        }
        c.finish()?;
        let mut edited = scale.clone();
        edited.name = name.unwrap_or_default();
        edited.short_name = short_name.unwrap_or_default();
        edited.description = description.unwrap_or_default();
        edited.instructions = instructions.unwrap_or_default();
        for (item, text) in edited.items.iter_mut().zip(texts) {
            item.text = text.unwrap_or_default();
        }
        edited.bands = self.bands.clone();
        edited.check()?;
        Ok(edited)
    }
}

#[async_trait]
pub trait ScaleRepository: Send + Sync {
    async fn list(&self) -> Result<Vec<Scale>, RepoError>;
    async fn find(&self, code: &str) -> Result<Option<Scale>, RepoError>;
    /// Stores a scale definition, replacing one with the same code.
    async fn save(&self, scale: &Scale, now: DateTime<Utc>) -> Result<(), RepoError>;
}

#[async_trait]
pub trait AssessmentRepository: Send + Sync {
    async fn insert(&self, assessment: &Assessment) -> Result<(), RepoError>;
    /// The user's results, newest first, optionally of one scale.
    async fn list(
        &self,
        user_id: Uuid,
        scale: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Assessment>, RepoError>;
    /// One of the user's results; another user's id is `None`.
    async fn find(&self, user_id: Uuid, id: Uuid) -> Result<Option<Assessment>, RepoError>;
    /// The person takes one result back (#30): the result goes, and with it what points at
    /// it — its entry in a unit's screening and the referral offer recorded there. A
    /// screening report already frozen keeps its counts (they name no one). `false` when the
    /// user has no such result.
    async fn withdraw(&self, user_id: Uuid, id: Uuid) -> Result<bool, RepoError>;
    /// The user's results of one scale, oldest first (for a trend chart), at most `limit`.
    async fn history(
        &self,
        user_id: Uuid,
        scale: &str,
        limit: u64,
    ) -> Result<Vec<Assessment>, RepoError>;
    /// The user's results since an instant.
    async fn since(
        &self,
        user_id: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Vec<Assessment>, RepoError>;
    /// Every result of the user, oldest first (export).
    async fn all_of(&self, user_id: Uuid) -> Result<Vec<Assessment>, RepoError>;
    /// Per scale: results submitted in `[from, to)` and how many carried the crisis answer.
    async fn counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, u64, u64)>, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(points: &[i32]) -> Vec<ScaleOption> {
        points
            .iter()
            .map(|p| ScaleOption {
                label: format!("{p}"),
                points: *p,
            })
            .collect()
    }

    fn band(min: i32, max: i32, level: u8) -> Band {
        Band {
            min,
            max,
            level,
            label: format!("L{level}"),
            interpretation: "筛查结果提示…".into(),
            recommendation_tags: vec![],
        }
    }

    fn toy() -> Scale {
        Scale {
            code: "toy".into(),
            name: "Toy".into(),
            short_name: "Toy".into(),
            description: String::new(),
            instructions: "过去两周".into(),
            source: String::new(),
            licence: String::new(),
            items: vec![
                Item {
                    text: "a".into(),
                    options: opts(&[0, 1, 2, 3]),
                },
                Item {
                    text: "b".into(),
                    options: opts(&[3, 2, 1, 0]),
                },
            ],
            transform: Transform::None,
            bands: vec![band(0, 2, 0), band(3, 6, 3)],
            critical_items: vec![CriticalItem { item: 1 }],
            minutes: 1,
        }
    }

    #[test]
    fn a_result_keeps_its_band_and_shows_the_raw_sum_only_when_transformed() {
        let mut s = toy();
        let a = Assessment::from_outcome(Uuid::nil(), &s, s.score(&[3, 0]).unwrap(), Utc::now())
            .unwrap();
        assert_eq!(a.band_in(&s).map(|b| (b.min, b.max)), Some((3, 6)));
        assert_eq!(a.shown_raw_score(Some(&s)), None);
        s.bands[1].label = "renamed".into();
        assert_eq!(a.band_in(&s), None, "a renamed band is not claimed");
        s.transform = Transform::Multiply { factor: 4 };
        assert_eq!(a.shown_raw_score(Some(&s)), Some(6));
        assert_eq!(s.transform.multiplier(), 4);
        assert_eq!(
            a.shown_raw_score(None),
            None,
            "same sum, no scale: nothing extra"
        );
    }

    #[test]
    fn reversed_items_are_scored_by_their_points() {
        let s = toy();
        assert_eq!(s.score(&[0, 3]).unwrap().raw_score, 0);
        assert_eq!(s.score(&[0, 0]).unwrap().raw_score, 3);
        assert_eq!(s.score(&[3, 0]).unwrap().score, 6);
    }

    #[test]
    fn malformed_sheets_name_each_bad_answer() {
        let s = toy();
        assert_eq!(s.score(&[0]).unwrap_err().0[0].field, "answers");
        assert_eq!(s.score(&[0, 0, 0]).unwrap_err().0[0].field, "answers");
        let e = s.score(&[-1, 4]).unwrap_err();
        assert_eq!(
            e.0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
            ["answers[0]", "answers[1]"]
        );
    }

    #[test]
    fn critical_items_and_crisis() {
        let s = toy();
        let o = s.score(&[1, 3]).unwrap();
        assert_eq!(o.critical_items, vec![1]);
        assert_eq!(
            crisis_reason(s.bands[o.band_index].level, &o.critical_items),
            Some(CrisisReason::CriticalItem)
        );
        let o = s.score(&[0, 0]).unwrap();
        assert_eq!(
            crisis_reason(s.bands[o.band_index].level, &o.critical_items),
            Some(CrisisReason::SevereBand)
        );
        let o = s.score(&[0, 3]).unwrap();
        assert_eq!(
            crisis_reason(s.bands[o.band_index].level, &o.critical_items),
            None
        );
    }

    #[test]
    fn definitions_with_gaps_or_overlaps_are_refused() {
        let mut s = toy();
        assert!(s.check().is_ok());
        s.bands = vec![band(0, 2, 0), band(4, 6, 3)];
        assert!(s.check().is_err());
        s.bands = vec![band(0, 3, 0), band(3, 6, 3)];
        assert!(s.check().is_err());
        s.bands = vec![band(0, 2, 0), band(3, 5, 3)];
        assert!(s.check().is_err());
        s.bands = vec![band(0, 2, 0), band(3, 6, 4)];
        assert!(s.check().is_err());
    }

    #[test]
    fn risk_takes_the_worst_recent_result() {
        assert_eq!(
            risk_of(&[]),
            Risk {
                max_level: None,
                critical: false
            }
        );
        let s = toy();
        let now = Utc::now();
        let user = Uuid::now_v7();
        let mild = Assessment::from_outcome(user, &s, s.score(&[0, 2]).unwrap(), now).unwrap();
        let severe = Assessment::from_outcome(user, &s, s.score(&[0, 0]).unwrap(), now).unwrap();
        let critical = Assessment::from_outcome(user, &s, s.score(&[1, 3]).unwrap(), now).unwrap();
        assert_eq!(
            risk_of(std::slice::from_ref(&mild)),
            Risk {
                max_level: Some(0),
                critical: false
            }
        );
        assert_eq!(
            risk_of(&[mild.clone(), severe]),
            Risk {
                max_level: Some(3),
                critical: false
            }
        );
        assert_eq!(
            risk_of(&[mild, critical]),
            Risk {
                max_level: Some(0),
                critical: true
            }
        );
    }
}
