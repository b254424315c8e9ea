//! The region a unit is in, so that a screening referral can offer a station nearby.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LectureRequests {
    Table,
    Region,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            LectureRequests::Table,
            ColumnDef::new(LectureRequests::Region)
                .string_len(32)
                .null(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(manager, LectureRequests::Table, LectureRequests::Region).await
    }
}
