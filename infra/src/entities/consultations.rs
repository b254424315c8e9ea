use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consultations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: Option<String>,
    pub open_key: Option<String>,
    pub topic: String,
    pub description: String,
    pub callback_phone: Option<String>,
    pub status: String,
    pub priority: i16,
    pub priority_reason: String,
    pub counselor_id: Option<String>,
    pub assigned_to: Option<String>,
    pub front: bool,
    pub created_at: DateTimeUtc,
    pub queued_at: DateTimeUtc,
    pub claimed_at: Option<DateTimeUtc>,
    pub first_claimed_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub counselor_note: Option<String>,
    pub rating: Option<i16>,
    pub rating_comment: Option<String>,
    pub rating_flagged: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
