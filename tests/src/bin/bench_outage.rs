//! Redis outage benchmark: 32 concurrent readers of the cached article list while a private
//! Redis runs, is killed, and is started again; prints per phase the requests per second,
//! p50/p99/max latency and failed requests, and how long `/readyz` took to answer 200 again.
//!
//! `cargo run --release -p xinli-tests --bin bench_outage` (SQLite), or with
//! `XINLI_TEST_DATABASE_URL=postgres://…` for PostgreSQL. Needs `redis-server` on the PATH.
//! `SECONDS=` changes each phase's length (default 5). Prints a report; asserts nothing.

use std::time::{Duration, Instant};

use xinli_tests::{Load, PrivateRedis, Sample, TestApp, TestOptions, quantile};

const PATH: &str = "/api/v1/articles?page_size=20";
const CLIENTS: usize = 32;

fn report(phase: &str, samples: &[Sample], from: Instant, to: Instant) {
    let mut took: Vec<Duration> = samples
        .iter()
        .filter(|s| s.started >= from && s.started < to)
        .map(|s| s.took)
        .collect();
    let failed = samples
        .iter()
        .filter(|s| s.started >= from && s.started < to && s.status != 200)
        .count();
    took.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| {phase} | {:.0} | {:.2} | {:.2} | {:.1} | {failed} |",
        took.len() as f64 / (to - from).as_secs_f64(),
        ms(quantile(&took, 0.5)),
        ms(quantile(&took, 0.99)),
        ms(took.last().copied().unwrap_or_default()),
    );
}

#[tokio::main]
async fn main() {
    let phase = Duration::from_secs(
        std::env::var("SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5),
    );
    let mut redis = PrivateRedis::start()
        .await
        .expect("the outage bench needs redis-server: apt-get install -y redis-server");
    let app = TestApp::spawn_with(TestOptions {
        redis_url: Some(redis.url()),
        ..TestOptions::default()
    })
    .await;
    let database = if xinli_tests::test_database_url().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("{database} + Redis, {CLIENTS} clients reading {PATH}, {phase:?} per phase\n");
    println!("| Redis | req/s | p50 ms | p99 ms | max ms | failed |");
    println!("| --- | --- | --- | --- | --- | --- |");

    let load = Load::start(&app, PATH, CLIENTS);
    // A second to warm up (connections, first cache fill) that is not reported.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let up = Instant::now();
    tokio::time::sleep(phase).await;
    let killed = Instant::now();
    redis.kill();
    tokio::time::sleep(phase).await;
    let restarted = Instant::now();
    redis.restart().await;
    let mut ready_after = None;
    while restarted.elapsed() < phase {
        if ready_after.is_none() && app.get("/readyz", None).await.status() == 200 {
            ready_after = Some(restarted.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let end = Instant::now();
    let samples = load.finish().await;

    report("up", &samples, up, killed);
    report("killed (all)", &samples, killed, restarted);
    report(
        "killed (after the first 100 ms)",
        &samples,
        killed + Duration::from_millis(100),
        restarted,
    );
    report("back", &samples, restarted, end);
    match ready_after {
        Some(d) => println!(
            "\n/readyz 200 again {:.0} ms after Redis restarted",
            d.as_secs_f64() * 1000.0
        ),
        None => println!("\n/readyz still not 200 {phase:?} after Redis restarted"),
    }
}
