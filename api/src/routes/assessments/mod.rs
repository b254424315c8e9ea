//! 心理测评: scales, submissions with crisis detection, the user's history and trends, and
//! the admin edit of a scale's texts and bands.
//!
//! Results are sensitive personal information: only their owner reads them (another user's
//! id is a 404), and neither answers nor scores are ever logged.
//!
//! Parts: `submit`, `history` (the person's results, trends, withdrawal), `admin`. This file
//! holds the scale and result views and the public scale routes.

mod admin;
mod history;
mod submit;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::assessment::{Assessment, Band, RECOMMENDED_ARTICLES, Scale};

use crate::crisis::{CrisisView, crisis_view};
use crate::dto::cst;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_scales)
        .service(get_scale)
        .service(submit::submit)
        .service(history::my_assessments)
        .service(history::my_trend)
        .service(history::my_assessment)
        .service(history::withdraw_my_assessment)
        .service(admin::edit_scale);
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
