//! The OpenAPI document: assembled from the same route registrations the server uses, so it
//! cannot miss a route registered with `.service()`.

use actix_web::App;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Spec, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{ErrorBody, ErrorCode, FieldErrorBody};
use crate::request_context::REQUEST_ID_HEADER;
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
        (name = "ops", description = "运维: liveness and readiness"),
        (name = "meta", description = "界面文字: the words to show for each status and closed set of values"),
        (name = "auth", description = "账号: login, tokens and the user's own account"),
        (name = "hotlines", description = "热线一键拨打: the hotline directory and dial taps"),
        (name = "articles", description = "科普: science articles, search, likes and favourites"),
        (name = "assessments", description = "心理测评: screening scales, results, history and trends"),
        (name = "consultations", description = "在线咨询: requests, chat and rating, for the person asking for help"),
        (name = "counselor", description = "咨询师: the counselors' queue, claims, close and transfer"),
        (name = "stations", description = "站点预约: counseling stations, sessions, bookings and the waitlist"),
        (name = "lectures", description = "讲座点单: the lecture menu, units' requests and the organiser's review"),
        (name = "staff", description = "站点值班: a station's day sheet and attendance, for counselors on duty and admins"),
        (name = "supervision", description = "督导: risk-word alerts for supervisors, the risk lexicon and alert figures for admins"),
        (name = "admin", description = "管理: operator and admin functions"),
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
    spec.servers = Some(vec![
        utoipa::openapi::ServerBuilder::new()
            .url(DEFAULT_SERVER)
            .description(Some(
                "Local development (`cargo run --bin xinli`); a deployment serves its own URL (XINLI_PUBLIC_URL) at /api-docs/openapi.json",
            ))
            .build(),
    ]);
    conventions(&mut spec);
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

/// The server named in the committed spec.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// The spec a running server serves: `servers` is its public URL when configured.
pub fn spec_for(public_url: Option<&str>) -> Spec {
    let mut spec = spec();
    if let Some(url) = public_url {
        spec.servers = Some(vec![utoipa::openapi::Server::new(url)]);
    }
    spec
}

/// What every operation has in common, stated once here rather than on 60 handlers:
/// - `security`: public routes say `[]`; routes that read a token when one is sent say so
///   in their own annotation (`security((), ("bearer" = []))`);
/// - the error statuses the shared machinery answers (extractors, limits, faults), each with
///   the `code` values it carries, added where the handler did not declare them;
/// - the `x-request-id` header on every response, `Retry-After` on every 429.
fn conventions(spec: &mut Spec) {
    use utoipa::openapi::path::ParameterIn;

    // Pages reference their item schema instead of a copy of it (utoipa inlines generic
    // parameters: juhaku/utoipa#1586), so that a generated client has one type per item.
    if let Some(components) = spec.components.as_mut() {
        let names: Vec<String> = components.schemas.keys().cloned().collect();
        for (name, schema) in components.schemas.iter_mut() {
            if let Some(item) = name.strip_prefix("Paged_")
                && names.iter().any(|n| n == item)
                && let RefOr::T(Schema::Object(page)) = schema
            {
                page.properties.insert(
                    "items".to_owned(),
                    ArrayBuilder::new()
                        .items(Ref::from_schema_name(item))
                        .into(),
                );
            }
        }
    }

    for item in spec.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let requirements = op.security.get_or_insert_with(Vec::new);
            let token = !requirements.is_empty();
            let optional = token
                && requirements
                    .iter()
                    .any(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})));
            let body = op.request_body.is_some();
            let query = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query))
            });
            let mut shared: Vec<(&str, &str)> = Vec::new();
            if body {
                shared.push(("400", "`malformed_json`: the body is not valid JSON"));
                shared.push((
                    "413",
                    "`payload_too_large`: the body is over 1 MiB (32 MiB for imports)",
                ));
                shared.push((
                    "415",
                    "`unsupported_media_type`: a body that is not `application/json`",
                ));
            }
            if token {
                shared.push((
                    "401",
                    "`unauthenticated`, `token_invalid` (also: the account was deleted), `token_expired`",
                ));
            }
            if token && !optional {
                shared.push((
                    "403",
                    "`forbidden` (another role's route), `account_disabled`",
                ));
            }
            if body || query {
                shared.push(("422", "`validation_failed`: `details` names each field"));
            }
            shared.push((
                "500",
                "`internal`: a fault on our side; quote the request id",
            ));
            shared.push((
                "503",
                "`service_unavailable`: the database does not answer for a moment; try again after `Retry-After` seconds",
            ));
            for (status, description) in shared {
                match op.responses.responses.get_mut(status) {
                    Some(RefOr::T(existing)) if existing.description.is_empty() => {
                        existing.description = description.to_owned();
                    }
                    Some(_) => {}
                    None => {
                        op.responses
                            .responses
                            .insert(status.to_owned(), RefOr::T(error_response(description)));
                    }
                }
            }
            for (status, response) in op.responses.responses.iter_mut() {
                if let RefOr::T(response) = response {
                    if response.description.is_empty() {
                        response.description = default_description(status).to_owned();
                    }
                    response
                        .headers
                        .insert(REQUEST_ID_HEADER.to_owned(), request_id_header());
                    let retry = match status.as_str() {
                        "429" => Some("Seconds until the limit allows another try"),
                        "503" => Some("Seconds to wait before trying again"),
                        _ => None,
                    };
                    if let Some(description) = retry {
                        response.headers.insert(
                            "retry-after".to_owned(),
                            HeaderBuilder::new()
                                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                                .description(Some(description))
                                .build(),
                        );
                    }
                }
            }
        }
    }
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

fn request_id_header() -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(
            "This request's id (also in error bodies); quote it when reporting a problem",
        ))
        .build()
}

fn default_description(status: &str) -> &'static str {
    match status {
        "200" | "201" => "OK",
        "204" => "Done; no body",
        "401" => "`unauthenticated`, `token_invalid`, `token_expired`",
        "403" => "`forbidden`",
        "404" => "`not_found`: no such record, or not the caller's",
        "409" => "A conflict with the record's state; `code` says which",
        "422" => "`validation_failed`: `details` names each field",
        "429" => "`too_many_requests`, with `Retry-After`",
        _ => "See `code`",
    }
}

/// The spec as pretty JSON with a trailing newline (the committed file's format).
pub fn spec_json() -> String {
    let mut s = spec().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
