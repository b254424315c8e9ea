//! The satisfaction survey after a lecture: two scores and a comment per participant, once.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LectureSurveys {
    Table,
    Id,
    RequestId,
    UserId,
    Content,
    Gain,
    Comment,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LectureRequests {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LectureSurveys::Table)
                    .col(
                        ColumnDef::new(LectureSurveys::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LectureSurveys::RequestId)
                            .string_len(36)
                            .not_null(),
                    )
                    // NULL once the participant deleted the account: the answer stays counted.
                    .col(ColumnDef::new(LectureSurveys::UserId).string_len(36).null())
                    .col(
                        ColumnDef::new(LectureSurveys::Content)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LectureSurveys::Gain)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LectureSurveys::Comment)
                            .string_len(512)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(LectureSurveys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LectureSurveys::Table, LectureSurveys::RequestId)
                            .to(LectureRequests::Table, LectureRequests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LectureSurveys::Table, LectureSurveys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lecture_surveys_once")
                    .table(LectureSurveys::Table)
                    .col(LectureSurveys::RequestId)
                    .col(LectureSurveys::UserId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LectureSurveys::Table).to_owned())
            .await
    }
}
