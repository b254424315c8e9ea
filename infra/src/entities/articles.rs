use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub body_html: String,
    pub kind: String,
    pub video_url: Option<String>,
    pub cover_image_url: Option<String>,
    pub category: String,
    pub tags: String,
    pub audience: String,
    pub author: String,
    pub status: String,
    pub published_at: Option<DateTimeUtc>,
    pub view_count: i64,
    pub like_count: i64,
    pub favorite_count: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
