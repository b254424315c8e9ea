//! The one error type of the HTTP layer and the table of stable error codes.
//!
//! Every 4xx/5xx answer has the body [`ErrorBody`]: a stable snake_case `code` for programs,
//! a Chinese `message` the mini-program can show as is, the `request_id` to quote to support,
//! and, for validation errors, `details` per field. A new error condition is a new row in
//! [`ErrorCode`]: its status and message live there and nowhere else.

use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use xinli_domain::station::{BookingError, Refusal};
use xinli_domain::wechat::WechatError;
use xinli_domain::{Conflict, FieldError, RepoError, ValidationError};

use crate::request_context;

macro_rules! error_codes {
    ($( $(#[$meta:meta])* $variant:ident => ($status:expr, $code:literal, $message:literal), )+) => {
        /// Stable, machine-readable error codes. Programs branch on these; the wording of
        /// `message` may improve over time, the codes do not change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[$meta])* $variant, )+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => $status,)+ }
            }

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            /// The default Chinese message shown to the user.
            pub fn message(self) -> &'static str {
                match self { $(ErrorCode::$variant => $message,)+ }
            }
        }
    };
}

error_codes! {
    /// The request could not be understood (bad query string, bad header).
    BadRequest => (StatusCode::BAD_REQUEST, "bad_request", "请求格式不正确，请检查后重试"),
    /// The body is not valid JSON.
    MalformedJson => (StatusCode::BAD_REQUEST, "malformed_json", "请求内容不是有效的 JSON"),
    /// The body or query parsed, but a field is missing, of the wrong type or out of range;
    /// `details` names each field.
    ValidationFailed => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "提交的内容有误，请检查后重试"),
    /// No bearer token was sent.
    Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", "请先登录"),
    /// The access token has expired: refresh it with the refresh token.
    TokenExpired => (StatusCode::UNAUTHORIZED, "token_expired", "登录已过期，请重新登录"),
    /// The access token is malformed, forged or of another algorithm.
    TokenInvalid => (StatusCode::UNAUTHORIZED, "token_invalid", "登录状态无效，请重新登录"),
    /// Wrong username or password (deliberately not saying which).
    InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials", "用户名或密码错误"),
    /// The refresh token is unknown, expired, revoked or was already used.
    InvalidRefreshToken => (StatusCode::UNAUTHORIZED, "invalid_refresh_token", "登录已失效，请重新登录"),
    /// The staff account has been disabled by an admin.
    AccountDisabled => (StatusCode::FORBIDDEN, "account_disabled", "该账号已停用，请联系管理员"),
    /// The caller's role may not use this route.
    Forbidden => (StatusCode::FORBIDDEN, "forbidden", "没有权限执行此操作"),
    /// The record does not exist or is not the caller's (ids cannot be probed).
    NotFound => (StatusCode::NOT_FOUND, "not_found", "请求的内容不存在"),
    /// No route has this path.
    RouteNotFound => (StatusCode::NOT_FOUND, "route_not_found", "请求的接口不存在"),
    /// The path exists but not with this method; the `Allow` header lists the methods.
    MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "该接口不支持此请求方法"),
    /// The username is already taken by another staff account.
    UsernameTaken => (StatusCode::CONFLICT, "username_taken", "该用户名已被使用"),
    /// An admin tried to disable or demote their own account.
    CannotModifySelf => (StatusCode::CONFLICT, "cannot_modify_self", "不能停用自己的账号或取消自己的管理员权限"),
    /// The user already has a waiting or active consultation.
    ConsultationOpen => (StatusCode::CONFLICT, "consultation_open", "你已有一个正在进行的咨询请求，请在原对话中继续"),
    /// The consultation is not in a state that allows this (see `message`).
    InvalidTransition => (StatusCode::CONFLICT, "invalid_transition", "该咨询当前的状态不允许此操作"),
    /// The counselor must be online to claim.
    CounselorOffline => (StatusCode::CONFLICT, "counselor_offline", "请先将状态设为在线再接待"),
    /// The counselor already serves as many people as their capacity.
    AtCapacity => (StatusCode::CONFLICT, "at_capacity", "已达到同时接待的人数上限"),
    /// The target counselor of a transfer is not an online counselor.
    TransferTargetUnavailable => (StatusCode::CONFLICT, "transfer_target_unavailable", "对方咨询师不在线，无法转接"),
    /// The consultation has been rated already.
    AlreadyRated => (StatusCode::CONFLICT, "already_rated", "你已经评价过这次咨询"),
    /// Every seat of the session is taken; the person may join its waitlist.
    SlotFull => (StatusCode::CONFLICT, "slot_full", "该时段已约满，可以加入候补"),
    /// One booking per day, or the number of upcoming bookings, reached (see `message`).
    BookingLimit => (StatusCode::CONFLICT, "booking_limit", "已达到预约次数上限"),
    /// Repeated no-shows paused booking; `until` says until when.
    BookingPaused => (StatusCode::CONFLICT, "booking_paused", "因多次预约后未到场，预约功能暂停使用"),
    /// No session of this station starts at that time.
    SlotNotFound => (StatusCode::UNPROCESSABLE_ENTITY, "slot_not_found", "没有这个预约时段，请刷新后重新选择"),
    /// Before the minimum notice or beyond the booking window.
    OutsideBookingWindow => (StatusCode::UNPROCESSABLE_ENTITY, "outside_booking_window", "该时段不在可预约的时间范围内"),
    /// The station is closed that day (`message` gives the reason).
    StationClosed => (StatusCode::CONFLICT, "station_closed", "该站点当天停诊"),
    /// The station is inactive or its hours are not published yet.
    StationNotBookable => (StatusCode::CONFLICT, "station_not_bookable", "该站点暂未开放网上预约"),
    /// The session has a free seat: book it instead of joining the waitlist.
    SlotAvailable => (StatusCode::CONFLICT, "slot_available", "该时段还有名额，请直接预约"),
    /// Already waiting for, or holding a seat in, this session.
    AlreadyWaiting => (StatusCode::CONFLICT, "already_waiting", "你已在该时段的候补队列中或已有预约"),
    /// Already waiting for as many future sessions as allowed.
    WaitlistLimit => (StatusCode::CONFLICT, "waitlist_limit", "候补的时段已达上限，请先退出其他候补"),
    /// The cancel deadline has passed.
    TooLateToCancel => (StatusCode::CONFLICT, "too_late_to_cancel", "已过取消截止时间，如不能到场请联系站点"),
    /// The booking's state does not allow this (cancelled, already marked).
    BookingNotActive => (StatusCode::CONFLICT, "booking_not_active", "该预约当前的状态不允许此操作"),
    /// Attendance is marked from the session's start.
    AttendanceTooEarly => (StatusCode::CONFLICT, "attendance_too_early", "咨询开始后才能登记到场情况"),
    /// The lecture request's state does not allow this step (see `message`).
    LectureRequestState => (StatusCode::CONFLICT, "lecture_request_state", "该申请当前的状态不允许此操作"),
    /// The result is not a screening result that offers one-to-one counseling.
    ReferralNotOffered => (StatusCode::CONFLICT, "referral_not_offered", "这个结果不在可转介的范围内，你仍可以直接申请在线咨询"),
    /// The service has not taken place yet (a consultation not closed, a session not attended).
    SurveyNotOpen => (StatusCode::CONFLICT, "survey_not_open", "服务结束后才能填写评价"),
    /// This scale was already taken in this screening.
    AlreadyScreened => (StatusCode::CONFLICT, "already_screened", "你已在本次普查中完成过这个量表"),
    /// A supervisor already acknowledged this risk alert.
    AlertAcknowledged => (StatusCode::CONFLICT, "alert_acknowledged", "这条风险提示已由其他督导确认处理"),
    /// Only an attended session can be rated.
    NotAttended => (StatusCode::CONFLICT, "not_attended", "到场咨询后才能评价"),
    /// The body is larger than 1 MiB.
    PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "提交的内容过大"),
    /// The body is not `application/json`.
    UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "请求内容须为 JSON（Content-Type: application/json）"),
    /// Too many attempts; the `Retry-After` header says when to try again.
    TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "操作过于频繁，请稍后再试"),
    /// WeChat says the login code is invalid or already used (errcode 40029, 40163).
    WechatCodeInvalid => (StatusCode::BAD_REQUEST, "wechat_code_invalid", "微信登录凭证无效或已过期，请重新进入小程序"),
    /// WeChat limits this user's login frequency (errcode 45011).
    WechatRateLimited => (StatusCode::TOO_MANY_REQUESTS, "wechat_rate_limited", "登录过于频繁，请稍后再试"),
    /// WeChat's risk control blocks this user (errcode 40226).
    WechatUserBlocked => (StatusCode::FORBIDDEN, "wechat_user_blocked", "该微信账号暂时无法登录，请稍后再试或改用热线电话求助"),
    /// WeChat is busy (errcode -1); try again in a moment.
    WechatBusy => (StatusCode::SERVICE_UNAVAILABLE, "wechat_busy", "微信服务繁忙，请稍后再试"),
    /// WeChat could not be reached in time.
    WechatUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "wechat_unavailable", "暂时无法连接微信服务，请稍后再试"),
    /// WeChat answered with an unexpected error.
    WechatFailed => (StatusCode::BAD_GATEWAY, "wechat_failed", "微信登录暂时出现问题，请稍后再试"),
    /// This deployment has no WeChat credentials configured.
    WechatNotConfigured => (StatusCode::SERVICE_UNAVAILABLE, "wechat_not_configured", "微信登录暂未开通"),
    /// A dependency (database, cache) does not answer.
    ServiceUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", "服务暂时不可用，请稍后再试"),
    /// Something failed on our side; the cause is logged under the request id.
    #[serde(rename = "internal_error")]
    Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "服务暂时出了点问题，请稍后再试"),
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "validation_failed",
    "message": "提交的内容有误，请检查后重试",
    "request_id": "0193a5d2-7c1e-7b6a-9f0e-2d4c1b8a9e01",
    "details": [{"field": "nickname", "message": "昵称不能超过 32 个字"}]
}))]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// Chinese, written for the person using the mini-program.
    pub message: String,
    /// Also in the `x-request-id` header; quote it when reporting a problem.
    pub request_id: String,
    /// For `validation_failed`: one entry per offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldErrorBody>>,
    /// For `booking_paused`: when booking opens again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2026-12-20T09:00:00+08:00")]
    pub until: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// One field's problem.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"field": "answers[3]", "message": "选项序号超出范围"}))]
pub struct FieldErrorBody {
    /// Path of the field in the request, for example `nickname` or `answers[3]`.
    pub field: String,
    pub message: String,
}

impl From<FieldError> for FieldErrorBody {
    fn from(e: FieldError) -> Self {
        Self {
            field: e.field,
            message: e.message,
        }
    }
}

/// An error on its way to becoming an HTTP answer.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    message: Option<String>,
    details: Option<Vec<FieldError>>,
    retry_after: Option<Duration>,
    allow: Option<String>,
    until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Marks a response rendered from [`ApiError`], so that the request-context middleware can
/// recognise answers that still need the uniform body (actix's own plain-text errors).
#[derive(Debug, Clone, Copy)]
pub struct Rendered;

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: None,
            details: None,
            retry_after: None,
            allow: None,
            until: None,
        }
    }

    /// When a pause ends (`booking_paused`).
    pub fn until(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.until = Some(at);
        self
    }

    /// A more specific Chinese message than the code's default.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    pub fn allow(mut self, methods: String) -> Self {
        self.allow = Some(methods);
        self
    }

    /// Field-level details; used by `validation_failed` and by readiness failures.
    pub fn with_details(mut self, errors: ValidationError) -> Self {
        self.details = Some(errors.0);
        self
    }

    pub fn validation(errors: ValidationError) -> Self {
        Self::new(ErrorCode::ValidationFailed).with_details(errors)
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(ValidationError::single(field, message))
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden)
    }

    /// An internal failure. The cause is logged here, inside the request's span (so with its
    /// request id), and never reaches the response.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::new(ErrorCode::Internal)
    }

    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or(self.code.message())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let body = ErrorBody {
            code: self.code,
            message: self.message().to_owned(),
            request_id: request_context::current_request_id().unwrap_or_default(),
            details: self
                .details
                .clone()
                .map(|d| d.into_iter().map(FieldErrorBody::from).collect()),
            until: self.until.map(crate::dto::cst),
        };
        let mut res = HttpResponse::build(self.code.status());
        if let Some(after) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, after.as_secs().max(1).to_string()));
        }
        if let Some(allow) = &self.allow
            && let Ok(v) = HeaderValue::from_str(allow)
        {
            res.insert_header((header::ALLOW, v));
        }
        if self.code.status() == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        let mut res = res.json(body);
        res.extensions_mut().insert(Rendered);
        res
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::validation(e)
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict(Conflict::Username) => Self::new(ErrorCode::UsernameTaken),
            RepoError::Conflict(Conflict::OpenConsultation) => {
                Self::new(ErrorCode::ConsultationOpen)
            }
            RepoError::Conflict(Conflict::AlreadyScreened) => Self::new(ErrorCode::AlreadyScreened),
            RepoError::Conflict(Conflict::SurveyAnswered) => {
                Self::new(ErrorCode::AlreadyRated).with_message("你已经填写过这次的评价")
            }
            RepoError::Unavailable(cause) => {
                tracing::warn!(cause = %cause, "database unavailable");
                Self::new(ErrorCode::ServiceUnavailable).retry_after(Duration::from_secs(2))
            }
            other => Self::internal(other),
        }
    }
}

impl From<BookingError> for ApiError {
    fn from(e: BookingError) -> Self {
        let local = |t: chrono::DateTime<chrono::Utc>| crate::dto::cst(t).format("%Y-%m-%d %H:%M");
        match e {
            BookingError::NotFound => Self::not_found(),
            BookingError::Repo(e) => e.into(),
            BookingError::Refused(r) => match r {
                Refusal::NotBookable => Self::new(ErrorCode::StationNotBookable),
                Refusal::SlotNotFound => Self::new(ErrorCode::SlotNotFound),
                Refusal::OutsideWindow => Self::new(ErrorCode::OutsideBookingWindow),
                Refusal::Closed { reason } => Self::new(ErrorCode::StationClosed)
                    .with_message(format!("该站点当天停诊：{reason}")),
                Refusal::SlotFull => Self::new(ErrorCode::SlotFull),
                Refusal::BookingLimit { per_day: true } => Self::new(ErrorCode::BookingLimit)
                    .with_message("你当天已有预约，每天只能预约一次"),
                Refusal::BookingLimit { per_day: false } => Self::new(ErrorCode::BookingLimit)
                    .with_message("未到期的预约已达上限，请先完成或取消已有预约"),
                Refusal::Paused { until } => Self::new(ErrorCode::BookingPaused)
                    .with_message(format!(
                        "因多次预约后未到场，预约功能暂停至 {}",
                        local(until)
                    ))
                    .until(until),
                Refusal::SlotAvailable => Self::new(ErrorCode::SlotAvailable),
                Refusal::AlreadyWaiting => Self::new(ErrorCode::AlreadyWaiting),
                Refusal::WaitlistLimit { max } => Self::new(ErrorCode::WaitlistLimit)
                    .with_message(format!("最多同时候补 {max} 个时段，请先退出其他候补")),
                Refusal::TooLateToCancel { deadline } => Self::new(ErrorCode::TooLateToCancel)
                    .with_message(format!(
                        "取消截止时间为 {}，已无法在线取消；如不能到场请联系站点",
                        local(deadline)
                    )),
                Refusal::InvalidState(_) => Self::new(ErrorCode::BookingNotActive),
                Refusal::TooEarly { from } => Self::new(ErrorCode::AttendanceTooEarly)
                    .with_message(format!("咨询 {} 开始后才能登记到场情况", local(from))),
                Refusal::NotAttended => Self::new(ErrorCode::NotAttended),
                Refusal::AlreadyRated => {
                    Self::new(ErrorCode::AlreadyRated).with_message("你已经评价过这次咨询")
                }
            },
        }
    }
}

impl From<WechatError> for ApiError {
    fn from(e: WechatError) -> Self {
        match e {
            WechatError::InvalidCode(_) => Self::new(ErrorCode::WechatCodeInvalid),
            WechatError::RateLimited => Self::new(ErrorCode::WechatRateLimited),
            WechatError::RiskyUser => Self::new(ErrorCode::WechatUserBlocked),
            WechatError::Busy => Self::new(ErrorCode::WechatBusy),
            WechatError::Quota(code) => {
                tracing::warn!(errcode = code, "WeChat quota reached");
                Self::new(ErrorCode::WechatBusy)
            }
            WechatError::NotConfigured => Self::new(ErrorCode::WechatNotConfigured),
            WechatError::Unreachable(cause) => {
                tracing::warn!(%cause, "WeChat unreachable");
                Self::new(ErrorCode::WechatUnavailable)
            }
            WechatError::Upstream { code, message } => {
                tracing::warn!(errcode = code, errmsg = %message, "WeChat call failed");
                Self::new(ErrorCode::WechatFailed)
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialised_code_is_the_table_code() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert!(code.status().is_client_error() || code.status().is_server_error());
            assert!(!code.message().is_empty());
        }
    }
}
