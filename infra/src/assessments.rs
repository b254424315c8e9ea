//! Scales and assessment results on SeaORM.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;
use xinli_domain::RepoError;
use xinli_domain::assessment::{Assessment, AssessmentRepository, Scale, ScaleRepository};
use xinli_domain::page::{Page, PageRequest};

use crate::db::{corrupt, fetch_page, parse_id, storage};
use crate::entities::{assessments, scales};

#[derive(Clone)]
pub struct AssessmentStore {
    db: DatabaseConnection,
}

impl AssessmentStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn scale_from_row(m: scales::Model) -> Result<Scale, RepoError> {
    serde_json::from_str(&m.definition).map_err(|e| corrupt(&format!("scale {}", m.code), e))
}

fn from_row(m: assessments::Model) -> Result<Assessment, RepoError> {
    Ok(Assessment {
        id: parse_id(&m.id)?,
        user_id: parse_id(&m.user_id)?,
        answers: serde_json::from_str(&m.answers).map_err(|e| corrupt("answers", e))?,
        critical_items: serde_json::from_str(&m.critical_items)
            .map_err(|e| corrupt("critical items", e))?,
        scale_code: m.scale_code,
        raw_score: m.raw_score,
        score: m.score,
        level: u8::try_from(m.level).map_err(|e| corrupt("level", e))?,
        band_label: m.band_label,
        interpretation: m.interpretation,
        created_at: m.created_at,
    })
}

#[async_trait]
impl ScaleRepository for AssessmentStore {
    async fn list(&self) -> Result<Vec<Scale>, RepoError> {
        scales::Entity::find()
            .order_by_asc(scales::Column::Code)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(scale_from_row)
            .collect()
    }

    async fn find(&self, code: &str) -> Result<Option<Scale>, RepoError> {
        scales::Entity::find_by_id(code.to_owned())
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(scale_from_row)
            .transpose()
    }

    async fn save(&self, scale: &Scale, now: DateTime<Utc>) -> Result<(), RepoError> {
        let definition =
            serde_json::to_string(scale).map_err(|e| RepoError::Storage(e.to_string()))?;
        scales::Entity::insert(scales::ActiveModel {
            code: Set(scale.code.clone()),
            definition: Set(definition),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(scales::Column::Code)
                .update_columns([scales::Column::Definition, scales::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(&self.db)
        .await
        .map_err(storage)?;
        Ok(())
    }
}

/// A result as stored (also by a screening, which stores it with its entry).
pub(crate) fn row(a: &Assessment) -> Result<assessments::ActiveModel, RepoError> {
    let json =
        |v: &[usize]| serde_json::to_string(v).map_err(|e| RepoError::Storage(e.to_string()));
    Ok(assessments::ActiveModel {
        id: Set(a.id.to_string()),
        user_id: Set(a.user_id.to_string()),
        scale_code: Set(a.scale_code.clone()),
        answers: Set(json(&a.answers)?),
        raw_score: Set(a.raw_score),
        score: Set(a.score),
        level: Set(i16::from(a.level)),
        band_label: Set(a.band_label.clone()),
        interpretation: Set(a.interpretation.clone()),
        critical_items: Set(json(&a.critical_items)?),
        critical: Set(!a.critical_items.is_empty()),
        created_at: Set(a.created_at),
    })
}

#[async_trait]
impl AssessmentRepository for AssessmentStore {
    async fn insert(&self, a: &Assessment) -> Result<(), RepoError> {
        row(a)?.insert(&self.db).await.map_err(storage)?;
        Ok(())
    }

    async fn list(
        &self,
        user_id: Uuid,
        scale: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Assessment>, RepoError> {
        let mut query =
            assessments::Entity::find().filter(assessments::Column::UserId.eq(user_id.to_string()));
        if let Some(code) = scale {
            query = query.filter(assessments::Column::ScaleCode.eq(code));
        }
        let query = query
            .order_by_desc(assessments::Column::CreatedAt)
            .order_by_desc(assessments::Column::Id);
        fetch_page(&self.db, query, page, from_row).await
    }

    async fn find(&self, user_id: Uuid, id: Uuid) -> Result<Option<Assessment>, RepoError> {
        assessments::Entity::find_by_id(id.to_string())
            .filter(assessments::Column::UserId.eq(user_id.to_string()))
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(from_row)
            .transpose()
    }

    async fn withdraw(&self, user_id: Uuid, id: Uuid) -> Result<bool, RepoError> {
        // The screening entry (and the referral noted on it) goes by ON DELETE CASCADE.
        let res = assessments::Entity::delete_many()
            .filter(assessments::Column::Id.eq(id.to_string()))
            .filter(assessments::Column::UserId.eq(user_id.to_string()))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(res.rows_affected > 0)
    }

    async fn history(
        &self,
        user_id: Uuid,
        scale: &str,
        limit: u64,
    ) -> Result<Vec<Assessment>, RepoError> {
        // The latest `limit`, returned oldest first.
        let mut rows: Vec<Assessment> = assessments::Entity::find()
            .filter(assessments::Column::UserId.eq(user_id.to_string()))
            .filter(assessments::Column::ScaleCode.eq(scale))
            .order_by_desc(assessments::Column::CreatedAt)
            .order_by_desc(assessments::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect::<Result<_, _>>()?;
        rows.reverse();
        Ok(rows)
    }

    async fn since(
        &self,
        user_id: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Vec<Assessment>, RepoError> {
        assessments::Entity::find()
            .filter(assessments::Column::UserId.eq(user_id.to_string()))
            .filter(assessments::Column::CreatedAt.gte(since))
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, u64, u64)>, RepoError> {
        let rows: Vec<(String, i16, bool)> = assessments::Entity::find()
            .select_only()
            .column(assessments::Column::ScaleCode)
            .column(assessments::Column::Level)
            .column(assessments::Column::Critical)
            .filter(assessments::Column::CreatedAt.gte(from))
            .filter(assessments::Column::CreatedAt.lt(to))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(storage)?;
        let mut by_scale: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
        for (scale, level, critical) in rows {
            let entry = by_scale.entry(scale).or_default();
            entry.0 += 1;
            let level = u8::try_from(level.max(0)).unwrap_or(u8::MAX);
            if xinli_domain::assessment::is_crisis(level, critical) {
                entry.1 += 1;
            }
        }
        Ok(by_scale.into_iter().map(|(s, (n, c))| (s, n, c)).collect())
    }

    async fn all_of(&self, user_id: Uuid) -> Result<Vec<Assessment>, RepoError> {
        assessments::Entity::find()
            .filter(assessments::Column::UserId.eq(user_id.to_string()))
            .order_by_asc(assessments::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }
}
