use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub unit: String,
    pub address: Option<String>,
    pub region: String,
    pub phone: Option<String>,
    pub audiences: String,
    pub hours: String,
    pub note: Option<String>,
    pub slot_minutes: i16,
    pub break_minutes: i16,
    pub seats: i16,
    pub booking_window_days: i16,
    pub min_notice_hours: i16,
    pub cancel_hours: i16,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
