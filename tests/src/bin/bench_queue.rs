//! Queue benchmark: claim throughput under concurrent counselors (one and two instances);
//! on PostgreSQL, claim → close cycles over HTTP with 1,000 and 10,000 people waiting (and
//! 10,000 whose requests each belong to a user account, as through the API) next to
//! the bare SQL anchor (`../shared/perf/claim-anchor`, run with pgbench on the same server in
//! the same run, over the app's transport) and next to the same loop against a bare actix-web
//! server that runs the anchor's two statements through the app's pool (the ceiling of the
//! stack); and the accuracy of the waiting-time estimate in a simulated day.
//!
//! `cargo run -p xinli-tests --bin bench_queue` (SQLite + in-process cache), or with
//! `XINLI_TEST_DATABASE_URL` / `XINLI_TEST_REDIS_URL` for PostgreSQL + Redis. Add `--release`
//! for production-like figures; name parts (`claims`, `cycles`, `floor`, `wait`) to run only
//! those.
//! Prints a report; asserts nothing.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};
use xinli_tests::{TestApp, TestOptions, access_token};

fn roomy(c: &mut xinli_api::Config) {
    c.limits.logins_per_ip = xinli_domain::throttle::Limit::new(1_000_000, Duration::from_secs(60));
    c.queue.max_wait = Duration::from_secs(100 * 24 * 3600);
    c.queue.no_reply = Duration::from_secs(100 * 24 * 3600);
    c.queue.sweep_every = Duration::from_secs(3600);
    c.workers = Some(WORKERS);
}

/// actix workers of the app under test (and of [`bare_server`]).
const WORKERS: usize = 4;

async fn counselor(app: &TestApp, admin: &str, name: &str, capacity: u8) -> String {
    app.create_staff(admin, name, "counselor").await;
    let login: Value = app
        .staff_login(name, &format!("{name}-password"))
        .await
        .json()
        .await
        .unwrap();
    let token = access_token(&login);
    app.put(
        "/api/v1/counselor/status",
        Some(&token),
        json!({"online": true, "capacity": capacity}),
    )
    .await;
    token
}

async fn ask(app: &TestApp, token: &str) -> Value {
    app.post(
        "/api/v1/consultations",
        Some(token),
        json!({"topic": "压力", "channel": "text"}),
    )
    .await
    .json()
    .await
    .unwrap()
}

async fn throughput(two_instances: bool) {
    let a = TestApp::spawn_with(TestOptions {
        configure: roomy,
        ..TestOptions::default()
    })
    .await;
    let b = if two_instances {
        Some(a.sibling().await)
    } else {
        None
    };
    let admin = a.admin_token().await;
    let (people, counselors, capacity) = (120, 12, 10u8);
    for i in 0..people {
        let t = a.user_token(&format!("bench-{i}")).await;
        ask(&a, &t).await;
    }
    let mut tokens = vec![];
    for i in 0..counselors {
        tokens.push(counselor(&a, &admin, &format!("bench.c{i}"), capacity).await);
    }
    let started = Instant::now();
    let tasks = tokens.iter().enumerate().map(|(i, token)| {
        let app = match (&b, i % 2) {
            (Some(b), 1) => b,
            _ => &a,
        };
        async move {
            let mut n = 0u32;
            loop {
                let res = app
                    .post("/api/v1/counselor/queue/claim", Some(token), json!({}))
                    .await;
                match res.status().as_u16() {
                    200 => n += 1,
                    _ => return n,
                }
            }
        }
    });
    let claimed: u32 = futures::future::join_all(tasks).await.into_iter().sum();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "claim throughput, {} instance(s): {claimed} claims by {counselors} concurrent counselors in {secs:.2} s = {:.0} claims/s",
        if two_instances { 2 } else { 1 },
        f64::from(claimed) / secs
    );
}

/// Adds `count` waiting people (directly in the database: the setup is not what is
/// measured): arrived one second apart up to now, or (`late`) arriving now, at the back.
/// With `accounts`, each request belongs to a user account of its own, as every request made
/// through the API does: a claim then also queues the person's "your counselor is here"
/// notice, and the counselor's view of a claim or a close reads the person's nickname.
async fn add_waiting(db: &sea_orm::DatabaseConnection, count: usize, late: bool, accounts: bool) {
    let at = if late {
        "clock_timestamp()"
    } else {
        "now() - make_interval(secs => g)"
    };
    use sea_orm::ConnectionTrait;
    if count == 0 {
        return;
    }
    let columns = "id, user_id, open_key, topic, description, status, priority, \
                   priority_reason, front, created_at, queued_at, rating_flagged";
    let values = format!(
        "gen_random_uuid()::text, u, u, '压力', '', 'waiting', g % 4, '', false, {at}, {at}, false"
    );
    let sql = if accounts {
        format!(
            "WITH people AS (INSERT INTO users (id, openid, nickname, created_at, updated_at, \
             last_login_at) SELECT gen_random_uuid()::text, 'bench-' || gen_random_uuid(), \
             '来访者', now(), now(), now() FROM generate_series(1, {count}) RETURNING id) \
             INSERT INTO consultations ({columns}) SELECT {values} FROM \
             (SELECT id AS u, row_number() OVER () AS g FROM people) p"
        )
    } else {
        format!(
            "INSERT INTO consultations ({columns}) SELECT {values} FROM \
             (SELECT NULL::text AS u, g FROM generate_series(1, {count}) g) p"
        )
    };
    db.execute_unprepared(&sql).await.expect("waiting rows");
}

/// `waiting` people in the queue (with `accounts`: each a user account's request), kept at
/// that length (every 100 ms as many new people arrive as were served), and 6 counselors of
/// capacity 1, one connection each, cycling claim → close over HTTP for 5 s. With `bare`, the
/// same loop against [`bare_server`] instead of the app. Returns cycles per second.
async fn cycles(waiting: usize, accounts: bool, bare: bool) -> f64 {
    let app = TestApp::spawn_with(TestOptions {
        configure: roomy,
        ..TestOptions::default()
    })
    .await;
    let db = sea_orm::Database::connect(&app.config.database_url)
        .await
        .expect("database");
    add_waiting(&db, waiting, false, accounts).await;
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("ANALYZE consultations")
        .await
        .expect("analyze");
    let admin = app.admin_token().await;
    let mut tokens = vec![];
    for i in 0..6 {
        tokens.push(Some(
            counselor(&app, &admin, &format!("cycle.c{i}"), 1).await,
        ));
    }
    let mut bare_handle = None;
    // Where each counselor claims, and the close URL around a claimed id.
    let (claims, close_before, close_after) = if bare {
        let (base, server) = bare_server(&app.config.database_url).await;
        bare_handle = Some(server);
        // No token there, but `counselor_id` references a staff row: the same six
        // counselors, by id.
        let staff = db
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT id FROM staff WHERE username LIKE 'cycle.c%'",
            ))
            .await
            .expect("the counselors");
        let claims = staff
            .iter()
            .map(|row| format!("{base}/claim/{}", row.try_get::<String>("", "id").unwrap()))
            .collect();
        tokens = vec![None; 6];
        (claims, format!("{base}/close/"), "")
    } else {
        let claims = vec![app.url("/api/v1/counselor/queue/claim"); 6];
        (claims, app.url("/api/v1/consultations/"), "/close")
    };
    let served = std::sync::atomic::AtomicUsize::new(0);
    let over = std::sync::atomic::AtomicBool::new(false);
    let refill = async {
        let mut added = 0;
        while !over.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = served.load(Ordering::Relaxed);
            add_waiting(&db, now - added, true, accounts).await;
            added = now;
        }
    };
    let started = Instant::now();
    let tasks = claims.iter().zip(&tokens).map(|(claim, token)| {
        let (client, served, close_before) = (&app.client, &served, &close_before);
        let post = move |url: String| {
            let req = client.post(url).json(&json!({"note": ""}));
            match token {
                Some(t) => req.bearer_auth(t),
                None => req,
            }
            .send()
        };
        async move {
            while started.elapsed() < Duration::from_secs(5) {
                let res = post(claim.clone()).await.expect("claim answered");
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                assert_eq!(status, 200, "someone is always waiting: {body}");
                let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
                    .as_str()
                    .expect("the claimed id")
                    .to_owned();
                let closed = post(format!("{close_before}{id}{close_after}"))
                    .await
                    .expect("close answered");
                assert_eq!(closed.status(), 200);
                served.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let work = async {
        futures::future::join_all(tasks).await;
        over.store(true, Ordering::Relaxed);
    };
    futures::future::join(work, refill).await;
    let rate = served.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    if let Some(server) = bare_handle {
        server.stop(true).await;
    }
    rate
}

/// The ceiling of this stack for a claim → close cycle: actix-web (as many workers as the app
/// in [`roomy`], no middleware, no authentication, no rule) in front of the app's own pool
/// (`xinli_infra::db::connect`: its settings, its TLS choice), each request one statement,
/// the anchor's two adapted to the `consultations` table and its queue index. Answers
/// `POST /claim/{counselor}` and `POST /close/{id}` with `{"id": …}`. Returns its base URL
/// and its handle (to stop it).
async fn bare_server(database_url: &str) -> (String, actix_web::dev::ServerHandle) {
    use actix_web::{App, HttpResponse, HttpServer, post, web};
    use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

    async fn one(db: &DatabaseConnection, sql: &str, arg: String) -> HttpResponse {
        let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, [arg.into()]);
        match db.query_one_raw(statement).await {
            Ok(Some(row)) => match row.try_get::<String>("", "id") {
                Ok(id) => HttpResponse::Ok().json(json!({ "id": id })),
                Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
            },
            Ok(None) => HttpResponse::NoContent().finish(),
            Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
        }
    }
    #[post("/claim/{counselor}")]
    async fn claim(db: web::Data<DatabaseConnection>, who: web::Path<String>) -> HttpResponse {
        let sql = "UPDATE consultations SET status = 'active', counselor_id = $1, \
                   claimed_at = now() WHERE id = (SELECT id FROM consultations \
                   WHERE status = 'waiting' AND assigned_to IS NULL ORDER BY priority DESC, \
                   front DESC, queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id";
        one(&db, sql, who.into_inner()).await
    }
    #[post("/close/{id}")]
    async fn close(db: web::Data<DatabaseConnection>, id: web::Path<String>) -> HttpResponse {
        let sql = "UPDATE consultations SET status = 'closed', closed_at = now(), \
                   ended_at = now(), open_key = NULL WHERE id = $1 AND status = 'active' \
                   RETURNING id";
        one(&db, sql, id.into_inner()).await
    }

    let db = web::Data::new(
        xinli_infra::db::connect(database_url)
            .await
            .expect("the app's pool"),
    );
    let server = HttpServer::new(move || {
        App::new()
            .app_data(db.clone())
            .service(claim)
            .service(close)
    })
    .workers(WORKERS)
    .bind("127.0.0.1:0")
    .expect("a free port");
    let base = format!("http://{}", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (base, handle)
}

/// The bare SQL claim → close loop of `../shared/perf/claim-anchor` with pgbench (6 clients,
/// 5 s) on the PostgreSQL server of `admin_url`, with or without TLS as the app connects to
/// it; `None` when psql or pgbench is missing or fails.
fn anchor(admin_url: &str) -> Option<f64> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/perf/claim-anchor"
    );
    let url = url_of(admin_url, "xinli_claim_anchor");
    let run = |cmd: &str, args: &[&str]| {
        let mut command = std::process::Command::new(cmd);
        command.args(args).current_dir(dir);
        if xinli_infra::db::without_tls(admin_url) {
            // The app's transport (see `xinli_infra::db::without_tls`).
            command.env("PGSSLMODE", "disable");
        }
        command.output().ok()
    };
    run(
        "psql",
        &[
            admin_url,
            "-qc",
            "DROP DATABASE IF EXISTS xinli_claim_anchor",
        ],
    )?;
    run(
        "psql",
        &[admin_url, "-qc", "CREATE DATABASE xinli_claim_anchor"],
    )?;
    run("psql", &[&url, "-q", "-f", "setup.sql"])?;
    let out = run(
        "pgbench",
        &[
            &url,
            "-n",
            "-c",
            "6",
            "-j",
            "2",
            "-T",
            "5",
            "-f",
            "cycle.sql",
        ],
    )?;
    run(
        "psql",
        &[
            admin_url,
            "-qc",
            "DROP DATABASE IF EXISTS xinli_claim_anchor",
        ],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l["tps = ".len()..].split_whitespace().next()?.parse().ok())
}

/// `url` with its database replaced by `db`.
fn url_of(url: &str, db: &str) -> String {
    match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{db}"),
        None => url.to_owned(),
    }
}

async fn cycles_against_the_anchor() {
    let Some(admin_url) = xinli_tests::test_database_url() else {
        println!("claim → close cycles: PostgreSQL only (set XINLI_TEST_DATABASE_URL)");
        return;
    };
    let anchor = anchor(&admin_url);
    let transport = if xinli_infra::db::without_tls(&admin_url) {
        "both without TLS: the database is on this host"
    } else {
        "both over TLS when the server offers it"
    };
    println!("\nclaim → close cycles, 6 counselors, 5 s each ({transport})");
    println!("\n| waiting | claim → close cycles/s over HTTP | bare SQL loop (pgbench) | ratio |");
    println!("| --- | --- | --- | --- |");
    // The measure (requests without an account), then the path every request made
    // through the API takes (the claim also queues the person's notice, and both answers read
    // their nickname), then the ceiling: no application at all between actix-web and the pool.
    for (waiting, accounts, bare) in [
        (1_000, false, false),
        (10_000, false, false),
        (10_000, true, false),
        (10_000, false, true),
    ] {
        let rate = cycles(waiting, accounts, bare).await;
        let label = match (accounts, bare) {
            (true, _) => format!("{waiting}, each a user's request"),
            (_, true) => format!("{waiting}, bare actix-web + pool, 2 statements, no rule"),
            _ => waiting.to_string(),
        };
        match anchor {
            Some(a) => println!("| {label} | {rate:.0} | {a:.0} | {:.2} |", rate / a),
            None => println!("| {label} | {rate:.0} | (anchor unavailable: psql/pgbench) | |"),
        }
    }
}

/// The floor of the HTTP path alone: 6 clients, one connection each, doing 2 requests per
/// "cycle" to `/healthz` (no database) and to `GET /counselor/status` (the account and one
/// row), for 3 s each.
async fn floor() {
    let app = TestApp::spawn_with(TestOptions {
        configure: roomy,
        ..TestOptions::default()
    })
    .await;
    let admin = app.admin_token().await;
    let mut tokens = vec![];
    for i in 0..6 {
        tokens.push(counselor(&app, &admin, &format!("floor.c{i}"), 1).await);
    }
    for path in ["/healthz", "/api/v1/counselor/status"] {
        let started = Instant::now();
        let tasks = tokens.iter().map(|token| {
            let app = &app;
            async move {
                let mut n = 0u32;
                while started.elapsed() < Duration::from_secs(3) {
                    let res = app.get(path, Some(token)).await;
                    assert_eq!(res.status(), 200);
                    let _ = res.bytes().await;
                    n += 1;
                }
                n
            }
        });
        let done: u32 = futures::future::join_all(tasks).await.into_iter().sum();
        let rate = f64::from(done) / started.elapsed().as_secs_f64();
        println!(
            "{path}: {rate:.0} requests/s = {:.0} two-request cycles/s",
            rate / 2.0
        );
    }
}

/// A deterministic pseudo-random sequence (no extra dependency for a benchmark).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, lo: i64, hi: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + ((self.0 >> 33) as i64).rem_euclid(hi - lo + 1)
    }
}

async fn wait_accuracy() {
    let start = Utc::now() + chrono::Duration::days(1);
    let app = TestApp::spawn_with(TestOptions {
        configure: roomy,
        clock_at: Some(start),
        ..TestOptions::default()
    })
    .await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin_token().await;
    let mut counselors = vec![];
    for i in 0..3 {
        counselors.push(counselor(&app, &admin, &format!("sim.c{i}"), 2).await);
    }
    let mut rng = Lcg(42);
    // 70 arrivals, on average one every 5 minutes; sessions 20–40 minutes (mean 30).
    let mut arrivals = vec![];
    let mut t = 0;
    for _ in 0..70 {
        t += rng.next(1, 9);
        arrivals.push(t);
    }
    let mut estimates: HashMap<String, (i64, Option<i64>)> = HashMap::new(); // id -> (arrival minute, estimate s)
    let mut actual: HashMap<String, i64> = HashMap::new();
    let mut ends: Vec<(i64, String, usize)> = vec![]; // (end minute, id, counselor)
    let mut users: HashMap<i64, usize> = HashMap::new();
    let mut next_arrival = 0;
    for minute in 0..2000 {
        // Sessions that are over.
        let (done, running): (Vec<_>, Vec<_>) =
            ends.into_iter().partition(|(end, _, _)| *end <= minute);
        ends = running;
        for (_, id, c) in done {
            app.post(
                &format!("/api/v1/consultations/{id}/close"),
                Some(&counselors[c]),
                json!({"note": ""}),
            )
            .await;
        }
        // New arrivals.
        while next_arrival < arrivals.len() && arrivals[next_arrival] <= minute {
            let i = *users.entry(next_arrival as i64).or_insert(next_arrival);
            let token = app.user_token(&format!("sim-user-{i}")).await;
            let v = ask(&app, &token).await;
            estimates.insert(
                v["id"].as_str().unwrap().to_owned(),
                (minute, v["estimated_wait_seconds"].as_i64()),
            );
            next_arrival += 1;
        }
        // Counselors take people while they have room.
        for (c, token) in counselors.iter().enumerate() {
            loop {
                let res = app
                    .post("/api/v1/counselor/queue/claim", Some(token), json!({}))
                    .await;
                if res.status() != 200 {
                    break;
                }
                let id = res.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                app.post(
                    &format!("/api/v1/consultations/{id}/messages"),
                    Some(token),
                    json!({"text": "你好"}),
                )
                .await;
                actual.insert(id.clone(), (minute - estimates[&id].0) * 60);
                ends.push((minute + rng.next(20, 40), id, c));
            }
        }
        if next_arrival == arrivals.len() && ends.is_empty() && actual.len() == estimates.len() {
            break;
        }
        clock.advance(chrono::Duration::minutes(1));
    }
    let mut errors: Vec<f64> = vec![];
    let mut within = 0;
    let mut waited = 0;
    for (id, (_, est)) in &estimates {
        let (Some(est), Some(act)) = (est, actual.get(id)) else {
            continue;
        };
        if *act >= 300 {
            waited += 1;
            let err = (*est - *act).abs() as f64;
            errors.push(err / 60.0);
            if err <= 0.5 * (*act as f64) {
                within += 1;
            }
        }
    }
    errors.sort_by(|a, b| a.total_cmp(b));
    let median = errors.get(errors.len() / 2).copied().unwrap_or(0.0);
    let p90 = errors.get(errors.len() * 9 / 10).copied().unwrap_or(0.0);
    println!(
        "wait accuracy (3 counselors × 2 places, {} arrivals, sessions 20–40 min): of {waited} people who waited 5 min or more, \
         median |estimate − actual| = {median:.1} min, p90 = {p90:.1} min, {within} within ±50 % of the actual wait",
        estimates.len()
    );
}

#[tokio::main]
async fn main() {
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
        "backend: {backend} + {cache} ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    // `bench_queue [claims|cycles|floor|wait]…` runs only the named parts; no argument: all.
    let only: Vec<String> = std::env::args().skip(1).collect();
    let runs = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    if runs("claims") {
        throughput(false).await;
        throughput(true).await;
    }
    if runs("cycles") {
        cycles_against_the_anchor().await;
    }
    if runs("floor") {
        floor().await;
    }
    if runs("wait") {
        wait_accuracy().await;
    }
}
