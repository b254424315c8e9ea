//! The two-question survey on SeaORM: one table (`survey_answers`) for every service it
//! follows — a consultation, a station session, a lecture. The lecture store reaches it
//! through the functions below; consultations and sessions through [`SurveyStore`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;
use xinli_domain::lecture::SurveyAnswer;
use xinli_domain::survey::{Answered, MyAnswer, Service, SurveyRepository};
use xinli_domain::{Conflict, RepoError};

use crate::db::{corrupt, parse_id, repo_err, storage};
use crate::entities::survey_answers as a;

fn about(service: Service) -> Answered {
    match service {
        Service::Consultation => Answered::Consultation,
        Service::Booking => Answered::Booking,
    }
}

fn answer_of(m: &a::Model) -> SurveyAnswer {
    SurveyAnswer::stored(m.content, m.gain, m.comment.clone())
}

/// Stores one answer about `subject`; a second answer by the same person is
/// `Conflict::SurveyAnswered`.
pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    service: Answered,
    subject: Uuid,
    user: Uuid,
    answer: &SurveyAnswer,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    a::ActiveModel {
        id: Set(Uuid::now_v7().to_string()),
        service: Set(service.as_str().into()),
        subject_id: Set(subject.to_string()),
        user_id: Set(Some(user.to_string())),
        content: Set(i16::from(answer.content)),
        gain: Set(i16::from(answer.gain)),
        comment: Set(answer.comment.clone()),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(repo_err(Conflict::SurveyAnswered))?;
    Ok(())
}

/// The answers about one subject, oldest first.
pub(crate) async fn of_subject(
    db: &impl ConnectionTrait,
    service: Answered,
    subject: Uuid,
) -> Result<Vec<SurveyAnswer>, RepoError> {
    Ok(a::Entity::find()
        .filter(a::Column::Service.eq(service.as_str()))
        .filter(a::Column::SubjectId.eq(subject.to_string()))
        .order_by_asc(a::Column::CreatedAt)
        .all(db)
        .await
        .map_err(storage)?
        .iter()
        .map(answer_of)
        .collect())
}

/// The answers about one service given in `[from, to)`.
pub(crate) async fn between(
    db: &impl ConnectionTrait,
    service: Answered,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SurveyAnswer>, RepoError> {
    Ok(a::Entity::find()
        .filter(a::Column::Service.eq(service.as_str()))
        .filter(a::Column::CreatedAt.gte(from))
        .filter(a::Column::CreatedAt.lt(to))
        .all(db)
        .await
        .map_err(storage)?
        .iter()
        .map(answer_of)
        .collect())
}

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
        insert(&self.db, about(service), subject, user, answer, now).await
    }

    async fn answers_between(
        &self,
        service: Service,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SurveyAnswer>, RepoError> {
        between(&self.db, about(service), from, to).await
    }

    async fn answers_of_user(&self, user: Uuid) -> Result<Vec<MyAnswer>, RepoError> {
        a::Entity::find()
            .filter(a::Column::UserId.eq(user.to_string()))
            .order_by_asc(a::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(storage)?
            .iter()
            .map(|m| {
                let about = Answered::ALL
                    .into_iter()
                    .find(|s| s.as_str() == m.service)
                    .ok_or_else(|| corrupt("survey service", &m.service))?;
                Ok(MyAnswer {
                    about,
                    subject: parse_id(&m.subject_id)?,
                    answer: answer_of(m),
                    at: m.created_at,
                })
            })
            .collect()
    }
}

/// Within a person's account deletion: their comments go, about every service; the scores
/// stay for the figures, unlinked by the foreign key.
pub(crate) async fn forget_user(
    txn: &sea_orm::DatabaseTransaction,
    user: Uuid,
) -> Result<(), RepoError> {
    a::Entity::update_many()
        .col_expr(a::Column::Comment, Expr::value(Option::<String>::None))
        .filter(a::Column::UserId.eq(user.to_string()))
        .exec(txn)
        .await
        .map_err(storage)?;
    Ok(())
}
