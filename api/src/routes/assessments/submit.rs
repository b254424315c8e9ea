//! Submit answers: scored here, stored, the crisis answer and a referral offer when due.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use xinli_domain::assessment::Assessment;
use xinli_domain::validation::Collector;

use crate::auth::UserCaller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::state::State;

use super::{AssessmentResult, result_view, scale_or_404};

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
