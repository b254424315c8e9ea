//! Notifications: the person's one-time subscribe-message grants, and what the outbox worker
//! needs (the template values of each row, a lease while a worker sends it, WeChat's errcode
//! of a failure).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SubscriptionGrants {
    Table,
    Id,
    UserId,
    Event,
    GrantedAt,
    UsedAt,
    OutboxId,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Payload,
    LeaseUntil,
    Errcode,
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
                    .table(SubscriptionGrants::Table)
                    .col(
                        ColumnDef::new(SubscriptionGrants::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SubscriptionGrants::UserId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SubscriptionGrants::Event)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SubscriptionGrants::GrantedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SubscriptionGrants::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(SubscriptionGrants::OutboxId)
                            .string_len(36)
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SubscriptionGrants::Table, SubscriptionGrants::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_subscription_grants_user_event")
                    .table(SubscriptionGrants::Table)
                    .col(SubscriptionGrants::UserId)
                    .col(SubscriptionGrants::Event)
                    .to_owned(),
            )
            .await?;
        // One ALTER per column: SQLite adds one column at a time.
        for col in [
            ColumnDef::new(Outbox::Payload).text().null().to_owned(),
            ColumnDef::new(Outbox::LeaseUntil)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Outbox::Errcode)
                .big_integer()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SubscriptionGrants::Table).to_owned())
            .await?;
        for col in [Outbox::Payload, Outbox::LeaseUntil, Outbox::Errcode] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
