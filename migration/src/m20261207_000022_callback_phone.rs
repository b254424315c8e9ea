//! A screening referral's phone number gets its own column (#30): it was written into the
//! description, which every counselor reads in the queue; now only the counselor serving the
//! consultation sees it. Existing descriptions are left as they are (they go with the chat's
//! keeping time).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Consultations {
    Table,
    CallbackPhone,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            Consultations::Table,
            ColumnDef::new(Consultations::CallbackPhone)
                .string_len(20)
                .null(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::drop_column(manager, Consultations::Table, Consultations::CallbackPhone).await
    }
}
