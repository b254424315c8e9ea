//! Article benchmark: fills the database with 10,000 realistic Chinese articles (the data
//! generator), times the search index build, then measures search latency (p50/p99 over
//! distinct uncached queries, each a page plus the total) and requests per second of a
//! cached list page next to `/healthz`, on the same run.
//!
//! `cargo run -p xinli-tests --bin bench_articles` (SQLite), or with `XINLI_TEST_DATABASE_URL`
//! / `XINLI_TEST_REDIS_URL` for PostgreSQL + Redis; `--release` for production-like figures.
//! `ARTICLES=2000` changes the corpus size. Prints a report; asserts nothing.

use std::time::{Duration, Instant};

use xinli_domain::account::AudienceGroup;
use xinli_domain::article::{ArticleInput, CATEGORIES, Kind};
use xinli_tests::{TestApp, TestOptions};

/// Sentences any article may use: none holds the benchmark's query terms.
const GENERIC: &[&str] = &[
    "规律作息、适度运动和与亲友交流，都是简单而有效的自我照顾方法。",
    "职场人际沟通中，先倾听再表达，可以减少很多误解和冲突。",
    "老年人退休后生活节奏改变，培养兴趣爱好有助于保持积极心态。",
    "正念练习帮助我们把注意力带回当下，减轻焦虑和紧张。",
    "亲子沟通的关键是尊重孩子的感受，而不是急着给出答案。",
    "婚姻中的分歧并不可怕，关键是学会在冷静时好好沟通。",
    "心理测评是筛查工具，结果需要结合专业评估来理解。",
    "遇到心理危机时，请拨打心理援助热线，你并不孤单。",
    "工作与生活的平衡需要主动安排，而不是等待空闲出现。",
    "和信任的人聊一聊，往往比独自硬撑更能帮我们看清问题。",
    "每天留出十分钟做自己喜欢的事，是对身心的温柔照顾。",
    "孩子的行为背后常常有未被说出的需要，值得耐心了解。",
];

/// Per topic: (title word, sentences). Topic sentences carry the topic's terms, so that term
/// frequencies vary like a real corpus: a topic's own word is common in its articles, rarer
/// elsewhere, and 情绪管理 as a phrase is rarer still.
const TOPICS: &[(&str, &[&str])] = &[
    (
        "压力",
        &[
            "长期的工作压力会悄悄影响身体和心情，学会识别压力信号是第一步。",
            "深呼吸、渐进式肌肉放松都是随时可以练习的减压方法。",
            "青少年面对学业压力时，家长的耐心陪伴比说教更有力量。",
        ],
    ),
    (
        "睡眠",
        &[
            "如果入睡困难持续两周以上，建议到医院的睡眠或心理门诊咨询。",
            "睡前一小时放下手机，让大脑慢慢进入休息状态。",
            "良好的睡眠是情绪稳定的基础，作息规律比补觉更重要。",
        ],
    ),
    (
        "情绪管理",
        &[
            "情绪管理不是压抑感受，而是学会觉察、接纳和表达。",
            "当情绪低落、兴趣减退持续存在时，及时求助专业人员很重要。",
            "给情绪起个名字，是平复它的第一步。",
        ],
    ),
    ("人际关系", &["同事之间的边界感，让合作更轻松也更长久。"]),
    (
        "亲子沟通",
        &["每天十五分钟的专注陪伴，胜过周末的一次大餐。"],
    ),
    (
        "孕产期",
        &["孕期和产后情绪波动很常见，家人的理解和陪伴非常重要。"],
    ),
    ("老年生活", &["与老朋友保持联系，是晚年幸福感的重要来源。"]),
    (
        "青少年成长",
        &["青春期的叛逆常常是寻找自我的过程，需要被理解。"],
    ),
];
const RARE: &[&str] = &["蝴蝶效应", "园艺疗愈", "手账减压", "健步挑战", "沙盘游戏"];

fn article(i: usize) -> ArticleInput {
    let mut seed = (i as u64)
        .wrapping_mul(2862933555777941757)
        .wrapping_add(3037000493);
    let mut pick = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    let (topic, own) = TOPICS[pick(TOPICS.len())];
    let mut body = String::new();
    while body.chars().count() < 1500 {
        let sentence = match pick(100) {
            0..35 => own[pick(own.len())],
            35..38 => {
                let (_, other) = TOPICS[pick(TOPICS.len())];
                other[pick(other.len())]
            }
            _ => GENERIC[pick(GENERIC.len())],
        };
        body.push_str(sentence);
        if pick(10) == 0 {
            body.push_str("\n\n## 小贴士\n\n");
        }
    }
    if i.is_multiple_of(500) {
        body.push_str(RARE[pick(RARE.len())]);
    }
    let summary = own[pick(own.len())].to_owned();
    ArticleInput {
        title: format!("{topic}小课堂（第 {i} 期）"),
        summary,
        body,
        kind: Kind::Article,
        video_url: None,
        cover_image_url: None,
        category: CATEGORIES[pick(CATEGORIES.len())].to_owned(),
        tags: vec![topic.to_owned()],
        audience: AudienceGroup::ALL[pick(AudienceGroup::ALL.len())],
        author: "基准测试".to_owned(),
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn rps(app: &TestApp, path: &str, concurrency: usize, duration: Duration) -> f64 {
    let deadline = Instant::now() + duration;
    let workers = (0..concurrency).map(|_| async {
        let mut n = 0u64;
        while Instant::now() < deadline {
            let res = app.client.get(app.url(path)).send().await.expect("request");
            assert!(res.status().is_success());
            let _ = res.bytes().await;
            n += 1;
        }
        n
    });
    let total: u64 = futures::future::join_all(workers).await.into_iter().sum();
    total as f64 / duration.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ARTICLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let app = TestApp::spawn_with(TestOptions {
        configure: |c| c.workers = Some(2),
        ..TestOptions::default()
    })
    .await;
    let backend = if xinli_tests::test_database_url().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let cache = if xinli_tests::test_redis_url().is_some() {
        "Redis"
    } else {
        "in-process cache"
    };
    println!(
        "backend: {backend} + {cache} ({} build), {n} articles",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );

    // The data generator goes in as an operator migrating a library would: through the
    // import route, 500 articles per request, two requests at a time, all published.
    let state = xinli_api::startup::build_state(
        app.config.clone(),
        std::sync::Arc::new(xinli_domain::clock::SystemClock),
    )
    .await
    .expect("state");
    let admin = app.admin_token().await;
    let now = chrono::Utc::now();
    let batches: Vec<serde_json::Value> = (0..n)
        .collect::<Vec<_>>()
        .chunks(xinli_domain::article::MAX_IMPORT)
        .map(|chunk| {
            let items: Vec<serde_json::Value> = chunk
                .iter()
                .map(|&i| {
                    let a = article(i);
                    serde_json::json!({
                        "article": {
                            "title": a.title, "summary": a.summary, "body": a.body,
                            "kind": a.kind.as_str(), "category": a.category, "tags": a.tags,
                            "audience": a.audience.code(), "author": a.author,
                        },
                        "published_at": (now - chrono::Duration::minutes(i as i64)).to_rfc3339(),
                    })
                })
                .collect();
            serde_json::json!({ "articles": items })
        })
        .collect();
    let started = Instant::now();
    for pair in batches.chunks(2) {
        let sent = futures::future::join_all(
            pair.iter()
                .map(|body| app.post("/api/v1/admin/articles/import", Some(&admin), body.clone())),
        )
        .await;
        for res in sent {
            assert_eq!(res.status(), 201, "import");
        }
    }
    println!(
        "imported {n} articles over HTTP (POST /admin/articles/import, 500 per request) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Building the search index from the database, as every instance does at start.
    let started = Instant::now();
    state.search.refresh(None).await.expect("index");
    println!(
        "search index built: {} articles in {:.2} s",
        state.search.len(),
        started.elapsed().as_secs_f64()
    );
    // What the first search after an admin write pays on each instance: compare all
    // revisions with the database, re-index the one changed article, commit.
    let some = state
        .articles
        .list_admin(None, Default::default())
        .await
        .expect("list")
        .items
        .remove(0);
    let mut catch_up = vec![];
    for _ in 0..20 {
        state
            .articles
            .update(some.id, &some.input, &some.body_html, chrono::Utc::now())
            .await
            .expect("edit");
        let t = Instant::now();
        state.search.refresh(None).await.expect("refresh");
        catch_up.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    catch_up.sort_by(|a, b| a.total_cmp(b));
    println!(
        "index catch-up after one edit: p50 {:.1} ms, max {:.1} ms",
        quantile(&catch_up, 0.5),
        quantile(&catch_up, 1.0)
    );
    // Admin writes one at a time, 8 writers at once (create + publish each), over the
    // generated corpus: concurrent writers share the index refresh that follows a write.
    let per_writer = 25;
    let started = Instant::now();
    let writers = (0..8).map(|w| {
        let (app, admin) = (&app, &admin);
        async move {
            for k in 0..per_writer {
                let a = article(n + w * per_writer + k);
                let res = app
                    .post(
                        "/api/v1/admin/articles",
                        Some(admin),
                        serde_json::json!({
                            "title": a.title, "summary": a.summary, "body": a.body,
                            "kind": a.kind.as_str(), "category": a.category, "tags": a.tags,
                            "audience": a.audience.code(), "author": a.author,
                        }),
                    )
                    .await;
                assert_eq!(res.status(), 201, "create");
                let id = res.json::<serde_json::Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let res = app
                    .post(
                        &format!("/api/v1/admin/articles/{id}/publish"),
                        Some(admin),
                        serde_json::json!({}),
                    )
                    .await;
                assert_eq!(res.status(), 200, "publish");
            }
        }
    });
    futures::future::join_all(writers).await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "8 concurrent admin writers, {} articles created and published one by one: {secs:.1} s = {:.0} writes/s",
        8 * per_writer,
        f64::from(2 * 8 * per_writer as u32) / secs
    );

    // A fresh instance over the generated corpus (it builds its own index at start).
    let started = Instant::now();
    let reader = app.sibling().await;
    println!(
        "instance start with index build: {:.2} s",
        started.elapsed().as_secs_f64()
    );

    // Search latency: distinct query strings (page, page size) defeat the cache, so each
    // request searches; it includes reading the page's rows and the HTTP round trip.
    for term in ["压力", "睡眠", "情绪管理", "蝴蝶效应", "压"] {
        let mut times = vec![];
        for k in 0..100 {
            let (page, size) = (1 + k % 10, 10 + k / 10);
            let t = Instant::now();
            let res = reader
                .get(
                    &format!("/api/v1/articles?q={term}&page={page}&page_size={size}"),
                    None,
                )
                .await;
            assert_eq!(res.status(), 200);
            let body: serde_json::Value = res.json().await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if k == 0 {
                print!("search {term}: {} matches; ", body["total"]);
            }
            if term == "压" && k == 19 {
                break; // the single-character fallback scans the database: fewer samples
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "p50 {:.2} ms, p99 {:.2} ms over {} uncached requests (pages 1-10 of 10-19)",
            quantile(&times, 0.5),
            quantile(&times, 0.99),
            times.len()
        );
    }

    // Cached list vs /healthz, same run, 16 concurrent clients for 5 s each.
    let _ = reader
        .get("/api/v1/articles?page=1&page_size=20", None)
        .await; // warm the cache
    let health = rps(&reader, "/healthz", 16, Duration::from_secs(5)).await;
    let list = rps(
        &reader,
        "/api/v1/articles?page=1&page_size=20",
        16,
        Duration::from_secs(5),
    )
    .await;
    println!(
        "requests/s with 16 clients: /healthz {health:.0}, cached article list page {list:.0}"
    );
}
