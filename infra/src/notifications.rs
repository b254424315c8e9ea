//! The outbox and the subscribe-message grants on SeaORM.
//!
//! Modules write outbox rows with [`enqueue`] inside the transaction of their event. The
//! worker claims due rows in a short transaction of its own (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, so that instances take different rows; SQLite's `BEGIN IMMEDIATE` serialises
//! them), marks them `sending` with a lease, sends outside any transaction and stores the
//! outcome. A worker that dies mid-send leaves a `sending` row whose lease ends: the row is
//! claimed again (at least once to WeChat); its idempotency key keeps it one row per event and
//! person.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;
use xinli_domain::RepoError;
use xinli_domain::notification::{
    Claimed, Event, Figure, MAX_UNUSED_GRANTS, Notice, NotificationRepository, Outcome, Payload,
    Status,
};
use xinli_domain::schedule::china_date;

use crate::db::{begin_write, parse_id, storage};
use crate::entities::{outbox, subscription_grants as grants, users};

/// The notice's outbox row, unless a row with its key exists already (one message per event
/// and person from our side). Call inside the transaction of the change that owes it; what
/// is owed is the domain's (`xinli_domain::notification::of_*`).
pub(crate) async fn enqueue(
    txn: &DatabaseTransaction,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let exists = outbox::Entity::find()
        .filter(outbox::Column::IdempotencyKey.eq(notice.key.clone()))
        .count(txn)
        .await
        .map_err(storage)?
        > 0;
    if exists {
        return Ok(());
    }
    outbox::ActiveModel {
        id: Set(Uuid::now_v7().to_string()),
        event: Set(notice.event.as_str().to_owned()),
        user_id: Set(notice.user.to_string()),
        booking_id: Set(notice.booking.map(|b| b.to_string())),
        idempotency_key: Set(notice.key.clone()),
        due_at: Set(notice.due_at),
        status: Set(Status::Pending.as_str().into()),
        attempts: Set(0),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        payload: Set(Some(
            serde_json::to_string(&notice.payload)
                .map_err(|e| RepoError::Storage(e.to_string()))?,
        )),
        lease_until: Set(None),
        errcode: Set(None),
    }
    .insert(txn)
    .await
    .map_err(storage)?;
    Ok(())
}

#[derive(Clone)]
pub struct NotificationStore {
    db: DatabaseConnection,
}

impl NotificationStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

async fn set_status(
    db: &impl ConnectionTrait,
    id: &str,
    status: Status,
    errcode: Option<i64>,
) -> Result<(), RepoError> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(status.as_str()))
        .col_expr(outbox::Column::Errcode, Expr::value(errcode))
        .col_expr(
            outbox::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(storage)?;
    Ok(())
}

#[async_trait]
impl NotificationRepository for NotificationStore {
    async fn record_grants(
        &self,
        user: Uuid,
        accepted: &[Event],
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<Event, u64>, RepoError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let mut unused = BTreeMap::new();
        for event in Event::ALL {
            let count = grants::Entity::find()
                .filter(grants::Column::UserId.eq(user.to_string()))
                .filter(grants::Column::Event.eq(event.as_str()))
                .filter(grants::Column::UsedAt.is_null())
                .count(&txn)
                .await
                .map_err(storage)?;
            let add = accepted.iter().filter(|e| **e == event).count() as u64;
            let add = add.min(MAX_UNUSED_GRANTS.saturating_sub(count));
            for _ in 0..add {
                grants::ActiveModel {
                    id: Set(Uuid::now_v7().to_string()),
                    user_id: Set(user.to_string()),
                    event: Set(event.as_str().to_owned()),
                    granted_at: Set(now),
                    used_at: Set(None),
                    outbox_id: Set(None),
                }
                .insert(&txn)
                .await
                .map_err(storage)?;
            }
            if count + add > 0 {
                unused.insert(event, count + add);
            }
        }
        txn.commit().await.map_err(storage)?;
        Ok(unused)
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u64,
        configured: &[Event],
    ) -> Result<Vec<Claimed>, RepoError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let mut q = outbox::Entity::find()
            .filter(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(outbox::Column::Status.eq(Status::Pending.as_str()))
                            .add(outbox::Column::DueAt.lte(now)),
                    )
                    .add(
                        Condition::all()
                            .add(outbox::Column::Status.eq(Status::Sending.as_str()))
                            .add(outbox::Column::LeaseUntil.lt(now)),
                    ),
            )
            .order_by_asc(outbox::Column::DueAt)
            .order_by_asc(outbox::Column::Id)
            .limit(limit);
        if self.db.get_database_backend() == DbBackend::Postgres {
            q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = q.all(&txn).await.map_err(storage)?;
        let mut claimed = vec![];
        for row in rows {
            let Some(event) = Event::parse(&row.event) else {
                set_status(&txn, &row.id, Status::Failed, None).await?;
                continue;
            };
            if !configured.contains(&event) {
                set_status(&txn, &row.id, Status::Skipped, None).await?;
                continue;
            }
            // The grant this row spent before (a retry), or a new one.
            let grant = match grants::Entity::find()
                .filter(grants::Column::OutboxId.eq(row.id.clone()))
                .one(&txn)
                .await
                .map_err(storage)?
            {
                Some(g) => Some(g),
                None => grants::Entity::find()
                    .filter(grants::Column::UserId.eq(row.user_id.clone()))
                    .filter(grants::Column::Event.eq(row.event.clone()))
                    .filter(grants::Column::UsedAt.is_null())
                    .order_by_asc(grants::Column::GrantedAt)
                    .order_by_asc(grants::Column::Id)
                    .one(&txn)
                    .await
                    .map_err(storage)?,
            };
            let Some(grant) = grant else {
                set_status(&txn, &row.id, Status::Skipped, None).await?;
                continue;
            };
            let openid = users::Entity::find_by_id(row.user_id.clone())
                .one(&txn)
                .await
                .map_err(storage)?
                .map(|u| u.openid);
            let Some(openid) = openid else {
                set_status(&txn, &row.id, Status::Skipped, None).await?;
                continue;
            };
            grants::Entity::update_many()
                .col_expr(grants::Column::UsedAt, Expr::value(now))
                .col_expr(grants::Column::OutboxId, Expr::value(row.id.clone()))
                .filter(grants::Column::Id.eq(grant.id))
                .exec(&txn)
                .await
                .map_err(storage)?;
            let attempts = row.attempts + 1;
            outbox::Entity::update_many()
                .col_expr(
                    outbox::Column::Status,
                    Expr::value(Status::Sending.as_str()),
                )
                .col_expr(outbox::Column::LeaseUntil, Expr::value(now + lease))
                .col_expr(outbox::Column::Attempts, Expr::value(attempts))
                .filter(outbox::Column::Id.eq(row.id.clone()))
                .exec(&txn)
                .await
                .map_err(storage)?;
            let payload: Payload = row
                .payload
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or_default();
            claimed.push(Claimed {
                id: parse_id(&row.id)?,
                event,
                openid,
                payload,
                attempts,
            });
        }
        txn.commit().await.map_err(storage)?;
        Ok(claimed)
    }

    async fn finish(
        &self,
        id: Uuid,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let mut update = outbox::Entity::update_many().col_expr(
            outbox::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
        let (status, errcode) = match outcome {
            Outcome::Sent => {
                update = update.col_expr(outbox::Column::SentAt, Expr::value(now));
                (Status::Sent, None)
            }
            Outcome::Refused(code) => (Status::Refused, Some(code)),
            Outcome::Failed(code) => (Status::Failed, Some(code)),
            Outcome::Retry { at, errcode } => {
                update = update.col_expr(outbox::Column::DueAt, Expr::value(at));
                (Status::Pending, Some(errcode))
            }
        };
        update
            .col_expr(outbox::Column::Status, Expr::value(status.as_str()))
            .col_expr(outbox::Column::Errcode, Expr::value(errcode))
            .filter(outbox::Column::Id.eq(id.to_string()))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(())
    }

    async fn figures(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<Figure>, Vec<(String, i64, u64)>), RepoError> {
        let rows: Vec<(String, DateTime<Utc>, String, Option<i64>)> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::Event)
            .column(outbox::Column::CreatedAt)
            .column(outbox::Column::Status)
            .column(outbox::Column::Errcode)
            .filter(outbox::Column::CreatedAt.gte(from))
            .filter(outbox::Column::CreatedAt.lt(to))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(storage)?;
        let mut figures: BTreeMap<(String, chrono::NaiveDate, String), u64> = BTreeMap::new();
        let mut failures: BTreeMap<(String, i64), u64> = BTreeMap::new();
        for (event, created, status, errcode) in rows {
            if status == Status::Failed.as_str() || status == Status::Refused.as_str() {
                *failures
                    .entry((event.clone(), errcode.unwrap_or(0)))
                    .or_default() += 1;
            }
            *figures
                .entry((event, china_date(created), status))
                .or_default() += 1;
        }
        Ok((
            figures
                .into_iter()
                .map(|((event, date, status), count)| Figure {
                    event,
                    date,
                    status,
                    count,
                })
                .collect(),
            failures
                .into_iter()
                .map(|((event, code), count)| (event, code, count))
                .collect(),
        ))
    }

    async fn withdraw(&self, key: &str) -> Result<bool, RepoError> {
        let res = outbox::Entity::delete_many()
            .filter(outbox::Column::IdempotencyKey.eq(key))
            .filter(outbox::Column::Status.eq(Status::Pending.as_str()))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(res.rows_affected > 0)
    }

    async fn grants_of(
        &self,
        user: Uuid,
    ) -> Result<Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)>, RepoError> {
        Ok(grants::Entity::find()
            .filter(grants::Column::UserId.eq(user.to_string()))
            .order_by_asc(grants::Column::GrantedAt)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|g| (g.event, g.granted_at, g.used_at))
            .collect())
    }
}
