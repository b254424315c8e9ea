//! Extractors for authenticated callers. A handler states who may call it by the type of one
//! argument: [`UserCaller`], [`CounselorCaller`], [`AdminCaller`], or [`Caller`] for any
//! logged-in role, [`OptionalCaller`] for routes open to everyone that read a token when
//! one is sent.
//!
//! Staff extractors, and [`Caller`] for a staff token, re-read the account on every request, so
//! that disabling a counselor or demoting an admin takes effect at once rather than when their
//! access token expires. User extractors ask whether the account still exists (cached, and
//! told at once of a deletion), so that a deleted account's token is refused everywhere.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use uuid::Uuid;
use xinli_domain::account::{Role, Staff, StaffRole};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Any authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub id: Uuid,
    pub role: Role,
}

/// A resident or worker logged in through WeChat (role `user`).
#[derive(Debug, Clone, Copy)]
pub struct UserCaller {
    pub id: Uuid,
}

/// An enabled counselor account.
#[derive(Debug, Clone)]
pub struct CounselorCaller {
    pub account: Staff,
}

/// An enabled admin account.
#[derive(Debug, Clone)]
pub struct AdminCaller {
    pub account: Staff,
}

/// An enabled supervisor (督导) account.
#[derive(Debug, Clone)]
pub struct SupervisorCaller {
    pub account: Staff,
}

/// An enabled staff account of any role; the handler decides what each role may do.
#[derive(Debug, Clone)]
pub struct StaffCaller {
    pub account: Staff,
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("AppState missing from app data"))
}

fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::new(ErrorCode::TokenInvalid))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(ApiError::new(ErrorCode::TokenInvalid)),
    }
}

fn caller(req: &HttpRequest) -> Result<Option<Caller>, ApiError> {
    let Some(token) = bearer(req)? else {
        return Ok(None);
    };
    let verified = state(req)?.tokens.verify(&token)?;
    Ok(Some(Caller {
        id: verified.id,
        role: verified.role,
    }))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    /// A staff caller's account is re-read too: a disabled counselor loses even the routes
    /// open to any role (their consultations, chats) at once.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found =
            caller(req).and_then(|c| c.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated)));
        let state = state(req);
        Box::pin(async move {
            let caller = found?;
            let role = match caller.role {
                Role::User => {
                    existing_user(&*state?, caller.id).await?;
                    return Ok(caller);
                }
                Role::Counselor => StaffRole::Counselor,
                Role::Supervisor => StaffRole::Supervisor,
                Role::Admin => StaffRole::Admin,
            };
            enabled_staff(&*state?, caller.id, role).await?;
            Ok(caller)
        })
    }
}

/// For routes open to everyone that answer more to a logged-in caller (an article's `liked`,
/// a dial counted per user). No token: `None`. A token that is expired, forged or whose
/// account is gone is refused (401) rather than silently treated as anonymous, so that a
/// client learns at once that it must log in again. (actix's `Option<Caller>` would turn
/// any refusal into `None`.)
#[derive(Debug, Clone, Copy)]
pub struct OptionalCaller(pub Option<Caller>);

impl FromRequest for OptionalCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !req.headers().contains_key(header::AUTHORIZATION) {
            return Box::pin(std::future::ready(Ok(OptionalCaller(None))));
        }
        let caller = Caller::from_request(req, payload);
        Box::pin(async move { caller.await.map(|c| OptionalCaller(Some(c))) })
    }
}

impl FromRequest for UserCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = match caller(req) {
            Ok(Some(Caller {
                id,
                role: Role::User,
            })) => Ok(id),
            Ok(Some(_)) => Err(ApiError::forbidden()),
            Ok(None) => Err(ApiError::new(ErrorCode::Unauthenticated)),
            Err(e) => Err(e),
        };
        let state = state(req);
        Box::pin(async move {
            let id = found?;
            existing_user(&*state?, id).await?;
            Ok(UserCaller { id })
        })
    }
}

/// A user token whose account was deleted is refused at once, on every route (the check
/// is cached; see `UserPresence`).
async fn existing_user(state: &AppState, id: Uuid) -> Result<(), ApiError> {
    if state.user_presence.exists(id).await? {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::TokenInvalid))
    }
}

/// The staff account `id`, if it still exists, is enabled and still has `role`.
async fn enabled_staff(state: &AppState, id: Uuid, role: StaffRole) -> Result<Staff, ApiError> {
    let staff = state
        .staff
        .find_by_id(id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::TokenInvalid))?;
    if staff.disabled {
        return Err(ApiError::new(ErrorCode::AccountDisabled));
    }
    if staff.role != role {
        return Err(ApiError::forbidden());
    }
    Ok(staff)
}

/// Loads the staff account behind the token and checks it is enabled and has `role`.
fn staff_with_role(
    req: &HttpRequest,
    role: StaffRole,
) -> Pin<Box<dyn Future<Output = Result<Staff, ApiError>>>> {
    let found =
        caller(req).and_then(|c| c.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated)));
    let state = state(req);
    Box::pin(async move {
        let caller = found?;
        if caller.role != role.role() {
            return Err(ApiError::forbidden());
        }
        enabled_staff(&*state?, caller.id, role).await
    })
}

impl FromRequest for CounselorCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = staff_with_role(req, StaffRole::Counselor);
        Box::pin(async move { fut.await.map(|account| CounselorCaller { account }) })
    }
}

impl FromRequest for AdminCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = staff_with_role(req, StaffRole::Admin);
        Box::pin(async move { fut.await.map(|account| AdminCaller { account }) })
    }
}

impl FromRequest for SupervisorCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = staff_with_role(req, StaffRole::Supervisor);
        Box::pin(async move { fut.await.map(|account| SupervisorCaller { account }) })
    }
}

impl FromRequest for StaffCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found =
            caller(req).and_then(|c| c.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated)));
        let state = state(req);
        Box::pin(async move {
            let caller = found?;
            let role = match caller.role {
                Role::User => return Err(ApiError::forbidden()),
                Role::Counselor => StaffRole::Counselor,
                Role::Supervisor => StaffRole::Supervisor,
                Role::Admin => StaffRole::Admin,
            };
            enabled_staff(&*state?, caller.id, role)
                .await
                .map(|account| StaffCaller { account })
        })
    }
}

/// The client's address, for per-client limits. `X-Forwarded-For` is only believed when the
/// operator says a proxy sets it, and then only its last entry: the one our proxy appended.
/// Earlier entries (and a `Forwarded` header) come from the client and could be anything.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> String {
    if trust_proxy
        && let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|ip| !ip.is_empty())
    {
        return ip.to_owned();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
