//! 科普: science articles. Drafts, scheduled publishing, visibility, validation.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::AudienceGroup;
use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use crate::validation::{self, Collector, ValidationError};

pub const CATEGORIES: [&str; 6] = [
    "压力管理",
    "情绪与睡眠",
    "人际与家庭",
    "特殊人群",
    "危机求助",
    "心理常识",
];
pub const MAX_TAGS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Article,
    Video,
    Handbook,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Article => "article",
            Kind::Video => "video",
            Kind::Handbook => "handbook",
        }
    }

    pub const ALL: [Kind; 3] = [Kind::Article, Kind::Video, Kind::Handbook];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Article => "文章",
            Kind::Video => "视频",
            Kind::Handbook => "手册",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    Published,
    Archived,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
            ArticleStatus::Archived => "archived",
        }
    }

    pub const ALL: [ArticleStatus; 3] = [
        ArticleStatus::Draft,
        ArticleStatus::Published,
        ArticleStatus::Archived,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "草稿",
            ArticleStatus::Published => "已发布",
            ArticleStatus::Archived => "已归档",
        }
    }
}

/// What an admin does to an article's state (edits keep the state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleEvent {
    Publish,
    Archive,
}

/// The article lifecycle, one table: a draft is published (now or at a set time), a published
/// article can be re-timed, an archived one brought back; only a published article is
/// archived (a draft is deleted or kept, not archived).
pub fn article_transition(
    from: ArticleStatus,
    event: ArticleEvent,
) -> Result<ArticleStatus, &'static str> {
    match (from, event) {
        (_, ArticleEvent::Publish) => Ok(ArticleStatus::Published),
        (ArticleStatus::Published, ArticleEvent::Archive) => Ok(ArticleStatus::Archived),
        (ArticleStatus::Draft, ArticleEvent::Archive) => {
            Err("草稿还没有发布，不需要归档；不要的草稿可以删除")
        }
        (ArticleStatus::Archived, ArticleEvent::Archive) => Err("这篇文章已经归档"),
    }
}

/// What an admin writes; validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleInput {
    pub title: String,
    pub summary: String,
    /// Markdown as authored.
    pub body: String,
    pub kind: Kind,
    pub video_url: Option<String>,
    pub cover_image_url: Option<String>,
    pub category: String,
    pub tags: Vec<String>,
    pub audience: AudienceGroup,
    pub author: String,
}

fn https_url(field: &str, raw: &str) -> Result<String, ValidationError> {
    let v = raw.trim();
    let ok = v.len() <= 500
        && v.starts_with("https://")
        && v.len() > "https://".len() + 3
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    if ok {
        Ok(v.to_owned())
    } else {
        Err(ValidationError::single(
            field,
            "须为 https:// 开头的有效网址",
        ))
    }
}

impl ArticleInput {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        title: &str,
        summary: &str,
        body: &str,
        kind: Kind,
        video_url: Option<&str>,
        cover_image_url: Option<&str>,
        category: &str,
        tags: &[String],
        audience: AudienceGroup,
        author: &str,
    ) -> Result<Self, ValidationError> {
        let mut c = Collector::new();
        let title = c.check(validation::text("title", "标题", title, 1, 60));
        let summary = c.check(validation::text("summary", "摘要", summary, 0, 200));
        let body = if body.trim().is_empty() {
            c.push("body", "正文不能为空");
            None
        } else if validation::char_len(body) > 20_000 {
            c.push("body", "正文不能超过 20000 个字");
            None
        } else {
            Some(body.to_owned())
        };
        let video_url = match (kind, video_url.filter(|u| !u.trim().is_empty())) {
            (Kind::Video, Some(u)) => c.check(https_url("video_url", u)).map(Some),
            (Kind::Video, None) => {
                c.push("video_url", "视频类内容须填写视频地址");
                None
            }
            (_, Some(_)) => {
                c.push("video_url", "只有视频类内容才填写视频地址");
                None
            }
            (_, None) => Some(None),
        };
        let cover = match cover_image_url.filter(|u| !u.trim().is_empty()) {
            Some(u) => c.check(https_url("cover_image_url", u)).map(Some),
            None => Some(None),
        };
        if !CATEGORIES.contains(&category.trim()) {
            c.push("category", format!("分类须为：{}", CATEGORIES.join("、")));
        }
        if tags.len() > MAX_TAGS {
            c.push("tags", format!("标签最多 {MAX_TAGS} 个"));
        }
        let mut clean_tags = Vec::new();
        for (i, t) in tags.iter().enumerate() {
            if let Some(t) = c.check(validation::text(
                &format!("tags[{i}]"),
                "标签",
                t,
                1,
                MAX_TAG_CHARS,
            )) {
                if t.contains(',') {
                    c.push(format!("tags[{i}]"), "标签不能包含逗号");
                } else if !clean_tags.contains(&t) {
                    clean_tags.push(t);
                }
            }
        }
        let author = c.check(validation::text("author", "作者", author, 1, 32));
        c.finish()?;
        match (title, summary, body, video_url, cover, author) {
            (
                Some(title),
                Some(summary),
                Some(body),
                Some(video_url),
                Some(cover_image_url),
                Some(author),
            ) => Ok(Self {
                title,
                summary,
                body,
                kind,
                video_url,
                cover_image_url,
                category: category.trim().to_owned(),
                tags: clean_tags,
                audience,
                author,
            }),
            _ => Err(ValidationError::single("body", "内容有误")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub id: Uuid,
    pub input: ArticleInput,
    /// Sanitised HTML for the mini-program's `rich-text`.
    pub body_html: String,
    pub status: ArticleStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub view_count: u64,
    pub like_count: u64,
    pub favorite_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by every edit and status change (not by views, likes or favourites).
    pub revision: i64,
}

impl Article {
    /// Readers see published articles whose publication time has come.
    pub fn is_public(&self, now: DateTime<Utc>) -> bool {
        self.status == ArticleStatus::Published && self.published_at.is_some_and(|t| t <= now)
    }
}

/// Public list filters; `q` searches title, summary and body as a substring (Chinese has no
/// spaces between words), title matches first.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    pub q: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    pub audience: Option<AudienceGroup>,
    pub kind: Option<Kind>,
}

/// Most articles one import request may carry.
pub const MAX_IMPORT: usize = 500;

/// One article of an import (operators moving an existing library in): what an admin writes,
/// and when it was published there (`None`: it arrives as a draft). A time in the future
/// schedules it, as publishing does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedArticle {
    pub input: ArticleInput,
    pub published_at: Option<DateTime<Utc>>,
}

/// Checks an import's size: 1 to [`MAX_IMPORT`] articles.
pub fn check_import_size(n: usize) -> Result<(), ValidationError> {
    if n == 0 || n > MAX_IMPORT {
        return Err(ValidationError::single(
            "articles",
            format!("每次导入 1 到 {MAX_IMPORT} 篇文章"),
        ));
    }
    Ok(())
}

/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 50;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 16;

impl ArticleFilter {
    /// The public list's filters as a reader sends them. Each value is bounded (they become
    /// cache keys): `q` up to [`MAX_QUERY_CHARS`] without control characters, `category` one
    /// of [`CATEGORIES`], `tag` up to [`MAX_TAG_CHARS`]. Empty values mean "no filter".
    pub fn parse(
        q: Option<&str>,
        category: Option<&str>,
        tag: Option<&str>,
        audience: Option<AudienceGroup>,
        kind: Option<Kind>,
    ) -> Result<Self, ValidationError> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let mut c = Collector::new();
        let q =
            given(q).and_then(|q| c.check(validation::text("q", "搜索词", q, 1, MAX_QUERY_CHARS)));
        let tag =
            given(tag).and_then(|t| c.check(validation::text("tag", "标签", t, 1, MAX_TAG_CHARS)));
        let category = given(category).map(str::to_owned);
        if let Some(category) = &category
            && !CATEGORIES.contains(&category.as_str())
        {
            c.push("category", format!("分类须为：{}", CATEGORIES.join("、")));
        }
        c.finish()?;
        Ok(Self {
            q,
            category,
            tag,
            audience,
            kind,
        })
    }
}

/// Markdown as authored → HTML safe for the mini-program's `rich-text` (`infra::markdown`):
/// what a reader is shown of an article's body.
pub trait Renderer: Send + Sync {
    fn to_safe_html(&self, markdown: &str) -> String;
}

#[async_trait]
pub trait ArticleRepository: Send + Sync {
    async fn list_public(
        &self,
        filter: &ArticleFilter,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<Article>, RepoError>;
    async fn categories(&self, now: DateTime<Utc>) -> Result<Vec<(String, u64)>, RepoError>;
    /// Published articles carrying any of `tags`, newest first.
    async fn with_tags(
        &self,
        tags: &[String],
        limit: u64,
        now: DateTime<Utc>,
    ) -> Result<Vec<Article>, RepoError>;
    async fn list_admin(
        &self,
        status: Option<ArticleStatus>,
        page: PageRequest,
    ) -> Result<Page<Article>, RepoError>;
    async fn find(&self, id: Uuid) -> Result<Option<Article>, RepoError>;
    /// Stores a whole import in one transaction (all or nothing); each with its rendered
    /// body. Returns the new ids in order.
    async fn import(
        &self,
        articles: &[(ImportedArticle, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, RepoError>;
    /// The articles among `ids` that exist, in no particular order.
    async fn find_many(&self, ids: &[Uuid]) -> Result<Vec<Article>, RepoError>;
    /// Every article's id and revision: what a derived index compares to find what changed.
    async fn revisions(&self) -> Result<Vec<(Uuid, i64)>, RepoError>;
    async fn create(
        &self,
        input: &ArticleInput,
        body_html: &str,
        now: DateTime<Utc>,
    ) -> Result<Article, RepoError>;
    async fn update(
        &self,
        id: Uuid,
        input: &ArticleInput,
        body_html: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Article>, RepoError>;
    async fn set_status(
        &self,
        id: Uuid,
        status: ArticleStatus,
        published_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<Article>, RepoError>;
    async fn delete(&self, id: Uuid) -> Result<bool, RepoError>;
    /// Adds counted views (flushed in batches, not per request).
    async fn add_views(&self, views: &[(Uuid, u64)]) -> Result<(), RepoError>;
    /// Idempotent: returns the article's new count.
    async fn set_like(&self, id: Uuid, user: Uuid, on: bool) -> Result<u64, RepoError>;
    async fn set_favorite(&self, id: Uuid, user: Uuid, on: bool) -> Result<u64, RepoError>;
    async fn reactions_of(&self, id: Uuid, user: Uuid) -> Result<(bool, bool), RepoError>;
    async fn favorites_of(&self, user: Uuid, page: PageRequest)
    -> Result<Page<Article>, RepoError>;
    /// Article ids the user liked and favourited (export).
    async fn reactions_of_user(
        &self,
        user: Uuid,
    ) -> Result<(Vec<(Uuid, DateTime<Utc>)>, Vec<(Uuid, DateTime<Utc>)>), RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_from_any_state_archive_only_what_is_published() {
        use ArticleEvent::*;
        use ArticleStatus::*;
        for from in ArticleStatus::ALL {
            assert_eq!(article_transition(from, Publish), Ok(Published));
        }
        assert_eq!(article_transition(Published, Archive), Ok(Archived));
        assert!(article_transition(Draft, Archive).is_err());
        assert!(article_transition(Archived, Archive).is_err());
    }

    fn parse(
        kind: Kind,
        video: Option<&str>,
        category: &str,
    ) -> Result<ArticleInput, ValidationError> {
        ArticleInput::parse(
            "标题",
            "摘要",
            "正文",
            kind,
            video,
            None,
            category,
            &["压力".into()],
            AudienceGroup::Worker,
            "编辑部",
        )
    }

    #[test]
    fn videos_need_an_https_url_and_others_none() {
        assert!(parse(Kind::Video, Some("https://example.com/v.mp4"), "压力管理").is_ok());
        assert_eq!(
            parse(Kind::Video, None, "压力管理").unwrap_err().0[0].field,
            "video_url"
        );
        assert_eq!(
            parse(Kind::Video, Some("javascript:alert(1)"), "压力管理")
                .unwrap_err()
                .0[0]
                .field,
            "video_url"
        );
        assert_eq!(
            parse(Kind::Article, Some("https://example.com/v.mp4"), "压力管理")
                .unwrap_err()
                .0[0]
                .field,
            "video_url"
        );
        assert_eq!(
            parse(Kind::Article, None, "美食").unwrap_err().0[0].field,
            "category"
        );
    }
}
