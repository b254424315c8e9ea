//! The public side: the article list and search (cached), categories, details with view
//! counts, likes and favourites.

use std::time::Duration;

use std::sync::Arc;

use actix_web::{HttpResponse, delete, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use xinli_domain::account::Role;
use xinli_domain::article::{Article, ArticleFilter};
use xinli_domain::page::PageRequest;

use crate::auth::{OptionalCaller, UserCaller};
use crate::dto::{Audience, Paged};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Query, parse_id};
use crate::state::{AppState, State};

use super::{ARTICLES, ArticleDetail, ArticleSummary, KindName};

/// Entries are also unreachable after every admin write (version) and once a scheduled
/// article's moment passes (epoch in the key); the TTL only bounds how stale cached view and
/// like counts get.
const PUBLIC_TTL: Duration = Duration::from_secs(60);

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
    crate::limits::hit(
        state,
        "reaction",
        user.id,
        state.config.limits.reactions_per_user,
    )
    .await?;
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
    responses((status = 200, body = ArticleReactionState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, description = "`too_many_requests`", body = ErrorBody)))]
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
    responses((status = 200, body = ArticleReactionState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, description = "`too_many_requests`", body = ErrorBody)))]
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
    responses((status = 200, body = ArticleReactionState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, description = "`too_many_requests`", body = ErrorBody)))]
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
    responses((status = 200, body = ArticleReactionState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, description = "`too_many_requests`", body = ErrorBody)))]
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
