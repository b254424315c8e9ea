//! 普查: joining a unit's screening with its code, and the unit's anonymous report.
//! Rules: `xinli_domain::screening`; the scales are taken through
//! `POST /scales/{code}/submissions` with `screening_code`.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::account::Role;
use xinli_domain::lecture::LectureRequest;
use xinli_domain::screening::{self, CONSENT};

use crate::auth::{AdminCaller, Caller, UserCaller};
use crate::dto::{cst, string_enum};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::parse_id;
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(join)
        .service(report)
        .service(close)
        .service(referral);
}

#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"consent": true, "phone": "13800000000"}))]
pub struct ReferralBody {
    /// Must be `true`: the person agrees to be contacted for one-to-one counseling.
    pub consent: bool,
    /// A number a counselor may call back, 5–20 digits (hyphens allowed).
    #[schema(min_length = 5, max_length = 20, pattern = "^[0-9][0-9-]*[0-9]$")]
    pub phone: Option<String>,
}

/// Accept one-to-one counseling after a screening result
///
/// Offered when a screening result is moderate or worse, or has a critical item
/// (`referral_offered` in the result). With consent, a consultation request joins the queue
/// ahead of the standard queue (at least `elevated`; higher when the person's own risk is).
/// Nothing of it reaches the unit: its report counts results, never requests.
#[utoipa::path(
    operation_id = "accept_screening_referral",
    tag = "lectures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Assessment id")),
    request_body = ReferralBody,
    responses(
        (status = 201, body = crate::routes::consultations::UserConsultation),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`: not your result", body = ErrorBody),
        (status = 409, description = "`referral_not_offered`, `consultation_open`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: consent must be true, bad phone", body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
#[post("/me/assessments/{id}/referral")]
pub async fn referral(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
    body: crate::extract::Json<ReferralBody>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let a = state
        .assessments
        .all_of(caller.id)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(ApiError::not_found)?;
    if !body.0.consent {
        return Err(ApiError::field("consent", "需要你同意后才能转介"));
    }
    let details =
        xinli_domain::station::BookingDetails::parse(None, body.0.phone.as_deref(), None)?;
    if !screening::referral_offered(&a) || state.lectures.screening_of(a.id).await?.is_none() {
        return Err(ApiError::new(crate::error::ErrorCode::ReferralNotOffered));
    }
    crate::limits::hit(
        &state,
        "consultation",
        caller.id,
        state.config.limits.consultation_requests_per_user,
    )
    .await?;
    let now = state.clock.now();
    let risk =
        xinli_domain::assessment::current_risk(state.assessments.as_ref(), caller.id, now).await?;
    let mut req =
        xinli_domain::consultation::NewRequest::parse("其他", "普查后申请一对一咨询。", "text")?;
    req.callback_phone = details.phone;
    let c = crate::routes::consultations::open_request(
        &state,
        caller.id,
        req,
        screening::referral_priority(xinli_domain::consultation::Priority::from_risk(risk)),
    )
    .await?;
    state.lectures.mark_referred(a.id, now).await?;
    Ok(HttpResponse::Created().json(crate::routes::consultations::user_view(&state, &c).await?))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "phq9", "name": "抑郁筛查 PHQ-9", "minutes": 3, "done": false}))]
pub struct ScreeningScale {
    pub code: String,
    pub name: String,
    pub minutes: u32,
    /// You already took it in this screening.
    pub done: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"unit_name": "湖南省某厅", "scheduled_at": "2026-12-20T14:30:00+08:00", "location": "三楼会议室",
    "scales": [{"code": "phq9", "name": "抑郁筛查 PHQ-9", "minutes": 3, "done": false}],
    "consent": "本次心理普查由单位组织、专业机构实施。……", "closes_at": "2027-01-03T14:30:00+08:00"}))]
pub struct ScreeningView {
    pub unit_name: String,
    pub scheduled_at: Option<DateTime<FixedOffset>>,
    pub location: Option<String>,
    /// Take each with `POST /scales/{code}/submissions` and this `screening_code`.
    pub scales: Vec<ScreeningScale>,
    /// Read before starting: who sees what.
    pub consent: String,
    /// After this no one joins; the unit then sees its report.
    pub closes_at: Option<DateTime<FixedOffset>>,
}

/// A screening, by its join code
///
/// What a participant sees before starting: the unit, the scales and the consent text. Their
/// results stay their own; the unit sees only the suppressed aggregate. Codes are limited per
/// person, so that they cannot be guessed.
#[utoipa::path(
    operation_id = "get_screening",
    tag = "lectures",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The join code printed for the screening", example = "K7M3Q9TXA2")),
    responses(
        (status = 200, body = ScreeningView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`: unknown code, or the screening is not open", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody),
    )
)]
#[get("/screenings/{code}")]
pub async fn join(
    state: State,
    caller: UserCaller,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    crate::limits::hit(
        &state,
        "join_code",
        caller.id,
        state.config.limits.join_codes_per_user,
    )
    .await?;
    let r = open_screening(&state, &code).await?;
    let done = state.lectures.screened_scales(r.id, caller.id).await?;
    let mut scales = vec![];
    for code in &r.input.screening_scales {
        if let Some(s) = state.scales.find(code).await? {
            scales.push(ScreeningScale {
                done: done.contains(&s.code),
                code: s.code,
                name: s.name,
                minutes: s.minutes,
            });
        }
    }
    Ok(HttpResponse::Ok().json(ScreeningView {
        unit_name: r.input.unit_name.clone(),
        scheduled_at: r.scheduled_at.map(cst),
        location: r.location.clone(),
        scales,
        consent: CONSENT.into(),
        closes_at: screening::closes_at(&r).map(cst),
    }))
}

/// The request behind an open screening's code.
pub async fn open_screening(state: &AppState, code: &str) -> ApiResult<LectureRequest> {
    let code = code.trim().to_ascii_uppercase();
    if code.len() < 8 || code.len() > 16 {
        return Err(ApiError::not_found());
    }
    state
        .lectures
        .find_by_code(&code)
        .await?
        .filter(|r| screening::joinable(r, state.clock.now()))
        .ok_or_else(ApiError::not_found)
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"level": 1, "label": "轻度", "count": null, "suppressed": true}))]
pub struct BandCount {
    pub level: u8,
    pub label: String,
    /// `null` when hidden: under 10, a zero beside hidden cells, or needed to keep another
    /// hidden cell from being computed back.
    pub count: Option<u64>,
    pub suppressed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"scale": "phq9", "scale_name": "抑郁筛查 PHQ-9", "participants": 30,
    "bands": [{"level": 0, "label": "无", "count": 15, "suppressed": false},
              {"level": 1, "label": "轻度", "count": null, "suppressed": true},
              {"level": 2, "label": "中度", "count": null, "suppressed": true},
              {"level": 3, "label": "重度", "count": null, "suppressed": true}]}))]
pub struct ScaleCounts {
    pub scale: String,
    pub scale_name: String,
    /// While `open`: how many took the scale, rounded down to a multiple of 5. Once `closed`:
    /// exact, or `null` when fewer than 10 took it.
    pub participants: Option<u64>,
    /// Empty while `open`.
    pub bands: Vec<BandCount>,
}

string_enum!(
    /// A screening's report: `open` (people may still join: participants rounded down to 5,
    /// no bands) or `closed` (counts frozen at the first read after closing).
    ScreeningReportState,
    ["open", "closed"]
);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"request_id": "0193a5d6-6666-7abc-8def-0123456789ab", "unit_name": "湖南省某厅",
    "state": "closed", "closes_at": "2027-01-03T14:30:00+08:00", "frozen_at": "2027-01-04T09:00:00+08:00",
    "scales": [{"scale": "phq9", "scale_name": "抑郁筛查 PHQ-9", "participants": 30,
        "bands": [{"level": 0, "label": "无", "count": 15, "suppressed": false}]}],
    "rule": "普查结束前只显示参加人数（向下取整到 5 的倍数）……", "generated_at": "2027-01-04T09:00:00+08:00"}))]
pub struct ScreeningReport {
    pub request_id: String,
    pub unit_name: String,
    #[schema(value_type = ScreeningReportState)]
    pub state: String,
    /// When the screening closes (or closed).
    pub closes_at: Option<DateTime<FixedOffset>>,
    /// When the counts were taken; later deletions do not change them. `null` while `open`.
    pub frozen_at: Option<DateTime<FixedOffset>>,
    pub scales: Vec<ScaleCounts>,
    /// The disclosure rule, in words.
    pub rule: String,
    pub generated_at: DateTime<FixedOffset>,
}

/// The unit's screening report
///
/// Never an individual, an identifier or a free text. While the screening is `open` (until 14
/// days after the lecture, or the organiser closes it earlier): per scale only how many took
/// it, rounded down to a multiple of 5. Once `closed`: the counts are taken at the first read
/// and frozen (a later deletion leaves the report as it was) and shown per band: a count from
/// 1 to 9 is `null` with `suppressed: true`, zeros beside hidden cells are hidden too, and
/// further cells are hidden until at least two are and they add up to 10 or more, so that no
/// hidden count can be computed back; a scale with fewer than 10 participants shows no count.
/// The liaison's own results are not counted. For the request's liaison and admins.
#[utoipa::path(
    operation_id = "get_screening_report",
    tag = "lectures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    responses(
        (status = 200, body = ScreeningReport),
        (status = 401, body = ErrorBody),
        (status = 404, description = "`not_found`: unknown, not yours, or without a screening", body = ErrorBody),
    )
)]
#[get("/lecture-requests/{id}/screening-report")]
pub async fn report(
    state: State,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let r = state
        .lectures
        .find(parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    r.actor(caller.id, caller.role == Role::Admin)
        .ok_or_else(ApiError::not_found)?;
    if !r.input.screening {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok().json(report_of(&state, &r).await?))
}

/// Close a screening now
///
/// The organiser ends a screening before its closing time (everyone who was coming has taken
/// it): no one joins any more, the counts are frozen and the unit sees its report. Closing a
/// closed screening changes nothing.
#[utoipa::path(
    operation_id = "admin_close_screening",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Lecture request id")),
    responses(
        (status = 200, description = "The report, closed", body = ScreeningReport),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`: unknown, or without a screening", body = ErrorBody),
        (status = 409, description = "`lecture_request_state`: not accepted", body = ErrorBody),
    )
)]
#[post("/admin/lecture-requests/{id}/screening/close")]
pub async fn close(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let r = state
        .lectures
        .find(parse_id(&id)?)
        .await?
        .filter(|r| r.input.screening)
        .ok_or_else(ApiError::not_found)?;
    let now = state.clock.now();
    let at = screening::close_early(&r, now).map_err(|screening::CloseRefused::NoScreening| {
        ApiError::new(ErrorCode::LectureRequestState).with_message(format!(
            "该申请当前为“{}”，没有进行中的普查",
            r.status.label()
        ))
    })?;
    let r = if screening::closes_at(&r) == Some(at) {
        r
    } else {
        state
            .lectures
            .close_screening(r.id, at, now)
            .await?
            .ok_or_else(ApiError::not_found)?
    };
    super::admin_audit::record_admin_change(
        &state,
        admin.account.id,
        xinli_domain::audit::AuditAction::DecideLectureRequest,
        format!("lecture:{}:close_screening", r.id),
    )
    .await?;
    tracing::info!(admin_id = %admin.account.id, request_id = %r.id, "screening closed");
    Ok(HttpResponse::Ok().json(report_of(&state, &r).await?))
}

async fn report_of(state: &AppState, r: &LectureRequest) -> ApiResult<ScreeningReport> {
    let mut scales = vec![];
    for code in &r.input.screening_scales {
        if let Some(scale) = state.scales.find(code).await? {
            scales.push(scale);
        }
    }
    let now = state.clock.now();
    let rep = screening::unit_report(state.lectures.as_ref(), r, &scales, now).await?;
    Ok(ScreeningReport {
        request_id: r.id.to_string(),
        unit_name: r.input.unit_name.clone(),
        state: if rep.closed { "closed" } else { "open" }.into(),
        closes_at: rep.closes_at.map(cst),
        frozen_at: rep.frozen_at.map(cst),
        scales: rep
            .scales
            .into_iter()
            .map(|s| ScaleCounts {
                scale: s.scale,
                scale_name: s.scale_name,
                participants: s.participants,
                bands: s
                    .bands
                    .into_iter()
                    .map(|b| BandCount {
                        level: b.level,
                        label: b.label,
                        count: b.count,
                        suppressed: b.suppressed,
                    })
                    .collect(),
            })
            .collect(),
        rule: RULE.into(),
        generated_at: cst(now),
    })
}

/// The disclosure rule, in words, as the report carries it.
const RULE: &str = "普查结束前只显示参加人数（向下取整到 5 的倍数），不显示分级；结束后人数冻结，\
每格少于 10 人不显示，与隐藏格并列的 0 也不显示，并继续隐藏最小的格，直到隐藏格至少两格且合计不少于 10 人；\
参加人数少于 10 人的量表不显示任何数字；联络人本人的结果不计入";

/// Checks a submission's `screening_code` for `scale` and the person; the request to count
/// the result in.
pub async fn check_submission(
    state: &AppState,
    code: &str,
    scale: &str,
    user: Uuid,
) -> ApiResult<LectureRequest> {
    let r = open_screening(state, code)
        .await
        .map_err(|_| ApiError::field("screening_code", "普查码无效，或普查尚未开始或已经结束"))?;
    if !screening::offers(&r, scale, state.clock.now()) {
        return Err(ApiError::field("screening_code", "本次普查不包含这个量表"));
    }
    if state
        .lectures
        .screened_scales(r.id, user)
        .await?
        .iter()
        .any(|s| s == scale)
    {
        return Err(ApiError::new(crate::error::ErrorCode::AlreadyScreened));
    }
    Ok(r)
}
