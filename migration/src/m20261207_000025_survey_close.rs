//! The organiser may close a lecture's survey early (#30): when it was closed, if it was.
//! Unset, it closes 14 days after the lecture as before.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LectureRequests {
    Table,
    SurveyClosedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            LectureRequests::Table,
            ColumnDef::new(LectureRequests::SurveyClosedAt)
                .timestamp_with_time_zone()
                .null(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(
            manager,
            LectureRequests::Table,
            LectureRequests::SurveyClosedAt,
        )
        .await
    }
}
