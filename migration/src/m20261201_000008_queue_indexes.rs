//! Indexes that match the queue's order exactly, so that taking the next person reads one
//! index entry instead of sorting everyone waiting (the cost no longer grows with the queue).
//!
//! The order (`domain::consultation::queue_cmp`): priority, high first; handed-back entries
//! (`front`) first within a priority; then arrival (`queued_at`, `id`). A claim looks first at
//! entries transferred to the counselor by name, then at the shared pool: one partial index
//! each. The same statement creates them on PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 2] = [
    (
        "idx_consultations_pool_order",
        "CREATE INDEX idx_consultations_pool_order ON consultations \
         (priority DESC, front DESC, queued_at ASC, id ASC) \
         WHERE status = 'waiting' AND assigned_to IS NULL",
    ),
    (
        "idx_consultations_assigned_order",
        "CREATE INDEX idx_consultations_assigned_order ON consultations \
         (assigned_to, priority DESC, front DESC, queued_at ASC, id ASC) \
         WHERE status = 'waiting' AND assigned_to IS NOT NULL",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (_, sql) in INDEXES {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
