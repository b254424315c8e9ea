use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub consultation_id: String,
    pub user_id: Option<String>,
    pub level: i16,
    pub source: String,
    pub matched: String,
    pub message_seq: Option<i64>,
    pub created_at: DateTimeUtc,
    pub escalate_at: DateTimeUtc,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub acknowledged_by: Option<String>,
    pub note: Option<String>,
    pub notified_at: Option<DateTimeUtc>,
    pub notify_attempts: i32,
    pub notify_errcode: Option<i64>,
    pub notify_next_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
