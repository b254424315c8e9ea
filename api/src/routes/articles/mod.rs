//! 科普: the public article list (filters, Chinese search, paging), details, categories,
//! likes and favourites, and the admin side (create, edit, publish/schedule, archive, delete).
//!
//! Public answers are cached (Redis or in-process) and every admin write invalidates the whole
//! article namespace at once, so readers see a change on their next request — on every
//! instance sharing Redis. Searches are answered by an in-process index
//! ([`xinli_infra::search`]) that catches up whenever that namespace version moves. Views are
//! counted in memory and flushed in batches.
//!
//! Parts: `public` (lists, search, details, likes, favourites) and `admin`. This file holds
//! the views both show.

mod admin;
mod public;

pub use admin::ArticleRequest;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use xinli_domain::article::{Article, Kind};
use xinli_infra::cache::Namespace;

use crate::dto::{Audience, cst};

/// The public lists, registered before every other route (see [`crate::routes::configure`]).
pub fn configure_lists(cfg: &mut ServiceConfig) {
    cfg.service(public::list).service(public::categories);
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(public::detail)
        .service(public::like)
        .service(public::unlike)
        .service(public::favorite)
        .service(public::unfavorite)
        .service(public::my_favorites)
        .service(admin::admin_list)
        .service(admin::admin_get)
        .service(admin::admin_create)
        .service(admin::admin_import)
        .service(admin::admin_update)
        .service(admin::admin_delete)
        .service(admin::admin_publish)
        .service(admin::admin_archive);
}

const ARTICLES: Namespace = Namespace("articles");

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
