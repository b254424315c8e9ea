//! Login, token refresh and logout.

use actix_web::{HttpRequest, HttpResponse, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::account::{self, Consumed, Role, Staff, Subject, User, Username};
use xinli_domain::throttle::{self, Limit};
use xinli_domain::validation;
use xinli_domain::wechat::WechatError;

use crate::auth::extract::client_ip;
use crate::auth::session::{self, IssuedTokens, hash_refresh_token};
use crate::dto::{Audience, StaffRoleName, cst};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::Json;
use crate::limits::{self, too_many};
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(wechat_login)
        .service(dev_login)
        .service(staff_login)
        .service(refresh)
        .service(logout);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "0a3Xk2000abcDEf1ghi3000jKlm4Xk2n"}))]
pub struct WechatLoginRequest {
    /// The code from `wx.login()`; valid once, for five minutes.
    #[schema(min_length = 1, max_length = 128)]
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"openid": "dev-user-1"}))]
pub struct DevLoginRequest {
    /// Any stable identifier standing in for a WeChat openid (letters, digits, `_`, `-`).
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_-]+$")]
    pub openid: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "counselor.wang", "password": "correct horse battery"}))]
pub struct StaffLoginRequest {
    #[schema(min_length = 1, max_length = 32)]
    pub username: String,
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "q8Vb0yF1r3kq4sN2zZ1d0nQpA6u9hXc7mTgLwE5oJ2s"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A resident's or worker's own profile.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d2-7c1e-7b6a-9f0e-2d4c1b8a9e01", "role": "user", "nickname": "小林",
    "audience_group": "worker", "created_at": "2026-11-22T09:30:00+08:00"
}))]
pub struct UserProfile {
    pub id: String,
    #[schema(value_type = UserRole)]
    pub role: &'static str,
    pub nickname: Option<String>,
    pub audience_group: Option<Audience>,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
}

impl From<&User> for UserProfile {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            role: "user",
            nickname: u.nickname.clone(),
            audience_group: u.audience_group.map(Audience::from),
            created_at: cst(u.created_at),
        }
    }
}

/// A counselor's or admin's profile as shown after login.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d2-8d2f-7c7b-8a1f-3e5d2c9b0f12", "role": "counselor",
    "username": "counselor.wang", "display_name": "王老师"
}))]
pub struct StaffProfile {
    pub id: String,
    pub role: StaffRoleName,
    pub username: String,
    pub display_name: String,
}

impl From<&Staff> for StaffProfile {
    fn from(s: &Staff) -> Self {
        Self {
            id: s.id.to_string(),
            role: s.role.into(),
            username: s.username.clone(),
            display_name: s.display_name.clone(),
        }
    }
}

/// Who the tokens belong to: a user profile or a staff profile (tell them apart by `role`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SessionAccount {
    User(UserProfile),
    Staff(StaffProfile),
}

/// A token pair. Send `access_token` as `Authorization: Bearer …`; when it expires
/// (`token_expired`), exchange `refresh_token` at `/auth/refresh`, once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMTkz…",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "q8Vb0yF1r3kq4sN2zZ1d0nQpA6u9hXc7mTgLwE5oJ2s",
    "refresh_expires_in": 2592000,
    "user": {"id": "0193a5d2-7c1e-7b6a-9f0e-2d4c1b8a9e01", "role": "user", "nickname": null,
             "audience_group": null, "created_at": "2026-11-22T09:30:00+08:00"}
}))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// Single use: each refresh returns a new one.
    pub refresh_token: String,
    /// Seconds until `refresh_token` expires if unused.
    pub refresh_expires_in: u64,
    pub user: SessionAccount,
}

fn token_response(tokens: IssuedTokens, user: SessionAccount) -> TokenResponse {
    TokenResponse {
        access_token: tokens.access_token,
        token_type: "Bearer",
        expires_in: tokens.expires_in,
        refresh_token: tokens.refresh_token,
        refresh_expires_in: tokens.refresh_expires_in,
        user,
    }
}

/// Counts a login attempt against the client's address, in one of three counters: `staff`
/// (passwords) and `dev` (dev mode's logins), each under the strict limit, or `wechat`. Staff
/// and dev logins are counted apart, so that a room of testers logging in through dev mode
/// does not lock the operators of the same office out.
async fn limit_client(
    state: &AppState,
    req: &HttpRequest,
    kind: &str,
    limit: Limit,
) -> ApiResult<()> {
    let ip = client_ip(req, state.config.trust_proxy);
    limits::hit(state, &format!("login:{kind}:ip"), ip, limit).await
}

async fn user_session(state: &AppState, user: &User) -> ApiResult<TokenResponse> {
    let tokens = session::issue(state, Subject::User(user.id), Role::User, None).await?;
    Ok(token_response(tokens, SessionAccount::User(user.into())))
}

/// Log in from the mini-program
///
/// Exchanges the code from `wx.login()` at WeChat's `jscode2session`; creates the user on
/// first login. WeChat's refusals become `wechat_code_invalid` (400), `wechat_rate_limited`
/// (429), `wechat_user_blocked` (403); WeChat's own trouble `wechat_busy`/`wechat_unavailable`
/// (503) or `wechat_failed` (502).
#[utoipa::path(
    operation_id = "login_wechat",
    tag = "auth",
    request_body = WechatLoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, description = "`wechat_code_invalid`, `malformed_json`", body = ErrorBody),
        (status = 403, description = "`wechat_user_blocked`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
        (status = 429, description = "`wechat_rate_limited`, `too_many_requests`", body = ErrorBody),
        (status = 502, description = "`wechat_failed`", body = ErrorBody),
        (status = 503, description = "`wechat_busy`, `wechat_unavailable`, `wechat_not_configured`", body = ErrorBody),
    )
)]
#[post("/auth/wechat")]
pub async fn wechat_login(
    state: State,
    req: HttpRequest,
    body: Json<WechatLoginRequest>,
) -> ApiResult<HttpResponse> {
    let code = validation::text("code", "登录凭证", &body.0.code, 1, 128)?;
    let limits = state.config.limits;
    limit_client(&state, &req, "wechat", limits.wechat_logins_per_ip).await?;
    // Codes WeChat refused, per address: real codes are not refused, guessed ones are.
    let failures = format!(
        "login:wechat-refused:ip:{}",
        client_ip(&req, state.config.trust_proxy)
    );
    throttle::check(
        state.cache.as_ref(),
        &failures,
        limits.wechat_failures_per_ip,
    )
    .await
    .map_err(too_many)?;
    let identity = match state.wechat.code_to_session(&code).await {
        Ok(identity) => identity,
        Err(e) => {
            if matches!(e, WechatError::InvalidCode(_)) {
                throttle::record_failure(
                    state.cache.as_ref(),
                    &failures,
                    limits.wechat_failures_per_ip,
                )
                .await;
            }
            return Err(e.into());
        }
    };
    let (user, created) = state
        .users
        .login_wechat(&identity, state.clock.now())
        .await?;
    if created {
        tracing::info!(user_id = %user.id, "new user registered");
    }
    Ok(HttpResponse::Ok().json(user_session(&state, &user).await?))
}

crate::dto::string_enum!(
    /// A resident's or worker's role: always `user`.
    UserRole,
    ["user"]
);

/// Dev-login openids are stored with this prefix: a real WeChat openid never contains `:`,
/// so a dev account can never be (or become) a real user's.
pub const DEV_OPENID_PREFIX: &str = "dev:";

/// Log in without WeChat (development only)
///
/// Exists only when `XINLI_DEV_MODE=true`; otherwise this path answers 404
/// `route_not_found` like any unknown path.
#[utoipa::path(
    operation_id = "login_dev",
    tag = "auth",
    request_body = DevLoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 404, description = "`route_not_found`: dev login is disabled", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`, with `Retry-After`", body = ErrorBody),
    )
)]
#[post("/auth/dev")]
pub async fn dev_login(
    state: State,
    req: HttpRequest,
    body: Json<DevLoginRequest>,
) -> ApiResult<HttpResponse> {
    if !state.config.dev_mode {
        return Err(ApiError::new(ErrorCode::RouteNotFound));
    }
    let openid = validation::text("openid", "openid", &body.0.openid, 1, 64)?;
    if !openid
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ApiError::field(
            "openid",
            "openid 只能包含字母、数字、_ 和 -",
        ));
    }
    limit_client(&state, &req, "dev", state.config.limits.logins_per_ip).await?;
    let identity = xinli_domain::wechat::WechatIdentity {
        openid: format!("{DEV_OPENID_PREFIX}{openid}"),
        unionid: None,
    };
    let (user, _) = state
        .users
        .login_wechat(&identity, state.clock.now())
        .await?;
    Ok(HttpResponse::Ok().json(user_session(&state, &user).await?))
}

/// Log in as a counselor, supervisor or admin
///
/// After 5 failed attempts an account is locked for 15 minutes (`too_many_requests` with
/// `Retry-After`), counted across all instances. A disabled account answers
/// `account_disabled` only once the password is right.
#[utoipa::path(
    operation_id = "login_staff",
    tag = "auth",
    request_body = StaffLoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody),
    )
)]
#[post("/auth/staff")]
pub async fn staff_login(
    state: State,
    req: HttpRequest,
    body: Json<StaffLoginRequest>,
) -> ApiResult<HttpResponse> {
    let StaffLoginRequest { username, password } = body.0;
    account::check_login_fields(&username, &password)?;
    let limits = state.config.limits;
    limit_client(&state, &req, "staff", limits.logins_per_ip).await?;

    let account_key = account::login_failure_key(&username);
    throttle::check(
        state.cache.as_ref(),
        &account_key,
        limits.login_failures_per_account,
    )
    .await
    .map_err(|e| {
        let minutes = e.retry_after.as_secs().div_ceil(60).max(1);
        ApiError::new(ErrorCode::TooManyRequests)
            .with_message(format!("登录失败次数过多，请 {minutes} 分钟后再试"))
            .retry_after(e.retry_after)
    })?;

    let staff = match Username::parse(&username) {
        Ok(name) => state.staff.find_by_username(&name).await?,
        Err(_) => None,
    };
    let hash = staff
        .as_ref()
        .map(|s| s.password_hash.clone())
        .unwrap_or_else(|| state.dummy_password_hash.clone());
    let password_ok = state.passwords.verify(&password, &hash).await;
    let staff = match account::login_outcome(staff, password_ok) {
        Ok(staff) => staff,
        Err(account::LoginRefusal::InvalidCredentials) => {
            throttle::record_failure(
                state.cache.as_ref(),
                &account_key,
                limits.login_failures_per_account,
            )
            .await;
            return Err(ApiError::new(ErrorCode::InvalidCredentials));
        }
        Err(account::LoginRefusal::Disabled) => {
            return Err(ApiError::new(ErrorCode::AccountDisabled));
        }
    };
    state.cache.delete(&account_key).await;
    state
        .staff
        .record_login(staff.id, state.clock.now())
        .await?;
    let tokens = session::issue(&state, Subject::Staff(staff.id), staff.role.role(), None).await?;
    Ok(HttpResponse::Ok().json(token_response(
        tokens,
        SessionAccount::Staff((&staff).into()),
    )))
}

/// Exchange a refresh token for a new token pair
///
/// Each refresh token works once. Presenting a spent token again revokes every token of
/// that login (it means the token was copied), and the person must log in again.
#[utoipa::path(
    operation_id = "refresh_tokens",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`, with `Retry-After`; the token is not spent", body = ErrorBody),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(state: State, body: Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let hash = hash_refresh_token(body.0.refresh_token.trim());
    // Counted per login before the token is spent, so that a refused refresh keeps it.
    if let Some(family) = state.refresh_tokens.family_of(&hash).await? {
        limits::hit(
            &state,
            "refresh",
            family,
            state.config.limits.refreshes_per_login,
        )
        .await?;
    }
    let now = state.clock.now();
    let invalid = || ApiError::new(ErrorCode::InvalidRefreshToken);
    let (subject, family) = match state.refresh_tokens.consume(&hash, now).await? {
        Consumed::Fresh { subject, family_id } => (subject, family_id),
        Consumed::Replayed { family_id } => {
            tracing::warn!(%family_id, "spent refresh token presented again; revoking its family");
            state.refresh_tokens.revoke_family(family_id, now).await?;
            return Err(invalid());
        }
        Consumed::Invalid => return Err(invalid()),
    };
    let response = match subject {
        Subject::User(id) => {
            let user = state.users.find_by_id(id).await?.ok_or_else(invalid)?;
            let tokens = session::issue(&state, subject, Role::User, Some(family)).await?;
            token_response(tokens, SessionAccount::User((&user).into()))
        }
        Subject::Staff(id) => {
            let staff = state.staff.find_by_id(id).await?.ok_or_else(invalid)?;
            if staff.disabled {
                return Err(ApiError::new(ErrorCode::AccountDisabled));
            }
            let tokens = session::issue(&state, subject, staff.role.role(), Some(family)).await?;
            token_response(tokens, SessionAccount::Staff((&staff).into()))
        }
    };
    Ok(HttpResponse::Ok().json(response))
}

/// Log out
///
/// Revokes the refresh token and every token descended from the same login. Answers 204
/// also for an unknown token, so that logging out twice is harmless.
#[utoipa::path(
    operation_id = "logout",
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Logged out"), (status = 422, body = ErrorBody))
)]
#[post("/auth/logout")]
pub async fn logout(state: State, body: Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let hash = hash_refresh_token(body.0.refresh_token.trim());
    if let Some(family) = state.refresh_tokens.family_of(&hash).await? {
        state
            .refresh_tokens
            .revoke_family(family, state.clock.now())
            .await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
