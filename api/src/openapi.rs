//! The OpenAPI document: assembled from the same route registrations the server uses, so it
//! cannot miss a route registered with `.service()`.

use actix_web::App;
use utoipa::openapi::OpenApi as Spec;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{ErrorBody, ErrorCode, FieldErrorBody};
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "心嚟在线 API",
        description = "The backend of 心嚟在线 (Xinli Online), the public mental-health \
mini-program: science articles, self-assessments, one-tap hotlines and online consultation.\n\n\
Authentication: `Authorization: Bearer <access_token>` from one of the `/api/v1/auth/*` routes. \
Roles: `user`, `counselor`, `admin`. Timestamps are RFC 3339 in `+08:00`. Ids are opaque strings.\n\n\
Every error answer has the body `ErrorBody` and every answer an `x-request-id` header."
    ),
    components(schemas(ErrorBody, ErrorCode, FieldErrorBody)),
    modifiers(&BearerScheme),
    tags(
        (name = "运维 ops", description = "Liveness and readiness"),
        (name = "账号 auth", description = "Login, tokens and the user's own account"),
        (name = "热线 hotlines", description = "热线一键拨打: the hotline directory and dial taps"),
        (name = "科普 articles", description = "科普: science articles, search, likes and favourites"),
        (name = "测评 assessments", description = "心理测评: screening scales, results, history and trends"),
        (name = "咨询 consultations", description = "在线咨询: requests, chat and rating, for the person asking for help"),
        (name = "咨询师 counselor", description = "The counselors' queue, claims, close and transfer"),
        (name = "管理 admin", description = "Operator and admin functions"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, spec: &mut Spec) {
        let components = spec.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from /api/v1/auth/*; valid 15 minutes."))
                    .build(),
            ),
        );
    }
}

/// The complete spec, as served at `/api-docs/openapi.json` and written to
/// `openapi/openapi.json`.
pub fn spec() -> Spec {
    let (_, mut spec) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    spec.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut table = String::from(
        "\n\n## Error codes\n\n| code | HTTP status | default message |\n| --- | --- | --- |\n",
    );
    for code in ErrorCode::ALL {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            code.status().as_u16(),
            code.message()
        ));
    }
    let description = spec.info.description.get_or_insert_with(String::new);
    description.push_str(&table);
    spec
}

/// The spec as pretty JSON with a trailing newline (the committed file's format).
pub fn spec_json() -> String {
    let mut s = spec().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
