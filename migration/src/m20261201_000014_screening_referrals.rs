//! When a screening participant accepted one-to-one counseling: counted in the organiser's
//! statistics (never shown to the unit).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScreeningEntries {
    Table,
    ReferredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            ScreeningEntries::Table,
            ColumnDef::new(ScreeningEntries::ReferredAt)
                .timestamp_with_time_zone()
                .null(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(
            manager,
            ScreeningEntries::Table,
            ScreeningEntries::ReferredAt,
        )
        .await
    }
}
