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
        manager
            .alter_table(
                Table::alter()
                    .table(ScreeningEntries::Table)
                    .add_column(
                        ColumnDef::new(ScreeningEntries::ReferredAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ScreeningEntries::Table)
                    .drop_column(ScreeningEntries::ReferredAt)
                    .to_owned(),
            )
            .await
    }
}
