//! 科普: the public article list (filters, Chinese search, paging), details, categories,
//! likes and favourites, and the admin side (create, edit, publish/schedule, archive, delete).
//!
//! Public answers are cached (Redis or in-process) and every admin write invalidates the whole
//! article namespace at once, so readers see a change on their next request — on every
//! instance sharing Redis. Searches are answered by an in-process index
//! ([`xinli_infra::search`]) that catches up whenever that namespace version moves. Views are
//! counted in memory and flushed in batches.

use std::time::Duration;

use std::sync::Arc;

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::account::Role;
use xinli_domain::article::{
    Article, ArticleEvent, ArticleFilter, ArticleInput, ArticleStatus, ImportedArticle, Kind,
    article_transition, check_import_size,
};
use xinli_domain::page::PageRequest;
use xinli_domain::validation::{Collector, ValidationError};
use xinli_infra::cache::Namespace;

use crate::auth::{AdminCaller, OptionalCaller, UserCaller};
use crate::dto::{ArticleStatusName, Audience, Paged, ReadOnly, cst};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{Json, MAX_BULK_BODY_BYTES, Query, parse_id};
use crate::state::{AppState, State};

/// The public lists, registered before every other route (see [`super::configure`]).
pub fn configure_lists(cfg: &mut ServiceConfig) {
    cfg.service(list).service(categories);
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(detail)
        .service(like)
        .service(unlike)
        .service(favorite)
        .service(unfavorite)
        .service(my_favorites)
        .service(admin_list)
        .service(admin_get)
        .service(admin_create)
        .service(admin_import)
        .service(admin_update)
        .service(admin_delete)
        .service(admin_publish)
        .service(admin_archive);
}

const ARTICLES: Namespace = Namespace("articles");
/// Entries are also unreachable after every admin write (version) and once a scheduled
/// article's moment passes (epoch in the key); the TTL only bounds how stale cached view and
/// like counts get.
const PUBLIC_TTL: Duration = Duration::from_secs(60);

/// `article`, `video` (with `video_url`) or `handbook`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindName {
    Article,
    Video,
    Handbook,
}

impl From<KindName> for Kind {
    fn from(k: KindName) -> Self {
        match k {
            KindName::Article => Kind::Article,
            KindName::Video => Kind::Video,
            KindName::Handbook => Kind::Handbook,
        }
    }
}

impl From<Kind> for KindName {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Article => KindName::Article,
            Kind::Video => KindName::Video,
            Kind::Handbook => KindName::Handbook,
        }
    }
}

/// An article in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d6-3333-7abc-8def-0123456789ab", "title": "识别压力的五个信号", "summary": "……",
    "kind": "article", "cover_image_url": null, "category": "压力管理", "tags": ["压力", "职场"], "audience": "worker",
    "author": "心嚟在线编辑部", "published_at": "2026-11-20T09:00:00+08:00", "view_count": 12, "like_count": 3, "favorite_count": 1}))]
pub struct ArticleSummary {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub kind: KindName,
    pub cover_image_url: Option<String>,
    pub category: String,
    pub tags: Vec<String>,
    pub audience: Audience,
    pub author: String,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub view_count: u64,
    pub like_count: u64,
    pub favorite_count: u64,
}

impl From<&Article> for ArticleSummary {
    fn from(a: &Article) -> Self {
        Self {
            id: a.id.to_string(),
            title: a.input.title.clone(),
            summary: a.input.summary.clone(),
            kind: a.input.kind.into(),
            cover_image_url: a.input.cover_image_url.clone(),
            category: a.input.category.clone(),
            tags: a.input.tags.clone(),
            audience: a.input.audience.into(),
            author: a.input.author.clone(),
            published_at: a.published_at.map(cst),
            view_count: a.view_count,
            like_count: a.like_count,
            favorite_count: a.favorite_count,
        }
    }
}

/// A whole article.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d6-3333-7abc-8def-0123456789ab", "title": "识别压力的五个信号", "summary": "……",
    "kind": "article", "cover_image_url": null, "category": "压力管理", "tags": ["压力"], "audience": "worker",
    "author": "心嚟在线编辑部", "published_at": "2026-11-20T09:00:00+08:00", "view_count": 12, "like_count": 3, "favorite_count": 1,
    "body_html": "<h2>信号一</h2><p>……</p>", "video_url": null, "liked": false, "favorited": false}))]
pub struct ArticleDetail {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// Sanitised HTML for `rich-text`.
    pub body_html: String,
    pub video_url: Option<String>,
    /// For a logged-in user: whether they liked / favourited it.
    pub liked: Option<bool>,
    pub favorited: Option<bool>,
}

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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Searches title, summary and body: any Chinese text of two or more characters (e.g. 压力)
    /// wherever it occurs; words separated by spaces must all occur. Articles whose title
    /// holds the query come first, then by relevance. At most 50 characters, no control
    /// characters.
    #[param(
        example = "压力",
        max_length = 50,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub q: Option<String>,
    /// One of 压力管理, 情绪与睡眠, 人际与家庭, 特殊人群, 危机求助, 心理常识.
    #[param(example = "压力管理")]
    pub category: Option<String>,
    /// Up to 16 characters.
    #[param(example = "睡眠", max_length = 16)]
    pub tag: Option<String>,
    pub audience: Option<Audience>,
    pub kind: Option<KindName>,
    #[param(minimum = 1, maximum = 10000, example = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub page_size: Option<u64>,
}

/// The article namespace's cache version: read once per request, so that the cache key and
/// the search index refer to the same moment.
async fn version(state: &AppState) -> String {
    ARTICLES.version(state.cache.as_ref()).await
}

/// Cache-aside for public answers. `load` gets the moment the key was computed for, so that
/// what is stored matches its key exactly. A hit from the in-process cache is shared, not
/// copied.
async fn cached<T: Serialize, F: std::future::Future<Output = ApiResult<T>>>(
    state: &AppState,
    version: &str,
    key: std::fmt::Arguments<'_>,
    load: impl FnOnce(DateTime<Utc>) -> F,
) -> ApiResult<Arc<Vec<u8>>> {
    let now = state.clock.now();
    let epoch = match state.search.visible_as_of(now, version).await {
        Ok(at) => at.map_or(0, |t| t.timestamp_micros()),
        Err(e) => {
            tracing::warn!(error = %e, "article visibility unknown; answering without the cache");
            let value = load(now).await?;
            return Ok(Arc::new(
                serde_json::to_vec(&value).map_err(ApiError::internal)?,
            ));
        }
    };
    let key = ARTICLES.key_with(version, format_args!("e{epoch}:{key}"));
    if let Some(bytes) = state.cache.get_versioned(&key).await {
        return Ok(bytes);
    }
    let value = load(now).await?;
    let bytes = serde_json::to_vec(&value).map_err(ApiError::internal)?;
    state.cache.set_versioned(&key, &bytes, PUBLIC_TTL).await;
    Ok(Arc::new(bytes))
}

/// A cached answer as a response body, without a copy.
struct SharedBody(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBody {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

fn json_bytes(bytes: Arc<Vec<u8>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(web::Bytes::from_owner(SharedBody(bytes)))
}

/// Published articles, newest first (with `q`: search results, best first)
#[utoipa::path(
    operation_id = "list_articles",
    tag = "articles",
    params(ListQuery),
    responses((status = 200, body = Paged<ArticleSummary>), (status = 422, body = ErrorBody))
)]
#[get("/articles")]
pub async fn list(state: State, query: Query<ListQuery>) -> ApiResult<HttpResponse> {
    let q = query.0;
    let page = PageRequest::parse(q.page, q.page_size)?;
    let filter = ArticleFilter::parse(
        q.q.as_deref(),
        q.category.as_deref(),
        q.tag.as_deref(),
        q.audience.map(Into::into),
        q.kind.map(Into::into),
    )?;
    let version = version(&state).await;
    let (st, v, f) = (&state, &version, &filter);
    let bytes = cached(
        &state,
        &version,
        format_args!(
            "list:{:?}:{:?}:{:?}:{:?}:{:?}:{}:{}",
            filter.q,
            filter.category,
            filter.tag,
            filter.audience,
            filter.kind,
            page.page,
            page.page_size
        ),
        |now| async move {
            let found = st.search.list(f, page, now, v).await?;
            Ok(Paged::from_page(found, |a| ArticleSummary::from(&a)))
        },
    )
    .await?;
    Ok(json_bytes(bytes))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"category": "压力管理", "count": 6}))]
pub struct ArticleCategoryCount {
    pub category: String,
    pub count: u64,
}

/// Categories with the number of published articles
#[utoipa::path(
    operation_id = "list_article_categories",
    tag = "articles", responses((status = 200, body = Vec<ArticleCategoryCount>)))]
#[get("/article-categories")]
pub async fn categories(state: State) -> ApiResult<HttpResponse> {
    let st = &state;
    let bytes = cached(
        &state,
        &version(&state).await,
        format_args!("categories"),
        |now| async move {
            let rows = st.articles.categories(now).await?;
            Ok(rows
                .into_iter()
                .map(|(category, count)| ArticleCategoryCount { category, count })
                .collect::<Vec<_>>())
        },
    )
    .await?;
    Ok(json_bytes(bytes))
}

async fn public_article(state: &AppState, id: &str, now: DateTime<Utc>) -> ApiResult<Article> {
    let id = parse_id(id)?;
    let a = state
        .articles
        .find(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !a.is_public(now) {
        return Err(ApiError::not_found());
    }
    Ok(a)
}

/// One article; counts a view
///
/// Drafts, archived and not-yet-published articles are 404.
#[utoipa::path(
    operation_id = "get_article",
    tag = "articles",
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Article id")),
    responses((status = 200, body = ArticleDetail), (status = 404, body = ErrorBody))
)]
#[get("/articles/{id}")]
pub async fn detail(
    state: State,
    OptionalCaller(caller): OptionalCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (st, raw_id) = (&state, id.as_str());
    let version = version(&state).await;
    let bytes = cached(
        &state,
        &version,
        format_args!("detail:{raw_id}"),
        |now| async move {
            let a = public_article(st, raw_id, now).await?;
            Ok(ArticleDetail {
                summary: (&a).into(),
                body_html: a.body_html.clone(),
                video_url: a.input.video_url.clone(),
                liked: None,
                favorited: None,
            })
        },
    )
    .await?;
    let mut article: ArticleDetail = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
    // A cached copy may outlive a scheduled time that has not come (never) or an archive
    // (invalidated on write); the visibility rule is checked on the cached copy too.
    if article
        .summary
        .published_at
        .is_none_or(|t| t.with_timezone(&Utc) > state.clock.now())
    {
        return Err(ApiError::not_found());
    }
    let article_id = parse_id(&article.summary.id)?;
    state.views.hit(article_id);
    if let Some(user) = caller.filter(|c| c.role == Role::User) {
        let (liked, favorited) = state.articles.reactions_of(article_id, user.id).await?;
        article.liked = Some(liked);
        article.favorited = Some(favorited);
    }
    Ok(HttpResponse::Ok().json(article))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"active": true, "count": 4}))]
pub struct ArticleReactionState {
    /// Whether the caller now likes / favourites it.
    pub active: bool,
    /// The article's count now.
    pub count: u64,
}

async fn react(
    state: &AppState,
    user: UserCaller,
    id: &str,
    is_like: bool,
    on: bool,
) -> ApiResult<HttpResponse> {
    let a = public_article(state, id, state.clock.now()).await?;
    let count = if is_like {
        state.articles.set_like(a.id, user.id, on).await?
    } else {
        state.articles.set_favorite(a.id, user.id, on).await?
    };
    Ok(HttpResponse::Ok().json(ArticleReactionState { active: on, count }))
}

/// Like (idempotent)
#[utoipa::path(
    operation_id = "like_article",
    tag = "articles", security(("bearer" = [])), params(("id" = String, Path, description = "Article id")),
    responses((status = 200, body = ArticleReactionState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/articles/{id}/like")]
pub async fn like(
    state: State,
    user: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    react(&state, user, &id, true, true).await
}

/// Remove a like (idempotent)
#[utoipa::path(
    operation_id = "unlike_article",
    tag = "articles", security(("bearer" = [])), params(("id" = String, Path, description = "Article id")),
    responses((status = 200, body = ArticleReactionState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/articles/{id}/like")]
pub async fn unlike(
    state: State,
    user: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    react(&state, user, &id, true, false).await
}

/// Favourite (idempotent)
#[utoipa::path(
    operation_id = "favorite_article",
    tag = "articles", security(("bearer" = [])), params(("id" = String, Path, description = "Article id")),
    responses((status = 200, body = ArticleReactionState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/articles/{id}/favorite")]
pub async fn favorite(
    state: State,
    user: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    react(&state, user, &id, false, true).await
}

/// Remove a favourite (idempotent)
#[utoipa::path(
    operation_id = "unfavorite_article",
    tag = "articles", security(("bearer" = [])), params(("id" = String, Path, description = "Article id")),
    responses((status = 200, body = ArticleReactionState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/articles/{id}/favorite")]
pub async fn unfavorite(
    state: State,
    user: UserCaller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    react(&state, user, &id, false, false).await
}

/// My favourites
#[utoipa::path(
    operation_id = "list_my_favorites",
    tag = "articles", security(("bearer" = [])), params(crate::extract::PageParams),
    responses((status = 200, body = Paged<ArticleSummary>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/me/favorites")]
pub async fn my_favorites(
    state: State,
    user: UserCaller,
    query: Query<crate::extract::PageParams>,
) -> ApiResult<HttpResponse> {
    // An archived favourite stays in the person's list.
    let page = state
        .articles
        .favorites_of(user.id, query.0.parse()?)
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |a| ArticleSummary::from(&a))))
}

// ------------------------------------------------------------------ admin

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
    let html = xinli_infra::markdown::to_safe_html(&input.body);
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
            let html = xinli_infra::markdown::to_safe_html(&input.body);
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
    let html = xinli_infra::markdown::to_safe_html(&input.body);
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
