//! The retention sweep (`xinli_domain::retention`): one transaction per kind, each an update
//! or delete bounded by the cutoff the domain computed, so that a second sweep finds nothing.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use xinli_domain::RepoError;
use xinli_domain::lecture::{Contact, Status as LectureStatus, expired_contact};
use xinli_domain::notification::Status as OutboxStatus;
use xinli_domain::retention::{Cutoffs, RetentionStore, Swept, audit_month};

use crate::db::{begin_write, corrupt, storage};
use crate::entities::{
    audit_counts, audit_log, booking_waitlist, bookings, lecture_requests, outbox, risk_alerts,
    subscription_grants, survey_answers,
};

/// A contact whose mobile is already gone (serde writes JSON compactly).
const BLANK_MOBILE: &str = "%\"mobile\":\"\"%";

/// Audit rows folded into counts per transaction.
const AUDIT_BATCH: u64 = 1000;

pub struct SeaRetentionStore {
    db: DatabaseConnection,
}

impl SeaRetentionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn booking_contacts(&self, c: &Cutoffs) -> Result<u64, RepoError> {
        use bookings::Column as b;
        let none = || Expr::value(Option::<String>::None);
        let done = bookings::Entity::update_many()
            .col_expr(b::Name, none())
            .col_expr(b::Phone, none())
            .col_expr(b::Note, none())
            .col_expr(b::CancelReason, none())
            .filter(b::EndAt.lt(c.sessions_before))
            .filter(
                Condition::any()
                    .add(b::Name.is_not_null())
                    .add(b::Phone.is_not_null())
                    .add(b::Note.is_not_null())
                    .add(b::CancelReason.is_not_null()),
            )
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(done.rows_affected)
    }

    async fn waitlist(&self, c: &Cutoffs) -> Result<u64, RepoError> {
        let done = booking_waitlist::Entity::delete_many()
            .filter(booking_waitlist::Column::StartAt.lt(c.waitlist_sessions_before))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(done.rows_affected)
    }

    async fn outbox(&self, c: &Cutoffs) -> Result<u64, RepoError> {
        use outbox::Column as o;
        let settled = [
            OutboxStatus::Sent,
            OutboxStatus::Refused,
            OutboxStatus::Failed,
            OutboxStatus::Skipped,
        ]
        .map(OutboxStatus::as_str);
        // Sent rows carry their sending time; the others were settled at their last due time.
        let old = Condition::all().add(o::Status.is_in(settled)).add(
            Condition::any()
                .add(o::SentAt.lt(c.outbox_settled_before))
                .add(
                    Condition::all()
                        .add(o::SentAt.is_null())
                        .add(o::DueAt.lt(c.outbox_settled_before)),
                ),
        );
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let ids: Vec<String> = outbox::Entity::find()
            .select_only()
            .column(o::Id)
            .filter(old)
            .into_tuple()
            .all(&txn)
            .await
            .map_err(storage)?;
        for chunk in ids.chunks(500) {
            subscription_grants::Entity::update_many()
                .col_expr(
                    subscription_grants::Column::OutboxId,
                    Expr::value(Option::<String>::None),
                )
                .filter(subscription_grants::Column::OutboxId.is_in(chunk.to_vec()))
                .exec(&txn)
                .await
                .map_err(storage)?;
            outbox::Entity::delete_many()
                .filter(o::Id.is_in(chunk.to_vec()))
                .exec(&txn)
                .await
                .map_err(storage)?;
        }
        txn.commit().await.map_err(storage)?;
        Ok(ids.len() as u64)
    }

    async fn comments(&self, c: &Cutoffs) -> Result<u64, RepoError> {
        let before = c.comments_written_before;
        let none = || Expr::value(Option::<String>::None);
        // Every service's survey comments, in one table.
        let surveys = survey_answers::Entity::update_many()
            .col_expr(survey_answers::Column::Comment, none())
            .filter(survey_answers::Column::CreatedAt.lt(before))
            .filter(survey_answers::Column::Comment.is_not_null())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        // A booking's rating is written after its session: the session's end is the earliest
        // it can have been written, so the comment never outlives its time.
        let booking = bookings::Entity::update_many()
            .col_expr(bookings::Column::RatingComment, none())
            .filter(bookings::Column::EndAt.lt(before))
            .filter(bookings::Column::RatingComment.is_not_null())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(surveys.rows_affected + booking.rows_affected)
    }

    async fn alert_words(&self, c: &Cutoffs) -> Result<u64, RepoError> {
        use risk_alerts::Column as a;
        let done = risk_alerts::Entity::update_many()
            .col_expr(a::Matched, Expr::value(""))
            .col_expr(a::Note, Expr::value(Option::<String>::None))
            .filter(a::AcknowledgedAt.lt(c.alerts_acknowledged_before))
            .filter(
                Condition::any()
                    .add(a::Matched.ne(""))
                    .add(a::Note.is_not_null()),
            )
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(done.rows_affected)
    }

    /// Folds one batch of old audit rows into monthly counts; returns how many it folded.
    async fn audit_batch(&self, c: &Cutoffs) -> Result<u64, RepoError> {
        use audit_log::Column as l;
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let rows = audit_log::Entity::find()
            .filter(l::At.lt(c.audit_before))
            .limit(AUDIT_BATCH)
            .all(&txn)
            .await
            .map_err(storage)?;
        let mut counts: BTreeMap<(String, String, String), i64> = BTreeMap::new();
        for r in &rows {
            *counts
                .entry((audit_month(r.at), r.action.clone(), r.actor_role.clone()))
                .or_default() += 1;
        }
        for ((month, action, actor_role), n) in counts {
            audit_counts::Entity::insert(audit_counts::ActiveModel {
                month: Set(month),
                action: Set(action),
                actor_role: Set(actor_role),
                count: Set(n),
            })
            .on_conflict(
                OnConflict::columns([
                    audit_counts::Column::Month,
                    audit_counts::Column::Action,
                    audit_counts::Column::ActorRole,
                ])
                .value(
                    audit_counts::Column::Count,
                    Expr::col((audit_counts::Entity, audit_counts::Column::Count)).add(n),
                )
                .to_owned(),
            )
            .exec(&txn)
            .await
            .map_err(storage)?;
        }
        let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
        let folded = ids.len() as u64;
        audit_log::Entity::delete_many()
            .filter(l::Id.is_in(ids))
            .exec(&txn)
            .await
            .map_err(storage)?;
        txn.commit().await.map_err(storage)?;
        Ok(folded)
    }

    async fn audit(&self, c: &Cutoffs) -> Result<u64, RepoError> {
        let mut total = 0;
        loop {
            let n = self.audit_batch(c).await?;
            total += n;
            if n < AUDIT_BATCH {
                return Ok(total);
            }
        }
    }

    async fn lecture_contacts(&self, c: &Cutoffs) -> Result<u64, RepoError> {
        use lecture_requests::Column as r;
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let finished = lecture_requests::Entity::find()
            .filter(r::Status.is_in(LectureStatus::FINISHED.map(LectureStatus::as_str)))
            .filter(r::UpdatedAt.lt(c.lectures_finished_before))
            .filter(
                Condition::any()
                    .add(r::Liaison.not_like(BLANK_MOBILE))
                    .add(r::Head.not_like(BLANK_MOBILE)),
            )
            .all(&txn)
            .await
            .map_err(storage)?;
        let mut done = 0;
        for m in finished {
            let liaison: Contact =
                serde_json::from_str(&m.liaison).map_err(|e| corrupt("liaison", e))?;
            let head: Contact = serde_json::from_str(&m.head).map_err(|e| corrupt("head", e))?;
            let (l2, h2) = (expired_contact(&liaison), expired_contact(&head));
            // A name already replaced (by this sweep or by the account's deletion) stays.
            let keep_name = |old: &Contact, new: Contact| {
                if old.mobile.is_empty() {
                    old.clone()
                } else {
                    new
                }
            };
            let (l2, h2) = (keep_name(&liaison, l2), keep_name(&head, h2));
            if l2 == liaison && h2 == head {
                continue;
            }
            let json = |c: &Contact| serde_json::to_string(c).map_err(|e| corrupt("contact", e));
            lecture_requests::Entity::update_many()
                .col_expr(r::Liaison, Expr::value(json(&l2)?))
                .col_expr(r::Head, Expr::value(json(&h2)?))
                .filter(r::Id.eq(m.id))
                .exec(&txn)
                .await
                .map_err(storage)?;
            done += 1;
        }
        txn.commit().await.map_err(storage)?;
        Ok(done)
    }
}

#[async_trait]
impl RetentionStore for SeaRetentionStore {
    async fn sweep(&self, c: &Cutoffs) -> Result<Swept, RepoError> {
        Ok(Swept {
            booking_contacts: self.booking_contacts(c).await?,
            waitlist: self.waitlist(c).await?,
            outbox: self.outbox(c).await?,
            comments: self.comments(c).await?,
            alert_words: self.alert_words(c).await?,
            audit: self.audit(c).await?,
            lecture_contacts: self.lecture_contacts(c).await?,
        })
    }
}
