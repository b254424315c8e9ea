//! The two-question survey for consultations and station sessions.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServiceSurveys {
    Table,
    Id,
    Service,
    SubjectId,
    UserId,
    Content,
    Gain,
    Comment,
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
        let text = |c: ServiceSurveys, n: u32| ColumnDef::new(c).string_len(n).to_owned();
        manager
            .create_table(
                Table::create()
                    .table(ServiceSurveys::Table)
                    .col(text(ServiceSurveys::Id, 36).not_null().primary_key())
                    .col(text(ServiceSurveys::Service, 16).not_null())
                    .col(text(ServiceSurveys::SubjectId, 36).not_null())
                    // NULL once the person deleted the account: the answer stays counted.
                    .col(text(ServiceSurveys::UserId, 36).null())
                    .col(
                        ColumnDef::new(ServiceSurveys::Content)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ServiceSurveys::Gain)
                            .small_integer()
                            .not_null(),
                    )
                    .col(text(ServiceSurveys::Comment, 512).null())
                    .col(
                        ColumnDef::new(ServiceSurveys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServiceSurveys::Table, ServiceSurveys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_service_surveys_once")
                    .table(ServiceSurveys::Table)
                    .col(ServiceSurveys::Service)
                    .col(ServiceSurveys::SubjectId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServiceSurveys::Table).to_owned())
            .await
    }
}
