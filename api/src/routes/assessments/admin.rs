//! The admin edit of a scale's texts and bands.

use actix_web::{HttpResponse, put, web};
use serde::Deserialize;
use utoipa::ToSchema;
use xinli_domain::assessment::{Band, ScaleEdit};
use xinli_domain::audit::AuditAction;

use crate::auth::AdminCaller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Json;
use crate::state::State;

use super::{ScaleBand, ScaleDetail, scale_or_404};

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
    crate::routes::admin_audit::record_admin_change(
        &state,
        admin.account.id,
        AuditAction::UpdateScale,
        edited.code.clone(),
    )
    .await?;
    tracing::info!(admin_id = %admin.account.id, scale = %edited.code, "scale edited");
    Ok(HttpResponse::Ok().json(ScaleDetail::from(&edited)))
}
