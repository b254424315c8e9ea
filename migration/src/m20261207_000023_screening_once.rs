//! One scale per person per screening as a unique key (#30): the check before inserting let
//! two concurrent submissions both count. Entries get the participant's id (the assessment
//! already links them; the entry goes with the assessment), earlier entries are filled from
//! their assessment, and duplicates a race left behind are removed before the key is made.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScreeningEntries {
    Table,
    RequestId,
    UserId,
    ScaleCode,
}

const INDEX: &str = "ux_screening_entries_once";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::add_column(
            manager,
            ScreeningEntries::Table,
            ColumnDef::new(ScreeningEntries::UserId)
                .string_len(36)
                .null(),
        )
        .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE screening_entries SET user_id = \
             (SELECT a.user_id FROM assessments a WHERE a.id = screening_entries.assessment_id)",
        )
        .await?;
        db.execute_unprepared(
            "DELETE FROM screening_entries WHERE id NOT IN \
             (SELECT MIN(id) FROM screening_entries GROUP BY request_id, user_id, scale_code)",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(ScreeningEntries::Table)
                    .col(ScreeningEntries::RequestId)
                    .col(ScreeningEntries::UserId)
                    .col(ScreeningEntries::ScaleCode)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(ScreeningEntries::Table)
                    .to_owned(),
            )
            .await?;
        crate::drop_column(manager, ScreeningEntries::Table, ScreeningEntries::UserId).await
    }
}
