//! Escalated risk alerts are posted to the supervisors' group robot: when the notice went
//! out, how many tries, WeChat's errcode of the last failure, and when to try next (also the
//! lease that keeps two instances from sending one notice twice).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RiskAlerts {
    Table,
    NotifiedAt,
    NotifyAttempts,
    NotifyErrcode,
    NotifyNextAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One ALTER per column: SQLite adds one column at a time.
        for mut col in [
            ColumnDef::new(RiskAlerts::NotifiedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(RiskAlerts::NotifyAttempts)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(RiskAlerts::NotifyErrcode)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(RiskAlerts::NotifyNextAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            crate::add_column(manager, RiskAlerts::Table, &mut col).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            RiskAlerts::NotifiedAt,
            RiskAlerts::NotifyAttempts,
            RiskAlerts::NotifyErrcode,
            RiskAlerts::NotifyNextAt,
        ] {
            crate::drop_column(manager, RiskAlerts::Table, col).await?;
        }
        Ok(())
    }
}
