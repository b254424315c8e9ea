use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lecture_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: Option<String>,
    pub unit_name: String,
    pub unit_address: String,
    pub region: Option<String>,
    pub preferred_dates: String,
    pub topic_id: Option<String>,
    pub content_note: String,
    pub staff_total: i32,
    pub attendees: i32,
    pub joint_ok: bool,
    pub liaison: String,
    pub head: String,
    pub screening: bool,
    pub screening_scales: String,
    pub status: String,
    pub lecturer: Option<String>,
    pub scheduled_at: Option<DateTimeUtc>,
    pub location: Option<String>,
    pub reason: Option<String>,
    pub screening_code: Option<String>,
    pub screening_closes_at: Option<DateTimeUtc>,
    pub survey_closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
