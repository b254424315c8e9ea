//! The lecture menu and the units' requests on SeaORM. Transitions are decided by
//! `xinli_domain::lecture::transition`; this stores them with a compare-and-set on the state,
//! and writes the liaison's message into the outbox in the same transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;
use xinli_domain::lecture::{
    Contact, LectureRepository, LectureRequest, Participation, RequestInput, Series, Status, Step,
    SurveyAnswer, Topic, TopicInput, tells_liaison,
};
use xinli_domain::page::{Page, PageRequest};
use xinli_domain::screening::FrozenCounts;
use xinli_domain::survey::Answered;
use xinli_domain::{Conflict, RepoError};

use crate::db::{begin_write, corrupt, fetch_page, parse_id, repo_err, storage};
use crate::entities::{
    assessments, lecture_requests as r, lecture_series as s, lecture_topics as t,
    screening_entries as se, screening_reports as sr,
};

#[derive(Clone)]
pub struct LectureStore {
    db: DatabaseConnection,
}

impl LectureStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn series_names(&self) -> Result<HashMap<String, s::Model>, RepoError> {
        Ok(s::Entity::find()
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect())
    }
}

fn topic_from(m: t::Model, series: &HashMap<String, s::Model>) -> Result<Topic, RepoError> {
    Ok(Topic {
        id: parse_id(&m.id)?,
        series_id: parse_id(&m.series_id)?,
        series: series
            .get(&m.series_id)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        number: m.number.and_then(|n| u32::try_from(n).ok()),
        title: m.title,
        points: m.points,
        minutes: m.minutes.and_then(|n| u32::try_from(n).ok()),
        active: m.active,
    })
}

fn request_from(m: r::Model) -> Result<LectureRequest, RepoError> {
    let dates: Vec<NaiveDate> =
        serde_json::from_str(&m.preferred_dates).map_err(|e| corrupt("preferred dates", e))?;
    let liaison: Contact = serde_json::from_str(&m.liaison).map_err(|e| corrupt("liaison", e))?;
    let head: Contact = serde_json::from_str(&m.head).map_err(|e| corrupt("head", e))?;
    Ok(LectureRequest {
        id: parse_id(&m.id)?,
        user_id: m.user_id.as_deref().map(parse_id).transpose()?,
        input: RequestInput {
            unit_name: m.unit_name,
            unit_address: m.unit_address,
            region: m.region,
            preferred_dates: dates,
            topic_id: m.topic_id.as_deref().map(parse_id).transpose()?,
            content_note: m.content_note,
            staff_total: u32::try_from(m.staff_total).unwrap_or(0),
            attendees: u32::try_from(m.attendees).unwrap_or(0),
            joint_ok: m.joint_ok,
            liaison,
            head,
            screening: m.screening,
            screening_scales: m
                .screening_scales
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        status: Status::parse(&m.status).ok_or_else(|| corrupt("lecture status", &m.status))?,
        lecturer: m.lecturer,
        scheduled_at: m.scheduled_at,
        location: m.location,
        reason: m.reason,
        screening_code: m.screening_code,
        screening_closes_at: m.screening_closes_at,
        survey_closed_at: m.survey_closed_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn json(v: &impl serde::Serialize) -> Result<String, RepoError> {
    serde_json::to_string(v).map_err(|e| RepoError::Storage(e.to_string()))
}

async fn tell(
    txn: &DatabaseTransaction,
    req: &LectureRequest,
    to: Status,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    match xinli_domain::notification::of_lecture_decision(req, to, now) {
        Some(notice) => crate::notifications::enqueue(txn, &notice, now).await,
        None => Ok(()),
    }
}

impl LectureStore {
    /// Sets one of a request's closing times (the organiser closes its screening or its
    /// survey early); the request as it is now.
    async fn set_time(
        &self,
        request: Uuid,
        column: r::Column,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<LectureRequest>, RepoError> {
        r::Entity::update_many()
            .col_expr(column, Expr::value(at))
            .col_expr(r::Column::UpdatedAt, Expr::value(now))
            .filter(r::Column::Id.eq(request.to_string()))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        self.find(request).await
    }
}

#[async_trait]
impl LectureRepository for LectureStore {
    async fn menu(&self, active_only: bool) -> Result<Vec<Topic>, RepoError> {
        let series = self.series_names().await?;
        let mut q = t::Entity::find();
        if active_only {
            q = q.filter(t::Column::Active.eq(true));
        }
        let mut topics = q
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|m| topic_from(m, &series))
            .collect::<Result<Vec<_>, _>>()?;
        let order = |id: &Uuid| {
            series
                .get(&id.to_string())
                .map(|s| (s.sort_order, s.created_at))
        };
        topics.sort_by(|a, b| {
            (order(&a.series_id), a.number, &a.title).cmp(&(
                order(&b.series_id),
                b.number,
                &b.title,
            ))
        });
        Ok(topics)
    }

    async fn series(&self) -> Result<Vec<Series>, RepoError> {
        s::Entity::find()
            .order_by_asc(s::Column::SortOrder)
            .order_by_asc(s::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|m| {
                Ok(Series {
                    id: parse_id(&m.id)?,
                    name: m.name,
                    note: m.note,
                    sort_order: m.sort_order,
                })
            })
            .collect()
    }

    async fn create_series(
        &self,
        name: String,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Series, RepoError> {
        let count = s::Entity::find()
            .all(&self.db)
            .await
            .map_err(storage)?
            .len();
        let sort_order = i32::try_from(count).unwrap_or(i32::MAX).saturating_mul(10);
        let m = s::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            name: Set(name),
            note: Set(note),
            sort_order: Set(sort_order),
            created_at: Set(now),
        }
        .insert(&self.db)
        .await
        .map_err(storage)?;
        Ok(Series {
            id: parse_id(&m.id)?,
            name: m.name,
            note: m.note,
            sort_order: m.sort_order,
        })
    }

    async fn create_topic(
        &self,
        input: TopicInput,
        now: DateTime<Utc>,
    ) -> Result<Topic, RepoError> {
        let m = t::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            series_id: Set(input.series_id.to_string()),
            number: Set(input.number.and_then(|n| i32::try_from(n).ok())),
            title: Set(input.title),
            points: Set(input.points),
            minutes: Set(input.minutes.and_then(|n| i32::try_from(n).ok())),
            active: Set(true),
            created_at: Set(now),
        }
        .insert(&self.db)
        .await
        .map_err(storage)?;
        topic_from(m, &self.series_names().await?)
    }

    async fn topic(&self, id: Uuid) -> Result<Option<Topic>, RepoError> {
        let Some(m) = t::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
        else {
            return Ok(None);
        };
        topic_from(m, &self.series_names().await?).map(Some)
    }

    async fn create_request(
        &self,
        user: Uuid,
        input: RequestInput,
        now: DateTime<Utc>,
    ) -> Result<LectureRequest, RepoError> {
        let m = r::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            user_id: Set(Some(user.to_string())),
            unit_name: Set(input.unit_name.clone()),
            unit_address: Set(input.unit_address.clone()),
            region: Set(input.region.clone()),
            preferred_dates: Set(json(&input.preferred_dates)?),
            topic_id: Set(input.topic_id.map(|t| t.to_string())),
            content_note: Set(input.content_note.clone()),
            staff_total: Set(i32::try_from(input.staff_total).unwrap_or(i32::MAX)),
            attendees: Set(i32::try_from(input.attendees).unwrap_or(i32::MAX)),
            joint_ok: Set(input.joint_ok),
            liaison: Set(json(&input.liaison)?),
            head: Set(json(&input.head)?),
            screening: Set(input.screening),
            screening_scales: Set(input.screening_scales.join(",")),
            status: Set(Status::Submitted.as_str().into()),
            lecturer: Set(None),
            scheduled_at: Set(None),
            location: Set(None),
            reason: Set(None),
            screening_code: Set(None),
            screening_closes_at: Set(None),
            survey_closed_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await
        .map_err(storage)?;
        request_from(m)
    }

    async fn find(&self, id: Uuid) -> Result<Option<LectureRequest>, RepoError> {
        r::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(request_from)
            .transpose()
    }

    async fn of_user(
        &self,
        user: Uuid,
        page: PageRequest,
    ) -> Result<Page<LectureRequest>, RepoError> {
        let q = r::Entity::find()
            .filter(r::Column::UserId.eq(user.to_string()))
            .order_by_desc(r::Column::CreatedAt)
            .order_by_desc(r::Column::Id);
        fetch_page(&self.db, q, page, request_from).await
    }

    async fn list(
        &self,
        status: Option<Status>,
        page: PageRequest,
    ) -> Result<Page<LectureRequest>, RepoError> {
        let mut q = r::Entity::find();
        if let Some(st) = status {
            q = q.filter(r::Column::Status.eq(st.as_str()));
        }
        let q = q
            .order_by_asc(r::Column::CreatedAt)
            .order_by_asc(r::Column::Id);
        fetch_page(&self.db, q, page, request_from).await
    }

    async fn apply(
        &self,
        id: Uuid,
        from: Status,
        to: Status,
        step: Step,
        now: DateTime<Utc>,
    ) -> Result<Option<LectureRequest>, RepoError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        let mut update = r::Entity::update_many()
            .col_expr(r::Column::Status, Expr::value(to.as_str()))
            .col_expr(r::Column::UpdatedAt, Expr::value(now));
        if let Some(d) = &step.decision {
            update = update
                .col_expr(r::Column::Lecturer, Expr::value(d.lecturer.clone()))
                .col_expr(r::Column::ScheduledAt, Expr::value(d.scheduled_at))
                .col_expr(r::Column::Location, Expr::value(d.location.clone()))
                .col_expr(r::Column::Reason, Expr::value(d.reason.clone()));
        }
        if let Some(code) = &step.screening_code {
            update = update.col_expr(r::Column::ScreeningCode, Expr::value(code.clone()));
        }
        if let Some(at) = step.screening_closes_at {
            update = update.col_expr(r::Column::ScreeningClosesAt, Expr::value(at));
        }
        let res = update
            .filter(r::Column::Id.eq(id.to_string()))
            .filter(r::Column::Status.eq(from.as_str()))
            .exec(&txn)
            .await
            .map_err(repo_err(Conflict::ScreeningCode))?;
        if res.rows_affected == 0 {
            return Ok(None);
        }
        let row = r::Entity::find_by_id(id.to_string())
            .one(&txn)
            .await
            .map_err(storage)?
            .ok_or_else(|| RepoError::Storage("lecture request vanished".into()))?;
        let req = request_from(row)?;
        if tells_liaison(to, step.actor) {
            tell(&txn, &req, to, now).await?;
        }
        txn.commit().await.map_err(storage)?;
        Ok(Some(req))
    }

    async fn find_by_code(&self, code: &str) -> Result<Option<LectureRequest>, RepoError> {
        r::Entity::find()
            .filter(r::Column::ScreeningCode.eq(code))
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(request_from)
            .transpose()
    }

    async fn screened_scales(&self, request: Uuid, user: Uuid) -> Result<Vec<String>, RepoError> {
        let mut scales: Vec<String> = se::Entity::find()
            .select_only()
            .column(se::Column::ScaleCode)
            .filter(se::Column::RequestId.eq(request.to_string()))
            .filter(se::Column::UserId.eq(user.to_string()))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(storage)?;
        scales.sort();
        scales.dedup();
        Ok(scales)
    }

    async fn insert_screened(
        &self,
        request: Uuid,
        assessment: &xinli_domain::assessment::Assessment,
    ) -> Result<(), RepoError> {
        let txn = begin_write(&self.db).await.map_err(storage)?;
        crate::assessments::row(assessment)?
            .insert(&txn)
            .await
            .map_err(storage)?;
        se::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            request_id: Set(request.to_string()),
            assessment_id: Set(assessment.id.to_string()),
            user_id: Set(Some(assessment.user_id.to_string())),
            scale_code: Set(assessment.scale_code.clone()),
            level: Set(i16::from(assessment.level)),
            created_at: Set(assessment.created_at),
            referred_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(repo_err(Conflict::AlreadyScreened))?;
        txn.commit().await.map_err(storage)?;
        Ok(())
    }

    async fn answer_survey(
        &self,
        request: Uuid,
        user: Uuid,
        answer: &SurveyAnswer,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        crate::surveys::insert(&self.db, Answered::Lecture, request, user, answer, now).await
    }

    async fn survey_answers(&self, request: Uuid) -> Result<Vec<SurveyAnswer>, RepoError> {
        crate::surveys::of_subject(&self.db, Answered::Lecture, request).await
    }

    async fn survey_answers_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SurveyAnswer>, RepoError> {
        crate::surveys::between(&self.db, Answered::Lecture, from, to).await
    }

    async fn mark_referred(&self, assessment: Uuid, now: DateTime<Utc>) -> Result<(), RepoError> {
        se::Entity::update_many()
            .col_expr(se::Column::ReferredAt, Expr::value(now))
            .filter(se::Column::AssessmentId.eq(assessment.to_string()))
            .filter(se::Column::ReferredAt.is_null())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(())
    }

    async fn stats_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(LectureRequest, u64, u64, Vec<SurveyAnswer>)>, RepoError> {
        let requests = r::Entity::find()
            .filter(r::Column::Status.eq(Status::Done.as_str()))
            .filter(r::Column::ScheduledAt.gte(from))
            .filter(r::Column::ScheduledAt.lt(to))
            .all(&self.db)
            .await
            .map_err(storage)?;
        let mut out = vec![];
        for m in requests {
            let id = m.id.clone();
            let entries: Vec<(String, Option<DateTime<Utc>>)> = se::Entity::find()
                .select_only()
                .column(se::Column::AssessmentId)
                .column(se::Column::ReferredAt)
                .filter(se::Column::RequestId.eq(id.clone()))
                .into_tuple()
                .all(&self.db)
                .await
                .map_err(storage)?;
            let referred = entries.iter().filter(|(_, at)| at.is_some()).count() as u64;
            let answers = self.survey_answers(parse_id(&id)?).await?;
            out.push((request_from(m)?, entries.len() as u64, referred, answers));
        }
        Ok(out)
    }

    async fn screening_of(&self, assessment: Uuid) -> Result<Option<Uuid>, RepoError> {
        se::Entity::find()
            .filter(se::Column::AssessmentId.eq(assessment.to_string()))
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(|e| parse_id(&e.request_id))
            .transpose()
    }

    async fn participation_of(&self, user: Uuid) -> Result<Vec<Participation>, RepoError> {
        let entries = se::Entity::find()
            .filter(
                se::Column::AssessmentId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(assessments::Column::Id)
                        .from(assessments::Entity)
                        .and_where(assessments::Column::UserId.eq(user.to_string()))
                        .to_owned(),
                ),
            )
            .order_by_asc(se::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(storage)?;
        let ids: Vec<String> = entries.iter().map(|e| e.request_id.clone()).collect();
        let units: HashMap<String, String> = r::Entity::find()
            .filter(r::Column::Id.is_in(ids))
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|m| (m.id, m.unit_name))
            .collect();
        entries
            .into_iter()
            .map(|e| {
                Ok(Participation {
                    assessment: parse_id(&e.assessment_id)?,
                    request: parse_id(&e.request_id)?,
                    unit_name: units.get(&e.request_id).cloned().unwrap_or_default(),
                    counted_at: e.created_at,
                    referred_at: e.referred_at,
                })
            })
            .collect()
    }

    async fn screening_counts(
        &self,
        request: Uuid,
        except: Option<Uuid>,
    ) -> Result<Vec<(String, u8, u64)>, RepoError> {
        let mut q = se::Entity::find()
            .select_only()
            .column(se::Column::ScaleCode)
            .column(se::Column::Level)
            .column_as(se::Column::Id.count(), "n")
            .filter(se::Column::RequestId.eq(request.to_string()));
        if let Some(user) = except {
            q = q.filter(
                se::Column::AssessmentId.not_in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(assessments::Column::Id)
                        .from(assessments::Entity)
                        .and_where(assessments::Column::UserId.eq(user.to_string()))
                        .to_owned(),
                ),
            );
        }
        let rows: Vec<(String, i16, i64)> = q
            .group_by(se::Column::ScaleCode)
            .group_by(se::Column::Level)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(storage)?;
        Ok(rows
            .into_iter()
            .map(|(scale, level, n)| {
                (
                    scale,
                    u8::try_from(level).unwrap_or(0),
                    u64::try_from(n).unwrap_or(0),
                )
            })
            .collect())
    }

    async fn close_survey(
        &self,
        request: Uuid,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<LectureRequest>, RepoError> {
        self.set_time(request, r::Column::SurveyClosedAt, at, now)
            .await
    }

    async fn close_screening(
        &self,
        request: Uuid,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<LectureRequest>, RepoError> {
        self.set_time(request, r::Column::ScreeningClosesAt, at, now)
            .await
    }

    async fn frozen_counts(&self, request: Uuid) -> Result<Option<FrozenCounts>, RepoError> {
        sr::Entity::find_by_id(request.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(frozen_from)
            .transpose()
    }

    async fn freeze_counts(
        &self,
        request: Uuid,
        counts: FrozenCounts,
    ) -> Result<FrozenCounts, RepoError> {
        let row = sr::ActiveModel {
            request_id: Set(request.to_string()),
            counts: Set(json(&counts.counts)?),
            frozen_at: Set(counts.frozen_at),
        };
        let res = sr::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(sr::Column::RequestId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec(&self.db)
            .await;
        match res {
            // Another reader froze them first: theirs stand.
            Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => {}
            Err(e) => return Err(storage(e)),
        }
        self.frozen_counts(request)
            .await?
            .ok_or_else(|| RepoError::Storage("frozen screening counts vanished".into()))
    }
}

fn frozen_from(m: sr::Model) -> Result<FrozenCounts, RepoError> {
    Ok(FrozenCounts {
        frozen_at: m.frozen_at,
        counts: serde_json::from_str(&m.counts).map_err(|e| corrupt("screening counts", e))?,
    })
}

/// Within a person's account deletion: requests they filed stay with the organiser (the unit
/// asked, not the person), without the link to the account and without the liaison's own
/// name and mobile (`domain::lecture::forgotten_liaison`); their survey comments go (the
/// scores stay, unlinked by the foreign key).
pub(crate) async fn forget_user(txn: &DatabaseTransaction, user: Uuid) -> Result<(), RepoError> {
    let filed = r::Entity::find()
        .filter(r::Column::UserId.eq(user.to_string()))
        .all(txn)
        .await
        .map_err(storage)?;
    for m in filed {
        let liaison: Contact =
            serde_json::from_str(&m.liaison).map_err(|e| corrupt("liaison", e))?;
        r::Entity::update_many()
            .col_expr(r::Column::UserId, Expr::value(Option::<String>::None))
            .col_expr(
                r::Column::Liaison,
                Expr::value(json(&xinli_domain::lecture::forgotten_liaison(&liaison))?),
            )
            .filter(r::Column::Id.eq(m.id))
            .exec(txn)
            .await
            .map_err(storage)?;
    }
    // Their survey comments go with `surveys::forget_user`, in the same transaction.
    Ok(())
}
