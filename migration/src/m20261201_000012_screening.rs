//! 普查: which of a participant's results count in a unit's screening. The row holds no person:
//! it points at the participant's own assessment, and goes with it (`ON DELETE CASCADE`) when
//! the participant deletes the result or the account.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScreeningEntries {
    Table,
    Id,
    RequestId,
    AssessmentId,
    ScaleCode,
    Level,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LectureRequests {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Assessments {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScreeningEntries::Table)
                    .col(
                        ColumnDef::new(ScreeningEntries::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ScreeningEntries::RequestId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ScreeningEntries::AssessmentId)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(ScreeningEntries::ScaleCode)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ScreeningEntries::Level)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ScreeningEntries::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScreeningEntries::Table, ScreeningEntries::RequestId)
                            .to(LectureRequests::Table, LectureRequests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScreeningEntries::Table, ScreeningEntries::AssessmentId)
                            .to(Assessments::Table, Assessments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_screening_entries_request")
                    .table(ScreeningEntries::Table)
                    .col(ScreeningEntries::RequestId)
                    .col(ScreeningEntries::ScaleCode)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScreeningEntries::Table).to_owned())
            .await
    }
}
