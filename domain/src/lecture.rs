//! 讲座点单: a menu of lecture topics (seed 002 附件 4; seed 000's "订单式点餐"), a work unit's
//! request with the fields of 附件 6, and the organiser's review.
//!
//! The rules here: what a valid request is (attendees within the staff total, phones, dates
//! ahead), who may move a request from which state to which (the transition table), what the
//! liaison is told when the organiser decides, and the join code of a screening that comes
//! with an accepted request.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use crate::screening::FrozenCounts;
use crate::validation::{self, Collector, ValidationError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub id: Uuid,
    pub name: String,
    pub note: Option<String>,
    pub sort_order: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub id: Uuid,
    pub series_id: Uuid,
    pub series: String,
    /// The number in the series' own list (附件 4: 序号), when it has one.
    pub number: Option<u32>,
    pub title: String,
    /// 内容要点; empty when the source names only the title.
    pub points: String,
    /// 课时 in minutes; `None` when the source gives none.
    pub minutes: Option<u32>,
    pub active: bool,
}

/// A new topic, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInput {
    pub series_id: Uuid,
    pub number: Option<u32>,
    pub title: String,
    pub points: String,
    pub minutes: Option<u32>,
}

impl TopicInput {
    pub fn parse(
        series_id: Uuid,
        number: Option<u32>,
        title: &str,
        points: &str,
        minutes: Option<u32>,
    ) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let title = c.check(validation::text("title", "讲座主题", title, 1, 64));
        let points = c.check(validation::multiline("points", "内容要点", points, 0, 500));
        if let Some(m) = minutes
            && !(15..=480).contains(&m)
        {
            c.push("minutes", "课时须在 15 到 480 分钟之间");
        }
        if let Some(n) = number
            && !(1..=999).contains(&n)
        {
            c.push("number", "序号须在 1 到 999 之间");
        }
        c.finish()?;
        match (title, points) {
            (Some(title), Some(points)) => Ok(Self {
                series_id,
                number,
                title,
                points,
                minutes,
            }),
            _ => Err(ValidationError::single("title", "内容有误")),
        }
    }
}

pub fn parse_series_name(raw: &str) -> Result<String, ValidationError> {
    validation::text("name", "系列名称", raw, 1, 64)
}

/// A person's part in one screening (their export): which result was counted where, and
/// whether they accepted one-to-one counseling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participation {
    pub assessment: Uuid,
    pub request: Uuid,
    pub unit_name: String,
    pub counted_at: DateTime<Utc>,
    pub referred_at: Option<DateTime<Utc>>,
}

/// A person to contact at the unit (附件 6: 联络人, 单位负责人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    /// 职务.
    pub title: String,
    pub office_phone: Option<String>,
    pub mobile: String,
}

/// What stays of the liaison's contact when they delete their account (#30): the unit's
/// form stays with the organiser, marked as from a deleted account; the person's own name and
/// mobile go; their title and the unit's office line stay.
pub fn forgotten_liaison(c: &Contact) -> Contact {
    Contact {
        name: DELETED_LIAISON.into(),
        title: c.title.clone(),
        office_phone: c.office_phone.clone(),
        mobile: String::new(),
    }
}

/// The liaison's name on a request whose account was deleted.
pub const DELETED_LIAISON: &str = "（联络人已注销）";

/// A contact's name once its keeping time after the request finished has passed
/// (`retention::Kept::LectureContacts`).
pub const EXPIRED_CONTACT: &str = "（已过保存期限）";

/// What stays of a contact past its keeping time: the title and the unit's office line;
/// the person's name and mobile go.
pub fn expired_contact(c: &Contact) -> Contact {
    Contact {
        name: EXPIRED_CONTACT.into(),
        title: c.title.clone(),
        office_phone: c.office_phone.clone(),
        mobile: String::new(),
    }
}

impl Status {
    /// A request in one of these will not change again; its contacts have a keeping time.
    pub const FINISHED: [Status; 3] = [Status::Done, Status::Declined, Status::Withdrawn];
}

fn phone(
    c: &mut Collector,
    field: &str,
    raw: Option<&str>,
    required: bool,
) -> Option<Option<String>> {
    match raw.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => {
            let ok = (5..=20).contains(&p.len())
                && p.chars().all(|ch| ch.is_ascii_digit() || ch == '-')
                && p.starts_with(|ch: char| ch.is_ascii_digit())
                && p.ends_with(|ch: char| ch.is_ascii_digit());
            if ok {
                Some(Some(p.to_owned()))
            } else {
                c.push(field, "电话只能包含数字和连字符，5 到 20 位");
                None
            }
        }
        None if required => {
            c.push(field, "请填写电话");
            None
        }
        None => Some(None),
    }
}

impl Contact {
    fn parse(
        c: &mut Collector,
        field: &str,
        name: &str,
        title: &str,
        office_phone: Option<&str>,
        mobile: &str,
    ) -> Option<Self> {
        let name = c.check(validation::text(
            &format!("{field}.name"),
            "姓名",
            name,
            1,
            32,
        ));
        let title = c.check(validation::text(
            &format!("{field}.title"),
            "职务",
            title,
            0,
            32,
        ));
        let office = phone(c, &format!("{field}.office_phone"), office_phone, false);
        let mobile = phone(c, &format!("{field}.mobile"), Some(mobile), true);
        Some(Self {
            name: name?,
            title: title?,
            office_phone: office?,
            mobile: mobile??,
        })
    }
}

/// A unit's request, as the liaison fills in 附件 6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInput {
    pub unit_name: String,
    pub unit_address: String,
    /// The region the unit is in (as stations name theirs, e.g. 长沙市), so that a screening
    /// referral can offer a station nearby; `None` when the liaison left it out.
    pub region: Option<String>,
    /// 讲座时间: one to three dates that suit the unit.
    pub preferred_dates: Vec<NaiveDate>,
    pub topic_id: Option<Uuid>,
    /// 讲座内容: what the unit's staff need (the menu topic, or in the unit's words).
    pub content_note: String,
    pub staff_total: u32,
    pub attendees: u32,
    /// 是否愿意接受与其它单位一起培训.
    pub joint_ok: bool,
    pub liaison: Contact,
    pub head: Contact,
    /// A group screening (普查) at the same visit, with these scales.
    pub screening: bool,
    pub screening_scales: Vec<String>,
}

/// The raw fields of a request.
#[derive(Debug, Clone)]
pub struct RequestFields<'a> {
    pub unit_name: &'a str,
    pub unit_address: &'a str,
    pub region: Option<&'a str>,
    pub preferred_dates: Vec<NaiveDate>,
    pub topic_id: Option<Uuid>,
    pub content_note: &'a str,
    pub staff_total: i64,
    pub attendees: i64,
    pub joint_ok: bool,
    /// name, title, office phone, mobile.
    pub liaison: (&'a str, &'a str, Option<&'a str>, &'a str),
    pub head: (&'a str, &'a str, Option<&'a str>, &'a str),
    pub screening: bool,
    pub screening_scales: Vec<String>,
}

impl RequestInput {
    /// Every field checked at once. `today` is the China date; `known_scales` the scale
    /// codes a screening may use.
    pub fn parse(
        f: RequestFields<'_>,
        today: NaiveDate,
        known_scales: &[String],
    ) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let unit_name = c.check(validation::text(
            "unit_name",
            "单位名称",
            f.unit_name,
            1,
            64,
        ));
        let unit_address = c.check(validation::text(
            "unit_address",
            "单位地址",
            f.unit_address,
            1,
            200,
        ));
        let region = match f.region.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => c
                .check(validation::text("region", "所在地区", r, 1, 32))
                .map(Some),
            None => Some(None),
        };
        let content_note = c.check(validation::multiline(
            "content_note",
            "讲座内容",
            f.content_note,
            0,
            500,
        ));
        if f.topic_id.is_none() && content_note.as_deref().is_some_and(str::is_empty) {
            c.push("content_note", "请选择讲座主题或填写讲座内容");
        }
        if f.preferred_dates.is_empty() || f.preferred_dates.len() > 3 {
            c.push("preferred_dates", "请填写 1 到 3 个希望的讲座日期");
        }
        for (i, d) in f.preferred_dates.iter().enumerate() {
            if *d <= today {
                c.push(format!("preferred_dates[{i}]"), "讲座日期须晚于今天");
            } else if (*d - today).num_days() > 366 {
                c.push(format!("preferred_dates[{i}]"), "讲座日期须在一年之内");
            }
        }
        let staff_total = u32::try_from(f.staff_total)
            .ok()
            .filter(|n| (1..=100_000).contains(n));
        if staff_total.is_none() {
            c.push("staff_total", "单位总人数须在 1 到 100000 之间");
        }
        let attendees = u32::try_from(f.attendees).ok().filter(|n| *n >= 1);
        match (attendees, staff_total) {
            (None, _) => c.push("attendees", "参加人数至少为 1"),
            (Some(a), Some(t)) if a > t => c.push("attendees", "参加人数不能超过单位总人数"),
            _ => {}
        }
        let liaison = Contact::parse(
            &mut c,
            "liaison",
            f.liaison.0,
            f.liaison.1,
            f.liaison.2,
            f.liaison.3,
        );
        let head = Contact::parse(&mut c, "head", f.head.0, f.head.1, f.head.2, f.head.3);
        let mut scales = f.screening_scales;
        scales.dedup();
        if f.screening && scales.is_empty() {
            c.push("screening_scales", "普查须至少选择一个量表");
        }
        if !f.screening && !scales.is_empty() {
            c.push("screening_scales", "不做普查时无需选择量表");
        }
        for (i, s) in scales.iter().enumerate() {
            if !known_scales.contains(s) {
                c.push(format!("screening_scales[{i}]"), "没有这个量表");
            }
        }
        c.finish()?;
        match (
            unit_name,
            unit_address,
            region,
            content_note,
            staff_total,
            attendees,
            liaison,
            head,
        ) {
            (
                Some(unit_name),
                Some(unit_address),
                Some(region),
                Some(content_note),
                Some(staff_total),
                Some(attendees),
                Some(liaison),
                Some(head),
            ) => {
                let mut dates = f.preferred_dates;
                dates.sort();
                dates.dedup();
                Ok(Self {
                    unit_name,
                    unit_address,
                    region,
                    preferred_dates: dates,
                    topic_id: f.topic_id,
                    content_note,
                    staff_total,
                    attendees,
                    joint_ok: f.joint_ok,
                    liaison,
                    head,
                    screening: f.screening,
                    screening_scales: scales,
                })
            }
            _ => Err(ValidationError::single("body", "内容有误")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for the organiser.
    Submitted,
    /// The organiser offered another date; the liaison answers.
    Proposed,
    Accepted,
    Declined,
    /// The unit withdrew it.
    Withdrawn,
    /// The lecture took place.
    Done,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Submitted,
        Status::Proposed,
        Status::Accepted,
        Status::Declined,
        Status::Withdrawn,
        Status::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Proposed => "proposed",
            Status::Accepted => "accepted",
            Status::Declined => "declined",
            Status::Withdrawn => "withdrawn",
            Status::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A word for the liaison's message.
    pub fn label(self) -> &'static str {
        match self {
            Status::Submitted => "待审核",
            Status::Proposed => "建议改期",
            Status::Accepted => "已安排",
            Status::Declined => "未能安排",
            Status::Withdrawn => "已撤回",
            Status::Done => "已完成",
        }
    }
}

/// Who acts on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Liaison,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Admin: schedule it (lecturer, time, place).
    Accept,
    /// Admin: offer another date.
    Propose,
    /// Admin: cannot be done (reason).
    Decline,
    /// Liaison: take the proposed date.
    TakeProposal,
    /// Liaison: refuse the proposed date; the organiser looks again.
    RefuseProposal,
    /// Liaison: the unit no longer wants it.
    Withdraw,
    /// Admin: it took place.
    MarkDone,
}

/// The transition table: who may do what from which state, and the state it leads to.
pub fn transition(from: Status, actor: Actor, action: Action) -> Option<Status> {
    use Action as A;
    use Actor::{Admin, Liaison};
    use Status as S;
    match (from, actor, action) {
        (S::Submitted, Admin, A::Accept) => Some(S::Accepted),
        (S::Submitted, Admin, A::Propose) => Some(S::Proposed),
        (S::Submitted | S::Proposed, Admin, A::Decline) => Some(S::Declined),
        (S::Proposed, Liaison, A::TakeProposal) => Some(S::Accepted),
        (S::Proposed, Liaison, A::RefuseProposal) => Some(S::Submitted),
        (S::Submitted | S::Proposed | S::Accepted, Liaison, A::Withdraw) => Some(S::Withdrawn),
        (S::Accepted, Admin, A::MarkDone) => Some(S::Done),
        _ => None,
    }
}

/// Why a step on a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepRefusal {
    /// Not from this state, or not by this actor ([`transition`]).
    State(Status),
    /// Marked held before its time: the figures would count, and the survey open on, a
    /// lecture that has not taken place.
    NotHeldYet(DateTime<Utc>),
}

/// The state a step leads to, or why it is refused.
pub fn check_step(
    r: &LectureRequest,
    actor: Actor,
    action: Action,
    now: DateTime<Utc>,
) -> Result<Status, StepRefusal> {
    let to = transition(r.status, actor, action).ok_or(StepRefusal::State(r.status))?;
    if action == Action::MarkDone
        && let Some(at) = r.scheduled_at.filter(|at| *at > now)
    {
        return Err(StepRefusal::NotHeldYet(at));
    }
    Ok(to)
}

/// Whether the liaison is told of this step (the organiser decided something).
pub fn tells_liaison(to: Status, actor: Actor) -> bool {
    actor == Actor::Admin && matches!(to, Status::Accepted | Status::Proposed | Status::Declined)
}

/// What the organiser decides, validated: accepting and proposing need a time in the future
/// (and accepting a lecturer and a place); declining needs a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    pub lecturer: Option<String>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub location: Option<String>,
    pub reason: Option<String>,
}

impl Decision {
    pub fn parse(
        action: Action,
        lecturer: Option<&str>,
        scheduled_at: Option<DateTime<Utc>>,
        location: Option<&str>,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let text = |c: &mut Collector,
                    field: &str,
                    label: &str,
                    v: Option<&str>,
                    need: bool,
                    max: usize| {
            match v.map(str::trim).filter(|v| !v.is_empty()) {
                Some(v) => c.check(validation::text(field, label, v, 1, max)).map(Some),
                None if need => {
                    c.push(field, format!("请填写{label}"));
                    None
                }
                None => Some(None),
            }
        };
        let needs_time = matches!(action, Action::Accept | Action::Propose);
        let lecturer = text(
            &mut c,
            "lecturer",
            "讲师",
            lecturer,
            action == Action::Accept,
            64,
        );
        let location = text(
            &mut c,
            "location",
            "地点",
            location,
            action == Action::Accept,
            200,
        );
        let reason = text(
            &mut c,
            "reason",
            "原因",
            reason,
            action == Action::Decline,
            300,
        );
        match scheduled_at {
            None if needs_time => c.push("scheduled_at", "请填写讲座时间"),
            Some(t) if needs_time && t <= now => c.push("scheduled_at", "讲座时间须在将来"),
            _ => {}
        }
        c.finish()?;
        Ok(Self {
            action,
            lecturer: lecturer.flatten(),
            scheduled_at: if needs_time { scheduled_at } else { None },
            location: location.flatten(),
            reason: reason.flatten(),
        })
    }
}

/// Characters of a screening join code: no 0/O, 1/I/L, so that a printed code is read right.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const CODE_LENGTH: usize = 10;

/// A join code from random bytes (10 characters of 31: about 49 bits, not guessable at the
/// rate limits of the join route).
pub fn screening_code(random: &[u8; CODE_LENGTH]) -> String {
    random
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect()
}

/// A participant's answer to the satisfaction survey after a lecture (seed 000: 对讲座内容
/// 非常满意, 学习收获很大): two questions of 1–5 and an optional comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyAnswer {
    pub content: u8,
    pub gain: u8,
    pub comment: Option<String>,
}

impl SurveyAnswer {
    /// An answer as stored (scores out of range read as 0, which no figure counts as a 5).
    pub fn stored(content: i16, gain: i16, comment: Option<String>) -> Self {
        Self {
            content: u8::try_from(content).unwrap_or(0),
            gain: u8::try_from(gain).unwrap_or(0),
            comment,
        }
    }

    pub fn parse(content: i64, gain: i64, comment: Option<&str>) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let score = |c: &mut Collector, field: &str, v: i64| match u8::try_from(v) {
            Ok(s) if (1..=5).contains(&s) => Some(s),
            _ => {
                c.push(field, "请选择 1 到 5 分");
                None
            }
        };
        let content = score(&mut c, "content", content);
        let gain = score(&mut c, "gain", gain);
        let comment = match comment.map(str::trim).filter(|s| !s.is_empty()) {
            Some(t) => c
                .check(validation::multiline("comment", "意见建议", t, 1, 300))
                .map(Some),
            None => Some(None),
        };
        c.finish()?;
        match (content, gain, comment) {
            (Some(content), Some(gain), Some(comment)) => Ok(Self {
                content,
                gain,
                comment,
            }),
            _ => Err(ValidationError::single("content", "内容有误")),
        }
    }
}

/// How long the survey stays open after the lecture; then the unit reads its figures.
pub const SURVEY_OPEN_DAYS: i64 = 14;

/// The survey's shares are shown from this many answers on: a share of 2 answers says how
/// each of the two rated.
pub const SURVEY_MIN_ANSWERS: u64 = 10;

/// While the survey is open the unit sees the number of answers rounded down to this.
pub const SURVEY_ROUNDING: u64 = 5;

/// When the survey closes: [`SURVEY_OPEN_DAYS`] after the lecture, or earlier when the
/// organiser closed it.
pub fn survey_closes_at(r: &LectureRequest) -> Option<DateTime<Utc>> {
    let due = r
        .scheduled_at
        .map(|t| t + chrono::Duration::days(SURVEY_OPEN_DAYS));
    match (r.survey_closed_at, due) {
        (Some(closed), Some(due)) => Some(closed.min(due)),
        (closed, due) => closed.or(due),
    }
}

/// The organiser closes a survey early (every participant has answered): only an open one,
/// from now on. The unit then reads its figures under the closed survey's rule.
pub fn close_survey_early(r: &LectureRequest, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    survey_open(r, now).then_some(now)
}

/// The survey is open once the lecture has taken place (marked done, or its time has come),
/// until it closes.
pub fn survey_open(r: &LectureRequest, now: DateTime<Utc>) -> bool {
    (r.status == Status::Done
        || (r.status == Status::Accepted && r.scheduled_at.is_some_and(|t| t <= now)))
        && survey_closes_at(r).is_none_or(|t| now < t)
}

/// What the unit's liaison and the organiser read of one lecture's survey (#30): the same rule
/// as the screening report, so that reading, asking one colleague to answer and reading again
/// teaches nothing of that colleague.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitSurvey {
    pub closed: bool,
    pub closes_at: Option<DateTime<Utc>>,
    /// While open: rounded down to [`SURVEY_ROUNDING`]. Closed: exact.
    pub responses: u64,
    /// Closed and at least [`SURVEY_MIN_ANSWERS`] answers; otherwise `None`.
    pub content_very_satisfied_rate: Option<f64>,
    pub gain_very_rate: Option<f64>,
    /// Closed only; in an order that says nothing of who wrote when (by a hash of the text),
    /// without the comments `hidden` picks (those that hit the risk lexicon).
    pub comments: Vec<String>,
}

pub fn unit_survey(
    r: &LectureRequest,
    answers: &[SurveyAnswer],
    now: DateTime<Utc>,
    hidden: impl Fn(&str) -> bool,
) -> UnitSurvey {
    let closes_at = survey_closes_at(r);
    let closed = closes_at.is_some_and(|t| t <= now);
    let s = summarise(answers);
    if !closed {
        return UnitSurvey {
            closed,
            closes_at,
            responses: s.responses - s.responses % SURVEY_ROUNDING,
            content_very_satisfied_rate: None,
            gain_very_rate: None,
            comments: vec![],
        };
    }
    let enough = s.responses >= SURVEY_MIN_ANSWERS;
    let mut comments: Vec<String> = s.comments.into_iter().filter(|c| !hidden(c)).collect();
    comments.sort_by_key(|c| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        c.hash(&mut h);
        (h.finish(), c.clone())
    });
    UnitSurvey {
        closed,
        closes_at,
        responses: s.responses,
        content_very_satisfied_rate: s.content_very_satisfied_rate.filter(|_| enough),
        gain_very_rate: s.gain_very_rate.filter(|_| enough),
        comments,
    }
}

/// The figures of a survey, as seed 000 reports them: responses, the share of 5s for each
/// question (79.83 % = 281 / 352), and the comments without names.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveySummary {
    pub responses: u64,
    pub content_very_satisfied_rate: Option<f64>,
    pub gain_very_rate: Option<f64>,
    pub comments: Vec<String>,
}

/// A share rounded to 4 decimals (0.7983); `None` without responses.
pub fn rate(hits: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| (hits as f64 / of as f64 * 10_000.0).round() / 10_000.0)
}

pub fn summarise(answers: &[SurveyAnswer]) -> SurveySummary {
    let n = answers.len() as u64;
    let fives = |f: fn(&SurveyAnswer) -> u8| answers.iter().filter(|a| f(a) == 5).count() as u64;
    SurveySummary {
        responses: n,
        content_very_satisfied_rate: rate(fives(|a| a.content), n),
        gain_very_rate: rate(fives(|a| a.gain), n),
        comments: answers.iter().filter_map(|a| a.comment.clone()).collect(),
    }
}

/// The organiser's figures for one month (China time, by the lecture's date) and unit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LectureFigures {
    /// `YYYY-MM`.
    pub month: String,
    pub unit_name: String,
    pub lectures: u64,
    pub attendees: u64,
    pub screenings: u64,
    /// Screening results counted (one per scale and participant).
    pub screening_results: u64,
    pub referrals_accepted: u64,
    pub survey_responses: u64,
    pub content_very_satisfied_rate: Option<f64>,
}

/// Figures per month and unit from the lectures held.
pub fn figures(rows: &[(LectureRequest, u64, u64, Vec<SurveyAnswer>)]) -> Vec<LectureFigures> {
    use chrono::Datelike;
    let mut map: std::collections::BTreeMap<(String, String), (LectureFigures, Vec<SurveyAnswer>)> =
        Default::default();
    for (r, results, referred, answers) in rows {
        let Some(at) = r.scheduled_at else { continue };
        let local = at.with_timezone(&crate::schedule::CHINA);
        let month = format!("{:04}-{:02}", local.year(), local.month());
        let (f, all) = map
            .entry((month.clone(), r.input.unit_name.clone()))
            .or_insert_with(|| {
                (
                    LectureFigures {
                        month,
                        unit_name: r.input.unit_name.clone(),
                        ..Default::default()
                    },
                    vec![],
                )
            });
        f.lectures += 1;
        f.attendees += u64::from(r.input.attendees);
        if r.input.screening {
            f.screenings += 1;
        }
        f.screening_results += results;
        f.referrals_accepted += referred;
        all.extend(answers.iter().cloned());
    }
    map.into_values()
        .map(|(mut f, answers)| {
            let s = summarise(&answers);
            f.survey_responses = s.responses;
            f.content_very_satisfied_rate = s.content_very_satisfied_rate;
            f
        })
        .collect()
}

/// A month and unit of lectures as an admin sees it (`crate::disclosure`): the lectures,
/// attendees and screenings are events, not people's answers, and show as they are; what
/// counts people's results or answers is `None` where hidden.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminLectureFigures {
    pub month: String,
    pub unit_name: String,
    pub lectures: u64,
    pub attendees: u64,
    pub screenings: u64,
    pub screening_results: Option<u64>,
    /// A part of `screening_results`.
    pub referrals_accepted: Option<u64>,
    pub survey_responses: Option<u64>,
    /// Over at least `ADMIN_MIN` answers.
    pub content_very_satisfied_rate: Option<f64>,
}

impl LectureFigures {
    pub fn for_admin(&self) -> AdminLectureFigures {
        use crate::disclosure::{ADMIN_MIN, admin_count, admin_part};
        AdminLectureFigures {
            month: self.month.clone(),
            unit_name: self.unit_name.clone(),
            lectures: self.lectures,
            attendees: self.attendees,
            screenings: self.screenings,
            screening_results: admin_count(self.screening_results),
            referrals_accepted: admin_part(self.referrals_accepted, self.screening_results),
            survey_responses: admin_count(self.survey_responses),
            content_very_satisfied_rate: self
                .content_very_satisfied_rate
                .filter(|_| self.survey_responses >= ADMIN_MIN),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LectureRequest {
    pub id: Uuid,
    /// The liaison's account; `None` after they deleted it.
    pub user_id: Option<Uuid>,
    pub input: RequestInput,
    pub status: Status,
    pub lecturer: Option<String>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub location: Option<String>,
    pub reason: Option<String>,
    /// Set when an accepted request has a screening.
    pub screening_code: Option<String>,
    /// When its screening closes (`crate::screening::closes_at` reads it).
    pub screening_closes_at: Option<DateTime<Utc>>,
    /// When the organiser closed its survey early, if they did ([`survey_closes_at`]).
    pub survey_closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl LectureRequest {
    /// Who this caller is to the request: its liaison, an admin, or nobody (not found).
    pub fn actor(&self, caller: Uuid, is_admin: bool) -> Option<Actor> {
        if is_admin {
            Some(Actor::Admin)
        } else if self.user_id == Some(caller) {
            Some(Actor::Liaison)
        } else {
            None
        }
    }
}

/// What a step of the table changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub actor: Actor,
    pub action: Action,
    pub decision: Option<Decision>,
    /// A new join code when the step accepts a request with a screening that has none.
    pub screening_code: Option<String>,
    /// The screening's closing time when the step accepts a request with a screening
    /// (`crate::screening::close_on_accept`).
    pub screening_closes_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait LectureRepository: Send + Sync {
    async fn menu(&self, active_only: bool) -> Result<Vec<Topic>, RepoError>;
    async fn series(&self) -> Result<Vec<Series>, RepoError>;
    async fn create_series(
        &self,
        name: String,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Series, RepoError>;
    async fn create_topic(&self, input: TopicInput, now: DateTime<Utc>)
    -> Result<Topic, RepoError>;
    async fn topic(&self, id: Uuid) -> Result<Option<Topic>, RepoError>;
    async fn create_request(
        &self,
        user: Uuid,
        input: RequestInput,
        now: DateTime<Utc>,
    ) -> Result<LectureRequest, RepoError>;
    async fn find(&self, id: Uuid) -> Result<Option<LectureRequest>, RepoError>;
    async fn of_user(
        &self,
        user: Uuid,
        page: PageRequest,
    ) -> Result<Page<LectureRequest>, RepoError>;
    async fn list(
        &self,
        status: Option<Status>,
        page: PageRequest,
    ) -> Result<Page<LectureRequest>, RepoError>;
    /// Applies a step of [`transition`] if the request is still in `from` (compare-and-set);
    /// writes the liaison's `lecture_request_decided` message in the same transaction when
    /// [`tells_liaison`]. `None` when the request changed meanwhile.
    async fn apply(
        &self,
        id: Uuid,
        from: Status,
        to: Status,
        step: Step,
        now: DateTime<Utc>,
    ) -> Result<Option<LectureRequest>, RepoError>;
    /// The request whose screening has this join code.
    async fn find_by_code(&self, code: &str) -> Result<Option<LectureRequest>, RepoError>;
    /// The scales `user` has already taken in this screening.
    async fn screened_scales(&self, request: Uuid, user: Uuid) -> Result<Vec<String>, RepoError>;
    /// Stores the participant's own result and counts it in the screening, in one
    /// transaction. A person takes a scale once per screening: a unique key says so, so that
    /// two concurrent submissions count once (`Conflict::AlreadyScreened`, nothing stored).
    async fn insert_screened(
        &self,
        request: Uuid,
        assessment: &crate::assessment::Assessment,
    ) -> Result<(), RepoError>;
    /// Records that the participant behind `assessment` accepted one-to-one counseling.
    async fn mark_referred(&self, assessment: Uuid, now: DateTime<Utc>) -> Result<(), RepoError>;
    /// Lectures held (done) with their session in `[from, to)`: each with its screening
    /// results counted, referrals accepted and survey answers.
    async fn stats_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(LectureRequest, u64, u64, Vec<SurveyAnswer>)>, RepoError>;
    /// The screening an assessment was counted in, if any.
    async fn screening_of(&self, assessment: Uuid) -> Result<Option<Uuid>, RepoError>;
    /// The screenings the person took part in, for their export.
    async fn participation_of(&self, user: Uuid) -> Result<Vec<Participation>, RepoError>;
    /// Stores a participant's survey answer; `Conflict::SurveyAnswered` the second time.
    async fn answer_survey(
        &self,
        request: Uuid,
        user: Uuid,
        answer: &SurveyAnswer,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;
    async fn survey_answers(&self, request: Uuid) -> Result<Vec<SurveyAnswer>, RepoError>;
    /// Every survey answer given in `[from, to)`, for the satisfaction figures.
    async fn survey_answers_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SurveyAnswer>, RepoError>;
    /// Participants per scale and band level, counted in the database; results of `except`
    /// (`crate::screening::not_counted`) left out.
    async fn screening_counts(
        &self,
        request: Uuid,
        except: Option<Uuid>,
    ) -> Result<Vec<(String, u8, u64)>, RepoError>;
    /// Closes the survey at `at` (the organiser closes it early).
    async fn close_survey(
        &self,
        request: Uuid,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<LectureRequest>, RepoError>;
    /// Moves the screening's closing time to `at` (the organiser closes it early).
    async fn close_screening(
        &self,
        request: Uuid,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<LectureRequest>, RepoError>;
    /// The screening's frozen counts, once taken.
    async fn frozen_counts(&self, request: Uuid) -> Result<Option<FrozenCounts>, RepoError>;
    /// Keeps `counts` as the screening's frozen counts unless some were kept already (two
    /// readers at once: the first wins); returns what is kept.
    async fn freeze_counts(
        &self,
        request: Uuid,
        counts: FrozenCounts,
    ) -> Result<FrozenCounts, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>() -> RequestFields<'a> {
        RequestFields {
            unit_name: "湖南省某厅",
            unit_address: "长沙市某路 1 号",
            region: Some(" 长沙市 "),
            preferred_dates: vec![NaiveDate::from_ymd_opt(2026, 12, 20).unwrap()],
            topic_id: Some(Uuid::nil()),
            content_note: "",
            staff_total: 120,
            attendees: 80,
            joint_ok: true,
            liaison: ("王", "办公室主任", Some("0731-88888888"), "13800000000"),
            head: ("李", "处长", None, "13900000000"),
            screening: true,
            screening_scales: vec!["phq9".into()],
        }
    }

    #[test]
    fn a_request_is_checked_as_the_form_of_seed_002_asks() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let known = vec!["phq9".to_owned(), "gad7".to_owned()];
        let parsed = RequestInput::parse(fields(), today, &known).unwrap();
        assert_eq!(parsed.region.as_deref(), Some("长沙市"));
        let mut f = fields();
        f.region = Some("  ");
        assert_eq!(
            RequestInput::parse(f, today, &known).unwrap().region,
            None,
            "a blank region is no region"
        );
        let mut f = fields();
        f.attendees = 121;
        f.liaison.3 = "abc";
        f.preferred_dates = vec![today];
        f.screening_scales = vec!["nope".into()];
        let e = RequestInput::parse(f, today, &known).unwrap_err();
        let names: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "preferred_dates[0]",
                "attendees",
                "liaison.mobile",
                "screening_scales[0]"
            ]
        );
        let mut f = fields();
        f.topic_id = None;
        f.screening = false;
        f.screening_scales = vec![];
        assert!(
            RequestInput::parse(f, today, &known).is_err(),
            "no topic, no content"
        );
    }

    #[test]
    fn the_transition_table() {
        use Action as A;
        use Actor::{Admin, Liaison};
        use Status as S;
        assert_eq!(
            transition(S::Submitted, Admin, A::Propose),
            Some(S::Proposed)
        );
        assert_eq!(
            transition(S::Proposed, Liaison, A::TakeProposal),
            Some(S::Accepted)
        );
        assert_eq!(
            transition(S::Proposed, Liaison, A::RefuseProposal),
            Some(S::Submitted)
        );
        assert_eq!(
            transition(S::Submitted, Liaison, A::Accept),
            None,
            "a liaison cannot accept their own request"
        );
        assert_eq!(transition(S::Declined, Admin, A::Accept), None);
        assert_eq!(
            transition(S::Accepted, Liaison, A::Withdraw),
            Some(S::Withdrawn)
        );
        assert_eq!(transition(S::Done, Liaison, A::Withdraw), None);
        assert_eq!(transition(S::Accepted, Admin, A::MarkDone), Some(S::Done));
        assert!(tells_liaison(S::Declined, Admin));
        assert!(!tells_liaison(S::Withdrawn, Liaison));
    }

    #[test]
    fn decisions_and_codes() {
        let now = Utc::now();
        assert!(
            Decision::parse(
                Action::Accept,
                Some("张老师"),
                Some(now + chrono::Duration::days(3)),
                Some("三楼会议室"),
                None,
                now
            )
            .is_ok()
        );
        let e = Decision::parse(Action::Accept, None, Some(now), None, None, now).unwrap_err();
        let names: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["lecturer", "location", "scheduled_at"]);
        assert!(Decision::parse(Action::Decline, None, None, None, None, now).is_err());
        let code = screening_code(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 255]);
        assert_eq!(code.len(), CODE_LENGTH);
        assert!(code.chars().all(|c| CODE_ALPHABET.contains(&(c as u8))));
        assert!(!code.contains('0') && !code.contains('O') && !code.contains('I'));
    }

    #[test]
    fn survey_figures_as_seed_000_reports_them() {
        // Seed 000: 352 answers, 281 very satisfied with the content (79.83 %), 267 gained a lot
        // (75.85 %).
        let answers: Vec<SurveyAnswer> = (0..352)
            .map(|i| SurveyAnswer {
                content: if i < 281 { 5 } else { 4 },
                gain: if i < 267 { 5 } else { 3 },
                comment: None,
            })
            .collect();
        let s = summarise(&answers);
        assert_eq!(s.responses, 352);
        assert_eq!(s.content_very_satisfied_rate, Some(0.7983));
        assert_eq!(s.gain_very_rate, Some(0.7585));
        assert_eq!(summarise(&[]).content_very_satisfied_rate, None);
        assert!(SurveyAnswer::parse(0, 6, None).is_err());
    }
}
