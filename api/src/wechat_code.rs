//! Mini-program codes (WeChat `wxa/getwxacodeunlimit`) served as PNG; the gateway keeps them a
//! day in the cache (`xinli_infra::wechat::CachedCodes`).

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

/// A mini-program code (PNG) opening `page` with `scene`. WeChat's refusals become clear
/// errors.
pub(crate) async fn mini_program_code(
    state: &AppState,
    scene: &str,
    page: &str,
    file: &str,
) -> ApiResult<HttpResponse> {
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
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{file}-{scene}.png\""),
        ))
        .body(png))
}
