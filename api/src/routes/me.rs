//! A user's own account: profile, export of all their data, deletion.
//!
//! Every module that stores personal data adds it to [`MeExport`] and makes sure
//! `DELETE /me` removes it (usually by `ON DELETE CASCADE` on `users.id`).

use actix_web::{HttpResponse, delete, get, patch};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::account::{self, ProfileUpdate, User};
use xinli_domain::validation::Collector;

use crate::auth::UserCaller;
use crate::dto::{Audience, ConsultationStatus, ConsultationTopic, cst, nullable, string_enum};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::RequiredJson;
use crate::routes::auth::UserProfile;
use crate::state::State;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_me)
        .service(patch_me)
        .service(export_me)
        .service(delete_me);
}

/// Fields to change; absent fields stay as they are, `null` clears a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"nickname": "小林", "audience_group": "worker"}))]
pub struct ProfilePatch {
    /// 1–32 characters; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 32)]
    pub nickname: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Audience>)]
    pub audience_group: Option<Option<Audience>>,
}

/// Everything the service stores about the caller (PIPL right of access and portability).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "exported_at": "2026-11-22T09:30:00+08:00",
    "profile": {
        "id": "0193a5d2-7c1e-7b6a-9f0e-2d4c1b8a9e01", "openid": "oAbc123", "unionid": null,
        "nickname": "小林", "audience_group": "worker",
        "created_at": "2026-11-01T08:00:00+08:00", "updated_at": "2026-11-20T21:12:00+08:00",
        "last_login_at": "2026-11-22T09:29:00+08:00"
    },
    "assessments": [{"id": "0193a5d4-1111-7abc-8def-0123456789ab", "scale": "phq9", "answers": [1, 1, 2, 1, 0, 1, 0, 0, 0],
        "raw_score": 6, "score": 6, "level": 1, "band_label": "轻度", "interpretation": "……",
        "critical_items": [], "created_at": "2026-11-22T21:40:00+08:00"}],
    "screenings": [], "surveys": [], "consultations": [], "article_likes": [], "article_favorites": [], "bookings": [],
    "station_waitlist": [], "lecture_requests": [], "notification_grants": [], "notifications": [], "risk_alerts": []
}))]
pub struct MeExport {
    pub exported_at: DateTime<FixedOffset>,
    pub profile: ExportedProfile,
    /// Every self-assessment with the answers given, oldest first.
    pub assessments: Vec<ExportedAssessment>,
    /// Screenings after a lecture the person took part in: which result was counted for
    /// which unit, and whether they accepted one-to-one counseling.
    pub screenings: Vec<ExportedScreening>,
    /// Every survey answered (consultations, station sessions, lectures), oldest first.
    pub surveys: Vec<ExportedSurvey>,
    /// Consultations with their messages (counselors' private notes are not the person's
    /// data and are not included).
    pub consultations: Vec<ExportedConsultation>,
    /// Articles liked and favourited.
    pub article_likes: Vec<ExportedReaction>,
    pub article_favorites: Vec<ExportedReaction>,
    /// Station bookings with the name, phone, note and rating given, newest first.
    pub bookings: Vec<crate::routes::stations::BookingView>,
    /// Station waitlist entries.
    pub station_waitlist: Vec<crate::routes::stations::WaitEntryView>,
    /// Lecture requests filed as a unit's liaison.
    pub lecture_requests: Vec<crate::routes::lectures::LectureRequestView>,
    /// Subscribe-message grants given from the mini-program.
    pub notification_grants: Vec<crate::routes::notifications::ExportedGrant>,
    /// Subscribe messages about the person: pending ones and those settled within the
    /// outbox's keeping time.
    pub notifications: Vec<ExportedNotification>,
    /// Risk alerts raised about what the person wrote: when, how serious, from where, and
    /// whether a supervisor has acknowledged it.
    pub risk_alerts: Vec<crate::routes::risk::ExportedAlert>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"assessment_id": "0193a5d4-1111-7abc-8def-0123456789ab",
    "lecture_request_id": "0193a5d8-5555-7abc-8def-0123456789ab", "unit_name": "湖南省某厅",
    "counted_at": "2026-11-22T21:40:00+08:00", "referred_at": null}))]
pub struct ExportedScreening {
    /// The result (in `assessments`) that was counted.
    pub assessment_id: String,
    pub lecture_request_id: String,
    pub unit_name: String,
    pub counted_at: DateTime<FixedOffset>,
    /// When the person accepted one-to-one counseling after the result, if they did.
    pub referred_at: Option<DateTime<FixedOffset>>,
}

string_enum!(
    /// What a survey was about: `consultation`, `booking` (a station session), `lecture`.
    SurveyAbout,
    xinli_domain::survey::Answered::ALL.map(|a| a.as_str())
);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"about": "booking", "subject_id": "0193a5d7-4444-7abc-8def-0123456789ab",
    "content": 5, "gain": 4, "comment": "老师很耐心", "at": "2026-11-22T21:40:00+08:00"}))]
pub struct ExportedSurvey {
    #[schema(value_type = SurveyAbout)]
    pub about: &'static str,
    /// The consultation, booking or lecture request.
    pub subject_id: String,
    pub content: u8,
    pub gain: u8,
    /// `null` when none was written, or once its keeping time passed.
    pub comment: Option<String>,
    pub at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"event": "booking_reminder", "booking_id": "0193a5d7-4444-7abc-8def-0123456789ab",
    "due_at": "2026-11-22T09:00:00+08:00", "status": "pending"}))]
pub struct ExportedNotification {
    #[schema(value_type = crate::routes::notifications::NotificationEventName)]
    pub event: String,
    pub booking_id: Option<String>,
    pub due_at: DateTime<FixedOffset>,
    #[schema(value_type = crate::routes::notifications::NotificationStatusName)]
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"article_id": "0193a5d6-3333-7abc-8def-0123456789ab", "at": "2026-11-22T21:40:00+08:00"}))]
pub struct ExportedReaction {
    pub article_id: String,
    pub at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d5-2222-7abc-8def-0123456789ab", "topic": "压力", "description": "……",
    "status": "closed", "priority": "normal", "priority_reason": "", "counselor_name": "王老师", "callback_phone": null,
    "created_at": "2026-11-22T21:40:00+08:00", "ended_at": "2026-11-22T22:30:00+08:00",
    "rating": 5, "rating_comment": "谢谢", "messages": [{"seq": 1, "sender": "user", "text": "你好", "created_at": "2026-11-22T21:41:00+08:00"}]}))]
pub struct ExportedConsultation {
    pub id: String,
    #[schema(value_type = ConsultationTopic)]
    pub topic: String,
    pub description: String,
    #[schema(value_type = ConsultationStatus)]
    pub status: String,
    /// The queue priority counselors saw, and why.
    #[schema(value_type = crate::dto::ConsultationPriority)]
    pub priority: String,
    pub priority_reason: String,
    /// The counselor who served it, by display name.
    pub counselor_name: Option<String>,
    /// The number given to be called back (a screening referral).
    pub callback_phone: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub ended_at: Option<DateTime<FixedOffset>>,
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
    pub messages: Vec<crate::routes::consultations::ChatMessage>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d4-1111-7abc-8def-0123456789ab", "scale": "phq9", "answers": [1, 1, 2, 1, 0, 1, 0, 0, 0],
    "raw_score": 6, "score": 6, "level": 1, "band_label": "轻度", "interpretation": "筛查结果提示你可能有轻度的抑郁情绪。……",
    "critical_items": [], "created_at": "2026-11-22T21:40:00+08:00"}))]
pub struct ExportedAssessment {
    pub id: String,
    pub scale: String,
    /// Chosen option indices, one per item.
    pub answers: Vec<usize>,
    pub raw_score: i32,
    pub score: i32,
    pub level: u8,
    pub band_label: String,
    pub interpretation: String,
    pub critical_items: Vec<usize>,
    pub created_at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d2-7c1e-7b6a-9f0e-2d4c1b8a9e01", "openid": "oAbc123", "unionid": null,
    "nickname": "小林", "audience_group": "worker",
    "created_at": "2026-11-01T08:00:00+08:00", "updated_at": "2026-11-20T21:12:00+08:00",
    "last_login_at": "2026-11-22T09:29:00+08:00"
}))]
pub struct ExportedProfile {
    pub id: String,
    /// The WeChat identifier this account is bound to.
    pub openid: String,
    pub unionid: Option<String>,
    pub nickname: Option<String>,
    pub audience_group: Option<Audience>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    pub last_login_at: DateTime<FixedOffset>,
}

impl From<&User> for ExportedProfile {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            openid: u.openid.clone(),
            unionid: u.unionid.clone(),
            nickname: u.nickname.clone(),
            audience_group: u.audience_group.map(Audience::from),
            created_at: cst(u.created_at),
            updated_at: cst(u.updated_at),
            last_login_at: cst(u.last_login_at),
        }
    }
}

async fn load(state: &State, caller: UserCaller) -> ApiResult<User> {
    // A token can outlive its account by a few minutes after DELETE /me.
    state
        .users
        .find_by_id(caller.id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// My profile
#[utoipa::path(
    operation_id = "get_me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserProfile),
        (status = 401, description = "`unauthenticated`, `token_expired`, `token_invalid`", body = ErrorBody),
        (status = 403, description = "`forbidden`: staff accounts have no user profile", body = ErrorBody),
    )
)]
#[get("/me")]
pub async fn get_me(state: State, caller: UserCaller) -> ApiResult<HttpResponse> {
    let user = load(&state, caller).await?;
    Ok(HttpResponse::Ok().json(UserProfile::from(&user)))
}

/// Change my nickname or audience group
#[utoipa::path(
    operation_id = "update_me",
    tag = "auth",
    security(("bearer" = [])),
    request_body = ProfilePatch,
    responses(
        (status = 200, body = UserProfile),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody),
    )
)]
#[patch("/me")]
pub async fn patch_me(
    state: State,
    caller: UserCaller,
    body: RequiredJson<ProfilePatch>,
) -> ApiResult<HttpResponse> {
    let patch = body.0;
    let mut c = Collector::new();
    let nickname = match patch.nickname {
        Some(Some(raw)) => c
            .check(account::parse_nickname(&raw))
            .map(|n| Some(Some(n))),
        Some(None) => Some(Some(None)),
        None => Some(None),
    };
    c.finish()?;
    crate::limits::hit(
        &state,
        "profile",
        caller.id,
        state.config.limits.profile_edits_per_user,
    )
    .await?;
    let update = ProfileUpdate {
        nickname: nickname.flatten(),
        audience_group: patch.audience_group.map(|g| g.map(Into::into)),
    };
    let user = state
        .users
        .update_profile(caller.id, &update, state.clock.now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(UserProfile::from(&user)))
}

/// Download all my data
#[utoipa::path(
    operation_id = "export_me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MeExport),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, description = "`too_many_requests`, with `Retry-After`", body = ErrorBody),
    )
)]
#[get("/me/export")]
pub async fn export_me(state: State, caller: UserCaller) -> ApiResult<HttpResponse> {
    crate::limits::hit(
        &state,
        "export",
        caller.id,
        state.config.limits.exports_per_user,
    )
    .await?;
    let user = load(&state, caller).await?;
    let assessments = state.assessments.all_of(user.id).await?;
    let consultations = state.consultation_privacy.messages_of_user(user.id).await?;
    let (likes, favorites) = state.articles.reactions_of_user(user.id).await?;
    let (bookings, station_waitlist) =
        crate::routes::stations::export_of_user(&state, user.id).await?;
    let mut counselors = std::collections::HashMap::new();
    for id in consultations.iter().filter_map(|(c, _)| c.counselor_id) {
        if let std::collections::hash_map::Entry::Vacant(e) = counselors.entry(id) {
            e.insert(state.staff.find_by_id(id).await?.map(|s| s.display_name));
        }
    }
    let screenings = state
        .lectures
        .participation_of(user.id)
        .await?
        .into_iter()
        .map(|p| ExportedScreening {
            assessment_id: p.assessment.to_string(),
            lecture_request_id: p.request.to_string(),
            unit_name: p.unit_name,
            counted_at: cst(p.counted_at),
            referred_at: p.referred_at.map(cst),
        })
        .collect();
    let surveys = state
        .surveys
        .answers_of_user(user.id)
        .await?
        .into_iter()
        .map(|a| ExportedSurvey {
            about: a.about.as_str(),
            subject_id: a.subject.to_string(),
            content: a.answer.content,
            gain: a.answer.gain,
            comment: a.answer.comment,
            at: cst(a.at),
        })
        .collect();
    let notifications = state
        .bookings
        .outbox_of_user(user.id)
        .await?
        .into_iter()
        .map(|o| ExportedNotification {
            event: o.event,
            booking_id: o.booking_id.map(|b| b.to_string()),
            due_at: cst(o.due_at),
            status: o.status,
        })
        .collect();
    let reactions =
        |rows: Vec<(uuid::Uuid, chrono::DateTime<chrono::Utc>)>| -> Vec<ExportedReaction> {
            rows.into_iter()
                .map(|(id, at)| ExportedReaction {
                    article_id: id.to_string(),
                    at: cst(at),
                })
                .collect()
        };
    Ok(HttpResponse::Ok().json(MeExport {
        exported_at: cst(state.clock.now()),
        profile: (&user).into(),
        assessments: assessments
            .into_iter()
            .map(|a| ExportedAssessment {
                id: a.id.to_string(),
                scale: a.scale_code,
                answers: a.answers,
                raw_score: a.raw_score,
                score: a.score,
                level: a.level,
                band_label: a.band_label,
                interpretation: a.interpretation,
                critical_items: a.critical_items,
                created_at: cst(a.created_at),
            })
            .collect(),
        screenings,
        surveys,
        consultations: consultations
            .into_iter()
            .map(|(c, messages)| ExportedConsultation {
                id: c.id.to_string(),
                topic: c.topic,
                description: c.description,
                status: c.status.as_str().into(),
                priority: c.priority.as_str().into(),
                priority_reason: c.priority_reason,
                counselor_name: c
                    .counselor_id
                    .and_then(|id| counselors.get(&id).cloned().flatten()),
                callback_phone: c.callback_phone,
                created_at: cst(c.created_at),
                ended_at: c.ended_at.map(cst),
                rating: c.rating,
                rating_comment: c.rating_comment,
                messages: messages.iter().map(Into::into).collect(),
            })
            .collect(),
        article_likes: reactions(likes),
        article_favorites: reactions(favorites),
        bookings,
        station_waitlist,
        lecture_requests: crate::routes::lectures::export_of_user(&state, user.id).await?,
        notification_grants: crate::routes::notifications::export_of_user(&state, user.id).await?,
        notifications,
        risk_alerts: crate::routes::risk::export_of_user(&state, user.id).await?,
    }))
}

/// Delete my account and all my personal data
///
/// Irreversible. Logging in with WeChat again afterwards creates a new, empty account.
/// Future station bookings are cancelled (their seats go to the people waiting) and past ones
/// stay in the stations' figures without the person's link, name, phone, note or comment.
/// Hotline dial taps stay in the statistics without any link to the person; assessment
/// results, messages and open consultation requests are deleted; closed consultations stay
/// for the counselor's record and the statistics, without the person's link, description,
/// messages or rating comment.
#[utoipa::path(
    operation_id = "delete_me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`: already deleted", body = ErrorBody),
    )
)]
#[delete("/me")]
pub async fn delete_me(state: State, caller: UserCaller) -> ApiResult<HttpResponse> {
    if state.users.find_by_id(caller.id).await?.is_none() {
        return Err(ApiError::not_found());
    }
    if !state.users.delete(caller.id).await? {
        return Err(ApiError::not_found());
    }
    state.user_presence.forget(caller.id).await;
    tracing::info!(user_id = %caller.id, "user deleted their account");
    Ok(HttpResponse::NoContent().finish())
}
