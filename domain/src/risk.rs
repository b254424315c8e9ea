//! 风险词 and supervision (#17): a person who writes that they want to die is seen at once.
//!
//! Every rule of the module is here:
//! - **the lexicon**: entries in categories ([`Category`]: wish, method, plan, preparation,
//!   farewell, burden, hopelessness, self-harm, present danger; each carries a [`Level`]),
//!   written as one phrase or as ordered parts with a bounded gap ("想…死"); combinations of
//!   categories that together raise a hit (a means and a first-person intent); the negations
//!   that cancel a hit and the exclusions (everyday phrases that contain a risk phrase but
//!   mean something else). All kept as data (`infra/seeds/risk_lexicon.json`, editable by
//!   admins), validated by [`Lexicon::parse`]; a list saved before #31 reads as it is;
//! - **matching** ([`Lexicon::check`]): the text is folded (NFKC, so full-width letters and
//!   punctuation become half-width; traditional characters to simplified; lower case), and
//!   only letters and digits are compared, so spaces and punctuation inside a phrase do not
//!   hide it ("自 杀", "不-想-活-了"); every part of every entry is found in one pass
//!   (Aho-Corasick). The parts of an entry follow each other with at most [`MAX_GAP`]
//!   letters between them and no clause break. An entry with a part wholly inside an
//!   exclusion ("预防自杀", "跳楼价", "笑死") does not count; nor does one with a negation
//!   right before a part, in the same clause ("我不会自杀的", "没有想死的念头");
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

/// What a phrase is about (#31, after the categories of Chinese suicide dictionaries and the
/// C-SSRS). Each carries the level a hit has unless the phrase names its own; two carry none:
/// a means or a first-person intent alone is not a risk statement, together they are (see
/// [`Combination`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 想死, 不想活了: a wish to be dead.
    Wish,
    /// 割腕, 跳楼, 烧炭: a way of dying.
    Method,
    /// 定好了日子, 想好了在哪里: a decided time, place or way.
    Plan,
    /// 攒了药, 写好遗书: things done to get ready.
    Preparation,
    /// 把东西都送人了, 给家人留了信: goodbyes and last things.
    Farewell,
    /// 我就是个累赘, 没有我他们更轻松.
    Burden,
    /// 看不到希望, 活着就是受罪.
    Hopelessness,
    /// 划自己, 用烟头烫: self-injury.
    SelfHarm,
    /// 站在楼顶边上, 药已经吞了: happening now.
    PresentDanger,
    /// 安眠药, 水库, 天台, 绳子: a means or a place, risk only with an intent.
    Means,
    /// 我打算, 准备去, 想: a first-person intent, risk only with a means.
    IntentMarker,
    /// Entries saved before categories existed.
    Other,
}

impl Category {
    pub const ALL: [Category; 12] = [
        Category::Wish,
        Category::Method,
        Category::Plan,
        Category::Preparation,
        Category::Farewell,
        Category::Burden,
        Category::Hopelessness,
        Category::SelfHarm,
        Category::PresentDanger,
        Category::Means,
        Category::IntentMarker,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Wish => "wish",
            Category::Method => "method",
            Category::Plan => "plan",
            Category::Preparation => "preparation",
            Category::Farewell => "farewell",
            Category::Burden => "burden",
            Category::Hopelessness => "hopelessness",
            Category::SelfHarm => "self_harm",
            Category::PresentDanger => "present_danger",
            Category::Means => "means",
            Category::IntentMarker => "intent_marker",
            Category::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The level of a hit of this category when the phrase names none; `None`: only in a
    /// combination.
    pub fn level(self) -> Option<Level> {
        match self {
            Category::Wish | Category::Burden => Some(Level::Passive),
            Category::Hopelessness | Category::SelfHarm | Category::Other => Some(Level::Distress),
            Category::Method
            | Category::Plan
            | Category::Preparation
            | Category::Farewell
            | Category::PresentDanger => Some(Level::Intent),
            Category::Means | Category::IntentMarker => None,
        }
    }
}

/// One entry of the lexicon, with the published work that informed it. `text` is one phrase
/// ("自杀") or ordered parts with a bounded gap between them, written with `…` ("想…死",
/// "跳…下去"): up to [`MAX_GAP`] letters between two parts, all within one clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phrase {
    pub text: String,
    #[serde(default = "other")]
    pub category: Category,
    /// The phrase's own level; `None`: its category's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    pub source: String,
}

fn other() -> Category {
    Category::Other
}

impl Phrase {
    /// The level a hit has; `None`: it counts only in a combination.
    pub fn level(&self) -> Option<Level> {
        self.level.or(self.category.level())
    }
}

/// Categories that, found in the same clause, make a hit at `level` ("我打算" + "安眠药").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Combination {
    pub categories: Vec<Category>,
    pub level: Level,
    pub source: String,
}

/// The lexicon as it is stored and edited: what [`Lexicon::parse`] checks and
/// [`Lexicon::data`] gives back. A lexicon saved before #31 (phrases with a level and no
/// category, no combinations) reads as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LexiconData {
    pub phrases: Vec<Phrase>,
    pub negations: Vec<String>,
    pub exclusions: Vec<String>,
    #[serde(default)]
    pub combinations: Vec<Combination>,
    /// Words for someone other than the writer (朋友, 室友, 有人, 他): an entry after one of
    /// them in the same clause, with no 我 between, is about that person, not the writer
    /// ("我室友有自残的习惯", "有人想轻生的时候"), and does not count.
    #[serde(default)]
    pub others: Vec<String>,
    /// Denials that follow what they deny ("想死的念头？没有过", "自残这种事我从来不做"): one
    /// starting within [`DENIAL_REACH`] letters after an entry, in its clause or the next,
    /// cancels it.
    #[serde(default)]
    pub denials: Vec<String>,
    /// Words that make a clause everyday talk (烧烤, 露营, 婚纱照, 开玩笑): no entry in the
    /// same clause counts ("买了炭，晚上烧烤" still hits nothing only because 烧烤 is in
    /// another clause if written so; "在江边的酒吧见" is everyday).
    #[serde(default)]
    pub contexts: Vec<String>,
}

/// How far after an entry a denial may start, in letters.
pub const DENIAL_REACH: usize = 10;

/// Letters that name the writer: an entry is theirs again after one of these.
const FIRST_PERSON: &[char] = &['我', '俺', '咱'];

/// The most letters between two parts of a phrase or an exclusion.
pub const MAX_GAP: usize = 8;

/// The gap marks between the parts of an entry.
const GAP_MARKS: &[&str] = &["…", "...", "*"];

/// The lexicon, validated; the folded parts are found in one pass (Aho-Corasick).
#[derive(Debug, Clone)]
pub struct Lexicon {
    pub phrases: Vec<Phrase>,
    pub negations: Vec<String>,
    pub exclusions: Vec<String>,
    pub combinations: Vec<Combination>,
    pub others: Vec<String>,
    pub denials: Vec<String>,
    pub contexts: Vec<String>,
    /// Per phrase, exclusion, word for others, denial and context: the ids of its parts in
    /// `automaton`.
    phrase_parts: Vec<Vec<usize>>,
    exclusion_parts: Vec<Vec<usize>>,
    other_parts: Vec<usize>,
    denial_parts: Vec<usize>,
    context_parts: Vec<usize>,
    /// Each distinct part, folded, in letters.
    part_len: Vec<usize>,
    automaton: aho_corasick::AhoCorasick,
    folded_negations: Vec<Vec<char>>,
}

impl PartialEq for Lexicon {
    fn eq(&self, other: &Self) -> bool {
        self.phrases == other.phrases
            && self.negations == other.negations
            && self.exclusions == other.exclusions
            && self.combinations == other.combinations
            && self.others == other.others
            && self.denials == other.denials
            && self.contexts == other.contexts
    }
}

impl Eq for Lexicon {}

/// Characters that end a clause: a negation, a gap or a combination never reaches across them.
const CLAUSE_BREAKS: &[char] = &[
    '。', '.', '!', '?', ';', ',', '、', '\n', '…', '~', '|', '，',
];

/// Limits of the lexicon's data.
pub const MAX_PHRASES: usize = 1000;
pub const MAX_NEGATIONS: usize = 100;
pub const MAX_EXCLUSIONS: usize = 500;
pub const MAX_COMBINATIONS: usize = 50;
pub const MAX_OTHERS: usize = 200;
pub const MAX_DENIALS: usize = 100;
pub const MAX_CONTEXTS: usize = 300;
/// The most parts of one entry.
pub const MAX_PARTS: usize = 4;

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

/// An entry's parts, folded: split at the gap marks first (they are punctuation, which folding
/// drops).
fn folded_parts(text: &str) -> Vec<Vec<char>> {
    let mut pieces = vec![text.to_owned()];
    for mark in GAP_MARKS {
        pieces = pieces
            .iter()
            .flat_map(|p| p.split(mark).map(str::to_owned).collect::<Vec<_>>())
            .collect();
    }
    pieces.iter().map(|p| folded(p)).collect()
}

/// A hit: the strongest entry found that no negation cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub level: Level,
    pub category: Category,
    /// The lexicon's entry (never the person's own wording).
    pub phrase: String,
}

/// Where one entry was found: the letters of each part.
type Found = Vec<(usize, usize)>;

impl Lexicon {
    /// Checks every entry at once: phrases of 1–4 parts, 2–20 letters in all after folding
    /// (every part at least one), with a source; negations of 1–8 letters; exclusions of 2–30
    /// (parts allowed); combinations of 2–3 categories; no entry twice (after folding).
    pub fn parse(data: LexiconData) -> Result<Self, ValidationError> {
        let LexiconData {
            phrases,
            negations,
            exclusions,
            combinations,
            others,
            denials,
            contexts,
        } = data;
        let mut c = Collector::new();
        if phrases.is_empty() || phrases.len() > MAX_PHRASES {
            c.push("phrases", format!("风险词须有 1 到 {MAX_PHRASES} 条"));
        }
        for (field, what, len, max) in [
            ("negations", "否定词", negations.len(), MAX_NEGATIONS),
            ("exclusions", "排除词", exclusions.len(), MAX_EXCLUSIONS),
            ("combinations", "组合", combinations.len(), MAX_COMBINATIONS),
            ("others", "他人称谓", others.len(), MAX_OTHERS),
            ("denials", "后置否认", denials.len(), MAX_DENIALS),
            ("contexts", "日常语境词", contexts.len(), MAX_CONTEXTS),
        ] {
            if len > max {
                c.push(field, format!("{what}最多 {max} 条"));
            }
        }
        let mut parts: Vec<Vec<char>> = vec![];
        let mut part_id = |p: Vec<char>| match parts.iter().position(|q| *q == p) {
            Some(i) => i,
            None => {
                parts.push(p);
                parts.len() - 1
            }
        };
        let well_formed = |f: &[Vec<char>], min: usize, max: usize| {
            let letters: usize = f.iter().map(Vec::len).sum();
            f.len() <= MAX_PARTS
                && f.iter().all(|p| !p.is_empty())
                && (min..=max).contains(&letters)
        };
        let mut clean_phrases = Vec::with_capacity(phrases.len());
        let mut phrase_parts = Vec::with_capacity(phrases.len());
        let mut seen: HashMap<Vec<Vec<char>>, usize> = HashMap::new();
        for (i, p) in phrases.into_iter().enumerate() {
            let text = p.text.trim().to_owned();
            let f = folded_parts(&text);
            if !well_formed(&f, 2, 20) || text.chars().count() > 60 {
                c.push(
                    format!("phrases[{i}].text"),
                    "风险词须为 2 到 20 个字（不计空格和标点），可用“…”分成至多 4 段，每段至少 1 个字",
                );
                continue;
            }
            if let Some(j) = seen.insert(f.clone(), i) {
                c.push(
                    format!("phrases[{i}].text"),
                    format!("与第 {} 条重复", j + 1),
                );
                continue;
            }
            let source = c.check(validation::text(
                &format!("phrases[{i}].source"),
                "来源",
                &p.source,
                1,
                200,
            ));
            if let Some(source) = source {
                phrase_parts.push(f.into_iter().map(&mut part_id).collect());
                clean_phrases.push(Phrase {
                    text,
                    category: p.category,
                    level: p.level,
                    source,
                });
            }
        }
        let mut words = |field: &str, list: Vec<String>, min: usize, max: usize, parts: usize| {
            let mut seen: HashMap<Vec<Vec<char>>, usize> = HashMap::new();
            let mut clean = Vec::with_capacity(list.len());
            let mut forms = Vec::with_capacity(list.len());
            for (i, w) in list.into_iter().enumerate() {
                let w = w.trim().to_owned();
                let f = folded_parts(&w);
                if !well_formed(&f, min, max) || f.len() > parts || w.chars().count() > 2 * max + 6
                {
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
        // A negation is one piece: it must touch what it negates.
        let (negations, folded_negations) = words("negations", negations, 1, 8, 1);
        let (exclusions, folded_exclusions) = words("exclusions", exclusions, 2, 30, MAX_PARTS);
        let (others, folded_others) = words("others", others, 1, 8, 1);
        let (denials, folded_denials) = words("denials", denials, 2, 12, 1);
        let (contexts, folded_contexts) = words("contexts", contexts, 2, 12, 1);
        for (i, combo) in combinations.iter().enumerate() {
            let mut cats = combo.categories.clone();
            cats.sort();
            cats.dedup();
            if !(2..=3).contains(&combo.categories.len()) || cats.len() != combo.categories.len() {
                c.push(
                    format!("combinations[{i}].categories"),
                    "组合须为 2 到 3 个不同的类别",
                );
            }
            c.check(validation::text(
                &format!("combinations[{i}].source"),
                "来源",
                &combo.source,
                1,
                200,
            ));
        }
        c.finish()?;
        let exclusion_parts = folded_exclusions
            .into_iter()
            .map(|f| f.into_iter().map(&mut part_id).collect())
            .collect();
        // One-piece words: the id of their only part.
        let mut single = |forms: Vec<Vec<Vec<char>>>| -> Vec<usize> {
            forms
                .into_iter()
                .map(|mut f| part_id(f.remove(0)))
                .collect()
        };
        let other_parts = single(folded_others);
        let denial_parts = single(folded_denials);
        let context_parts = single(folded_contexts);
        let part_len = parts.iter().map(Vec::len).collect();
        let automaton =
            aho_corasick::AhoCorasick::new(parts.iter().map(|p| p.iter().collect::<String>()))
                .map_err(|e| ValidationError::single("phrases", format!("风险词无法编译：{e}")))?;
        Ok(Self {
            phrases: clean_phrases,
            negations,
            exclusions,
            combinations,
            others,
            denials,
            contexts,
            phrase_parts,
            exclusion_parts,
            other_parts,
            denial_parts,
            context_parts,
            part_len,
            automaton,
            folded_negations: folded_negations
                .into_iter()
                .map(|mut f| f.remove(0))
                .collect(),
        })
    }

    /// The data to store or show (what [`Lexicon::parse`] took, cleaned).
    pub fn data(&self) -> LexiconData {
        LexiconData {
            phrases: self.phrases.clone(),
            negations: self.negations.clone(),
            exclusions: self.exclusions.clone(),
            combinations: self.combinations.clone(),
            others: self.others.clone(),
            denials: self.denials.clone(),
            contexts: self.contexts.clone(),
        }
    }

    /// Where every part stands in `chars`: per part, its `(start, end)` in letters, in order.
    fn occurrences(&self, chars: &[char]) -> Vec<Vec<(usize, usize)>> {
        let text: String = chars.iter().collect();
        // Letter index of each byte offset that starts a letter.
        let mut letter_at = vec![0usize; text.len() + 1];
        for (i, (b, _)) in text.char_indices().enumerate() {
            letter_at[b] = i;
        }
        letter_at[text.len()] = chars.len();
        let mut out = vec![vec![]; self.part_len.len()];
        for m in self.automaton.find_overlapping_iter(&text) {
            let id = m.pattern().as_usize();
            let start = letter_at[m.start()];
            out[id].push((start, start + self.part_len[id]));
        }
        for v in &mut out {
            v.sort_unstable();
        }
        out
    }

    /// Each place an entry of `parts` stands: from every place of its first part, the nearest
    /// following place of each next part, at most [`MAX_GAP`] letters on, with no clause break
    /// in the gap. A phrase's part may have punctuation inside ("自 杀", "不，想，活，了");
    /// with `whole_clause` (exclusions) the entry stays inside one clause ("我想死，你们" is
    /// not "想死你").
    fn find(
        parts: &[usize],
        occ: &[Vec<(usize, usize)>],
        clause: &[u32],
        whole_clause: bool,
    ) -> impl Iterator<Item = Found> {
        let inside = move |s: usize, e: usize| !whole_clause || clause[s] == clause[e - 1];
        occ[parts[0]]
            .iter()
            .filter(move |&&(s0, e0)| inside(s0, e0))
            .filter_map(move |&(s0, e0)| {
                let mut found = vec![(s0, e0)];
                let mut end = e0;
                for &p in &parts[1..] {
                    let &(s, e) = occ[p].iter().find(|&&(s, e)| {
                        s >= end
                            && s - end <= MAX_GAP
                            && clause[s] == clause[end - 1]
                            && inside(s, e)
                    })?;
                    found.push((s, e));
                    end = e;
                }
                Some(found)
            })
    }

    /// The strongest hit in `text`, if any.
    pub fn check(&self, text: &str) -> Option<Hit> {
        let units = normalize(text);
        if units.is_empty() {
            return None;
        }
        let chars: Vec<char> = units.iter().map(|(c, _)| *c).collect();
        let clause: Vec<u32> = units.iter().map(|(_, c)| *c).collect();
        let occ = self.occurrences(&chars);
        // Clauses that a context word makes everyday talk.
        let everyday: Vec<u32> = self
            .context_parts
            .iter()
            .flat_map(|&p| occ[p].iter().map(|&(s, _)| clause[s]))
            .collect();
        let mut excluded = vec![false; chars.len()];
        for parts in &self.exclusion_parts {
            for found in Self::find(parts, &occ, &clause, true) {
                for (s, e) in found {
                    excluded[s..e].fill(true);
                }
            }
        }
        let mut best: Option<Hit> = None;
        let mut consider = |hit: Hit| {
            if best.as_ref().is_none_or(|b| hit.level > b.level) {
                best = Some(hit);
            }
        };
        // Categories found (not excluded, not negated) per clause, for the combinations.
        let mut in_clause: Vec<(u32, Category, usize)> = vec![];
        for (i, (phrase, parts)) in self.phrases.iter().zip(&self.phrase_parts).enumerate() {
            for found in Self::find(parts, &occ, &clause, false) {
                if found
                    .iter()
                    .any(|&(s, e)| excluded[s..e].iter().all(|x| *x))
                {
                    continue;
                }
                // A negation right before a part cancels the hit: "我不会自杀的", "没有想死的
                // 念头" (both parts of the corpus label such sentences as not at risk).
                if everyday.contains(&clause[found[0].0])
                    || found.iter().any(|&(s, _)| self.negated_before(&units, s))
                    || self.about_someone_else(&chars, &clause, &occ, found[0].0)
                    || self.denied_after(&clause, &occ, found[found.len() - 1].1)
                {
                    continue;
                }
                in_clause.push((clause[found[0].0], phrase.category, i));
                let Some(level) = phrase.level() else {
                    continue;
                };
                consider(Hit {
                    level,
                    category: phrase.category,
                    phrase: phrase.text.clone(),
                });
            }
        }
        for combo in &self.combinations {
            let clauses = in_clause.iter().map(|(cl, _, _)| *cl);
            for cl in clauses {
                let members: Option<Vec<usize>> = combo
                    .categories
                    .iter()
                    .map(|cat| {
                        in_clause
                            .iter()
                            .find(|(c2, k, _)| *c2 == cl && k == cat)
                            .map(|(_, _, i)| *i)
                    })
                    .collect();
                if let Some(members) = members {
                    let phrase = members
                        .iter()
                        .map(|i| self.phrases[*i].text.as_str())
                        .collect::<Vec<_>>()
                        .join("＋");
                    consider(Hit {
                        level: combo.level,
                        category: combo.categories[0],
                        phrase,
                    });
                    break;
                }
            }
        }
        best
    }

    /// Whether a word for someone else stands before `start` in its clause with no word for
    /// the writer between ("我朋友说她想死": 她; "她说我是累赘": 我 comes after 她).
    fn about_someone_else(
        &self,
        chars: &[char],
        clause: &[u32],
        occ: &[Vec<(usize, usize)>],
        start: usize,
    ) -> bool {
        self.other_parts.iter().any(|&p| {
            occ[p].iter().any(|&(s, e)| {
                e <= start
                    && clause[s] == clause[start]
                    && !chars[e..start].iter().any(|c| FIRST_PERSON.contains(c))
            })
        })
    }

    /// Whether a denial starts within [`DENIAL_REACH`] letters after `end`, in the clause of
    /// the entry's last letter or the next one.
    fn denied_after(&self, clause: &[u32], occ: &[Vec<(usize, usize)>], end: usize) -> bool {
        let own = clause[end - 1];
        self.denial_parts.iter().any(|&p| {
            occ[p]
                .iter()
                .any(|&(s, _)| s >= end && s - end <= DENIAL_REACH && clause[s] <= own + 1)
        })
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
    /// Stores the lexicon; with `only_if_absent` (the built-in list at start, by any number of
    /// instances at once), keeps a list an admin saved and replaces an earlier built-in one
    /// only when it differs.
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
            category: Category::Other,
            level: Some(level),
            source: "test".into(),
        }
    }

    fn c(text: &str, category: Category) -> Phrase {
        Phrase {
            text: text.into(),
            category,
            level: None,
            source: "test".into(),
        }
    }

    fn data(phrases: Vec<Phrase>, negations: &[&str], exclusions: &[&str]) -> LexiconData {
        LexiconData {
            phrases,
            negations: negations.iter().map(|s| s.to_string()).collect(),
            exclusions: exclusions.iter().map(|s| s.to_string()).collect(),
            combinations: vec![],
            others: vec!["朋友".into(), "她".into(), "有人".into()],
            denials: vec!["从来没有".into(), "没想过".into()],
            contexts: vec!["烧烤".into()],
        }
    }

    fn lexicon() -> Lexicon {
        Lexicon::parse(data(
            vec![
                p("自杀", Level::Intent),
                p("不想活了", Level::Intent),
                p("想死", Level::Passive),
                p("活着没意思", Level::Passive),
                p("撑不下去", Level::Distress),
            ],
            &["不", "不会", "没有", "没想过"],
            &["预防自杀", "想死你"],
        ))
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
    fn negations_cancel_a_hit() {
        assert_eq!(level("我不会自杀的"), None);
        assert_eq!(level("我没想过自杀"), None);
        assert_eq!(level("我不想死"), None);
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
        let mut bad = data(
            vec![
                p("死", Level::Intent),
                p("自 杀", Level::Intent),
                p("自杀", Level::Passive),
                p("想……死", Level::Passive),
                p("一…二…三…四…五", Level::Passive),
            ],
            &["", "不…会"],
            &["x"],
        );
        bad.combinations = vec![Combination {
            categories: vec![Category::Means, Category::Means],
            level: Level::Intent,
            source: "test".into(),
        }];
        let err = Lexicon::parse(bad).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "phrases[0].text",
                "phrases[2].text",
                "phrases[3].text",
                "phrases[4].text",
                "negations[0]",
                "negations[1]",
                "exclusions[0]",
                "combinations[0].categories"
            ]
        );
        assert!(Lexicon::parse(data(vec![], &[], &[])).is_err());
        // A list saved before #31 reads as it is: its phrases are `other`, at their own level.
        let old: LexiconData = serde_json::from_str(
            r#"{"phrases": [{"text": "不想活了", "level": "intent", "source": "C-SSRS 2"}],
                "negations": ["不"], "exclusions": ["跳楼价"]}"#,
        )
        .unwrap();
        let old = Lexicon::parse(old).unwrap();
        assert_eq!(old.phrases[0].category, Category::Other);
        assert_eq!(old.check("真的不想活了").unwrap().level, Level::Intent);
        // What parse took comes back from data(), and parses again to the same lexicon.
        let l = lexicon();
        assert_eq!(Lexicon::parse(l.data()).unwrap(), l);
    }

    /// #31: ordered parts with a bounded gap in one clause; categories with their levels;
    /// a means and an intent together.
    fn patterns() -> Lexicon {
        let mut d = data(
            vec![
                c("想…死", Category::Wish),
                c("跳…下去", Category::Method),
                c("累赘", Category::Burden),
                c("安眠药", Category::Means),
                c("打算", Category::IntentMarker),
            ],
            &["不", "不想"],
            &["笑死", "想死你"],
        );
        d.combinations = vec![Combination {
            categories: vec![Category::Means, Category::IntentMarker],
            level: Level::Intent,
            source: "test".into(),
        }];
        Lexicon::parse(d).unwrap()
    }

    #[test]
    fn parts_with_a_gap_categories_and_combinations() {
        let l = patterns();
        let level = |t: &str| l.check(t).map(|h| (h.level, h.category));
        assert_eq!(
            level("真想就这么死掉算了"),
            Some((Level::Passive, Category::Wish))
        );
        assert_eq!(level("想一死了之"), Some((Level::Passive, Category::Wish)));
        assert_eq!(
            level("想去楼顶跳下去"),
            Some((Level::Intent, Category::Method))
        );
        assert_eq!(
            level("我就是个累赘"),
            Some((Level::Passive, Category::Burden))
        );
        // Too far apart, or in another clause: no hit.
        assert_eq!(level("想起了很多很多年前的事情那时候死"), None);
        assert_eq!(level("我想你，死党"), None);
        // A part inside an exclusion does not count; nor does a negation before any part.
        assert_eq!(level("好久不见想死你了"), None);
        assert_eq!(level("我想看那个笑死人的视频"), None);
        assert_eq!(level("想了很久还是不想死"), None);
        // A means alone, an intent alone: nothing; both in one clause: intent.
        assert_eq!(level("医生给我开了安眠药"), None);
        assert_eq!(level("我打算周末去爬山"), None);
        assert_eq!(
            level("我打算把攒的安眠药都吃了"),
            Some((Level::Intent, Category::Means))
        );
        assert_eq!(level("我打算去医院，安眠药快吃完了"), None);
        let hit = l.check("我打算把安眠药吃了").unwrap();
        assert_eq!(hit.phrase, "安眠药＋打算");
        // About someone else: not the writer's own statement, unless 我 comes between.
        assert_eq!(level("我朋友说她想死"), None);
        assert_eq!(level("有人想跳下去的时候怎么办"), None);
        assert_eq!(
            level("她说我是累赘"),
            Some((Level::Passive, Category::Burden))
        );
        assert_eq!(
            level("她走了，我想死"),
            Some((Level::Passive, Category::Wish))
        );
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
