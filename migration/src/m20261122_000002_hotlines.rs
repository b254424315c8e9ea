//! Hotlines and dial events. Dials keep their statistics when a user deletes their account:
//! the link to the person is cut (`ON DELETE SET NULL`), the anonymous count stays.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Hotlines {
    Table,
    Id,
    Name,
    Number,
    Region,
    Audiences,
    Description,
    Crisis,
    SortOrder,
    Active,
    Hours,
    HoursNote,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum HotlineDials {
    Table,
    Id,
    HotlineId,
    UserId,
    DialedAt,
    LocalDate,
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
                    .table(Hotlines::Table)
                    .col(
                        ColumnDef::new(Hotlines::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Hotlines::Name).string_len(64).not_null())
                    .col(ColumnDef::new(Hotlines::Number).string_len(20).not_null())
                    .col(ColumnDef::new(Hotlines::Region).string_len(32).not_null())
                    // Comma-separated audience codes (`general,youth`).
                    .col(
                        ColumnDef::new(Hotlines::Audiences)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Hotlines::Description).text().not_null())
                    .col(ColumnDef::new(Hotlines::Crisis).boolean().not_null())
                    .col(ColumnDef::new(Hotlines::SortOrder).integer().not_null())
                    .col(ColumnDef::new(Hotlines::Active).boolean().not_null())
                    // JSON: {"kind":"always"} | {"kind":"weekly","windows":[…]} | {"kind":"unknown"}
                    .col(ColumnDef::new(Hotlines::Hours).text().not_null())
                    .col(ColumnDef::new(Hotlines::HoursNote).string_len(255).null())
                    .col(
                        ColumnDef::new(Hotlines::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Hotlines::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Hotlines::DeletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HotlineDials::Table)
                    .col(
                        ColumnDef::new(HotlineDials::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(HotlineDials::HotlineId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(ColumnDef::new(HotlineDials::UserId).string_len(36).null())
                    .col(
                        ColumnDef::new(HotlineDials::DialedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    // China calendar day (YYYY-MM-DD), for per-day statistics on both databases.
                    .col(
                        ColumnDef::new(HotlineDials::LocalDate)
                            .string_len(10)
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_hotline_dials_hotline")
                            .from(HotlineDials::Table, HotlineDials::HotlineId)
                            .to(Hotlines::Table, Hotlines::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_hotline_dials_user")
                            .from(HotlineDials::Table, HotlineDials::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_hotline_dials_date")
                    .table(HotlineDials::Table)
                    .col(HotlineDials::LocalDate)
                    .col(HotlineDials::HotlineId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_hotline_dials_user")
                    .table(HotlineDials::Table)
                    .col(HotlineDials::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(HotlineDials::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Hotlines::Table).to_owned())
            .await
    }
}
