//! Risk words and supervision on SeaORM: the lexicon (one row of JSON), the alerts and the
//! supervisors' duty. The rules are in `xinli_domain::risk`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;
use xinli_domain::notification::{MAX_ATTEMPTS, Outcome};
use xinli_domain::page::{Page, PageRequest};
use xinli_domain::risk::{
    Alert, Level, Lexicon, LexiconData, RiskRepository, Source, StatusFilter, StoredLexicon,
};
use xinli_domain::{Conflict, RepoError};

use crate::db::{corrupt, fetch_page, parse_id, repo_err, storage};
use crate::entities::{risk_alerts as a, risk_lexicon as l, staff, supervisor_duty as d};

/// The lexicon's single row.
const LEXICON_ROW: i32 = 1;

#[derive(Clone)]
pub struct RiskStore {
    db: DatabaseConnection,
}

impl RiskStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn from_row(m: a::Model) -> Result<Alert, RepoError> {
    Ok(Alert {
        id: parse_id(&m.id)?,
        consultation_id: parse_id(&m.consultation_id)?,
        user_id: m.user_id.as_deref().map(parse_id).transpose()?,
        level: Level::from_rank(m.level).ok_or_else(|| corrupt("alert level", m.level))?,
        source: Source::parse(&m.source).ok_or_else(|| corrupt("alert source", &m.source))?,
        matched: m.matched,
        message_seq: m.message_seq,
        created_at: m.created_at,
        escalate_at: m.escalate_at,
        acknowledged_at: m.acknowledged_at,
        acknowledged_by: m.acknowledged_by.as_deref().map(parse_id).transpose()?,
        note: m.note,
    })
}

#[async_trait]
impl RiskRepository for RiskStore {
    async fn lexicon(&self) -> Result<Option<StoredLexicon>, RepoError> {
        let Some(row) = l::Entity::find_by_id(LEXICON_ROW)
            .one(&self.db)
            .await
            .map_err(storage)?
        else {
            return Ok(None);
        };
        // A list saved before #31 (no categories, no combinations) reads as it is.
        let body: LexiconData =
            serde_json::from_str(&row.body).map_err(|e| corrupt("risk lexicon", e))?;
        let lexicon =
            Lexicon::parse(body).map_err(|e| corrupt("risk lexicon", format!("{e:?}")))?;
        Ok(Some(StoredLexicon {
            lexicon,
            updated_at: row.updated_at,
            updated_by: row.updated_by.as_deref().map(parse_id).transpose()?,
        }))
    }

    async fn save_lexicon(
        &self,
        lexicon: &Lexicon,
        by: Option<Uuid>,
        now: DateTime<Utc>,
        only_if_absent: bool,
    ) -> Result<(), RepoError> {
        let body = serde_json::to_string(&lexicon.data())
            .map_err(|e| RepoError::Storage(e.to_string()))?;
        let conflict =
            if only_if_absent {
                // The built-in list replaces an earlier built-in list, never an admin's.
                OnConflict::column(l::Column::Id)
                    .update_columns([l::Column::Body, l::Column::UpdatedAt])
                    .action_and_where(Expr::col((l::Entity, l::Column::UpdatedBy)).is_null().and(
                        Expr::col((l::Entity, l::Column::Body)).ne(Expr::cust("excluded.body")),
                    ))
                    .to_owned()
            } else {
                OnConflict::column(l::Column::Id)
                    .update_columns([l::Column::Body, l::Column::UpdatedAt, l::Column::UpdatedBy])
                    .to_owned()
            };
        let res = l::Entity::insert(l::ActiveModel {
            id: Set(LEXICON_ROW),
            body: Set(body),
            updated_at: Set(now),
            updated_by: Set(by.map(|b| b.to_string())),
        })
        .on_conflict(conflict)
        .exec(&self.db)
        .await;
        match res {
            Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => Ok(()),
            Err(e) => Err(storage(e)),
        }
    }

    async fn raise(&self, alert: &Alert) -> Result<(), RepoError> {
        a::ActiveModel {
            id: Set(alert.id.to_string()),
            consultation_id: Set(alert.consultation_id.to_string()),
            user_id: Set(alert.user_id.map(|u| u.to_string())),
            level: Set(alert.level.rank()),
            source: Set(alert.source.as_str().into()),
            matched: Set(alert.matched.chars().take(64).collect()),
            message_seq: Set(alert.message_seq),
            created_at: Set(alert.created_at),
            escalate_at: Set(alert.escalate_at),
            acknowledged_at: Set(alert.acknowledged_at),
            acknowledged_by: Set(alert.acknowledged_by.map(|u| u.to_string())),
            note: Set(alert.note.clone()),
            notified_at: Set(None),
            notify_attempts: Set(0),
            notify_errcode: Set(None),
            notify_next_at: Set(None),
        }
        .insert(&self.db)
        .await
        .map_err(repo_err(Conflict::OpenAlert))?;
        Ok(())
    }

    async fn find(&self, id: Uuid) -> Result<Option<Alert>, RepoError> {
        a::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(from_row)
            .transpose()
    }

    async fn open_of_consultation(&self, consultation: Uuid) -> Result<Vec<Alert>, RepoError> {
        a::Entity::find()
            .filter(a::Column::ConsultationId.eq(consultation.to_string()))
            .filter(a::Column::AcknowledgedAt.is_null())
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn list(
        &self,
        status: StatusFilter,
        escalated_by: Option<DateTime<Utc>>,
        page: PageRequest,
    ) -> Result<Page<Alert>, RepoError> {
        let mut q = a::Entity::find();
        q = match status {
            StatusFilter::Open => q.filter(a::Column::AcknowledgedAt.is_null()),
            StatusFilter::Acknowledged => q.filter(a::Column::AcknowledgedAt.is_not_null()),
            StatusFilter::All => q,
        };
        if let Some(by) = escalated_by {
            q = q.filter(
                Condition::any()
                    .add(a::Column::AcknowledgedAt.is_not_null())
                    .add(a::Column::EscalateAt.lte(by)),
            );
        }
        let q = q
            .order_by_desc(a::Column::Level)
            .order_by_desc(a::Column::CreatedAt)
            .order_by_desc(a::Column::Id);
        fetch_page(&self.db, q, page, from_row).await
    }

    async fn acknowledge(
        &self,
        id: Uuid,
        by: Uuid,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Option<Alert>, RepoError> {
        let done = a::Entity::update_many()
            .col_expr(a::Column::AcknowledgedAt, Expr::value(now))
            .col_expr(a::Column::AcknowledgedBy, Expr::value(by.to_string()))
            .col_expr(a::Column::Note, Expr::value(note))
            .filter(a::Column::Id.eq(id.to_string()))
            .filter(a::Column::AcknowledgedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        if done.rows_affected == 0 {
            return Ok(None);
        }
        self.find(id).await
    }

    async fn between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Alert>, RepoError> {
        a::Entity::find()
            .filter(a::Column::CreatedAt.gte(from))
            .filter(a::Column::CreatedAt.lt(to))
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn of_user(&self, user: Uuid) -> Result<Vec<Alert>, RepoError> {
        a::Entity::find()
            .filter(a::Column::UserId.eq(user.to_string()))
            .order_by_asc(a::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn claim_notices(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u64,
    ) -> Result<Vec<(Alert, i32)>, RepoError> {
        let due = || {
            Condition::all()
                .add(a::Column::NotifiedAt.is_null())
                .add(a::Column::AcknowledgedAt.is_null())
                .add(a::Column::EscalateAt.lte(now))
                .add(a::Column::NotifyAttempts.lt(MAX_ATTEMPTS))
                .add(
                    Condition::any()
                        .add(a::Column::NotifyNextAt.is_null())
                        .add(a::Column::NotifyNextAt.lte(now)),
                )
        };
        let rows = a::Entity::find()
            .filter(due())
            .order_by_asc(a::Column::EscalateAt)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(storage)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            // Compare-and-set: of two instances that read the row, one takes the lease.
            let taken = a::Entity::update_many()
                .col_expr(a::Column::NotifyNextAt, Expr::value(now + lease))
                .filter(a::Column::Id.eq(row.id.clone()))
                .filter(due())
                .exec(&self.db)
                .await
                .map_err(storage)?;
            if taken.rows_affected == 1 {
                let attempts = row.notify_attempts;
                claimed.push((from_row(row)?, attempts));
            }
        }
        Ok(claimed)
    }

    async fn finish_notice(
        &self,
        id: Uuid,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let update = a::Entity::update_many().filter(a::Column::Id.eq(id.to_string()));
        let update = match outcome {
            Outcome::Sent => update
                .col_expr(a::Column::NotifiedAt, Expr::value(now))
                .col_expr(a::Column::NotifyErrcode, Expr::value(Option::<i64>::None)),
            Outcome::Retry { at, errcode } => update
                .col_expr(
                    a::Column::NotifyAttempts,
                    Expr::col(a::Column::NotifyAttempts).add(1),
                )
                .col_expr(a::Column::NotifyErrcode, Expr::value(errcode))
                .col_expr(a::Column::NotifyNextAt, Expr::value(at)),
            // Given up: no more tries.
            Outcome::Failed(errcode) | Outcome::Refused(errcode) => update
                .col_expr(a::Column::NotifyAttempts, Expr::value(MAX_ATTEMPTS))
                .col_expr(a::Column::NotifyErrcode, Expr::value(errcode)),
        };
        update.exec(&self.db).await.map_err(storage)?;
        Ok(())
    }

    async fn escalate_open(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        Ok(a::Entity::update_many()
            .col_expr(a::Column::EscalateAt, Expr::value(now))
            .filter(a::Column::AcknowledgedAt.is_null())
            .filter(a::Column::EscalateAt.gt(now))
            .exec(&self.db)
            .await
            .map_err(storage)?
            .rows_affected)
    }

    async fn set_on_duty(
        &self,
        staff: Uuid,
        on_duty: bool,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        d::Entity::insert(d::ActiveModel {
            staff_id: Set(staff.to_string()),
            on_duty: Set(on_duty),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(d::Column::StaffId)
                .update_columns([d::Column::OnDuty, d::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(&self.db)
        .await
        .map_err(storage)?;
        Ok(())
    }

    async fn on_duty(&self, staff: Uuid) -> Result<bool, RepoError> {
        Ok(d::Entity::find_by_id(staff.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
            .is_some_and(|r| r.on_duty))
    }

    async fn on_duty_count(&self) -> Result<u64, RepoError> {
        let ids: Vec<String> = d::Entity::find()
            .filter(d::Column::OnDuty.eq(true))
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|r| r.staff_id)
            .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        staff::Entity::find()
            .filter(staff::Column::Id.is_in(ids))
            .filter(staff::Column::Disabled.eq(false))
            .filter(staff::Column::Role.eq(xinli_domain::account::Role::Supervisor.as_str()))
            .count(&self.db)
            .await
            .map_err(storage)
    }
}

/// Within a person's account deletion: alerts about them stay for the figures (level, source,
/// times), without the lexicon's phrase or the supervisor's note, unlinked by the foreign key.
pub(crate) async fn forget_user(
    txn: &sea_orm::DatabaseTransaction,
    user: Uuid,
) -> Result<(), RepoError> {
    a::Entity::update_many()
        .col_expr(a::Column::Matched, Expr::value(""))
        .col_expr(a::Column::Note, Expr::value(Option::<String>::None))
        .filter(a::Column::UserId.eq(user.to_string()))
        .exec(txn)
        .await
        .map_err(storage)?;
    Ok(())
}
