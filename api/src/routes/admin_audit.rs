//! The audit trail for admins: who read a client's data or changed staff accounts and scales,
//! and when. Never the content, and never who the client was.

use actix_web::{HttpResponse, get};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use xinli_domain::account::Role;
use xinli_domain::audit::{AuditAction, AuditEntry, AuditFilter};
use xinli_domain::period::DayRange;
use xinli_domain::schedule::china_date;

use crate::auth::AdminCaller;
use crate::dto::{Paged, StaffRoleName, cst};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::state::{AppState, State};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit);
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditActionName {
    ReadClientAssessments,
    ReadClientMessages,
    TransferConsultation,
    CreateStaff,
    UpdateStaff,
    UpdateScale,
    ReadStationDaySheet,
    ReadRiskAlert,
    ListRiskAlerts,
    UpdateRiskLexicon,
    MarkAttendance,
    ChangeStation,
    ChangeStationClosure,
    DecideLectureRequest,
}

impl From<AuditAction> for AuditActionName {
    fn from(a: AuditAction) -> Self {
        match a {
            AuditAction::ReadClientAssessments => Self::ReadClientAssessments,
            AuditAction::ReadClientMessages => Self::ReadClientMessages,
            AuditAction::TransferConsultation => Self::TransferConsultation,
            AuditAction::CreateStaff => Self::CreateStaff,
            AuditAction::UpdateStaff => Self::UpdateStaff,
            AuditAction::UpdateScale => Self::UpdateScale,
            AuditAction::ReadStationDaySheet => Self::ReadStationDaySheet,
            AuditAction::ReadRiskAlert => Self::ReadRiskAlert,
            AuditAction::ListRiskAlerts => Self::ListRiskAlerts,
            AuditAction::UpdateRiskLexicon => Self::UpdateRiskLexicon,
            AuditAction::MarkAttendance => Self::MarkAttendance,
            AuditAction::ChangeStation => Self::ChangeStation,
            AuditAction::ChangeStationClosure => Self::ChangeStationClosure,
            AuditAction::DecideLectureRequest => Self::DecideLectureRequest,
        }
    }
}

impl From<AuditActionName> for AuditAction {
    fn from(a: AuditActionName) -> Self {
        match a {
            AuditActionName::ReadClientAssessments => Self::ReadClientAssessments,
            AuditActionName::ReadClientMessages => Self::ReadClientMessages,
            AuditActionName::TransferConsultation => Self::TransferConsultation,
            AuditActionName::CreateStaff => Self::CreateStaff,
            AuditActionName::UpdateStaff => Self::UpdateStaff,
            AuditActionName::UpdateScale => Self::UpdateScale,
            AuditActionName::ReadStationDaySheet => Self::ReadStationDaySheet,
            AuditActionName::ReadRiskAlert => Self::ReadRiskAlert,
            AuditActionName::ListRiskAlerts => Self::ListRiskAlerts,
            AuditActionName::UpdateRiskLexicon => Self::UpdateRiskLexicon,
            AuditActionName::MarkAttendance => Self::MarkAttendance,
            AuditActionName::ChangeStation => Self::ChangeStation,
            AuditActionName::ChangeStationClosure => Self::ChangeStationClosure,
            AuditActionName::DecideLectureRequest => Self::DecideLectureRequest,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this staff member's acts.
    pub actor_id: Option<Uuid>,
    pub action: Option<AuditActionName>,
    /// Only acts on this consultation.
    pub consultation_id: Option<Uuid>,
    /// First day (China time). With `from` or `to`, the period is as in `/admin/stats`.
    #[param(example = "2026-11-01")]
    pub from: Option<NaiveDate>,
    /// Last day (China time).
    #[param(example = "2026-11-30")]
    pub to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 10000, example = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub page_size: Option<u64>,
}

/// One act: who, what, on what, when. The client a read concerned is never shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d9-0000-7abc-8def-0123456789ab", "at": "2026-11-22T21:40:00+08:00",
    "actor_id": "0193a5d2-8d2f-7c7b-8a1f-3e5d2c9b0f12", "actor_name": "林老师", "actor_role": "counselor",
    "action": "read_client_assessments", "consultation_id": "0193a5d3-5555-7abc-8def-0123456789ab",
    "target": null
}))]
pub struct AuditEntryView {
    pub id: String,
    pub at: DateTime<FixedOffset>,
    pub actor_id: String,
    /// The staff member's display name now (empty if the account no longer exists).
    pub actor_name: String,
    pub actor_role: StaffRoleName,
    pub action: AuditActionName,
    pub consultation_id: Option<String>,
    /// A staff account's id (`create_staff`, `update_staff`), a scale code (`update_scale`),
    /// or a transfer's destination (a counselor's id, or `pool`).
    pub target: Option<String>,
}

/// The audit trail, newest first
///
/// Every counselor read of a client's assessments or messages, every transfer, every admin
/// change to staff accounts and scales: who, what, when — never the content, never the
/// client.
#[utoipa::path(
    operation_id = "admin_list_audit",
    tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, body = Paged<AuditEntryView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[get("/admin/audit")]
pub async fn list_audit(
    state: State,
    _admin: AdminCaller,
    query: Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = xinli_domain::page::PageRequest::parse(q.page, q.page_size)?;
    let (from, to) = if q.from.is_some() || q.to.is_some() {
        let range = DayRange::parse(q.from, q.to, china_date(state.clock.now()))?;
        let (begin, end) = range.instants();
        (Some(begin), Some(end))
    } else {
        (None, None)
    };
    let filter = AuditFilter {
        actor_id: q.actor_id,
        action: q.action.map(Into::into),
        consultation_id: q.consultation_id,
        from,
        to,
    };
    let found = state.audit.list(&filter, page).await?;
    let mut names = std::collections::HashMap::new();
    for e in &found.items {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(e.actor_id) {
            let name = state.staff.find_by_id(e.actor_id).await?;
            slot.insert(name.map(|s| s.display_name).unwrap_or_default());
        }
    }
    Ok(
        HttpResponse::Ok().json(Paged::from_page(found, |e| AuditEntryView {
            id: e.id.to_string(),
            at: cst(e.at),
            actor_id: e.actor_id.to_string(),
            actor_name: names.get(&e.actor_id).cloned().unwrap_or_default(),
            actor_role: match e.actor_role {
                Role::Admin => StaffRoleName::Admin,
                Role::Supervisor => StaffRoleName::Supervisor,
                Role::Counselor | Role::User => StaffRoleName::Counselor,
            },
            action: e.action.into(),
            consultation_id: e.consultation_id.map(|c| c.to_string()),
            target: e.target,
        })),
    )
}

/// Writes an admin's change to the audit trail (`target`: the staff id or scale code).
pub async fn record_admin_change(
    state: &AppState,
    admin: uuid::Uuid,
    action: AuditAction,
    target: impl Into<String>,
) -> ApiResult<()> {
    let entry = AuditEntry::new(state.clock.now(), admin, Role::Admin, action).target(target);
    state.audit.record(&entry).await.map_err(ApiError::from)
}
