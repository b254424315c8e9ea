use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "counselor_status")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub staff_id: String,
    pub online: bool,
    pub capacity: i16,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
