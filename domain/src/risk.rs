//! 风险词 and supervision (#17): a person who writes that they want to die is seen at once.
//!
//! Every rule of the module is here:
//! - **the lexicon**: phrases in three levels ([`Level`]), the negations that weaken a hit and
//!   the exclusions (everyday phrases that contain a risk phrase but mean something else),
//!   kept as data (`infra/seeds/risk_lexicon.json`, editable by admins), validated by
//!   [`Lexicon::parse`];
//! - **matching** ([`Lexicon::check`]): the text is folded (NFKC, so full-width letters and
//!   punctuation become half-width; traditional characters to simplified; lower case), and
//!   only letters and digits are compared, so spaces and punctuation inside a phrase do not
//!   hide it ("自 杀", "不-想-活-了"). A hit wholly inside an exclusion ("预防自杀", "跳楼价")
//!   does not count. A negation right before a phrase, in the same clause ("我不会自杀的"),
//!   cancels a hit of the mildest level and lowers any other by one level: an explicit
//!   statement always reaches a person;
//! - **what a hit does** ([`on_hit`]): the person's answer carries the crisis block, a waiting
//!   request becomes `urgent` (with a reason that never quotes the text), and an alert is
//!   raised unless the consultation already has an open alert at that level or higher;
//! - **who sees an alert** ([`visible`]) and **escalation** ([`escalate_at`]): supervisors on
//!   duty see every alert; when none acknowledges it within `XINLI_ALERT_ESCALATE_MINUTES`
//!   (or none is on duty when it is raised) it is escalated: every supervisor sees it;
//! - **figures** ([`figures`]): counts and acknowledgement times for admins, never text.
//!
//! Only a person's own words are checked: a counselor's messages never raise an alert.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::consultation::Priority;
use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use crate::validation::{self, Collector, ValidationError};

/// How serious a hit is, mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// "撑不下去了": distress, hopelessness, self-injury without intent to die.
    Distress,
    /// "活着没意思", "消失就好了": a wish to be dead or to disappear.
    Passive,
    /// "不想活了", "割腕", "遗书": explicit intent, a method or a plan.
    Intent,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Distress, Level::Passive, Level::Intent];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Distress => "distress",
            Level::Passive => "passive",
            Level::Intent => "intent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// For supervisors.
    pub fn label(self) -> &'static str {
        match self {
            Level::Distress => "困扰",
            Level::Passive => "消极念头",
            Level::Intent => "明确意图",
        }
    }

    pub fn rank(self) -> i16 {
        match self {
            Level::Distress => 1,
            Level::Passive => 2,
            Level::Intent => 3,
        }
    }

    pub fn from_rank(r: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.rank() == r)
    }

    /// One level down; `None` below the mildest.
    pub fn lowered(self) -> Option<Self> {
        match self {
            Level::Distress => None,
            Level::Passive => Some(Level::Distress),
            Level::Intent => Some(Level::Passive),
        }
    }
}

/// Where the words were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The description of a consultation request.
    Description,
    /// A message the person wrote in the conversation.
    Message,
    /// A self-assessment with a critical item, by a person who is waiting or in a session.
    Assessment,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::Description, Source::Message, Source::Assessment];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Description => "description",
            Source::Message => "message",
            Source::Assessment => "assessment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Source::Description => "咨询申请的描述",
            Source::Message => "咨询中的留言",
            Source::Assessment => "排队期间的测评",
        }
    }
}

/// One phrase of the lexicon, with the published work that informed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phrase {
    pub text: String,
    pub level: Level,
    pub source: String,
}

/// The lexicon, validated; the folded forms are computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexicon {
    pub phrases: Vec<Phrase>,
    pub negations: Vec<String>,
    pub exclusions: Vec<String>,
    folded_phrases: Vec<Vec<char>>,
    folded_negations: Vec<Vec<char>>,
    folded_exclusions: Vec<Vec<char>>,
}

/// Characters that end a clause: a negation never reaches across them.
const CLAUSE_BREAKS: &[char] = &[
    '。', '.', '!', '?', ';', ',', '、', '\n', '…', '~', '|', '，',
];

/// Limits of the lexicon's data.
pub const MAX_PHRASES: usize = 1000;
pub const MAX_NEGATIONS: usize = 100;
pub const MAX_EXCLUSIONS: usize = 500;

/// NFKC (full-width to half-width), traditional to simplified, lower case.
fn fold_text(text: &str) -> String {
    let nfkc: String = text.nfkc().collect();
    zhconv::zhconv(&nfkc, zhconv::Variant::ZhHans).to_lowercase()
}

/// The letters and digits of `text`, folded, each with the number of its clause.
pub fn normalize(text: &str) -> Vec<(char, u32)> {
    let mut clause = 0;
    let mut out = Vec::with_capacity(text.len() / 2);
    for ch in fold_text(text).chars() {
        if CLAUSE_BREAKS.contains(&ch) {
            clause += 1;
        } else if ch.is_alphanumeric() {
            out.push((ch, clause));
        }
    }
    out
}

fn folded(text: &str) -> Vec<char> {
    normalize(text).into_iter().map(|(c, _)| c).collect()
}

fn find_all<'a>(hay: &'a [char], needle: &'a [char]) -> impl Iterator<Item = usize> + 'a {
    hay.windows(needle.len().max(1))
        .enumerate()
        .filter(move |(_, w)| !needle.is_empty() && *w == needle)
        .map(|(i, _)| i)
}

/// A hit: the strongest phrase found, after negations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub level: Level,
    /// The lexicon's phrase (never the person's own wording).
    pub phrase: String,
    /// A negation stood before it and lowered its level.
    pub negated: bool,
}

impl Lexicon {
    /// Checks every entry at once: phrases of 2–20 letters after folding with a level and a
    /// source; negations of 1–8; exclusions of 2–30; no entry twice (after folding).
    pub fn parse(
        phrases: Vec<Phrase>,
        negations: Vec<String>,
        exclusions: Vec<String>,
    ) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        if phrases.is_empty() || phrases.len() > MAX_PHRASES {
            c.push("phrases", format!("风险词须有 1 到 {MAX_PHRASES} 条"));
        }
        if negations.len() > MAX_NEGATIONS {
            c.push("negations", format!("否定词最多 {MAX_NEGATIONS} 条"));
        }
        if exclusions.len() > MAX_EXCLUSIONS {
            c.push("exclusions", format!("排除词最多 {MAX_EXCLUSIONS} 条"));
        }
        let mut clean_phrases = Vec::with_capacity(phrases.len());
        let mut folded_phrases = Vec::with_capacity(phrases.len());
        let mut seen: HashMap<Vec<char>, usize> = HashMap::new();
        for (i, p) in phrases.into_iter().enumerate() {
            let text = p.text.trim().to_owned();
            let f = folded(&text);
            if !(2..=20).contains(&f.len()) || text.chars().count() > 40 {
                c.push(
                    format!("phrases[{i}].text"),
                    "风险词须为 2 到 20 个字（不计空格和标点）",
                );
            } else if let Some(j) = seen.insert(f.clone(), i) {
                c.push(
                    format!("phrases[{i}].text"),
                    format!("与第 {} 条重复", j + 1),
                );
            }
            let source = c.check(validation::text(
                &format!("phrases[{i}].source"),
                "来源",
                &p.source,
                1,
                200,
            ));
            if let Some(source) = source {
                clean_phrases.push(Phrase {
                    text,
                    level: p.level,
                    source,
                });
                folded_phrases.push(f);
            }
        }
        let mut words = |field: &str, list: Vec<String>, min: usize, max: usize| {
            let mut seen: HashMap<Vec<char>, usize> = HashMap::new();
            let mut clean = Vec::with_capacity(list.len());
            let mut forms = Vec::with_capacity(list.len());
            for (i, w) in list.into_iter().enumerate() {
                let w = w.trim().to_owned();
                let f = folded(&w);
                if !(min..=max).contains(&f.len()) || w.chars().count() > 2 * max {
                    c.push(
                        format!("{field}[{i}]"),
                        format!("须为 {min} 到 {max} 个字（不计空格和标点）"),
                    );
                } else if let Some(j) = seen.insert(f.clone(), i) {
                    c.push(format!("{field}[{i}]"), format!("与第 {} 条重复", j + 1));
                } else {
                    clean.push(w);
                    forms.push(f);
                }
            }
            (clean, forms)
        };
        let (negations, folded_negations) = words("negations", negations, 1, 8);
        let (exclusions, folded_exclusions) = words("exclusions", exclusions, 2, 30);
        c.finish()?;
        Ok(Self {
            phrases: clean_phrases,
            negations,
            exclusions,
            folded_phrases,
            folded_negations,
            folded_exclusions,
        })
    }

    /// The strongest hit in `text`, if any.
    pub fn check(&self, text: &str) -> Option<Hit> {
        let units = normalize(text);
        let chars: Vec<char> = units.iter().map(|(c, _)| *c).collect();
        let mut excluded = vec![false; chars.len()];
        for ex in &self.folded_exclusions {
            for start in find_all(&chars, ex) {
                // Within one clause only: "我想死，你们别管我" is not "想死你".
                let span = &units[start..start + ex.len()];
                if span.iter().all(|(_, cl)| *cl == span[0].1) {
                    excluded[start..start + ex.len()].fill(true);
                }
            }
        }
        let mut best: Option<Hit> = None;
        for (phrase, form) in self.phrases.iter().zip(&self.folded_phrases) {
            for start in find_all(&chars, form) {
                if excluded[start..start + form.len()].iter().all(|e| *e) {
                    continue;
                }
                let negated = self.negated_before(&units, start);
                let level = match (negated, phrase.level.lowered()) {
                    (false, _) => phrase.level,
                    (true, Some(lower)) => lower,
                    (true, None) => continue,
                };
                if best.as_ref().is_none_or(|b| level > b.level) {
                    best = Some(Hit {
                        level,
                        phrase: phrase.text.clone(),
                        negated,
                    });
                }
            }
        }
        best
    }

    /// Whether a negation ends right before `start`, in the same clause. Nothing may stand
    /// between them: "我不会再拖累家人" or "我不想说但想死" keep their level. Negations that
    /// need a word in between are listed whole (没想过, 没有想过).
    fn negated_before(&self, units: &[(char, u32)], start: usize) -> bool {
        let clause = units[start].1;
        self.folded_negations.iter().any(|neg| {
            start.checked_sub(neg.len()).is_some_and(|from| {
                units[from..start].iter().all(|(_, cl)| *cl == clause)
                    && units[from..start]
                        .iter()
                        .map(|(c, _)| *c)
                        .eq(neg.iter().copied())
            })
        })
    }
}

/// A raised alert. `matched` is the lexicon's phrase (or, for an assessment, the scale), never
/// the person's text; supervisors read the text itself only through the audited detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: Uuid,
    pub consultation_id: Uuid,
    /// `None` after the person deleted their account.
    pub user_id: Option<Uuid>,
    pub level: Level,
    pub source: Source,
    pub matched: String,
    /// The message that raised it (source `message`).
    pub message_seq: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// When it is escalated to every supervisor, unless acknowledged before.
    pub escalate_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Uuid>,
    pub note: Option<String>,
}

impl Alert {
    pub fn is_open(&self) -> bool {
        self.acknowledged_at.is_none()
    }

    /// Escalated: not acknowledged before its escalation time.
    pub fn escalated(&self, now: DateTime<Utc>) -> bool {
        self.acknowledged_at.unwrap_or(now) >= self.escalate_at
    }
}

/// When an alert raised `now` is escalated: after `minutes`, or at once when no supervisor is
/// on duty to see it.
pub fn escalate_at(now: DateTime<Utc>, minutes: u32, supervisors_on_duty: u64) -> DateTime<Utc> {
    if supervisors_on_duty == 0 {
        now
    } else {
        now + Duration::minutes(i64::from(minutes))
    }
}

/// Whether open alerts must be escalated now: a supervisor went off duty and none is left
/// to see what waits for the escalation time.
pub fn escalate_when_off_duty(on_duty_left: u64) -> bool {
    on_duty_left == 0
}

/// Whether a supervisor sees an alert: on duty, every alert; off duty, the escalated ones and
/// the history.
pub fn visible(alert: &Alert, on_duty: bool, now: DateTime<Utc>) -> bool {
    on_duty || !alert.is_open() || alert.escalated(now)
}

/// The notice posted to the supervisors' group when an alert is escalated
/// (`XINLI_ALERT_WEBHOOK_URL`): how serious, from where, how long unanswered. Never the
/// phrase, the words or anything that names the person: the group is a chat on phones.
pub fn escalation_notice(alert: &Alert, now: DateTime<Utc>) -> String {
    let minutes = (now - alert.created_at).num_minutes().max(0);
    let waited = if minutes == 0 {
        "值班督导无人在岗".to_owned()
    } else {
        format!("已 {minutes} 分钟无人确认")
    };
    format!(
        "【心嚟在线】有一条风险提示（{}，来自{}）{waited}，请督导立即登录控制台处理。",
        alert.level.label(),
        alert.source.label()
    )
}

/// The priority reason counselors read: it says why, never what was written.
pub const REASON_WORDS: &str = "本人在描述或留言中流露出风险信号，请尽快接入";
pub const REASON_ASSESSMENT: &str = "排队期间的测评中，自伤相关题目作答为阳性";

/// What a hit (or a crisis assessment) changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effects {
    /// The person's answer carries the crisis block with hotlines open now.
    pub crisis_block: bool,
    /// A waiting request's new priority and reason, when it is not `urgent` yet.
    pub priority: Option<(Priority, &'static str)>,
    /// Raise an alert at this level.
    pub alert: Option<Level>,
}

/// The effects of a hit at `level` from `source`, for a consultation that is `waiting` (or not)
/// at `current` priority, with these alerts still open.
pub fn on_hit(
    level: Level,
    source: Source,
    waiting: bool,
    current: Priority,
    open_alerts: &[Alert],
) -> Effects {
    let reason = match source {
        Source::Assessment => REASON_ASSESSMENT,
        Source::Description | Source::Message => REASON_WORDS,
    };
    Effects {
        crisis_block: source != Source::Assessment,
        priority: (waiting && current < Priority::Urgent).then_some((Priority::Urgent, reason)),
        alert: (!open_alerts.iter().any(|a| a.is_open() && a.level >= level)).then_some(level),
    }
}

/// The level of an alert raised by a critical assessment item (PHQ-9 item 9, "thoughts that
/// you would be better off dead, or of hurting yourself"): a wish to be dead.
pub const ASSESSMENT_LEVEL: Level = Level::Passive;

/// What a supervisor writes when acknowledging: up to 500 characters.
pub fn parse_note(raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    match raw.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => validation::multiline("note", "处理说明", n, 1, 500).map(Some),
        None => Ok(None),
    }
}

/// Which alerts a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Open,
    Acknowledged,
    All,
}

/// Admins' figures: counts and acknowledgement times, never text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub raised: u64,
    pub by_level: BTreeMap<&'static str, u64>,
    pub by_source: BTreeMap<&'static str, u64>,
    pub acknowledged: u64,
    pub escalated: u64,
    pub open: u64,
    /// Minutes from raise to acknowledgement: median and 90th percentile (nearest rank).
    pub ack_minutes_median: Option<f64>,
    pub ack_minutes_p90: Option<f64>,
}

/// The figures of the alerts raised in a period.
pub fn figures(alerts: &[Alert], now: DateTime<Utc>) -> Figures {
    let mut by_level: BTreeMap<&'static str, u64> =
        Level::ALL.iter().map(|l| (l.as_str(), 0)).collect();
    let mut by_source: BTreeMap<&'static str, u64> =
        Source::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut minutes: Vec<f64> = Vec::new();
    for a in alerts {
        *by_level.entry(a.level.as_str()).or_default() += 1;
        *by_source.entry(a.source.as_str()).or_default() += 1;
        if let Some(at) = a.acknowledged_at {
            minutes.push((at - a.created_at).num_seconds().max(0) as f64 / 60.0);
        }
    }
    minutes.sort_by(f64::total_cmp);
    let rank = |p: f64| -> Option<f64> {
        if minutes.is_empty() {
            return None;
        }
        let i = ((p * minutes.len() as f64).ceil() as usize).clamp(1, minutes.len()) - 1;
        Some((minutes[i] * 10.0).round() / 10.0)
    };
    Figures {
        raised: alerts.len() as u64,
        by_level,
        by_source,
        acknowledged: alerts.iter().filter(|a| !a.is_open()).count() as u64,
        escalated: alerts.iter().filter(|a| a.escalated(now)).count() as u64,
        open: alerts.iter().filter(|a| a.is_open()).count() as u64,
        ack_minutes_median: rank(0.5),
        ack_minutes_p90: rank(0.9),
    }
}

/// The stored lexicon, as admins last saved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLexicon {
    pub lexicon: Lexicon,
    pub updated_at: DateTime<Utc>,
    /// `None` for the built-in list.
    pub updated_by: Option<Uuid>,
}

#[async_trait]
pub trait RiskRepository: Send + Sync {
    async fn lexicon(&self) -> Result<Option<StoredLexicon>, RepoError>;
    /// Stores the lexicon; with `only_if_absent`, keeps one already stored (the built-in list
    /// at start, by any number of instances at once).
    async fn save_lexicon(
        &self,
        lexicon: &Lexicon,
        by: Option<Uuid>,
        now: DateTime<Utc>,
        only_if_absent: bool,
    ) -> Result<(), RepoError>;
    /// Stores a new alert; [`crate::Conflict::OpenAlert`] when the consultation already has
    /// an open one at that level (raised at the same instant by another request).
    async fn raise(&self, alert: &Alert) -> Result<(), RepoError>;
    async fn find(&self, id: Uuid) -> Result<Option<Alert>, RepoError>;
    async fn open_of_consultation(&self, consultation: Uuid) -> Result<Vec<Alert>, RepoError>;
    /// Newest first; with `escalated_by`, only alerts acknowledged or escalated by then (what
    /// a supervisor off duty sees).
    async fn list(
        &self,
        status: StatusFilter,
        escalated_by: Option<DateTime<Utc>>,
        page: PageRequest,
    ) -> Result<Page<Alert>, RepoError>;
    /// `None` when it was acknowledged already (or does not exist).
    async fn acknowledge(
        &self,
        id: Uuid,
        by: Uuid,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Option<Alert>, RepoError>;
    /// Alerts raised in `[from, to)`.
    async fn between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Alert>, RepoError>;
    /// A person's alerts, for their export.
    async fn of_user(&self, user: Uuid) -> Result<Vec<Alert>, RepoError>;
    /// Escalated, open alerts whose group notice is due (never sent, tries left, not leased),
    /// each leased to this caller for `lease`; with the tries made so far.
    async fn claim_notices(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u64,
    ) -> Result<Vec<(Alert, i32)>, RepoError>;
    /// Stores what sending the notice gave (`notification::outcome`).
    async fn finish_notice(
        &self,
        id: Uuid,
        outcome: crate::notification::Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;
    /// Escalates every open alert not escalated yet, now: the last supervisor on duty left.
    async fn escalate_open(&self, now: DateTime<Utc>) -> Result<u64, RepoError>;
    async fn set_on_duty(
        &self,
        staff: Uuid,
        on_duty: bool,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;
    async fn on_duty(&self, staff: Uuid) -> Result<bool, RepoError>;
    /// Supervisors on duty whose accounts are enabled.
    async fn on_duty_count(&self) -> Result<u64, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str, level: Level) -> Phrase {
        Phrase {
            text: text.into(),
            level,
            source: "test".into(),
        }
    }

    fn lexicon() -> Lexicon {
        Lexicon::parse(
            vec![
                p("自杀", Level::Intent),
                p("不想活了", Level::Intent),
                p("想死", Level::Passive),
                p("活着没意思", Level::Passive),
                p("撑不下去", Level::Distress),
            ],
            vec!["不".into(), "不会".into(), "没有".into(), "没想过".into()],
            vec!["预防自杀".into(), "想死你".into()],
        )
        .unwrap()
    }

    fn level(text: &str) -> Option<Level> {
        lexicon().check(text).map(|h| h.level)
    }

    #[test]
    fn explicit_statements_hit_at_their_level() {
        assert_eq!(level("我真的不想活了"), Some(Level::Intent));
        assert_eq!(level("活着没意思"), Some(Level::Passive));
        assert_eq!(level("我快撑不下去了"), Some(Level::Distress));
        let hit = lexicon().check("我想自杀，活着没意思").unwrap();
        assert_eq!(hit.phrase, "自杀", "the strongest phrase wins");
        assert!(!hit.negated);
    }

    #[test]
    fn spaces_punctuation_width_and_traditional_characters_do_not_hide_a_phrase() {
        assert_eq!(level("自 杀"), Some(Level::Intent));
        assert_eq!(level("不-想-活-了"), Some(Level::Intent));
        assert_eq!(level("不，想，活，了"), Some(Level::Intent));
        assert_eq!(level("我想自殺"), Some(Level::Intent));
        assert_eq!(level("ＡＢＣ不想活了！！"), Some(Level::Intent));
    }

    #[test]
    fn negations_cancel_only_the_mildest_level() {
        assert_eq!(
            level("我不会自杀的"),
            Some(Level::Passive),
            "lowered, still seen"
        );
        assert_eq!(level("我没想过自杀"), Some(Level::Passive));
        assert_eq!(level("我不想死"), Some(Level::Distress));
        assert_eq!(level("我没有撑不下去"), None);
        // Not in the same clause, or too far away: no negation.
        assert_eq!(level("我不会，撑不下去了"), Some(Level::Distress));
        assert_eq!(level("我不会跟别人说我撑不下去了"), Some(Level::Distress));
        // A negation must touch the phrase.
        assert_eq!(level("不是很想死"), Some(Level::Passive));
        assert_eq!(level("我不会再撑不下去"), Some(Level::Distress));
    }

    #[test]
    fn exclusions_and_everyday_words_do_not_hit() {
        assert_eq!(level("单位组织了预防自杀的讲座"), None);
        assert_eq!(level("好久不见，想死你了"), None);
        assert_eq!(level("累死了，笑死我了"), None);
        assert_eq!(level(""), None);
        // An exclusion covers only what it contains, within one clause.
        assert_eq!(level("预防自杀？我想自杀"), Some(Level::Intent));
        assert_eq!(level("我想死，你们别管我"), Some(Level::Passive));
    }

    #[test]
    fn the_lexicon_is_checked_as_data() {
        let err = Lexicon::parse(
            vec![
                p("死", Level::Intent),
                p("自 杀", Level::Intent),
                p("自杀", Level::Passive),
            ],
            vec!["".into()],
            vec!["x".into()],
        )
        .unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "phrases[0].text",
                "phrases[2].text",
                "negations[0]",
                "exclusions[0]"
            ]
        );
        assert!(Lexicon::parse(vec![], vec![], vec![]).is_err());
    }

    fn alert(level: Level, acknowledged: bool) -> Alert {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        Alert {
            id: Uuid::nil(),
            consultation_id: Uuid::nil(),
            user_id: None,
            level,
            source: Source::Message,
            matched: "自杀".into(),
            message_seq: None,
            created_at: t,
            escalate_at: t + Duration::minutes(5),
            acknowledged_at: acknowledged.then_some(t + Duration::minutes(2)),
            acknowledged_by: None,
            note: None,
        }
    }

    #[test]
    fn a_hit_makes_a_waiting_request_urgent_and_raises_one_alert_per_level() {
        let e = on_hit(
            Level::Distress,
            Source::Description,
            true,
            Priority::Normal,
            &[],
        );
        assert!(e.crisis_block);
        assert_eq!(e.priority, Some((Priority::Urgent, REASON_WORDS)));
        assert_eq!(e.alert, Some(Level::Distress));
        // In a session: no queue to move up in; still an alert.
        let e = on_hit(Level::Intent, Source::Message, false, Priority::Normal, &[]);
        assert_eq!(e.priority, None);
        assert_eq!(e.alert, Some(Level::Intent));
        // An open alert at the same level or higher is enough; a stronger one is raised.
        let open = [alert(Level::Passive, false)];
        assert_eq!(
            on_hit(
                Level::Passive,
                Source::Message,
                false,
                Priority::Urgent,
                &open
            )
            .alert,
            None
        );
        assert_eq!(
            on_hit(
                Level::Intent,
                Source::Message,
                false,
                Priority::Urgent,
                &open
            )
            .alert,
            Some(Level::Intent)
        );
        let acknowledged = [alert(Level::Intent, true)];
        assert!(
            on_hit(
                Level::Distress,
                Source::Message,
                false,
                Priority::Urgent,
                &acknowledged
            )
            .alert
            .is_some()
        );
        let e = on_hit(
            ASSESSMENT_LEVEL,
            Source::Assessment,
            true,
            Priority::High,
            &[],
        );
        assert!(
            !e.crisis_block,
            "the assessment result has its own crisis block"
        );
        assert_eq!(e.priority, Some((Priority::Urgent, REASON_ASSESSMENT)));
    }

    #[test]
    fn unacknowledged_alerts_escalate_to_every_supervisor() {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(escalate_at(t, 5, 0), t, "nobody on duty: at once");
        assert_eq!(escalate_at(t, 5, 2), t + Duration::minutes(5));
        let open = alert(Level::Intent, false);
        assert!(visible(&open, true, t));
        assert!(!visible(&open, false, t + Duration::minutes(4)));
        assert!(visible(&open, false, t + Duration::minutes(5)));
        assert!(open.escalated(t + Duration::minutes(5)));
        let acked = alert(Level::Intent, true);
        assert!(
            !acked.escalated(t + Duration::hours(1)),
            "acknowledged in time"
        );
        assert!(visible(&acked, false, t));
    }

    #[test]
    fn the_escalation_notice_names_no_words_and_no_person() {
        let a = alert(Level::Intent, false);
        let text = escalation_notice(&a, a.created_at + Duration::minutes(5));
        assert_eq!(
            text,
            "【心嚟在线】有一条风险提示（明确意图，来自咨询中的留言）已 5 分钟无人确认，请督导立即登录控制台处理。"
        );
        assert!(!text.contains(&a.matched));
        assert!(escalation_notice(&a, a.created_at).contains("无人在岗"));
    }

    #[test]
    fn figures_count_and_time_without_text() {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let f = figures(
            &[alert(Level::Intent, true), alert(Level::Distress, false)],
            t + Duration::hours(1),
        );
        assert_eq!(f.raised, 2);
        assert_eq!(f.by_level["intent"], 1);
        assert_eq!(f.by_level["passive"], 0);
        assert_eq!(f.by_source["message"], 2);
        assert_eq!((f.acknowledged, f.open, f.escalated), (1, 1, 1));
        assert_eq!(f.ack_minutes_median, Some(2.0));
    }
}
