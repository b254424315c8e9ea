//! Liveness and readiness probes.

use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;
use xinli_domain::validation::Collector;

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::state::State;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "database": "sqlite", "cache": "memory"}))]
pub struct Ready {
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// `memory` or `redis`.
    pub cache: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "运维 ops", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database and the cache answer.
///
/// 503 `service_unavailable` names the failing dependency in `details`.
#[utoipa::path(
    tag = "运维 ops",
    responses(
        (status = 200, body = Ready),
        (status = 503, description = "A dependency does not answer", body = ErrorBody),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: State) -> ApiResult<HttpResponse> {
    let mut problems = Collector::new();
    if let Err(e) = xinli_infra::db::ping(&state.db).await {
        tracing::warn!(error = %e, "readiness: database does not answer");
        problems.push("database", "数据库无法连接");
    }
    if let Err(e) = state.cache.ping().await {
        tracing::warn!(error = %e, "readiness: cache does not answer");
        problems.push("cache", "缓存服务无法连接");
    }
    if let Err(failing) = problems.finish() {
        return Err(ApiError::new(ErrorCode::ServiceUnavailable).with_details(failing));
    }
    Ok(HttpResponse::Ok().json(Ready {
        status: "ready",
        database: if xinli_infra::db::is_sqlite(&state.config.database_url) {
            "sqlite"
        } else {
            "postgres"
        },
        cache: state.cache.backend(),
    }))
}
