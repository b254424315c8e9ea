//! Article benchmark: fills the database with 10,000 realistic Chinese articles (the data
//! generator), then measures search latency (p50/p99 over distinct queries, each a page of
//! 20 plus the total) and requests per second of a cached list page next to `/healthz`, on
//! the same run.
//!
//! `cargo run -p xinli-tests --bin bench_articles` (SQLite), or with `XINLI_TEST_DATABASE_URL`
//! / `XINLI_TEST_REDIS_URL` for PostgreSQL + Redis; `--release` for production-like figures.
//! `ARTICLES=2000` changes the corpus size. Prints a report; asserts nothing.

use std::time::{Duration, Instant};

use xinli_domain::account::AudienceGroup;
use xinli_domain::article::{ArticleInput, ArticleStatus, CATEGORIES, Kind};
use xinli_tests::{TestApp, TestOptions};

/// Sentences on the themes of the seed documents; articles are drawn from them so that term
/// frequencies look like a real corpus (压力 common, rarer terms rare).
const SENTENCES: &[&str] = &[
    "长期的工作压力会悄悄影响睡眠和情绪，学会识别压力信号是第一步。",
    "规律作息、适度运动和与亲友交流，都是简单有效的情绪管理方法。",
    "如果入睡困难持续两周以上，建议到医院的睡眠或心理门诊咨询。",
    "职场人际沟通中，先倾听再表达，可以减少很多误解和冲突。",
    "孕期和产后情绪波动很常见，家人的理解和陪伴非常重要。",
    "老年人退休后生活节奏改变，培养兴趣爱好有助于保持积极心态。",
    "青少年面对学业压力时，家长的耐心陪伴比说教更有力量。",
    "正念练习帮助我们把注意力带回当下，减轻焦虑和紧张。",
    "亲子沟通的关键是尊重孩子的感受，而不是急着给出答案。",
    "当情绪低落、兴趣减退持续存在时，及时求助专业人员很重要。",
    "深呼吸、渐进式肌肉放松都是随时可以练习的减压方法。",
    "婚姻中的分歧并不可怕，关键是学会在冷静时好好沟通。",
    "心理测评是筛查工具，结果需要结合专业评估来理解。",
    "遇到心理危机时，请拨打心理援助热线，你并不孤单。",
    "工作与生活的平衡需要主动安排，而不是等待空闲出现。",
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
    let mut body = String::new();
    while body.chars().count() < 1500 {
        body.push_str(SENTENCES[pick(SENTENCES.len())]);
        if pick(10) == 0 {
            body.push_str("\n\n## 小贴士\n\n");
        }
    }
    if i.is_multiple_of(500) {
        body.push_str(RARE[pick(RARE.len())]);
    }
    let topic = [
        "压力",
        "睡眠",
        "情绪管理",
        "人际关系",
        "亲子沟通",
        "孕产期",
        "老年生活",
        "青少年成长",
    ][pick(8)];
    ArticleInput {
        title: format!("{topic}小课堂（第 {i} 期）"),
        summary: SENTENCES[pick(SENTENCES.len())].to_owned(),
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

    // The data generator: straight into the repository (no HTTP), published.
    let state = xinli_api::startup::build_state(
        app.config.clone(),
        std::sync::Arc::new(xinli_domain::clock::SystemClock),
    )
    .await
    .expect("state");
    let started = Instant::now();
    let now = chrono::Utc::now();
    for i in 0..n {
        let input = article(i);
        let html = xinli_infra::markdown::to_safe_html(&input.body);
        let a = state
            .articles
            .create(&input, &html, now)
            .await
            .expect("insert");
        state
            .articles
            .set_status(
                a.id,
                ArticleStatus::Published,
                Some(now - chrono::Duration::minutes(i as i64)),
                now,
            )
            .await
            .expect("publish");
    }
    println!(
        "generated {n} articles in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Search latency: distinct query strings defeat the cache, so each hits the database.
    for term in ["压力", "睡眠", "情绪管理", "蝴蝶效应"] {
        let mut times = vec![];
        for page in 1..=30 {
            let t = Instant::now();
            let res = app
                .get(
                    &format!("/api/v1/articles?q={term}&page={page}&page_size=20"),
                    None,
                )
                .await;
            assert_eq!(res.status(), 200);
            let body: serde_json::Value = res.json().await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if page == 1 {
                print!("search {term}: {} matches; ", body["total"]);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "p50 {:.1} ms, p99 {:.1} ms (uncached, page of 20 + total)",
            quantile(&times, 0.5),
            quantile(&times, 0.99)
        );
    }

    // Cached list vs /healthz, same run, 16 concurrent clients for 5 s each.
    let _ = app.get("/api/v1/articles?page=1&page_size=20", None).await; // warm the cache
    let health = rps(&app, "/healthz", 16, Duration::from_secs(5)).await;
    let list = rps(
        &app,
        "/api/v1/articles?page=1&page_size=20",
        16,
        Duration::from_secs(5),
    )
    .await;
    println!(
        "requests/s with 16 clients: /healthz {health:.0}, cached article list page {list:.0}"
    );
}
