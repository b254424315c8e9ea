//! Scale definitions (JSON, seeded from `infra/seeds/scales/`, texts editable by admins) and
//! users' assessment results (sensitive personal information; deleted with the account).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Scales {
    Table,
    Code,
    Definition,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Assessments {
    Table,
    Id,
    UserId,
    ScaleCode,
    Answers,
    RawScore,
    Score,
    Level,
    BandLabel,
    Interpretation,
    CriticalItems,
    Critical,
    CreatedAt,
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
                    .table(Scales::Table)
                    .col(
                        ColumnDef::new(Scales::Code)
                            .string_len(16)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Scales::Definition).text().not_null())
                    .col(
                        ColumnDef::new(Scales::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Assessments::Table)
                    .col(
                        ColumnDef::new(Assessments::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Assessments::UserId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Assessments::ScaleCode)
                            .string_len(16)
                            .not_null(),
                    )
                    // JSON array of 0-based option indices, one per item.
                    .col(ColumnDef::new(Assessments::Answers).text().not_null())
                    .col(ColumnDef::new(Assessments::RawScore).integer().not_null())
                    .col(ColumnDef::new(Assessments::Score).integer().not_null())
                    .col(
                        ColumnDef::new(Assessments::Level)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Assessments::BandLabel)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Assessments::Interpretation)
                            .text()
                            .not_null(),
                    )
                    // JSON array of 1-based critical item numbers answered above zero.
                    .col(
                        ColumnDef::new(Assessments::CriticalItems)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Assessments::Critical).boolean().not_null())
                    .col(
                        ColumnDef::new(Assessments::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assessments_user")
                            .from(Assessments::Table, Assessments::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_assessments_user_time")
                    .table(Assessments::Table)
                    .col(Assessments::UserId)
                    .col(Assessments::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_assessments_user_scale_time")
                    .table(Assessments::Table)
                    .col(Assessments::UserId)
                    .col(Assessments::ScaleCode)
                    .col(Assessments::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Assessments::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Scales::Table).to_owned())
            .await
    }
}
