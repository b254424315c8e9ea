//! The words for every closed set of values the API sends: one source for the console and
//! the mini-program, so that a status reads the same on every screen. The labels are the
//! domain's (`label()` beside each enum).

use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::account::{AudienceGroup, StaffRole};
use xinli_domain::article::{ArticleStatus, Kind};
use xinli_domain::schedule::{Day, ServiceHours};
use xinli_domain::{consultation, lecture, risk, station, survey};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(labels);
}

/// One value of a set and the words to show for it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"value": "waiting", "label": "排队中"}))]
pub struct Label {
    pub value: &'static str,
    pub label: &'static str,
}

/// Every closed set, each in its natural order (days Monday first, priorities lowest first).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "consultation_status": [{"value": "waiting", "label": "排队中"}, {"value": "active", "label": "咨询中"}],
    "priority": [{"value": "normal", "label": "普通"}], "sender": [{"value": "user", "label": "来访者"}],
    "article_status": [{"value": "draft", "label": "草稿"}], "article_kind": [{"value": "article", "label": "文章"}],
    "audience": [{"value": "general", "label": "全人群"}], "lecture_status": [{"value": "submitted", "label": "待审核"}],
    "booking_status": [{"value": "booked", "label": "已预约"}], "risk_level": [{"value": "distress", "label": "困扰"}],
    "risk_source": [{"value": "description", "label": "咨询申请的描述"}], "staff_role": [{"value": "counselor", "label": "咨询师"}],
    "day": [{"value": "mon", "label": "周一"}], "hours_kind": [{"value": "always", "label": "全天 24 小时"}],
    "service": [{"value": "consultation", "label": "在线咨询"}]
}))]
pub struct Labels {
    pub consultation_status: Vec<Label>,
    pub priority: Vec<Label>,
    pub sender: Vec<Label>,
    pub article_status: Vec<Label>,
    pub article_kind: Vec<Label>,
    pub audience: Vec<Label>,
    pub lecture_status: Vec<Label>,
    pub booking_status: Vec<Label>,
    pub risk_level: Vec<Label>,
    pub risk_source: Vec<Label>,
    pub staff_role: Vec<Label>,
    pub day: Vec<Label>,
    pub hours_kind: Vec<Label>,
    /// The services people rate.
    pub service: Vec<Label>,
}

fn set<T: Copy>(
    all: &[T],
    value: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Label> {
    all.iter()
        .map(|v| Label {
            value: value(*v),
            label: label(*v),
        })
        .collect()
}

/// The words for every status and closed set
///
/// What to show for each value the API sends (`status: "waiting"` → 排队中). Public, the
/// same for everyone, and changes only with a release: cache it.
#[utoipa::path(
    operation_id = "get_labels",
    tag = "meta",
    responses((status = 200, body = Labels))
)]
#[get("/labels")]
pub async fn labels() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(Labels {
            consultation_status: set(&consultation::Status::ALL, |s| s.as_str(), |s| s.label()),
            priority: set(&consultation::Priority::ALL, |p| p.as_str(), |p| p.label()),
            sender: set(&consultation::Sender::ALL, |s| s.as_str(), |s| s.label()),
            article_status: set(&ArticleStatus::ALL, |s| s.as_str(), |s| s.label()),
            article_kind: set(&Kind::ALL, |k| k.as_str(), |k| k.label()),
            audience: set(&AudienceGroup::ALL, |a| a.code(), |a| a.label()),
            lecture_status: set(&lecture::Status::ALL, |s| s.as_str(), |s| s.label()),
            booking_status: set(&station::BookingStatus::ALL, |s| s.as_str(), |s| s.label()),
            risk_level: set(&risk::Level::ALL, |l| l.as_str(), |l| l.label()),
            risk_source: set(&risk::Source::ALL, |s| s.as_str(), |s| s.label()),
            staff_role: set(&StaffRole::ALL, |r| r.as_str(), |r| r.label()),
            day: set(&Day::ALL, |d| d.as_str(), |d| d.label()),
            hours_kind: ServiceHours::KINDS
                .iter()
                .map(|(value, label)| Label { value, label })
                .collect(),
            service: set(&survey::Answered::ALL, |s| s.as_str(), |s| s.label()),
        })
}
