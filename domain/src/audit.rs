//! The audit trail: who read a person's data or changed what the service runs on, and when —
//! never the content itself (no message text, no answers, no passwords).
//!
//! What is audited:
//! - a counselor's read of a client's assessments, and of a client's messages (a read that
//!   returned at least one message; an empty long poll reads nothing);
//! - a transfer of a consultation (to a named counselor or back to the pool);
//! - an admin's creation or change of a staff account, and change of a scale's texts;
//! - a supervisor's read of the words that raised a risk alert, and of the list of alerts;
//!   an admin's change of the risk lexicon;
//! - a station's day sheet read, an attendance mark, an admin's change of a station or of its
//!   closures, and the organiser's decisions on lecture requests (#30).
//!
//! A counselor's chat client polls for new messages, a supervisor's console the alert list:
//! such reads are one entry per actor, consultation and China day
//! ([`AuditAction::once_per_day`]), not one per poll.
//!
//! When a person deletes their account, the entries about them lose their link to the person
//! (`subject_user_id` becomes empty): the trail still says that a counselor read a client's
//! data in a consultation, not whose.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::account::Role;
use crate::error::RepoError;
use crate::page::{Page, PageRequest};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    ReadClientAssessments,
    ReadClientMessages,
    TransferConsultation,
    CreateStaff,
    UpdateStaff,
    UpdateScale,
    /// A station's day sheet (names and phones people gave) was read.
    ReadStationDaySheet,
    /// A supervisor read the words that raised a risk alert, with the consultation's metadata.
    ReadRiskAlert,
    /// A supervisor read the list of risk alerts (who raised one, at what level, with the
    /// lexicon's phrase); once per supervisor and day.
    ListRiskAlerts,
    /// An admin replaced the risk lexicon.
    UpdateRiskLexicon,
    /// A station marked a booking attended or not (target: the booking).
    MarkAttendance,
    /// An admin created, changed or deleted a station (target: `station:<id>`).
    ChangeStation,
    /// An admin added or removed a station's closure (target: `station:<id>:<date>`).
    ChangeStationClosure,
    /// The organiser decided on a lecture request: accepted, proposed, declined, held, or
    /// closed its screening (target: `lecture:<id>:<step>`).
    DecideLectureRequest,
}

impl AuditAction {
    pub const ALL: [AuditAction; 14] = [
        AuditAction::ReadClientAssessments,
        AuditAction::ReadClientMessages,
        AuditAction::TransferConsultation,
        AuditAction::CreateStaff,
        AuditAction::UpdateStaff,
        AuditAction::UpdateScale,
        AuditAction::ReadStationDaySheet,
        AuditAction::ReadRiskAlert,
        AuditAction::ListRiskAlerts,
        AuditAction::UpdateRiskLexicon,
        AuditAction::MarkAttendance,
        AuditAction::ChangeStation,
        AuditAction::ChangeStationClosure,
        AuditAction::DecideLectureRequest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ReadClientAssessments => "read_client_assessments",
            AuditAction::ReadClientMessages => "read_client_messages",
            AuditAction::TransferConsultation => "transfer_consultation",
            AuditAction::CreateStaff => "create_staff",
            AuditAction::UpdateStaff => "update_staff",
            AuditAction::UpdateScale => "update_scale",
            AuditAction::ReadStationDaySheet => "read_station_day_sheet",
            AuditAction::ReadRiskAlert => "read_risk_alert",
            AuditAction::ListRiskAlerts => "list_risk_alerts",
            AuditAction::UpdateRiskLexicon => "update_risk_lexicon",
            AuditAction::MarkAttendance => "mark_attendance",
            AuditAction::ChangeStation => "change_station",
            AuditAction::ChangeStationClosure => "change_station_closure",
            AuditAction::DecideLectureRequest => "decide_lecture_request",
        }
    }

    /// Reads repeated by polling count once per actor, consultation and China day.
    pub fn once_per_day(self) -> bool {
        matches!(
            self,
            AuditAction::ReadClientMessages | AuditAction::ListRiskAlerts
        )
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One entry. `target` names what was acted on when it is not a consultation: a staff
/// account's id, a scale's code, a transfer's destination (a counselor's id or `pool`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Uuid,
    pub actor_role: Role,
    pub action: AuditAction,
    pub consultation_id: Option<Uuid>,
    pub subject_user_id: Option<Uuid>,
    pub target: Option<String>,
}

impl AuditEntry {
    /// A new entry by `actor` now; add what it concerns with the `with_*` methods.
    pub fn new(at: DateTime<Utc>, actor_id: Uuid, actor_role: Role, action: AuditAction) -> Self {
        Self {
            id: Uuid::now_v7(),
            at,
            actor_id,
            actor_role,
            action,
            consultation_id: None,
            subject_user_id: None,
            target: None,
        }
    }

    pub fn consultation(mut self, id: Uuid, client: Option<Uuid>) -> Self {
        self.consultation_id = Some(id);
        self.subject_user_id = client;
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// For an action counted once per day: the China day it falls in, `[start, end)`; an
    /// entry by the same actor, of the same action and consultation in it makes this one
    /// redundant.
    pub fn once_within(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.action.once_per_day() {
            return None;
        }
        let day = crate::schedule::china_date(self.at);
        let start = day
            .and_hms_opt(0, 0, 0)?
            .and_local_timezone(crate::schedule::CHINA)
            .single()?
            .with_timezone(&Utc);
        Some((start, start + chrono::Duration::days(1)))
    }
}

/// Filters of the admin's audit list; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub action: Option<AuditAction>,
    pub consultation_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn record(&self, entry: &AuditEntry) -> Result<(), RepoError>;
    /// Newest first.
    async fn list(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_have_one_name_each() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(AuditAction::parse("read_chat_text"), None);
    }
}
