//! Schema migrations, run at server start. One file per migration (`DeriveMigrationName`
//! names a migration after its file). Migrations use SeaQuery with plain names and never
//! import entities, so that later entity changes cannot rewrite history.
//!
//! Conventions: ids are UUID strings (`varchar(36)`), timestamps are
//! `timestamp with time zone` in UTC, rows that belong to a user reference `users.id` with
//! `ON DELETE CASCADE` so that deleting an account removes its personal data.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_accounts;
mod m20261122_000002_hotlines;
mod m20261122_000003_assessments;
mod m20261123_000004_consultations;
mod m20261123_000005_articles;
mod m20261123_000006_article_revision;
mod m20261201_000007_audit;
mod m20261201_000008_queue_indexes;
mod m20261201_000009_stations;
mod m20261201_000010_notifications;
mod m20261201_000011_lectures;
mod m20261201_000012_screening;
mod m20261201_000013_lecture_surveys;
mod m20261201_000014_screening_referrals;
mod m20261201_000015_service_surveys;
mod m20261201_000016_lecture_request_region;
mod m20261201_000017_risk_alerts;
mod m20261201_000018_alert_notices;
mod m20261201_000019_one_open_alert;
mod m20261207_000020_screening_close;
mod m20261207_000021_audit_counts;
mod m20261207_000022_callback_phone;
mod m20261207_000023_screening_once;
mod m20261207_000024_one_survey_table;
mod m20261207_000025_survey_close;

pub struct Migrator;

/// Adds one column to `table` (a migration that only adds a column).
pub(crate) async fn add_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: &mut ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

/// Drops one column of `table` (the `down` of [`add_column`]).
pub(crate) async fn drop_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: impl IntoIden,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_accounts::Migration),
            Box::new(m20261122_000002_hotlines::Migration),
            Box::new(m20261122_000003_assessments::Migration),
            Box::new(m20261123_000004_consultations::Migration),
            Box::new(m20261123_000005_articles::Migration),
            Box::new(m20261123_000006_article_revision::Migration),
            Box::new(m20261201_000007_audit::Migration),
            Box::new(m20261201_000008_queue_indexes::Migration),
            Box::new(m20261201_000009_stations::Migration),
            Box::new(m20261201_000010_notifications::Migration),
            Box::new(m20261201_000011_lectures::Migration),
            Box::new(m20261201_000012_screening::Migration),
            Box::new(m20261201_000013_lecture_surveys::Migration),
            Box::new(m20261201_000014_screening_referrals::Migration),
            Box::new(m20261201_000015_service_surveys::Migration),
            Box::new(m20261201_000016_lecture_request_region::Migration),
            Box::new(m20261201_000017_risk_alerts::Migration),
            Box::new(m20261201_000018_alert_notices::Migration),
            Box::new(m20261201_000019_one_open_alert::Migration),
            Box::new(m20261207_000020_screening_close::Migration),
            Box::new(m20261207_000021_audit_counts::Migration),
            Box::new(m20261207_000022_callback_phone::Migration),
            Box::new(m20261207_000023_screening_once::Migration),
            Box::new(m20261207_000024_one_survey_table::Migration),
            Box::new(m20261207_000025_survey_close::Migration),
        ]
    }
}
