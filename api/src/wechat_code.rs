//! Mini-program codes (WeChat `wxa/getwxacodeunlimit`) served as PNG, kept a day in the cache.

use actix_web::HttpResponse;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A PNG image.
pub struct Png;

impl utoipa::PartialSchema for Png {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("PNG image"))
            .into()
    }
}

impl ToSchema for Png {}

/// How long a station's code is kept: the code never changes, WeChat's calls are limited.
const QRCODE_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A mini-program code (PNG) opening `page` with `scene`, kept a day in the cache (the code
/// never changes and WeChat's calls are limited). WeChat's refusals become clear errors.
pub(crate) async fn mini_program_code(
    state: &AppState,
    scene: &str,
    page: &str,
    file: &str,
) -> ApiResult<HttpResponse> {
    let key = format!("mini_program_code:{page}:{scene}");
    let png = match state.cache.get(&key).await {
        Some(png) => png,
        None => {
            let png = state
                .wechat
                .unlimited_code(scene, page)
                .await
                .map_err(|e| {
                    let err = ApiError::from(e);
                    if err.code == crate::error::ErrorCode::WechatFailed {
                        err.with_message("暂时无法生成小程序码，请稍后再试")
                    } else {
                        err
                    }
                })?;
            state.cache.set(&key, &png, QRCODE_TTL).await;
            png
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{file}-{scene}.png\""),
        ))
        .body(png))
}
