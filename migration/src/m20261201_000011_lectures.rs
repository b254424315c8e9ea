//! 讲座点单: the menu (series and topics) and the units' requests.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LectureSeries {
    Table,
    Id,
    Name,
    Note,
    SortOrder,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LectureTopics {
    Table,
    Id,
    SeriesId,
    Number,
    Title,
    Points,
    Minutes,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LectureRequests {
    Table,
    Id,
    UserId,
    UnitName,
    UnitAddress,
    PreferredDates,
    TopicId,
    ContentNote,
    StaffTotal,
    Attendees,
    JointOk,
    Liaison,
    Head,
    Screening,
    ScreeningScales,
    Status,
    Lecturer,
    ScheduledAt,
    Location,
    Reason,
    ScreeningCode,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn id<C: IntoIden>(c: C) -> ColumnDef {
    ColumnDef::new(c).string_len(36).to_owned()
}

fn at<C: IntoIden>(c: C) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LectureSeries::Table)
                    .col(id(LectureSeries::Id).not_null().primary_key())
                    .col(
                        ColumnDef::new(LectureSeries::Name)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LectureSeries::Note).string_len(255).null())
                    .col(
                        ColumnDef::new(LectureSeries::SortOrder)
                            .integer()
                            .not_null(),
                    )
                    .col(at(LectureSeries::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LectureTopics::Table)
                    .col(id(LectureTopics::Id).not_null().primary_key())
                    .col(id(LectureTopics::SeriesId).not_null())
                    .col(ColumnDef::new(LectureTopics::Number).integer().null())
                    .col(
                        ColumnDef::new(LectureTopics::Title)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LectureTopics::Points).text().not_null())
                    .col(ColumnDef::new(LectureTopics::Minutes).integer().null())
                    .col(ColumnDef::new(LectureTopics::Active).boolean().not_null())
                    .col(at(LectureTopics::CreatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(LectureTopics::Table, LectureTopics::SeriesId)
                            .to(LectureSeries::Table, LectureSeries::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LectureRequests::Table)
                    .col(id(LectureRequests::Id).not_null().primary_key())
                    .col(id(LectureRequests::UserId).null())
                    .col(
                        ColumnDef::new(LectureRequests::UnitName)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LectureRequests::UnitAddress)
                            .string_len(255)
                            .not_null(),
                    )
                    // JSON array of YYYY-MM-DD.
                    .col(
                        ColumnDef::new(LectureRequests::PreferredDates)
                            .text()
                            .not_null(),
                    )
                    .col(id(LectureRequests::TopicId).null())
                    .col(
                        ColumnDef::new(LectureRequests::ContentNote)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LectureRequests::StaffTotal)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LectureRequests::Attendees)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LectureRequests::JointOk)
                            .boolean()
                            .not_null(),
                    )
                    // JSON contacts: {name, title, office_phone, mobile}.
                    .col(ColumnDef::new(LectureRequests::Liaison).text().not_null())
                    .col(ColumnDef::new(LectureRequests::Head).text().not_null())
                    .col(
                        ColumnDef::new(LectureRequests::Screening)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LectureRequests::ScreeningScales)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LectureRequests::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LectureRequests::Lecturer)
                            .string_len(64)
                            .null(),
                    )
                    .col(at(LectureRequests::ScheduledAt).null())
                    .col(
                        ColumnDef::new(LectureRequests::Location)
                            .string_len(255)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(LectureRequests::Reason)
                            .string_len(512)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(LectureRequests::ScreeningCode)
                            .string_len(16)
                            .null()
                            .unique_key(),
                    )
                    .col(at(LectureRequests::CreatedAt).not_null())
                    .col(at(LectureRequests::UpdatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(LectureRequests::Table, LectureRequests::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_lecture_requests_user", LectureRequests::UserId),
            ("idx_lecture_requests_status", LectureRequests::Status),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(LectureRequests::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            LectureRequests::Table.into_iden(),
            LectureTopics::Table.into_iden(),
            LectureSeries::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
