//! A revision number on articles, raised by every edit and status change. The search index
//! compares it with what it holds to find what changed (timestamps can repeat: two writes in
//! the same microsecond, or a test's frozen clock).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Articles {
    Table,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            Articles::Table,
            ColumnDef::new(Articles::Revision)
                .big_integer()
                .not_null()
                .default(0),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(manager, Articles::Table, Articles::Revision).await
    }
}
