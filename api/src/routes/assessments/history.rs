//! The person's own results: the list, one result, a trend, and taking one back.

use actix_web::{HttpResponse, delete, get, web};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinli_domain::assessment::TREND_POINTS;
use xinli_domain::page::PageRequest;

use crate::auth::UserCaller;
use crate::dto::{Paged, cst};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Query, parse_id};
use crate::state::State;

use super::{AssessmentResult, ScaleBand, result_view, scale_or_404};

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
