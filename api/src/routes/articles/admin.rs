//! The admin side: list, read, create, import, edit, publish or schedule, archive, delete.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinli_domain::article::{
    Article, ArticleEvent, ArticleInput, ArticleStatus, ImportedArticle, article_transition,
    check_import_size,
};
use xinli_domain::page::PageRequest;
use xinli_domain::validation::{Collector, ValidationError};

use crate::auth::AdminCaller;
use crate::dto::{ArticleStatusName, Audience, Paged, ReadOnly, cst};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, MAX_BULK_BODY_BYTES, Query, parse_id};
use crate::state::{AppState, State};

use super::{ARTICLES, ArticleSummary, KindName};

/// An article as an admin sees it: with status and the Markdown as authored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d6-3333-7abc-8def-0123456789ab", "title": "识别压力的五个信号", "summary": "……",
    "kind": "article", "cover_image_url": null, "category": "压力管理", "tags": ["压力"], "audience": "worker",
    "author": "心嚟在线编辑部", "published_at": null, "view_count": 0, "like_count": 0, "favorite_count": 0,
    "status": "draft", "body": "## 信号一\n……", "body_html": "<h2>信号一</h2>", "video_url": null,
    "created_at": "2026-11-20T09:00:00+08:00", "updated_at": "2026-11-20T09:00:00+08:00"}))]
pub struct AdminArticle {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    #[schema(value_type = ArticleStatusName)]
    pub status: String,
    pub body: String,
    pub body_html: String,
    pub video_url: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

impl From<&Article> for AdminArticle {
    fn from(a: &Article) -> Self {
        Self {
            summary: a.into(),
            status: a.status.as_str().into(),
            body: a.input.body.clone(),
            body_html: a.body_html.clone(),
            video_url: a.input.video_url.clone(),
            created_at: cst(a.created_at),
            updated_at: cst(a.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "识别压力的五个信号", "summary": "压力并不可怕，学会识别它是管理它的第一步。",
    "body": "## 信号一：睡不好\n\n……", "kind": "article", "video_url": null, "cover_image_url": null,
    "category": "压力管理", "tags": ["压力", "职场"], "audience": "worker", "author": "心嚟在线编辑部"}))]
pub struct ArticleRequest {
    /// 1–60 characters.
    #[schema(min_length = 1, max_length = 60)]
    pub title: String,
    /// Up to 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub summary: String,
    /// Markdown, up to 20000 characters; rendered to sanitised HTML.
    #[schema(min_length = 1, max_length = 20000)]
    pub body: String,
    pub kind: KindName,
    /// Required (https) for `video`, absent otherwise.
    pub video_url: Option<String>,
    /// https URL.
    pub cover_image_url: Option<String>,
    /// 压力管理, 情绪与睡眠, 人际与家庭, 特殊人群, 危机求助, 心理常识.
    pub category: String,
    /// Up to 8, each 1–16 characters.
    #[serde(default)]
    #[schema(max_items = 8)]
    pub tags: Vec<String>,
    pub audience: Audience,
    /// 1–32 characters.
    #[schema(min_length = 1, max_length = 32)]
    pub author: String,
    /// Read-only fields of the admin view (`AdminArticle`): accepted so that a GET can be
    /// edited and sent back, and ignored.
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub id: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<ArticleStatusName>, read_only)]
    pub status: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub published_at: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<u64>, read_only)]
    pub view_count: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<u64>, read_only)]
    pub like_count: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<u64>, read_only)]
    pub favorite_count: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub body_html: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub created_at: ReadOnly,
    #[serde(default)]
    #[schema(value_type = Option<String>, read_only)]
    pub updated_at: ReadOnly,
}

impl ArticleRequest {
    pub fn parse(&self) -> ApiResult<ArticleInput> {
        Ok(self.to_input()?)
    }

    fn to_input(&self) -> Result<ArticleInput, ValidationError> {
        ArticleInput::parse(
            &self.title,
            &self.summary,
            &self.body,
            self.kind.into(),
            self.video_url.as_deref(),
            self.cover_image_url.as_deref(),
            &self.category,
            &self.tags,
            self.audience.into(),
            &self.author,
        )
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AdminListQuery {
    /// `draft`, `published`, `archived`.
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 10000, example = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub page_size: Option<u64>,
}

/// After an admin write: readers on every instance see it on their next request (the cache
/// version moves), and this instance's search index takes it in at once (sharing the work
/// with concurrent writers).
async fn invalidate(state: &AppState) {
    ARTICLES.invalidate(state.cache.as_ref()).await;
    if let Err(e) = state.search.refresh_after_write().await {
        // The write itself succeeded; the next search or the periodic refresh retries.
        tracing::warn!(error = %e, "search index not refreshed after an article write");
    }
}

/// All articles, any status
#[utoipa::path(
    operation_id = "admin_list_articles",
    tag = "admin", security(("bearer" = [])), params(AdminListQuery),
    responses((status = 200, body = Paged<AdminArticle>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[get("/admin/articles")]
pub async fn admin_list(
    state: State,
    _admin: AdminCaller,
    query: Query<AdminListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            ArticleStatus::parse(s)
                .ok_or_else(|| ApiError::field("status", "状态须为 draft、published、archived"))?,
        ),
    };
    let page = state
        .articles
        .list_admin(status, PageRequest::parse(q.page, q.page_size)?)
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |a| AdminArticle::from(&a))))
}

/// One article, any status
///
/// As the editor needs it: the Markdown source and the HTML readers get. Counts no view.
#[utoipa::path(
    operation_id = "admin_get_article",
    tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Article id")),
    responses((status = 200, body = AdminArticle), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/articles/{id}")]
pub async fn admin_get(
    state: State,
    _admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let a = state
        .articles
        .find(parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(AdminArticle::from(&a)))
}

/// Write a new article (a draft)
#[utoipa::path(
    operation_id = "admin_create_article",
    tag = "admin", security(("bearer" = [])), request_body = ArticleRequest,
    responses((status = 201, body = AdminArticle), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/admin/articles")]
pub async fn admin_create(
    state: State,
    _admin: AdminCaller,
    body: Json<ArticleRequest>,
) -> ApiResult<HttpResponse> {
    let input = body.0.parse()?;
    let html = state.markdown.to_safe_html(&input.body);
    let a = state
        .articles
        .create(&input, &html, state.clock.now())
        .await?;
    invalidate(&state).await;
    Ok(HttpResponse::Created().json(AdminArticle::from(&a)))
}

/// One article of an import: the article as `POST /admin/articles` takes it, and when it was
/// published in the library it comes from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"article": {"title": "识别压力的五个信号", "summary": "压力并不可怕。",
    "body": "## 信号一：睡不好\n\n……", "kind": "article", "category": "压力管理", "tags": ["压力"],
    "audience": "worker", "author": "心嚟在线编辑部"}, "published_at": "2025-03-01T08:00:00+08:00"}))]
pub struct ArticleImportItem {
    pub article: ArticleRequest,
    /// Absent: it arrives as a draft. In the future: scheduled.
    pub published_at: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"articles": [{"article": {"title": "识别压力的五个信号", "summary": "压力并不可怕。",
    "body": "## 信号一：睡不好\n\n……", "kind": "article", "category": "压力管理", "tags": ["压力"],
    "audience": "worker", "author": "心嚟在线编辑部"}, "published_at": "2025-03-01T08:00:00+08:00"}]}))]
pub struct ArticleImportRequest {
    /// 1–500 articles, stored all or none.
    #[schema(min_items = 1, max_items = 500)]
    pub articles: Vec<ArticleImportItem>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"created": 1, "ids": ["0193a5d6-3333-7abc-8def-0123456789ab"]}))]
pub struct ArticleImportResult {
    pub created: u64,
    /// The new articles' ids, in the order sent.
    pub ids: Vec<String>,
}

/// Import many articles at once
///
/// For operators moving an existing library in: up to 500 articles (and 32 MiB) per request, validated
/// like single ones (errors name `articles[i].field`) and stored in one transaction, all or
/// none; the search index and the caches take the whole batch in once.
#[utoipa::path(
    operation_id = "admin_import_articles",
    tag = "admin",
    security(("bearer" = [])),
    request_body = ArticleImportRequest,
    responses(
        (status = 201, body = ArticleImportResult),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`: `details` name `articles` or `articles[i].field`", body = ErrorBody),
    )
)]
#[post("/admin/articles/import")]
pub async fn admin_import(
    state: State,
    _admin: AdminCaller,
    body: Json<ArticleImportRequest, MAX_BULK_BODY_BYTES>,
) -> ApiResult<HttpResponse> {
    let items = body.0.articles;
    check_import_size(items.len())?;
    let mut c = Collector::new();
    let parsed: Vec<(ImportedArticle, String)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let input = c.check(
                item.article
                    .to_input()
                    .map_err(|e| e.under(&format!("articles[{i}]"))),
            )?;
            let html = state.markdown.to_safe_html(&input.body);
            let published_at = item.published_at.map(|t| t.with_timezone(&Utc));
            Some((
                ImportedArticle {
                    input,
                    published_at,
                },
                html,
            ))
        })
        .collect();
    c.finish()?;
    let ids = state.articles.import(&parsed, state.clock.now()).await?;
    invalidate(&state).await;
    Ok(HttpResponse::Created().json(ArticleImportResult {
        created: ids.len() as u64,
        ids: ids.iter().map(ToString::to_string).collect(),
    }))
}

/// Edit an article
///
/// A published article changes for readers on their next request.
#[utoipa::path(
    operation_id = "admin_update_article",
    tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Article id")), request_body = ArticleRequest,
    responses((status = 200, body = AdminArticle), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[put("/admin/articles/{id}")]
pub async fn admin_update(
    state: State,
    _admin: AdminCaller,
    id: web::Path<String>,
    body: Json<ArticleRequest>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let input = body.0.parse()?;
    let html = state.markdown.to_safe_html(&input.body);
    let a = state
        .articles
        .update(id, &input, &html, state.clock.now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    invalidate(&state).await;
    Ok(HttpResponse::Ok().json(AdminArticle::from(&a)))
}

/// Delete an article (with its likes and favourites)
#[utoipa::path(
    operation_id = "admin_delete_article",
    tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Article id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/admin/articles/{id}")]
pub async fn admin_delete(
    state: State,
    _admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    if !state.articles.delete(id).await? {
        return Err(ApiError::not_found());
    }
    invalidate(&state).await;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"published_at": "2026-12-01T08:00:00+08:00"}))]
pub struct ArticlePublishRequest {
    /// When readers may see it; in the future = scheduled. Default: now.
    pub published_at: Option<DateTime<FixedOffset>>,
}

/// Publish now or at a set time
#[utoipa::path(
    operation_id = "admin_publish_article",
    tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Article id")), request_body = ArticlePublishRequest,
    responses((status = 200, body = AdminArticle), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/admin/articles/{id}/publish")]
pub async fn admin_publish(
    state: State,
    _admin: AdminCaller,
    id: web::Path<String>,
    body: Json<ArticlePublishRequest>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let at = body
        .0
        .published_at
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let current = state
        .articles
        .find(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let status = lifecycle(current.status, ArticleEvent::Publish)?;
    let a = state
        .articles
        .set_status(id, status, Some(at), now)
        .await?
        .ok_or_else(ApiError::not_found)?;
    invalidate(&state).await;
    Ok(HttpResponse::Ok().json(AdminArticle::from(&a)))
}

/// The lifecycle's answer (`domain::article::article_transition`) as an API error.
fn lifecycle(from: ArticleStatus, event: ArticleEvent) -> ApiResult<ArticleStatus> {
    article_transition(from, event)
        .map_err(|why| ApiError::new(ErrorCode::InvalidTransition).with_message(why))
}

/// Archive: readers no longer see it
///
/// Only a published article (or one scheduled) is archived.
#[utoipa::path(
    operation_id = "admin_archive_article",
    tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Article id")),
    responses((status = 200, body = AdminArticle), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`: a draft, or already archived", body = ErrorBody)))]
#[post("/admin/articles/{id}/archive")]
pub async fn admin_archive(
    state: State,
    _admin: AdminCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id)?;
    let current = state
        .articles
        .find(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let status = lifecycle(current.status, ArticleEvent::Archive)?;
    let a = state
        .articles
        .set_status(id, status, current.published_at, state.clock.now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    invalidate(&state).await;
    Ok(HttpResponse::Ok().json(AdminArticle::from(&a)))
}
