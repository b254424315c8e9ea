//! Science articles, and users' likes and favourites (deleted with the account).
//! `tags` is stored as `,tag1,tag2,` so that one tag is matched with `LIKE '%,tag,%'` on both
//! databases.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
    Title,
    Summary,
    Body,
    BodyHtml,
    Kind,
    VideoUrl,
    CoverImageUrl,
    Category,
    Tags,
    Audience,
    Author,
    Status,
    PublishedAt,
    ViewCount,
    LikeCount,
    FavoriteCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ArticleLikes {
    Table,
    ArticleId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ArticleFavorites {
    Table,
    ArticleId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn reactions(
    table: impl IntoIden + Copy,
    article: impl IntoIden + Copy,
    user: impl IntoIden + Copy,
    at: impl IntoIden,
    name: &str,
) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(ColumnDef::new(article).string_len(36).not_null())
        .col(ColumnDef::new(user).string_len(36).not_null())
        .col(ColumnDef::new(at).timestamp_with_time_zone().not_null())
        .primary_key(Index::create().col(article).col(user))
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_article"))
                .from(table, article)
                .to(Articles::Table, Articles::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_user"))
                .from(table, user)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Articles::Table)
                    .col(
                        ColumnDef::new(Articles::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Articles::Title).string_len(128).not_null())
                    .col(ColumnDef::new(Articles::Summary).text().not_null())
                    .col(ColumnDef::new(Articles::Body).text().not_null())
                    .col(ColumnDef::new(Articles::BodyHtml).text().not_null())
                    .col(ColumnDef::new(Articles::Kind).string_len(10).not_null())
                    .col(ColumnDef::new(Articles::VideoUrl).string_len(500).null())
                    .col(
                        ColumnDef::new(Articles::CoverImageUrl)
                            .string_len(500)
                            .null(),
                    )
                    .col(ColumnDef::new(Articles::Category).string_len(16).not_null())
                    .col(ColumnDef::new(Articles::Tags).string_len(255).not_null())
                    .col(ColumnDef::new(Articles::Audience).string_len(16).not_null())
                    .col(ColumnDef::new(Articles::Author).string_len(64).not_null())
                    .col(ColumnDef::new(Articles::Status).string_len(10).not_null())
                    .col(
                        ColumnDef::new(Articles::PublishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Articles::ViewCount)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Articles::LikeCount)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Articles::FavoriteCount)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Articles::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Articles::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_public")
                    .table(Articles::Table)
                    .col(Articles::Status)
                    .col(Articles::PublishedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(reactions(
                ArticleLikes::Table,
                ArticleLikes::ArticleId,
                ArticleLikes::UserId,
                ArticleLikes::CreatedAt,
                "likes",
            ))
            .await?;
        manager
            .create_table(reactions(
                ArticleFavorites::Table,
                ArticleFavorites::ArticleId,
                ArticleFavorites::UserId,
                ArticleFavorites::CreatedAt,
                "favorites",
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ArticleFavorites::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ArticleLikes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Articles::Table).to_owned())
            .await
    }
}
