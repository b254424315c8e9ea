//! A screening closes (#30): the closing time set when the request is accepted, and the counts
//! frozen at the first read after closing, so that the unit's report no longer moves when one
//! person joins or leaves. The frozen row holds counts per scale and band, never a person.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LectureRequests {
    Table,
    Id,
    ScreeningClosesAt,
}

#[derive(DeriveIden)]
enum ScreeningReports {
    Table,
    RequestId,
    Counts,
    FrozenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            LectureRequests::Table,
            ColumnDef::new(LectureRequests::ScreeningClosesAt)
                .timestamp_with_time_zone()
                .null(),
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScreeningReports::Table)
                    .col(
                        ColumnDef::new(ScreeningReports::RequestId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ScreeningReports::Counts).text().not_null())
                    .col(
                        ColumnDef::new(ScreeningReports::FrozenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScreeningReports::Table, ScreeningReports::RequestId)
                            .to(LectureRequests::Table, LectureRequests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScreeningReports::Table).to_owned())
            .await?;
        crate::drop_column(
            manager,
            LectureRequests::Table,
            LectureRequests::ScreeningClosesAt,
        )
        .await
    }
}
