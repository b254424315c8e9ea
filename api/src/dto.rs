//! DTO pieces shared by several route modules: paging, timestamps, enumerations.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use xinli_domain::account::{AudienceGroup, StaffRole};
use xinli_domain::page::Page;

/// Timestamps leave the API in China Standard Time (`+08:00`, no daylight saving), the time
/// the people using the service live in.
pub fn cst(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    // 8 h is always a valid offset; the fallback is never taken.
    let offset = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix());
    t.with_timezone(&offset)
}

use chrono::Offset;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    pub items: Vec<T>,
    /// Number of matching items on all pages.
    #[schema(example = 42)]
    pub total: u64,
    #[schema(example = 1)]
    pub page: u64,
    #[schema(example = 20)]
    pub page_size: u64,
}

impl<T: ToSchema> Paged<T> {
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let request = page.request;
        let total = page.total;
        Self {
            items: page.items.into_iter().map(f).collect(),
            total,
            page: request.page,
            page_size: request.page_size,
        }
    }
}

/// The population someone belongs to: `general` 全人群, `worker` 职工, `youth` 青少年,
/// `elderly` 老年人, `perinatal` 孕产妇.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    General,
    Worker,
    Youth,
    Elderly,
    Perinatal,
}

impl From<AudienceGroup> for Audience {
    fn from(a: AudienceGroup) -> Self {
        match a {
            AudienceGroup::General => Audience::General,
            AudienceGroup::Worker => Audience::Worker,
            AudienceGroup::Youth => Audience::Youth,
            AudienceGroup::Elderly => Audience::Elderly,
            AudienceGroup::Perinatal => Audience::Perinatal,
        }
    }
}

impl From<Audience> for AudienceGroup {
    fn from(a: Audience) -> Self {
        match a {
            Audience::General => AudienceGroup::General,
            Audience::Worker => AudienceGroup::Worker,
            Audience::Youth => AudienceGroup::Youth,
            Audience::Elderly => AudienceGroup::Elderly,
            Audience::Perinatal => AudienceGroup::Perinatal,
        }
    }
}

/// A staff account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRoleName {
    Counselor,
    /// 督导: sees and acknowledges risk alerts.
    Supervisor,
    Admin,
}

impl From<StaffRole> for StaffRoleName {
    fn from(r: StaffRole) -> Self {
        match r {
            StaffRole::Counselor => StaffRoleName::Counselor,
            StaffRole::Supervisor => StaffRoleName::Supervisor,
            StaffRole::Admin => StaffRoleName::Admin,
        }
    }
}

impl From<StaffRoleName> for StaffRole {
    fn from(r: StaffRoleName) -> Self {
        match r {
            StaffRoleName::Counselor => StaffRole::Counselor,
            StaffRoleName::Supervisor => StaffRole::Supervisor,
            StaffRoleName::Admin => StaffRole::Admin,
        }
    }
}

/// A read-only field of a resource's own representation, accepted in a request so that what an
/// admin GETs can be edited and PUT back, and ignored (ids, counts, computed state, times).
/// Unknown fields stay refused.
pub type ReadOnly = Option<serde::de::IgnoredAny>;

/// For PATCH bodies: tells an absent field (`None`, keep) from an explicit `null`
/// (`Some(None)`, clear). Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Declares a schema-only type: a string whose allowed values come from the domain's own list
/// (the one it validates or produces with), so that the spec's `enum` and the server cannot
/// drift apart. Use on a DTO field with `#[schema(value_type = Name)]`.
#[macro_export]
macro_rules! string_enum {
    ($(#[doc = $doc:literal])* $name:ident, $values:expr) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl $name {
            /// The allowed values, in the domain's order.
            pub fn values() -> Vec<&'static str> {
                $values.into_iter().collect()
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::values()))
                    .description(Some(
                        [$($doc),*]
                            .iter()
                            .map(|l| l.trim())
                            .collect::<Vec<_>>()
                            .join(" "),
                    ))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

pub(crate) use string_enum;

string_enum!(
    /// A consultation's state: `waiting` → `active` → `closed`; `waiting` → `cancelled` or
    /// `expired`.
    ConsultationStatus,
    xinli_domain::consultation::Status::ALL.map(|s| s.as_str())
);
string_enum!(
    /// Queue priority as counselors see it, from the person's self-assessments of the last 14
    /// days.
    ConsultationPriority,
    xinli_domain::consultation::Priority::ALL.map(|p| p.as_str())
);
string_enum!(
    /// What the person sees of their priority.
    UserPriority,
    xinli_domain::consultation::USER_PRIORITIES
);
string_enum!(
    /// Who wrote a chat message.
    ChatSender,
    xinli_domain::consultation::Sender::ALL.map(|s| s.as_str())
);
string_enum!(
    /// What a consultation is about.
    ConsultationTopic,
    xinli_domain::consultation::TOPICS
);
string_enum!(
    /// How a consultation is held.
    ConsultationChannel,
    xinli_domain::consultation::CHANNELS
);
string_enum!(
    /// Why the crisis answer is shown: `critical_item` (thoughts of self-harm), `severe_band`
    /// (top severity level) or `risk_words` (what the person wrote hit the risk lexicon).
    CrisisReasonCode,
    xinli_domain::assessment::CrisisReason::ALL.map(|r| r.as_str())
);
string_enum!(
    /// An article's state in the CMS.
    ArticleStatusName,
    xinli_domain::article::ArticleStatus::ALL.map(|s| s.as_str())
);
