use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bookings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub station_id: String,
    pub user_id: Option<String>,
    pub start_at: DateTimeUtc,
    pub end_at: DateTimeUtc,
    pub local_date: String,
    pub seat: i16,
    pub status: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub note: Option<String>,
    pub cancel_reason: Option<String>,
    pub promoted_at: Option<DateTimeUtc>,
    pub attendance_by: Option<String>,
    pub rating: Option<i16>,
    pub rating_comment: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
