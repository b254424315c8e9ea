//! The consultation queue, chat messages, counselors' availability and the audit log of
//! counselors reading a client's assessments.
//!
//! One open request per user is enforced by the database: `open_key` holds the user id while
//! the request is waiting or active and NULL afterwards, under a unique index (NULLs never
//! collide on SQLite or PostgreSQL). Message order is a per-consultation sequence number,
//! unique with the consultation, so the cursor never skips a message committed late.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Id,
    UserId,
    OpenKey,
    Topic,
    Description,
    Status,
    Priority,
    PriorityReason,
    CounselorId,
    AssignedTo,
    Front,
    CreatedAt,
    QueuedAt,
    ClaimedAt,
    FirstClaimedAt,
    ClosedAt,
    EndedAt,
    CounselorNote,
    Rating,
    RatingComment,
    RatingFlagged,
}

#[derive(DeriveIden)]
enum ConsultationMessages {
    Table,
    Id,
    ConsultationId,
    Seq,
    Sender,
    SenderId,
    Text,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CounselorStatus {
    Table,
    StaffId,
    Online,
    Capacity,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AssessmentAccessLog {
    Table,
    Id,
    ConsultationId,
    CounselorId,
    UserId,
    ReadAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .string_len(36)
        .not_null()
        .primary_key()
        .take()
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

fn ts_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Consultations::Table)
                    .col(id(Consultations::Id))
                    .col(ColumnDef::new(Consultations::UserId).string_len(36).null())
                    .col(
                        ColumnDef::new(Consultations::OpenKey)
                            .string_len(36)
                            .null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Consultations::Topic)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Consultations::Description).text().not_null())
                    .col(
                        ColumnDef::new(Consultations::Status)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Consultations::Priority)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Consultations::PriorityReason)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Consultations::CounselorId)
                            .string_len(36)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Consultations::AssignedTo)
                            .string_len(36)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Consultations::Front)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ts(Consultations::CreatedAt))
                    .col(ts(Consultations::QueuedAt))
                    .col(ts_null(Consultations::ClaimedAt))
                    .col(ts_null(Consultations::FirstClaimedAt))
                    .col(ts_null(Consultations::ClosedAt))
                    .col(ts_null(Consultations::EndedAt))
                    .col(ColumnDef::new(Consultations::CounselorNote).text().null())
                    .col(ColumnDef::new(Consultations::Rating).small_integer().null())
                    .col(ColumnDef::new(Consultations::RatingComment).text().null())
                    .col(
                        ColumnDef::new(Consultations::RatingFlagged)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consultations_user")
                            .from(Consultations::Table, Consultations::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consultations_counselor")
                            .from(Consultations::Table, Consultations::CounselorId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_consultations_queue",
                vec![
                    Consultations::Status,
                    Consultations::Priority,
                    Consultations::QueuedAt,
                ],
            ),
            (
                "idx_consultations_user",
                vec![Consultations::UserId, Consultations::CreatedAt],
            ),
            (
                "idx_consultations_counselor",
                vec![Consultations::CounselorId, Consultations::Status],
            ),
        ] {
            let mut index = Index::create()
                .name(name)
                .table(Consultations::Table)
                .to_owned();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ConsultationMessages::Table)
                    .col(id(ConsultationMessages::Id))
                    .col(
                        ColumnDef::new(ConsultationMessages::ConsultationId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConsultationMessages::Seq)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConsultationMessages::Sender)
                            .string_len(10)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConsultationMessages::SenderId)
                            .string_len(36)
                            .null(),
                    )
                    .col(ColumnDef::new(ConsultationMessages::Text).text().not_null())
                    .col(ts(ConsultationMessages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_messages_consultation")
                            .from(
                                ConsultationMessages::Table,
                                ConsultationMessages::ConsultationId,
                            )
                            .to(Consultations::Table, Consultations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_cursor")
                    .table(ConsultationMessages::Table)
                    .col(ConsultationMessages::ConsultationId)
                    .col(ConsultationMessages::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CounselorStatus::Table)
                    .col(
                        ColumnDef::new(CounselorStatus::StaffId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CounselorStatus::Online).boolean().not_null())
                    .col(
                        ColumnDef::new(CounselorStatus::Capacity)
                            .small_integer()
                            .not_null(),
                    )
                    .col(ts(CounselorStatus::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_counselor_status_staff")
                            .from(CounselorStatus::Table, CounselorStatus::StaffId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;

        // An audit log: it keeps the ids even after the person deletes their account.
        manager
            .create_table(
                Table::create()
                    .table(AssessmentAccessLog::Table)
                    .col(id(AssessmentAccessLog::Id))
                    .col(
                        ColumnDef::new(AssessmentAccessLog::ConsultationId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AssessmentAccessLog::CounselorId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AssessmentAccessLog::UserId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(ts(AssessmentAccessLog::ReadAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AssessmentAccessLog::Table.into_iden(),
            CounselorStatus::Table.into_iden(),
            ConsultationMessages::Table.into_iden(),
            Consultations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
