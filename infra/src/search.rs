//! Chinese full-text search over articles: an in-process tantivy index with a CJK bigram
//! tokenizer, derived from the database (the source of truth).
//!
//! Why this mechanism (measured on this machine, see STACK.md and the README): Chinese has no
//! spaces, so a word tokenizer is useless; SQLite FTS5 `trigram` cannot match a 2-character
//! query such as 压力 and PostgreSQL's pg_trgm cannot index one either, so both databases would
//! fall back to scanning every body. A bigram index answers any 2+ character Chinese substring
//! as a phrase of overlapping bigrams, in well under a millisecond at 10,000 articles, the
//! same way on both databases.
//!
//! Keeping it current: every article row carries a revision raised by each edit and status
//! change. [`ArticleSearch::refresh`] compares the revisions in the database with those it
//! indexed and re-indexes only what differs. It runs at start (full build), after each local
//! admin write, before a search whenever the shared cache's article version has moved (so an
//! admin write on another instance is seen on the next request), and every 30 seconds as a
//! safety net for a cache outage.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;
use xinli_domain::RepoError;
use xinli_domain::article::{Article, ArticleFilter, ArticleRepository, ArticleStatus};
use xinli_domain::page::{Page, PageRequest};

const TOKENIZER: &str = "cjk_bigram";
/// Longer runs of letters/digits are not words anyone searches for (URLs, hashes).
const MAX_WORD_BYTES: usize = 40;
/// Relative weight of a match in the title and summary against one in the body.
const TITLE_BOOST: f32 = 3.0;
const SUMMARY_BOOST: f32 = 1.5;
/// Added to the score of an article whose title holds the whole query. BM25 scores of a
/// 50-character query stay far below it, so title matches always sort first.
const TITLE_TIER: f32 = 100_000.0;
/// Articles read from the database per batch while (re)building.
const BATCH: usize = 500;

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'     // kana
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}'   // Hangul syllables
        | '\u{F900}'..='\u{FAFF}'   // compatibility ideographs
        | '\u{20000}'..='\u{2FA1F}' // extensions B–F, compatibility supplement
    )
}

/// Splits text into tokens with real positions: each run of CJK characters into overlapping
/// bigrams (a run of one character into that character), each run of other letters and digits
/// into one lower-cased word. Everything else separates runs.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |&(o, _)| o);
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if is_cjk(c) {
            let mut j = i + 1;
            while j < chars.len() && is_cjk(chars[j].1) {
                j += 1;
            }
            if j - i == 1 {
                push(&mut out, start, end_of(i + 1), c.to_string());
            } else {
                for k in i..j - 1 {
                    let text: String = [chars[k].1, chars[k + 1].1].iter().collect();
                    push(&mut out, chars[k].0, end_of(k + 2), text);
                }
            }
            i = j;
        } else if c.is_alphanumeric() {
            let mut j = i + 1;
            while j < chars.len() && chars[j].1.is_alphanumeric() && !is_cjk(chars[j].1) {
                j += 1;
            }
            let end = end_of(j);
            if end - start <= MAX_WORD_BYTES {
                push(&mut out, start, end, text[start..end].to_lowercase());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn push(out: &mut Vec<Token>, from: usize, to: usize, text: String) {
    let position = out.len();
    out.push(Token {
        offset_from: from,
        offset_to: to,
        position,
        text,
        position_length: 1,
    });
}

/// The tokenizer registered with tantivy; [`tokenize`] does the work.
#[derive(Clone, Default)]
pub struct CjkBigramTokenizer;

pub struct CjkTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for CjkBigramTokenizer {
    type TokenStream<'a> = CjkTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CjkTokenStream {
        CjkTokenStream {
            tokens: tokenize(text),
            next: 0,
        }
    }
}

impl TokenStream for CjkTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1)]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self.next.saturating_sub(1);
        &mut self.tokens[i]
    }
}

/// A query the index can answer: whitespace-separated parts that must all occur, each a
/// sequence of tokens that must occur in order (a phrase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPlan(Vec<Vec<String>>);

impl SearchPlan {
    /// `None` when the index cannot answer exactly: a lone Chinese character (the index holds
    /// bigrams, so 压 alone is not a token of 压力), a word too long to be indexed, or nothing
    /// searchable. The caller then
    /// falls back to a substring scan in the database, which is always right, only slower.
    pub fn parse(q: &str) -> Option<Self> {
        let mut parts = Vec::new();
        for part in q.split_whitespace() {
            // The index leaves out words this long; only a scan can find them.
            if part
                .split(|c: char| !c.is_alphanumeric() || is_cjk(c))
                .any(|w| w.len() > MAX_WORD_BYTES)
            {
                return None;
            }
            let tokens = tokenize(part);
            if tokens
                .iter()
                .any(|t| t.text.chars().count() == 1 && t.text.chars().all(is_cjk))
            {
                return None;
            }
            if !tokens.is_empty() {
                parts.push(tokens.into_iter().map(|t| t.text).collect());
            }
        }
        (!parts.is_empty()).then_some(Self(parts))
    }
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    summary: Field,
    body: Field,
    category: Field,
    tag: Field,
    audience: Field,
    kind: Field,
    published_at: Field,
}

struct Inner {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

fn index_err(e: impl std::fmt::Display) -> RepoError {
    RepoError::Storage(format!("search index: {e}"))
}

impl Inner {
    fn new() -> Result<Self, RepoError> {
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let mut sb = Schema::builder();
        let fields = Fields {
            id: sb.add_text_field("id", STRING | STORED),
            title: sb.add_text_field("title", text.clone()),
            summary: sb.add_text_field("summary", text.clone()),
            body: sb.add_text_field("body", text),
            category: sb.add_text_field("category", STRING),
            tag: sb.add_text_field("tag", STRING),
            audience: sb.add_text_field("audience", STRING),
            kind: sb.add_text_field("kind", STRING),
            published_at: sb.add_i64_field("published_at", FAST),
        };
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register(TOKENIZER, CjkBigramTokenizer);
        let writer = index
            .writer_with_num_threads(1, 32 * 1024 * 1024)
            .map_err(index_err)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(index_err)?;
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    fn document(&self, a: &Article, published_at: DateTime<Utc>) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, a.id.to_string());
        doc.add_text(f.title, &a.input.title);
        doc.add_text(f.summary, &a.input.summary);
        doc.add_text(f.body, &a.input.body);
        doc.add_text(f.category, &a.input.category);
        for t in &a.input.tags {
            doc.add_text(f.tag, t);
        }
        doc.add_text(f.audience, a.input.audience.code());
        doc.add_text(f.kind, a.input.kind.as_str());
        doc.add_i64(f.published_at, published_at.timestamp_micros());
        doc
    }

    /// Replaces the documents of `articles` (only published ones are indexed) and removes
    /// `removed`, then makes the change visible to searches.
    fn apply(&self, articles: &[Article], removed: &[Uuid]) -> Result<(), RepoError> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for id in removed {
            writer.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
        }
        for a in articles {
            writer.delete_term(Term::from_field_text(self.fields.id, &a.id.to_string()));
            if a.status == ArticleStatus::Published
                && let Some(at) = a.published_at
            {
                writer
                    .add_document(self.document(a, at))
                    .map_err(index_err)?;
            }
        }
        writer.commit().map_err(index_err)?;
        drop(writer);
        self.reader.reload().map_err(index_err)
    }

    fn part_query(&self, field: Field, tokens: &[String]) -> Box<dyn Query> {
        let terms: Vec<Term> = tokens
            .iter()
            .map(|t| Term::from_field_text(field, t))
            .collect();
        match <[Term; 1]>::try_from(terms) {
            Ok([term]) => Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
            Err(terms) => Box::new(PhraseQuery::new(terms)),
        }
    }

    fn keyword(&self, field: Field, value: &str) -> (Occur, Box<dyn Query>) {
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            )),
        )
    }

    /// Every part in title, summary or body, with the filters; a title holding every part
    /// scores [`TITLE_TIER`] more, so that such articles sort above all others.
    fn query(&self, plan: &SearchPlan, filter: &ArticleFilter, now: DateTime<Utc>) -> BooleanQuery {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut in_title: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for part in &plan.0 {
            let anywhere = BooleanQuery::new(vec![
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(self.part_query(f.title, part), TITLE_BOOST))
                        as Box<dyn Query>,
                ),
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        self.part_query(f.summary, part),
                        SUMMARY_BOOST,
                    )),
                ),
                (Occur::Should, self.part_query(f.body, part)),
            ]);
            clauses.push((Occur::Must, Box::new(anywhere)));
            in_title.push((Occur::Must, self.part_query(f.title, part)));
        }
        clauses.push((
            Occur::Should,
            Box::new(ConstScoreQuery::new(
                Box::new(BooleanQuery::new(in_title)),
                TITLE_TIER,
            )),
        ));
        if let Some(c) = &filter.category {
            clauses.push(self.keyword(f.category, c));
        }
        if let Some(t) = &filter.tag {
            clauses.push(self.keyword(f.tag, t));
        }
        if let Some(a) = filter.audience {
            clauses.push(self.keyword(f.audience, a.code()));
        }
        if let Some(k) = filter.kind {
            clauses.push(self.keyword(f.kind, k.as_str()));
        }
        // Scheduled articles are indexed ahead of time and hidden until their moment.
        clauses.push((
            Occur::Must,
            Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(f.published_at, now.timestamp_micros())),
            )),
        ));
        // Only Must and Should: tantivy 0.27 can panic (debug) or misjudge (release) when a
        // phrase query is excluded with MustNot (quickwit-oss/tantivy#2811).
        BooleanQuery::new(clauses)
    }

    /// Ids of one page of matches (title matches first, then by relevance) and the total.
    fn search(
        &self,
        plan: &SearchPlan,
        filter: &ArticleFilter,
        now: DateTime<Utc>,
        offset: usize,
        limit: usize,
    ) -> Result<(u64, Vec<Uuid>), RepoError> {
        let searcher = self.reader.searcher();
        let query = self.query(plan, filter, now);
        // TopDocs reserves room for offset + limit up front: never more than there are.
        let docs = usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX);
        if offset >= docs {
            let count = searcher.search(&query, &Count).map_err(index_err)?;
            return Ok((count as u64, vec![]));
        }
        let collector = TopDocs::with_limit(limit.min(docs - offset).max(1))
            .and_offset(offset)
            .order_by_score();
        let (count, hits) = searcher
            .search(&query, &(Count, collector))
            .map_err(index_err)?;
        let mut ids = Vec::with_capacity(hits.len());
        for (_, address) in hits {
            let doc: TantivyDocument = searcher.doc(address).map_err(index_err)?;
            let id = doc
                .get_first(self.fields.id)
                .and_then(|v| v.as_str())
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| index_err("document without an id"))?;
            ids.push(id);
        }
        Ok((count as u64, ids))
    }

    fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// What a refresh keeps to find changes; only a refresh (one at a time) touches it.
#[derive(Default)]
struct Known {
    /// The revision of every article indexed or deliberately left out (drafts, archived).
    revisions: HashMap<Uuid, i64>,
    /// When each indexed (published) article becomes visible.
    published: HashMap<Uuid, DateTime<Utc>>,
}

/// What requests read, without waiting for a refresh that does not concern them.
#[derive(Default)]
struct View {
    /// The shared cache's article version the index was last brought up to date for.
    version: Option<String>,
    /// Publication moments of the indexed articles, in time order.
    schedule: BTreeSet<(DateTime<Utc>, Uuid)>,
}

/// The public article list, answered from the search index when there is a query.
pub struct ArticleSearch {
    repo: Arc<dyn ArticleRepository>,
    inner: Arc<Inner>,
    known: Arc<tokio::sync::Mutex<Known>>,
    view: std::sync::RwLock<View>,
    /// Admin writes of this instance announced to [`Self::refresh_after_write`], counted
    /// after their commit.
    writes: AtomicU64,
    /// Every announced write up to this number was committed before a finished refresh
    /// began reading: the index holds it.
    covered: AtomicU64,
}

impl ArticleSearch {
    /// An empty index; call [`Self::refresh`] to build it.
    pub fn new(repo: Arc<dyn ArticleRepository>) -> Result<Self, RepoError> {
        Ok(Self {
            repo,
            inner: Arc::new(Inner::new()?),
            known: Arc::new(tokio::sync::Mutex::new(Known::default())),
            view: std::sync::RwLock::new(View::default()),
            writes: AtomicU64::new(0),
            covered: AtomicU64::new(0),
        })
    }

    /// Number of articles in the index.
    pub fn len(&self) -> u64 {
        self.inner.num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn view(&self) -> std::sync::RwLockReadGuard<'_, View> {
        self.view.read().unwrap_or_else(|p| p.into_inner())
    }

    fn is_current(&self, version: Option<&str>) -> bool {
        version.is_some() && self.view().version.as_deref() == version
    }

    /// Indexes `articles` (re-read from the database) and drops `removed`, then records them.
    ///
    /// The guard travels with the index write: if the request that started a refresh goes
    /// away, the write still finishes before another refresh can start one, so an older
    /// batch can never land after a newer one. What was written but not yet recorded is
    /// simply re-read next time.
    async fn take_in(
        &self,
        known: OwnedMutexGuard<Known>,
        articles: Vec<Article>,
        removed: Vec<Uuid>,
    ) -> Result<OwnedMutexGuard<Known>, RepoError> {
        let inner = self.inner.clone();
        let (mut known, articles, removed) = tokio::task::spawn_blocking(move || {
            inner
                .apply(&articles, &removed)
                .map(|()| (known, articles, removed))
        })
        .await
        .map_err(index_err)??;
        let changes = articles
            .iter()
            .map(|a| {
                let visible_from = a
                    .published_at
                    .filter(|_| a.status == ArticleStatus::Published);
                (a.id, visible_from)
            })
            .chain(removed.iter().map(|id| (*id, None)));
        let mut view = self.view.write().unwrap_or_else(|p| p.into_inner());
        for (id, at) in changes {
            if let Some(old) = known.published.remove(&id) {
                view.schedule.remove(&(old, id));
            }
            if let Some(at) = at {
                known.published.insert(id, at);
                view.schedule.insert((at, id));
            }
        }
        for a in &articles {
            known.revisions.insert(a.id, a.revision);
        }
        for id in &removed {
            known.revisions.remove(id);
        }
        drop(view);
        Ok(known)
    }

    /// Brings the index up to date with the database. With `Some(version)` it does nothing
    /// when it was already brought up to date for that cache version; `None` always checks.
    /// Returns how many articles were re-read or dropped.
    pub async fn refresh(&self, version: Option<&str>) -> Result<usize, RepoError> {
        if self.is_current(version) {
            return Ok(0);
        }
        let known = self.known.clone().lock_owned().await;
        if self.is_current(version) {
            return Ok(0); // caught up while this request waited
        }
        self.catch_up(known, version).await
    }

    /// After an admin write of this instance has committed: the index takes it in before
    /// this returns, as [`Self::refresh`] does, but concurrent writers share the work. A
    /// refresh that began reading after this write committed holds it, so a writer that
    /// waited for one finds its write already in and returns at once: eight writers at a
    /// time cost about two refreshes, not eight.
    pub async fn refresh_after_write(&self) -> Result<usize, RepoError> {
        let mine = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        let known = self.known.clone().lock_owned().await;
        if self.covered.load(Ordering::SeqCst) >= mine {
            return Ok(0);
        }
        // Every write counted so far committed before the reads below.
        let upto = self.writes.load(Ordering::SeqCst);
        let count = self.catch_up(known, None).await?;
        self.covered.fetch_max(upto, Ordering::SeqCst);
        Ok(count)
    }

    /// The work of a refresh, under the lock `known`.
    async fn catch_up(
        &self,
        mut known: OwnedMutexGuard<Known>,
        version: Option<&str>,
    ) -> Result<usize, RepoError> {
        let current = self.repo.revisions().await?;
        let present: HashSet<Uuid> = current.iter().map(|(id, _)| *id).collect();
        let changed: Vec<Uuid> = current
            .iter()
            .filter(|(id, rev)| known.revisions.get(id) != Some(rev))
            .map(|(id, _)| *id)
            .collect();
        let removed: Vec<Uuid> = known
            .revisions
            .keys()
            .filter(|id| !present.contains(id))
            .copied()
            .collect();
        let mut count = removed.len();
        for chunk in changed.chunks(BATCH) {
            let articles = self.repo.find_many(chunk).await?;
            let found: HashSet<Uuid> = articles.iter().map(|a| a.id).collect();
            // Deleted between the two reads.
            let gone: Vec<Uuid> = chunk
                .iter()
                .filter(|id| !found.contains(id))
                .copied()
                .collect();
            count += chunk.len();
            known = self.take_in(known, articles, gone).await?;
        }
        if !removed.is_empty() {
            known = self.take_in(known, vec![], removed).await?;
        }
        if let Some(v) = version {
            self.view.write().unwrap_or_else(|p| p.into_inner()).version = Some(v.to_owned());
        }
        drop(known);
        Ok(count)
    }

    /// The latest moment, up to `now`, at which an article became visible. What readers may
    /// see changes exactly when this does (besides admin writes, which move the cache
    /// version), so it belongs in the key of every cached public answer: a scheduled article
    /// then appears on time even in cached lists. Catches up with `version` first.
    pub async fn visible_as_of(
        &self,
        now: DateTime<Utc>,
        version: &str,
    ) -> Result<Option<DateTime<Utc>>, RepoError> {
        self.refresh(Some(version)).await?;
        Ok(self
            .view()
            .schedule
            .range(..=(now, Uuid::max()))
            .next_back()
            .map(|(at, _)| *at))
    }

    /// Published articles matching `filter`, newest first; with a query, title matches first
    /// and then by relevance. `version` is the shared cache's article version: if it moved
    /// since the last refresh, another instance wrote, and the index catches up first.
    pub async fn list(
        &self,
        filter: &ArticleFilter,
        page: PageRequest,
        now: DateTime<Utc>,
        version: &str,
    ) -> Result<Page<Article>, RepoError> {
        let Some(plan) = filter.q.as_deref().and_then(SearchPlan::parse) else {
            return self.repo.list_public(filter, page, now).await;
        };
        let found = match self.refresh(Some(version)).await {
            Ok(_) => {
                let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
                let limit = usize::try_from(page.page_size).unwrap_or(usize::MAX);
                self.inner.search(&plan, filter, now, offset, limit)
            }
            Err(e) => Err(e),
        };
        let (total, ids) = match found {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "article search index unavailable; scanning the database");
                return self.repo.list_public(filter, page, now).await;
            }
        };
        let mut rows: HashMap<Uuid, Article> = self
            .repo
            .find_many(&ids)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let items = ids
            .iter()
            .filter_map(|id| rows.remove(id))
            .filter(|a| a.is_public(now))
            .collect();
        Ok(Page {
            items,
            total,
            request: page,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(String, usize)> {
        tokenize(s)
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect()
    }

    #[test]
    fn chinese_runs_become_bigrams_with_consecutive_positions() {
        assert_eq!(
            texts("情绪管理"),
            vec![("情绪".into(), 0), ("绪管".into(), 1), ("管理".into(), 2)]
        );
        assert_eq!(
            texts("用PHQ-9测一测，我"),
            vec![
                ("用".into(), 0),
                ("phq".into(), 1),
                ("9".into(), 2),
                ("测一".into(), 3),
                ("一测".into(), 4),
                ("我".into(), 5)
            ]
        );
        let t = tokenize("压力大");
        assert_eq!((t[1].offset_from, t[1].offset_to), (3, 9));
    }

    #[test]
    fn single_chinese_characters_fall_back_to_the_database() {
        assert_eq!(SearchPlan::parse("压"), None);
        assert_eq!(SearchPlan::parse("压力 的"), None);
        assert_eq!(SearchPlan::parse("！？"), None);
        assert_eq!(SearchPlan::parse(&format!("压力 {}", "a".repeat(41))), None);
        assert_eq!(
            SearchPlan::parse(" 压力  Sleep "),
            Some(SearchPlan(vec![vec!["压力".into()], vec!["sleep".into()]]))
        );
    }
}
