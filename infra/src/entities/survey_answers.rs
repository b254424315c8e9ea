use sea_orm::entity::prelude::*;

/// One answer to the two-question survey, whatever service it was about (`service`:
/// `consultation`, `booking` or `lecture`; `subject_id`: that consultation, booking or lecture
/// request).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_answers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service: String,
    pub subject_id: String,
    pub user_id: Option<String>,
    pub content: i16,
    pub gain: i16,
    pub comment: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
