//! Per-request context: a request id, the request's context on every log line written while
//! it is handled, one log line per request, and the guarantee that every error answer has the
//! JSON body of [`crate::error::ErrorBody`].
//!
//! The context is a task-local, not a `tracing` span: [`crate::telemetry::LineFormat`] writes
//! it at the head of each line exactly as the span `request{method=… path=… request_id=…}`
//! was written, without a span's cost on every request (creating it, formatting its fields,
//! entering and leaving it on every poll: about 6 % of a `/healthz` request, measured with
//! `perf`).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError, web};

use crate::error::{ApiError, ErrorCode, Rendered};
use crate::fallback::Unrouted;
use crate::startup::RouteLog;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The API docs page (Swagger UI, served from the binary): its own scripts and styles only
/// (its inline style attributes allowed), the spec fetched from this server, and never in a
/// frame of another site (#30).
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'";

/// What every log line written while handling a request says about it.
pub struct RequestContext {
    pub method: actix_web::http::Method,
    /// The URI as logged (only its path is written): a path with a secret in it (a join code)
    /// is replaced by its route pattern.
    pub uri: actix_web::http::Uri,
    pub id: String,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// The id of the request being handled, if called while handling one.
pub fn current_request_id() -> Option<String> {
    REQUEST.try_with(|r| r.id.clone()).ok()
}

/// Runs `f` with the request being handled, if called while handling one.
pub fn with_current<R>(f: impl FnOnce(&RequestContext) -> R) -> Option<R> {
    REQUEST.try_with(f).ok()
}

/// Accepts a caller's request id (from a gateway) when it is short and plain; otherwise
/// makes a new one (UUID v7: sortable by time, handy when reading logs).
fn request_id_for(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// Paths that carry a secret in their last segment (a screening's join code, which lets
/// anyone take part): logged as their route pattern, so that the secret never reaches a log
/// (#30).
const SECRET_LAST_SEGMENT: &[(&str, &str)] =
    &[("/api/v1/screenings/", "/api/v1/screenings/{code}")];

/// The URI as log lines show it: the route pattern instead of a secret path.
fn loggable(uri: &actix_web::http::Uri) -> actix_web::http::Uri {
    let path = uri.path();
    SECRET_LAST_SEGMENT
        .iter()
        .find(|(prefix, _)| path.len() > prefix.len() && path.starts_with(prefix))
        .map(|(_, pattern)| {
            // A pattern that were no URI would still not write the secret.
            pattern
                .parse()
                .unwrap_or_else(|_| actix_web::http::Uri::from_static("/"))
        })
        .unwrap_or_else(|| uri.clone())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let context = RequestContext {
        method: req.method().clone(),
        uri: loggable(req.uri()),
        id: request_id_for(&req),
    };
    let header = HeaderValue::from_str(&context.id).ok();
    within(context, handle(req, next, header)).await
}

/// Runs `f` as the handling of the request `context` describes.
pub(crate) async fn within<F: std::future::Future>(context: RequestContext, f: F) -> F::Output {
    REQUEST.scope(context, f).await
}

async fn handle(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    request_id: Option<HeaderValue>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    // Handlers and extractors turn their errors into responses inside the app, so `Err` here
    // would come from a broken inner service; it becomes an opaque 500 like any other fault,
    // rendered here (inside the request's context, so its body names the request) and with
    // the request id header. (The request cannot be cloned before routing to build a
    // response from it: the router needs it uniquely owned.)
    let mut response = match next.call(req).await {
        Ok(res) => uniform_error_body(res.map_into_boxed_body()),
        Err(err) => {
            let cause = ApiError::internal(err);
            let mut answer = cause.error_response();
            if let Some(v) = request_id {
                answer
                    .headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
            }
            return Err(actix_web::error::InternalError::from_response(cause, answer).into());
        }
    };
    if let Some(v) = request_id {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    let personal = carries_personal_data(response.request());
    let is_docs = response.request().path().starts_with("/docs");
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if personal {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if is_docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let route = response.request().match_pattern();
    let routed = response.request().extensions().get::<Unrouted>().is_none();
    if let (true, Some(pattern), Some(log)) = (
        routed,
        &route,
        response.request().app_data::<web::Data<RouteLog>>(),
    ) && let Ok(mut seen) = log.lock()
    {
        seen.insert((
            response.request().method().to_string(),
            pattern.clone(),
            status,
        ));
    }
    if response.status().is_server_error() {
        tracing::error!(
            status,
            latency_ms,
            route = route.as_deref(),
            "request failed"
        );
    } else {
        tracing::info!(status, latency_ms, route = route.as_deref(), "request");
    }
    Ok(response)
}

/// Whether an answer may hold tokens or personal data, so that no browser, proxy or CDN
/// keeps a copy: every answer to a request with a token (its content depends on who asks:
/// records, chats, results, `liked`), and every `/auth/*` answer (tokens).
fn carries_personal_data(req: &actix_web::HttpRequest) -> bool {
    req.headers().contains_key(header::AUTHORIZATION) || req.path().starts_with("/api/v1/auth/")
}

/// Replaces actix's own plain-text error answers (payload errors, panics turned into 500s,
/// anything not produced by [`ApiError`]) with the uniform JSON body.
fn uniform_error_body(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if status.as_u16() < 400 || res.response().extensions().get::<Rendered>().is_some() {
        return res;
    }
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::TooManyRequests,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::ServiceUnavailable,
        s if s.is_client_error() => ErrorCode::BadRequest,
        _ => {
            if let Some(err) = res.response().error() {
                tracing::error!(cause = %err, "unhandled error");
            }
            ErrorCode::Internal
        }
    };
    let (req, _) = res.into_parts();
    ServiceResponse::new(req, ApiError::new(code).error_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failure of an inner service (not a handler's error, which is an answer already)
    /// still answers the uniform body, naming the request in the body and the header.
    #[actix_web::test]
    async fn an_inner_service_failure_carries_the_request_id() {
        use actix_web::{App, HttpResponse, middleware::from_fn, test};
        let app = test::init_service(
            App::new()
                .wrap_fn(|_req, _srv| async {
                    Err::<ServiceResponse<BoxBody>, Error>(
                        actix_web::error::ErrorInternalServerError("boom"),
                    )
                })
                .wrap(from_fn(request_context))
                .default_service(web::to(HttpResponse::Ok)),
        )
        .await;
        let req = test::TestRequest::get().uri("/").to_request();
        let err = test::try_call_service(&app, req)
            .await
            .err()
            .map(|e| e.error_response());
        let Some(res) = err else {
            panic!("the inner failure did not come back as an error");
        };
        assert_eq!(res.status(), 500);
        let id = res
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(!id.is_empty(), "the header names the request");
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "internal_error");
        assert_eq!(body["request_id"], id.as_str());
        assert!(!body.to_string().contains("boom"), "no cause in the answer");
    }

    #[test]
    fn a_join_code_never_reaches_a_log_line() {
        let logged = |p: &str| loggable(&p.parse().unwrap()).path().to_owned();
        assert_eq!(
            logged("/api/v1/screenings/K7M3Q9TXA2"),
            "/api/v1/screenings/{code}"
        );
        assert_eq!(
            logged("/api/v1/screenings/K7M3Q9TXA2?x=1"),
            "/api/v1/screenings/{code}"
        );
        assert_eq!(logged("/api/v1/articles/x"), "/api/v1/articles/x");
        assert_eq!(logged("/api/v1/screenings/"), "/api/v1/screenings/");
    }
}
