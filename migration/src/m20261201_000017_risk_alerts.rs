//! Risk words and supervision (#17): the lexicon as admins keep it (one row), the alerts, and
//! which supervisors are on duty.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RiskLexicon {
    Table,
    Id,
    Body,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum RiskAlerts {
    Table,
    Id,
    ConsultationId,
    UserId,
    Level,
    Source,
    Matched,
    MessageSeq,
    CreatedAt,
    EscalateAt,
    AcknowledgedAt,
    AcknowledgedBy,
    Note,
}

#[derive(DeriveIden)]
enum SupervisorDuty {
    Table,
    StaffId,
    OnDuty,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(36).not_null().to_owned()
}

fn at(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RiskLexicon::Table)
                    .col(
                        ColumnDef::new(RiskLexicon::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RiskLexicon::Body).text().not_null())
                    .col(at(RiskLexicon::UpdatedAt))
                    .col(ColumnDef::new(RiskLexicon::UpdatedBy).string_len(36).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RiskAlerts::Table)
                    .col(id(RiskAlerts::Id).primary_key())
                    .col(id(RiskAlerts::ConsultationId))
                    .col(ColumnDef::new(RiskAlerts::UserId).string_len(36).null())
                    .col(ColumnDef::new(RiskAlerts::Level).small_integer().not_null())
                    .col(ColumnDef::new(RiskAlerts::Source).string_len(16).not_null())
                    .col(
                        ColumnDef::new(RiskAlerts::Matched)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(RiskAlerts::MessageSeq).big_integer().null())
                    .col(at(RiskAlerts::CreatedAt))
                    .col(at(RiskAlerts::EscalateAt))
                    .col(
                        ColumnDef::new(RiskAlerts::AcknowledgedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(RiskAlerts::AcknowledgedBy)
                            .string_len(36)
                            .null(),
                    )
                    .col(ColumnDef::new(RiskAlerts::Note).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(RiskAlerts::Table, RiskAlerts::ConsultationId)
                            .to(Consultations::Table, Consultations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // A deleted account leaves its alerts in the figures, without the link.
                    .foreign_key(
                        ForeignKey::create()
                            .from(RiskAlerts::Table, RiskAlerts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_risk_alerts_open",
                vec![RiskAlerts::AcknowledgedAt, RiskAlerts::CreatedAt],
            ),
            (
                "idx_risk_alerts_consultation",
                vec![RiskAlerts::ConsultationId],
            ),
            ("idx_risk_alerts_user", vec![RiskAlerts::UserId]),
            ("idx_risk_alerts_created", vec![RiskAlerts::CreatedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(RiskAlerts::Table);
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(SupervisorDuty::Table)
                    .col(id(SupervisorDuty::StaffId).primary_key())
                    .col(ColumnDef::new(SupervisorDuty::OnDuty).boolean().not_null())
                    .col(at(SupervisorDuty::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SupervisorDuty::Table, SupervisorDuty::StaffId)
                            .to(Staff::Table, Staff::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SupervisorDuty::Table.into_iden(),
            RiskAlerts::Table.into_iden(),
            RiskLexicon::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
