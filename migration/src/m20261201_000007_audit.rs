//! One audit trail for every read of a client's data and every change of staff accounts and
//! scales (it replaces `assessment_access_log`, whose rows it takes over). Entries about a
//! person lose the link to them when the person deletes their account, so the column is
//! nullable. Dial taps are kept without any link to a person from now on: the statistics
//! need only the count.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorId,
    ActorRole,
    Action,
    ConsultationId,
    SubjectUserId,
    Target,
}

#[derive(DeriveIden)]
enum AssessmentAccessLog {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let id = |col: AuditLog| ColumnDef::new(col).string_len(36).to_owned();
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(id(AuditLog::Id).not_null().primary_key())
                    .col(
                        ColumnDef::new(AuditLog::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(id(AuditLog::ActorId).not_null())
                    .col(
                        ColumnDef::new(AuditLog::ActorRole)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditLog::Action).string_len(32).not_null())
                    .col(id(AuditLog::ConsultationId).null())
                    .col(id(AuditLog::SubjectUserId).null())
                    .col(ColumnDef::new(AuditLog::Target).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_audit_log_at", AuditLog::At),
            ("idx_audit_log_subject", AuditLog::SubjectUserId),
            ("idx_audit_log_actor", AuditLog::ActorId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditLog::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO audit_log (id, at, actor_id, actor_role, action, consultation_id, subject_user_id) \
             SELECT id, read_at, counselor_id, 'counselor', 'read_client_assessments', consultation_id, user_id \
             FROM assessment_access_log",
        )
        .await?;
        manager
            .drop_table(Table::drop().table(AssessmentAccessLog::Table).to_owned())
            .await?;
        db.execute_unprepared("UPDATE hotline_dials SET user_id = NULL")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}
