//! Hotline repository on SeaORM, and a caching decorator for the public directory.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;
use xinli_domain::RepoError;
use xinli_domain::account::AudienceGroup;
use xinli_domain::cache::Cache;
use xinli_domain::hotline::{DialCount, Hotline, HotlineInput, HotlineRepository, NewDial};
use xinli_domain::page::{Page, PageRequest};
use xinli_domain::schedule::{ServiceHours, china_date};

use crate::cache::Namespace;
use crate::db::{fetch_page, parse_id, storage};
use crate::entities::{hotline_dials, hotlines};

#[derive(Clone)]
pub struct HotlineStore {
    db: DatabaseConnection,
}

impl HotlineStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Lines by id, deleted ones included (statistics and exports name what was dialled).
    async fn names(
        &self,
        mut ids: Vec<String>,
    ) -> Result<HashMap<String, hotlines::Model>, RepoError> {
        ids.sort_unstable();
        ids.dedup();
        Ok(hotlines::Entity::find()
            .filter(hotlines::Column::Id.is_in(ids))
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|h| (h.id.clone(), h))
            .collect())
    }
}

fn from_row(m: hotlines::Model) -> Result<Hotline, RepoError> {
    let hours: ServiceHours = serde_json::from_str(&m.hours)
        .map_err(|e| RepoError::Storage(format!("corrupt hours of hotline {}: {e}", m.id)))?;
    Ok(Hotline {
        id: parse_id(&m.id)?,
        name: m.name,
        number: m.number,
        region: m.region,
        audiences: m
            .audiences
            .split(',')
            .filter_map(AudienceGroup::parse)
            .collect(),
        description: m.description,
        crisis: m.crisis,
        sort_order: m.sort_order,
        active: m.active,
        hours,
        hours_note: m.hours_note,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn apply(active: &mut hotlines::ActiveModel, input: HotlineInput) -> Result<(), RepoError> {
    active.name = Set(input.name);
    active.number = Set(input.number);
    active.region = Set(input.region);
    active.audiences = Set(input
        .audiences
        .iter()
        .map(|a| a.code())
        .collect::<Vec<_>>()
        .join(","));
    active.description = Set(input.description);
    active.crisis = Set(input.crisis);
    active.sort_order = Set(input.sort_order);
    active.active = Set(input.active);
    active.hours =
        Set(serde_json::to_string(&input.hours).map_err(|e| RepoError::Storage(e.to_string()))?);
    active.hours_note = Set(input.hours_note);
    Ok(())
}

fn not_deleted() -> sea_orm::Condition {
    sea_orm::Condition::all().add(hotlines::Column::DeletedAt.is_null())
}

#[async_trait]
impl HotlineRepository for HotlineStore {
    async fn list_visible(&self) -> Result<Vec<Hotline>, RepoError> {
        hotlines::Entity::find()
            .filter(not_deleted())
            .filter(hotlines::Column::Active.eq(true))
            .order_by_asc(hotlines::Column::SortOrder)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn list_all(&self, page: PageRequest) -> Result<Page<Hotline>, RepoError> {
        let query = hotlines::Entity::find()
            .filter(not_deleted())
            .order_by_asc(hotlines::Column::SortOrder)
            .order_by_asc(hotlines::Column::Id);
        fetch_page(&self.db, query, page, from_row).await
    }

    async fn find(&self, id: Uuid) -> Result<Option<Hotline>, RepoError> {
        hotlines::Entity::find_by_id(id.to_string())
            .filter(not_deleted())
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(from_row)
            .transpose()
    }

    async fn create(&self, input: HotlineInput, now: DateTime<Utc>) -> Result<Hotline, RepoError> {
        let mut active = hotlines::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        };
        apply(&mut active, input)?;
        from_row(active.insert(&self.db).await.map_err(storage)?)
    }

    async fn update(
        &self,
        id: Uuid,
        input: HotlineInput,
        now: DateTime<Utc>,
    ) -> Result<Option<Hotline>, RepoError> {
        let Some(row) = hotlines::Entity::find_by_id(id.to_string())
            .filter(not_deleted())
            .one(&self.db)
            .await
            .map_err(storage)?
        else {
            return Ok(None);
        };
        let mut active: hotlines::ActiveModel = row.into();
        apply(&mut active, input)?;
        active.updated_at = Set(now);
        from_row(active.update(&self.db).await.map_err(storage)?).map(Some)
    }

    async fn delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError> {
        let res = hotlines::Entity::update_many()
            .col_expr(hotlines::Column::DeletedAt, Expr::value(now))
            .col_expr(hotlines::Column::Active, Expr::value(false))
            .filter(hotlines::Column::Id.eq(id.to_string()))
            .filter(not_deleted())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(res.rows_affected > 0)
    }

    async fn record_dial(&self, dial: NewDial) -> Result<(), RepoError> {
        hotline_dials::ActiveModel {
            id: Set(dial.id.to_string()),
            hotline_id: Set(dial.hotline_id.to_string()),
            user_id: Set(None),
            dialed_at: Set(dial.at),
            local_date: Set(china_date(dial.at).format("%Y-%m-%d").to_string()),
        }
        .insert(&self.db)
        .await
        .map_err(storage)?;
        Ok(())
    }

    async fn dial_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DialCount>, RepoError> {
        let rows: Vec<(String, String, i64)> = hotline_dials::Entity::find()
            .select_only()
            .column(hotline_dials::Column::HotlineId)
            .column(hotline_dials::Column::LocalDate)
            .column_as(hotline_dials::Column::Id.count(), "count")
            .filter(hotline_dials::Column::LocalDate.gte(from.format("%Y-%m-%d").to_string()))
            .filter(hotline_dials::Column::LocalDate.lte(to.format("%Y-%m-%d").to_string()))
            .group_by(hotline_dials::Column::HotlineId)
            .group_by(hotline_dials::Column::LocalDate)
            .order_by_asc(hotline_dials::Column::LocalDate)
            .order_by_asc(hotline_dials::Column::HotlineId)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(storage)?;
        let lines = self
            .names(rows.iter().map(|r| r.0.clone()).collect())
            .await?;
        rows.into_iter()
            .map(|(hotline, date, count)| {
                let line = lines.get(&hotline);
                Ok(DialCount {
                    hotline_name: line.map(|l| l.name.clone()).unwrap_or_default(),
                    number: line.map(|l| l.number.clone()).unwrap_or_default(),
                    hotline_id: parse_id(&hotline)?,
                    date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|e| {
                        RepoError::Storage(format!("corrupt dial date {date:?}: {e}"))
                    })?,
                    count: u64::try_from(count).unwrap_or(0),
                })
            })
            .collect()
    }
}

/// Caches the public directory (the list every mini-program screen reads) and drops the
/// cached copy on every write, so that an admin change is visible on the next request —
/// on every instance when the cache is Redis. Only the list of lines is cached: whether a
/// line is open is computed per request from its hours.
pub struct CachedHotlines<R> {
    inner: R,
    cache: Arc<dyn Cache>,
}

const DIRECTORY: Namespace = Namespace("hotlines");
/// A safety net only; invalidation on write is what keeps the list current.
const DIRECTORY_TTL: Duration = Duration::from_secs(600);

impl<R> CachedHotlines<R> {
    pub fn new(inner: R, cache: Arc<dyn Cache>) -> Self {
        Self { inner, cache }
    }

    async fn invalidate(&self) {
        DIRECTORY.invalidate(self.cache.as_ref()).await;
    }
}

#[async_trait]
impl<R: HotlineRepository> HotlineRepository for CachedHotlines<R> {
    async fn list_visible(&self) -> Result<Vec<Hotline>, RepoError> {
        let key = DIRECTORY.key(self.cache.as_ref(), "visible").await;
        if let Some(bytes) = self.cache.get(&key).await
            && let Ok(lines) = serde_json::from_slice::<Vec<Hotline>>(&bytes)
        {
            return Ok(lines);
        }
        let lines = self.inner.list_visible().await?;
        if let Ok(bytes) = serde_json::to_vec(&lines) {
            self.cache.set(&key, &bytes, DIRECTORY_TTL).await;
        }
        Ok(lines)
    }

    async fn list_all(&self, page: PageRequest) -> Result<Page<Hotline>, RepoError> {
        self.inner.list_all(page).await
    }

    async fn find(&self, id: Uuid) -> Result<Option<Hotline>, RepoError> {
        self.inner.find(id).await
    }

    async fn create(&self, input: HotlineInput, now: DateTime<Utc>) -> Result<Hotline, RepoError> {
        let created = self.inner.create(input, now).await;
        self.invalidate().await;
        created
    }

    async fn update(
        &self,
        id: Uuid,
        input: HotlineInput,
        now: DateTime<Utc>,
    ) -> Result<Option<Hotline>, RepoError> {
        let updated = self.inner.update(id, input, now).await;
        self.invalidate().await;
        updated
    }

    async fn delete(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, RepoError> {
        let deleted = self.inner.delete(id, now).await;
        self.invalidate().await;
        deleted
    }

    async fn record_dial(&self, dial: NewDial) -> Result<(), RepoError> {
        self.inner.record_dial(dial).await
    }

    async fn dial_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DialCount>, RepoError> {
        self.inner.dial_counts(from, to).await
    }
}
