//! Redis outages. Redis only accelerates (the database is the truth), so when it stops
//! answering: no request fails and none waits for it (the breaker sends them to the
//! in-process fallbacks at once), `/readyz` says so and recovers within seconds of Redis
//! returning, attempt limits hold per instance, long polls re-read the database instead of
//! waiting for a signal that cannot come, and nothing cached before the outage is served
//! after a write made during it. Each test has a Redis of its own, on either database.

use std::time::{Duration, Instant};

use serde_json::json;
use xinli_tests::{Load, PrivateRedis, TestApp, TestOptions, assert_error, quantile};

use crate::articles::{article, create, draft, list, publish, titles};
use crate::consultations::{ask, claim, counselor};

async fn app_on(redis: &PrivateRedis) -> TestApp {
    TestApp::spawn_with(TestOptions {
        redis_url: Some(redis.url()),
        ..TestOptions::default()
    })
    .await
}

/// `/readyz` answers 200 within 5 s of Redis returning, without a restart of the service.
async fn ready_again(app: &TestApp) {
    let back = Instant::now();
    while app.get("/readyz", None).await.status() != 200 {
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "not ready 5 s after Redis returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("ready again {:?} after Redis returned", back.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_fails_no_request_and_delays_none() {
    let Some(mut redis) = PrivateRedis::start().await else {
        return;
    };
    let app = app_on(&redis).await;
    let ready = app.get_ok("/readyz", None).await;
    assert_eq!(ready["cache"], "redis");

    let readers = Load::start(&app, "/api/v1/articles?page_size=20", 8);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed = Instant::now();
    redis.kill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let samples = readers.finish().await;

    let failed: Vec<u16> = samples
        .iter()
        .map(|s| s.status)
        .filter(|s| *s != 200)
        .collect();
    assert!(failed.is_empty(), "failed requests: {failed:?}");
    // Requests in flight when Redis died wait at most the command timeout (250 ms); once
    // the breaker is open nobody waits for Redis. Before the breaker, each took about 1 s.
    let mut during: Vec<Duration> = samples
        .iter()
        .filter(|s| s.started > killed + Duration::from_millis(500))
        .map(|s| s.took)
        .collect();
    during.sort();
    let (p50, p99) = (quantile(&during, 0.5), quantile(&during, 0.99));
    eprintln!(
        "Redis killed: {} requests in 2.5 s, p50 {p50:?}, p99 {p99:?}, max {:?}",
        during.len(),
        during.last().unwrap()
    );
    assert!(during.len() >= 100, "{} requests in 2.5 s", during.len());
    assert!(p50 < Duration::from_millis(100), "p50 {p50:?}");
    assert!(p99 < Duration::from_millis(750), "p99 {p99:?}");

    // Readiness answers at once, and says what is missing.
    let asked = Instant::now();
    let body = assert_error(app.get("/readyz", None).await, 503, "service_unavailable").await;
    assert_eq!(body["details"][0]["field"], "cache");
    assert!(asked.elapsed() < Duration::from_millis(500));

    // Logins (which count attempts in the cache) still work, and their limits hold per
    // instance: the 31st dev login from one address in five minutes is refused.
    let res = app
        .staff_login(xinli_tests::ADMIN_USERNAME, xinli_tests::ADMIN_PASSWORD)
        .await;
    assert_eq!(res.status(), 200);
    let mut accepted = 0; // staff logins are counted apart
    loop {
        let res = app
            .post(
                "/api/v1/auth/dev",
                None,
                json!({"openid": format!("outage-{accepted}")}),
            )
            .await;
        if res.status() == 429 {
            assert!(res.headers().get("retry-after").is_some());
            break;
        }
        assert_eq!(res.status(), 200);
        accepted += 1;
        assert!(accepted <= 30, "the per-address limit no longer holds");
    }
    assert_eq!(accepted, 30);

    // A new Redis: ready again within seconds, without a restart of the service.
    redis.restart().await;
    ready_again(&app).await;
}

/// A paused Redis keeps what it cached: after a write made while it could not hear, the
/// version bump is replayed before the breaker closes, so its old entries are never read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_during_an_outage_is_seen_after_it() {
    let Some(redis) = PrivateRedis::start().await else {
        return;
    };
    let app = app_on(&redis).await;
    let admin = app.admin_token().await;
    let id = create(&app, &admin, draft("停摆之前的标题", "正文")).await;
    publish(&app, &admin, &id, json!({})).await;
    // Both now cached in Redis.
    assert!(titles(&list(&app, "?page_size=50").await).contains(&"停摆之前的标题".into()));
    let shown = article(&app, &id).await;
    assert_eq!(shown["title"], "停摆之前的标题");

    redis.pause(true);
    // A read notices first (its command times out and opens the breaker)…
    let started = Instant::now();
    let during = list(&app, "?page_size=50").await;
    assert!(titles(&during).contains(&"停摆之前的标题".into()));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // …so the edit's invalidation cannot reach Redis at all.
    app.put_ok(
        &format!("/api/v1/admin/articles/{id}"),
        Some(&admin),
        draft("停摆期间改的标题", "正文"),
    )
    .await;
    assert!(titles(&list(&app, "?page_size=50").await).contains(&"停摆期间改的标题".into()));
    assert_error(app.get("/readyz", None).await, 503, "service_unavailable").await;

    redis.pause(false);
    ready_again(&app).await;
    let after = titles(&list(&app, "?page_size=50").await);
    assert!(after.contains(&"停摆期间改的标题".into()), "{after:?}");
    assert!(
        !after.contains(&"停摆之前的标题".into()),
        "stale list after the outage: {after:?}"
    );
    let shown = article(&app, &id).await;
    assert_eq!(
        shown["title"], "停摆期间改的标题",
        "stale detail after the outage"
    );
}

/// Two instances lose their shared chat signal with Redis: a long poll on one re-reads the
/// database every second, so a message written through the other still arrives promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polls_reread_the_database_while_redis_is_down() {
    let Some(mut redis) = PrivateRedis::start().await else {
        return;
    };
    let a = app_on(&redis).await;
    let b = a.sibling().await;
    let admin = a.admin_token().await;
    let user = a.user_token("outage-talker").await;
    let (c1, _) = counselor(&a, &admin, "outage.counselor", 1).await;
    let id = ask(&a, &user).await["id"].as_str().unwrap().to_owned();
    assert_eq!(claim(&a, &c1).await.status(), 200);
    redis.kill();

    let msgs = format!("/api/v1/consultations/{id}/messages");
    let poll = format!("{msgs}?after=0&wait=10");
    let started = Instant::now();
    let (polled, _) = tokio::join!(a.get_ok(&poll, Some(&user)), async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        b.post_expect(&msgs, Some(&c1), json!({"text": "Redis 停了也能收到"}), 201)
            .await
    });
    assert_eq!(polled["items"][0]["text"], "Redis 停了也能收到");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the poll waited for a signal that could not come: {:?}",
        started.elapsed()
    );
}

/// Answers are also kept in process in front of Redis, under their version: several writes
/// during an outage (versions this instance makes up alone) never bring back an answer kept
/// from before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_during_an_outage_never_revive_an_answer_kept_before_it() {
    let Some(redis) = PrivateRedis::start().await else {
        return;
    };
    let app = app_on(&redis).await;
    let admin = app.admin_token().await;
    let id = create(&app, &admin, draft("停摆前第0版", "正文")).await;
    publish(&app, &admin, &id, json!({})).await;
    assert!(titles(&list(&app, "?page_size=50").await).contains(&"停摆前第0版".into()));

    redis.pause(true);
    let _ = list(&app, "?page_size=50").await; // opens the breaker
    for round in 1..=6 {
        let title = format!("停摆中第{round}版");
        app.put_ok(
            &format!("/api/v1/admin/articles/{id}"),
            Some(&admin),
            draft(&title, "正文"),
        )
        .await;
        let shown = titles(&list(&app, "?page_size=50").await);
        assert!(shown.contains(&title), "round {round}: {shown:?}");
        assert!(
            !shown.contains(&"停摆前第0版".into()),
            "round {round}: {shown:?}"
        );
    }
    redis.pause(false);
    ready_again(&app).await;
    let after = titles(&list(&app, "?page_size=50").await);
    assert!(after.contains(&"停摆中第6版".into()), "{after:?}");
}

/// A TCP proxy in front of a Redis that holds each new connection for `delay` before
/// passing it on: a Redis that is slow to connect to, as on a loaded machine.
struct SlowToConnect {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl SlowToConnect {
    async fn start(redis_port: u16, delay: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Ok(mut redis) =
                        tokio::net::TcpStream::connect(("127.0.0.1", redis_port)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut redis).await;
                    }
                });
            }
        });
        Self { port, task }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for SlowToConnect {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Each actix worker opens its own Redis connection with its first command. A connection
/// that takes longer to open than a command may take (600 ms here, against 250 ms for a
/// command) is not an outage: the first requests on every worker wait for it, and Redis is
/// not taken as down; a Redis that stops answering afterwards still is, within 250 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_first_connection_is_not_taken_for_an_outage() {
    let Some(redis) = PrivateRedis::start().await else {
        return;
    };
    let slow = SlowToConnect::start(redis.port(), Duration::from_millis(600)).await;
    let app = TestApp::spawn_with(TestOptions {
        redis_url: Some(slow.url()),
        // Well above the proxy's delay, so that a loaded machine does not fail the test:
        // without the connect limit, the 250 ms command limit alone applies.
        configure: |c| c.redis_timeouts.connect = Duration::from_secs(3),
        ..TestOptions::default()
    })
    .await;
    // Concurrent requests reach every worker; each worker's first command connects.
    for round in 0..2 {
        let answers = futures::future::join_all((0..12).map(|_| app.get("/readyz", None))).await;
        for res in answers {
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            assert_eq!(status, 200, "round {round}: {body}");
            assert!(body.contains(r#""cache":"redis""#), "round {round}: {body}");
        }
    }
    // The longer limit is only for opening a connection: a Redis that stops answering on an
    // open one is still taken as down within the command limit (250 ms; the Redis client's
    // own response timeout bounds it too), not the 3.25 s a new connection may take.
    redis.pause(true);
    let asked = Instant::now();
    let body = assert_error(app.get("/readyz", None).await, 503, "service_unavailable").await;
    assert_eq!(body["details"][0]["field"], "cache");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?} to notice Redis stopped",
        asked.elapsed()
    );
    redis.pause(false);
}
