//! Articles, likes and favourites on SeaORM. Search is a substring match over title, summary
//! and body (Chinese text has no spaces to split words on), title matches first.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, LockType, Order};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use uuid::Uuid;
use xinli_domain::RepoError;
use xinli_domain::account::AudienceGroup;
use xinli_domain::article::{
    Article, ArticleFilter, ArticleInput, ArticleRepository, ArticleStatus, ImportedArticle, Kind,
};
use xinli_domain::page::{Page, PageRequest};

use crate::db::{begin_write, fetch_page, parse_id, storage};
use crate::entities::{article_favorites as favs, article_likes as likes, articles as a};

#[derive(Clone)]
pub struct ArticleStore {
    db: DatabaseConnection,
}

impl ArticleStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Sets or clears one user's like or favourite and returns the article's new count.
    async fn react(
        &self,
        reaction: Reaction,
        id: Uuid,
        user: Uuid,
        on: bool,
    ) -> Result<u64, RepoError> {
        let key = (id.to_string(), user.to_string());
        let txn = begin_write(&self.db).await.map_err(storage)?;
        // Reactions to one article take turns: on PostgreSQL through this row lock (SQLite
        // drops the clause; its IMMEDIATE transaction already serialises writers). Otherwise
        // a double tap collides on the key, and two users at once both write count + 1.
        a::Entity::find_by_id(key.0.clone())
            .lock(LockType::Update)
            .one(&txn)
            .await
            .map_err(storage)?;
        let exists = match reaction {
            Reaction::Like => likes::Entity::find_by_id(key.clone())
                .one(&txn)
                .await
                .map_err(storage)?
                .is_some(),
            Reaction::Favorite => favs::Entity::find_by_id(key.clone())
                .one(&txn)
                .await
                .map_err(storage)?
                .is_some(),
        };
        let now = Utc::now();
        match (reaction, on, exists) {
            (Reaction::Like, true, false) => likes::ActiveModel {
                article_id: Set(key.0.clone()),
                user_id: Set(key.1.clone()),
                created_at: Set(now),
            }
            .insert(&txn)
            .await
            .map(drop),
            (Reaction::Favorite, true, false) => favs::ActiveModel {
                article_id: Set(key.0.clone()),
                user_id: Set(key.1.clone()),
                created_at: Set(now),
            }
            .insert(&txn)
            .await
            .map(drop),
            (Reaction::Like, false, true) => likes::Entity::delete_by_id(key.clone())
                .exec(&txn)
                .await
                .map(drop),
            (Reaction::Favorite, false, true) => favs::Entity::delete_by_id(key.clone())
                .exec(&txn)
                .await
                .map(drop),
            _ => Ok(()), // already as asked: idempotent
        }
        .map_err(storage)?;
        let (l, f) = recount(&txn, &key.0).await?;
        txn.commit().await.map_err(storage)?;
        Ok(match reaction {
            Reaction::Like => l,
            Reaction::Favorite => f,
        })
    }

    /// Writes the columns set in `row` and raises the revision, in one statement so that two
    /// concurrent writes raise it twice. `None` if there is no such article.
    async fn revise(&self, id: Uuid, row: a::ActiveModel) -> Result<Option<Article>, RepoError> {
        let res = a::Entity::update_many()
            .set(row)
            .col_expr(a::Column::Revision, Expr::col(a::Column::Revision).add(1))
            .filter(a::Column::Id.eq(id.to_string()))
            .exec(&self.db)
            .await
            .map_err(storage)?;
        if res.rows_affected == 0 {
            return Ok(None);
        }
        self.find(id).await
    }
}

#[derive(Debug, Clone, Copy)]
enum Reaction {
    Like,
    Favorite,
}

fn corrupt(what: &str) -> RepoError {
    RepoError::Storage(format!("corrupt article {what}"))
}

fn from_row(m: a::Model) -> Result<Article, RepoError> {
    Ok(Article {
        id: parse_id(&m.id)?,
        input: ArticleInput {
            title: m.title,
            summary: m.summary,
            body: m.body,
            kind: Kind::parse(&m.kind).ok_or_else(|| corrupt("kind"))?,
            video_url: m.video_url,
            cover_image_url: m.cover_image_url,
            category: m.category,
            tags: m
                .tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            audience: AudienceGroup::parse(&m.audience).ok_or_else(|| corrupt("audience"))?,
            author: m.author,
        },
        body_html: m.body_html,
        status: ArticleStatus::parse(&m.status).ok_or_else(|| corrupt("status"))?,
        published_at: m.published_at,
        view_count: u64::try_from(m.view_count).unwrap_or(0),
        like_count: u64::try_from(m.like_count).unwrap_or(0),
        favorite_count: u64::try_from(m.favorite_count).unwrap_or(0),
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
    })
}

fn apply(row: &mut a::ActiveModel, input: &ArticleInput, body_html: &str) {
    row.title = Set(input.title.clone());
    row.summary = Set(input.summary.clone());
    row.body = Set(input.body.clone());
    row.body_html = Set(body_html.to_owned());
    row.kind = Set(input.kind.as_str().to_owned());
    row.video_url = Set(input.video_url.clone());
    row.cover_image_url = Set(input.cover_image_url.clone());
    row.category = Set(input.category.clone());
    row.tags = Set(format!(",{},", input.tags.join(",")));
    row.audience = Set(input.audience.code().to_owned());
    row.author = Set(input.author.clone());
}

/// `%text%` with LIKE's wildcards escaped, so that a search for `100%` means the characters.
fn contains(text: &str) -> LikeExpr {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// 0 for a title match, 1 otherwise: sorts title matches above summary/body-only matches.
fn title_first(text: &str) -> Expr {
    Expr::case(a::Column::Title.like(contains(text)), 0)
        .finally(1)
        .into()
}

fn public(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(a::Column::Status.eq(ArticleStatus::Published.as_str()))
        .add(a::Column::PublishedAt.is_not_null())
        .add(a::Column::PublishedAt.lte(now))
}

fn has_tag(tag: &str) -> sea_orm::sea_query::SimpleExpr {
    a::Column::Tags.like(contains(&format!(",{tag},")))
}

/// A new article's row: published at `published_at` when given, a draft otherwise.
fn new_row(
    id: Uuid,
    input: &ArticleInput,
    body_html: &str,
    published_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> a::ActiveModel {
    let status = if published_at.is_some() {
        ArticleStatus::Published
    } else {
        ArticleStatus::Draft
    };
    let mut row = a::ActiveModel {
        id: Set(id.to_string()),
        status: Set(status.as_str().to_owned()),
        published_at: Set(published_at),
        view_count: Set(0),
        like_count: Set(0),
        favorite_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        revision: Set(0),
        ..Default::default()
    };
    apply(&mut row, input, body_html);
    row
}

async fn recount(txn: &DatabaseTransaction, article: &str) -> Result<(u64, u64), RepoError> {
    let l = likes::Entity::find()
        .filter(likes::Column::ArticleId.eq(article))
        .count(txn)
        .await
        .map_err(storage)?;
    let f = favs::Entity::find()
        .filter(favs::Column::ArticleId.eq(article))
        .count(txn)
        .await
        .map_err(storage)?;
    a::Entity::update_many()
        .col_expr(
            a::Column::LikeCount,
            Expr::value(i64::try_from(l).unwrap_or(i64::MAX)),
        )
        .col_expr(
            a::Column::FavoriteCount,
            Expr::value(i64::try_from(f).unwrap_or(i64::MAX)),
        )
        .filter(a::Column::Id.eq(article))
        .exec(txn)
        .await
        .map_err(storage)?;
    Ok((l, f))
}

#[async_trait]
impl ArticleRepository for ArticleStore {
    async fn list_public(
        &self,
        f: &ArticleFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<Article>, RepoError> {
        let mut q = a::Entity::find().filter(public(now));
        if let Some(c) = &f.category {
            q = q.filter(a::Column::Category.eq(c.as_str()));
        }
        if let Some(t) = &f.tag {
            q = q.filter(has_tag(t));
        }
        if let Some(au) = f.audience {
            q = q.filter(a::Column::Audience.eq(au.code()));
        }
        if let Some(k) = f.kind {
            q = q.filter(a::Column::Kind.eq(k.as_str()));
        }
        if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            q = q
                .filter(
                    Condition::any()
                        .add(a::Column::Title.like(contains(text)))
                        .add(a::Column::Summary.like(contains(text)))
                        .add(a::Column::Body.like(contains(text))),
                )
                .order_by(title_first(text), Order::Asc);
        }
        let q = q
            .order_by_desc(a::Column::PublishedAt)
            .order_by_desc(a::Column::Id);
        fetch_page(&self.db, q, page, from_row).await
    }

    async fn categories(&self, now: DateTime<Utc>) -> Result<Vec<(String, u64)>, RepoError> {
        let rows: Vec<(String, i64)> = a::Entity::find()
            .select_only()
            .column(a::Column::Category)
            .column_as(a::Column::Id.count(), "n")
            .filter(public(now))
            .group_by(a::Column::Category)
            .order_by_asc(a::Column::Category)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(storage)?;
        Ok(rows
            .into_iter()
            .map(|(c, n)| (c, u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    async fn with_tags(
        &self,
        tags: &[String],
        limit: u64,
        now: DateTime<Utc>,
    ) -> Result<Vec<Article>, RepoError> {
        if tags.is_empty() {
            return Ok(vec![]);
        }
        let any = tags.iter().fold(Condition::any(), |c, t| c.add(has_tag(t)));
        a::Entity::find()
            .filter(public(now))
            .filter(any)
            .order_by_desc(a::Column::PublishedAt)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(storage)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    async fn list_admin(
        &self,
        status: Option<ArticleStatus>,
        page: PageRequest,
    ) -> Result<Page<Article>, RepoError> {
        let mut q = a::Entity::find();
        if let Some(s) = status {
            q = q.filter(a::Column::Status.eq(s.as_str()));
        }
        let q = q
            .order_by_desc(a::Column::UpdatedAt)
            .order_by_desc(a::Column::Id);
        fetch_page(&self.db, q, page, from_row).await
    }

    async fn find(&self, id: Uuid) -> Result<Option<Article>, RepoError> {
        a::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(storage)?
            .map(from_row)
            .transpose()
    }

    async fn find_many(&self, ids: &[Uuid]) -> Result<Vec<Article>, RepoError> {
        let mut out = Vec::with_capacity(ids.len());
        // Bounded IN lists: SQLite allows a limited number of bound parameters.
        for chunk in ids.chunks(500) {
            let rows = a::Entity::find()
                .filter(a::Column::Id.is_in(chunk.iter().map(Uuid::to_string)))
                .all(&self.db)
                .await
                .map_err(storage)?;
            for row in rows {
                out.push(from_row(row)?);
            }
        }
        Ok(out)
    }

    async fn revisions(&self) -> Result<Vec<(Uuid, i64)>, RepoError> {
        let rows: Vec<(String, i64)> = a::Entity::find()
            .select_only()
            .column(a::Column::Id)
            .column(a::Column::Revision)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(storage)?;
        rows.into_iter()
            .map(|(id, rev)| Ok((parse_id(&id)?, rev)))
            .collect()
    }

    async fn create(
        &self,
        input: &ArticleInput,
        body_html: &str,
        now: DateTime<Utc>,
    ) -> Result<Article, RepoError> {
        let row = new_row(Uuid::now_v7(), input, body_html, None, now);
        from_row(row.insert(&self.db).await.map_err(storage)?)
    }

    async fn import(
        &self,
        articles: &[(ImportedArticle, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, RepoError> {
        let mut ids = Vec::with_capacity(articles.len());
        let rows: Vec<a::ActiveModel> = articles
            .iter()
            .map(|(imported, html)| {
                let id = Uuid::now_v7();
                ids.push(id);
                new_row(id, &imported.input, html, imported.published_at, now)
            })
            .collect();
        let txn = begin_write(&self.db).await.map_err(storage)?;
        a::Entity::insert_many(rows)
            .exec(&txn)
            .await
            .map_err(storage)?;
        txn.commit().await.map_err(storage)?;
        Ok(ids)
    }

    async fn update(
        &self,
        id: Uuid,
        input: &ArticleInput,
        body_html: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Article>, RepoError> {
        let mut row = a::ActiveModel {
            updated_at: Set(now),
            ..Default::default()
        };
        apply(&mut row, input, body_html);
        self.revise(id, row).await
    }

    async fn set_status(
        &self,
        id: Uuid,
        status: ArticleStatus,
        published_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<Article>, RepoError> {
        let row = a::ActiveModel {
            status: Set(status.as_str().to_owned()),
            published_at: Set(published_at),
            updated_at: Set(now),
            ..Default::default()
        };
        self.revise(id, row).await
    }

    async fn delete(&self, id: Uuid) -> Result<bool, RepoError> {
        let res = a::Entity::delete_by_id(id.to_string())
            .exec(&self.db)
            .await
            .map_err(storage)?;
        Ok(res.rows_affected > 0)
    }

    async fn add_views(&self, views: &[(Uuid, u64)]) -> Result<(), RepoError> {
        // One transaction: a failed batch is retried whole, never counted twice.
        let txn = begin_write(&self.db).await.map_err(storage)?;
        for (id, n) in views {
            a::Entity::update_many()
                .col_expr(
                    a::Column::ViewCount,
                    Expr::col(a::Column::ViewCount).add(i64::try_from(*n).unwrap_or(0)),
                )
                .filter(a::Column::Id.eq(id.to_string()))
                .exec(&txn)
                .await
                .map_err(storage)?;
        }
        txn.commit().await.map_err(storage)
    }

    async fn set_like(&self, id: Uuid, user: Uuid, on: bool) -> Result<u64, RepoError> {
        self.react(Reaction::Like, id, user, on).await
    }

    async fn set_favorite(&self, id: Uuid, user: Uuid, on: bool) -> Result<u64, RepoError> {
        self.react(Reaction::Favorite, id, user, on).await
    }

    async fn reactions_of(&self, id: Uuid, user: Uuid) -> Result<(bool, bool), RepoError> {
        let key = (id.to_string(), user.to_string());
        let l = likes::Entity::find_by_id(key.clone())
            .one(&self.db)
            .await
            .map_err(storage)?
            .is_some();
        let f = favs::Entity::find_by_id(key)
            .one(&self.db)
            .await
            .map_err(storage)?
            .is_some();
        Ok((l, f))
    }

    async fn favorites_of(
        &self,
        user: Uuid,
        page: PageRequest,
    ) -> Result<Page<Article>, RepoError> {
        let mine = favs::Entity::find()
            .select_only()
            .column(favs::Column::ArticleId)
            .filter(favs::Column::UserId.eq(user.to_string()))
            .into_query();
        let q = a::Entity::find()
            .filter(a::Column::Id.in_subquery(mine))
            .order_by_desc(a::Column::PublishedAt)
            .order_by_desc(a::Column::Id);
        fetch_page(&self.db, q, page, from_row).await
    }

    async fn reactions_of_user(
        &self,
        user: Uuid,
    ) -> Result<(Vec<(Uuid, DateTime<Utc>)>, Vec<(Uuid, DateTime<Utc>)>), RepoError> {
        let u = user.to_string();
        let l = likes::Entity::find()
            .filter(likes::Column::UserId.eq(u.clone()))
            .all(&self.db)
            .await
            .map_err(storage)?;
        let f = favs::Entity::find()
            .filter(favs::Column::UserId.eq(u))
            .all(&self.db)
            .await
            .map_err(storage)?;
        Ok((
            l.into_iter()
                .map(|r| Ok((parse_id(&r.article_id)?, r.created_at)))
                .collect::<Result<_, RepoError>>()?,
            f.into_iter()
                .map(|r| Ok((parse_id(&r.article_id)?, r.created_at)))
                .collect::<Result<_, RepoError>>()?,
        ))
    }
}

/// Within a person's account deletion: removes their likes and favourites and corrects the
/// counts.
pub(crate) async fn forget_user(txn: &DatabaseTransaction, user: Uuid) -> Result<(), RepoError> {
    let u = user.to_string();
    let mut touched = BTreeSet::new();
    for r in likes::Entity::find()
        .filter(likes::Column::UserId.eq(u.clone()))
        .all(txn)
        .await
        .map_err(storage)?
    {
        touched.insert(r.article_id);
    }
    for r in favs::Entity::find()
        .filter(favs::Column::UserId.eq(u.clone()))
        .all(txn)
        .await
        .map_err(storage)?
    {
        touched.insert(r.article_id);
    }
    likes::Entity::delete_many()
        .filter(likes::Column::UserId.eq(u.clone()))
        .exec(txn)
        .await
        .map_err(storage)?;
    favs::Entity::delete_many()
        .filter(favs::Column::UserId.eq(u))
        .exec(txn)
        .await
        .map_err(storage)?;
    for article in touched {
        recount(txn, &article).await?;
    }
    Ok(())
}
