//! Admin management of counselor and admin accounts. Accounts are disabled, never deleted:
//! consultation records keep pointing at the counselor who served them.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::account::{self, NewPassword, NewStaff, Staff, StaffChanges, Subject, Username};
use xinli_domain::audit::AuditAction;
use xinli_domain::validation::Collector;

use crate::auth::AdminCaller;
use crate::dto::{Paged, ReadOnly, StaffRoleName, cst};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, PageParams, Query, parse_id};
use crate::state::State;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_staff)
        .service(list_staff)
        .service(get_staff)
        .service(update_staff);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "username": "counselor.wang", "password": "correct horse battery",
    "role": "counselor", "display_name": "王老师"
}))]
pub struct CreateStaffRequest {
    /// 3–32 characters of `a-z 0-9 _ . -`; case-insensitive.
    #[schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9_.-]+$")]
    pub username: String,
    /// 10–128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    pub role: StaffRoleName,
    /// 1–32 characters, shown to users and colleagues.
    #[schema(min_length = 1, max_length = 32)]
    pub display_name: String,
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "王老师（二级咨询师）", "disabled": false}))]
pub struct UpdateStaffRequest {
    #[schema(min_length = 1, max_length = 32)]
    pub display_name: Option<String>,
    pub role: Option<StaffRoleName>,
    /// Disabling ends the account's sessions at once.
    pub disabled: Option<bool>,
    /// Sets a new password and ends the account's sessions.
    #[schema(min_length = 10, max_length = 128)]
    pub password: Option<String>,
    /// Read-only fields of `StaffView`: accepted so that a GET can be edited and sent back,
    /// and ignored (the username cannot be changed).
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub id: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub username: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub created_at: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub updated_at: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub last_login_at: ReadOnly,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d2-8d2f-7c7b-8a1f-3e5d2c9b0f12", "username": "counselor.wang",
    "role": "counselor", "display_name": "王老师", "disabled": false,
    "created_at": "2026-11-01T08:00:00+08:00", "updated_at": "2026-11-01T08:00:00+08:00",
    "last_login_at": null
}))]
pub struct StaffView {
    pub id: String,
    pub username: String,
    pub role: StaffRoleName,
    pub display_name: String,
    pub disabled: bool,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    pub last_login_at: Option<DateTime<FixedOffset>>,
}

impl From<&Staff> for StaffView {
    fn from(s: &Staff) -> Self {
        Self {
            id: s.id.to_string(),
            username: s.username.clone(),
            role: s.role.into(),
            display_name: s.display_name.clone(),
            disabled: s.disabled,
            created_at: cst(s.created_at),
            updated_at: cst(s.updated_at),
            last_login_at: s.last_login_at.map(cst),
        }
    }
}

/// Create a counselor, supervisor or admin account
#[utoipa::path(
    operation_id = "admin_create_staff",
    tag = "admin",
    security(("bearer" = [])),
    request_body = CreateStaffRequest,
    responses(
        (status = 201, body = StaffView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
        (status = 409, description = "`username_taken`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/admin/staff")]
pub async fn create_staff(
    state: State,
    admin: AdminCaller,
    body: Json<CreateStaffRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let mut c = Collector::new();
    let username = c.check(Username::parse(&req.username));
    let password = c.check(NewPassword::parse(&req.password));
    let display_name = c.check(account::parse_display_name(&req.display_name));
    c.finish()?;
    let (Some(username), Some(password), Some(display_name)) = (username, password, display_name)
    else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let password_hash = state.passwords.hash(&password).await?;
    let staff = state
        .staff
        .create(
            NewStaff {
                username,
                password_hash,
                role: req.role.into(),
                display_name,
            },
            state.clock.now(),
        )
        .await?;
    super::admin_audit::record_admin_change(
        &state,
        admin.account.id,
        AuditAction::CreateStaff,
        staff.id.to_string(),
    )
    .await?;
    tracing::info!(admin_id = %admin.account.id, staff_id = %staff.id, role = staff.role.as_str(), "staff account created");
    Ok(HttpResponse::Created().json(StaffView::from(&staff)))
}

/// List counselor and admin accounts
#[utoipa::path(
    operation_id = "admin_list_staff",
    tag = "admin",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Paged<StaffView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/staff")]
pub async fn list_staff(
    state: State,
    _admin: AdminCaller,
    query: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = state.staff.list(query.0.parse()?).await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |s| StaffView::from(&s))))
}

/// One staff account
#[utoipa::path(
    operation_id = "admin_get_staff",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Staff id")),
    responses(
        (status = 200, body = StaffView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/admin/staff/{id}")]
pub async fn get_staff(
    state: State,
    _admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let staff = state
        .staff
        .find_by_id(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(StaffView::from(&staff)))
}

/// Change, disable or re-enable a staff account
///
/// Admins cannot disable or demote themselves (`cannot_modify_self`). Disabling, a new
/// password or a new role ends the account's sessions.
#[utoipa::path(
    operation_id = "admin_update_staff",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Staff id")),
    request_body = UpdateStaffRequest,
    responses(
        (status = 200, body = StaffView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`cannot_modify_self`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[put("/admin/staff/{id}")]
pub async fn update_staff(
    state: State,
    admin: AdminCaller,
    id: web::Path<String>,
    body: Json<UpdateStaffRequest>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let req = body.0;
    let mut c = Collector::new();
    let display_name = req
        .display_name
        .as_deref()
        .and_then(|n| c.check(account::parse_display_name(n)));
    let password = req
        .password
        .as_deref()
        .and_then(|p| c.check(NewPassword::parse(p)));
    c.finish()?;

    let target = state
        .staff
        .find_by_id(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut changes = StaffChanges {
        display_name,
        role: req.role.map(Into::into),
        disabled: req.disabled,
        password_hash: None,
    };
    if changes.locks_out_self(admin.account.id, &target) {
        return Err(ApiError::new(ErrorCode::CannotModifySelf));
    }
    if let Some(p) = password {
        changes.password_hash = Some(state.passwords.hash(&p).await?);
    }
    let now = state.clock.now();
    let staff = state
        .staff
        .update(id, &changes, now)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if changes.ends_sessions() {
        state
            .refresh_tokens
            .revoke_subject(Subject::Staff(id), now)
            .await?;
    }
    let effects = account::effects_of_change(&target, &staff);
    if effects.release_consultations {
        crate::jobs::release_counselor(&state, id, now).await?;
    }
    if effects.leave_rosters {
        state.stations.remove_from_duty(id).await?;
    }
    super::admin_audit::record_admin_change(
        &state,
        admin.account.id,
        AuditAction::UpdateStaff,
        id.to_string(),
    )
    .await?;
    tracing::info!(admin_id = %admin.account.id, staff_id = %id, "staff account updated");
    Ok(HttpResponse::Ok().json(StaffView::from(&staff)))
}
