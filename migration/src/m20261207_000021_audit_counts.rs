//! Retention (#30): audit rows older than their keeping time become monthly counts per action
//! and role, so that "how many reads of client data in March 2024" stays answerable after the
//! rows (who, which consultation) are gone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditCounts {
    Table,
    Month,
    Action,
    ActorRole,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditCounts::Table)
                    .col(ColumnDef::new(AuditCounts::Month).string_len(7).not_null())
                    .col(
                        ColumnDef::new(AuditCounts::Action)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditCounts::ActorRole)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditCounts::Count).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(AuditCounts::Month)
                            .col(AuditCounts::Action)
                            .col(AuditCounts::ActorRole),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditCounts::Table).to_owned())
            .await
    }
}
