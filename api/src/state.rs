//! What every handler can reach, built once at start and shared by all workers.
//!
//! Stores, the cache, the clock, the WeChat gateway, password hashing and Markdown rendering
//! are the domain's traits, so a handler cannot reach past a rule into SQL. A few `infra`
//! types are kept here on purpose, because they are not a store behind a rule but machinery
//! of this process: `Connection` (the readiness probe pings it),
//! `UserPresence` (a cached "does this account still exist" in front of `users`),
//! `ArticleSearch` (an in-process index derived from `articles`), `ChatSignal` (wakes long
//! polls, across instances through Redis) and `ViewBuffer` (view counts batched in memory).

use std::sync::Arc;

use xinli_domain::account::{RefreshTokenRepository, StaffRepository, UserRepository};
use xinli_domain::article::ArticleRepository;
use xinli_domain::assessment::{AssessmentRepository, ScaleRepository};
use xinli_domain::audit::AuditLog;
use xinli_domain::cache::Cache;
use xinli_domain::clock::Clock;
use xinli_domain::consultation::{
    ChatRepository, ConsultationPrivacy, ConsultationReporting, ConsultationRepository,
};
use xinli_domain::hotline::HotlineRepository;
use xinli_domain::wechat::WechatGateway;
use xinli_infra::accounts::UserPresence;
use xinli_infra::db::Connection;
use xinli_infra::search::ArticleSearch;
use xinli_infra::signal::ChatSignal;
use xinli_infra::views::ViewBuffer;

use crate::auth::token::TokenService;
use crate::config::Config;

pub struct AppState {
    pub config: Config,
    pub db: Connection,
    pub users: Arc<dyn UserRepository>,
    /// Whether a user token's account still exists (cached).
    pub user_presence: UserPresence,
    pub staff: Arc<dyn StaffRepository>,
    pub refresh_tokens: Arc<dyn RefreshTokenRepository>,
    pub cache: Arc<dyn Cache>,
    /// Cached directory; writes through it invalidate the cache.
    pub hotlines: Arc<dyn HotlineRepository>,
    pub scales: Arc<dyn ScaleRepository>,
    pub assessments: Arc<dyn AssessmentRepository>,
    /// The queue: requests, transitions, claims, positions, counselors' availability.
    pub consultations: Arc<dyn ConsultationRepository>,
    /// Consultations' chats and the counselors' private notes.
    pub chats: Arc<dyn ChatRepository>,
    /// Ratings and the consultation figures.
    pub consultation_figures: Arc<dyn ConsultationReporting>,
    /// Retention and export of consultations.
    pub consultation_privacy: Arc<dyn ConsultationPrivacy>,
    /// Removes what is past its keeping time (`domain::retention`).
    pub retention: Arc<dyn xinli_domain::retention::RetentionStore>,
    /// Who read a client's data or changed staff and scales, and when.
    pub audit: Arc<dyn AuditLog>,
    pub articles: Arc<dyn ArticleRepository>,
    pub stations: Arc<dyn xinli_domain::station::StationRepository>,
    pub bookings: Arc<dyn xinli_domain::station::BookingRepository>,
    /// The two-question survey of consultations and station sessions.
    pub surveys: Arc<dyn xinli_domain::survey::SurveyRepository>,
    /// The lecture menu and units' requests.
    pub lectures: Arc<dyn xinli_domain::lecture::LectureRepository>,
    /// The risk lexicon, alerts and supervisors' duty.
    pub risk: Arc<dyn xinli_domain::risk::RiskRepository>,
    /// Subscribe-message grants and the outbox.
    pub notifications: Arc<dyn xinli_domain::notification::NotificationRepository>,
    /// Chinese full-text search over published articles, derived from `articles`.
    pub search: Arc<ArticleSearch>,
    /// Article views counted in memory, flushed every few seconds and at shutdown.
    pub views: Arc<ViewBuffer>,
    /// Long polls held open per user on this instance.
    pub open_polls: crate::limits::OpenPolls,
    /// Wakes long polls, across instances with Redis.
    pub chat_signal: ChatSignal,
    pub wechat: Arc<dyn WechatGateway>,
    pub clock: Arc<dyn Clock>,
    pub tokens: TokenService,
    /// Staff password hashing (argon2id).
    pub passwords: Arc<dyn xinli_domain::account::Passwords>,
    /// Verified against when a staff username does not exist, so that unknown and known
    /// accounts take equally long to reject.
    pub dummy_password_hash: String,
    /// Article bodies: Markdown → safe HTML.
    pub markdown: Arc<dyn xinli_domain::article::Renderer>,
}

pub type State = actix_web::web::Data<AppState>;
