//! Liveness and readiness probes.

use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;
use xinli_domain::validation::Collector;

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::state::State;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct HealthStatus {
    #[schema(value_type = Alive)]
    pub status: &'static str,
}

crate::dto::string_enum!(
    /// Always `ok` when the process answers.
    Alive,
    ["ok"]
);
crate::dto::string_enum!(
    /// Always `ready` when the dependencies answer (otherwise the answer is a 503).
    Readiness,
    ["ready"]
);
crate::dto::string_enum!(
    /// Which database the service runs on.
    DatabaseKind,
    ["sqlite", "postgres"]
);
crate::dto::string_enum!(
    /// Which cache the service runs on.
    CacheKind,
    ["memory", "redis"]
);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "database": "sqlite", "cache": "memory"}))]
pub struct ReadyStatus {
    #[schema(value_type = Readiness)]
    pub status: &'static str,
    #[schema(value_type = DatabaseKind)]
    pub database: &'static str,
    #[schema(value_type = CacheKind)]
    pub cache: &'static str,
}

/// The process is up.
#[utoipa::path(
    operation_id = "healthz",
    tag = "ops", responses((status = 200, body = HealthStatus)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// The database and the cache answer.
///
/// 503 `service_unavailable` names the failing dependency in `details`.
#[utoipa::path(
    operation_id = "readyz",
    tag = "ops",
    responses(
        (status = 200, body = ReadyStatus),
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
    Ok(HttpResponse::Ok().json(ReadyStatus {
        status: "ready",
        database: if xinli_infra::db::is_sqlite(&state.config.database_url) {
            "sqlite"
        } else {
            "postgres"
        },
        cache: state.cache.backend(),
    }))
}
