//! One survey, not two (#32): the two-question survey after a lecture (`lecture_surveys`) and
//! after a consultation or station session (`service_surveys`) become one table,
//! `survey_answers`, with the service (`consultation`, `booking`, `lecture`) and the subject it
//! is about (the consultation, booking or lecture request). Every row moves over with its id,
//! time and comment; each person answers once per subject. The old tables go.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SurveyAnswers {
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

const ONCE: &str = "ux_survey_answers_once";
const BY_TIME: &str = "idx_survey_answers_created_at";
const BY_USER: &str = "idx_survey_answers_user_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let text = |c: SurveyAnswers, n: u32| ColumnDef::new(c).string_len(n).to_owned();
        manager
            .create_table(
                Table::create()
                    .table(SurveyAnswers::Table)
                    .col(text(SurveyAnswers::Id, 36).not_null().primary_key())
                    .col(text(SurveyAnswers::Service, 16).not_null())
                    .col(text(SurveyAnswers::SubjectId, 36).not_null())
                    .col(text(SurveyAnswers::UserId, 36).null())
                    .col(
                        ColumnDef::new(SurveyAnswers::Content)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SurveyAnswers::Gain)
                            .small_integer()
                            .not_null(),
                    )
                    .col(text(SurveyAnswers::Comment, 512).null())
                    .col(
                        ColumnDef::new(SurveyAnswers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SurveyAnswers::Table, SurveyAnswers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO survey_answers \
             (id, service, subject_id, user_id, content, gain, comment, created_at) \
             SELECT id, 'lecture', request_id, user_id, content, gain, comment, created_at \
             FROM lecture_surveys",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO survey_answers \
             (id, service, subject_id, user_id, content, gain, comment, created_at) \
             SELECT id, service, subject_id, user_id, content, gain, comment, created_at \
             FROM service_surveys",
        )
        .await?;
        for (name, cols, unique) in [
            (
                ONCE,
                vec![
                    SurveyAnswers::Service,
                    SurveyAnswers::SubjectId,
                    SurveyAnswers::UserId,
                ],
                true,
            ),
            (BY_TIME, vec![SurveyAnswers::CreatedAt], false),
            (BY_USER, vec![SurveyAnswers::UserId], false),
        ] {
            let mut index = Index::create();
            index.name(name).table(SurveyAnswers::Table);
            for c in cols {
                index.col(c);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        db.execute_unprepared("DROP TABLE lecture_surveys").await?;
        db.execute_unprepared("DROP TABLE service_surveys").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The two tables as they were (their keys and foreign keys), the rows moved back.
        let db = manager.get_connection();
        let created = |c: &str| {
            ColumnDef::new(Alias::new(c))
                .timestamp_with_time_zone()
                .not_null()
                .to_owned()
        };
        let text = |c: &str, n: u32| ColumnDef::new(Alias::new(c)).string_len(n).to_owned();
        let score = |c: &str| {
            ColumnDef::new(Alias::new(c))
                .small_integer()
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("lecture_surveys"))
                    .col(text("id", 36).not_null().primary_key())
                    .col(text("request_id", 36).not_null())
                    .col(text("user_id", 36).null())
                    .col(score("content"))
                    .col(score("gain"))
                    .col(text("comment", 512).null())
                    .col(created("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("lecture_surveys"), Alias::new("request_id"))
                            .to(Alias::new("lecture_requests"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("lecture_surveys"), Alias::new("user_id"))
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("service_surveys"))
                    .col(text("id", 36).not_null().primary_key())
                    .col(text("service", 16).not_null())
                    .col(text("subject_id", 36).not_null())
                    .col(text("user_id", 36).null())
                    .col(score("content"))
                    .col(score("gain"))
                    .col(text("comment", 512).null())
                    .col(created("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("service_surveys"), Alias::new("user_id"))
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "INSERT INTO lecture_surveys \
             (id, request_id, user_id, content, gain, comment, created_at) \
             SELECT id, subject_id, user_id, content, gain, comment, created_at \
             FROM survey_answers WHERE service = 'lecture'",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO service_surveys \
             (id, service, subject_id, user_id, content, gain, comment, created_at) \
             SELECT id, service, subject_id, user_id, content, gain, comment, created_at \
             FROM survey_answers WHERE service <> 'lecture'",
        )
        .await?;
        for (name, table, cols) in [
            (
                "idx_lecture_surveys_once",
                "lecture_surveys",
                ["request_id", "user_id"],
            ),
            (
                "idx_service_surveys_once",
                "service_surveys",
                ["service", "subject_id"],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Alias::new(table)).unique();
            for c in cols {
                index.col(Alias::new(c));
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .drop_table(Table::drop().table(SurveyAnswers::Table).to_owned())
            .await
    }
}
