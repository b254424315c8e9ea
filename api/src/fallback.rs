//! Answers for requests no route takes: 405 with `Allow` when the path exists with other
//! methods, 404 `route_not_found` otherwise.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi;

use crate::error::{ApiError, ErrorCode};

/// The paths and methods of the spec, for telling 404 from 405.
pub struct RouteTable(Vec<(ResourceDef, Vec<String>)>);

impl RouteTable {
    pub fn from_spec(spec: &OpenApi) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = serde_json::to_value(item)
                    .ok()
                    .and_then(|v| v.as_object().cloned())
                    .map(|o| {
                        o.keys()
                            .filter(|k| {
                                matches!(
                                    k.as_str(),
                                    "get"
                                        | "put"
                                        | "post"
                                        | "delete"
                                        | "patch"
                                        | "head"
                                        | "options"
                                )
                            })
                            .map(|k| k.to_uppercase())
                            .collect()
                    })
                    .unwrap_or_default();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self(routes)
    }

    fn allowed(&self, path: &str) -> Option<&[String]> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, m)| m.as_slice())
    }
}

/// Marks a request that no route took (`match_pattern()` may still name a pattern whose path
/// matched but whose method did not).
#[derive(Debug, Clone, Copy)]
pub struct Unrouted;

pub async fn fallback(
    req: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    req.extensions_mut().insert(Unrouted);
    Err(match routes.allowed(req.path()) {
        Some(methods)
            if !methods.iter().any(|m| m == req.method().as_str())
                && *req.method() != Method::HEAD =>
        {
            ApiError::new(ErrorCode::MethodNotAllowed).allow(methods.join(", "))
        }
        _ => ApiError::new(ErrorCode::RouteNotFound),
    })
}
