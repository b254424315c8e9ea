//! The consultation queue on SeaORM.
//!
//! Claims are atomic on both databases. PostgreSQL: the counselor's status row is locked
//! (`FOR UPDATE`), so one counselor's concurrent claims cannot exceed their capacity, and the
//! next entry is taken with `FOR UPDATE SKIP LOCKED`, so concurrent counselors take different
//! people. SQLite: the whole claim runs in a `BEGIN IMMEDIATE` transaction, which serialises
//! writers (SQLite drops the row-lock clauses). On both, the final update only succeeds if the
//! entry is still waiting.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType, Order};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use uuid::Uuid;
use xinli_domain::consultation::{
    ChatRepository, ClaimRefusal, Consultation, ConsultationPrivacy, ConsultationReporting,
    ConsultationRepository, ConsultationStats, CounselorState, Effect, Message, OnDeletion,
    Priority, Sender, Status, is_satisfied, may_claim, on_account_deletion, percentiles,
};
use xinli_domain::page::{Page, PageRequest};
use xinli_domain::{Conflict, RepoError};

use crate::db::{begin_write, fetch_page, parse_id, repo_err, storage};
use crate::entities::{consultation_messages as messages, consultations as c, counselor_status};

#[derive(Clone)]
pub struct ConsultationStore {
    db: DatabaseConnection,
}

impl ConsultationStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    fn postgres(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }
}

fn opt_id(s: &Option<String>) -> Result<Option<Uuid>, RepoError> {
    s.as_deref().map(parse_id).transpose()
}

fn from_row(m: c::Model) -> Result<Consultation, RepoError> {
    Ok(Consultation {
        id: parse_id(&m.id)?,
        user_id: opt_id(&m.user_id)?,
        status: Status::parse(&m.status)
            .ok_or_else(|| RepoError::Storage(format!("corrupt status {:?}", m.status)))?,
        priority: Priority::from_rank(m.priority)
            .ok_or_else(|| RepoError::Storage(format!("corrupt priority {}", m.priority)))?,
        counselor_id: opt_id(&m.counselor_id)?,
        assigned_to: opt_id(&m.assigned_to)?,
        topic: m.topic,
        description: m.description,
        callback_phone: m.callback_phone,
        priority_reason: m.priority_reason,
        front: m.front,
        created_at: m.created_at,
        queued_at: m.queued_at,
        claimed_at: m.claimed_at,
        first_claimed_at: m.first_claimed_at,
        closed_at: m.closed_at,
        ended_at: m.ended_at,
        rating: m.rating.and_then(|r| u8::try_from(r).ok()),
        rating_comment: m.rating_comment,
        rating_flagged: m.rating_flagged,
        note: m.counselor_note,
    })
}

fn message_from_row(m: messages::Model) -> Result<Message, RepoError> {
    Ok(Message {
        id: parse_id(&m.id)?,
        consultation_id: parse_id(&m.consultation_id)?,
        seq: m.seq,
        sender: Sender::parse(&m.sender)
            .ok_or_else(|| RepoError::Storage(format!("corrupt sender {:?}", m.sender)))?,
        sender_id: opt_id(&m.sender_id)?,
        text: m.text,
        created_at: m.created_at,
    })
}

/// Appends a message with the next sequence number, inside the caller's transaction (which
/// holds the consultation's row, so numbers are never given twice).
async fn insert_message(
    txn: &DatabaseTransaction,
    consultation_id: Uuid,
    sender: Sender,
    sender_id: Option<Uuid>,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Message, RepoError> {
    let cid = consultation_id.to_string();
    let last: Option<i64> = messages::Entity::find()
        .select_only()
        .column_as(messages::Column::Seq.max(), "seq")
        .filter(messages::Column::ConsultationId.eq(cid.clone()))
        .into_tuple::<Option<i64>>()
        .one(txn)
        .await
        .map_err(storage)?
        .flatten();
    let row = messages::ActiveModel {
        id: Set(Uuid::now_v7().to_string()),
        consultation_id: Set(cid),
        seq: Set(last.unwrap_or(0) + 1),
        sender: Set(sender.as_str().to_owned()),
        sender_id: Set(sender_id.map(|s| s.to_string())),
        text: Set(text.to_owned()),
        created_at: Set(now),
    }
    .insert(txn)
    .await
    .map_err(storage)?;
    message_from_row(row)
}

/// Waiting entries a counselor may take, assigned to them or in the shared pool:
/// `domain::consultation::takeable_by` in SQL.
fn takeable_by(counselor: Uuid) -> Condition {
    Condition::all()
        .add(c::Column::Status.eq(Status::Waiting.as_str()))
        .add(
            Condition::any()
                .add(c::Column::AssignedTo.eq(counselor.to_string()))
                .add(c::Column::AssignedTo.is_null()),
        )
}

/// `domain::consultation::claim_cmp` in SQL (a test holds them equal): assigned entries sort
/// before pool entries (`assigned_to IS NULL` false < true), then `queue_cmp`.
fn in_queue_order(q: sea_orm::Select<c::Entity>) -> sea_orm::Select<c::Entity> {
    pool_order(q.order_by(Expr::col(c::Column::AssignedTo).is_null(), Order::Asc))
}

/// Queue order within the pool or within one counselor's transfers: the column order of
/// the partial indexes of migration 000008, so that the next entry is one index read.
fn pool_order(q: sea_orm::Select<c::Entity>) -> sea_orm::Select<c::Entity> {
    q.order_by_desc(c::Column::Priority)
        .order_by_desc(c::Column::Front)
        .order_by_asc(c::Column::QueuedAt)
        .order_by_asc(c::Column::Id)
}

/// The id of the next entry for `counselor`, as one SQL expression: first those transferred
/// to them by name, then the shared pool (`COALESCE` of two subqueries, each matching a
/// partial index, the second read only when the first finds nobody), locked on PostgreSQL
/// (`FOR UPDATE SKIP LOCKED`, so concurrent counselors take different people). The status is
/// a literal so that both databases can prove the indexes' condition (with a bound parameter
/// they cannot, and sort everyone waiting instead).
fn next_for(counselor: Uuid, postgres: bool) -> Expr {
    let first = |whose: Expr| {
        let q = pool_order(
            c::Entity::find()
                .select_only()
                .column(c::Column::Id)
                .filter(Expr::cust("status = 'waiting'"))
                .filter(whose),
        )
        .limit(1);
        let q = if postgres {
            q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        } else {
            q
        };
        Expr::SubQuery(None, Box::new(q.into_query().into()))
    };
    Func::coalesce([
        first(c::Column::AssignedTo.eq(counselor.to_string())),
        first(Expr::cust("assigned_to IS NULL")),
    ])
    .into()
}

/// Runs `update` with `RETURNING`: the row as written, without reading it again.
async fn returning(
    update: sea_orm::UpdateMany<c::Entity>,
    db: &impl sea_orm::ConnectionTrait,
) -> Result<Option<Consultation>, RepoError> {
    update
        .exec_with_returning(db)
        .await
        .map_err(storage)?
        .pop()
        .map(from_row)
        .transpose()
}

#[async_trait]
impl ConsultationRepository for ConsultationStore {
    async fn create(&self, x: &Consultation) -> Result<(), RepoError> {
        let user = x.user_id.map(|u| u.to_string());
        c::ActiveModel {
            id: Set(x.id.to_string()),
            user_id: Set(user.clone()),
            open_key: Set(user),
            topic: Set(x.topic.clone()),
            description: Set(x.description.clone()),
            callback_phone: Set(x.callback_phone.clone()),
            status: Set(x.status.as_str().to_owned()),
            priority: Set(x.priority.rank()),
            priority_reason: Set(x.priority_reason.clone()),
            counselor_id: Set(None),
            assigned_to: Set(None),
            front: Set(false),
            created_at: Set(x.created_at),
            queued_at: Set(x.queued_at),
            claimed_at: Set(None),
            first_claimed_at: Set(None),
            closed_at: Set(None),
            ended_at: Set(None),
            counselor_note: Set(None),
            rating: Set(None),
            rating_comment: Set(None),
            rating_flagged: Set(false),
        }
        .insert(&self.db)
        .await
        .map_err(repo_err(Conflict::OpenConsultation))?;
        Ok(())
    }

    async fn find(&self, id: Uuid) -> Result<Option<Consultation>, RepoError> {
        c::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(from_row)
            .transpose()
    }

    async fn list_of_user(
        &self,
        user_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<Consultation>, RepoError> {
        let query = c::Entity::find()
            .filter(c::Column::UserId.eq(user_id.to_string()))
            .order_by_desc(c::Column::CreatedAt)
            .order_by_desc(c::Column::Id);
        fetch_page(&self.db, query, page, from_row).await
    }

    async fn active_of_counselor(
        &self,
        counselor_id: Uuid,
    ) -> Result<Vec<Consultation>, RepoError> {
        c::Entity::find()
            .filter(c::Column::CounselorId.eq(counselor_id.to_string()))
            .filter(c::Column::Status.eq(Status::Active.as_str()))
            .order_by_asc(c::Column::ClaimedAt)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn apply(
        &self,
        id: Uuid,
        from: Status,
        effect: Effect,
        now: DateTime<Utc>,
    ) -> Result<Option<Consultation>, RepoError> {
        let null_str = || Expr::value(Option::<String>::None);
        let null_time = || Expr::value(Option::<DateTime<Utc>>::None);
        let mut update = c::Entity::update_many()
            .filter(c::Column::Id.eq(id.to_string()))
            .filter(c::Column::Status.eq(from.as_str()))
            .col_expr(c::Column::Status, Expr::value(effect.status.as_str()))
            .col_expr(
                c::Column::AssignedTo,
                Expr::value(effect.assigned_to.map(|u| u.to_string())),
            )
            .col_expr(c::Column::Front, Expr::value(effect.front));
        if effect.unclaimed {
            update = update
                .col_expr(c::Column::CounselorId, null_str())
                .col_expr(c::Column::ClaimedAt, null_time());
        }
        if effect.closes {
            update = update.col_expr(c::Column::ClosedAt, Expr::value(now));
        }
        if effect.ends {
            update = update
                .col_expr(c::Column::OpenKey, null_str())
                .col_expr(c::Column::EndedAt, Expr::value(now));
        }
        if let Some(note) = effect.note {
            update = update.col_expr(c::Column::CounselorNote, Expr::value(note));
        }
        let Some(notice) = effect.notice else {
            // One statement: nothing else to write with it.
            return returning(update, &self.db).await;
        };
        let txn = begin_write(&self.db).await.map_err(storage)?;
        // The update locks the row (PostgreSQL) or the database (SQLite) until the notice
        // is in: a reader sees both or neither.
        let Some(row) = returning(update, &txn).await? else {
            return Ok(None);
        };
        insert_message(&txn, id, Sender::System, None, notice, now).await?;
        txn.commit().await.map_err(storage)?;
        Ok(Some(row))
    }

    async fn claim_next(
        &self,
        counselor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Result<Option<Consultation>, ClaimRefusal>, RepoError> {
        let me = counselor_id.to_string();
        let postgres = self.postgres();
        let txn = begin_write(&self.db).await.map_err(storage)?;
        // The counselor's status row, locked on PostgreSQL so that their own concurrent
        // claims wait for each other; then, in a statement of its own (whose snapshot follows
        // the lock), how many people they serve.
        let mut status_q = counselor_status::Entity::find_by_id(me.clone());
        if postgres {
            status_q = status_q.lock(LockType::Update);
        }
        let status = status_q.one(&txn).await.map_err(storage)?;
        let online = status.as_ref().map(|s| s.online);
        let capacity = status.map_or(0, |s| u8::try_from(s.capacity).unwrap_or(0));
        let active = if online == Some(true) {
            c::Entity::find()
                .filter(c::Column::CounselorId.eq(me.clone()))
                .filter(c::Column::Status.eq(Status::Active.as_str()))
                .count(&txn)
                .await
                .map_err(storage)?
        } else {
            0
        };
        if let Err(refusal) = may_claim(online, capacity, active) {
            return Ok(Err(refusal));
        }
        // One statement: pick the next entry and take it.
        let claim = c::Entity::update_many()
            .col_expr(c::Column::Status, Expr::value(Status::Active.as_str()))
            .col_expr(c::Column::CounselorId, Expr::value(me))
            .col_expr(c::Column::AssignedTo, Expr::value(Option::<String>::None))
            .col_expr(c::Column::Front, Expr::value(false))
            .col_expr(c::Column::ClaimedAt, Expr::value(now))
            .col_expr(
                c::Column::FirstClaimedAt,
                Expr::from(Func::coalesce([
                    Expr::col(c::Column::FirstClaimedAt),
                    Expr::value(now),
                ])),
            )
            .filter(Expr::col(c::Column::Id).eq(next_for(counselor_id, postgres)))
            .filter(c::Column::Status.eq(Status::Waiting.as_str()));
        let Some(claimed) = returning(claim, &txn).await? else {
            txn.commit().await.map_err(storage)?;
            return Ok(Ok(None));
        };
        if let Some(notice) = xinli_domain::notification::of_claim(&claimed, now) {
            crate::notifications::enqueue(&txn, &notice, now).await?;
        }
        txn.commit().await.map_err(storage)?;
        Ok(Ok(Some(claimed)))
    }

    async fn queue_for(
        &self,
        counselor_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<Consultation>, RepoError> {
        fetch_page(
            &self.db,
            in_queue_order(c::Entity::find().filter(takeable_by(counselor_id))),
            page,
            from_row,
        )
        .await
    }

    async fn waiting(&self) -> Result<Vec<Consultation>, RepoError> {
        in_queue_order(c::Entity::find().filter(c::Column::Status.eq(Status::Waiting.as_str())))
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn position(&self, t: &Consultation) -> Result<u64, RepoError> {
        // Ahead in `queue_cmp` order: higher priority; or equal and handed back (`front`)
        // while `t` is not; or equal on both and earlier; or the same moment, smaller id.
        let (p, f) = (t.priority.rank(), t.front);
        let same = || {
            Condition::all()
                .add(c::Column::Priority.eq(p))
                .add(c::Column::Front.eq(f))
        };
        let ahead = Condition::any()
            .add(c::Column::Priority.gt(p))
            .add(
                Condition::all()
                    .add(c::Column::Priority.eq(p))
                    .add(c::Column::Front.gt(f)),
            )
            .add(same().add(c::Column::QueuedAt.lt(t.queued_at)))
            .add(
                same()
                    .add(c::Column::QueuedAt.eq(t.queued_at))
                    .add(c::Column::Id.lt(t.id.to_string())),
            );
        let group = match t.assigned_to {
            Some(a) => Condition::all().add(c::Column::AssignedTo.eq(a.to_string())),
            None => Condition::all().add(Expr::cust("assigned_to IS NULL")),
        };
        c::Entity::find()
            .filter(Expr::cust("status = 'waiting'"))
            .filter(group)
            .filter(ahead)
            .filter(c::Column::Id.ne(t.id.to_string()))
            .count(&self.db)
            .await
            .map_err(storage)
    }

    async fn set_counselor_state(
        &self,
        staff_id: Uuid,
        online: bool,
        capacity: u8,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        counselor_status::Entity::insert(counselor_status::ActiveModel {
            staff_id: Set(staff_id.to_string()),
            online: Set(online),
            capacity: Set(i16::from(capacity)),
            updated_at: Set(now),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(counselor_status::Column::StaffId)
                .update_columns([
                    counselor_status::Column::Online,
                    counselor_status::Column::Capacity,
                    counselor_status::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&self.db)
        .await
        .map_err(storage)?;
        Ok(())
    }

    async fn counselor_states(&self) -> Result<Vec<CounselorState>, RepoError> {
        let rows = counselor_status::Entity::find()
            .all(&self.db)
            .await
            .map_err(storage)?;
        let active: Vec<(Option<String>, i64)> = c::Entity::find()
            .select_only()
            .column(c::Column::CounselorId)
            .column_as(c::Column::Id.count(), "n")
            .filter(c::Column::Status.eq(Status::Active.as_str()))
            .group_by(c::Column::CounselorId)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(storage)?;
        let active: HashMap<String, i64> = active
            .into_iter()
            .filter_map(|(k, n)| k.map(|k| (k, n)))
            .collect();
        rows.into_iter()
            .map(|r| {
                Ok(CounselorState {
                    staff_id: parse_id(&r.staff_id)?,
                    online: r.online,
                    capacity: u8::try_from(r.capacity).unwrap_or(1),
                    active: u32::try_from(active.get(&r.staff_id).copied().unwrap_or(0))
                        .unwrap_or(0),
                })
            })
            .collect()
    }

    async fn raise_priority(
        &self,
        id: Uuid,
        priority: Priority,
        reason: &str,
    ) -> Result<bool, RepoError> {
        let done = c::Entity::update_many()
            .col_expr(c::Column::Priority, Expr::value(priority.rank()))
            .col_expr(c::Column::PriorityReason, Expr::value(reason))
            .filter(c::Column::Id.eq(id.to_string()))
            .filter(c::Column::Status.eq(Status::Waiting.as_str()))
            .filter(c::Column::Priority.lt(priority.rank()))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(done.rows_affected > 0)
    }

    async fn waiting_since_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Consultation>, RepoError> {
        c::Entity::find()
            .filter(c::Column::Status.eq(Status::Waiting.as_str()))
            .filter(c::Column::CreatedAt.lt(cutoff))
            // Someone already served and handed back (transfer, silent counselor) is mid-help:
            // they wait for the next counselor instead of expiring.
            .filter(c::Column::FirstClaimedAt.is_null())
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn active_claimed_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Consultation>, RepoError> {
        c::Entity::find()
            .filter(c::Column::Status.eq(Status::Active.as_str()))
            .filter(c::Column::ClaimedAt.lt(cutoff))
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }
}

#[async_trait]
impl ChatRepository for ConsultationStore {
    async fn add_message(
        &self,
        consultation_id: Uuid,
        sender: Sender,
        sender_id: Option<Uuid>,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Message, RepoError> {
        let cid = consultation_id.to_string();
        let txn = begin_write(&self.db).await.map_err(storage)?;
        // Locked on PostgreSQL: serialises sequence numbers per consultation.
        let mut q = c::Entity::find_by_id(cid.clone());
        if self.postgres() {
            q = q.lock(LockType::Update);
        }
        let consultation = q.one(&txn).await.map_err(storage)?;
        let user = consultation
            .as_ref()
            .and_then(|c| c.user_id.as_deref())
            .map(parse_id)
            .transpose()?;
        if let Some(notice) =
            xinli_domain::notification::of_message(consultation_id, user, sender, now)
        {
            crate::notifications::enqueue(&txn, &notice, now).await?;
        }
        let message = insert_message(&txn, consultation_id, sender, sender_id, text, now).await?;
        txn.commit().await.map_err(storage)?;
        Ok(message)
    }

    async fn messages_after(
        &self,
        consultation_id: Uuid,
        after: i64,
        limit: u64,
    ) -> Result<Vec<Message>, RepoError> {
        messages::Entity::find()
            .filter(messages::Column::ConsultationId.eq(consultation_id.to_string()))
            .filter(messages::Column::Seq.gt(after))
            .order_by_asc(messages::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(message_from_row)
            .collect()
    }

    async fn counselor_wrote_since(
        &self,
        consultation_id: Uuid,
        since: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let n = messages::Entity::find()
            .filter(messages::Column::ConsultationId.eq(consultation_id.to_string()))
            .filter(messages::Column::Sender.eq(Sender::Counselor.as_str()))
            .filter(messages::Column::CreatedAt.gte(since))
            .count(&self.db)
            .await
            .map_err(storage)?;
        Ok(n > 0)
    }
}

#[async_trait]
impl ConsultationReporting for ConsultationStore {
    async fn rate(
        &self,
        id: Uuid,
        score: u8,
        comment: Option<String>,
        flagged: bool,
    ) -> Result<bool, RepoError> {
        let res = c::Entity::update_many()
            .col_expr(c::Column::Rating, Expr::value(i16::from(score)))
            .col_expr(c::Column::RatingComment, Expr::value(comment))
            .col_expr(c::Column::RatingFlagged, Expr::value(flagged))
            .filter(c::Column::Id.eq(id.to_string()))
            .filter(c::Column::Status.eq(Status::Closed.as_str()))
            .filter(c::Column::Rating.is_null())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(res.rows_affected == 1)
    }

    async fn recent_handling(&self, sample: u64) -> Result<Option<(Duration, u64)>, RepoError> {
        let rows = c::Entity::find()
            .filter(c::Column::Status.eq(Status::Closed.as_str()))
            .filter(c::Column::ClaimedAt.is_not_null())
            .order_by_desc(c::Column::ClosedAt)
            .limit(sample)
            .all(&self.db)
            .await
            .map_err(storage)?;
        let durations: Vec<i64> = rows
            .iter()
            .filter_map(|r| Some((r.closed_at? - r.claimed_at?).num_seconds()))
            .filter(|s| *s >= 0)
            .collect();
        if durations.is_empty() {
            return Ok(None);
        }
        let n = durations.len() as i64;
        Ok(Some((
            Duration::seconds(durations.iter().sum::<i64>() / n),
            n as u64,
        )))
    }

    async fn stats(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<ConsultationStats, RepoError> {
        let rows: Vec<Consultation> = c::Entity::find()
            .filter(c::Column::CreatedAt.gte(from))
            .filter(c::Column::CreatedAt.lt(to))
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect::<Result<_, _>>()?;
        let mut by_status: HashMap<Status, u64> = HashMap::new();
        let mut by_priority: HashMap<Priority, u64> = HashMap::new();
        for r in &rows {
            *by_status.entry(r.status).or_default() += 1;
            *by_priority.entry(r.priority).or_default() += 1;
        }
        let waits = rows
            .iter()
            .filter_map(|r| Some((r.first_claimed_at? - r.created_at).num_seconds()))
            .collect();
        let handling = rows
            .iter()
            .filter_map(|r| Some((r.closed_at? - r.claimed_at?).num_seconds()))
            .collect();
        let ratings: Vec<u8> = rows.iter().filter_map(|r| r.rating).collect();
        let (wait_median, wait_p90) = percentiles(waits);
        let (handling_median, _) = percentiles(handling);
        let satisfied = ratings.iter().filter(|r| is_satisfied(**r)).count();
        let mut by_status: Vec<(Status, u64)> = by_status.into_iter().collect();
        by_status.sort_by_key(|(s, _)| s.as_str());
        let mut by_priority: Vec<(Priority, u64)> = by_priority.into_iter().collect();
        by_priority.sort_by_key(|(p, _)| std::cmp::Reverse(*p));
        Ok(ConsultationStats {
            by_status,
            by_priority,
            wait_median,
            wait_p90,
            handling_median,
            ratings: ratings.len() as u64,
            satisfaction_rate: (!ratings.is_empty())
                .then(|| satisfied as f64 / ratings.len() as f64),
            flagged_ratings: rows.iter().filter(|r| r.rating_flagged).count() as u64,
        })
    }
}

#[async_trait]
impl ConsultationPrivacy for ConsultationStore {
    async fn purge_chats_ended_before(&self, cutoff: DateTime<Utc>) -> Result<u64, RepoError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let ended = || {
            Condition::all()
                .add(c::Column::EndedAt.lt(cutoff))
                .add(c::Column::Status.is_in([
                    Status::Closed.as_str(),
                    Status::Cancelled.as_str(),
                    Status::Expired.as_str(),
                ]))
        };
        let ids: Vec<String> = c::Entity::find()
            .select_only()
            .column(c::Column::Id)
            .filter(ended())
            .filter(
                Condition::any()
                    .add(c::Column::Description.ne(""))
                    .add(c::Column::CallbackPhone.is_not_null())
                    .add(c::Column::RatingComment.is_not_null())
                    .add(
                        c::Column::Id.in_subquery(
                            sea_orm::sea_query::Query::select()
                                .column(messages::Column::ConsultationId)
                                .from(messages::Entity)
                                .to_owned(),
                        ),
                    ),
            )
            .into_tuple()
            .all(&txn)
            .await
            .map_err(storage)?;
        for chunk in ids.chunks(500) {
            messages::Entity::delete_many()
                .filter(messages::Column::ConsultationId.is_in(chunk.to_vec()))
                .exec(&txn)
                .await
                .map_err(storage)?;
            c::Entity::update_many()
                .col_expr(c::Column::Description, Expr::value(""))
                .col_expr(
                    c::Column::CallbackPhone,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    c::Column::RatingComment,
                    Expr::value(Option::<String>::None),
                )
                .filter(c::Column::Id.is_in(chunk.to_vec()))
                .exec(&txn)
                .await
                .map_err(storage)?;
        }
        txn.commit().await.map_err(storage)?;
        Ok(ids.len() as u64)
    }

    async fn messages_of_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<(Consultation, Vec<Message>)>, RepoError> {
        let rows = c::Entity::find()
            .filter(c::Column::UserId.eq(user_id.to_string()))
            .order_by_asc(c::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(storage)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id = parse_id(&row.id)?;
            out.push((
                from_row(row)?,
                self.messages_after(id, 0, u64::MAX / 2).await?,
            ));
        }
        Ok(out)
    }
}

/// Within a person's account deletion: deletes what belongs to them, open requests and every
/// message; closed consultations stay for the counselor's record and the statistics, with the
/// person's link, words and the reason of their priority removed.
pub(crate) async fn forget_user(
    txn: &sea_orm::DatabaseTransaction,
    user_id: Uuid,
) -> Result<(), RepoError> {
    let user = user_id.to_string();
    let ids: Vec<String> = c::Entity::find()
        .select_only()
        .column(c::Column::Id)
        .filter(c::Column::UserId.eq(user.clone()))
        .into_tuple()
        .all(txn)
        .await
        .map_err(storage)?;
    messages::Entity::delete_many()
        .filter(messages::Column::ConsultationId.is_in(ids))
        .exec(txn)
        .await
        .map_err(storage)?;
    // `domain::consultation::on_account_deletion` decides, per status.
    let (delete, anonymise): (Vec<Status>, Vec<Status>) = Status::ALL
        .into_iter()
        .partition(|s| on_account_deletion(*s) == OnDeletion::Delete);
    let names = |v: Vec<Status>| v.into_iter().map(Status::as_str).collect::<Vec<_>>();
    c::Entity::delete_many()
        .filter(c::Column::UserId.eq(user.clone()))
        .filter(c::Column::Status.is_in(names(delete)))
        .exec(txn)
        .await
        .map_err(storage)?;
    c::Entity::update_many()
        .col_expr(c::Column::UserId, Expr::value(Option::<String>::None))
        .col_expr(c::Column::Description, Expr::value(""))
        .col_expr(
            c::Column::CallbackPhone,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            c::Column::RatingComment,
            Expr::value(Option::<String>::None),
        )
        .col_expr(c::Column::PriorityReason, Expr::value(""))
        .filter(c::Column::UserId.eq(user))
        .filter(c::Column::Status.is_in(names(anonymise)))
        .exec(txn)
        .await
        .map_err(storage)?;
    Ok(())
}
