//! 心理测评: scales, submissions with crisis detection, the user's history and trends, and
//! the admin edit of a scale's texts and bands.
//!
//! Results are sensitive personal information: only their owner reads them (another user's
//! id is a 404), and neither answers nor scores are ever logged.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::assessment::{
    Assessment, Band, RECOMMENDED_ARTICLES, Scale, ScaleEdit, TREND_POINTS,
};
use xinli_domain::audit::AuditAction;
use xinli_domain::page::PageRequest;
use xinli_domain::validation::Collector;

use crate::auth::{AdminCaller, UserCaller};
use crate::crisis::{CrisisView, crisis_view};
use crate::dto::{Paged, cst};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Query, parse_id};
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_scales)
        .service(get_scale)
        .service(submit)
        .service(my_assessments)
        .service(my_trend)
        .service(my_assessment)
        .service(withdraw_my_assessment)
        .service(edit_scale);
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "phq9", "name": "患者健康问卷抑郁量表（PHQ-9）", "short_name": "抑郁筛查 PHQ-9",
    "description": "用于筛查近两周的抑郁情绪及其程度，共 9 题，约 3 分钟。", "item_count": 9, "minutes": 3}))]
pub struct ScaleSummary {
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub item_count: usize,
    /// Typical minutes to complete.
    pub minutes: u32,
}

impl From<&Scale> for ScaleSummary {
    fn from(s: &Scale) -> Self {
        Self {
            code: s.code.clone(),
            name: s.name.clone(),
            short_name: s.short_name.clone(),
            description: s.description.clone(),
            item_count: s.items.len(),
            minutes: s.minutes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"index": 0, "label": "完全不会", "score": 0}))]
pub struct ScaleOption {
    /// What to send in `answers` to choose this option.
    pub index: usize,
    pub label: String,
    /// The points this option adds to the raw score (reverse-scored items show descending points).
    pub score: i32,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"number": 1, "text": "做事时提不起劲或没有兴趣", "options": [
    {"index": 0, "label": "完全不会", "score": 0}, {"index": 1, "label": "有几天", "score": 1},
    {"index": 2, "label": "一半以上的天数", "score": 2}, {"index": 3, "label": "几乎每天", "score": 3}]}))]
pub struct ScaleItem {
    /// 1-based, as printed.
    pub number: usize,
    pub text: String,
    /// In the published questionnaire's order.
    pub options: Vec<ScaleOption>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"min": 10, "max": 14, "level": 2, "label": "中度",
    "interpretation": "筛查结果提示你可能存在中度的抑郁情绪。建议尽快和心理咨询师或医生聊一聊。",
    "recommendation_tags": ["抑郁", "求助"]}))]
pub struct ScaleBand {
    /// Inclusive bounds on the reported score.
    pub min: i32,
    pub max: i32,
    /// 0 none/minimal, 1 mild, 2 moderate, 3 severe — the same on every scale (WHO-5 too,
    /// where high scores are good).
    pub level: u8,
    pub label: String,
    pub interpretation: String,
    #[serde(default)]
    pub recommendation_tags: Vec<String>,
}

impl From<&Band> for ScaleBand {
    fn from(b: &Band) -> Self {
        Self {
            min: b.min,
            max: b.max,
            level: b.level,
            label: b.label.clone(),
            interpretation: b.interpretation.clone(),
            recommendation_tags: b.recommendation_tags.clone(),
        }
    }
}

/// A whole scale: what to show and exactly how it is scored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "gad7", "name": "广泛性焦虑量表（GAD-7）", "short_name": "焦虑筛查 GAD-7",
    "description": "用于筛查近两周的焦虑情绪及其程度，共 7 题，约 2 分钟。",
    "instructions": "在过去两周里，你有多少时间受到以下问题的困扰？",
    "source": "Spitzer RL, Kroenke K, Williams JBW, Löwe B. Arch Intern Med. 2006;166(10):1092-1097.",
    "licence": "No permission required to reproduce, translate, display or distribute.",
    "items": [{"number": 1, "text": "感觉紧张、焦虑或烦躁", "options": [{"index": 0, "label": "完全不会", "score": 0}]}],
    "score_min": 0, "score_max": 21, "score_multiplier": 1,
    "bands": [{"min": 0, "max": 4, "level": 0, "label": "无或极轻微", "interpretation": "…", "recommendation_tags": []}],
    "critical_items": [], "minutes": 2
}))]
pub struct ScaleDetail {
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub instructions: String,
    /// The published instrument and scoring this follows.
    pub source: String,
    pub licence: String,
    pub items: Vec<ScaleItem>,
    /// Range of the reported score.
    pub score_min: i32,
    pub score_max: i32,
    /// Reported score = raw sum × this (WHO-5: 4).
    pub score_multiplier: i32,
    pub bands: Vec<ScaleBand>,
    /// Items (1-based) where any answer above 0 points leads to the crisis answer.
    pub critical_items: Vec<usize>,
    pub minutes: u32,
}

impl From<&Scale> for ScaleDetail {
    fn from(s: &Scale) -> Self {
        let (score_min, score_max) = s.score_range();
        Self {
            code: s.code.clone(),
            name: s.name.clone(),
            short_name: s.short_name.clone(),
            description: s.description.clone(),
            instructions: s.instructions.clone(),
            source: s.source.clone(),
            licence: s.licence.clone(),
            items: s
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| ScaleItem {
                    number: i + 1,
                    text: item.text.clone(),
                    options: item
                        .options
                        .iter()
                        .enumerate()
                        .map(|(index, o)| ScaleOption {
                            index,
                            label: o.label.clone(),
                            score: o.points,
                        })
                        .collect(),
                })
                .collect(),
            score_min,
            score_max,
            score_multiplier: s.transform.multiplier(),
            bands: s.bands.iter().map(ScaleBand::from).collect(),
            critical_items: s.critical_items.iter().map(|c| c.item).collect(),
            minutes: s.minutes,
        }
    }
}

/// One answer per item, in item order: the `index` of the chosen option.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"answers": [1, 1, 2, 1, 0, 1, 0, 0, 0]}))]
pub struct SubmissionRequest {
    #[schema(value_type = Vec<i64>)]
    pub answers: Vec<serde_json::Value>,
    /// A unit screening's join code (`GET /screenings/{code}`): the result stays yours and
    /// also counts, anonymously, in that screening's report.
    #[serde(default)]
    #[schema(min_length = 8, max_length = 16, example = "K7M3Q9TXA2")]
    pub screening_code: Option<String>,
}

/// An article suggested for the result.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d3-0000-7000-8000-000000000001", "title": "压力识别与应对", "summary": "……"}))]
pub struct RecommendationView {
    pub id: String,
    pub title: String,
    pub summary: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"label": "中度", "level": 2, "min": 10, "max": 14}))]
pub struct ResultBand {
    pub label: String,
    pub level: u8,
    pub min: Option<i32>,
    pub max: Option<i32>,
}

/// A scored submission.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d4-1111-7abc-8def-0123456789ab", "scale": "phq9", "scale_name": "抑郁筛查 PHQ-9",
    "score": 11, "raw_score": null, "score_max": 27,
    "band": {"label": "中度", "level": 2, "min": 10, "max": 14},
    "interpretation": "筛查结果提示你可能存在中度的抑郁情绪。建议尽快和心理咨询师或医生聊一聊，做进一步评估并获得支持。",
    "crisis": null, "recommendations": [], "answers": null, "referral_offered": false, "referral_stations": [], "created_at": "2026-11-22T21:40:00+08:00"
}))]
pub struct AssessmentResult {
    pub id: String,
    pub scale: String,
    pub scale_name: String,
    /// The reported score.
    pub score: i32,
    /// The raw sum, on scales whose reported score is transformed (WHO-5); otherwise `null`.
    pub raw_score: Option<i32>,
    pub score_max: i32,
    pub band: ResultBand,
    pub interpretation: String,
    /// `null`, or why to reach out now and whom to call.
    pub crisis: Option<CrisisView>,
    /// Up to three published articles for this result.
    pub recommendations: Vec<RecommendationView>,
    /// The chosen option indices; included when reading one stored result.
    pub answers: Option<Vec<usize>>,
    /// A screening result that needs attention offers one-to-one counseling:
    /// `POST /me/assessments/{id}/referral` with consent. The unit never learns who accepts.
    pub referral_offered: bool,
    /// With `referral_offered`: the bookable counseling stations in the region the unit gave,
    /// to book a session in person (`POST /stations/{id}/bookings`) instead of, or besides,
    /// the online referral. Empty when the unit gave no region or it has no station.
    pub referral_stations: Vec<crate::routes::stations::StationView>,
    pub created_at: DateTime<FixedOffset>,
}

/// The stations a referral offers for the screening `request` (see
/// `xinli_domain::screening::referral_stations`).
async fn referral_station_views(
    state: &AppState,
    request: uuid::Uuid,
) -> ApiResult<Vec<crate::routes::stations::StationView>> {
    let Some(region) = state
        .lectures
        .find(request)
        .await?
        .and_then(|r| r.input.region)
    else {
        return Ok(Vec::new());
    };
    let stations = state.stations.list(true).await?;
    let now = state.clock.now();
    Ok(
        xinli_domain::screening::referral_stations(Some(&region), &stations)
            .into_iter()
            .map(|s| crate::routes::stations::StationView::new(s, now, false))
            .collect(),
    )
}

async fn result_view(
    state: &AppState,
    scale: Option<&Scale>,
    a: &Assessment,
    with_answers: bool,
) -> ApiResult<AssessmentResult> {
    let band = scale.and_then(|s| a.band_in(s));
    let crisis = match a.crisis() {
        Some(reason) => Some(crisis_view(state, reason).await?),
        None => None,
    };
    let screening = match xinli_domain::screening::referral_offered(a) {
        true => state.lectures.screening_of(a.id).await?,
        false => None,
    };
    let referral_stations = match screening {
        Some(request) => referral_station_views(state, request).await?,
        None => Vec::new(),
    };
    Ok(AssessmentResult {
        referral_offered: screening.is_some(),
        referral_stations,
        id: a.id.to_string(),
        scale: a.scale_code.clone(),
        scale_name: scale
            .map(|s| s.short_name.clone())
            .unwrap_or_else(|| a.scale_code.clone()),
        score: a.score,
        raw_score: a.shown_raw_score(scale),
        score_max: scale.map(|s| s.score_range().1).unwrap_or(a.score),
        band: ResultBand {
            label: a.band_label.clone(),
            level: a.level,
            min: band.map(|b| b.min),
            max: band.map(|b| b.max),
        },
        interpretation: a.interpretation.clone(),
        crisis,
        recommendations: recommendations(
            state,
            band.map(|b| b.recommendation_tags.as_slice())
                .unwrap_or_default(),
        )
        .await?,
        answers: with_answers.then(|| a.answers.clone()),
        created_at: cst(a.created_at),
    })
}

/// Up to three published articles carrying one of the band's tags, newest first.
async fn recommendations(state: &AppState, tags: &[String]) -> ApiResult<Vec<RecommendationView>> {
    let articles = state
        .articles
        .with_tags(tags, RECOMMENDED_ARTICLES, state.clock.now())
        .await?;
    Ok(articles
        .into_iter()
        .map(|a| RecommendationView {
            id: a.id.to_string(),
            title: a.input.title,
            summary: a.input.summary,
        })
        .collect())
}

async fn scale_or_404(state: &AppState, code: &str) -> ApiResult<Scale> {
    state
        .scales
        .find(code)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The available scales
#[utoipa::path(
    operation_id = "list_scales",
    tag = "assessments", responses((status = 200, body = Vec<ScaleSummary>)))]
#[get("/scales")]
pub async fn list_scales(state: State) -> ApiResult<HttpResponse> {
    let scales = state.scales.list().await?;
    Ok(HttpResponse::Ok().json(scales.iter().map(ScaleSummary::from).collect::<Vec<_>>()))
}

/// One scale with its items, options, points and bands
///
/// Options are listed in the published questionnaire's order, each with its `score`; answer
/// with option `index`es.
#[utoipa::path(
    operation_id = "get_scale",
    tag = "assessments",
    params(("code" = String, Path, description = "`phq9`, `gad7`, `pss10`, `epds`, `who5`, `k10`")),
    responses((status = 200, body = ScaleDetail), (status = 404, body = ErrorBody))
)]
#[get("/scales/{code}")]
pub async fn get_scale(state: State, code: web::Path<String>) -> ApiResult<HttpResponse> {
    let scale = scale_or_404(&state, &code).await?;
    Ok(HttpResponse::Ok().json(ScaleDetail::from(&scale)))
}

/// Submit answers and get the result
///
/// `answers` has one entry per item: the 0-based `index` of the chosen option as listed by
/// `GET /scales/{code}`. Reverse scoring is done here. A sheet with the wrong number of
/// answers, or an answer that is not an integer option index, is refused with a detail per
/// bad answer and nothing is stored. When a critical item is answered above 0 points or the
/// result is at the top severity level, `crisis` lists the crisis hotlines, open ones first.
#[utoipa::path(
    operation_id = "submit_assessment",
    tag = "assessments",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Scale code")),
    request_body = SubmissionRequest,
    responses(
        (status = 201, body = AssessmentResult),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`already_screened`: this scale was already taken in this screening", body = ErrorBody),
        (status = 422, description = "`validation_failed`: details name `answers`, `answers[i]` or `screening_code`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`, with `Retry-After`", body = ErrorBody),
    )
)]
#[post("/scales/{code}/submissions")]
pub async fn submit(
    state: State,
    caller: UserCaller,
    code: web::Path<String>,
    body: Json<SubmissionRequest>,
) -> ApiResult<HttpResponse> {
    let scale = scale_or_404(&state, &code).await?;
    crate::limits::hit(
        &state,
        "assessment",
        caller.id,
        state.config.limits.assessments_per_user,
    )
    .await?;
    let mut c = Collector::new();
    let answers: Vec<i64> = body
        .0
        .answers
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_i64().unwrap_or_else(|| {
                c.push(
                    format!("answers[{i}]"),
                    format!("第 {} 题的答案须为整数选项序号", i + 1),
                );
                -1
            })
        })
        .collect();
    c.finish()?;
    let screening = match body.0.screening_code.as_deref() {
        Some(code) => Some(
            crate::routes::screenings::check_submission(&state, code, &scale.code, caller.id)
                .await?,
        ),
        None => None,
    };
    let outcome = scale.score(&answers)?;
    let assessment = Assessment::from_outcome(caller.id, &scale, outcome, state.clock.now())
        .ok_or_else(|| ApiError::internal("band index out of range"))?;
    if state.users.find_by_id(caller.id).await?.is_none() {
        return Err(ApiError::not_found());
    }
    match &screening {
        Some(r) => state.lectures.insert_screened(r.id, &assessment).await?,
        None => state.assessments.insert(&assessment).await?,
    }
    if !assessment.critical_items.is_empty() {
        // Thoughts of self-harm from someone waiting or in a session: a supervisor is told.
        crate::crisis::check_assessment(&state, caller.id, &scale.short_name).await?;
    }
    // Only the id and the scale: answers and scores are sensitive and never logged.
    tracing::info!(assessment_id = %assessment.id, scale = %scale.code, "assessment submitted");
    Ok(HttpResponse::Created().json(result_view(&state, Some(&scale), &assessment, false).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Only results of this scale.
    #[param(example = "phq9")]
    pub scale: Option<String>,
    #[param(minimum = 1, maximum = 10000, example = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub page_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d4-1111-7abc-8def-0123456789ab", "scale": "phq9", "scale_name": "抑郁筛查 PHQ-9",
    "score": 11, "level": 2, "band_label": "中度", "crisis": false, "created_at": "2026-11-22T21:40:00+08:00"}))]
pub struct AssessmentSummary {
    pub id: String,
    pub scale: String,
    pub scale_name: String,
    pub score: i32,
    pub level: u8,
    pub band_label: String,
    /// Whether this result carried the crisis answer.
    pub crisis: bool,
    pub created_at: DateTime<FixedOffset>,
}

/// My results, newest first
#[utoipa::path(
    operation_id = "list_my_assessments",
    tag = "assessments",
    security(("bearer" = [])),
    params(HistoryQuery),
    responses(
        (status = 200, body = Paged<AssessmentSummary>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/me/assessments")]
pub async fn my_assessments(
    state: State,
    caller: UserCaller,
    query: Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = PageRequest::parse(q.page, q.page_size)?;
    let scales = state.scales.list().await?;
    let name = |code: &str| {
        scales
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.short_name.clone())
            .unwrap_or_else(|| code.to_owned())
    };
    let results = state
        .assessments
        .list(caller.id, q.scale.as_deref(), page)
        .await?;
    Ok(
        HttpResponse::Ok().json(Paged::from_page(results, |a| AssessmentSummary {
            id: a.id.to_string(),
            scale_name: name(&a.scale_code),
            crisis: a.crisis().is_some(),
            scale: a.scale_code,
            score: a.score,
            level: a.level,
            band_label: a.band_label,
            created_at: cst(a.created_at),
        })),
    )
}

/// One of my results, with my answers
#[utoipa::path(
    operation_id = "get_my_assessment",
    tag = "assessments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Result id")),
    responses(
        (status = 200, body = AssessmentResult),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`, also for someone else's result", body = ErrorBody),
    )
)]
#[get("/me/assessments/{id}")]
pub async fn my_assessment(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let a = state
        .assessments
        .find(caller.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let scale = state.scales.find(&a.scale_code).await?;
    Ok(HttpResponse::Ok().json(result_view(&state, scale.as_ref(), &a, true).await?))
}

/// Take one of my results back
///
/// The result is deleted, and with it its entry in a unit's screening and the referral offer
/// noted there (a consultation already requested stays yours to cancel). A unit's screening
/// report that has closed keeps its frozen counts, which name no one; one still open no
/// longer counts the result. Gone from history, trends and the export at once.
#[utoipa::path(
    operation_id = "withdraw_my_assessment",
    tag = "assessments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Result id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`, also for someone else's result", body = ErrorBody),
    )
)]
#[delete("/me/assessments/{id}")]
pub async fn withdraw_my_assessment(
    state: State,
    caller: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    if !state.assessments.withdraw(caller.id, id).await? {
        return Err(ApiError::not_found());
    }
    tracing::info!(assessment_id = %id, "assessment withdrawn");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d4-1111-7abc-8def-0123456789ab", "at": "2026-11-22T21:40:00+08:00", "score": 11, "level": 2}))]
pub struct AssessmentTrendPoint {
    pub id: String,
    pub at: DateTime<FixedOffset>,
    pub score: i32,
    pub level: u8,
}

/// A scale's results over time, with the band thresholds to draw behind them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"scale": "phq9", "score_min": 0, "score_max": 27,
    "bands": [{"min": 0, "max": 4, "level": 0, "label": "无或极轻微", "interpretation": "…", "recommendation_tags": []}],
    "points": [{"id": "0193a5d4-1111-7abc-8def-0123456789ab", "at": "2026-11-22T21:40:00+08:00", "score": 11, "level": 2}]}))]
pub struct AssessmentTrend {
    pub scale: String,
    pub score_min: i32,
    pub score_max: i32,
    pub bands: Vec<ScaleBand>,
    /// Oldest first; the latest 100 results at most.
    pub points: Vec<AssessmentTrendPoint>,
}

/// My trend on one scale
#[utoipa::path(
    operation_id = "get_my_assessment_trend",
    tag = "assessments",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Scale code")),
    responses(
        (status = 200, body = AssessmentTrend),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/me/assessments/trends/{code}")]
pub async fn my_trend(
    state: State,
    caller: UserCaller,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let scale = scale_or_404(&state, &code).await?;
    let history = state
        .assessments
        .history(caller.id, &scale.code, TREND_POINTS)
        .await?;
    let (score_min, score_max) = scale.score_range();
    Ok(HttpResponse::Ok().json(AssessmentTrend {
        scale: scale.code.clone(),
        score_min,
        score_max,
        bands: scale.bands.iter().map(ScaleBand::from).collect(),
        points: history
            .into_iter()
            .map(|a| AssessmentTrendPoint {
                id: a.id.to_string(),
                at: cst(a.created_at),
                score: a.score,
                level: a.level,
            })
            .collect(),
    }))
}

/// An admin's new texts and bands for a scale. Points, item count and critical items are the
/// published scoring and cannot be changed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "广泛性焦虑量表（GAD-7）", "short_name": "焦虑筛查 GAD-7", "description": "…",
    "instructions": "在过去两周里，你有多少时间受到以下问题的困扰？",
    "item_texts": ["感觉紧张、焦虑或烦躁", "不能停止或无法控制担忧", "对各种各样的事情担忧过多", "很难放松下来",
                   "由于坐立不安而难以静坐", "变得容易烦恼或急躁", "感到好像会有可怕的事情发生而害怕"],
    "bands": [{"min": 0, "max": 4, "level": 0, "label": "无或极轻微", "interpretation": "…"},
              {"min": 5, "max": 9, "level": 1, "label": "轻度", "interpretation": "…"},
              {"min": 10, "max": 14, "level": 2, "label": "中度", "interpretation": "…"},
              {"min": 15, "max": 21, "level": 3, "label": "重度", "interpretation": "…"}]
}))]
pub struct ScaleEditRequest {
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub instructions: String,
    /// One per item, in order.
    pub item_texts: Vec<String>,
    /// Must cover the score range in order, without gaps or overlaps; levels 0–3.
    pub bands: Vec<ScaleBand>,
}

/// Edit a scale's texts and bands
///
/// Later submissions use the new texts and bands; stored results keep what was shown then.
#[utoipa::path(
    operation_id = "admin_update_scale",
    tag = "admin",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Scale code")),
    request_body = ScaleEditRequest,
    responses(
        (status = 200, body = ScaleDetail),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[put("/admin/scales/{code}")]
pub async fn edit_scale(
    state: State,
    admin: AdminCaller,
    code: web::Path<String>,
    body: Json<ScaleEditRequest>,
) -> ApiResult<HttpResponse> {
    let scale = scale_or_404(&state, &code).await?;
    let req = body.0;
    let edit = ScaleEdit {
        name: req.name,
        short_name: req.short_name,
        description: req.description,
        instructions: req.instructions,
        item_texts: req.item_texts,
        bands: req
            .bands
            .into_iter()
            .map(|b| Band {
                min: b.min,
                max: b.max,
                level: b.level,
                label: b.label,
                interpretation: b.interpretation,
                recommendation_tags: b.recommendation_tags,
            })
            .collect(),
    };
    let edited = edit.apply(&scale)?;
    state.scales.save(&edited, state.clock.now()).await?;
    super::admin_audit::record_admin_change(
        &state,
        admin.0.id,
        AuditAction::UpdateScale,
        edited.code.clone(),
    )
    .await?;
    tracing::info!(admin_id = %admin.0.id, scale = %edited.code, "scale edited");
    Ok(HttpResponse::Ok().json(ScaleDetail::from(&edited)))
}
