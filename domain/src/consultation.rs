//! 在线咨询: the consultation queue. Every rule of the queue is here: the state machine, the
//! priority from risk, the order in which counselors receive people, a waiting person's
//! position and an honest estimate of their wait.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::assessment::{Risk, TOP_LEVEL};
use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use crate::validation::{self, Collector, ValidationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Waiting,
    Active,
    Closed,
    Cancelled,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Active => "active",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
        }
    }

    pub const ALL: [Status; 5] = [
        Status::Waiting,
        Status::Active,
        Status::Closed,
        Status::Cancelled,
        Status::Expired,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Waiting => "排队中",
            Status::Active => "咨询中",
            Status::Closed => "已结束",
            Status::Cancelled => "已取消",
            Status::Expired => "已过期",
        }
    }

    /// Still asking for or receiving help.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Waiting | Status::Active)
    }
}

/// What can happen to a consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A counselor takes the person from the queue.
    Claim,
    /// The person withdraws while waiting.
    Cancel,
    /// Waited longer than the service allows.
    Expire,
    /// The counselor ends the session.
    Close,
    /// Back to the queue: to the pool (keeping the place by arrival) or assigned to a named
    /// counselor, or because the counselor did not reply in time.
    Requeue,
}

/// The one table of legal transitions. Anything else is refused, never ignored.
pub fn transition(from: Status, event: Event) -> Result<Status, IllegalTransition> {
    use Event::*;
    use Status::*;
    match (from, event) {
        (Waiting, Claim) => Ok(Active),
        (Waiting, Cancel) => Ok(Cancelled),
        (Waiting, Expire) => Ok(Expired),
        (Active, Close) => Ok(Closed),
        (Active, Requeue) => Ok(Waiting),
        _ => Err(IllegalTransition { from, event }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {event:?} a consultation that is {from:?}")]
pub struct IllegalTransition {
    pub from: Status,
    pub event: Event,
}

impl IllegalTransition {
    /// A Chinese sentence for the person who tried.
    pub fn message(&self) -> String {
        format!("该咨询当前{}，无法执行此操作", self.from.label())
    }
}

/// Queue priority, from the person's recent assessments. Counselors see it and its reason;
/// the person only sees their position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Normal = 0,
    Elevated = 1,
    High = 2,
    Urgent = 3,
}

impl Priority {
    pub fn rank(self) -> i16 {
        self as i16
    }

    /// Lowest first.
    pub const ALL: [Priority; 4] = [
        Priority::Normal,
        Priority::Elevated,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn from_rank(r: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.rank() == r)
    }

    /// As staff see it in the queue.
    pub fn label(self) -> &'static str {
        match self {
            Priority::Normal => "普通",
            Priority::Elevated => "关注",
            Priority::High => "高",
            Priority::Urgent => "紧急",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::Elevated => "elevated",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// From the current risk: a critical item → urgent; the top band → high; a moderate band →
    /// elevated; otherwise normal.
    pub fn from_risk(risk: Risk) -> (Self, &'static str) {
        if risk.critical {
            (Priority::Urgent, "近 14 天的测评中，自伤相关题目作答为阳性")
        } else if risk.max_level.is_some_and(|l| l >= TOP_LEVEL) {
            (Priority::High, "近 14 天的测评结果达到最高严重等级")
        } else if risk.max_level.is_some_and(|l| l >= 2) {
            (Priority::Elevated, "近 14 天的测评结果为中度")
        } else {
            (Priority::Normal, "近 14 天无中度及以上的测评结果")
        }
    }
}

/// How a consultation is held; only text for now.
pub const CHANNELS: [&str; 1] = ["text"];

/// What the person sees of their priority: only whether recent self-assessments moved them
/// ahead, never the risk behind it.
pub const USER_PRIORITIES: [&str; 2] = ["standard", "prioritized"];

/// The person's view of `priority`.
pub fn user_priority(priority: Priority) -> &'static str {
    if priority > Priority::Normal {
        USER_PRIORITIES[1]
    } else {
        USER_PRIORITIES[0]
    }
}

pub const TOPICS: [&str; 8] = [
    "情绪困扰",
    "压力",
    "睡眠",
    "人际关系",
    "亲子家庭",
    "职业发展",
    "孕产期",
    "其他",
];
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_MESSAGE_CHARS: usize = 2000;
pub const MAX_COMMENT_CHARS: usize = 500;
/// Ratings are whole stars.
pub const MIN_SCORE: i64 = 1;
pub const MAX_SCORE: i64 = 5;

/// A validated request for help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub topic: String,
    pub description: String,
    /// A number the person agreed a counselor may call (a screening referral); only the
    /// counselor serving the consultation sees it (`Action::ReadCallbackPhone`).
    pub callback_phone: Option<String>,
}

impl NewRequest {
    pub fn parse(topic: &str, description: &str, channel: &str) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        if !TOPICS.contains(&topic.trim()) {
            c.push("topic", format!("请选择咨询主题：{}", TOPICS.join("、")));
        }
        let description = c.check(validation::multiline(
            "description",
            "问题描述",
            description,
            0,
            MAX_DESCRIPTION_CHARS,
        ));
        if !CHANNELS.contains(&channel) {
            c.push("channel", "目前仅支持文字咨询（text）");
        }
        c.finish()?;
        Ok(Self {
            topic: topic.trim().to_owned(),
            description: description.unwrap_or_default(),
            callback_phone: None,
        })
    }
}

pub fn parse_message(text: &str) -> Result<String, ValidationError> {
    validation::multiline("text", "消息", text, 1, MAX_MESSAGE_CHARS)
}

pub fn parse_rating(
    score: i64,
    comment: Option<&str>,
) -> Result<(u8, Option<String>), ValidationError> {
    let mut c = Collector::new();
    if !(MIN_SCORE..=MAX_SCORE).contains(&score) {
        c.push("score", "评分须为 1 到 5 的整数");
    }
    let comment = match comment {
        Some(t) if !t.trim().is_empty() => c.check(validation::multiline(
            "comment",
            "评价",
            t,
            1,
            MAX_COMMENT_CHARS,
        )),
        _ => None,
    };
    c.finish()?;
    Ok((u8::try_from(score).unwrap_or(1), comment))
}

/// What a person's account deletion does to one of their consultations. Their messages go in
/// every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDeletion {
    /// Gone entirely: open, cancelled, expired (nobody served them, or still open).
    Delete,
    /// Kept for the counselor's record of a session they gave and for the statistics, without
    /// the person: no user link, description, rating comment or priority reason.
    Anonymise,
}

pub fn on_account_deletion(status: Status) -> OnDeletion {
    if status == Status::Closed {
        OnDeletion::Anonymise
    } else {
        OnDeletion::Delete
    }
}

/// A rating of 1 or 2 is flagged for an admin to review.
pub fn rating_needs_review(score: u8) -> bool {
    score <= 2
}

/// A rating of 4 or 5 counts as satisfied (满意度, as the service reports it).
pub fn is_satisfied(score: u8) -> bool {
    score >= 4
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consultation {
    pub id: Uuid,
    /// `None` once the person deleted their account (closed consultations are kept anonymised).
    pub user_id: Option<Uuid>,
    pub topic: String,
    pub description: String,
    /// See [`NewRequest::callback_phone`].
    pub callback_phone: Option<String>,
    pub status: Status,
    pub priority: Priority,
    pub priority_reason: String,
    /// The counselor serving it (active) or who served it (closed).
    pub counselor_id: Option<Uuid>,
    /// Waiting for this counselor specifically (after a transfer to them).
    pub assigned_to: Option<Uuid>,
    /// Placed at the head of its priority (returned after a counselor did not reply).
    pub front: bool,
    pub created_at: DateTime<Utc>,
    /// Arrival time in the queue: kept when transferred back to the pool.
    pub queued_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub first_claimed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
    pub rating_flagged: bool,
    /// The counselor's private note, written with the close; only whoever may
    /// `Action::ReadNote` sees it, never the person or an admin.
    pub note: Option<String>,
}

impl Consultation {
    /// A person's new request, waiting in the queue with its priority (and the reason
    /// counselors see).
    pub fn request(
        user: Uuid,
        req: NewRequest,
        priority: Priority,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            user_id: Some(user),
            topic: req.topic,
            description: req.description,
            callback_phone: req.callback_phone,
            status: Status::Waiting,
            priority,
            priority_reason: reason.into(),
            counselor_id: None,
            assigned_to: None,
            front: false,
            created_at: now,
            queued_at: now,
            claimed_at: None,
            first_claimed_at: None,
            closed_at: None,
            ended_at: None,
            rating: None,
            rating_comment: None,
            note: None,
            rating_flagged: false,
        }
    }
}

/// The order in which waiting entries are given to counselors: higher priority first, within a
/// priority those returned to the head first, then by arrival.
pub fn queue_cmp(a: &Consultation, b: &Consultation) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then(b.front.cmp(&a.front))
        .then(a.queued_at.cmp(&b.queued_at))
        .then(a.id.cmp(&b.id))
}

/// Whether `counselor` may take this entry: waiting, in the pool or transferred to them.
pub fn takeable_by(c: &Consultation, counselor: Uuid) -> bool {
    c.status == Status::Waiting && c.assigned_to.is_none_or(|a| a == counselor)
}

/// The order a claim by `counselor` gives the entries it may take: those transferred to them
/// by name first, then the pool, each in [`queue_cmp`] order.
pub fn claim_cmp(counselor: Uuid) -> impl Fn(&Consultation, &Consultation) -> std::cmp::Ordering {
    move |a, b| {
        let mine = |c: &Consultation| c.assigned_to == Some(counselor);
        mine(b).cmp(&mine(a)).then_with(|| queue_cmp(a, b))
    }
}

/// How many people will be served before `target`: those ahead of it in queue order among
/// the entries that compete for the same counselors (the pool, or one counselor's own list).
pub fn position_of(waiting: &[Consultation], target: &Consultation) -> u64 {
    waiting
        .iter()
        .filter(|w| w.id != target.id && w.assigned_to == target.assigned_to)
        .filter(|w| queue_cmp(w, target) == std::cmp::Ordering::Less)
        .count() as u64
}

/// A counselor's availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounselorState {
    pub staff_id: Uuid,
    pub online: bool,
    /// Concurrent active consultations, 1–10.
    pub capacity: u8,
    pub active: u32,
}

pub fn parse_capacity(capacity: i64) -> Result<u8, ValidationError> {
    u8::try_from(capacity)
        .ok()
        .filter(|c| (1..=10).contains(c))
        .ok_or_else(|| ValidationError::single("capacity", "同时接待人数须为 1 到 10"))
}

/// What a waiting person is told about their wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitEstimate {
    /// People who will be served before this one.
    pub position: u64,
    /// `None` when no honest number can be given.
    pub seconds: Option<u64>,
    /// Why there is no number, or what it is based on.
    pub basis: String,
    pub counselors_online: u32,
}

/// Handling time assumed before enough sessions have been closed to measure it.
pub const DEFAULT_HANDLING: Duration = Duration::minutes(30);
/// How many recent closed sessions the handling time is measured over.
pub const HANDLING_SAMPLE: u64 = 50;

/// Estimates the wait of the person at `position` (0 = next).
///
/// Each online counselor frees a place about every `handling / capacity` on average when
/// full; free places now serve the first people at once. So with `free` places free now and
/// `capacity` places in all, the person at `position` waits about
/// `(position - free + 1) × handling / capacity` — and about a minute (until a counselor
/// claims) when `position < free`. No counselor online: no number.
pub fn estimate_wait(
    position: u64,
    counselors: &[CounselorState],
    handling: Option<(Duration, u64)>,
) -> WaitEstimate {
    let online: Vec<&CounselorState> = counselors.iter().filter(|c| c.online).collect();
    let counselors_online = u32::try_from(online.len()).unwrap_or(u32::MAX);
    if online.is_empty() {
        return WaitEstimate {
            position,
            seconds: None,
            basis:
                "当前没有咨询师在线，暂时无法估计等待时间。如需立即倾诉，请拨打下方正在服务的热线。"
                    .into(),
            counselors_online,
        };
    }
    let capacity: u64 = online.iter().map(|c| u64::from(c.capacity)).sum();
    let free: u64 = online
        .iter()
        .map(|c| u64::from(c.capacity).saturating_sub(u64::from(c.active)))
        .sum();
    let (handling_time, sample) = handling.unwrap_or((DEFAULT_HANDLING, 0));
    let per_place = handling_time.num_seconds().max(60) as u64;
    let seconds = if position < free {
        60
    } else {
        ((position - free + 1) * per_place)
            .div_ceil(capacity.max(1))
            .max(60)
    };
    let basis = if sample > 0 {
        format!("根据最近 {sample} 次咨询的平均时长和当前 {counselors_online} 位在线咨询师估算")
    } else {
        format!("根据当前 {counselors_online} 位在线咨询师和每次约 30 分钟的咨询时长估算")
    };
    WaitEstimate {
        position,
        seconds: Some(seconds),
        basis,
        counselors_online,
    }
}

/// Median and 90th percentile of durations (nearest-rank).
pub fn percentiles(mut values: Vec<i64>) -> (Option<i64>, Option<i64>) {
    if values.is_empty() {
        return (None, None);
    }
    values.sort_unstable();
    let at = |p: f64| {
        let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
        values[rank - 1]
    };
    (Some(at(0.5)), Some(at(0.9)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    User,
    Counselor,
    System,
}

impl Sender {
    pub fn as_str(self) -> &'static str {
        match self {
            Sender::User => "user",
            Sender::Counselor => "counselor",
            Sender::System => "system",
        }
    }

    pub const ALL: [Sender; 3] = [Sender::User, Sender::Counselor, Sender::System];

    pub fn label(self) -> &'static str {
        match self {
            Sender::User => "来访者",
            Sender::Counselor => "咨询师",
            Sender::System => "系统",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: Uuid,
    pub consultation_id: Uuid,
    /// 1, 2, 3, … per consultation, in commit order: the cursor.
    pub seq: i64,
    pub sender: Sender,
    pub sender_id: Option<Uuid>,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// Why a claim could not give anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    Offline,
    AtCapacity,
}

/// Whether a counselor may take one more person: online (`None`: never went online), and
/// serving fewer than their capacity.
pub fn may_claim(online: Option<bool>, capacity: u8, active: u64) -> Result<(), ClaimRefusal> {
    match online {
        Some(true) if active < u64::from(capacity) => Ok(()),
        Some(true) => Err(ClaimRefusal::AtCapacity),
        _ => Err(ClaimRefusal::Offline),
    }
}

/// Who asks about a consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    User(Uuid),
    Counselor(Uuid),
}

/// Someone's place in a consultation's chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The person who asked for help.
    Owner,
    /// The counselor serving it now.
    Serving,
    None,
}

/// What someone wants to do with a consultation besides its chat; [`Consultation::allows`]
/// says who may. (Whether its state allows a change is the transition table's answer.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See it: the person who asked; the counselor who serves or served it, or to whom it
    /// was transferred.
    View,
    /// Withdraw it, rate it: the person who asked.
    Own,
    /// Close it, hand it on: the counselor it is with (serving it, or transferred to them).
    Handle,
    /// Read the client's self-assessments: the counselor serving it now (audited).
    ReadAssessments,
    /// Read the private note: the counselor who served it, once closed.
    ReadNote,
    /// See the number the person gave to be called back: the counselor serving it now, not
    /// the queue and not a counselor it was merely transferred to.
    ReadCallbackPhone,
}

impl Consultation {
    /// The chat: its owner reads it always, its counselor while serving; nobody else, ever
    /// (admins see aggregates; supervisors only the words that raised an alert).
    pub fn access(&self, who: Party) -> Access {
        match who {
            Party::User(u) if self.user_id == Some(u) => Access::Owner,
            Party::Counselor(c)
                if self.status == Status::Active && self.counselor_id == Some(c) =>
            {
                Access::Serving
            }
            _ => Access::None,
        }
    }

    /// Messages can be written by the owner while waiting or active, and by the serving
    /// counselor while active; after the end nobody writes.
    pub fn can_write(&self, access: Access) -> bool {
        match access {
            Access::Owner => self.status.is_open(),
            Access::Serving => self.status == Status::Active,
            Access::None => false,
        }
    }

    /// The one table of who may do what with a consultation.
    pub fn allows(&self, who: Party, action: Action) -> bool {
        let (owner, served, assigned) = match who {
            Party::User(u) => (self.user_id == Some(u), false, false),
            Party::Counselor(c) => (
                false,
                self.counselor_id == Some(c),
                self.assigned_to == Some(c),
            ),
        };
        match action {
            Action::View => owner || served || assigned,
            Action::Own => owner,
            Action::Handle => served || assigned,
            Action::ReadAssessments => {
                served && self.status == Status::Active && self.user_id.is_some()
            }
            Action::ReadNote => served && self.status == Status::Closed,
            Action::ReadCallbackPhone => served && self.status == Status::Active,
        }
    }
}

/// Figures for admins: counts and durations only, never content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsultationStats {
    pub by_status: Vec<(Status, u64)>,
    pub by_priority: Vec<(Priority, u64)>,
    /// Seconds from request to first claim.
    pub wait_median: Option<i64>,
    pub wait_p90: Option<i64>,
    /// Seconds from (last) claim to close.
    pub handling_median: Option<i64>,
    pub ratings: u64,
    /// Share of ratings that are 4 or 5.
    pub satisfaction_rate: Option<f64>,
    pub flagged_ratings: u64,
}

/// A period's consultation figures as an admin sees them (`crate::disclosure`): durations
/// and the total show; counts by status or priority and the rating figures are `None` where
/// hidden.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminConsultationFigures {
    pub total: u64,
    pub by_status: Vec<(Status, Option<u64>)>,
    pub by_priority: Vec<(Priority, Option<u64>)>,
    pub wait_median: Option<i64>,
    pub wait_p90: Option<i64>,
    pub handling_median: Option<i64>,
    pub ratings: Option<u64>,
    /// Over at least `ADMIN_MIN` ratings.
    pub satisfaction_rate: Option<f64>,
    /// A part of `ratings`.
    pub flagged_ratings: Option<u64>,
}

impl ConsultationStats {
    pub fn for_admin(&self) -> AdminConsultationFigures {
        use crate::disclosure::{ADMIN_MIN, admin_cells, admin_count, admin_part};
        AdminConsultationFigures {
            total: self.by_status.iter().map(|(_, n)| n).sum(),
            by_status: admin_cells(&self.by_status),
            by_priority: admin_cells(&self.by_priority),
            wait_median: self.wait_median,
            wait_p90: self.wait_p90,
            handling_median: self.handling_median,
            ratings: admin_count(self.ratings),
            satisfaction_rate: self.satisfaction_rate.filter(|_| self.ratings >= ADMIN_MIN),
            flagged_ratings: admin_part(self.flagged_ratings, self.ratings),
        }
    }
}

/// The queue: requests, their transitions, claims, order and positions, counselors' availability.
#[async_trait]
pub trait ConsultationRepository: Send + Sync {
    /// Creates a waiting request unless the user already has an open one (`Conflict::OpenConsultation`).
    async fn create(&self, c: &Consultation) -> Result<(), RepoError>;

    async fn find(&self, id: Uuid) -> Result<Option<Consultation>, RepoError>;

    async fn list_of_user(
        &self,
        user_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<Consultation>, RepoError>;

    async fn active_of_counselor(&self, counselor_id: Uuid)
    -> Result<Vec<Consultation>, RepoError>;

    /// Writes a change's [`Effect`] (with its notice, in one transaction) if the consultation
    /// is still in `from` (compare-and-set); returns the updated consultation, or `None` when
    /// it changed meanwhile.
    async fn apply(
        &self,
        id: Uuid,
        from: Status,
        effect: Effect,
        now: DateTime<Utc>,
    ) -> Result<Option<Consultation>, RepoError>;

    /// Atomically gives the first waiting entry this counselor may take: never the same
    /// entry to two counselors, never beyond capacity.
    async fn claim_next(
        &self,
        counselor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Result<Option<Consultation>, ClaimRefusal>, RepoError>;

    /// One page of the entries `counselor_id` may take, in the order claiming gives them.
    async fn queue_for(
        &self,
        counselor_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<Consultation>, RepoError>;

    /// All waiting entries in queue order.
    async fn waiting(&self) -> Result<Vec<Consultation>, RepoError>;

    /// [`position_of`] `target` among the stored waiting entries, counted by the store (an
    /// index range, not a read of everyone waiting).
    async fn position(&self, target: &Consultation) -> Result<u64, RepoError>;

    async fn set_counselor_state(
        &self,
        staff_id: Uuid,
        online: bool,
        capacity: u8,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;

    async fn counselor_states(&self) -> Result<Vec<CounselorState>, RepoError>;

    /// Raises a waiting request's priority (never lowers it); `false` when it is no longer
    /// waiting or already that high.
    async fn raise_priority(
        &self,
        id: Uuid,
        priority: Priority,
        reason: &str,
    ) -> Result<bool, RepoError>;

    /// Never-served waiting entries requested before `cutoff` (expiry candidates). Entries
    /// handed back after being served do not expire: the person is mid-conversation.
    async fn waiting_since_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Consultation>, RepoError>;

    /// Active entries claimed before `cutoff` (no-reply candidates).
    async fn active_claimed_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Consultation>, RepoError>;
}

/// The chat of a consultation.
#[async_trait]
pub trait ChatRepository: Send + Sync {
    /// Appends a message with the next sequence number.
    async fn add_message(
        &self,
        consultation_id: Uuid,
        sender: Sender,
        sender_id: Option<Uuid>,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Message, RepoError>;

    async fn messages_after(
        &self,
        consultation_id: Uuid,
        after: i64,
        limit: u64,
    ) -> Result<Vec<Message>, RepoError>;

    /// Whether the counselor wrote since the claim.
    async fn counselor_wrote_since(
        &self,
        consultation_id: Uuid,
        since: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
}

/// Ratings and the figures built from them and from handling times (counts only, never words).
#[async_trait]
pub trait ConsultationReporting: Send + Sync {
    async fn rate(
        &self,
        id: Uuid,
        score: u8,
        comment: Option<String>,
        flagged: bool,
    ) -> Result<bool, RepoError>;

    /// Mean handling time over the latest closed sessions and how many were measured.
    async fn recent_handling(&self, sample: u64) -> Result<Option<(Duration, u64)>, RepoError>;

    async fn stats(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<ConsultationStats, RepoError>;
}

/// What retention deletes and what a person's export holds.
#[async_trait]
pub trait ConsultationPrivacy: Send + Sync {
    /// Deletes the words of consultations that ended before `cutoff` (messages, description,
    /// rating comment); see `retention`. Returns how many consultations lost them.
    async fn purge_chats_ended_before(&self, cutoff: DateTime<Utc>) -> Result<u64, RepoError>;

    async fn messages_of_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(Consultation, Vec<Message>)>, RepoError>;
}

/// A change asked of a consultation (a claim goes through `claim_next`, which also picks whom).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Cancel,
    Expire,
    /// Ended by its counselor, with their private note (written in the same statement).
    Close {
        note: String,
    },
    Requeue(Requeue),
}

/// Why someone goes back to the queue, where they go, and what they are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// Their counselor hands them on: to a named colleague (`Some`), or to the pool, keeping
    /// their place by arrival.
    Transfer { to: Option<Uuid> },
    /// Their counselor did not write within the no-reply time: to the head of their priority.
    NoReply,
    /// Their counselor may no longer work (account disabled, no longer a counselor): to the
    /// head of their priority, at once.
    CounselorGone,
}

impl Requeue {
    pub fn assigned_to(self) -> Option<Uuid> {
        match self {
            Requeue::Transfer { to } => to,
            Requeue::NoReply | Requeue::CounselorGone => None,
        }
    }

    /// Placed at the head of their priority: they were let down, not handed on.
    pub fn front(self) -> bool {
        !matches!(self, Requeue::Transfer { .. })
    }

    /// The word the person gets in the chat.
    pub fn notice(self) -> &'static str {
        match self {
            Requeue::Transfer { .. } => "咨询师已为你转接，请稍候，新的咨询师会尽快与你联系。",
            Requeue::NoReply => "咨询师暂时未能回复，已为你优先重新安排，请稍候。",
            Requeue::CounselorGone => "咨询师暂时无法继续本次咨询，已为你优先重新安排，请稍候。",
        }
    }
}

/// What a change does to the row: the repository writes exactly this, no more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub status: Status,
    /// Waiting for this counselor only (a transfer to them); `None`: any counselor.
    pub assigned_to: Option<Uuid>,
    /// At the head of its priority in the queue.
    pub front: bool,
    /// Back in the queue: no counselor, no claim time (the first claim time stays).
    pub unclaimed: bool,
    /// Closed by its counselor: the moment is kept (handling time, ratings).
    pub closes: bool,
    /// Over (closed, cancelled, expired): the end is kept, and the person's one open request
    /// is free again.
    pub ends: bool,
    /// A system message to the person, written in the same transaction as the change.
    pub notice: Option<&'static str>,
    /// The counselor's private note, kept with the row (a close).
    pub note: Option<String>,
}

impl Change {
    pub fn event(&self) -> Event {
        match self {
            Change::Cancel => Event::Cancel,
            Change::Expire => Event::Expire,
            Change::Close { .. } => Event::Close,
            Change::Requeue(_) => Event::Requeue,
        }
    }

    /// This change from `from`, through the one table of transitions, with its effects.
    pub fn effect(self, from: Status) -> Result<Effect, IllegalTransition> {
        let status = transition(from, self.event())?;
        let (requeue, note) = match self {
            Change::Requeue(r) => (Some(r), None),
            Change::Close { note } => (None, Some(note)),
            Change::Cancel | Change::Expire => (None, None),
        };
        Ok(Effect {
            status,
            assigned_to: requeue.and_then(Requeue::assigned_to),
            front: requeue.is_some_and(Requeue::front),
            unclaimed: status == Status::Waiting,
            closes: status == Status::Closed,
            ends: !status.is_open(),
            notice: requeue.map(Requeue::notice),
            note,
        })
    }
}

/// Whether a waiting request has waited too long and expires. Only someone never served
/// expires: a person handed back (transfer, a silent or departed counselor) is mid-help and
/// waits for the next counselor.
pub fn expires(c: &Consultation, now: DateTime<Utc>, max_wait: Duration) -> bool {
    c.status == Status::Waiting && c.first_claimed_at.is_none() && c.created_at < now - max_wait
}

/// Whether an active consultation goes back to the queue because its counselor has not
/// written since claiming it within the no-reply time.
pub fn no_reply(
    c: &Consultation,
    counselor_wrote: bool,
    now: DateTime<Utc>,
    no_reply: Duration,
) -> bool {
    c.status == Status::Active
        && !counselor_wrote
        && c.claimed_at.is_some_and(|t| t < now - no_reply)
}

/// Whether a counselor can receive a transfer: an enabled counselor account, online, and not
/// the one handing over.
pub fn can_receive_transfer(staff: &crate::account::Staff, online: bool, is_self: bool) -> bool {
    staff.is_enabled_counselor() && online && !is_self
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(created_at: DateTime<Utc>) -> Consultation {
        let req = NewRequest::parse("压力", "", "text").unwrap();
        Consultation::request(Uuid::now_v7(), req, Priority::Normal, "", created_at)
    }

    #[test]
    fn each_change_says_what_it_does_to_the_row() {
        let colleague = Uuid::now_v7();
        let close = Change::Close {
            note: "复谈".into(),
        }
        .effect(Status::Active)
        .unwrap();
        assert_eq!(
            (
                close.status,
                close.closes,
                close.ends,
                close.unclaimed,
                close.notice,
                close.note.as_deref()
            ),
            (Status::Closed, true, true, false, None, Some("复谈"))
        );
        for change in [Change::Cancel, Change::Expire] {
            let e = change.effect(Status::Waiting).unwrap();
            assert!(e.ends && !e.closes && e.assigned_to.is_none() && !e.front);
        }
        let to = Change::Requeue(Requeue::Transfer {
            to: Some(colleague),
        })
        .effect(Status::Active)
        .unwrap();
        assert_eq!(
            (to.status, to.assigned_to, to.front, to.unclaimed, to.ends),
            (Status::Waiting, Some(colleague), false, true, false)
        );
        assert!(to.notice.unwrap().contains("转接"));
        for r in [Requeue::NoReply, Requeue::CounselorGone] {
            let e = Change::Requeue(r).effect(Status::Active).unwrap();
            assert!(e.front && e.unclaimed && e.assigned_to.is_none());
            assert!(e.notice.unwrap().contains("优先重新安排"));
        }
        // The effect follows the transition table: nothing from a state that does not allow it.
        assert!(
            Change::Close {
                note: String::new()
            }
            .effect(Status::Waiting)
            .is_err()
        );
        assert!(
            Change::Requeue(Requeue::NoReply)
                .effect(Status::Closed)
                .is_err()
        );
    }

    #[test]
    fn only_never_served_requests_expire_and_only_silent_counselors_lose_people() {
        let now = Utc::now();
        let mut c = waiting(now - Duration::hours(3));
        assert!(expires(&c, now, Duration::hours(2)));
        assert!(!expires(&c, now, Duration::hours(4)));
        c.first_claimed_at = Some(now - Duration::hours(1));
        assert!(
            !expires(&c, now, Duration::hours(2)),
            "handed back mid-help"
        );
        c.status = Status::Active;
        c.claimed_at = Some(now - Duration::minutes(6));
        assert!(no_reply(&c, false, now, Duration::minutes(5)));
        assert!(!no_reply(&c, true, now, Duration::minutes(5)));
        assert!(!no_reply(&c, false, now, Duration::minutes(10)));
        c.status = Status::Closed;
        assert!(!no_reply(&c, false, now, Duration::minutes(5)));
    }

    #[test]
    fn a_deleted_account_leaves_only_anonymous_closed_sessions() {
        for status in Status::ALL {
            let want = if status == Status::Closed {
                OnDeletion::Anonymise
            } else {
                OnDeletion::Delete
            };
            assert_eq!(on_account_deletion(status), want, "{status:?}");
        }
    }

    #[test]
    fn a_claim_needs_the_counselor_online_and_below_capacity() {
        assert_eq!(may_claim(Some(true), 2, 1), Ok(()));
        assert_eq!(may_claim(Some(true), 2, 2), Err(ClaimRefusal::AtCapacity));
        assert_eq!(may_claim(Some(false), 2, 0), Err(ClaimRefusal::Offline));
        assert_eq!(may_claim(None, 2, 0), Err(ClaimRefusal::Offline));
    }

    #[test]
    fn who_may_do_what() {
        let (me, counselor, colleague, stranger) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let mut c = waiting(Utc::now());
        c.user_id = Some(me);
        let user = Party::User(me);
        assert!(c.allows(user, Action::View) && c.allows(user, Action::Own));
        assert!(!c.allows(Party::User(stranger), Action::View));
        assert_eq!(c.access(user), Access::Owner);
        assert!(
            !c.allows(Party::Counselor(counselor), Action::View),
            "not theirs yet"
        );
        c.status = Status::Active;
        c.counselor_id = Some(counselor);
        let them = Party::Counselor(counselor);
        assert_eq!(c.access(them), Access::Serving);
        assert!(c.allows(them, Action::Handle) && c.allows(them, Action::ReadAssessments));
        assert!(!c.allows(them, Action::Own) && !c.allows(them, Action::ReadNote));
        assert_eq!(c.access(Party::Counselor(colleague)), Access::None);
        // Transferred to a colleague: they see it and may take it; the first counselor's chat
        // access ends.
        c.status = Status::Waiting;
        c.counselor_id = None;
        c.assigned_to = Some(colleague);
        assert!(c.allows(Party::Counselor(colleague), Action::View));
        assert_eq!(c.access(them), Access::None);
        // Closed: only who served it reads the note; nobody reads the assessments.
        c.status = Status::Closed;
        c.assigned_to = None;
        c.counselor_id = Some(colleague);
        let colleague = Party::Counselor(colleague);
        assert!(c.allows(colleague, Action::ReadNote));
        assert!(!c.allows(colleague, Action::ReadAssessments));
        assert!(!c.can_write(c.access(user)));
    }

    #[test]
    fn only_an_enabled_online_other_counselor_receives_a_transfer() {
        use crate::account::{Staff, StaffRole};
        let now = Utc::now();
        let counselor = Staff {
            id: Uuid::now_v7(),
            username: "wang".into(),
            password_hash: String::new(),
            role: StaffRole::Counselor,
            display_name: "王老师".into(),
            disabled: false,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        };
        let disabled = Staff {
            disabled: true,
            ..counselor.clone()
        };
        let admin = Staff {
            role: StaffRole::Admin,
            ..counselor.clone()
        };
        assert!(can_receive_transfer(&counselor, true, false));
        assert!(!can_receive_transfer(&disabled, true, false));
        assert!(!can_receive_transfer(&counselor, false, false));
        assert!(!can_receive_transfer(&counselor, true, true));
        assert!(!can_receive_transfer(&admin, true, false));
    }

    #[test]
    fn every_transition_is_legal_or_refused() {
        use Event::*;
        use Status::*;
        let all_status = [Waiting, Active, Closed, Cancelled, Expired];
        let all_events = [Claim, Cancel, Expire, Close, Requeue];
        let legal = [
            (Waiting, Claim, Active),
            (Waiting, Cancel, Cancelled),
            (Waiting, Expire, Expired),
            (Active, Close, Closed),
            (Active, Requeue, Waiting),
        ];
        for from in all_status {
            for event in all_events {
                let expected = legal
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|(_, _, to)| *to);
                assert_eq!(
                    transition(from, event).ok(),
                    expected,
                    "{from:?} + {event:?}"
                );
            }
        }
    }

    #[test]
    fn priority_from_each_risk_level() {
        let r = |max_level, critical| Risk {
            max_level,
            critical,
        };
        assert_eq!(Priority::from_risk(r(Some(0), true)).0, Priority::Urgent);
        assert_eq!(Priority::from_risk(r(Some(3), false)).0, Priority::High);
        assert_eq!(Priority::from_risk(r(Some(2), false)).0, Priority::Elevated);
        assert_eq!(Priority::from_risk(r(Some(1), false)).0, Priority::Normal);
        assert_eq!(Priority::from_risk(r(None, false)).0, Priority::Normal);
    }

    #[test]
    fn waits() {
        let c = |online, capacity, active| CounselorState {
            staff_id: Uuid::nil(),
            online,
            capacity,
            active,
        };
        assert_eq!(estimate_wait(0, &[], None).seconds, None);
        assert_eq!(estimate_wait(0, &[c(false, 3, 0)], None).seconds, None);
        // One free place: the first waits about a minute.
        assert_eq!(estimate_wait(0, &[c(true, 1, 0)], None).seconds, Some(60));
        // Full single place, 30 min sessions: the first waits 30 min, the second 60.
        let h = Some((Duration::minutes(30), 10));
        assert_eq!(estimate_wait(0, &[c(true, 1, 1)], h).seconds, Some(1800));
        assert_eq!(estimate_wait(1, &[c(true, 1, 1)], h).seconds, Some(3600));
        // Three counselors of two places, all full: six places turn over every 30 min.
        let three = [c(true, 2, 2), c(true, 2, 2), c(true, 2, 2)];
        assert_eq!(estimate_wait(5, &three, h).seconds, Some(1800));
        assert_eq!(estimate_wait(6, &three, h).seconds, Some(2100));
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentiles(vec![]), (None, None));
        assert_eq!(percentiles(vec![5]), (Some(5), Some(5)));
        assert_eq!(percentiles((1..=10).collect()), (Some(5), Some(9)));
    }
}
