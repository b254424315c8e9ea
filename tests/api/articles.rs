//! 科普: seeded content, filters and paging, Chinese search with title matches first,
//! visibility of drafts/scheduled/archived, cache invalidation on every admin write (also
//! across instances sharing Redis), views kept across a clean restart, likes and favourites,
//! sanitised HTML, recommendations in assessment results, roles.

use reqwest::Method;
use serde_json::{Value, json};
use xinli_tests::{TestApp, TestOptions, assert_error};

/// The public list (200); `query` starts with `?` or is empty.
pub(crate) async fn list(app: &TestApp, query: &str) -> Value {
    app.get_ok(&format!("/api/v1/articles{query}"), None).await
}

pub(crate) fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn draft(title: &str, body: &str) -> Value {
    json!({"title": title, "summary": "测试摘要", "body": body, "kind": "article", "category": "心理常识",
           "tags": ["心理健康"], "audience": "general", "author": "测试编辑"})
}

/// Creates a draft (201): its id.
pub(crate) async fn create(app: &TestApp, admin: &str, body: Value) -> String {
    app.post_expect("/api/v1/admin/articles", Some(admin), body, 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Publishes an article, now or at `published_at` in `body` (200).
pub(crate) async fn publish(app: &TestApp, admin: &str, id: &str, body: Value) {
    app.post_expect(
        &format!("/api/v1/admin/articles/{id}/publish"),
        Some(admin),
        body,
        200,
    )
    .await;
}

/// Archives a published article (200).
async fn archive(app: &TestApp, admin: &str, id: &str) {
    app.post_expect(
        &format!("/api/v1/admin/articles/{id}/archive"),
        Some(admin),
        json!({}),
        200,
    )
    .await;
}

/// A published article as readers see it (200).
pub(crate) async fn article(app: &TestApp, id: &str) -> Value {
    app.get_ok(&format!("/api/v1/articles/{id}"), None).await
}

/// The user likes the article (200): the reaction state.
async fn like(app: &TestApp, token: &str, id: &str) -> Value {
    app.put_ok(
        &format!("/api/v1/articles/{id}/like"),
        Some(token),
        json!({}),
    )
    .await
}

/// The user takes back their like (200): the reaction state.
async fn unlike(app: &TestApp, token: &str, id: &str) -> Value {
    app.expect(
        Method::DELETE,
        &format!("/api/v1/articles/{id}/like"),
        Some(token),
        None,
        200,
    )
    .await
}

/// One article's row in the admin list (first 100, 200).
async fn admin_row(app: &TestApp, admin: &str, id: &str) -> Value {
    let all = app
        .get_ok("/api/v1/admin/articles?page_size=100", Some(admin))
        .await;
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn seeded_articles_list_filter_and_page() {
    let app = TestApp::spawn().await;
    let all = list(&app, "?page_size=100").await;
    assert_eq!(all["total"], 24);
    let dates: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["published_at"].as_str().unwrap())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest first");
    let p1 = list(&app, "?page=1&page_size=5").await;
    let p2 = list(&app, "?page=2&page_size=5").await;
    assert_eq!(p1["items"].as_array().unwrap().len(), 5);
    assert_ne!(p1["items"][0]["id"], p2["items"][0]["id"]);
    let perinatal = list(&app, "?audience=perinatal").await;
    assert_eq!(perinatal["total"], 2, "seeded perinatal articles");
    for a in perinatal["items"].as_array().unwrap() {
        assert_eq!(a["audience"], "perinatal");
    }
    let videos = list(&app, "?kind=video").await;
    assert_eq!(videos["total"], 4, "seeded videos");
    let crisis = list(&app, "?category=危机求助").await;
    assert_eq!(crisis["total"], 1);
    let tagged = list(&app, "?tag=睡眠").await;
    assert_eq!(tagged["total"], 4, "seeded articles tagged 睡眠");
    assert!(
        tagged["items"].as_array().unwrap().iter().all(|a| a["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "睡眠"))
    );
    let cats = app.get_ok("/api/v1/article-categories", None).await;
    let sum: u64 = cats
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 24);
    assert_error(
        app.get("/api/v1/articles?kind=podcast", None).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn chinese_search_finds_two_characters_anywhere_and_ranks_titles_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // A rare two-character term: once only in a body, once in a title.
    let body_only = create(
        &app,
        &admin,
        draft("一篇普通的文章", "正文里提到了蝴蝶，别处没有。"),
    )
    .await;
    let in_title = create(&app, &admin, draft("蝴蝶效应与情绪", "正文。")).await;
    for id in [&body_only, &in_title] {
        publish(&app, &admin, id, json!({})).await;
    }
    let found = list(&app, "?q=蝴蝶").await;
    assert_eq!(
        titles(&found),
        ["蝴蝶效应与情绪", "一篇普通的文章"],
        "title match first, body match found"
    );

    let sleep = list(&app, "?q=睡眠&page_size=100").await;
    let t = titles(&sleep);
    assert!(t.len() >= 5, "睡眠 appears in many seeded articles: {t:?}");
    let first_non_title = t
        .iter()
        .position(|x| !x.contains("睡眠"))
        .unwrap_or(t.len());
    assert!(
        t[first_non_title..].iter().all(|x| !x.contains("睡眠")),
        "every title match before body-only matches: {t:?}"
    );
    assert!(first_non_title >= 2);
    assert!(list(&app, "?q=情绪管理").await["total"].as_u64().unwrap() >= 4);
    assert_eq!(list(&app, "?q=100%25").await["total"], 0);
    assert_eq!(
        list(&app, "?q=%25").await["total"],
        0,
        "the substring fallback takes LIKE wildcards literally"
    );
}

#[tokio::test]
async fn search_matches_phrases_all_words_filters_pages_across_tiers_and_single_characters() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut in_title = draft("萤火虫观察笔记", "夏夜的草地上，Firefly 一闪一闪。");
    in_title["category"] = json!("压力管理");
    let in_body = draft("普通的一天", "傍晚看见萤火虫在飞。");
    // Has 萤火 but never the phrase 萤火虫: the bigrams must be adjacent and in order.
    let mut split = draft("另一篇", "提到了虫萤火，还有萤火 虫。");
    split["summary"] = json!("与主题无关");
    for body in [in_title, in_body, split] {
        let id = create(&app, &admin, body).await;
        publish(&app, &admin, &id, json!({})).await;
    }

    let found = list(&app, "?q=萤火虫").await;
    assert_eq!(titles(&found), ["萤火虫观察笔记", "普通的一天"]);
    assert_eq!(found["total"], 2);
    let two = list(&app, "?q=萤火").await;
    assert_eq!(two["total"], 3, "a 2-character query matches anywhere");
    assert_eq!(titles(&two)[0], "萤火虫观察笔记");

    // Paging runs across the title tier into the body tier.
    let p2 = list(&app, "?q=萤火虫&page=2&page_size=1").await;
    assert_eq!(
        (titles(&p2), &p2["total"]),
        (vec!["普通的一天".into()], &json!(2))
    );
    let p3 = list(&app, "?q=萤火虫&page=3&page_size=1").await;
    assert_eq!((titles(&p3).len(), &p3["total"]), (0, &json!(2)));

    // Every whitespace-separated word must occur; filters narrow; Latin words ignore case.
    assert_eq!(
        titles(&list(&app, "?q=萤火虫  草地").await),
        ["萤火虫观察笔记"]
    );
    assert_eq!(
        titles(&list(&app, "?q=萤火虫&category=心理常识").await),
        ["普通的一天"]
    );
    assert_eq!(titles(&list(&app, "?q=FIREFLY").await), ["萤火虫观察笔记"]);

    // One Chinese character is not in a bigram index: the database answers, title first.
    let one = list(&app, "?q=萤").await;
    assert_eq!(one["total"], 3);
    assert_eq!(titles(&one)[0], "萤火虫观察笔记");

    // Deep pages are empty, not expensive; absurd ones and control characters are 422.
    let deep = list(&app, "?q=萤火虫&page=10000&page_size=100").await;
    assert_eq!((titles(&deep).len(), &deep["total"]), (0, &json!(2)));
    for bad in [
        "?q=萤火虫&page=10001",
        "?page=18446744073709551615",
        "?q=%00",
    ] {
        assert_error(
            app.get(&format!("/api/v1/articles{bad}"), None).await,
            422,
            "validation_failed",
        )
        .await;
    }
}

#[tokio::test]
async fn another_instances_write_reaches_the_search_index_even_without_a_shared_cache() {
    // Without Redis each instance has its own cache version, so only the periodic re-check
    // can tell B about A's write; with Redis the version carries it at once.
    let a = TestApp::spawn_with(TestOptions {
        configure: |c| c.search_refresh_every = std::time::Duration::from_millis(200),
        ..TestOptions::default()
    })
    .await;
    let b = a.sibling().await;
    let admin = a.admin_token().await;
    assert_eq!(list(&b, "?q=安全网").await["total"], 0, "B has searched");
    let id = create(&a, &admin, draft("安全网测试", "正文。")).await;
    publish(&a, &admin, &id, json!({})).await;

    // Distinct page sizes: each a new cache key on B, so the index answers every time.
    async fn eventually(b: &TestApp, want: u64, sizes: std::ops::RangeInclusive<u64>) -> bool {
        for size in sizes {
            if list(b, &format!("?q=安全网&page_size={size}")).await["total"] == want {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    }
    assert!(
        eventually(&b, 1, 2..=50).await,
        "B's index took in the new article"
    );
    archive(&a, &admin, &id).await;
    assert!(eventually(&b, 0, 51..=99).await, "and its archiving");
}

#[tokio::test]
async fn a_scheduled_article_appears_on_time_in_cached_lists_and_search() {
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    let app = TestApp::spawn_with(TestOptions {
        clock_at: Some(start),
        ..TestOptions::default()
    })
    .await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin_token().await;
    let id = create(&app, &admin, draft("定时发布的文章", "到点才出现。")).await;
    let at = (start + chrono::Duration::minutes(10)).to_rfc3339();
    publish(&app, &admin, &id, json!({"published_at": at})).await;

    let all_before = list(&app, "?page_size=1").await["total"].as_u64().unwrap();
    assert_eq!(list(&app, "?q=定时发布").await["total"], 0);
    assert_eq!(list(&app, "?q=定时发布").await["total"], 0, "now cached");
    clock.advance(chrono::Duration::minutes(9));
    assert_eq!(list(&app, "?q=定时发布").await["total"], 0);

    // No write happens; only time passes.
    clock.advance(chrono::Duration::minutes(1));
    assert_eq!(list(&app, "?q=定时发布").await["total"], 1);
    assert_eq!(
        list(&app, "?page_size=1").await["total"].as_u64().unwrap(),
        all_before + 1
    );
    article(&app, &id).await;
}

#[tokio::test]
async fn drafts_scheduled_and_archived_articles_are_invisible_and_every_write_shows_at_once() {
    let a = TestApp::spawn().await;
    let b = a.sibling().await;
    let shared = xinli_tests::test_redis_url().is_some();
    let admin = a.admin_token().await;
    let before = list(&a, "?q=可见性").await; // cached on A
    list(&b, "?q=可见性").await; // cached on B
    assert_eq!(before["total"], 0);
    let id = create(
        &a,
        &admin,
        draft(
            "可见性测试",
            "<script>alert(1)</script>\n\n## 小标题\n\n正文",
        ),
    )
    .await;
    let detail = format!("/api/v1/articles/{id}");
    assert_error(a.get(&detail, None).await, 404, "not_found").await;
    assert_eq!(list(&a, "?q=可见性").await["total"], 0, "draft invisible");

    // Scheduled for tomorrow: still invisible.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    publish(&a, &admin, &id, json!({"published_at": tomorrow})).await;
    assert_error(a.get(&detail, None).await, 404, "not_found").await;
    assert_eq!(list(&a, "?q=可见性").await["total"], 0);

    // Published now: visible on the next request, on both instances when they share Redis.
    publish(&a, &admin, &id, json!({})).await;
    assert_eq!(list(&a, "?q=可见性").await["total"], 1);
    if shared {
        assert_eq!(
            list(&b, "?q=可见性").await["total"],
            1,
            "other instance sees it at once"
        );
    }
    let shown = article(&a, &id).await;
    let html = shown["body_html"].as_str().unwrap();
    assert!(
        html.contains("<h2>小标题</h2>") && !html.contains("<script"),
        "{html}"
    );

    // Edited: the new title at once (detail was cached).
    let mut edited = draft("可见性测试（修订）", "正文");
    edited["tags"] = json!(["心理健康", "求助"]);
    a.put_ok(
        &format!("/api/v1/admin/articles/{id}"),
        Some(&admin),
        edited,
    )
    .await;
    let shown = article(&a, &id).await;
    assert_eq!(shown["title"], "可见性测试（修订）");
    assert_eq!(
        list(&a, "?q=修订").await["total"],
        1,
        "search index updated"
    );
    if shared {
        let other = article(&b, &id).await;
        assert_eq!(other["title"], "可见性测试（修订）");
        assert_eq!(
            list(&b, "?q=修订").await["total"],
            1,
            "the other instance's index caught up"
        );
    }

    // Archived, then deleted.
    archive(&a, &admin, &id).await;
    assert_error(a.get(&detail, None).await, 404, "not_found").await;
    assert_eq!(list(&a, "?q=可见性").await["total"], 0);
    if shared {
        assert_eq!(list(&b, "?q=修订").await["total"], 0, "archived everywhere");
    }
    assert_eq!(
        a.delete(&format!("/api/v1/admin/articles/{id}"), Some(&admin))
            .await
            .status(),
        204
    );
    assert_error(
        a.delete(&format!("/api/v1/admin/articles/{id}"), Some(&admin))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn views_are_counted_and_survive_a_clean_restart() {
    let mut a = TestApp::spawn().await;
    let first = list(&a, "?page_size=1").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        article(&a, &first).await;
    }
    // Requests in parallel make the pool open connections on the workers' runtimes, which
    // end with them: the last write must not depend on those.
    let admin = a.admin_token().await;
    let busy = (0..40).map(|_| a.get("/api/v1/admin/articles?page_size=50", Some(&admin)));
    for res in futures::future::join_all(busy).await {
        assert_eq!(res.status(), 200);
    }
    a.shutdown().await;
    let b = a.sibling().await;
    let admin = b.admin_token().await;
    let row = admin_row(&b, &admin, &first).await;
    if row["view_count"] != 3 {
        // Late (the stopped instance's periodic flush wrote them) or lost: say which.
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        let later = admin_row(&b, &admin, &first).await;
        panic!(
            "views written at shutdown: {} right after the restart, {} six seconds later",
            row["view_count"], later["view_count"]
        );
    }
}

#[tokio::test]
async fn concurrent_likes_and_double_taps_are_all_counted_once() {
    let app = TestApp::spawn().await;
    let id = list(&app, "?page_size=1").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/articles/{id}/like");
    let mut users = vec![];
    for i in 0..8 {
        users.push(app.user_token(&format!("liker-{i}")).await);
    }
    // Every user taps twice at the same moment, all users at once.
    let taps = users
        .iter()
        .flat_map(|u| [u, u])
        .map(|u| app.put(&path, Some(u), json!({})));
    for res in futures::future::join_all(taps).await {
        assert_eq!(res.status(), 200);
    }
    let shown = like(&app, &users[0], &id).await;
    assert_eq!(shown, json!({"active": true, "count": 8}));
}

#[tokio::test]
async fn likes_and_favourites_are_idempotent_exported_and_removed_with_the_account() {
    let app = TestApp::spawn().await;
    let id = list(&app, "?page_size=1").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = app.user_token("reader").await;
    let other = app.user_token("other-reader").await;
    for _ in 0..2 {
        let r = like(&app, &user, &id).await;
        assert_eq!(r, json!({"active": true, "count": 1}));
    }
    let r = like(&app, &other, &id).await;
    assert_eq!(r, json!({"active": true, "count": 2}));
    let r = app
        .put_ok(
            &format!("/api/v1/articles/{id}/favorite"),
            Some(&user),
            json!({}),
        )
        .await;
    assert_eq!(r["count"], 1);
    let mine = app
        .get_ok(&format!("/api/v1/articles/{id}"), Some(&user))
        .await;
    assert_eq!(
        (mine["liked"].as_bool(), mine["favorited"].as_bool()),
        (Some(true), Some(true))
    );
    let favs = app.get_ok("/api/v1/me/favorites", Some(&user)).await;
    assert_eq!(favs["items"][0]["id"], id.as_str());
    let export = app.get_ok("/api/v1/me/export", Some(&user)).await;
    assert_eq!(export["article_likes"][0]["article_id"], id.as_str());
    assert_eq!(export["article_favorites"][0]["article_id"], id.as_str());

    let r = unlike(&app, &other, &id).await;
    assert_eq!(r, json!({"active": false, "count": 1}));
    let r = unlike(&app, &other, &id).await;
    assert_eq!(r["count"], 1, "unliking twice changes nothing");

    assert_eq!(app.delete("/api/v1/me", Some(&user)).await.status(), 204);
    let admin = app.admin_token().await;
    let row = admin_row(&app, &admin, &id).await;
    assert_eq!(
        (row["like_count"].as_u64(), row["favorite_count"].as_u64()),
        (Some(0), Some(0)),
        "counts follow the deletion"
    );
    assert_error(
        app.put(&format!("/api/v1/articles/{id}/like"), None, json!({}))
            .await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(
        app.put(
            &format!("/api/v1/articles/{id}/like"),
            Some(&admin),
            json!({}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn admin_writes_are_validated_per_field_and_for_admins_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token("not-an-editor").await;
    let bad = json!({"title": "", "body": " ", "kind": "video", "video_url": "javascript:alert(1)", "category": "美食",
        "tags": ["a,b"], "audience": "general", "author": "x", "cover_image_url": "ftp://x"});
    let body = assert_error(
        app.post("/api/v1/admin/articles", Some(&admin), bad).await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for f in [
        "title",
        "body",
        "video_url",
        "cover_image_url",
        "category",
        "tags[0]",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    assert_error(
        app.post("/api/v1/admin/articles", Some(&user), draft("x", "y"))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/articles", Some(&user)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.get("/api/v1/admin/articles?status=gone", Some(&admin))
            .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn assessment_results_recommend_matching_published_articles() {
    let app = TestApp::spawn().await;
    let user = app.user_token("recommended").await;
    let r = app
        .post_expect(
            "/api/v1/scales/phq9/submissions",
            Some(&user),
            json!({"answers": [2, 2, 1, 1, 1, 1, 1, 1, 0]}),
            201,
        )
        .await;
    let recs = r["recommendations"].as_array().unwrap();
    assert!(!recs.is_empty() && recs.len() <= 3, "{r}");
}

/// The admin view of an article can be edited and PUT back as it came.
#[tokio::test]
async fn an_admin_can_put_back_the_article_they_got() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = create(&app, &admin, draft("往返编辑", "## 小标题\n\n正文")).await;
    let editor_path = format!("/api/v1/admin/articles/{id}");
    // A draft: readers do not see it, the editor gets its source and rendered HTML.
    let got = app.get_ok(&editor_path, Some(&admin)).await;
    assert_eq!(got["status"], "draft");
    assert_eq!(got["body"], "## 小标题\n\n正文");
    assert!(
        got["body_html"]
            .as_str()
            .unwrap()
            .contains("<h2>小标题</h2>")
    );
    let user = app.user_token("reader-of-drafts").await;
    assert_error(app.get(&editor_path, Some(&user)).await, 403, "forbidden").await;
    let res = app
        .get(
            "/api/v1/admin/articles/0193a5d6-3333-7abc-8def-0123456789ab",
            Some(&admin),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    // The lifecycle: a draft is not archived (it is published, kept or deleted).
    let archive_path = format!("/api/v1/admin/articles/{id}/archive");
    let refused = assert_error(
        app.post(&archive_path, Some(&admin), json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    assert!(
        refused["message"].as_str().unwrap().contains("草稿"),
        "{refused}"
    );
    publish(&app, &admin, &id, json!({})).await;
    let mut got = app.get_ok(&editor_path, Some(&admin)).await;
    assert_eq!(got["status"], "published");
    assert_eq!(got["view_count"], 0, "the editor's read counts no view");
    got["title"] = json!("往返编辑（改）");
    // Published → archived → (not twice) → published again.
    archive(&app, &admin, &id).await;
    assert_error(
        app.post(&archive_path, Some(&admin), json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    publish(&app, &admin, &id, json!({})).await;
    app.put_ok(&editor_path, Some(&admin), got).await;
    let shown = article(&app, &id).await;
    assert_eq!(shown["title"], "往返编辑（改）");
}

/// Operators move an existing library in with one request per 500 articles: validated like
/// single writes, stored all or none, visible (and searchable) at once when published.
#[tokio::test]
async fn a_library_is_imported_in_batches_all_or_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app.user_token("importing-reader").await;
    let item = |title: &str, published: Option<&str>| json!({"article": draft(title, "迁移过来的正文：萤石湖边的晨跑"), "published_at": published});
    let import = |body: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.post("/api/v1/admin/articles/import", Some(&admin), body)
                .await
        }
    };
    // One bad article: nothing is stored, and the error names it.
    let body = assert_error(
        import(json!({"articles": [item("迁移一", None), item("", None)]})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "articles[1].title");
    assert_eq!(list(&app, "?q=萤石湖").await["total"], 0);
    let body = assert_error(
        import(json!({"articles": []})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "articles");

    let created = app
        .post_expect(
            "/api/v1/admin/articles/import",
            Some(&admin),
            json!({"articles": [
                item("迁移一", Some("2025-03-01T08:00:00+08:00")),
                item("迁移二", Some("2025-04-01T08:00:00+08:00")),
                item("迁移草稿", None),
            ]}),
            201,
        )
        .await;
    assert_eq!(created["created"], 3);
    let found = list(&app, "?q=萤石湖").await;
    assert_eq!(
        found["total"], 2,
        "published ones are searchable at once; the draft is not"
    );
    let draft_id = created["ids"][2].as_str().unwrap();
    assert_error(
        app.get(&format!("/api/v1/articles/{draft_id}"), None).await,
        404,
        "not_found",
    )
    .await;
    let first = article(&app, created["ids"][0].as_str().unwrap()).await;
    assert_eq!(
        first["published_at"], "2025-03-01T08:00:00+08:00",
        "its original date"
    );
    assert_error(
        app.post(
            "/api/v1/admin/articles/import",
            Some(&user),
            json!({"articles": [item("越权", None)]}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}

/// Writers at the same moment share the index refresh that follows a write; each still finds
/// its own article by search as soon as its publish has answered, and so does everyone after.
#[tokio::test]
async fn concurrent_writers_each_find_their_article_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let words = [
        "琥珀", "翡翠", "玛瑙", "珊瑚", "水晶", "琉璃", "砗磲", "玳瑁",
    ];
    let writers = words.iter().map(|word| {
        let (app, admin) = (&app, &admin);
        async move {
            let mut ids = vec![];
            for round in 0..3 {
                let id = create(
                    app,
                    admin,
                    draft(&format!("{word}并发写入第{round}篇"), "正文"),
                )
                .await;
                publish(app, admin, &id, json!({})).await;
                let found = list(app, &format!("?q={word}&page_size=100")).await;
                let ids_found: Vec<&str> = found["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["id"].as_str().unwrap())
                    .collect();
                assert!(
                    ids_found.contains(&id.as_str()),
                    "{word} round {round}: the writer's own article is found at once"
                );
                ids.push(id);
            }
            (word, ids)
        }
    });
    for (word, ids) in futures::future::join_all(writers).await {
        let found = list(&app, &format!("?q={word}&page_size=100")).await;
        assert_eq!(found["total"], 3, "{word}: every article of its writer");
        for id in ids {
            assert!(found.to_string().contains(&id));
        }
    }
}

/// What readers are shown (the SQL condition of `list_public`) is the domain's
/// `Article::is_public`, for drafts, archived articles, and published ones whose time has
/// come, is now, or is still ahead. On both databases.
#[tokio::test]
async fn the_stored_public_list_is_the_domain_rule() {
    use xinli_domain::account::AudienceGroup;
    use xinli_domain::article::{
        ArticleFilter, ArticleInput, ArticleRepository, ArticleStatus, Kind,
    };
    use xinli_domain::page::PageRequest;

    let app = TestApp::spawn().await;
    let db = xinli_infra::db::connect(&app.config.database_url)
        .await
        .unwrap();
    let store = xinli_infra::articles::ArticleStore::new(db);
    let now = chrono::Utc::now();
    let at = |m: i64| Some(now + chrono::Duration::minutes(m));
    let cases = [
        (ArticleStatus::Draft, None),
        (ArticleStatus::Published, at(-60)),
        (ArticleStatus::Published, Some(now)),
        (ArticleStatus::Published, at(1)),
        (ArticleStatus::Published, at(60 * 24)),
        (ArticleStatus::Archived, at(-60)),
    ];
    for (i, (status, published_at)) in cases.into_iter().enumerate() {
        let input = ArticleInput {
            title: format!("规则核对 {i}"),
            summary: "摘要".into(),
            body: "正文".into(),
            kind: Kind::Article,
            video_url: None,
            cover_image_url: None,
            category: "心理常识".into(),
            tags: vec![],
            audience: AudienceGroup::General,
            author: "编辑部".into(),
        };
        let a = store.create(&input, "<p>正文</p>", now).await.unwrap();
        store
            .set_status(a.id, status, published_at, now)
            .await
            .unwrap()
            .unwrap();
    }
    let page = PageRequest::parse(Some(1), Some(100)).unwrap();
    let all = store.list_admin(None, page).await.unwrap();
    assert!(all.total < 100, "one page holds every article");
    let mut expected: Vec<_> = all
        .items
        .iter()
        .filter(|a| a.is_public(now))
        .map(|a| a.id)
        .collect();
    let mut shown: Vec<_> = store
        .list_public(&ArticleFilter::default(), page, now)
        .await
        .unwrap()
        .items
        .iter()
        .map(|a| a.id)
        .collect();
    expected.sort();
    shown.sort();
    assert!(expected.len() >= 2 && expected.len() < all.items.len());
    assert_eq!(shown, expected, "readers see what the domain calls public");
}
