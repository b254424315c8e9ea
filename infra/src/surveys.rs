//! The two-question survey of consultations and station sessions on SeaORM.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;
use xinli_domain::lecture::SurveyAnswer;
use xinli_domain::survey::{Answered, MyAnswer, Service, SurveyRepository};
use xinli_domain::{Conflict, RepoError};

use crate::db::{parse_id, repo_err, storage};
use crate::entities::{lecture_surveys as ls, service_surveys as s};

#[derive(Clone)]
pub struct SurveyStore {
    db: DatabaseConnection,
}

impl SurveyStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SurveyRepository for SurveyStore {
    async fn answer(
        &self,
        service: Service,
        subject: Uuid,
        user: Uuid,
        answer: &SurveyAnswer,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        s::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            service: Set(service.as_str().into()),
            subject_id: Set(subject.to_string()),
            user_id: Set(Some(user.to_string())),
            content: Set(i16::from(answer.content)),
            gain: Set(i16::from(answer.gain)),
            comment: Set(answer.comment.clone()),
            created_at: Set(now),
        }
        .insert(&self.db)
        .await
        .map_err(repo_err(Conflict::SurveyAnswered))?;
        Ok(())
    }

    async fn answers_between(
        &self,
        service: Service,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SurveyAnswer>, RepoError> {
        Ok(s::Entity::find()
            .filter(s::Column::Service.eq(service.as_str()))
            .filter(s::Column::CreatedAt.gte(from))
            .filter(s::Column::CreatedAt.lt(to))
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|m| SurveyAnswer::stored(m.content, m.gain, m.comment))
            .collect())
    }

    async fn answers_of_user(&self, user: Uuid) -> Result<Vec<MyAnswer>, RepoError> {
        let mut out = vec![];
        for m in s::Entity::find()
            .filter(s::Column::UserId.eq(user.to_string()))
            .all(&self.db)
            .await
            .map_err(storage)?
        {
            let about = if m.service == Service::Booking.as_str() {
                Answered::Booking
            } else {
                Answered::Consultation
            };
            out.push(MyAnswer {
                about,
                subject: parse_id(&m.subject_id)?,
                answer: SurveyAnswer::stored(m.content, m.gain, m.comment),
                at: m.created_at,
            });
        }
        for m in ls::Entity::find()
            .filter(ls::Column::UserId.eq(user.to_string()))
            .all(&self.db)
            .await
            .map_err(storage)?
        {
            out.push(MyAnswer {
                about: Answered::Lecture,
                subject: parse_id(&m.request_id)?,
                answer: SurveyAnswer::stored(m.content, m.gain, m.comment),
                at: m.created_at,
            });
        }
        out.sort_by_key(|a| a.at);
        Ok(out)
    }
}

/// Within a person's account deletion: their comments go; the scores stay for the figures,
/// unlinked by the foreign key.
pub(crate) async fn forget_user(
    txn: &sea_orm::DatabaseTransaction,
    user: Uuid,
) -> Result<(), RepoError> {
    s::Entity::update_many()
        .col_expr(
            s::Column::Comment,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .filter(s::Column::UserId.eq(user.to_string()))
        .exec(txn)
        .await
        .map_err(storage)?;
    Ok(())
}
